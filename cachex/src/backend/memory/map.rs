//! [`Map`]: the in-memory backend's own bounded map of [`Entry`]s.
//!
//! - **Shards**: [`SHARDS`] `hashbrown` tables, each behind a `RwLock`, the key hashed once
//!   with `foldhash` (seeded at random per map). A read takes its shard's lock shared; a write
//!   (`compute`) takes it exclusively, so that writes of one key are ordered with one another
//!   and each sees the last one's result (Redis's per-key atomicity).
//! - **Bound**: one total over every shard, of entries or of bytes (an entry weighs its key
//!   plus its stored bytes, weighed again each time it is put). A write that goes over it
//!   evicts at once, first from its own shard (never the entry it just wrote), then from the
//!   others in turn. An entry that alone weighs more than the bound is not kept.
//! - **Eviction**: CLOCK, an approximation of least recently used, in each shard. Each shard
//!   keeps its entries in a queue in the order they were created; a read or a write of an
//!   entry marks it visited. The evictor takes the queue's head: an expired entry goes, a
//!   visited one loses its mark and goes to the back (a second chance), an unvisited one
//!   goes. Since a write evicts from its own shard first, the order across shards is only
//!   about the same (shards hold about as many entries each).
//! - **Expiry**: checked on every read by the callers ([`Entry::is_live`]); expired entries
//!   are evicted first, and each shard is swept of them after as many writes as it holds
//!   entries (at least [`SWEEP_AFTER`]): the cost is amortized, about one entry looked at per
//!   write. [`Map::run_pending_tasks`] sweeps every shard now.
//!
//! The queue holds a key's hash and the entry's id in its shard, not the key: a removed
//! entry leaves a stale item, skipped when reached and dropped when the queue grows past
//! twice its shard's entries.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry as Slot;

use super::{Bound, Entry, Instant, weight};

/// How many shards (a power of two).
const SHARDS: usize = 32;

/// The fewest writes between two sweeps of a shard.
const SWEEP_AFTER: usize = 64;

/// What a [`Map::compute`] does with the key.
pub(super) enum Op<V> {
    /// Leaves it as it is.
    Nop,
    /// Stores this value.
    Put(V),
    /// Removes it.
    Remove,
}

/// A key and its entry in a shard.
struct Item {
    key: Box<str>,
    entry: Entry,
    /// Unique in its shard: what the queue names it by.
    id: u64,
    weight: u32,
    /// Read or written since the evictor last passed it.
    visited: AtomicBool,
}

/// One shard: its entries and their CLOCK queue.
#[derive(Default)]
struct Shard {
    table: HashTable<Item>,
    /// `(hash, id)` of the entries, oldest first; may hold stale items (see the module
    /// documentation).
    queue: VecDeque<(u64, u64)>,
    next_id: u64,
    /// Writes since the last sweep.
    writes: usize,
}

/// A shard's lock on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Padded(RwLock<Shard>);

/// The map (see the module documentation).
pub(super) struct Map {
    shards: Box<[Padded]>,
    hasher: foldhash::fast::RandomState,
    /// The bound, in entries or in bytes.
    bound: u64,
    /// Bounded by bytes: entries weigh their key and stored bytes, else 1 each.
    weighed: bool,
    /// The total weight of the entries held.
    weight: AtomicU64,
    /// The next shard to evict from when a write's own shard has nothing left to evict.
    hand: AtomicUsize,
}

impl Map {
    /// An empty map holding at most about `bound`.
    pub(super) fn new(bound: Bound) -> Self {
        let (bound, weighed) = match bound {
            Bound::Entries(entries) => (entries, false),
            Bound::Bytes(bytes) => (bytes, true),
        };
        Map {
            shards: (0..SHARDS).map(|_| Padded::default()).collect(),
            hasher: foldhash::fast::RandomState::default(),
            bound,
            weighed,
            weight: AtomicU64::new(0),
            hand: AtomicUsize::new(0),
        }
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard of a hash: bits that `hashbrown` uses neither for the bucket (the low ones,
    /// up to a table of 2^32 buckets) nor for its tag (the top seven).
    fn shard_of(hash: u64) -> usize {
        (hash >> 32) as usize & (SHARDS - 1)
    }

    fn read_shard(&self, index: usize) -> RwLockReadGuard<'_, Shard> {
        self.shards[index]
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_shard(&self, index: usize) -> RwLockWriteGuard<'_, Shard> {
        self.shards[index]
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn weigh(&self, key: &str, entry: &Entry) -> u32 {
        if self.weighed { weight(key, entry) } else { 1 }
    }

    fn over(&self) -> bool {
        self.weight.load(Ordering::Relaxed) > self.bound
    }

    /// What `read` makes of the entry of `key` (expired or not), marking it visited.
    #[inline]
    pub(super) fn read<R>(&self, key: &str, read: impl FnOnce(&Entry) -> R) -> Option<R> {
        let hash = self.hash(key);
        let shard = self.read_shard(Self::shard_of(hash));
        let item = shard.table.find(hash, |item| *item.key == *key)?;
        if !item.visited.load(Ordering::Relaxed) {
            item.visited.store(true, Ordering::Relaxed);
        }
        Some(read(&item.entry))
    }

    /// A clone of the entry of `key` (expired or not).
    #[cfg(test)]
    pub(super) fn get(&self, key: &str) -> Option<Entry> {
        self.read(key, Entry::clone)
    }

    /// Runs `change` on the entry of `key` (expired or not) with its shard held exclusively,
    /// and does what it answers; then evicts while the map is over its bound.
    pub(super) fn compute<R>(
        &self,
        key: &str,
        change: impl FnOnce(Option<&Entry>) -> (Op<Entry>, R),
    ) -> R {
        let hash = self.hash(key);
        let index = Self::shard_of(hash);
        let mut guard = self.write_shard(index);
        let Shard {
            table,
            queue,
            next_id,
            ..
        } = &mut *guard;
        let slot = table.entry(
            hash,
            |item| *item.key == *key,
            |item| self.hasher.hash_one(&*item.key),
        );
        let (op, outcome) = change(match &slot {
            Slot::Occupied(occupied) => Some(&occupied.get().entry),
            Slot::Vacant(_) => None,
        });
        let written = match op {
            Op::Nop => return outcome,
            Op::Put(entry) => self.put(slot, queue, next_id, hash, key, entry),
            Op::Remove => {
                if let Slot::Occupied(occupied) = slot {
                    let (item, _) = occupied.remove();
                    self.reweigh(item.weight, 0);
                }
                None
            }
        };
        self.after_write(&mut guard, written);
        drop(guard);
        if self.over() {
            self.evict_elsewhere(index);
        }
        outcome
    }

    /// Puts `entry` at `key`, whose `slot` in a shard with `queue` and `next_id` is given:
    /// the id of the entry written; `None` when it alone weighs more than the bound (it is
    /// then not kept, and what `key` held is removed).
    fn put(
        &self,
        slot: Slot<'_, Item>,
        queue: &mut VecDeque<(u64, u64)>,
        next_id: &mut u64,
        hash: u64,
        key: &str,
        entry: Entry,
    ) -> Option<u64> {
        let weight = self.weigh(key, &entry);
        if u64::from(weight) > self.bound {
            if let Slot::Occupied(occupied) = slot {
                let (item, _) = occupied.remove();
                self.reweigh(item.weight, 0);
            }
            return None;
        }
        match slot {
            Slot::Occupied(mut occupied) => {
                let item = occupied.get_mut();
                self.reweigh(item.weight, weight);
                item.entry = entry;
                item.weight = weight;
                *item.visited.get_mut() = true;
                Some(item.id)
            }
            Slot::Vacant(vacant) => {
                let id = *next_id;
                *next_id += 1;
                vacant.insert(Item {
                    key: key.into(),
                    entry,
                    id,
                    weight,
                    visited: AtomicBool::new(false),
                });
                self.reweigh(0, weight);
                queue.push_back((hash, id));
                Some(id)
            }
        }
    }

    /// Moves the entry of `from` to `to` (replacing what `to` held) if `live` says it is
    /// live, both shards held at once: no reader sees the entry at neither key. Whether it
    /// moved.
    pub(super) fn rename(&self, from: &str, to: &str, live: impl FnOnce(&Entry) -> bool) -> bool {
        let (from_hash, to_hash) = (self.hash(from), self.hash(to));
        let (from_index, to_index) = (Self::shard_of(from_hash), Self::shard_of(to_hash));
        // Locked in ascending order, so that two renames never wait for each other.
        let mut low = self.write_shard(from_index.min(to_index));
        let mut high = (from_index != to_index).then(|| self.write_shard(from_index.max(to_index)));
        let source = either(&mut low, high.as_deref_mut(), from_index > to_index);
        let Ok(occupied) = source
            .table
            .find_entry(from_hash, |item| *item.key == *from)
        else {
            return false;
        };
        if !live(&occupied.get().entry) {
            return false;
        }
        let (item, _) = occupied.remove();
        self.reweigh(item.weight, 0);
        self.after_write(source, None);
        let Shard {
            table,
            queue,
            next_id,
            ..
        } = either(&mut low, high.as_deref_mut(), to_index > from_index);
        let slot = table.entry(
            to_hash,
            |item| *item.key == *to,
            |item| self.hasher.hash_one(&*item.key),
        );
        let written = self.put(slot, queue, next_id, to_hash, to, item.entry);
        self.after_write(
            either(&mut low, high.as_deref_mut(), to_index > from_index),
            written,
        );
        drop(high);
        drop(low);
        if self.over() {
            self.evict_elsewhere(to_index);
        }
        true
    }

    fn reweigh(&self, old: u32, new: u32) {
        if new >= old {
            self.weight
                .fetch_add(u64::from(new - old), Ordering::Relaxed);
        } else {
            self.weight
                .fetch_sub(u64::from(old - new), Ordering::Relaxed);
        }
    }

    /// After a write to `shard`: the shard evicts while the map is over its bound (never
    /// `written`, the entry just written), is swept when due, and its queue is compacted when
    /// mostly stale.
    fn after_write(&self, shard: &mut Shard, written: Option<u64>) {
        shard.writes += 1;
        if shard.writes >= shard.table.len().max(SWEEP_AFTER) {
            shard.writes = 0;
            self.sweep(shard, Instant::now());
        }
        if self.over() {
            self.evict(shard, written, Instant::now());
        }
        if shard.queue.len() > 2 * shard.table.len() + SWEEP_AFTER {
            let Shard { table, queue, .. } = shard;
            queue.retain(|(hash, id)| table.find(*hash, |item| item.id == *id).is_some());
        }
    }

    /// Drops the expired entries of `shard`.
    fn sweep(&self, shard: &mut Shard, now: Instant) {
        let mut removed = 0u64;
        shard.table.retain(|item| {
            let live = item.entry.is_live(now);
            if !live {
                removed += u64::from(item.weight);
            }
            live
        });
        self.weight.fetch_sub(removed, Ordering::Relaxed);
    }

    /// CLOCK on `shard` while the map is over its bound (see the module documentation),
    /// sparing `protected`; at most two turns of its queue.
    fn evict(&self, shard: &mut Shard, protected: Option<u64>, now: Instant) {
        let mut turns = 2 * shard.queue.len();
        while self.over() && turns > 0 {
            turns -= 1;
            let Some((hash, id)) = shard.queue.pop_front() else {
                break;
            };
            let Ok(occupied) = shard.table.find_entry(hash, |item| item.id == id) else {
                continue; // stale
            };
            let item = occupied.get();
            let spared = protected == Some(id)
                || (item.visited.swap(false, Ordering::Relaxed) && item.entry.is_live(now));
            if spared {
                shard.queue.push_back((hash, id));
                continue;
            }
            let (item, _) = occupied.remove();
            self.reweigh(item.weight, 0);
        }
    }

    /// Evicts from the other shards in turn while the map is over its bound (the written
    /// shard `written` had nothing more to give).
    fn evict_elsewhere(&self, written: usize) {
        let now = Instant::now();
        for _ in 0..SHARDS {
            if !self.over() {
                return;
            }
            let index = self.hand.fetch_add(1, Ordering::Relaxed) % SHARDS;
            if index != written {
                self.evict(&mut self.write_shard(index), None, now);
            }
        }
    }

    /// Every key with its entry (expired or not): a snapshot, shard by shard.
    pub(super) fn iter(&self) -> Vec<(String, Entry)> {
        (0..SHARDS)
            .flat_map(|index| {
                self.read_shard(index)
                    .table
                    .iter()
                    .map(|item| (item.key.to_string(), item.entry.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Removes every entry.
    pub(super) fn invalidate_all(&self) {
        for index in 0..SHARDS {
            let mut shard = self.write_shard(index);
            let removed: u64 = shard.table.iter().map(|item| u64::from(item.weight)).sum();
            shard.table.clear();
            shard.queue.clear();
            self.weight.fetch_sub(removed, Ordering::Relaxed);
        }
    }

    /// Sweeps every shard of its expired entries now.
    pub(super) fn run_pending_tasks(&self) {
        let now = Instant::now();
        for index in 0..SHARDS {
            let mut shard = self.write_shard(index);
            shard.writes = 0;
            self.sweep(&mut shard, now);
        }
    }

    /// How many entries it holds (expired ones too, until swept).
    pub(super) fn entry_count(&self) -> u64 {
        (0..SHARDS)
            .map(|index| self.read_shard(index).table.len() as u64)
            .sum()
    }

    /// The total weight of its entries: entries, or bytes when bounded by bytes.
    pub(super) fn weighted_size(&self) -> u64 {
        self.weight.load(Ordering::Relaxed)
    }
}

/// The shard of two held at once that is wanted: `high` when there are two and `want_high`.
fn either<'a>(low: &'a mut Shard, high: Option<&'a mut Shard>, want_high: bool) -> &'a mut Shard {
    match high {
        Some(high) if want_high => high,
        _ => low,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::backend::Expiry;

    fn put(map: &Map, key: &str, value: &[u8], expiry: Expiry) {
        map.compute(key, |_| (Op::Put(Entry::new(value.to_vec(), expiry)), ()));
    }

    fn live(map: &Map, key: &str) -> bool {
        map.read(key, Entry::is_live_now).unwrap_or(false)
    }

    /// `count` keys named `{prefix}{n}` that all fall in shard 0: the evictor's order within
    /// a shard is exact (across shards it is per shard, so only about the same).
    fn one_shard(map: &Map, prefix: &str, count: usize) -> Vec<String> {
        (0..)
            .map(|n| format!("{prefix}{n}"))
            .filter(|key| Map::shard_of(map.hash(key)) == 0)
            .take(count)
            .collect()
    }

    fn queued(map: &Map) -> usize {
        (0..SHARDS)
            .map(|index| map.read_shard(index).queue.len())
            .sum()
    }

    #[test]
    fn eviction_spares_the_entries_read_since_it_last_passed() {
        let map = Map::new(Bound::Entries(1_000));
        let old = one_shard(&map, "old", 1_000);
        for key in &old {
            put(&map, key, b"v", Expiry::Never);
        }
        // Every other key is read; then 200 new keys push 200 out: unread ones only.
        for key in old.iter().step_by(2) {
            assert!(live(&map, key));
        }
        for key in one_shard(&map, "new", 200) {
            put(&map, &key, b"v", Expiry::Never);
        }
        assert_eq!(map.entry_count(), 1_000);
        let kept = |skip: usize| {
            old.iter()
                .skip(skip)
                .step_by(2)
                .filter(|key| map.read(key, |_| ()).is_some())
                .count()
        };
        assert_eq!(kept(0), 500, "every entry read was kept");
        assert_eq!(kept(1), 300, "the 200 evicted were unread");
    }

    #[test]
    fn writes_sweep_out_expired_entries_never_read() {
        let map = Map::new(Bound::Entries(100_000));
        for i in 0..100 {
            put(
                &map,
                &format!("short{i}"),
                b"v",
                Expiry::After(Duration::from_millis(1)),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
        for i in 0..5_000 {
            put(&map, &format!("k{i}"), b"v", Expiry::Never);
        }
        assert_eq!(map.entry_count(), 5_000, "the expired entries are gone");
        assert_eq!(map.weighted_size(), 5_000);
        // And at once when asked.
        for i in 0..100 {
            put(
                &map,
                &format!("short{i}"),
                b"v",
                Expiry::After(Duration::from_millis(1)),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
        map.run_pending_tasks();
        assert_eq!(map.entry_count(), 5_000);
    }

    #[test]
    fn expired_entries_are_evicted_before_live_ones() {
        let map = Map::new(Bound::Entries(200));
        let live_keys = one_shard(&map, "live", 100);
        for key in &live_keys {
            put(&map, key, b"v", Expiry::Never);
        }
        for key in one_shard(&map, "short", 100) {
            put(&map, &key, b"v", Expiry::After(Duration::from_millis(1)));
        }
        std::thread::sleep(Duration::from_millis(20));
        // Reads mark the live ones, so each gets a second chance.
        for key in &live_keys {
            assert!(live(&map, key));
        }
        for key in one_shard(&map, "new", 50) {
            put(&map, &key, b"v", Expiry::Never);
        }
        assert_eq!(map.entry_count(), 200);
        let kept = live_keys.iter().filter(|key| live(&map, key)).count();
        assert_eq!(kept, 100, "a live entry went while expired ones were there");
    }

    #[test]
    fn an_entry_heavier_than_the_bound_is_not_kept() {
        let map = Map::new(Bound::Bytes(1_000));
        put(&map, "k", b"small", Expiry::Never);
        assert!(live(&map, "k"));
        put(&map, "k", &[0; 2_000], Expiry::Never);
        assert!(!live(&map, "k"), "neither the heavy value nor the old one");
        assert_eq!(map.weighted_size(), 0);
        assert_eq!(map.entry_count(), 0);
    }

    #[test]
    fn removed_entries_do_not_pile_up_in_the_queue() {
        let map = Map::new(Bound::Entries(100));
        for i in 0..20_000 {
            let key = format!("k{i}");
            put(&map, &key, b"v", Expiry::Never);
            map.compute(&key, |_| (Op::Remove, ()));
        }
        assert_eq!(map.entry_count(), 0);
        assert_eq!(map.weighted_size(), 0);
        let queued = queued(&map);
        assert!(
            queued <= SHARDS * (SWEEP_AFTER + 1),
            "{queued} stale items queued"
        );
    }

    #[test]
    fn renames_move_entries_within_a_shard_and_across() {
        let map = Map::new(Bound::Bytes(1_000_000));
        // 200 pairs: some land in one shard (one lock), most in two.
        for i in 0..200 {
            put(&map, &format!("from{i}"), b"value", Expiry::Never);
        }
        let before = map.weighted_size();
        for i in 0..200 {
            assert!(map.rename(&format!("from{i}"), &format!("to{i}"), Entry::is_live_now));
            assert!(!live(&map, &format!("from{i}")));
            assert!(live(&map, &format!("to{i}")));
        }
        assert!(!map.rename("missing", "to0", Entry::is_live_now));
        let pair = one_shard(&map, "same", 2);
        put(&map, &pair[0], b"value", Expiry::Never);
        assert!(map.rename(&pair[0], &pair[1], Entry::is_live_now));
        assert!(live(&map, &pair[1]) && !live(&map, &pair[0]));
        map.compute(&pair[1], |_| (Op::Remove, ()));
        assert_eq!(map.entry_count(), 200);
        // Each key is 2 bytes shorter: "to" for "from".
        assert_eq!(map.weighted_size(), before - 2 * 200);
    }
}
