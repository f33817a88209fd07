//! Metrics through the [`metrics`](https://docs.rs/metrics) facade (the `metrics` feature):
//! once [`enable`]d, every cache records into whatever recorder the application installed (a
//! Prometheus exporter, `metrics-util`'s `DebuggingRecorder`, ...). Until then a call pays one
//! atomic load: the facade cannot tell cachex whether a recorder is installed, and measuring a
//! call for its no-op recorder nearly doubles the cost of an in-memory `get` (callgrind:
//! 2,758 -> 5,080 instructions).
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | [`HITS`] `cachex_hits_total` | counter | `operation`, `backend` | values found by a get-like operation |
//! | [`MISSES`] `cachex_misses_total` | counter | `operation`, `backend` | values not found by a get-like operation |
//! | [`ERRORS`] `cachex_errors_total` | counter | `operation`, `backend`, `kind` | backend calls that failed |
//! | [`DURATION`] `cachex_call_duration_seconds` | histogram | `operation`, `backend` | how long each backend call took |
//!
//! Hits and misses are labelled with the cache operation (`get`, `get_many`, `get_or_set`,
//! `get_or_set_early`); errors and durations with the command sent to the backend (`GET`,
//! `MGET`, `SET`, ..., as the `tracing` spans name it), since one operation may send several.
//! `backend` is `memory`, `redis`, `cluster` or `sentinel`; `kind` is [`Error::kind`]. The
//! [observability guide](crate::guide::observability) says how they are counted.
//!
//! ```
//! // At startup, after installing a recorder (say, metrics-exporter-prometheus's):
//! cachex::metrics::enable();
//! assert!(cachex::metrics::is_enabled());
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

use crate::Error;

/// Counter: values a get-like operation found (`get_many` counts each key).
pub const HITS: &str = "cachex_hits_total";
/// Counter: values a get-like operation did not find (`get_many` counts each key).
pub const MISSES: &str = "cachex_misses_total";
/// Counter: backend calls that failed, by [`Error::kind`].
pub const ERRORS: &str = "cachex_errors_total";
/// Histogram: how long each backend call took, in seconds, failed ones included.
pub const DURATION: &str = "cachex_call_duration_seconds";

/// Whether the caches record metrics: off until [`enable`].
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Starts recording cachex's metrics, in every cache of the process, into the installed
/// recorder, and describes them to it (help text and unit). Call it once the recorder is
/// installed: the recorder in place when a metric is recorded is the one that gets it.
pub fn enable() {
    describe();
    ENABLED.store(true, Ordering::Relaxed);
}

/// Stops recording cachex's metrics (what was recorded stays in the recorder).
pub fn disable() {
    ENABLED.store(false, Ordering::Relaxed);
}

/// Whether cachex records metrics (see [`enable`]).
#[inline(always)]
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Describes cachex's metrics (help text and unit) to the installed recorder; [`enable`] does
/// it too.
pub fn describe() {
    describe_counter!(
        HITS,
        Unit::Count,
        "Values found by a cachex get-like operation."
    );
    describe_counter!(
        MISSES,
        Unit::Count,
        "Values not found by a cachex get-like operation."
    );
    describe_counter!(ERRORS, Unit::Count, "cachex backend calls that failed.");
    describe_histogram!(
        DURATION,
        Unit::Seconds,
        "How long each cachex backend call took."
    );
}

/// Records one backend call: its duration, and its error if it failed. Called by the store's
/// observed dispatch only (`backend/store.rs`), when [`is_enabled`].
pub(crate) fn call(
    operation: &'static str,
    backend: &'static str,
    elapsed: Duration,
    error: Option<&Error>,
) {
    histogram!(DURATION, "operation" => operation, "backend" => backend)
        .record(elapsed.as_secs_f64());
    if let Some(error) = error {
        counter!(ERRORS, "operation" => operation, "backend" => backend, "kind" => error.kind())
            .increment(1);
    }
}

/// Records the hits and misses of one get-like operation. Called through
/// `CacheCore::count_lookups` only, when [`is_enabled`].
pub(crate) fn lookups(operation: &'static str, backend: &'static str, hits: u64, misses: u64) {
    if hits > 0 {
        counter!(HITS, "operation" => operation, "backend" => backend).increment(hits);
    }
    if misses > 0 {
        counter!(MISSES, "operation" => operation, "backend" => backend).increment(misses);
    }
}

// --- near cache (issue 16) ---
// The local-copy counters of the tracked near cache go here, next to `lookups`: its name
// constants (say `cachex_near_hits_total`, `cachex_near_misses_total`,
// `cachex_near_invalidations_total`, labelled by `backend`), their lines in `describe`, and one
// `pub(crate) fn near_*` recorder the near cache calls, behind `#[cfg(feature = "metrics")]`
// like `CacheCore::count_lookups`. Then add them to the table above and to the observability
// guide.
