//! The embedded in-memory backend: a bounded concurrent map ([moka]'s TinyLFU eviction) of
//! encoded values with per-entry expiry, with the semantics of the Redis commands the cache
//! uses, so that the same suite passes here and on a server.
//!
//! Values are stored encoded, exactly as a server would hold them: what comes back out went
//! through the codec, and an integer written by `set` can be incremented. Expiry is lazy: an
//! expired entry is never returned, and moka drops it on its own schedule.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use moka::ops::compute::Op;
use moka::policy::EvictionPolicy;
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

/// The in-memory store. Every write goes through moka's per-key compute, so that writes of one
/// key are ordered with one another (`set` against `incr`, say), as on a server.
pub(crate) struct Memory {
    entries: Map<String, Entry>,
    /// Renames are serialized: each holds one key's compute while it writes the other, and two
    /// crossing renames must never wait for each other.
    renames: Mutex<()>,
}

impl Memory {
    /// A store holding at most about `max_entries` entries, evicting the least recently used
    /// (as Django's in-memory cache does: a value just written is always kept).
    pub(crate) fn new(max_entries: u64) -> Self {
        Memory {
            entries: Map::builder()
                .max_capacity(max_entries)
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(ExpiresAt)
                .build(),
            renames: Mutex::new(()),
        }
    }

    fn put(&self, key: &str, entry: Entry) {
        self.update(key, (), |_| (Op::Put(entry), ()));
    }

    /// Removes `key`; whether it was live.
    fn remove(&self, key: &str) -> bool {
        self.update(key, false, |current| (Op::Remove, current.is_some()))
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
            self.put(key, entry);
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
            self.put(&key, Entry::new(value, expiry));
        }
        Ok(Vec::new())
    }

    async fn delete_many(&self, keys: &[String]) -> Result<u64> {
        Ok(keys.iter().filter(|key| self.remove(key)).count() as u64)
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
        if from == to {
            return Ok(self.live(from).is_some());
        }
        let _serialized = self.renames.lock().unwrap_or_else(PoisonError::into_inner);
        // The destination is written while the source is held, then the source removed: a
        // reader sees the value at one key or both, never at neither, as with Redis's RENAME.
        Ok(self.update(from, false, |current| match current {
            Some(entry) => {
                self.put(to, entry.clone());
                (Op::Remove, true)
            }
            None => (Op::Nop, false),
        }))
    }

    async fn delete_pattern(&self, pattern: &str) -> Result<u64> {
        let matching: Vec<Arc<String>> = self
            .entries
            .iter()
            .filter(|(key, _)| glob::matches(pattern.as_bytes(), key.as_bytes()))
            .map(|(key, _)| key)
            .collect();
        Ok(matching.iter().filter(|key| self.remove(key)).count() as u64)
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

    #[test]
    fn writes_of_one_key_are_ordered() {
        // `set` racing `incr`: the result is one of the two serial orders, never a lost write.
        let memory = Arc::new(Memory::new(100_000));
        let mut lost = 0;
        for round in 0..20_000 {
            let key = format!("n{round}");
            run(memory.set(&key, b"0".to_vec(), Expiry::Never, SetMode::Always)).expect("set");
            let start = Arc::new(std::sync::Barrier::new(2));
            let incr = {
                let (memory, start, key) = (memory.clone(), start.clone(), key.clone());
                std::thread::spawn(move || {
                    start.wait();
                    run(memory.incr_by(&key, 1, None))
                })
            };
            start.wait();
            run(memory.set(&key, b"1000".to_vec(), Expiry::Never, SetMode::Always)).expect("set");
            incr.join().expect("no panic").expect("incr");
            let last = run(memory.get(&key)).expect("get");
            if last != Some(b"1000".to_vec()) && last != Some(b"1001".to_vec()) {
                lost += 1;
            }
            run(memory.delete_many(&[key])).expect("delete");
        }
        assert_eq!(lost, 0, "writes lost to a concurrent incr");
    }

    #[test]
    fn a_rename_never_shows_the_value_at_neither_key() {
        let memory = Arc::new(Memory::new(1_000));
        run(memory.set("v1", b"x".to_vec(), Expiry::Never, SetMode::Always)).expect("set");
        let reader = {
            let memory = memory.clone();
            std::thread::spawn(move || {
                (0..20_000)
                    .filter(|_| {
                        let first = run(memory.exists("v1")).expect("exists");
                        let second = run(memory.exists("v2")).expect("exists");
                        let again = run(memory.exists("v1")).expect("exists");
                        !first && !second && !again
                    })
                    .count()
            })
        };
        for _ in 0..2_000 {
            assert!(run(memory.rename("v1", "v2")).expect("rename"));
            assert!(run(memory.rename("v2", "v1")).expect("rename"));
        }
        assert_eq!(
            reader.join().expect("no panic"),
            0,
            "never seen at neither key"
        );
        assert!(run(memory.rename("v1", "v1")).expect("rename onto itself"));
    }

    #[test]
    fn a_full_cache_keeps_what_was_just_written() {
        let memory = Memory::new(50);
        let read_old = || {
            for i in 0..50 {
                run(memory.get(&format!("old{i}"))).expect("get"); // popular old keys
            }
        };
        for i in 0..50 {
            run(memory.set(&format!("old{i}"), vec![1], Expiry::Never, SetMode::Always))
                .expect("set");
        }
        (0..20).for_each(|_| read_old());
        let mut missing = 0;
        for i in 0..50 {
            let key = format!("new{i}");
            run(memory.set(&key, vec![2], Expiry::Never, SetMode::Always)).expect("set");
            read_old();
            if !run(memory.exists(&key)).expect("exists") {
                missing += 1;
            }
        }
        assert_eq!(missing, 0, "values unreadable right after they were set");
    }
}
