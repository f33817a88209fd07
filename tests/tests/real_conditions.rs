//! What production does to connections, through the harness's fault proxy ([`FaultProxy`]) in
//! front of real `redis-server` and `valkey-server` processes, on both surfaces: blocking calls
//! on a plain thread (the blocking connection pool) and async calls in a tokio runtime (the
//! runtime's multiplexed connection).
//!
//! - The first call after a connection went stale (an idle reap by a load balancer or by the
//!   server's own `timeout`, a half-close, `CLIENT KILL`, a reset while idle, a restart that is
//!   over), for every kind of command: it succeeds, with the right answer, and the server's
//!   state (read on a raw connection) shows it applied exactly once.
//! - A blackhole (bytes accepted, nothing answered) with `response_timeout=0.5`: ending with the
//!   connections of the time dead for good, calls succeed again within a bounded time; ending
//!   with the held bytes delivered late, no late answer is taken for another request's. A call
//!   that must open a connection during a blackhole returns after about the connect timeout
//!   and says so.
//! - A reset storm (a reset every ~20 requests) under 64 tasks and 8 threads, and a 100 ms
//!   latency spike.
//!
//! Each test asserts what the caller saw (typed `Connection`/`Timeout` errors only during a
//! fault, never a wrong value, every acknowledged write readable, nothing applied twice) and
//! prints what it measured (`cargo test --test real_conditions -- --nocapture`). Durations in
//! assertions are liveness bounds with wide margins, never performance targets.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{CacheBuilder, Error};
use cachex_tests::proxy::{BlackholeEnd, Direction, Ending, ResetPoint};
use cachex_tests::{FaultProxy, Server, ServerKind, outcomes};
use tokio::runtime::Runtime;

/// How long a test waits for something that takes milliseconds when all is well.
const SETTLE: Duration = Duration::from_secs(10);

/// How long a blackhole lasts, and the response timeout of the caches that live through it.
const BLACKHOLE: Duration = Duration::from_secs(5);
const BLACKHOLE_RESPONSE_TIMEOUT: &str = "0.5";

/// How long after a blackhole the calls must succeed again: twenty response timeouts.
const RECOVERY_BOUND: Duration = Duration::from_secs(10);

/// A server of `kind` behind a fault proxy.
struct Rig {
    kind: ServerKind,
    server: Server,
    proxy: FaultProxy,
}

impl Rig {
    fn start(kind: ServerKind) -> Rig {
        let server = Server::start(kind);
        let proxy = FaultProxy::start(server.addr());
        Rig {
            kind,
            server,
            proxy,
        }
    }

    /// A cache reaching the server through the proxy, with this query string.
    fn cache(&self, query: &str) -> Cache {
        CacheBuilder::from_url(&format!("{}?{query}", self.proxy.url(self.kind)))
            .and_then(CacheBuilder::build)
            .expect("a cache")
    }

    /// The server's `INFO clients` field `connected_clients` (the asking connection included).
    fn connected_clients(&self) -> usize {
        let info = self.server.command(&["INFO", "clients"]);
        info.lines()
            .find_map(|line| line.strip_prefix("connected_clients:"))
            .and_then(|count| count.trim().parse().ok())
            .expect("connected_clients in INFO")
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Waits until `done` holds, for at most [`SETTLE`].
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + SETTLE;
    while !done() {
        assert!(Instant::now() < deadline, "not within {SETTLE:?}: {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Whether an error is one a caller may see during a network fault.
fn is_network_error(error: &Error) -> bool {
    matches!(error, Error::Connection { .. } | Error::Timeout { .. })
}

/// What a `Timeout` error says was waited.
fn reported_wait(error: &Error) -> Option<Duration> {
    match error {
        Error::Timeout { after: waited, .. } => Some(*waited),
        _ => None,
    }
}

/// An error without the parts that change from one call to the next (the server's port), to
/// count errors by kind.
fn error_kind(error: &Error) -> String {
    match error {
        Error::Connection { reason, .. } => format!("Connection: {reason}"),
        Error::Timeout { after: waited, .. } => format!("Timeout({waited:?})"),
        other => format!("{other:?}"),
    }
}

/// The stored key of the caller's `key` (prefix and version applied).
fn stored_key(cache: &Cache, key: &str) -> String {
    cache
        .core()
        .key_settings()
        .make(key, None)
        .expect("a valid key")
}

/// Where a call is made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Surface {
    /// A blocking call on a plain thread.
    Blocking,
    /// An async call, awaited in a tokio runtime.
    Async,
}

impl Surface {
    const BOTH: [Surface; 2] = [Surface::Blocking, Surface::Async];
}

/// Calls `method` on `cache` from `surface`: the blocking spelling on this thread, or the
/// async view's (`cache.a().method(..)`) awaited in `runtime`.
macro_rules! call {
    ($surface:expr, $runtime:expr, $cache:expr, $method:ident $(::<$t:ty>)? ($($arg:expr),* $(,)?)) => {
        match $surface {
            Surface::Blocking => $cache.$method$(::<$t>)?($($arg),*),
            Surface::Async => $runtime.block_on($cache.a().$method$(::<$t>)?($($arg),*)),
        }
    };
}

/// The kinds of command a first call after a fault is made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Get,
    Set,
    Add,
    Delete,
    Incr,
    IncrOrCreate,
    Hset,
    Hincrby,
    Rpush,
    Sadd,
    Zadd,
}

impl Op {
    const ALL: [Op; 11] = [
        Op::Get,
        Op::Set,
        Op::Add,
        Op::Delete,
        Op::Incr,
        Op::IncrOrCreate,
        Op::Hset,
        Op::Hincrby,
        Op::Rpush,
        Op::Sadd,
        Op::Zadd,
    ];

    /// Puts the state the call starts from on the server, on a raw connection.
    fn prepare(self, server: &Server, stored: &str) {
        server.command(&["DEL", stored]);
        if matches!(self, Op::Get | Op::Delete | Op::Incr) {
            server.command(&["SET", stored, "10"]);
        }
    }

    /// Makes the call; its answer, as `Debug` text.
    fn call(
        self,
        surface: Surface,
        runtime: &Runtime,
        cache: &Cache,
        key: &str,
    ) -> Result<String, Error> {
        let never = Timeout::Never;
        match self {
            Op::Get => call!(surface, runtime, cache, get::<i64>(key)).map(|v| format!("{v:?}")),
            Op::Set => {
                call!(surface, runtime, cache, set(key, &7, never)).map(|v| format!("{v:?}"))
            }
            Op::Add => {
                call!(surface, runtime, cache, add(key, &7, never)).map(|v| format!("{v:?}"))
            }
            Op::Delete => call!(surface, runtime, cache, delete(key)).map(|v| format!("{v:?}")),
            Op::Incr => call!(surface, runtime, cache, incr(key, 1)).map(|v| format!("{v:?}")),
            Op::IncrOrCreate => call!(surface, runtime, cache, incr_or_create(key, 5, never))
                .map(|v| format!("{v:?}")),
            Op::Hset => {
                call!(surface, runtime, cache, hset(key, "f", &1)).map(|v| format!("{v:?}"))
            }
            Op::Hincrby => {
                call!(surface, runtime, cache, hincrby(key, "f", 3)).map(|v| format!("{v:?}"))
            }
            Op::Rpush => call!(surface, runtime, cache, rpush(key, &[1])).map(|v| format!("{v:?}")),
            Op::Sadd => call!(surface, runtime, cache, sadd(key, &[1])).map(|v| format!("{v:?}")),
            Op::Zadd => {
                call!(surface, runtime, cache, zadd(key, &[(1, 2.0)])).map(|v| format!("{v:?}"))
            }
        }
    }

    /// The answer of the call applied once to the prepared state.
    fn answer(self) -> &'static str {
        match self {
            Op::Get => "Some(10)",
            Op::Set => "()",
            Op::Add | Op::Delete | Op::Hset => "true",
            Op::Incr => "11",
            Op::IncrOrCreate => "5",
            Op::Hincrby => "3",
            Op::Rpush | Op::Sadd | Op::Zadd => "1",
        }
    }

    /// A raw command reading the key's whole state, and its reply once the call was applied
    /// exactly once.
    fn state(self) -> (&'static [&'static str], &'static str) {
        match self {
            Op::Get => (&["GET"], "$2\r\n10\r\n"),
            Op::Set | Op::Add => (&["GET"], "$1\r\n7\r\n"),
            Op::Delete => (&["EXISTS"], ":0\r\n"),
            Op::Incr => (&["GET"], "$2\r\n11\r\n"),
            Op::IncrOrCreate => (&["GET"], "$1\r\n5\r\n"),
            Op::Hset => (&["HGETALL"], "*2\r\n$1\r\nf\r\n$1\r\n1\r\n"),
            Op::Hincrby => (&["HGETALL"], "*2\r\n$1\r\nf\r\n$1\r\n3\r\n"),
            Op::Rpush => (&["LRANGE", "0", "-1"], "*1\r\n$1\r\n1\r\n"),
            Op::Sadd => (&["SMEMBERS"], "*1\r\n$1\r\n1\r\n"),
            Op::Zadd => (
                &["ZRANGE", "0", "-1", "WITHSCORES"],
                "*2\r\n$1\r\n1\r\n$1\r\n2\r\n",
            ),
        }
    }

    /// The key's state on the server, read on a raw connection.
    fn read_state(self, server: &Server, stored: &str) -> String {
        let (command, _) = self.state();
        let mut args = vec![command[0], stored];
        args.extend_from_slice(&command[1..]);
        server.command(&args)
    }
}

/// What leaves the connections of a warmed-up cache stale.
#[derive(Clone, Copy, Debug)]
enum Stale {
    /// Nothing: the control, where every first call must pass.
    Nothing,
    /// The proxy closes idle connections (a load balancer's idle reap).
    ProxyIdleReap,
    /// The server closes idle connections (`CONFIG SET timeout 1`).
    ServerTimeout,
    /// The proxy shuts down its writing side toward the client (a half-close).
    HalfClose,
    /// `CLIENT KILL TYPE normal` on the server.
    ClientKill,
    /// The proxy resets every idle connection.
    IdleReset,
    /// The server restarts (same port; data lost, scripts forgotten), and is back before the
    /// next call.
    Restart,
}

impl Stale {
    fn apply(self, rig: &mut Rig) {
        match self {
            Stale::Nothing => {}
            Stale::ProxyIdleReap => {
                rig.proxy.close_idle_after(Some(Duration::from_millis(200)));
                eventually("the proxy reaped every connection", || {
                    rig.proxy.stats().open == 0
                });
                rig.proxy.close_idle_after(None);
            }
            Stale::ServerTimeout => {
                rig.server.command(&["CONFIG", "SET", "timeout", "1"]);
                eventually("the server closed its idle clients", || {
                    rig.connected_clients() == 1
                });
                rig.server.command(&["CONFIG", "SET", "timeout", "0"]);
            }
            Stale::HalfClose => {
                rig.proxy.half_close_all();
                thread::sleep(Duration::from_millis(100));
            }
            Stale::ClientKill => {
                rig.server
                    .command(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
                eventually("the server killed its clients", || {
                    rig.connected_clients() == 1
                });
                thread::sleep(Duration::from_millis(50));
            }
            Stale::IdleReset => {
                rig.proxy.kill_all(Ending::Reset);
                thread::sleep(Duration::from_millis(50));
            }
            Stale::Restart => rig.server.restart(),
        }
    }
}

/// Warms one cache per surface and kind of command (each its own connection), leaves every
/// connection stale, then makes each cache's first call; each must give the right answer and
/// leave the key as applied once.
fn first_calls_after(kind: ServerKind, stale: Stale) {
    let mut rig = Rig::start(kind);
    let runtime = runtime();
    let label = format!("{kind}, first call after {stale:?}");
    let cases: Vec<(Surface, Op, Cache)> = Surface::BOTH
        .into_iter()
        .flat_map(|surface| Op::ALL.map(|op| (surface, op)))
        .map(|(surface, op)| (surface, op, rig.cache("prefix=first")))
        .collect();
    for (surface, _, cache) in &cases {
        call!(*surface, runtime, cache, has_key("warm-up")).expect("a warm-up call");
    }
    let before = rig.proxy.stats();
    stale.apply(&mut rig);

    let mut failures = Vec::new();
    for (surface, op, cache) in &cases {
        let key = format!("{surface:?}:{op:?}");
        let stored = stored_key(cache, &key);
        op.prepare(&rig.server, &stored);
        let started = Instant::now();
        let outcome = op.call(*surface, &runtime, cache, &key);
        let took = started.elapsed();
        let state = op.read_state(&rig.server, &stored);
        let (_, expected_state) = op.state();
        println!("{label}: {surface:?} {op:?}: {outcome:?} in {took:?}, state {state:?}");
        let answered = outcome.as_deref().is_ok_and(|answer| answer == op.answer());
        if !answered || state != expected_state {
            failures.push(format!(
                "{surface:?} {op:?}: {outcome:?} after {took:?} (expected Ok({:?})), server \
                 state {state:?} (applied once: {expected_state:?})",
                op.answer()
            ));
        }
        if let Err(error) = &outcome {
            assert!(
                is_network_error(error),
                "{label}: {surface:?} {op:?}: {error:?}"
            );
        }
    }
    let after = rig.proxy.stats();
    println!(
        "{label}: {} of {} first calls failed; {} new connections",
        failures.len(),
        cases.len(),
        after.accepted - before.accepted
    );
    assert!(
        failures.is_empty(),
        "{label}: {} of {} first calls failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// One surface's calls through a blackhole: what failed while it lasted, and when calls
/// succeeded again after it ended.
#[derive(Debug, Default)]
struct ThroughBlackhole {
    errors: BTreeMap<String, usize>,
    violations: Vec<String>,
    /// From the end of the blackhole to the end of the first call that succeeded after it.
    recovered_after: Option<Duration>,
    calls: usize,
}

impl ThroughBlackhole {
    /// Records one call of `get(key)` (which holds `expected`), made from `started` to `ended`;
    /// whether the surface has recovered.
    fn record(
        &mut self,
        outcome: Result<Option<i64>, Error>,
        expected: i64,
        (started, ended): (Instant, Instant),
        blackhole_end: Option<Instant>,
    ) -> bool {
        self.calls += 1;
        match outcome {
            Ok(value) => {
                if value != Some(expected) {
                    self.violations
                        .push(format!("a wrong value: {value:?} for {expected}"));
                }
                match blackhole_end {
                    Some(end) if ended >= end => {
                        self.recovered_after = Some(ended - end);
                        return true;
                    }
                    _ => self
                        .violations
                        .push(format!("an answer during the blackhole: {value:?}")),
                }
            }
            Err(error) => {
                if !is_network_error(&error) {
                    self.violations.push(format!("an untyped error: {error:?}"));
                }
                *self.errors.entry(error_kind(&error)).or_default() += 1;
                if started.elapsed() < Duration::from_millis(10) {
                    thread::sleep(Duration::from_millis(10));
                }
            }
        }
        false
    }

    /// Whether to stop: recovered, or not within [`RECOVERY_BOUND`] of the end.
    fn given_up(&self, blackhole_end: Option<Instant>) -> bool {
        blackhole_end.is_some_and(|end| end.elapsed() > RECOVERY_BOUND)
    }
}

/// Runs `get` calls on both surfaces (one thread each, the async one in a runtime) through a
/// blackhole of [`BLACKHOLE`] that ends as `end` says; what each surface saw. The keys
/// `key0`..`key9` hold 0..9.
fn calls_through_a_blackhole(
    rig: &Rig,
    cache: &Cache,
    runtime: &Runtime,
    end: BlackholeEnd,
) -> Vec<(Surface, ThroughBlackhole)> {
    let blackhole_end: Arc<OnceLock<Instant>> = Arc::default();
    let blocking = {
        let (cache, blackhole_end) = (cache.clone(), blackhole_end.clone());
        thread::spawn(move || {
            let mut seen = ThroughBlackhole::default();
            for round in 0.. {
                let started = Instant::now();
                let outcome = cache.get::<i64>(&format!("key{}", round % 10));
                let times = (started, Instant::now());
                if seen.record(outcome, round % 10, times, blackhole_end.get().copied())
                    || seen.given_up(blackhole_end.get().copied())
                {
                    break;
                }
            }
            seen
        })
    };
    let asynchronous = {
        let (cache, blackhole_end) = (cache.clone(), blackhole_end.clone());
        // The runtime of the warm-up: its connection is the one the blackhole catches.
        let runtime = runtime.handle().clone();
        thread::spawn(move || {
            runtime.block_on(async {
                let mut seen = ThroughBlackhole::default();
                for round in 0.. {
                    let started = Instant::now();
                    let outcome = cache.aget::<i64>(&format!("key{}", round % 10)).await;
                    let times = (started, Instant::now());
                    if seen.record(outcome, round % 10, times, blackhole_end.get().copied())
                        || seen.given_up(blackhole_end.get().copied())
                    {
                        break;
                    }
                }
                seen
            })
        })
    };
    thread::sleep(BLACKHOLE);
    // Set first: a call answered as soon as the blackhole ends must find it.
    blackhole_end.set(Instant::now()).expect("set once");
    rig.proxy.end_blackhole(end);
    vec![
        (Surface::Blocking, blocking.join().expect("no panic")),
        (Surface::Async, asynchronous.join().expect("no panic")),
    ]
}

/// A blackhole whose flows never come back (dead for good), and one whose held bytes arrive
/// late: calls fail only with typed errors while it lasts, never see a wrong value, and
/// succeed again within [`RECOVERY_BOUND`] of its end, on both surfaces.
fn through_a_blackhole(kind: ServerKind, end: BlackholeEnd) {
    let rig = Rig::start(kind);
    let cache = rig.cache(&format!(
        "prefix=blackhole&response_timeout={BLACKHOLE_RESPONSE_TIMEOUT}"
    ));
    for n in 0..10 {
        let stored = stored_key(&cache, &format!("key{n}"));
        rig.server.command(&["SET", &stored, &n.to_string()]);
    }
    // Both surfaces hold a connection, and the counter's script is loaded.
    let runtime = runtime();
    for surface in Surface::BOTH {
        call!(surface, runtime, cache, get::<i64>("key0")).expect("a warm-up call");
        call!(
            surface,
            runtime,
            cache,
            incr_or_create("n", 1, Timeout::Never)
        )
        .expect("incr");
    }
    let before = rig.proxy.stats();
    rig.proxy.blackhole();
    let seen = calls_through_a_blackhole(&rig, &cache, &runtime, end);
    let after = rig.proxy.stats();

    let label = format!("{kind}, blackhole of {BLACKHOLE:?} ending {end:?}");
    for (surface, seen) in &seen {
        println!(
            "{label}, {surface:?}: {} calls; errors {:?}; recovered {} after the end",
            seen.calls,
            seen.errors,
            seen.recovered_after
                .map_or(format!("NOT within {RECOVERY_BOUND:?}"), |took| format!(
                    "{took:?}"
                )),
        );
    }
    println!(
        "{label}: {} connections opened meanwhile",
        after.accepted - before.accepted
    );
    for (surface, seen) in &seen {
        assert!(
            seen.violations.is_empty(),
            "{label}, {surface:?}: {:?}",
            seen.violations
        );
    }
    for (surface, seen) in &seen {
        assert!(
            seen.recovered_after.is_some(),
            "{label}, {surface:?}: calls still fail {RECOVERY_BOUND:?} after the end: {:?}",
            seen.errors
        );
    }
    // Writes work again on both surfaces, and counting never counted twice.
    for surface in Surface::BOTH {
        call!(surface, runtime, cache, set("after", &1, Timeout::Never)).expect("a write");
        call!(
            surface,
            runtime,
            cache,
            incr_or_create("n", 1, Timeout::Never)
        )
        .expect("an increment");
    }
    assert_eq!(cache.get::<i64>("n").expect("get"), Some(4));
}

/// A call that must open a new connection while nothing answers returns after about the
/// connect timeout, with a `Timeout` that says what it waited for and how long, on both
/// surfaces.
fn a_connection_opened_during_a_blackhole(kind: ServerKind) {
    let rig = Rig::start(kind);
    let connect = Duration::from_secs(1);
    let runtime = runtime();
    rig.proxy.blackhole();
    let mut failures = Vec::new();
    for surface in Surface::BOTH {
        // A new cache: no connection yet.
        let cache = rig.cache(&format!(
            "prefix=connect&connect_timeout={}",
            connect.as_secs_f64()
        ));
        let started = Instant::now();
        let outcome = call!(surface, runtime, cache, get::<i64>("k"));
        let waited = started.elapsed();
        let label = format!("{kind}, {surface:?} call opening a connection during a blackhole");
        println!(
            "{label}: {outcome:?} after {waited:?} (connect timeout {connect:?}, {:.2}x)",
            waited.as_secs_f64() / connect.as_secs_f64()
        );
        let error = match outcome {
            Err(error) => error,
            Ok(value) => panic!("{label}: an answer through a blackhole: {value:?}"),
        };
        let reported = reported_wait(&error);
        let text = error.to_string();
        if reported.is_none() {
            failures.push(format!("{label}: not a Timeout: {error:?}"));
        }
        if waited >= connect * 3 {
            failures.push(format!(
                "{label}: waited {waited:?}, 3x the connect timeout {connect:?} or more"
            ));
        }
        if reported.is_some_and(|reported| waited > reported.mul_f64(1.5)) {
            failures.push(format!(
                "{label}: the error says {reported:?} ({text:?}), the caller waited {waited:?}"
            ));
        }
        if !text.to_lowercase().contains("connect") {
            failures.push(format!(
                "{label}: the error does not say that it waited for a connection: {text:?}"
            ));
        }
    }
    rig.proxy.end_blackhole(BlackholeEnd::DeadForGood);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What one worker of the reset storm saw.
#[derive(Debug, Default)]
struct StormWorker {
    name: String,
    /// Keys whose write was acknowledged, with the value.
    acknowledged: HashMap<String, String>,
    calls: BTreeMap<&'static str, (u64, u64)>,
    errors: BTreeMap<String, u64>,
    increments: (i64, i64),
    violations: Vec<String>,
    slowest: Duration,
}

impl StormWorker {
    fn new(name: String) -> Self {
        StormWorker {
            name,
            ..StormWorker::default()
        }
    }

    /// Counts a call of `operation` that took from `started` until now; its value if it
    /// succeeded.
    fn record<T>(
        &mut self,
        operation: &'static str,
        started: Instant,
        outcome: Result<T, Error>,
    ) -> Option<T> {
        self.slowest = self.slowest.max(started.elapsed());
        let (calls, failed) = self.calls.entry(operation).or_default();
        *calls += 1;
        match outcome {
            Ok(value) => Some(value),
            Err(error) => {
                *failed += 1;
                if !is_network_error(&error) {
                    self.violations
                        .push(format!("{operation}: an untyped error: {error:?}"));
                }
                *self.errors.entry(error_kind(&error)).or_default() += 1;
                None
            }
        }
    }

    /// Checks a read of `key`, written with `value` (`acknowledged` or not).
    fn check_read(&mut self, key: &str, value: &str, acknowledged: bool, read: Option<String>) {
        let right = match read.as_deref() {
            Some(read) => read == value,
            None => !acknowledged,
        };
        if !right {
            self.violations.push(format!(
                "{key}: read {read:?}, wrote {value:?} (acknowledged: {acknowledged})"
            ));
        }
    }

    /// Checks an increment's answer: one more than the increments applied before it.
    fn check_count(&mut self, count: i64) {
        let (acknowledged, failed) = self.increments;
        if !(acknowledged < count && count <= acknowledged + failed + 1) {
            self.violations.push(format!(
                "counter {count} after {acknowledged} acknowledged and {failed} failed increments"
            ));
        }
    }

    fn failures(&self) -> u64 {
        self.calls.values().map(|(_, failed)| failed).sum()
    }

    fn total(&self) -> u64 {
        self.calls.values().map(|(calls, _)| calls).sum()
    }
}

/// One round of a storm worker: write a new key, read it back, count. Written once for both
/// surfaces: the method names, and `.await` or nothing after each call.
macro_rules! storm_round {
    ($worker:expr, $cache:expr, $round:expr, $set:ident, $get:ident, $incr:ident, $($await:tt)*) => {{
        let worker: &mut StormWorker = $worker;
        let key = format!("{}:{}", worker.name, $round);
        let value = format!("round {} of {}", $round, worker.name);
        let started = Instant::now();
        let outcome = $cache.$set(&key, &value, Timeout::Never) $($await)*;
        let acknowledged = worker.record("set", started, outcome).is_some();
        if acknowledged {
            worker.acknowledged.insert(key.clone(), value.clone());
        }
        let started = Instant::now();
        let outcome = $cache.$get::<String>(&key) $($await)*;
        if let Some(read) = worker.record("get", started, outcome) {
            worker.check_read(&key, &value, acknowledged, read);
        }
        let started = Instant::now();
        let counter = format!("{}:count", worker.name);
        let outcome = $cache.$incr(&counter, 1, Timeout::Never) $($await)*;
        match worker.record("incr_or_create", started, outcome) {
            Some(count) => {
                worker.check_count(count);
                worker.increments.0 += 1;
            }
            None => worker.increments.1 += 1,
        }
    }};
}

/// How many async tasks and blocking threads the storm runs, and for how long.
const STORM_TASKS: usize = 64;
const STORM_THREADS: usize = 8;
const STORM: Duration = Duration::from_secs(3);

/// A reset every ~20 requests, at each point in turn, under 64 tasks and 8 threads: only typed
/// errors, never a wrong value, every acknowledged write readable, no increment applied twice;
/// the failure rate of each surface is printed.
fn a_reset_storm(kind: ServerKind) {
    let rig = Rig::start(kind);
    let cache = rig.cache("prefix=storm&response_timeout=2");
    let runtime = runtime();
    for surface in Surface::BOTH {
        call!(surface, runtime, cache, has_key("warm-up")).expect("a warm-up call");
    }
    rig.proxy.reset_every(
        20,
        &[
            ResetPoint::BeforeRequest,
            ResetPoint::BeforeReply,
            ResetPoint::MidReply,
        ],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..STORM_THREADS)
        .map(|n| {
            let (cache, stop) = (cache.clone(), stop.clone());
            thread::spawn(move || {
                let mut worker = StormWorker::new(format!("thread{n}"));
                for round in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    storm_round!(&mut worker, cache, round, set, get, incr_or_create,);
                }
                worker
            })
        })
        .collect();
    let tasks: Vec<_> = (0..STORM_TASKS)
        .map(|n| {
            let (cache, stop) = (cache.clone(), stop.clone());
            runtime.spawn(async move {
                let mut worker = StormWorker::new(format!("task{n}"));
                for round in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    storm_round!(&mut worker, cache, round, aset, aget, aincr_or_create, .await);
                }
                worker
            })
        })
        .collect();
    thread::sleep(STORM);
    stop.store(true, Ordering::Relaxed);
    let blocking: Vec<StormWorker> = threads
        .into_iter()
        .map(|thread| thread.join().expect("no panic"))
        .collect();
    let asynchronous: Vec<StormWorker> = tasks
        .into_iter()
        .map(|task| runtime.block_on(task).expect("no panic"))
        .collect();
    rig.proxy.stop_resets();
    let stats = rig.proxy.stats();

    let label = format!("{kind}, reset storm");
    for (surface, workers) in [
        (Surface::Blocking, &blocking),
        (Surface::Async, &asynchronous),
    ] {
        let total: u64 = workers.iter().map(StormWorker::total).sum();
        let failed: u64 = workers.iter().map(StormWorker::failures).sum();
        let mut by_operation: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
        for worker in workers.iter() {
            for (operation, (calls, failures)) in &worker.calls {
                let entry = by_operation.entry(operation).or_default();
                entry.0 += calls;
                entry.1 += failures;
            }
            for (error, count) in &worker.errors {
                *errors.entry(error).or_default() += count;
            }
        }
        let slowest = workers.iter().map(|w| w.slowest).max().unwrap_or_default();
        println!(
            "{label}, {surface:?} ({} workers): {failed} of {total} calls failed ({:.1}%); \
             (calls, failed) by operation {by_operation:?}; errors {errors:?}; slowest call \
             {slowest:?}",
            workers.len(),
            100.0 * failed as f64 / total.max(1) as f64,
        );
    }
    println!(
        "{label}: {} resets, {} connections accepted",
        stats.resets, stats.accepted
    );
    for worker in blocking.iter().chain(&asynchronous) {
        assert!(
            worker.violations.is_empty(),
            "{label}, {}: {:#?}",
            worker.name,
            worker.violations
        );
        outcomes::acknowledged_writes_read_back(&cache, &worker.acknowledged);
        let (acknowledged, failed) = worker.increments;
        let counter = format!("{}:count", worker.name);
        outcomes::counted_at_most_once(&cache, &counter, acknowledged, failed);
    }
}

/// A 100 ms latency spike toward the client for half a second, under calls on both surfaces
/// with the default timeouts: every call succeeds with the right value.
fn a_latency_spike(kind: ServerKind) {
    let rig = Rig::start(kind);
    let cache = rig.cache("prefix=spike");
    let stop = Arc::new(AtomicBool::new(false));
    let run = |surface: Surface| {
        let (cache, stop) = (cache.clone(), stop.clone());
        thread::spawn(move || {
            let runtime = runtime();
            let (mut calls, mut slowest) = (0u32, Duration::ZERO);
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let key = format!("{surface:?}:{round}");
                let started = Instant::now();
                call!(surface, runtime, cache, set(&key, &round, Timeout::Never)).expect("set");
                let read = call!(surface, runtime, cache, get::<u64>(&key)).expect("get");
                assert_eq!(read, Some(round), "{key}");
                slowest = slowest.max(started.elapsed());
                calls += 2;
            }
            (surface, calls, slowest)
        })
    };
    let workers = [run(Surface::Blocking), run(Surface::Async)];
    thread::sleep(Duration::from_millis(300));
    let spike = Duration::from_millis(100);
    rig.proxy.set_latency(Direction::ToClient, spike);
    thread::sleep(Duration::from_millis(500));
    rig.proxy.set_latency(Direction::ToClient, Duration::ZERO);
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let (surface, calls, slowest) = worker.join().expect("every call succeeded");
        println!(
            "{kind}, latency spike of {spike:?}: {surface:?}: {calls} calls, all succeeded, \
             slowest set+get {slowest:?}"
        );
    }
}

/// Each scenario as one test on Redis and one on Valkey, so that they run in parallel.
macro_rules! on_redis_and_valkey {
    ($($name:ident => $scenario:expr;)*) => {
        mod redis {
            use super::*;
            $(#[test] fn $name() { ($scenario)(ServerKind::Redis) })*
        }
        mod valkey {
            use super::*;
            $(#[test] fn $name() { ($scenario)(ServerKind::Valkey) })*
        }
    };
}

on_redis_and_valkey! {
    first_calls_with_nothing_stale => |kind| first_calls_after(kind, Stale::Nothing);
    first_calls_after_a_proxy_idle_reap => |kind| first_calls_after(kind, Stale::ProxyIdleReap);
    first_calls_after_the_server_timeout => |kind| first_calls_after(kind, Stale::ServerTimeout);
    first_calls_after_a_half_close => |kind| first_calls_after(kind, Stale::HalfClose);
    first_calls_after_client_kill => |kind| first_calls_after(kind, Stale::ClientKill);
    first_calls_after_an_idle_reset => |kind| first_calls_after(kind, Stale::IdleReset);
    first_calls_after_a_restart => |kind| first_calls_after(kind, Stale::Restart);
    a_blackhole_whose_flows_are_dead_for_good =>
        |kind| through_a_blackhole(kind, BlackholeEnd::DeadForGood);
    a_blackhole_whose_bytes_arrive_late => |kind| through_a_blackhole(kind, BlackholeEnd::Deliver);
    a_new_connection_during_a_blackhole => a_connection_opened_during_a_blackhole;
    a_reset_storm_under_concurrency => a_reset_storm;
    a_latency_spike_is_absorbed => a_latency_spike;
}
