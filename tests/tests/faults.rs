//! Faults on real servers the tests control: a server killed and restarted in the middle of a
//! stream of operations (blocking threads and async tasks at once), with and without a retry
//! budget; a server paused past the response timeout; fail-open with the server down or hung;
//! a tokio runtime dropped while it holds cached connections.
//!
//! Durations here are liveness bounds, generous on purpose (CI machines are loaded); the
//! measured figures are printed (`cargo test --test faults -- --nocapture`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{CacheBuilder, Error};
use cachex_tests::{Server, ServerKind, logs, outcomes};

/// A liveness bound: far above anything a healthy call takes, below a hang.
const GENEROUS: Duration = Duration::from_secs(5);

/// How many blocking threads and how many async tasks feed the stream of operations.
const THREADS: usize = 2;
const TASKS: usize = 2;

/// A Redis server whose acknowledged writes survive `SIGKILL`: the append-only file, written
/// and fsynced before each reply (`appendfsync always`), is loaded again on restart. So after
/// a restart every write the cache acknowledged must still read back.
fn durable_server() -> Server {
    Server::start_with(
        ServerKind::Redis,
        &["--appendonly", "yes", "--appendfsync", "always"],
    )
}

/// A cache on `url` with these connect and response timeouts.
fn with_timeouts(url: &str, connect: Duration, response: Duration) -> Cache {
    CacheBuilder::from_url(url)
        .expect("a valid URL")
        .connect_timeout(connect)
        .response_timeout(response)
        .build()
        .expect("a cache")
}

fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// One failed call of the stream.
#[derive(Debug)]
struct Failure {
    operation: &'static str,
    started: Instant,
    ended: Instant,
    error: Error,
}

/// What one worker of the stream did.
#[derive(Debug, Default)]
struct Worker {
    /// The worker's keys whose last write was acknowledged, with that value.
    acknowledged: HashMap<String, String>,
    /// Keys whose last write failed: their value is unknown (the write may have been applied).
    uncertain: Vec<String>,
    operations: u64,
    increments_acknowledged: i64,
    increments_failed: i64,
    failures: Vec<Failure>,
}

impl Worker {
    /// Records a call's outcome: its value if it succeeded.
    fn record<T>(
        &mut self,
        operation: &'static str,
        started: Instant,
        outcome: Result<T, Error>,
    ) -> Option<T> {
        self.operations += 1;
        match outcome {
            Ok(value) => Some(value),
            Err(error) => {
                self.failures.push(Failure {
                    operation,
                    started,
                    ended: Instant::now(),
                    error,
                });
                None
            }
        }
    }
}

/// One round of a worker: set a new key, read it back, count; whether a call failed. Written
/// once for both surfaces: the method names, and `.await` or nothing after each call.
macro_rules! round {
    ($worker:expr, $name:expr, $round:expr, $cache:expr, $set:ident, $get:ident, $incr:ident, $($await:tt)*) => {{
        let worker: &mut Worker = $worker;
        let failures = worker.failures.len();
        let key = format!("{}:{}", $name, $round);
        let value = format!("value {} of {}", $round, $name);
        let started = Instant::now();
        let outcome = $cache.$set(&key, &value, Timeout::Never) $($await)*;
        if worker.record("set", started, outcome).is_some() {
            worker.acknowledged.insert(key.clone(), value.clone());
            let started = Instant::now();
            let outcome = $cache.$get::<String>(&key) $($await)*;
            if let Some(read) = worker.record("get", started, outcome) {
                assert_eq!(read.as_deref(), Some(value.as_str()), "{key} read back");
            }
        } else {
            worker.uncertain.push(key);
        }
        let started = Instant::now();
        let outcome = $cache.$incr(&format!("{}:count", $name), 1, Timeout::Never) $($await)*;
        match worker.record("incr", started, outcome) {
            Some(_) => worker.increments_acknowledged += 1,
            None => worker.increments_failed += 1,
        }
        worker.failures.len() > failures
    }};
}

/// What a kill-and-restart run measured.
struct Outage {
    /// From the kill to the restarted server answering.
    length: Duration,
    killed: Instant,
    back: Instant,
    workers: Vec<(String, Worker)>,
}

/// Runs the stream (blocking threads and async tasks on `cache`) for a moment, kills the
/// server, waits `down`, restarts it, lets the stream run a moment longer, and stops it.
fn outage_during_a_stream(server: &mut Server, cache: &Cache, down: Duration) -> Outage {
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = multi_thread_runtime();
    let mut threads = Vec::new();
    for n in 0..THREADS {
        let (cache, stop) = (cache.clone(), stop.clone());
        threads.push(thread::spawn(move || {
            let name = format!("thread{n}");
            let mut worker = Worker::default();
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let failed = round!(&mut worker, name, round, cache, set, get, incr_or_create,);
                if failed {
                    thread::sleep(Duration::from_millis(5));
                }
            }
            (name, worker)
        }));
    }
    let mut tasks = Vec::new();
    for n in 0..TASKS {
        let (cache, stop) = (cache.clone(), stop.clone());
        tasks.push(runtime.spawn(async move {
            let name = format!("task{n}");
            let mut worker = Worker::default();
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let failed =
                    round!(&mut worker, name, round, cache, aset, aget, aincr_or_create, .await);
                if failed {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            (name, worker)
        }));
    }

    thread::sleep(Duration::from_millis(300));
    let killed = Instant::now();
    server.kill();
    thread::sleep(down);
    server.restart();
    let back = Instant::now();
    thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);

    let mut workers: Vec<(String, Worker)> = threads
        .into_iter()
        .map(|thread| thread.join().expect("no panic in a thread"))
        .collect();
    for task in tasks {
        workers.push(runtime.block_on(task).expect("no panic in a task"));
    }
    Outage {
        length: back - killed,
        killed,
        back,
        workers,
    }
}

impl Outage {
    fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.workers.iter().flat_map(|(_, worker)| &worker.failures)
    }

    fn count(&self, operation: &str) -> usize {
        self.failures()
            .filter(|failure| failure.operation == operation)
            .count()
    }

    fn print(&self, label: &str) {
        let operations: u64 = self.workers.iter().map(|(_, w)| w.operations).sum();
        println!(
            "{label}: outage {:?} (kill to answering again): {operations} operations, {} failed \
             (set {}, get {}, incr {})",
            self.length,
            self.failures().count(),
            self.count("set"),
            self.count("get"),
            self.count("incr"),
        );
    }

    /// Every failure is a typed connection-level error of a call made during the outage, and
    /// everything acknowledged is on the restarted server, counters exactly.
    fn check(&self, cache: &Cache) {
        for failure in self.failures() {
            assert!(
                matches!(
                    failure.error,
                    Error::Connection { .. } | Error::Timeout { .. }
                ),
                "a typed connection error: {:?}",
                failure.error
            );
            assert!(
                failure.ended >= self.killed && failure.started <= self.back,
                "a failure outside the outage: {failure:?}"
            );
        }
        for (name, worker) in &self.workers {
            outcomes::acknowledged_writes_read_back(cache, &worker.acknowledged);
            outcomes::counted_at_most_once(
                cache,
                &format!("{name}:count"),
                worker.increments_acknowledged,
                worker.increments_failed,
            );
        }
    }
}

#[test]
fn a_restart_during_a_stream_fails_only_calls_made_during_the_outage() {
    let mut server = durable_server();
    for (n, down) in [100, 500, 1500].into_iter().enumerate() {
        let cache = CacheBuilder::from_url(&format!("{}?prefix=noretry{n}", server.url()))
            .expect("a valid URL")
            .connect_timeout(Duration::from_millis(500))
            .build()
            .expect("a cache");
        let outage = outage_during_a_stream(&mut server, &cache, Duration::from_millis(down));
        outage.print("without retries");
        outage.check(&cache);
        assert!(
            outage.failures().count() > 0,
            "calls made while the server was down failed"
        );
        // Service resumed by itself: the stream went on after the restart, and calls work.
        cache.set("after", "restart", Timeout::Never).expect("set");
    }
}

#[test]
fn with_a_retry_budget_a_short_restart_loses_no_operation() {
    let mut server = durable_server();
    let budget = Duration::from_secs(5);
    for (n, down) in [500, 1500].into_iter().enumerate() {
        let cache = CacheBuilder::from_url(&format!(
            "{}?prefix=retry{n}&retry_budget={}",
            server.url(),
            budget.as_secs_f64()
        ))
        .expect("a valid URL")
        .build()
        .expect("a cache");
        let outage = outage_during_a_stream(&mut server, &cache, Duration::from_millis(down));
        outage.print(&format!("with retry_budget {budget:?}"));
        outage.check(&cache);
        // Reads and plain writes are retried after any connection failure: none fails.
        assert_eq!(outage.count("set"), 0, "no write lost");
        assert_eq!(outage.count("get"), 0, "no read lost");
        // An increment is retried only when it provably was not sent: one in flight at the
        // moment of the kill (at most one per worker) may fail, never more, never twice.
        assert!(
            outage.count("incr") <= THREADS + TASKS,
            "{} increments failed",
            outage.count("incr")
        );
    }
}

#[test]
fn a_paused_server_is_a_timeout_and_then_recovers() {
    let mut server = Server::start(ServerKind::Redis);
    let (connect, response) = (Duration::from_millis(300), Duration::from_millis(500));
    let cache = with_timeouts(
        &format!("{}?prefix=paused", server.url()),
        connect,
        response,
    );
    let runtime = multi_thread_runtime();
    // Connections open on both surfaces before the pause; the counter's script is loaded.
    cache.set("k", "v", Timeout::Never).expect("set");
    assert_eq!(
        cache.incr_or_create("n", 1, Timeout::Never).expect("incr"),
        1
    );
    runtime
        .block_on(cache.aset("k2", "v2", Timeout::Never))
        .expect("aset");

    server.pause();
    let timed = |what: &str, expected: Duration, call: &dyn Fn() -> Result<(), Error>| {
        let started = Instant::now();
        let outcome = call();
        let took = started.elapsed();
        println!(
            "paused server, {what}: {outcome:?} after {took:?} (configured {expected:?}, \
             {:+.1} ms)",
            (took.as_secs_f64() - expected.as_secs_f64()) * 1000.0
        );
        match outcome {
            Err(Error::Timeout { after, .. }) => assert_eq!(after, expected, "{what}"),
            other => panic!("{what}: expected a timeout, got {other:?}"),
        }
        assert!(took < expected + GENEROUS, "{what} took {took:?}");
    };
    timed("blocking get", response, &|| {
        cache.get::<String>("k").map(drop)
    });
    timed("async get", response, &|| {
        runtime.block_on(cache.aget::<String>("k2")).map(drop)
    });
    // The blocking get's connection was closed when it timed out (a late answer must never
    // be read as the next request's): the next blocking call opens a new one, and the hung
    // server's handshake times out in the connect timeout.
    timed("blocking incr, after a timeout", connect, &|| {
        cache.incr_or_create("n", 1, Timeout::Never).map(drop)
    });
    // The async surface's connection is open: its request is sent and waits for an answer.
    timed("async incr", response, &|| {
        runtime
            .block_on(cache.aincr_or_create("n", 1, Timeout::Never))
            .map(drop)
    });
    // A cache with no connection yet: opening one times out (the kernel accepts the
    // connection, the server never answers the handshake).
    let fresh = with_timeouts(&server.url(), connect, response);
    timed("blocking get, new connection", connect, &|| {
        fresh.get::<String>("k").map(drop)
    });
    timed("async get, new connection", connect, &|| {
        runtime.block_on(fresh.aget::<String>("k")).map(drop)
    });

    server.resume();
    // The late answers are dropped; the connections stay in step and serve again.
    let deadline = Instant::now() + GENEROUS;
    loop {
        match cache.get::<String>("k") {
            Ok(value) => {
                assert_eq!(value.as_deref(), Some("v"));
                break;
            }
            Err(err) => assert!(Instant::now() < deadline, "no recovery: {err:?}"),
        }
        thread::sleep(Duration::from_millis(50));
    }
    runtime.block_on(async {
        assert_eq!(
            cache.aget::<String>("k2").await.expect("aget").as_deref(),
            Some("v2")
        );
        cache.aset("k3", "v3", Timeout::Never).await.expect("aset");
        assert_eq!(
            cache.aget::<String>("k3").await.expect("aget").as_deref(),
            Some("v3")
        );
    });
    // The async increment sent during the pause was applied when the server woke up, though
    // its caller got a timeout: a command that timed out may have been applied (and so is
    // never retried). The blocking one never reached the server (its handshake timed out).
    assert_eq!(cache.incr("n", 1).expect("incr"), 3);
}

#[test]
fn fail_open_degrades_to_misses_with_a_rate_limited_warning() {
    let logs = logs::capture();
    let mut server = Server::start(ServerKind::Redis);
    let (connect, response) = (Duration::from_millis(300), Duration::from_millis(300));
    let url = format!("{}?prefix=open&fail_open=1", server.url());
    let cache = with_timeouts(&url, connect, response);
    cache.set("k", "v", Timeout::Never).expect("set");
    let runtime = multi_thread_runtime();

    // Down (killed: connections refused), then hung (paused: connections time out).
    server.kill();
    let started = Instant::now();
    let mut calls = 0;
    let mut slowest = Duration::ZERO;
    for round in 0..20 {
        let timed = |call: &mut dyn FnMut()| {
            let started = Instant::now();
            call();
            started.elapsed()
        };
        for took in [
            timed(&mut || assert_eq!(cache.get::<String>("k").expect("a miss"), None)),
            timed(&mut || cache.set("k", "w", Timeout::Never).expect("not stored")),
            timed(&mut || assert!(!cache.add("new", "w", Timeout::Never).expect("not added"))),
            timed(&mut || assert!(!cache.has_key("k").expect("absent"))),
            timed(&mut || assert!(!cache.delete("k").expect("nothing deleted"))),
            timed(&mut || {
                assert_eq!(
                    cache
                        .set_many(&[("a", 1), ("b", 2)], Timeout::Never)
                        .expect("not stored"),
                    ["a", "b"]
                )
            }),
            timed(&mut || {
                runtime.block_on(async {
                    assert_eq!(cache.aget::<String>("k").await.expect("a miss"), None);
                    cache
                        .aset("k", &round, Timeout::Never)
                        .await
                        .expect("not stored");
                    assert!(
                        cache
                            .aget_many::<i32>(&["a"])
                            .await
                            .expect("misses")
                            .is_empty()
                    );
                })
            }),
        ] {
            calls += 1;
            slowest = slowest.max(took);
            assert!(took < connect + GENEROUS, "a fail-open call took {took:?}");
        }
    }
    let down_for = started.elapsed();
    println!("fail-open, server down: {calls} calls in {down_for:?}, slowest {slowest:?}");
    // Counters still say that nothing was counted.
    assert!(matches!(cache.incr("n", 1), Err(Error::Connection { .. })));

    server.restart();
    server.pause();
    let hung = with_timeouts(&url, connect, response);
    for what in ["an open connection", "a new connection"] {
        let subject = if what == "a new connection" {
            &hung
        } else {
            &cache
        };
        if what == "an open connection" {
            // Open a connection to the restarted server first: resume, call, pause again.
            server.resume();
            let deadline = Instant::now() + GENEROUS;
            while !subject
                .add("k", "v", Timeout::Never)
                .is_ok_and(|_| subject.has_key("k").is_ok_and(|found| found))
            {
                assert!(Instant::now() < deadline, "no recovery after the restart");
                thread::sleep(Duration::from_millis(20));
            }
            server.pause();
        }
        let started = Instant::now();
        assert_eq!(subject.get::<String>("k").expect("a miss"), None);
        let took = started.elapsed();
        println!("fail-open, server hung, {what}: a miss after {took:?}");
        assert!(took < connect.max(response) + GENEROUS, "{took:?}");
    }
    server.resume();

    let warnings = logs.lines_with(&["WARN", "failing open"]);
    println!(
        "fail-open warnings: {} for {calls} failed-open calls over {:?}",
        warnings.len(),
        started.elapsed()
    );
    assert!(!warnings.is_empty(), "a warning");
    // At most one a second.
    let seconds = started.elapsed().as_secs() + 1;
    assert!(
        warnings.len() as u64 <= seconds + 1,
        "{} warnings in {seconds} s: {warnings:#?}",
        warnings.len()
    );
    assert!(
        warnings.iter().all(|line| line.contains("127.0.0.1")),
        "{warnings:#?}"
    );
}

#[test]
fn a_dropped_runtime_leaves_the_cache_working_on_other_runtimes() {
    let server = Server::start(ServerKind::Redis);
    let cache = Cache::from_url(&format!("{}?prefix=runtimes", server.url())).expect("a cache");
    let current_thread = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    };

    // A runtime with a cached connection and a task still calling when it is dropped.
    let doomed = multi_thread_runtime();
    doomed
        .block_on(cache.aset("k", "v", Timeout::Never))
        .expect("aset");
    let busy = cache.clone();
    doomed.spawn(async move {
        for n in 0u64.. {
            let _ = busy.aincr_or_create("busy", 1, Timeout::Never).await;
            if n % 100 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    thread::sleep(Duration::from_millis(100));
    doomed.shutdown_background();
    thread::sleep(Duration::from_millis(50)); // its worker threads finish their last poll
    let single = current_thread();
    single
        .block_on(cache.aset("k", "v", Timeout::Never))
        .expect("aset");
    drop(single);

    // Other runtimes, old and new, and the blocking surface all work.
    let other = multi_thread_runtime();
    assert_eq!(
        other
            .block_on(cache.aget::<String>("k"))
            .expect("aget")
            .as_deref(),
        Some("v")
    );
    assert_eq!(cache.get::<String>("k").expect("get").as_deref(), Some("v"));
    let again = current_thread();
    let counted = again
        .block_on(cache.aincr("busy", 1))
        .expect("the busy counter");
    assert!(counted > 1, "{counted}");
    drop(other);
    assert_eq!(
        again.block_on(cache.aget::<i64>("busy")).expect("aget"),
        Some(counted)
    );
    // Inside a runtime's task, the blocking surface works too.
    let blocking_inside = multi_thread_runtime().block_on(async {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get::<String>("k") })
            .await
            .expect("no panic")
    });
    assert_eq!(blocking_inside.expect("get").as_deref(), Some("v"));
}
