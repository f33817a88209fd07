//! Single-flight for `get_or_set` (concurrent misses of a key in this process compute it
//! once) and the compute times XFetch (`get_or_set_early`) needs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How many keys' compute times are remembered for XFetch before the record starts over.
const MAX_COMPUTE_TIMES: usize = 10_000;

/// One lock per key being computed by `get_or_set`, so that concurrent misses of a key in this
/// process compute it once.
#[derive(Default)]
pub(crate) struct Flights(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// A caller's place in the flight of one key; leaving (even by cancellation) forgets the
/// key's lock once nobody else holds it.
pub(crate) struct Flight<'a> {
    flights: &'a Flights,
    pub(crate) key: String,
    pub(crate) lock: Arc<tokio::sync::Mutex<()>>,
}

impl Flights {
    /// Joins the flight of a made key.
    pub(crate) fn join(&self, key: &str) -> Flight<'_> {
        let mut flights = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Flight {
            lock: flights.entry(key.to_owned()).or_default().clone(),
            key: key.to_owned(),
            flights: self,
        }
    }

    /// How many keys have a flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut flights = self
            .flights
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The map's reference and ours: nobody else is waiting.
        if Arc::strong_count(&self.lock) == 2 {
            flights.remove(&self.key);
        }
    }
}

/// How long this process last took to compute each key of `get_or_set` (for XFetch).
#[derive(Default)]
pub(crate) struct ComputeTimes(Mutex<HashMap<String, Duration>>);

impl ComputeTimes {
    /// Records how long computing a made key took.
    pub(crate) fn record(&self, made: &str, took: Duration) {
        let mut times = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if times.len() >= MAX_COMPUTE_TIMES && !times.contains_key(made) {
            times.clear();
        }
        times.insert(made.to_owned(), took);
    }

    /// How long computing a made key took last.
    pub(crate) fn of(&self, made: &str) -> Option<Duration> {
        let times = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        times.get(made).copied()
    }
}

/// XFetch: whether to recompute a value now, `left` before it expires, when computing it took
/// `delta`: when `delta * beta * -ln(rand)` reaches past the expiry, rand in (0, 1].
pub(crate) fn recompute_early(delta: Duration, left_millis: i64, beta: f64) -> bool {
    let early_millis = delta.as_secs_f64() * 1000.0 * beta * -(1.0 - fastrand::f64()).ln();
    early_millis >= left_millis as f64
}
