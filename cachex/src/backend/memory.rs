//! The embedded in-memory backend: a bounded concurrent map ([moka]'s TinyLFU eviction) of
//! encoded values with per-entry expiry, with the semantics of the Redis commands the cache
//! uses, so that the same suite passes here and on a server.
//!
//! Values are stored encoded, exactly as a server would hold them: what comes back out went
//! through the codec, and an integer written by `set` can be incremented. Expiry is lazy: an
//! expired entry is never returned, and moka drops it on its own schedule.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::ops::compute::Op;
use moka::sync::Cache as Map;

use super::{Expiry, RawStore, SetMode, glob};
use crate::codec::counter_value;
use crate::{Error, Result};

/// The default bound on the number of entries.
pub(crate) const DEFAULT_MAX_ENTRIES: u64 = 10_000;

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    expires_at: Option<Instant>,
}

impl Entry {
    fn new(value: Vec<u8>, expiry: Expiry) -> Self {
        Entry {
            value: value.into(),
            expires_at: deadline(expiry),
        }
    }

    fn is_live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// When an expiry ends, from now; a duration too long to represent never ends.
fn deadline(expiry: Expiry) -> Option<Instant> {
    match expiry {
        Expiry::Never => None,
        Expiry::After(duration) => Instant::now().checked_add(duration),
    }
}

/// Tells moka each entry's own expiry.
struct ExpiresAt;

impl moka::Expiry<String, Entry> for ExpiresAt {
    fn expire_after_create(&self, _: &String, entry: &Entry, now: Instant) -> Option<Duration> {
        entry.expires_at.map(|at| at.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        entry.expires_at.map(|at| at.saturating_duration_since(now))
    }
}

/// The in-memory store.
pub(crate) struct Memory {
    entries: Map<String, Entry>,
}

impl Memory {
    /// A store holding at most about `max_entries` entries.
    pub(crate) fn new(max_entries: u64) -> Self {
        Memory {
            entries: Map::builder()
                .max_capacity(max_entries)
                .expire_after(ExpiresAt)
                .build(),
        }
    }

    fn live(&self, key: &str) -> Option<Entry> {
        self.entries
            .get(key)
            .filter(|entry| entry.is_live(Instant::now()))
    }

    /// Runs `change` on the live entry of `key` (or `None`), atomically for that key; what it
    /// reports goes into `outcome`, which starts as `initial`.
    fn update<R>(
        &self,
        key: &str,
        initial: R,
        change: impl FnOnce(Option<&Entry>) -> (Op<Entry>, R),
    ) -> R {
        let mut outcome = initial;
        self.entries
            .entry(key.to_owned())
            .and_compute_with(|current| {
                let now = Instant::now();
                let live = current
                    .as_ref()
                    .map(|entry| entry.value())
                    .filter(|entry| entry.is_live(now));
                let (op, reported) = change(live);
                outcome = reported;
                op
            });
        outcome
    }
}

impl RawStore for Memory {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.live(key).map(|entry| entry.value.to_vec()))
    }

    async fn set(&self, key: &str, value: Vec<u8>, expiry: Expiry, mode: SetMode) -> Result<bool> {
        let entry = Entry::new(value, expiry);
        if mode == SetMode::Always {
            self.entries.insert(key.to_owned(), entry);
            return Ok(true);
        }
        // `SetMode::IfAbsent`
        Ok(self.update(key, false, |current| {
            if current.is_none() {
                (Op::Put(entry), true)
            } else {
                (Op::Nop, false)
            }
        }))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        Ok(keys
            .iter()
            .map(|key| self.live(key).map(|entry| entry.value.to_vec()))
            .collect())
    }

    async fn set_many(&self, items: Vec<(String, Vec<u8>)>, expiry: Expiry) -> Result<Vec<String>> {
        for (key, value) in items {
            self.entries.insert(key, Entry::new(value, expiry));
        }
        Ok(Vec::new())
    }

    async fn delete_many(&self, keys: &[String]) -> Result<u64> {
        let now = Instant::now();
        Ok(keys
            .iter()
            .filter_map(|key| self.entries.remove(key))
            .filter(|entry| entry.is_live(now))
            .count() as u64)
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.live(key).is_some())
    }

    async fn incr_by(&self, key: &str, delta: i64, create: Option<Expiry>) -> Result<Option<i64>> {
        self.update(key, Ok(None), |current| match (current, create) {
            (None, None) => (Op::Nop, Ok(None)),
            (None, Some(expiry)) => (
                Op::Put(Entry::new(delta.to_string().into_bytes(), expiry)),
                Ok(Some(delta)),
            ),
            (Some(entry), _) => {
                match counter_value(&entry.value).and_then(|n| n.checked_add(delta)) {
                    Some(sum) => (
                        Op::Put(Entry {
                            value: sum.to_string().into_bytes().into(),
                            expires_at: entry.expires_at,
                        }),
                        Ok(Some(sum)),
                    ),
                    None => (
                        Op::Nop,
                        Err(Error::WrongType {
                            key: key.to_owned(),
                            detail: "the value is not an integer or the result is out of range"
                                .to_owned(),
                        }),
                    ),
                }
            }
        })
    }

    async fn expire(&self, key: &str, expiry: Expiry) -> Result<bool> {
        Ok(self.update(key, false, |current| match current {
            Some(entry) => (
                Op::Put(Entry {
                    value: entry.value.clone(),
                    expires_at: deadline(expiry),
                }),
                true,
            ),
            None => (Op::Nop, false),
        }))
    }

    async fn rename(&self, from: &str, to: &str) -> Result<bool> {
        match self
            .entries
            .remove(from)
            .filter(|entry| entry.is_live(Instant::now()))
        {
            Some(entry) => {
                self.entries.insert(to.to_owned(), entry);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_pattern(&self, pattern: &str) -> Result<u64> {
        let matching: Vec<Arc<String>> = self
            .entries
            .iter()
            .filter(|(key, _)| glob::matches(pattern.as_bytes(), key.as_bytes()))
            .map(|(key, _)| key)
            .collect();
        let now = Instant::now();
        Ok(matching
            .iter()
            .filter_map(|key| self.entries.remove(key.as_str()))
            .filter(|entry| entry.is_live(now))
            .count() as u64)
    }

    async fn flush_db(&self) -> Result<()> {
        self.entries.invalidate_all();
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The backend's futures are ready at once.
    fn run<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the in-memory backend never waits"),
        }
    }

    #[test]
    fn the_number_of_entries_is_bounded() {
        let memory = Memory::new(100);
        for i in 0..5_000 {
            run(memory.set(&format!("k{i}"), vec![0; 8], Expiry::Never, SetMode::Always))
                .expect("set");
        }
        memory.entries.run_pending_tasks();
        let count = memory.entries.entry_count();
        assert!(count <= 100, "{count} entries kept for a bound of 100");
        assert!(count > 0);
    }
}
