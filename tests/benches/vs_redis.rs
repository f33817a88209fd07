//! cachex next to the raw `redis` crate on the same server, side by side, with the ratio.
//!
//! Run with `cargo bench -p cachex-tests --bench vs_redis` (about a minute on two cores); set
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

use cachex::codec::{Codec, Compressor, Serializer};
use cachex::prelude::*;
use cachex_tests::{Server, ServerKind};
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
        if quick {
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
        }
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

fn single_key(plan: &Plan, rows: &mut Vec<Row>, runtime: &Runtime, server: &Server, cache: &Cache) {
    let value = value_100();
    let made = cache
        .core()
        .key_settings()
        .make(KEY, None)
        .expect("a valid key");
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

    eprintln!("async get/set vs MultiplexedConnection");
    let mux = raw_multiplexed(runtime, server);
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
    rows.push(per_op(
        "`aset` (100 B)",
        "`MultiplexedConnection` SET PX",
        None,
        interleave(
            plan,
            ops,
            || {
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
            },
            || {
                timed_async!(
                    runtime,
                    ops,
                    (
                        mut mux = mux.clone(),
                        made = made.clone(),
                        bytes = bytes.clone()
                    ),
                    raw_aset(&mut mux, &made, &bytes).await
                )
            },
        ),
    ));

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

fn many(plan: &Plan, rows: &mut Vec<Row>, server: &Server, cache: &Cache) {
    eprintln!("get_many/set_many of {MANY} keys vs MGET / pipelined SET");
    let value = value_100();
    let bytes = cache.core().codec().encode(&value).expect("encodes");
    let keys: Vec<String> = (0..MANY).map(|i| format!("many:{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let made: Vec<String> = keys
        .iter()
        .map(|key| {
            cache
                .core()
                .key_settings()
                .make(key, None)
                .expect("a valid key")
        })
        .collect();
    let items: Vec<(&str, String)> = keys.iter().map(|key| (*key, value.clone())).collect();
    cache.set_many(&items, Timeout::Default).expect("set_many");
    let mut conn = raw_blocking(server);
    let ops = plan.many_ops;
    rows.push(per_op(
        "`get_many` (100 keys)",
        "`Connection` MGET",
        Some(Target::AtMost(1.10)),
        interleave(
            plan,
            ops,
            || {
                timed(ops, || {
                    let found: HashMap<String, String> =
                        cache.get_many(black_box(&keys)).expect("get_many");
                    assert_eq!(found.len(), MANY);
                    black_box(found);
                })
            },
            || {
                timed(ops, || {
                    let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                        .arg(black_box(&made))
                        .query(&mut conn)
                        .expect("MGET");
                    assert_eq!(found.len(), MANY);
                    black_box(found);
                })
            },
        ),
    ));
    rows.push(per_op(
        "`set_many` (100 keys)",
        "`Connection` pipelined SET PX",
        None,
        interleave(
            plan,
            ops,
            || {
                timed(ops, || {
                    let failed = cache
                        .set_many(black_box(&items), Timeout::Default)
                        .expect("set_many");
                    black_box(failed);
                })
            },
            || {
                timed(ops, || {
                    let mut pipe = redis::pipe();
                    for key in &made {
                        pipe.cmd("SET")
                            .arg(key)
                            .arg(&bytes)
                            .arg("PX")
                            .arg(PX_MILLIS)
                            .ignore();
                    }
                    pipe.exec(&mut conn).expect("pipelined SET");
                })
            },
        ),
    ));
}

fn sweep(plan: &Plan, rows: &mut Vec<Row>, runtime: &Runtime, server: &Server, cache: &Cache) {
    let made = cache
        .core()
        .key_settings()
        .make(KEY, None)
        .expect("a valid key");
    cache.set(KEY, &value_100(), Timeout::Default).expect("set");
    let mux = raw_multiplexed(runtime, server);

    eprintln!("concurrent tasks: aget on one cache vs GET on one MultiplexedConnection");
    for tasks in [1_u64, 16, 256] {
        let per_task = (plan.sweep_ops / tasks).max(1);
        let ops = per_task * tasks;
        let cachex_side = || {
            let cache = cache.clone();
            on_worker(runtime, async move {
                let start = Instant::now();
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        let cache = cache.clone();
                        tokio::spawn(async move {
                            for _ in 0..per_task {
                                black_box(cache.aget::<String>(KEY).await.expect("aget"));
                            }
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.expect("a task");
                }
                start.elapsed()
            })
        };
        let raw_side = || {
            let (mux, made) = (mux.clone(), made.clone());
            on_worker(runtime, async move {
                let start = Instant::now();
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        let (mut mux, made) = (mux.clone(), made.clone());
                        tokio::spawn(async move {
                            for _ in 0..per_task {
                                black_box(raw_aget(&mut mux, &made).await);
                            }
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.expect("a task");
                }
                start.elapsed()
            })
        };
        let target = (tasks == 256).then_some(Target::AtLeast(0.95));
        rows.push(throughput(
            &format!("{tasks} task{} × `aget`", if tasks == 1 { "" } else { "s" }),
            "one `MultiplexedConnection`",
            target,
            interleave(plan, ops, cachex_side, raw_side),
        ));
    }

    eprintln!("OS threads: blocking get on one cache vs GET on a Connection per thread");
    for threads in [1_u64, 4, 16] {
        let per_thread = (plan.sweep_ops / threads).max(1);
        let ops = per_thread * threads;
        let mut conns: Vec<redis::Connection> =
            (0..threads).map(|_| raw_blocking(server)).collect();
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
        let raw_side = || {
            let start = Instant::now();
            thread::scope(|scope| {
                for conn in conns.iter_mut() {
                    let made = &made;
                    scope.spawn(move || {
                        for _ in 0..per_thread {
                            black_box(raw_get(conn, made));
                        }
                    });
                }
            });
            start.elapsed()
        };
        rows.push(throughput(
            &format!(
                "{threads} thread{} × `get`",
                if threads == 1 { "" } else { "s" }
            ),
            "a `Connection` per thread",
            None,
            interleave(plan, ops, cachex_side, raw_side),
        ));
    }
}

fn memory(plan: &Plan, rows: &mut Vec<Row>) {
    eprintln!("in-memory backend vs moka::sync::Cache of the encoded bytes");
    const KEYS: usize = 1000;
    let cache = Cache::in_memory();
    let moka: moka::sync::Cache<String, Arc<[u8]>> = moka::sync::Cache::builder()
        .max_capacity(10_000)
        .eviction_policy(moka::policy::EvictionPolicy::lru())
        .build();
    let value = value_100();
    let bytes = cache.core().codec().encode(&value).expect("encodes");
    let keys: Vec<String> = (0..KEYS).map(|i| format!("mem:{i}")).collect();
    let made: Vec<String> = keys
        .iter()
        .map(|key| {
            cache
                .core()
                .key_settings()
                .make(key, None)
                .expect("a valid key")
        })
        .collect();
    for (key, made) in keys.iter().zip(&made) {
        cache.set(key, &value, Timeout::Default).expect("set");
        moka.insert(made.clone(), Arc::from(bytes.as_slice()));
    }
    let ops = plan.memory_ops;
    rows.push(per_op(
        "memory `get` (100 B)",
        "`moka::sync::Cache::get`",
        Some(Target::AtMost(2.0)),
        interleave(
            plan,
            ops,
            || {
                let mut i = 0;
                timed(ops, || {
                    i = (i + 1) % KEYS;
                    black_box(cache.get::<String>(black_box(&keys[i])).expect("get"));
                })
            },
            || {
                let mut i = 0;
                timed(ops, || {
                    i = (i + 1) % KEYS;
                    black_box(moka.get(black_box(made[i].as_str())));
                })
            },
        ),
    ));
    rows.push(per_op(
        "memory `set` (100 B)",
        "`moka::sync::Cache::insert`",
        None,
        interleave(
            plan,
            ops,
            || {
                let mut i = 0;
                timed(ops, || {
                    i = (i + 1) % KEYS;
                    cache
                        .set(black_box(&keys[i]), &value, Timeout::Default)
                        .expect("set");
                })
            },
            || {
                let mut i = 0;
                timed(ops, || {
                    i = (i + 1) % KEYS;
                    moka.insert(made[i].clone(), Arc::from(black_box(bytes.as_slice())));
                })
            },
        ),
    ));
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

    // `CACHEX_BENCH_GROUPS=sweep,memory` runs only those groups of cases.
    let groups = std::env::var("CACHEX_BENCH_GROUPS").unwrap_or_default();
    let wanted = |group: &str| groups.is_empty() || groups.split(',').any(|name| name == group);
    let mut rows = Vec::new();
    if wanted("single") {
        single_key(&plan, &mut rows, &runtime, &server, &cache);
    }
    if wanted("many") {
        many(&plan, &mut rows, &server, &cache);
    }
    if wanted("sweep") {
        sweep(&plan, &mut rows, &runtime, &server, &cache);
    }
    if wanted("memory") {
        memory(&plan, &mut rows);
    }
    let codecs = if wanted("codecs") {
        codec_table(&plan)
    } else {
        String::new()
    };

    println!();
    println!(
        "| case | cachex | baseline | baseline figure | ratio | ratio p25–p75 | target | met |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | :---: |"
    );
    for row in &rows {
        println!("{}", row.render());
    }
    println!();
    println!("{codecs}");
    println!(
        "{} rounds per case, medians; whole run {:.0} s{}",
        plan.rounds,
        started.elapsed().as_secs_f64(),
        if plan.quick { " (quick mode)" } else { "" }
    );
    drop(cache);
    drop(server);
}
