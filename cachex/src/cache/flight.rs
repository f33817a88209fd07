//! Single-flight for `get_or_set` (concurrent misses of a key in this process compute it
//! once, and share the loader's error when it fails) and the compute times XFetch
//! (`get_or_set_early`) needs.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How many keys' compute times are remembered for XFetch before the record starts over.
const MAX_COMPUTE_TIMES: usize = 10_000;

/// A loader's error, left for the callers waiting on its flight: an `Arc<E>` of the loader's
/// own error type, erased (the callers of one key may use different types).
type Failure = Arc<dyn Any + Send + Sync>;

/// The lock of one key's flight, holding the failure of the last loader that failed in it.
type Slot = tokio::sync::Mutex<Option<Failure>>;

/// One lock per key being computed by `get_or_set`, so that concurrent misses of a key in this
/// process compute it once.
#[derive(Default)]
pub(crate) struct Flights(Mutex<HashMap<String, Arc<Slot>>>);

/// A caller's place in the flight of one key; leaving (even by cancellation) forgets the
/// key's lock once nobody else holds it.
pub(crate) struct Flight<'a> {
    flights: &'a Flights,
    pub(crate) key: String,
    slot: Arc<Slot>,
}

/// A caller's turn to compute the key of its flight: the callers behind it wait until the turn
/// ends.
pub(crate) struct Turn<'f> {
    flight: &'f Flight<'f>,
    failure: tokio::sync::MutexGuard<'f, Option<Failure>>,
}

impl Flights {
    /// Joins the flight of a made key.
    pub(crate) fn join(&self, key: &str) -> Flight<'_> {
        let mut flights = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Flight {
            slot: flights.entry(key.to_owned()).or_default().clone(),
            key: key.to_owned(),
            flights: self,
        }
    }

    /// How many keys have a flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// How many callers are in the flight of a made key.
    #[cfg(test)]
    pub(crate) fn callers(&self, key: &str) -> usize {
        let flights = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        flights
            .get(key)
            .map_or(0, |slot| Arc::strong_count(slot) - 1)
    }
}

impl<'f> Flight<'f> {
    /// Waits until the callers ahead are done. When the one before failed to load with an
    /// error of type `E`, that error, shared: this caller does not load again. A failure of
    /// another type (a caller with another loader) gives this caller its turn, as a cancelled
    /// caller ahead would.
    pub(crate) async fn turn<E: Send + Sync + 'static>(&'f self) -> Result<Turn<'f>, Arc<E>> {
        let failure = self.slot.lock().await;
        match failure.clone().map(|failure| failure.downcast::<E>()) {
            Some(Ok(error)) => Err(error),
            _ => Ok(Turn {
                flight: self,
                failure,
            }),
        }
    }

    /// The turn, if nobody holds it now.
    pub(crate) fn try_turn(&'f self) -> Option<Turn<'f>> {
        let failure = self.slot.try_lock().ok()?;
        Some(Turn {
            flight: self,
            failure,
        })
    }
}

impl Flight<'_> {
    /// Takes this flight out of the map (if the key's flight is still this one: a flight that
    /// failed has left already, and the key may have a new one), or only when nobody else is
    /// in it.
    fn leave(&self, only_when_alone: bool) {
        let mut flights = self
            .flights
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let ours = flights
            .get(&self.key)
            .is_some_and(|slot| Arc::ptr_eq(slot, &self.slot));
        // The map's reference and ours: nobody else is waiting.
        if ours && (!only_when_alone || Arc::strong_count(&self.slot) == 2) {
            flights.remove(&self.key);
        }
    }
}

impl Turn<'_> {
    /// Ends the flight with the loader's error: the callers waiting on it get `error` (see
    /// [`Flight::turn`]); callers that come later start a new flight and load again.
    pub(crate) fn fail<E: Send + Sync + 'static>(mut self, error: Arc<E>) {
        *self.failure = Some(error);
        self.flight.leave(false);
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        self.leave(true);
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{Cache, CacheApi, LoadError, Timeout};

    #[test]
    fn a_failed_load_is_shared_with_the_callers_waiting_on_it() {
        let cache = Cache::in_memory();
        let core = cache.core();
        let made = core.key("k").expect("a valid key");
        let runs = AtomicUsize::new(0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let failing = async {
                // Fails once the four callers (itself and the three below) are in the flight.
                while core.flights.callers(&made) < 4 {
                    tokio::task::yield_now().await;
                }
                runs.fetch_add(1, Ordering::SeqCst);
                Err::<u32, String>("the database is down".to_owned())
            };
            let leader = core.atry_get_or_set_with("k", || failing, Timeout::Default);
            let waiter = || {
                let loader = || async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok::<u32, String>(1)
                };
                core.atry_get_or_set_with("k", loader, Timeout::Default)
            };
            // A caller whose loader cannot fail has no use for the error: it loads itself.
            let infallible = core.aget_or_set("k", || 2u32, Timeout::Default);
            let (leader, first, second, infallible) =
                tokio::join!(leader, waiter(), waiter(), infallible);
            let errors: Vec<_> = [leader, first, second]
                .into_iter()
                .map(|loaded| match loaded {
                    Err(LoadError::Loader(error)) => error,
                    other => panic!("expected the loader's error, got {other:?}"),
                })
                .collect();
            assert!(errors.iter().all(|error| Arc::ptr_eq(error, &errors[0])));
            assert_eq!(runs.load(Ordering::SeqCst), 1, "the waiters did not load");
            assert_eq!(infallible.expect("loaded"), 2);
        });
        let flights = core.flights.len();
        assert_eq!(flights, 0, "{flights} flights left");
    }
}
