//! The embedded in-memory backend: a bounded concurrent map ([moka]'s eviction) of encoded
//! values and data structures with per-entry expiry, with the semantics of the Redis commands
//! the cache uses, so that the same suite passes here and on a server.
//!
//! Values are stored encoded, exactly as a server would hold them: what comes back out went
//! through the codec, and an integer written by `set` can be incremented. Expiry is lazy: an
//! expired entry is never returned, and moka drops it on its own schedule. Hashes, lists,
//! sets and sorted sets are changed in place under the key's compute (atomic for that key);
//! a collection left empty is removed, as Redis removes it.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use moka::ops::compute::Op;
use moka::policy::EvictionPolicy;
use moka::sync::Cache as Map;
use tokio::sync::Notify;

use super::{Command, Cursor, End, Expiry, RawStore, Reply, ScanPage, SetMode, glob};
use crate::codec::counter_value;
use crate::{Error, Result};

/// The default bound on the number of entries.
pub(crate) const DEFAULT_MAX_ENTRIES: u64 = 10_000;

/// A collection, changed in place under its key's compute.
type Shared<T> = Arc<Mutex<T>>;

/// What a key holds: Redis's types.
#[derive(Clone)]
enum Data {
    Bytes(Bytes),
    Hash(Shared<HashMap<Vec<u8>, Vec<u8>>>),
    List(Shared<VecDeque<Vec<u8>>>),
    Set(Shared<HashSet<Vec<u8>>>),
    Zset(Shared<SortedSet>),
}

impl Data {
    /// `TYPE`'s name of it.
    fn type_name(&self) -> &'static str {
        match self {
            Data::Bytes(_) => "string",
            Data::Hash(_) => "hash",
            Data::List(_) => "list",
            Data::Set(_) => "set",
            Data::Zset(_) => "zset",
        }
    }
}

#[derive(Clone)]
struct Entry {
    data: Data,
    expires_at: Option<Instant>,
}

impl Entry {
    fn new(value: Vec<u8>, expiry: Expiry) -> Self {
        Entry {
            data: Data::Bytes(value.into()),
            expires_at: deadline(expiry),
        }
    }

    fn is_live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| at > now)
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

/// Redis's `WRONGTYPE` error.
fn wrong_type(key: &str) -> Error {
    Error::WrongType {
        key: key.to_owned(),
        detail: "WRONGTYPE Operation against a key holding the wrong kind of value".to_owned(),
    }
}

/// When an expiry ends, from now; a duration too long to represent never ends.
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

/// A score, ordered as Redis orders them (never NaN: the cache refuses NaN scores, and
/// `-0.0` is stored as `0.0`).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Score(f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A sorted set: members by score, ties by member bytes (Redis's order), and each member's
/// score.
#[derive(Default)]
struct SortedSet {
    order: BTreeSet<(Score, Vec<u8>)>,
    scores: HashMap<Vec<u8>, f64>,
}

impl SortedSet {
    /// Sets a member's score; whether the member is new.
    fn insert(&mut self, score: f64, member: Vec<u8>) -> bool {
        let score = if score == 0.0 { 0.0 } else { score };
        let old = self.scores.insert(member.clone(), score);
        if let Some(old) = old {
            self.order.remove(&(Score(old), member.clone()));
        }
        self.order.insert((Score(score), member));
        old.is_none()
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        match self.scores.remove(member) {
            Some(score) => self.order.remove(&(Score(score), member.to_vec())),
            None => false,
        }
    }

    /// Members in order, lowest score first or (`reverse`) highest first.
    fn ordered(&self, reverse: bool) -> Box<dyn Iterator<Item = &(Score, Vec<u8>)> + '_> {
        if reverse {
            Box::new(self.order.iter().rev())
        } else {
            Box::new(self.order.iter())
        }
    }
}

/// A collection type a key can hold.
trait Collection: Default + Send + 'static {
    fn wrap(shared: Shared<Self>) -> Data;
    fn of(data: &Data) -> Option<&Shared<Self>>;
    fn is_empty(&self) -> bool;
}

macro_rules! collection {
    ($type:ty, $variant:ident, $empty:expr) => {
        impl Collection for $type {
            fn wrap(shared: Shared<Self>) -> Data {
                Data::$variant(shared)
            }
            fn of(data: &Data) -> Option<&Shared<Self>> {
                match data {
                    Data::$variant(shared) => Some(shared),
                    _ => None,
                }
            }
            fn is_empty(&self) -> bool {
                let empty: fn(&Self) -> bool = $empty;
                empty(self)
            }
        }
    };
}

collection!(HashMap<Vec<u8>, Vec<u8>>, Hash, HashMap::is_empty);
collection!(VecDeque<Vec<u8>>, List, VecDeque::is_empty);
collection!(HashSet<Vec<u8>>, Set, HashSet::is_empty);
collection!(SortedSet, Zset, |set| set.scores.is_empty());

/// Locks a collection; a panic of another thread while it held the lock left it usable.
fn lock<T>(shared: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
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

fn count(n: usize) -> Reply {
    Reply::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn flag(set: bool) -> Reply {
    Reply::Int(i64::from(set))
}

fn bulk(bytes: Option<Vec<u8>>) -> Reply {
    bytes.map_or(Reply::Nil, Reply::Bytes)
}

fn array<I: IntoIterator<Item = Vec<u8>>>(items: I) -> Reply {
    Reply::Array(items.into_iter().map(Reply::Bytes).collect())
}

/// A score as Redis writes it in replies.
fn score_text(score: f64) -> Vec<u8> {
    score.to_string().into_bytes()
}

/// A sorted set's members, with their scores when asked, as `ZRANGE` replies.
fn scored<'a>(items: impl Iterator<Item = &'a (Score, Vec<u8>)>, with_scores: bool) -> Reply {
    let mut reply = Vec::new();
    for (score, member) in items {
        reply.push(Reply::Bytes(member.clone()));
        if with_scores {
            reply.push(Reply::Bytes(score_text(score.0)));
        }
    }
    Reply::Array(reply)
}

/// The in-memory store. Every write goes through moka's per-key compute, so that writes of one
/// key are ordered with one another (`set` against `incr`, say), as on a server. Cloning is
/// cheap and gives the same store.
#[derive(Clone)]
pub(crate) struct Memory {
    entries: Map<String, Entry>,
    /// Renames are serialized: each holds one key's compute while it writes the other, and two
    /// crossing renames must never wait for each other.
    renames: Arc<Mutex<()>>,
    /// Woken whenever a list gets new items, for blocking pops.
    pushes: Arc<Notify>,
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
            renames: Arc::default(),
            pushes: Arc::default(),
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

    /// The bytes of a live string key (`GET`): shared, not copied.
    fn string(&self, key: &str) -> Result<Option<Bytes>> {
        self.live(key)
            .map(|entry| entry.bytes(key).cloned())
            .transpose()
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

    /// Reads the collection of `key` (`None` when the key is missing; `WRONGTYPE` when it
    /// holds another type).
    fn read<C: Collection, R>(&self, key: &str, read: impl FnOnce(&C) -> R) -> Result<Option<R>> {
        let Some(entry) = self.live(key) else {
            return Ok(None);
        };
        let shared = C::of(&entry.data).ok_or_else(|| wrong_type(key))?;
        Ok(Some(read(&lock(shared))))
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
        self.update(key, Ok(None), |current| match current {
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
                    let outcome = change(&mut collection);
                    let op = if collection.is_empty() {
                        Op::Remove
                    } else {
                        Op::Nop
                    };
                    (op, outcome.map(Some))
                }
            },
        })
    }

    /// Sets the deadline of a live key (`PEXPIRE`, `PEXPIREAT`, `PERSIST`); a deadline in
    /// the past deletes it. Whether the key existed.
    fn set_deadline(&self, key: &str, millis_from_now: Option<i64>) -> bool {
        self.update(key, false, |current| match (current, millis_from_now) {
            (None, _) => (Op::Nop, false),
            (Some(_), Some(millis)) if millis <= 0 => (Op::Remove, true),
            (Some(entry), Some(millis)) => {
                let millis = millis.unsigned_abs();
                let at = Instant::now().checked_add(Duration::from_millis(millis));
                (Op::Put(entry.expiring(at)), true)
            }
            (Some(entry), None) => (Op::Put(entry.expiring(None)), true),
        })
    }

    /// Pops from the first of `keys` whose list has items: `[key, value]`.
    fn pop_first(&self, keys: &[String], end: End) -> Result<Option<Reply>> {
        for key in keys {
            if let Some(Some(value)) = self.modify(key, false, |list: &mut VecDeque<Vec<u8>>| {
                Ok(pop(list, end))
            })? {
                return Ok(Some(array([key.clone().into_bytes(), value])));
            }
        }
        Ok(None)
    }

    /// `BLPOP`/`BRPOP`: waits for an item on the bridge runtime (which always has a timer),
    /// woken by every push.
    async fn blocking_pop(
        &self,
        keys: Vec<String>,
        end: End,
        timeout: Option<Duration>,
    ) -> Result<Reply> {
        let memory = self.clone();
        let deadline = timeout.and_then(|timeout| tokio::time::Instant::now().checked_add(timeout));
        let wait = async move {
            loop {
                let pushed = memory.pushes.notified();
                let mut pushed = std::pin::pin!(pushed);
                pushed.as_mut().enable();
                if let Some(reply) = memory.pop_first(&keys, end)? {
                    return Ok(reply);
                }
                match deadline {
                    Some(deadline) => {
                        if tokio::time::timeout_at(deadline, pushed).await.is_err() {
                            return Ok(Reply::Nil);
                        }
                    }
                    None => pushed.await,
                }
            }
        };
        match crate::bridge::spawn(wait) {
            Some(waiting) => waiting.await.map_err(|err| {
                Error::Server(format!("the blocking pop's waiting task failed: {err}"))
            })?,
            None => Err(Error::Unsupported {
                operation: "blocking pop",
                reason: "cachex's bridge runtime could not be started".to_owned(),
            }),
        }
    }

    fn execute_now(&self, command: Command) -> Result<Reply> {
        type Hash = HashMap<Vec<u8>, Vec<u8>>;
        type List = VecDeque<Vec<u8>>;
        type Set = HashSet<Vec<u8>>;
        use Command::*;
        Ok(match command {
            Pttl(key) => Reply::Int(match self.live(&key) {
                None => -2,
                Some(Entry {
                    expires_at: None, ..
                }) => -1,
                Some(Entry {
                    expires_at: Some(at),
                    ..
                }) => {
                    let left = at.saturating_duration_since(Instant::now());
                    i64::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)
                }
            }),
            Pexpire { key, millis } => flag(self.set_deadline(&key, Some(millis))),
            PexpireAt { key, unix_millis } => {
                flag(self.set_deadline(&key, Some(unix_millis.saturating_sub(unix_millis_now()))))
            }
            Persist(key) => flag(self.update(key.as_str(), false, |current| match current {
                Some(entry) if entry.expires_at.is_some() => (Op::Put(entry.expiring(None)), true),
                _ => (Op::Nop, false),
            })),
            Type(key) => Reply::Status(
                self.live(&key)
                    .map_or("none", |entry| entry.data.type_name())
                    .to_owned(),
            ),
            RenameNx { from, to } => {
                let _serialized = lock(&self.renames);
                if self.live(&from).is_none() {
                    return Err(Error::NotFound { key: from });
                }
                if self.live(&to).is_some() {
                    return Ok(flag(false));
                }
                flag(self.rename_now(&from, &to))
            }
            SetGet { key, value, expiry } => {
                let entry = Entry::new(value, expiry);
                bulk(self.update(&key, Ok(None), |current| match current {
                    None => (Op::Put(entry), Ok(None)),
                    Some(old) => match old.bytes(&key) {
                        Ok(bytes) => (Op::Put(entry), Ok(Some(bytes.to_vec()))),
                        Err(err) => (Op::Nop, Err(err)),
                    },
                })?)
            }
            GetDel(key) => bulk(self.update(&key, Ok(None), |current| match current {
                None => (Op::Nop, Ok(None)),
                Some(old) => match old.bytes(&key) {
                    Ok(bytes) => (Op::Remove, Ok(Some(bytes.to_vec()))),
                    Err(err) => (Op::Nop, Err(err)),
                },
            })?),
            GetPttl(key) => {
                let value = bulk(self.string(&key)?.map(Vec::from));
                let ttl = self.execute_now(Pttl(key))?;
                Reply::Array(vec![value, ttl])
            }
            DeleteIfEquals { key, token } => {
                flag(self.update(
                    &key,
                    false,
                    |current| match current.map(|entry| &entry.data) {
                        Some(Data::Bytes(held)) if **held == *token => (Op::Remove, true),
                        _ => (Op::Nop, false),
                    },
                ))
            }
            ExpireIfEquals { key, token, millis } => {
                flag(self.update(&key, false, |current| match current {
                    Some(entry) if matches!(&entry.data, Data::Bytes(held) if **held == *token) => {
                        let at = Instant::now().checked_add(Duration::from_millis(millis));
                        (Op::Put(entry.expiring(at)), true)
                    }
                    _ => (Op::Nop, false),
                }))
            }
            Hset { key, pairs } => count(
                self.modify(&key, true, |hash: &mut Hash| {
                    Ok(pairs
                        .into_iter()
                        .filter(|(field, value)| {
                            hash.insert(field.clone(), value.clone()).is_none()
                        })
                        .count())
                })?
                .unwrap_or(0),
            ),
            HsetNx { key, field, value } => flag(
                self.modify(&key, true, |hash: &mut Hash| {
                    Ok(match hash.entry(field) {
                        std::collections::hash_map::Entry::Occupied(_) => false,
                        std::collections::hash_map::Entry::Vacant(vacant) => {
                            vacant.insert(value);
                            true
                        }
                    })
                })?
                .unwrap_or(false),
            ),
            Hget { key, field } => bulk(
                self.read(&key, |hash: &Hash| hash.get(&field).cloned())?
                    .flatten(),
            ),
            Hmget { key, fields } => {
                let values = self
                    .read(&key, |hash: &Hash| {
                        fields
                            .iter()
                            .map(|field| hash.get(field).cloned())
                            .collect()
                    })?
                    .unwrap_or_else(|| vec![None; fields.len()]);
                Reply::Array(values.into_iter().map(bulk).collect())
            }
            HgetAll(key) => array(
                self.read(&key, |hash: &Hash| {
                    hash.iter()
                        .flat_map(|(field, value)| [field.clone(), value.clone()])
                        .collect::<Vec<_>>()
                })?
                .unwrap_or_default(),
            ),
            Hdel { key, fields } => count(
                self.modify(&key, false, |hash: &mut Hash| {
                    Ok(fields
                        .iter()
                        .filter(|field| hash.remove(*field).is_some())
                        .count())
                })?
                .unwrap_or(0),
            ),
            Hlen(key) => count(self.read(&key, |hash: &Hash| hash.len())?.unwrap_or(0)),
            Hkeys(key) => array(
                self.read(&key, |hash: &Hash| hash.keys().cloned().collect::<Vec<_>>())?
                    .unwrap_or_default(),
            ),
            Hvals(key) => array(
                self.read(&key, |hash: &Hash| {
                    hash.values().cloned().collect::<Vec<_>>()
                })?
                .unwrap_or_default(),
            ),
            Hexists { key, field } => flag(
                self.read(&key, |hash: &Hash| hash.contains_key(&field))?
                    .unwrap_or(false),
            ),
            HincrBy { key, field, delta } => {
                let sum = self.modify(&key, true, |hash: &mut Hash| {
                    let current = match hash.get(&field) {
                        None => 0,
                        Some(value) => counter_value(value).ok_or_else(|| Error::WrongType {
                            key: key.clone(),
                            detail: "hash value is not an integer".to_owned(),
                        })?,
                    };
                    let sum = current.checked_add(delta).ok_or_else(|| Error::WrongType {
                        key: key.clone(),
                        detail: "increment or decrement would overflow".to_owned(),
                    })?;
                    hash.insert(field, sum.to_string().into_bytes());
                    Ok(sum)
                })?;
                Reply::Int(sum.unwrap_or(delta))
            }
            Push { key, end, values } => {
                let len = self
                    .modify(&key, true, |list: &mut List| {
                        for value in values {
                            match end {
                                End::Left => list.push_front(value),
                                End::Right => list.push_back(value),
                            }
                        }
                        Ok(list.len())
                    })?
                    .unwrap_or(0);
                self.pushes.notify_waiters();
                count(len)
            }
            Pop { key, end } => bulk(
                self.modify(&key, false, |list: &mut List| Ok(pop(list, end)))?
                    .flatten(),
            ),
            BlockingPop { .. } => {
                return Err(Error::Unsupported {
                    operation: "blocking pop",
                    reason: "a blocking pop waits: it is not answered at once".to_owned(),
                });
            }
            Lrange { key, start, stop } => array(
                self.read(&key, |list: &List| {
                    match index_range(list.len(), start, stop) {
                        Some((first, last)) => list.range(first..=last).cloned().collect(),
                        None => Vec::new(),
                    }
                })?
                .unwrap_or_default(),
            ),
            Lindex { key, index: at } => bulk(
                self.read(&key, |list: &List| {
                    index(list.len(), at).and_then(|at| list.get(at).cloned())
                })?
                .flatten(),
            ),
            Llen(key) => count(self.read(&key, |list: &List| list.len())?.unwrap_or(0)),
            Lrem {
                key,
                count: limit,
                value,
            } => count(
                self.modify(&key, false, |list: &mut List| {
                    Ok(remove_from(list, limit, &value))
                })?
                .unwrap_or(0),
            ),
            Ltrim { key, start, stop } => {
                self.modify(&key, false, |list: &mut List| {
                    match index_range(list.len(), start, stop) {
                        Some((first, last)) => {
                            list.truncate(last + 1);
                            list.drain(..first);
                        }
                        None => list.clear(),
                    }
                    Ok(())
                })?;
                Reply::Status("OK".to_owned())
            }
            Lset {
                key,
                index: at,
                value,
            } => {
                let set = self.modify(&key, false, |list: &mut List| {
                    match index(list.len(), at).and_then(|at| list.get_mut(at)) {
                        Some(item) => {
                            *item = value;
                            Ok(())
                        }
                        None => Err(Error::InvalidArgument("index out of range".to_owned())),
                    }
                })?;
                match set {
                    Some(()) => Reply::Status("OK".to_owned()),
                    None => return Err(Error::NotFound { key }),
                }
            }
            Sadd { key, members } => count(
                self.modify(&key, true, |set: &mut Set| {
                    Ok(members
                        .into_iter()
                        .filter(|member| set.insert(member.clone()))
                        .count())
                })?
                .unwrap_or(0),
            ),
            Srem { key, members } => count(
                self.modify(&key, false, |set: &mut Set| {
                    Ok(members.iter().filter(|member| set.remove(*member)).count())
                })?
                .unwrap_or(0),
            ),
            Smembers(key) => array(
                self.read(&key, |set: &Set| set.iter().cloned().collect::<Vec<_>>())?
                    .unwrap_or_default(),
            ),
            SisMember { key, member } => flag(
                self.read(&key, |set: &Set| set.contains(&member))?
                    .unwrap_or(false),
            ),
            Scard(key) => count(self.read(&key, |set: &Set| set.len())?.unwrap_or(0)),
            Spop(key) => bulk(
                self.modify(&key, false, |set: &mut Set| {
                    let chosen = pick(set.len()).and_then(|at| set.iter().nth(at).cloned());
                    if let Some(member) = &chosen {
                        set.remove(member);
                    }
                    Ok(chosen)
                })?
                .flatten(),
            ),
            SrandMember { key, count: wanted } => array(
                self.read(&key, |set: &Set| random_members(set, wanted))?
                    .unwrap_or_default(),
            ),
            SetOp { op, keys } => {
                let mut sets = Vec::with_capacity(keys.len());
                for key in &keys {
                    sets.push(self.read(key, |set: &Set| set.clone())?.unwrap_or_default());
                }
                let mut sets = sets.into_iter();
                let first = sets.next().unwrap_or_default();
                array(sets.fold(first, |acc, set| match op {
                    super::SetOp::Inter => acc.intersection(&set).cloned().collect(),
                    super::SetOp::Union => acc.union(&set).cloned().collect(),
                    super::SetOp::Diff => acc.difference(&set).cloned().collect(),
                }))
            }
            Zadd { key, members } => count(
                self.modify(&key, true, |zset: &mut SortedSet| {
                    Ok(members
                        .into_iter()
                        .filter(|(score, member)| zset.insert(*score, member.clone()))
                        .count())
                })?
                .unwrap_or(0),
            ),
            Zrem { key, members } => count(
                self.modify(&key, false, |zset: &mut SortedSet| {
                    Ok(members.iter().filter(|member| zset.remove(member)).count())
                })?
                .unwrap_or(0),
            ),
            Zscore { key, member } => bulk(
                self.read(&key, |zset: &SortedSet| {
                    zset.scores.get(&member).map(|score| score_text(*score))
                })?
                .flatten(),
            ),
            Zrank {
                key,
                member,
                reverse,
            } => self
                .read(&key, |zset: &SortedSet| {
                    zset.ordered(reverse).position(|(_, item)| *item == member)
                })?
                .flatten()
                .map_or(Reply::Nil, count),
            Zrange {
                key,
                start,
                stop,
                reverse,
                with_scores,
            } => self
                .read(&key, |zset: &SortedSet| {
                    match index_range(zset.order.len(), start, stop) {
                        Some((first, last)) => scored(
                            zset.ordered(reverse).skip(first).take(last + 1 - first),
                            with_scores,
                        ),
                        None => Reply::Array(Vec::new()),
                    }
                })?
                .unwrap_or(Reply::Array(Vec::new())),
            ZrangeByScore {
                key,
                min,
                max,
                with_scores,
            } => self
                .read(&key, |zset: &SortedSet| {
                    scored(
                        zset.order
                            .iter()
                            .filter(|(score, _)| min <= score.0 && score.0 <= max),
                        with_scores,
                    )
                })?
                .unwrap_or(Reply::Array(Vec::new())),
            ZincrBy { key, delta, member } => {
                let score = self.modify(&key, true, |zset: &mut SortedSet| {
                    let score = zset.scores.get(&member).copied().unwrap_or(0.0) + delta;
                    if score.is_nan() {
                        return Err(Error::InvalidArgument(
                            "resulting score is not a number (NaN)".to_owned(),
                        ));
                    }
                    zset.insert(score, member);
                    Ok(score)
                })?;
                bulk(score.map(score_text))
            }
            Zcard(key) => count(
                self.read(&key, |zset: &SortedSet| zset.scores.len())?
                    .unwrap_or(0),
            ),
            Zcount { key, min, max } => count(
                self.read(&key, |zset: &SortedSet| {
                    zset.order
                        .iter()
                        .filter(|(score, _)| min <= score.0 && score.0 <= max)
                        .count()
                })?
                .unwrap_or(0),
            ),
            Zpop {
                key,
                count: wanted,
                max,
            } => self
                .modify(&key, false, |zset: &mut SortedSet| {
                    let taken: Vec<(Score, Vec<u8>)> = zset
                        .ordered(max)
                        .take(usize::try_from(wanted).unwrap_or(usize::MAX))
                        .cloned()
                        .collect();
                    for (_, member) in &taken {
                        zset.remove(member);
                    }
                    Ok(scored(taken.iter(), true))
                })?
                .unwrap_or(Reply::Array(Vec::new())),
        })
    }

    /// Moves `from` to `to` (the caller holds `renames`); whether `from` existed.
    fn rename_now(&self, from: &str, to: &str) -> bool {
        // The destination is written while the source is held, then the source removed: a
        // reader sees the value at one key or both, never at neither, as with Redis's RENAME.
        self.update(from, false, |current| match current {
            Some(entry) => {
                self.put(to, entry.clone());
                (Op::Remove, true)
            }
            None => (Op::Nop, false),
        })
    }
}

fn pop(list: &mut VecDeque<Vec<u8>>, end: End) -> Option<Vec<u8>> {
    match end {
        End::Left => list.pop_front(),
        End::Right => list.pop_back(),
    }
}

/// `LREM`: removes up to `count` items equal to `value` from the head (`count > 0`), the tail
/// (`count < 0`) or everywhere (`0`); how many were removed.
fn remove_from(list: &mut VecDeque<Vec<u8>>, count: i64, value: &[u8]) -> usize {
    let limit = match count {
        0 => usize::MAX,
        count => usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX),
    };
    let matching = list
        .iter()
        .enumerate()
        .filter(|(_, item)| item.as_slice() == value)
        .map(|(at, _)| at);
    let mut positions: Vec<usize> = if count < 0 {
        matching.rev().take(limit).collect()
    } else {
        matching.take(limit).collect()
    };
    positions.sort_unstable();
    for at in positions.iter().rev() {
        list.remove(*at);
    }
    positions.len()
}

/// A random position below `len`; `None` when `len` is 0.
fn pick(len: usize) -> Option<usize> {
    (len > 0).then(|| fastrand::usize(..len))
}

/// `SRANDMEMBER key count`: distinct members when `count > 0`, `|count|` members with
/// repetitions when it is negative.
fn random_members(set: &HashSet<Vec<u8>>, count: i64) -> Vec<Vec<u8>> {
    let members: Vec<&Vec<u8>> = set.iter().collect();
    let wanted = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    if count >= 0 {
        let mut chosen = members;
        fastrand::shuffle(&mut chosen);
        chosen.into_iter().take(wanted).cloned().collect()
    } else {
        (0..wanted)
            .filter_map(|_| pick(members.len()).map(|at| members[at].clone()))
            .collect()
    }
}

impl RawStore for Memory {
    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        self.string(key)
    }

    async fn set(&self, key: &str, value: Vec<u8>, expiry: Expiry, mode: SetMode) -> Result<bool> {
        let entry = Entry::new(value, expiry);
        if mode == SetMode::Always {
            self.put(key, entry);
            return Ok(true);
        }
        Ok(self.update(key, false, |current| {
            if current.is_some() == (mode == SetMode::IfPresent) {
                (Op::Put(entry), true)
            } else {
                (Op::Nop, false)
            }
        }))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>> {
        // `MGET` answers nil for keys of another type.
        Ok(keys
            .iter()
            .map(|key| self.string(key).ok().flatten())
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
                let bytes = match entry.bytes(key) {
                    Ok(bytes) => bytes,
                    Err(err) => return (Op::Nop, Err(err)),
                };
                match counter_value(bytes).and_then(|n| n.checked_add(delta)) {
                    Some(sum) => (
                        Op::Put(Entry {
                            data: Data::Bytes(sum.to_string().into_bytes().into()),
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
            Some(entry) => (Op::Put(entry.expiring(deadline(expiry))), true),
            None => (Op::Nop, false),
        }))
    }

    async fn rename(&self, from: &str, to: &str) -> Result<bool> {
        if from == to {
            return Ok(self.live(from).is_some());
        }
        let _serialized = lock(&self.renames);
        Ok(self.rename_now(from, to))
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

    async fn execute(&self, command: Command) -> Result<Reply> {
        match command {
            Command::BlockingPop { keys, end, timeout } => {
                self.blocking_pop(keys, end, timeout).await
            }
            command => self.execute_now(command),
        }
    }

    /// One page: every live matching key (a snapshot of the map).
    async fn scan(&self, _: Cursor, pattern: &str, _: usize) -> Result<ScanPage> {
        let now = Instant::now();
        let keys = self
            .entries
            .iter()
            .filter(|(key, entry)| {
                entry.is_live(now) && glob::matches(pattern.as_bytes(), key.as_bytes())
            })
            .map(|(key, _)| key.as_bytes().to_vec())
            .collect();
        Ok((keys, None))
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
            if last != Some(Bytes::from_static(b"1000"))
                && last != Some(Bytes::from_static(b"1001"))
            {
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
