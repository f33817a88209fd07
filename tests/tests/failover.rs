//! Failovers under load: the cache keeps answering while a cluster primary dies and its replica
//! takes over, while Sentinel moves the primary on request (`SENTINEL FAILOVER`), and while a
//! Sentinel-managed primary dies. Each test owns its topology (short timeouts, see
//! `cachex_tests::topology::FAILOVER_TIMEOUT_MS`), runs a client that writes and reads one key
//! back to back, triggers the failover, waits for the topology to settle and checks that:
//!
//! - nothing panicked, and every failed call failed with a typed connection-level error
//!   (`Connection`, `Timeout`, or a server error such as `CLUSTERDOWN`);
//! - calls succeed again once the topology has settled (within 30 s: a liveness bound, not a
//!   timing assertion), through the async surface and the blocking one (whose connection
//!   lives in the bridge runtime and was opened before the failover).
//!
//! How long the service was interrupted (the longest time between two successful calls) is
//! printed: run with `--nocapture` to read it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{Cache, Error};
use cachex_tests::{Cluster, SentinelGroup};

/// A liveness bound for the topology to settle after the failure.
const SETTLE: Duration = Duration::from_secs(30);

/// How long the client keeps going once the topology has settled.
const AFTER: Duration = Duration::from_secs(1);

/// One call of the client: when it started and ended, and how it went.
struct Call {
    started: Instant,
    ended: Instant,
    outcome: Result<(), Error>,
}

/// Writes `n` and reads it back, over and over, until `stop`.
async fn client(cache: Cache, key: &'static str, stop: Arc<AtomicBool>) -> (Vec<Call>, usize) {
    let mut calls = Vec::new();
    let mut lost = 0;
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let started = Instant::now();
        let written = cache.aset(key, &n, Timeout::Never).await;
        calls.push(Call {
            started,
            ended: Instant::now(),
            outcome: written.as_ref().map(drop).map_err(Error::clone),
        });
        let started = Instant::now();
        let read = cache.aget::<u64>(key).await;
        if written.is_ok() && matches!(read, Ok(Some(value)) if value != n) {
            lost += 1;
        }
        calls.push(Call {
            started,
            ended: Instant::now(),
            outcome: read.map(drop),
        });
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (calls, lost)
}

/// Runs the client around `failover` (which triggers the failure, waits for the topology to
/// settle and returns the port of the primary that now serves the key), checks the outcome and
/// prints the interruption.
fn around_failover(name: &str, url: &str, failover: impl FnOnce() -> u16) {
    let cache = Cache::from_url(&format!("{url}?prefix=failover")).expect("a cache");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // Both surfaces connected before the failure.
    cache
        .set("blocking", "before", Timeout::Never)
        .expect("a blocking set before the failover");
    runtime
        .block_on(cache.aset("key", &0u64, Timeout::Never))
        .expect("an async set before the failover");

    let stop = Arc::new(AtomicBool::new(false));
    let running = runtime.spawn(client(cache.clone(), "key", stop.clone()));
    std::thread::sleep(Duration::from_millis(300));
    let failed_at = Instant::now();
    let new_primary = failover();
    let settled = failed_at.elapsed();
    std::thread::sleep(AFTER);
    stop.store(true, Ordering::Relaxed);
    let (calls, lost) = runtime.block_on(running).expect("the client did not panic");

    let mut failures = 0;
    for call in &calls {
        match &call.outcome {
            Ok(()) => {}
            Err(Error::Connection { .. } | Error::Timeout { .. } | Error::Server { .. }) => {
                failures += 1
            }
            Err(other) => panic!("{name}: an unexpected error during the failover: {other:?}"),
        }
    }
    let tail: Vec<&Call> = calls.iter().rev().take(20).collect();
    assert!(
        tail.len() == 20 && tail.iter().all(|call| call.outcome.is_ok()),
        "{name}: the cache does not answer after the failover: {:?}",
        tail.iter()
            .map(|call| call.outcome.as_ref().err().map(ToString::to_string))
            .collect::<Vec<_>>()
    );
    // The longest time without a successful call, around the failure.
    let successes: Vec<Instant> = calls
        .iter()
        .filter(|call| call.outcome.is_ok())
        .map(|call| call.ended)
        .collect();
    let interruption = successes
        .windows(2)
        .map(|pair| pair[1].duration_since(pair[0]))
        .max()
        .unwrap_or_default();
    let slowest = calls
        .iter()
        .map(|call| call.ended.duration_since(call.started))
        .max()
        .unwrap_or_default();
    println!(
        "{name}: service interrupted for {:.0} ms (longest time between two successful calls); \
         {failures} of {} calls failed, all with typed errors; slowest call {:.0} ms; topology \
         settled {:.0} ms after the failure; {lost} writes read back older",
        interruption.as_secs_f64() * 1000.0,
        calls.len(),
        slowest.as_secs_f64() * 1000.0,
        settled.as_secs_f64() * 1000.0,
    );

    // The blocking surface's connection (in the bridge runtime) follows too: its first call
    // may still meet the old connection's failure.
    let deadline = Instant::now() + SETTLE;
    loop {
        match cache.get::<String>("blocking") {
            Ok(_) => break,
            Err(Error::Connection { .. } | Error::Timeout { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(err) => panic!("{name}: the blocking surface does not recover: {err:?}"),
        }
    }
    cache
        .set("blocking", "after", Timeout::Never)
        .expect("a blocking set after the failover");
    assert_eq!(
        cache.get::<String>("blocking").expect("get").as_deref(),
        Some("after")
    );

    // Writes reach the new primary (not a demoted one that has not learnt it yet).
    runtime
        .block_on(cache.aset("key", "final", Timeout::Never))
        .expect("a set after the failover");
    let mut primary = redis::Client::open(format!("redis://127.0.0.1:{new_primary}"))
        .and_then(|client| client.get_connection())
        .expect("a connection to the new primary");
    let stored: Option<String> = redis::cmd("GET")
        .arg("failover:1:key")
        .query(&mut primary)
        .expect("GET on the new primary");
    assert_eq!(stored.as_deref(), Some("\"final\""), "{name}");
}

#[test]
fn cluster_primary_killed() {
    let mut cluster = Cluster::start_for_failover();
    let url = cluster.url();
    around_failover("cluster, primary of the key killed", &url, || {
        let killed = cluster.kill_primary_of("failover:1:key");
        cluster.wait_healthy(SETTLE);
        let promoted = cluster.primary_port_of("failover:1:key");
        assert_ne!(promoted, killed);
        promoted
    });
}

#[test]
fn sentinel_failover_command() {
    let group = SentinelGroup::start_for_failover();
    let url = group.url();
    around_failover("sentinel, SENTINEL FAILOVER", &url, || {
        let old = group.primary_port();
        group.failover();
        group.wait_primary_moved(old, SETTLE)
    });
}

#[test]
fn sentinel_primary_killed() {
    let mut group = SentinelGroup::start_for_failover();
    let url = group.url();
    around_failover("sentinel, primary killed", &url, || {
        let old = group.kill_primary();
        group.wait_primary_moved(old, SETTLE)
    });
}
