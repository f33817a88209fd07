//! The embedded in-memory backend: a bounded concurrent map ([`map`]: sharded, CLOCK
//! eviction) of encoded values and data structures with per-entry expiry, answering the commands of the
//! [table](super::command) with their Redis semantics, so that the same suite passes here and
//! on a server.
//!
//! Values are stored encoded, exactly as a server would hold them: what comes back out went
//! through the codec, and an integer written by `set` can be incremented. Expiry is lazy: an
//! expired entry is never returned; the map evicts expired entries first and sweeps them out
//! as it is written. Hashes, lists,
//! sets and sorted sets are changed in place under the key's compute (atomic for that key);
//! a collection left empty is removed, as Redis removes it.
//!
//! Each family's semantics sits in the file named as its table: [`Apply`] for every command
//! of `command/keys.rs` in `keys.rs`, and so on.

/// Implements [`Apply`] for commands that are one helper with some arguments fixed (`LPUSH`
/// and `RPUSH` are `push` at either end). A row `helper(field, ...) { Command => (fixed, ...),
/// ... }` makes each command call `helper(memory, self.field, ..., fixed, ...)`.
macro_rules! variants {
    ($helper:ident $fields:tt { $($command:ident => $fixed:tt),+ $(,)? }) => {
        $(variants!(@one $helper $fields $command $fixed);)+
    };
    (@one $helper:ident ($($field:ident),*) $command:ident ($($fixed:expr),*)) => {
        impl $crate::backend::memory::Apply for $command {
            fn apply(
                self,
                memory: &$crate::backend::memory::Memory,
            ) -> $crate::Result<Self::Output> {
                $helper(memory, $(self.$field,)* $($fixed),*)
            }
        }
    };
}

mod data;
mod gate;
mod hash;
mod keys;
mod list;
mod map;
mod raw;
mod semaphore;
mod set;
mod stream;
mod strings;
mod zset;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
// The backend's one monotonic clock, for every deadline, TTL, sweep and idle time: quanta's
// reads the CPU's time-stamp counter, calibrated once against the OS's monotonic clock, at about
// half the cost of `std::time::Instant::now()` (every read of a key with a timeout takes one).
use quanta::Instant;
use tokio::sync::Notify;

use self::data::{Collection, Data, lock};
use self::gate::Gate;
use self::map::{Map, Op};
pub(crate) use self::raw::Check;
use super::Expiry;
use super::batch::{AnyCommand, Reply};
use super::command::Command;
use crate::{Error, Result};

/// The default bound on the number of entries.
pub(crate) const DEFAULT_MAX_ENTRIES: u64 = 10_000;

/// What bounds the in-memory store: one measure, as the map keeps one total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bound {
    /// At most about this many entries.
    Entries(u64),
    /// At most about this many bytes: each entry weighs its key plus its stored bytes (a
    /// string's encoded value, the members, fields and values of a collection).
    Bytes(u64),
}

impl Default for Bound {
    fn default() -> Self {
        Bound::Entries(DEFAULT_MAX_ENTRIES)
    }
}

/// A command of the table with its Redis semantics on the in-memory store.
pub(crate) trait Apply: Command {
    /// Runs it now, atomically for each key it touches.
    fn apply(self, memory: &Memory) -> Result<Self::Output>;

    /// Runs it, waiting where the command waits (blocking pops); the others are ready at once,
    /// isolated from transactions (see [`Memory::isolated`]).
    fn apply_waiting(self, memory: &Memory) -> impl Future<Output = Result<Self::Output>> + Send {
        std::future::ready(memory.isolated(self))
    }
}

/// A key's value and deadline.
#[derive(Clone)]
struct Entry {
    data: Data,
    expires_at: Option<Instant>,
}

impl Entry {
    /// A string value expiring after `expiry`.
    fn new(value: Vec<u8>, expiry: Expiry) -> Self {
        Entry {
            data: Data::Bytes(value.into()),
            expires_at: deadline(expiry),
        }
    }

    /// Whether it has not expired now: [`is_live`](Self::is_live), the clock read only for an
    /// entry that can expire.
    fn is_live_now(&self) -> bool {
        (self.expires_at.is_none() && !matches!(self.data, Data::Hash(_)))
            || self.is_live(Instant::now())
    }

    /// Whether it has not expired at `now` (nor, for a hash, every one of its fields).
    fn is_live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| at > now)
            && !matches!(&self.data, Data::Hash(hash) if lock(hash).all_expired(now))
    }

    /// The bytes of a string key; `WRONGTYPE` for the other types.
    fn bytes(&self, key: &str) -> Result<&Bytes> {
        match &self.data {
            Data::Bytes(bytes) => Ok(bytes),
            _ => Err(wrong_type(key)),
        }
    }

    /// The same data with another deadline.
    fn expiring(&self, expires_at: Option<Instant>) -> Entry {
        Entry {
            data: self.data.clone(),
            expires_at,
        }
    }
}

/// What a `GET` found at a key (small: no error built inside the store's locks).
pub(crate) enum Found<R> {
    /// No live value.
    Missing,
    /// What was made of the value's bytes.
    Value(R),
    /// Another type than a string: `WRONGTYPE`.
    WrongType,
}

/// Redis's `WRONGTYPE` error.
pub(crate) fn wrong_type(key: &str) -> Error {
    Error::WrongType {
        key: key.to_owned(),
        detail: "WRONGTYPE Operation against a key holding the wrong kind of value".to_owned(),
    }
}

/// When an expiry ends, from now; a duration too long to represent (the clock counts
/// nanoseconds in a `u64`: about 584 years from the machine's start) never ends.
fn deadline(expiry: Expiry) -> Option<Instant> {
    match expiry {
        Expiry::Never => None,
        Expiry::After(duration) => Instant::now().checked_add(duration),
    }
}

/// Milliseconds since the Unix epoch, now.
fn unix_millis_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// A deadline `millis` from now: `None` when it is now or past; `Some(None)` when too far to
/// represent (never reached).
fn deadline_in(millis: i64) -> Option<Option<Instant>> {
    (millis > 0).then(|| Instant::now().checked_add(Duration::from_millis(millis.unsigned_abs())))
}

/// A deadline as a Unix time in milliseconds, rounded up.
fn unix_millis_at(at: Instant) -> i64 {
    unix_millis_now().saturating_add(millis_left(at))
}

/// The milliseconds left until a deadline, rounded up.
fn millis_left(at: Instant) -> i64 {
    let left = at.saturating_duration_since(Instant::now());
    i64::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)
}

/// A length or a number of items, as a count reply.
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// An entry's weight when the store is bounded by bytes: its key and its stored bytes.
fn weight(key: &str, entry: &Entry) -> u32 {
    u32::try_from(key.len().saturating_add(entry.data.size())).unwrap_or(u32::MAX)
}

/// A waiting task, stopped when its caller drops it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Redis's `LRANGE`/`ZRANGE` index range on `len` items: the inclusive positions, or `None`
/// when it is empty. Negative indexes count from the end.
fn index_range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = i64::try_from(len).ok()?;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    if start > stop || start >= len {
        return None;
    }
    Some((usize::try_from(start).ok()?, usize::try_from(stop).ok()?))
}

/// A single index (`LINDEX`, `LSET`): negative counts from the end; `None` when outside.
fn index(len: usize, index: i64) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let index = if index < 0 { len + index } else { index };
    (0..len)
        .contains(&index)
        .then(|| usize::try_from(index).ok())
        .flatten()
}

/// The in-memory store. Every write goes through the map's per-key compute, so that writes of one
/// key are ordered with one another (`set` against `incr`, say), as on a server. Cloning is
/// cheap and gives the same store.
#[derive(Clone)]
pub(crate) struct Memory {
    entries: Arc<Map>,
    /// Renames are serialized (`RENAMENX` looks at both keys before it moves one).
    renames: Arc<Mutex<()>>,
    /// The semaphore scripts run one at a time, as a server runs its scripts.
    scripts: Arc<Mutex<()>>,
    /// Woken whenever a list or a stream gets new items, for blocking pops and reads.
    pushes: Arc<Notify>,
    /// Keeps transactions whole: a transaction holds every stripe of its keys exclusively, a
    /// command runs unguarded while no transaction runs, else holds its keys' stripes shared.
    gate: Arc<Gate>,
    /// Bounded by bytes: a collection changed in place is put again, so that the map weighs
    /// it anew.
    weighed: bool,
}

impl Memory {
    /// A store holding at most about `bound` entries or bytes, evicting the least recently
    /// used (as Django's in-memory cache does: a value just written is always kept, unless it
    /// alone weighs more than the bound).
    pub(crate) fn new(bound: Bound) -> Self {
        // The clock's one-time calibration (at least half a millisecond, at most 200 ms under
        // load) runs here, when the store is made, rather than in its first command.
        Instant::now();
        Memory {
            entries: Arc::new(Map::new(bound)),
            renames: Arc::default(),
            scripts: Arc::default(),
            pushes: Arc::default(),
            gate: Arc::default(),
            weighed: matches!(bound, Bound::Bytes(_)),
        }
    }

    /// Runs one command of the table.
    pub(crate) async fn execute<C: Apply>(&self, command: C) -> Result<C::Output> {
        command.apply_waiting(self).await
    }

    /// Runs queued commands in order, each one's own outcome. As a transaction (`atomic`),
    /// the gate's stripes of every key they touch are held exclusively from the first to the
    /// last: no other command of these keys runs, or reads, in between. A pipeline runs each
    /// one as a single command.
    pub(crate) async fn batch(
        &self,
        commands: Vec<Box<dyn AnyCommand>>,
        atomic: bool,
    ) -> Result<Vec<Result<Reply>>> {
        if !atomic {
            return Ok(commands
                .into_iter()
                .map(|command| {
                    let _shared = self.gate.shared(|visit| command.each_key(visit));
                    command.apply(self)
                })
                .collect());
        }
        let _exclusive = self
            .gate
            .exclusive(|visit| commands.iter().for_each(|command| command.each_key(visit)));
        Ok(commands
            .into_iter()
            .map(|command| command.apply(self))
            .collect())
    }

    /// Runs one command through the gate (see [`gate`]): never in the middle of a transaction
    /// on one of its keys.
    pub(crate) fn isolated<C: Apply>(&self, command: C) -> Result<C::Output> {
        let _shared = self.gate.shared(|visit| Command::each_key(&command, visit));
        command.apply(self)
    }

    /// `GET` of `key` through the gate, as [`isolated`](Self::isolated) runs `Get`, for a
    /// caller that borrows its key: what `read` makes of the value's bytes, borrowed under
    /// the shard's read lock (no clone of the bytes to share them). `read` runs with the lock
    /// held: it must be short (a clone of the bytes when they are large) and must not call
    /// the store. It runs again, its first answer dropped, when a transaction starts
    /// meanwhile (see [`Gate::read_only`]).
    #[inline]
    pub(crate) fn get_now<R>(&self, key: &str, read: impl Fn(&Bytes) -> R) -> Found<R> {
        // A read only: not counted by the gate unless a transaction runs meanwhile.
        self.gate
            .read_only(|visit| visit(key), || self.string_with(key, &read))
    }

    /// Nothing to close: there is no connection.
    pub(crate) async fn close(&self) -> Result<()> {
        Ok(())
    }

    /// Stores `entry` at `key`, whatever it held.
    fn put(&self, key: &str, entry: Entry) {
        // Straight to the map: what the key held does not matter, so its expiry is not read
        // (one clock read less per `set`).
        self.entries.compute(key, |_| (Op::Put(entry), ()));
    }

    /// Removes `key`; whether it was live.
    fn remove(&self, key: &str) -> bool {
        self.update(key, |current| (Op::Remove, current.is_some()))
    }

    /// The entry of `key`, unless it is missing or expired.
    fn live(&self, key: &str) -> Option<Entry> {
        self.entries
            .read(key, |entry| entry.is_live_now().then(|| entry.clone()))
            .flatten()
    }

    /// The bytes of a live string key (`GET`): shared, not copied.
    fn string(&self, key: &str) -> Result<Option<Bytes>> {
        // Only the bytes are cloned, under the shard's lock.
        match self.string_with(key, Bytes::clone) {
            Found::Missing => Ok(None),
            Found::Value(bytes) => Ok(Some(bytes)),
            Found::WrongType => Err(wrong_type(key)),
        }
    }

    /// What `read` makes of the bytes of a live string key (`GET`), under the shard's lock.
    #[inline]
    fn string_with<R>(&self, key: &str, read: impl FnOnce(&Bytes) -> R) -> Found<R> {
        let found = self.entries.read(key, |entry| {
            if !entry.is_live_now() {
                return Found::Missing;
            }
            match &entry.data {
                Data::Bytes(bytes) => Found::Value(read(bytes)),
                _ => Found::WrongType,
            }
        });
        found.unwrap_or(Found::Missing)
    }

    /// Runs `change` on the live entry of `key` (or `None`), atomically for that key: what it
    /// reports.
    fn update<R>(&self, key: &str, change: impl FnOnce(Option<&Entry>) -> (Op<Entry>, R)) -> R {
        self.entries.compute(key, |current| {
            change(current.filter(|entry| entry.is_live_now()))
        })
    }

    /// Reads the collection of `key`: what `read` gives, or its default when the key is
    /// missing (Redis's answer on an empty collection); `WRONGTYPE` when it holds another type.
    fn read<C: Collection, R: Default>(&self, key: &str, read: impl FnOnce(&C) -> R) -> Result<R> {
        let Some(entry) = self.live(key) else {
            return Ok(R::default());
        };
        let shared = C::of(&entry.data).ok_or_else(|| wrong_type(key))?;
        let mut collection = lock(shared);
        collection.tidy();
        Ok(read(&collection))
    }

    /// Changes the collection of `key` in place, atomically for that key: a missing key
    /// starts as an empty collection (`None` is returned instead when `create` is false), and
    /// a collection left empty is removed.
    fn modify<C: Collection, R>(
        &self,
        key: &str,
        create: bool,
        change: impl FnOnce(&mut C) -> Result<R>,
    ) -> Result<Option<R>> {
        self.update(key, |current| match current {
            None if !create => (Op::Nop, Ok(None)),
            None => {
                let mut collection = C::default();
                match change(&mut collection) {
                    Ok(reply) if collection.is_empty() => (Op::Nop, Ok(Some(reply))),
                    Ok(reply) => (
                        Op::Put(Entry {
                            data: C::wrap(Arc::new(Mutex::new(collection))),
                            expires_at: None,
                        }),
                        Ok(Some(reply)),
                    ),
                    Err(err) => (Op::Nop, Err(err)),
                }
            }
            Some(entry) => match C::of(&entry.data) {
                None => (Op::Nop, Err(wrong_type(key))),
                Some(shared) => {
                    let mut collection = lock(shared);
                    collection.tidy();
                    let outcome = change(&mut collection);
                    let op = if collection.is_empty() {
                        Op::Remove
                    } else if self.weighed {
                        Op::Put(entry.clone())
                    } else {
                        Op::Nop
                    };
                    drop(collection);
                    (op, outcome.map(Some))
                }
            },
        })
    }

    /// Applies `change` to the collection of `key` once per item, atomically for the key (a
    /// missing key starts empty when `create` is true): how many changes took effect (`HSET`,
    /// `SREM`, ...).
    fn count_changes<C: Collection, I>(
        &self,
        key: &str,
        create: bool,
        items: impl IntoIterator<Item = I>,
        mut change: impl FnMut(&mut C, I) -> bool,
    ) -> Result<u64> {
        let changed = self.modify(key, create, |collection: &mut C| {
            Ok(items
                .into_iter()
                .map(|item| change(collection, item))
                .filter(|changed| *changed)
                .count())
        })?;
        Ok(count(changed.unwrap_or(0)))
    }

    /// Sets the deadline of a live key (`PEXPIRE`, `PEXPIREAT`); a deadline in the past
    /// deletes it. Whether the key existed.
    fn set_deadline(&self, key: &str, millis_from_now: i64) -> bool {
        self.update(key, |current| match current {
            None => (Op::Nop, false),
            Some(_) if millis_from_now <= 0 => (Op::Remove, true),
            Some(entry) => {
                let millis = millis_from_now.unsigned_abs();
                let at = Instant::now().checked_add(Duration::from_millis(millis));
                (Op::Put(entry.expiring(at)), true)
            }
        })
    }

    /// Runs `attempt` until it answers something, woken by every push to a list or stream
    /// (blocking pops and reads): waits on the bridge runtime (which always has a timer);
    /// `None` when `timeout` runs out first (`None`: never).
    fn wait_for<T: Send + 'static>(
        &self,
        timeout: Option<Duration>,
        operation: &'static str,
        mut attempt: impl FnMut(&Memory) -> Result<Option<T>> + Send + 'static,
    ) -> impl Future<Output = Result<Option<T>>> + Send + 'static {
        let memory = self.clone();
        let deadline = timeout.and_then(|timeout| tokio::time::Instant::now().checked_add(timeout));
        let wait = async move {
            loop {
                let pushed = memory.pushes.notified();
                let mut pushed = std::pin::pin!(pushed);
                pushed.as_mut().enable();
                if let Some(found) = attempt(&memory)? {
                    return Ok(Some(found));
                }
                match deadline {
                    Some(deadline) => {
                        if tokio::time::timeout_at(deadline, pushed).await.is_err() {
                            return Ok(None);
                        }
                    }
                    None => pushed.await,
                }
            }
        };
        async move {
            match crate::bridge::spawn(wait) {
                Some(waiting) => {
                    // A caller that gives up (a timeout around the call, a dropped future)
                    // stops the wait: it must not pop or deliver for nobody afterwards.
                    let mut waiting = AbortOnDrop(waiting);
                    (&mut waiting.0).await.map_err(|err| {
                        Error::server(format!("the {operation}'s waiting task failed: {err}"))
                    })?
                }
                None => Err(Error::Unsupported {
                    operation,
                    reason: "cachex's bridge runtime could not be started".to_owned(),
                }),
            }
        }
    }

    /// Moves `from` to `to` (the caller holds `renames`); whether `from` existed.
    fn rename_now(&self, from: &str, to: &str) -> bool {
        // Both keys' shards are held while the entry moves: a reader sees the value at one
        // key, never at neither, as with Redis's RENAME.
        self.entries.rename(from, to, Entry::is_live_now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::command::{Del, Exists, Get, IncrBy, Rename, Set};

    /// `SET key value` without expiry.
    fn set(memory: &Memory, key: &str, value: &[u8]) {
        let set = Set {
            key: key.to_owned(),
            value: value.to_vec(),
            expiry: Expiry::Never,
        };
        assert!(set.apply(memory).expect("set"));
    }

    /// `EXISTS key`.
    fn exists(memory: &Memory, key: &str) -> bool {
        Exists {
            key: key.to_owned(),
        }
        .apply(memory)
        .expect("exists")
    }

    /// `RENAME from to`.
    fn rename(memory: &Memory, from: &str, to: &str) -> Result<()> {
        Rename {
            from: from.to_owned(),
            to: to.to_owned(),
        }
        .apply(memory)
    }

    #[test]
    fn the_number_of_entries_is_bounded() {
        let memory = Memory::new(Bound::Entries(100));
        for i in 0..5_000 {
            set(&memory, &format!("k{i}"), &[0; 8]);
        }
        memory.entries.run_pending_tasks();
        let count = memory.entries.entry_count();
        assert!(count <= 100, "{count} entries kept for a bound of 100");
        assert!(count > 0);
    }

    #[test]
    fn the_stored_bytes_are_bounded() {
        const BOUND: u64 = 100_000;
        let memory = Memory::new(Bound::Bytes(BOUND));
        // 5,000 values of 1,000 bytes (5 MB) written into 100 kB.
        for i in 0..5_000 {
            set(&memory, &format!("k{i}"), &[0; 1_000]);
        }
        memory.entries.run_pending_tasks();
        let (weight, count) = (memory.entries.weighted_size(), memory.entries.entry_count());
        println!("bounded by {BOUND} bytes: {weight} bytes in {count} entries kept");
        assert!(
            weight <= BOUND,
            "{weight} bytes kept for a bound of {BOUND}"
        );
        assert!(weight > BOUND / 2, "only {weight} bytes kept");
        assert!(exists(&memory, "k4999"), "the value just written is kept");

        // A list growing in place is weighed anew at each push.
        for _ in 0..50 {
            let push = crate::backend::command::Rpush {
                key: "list".to_owned(),
                values: vec![vec![0; 1_000]],
            };
            push.apply(&memory).expect("rpush");
        }
        memory.entries.run_pending_tasks();
        let weight = memory.entries.weighted_size();
        println!("after a list of 50 kB was pushed: {weight} bytes kept");
        assert!(
            weight <= BOUND,
            "{weight} bytes kept for a bound of {BOUND}"
        );
        let list = memory
            .entries
            .get("list")
            .map(|entry| entry.data.size())
            .expect("the list just written is kept");
        assert_eq!(list, 50_000);
    }

    #[test]
    fn writes_of_one_key_are_ordered() {
        // `set` racing `incr`: the result is one of the two serial orders, never a lost write.
        let memory = Arc::new(Memory::new(Bound::Entries(100_000)));
        let mut lost = 0;
        for round in 0..20_000 {
            let key = format!("n{round}");
            set(&memory, &key, b"0");
            let start = Arc::new(std::sync::Barrier::new(2));
            let incr = {
                let (memory, start, key) = (memory.clone(), start.clone(), key.clone());
                std::thread::spawn(move || {
                    start.wait();
                    IncrBy { key, delta: 1 }.apply(&memory)
                })
            };
            start.wait();
            set(&memory, &key, b"1000");
            incr.join().expect("no panic").expect("incr");
            let last = Get { key: key.clone() }.apply(&memory).expect("get");
            if last != Some(Bytes::from_static(b"1000"))
                && last != Some(Bytes::from_static(b"1001"))
            {
                lost += 1;
            }
            Del { keys: vec![key] }.apply(&memory).expect("delete");
        }
        assert_eq!(lost, 0, "writes lost to a concurrent incr");
    }

    #[test]
    fn a_rename_never_shows_the_value_at_neither_key() {
        use std::sync::atomic::{AtomicU64, Ordering};

        let memory = Arc::new(Memory::new(Bound::Entries(1_000)));
        set(&memory, "v1", b"x");
        // Renames done so far: three reads during which none completed overlap one rename at
        // most, and then missing at v1, v2 and v1 again can only mean a moment at neither key
        // (two renames in between would move it away from each read in turn).
        let renamed = Arc::new(AtomicU64::new(0));
        let reader = {
            let (memory, renamed) = (memory.clone(), renamed.clone());
            std::thread::spawn(move || {
                (0..20_000)
                    .filter(|_| {
                        let before = renamed.load(Ordering::SeqCst);
                        let first = exists(&memory, "v1");
                        let second = exists(&memory, "v2");
                        let again = exists(&memory, "v1");
                        let after = renamed.load(Ordering::SeqCst);
                        before == after && !first && !second && !again
                    })
                    .count()
            })
        };
        for _ in 0..2_000 {
            rename(&memory, "v1", "v2").expect("rename");
            renamed.fetch_add(1, Ordering::SeqCst);
            rename(&memory, "v2", "v1").expect("rename");
            renamed.fetch_add(1, Ordering::SeqCst);
        }
        assert_eq!(
            reader.join().expect("no panic"),
            0,
            "never seen at neither key"
        );
        rename(&memory, "v1", "v1").expect("rename onto itself");
    }

    #[test]
    fn no_command_runs_inside_a_transaction() {
        // Two threads increment `a` and `b` through the gate (unguarded while no transaction
        // runs) while transactions set both to 0 and read them back: a command let in during
        // one would show as a read that is not 0.
        use std::sync::atomic::{AtomicBool, Ordering};

        let memory = Arc::new(Memory::new(Bound::Entries(1_000)));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (memory, stop) = (memory.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut commands = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        for key in ["a", "b"] {
                            let incr = IncrBy {
                                key: key.to_owned(),
                                delta: 1,
                            };
                            memory.isolated(incr).expect("incr");
                            commands += 1;
                        }
                    }
                    commands
                })
            })
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let mut seen = Vec::new();
        for _ in 0..5_000 {
            let mut commands: Vec<Box<dyn AnyCommand>> = vec![
                Box::new(Set {
                    key: "a".to_owned(),
                    value: b"0".to_vec(),
                    expiry: Expiry::Never,
                }),
                Box::new(Set {
                    key: "b".to_owned(),
                    value: b"0".to_vec(),
                    expiry: Expiry::Never,
                }),
            ];
            // A wider window for a command to slip in.
            for _ in 0..50 {
                commands.push(Box::new(Exists {
                    key: "a".to_owned(),
                }));
            }
            for key in ["a", "b"] {
                commands.push(Box::new(Get {
                    key: key.to_owned(),
                }));
            }
            let replies = runtime
                .block_on(memory.batch(commands, true))
                .expect("transaction");
            for reply in replies.into_iter().skip(52) {
                let value = reply
                    .and_then(crate::backend::batch::typed::<Option<Bytes>>)
                    .expect("get");
                if value.as_deref() != Some(&b"0"[..]) {
                    seen.push(value);
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        let commands: u64 = writers
            .into_iter()
            .map(|writer| writer.join().expect("no panic"))
            .sum();
        assert!(commands > 0, "the writers ran");
        assert!(seen.is_empty(), "commands inside transactions: {seen:?}");
    }

    #[test]
    fn a_blocking_pop_given_up_takes_nothing() {
        use crate::backend::command::{Blpop, Llen, Rpush};

        let memory = Memory::new(Bound::Entries(100));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let pop = Blpop {
                keys: vec!["l".to_owned()],
                timeout: None,
            }
            .apply_waiting(&memory);
            let given_up = tokio::time::timeout(Duration::from_millis(50), pop).await;
            assert!(given_up.is_err(), "nothing to pop yet");
            let push = Rpush {
                key: "l".to_owned(),
                values: vec![b"v".to_vec()],
            };
            push.apply(&memory).expect("rpush");
            // Give an orphaned waiter every chance to run before looking.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let len = Llen {
                key: "l".to_owned(),
            }
            .apply(&memory)
            .expect("llen");
            assert_eq!(len, 1, "the abandoned pop took the item");
        });
    }

    #[test]
    fn a_full_cache_keeps_what_was_just_written() {
        let memory = Memory::new(Bound::Entries(50));
        let read_old = || {
            for i in 0..50 {
                let key = format!("old{i}");
                Get { key }.apply(&memory).expect("get"); // popular old keys
            }
        };
        for i in 0..50 {
            set(&memory, &format!("old{i}"), &[1]);
        }
        (0..20).for_each(|_| read_old());
        let mut missing = 0;
        for i in 0..50 {
            let key = format!("new{i}");
            set(&memory, &key, &[2]);
            read_old();
            if !exists(&memory, &key) {
                missing += 1;
            }
        }
        assert_eq!(missing, 0, "values unreadable right after they were set");
    }
}
