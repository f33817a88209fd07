//! The `metrics` feature: hits and misses of the get-like operations, errors by kind and the
//! latency of every backend call, read back from `metrics-util`'s `DebuggingRecorder`, on the
//! in-memory cache and on a real Redis. The recorder is this binary's global one; its tests
//! take turns, each reading only what it recorded (a snapshot resets the counters).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use cachex::prelude::*;
use cachex::{Cache, metrics as names};
use cachex_tests::{Server, ServerKind, memory_and_redis};
use metrics::Unit;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// The recorder, installed once; holding the guard is a test's turn.
fn recorder() -> MutexGuard<'static, Snapshotter> {
    static RECORDER: OnceLock<Mutex<Snapshotter>> = OnceLock::new();
    let recorder = RECORDER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("the only recorder");
        cachex::metrics::enable();
        Mutex::new(snapshotter)
    });
    let turn = recorder.lock().unwrap_or_else(PoisonError::into_inner);
    turn.snapshot(); // what earlier tests left
    turn
}

/// What was recorded since the last snapshot: each metric by name and sorted labels.
#[derive(Debug, Default)]
struct Recorded {
    counters: HashMap<String, u64>,
    histograms: HashMap<String, Vec<f64>>,
    units: HashMap<String, Unit>,
}

fn recorded(snapshotter: &Snapshotter) -> Recorded {
    let mut recorded = Recorded::default();
    for (key, unit, _description, value) in snapshotter.snapshot().into_vec() {
        let (kind, key) = key.into_parts();
        let mut labels: Vec<String> = key
            .labels()
            .map(|label| format!("{}={}", label.key(), label.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        if let Some(unit) = unit {
            recorded.units.insert(key.name().to_owned(), unit);
        }
        match (kind, value) {
            (MetricKind::Counter, DebugValue::Counter(count)) if count > 0 => {
                recorded.counters.insert(name, count);
            }
            (MetricKind::Histogram, DebugValue::Histogram(values)) if !values.is_empty() => {
                let values = values.into_iter().map(|value| value.into_inner()).collect();
                recorded.histograms.insert(name, values);
            }
            _ => {}
        }
    }
    recorded
}

#[test]
fn get_like_operations_count_their_hits_and_misses() -> cachex::Result<()> {
    let snapshotter = recorder();
    for (backend, cache) in memory_and_redis("metrics-lookups") {
        snapshotter.snapshot(); // the clearing of the cache
        cache.set("a", &1, Timeout::Default)?;
        assert_eq!(cache.get::<i32>("a")?, Some(1));
        assert_eq!(cache.get::<i32>("b")?, None);
        let found = cache.get_many::<i32>(&["a", "b", "c"])?;
        assert_eq!(found.len(), 1);
        // A miss runs the loader (its reads are not counted as `get`), then a hit.
        assert_eq!(cache.get_or_set("x", || 2, Timeout::Default)?, 2);
        assert_eq!(cache.get_or_set("x", || 3, Timeout::Default)?, 2);
        assert_eq!(cache.get_or_set_early("y", || 4, Timeout::Default, 1.0)?, 4);
        assert_eq!(cache.get_or_set_early("y", || 5, Timeout::Default, 0.0)?, 4);

        let recorded = recorded(&snapshotter);
        let count = |name: &str, operation: &str| {
            let key = format!("{name}{{backend={backend},operation={operation}}}");
            recorded.counters.get(&key).copied().unwrap_or(0)
        };
        let lookups = [
            ("get", 1, 1),
            ("get_many", 1, 2),
            ("get_or_set", 1, 1),
            ("get_or_set_early", 1, 1),
        ];
        for (operation, hits, misses) in lookups {
            let counted = (
                count(names::HITS, operation),
                count(names::MISSES, operation),
            );
            assert_eq!(
                counted,
                (hits, misses),
                "{backend} {operation}: {recorded:#?}"
            );
        }
        // Every backend call is timed, under the command's name.
        let sets = &recorded.histograms
            [&format!("{}{{backend={backend},operation=SET}}", names::DURATION)];
        // `set`, then `get_or_set` storing x and y (`SET .. NX`).
        assert_eq!(sets.len(), 3, "{backend}: {recorded:#?}");
        assert!(
            sets.iter()
                .all(|seconds| *seconds >= 0.0 && *seconds < 60.0)
        );
        let gets = &recorded.histograms
            [&format!("{}{{backend={backend},operation=GET}}", names::DURATION)];
        // get a, get b; get_or_set's reads: x's miss twice (before and in its flight), its
        // hit once; get_or_set_early's miss of y reads as get_or_set's (its hit is a GET PTTL).
        assert_eq!(gets.len(), 7, "{backend}: {recorded:#?}");
        assert!(
            recorded
                .counters
                .keys()
                .all(|name| !name.starts_with(names::ERRORS))
        );
        assert_eq!(recorded.units.get(names::DURATION), Some(&Unit::Seconds));
    }
    Ok(())
}

#[test]
fn failed_calls_are_counted_by_kind() -> cachex::Result<()> {
    let snapshotter = recorder();
    for (backend, cache) in memory_and_redis("metrics-errors") {
        snapshotter.snapshot(); // the clearing of the cache
        cache.hset("hash", "field", &1)?;
        for _ in 0..2 {
            let error = cache
                .get::<i32>("hash")
                .expect_err("a hash is not a string");
            assert_eq!(error.kind(), "wrong_type");
        }
        let recorded = recorded(&snapshotter);
        let key = format!(
            "{}{{backend={backend},kind=wrong_type,operation=GET}}",
            names::ERRORS
        );
        assert_eq!(
            recorded.counters.get(&key),
            Some(&2),
            "{backend}: {recorded:#?}"
        );
        // The failed calls are timed too.
        let gets = format!("{}{{backend={backend},operation=GET}}", names::DURATION);
        assert_eq!(recorded.histograms[&gets].len(), 2, "{backend}");
    }

    // A server that is gone: connection errors.
    let mut server = Server::start(ServerKind::Redis);
    let cache = Cache::from_url(&format!("{}?connect_timeout=0.5", server.url()))?;
    cache.set("k", &1, Timeout::Default)?;
    server.kill();
    snapshotter.snapshot();
    let error = cache.get::<i32>("k").expect_err("the server is gone");
    let recorded = recorded(&snapshotter);
    let key = format!(
        "{}{{backend=redis,kind={},operation=GET}}",
        names::ERRORS,
        error.kind()
    );
    assert_eq!(error.kind(), "connection", "{error}");
    assert_eq!(recorded.counters.get(&key), Some(&1), "{recorded:#?}");
    Ok(())
}

#[test]
fn nothing_is_recorded_until_enabled() -> cachex::Result<()> {
    let snapshotter = recorder();
    let cache = Cache::in_memory();
    cachex::metrics::disable();
    cache.set("a", &1, Timeout::Default)?;
    assert_eq!(cache.get::<i32>("a")?, Some(1));
    cachex::metrics::enable();
    let off = recorded(&snapshotter);
    assert!(
        off.counters.is_empty() && off.histograms.is_empty(),
        "{off:#?}"
    );
    assert_eq!(cache.get::<i32>("a")?, Some(1));
    let recorded = recorded(&snapshotter);
    let hits = format!("{}{{backend=memory,operation=get}}", names::HITS);
    assert_eq!(recorded.counters.get(&hits), Some(&1), "{recorded:#?}");
    Ok(())
}
