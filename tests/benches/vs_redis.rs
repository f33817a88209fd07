//! cachex next to its peers on the same server, side by side, with the ratio: the raw `redis`
//! crate (`MultiplexedConnection`, a blocking `Connection` per thread), `fred` (one client and a
//! pool), and for the in-memory backend `moka` and `quick_cache`. Each peer is measured raw and,
//! where cachex does more, like-for-like (the same JSON decode or encode included).
//!
//! Run with `scripts/bench-peers` (the table with the machine's description) or
//! `cargo bench -p cachex-tests --bench vs_redis` (a few minutes on two cores); set
//! `CACHEX_BENCH_QUICK=1` (or pass `-- --quick`) for a smoke run of a few seconds whose figures
//! mean little. BENCHMARKS.md says what each row measures and quotes the last full run.
//!
//! The bench starts its own `redis-server` on a free port (the tests' harness, so the binary is
//! found as the tests find it). Every case runs its cachex side and its baseline in alternating
//! rounds (the order flips every round, after one discarded warm-up round of each), so that
//! drift of the machine hits both sides alike; each row reports the median per-round figure of
//! each side and the median of the per-round ratios. Ratios are cachex time / baseline time
//! (above 1: cachex is slower), except the concurrency rows, which are throughput ratios (below
//! 1: cachex is slower). No timing is asserted anywhere: the "met" column is information.

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cachex::codec::{Codec, Compressor, Serializer};
use cachex::prelude::*;
use cachex_tests::{Server, ServerKind, made_key};
use fred::prelude::{ClientLike, Expiration, KeysInterface};
use redis::io::tcp::TcpSettings;
use redis::{IntoConnectionInfo, aio::MultiplexedConnection};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

/// The key of the single-key cases, as the user writes it.
const KEY: &str = "bench:value";
/// The keys of `get_many` / `set_many`.
const MANY: usize = 100;
/// The default timeout cachex applies, as raw `SET ... PX` writes it.
const PX_MILLIS: u64 = 300_000;

/// How much to measure: full by default, a smoke run in quick mode.
struct Plan {
    quick: bool,
    rounds: usize,
    /// Sequential ops per round of the single-key server cases.
    ops: u64,
    /// Calls per round of `get_many` / `set_many`.
    many_ops: u64,
    /// Ops per round of a concurrency case, split among its tasks or threads.
    sweep_ops: u64,
    /// Ops per round of the in-memory cases.
    memory_ops: u64,
    /// Encodes (and decodes) per round of the codec cases.
    codec_ops: u64,
}

impl Plan {
    fn from_env() -> Plan {
        let quick = std::env::var_os("CACHEX_BENCH_QUICK")
            .is_some_and(|v| !v.is_empty() && v != "0")
            || std::env::args().any(|arg| arg == "--quick" || arg == "quick");
        // `CACHEX_BENCH_ROUNDS=N`: N measured rounds per case instead of the plan's.
        let rounds = std::env::var("CACHEX_BENCH_ROUNDS")
            .ok()
            .and_then(|rounds| rounds.parse().ok());
        let mut plan = if quick {
            Plan {
                quick,
                rounds: 3,
                ops: 200,
                many_ops: 20,
                sweep_ops: 1024,
                memory_ops: 10_000,
                codec_ops: 20,
            }
        } else {
            Plan {
                quick,
                rounds: 10,
                ops: 2000,
                many_ops: 200,
                sweep_ops: 8192,
                memory_ops: 100_000,
                codec_ops: 200,
            }
        };
        if let Some(rounds) = rounds.filter(|&rounds| rounds > 0) {
            plan.rounds = rounds;
        }
        plan
    }
}

/// What a row's ratio is held to.
#[derive(Clone, Copy)]
enum Target {
    /// A time ratio at most this.
    AtMost(f64),
    /// A throughput ratio at least this.
    AtLeast(f64),
}

/// How a row's two sides are shown.
#[derive(Clone, Copy)]
enum Unit {
    /// Time per operation (the figures are nanoseconds).
    PerOp,
    /// Operations per second.
    Throughput,
}

struct Row {
    case: String,
    baseline: String,
    unit: Unit,
    ours: f64,
    base: f64,
    ratio: f64,
    spread: (f64, f64),
    target: Option<Target>,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Runs `ours` and `base` (each does `ops` operations and returns how long they took) in
/// alternating rounds and returns the medians of ns/op of each side and of the per-round time
/// ratios, and the quartiles of those ratios.
fn interleave(
    plan: &Plan,
    ops: u64,
    mut ours: impl FnMut() -> Duration,
    mut base: impl FnMut() -> Duration,
) -> Measured {
    // Warm-up: connections opened, caches and branch predictors filled.
    black_box(ours());
    black_box(base());
    let (mut o, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..plan.rounds {
        let (to, tb) = if round % 2 == 0 {
            let to = ours();
            (to, base())
        } else {
            let tb = base();
            (ours(), tb)
        };
        let (to, tb) = (to.as_nanos() as f64, tb.as_nanos() as f64);
        o.push(to / ops as f64);
        b.push(tb / ops as f64);
        r.push(to / tb);
    }
    let ratio = median(&mut r);
    // `median` sorted `r`.
    let quartile = |q: usize| r[(r.len() - 1) * q / 4];
    Measured {
        ours: median(&mut o),
        base: median(&mut b),
        ratio,
        spread: (quartile(1), quartile(3)),
    }
}

/// What [`interleave`] measured.
struct Measured {
    /// Median ns/op of cachex.
    ours: f64,
    /// Median ns/op of the baseline.
    base: f64,
    /// Median of the per-round time ratios cachex / baseline.
    ratio: f64,
    /// First and third quartiles of those ratios.
    spread: (f64, f64),
}

/// A per-op row.
fn per_op(case: &str, baseline: &str, target: Option<Target>, m: Measured) -> Row {
    let row = Row {
        case: case.to_owned(),
        baseline: baseline.to_owned(),
        unit: Unit::PerOp,
        ours: m.ours,
        base: m.base,
        ratio: m.ratio,
        spread: m.spread,
        target,
    };
    eprintln!("  {}", row.render());
    row
}

/// A throughput row from per-op figures: ops/s of each side, and the throughput ratio.
fn throughput(case: &str, baseline: &str, target: Option<Target>, m: Measured) -> Row {
    let row = Row {
        case: case.to_owned(),
        baseline: baseline.to_owned(),
        unit: Unit::Throughput,
        ours: 1e9 / m.ours,
        base: 1e9 / m.base,
        ratio: 1.0 / m.ratio,
        spread: (1.0 / m.spread.1, 1.0 / m.spread.0),
        target,
    };
    eprintln!("  {}", row.render());
    row
}

fn fmt_time(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

impl Row {
    fn figure(&self, value: f64) -> String {
        match self.unit {
            Unit::PerOp => fmt_time(value),
            Unit::Throughput => format!("{:.0} ops/s", value),
        }
    }

    fn render(&self) -> String {
        let (target, met) = match self.target {
            Some(Target::AtMost(t)) => (format!("<= {t:.2}"), self.ratio <= t),
            Some(Target::AtLeast(t)) => (format!(">= {t:.2}"), self.ratio >= t),
            None => ("—".to_owned(), true),
        };
        let met = match self.target {
            None => "—",
            Some(_) if met => "yes",
            Some(_) => "**no**",
        };
        format!(
            "| {} | {} | {} | {} | {:.3} | {:.3}–{:.3} | {} | {} |",
            self.case,
            self.figure(self.ours),
            self.baseline,
            self.figure(self.base),
            self.ratio,
            self.spread.0,
            self.spread.1,
            target,
            met
        )
    }
}

/// Runs `future` as a task on a worker of `runtime` and returns what it measured.
fn on_worker<F>(runtime: &Runtime, future: F) -> Duration
where
    F: Future<Output = Duration> + Send + 'static,
{
    runtime
        .block_on(runtime.spawn(future))
        .expect("the measuring task panicked")
}

/// Times `ops` runs of `$body` (an expression that awaits) in one task on a worker of
/// `$runtime`, after binding the `name = value` clones the task moves in.
macro_rules! timed_async {
    ($runtime:expr, $ops:expr, ($($name:pat = $value:expr),*), $body:expr) => {{
        $(let $name = $value;)*
        on_worker($runtime, async move {
            let start = Instant::now();
            for _ in 0..$ops {
                black_box($body);
            }
            start.elapsed()
        })
    }};
}

fn raw_info(server: &Server) -> redis::ConnectionInfo {
    format!("{}/0", server.url())
        .into_connection_info()
        .expect("the server's URL")
        .set_tcp_settings(TcpSettings::default().set_nodelay(true))
}

fn raw_blocking(server: &Server) -> redis::Connection {
    redis::Client::open(raw_info(server))
        .expect("a client")
        .get_connection()
        .expect("a blocking connection")
}

/// A multiplexed connection whose write queue holds `queue` requests.
fn raw_multiplexed_queue(
    runtime: &Runtime,
    server: &Server,
    queue: usize,
) -> MultiplexedConnection {
    let client = redis::Client::open(raw_info(server)).expect("a client");
    let config = redis::AsyncConnectionConfig::new().set_pipeline_buffer_size(queue);
    runtime.block_on(async move {
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .expect("a multiplexed connection")
    })
}

fn raw_multiplexed(runtime: &Runtime, server: &Server) -> MultiplexedConnection {
    let client = redis::Client::open(raw_info(server)).expect("a client");
    runtime.block_on(async move {
        client
            .get_multiplexed_async_connection()
            .await
            .expect("a multiplexed connection")
    })
}

fn raw_get(conn: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query(conn).expect("GET")
}

fn raw_set(conn: &mut redis::Connection, key: &str, bytes: &[u8]) {
    redis::cmd("SET")
        .arg(key)
        .arg(bytes)
        .arg("PX")
        .arg(PX_MILLIS)
        .exec(conn)
        .expect("SET");
}

async fn raw_aget(conn: &mut MultiplexedConnection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET")
        .arg(key)
        .query_async(conn)
        .await
        .expect("GET")
}

async fn raw_aset(conn: &mut MultiplexedConnection, key: &str, bytes: &[u8]) {
    redis::cmd("SET")
        .arg(key)
        .arg(bytes)
        .arg("PX")
        .arg(PX_MILLIS)
        .exec_async(conn)
        .await
        .expect("SET");
}

/// A value whose encoding (JSON text, quotes included) is 100 bytes.
fn value_100() -> String {
    "v".repeat(98)
}

fn timed(ops: u64, mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..ops {
        op();
    }
    start.elapsed()
}

fn single_key(
    plan: &Plan,
    rows: &mut Vec<Row>,
    runtime: &Runtime,
    server: &Server,
    cache: &Cache,
    peers: &Peers,
) {
    let value = value_100();
    let made = made_key(cache, KEY);
    let bytes = cache.core().codec().encode(&value).expect("encodes");
    assert_eq!(bytes.len(), 100, "the value's encoding is 100 bytes");
    cache.set(KEY, &value, Timeout::Default).expect("set");
    let mut conn = raw_blocking(server);
    let ops = plan.ops;

    eprintln!("blocking get/set vs redis::Connection");
    rows.push(per_op(
        "`get` (blocking, 100 B)",
        "`Connection` GET",
        Some(Target::AtMost(1.10)),
        interleave(
            plan,
            ops,
            || {
                timed(ops, || {
                    black_box(cache.get::<String>(black_box(KEY)).expect("get"));
                })
            },
            || {
                timed(ops, || {
                    drop(black_box(raw_get(&mut conn, black_box(&made))))
                })
            },
        ),
    ));
    rows.push(per_op(
        "`set` (blocking, 100 B)",
        "`Connection` SET PX",
        None,
        interleave(
            plan,
            ops,
            || {
                timed(ops, || {
                    cache.set(KEY, &value, Timeout::Default).expect("set")
                })
            },
            || timed(ops, || raw_set(&mut conn, &made, &bytes)),
        ),
    ));

    eprintln!("async get/set vs MultiplexedConnection and fred");
    let mux = peers.mux.clone();
    let aget_loop = |cache: &Cache| {
        timed_async!(runtime, ops, (cache = cache.clone()), {
            cache.aget::<String>(black_box(KEY)).await.expect("aget")
        })
    };
    let raw_aget_loop = |mux: &MultiplexedConnection, made: &str| {
        timed_async!(
            runtime,
            ops,
            (mut mux = mux.clone(), made = made.to_owned()),
            raw_aget(&mut mux, black_box(&made)).await
        )
    };
    rows.push(per_op(
        "`aget` (100 B)",
        "`MultiplexedConnection` GET",
        Some(Target::AtMost(1.05)),
        interleave(
            plan,
            ops,
            || aget_loop(cache),
            || raw_aget_loop(&mux, &made),
        ),
    ));
    let aset_loop = || {
        timed_async!(
            runtime,
            ops,
            (cache = cache.clone(), value = value.clone()),
            {
                cache
                    .aset(KEY, &value, Timeout::Default)
                    .await
                    .expect("aset")
            }
        )
    };
    let mux_set = |encoded: bool| {
        timed_async!(
            runtime,
            ops,
            (
                mut mux = mux.clone(),
                made = made.clone(),
                bytes = bytes.clone(),
                value = value.clone()
            ),
            if encoded {
                raw_aset(&mut mux, &made, &encode(&value)).await
            } else {
                raw_aset(&mut mux, &made, &bytes).await
            }
        )
    };
    macro_rules! fred_set_loop {
        ($client:expr) => {
            timed_async!(
                runtime,
                ops,
                (
                    client = $client.clone(),
                    made = made.clone(),
                    value = value.clone()
                ),
                fred_set(&client, &made, encode(&value)).await
            )
        };
    }
    compare(
        plan,
        rows,
        "`aset` (100 B)",
        Unit::PerOp,
        ops,
        aset_loop,
        async_peers(
            "SET PX",
            "encode",
            Some(Target::AtMost(1.05)),
            &mux_set,
            &|pool| {
                if pool {
                    fred_set_loop!(peers.pool)
                } else {
                    fred_set_loop!(peers.fred)
                }
            },
        ),
    );

    eprintln!("spellings vs aget / get");
    rows.push(per_op(
        "`a().get`",
        "`aget`",
        Some(Target::AtMost(1.02)),
        interleave(
            plan,
            ops,
            || {
                timed_async!(runtime, ops, (cache = cache.clone()), {
                    cache
                        .a()
                        .get::<String>(black_box(KEY))
                        .await
                        .expect("a().get")
                })
            },
            || aget_loop(cache),
        ),
    ));
    rows.push(per_op(
        "`get.as_async`",
        "`aget`",
        Some(Target::AtMost(1.02)),
        interleave(
            plan,
            ops,
            || {
                timed_async!(runtime, ops, (cache = cache.clone()), {
                    cache
                        .get
                        .as_async::<String>(black_box(KEY))
                        .await
                        .expect("get.as_async")
                })
            },
            || aget_loop(cache),
        ),
    ));
    rows.push(per_op(
        "`get.as_sync`",
        "`get` (blocking)",
        Some(Target::AtMost(1.02)),
        interleave(
            plan,
            ops,
            || {
                timed(ops, || {
                    black_box(
                        cache
                            .get
                            .as_sync::<String>(black_box(KEY))
                            .expect("get.as_sync"),
                    );
                })
            },
            || {
                timed(ops, || {
                    black_box(cache.get::<String>(black_box(KEY)).expect("get"));
                })
            },
        ),
    ));
}

/// A peer's side of a comparison: the row's baseline name, its timed loop, and the target the
/// ratio is held to (like-for-like rows only).
struct Peer<'a> {
    name: String,
    target: Option<Target>,
    run: Box<dyn FnMut() -> Duration + 'a>,
}

fn peer<'a>(
    name: impl Into<String>,
    target: Option<Target>,
    run: impl FnMut() -> Duration + 'a,
) -> Peer<'a> {
    Peer {
        name: name.into(),
        target,
        run: Box::new(run),
    }
}

/// The async peers of a server case: redis-rs's `MultiplexedConnection` raw and with `extra`
/// (the decode or encode cachex does), and fred's client and pool with it. `mux(with_extra)`
/// and `fred(pool)` time one side each.
fn async_peers<'a>(
    command: &str,
    extra: &str,
    target: Option<Target>,
    mux: &'a dyn Fn(bool) -> Duration,
    fred: &'a dyn Fn(bool) -> Duration,
) -> Vec<Peer<'a>> {
    vec![
        peer(
            format!("`MultiplexedConnection` {command} (raw)"),
            None,
            move || mux(false),
        ),
        peer(
            format!("`MultiplexedConnection` {command} + {extra}"),
            target,
            move || mux(true),
        ),
        peer(
            format!("fred client {command} + {extra}"),
            target,
            move || fred(false),
        ),
        peer(
            format!("fred pool of {POOL} {command} + {extra}"),
            target,
            move || fred(true),
        ),
    ]
}

/// Measures `ours` next to each peer in turn, each pair in its own interleaved rounds, and
/// adds a row per peer.
fn compare(
    plan: &Plan,
    rows: &mut Vec<Row>,
    case: &str,
    unit: Unit,
    ops: u64,
    mut ours: impl FnMut() -> Duration,
    peers: Vec<Peer<'_>>,
) {
    for mut peer in peers {
        let measured = interleave(plan, ops, &mut ours, &mut peer.run);
        rows.push(match unit {
            Unit::PerOp => per_op(case, &peer.name, peer.target, measured),
            Unit::Throughput => throughput(case, &peer.name, peer.target, measured),
        });
    }
}

/// The JSON decode cachex does on a read, for the like-for-like rows.
fn decode(bytes: &[u8]) -> String {
    serde_json::from_slice(bytes).expect("a JSON string")
}

/// The JSON encode cachex does on a write, for the like-for-like rows.
fn encode(value: &str) -> Vec<u8> {
    serde_json::to_vec(value).expect("encodes")
}

fn fred_builder(server: &Server) -> fred::types::Builder {
    let config =
        fred::types::config::Config::from_url(&format!("{}/0", server.url())).expect("a URL");
    let mut builder = fred::types::Builder::from_config(config);
    builder.with_connection_config(|connection| {
        connection.tcp = fred::types::config::TcpConfig {
            nodelay: Some(true),
            ..Default::default()
        };
    });
    builder
}

/// One `fred` client (one multiplexed connection), connected on `runtime`.
fn fred_client(runtime: &Runtime, server: &Server) -> fred::clients::Client {
    let client = fred_builder(server).build().expect("a fred client");
    runtime.block_on(async {
        client.init().await.expect("fred connects");
    });
    client
}

/// A `fred` pool of `size` clients (round-robin), connected on `runtime`.
fn fred_pool(runtime: &Runtime, server: &Server, size: usize) -> fred::clients::Pool {
    let pool = fred_builder(server).build_pool(size).expect("a fred pool");
    runtime.block_on(async {
        pool.init().await.expect("fred connects");
    });
    pool
}

async fn fred_get(client: &impl KeysInterface, key: &str) -> Option<Bytes> {
    client.get(key).await.expect("GET")
}

async fn fred_set(client: &impl KeysInterface, key: &str, bytes: impl Into<Bytes>) {
    let bytes: Bytes = bytes.into();
    client
        .set::<(), _, _>(
            key,
            bytes,
            Some(Expiration::PX(PX_MILLIS as i64)),
            None,
            false,
        )
        .await
        .expect("SET");
}

/// `tasks` tasks spawned on `runtime`, each running `$body` `per_task` times on its own clones
/// of the `name = value` bindings; the time until all are done.
macro_rules! spawned {
    ($runtime:expr, $tasks:expr, $per_task:expr, ($($name:ident = $value:expr),*), $body:expr) => {{
        $(let $name = $value;)*
        let (tasks, per_task) = ($tasks, $per_task);
        on_worker($runtime, async move {
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    $(#[allow(unused_mut)] let mut $name = $name.clone();)*
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            black_box($body);
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.await.expect("a task");
            }
            start.elapsed()
        })
    }};
}

/// The peers' connections of the server cases, opened once.
struct Peers {
    mux: MultiplexedConnection,
    /// The same, queueing 1,024 requests for writing (the crate's default, which cachex keeps,
    /// is 50): fewer instructions per call with many in flight, but less throughput here.
    mux_queue: MultiplexedConnection,
    fred: fred::clients::Client,
    pool: fred::clients::Pool,
}

/// The size of `fred`'s pool in the pool rows.
const POOL: usize = 8;

fn many_keys(cache: &Cache, n: usize) -> (Vec<String>, Vec<String>) {
    let keys: Vec<String> = (0..n).map(|i| format!("many:{i}")).collect();
    let made = keys.iter().map(|key| made_key(cache, key)).collect();
    (keys, made)
}

/// MGET of `made` on a blocking connection, decoded into the map `get_many` returns.
fn raw_mget_decoded(
    conn: &mut redis::Connection,
    keys: &[&str],
    made: &[String],
) -> HashMap<String, String> {
    let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(made).query(conn).expect("MGET");
    keys.iter()
        .zip(found)
        .filter_map(|(key, bytes)| Some(((*key).to_owned(), decode(&bytes?))))
        .collect()
}

fn many(
    plan: &Plan,
    rows: &mut Vec<Row>,
    runtime: &Runtime,
    server: &Server,
    cache: &Cache,
    peers: &Peers,
) {
    eprintln!("get_many/set_many of {MANY} keys vs MGET / pipelined SET");
    let value = value_100();
    let bytes = cache.core().codec().encode(&value).expect("encodes");
    let (keys, made) = many_keys(cache, MANY);
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let items: Vec<(&str, String)> = keys.iter().map(|key| (*key, value.clone())).collect();
    cache.set_many(&items, Timeout::Default).expect("set_many");
    let mut conn = raw_blocking(server);
    let ops = plan.many_ops;
    let conn = std::cell::RefCell::new(&mut conn);
    let get_many = || {
        timed(ops, || {
            let found: HashMap<String, String> =
                cache.get_many(black_box(&keys)).expect("get_many");
            assert_eq!(found.len(), MANY);
            black_box(found);
        })
    };
    compare(
        plan,
        rows,
        "`get_many` (100 keys, blocking)",
        Unit::PerOp,
        ops,
        get_many,
        vec![
            peer("`Connection` MGET (raw)", None, || {
                timed(ops, || {
                    let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                        .arg(black_box(&made))
                        .query(*conn.borrow_mut())
                        .expect("MGET");
                    assert_eq!(found.len(), MANY);
                    black_box(found);
                })
            }),
            peer(
                "`Connection` MGET + decode",
                Some(Target::AtMost(1.05)),
                || {
                    timed(ops, || {
                        let found = raw_mget_decoded(*conn.borrow_mut(), &keys, &made);
                        assert_eq!(found.len(), MANY);
                        black_box(found);
                    })
                },
            ),
        ],
    );

    let fred_made: Vec<fred::types::Key> = made.iter().map(|key| key.as_str().into()).collect();
    let owned: Vec<String> = keys.iter().map(|key| (*key).to_owned()).collect();
    // The measuring task needs `'static` keys: leaked, once.
    let leaked: &'static [&'static str] = Vec::leak(
        owned
            .iter()
            .map(|key| &*String::leak(key.clone()))
            .collect(),
    );
    let aget_many = || {
        timed_async!(runtime, ops, (cache = cache.clone()), {
            let found: HashMap<String, String> = cache.aget_many(leaked).await.expect("aget_many");
            assert_eq!(found.len(), MANY);
            found
        })
    };
    let mux_mget = |decoded: bool| {
        timed_async!(
            runtime,
            ops,
            (
                mut mux = peers.mux.clone(),
                made = made.clone(),
                owned = owned.clone()
            ),
            {
                let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                    .arg(&made)
                    .query_async(&mut mux)
                    .await
                    .expect("MGET");
                if decoded {
                    let map: HashMap<String, String> = owned
                        .iter()
                        .zip(found)
                        .filter_map(|(key, bytes)| Some((key.clone(), decode(&bytes?))))
                        .collect();
                    assert_eq!(map.len(), MANY);
                    black_box(map);
                } else {
                    black_box(found);
                }
            }
        )
    };
    macro_rules! fred_mget {
        ($client:expr) => {
            timed_async!(
                runtime,
                ops,
                (
                    client = $client.clone(),
                    made = fred_made.clone(),
                    owned = owned.clone()
                ),
                {
                    let found: Vec<Option<Bytes>> = client.mget(made.clone()).await.expect("MGET");
                    let map: HashMap<String, String> = owned
                        .iter()
                        .zip(found)
                        .filter_map(|(key, bytes)| Some((key.clone(), decode(&bytes?))))
                        .collect();
                    assert_eq!(map.len(), MANY);
                    map
                }
            )
        };
    }
    compare(
        plan,
        rows,
        "`aget_many` (100 keys)",
        Unit::PerOp,
        ops,
        aget_many,
        async_peers(
            "MGET",
            "decode",
            Some(Target::AtMost(1.05)),
            &mux_mget,
            &|pool| {
                if pool {
                    fred_mget!(peers.pool)
                } else {
                    fred_mget!(peers.fred)
                }
            },
        ),
    );

    compare(
        plan,
        rows,
        "`set_many` (100 keys, blocking)",
        Unit::PerOp,
        ops,
        || {
            timed(ops, || {
                let failed = cache
                    .set_many(black_box(&items), Timeout::Default)
                    .expect("set_many");
                black_box(failed);
            })
        },
        vec![peer("`Connection` pipelined SET PX + encode", None, || {
            timed(ops, || {
                let mut pipe = redis::pipe();
                for key in &made {
                    pipe.cmd("SET")
                        .arg(key)
                        .arg(encode(black_box(&value)))
                        .arg("PX")
                        .arg(PX_MILLIS)
                        .ignore();
                }
                pipe.exec(*conn.borrow_mut()).expect("pipelined SET");
            })
        })],
    );
    drop(bytes);
}

fn concurrency(plan: &Plan, rows: &mut Vec<Row>, runtime: &Runtime, cache: &Cache, peers: &Peers) {
    let made = made_key(cache, KEY);
    cache.set(KEY, &value_100(), Timeout::Default).expect("set");

    eprintln!("concurrent tasks: aget on one cache vs GET on one connection or a pool");
    for tasks in [1_u64, 16, 256] {
        let per_task = (plan.sweep_ops / tasks).max(1);
        let ops = per_task * tasks;
        let cachex_side = || {
            spawned!(runtime, tasks, per_task, (cache = cache.clone()), {
                cache.aget::<String>(KEY).await.expect("aget")
            })
        };
        let mux_side = |decoded: bool| {
            spawned!(
                runtime,
                tasks,
                per_task,
                (mux = peers.mux.clone(), made = made.clone()),
                {
                    let bytes = raw_aget(&mut mux, &made).await;
                    if decoded {
                        black_box(decode(&bytes.expect("a hit")));
                    } else {
                        black_box(bytes);
                    }
                }
            )
        };
        macro_rules! fred_side {
            ($client:expr, $decoded:expr) => {
                spawned!(
                    runtime,
                    tasks,
                    per_task,
                    (client = $client.clone(), made = made.clone()),
                    {
                        let bytes = fred_get(&client, &made).await;
                        if $decoded {
                            black_box(decode(&bytes.expect("a hit")));
                        } else {
                            black_box(bytes);
                        }
                    }
                )
            };
        }
        let target = (tasks > 1).then_some(Target::AtLeast(1.00));
        let case = format!("{tasks} task{} × `aget`", if tasks == 1 { "" } else { "s" });
        let fred_decoded = |pool: bool| {
            if pool {
                fred_side!(peers.pool, true)
            } else {
                fred_side!(peers.fred, true)
            }
        };
        let mut list = async_peers("GET", "decode", target, &mux_side, &fred_decoded);
        if tasks == 1 {
            // One task: redis-rs only, as before.
            list.truncate(2);
        } else {
            list.push(peer("fred client GET (raw)", None, || {
                fred_side!(peers.fred, false)
            }));
            list.push(peer(
                "`MultiplexedConnection`, queue of 1,024, GET + decode",
                target,
                || {
                    spawned!(
                        runtime,
                        tasks,
                        per_task,
                        (mux = peers.mux_queue.clone(), made = made.clone()),
                        black_box(decode(&raw_aget(&mut mux, &made).await.expect("a hit")))
                    )
                },
            ));
        }
        compare(plan, rows, &case, Unit::Throughput, ops, cachex_side, list);
    }
}

/// The OS-thread rows of the concurrency group (alone: `CACHEX_BENCH_GROUPS=threads`).
fn threads(plan: &Plan, rows: &mut Vec<Row>, server: &Server, cache: &Cache) {
    let made = made_key(cache, KEY);
    cache.set(KEY, &value_100(), Timeout::Default).expect("set");
    eprintln!("OS threads: blocking get on one cache vs GET on a Connection per thread");
    for threads in [1_u64, 16] {
        let per_thread = (plan.sweep_ops / threads).max(1);
        let ops = per_thread * threads;
        let conns: Vec<std::sync::Mutex<redis::Connection>> = (0..threads)
            .map(|_| std::sync::Mutex::new(raw_blocking(server)))
            .collect();
        let cachex_side = || {
            let start = Instant::now();
            thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| {
                        for _ in 0..per_thread {
                            black_box(cache.get::<String>(KEY).expect("get"));
                        }
                    });
                }
            });
            start.elapsed()
        };
        let raw_side = |decoded: bool| {
            let start = Instant::now();
            thread::scope(|scope| {
                for conn in &conns {
                    let made = &made;
                    scope.spawn(move || {
                        let mut conn = conn.lock().expect("one thread each");
                        for _ in 0..per_thread {
                            let bytes = raw_get(&mut conn, made);
                            if decoded {
                                black_box(decode(&bytes.expect("a hit")));
                            } else {
                                black_box(bytes);
                            }
                        }
                    });
                }
            });
            start.elapsed()
        };
        let target = (threads > 1).then_some(Target::AtLeast(0.97));
        compare(
            plan,
            rows,
            &format!(
                "{threads} thread{} × `get`",
                if threads == 1 { "" } else { "s" }
            ),
            Unit::Throughput,
            ops,
            cachex_side,
            vec![
                peer("a `Connection` per thread (raw)", target, || {
                    raw_side(false)
                }),
                peer("a `Connection` per thread + decode", None, || {
                    raw_side(true)
                }),
            ],
        );
    }
}

fn memory(plan: &Plan, rows: &mut Vec<Row>) {
    eprintln!("in-memory backend vs moka and quick_cache holding the encoded bytes");
    const KEYS: usize = 1000;
    let cache = Cache::in_memory();
    let moka: moka::sync::Cache<String, Arc<[u8]>> = moka::sync::Cache::builder()
        .max_capacity(10_000)
        .eviction_policy(moka::policy::EvictionPolicy::lru())
        .build();
    let quick: quick_cache::sync::Cache<String, Arc<[u8]>> = quick_cache::sync::Cache::new(10_000);
    let value = value_100();
    let bytes = cache.core().codec().encode(&value).expect("encodes");
    let keys: Vec<String> = (0..KEYS).map(|i| format!("mem:{i}")).collect();
    let made: Vec<String> = keys.iter().map(|key| made_key(&cache, key)).collect();
    for (key, made) in keys.iter().zip(&made) {
        cache.set(key, &value, Timeout::Default).expect("set");
        moka.insert(made.clone(), Arc::from(bytes.as_slice()));
        quick.insert(made.clone(), Arc::from(bytes.as_slice()));
    }
    let ops = plan.memory_ops;
    // A loop over the keys in turn: `read` looks one up (made key) and returns what it found.
    let looped = |mut op: Box<dyn FnMut(usize) + '_>| {
        let mut i = 0;
        timed(ops, || {
            i = (i + 1) % KEYS;
            op(i);
        })
    };
    compare(
        plan,
        rows,
        "memory `get` (100 B)",
        Unit::PerOp,
        ops,
        || {
            looped(Box::new(|i| {
                black_box(cache.get::<String>(black_box(&keys[i])).expect("get"));
            }))
        },
        vec![
            peer("`moka` get (raw)", None, || {
                looped(Box::new(|i| {
                    drop(black_box(moka.get(black_box(made[i].as_str()))))
                }))
            }),
            peer("`moka` get + decode", Some(Target::AtMost(1.5)), || {
                looped(Box::new(|i| {
                    black_box(decode(
                        &moka.get(black_box(made[i].as_str())).expect("a hit"),
                    ));
                }))
            }),
            peer("`quick_cache` get (raw)", None, || {
                looped(Box::new(|i| {
                    drop(black_box(quick.get(black_box(made[i].as_str()))))
                }))
            }),
            peer(
                "`quick_cache` get + decode",
                Some(Target::AtMost(1.5)),
                || {
                    looped(Box::new(|i| {
                        black_box(decode(
                            &quick.get(black_box(made[i].as_str())).expect("a hit"),
                        ));
                    }))
                },
            ),
            // The peer making the key too, as cachex does (Django's `{prefix}:{version}:{key}`;
            // `format!`, as a user would write it): what is left is the map, the expiry check
            // and the transaction gate.
            peer("`quick_cache` get + key + decode", None, || {
                looped(Box::new(|i| {
                    let made = format!(":1:{}", black_box(&keys[i]));
                    black_box(decode(&quick.get(made.as_str()).expect("a hit")));
                }))
            }),
        ],
    );
    compare(
        plan,
        rows,
        "memory `set` (100 B)",
        Unit::PerOp,
        ops,
        || {
            looped(Box::new(|i| {
                cache
                    .set(black_box(&keys[i]), &value, Timeout::Default)
                    .expect("set");
            }))
        },
        vec![
            peer("`moka` insert + encode", Some(Target::AtMost(2.0)), || {
                looped(Box::new(|i| {
                    moka.insert(made[i].clone(), Arc::from(encode(black_box(&value))));
                }))
            }),
            peer(
                "`quick_cache` insert + encode",
                Some(Target::AtMost(2.0)),
                || {
                    looped(Box::new(|i| {
                        quick.insert(made[i].clone(), Arc::from(encode(black_box(&value))));
                    }))
                },
            ),
        ],
    );
}

/// The scale sweeps: one row per size, cachex next to the like-for-like raw redis client.
fn scale(
    plan: &Plan,
    rows: &mut Vec<Row>,
    runtime: &Runtime,
    server: &Server,
    cache: &Cache,
    peers: &Peers,
) {
    eprintln!("value sizes: aget vs MultiplexedConnection GET + decode");
    for (label, size, ops) in [
        ("100 B", 100, plan.ops),
        ("10 KiB", 10 * 1024, plan.ops),
        ("1 MiB", 1024 * 1024, (plan.ops / 50).max(4)),
    ] {
        let key = format!("scale:{size}");
        let value = "v".repeat(size - 2);
        cache.set(&key, &value, Timeout::Default).expect("set");
        let made = made_key(cache, &key);
        compare(
            plan,
            rows,
            &format!("`aget` ({label})"),
            Unit::PerOp,
            ops,
            || {
                timed_async!(runtime, ops, (cache = cache.clone(), key = key.clone()), {
                    cache.aget::<String>(&key).await.expect("aget")
                })
            },
            vec![peer("`MultiplexedConnection` GET + decode", None, || {
                timed_async!(
                    runtime,
                    ops,
                    (mut mux = peers.mux.clone(), made = made.clone()),
                    decode(&raw_aget(&mut mux, &made).await.expect("a hit"))
                )
            })],
        );
    }

    eprintln!("value sizes: aset vs MultiplexedConnection SET PX + encode");
    for (label, size, ops) in [
        ("100 B", 100, plan.ops),
        ("10 KiB", 10 * 1024, plan.ops),
        ("1 MiB", 1024 * 1024, (plan.ops / 50).max(4)),
    ] {
        let key = format!("scale:set:{size}");
        let value = "v".repeat(size - 2);
        let made = made_key(cache, &key);
        compare(
            plan,
            rows,
            &format!("`aset` ({label})"),
            Unit::PerOp,
            ops,
            || {
                timed_async!(
                    runtime,
                    ops,
                    (
                        cache = cache.clone(),
                        key = key.clone(),
                        value = value.clone()
                    ),
                    {
                        cache
                            .aset(&key, &value, Timeout::Default)
                            .await
                            .expect("aset")
                    }
                )
            },
            vec![peer(
                "`MultiplexedConnection` SET PX + encode",
                None,
                || {
                    timed_async!(
                        runtime,
                        ops,
                        (
                            mut mux = peers.mux.clone(),
                            made = made.clone(),
                            value = value.clone()
                        ),
                        raw_aset(&mut mux, &made, &encode(&value)).await
                    )
                },
            )],
        );
    }

    eprintln!("get_many sizes: blocking get_many vs MGET + decode");
    let mut conn = raw_blocking(server);
    for n in [1_usize, 10, 100, 1000] {
        let (keys, made) = many_keys(cache, n);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let items: Vec<(&str, String)> = keys.iter().map(|key| (*key, value_100())).collect();
        cache.set_many(&items, Timeout::Default).expect("set_many");
        let ops = (plan.many_ops * 100 / n as u64).clamp(4, plan.ops);
        let conn = std::cell::RefCell::new(&mut conn);
        compare(
            plan,
            rows,
            &format!("`get_many` ({n} key{})", if n == 1 { "" } else { "s" }),
            Unit::PerOp,
            ops,
            || {
                timed(ops, || {
                    let found: HashMap<String, String> =
                        cache.get_many(black_box(&keys)).expect("get_many");
                    assert_eq!(found.len(), n);
                    black_box(found);
                })
            },
            vec![peer("`Connection` MGET + decode", None, || {
                timed(ops, || {
                    black_box(raw_mget_decoded(*conn.borrow_mut(), &keys, &made));
                })
            })],
        );
    }

    eprintln!("aget_many sizes: aget_many vs MultiplexedConnection MGET + decode");
    for n in [1_usize, 10, 100, 1000] {
        let (keys, made) = many_keys(cache, n);
        // The measuring task needs `'static` keys: leaked, once per size.
        let leaked: &'static [&'static str] =
            Vec::leak(keys.iter().map(|key| &*String::leak(key.clone())).collect());
        let ops = (plan.many_ops * 100 / n as u64).clamp(4, plan.ops);
        compare(
            plan,
            rows,
            &format!("`aget_many` ({n} key{})", if n == 1 { "" } else { "s" }),
            Unit::PerOp,
            ops,
            || {
                timed_async!(runtime, ops, (cache = cache.clone()), {
                    let found: HashMap<String, String> =
                        cache.aget_many(leaked).await.expect("aget_many");
                    assert_eq!(found.len(), n);
                    found
                })
            },
            vec![peer("`MultiplexedConnection` MGET + decode", None, || {
                timed_async!(
                    runtime,
                    ops,
                    (
                        mut mux = peers.mux.clone(),
                        made = made.clone(),
                        keys = keys.clone()
                    ),
                    {
                        let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                            .arg(&made)
                            .query_async(&mut mux)
                            .await
                            .expect("MGET");
                        let map: HashMap<String, String> = keys
                            .iter()
                            .zip(found)
                            .filter_map(|(key, bytes)| Some((key.clone(), decode(&bytes?))))
                            .collect();
                        assert_eq!(map.len(), n);
                        map
                    }
                )
            })],
        );
    }
}

/// How the scale sweeps grow: for each sweep (rows whose case differs only in the size in
/// brackets), the cost added per extra key or per extra KiB from its smallest size to its
/// largest, cachex next to the peer (linear growth: the same per-unit cost at every step).
fn growth(rows: &[Row]) -> String {
    let size = |case: &str| -> Option<(String, f64, &'static str)> {
        let (name, rest) = case.split_once(" (")?;
        let amount = rest.strip_suffix(')')?;
        let (number, unit) = amount.split_once(' ')?;
        let number: f64 = number.parse().ok()?;
        Some(match unit {
            "B" => (name.to_owned(), number / 1024.0, "KiB"),
            "KiB" => (name.to_owned(), number, "KiB"),
            "MiB" => (name.to_owned(), number * 1024.0, "KiB"),
            _ => (name.to_owned(), number, "key"),
        })
    };
    let mut out = String::from(
        "| sweep | step | cachex per unit | peer per unit | ratio of the steps |\n| --- | --- | ---: | ---: | ---: |\n",
    );
    let mut at = 0;
    while at < rows.len() {
        let Some((name, _, unit)) = size(&rows[at].case) else {
            at += 1;
            continue;
        };
        let sweep: Vec<(&Row, f64)> = rows[at..]
            .iter()
            .map_while(|row| {
                size(&row.case)
                    .filter(|(other, _, _)| *other == name)
                    .map(|(_, amount, _)| (row, amount))
            })
            .collect();
        for pair in sweep.windows(2) {
            let ((small, a), (large, b)) = (pair[0], pair[1]);
            let span = b - a;
            let ours = (large.ours - small.ours) / span;
            let base = (large.base - small.base) / span;
            out.push_str(&format!(
                "| {name} | {} -> {} | {} / {unit} | {} / {unit} | {:.3} |\n",
                small
                    .case
                    .split_once(" (")
                    .map_or("", |(_, s)| s.trim_end_matches(')')),
                large
                    .case
                    .split_once(" (")
                    .map_or("", |(_, s)| s.trim_end_matches(')')),
                fmt_time(ours),
                fmt_time(base),
                ours / base
            ));
        }
        at += sweep.len().max(1);
    }
    out
}

/// The entries of the footprint measurement.
const FOOTPRINT_ENTRIES: usize = 100_000;

/// Resident memory of this process, in bytes (Linux).
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Run in a child process (`CACHEX_BENCH_FOOTPRINT=<store>`): fills one store with
/// [`FOOTPRINT_ENTRIES`] entries of 100-byte values and prints the resident bytes it added.
fn footprint_child(store: &str) {
    let value = value_100();
    let bytes = encode(&value);
    let before = resident().expect("/proc/self/statm");
    let keep: Box<dyn std::any::Any> = match store {
        "cachex" => {
            let cache = Cache::builder()
                .max_entries(FOOTPRINT_ENTRIES as u64 * 2)
                .build()
                .expect("a cache");
            for i in 0..FOOTPRINT_ENTRIES {
                cache
                    .set(&format!("mem:{i}"), &value, Timeout::Default)
                    .expect("set");
            }
            Box::new(cache)
        }
        "moka" => {
            let moka: moka::sync::Cache<String, Arc<[u8]>> = moka::sync::Cache::builder()
                .max_capacity(FOOTPRINT_ENTRIES as u64 * 2)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build();
            for i in 0..FOOTPRINT_ENTRIES {
                moka.insert(format!(":1:mem:{i}"), Arc::from(bytes.as_slice()));
            }
            moka.run_pending_tasks();
            Box::new(moka)
        }
        _ => {
            let quick: quick_cache::sync::Cache<String, Arc<[u8]>> =
                quick_cache::sync::Cache::new(FOOTPRINT_ENTRIES * 2);
            for i in 0..FOOTPRINT_ENTRIES {
                quick.insert(format!(":1:mem:{i}"), Arc::from(bytes.as_slice()));
            }
            Box::new(quick)
        }
    };
    let after = resident().expect("/proc/self/statm");
    println!("{}", after.saturating_sub(before));
    drop(keep);
}

/// Memory per entry of the in-memory backend and of the peers, each filled in a fresh process.
fn footprint_table() -> String {
    eprintln!("memory per entry ({FOOTPRINT_ENTRIES} entries of 100-byte values)");
    let mut out = format!(
        "| store ({FOOTPRINT_ENTRIES} entries, key `:1:mem:N`, 100-byte value) | resident bytes per entry |\n| --- | ---: |\n"
    );
    let exe = std::env::current_exe().expect("this bench's path");
    for (store, name) in [
        ("cachex", "cachex `Cache::in_memory()`"),
        ("moka", "`moka::sync::Cache<String, Arc<[u8]>>`"),
        (
            "quick_cache",
            "`quick_cache::sync::Cache<String, Arc<[u8]>>`",
        ),
    ] {
        let output = std::process::Command::new(&exe)
            .env("CACHEX_BENCH_FOOTPRINT", store)
            .output()
            .expect("the footprint child runs");
        let bytes: f64 = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("the child prints its bytes");
        let line = format!("| {name} | {:.0} B |\n", bytes / FOOTPRINT_ENTRIES as f64);
        eprint!("  {line}");
        out.push_str(&line);
    }
    out
}

/// A record of the codec payload: text, numbers and repetition, like a typical cached object.
#[derive(Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    email: String,
    score: f64,
    active: bool,
    tags: Vec<String>,
}

fn codec_table(plan: &Plan) -> String {
    eprintln!("codecs: encode and decode cost per KiB");
    let payload: Vec<Record> = (0..120)
        .map(|i| Record {
            id: 1_000_000 + i,
            name: format!("User number {i}"),
            email: format!("user{i}@example.com"),
            score: i as f64 * 1.37,
            active: i % 3 != 0,
            tags: vec!["alpha".into(), format!("group-{}", i % 7), "beta".into()],
        })
        .collect();
    let mut out = String::from(
        "| codec | serialized | stored | encode / KiB | decode / KiB |\n| --- | ---: | ---: | ---: | ---: |\n",
    );
    let compressors = [
        None,
        Some(Compressor::Zlib),
        Some(Compressor::Gzip),
        Some(Compressor::Zstd),
        Some(Compressor::Lz4),
    ];
    for serializer in [Serializer::Json, Serializer::MessagePack] {
        let plain = Codec::builder()
            .serializer(serializer)
            .build()
            .expect("a codec");
        let serialized = plain.encode(&payload).expect("encodes").len();
        for compressor in compressors {
            let mut builder = Codec::builder().serializer(serializer);
            if let Some(compressor) = compressor {
                builder = builder.compressor(compressor);
            }
            let codec = builder.build().expect("a codec");
            let stored = codec.encode(&payload).expect("encodes");
            let ops = plan.codec_ops;
            let kib = serialized as f64 / 1024.0;
            let Measured {
                ours: encode,
                base: decode,
                ..
            } = interleave(
                plan,
                ops,
                || timed(ops, || drop(black_box(codec.encode(black_box(&payload))))),
                || {
                    timed(ops, || {
                        let back: Vec<Record> =
                            codec.decode("k", black_box(&stored)).expect("decodes");
                        black_box(back);
                    })
                },
            );
            let name = format!(
                "{}{}",
                serializer_name(serializer),
                compressor.map_or(String::new(), |c| format!(" + {}", c.name()))
            );
            let line = format!(
                "| {name} | {serialized} B | {} B | {} | {} |\n",
                stored.len(),
                fmt_time(encode / kib),
                fmt_time(decode / kib)
            );
            eprint!("  {line}");
            out.push_str(&line);
        }
    }
    out
}

fn serializer_name(serializer: Serializer) -> &'static str {
    match serializer {
        Serializer::Json => "json",
        Serializer::MessagePack => "msgpack",
        _ => "other",
    }
}

fn main() {
    if let Some(store) = std::env::var_os("CACHEX_BENCH_FOOTPRINT") {
        footprint_child(&store.to_string_lossy());
        return;
    }
    let plan = Plan::from_env();
    let started = Instant::now();
    let server = Server::start(ServerKind::Redis);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let cache = Cache::from_url(&format!("{}/0", server.url())).expect("a cache");
    eprintln!(
        "redis-server on port {} ({} rounds per case{})",
        server.port(),
        plan.rounds,
        if plan.quick { ", quick mode" } else { "" }
    );

    // `CACHEX_BENCH_GROUPS=concurrency,memory` runs only those groups of cases (`threads`:
    // the concurrency group's OS-thread rows alone).
    let groups = std::env::var("CACHEX_BENCH_GROUPS").unwrap_or_default();
    let wanted = |group: &str| groups.is_empty() || groups.split(',').any(|name| name == group);
    let peers = Peers {
        mux: raw_multiplexed(&runtime, &server),
        mux_queue: raw_multiplexed_queue(&runtime, &server, 1024),
        fred: fred_client(&runtime, &server),
        pool: fred_pool(&runtime, &server, POOL),
    };
    let footprint = if wanted("footprint") {
        footprint_table()
    } else {
        String::new()
    };
    let mut rows = Vec::new();
    if wanted("single") {
        single_key(&plan, &mut rows, &runtime, &server, &cache, &peers);
    }
    if wanted("many") {
        many(&plan, &mut rows, &runtime, &server, &cache, &peers);
    }
    if wanted("concurrency") {
        concurrency(&plan, &mut rows, &runtime, &cache, &peers);
    }
    if wanted("concurrency") || wanted("threads") {
        threads(&plan, &mut rows, &server, &cache);
    }
    if wanted("memory") {
        memory(&plan, &mut rows);
    }
    let mut scale_rows = Vec::new();
    if wanted("scale") {
        scale(&plan, &mut scale_rows, &runtime, &server, &cache, &peers);
    }
    let codecs = if wanted("codecs") {
        codec_table(&plan)
    } else {
        String::new()
    };

    let header = "| case | cachex | peer | peer figure | ratio | ratio p25–p75 | target | met |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | :---: |";
    println!();
    println!("{header}");
    for row in &rows {
        println!("{}", row.render());
    }
    if !scale_rows.is_empty() {
        println!();
        println!("{header}");
        for row in &scale_rows {
            println!("{}", row.render());
        }
        println!();
        print!("{}", growth(&scale_rows));
    }
    println!();
    println!("{footprint}");
    println!("{codecs}");
    println!(
        "{} rounds per case, medians; whole run {:.0} s{}",
        plan.rounds,
        started.elapsed().as_secs_f64(),
        if plan.quick { " (quick mode)" } else { "" }
    );
    drop(peers);
    drop(cache);
    drop(server);
}
