//! Django's cache API as one `#[auto_async]` trait: every method written once, natively async;
//! the blocking surface, the `a()` view and the method handles are derived.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::load::LoadError;
use crate::lock::Lock;
use crate::ops::{
    ExpireCondition, ExpireTime, FieldExpiry, FieldsCondition, Info, InsertAt, ListEnd, SetOptions,
    SetOutcome, SlowlogEntry, ZaddOptions,
};
use crate::scan::{KeyScan, MemberScan};
use crate::semaphore::Permit;
use crate::stream::{
    AutoClaim, ClaimOptions, ConsumerInfo, GroupInfo, PendingEntry, PendingRange, PendingSummary,
    ReadFrom, ReadOptions, StreamEntry, StreamId, StreamInfo, StreamReads, Trim, XaddOptions,
};
use crate::{Result, auto_async};

/// How long a value is kept: the cache's default, forever, or a duration.
///
/// A zero duration (and a zero or negative number of seconds, as in Django) means "expired at
/// once": the value is not kept. Sub-millisecond durations round up to a millisecond.
///
/// ```
/// use cachex::Timeout;
/// use std::time::Duration;
///
/// assert_eq!(Timeout::from(Duration::from_secs(60)), Timeout::After(Duration::from_secs(60)));
/// assert_eq!(Timeout::seconds(60), Timeout::After(Duration::from_secs(60)));
/// assert_eq!(Timeout::seconds(-1), Timeout::After(Duration::ZERO));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timeout {
    /// The cache's default timeout (300 s unless configured; Django's `DEFAULT_TIMEOUT`).
    #[default]
    Default,
    /// Never expires (Django's `timeout=None`).
    Never,
    /// Expires after this long.
    After(Duration),
}

impl Timeout {
    /// Django's integer timeouts: seconds, zero or negative meaning "expired at once".
    pub fn seconds(seconds: i64) -> Self {
        Timeout::After(Duration::from_secs(seconds.max(0).unsigned_abs()))
    }
}

impl Timeout {
    /// Milliseconds, as Redis's `PEXPIRE` takes them: zero or negative means "expired at once".
    ///
    /// ```
    /// use cachex::Timeout;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Timeout::millis(1500), Timeout::After(Duration::from_millis(1500)));
    /// ```
    pub fn millis(millis: i64) -> Self {
        Timeout::After(Duration::from_millis(millis.max(0).unsigned_abs()))
    }
}

impl From<Duration> for Timeout {
    fn from(duration: Duration) -> Self {
        Timeout::After(duration)
    }
}

/// How long a key has left to live (`ttl`, `pttl`).
///
/// ```
/// use cachex::prelude::*;
/// use cachex::Ttl;
/// use std::time::Duration;
///
/// let cache = Cache::in_memory();
/// assert_eq!(cache.ttl("nothing")?, Ttl::Missing);
/// cache.set("forever", &1, Timeout::Never)?;
/// assert_eq!(cache.ttl("forever")?, Ttl::Persistent);
/// cache.set("soon", &1, Timeout::After(Duration::from_secs(60)))?;
/// assert_eq!(cache.ttl("soon")?, Ttl::Expires(Duration::from_secs(60)));
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist (or has expired).
    Missing,
    /// The key exists and never expires.
    Persistent,
    /// The key expires after this long.
    Expires(Duration),
}

impl Ttl {
    /// The same, rounded to the nearest second as Redis's `TTL` rounds.
    pub(crate) fn to_seconds(self) -> Ttl {
        match self {
            Ttl::Expires(left) => Ttl::Expires(Duration::from_secs(
                u64::try_from(left.as_millis())
                    .unwrap_or(u64::MAX)
                    .saturating_add(500)
                    / 1000,
            )),
            other => other,
        }
    }
}

/// What a key holds (`key_type`, Redis's `TYPE`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// A plain value (`set`, `incr`, ...).
    String,
    /// A hash (`hset`, ...).
    Hash,
    /// A list (`lpush`, ...).
    List,
    /// A set (`sadd`, ...).
    Set,
    /// A sorted set (`zadd`, ...).
    SortedSet,
    /// A stream (`xadd`, ...).
    Stream,
    /// A type cachex does not make (a module's type), by its Redis name.
    Other(String),
}

impl KeyType {
    /// The type of a Redis type name (`TYPE`'s answer); `None` for `none`, a missing key.
    pub(crate) fn named(name: &str) -> Option<KeyType> {
        Some(match name {
            "none" => return None,
            "string" => KeyType::String,
            "hash" => KeyType::Hash,
            "list" => KeyType::List,
            "set" => KeyType::Set,
            "zset" => KeyType::SortedSet,
            "stream" => KeyType::Stream,
            other => KeyType::Other(other.to_owned()),
        })
    }
}

/// Django's cache API, with Django's names and semantics. Bring it in with
/// `use cachex::prelude::*`.
///
/// Every method is native async (`aget`, `aset`, ...); the blocking `get`, `set`, ... and the
/// `a()` view are derived by [`auto_async`], and [`Cache`](crate::Cache) offers the method
/// handles (`cache.get.as_sync(..)`, `cache.get.as_async(..)`). Keys are the caller's keys: the
/// prefix, version and key function are applied inside, uniformly.
///
/// ```
/// use cachex::prelude::*;
///
/// let cache = Cache::in_memory();
/// cache.set("answer", &42, Timeout::Default)?;
/// assert_eq!(cache.get::<i64>("answer")?, Some(42));
/// assert_eq!(cache.incr("answer", 1)?, 43);
/// assert!(!cache.add("answer", &0, Timeout::Never)?);
/// # Ok::<(), cachex::Error>(())
/// ```
#[auto_async(crate = crate, forward(crate::Cache))]
pub trait CacheApi: Send + Sync {
    /// The value of `key`, or `None` when it is missing or expired.
    async fn get<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>>;

    /// Stores `value` under `key`.
    async fn set<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<()>;

    /// Stores `value` only if `key` is missing; says whether it stored.
    async fn add<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<bool>;

    /// Deletes `key`; says whether it existed.
    async fn delete(&self, key: &str) -> Result<bool>;

    /// The values of the keys that are present (missing keys are left out), in one round trip.
    async fn get_many<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
    ) -> Result<HashMap<String, V>>;

    /// Stores every item, in one round trip; returns the keys the server did not store. A value
    /// that cannot be encoded fails the whole call with [`Error::Encode`](crate::Error::Encode)
    /// before anything is sent.
    async fn set_many<V: Serialize + Sync>(
        &self,
        items: &[(&str, V)],
        timeout: Timeout,
    ) -> Result<Vec<String>>;

    /// Deletes every key; returns how many existed.
    async fn delete_many(&self, keys: &[&str]) -> Result<u64>;

    /// Whether `key` is present.
    async fn has_key(&self, key: &str) -> Result<bool>;

    /// Adds `delta` to the integer stored under `key`, atomically on the server, and returns
    /// the new value. A missing key is [`Error::NotFound`](crate::Error::NotFound) (Django's
    /// `ValueError`); a value that is not an integer is
    /// [`Error::WrongType`](crate::Error::WrongType).
    async fn incr(&self, key: &str, delta: i64) -> Result<i64>;

    /// Subtracts `delta`: `incr(key, -delta)`.
    async fn decr(&self, key: &str, delta: i64) -> Result<i64>;

    /// Like [`incr`](CacheApi::incr), but a missing key is created holding `delta` with
    /// `timeout` (an existing key keeps its own expiry). Atomic on the server.
    async fn incr_or_create(&self, key: &str, delta: i64, timeout: Timeout) -> Result<i64>;

    /// Sets a new timeout on `key`; says whether it existed.
    async fn touch(&self, key: &str, timeout: Timeout) -> Result<bool>;

    /// Deletes every key of this cache (its prefix, all versions), never other keys of the
    /// database; returns how many were deleted. See [`flush_db`](CacheApi::flush_db).
    async fn clear(&self) -> Result<u64>;

    /// Closes the connections; later calls open new ones.
    async fn close(&self) -> Result<()>;

    /// The value of `key`; on a miss, `default()` is computed, added and returned. Concurrent
    /// misses of one key in this process compute it once (so a default must not itself call
    /// `get_or_set` on the same key: it would wait for itself). As in Django, the value is
    /// added: if another process stored one first, that one is returned. A default that can
    /// fail belongs in [`try_get_or_set`](CacheApi::try_get_or_set): here a `Result` would be
    /// the value, and an `Err` stored for the whole timeout.
    async fn get_or_set<V, F>(&self, key: &str, default: F, timeout: Timeout) -> Result<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> V + Send;

    /// [`get_or_set`](CacheApi::get_or_set) with an async default, for async code.
    #[auto_async(skip)]
    fn aget_or_set_with<V, F, Fut>(
        &self,
        key: &str,
        default: F,
        timeout: Timeout,
    ) -> impl Future<Output = Result<V>> + Send
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = V> + Send;

    /// [`get_or_set`](CacheApi::get_or_set) with a loader that can fail: its `Err` is returned
    /// as [`LoadError::Loader`] and nothing is stored, so the next call runs a loader again;
    /// the cache's own errors are [`LoadError::Cache`]. Concurrent misses of one key in this
    /// process run one loader; when it fails, the callers waiting on it get its error (the
    /// same `Arc`) without running theirs. (A waiting caller whose loader has another error
    /// type, or cannot fail, runs its own instead.)
    ///
    /// ```
    /// use cachex::prelude::*;
    /// use cachex::LoadError;
    ///
    /// fn load_user(id: u32) -> Result<String, std::io::Error> {
    ///     Ok(format!("user {id}")) // a database query
    /// }
    ///
    /// let cache = Cache::in_memory();
    /// match cache.try_get_or_set("user:1", || load_user(1), Timeout::Default) {
    ///     Ok(user) => assert_eq!(user, "user 1"),
    ///     Err(LoadError::Loader(error)) => panic!("the database failed: {error}"),
    ///     Err(LoadError::Cache(error)) => panic!("the cache failed: {error}"),
    /// }
    /// ```
    async fn try_get_or_set<V, E, F>(
        &self,
        key: &str,
        loader: F,
        timeout: Timeout,
    ) -> Result<V, LoadError<E>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        E: Send + Sync + 'static,
        F: FnOnce() -> Result<V, E> + Send;

    /// [`try_get_or_set`](CacheApi::try_get_or_set) with an async loader, for async code.
    #[auto_async(skip)]
    fn atry_get_or_set_with<V, E, F, Fut>(
        &self,
        key: &str,
        loader: F,
        timeout: Timeout,
    ) -> impl Future<Output = Result<V, LoadError<E>>> + Send
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<V, E>> + Send;

    /// Moves the value of `key` to version + `delta`, keeping its timeout, and returns the new
    /// version. A missing key is [`Error::NotFound`](crate::Error::NotFound).
    async fn incr_version(&self, key: &str, delta: i64) -> Result<i64>;

    /// Moves the value of `key` to version - `delta`.
    async fn decr_version(&self, key: &str, delta: i64) -> Result<i64>;

    /// Deletes every key of the database, this cache's or not (Redis `FLUSHDB`).
    async fn flush_db(&self) -> Result<()>;

    /// [`get_or_set`](CacheApi::get_or_set) with probabilistic early recomputation (XFetch,
    /// Vattani et al.): a hit may recompute the value before it expires, with a probability
    /// that grows as expiry nears, so that a popular key is refreshed by one caller instead
    /// of being recomputed by every caller at once when it expires. `beta` scales how early
    /// (1.0 is the paper's default; 0 never recomputes early). The expected recompute time is
    /// how long this process last took to compute the key; until it has computed it once,
    /// hits are plain hits. An early recomputation stores the new value with `set`.
    async fn get_or_set_early<V, F>(
        &self,
        key: &str,
        default: F,
        timeout: Timeout,
        beta: f64,
    ) -> Result<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> V + Send;

    /// [`get_or_set_early`](CacheApi::get_or_set_early) with a loader that can fail, as
    /// [`try_get_or_set`](CacheApi::try_get_or_set): on a miss its error is returned and
    /// nothing is stored. An early recomputation that fails keeps the current value, which has
    /// not expired: the call returns it, and a later call tries again.
    async fn try_get_or_set_early<V, E, F>(
        &self,
        key: &str,
        loader: F,
        timeout: Timeout,
        beta: f64,
    ) -> Result<V, LoadError<E>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        E: Send + Sync + 'static,
        F: FnOnce() -> Result<V, E> + Send;

    /// Stores `value` only if `key` exists (Redis `SET XX`); says whether it stored.
    async fn replace<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<bool>;

    /// Stores `value` and returns the value it replaced (Redis `SET .. GET`; needs Redis 6.2
    /// or Valkey). A zero timeout deletes the key and returns its value.
    async fn swap<V>(&self, key: &str, value: &V, timeout: Timeout) -> Result<Option<V>>
    where
        V: Serialize + DeserializeOwned + Send + Sync;

    /// How long `key` has left, to the second (rounded as Redis's `TTL`).
    async fn ttl(&self, key: &str) -> Result<Ttl>;

    /// How long `key` has left, to the millisecond (`PTTL`).
    async fn pttl(&self, key: &str) -> Result<Ttl>;

    /// Gives `key` a new timeout, as [`touch`](CacheApi::touch) and `set` take it (`EXPIRE`):
    /// a [`Duration`] or a [`Timeout`], Redis's integer seconds as [`Timeout::seconds`]. Zero
    /// (or negative seconds) deletes the key, [`Timeout::Never`] removes its expiry. Says
    /// whether the key existed.
    ///
    /// ```
    /// use cachex::prelude::*;
    /// use std::time::Duration;
    ///
    /// let cache = Cache::in_memory();
    /// cache.set("k", &1, Timeout::Never)?;
    /// assert!(cache.expire("k", Duration::from_secs(60))?);
    /// assert!(cache.expire("k", Timeout::seconds(30))?);
    /// assert!(!cache.expire("missing", Duration::from_secs(60))?);
    /// # Ok::<(), cachex::Error>(())
    /// ```
    async fn expire(&self, key: &str, timeout: impl Into<Timeout> + Send) -> Result<bool>;

    /// [`expire`](CacheApi::expire) under Redis's millisecond name (`PEXPIRE`): both keep a
    /// duration to the millisecond; integer milliseconds are [`Timeout::millis`].
    async fn pexpire(&self, key: &str, timeout: impl Into<Timeout> + Send) -> Result<bool>;

    /// Makes `key` expire at `when` (`EXPIREAT`: a past time deletes it); says whether it
    /// existed. A Unix time in seconds is `UNIX_EPOCH + Duration::from_secs(seconds)`.
    async fn expire_at(&self, key: &str, when: SystemTime) -> Result<bool>;

    /// [`expire_at`](CacheApi::expire_at) under Redis's millisecond name (`PEXPIREAT`): both
    /// keep the time to the millisecond.
    async fn pexpire_at(&self, key: &str, when: SystemTime) -> Result<bool>;

    /// Removes the expiry of `key` (`PERSIST`); says whether it had one.
    async fn persist(&self, key: &str) -> Result<bool>;

    /// What `key` holds (Redis's `TYPE`; `type` is a Rust keyword), `None` when missing.
    #[doc(alias = "type")]
    async fn key_type(&self, key: &str) -> Result<Option<KeyType>>;

    /// The keys of this cache (current version) matching the glob `pattern` (`*`, `?`,
    /// `[abc]`), as the caller's keys. Scans with `SCAN`, never `KEYS`; for many keys prefer
    /// [`iter_keys`](CacheApi::iter_keys). With a custom key function, which cachex cannot
    /// reverse, the stored keys are returned.
    async fn keys(&self, pattern: &str) -> Result<Vec<String>>;

    /// The keys matching `pattern`, batch by batch: a [`KeyScan`] is a
    /// [`Stream`](futures_core::Stream) for async code and an [`IntoIterator`] for blocking
    /// code.
    ///
    /// [`CacheCore`](crate::CacheCore) injects a native blocking `iter_keys` (the macro's
    /// injection of a hand-written side): it builds the iterator directly, without crossing
    /// the bridge, and each `next()` that needs a new batch fetches it with one `SCAN`.
    ///
    /// ```
    /// use cachex::prelude::*;
    ///
    /// let cache = Cache::in_memory();
    /// cache.set("user:1", &1, Timeout::Never)?;
    /// cache.set("user:2", &2, Timeout::Never)?;
    /// let mut users = Vec::new();
    /// for key in cache.iter_keys("user:*")? {
    ///     users.push(key?);
    /// }
    /// users.sort();
    /// assert_eq!(users, ["user:1", "user:2"]);
    /// # Ok::<(), cachex::Error>(())
    /// ```
    async fn iter_keys(&self, pattern: &str) -> Result<KeyScan>;

    /// Deletes the keys of this cache (current version) matching `pattern`, in batches
    /// (`SCAN` + `UNLINK`); returns how many were deleted.
    async fn delete_pattern(&self, pattern: &str) -> Result<u64>;

    /// Renames `from` to `to` (overwriting it), keeping the value's expiry;
    /// [`Error::NotFound`](crate::Error::NotFound) when `from` is missing.
    async fn rename(&self, from: &str, to: &str) -> Result<()>;

    /// Renames `from` to `to` only if `to` is missing; says whether it renamed.
    async fn renamenx(&self, from: &str, to: &str) -> Result<bool>;

    /// Acquires a distributed lock on `key`: held for `lease` at most (it expires by itself
    /// if its holder dies), waiting up to `wait` for it (`Duration::ZERO`: one attempt).
    /// `None` when it could not be acquired in time. The [`Lock`] holds a unique token:
    /// releasing or extending it acts only while the lock is still this holder's.
    ///
    /// ```
    /// use cachex::prelude::*;
    /// use std::time::Duration;
    ///
    /// let cache = Cache::in_memory();
    /// let lock = cache.lock("report", Duration::from_secs(30), Duration::ZERO)?.expect("free");
    /// assert!(cache.lock("report", Duration::from_secs(30), Duration::ZERO)?.is_none());
    /// assert!(lock.release()?);
    /// # Ok::<(), cachex::Error>(())
    /// ```
    async fn lock(&self, key: &str, lease: Duration, wait: Duration) -> Result<Option<Lock>>;

    /// Sets `field` of the hash `key` to `value` (`HSET`); says whether the field is new.
    async fn hset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        field: &str,
        value: &V,
    ) -> Result<bool>;

    /// Sets `field` only if it is missing (`HSETNX`); says whether it did.
    async fn hsetnx<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        field: &str,
        value: &V,
    ) -> Result<bool>;

    /// The value of `field` of the hash `key` (`HGET`).
    async fn hget<V: DeserializeOwned + Send>(&self, key: &str, field: &str) -> Result<Option<V>>;

    /// The values of `fields`, in order (`HMGET`).
    async fn hmget<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        fields: &[&str],
    ) -> Result<Vec<Option<V>>>;

    /// Every field and value of the hash `key` (`HGETALL`).
    async fn hgetall<V: DeserializeOwned + Send>(&self, key: &str) -> Result<HashMap<String, V>>;

    /// Deletes `fields` (`HDEL`); returns how many existed. A hash left empty is deleted.
    async fn hdel(&self, key: &str, fields: &[&str]) -> Result<u64>;

    /// The number of fields (`HLEN`).
    async fn hlen(&self, key: &str) -> Result<u64>;

    /// The field names (`HKEYS`).
    async fn hkeys(&self, key: &str) -> Result<Vec<String>>;

    /// The values (`HVALS`).
    async fn hvals<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Vec<V>>;

    /// Whether `field` exists (`HEXISTS`).
    async fn hexists(&self, key: &str, field: &str) -> Result<bool>;

    /// Adds `delta` to the integer in `field` (missing: 0), atomically (`HINCRBY`).
    async fn hincrby(&self, key: &str, field: &str, delta: i64) -> Result<i64>;

    /// Adds `delta` to the number in `field` (missing: 0), atomically (`HINCRBYFLOAT`); returns
    /// the new value. A field that is not a number is [`Error::WrongType`](crate::Error), a
    /// result that is not finite [`Error::InvalidArgument`](crate::Error).
    async fn hincrbyfloat(&self, key: &str, field: &str, delta: f64) -> Result<f64>;

    /// Pushes `values` to the head of the list `key`, one after the other (`LPUSH`); returns
    /// the new length.
    async fn lpush<V: Serialize + Sync>(&self, key: &str, values: &[V]) -> Result<u64>;

    /// Pushes `values` to the tail (`RPUSH`); returns the new length.
    async fn rpush<V: Serialize + Sync>(&self, key: &str, values: &[V]) -> Result<u64>;

    /// Removes and returns the head (`LPOP`).
    async fn lpop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>>;

    /// Removes and returns the tail (`RPOP`).
    async fn rpop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>>;

    /// The items from `start` to `stop`, inclusive; negative indexes count from the end
    /// (`LRANGE`: `0, -1` is the whole list).
    async fn lrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>>;

    /// The item at `index` (`LINDEX`; negative counts from the end).
    async fn lindex<V: DeserializeOwned + Send>(&self, key: &str, index: i64) -> Result<Option<V>>;

    /// The length (`LLEN`).
    async fn llen(&self, key: &str) -> Result<u64>;

    /// Removes items equal to `value` (`LREM`): the first `count` from the head when
    /// positive, from the tail when negative, all when zero; returns how many.
    async fn lrem<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        count: i64,
        value: &V,
    ) -> Result<u64>;

    /// Keeps only the items from `start` to `stop` (`LTRIM`).
    async fn ltrim(&self, key: &str, start: i64, stop: i64) -> Result<()>;

    /// Replaces the item at `index` (`LSET`): [`Error::NotFound`](crate::Error::NotFound)
    /// for a missing list, [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an
    /// index out of range.
    async fn lset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        index: i64,
        value: &V,
    ) -> Result<()>;

    /// Pops the head of the first non-empty list of `keys`, waiting up to `timeout` (`None`:
    /// forever) for one (`BLPOP`): the caller's key and the item, `None` when the time ran
    /// out. On a server, the wait uses a connection of its own.
    async fn blpop<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
        timeout: Option<Duration>,
    ) -> Result<Option<(String, V)>>;

    /// Pops the tail of the first non-empty list of `keys`, waiting (`BRPOP`).
    async fn brpop<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
        timeout: Option<Duration>,
    ) -> Result<Option<(String, V)>>;

    /// Adds `members` to the set `key` (`SADD`); returns how many are new. Members are
    /// compared by their encoded bytes.
    async fn sadd<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64>;

    /// Removes `members` (`SREM`); returns how many were there.
    async fn srem<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64>;

    /// The members (`SMEMBERS`), in no particular order.
    async fn smembers<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Vec<V>>;

    /// Whether `member` is in the set (`SISMEMBER`).
    async fn sismember<V: Serialize + Sync + ?Sized>(&self, key: &str, member: &V) -> Result<bool>;

    /// The number of members (`SCARD`).
    async fn scard(&self, key: &str) -> Result<u64>;

    /// Removes and returns a random member (`SPOP`).
    async fn spop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>>;

    /// Random members (`SRANDMEMBER`): up to `count` distinct ones when positive, exactly
    /// `-count` possibly repeated ones when negative.
    async fn srandmember<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: i64,
    ) -> Result<Vec<V>>;

    /// The members in every one of the sets `keys` (`SINTER`; a missing key is empty).
    async fn sinter<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>>;

    /// The members in any of the sets (`SUNION`).
    async fn sunion<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>>;

    /// The members of the first set in none of the others (`SDIFF`).
    async fn sdiff<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>>;

    /// Adds members with scores to the sorted set `key`, or updates their scores (`ZADD`);
    /// returns how many are new. A NaN score is
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument); infinities are scores.
    async fn zadd<V: Serialize + Sync>(&self, key: &str, members: &[(V, f64)]) -> Result<u64>;

    /// Removes members (`ZREM`); returns how many were there.
    async fn zrem<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64>;

    /// The score of `member` (`ZSCORE`).
    async fn zscore<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<f64>>;

    /// The position of `member`, lowest score first (`ZRANK`).
    async fn zrank<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<u64>>;

    /// The position of `member`, highest score first (`ZREVRANK`).
    async fn zrevrank<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<u64>>;

    /// Members from position `start` to `stop`, lowest score first, ties in member order
    /// (`ZRANGE`; negative positions count from the end).
    async fn zrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>>;

    /// [`zrange`](CacheApi::zrange) with the scores (`WITHSCORES`).
    async fn zrange_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<(V, f64)>>;

    /// Members from position `start` to `stop`, highest score first (`ZREVRANGE`).
    async fn zrevrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>>;

    /// [`zrevrange`](CacheApi::zrevrange) with the scores.
    async fn zrevrange_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<(V, f64)>>;

    /// Members with `min <= score <= max`, lowest first (`ZRANGEBYSCORE`; the bounds may be
    /// infinite).
    async fn zrangebyscore<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        min: f64,
        max: f64,
    ) -> Result<Vec<V>>;

    /// [`zrangebyscore`](CacheApi::zrangebyscore) with the scores.
    async fn zrangebyscore_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        min: f64,
        max: f64,
    ) -> Result<Vec<(V, f64)>>;

    /// Adds `delta` to the score of `member` (missing: 0), returning the new score
    /// (`ZINCRBY`).
    async fn zincrby<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
        delta: f64,
    ) -> Result<f64>;

    /// The number of members (`ZCARD`).
    async fn zcard(&self, key: &str) -> Result<u64>;

    /// The number of members with `min <= score <= max` (`ZCOUNT`).
    async fn zcount(&self, key: &str, min: f64, max: f64) -> Result<u64>;

    /// Removes and returns up to `count` members with the lowest scores (`ZPOPMIN`).
    async fn zpopmin<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: u64,
    ) -> Result<Vec<(V, f64)>>;

    /// Removes and returns up to `count` members with the highest scores (`ZPOPMAX`).
    async fn zpopmax<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: u64,
    ) -> Result<Vec<(V, f64)>>;

    // --- breadth: django-cachex 0.14.1's further operations ---

    /// When `key` expires (`PEXPIRETIME`, Redis 7+; django-cachex's `expiretime`), to the
    /// millisecond.
    async fn expiretime(&self, key: &str) -> Result<ExpireTime>;

    /// One round of a scan of this cache's keys (current version) matching `pattern`
    /// (`SCAN`): start with cursor 0 and pass each answered cursor back until it is 0 again.
    /// `count` is a hint of how many keys to look at (`None`: 1,000). The keys are the
    /// caller's; [`iter_keys`](CacheApi::iter_keys) runs the whole loop.
    async fn scan(
        &self,
        cursor: u64,
        pattern: &str,
        count: Option<usize>,
    ) -> Result<(u64, Vec<String>)>;

    /// The bytes `key` takes on the server (`MEMORY USAGE`; `samples` elements of a
    /// collection are sampled, 0 for all, `None` for the server's default), `None` when it is
    /// missing. In memory: the key's and its stored bytes.
    async fn memory_usage(&self, key: &str, samples: Option<u64>) -> Result<Option<u64>>;

    /// The `count` largest keys of this cache matching `pattern`, as (the caller's key, bytes),
    /// largest first (django-cachex's `largest_keys`): the keys are scanned with `SCAN` and
    /// measured with `MEMORY USAGE` (`samples` as [`memory_usage`](CacheApi::memory_usage)), a
    /// pipeline per batch, keeping the top `count`. A `count` of 0 scans nothing.
    ///
    /// ```
    /// use cachex::prelude::*;
    ///
    /// let cache = Cache::in_memory();
    /// cache.set("small", "x", Timeout::Default)?;
    /// cache.set("large", &"x".repeat(1_000), Timeout::Default)?;
    /// let largest = cache.largest_keys("*", 1, None)?;
    /// assert_eq!(largest[0].0, "large");
    /// # Ok::<(), cachex::Error>(())
    /// ```
    async fn largest_keys(
        &self,
        pattern: &str,
        count: usize,
        samples: Option<u64>,
    ) -> Result<Vec<(String, u64)>>;

    /// Deletes the keys of this cache's prefix in every version (django-cachex's
    /// `clear_all_versions`: `{prefix}:{version}:*` for any integer version, so a cache whose
    /// prefix extends this one, `app:sessions` after `app`, keeps its keys); how many. With a
    /// custom key function, the keys [`clear`](CacheApi::clear) would delete.
    async fn clear_all_versions(&self) -> Result<u64>;

    /// The newest `count` entries of the server's slow log (`SLOWLOG GET`: commands slower
    /// than its `slowlog-log-slower-than`), newest first; on a cluster every node's. The
    /// in-memory backend keeps none.
    async fn slowlog_get(&self, count: u64) -> Result<Vec<SlowlogEntry>>;

    /// How many entries the server's slow log holds (`SLOWLOG LEN`; summed over a cluster).
    async fn slowlog_len(&self) -> Result<u64>;

    /// The server's `INFO` (one `section`, or `None` for the default ones), as sections of
    /// fields; see [`Info`] for a cluster and for the in-memory backend.
    async fn info(&self, section: Option<&str>) -> Result<Info>;

    /// `set` with Redis's flags ([`SetOptions`]: `NX`/`XX`, `GET`, `KEEPTTL`): whether it
    /// stored, and the previous value when asked for. A zero timeout stores nothing, as
    /// Django's: the key is deleted where the write would have happened.
    async fn set_with<V>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
        options: SetOptions,
    ) -> Result<SetOutcome<V>>
    where
        V: Serialize + DeserializeOwned + Send + Sync;

    /// Sets several fields of the hash `key` at once (`HSET` with a mapping); returns how many
    /// are new. A field written anew loses its expiry (hash-field expiry), as on a server.
    async fn hset_many<V: Serialize + Sync>(&self, key: &str, fields: &[(&str, V)]) -> Result<u64>;

    /// Gives `fields` of the hash `key` an expiry `ttl` from now (`HPEXPIRE`; Redis 7.4+,
    /// Valkey 9+, else [`Error::Unsupported`](crate::Error::Unsupported) naming the server's
    /// version), when `condition` allows: what happened to each field. A zero `ttl` deletes
    /// them.
    ///
    /// ```
    /// use cachex::prelude::*;
    /// use cachex::FieldExpiry;
    /// use std::time::Duration;
    ///
    /// let cache = Cache::in_memory();
    /// cache.hset("session", "token", "abc")?;
    /// let done = cache.hexpire("session", Duration::from_secs(60), &["token", "nope"], None)?;
    /// assert_eq!(done, [FieldExpiry::Changed, FieldExpiry::NoField]);
    /// # Ok::<(), cachex::Error>(())
    /// ```
    async fn hexpire(
        &self,
        key: &str,
        ttl: Duration,
        fields: &[&str],
        condition: Option<ExpireCondition>,
    ) -> Result<Vec<FieldExpiry>>;

    /// [`hexpire`](CacheApi::hexpire) under Redis's millisecond name: both keep `ttl` to the
    /// millisecond.
    async fn hpexpire(
        &self,
        key: &str,
        ttl: Duration,
        fields: &[&str],
        condition: Option<ExpireCondition>,
    ) -> Result<Vec<FieldExpiry>>;

    /// Makes `fields` expire at `when` (`HPEXPIREAT`; a past time deletes them).
    async fn hexpire_at(
        &self,
        key: &str,
        when: SystemTime,
        fields: &[&str],
        condition: Option<ExpireCondition>,
    ) -> Result<Vec<FieldExpiry>>;

    /// [`hexpire_at`](CacheApi::hexpire_at) under Redis's millisecond name.
    async fn hpexpire_at(
        &self,
        key: &str,
        when: SystemTime,
        fields: &[&str],
        condition: Option<ExpireCondition>,
    ) -> Result<Vec<FieldExpiry>>;

    /// How long each of `fields` has left, to the second (`HTTL`, rounded as
    /// [`ttl`](CacheApi::ttl)).
    async fn httl(&self, key: &str, fields: &[&str]) -> Result<Vec<Ttl>>;

    /// How long each of `fields` has left, to the millisecond (`HPTTL`).
    async fn hpttl(&self, key: &str, fields: &[&str]) -> Result<Vec<Ttl>>;

    /// When each of `fields` expires (`HPEXPIRETIME`).
    async fn hexpiretime(&self, key: &str, fields: &[&str]) -> Result<Vec<ExpireTime>>;

    /// Removes the expiry of `fields` (`HPERSIST`): [`FieldExpiry::Changed`] where one was
    /// removed, [`FieldExpiry::Unchanged`] where there was none.
    async fn hpersist(&self, key: &str, fields: &[&str]) -> Result<Vec<FieldExpiry>>;

    /// Sets `fields` with an expiry (`HSETEX`, Redis 8 / Valkey 9): `timeout` as `set` takes
    /// it ([`Timeout::Never`]: no expiry), or `None` to keep each field's (`KEEPTTL`); only
    /// when `condition` allows (`FNX`/`FXX`). Says whether it wrote.
    async fn hsetex<V: Serialize + Sync>(
        &self,
        key: &str,
        fields: &[(&str, V)],
        timeout: Option<Timeout>,
        condition: Option<FieldsCondition>,
    ) -> Result<bool>;

    /// The values of `fields`, giving them a new expiry (`HGETEX`, Redis 8 / Valkey 9):
    /// `None` leaves their expiry, [`Timeout::Never`] removes it (`PERSIST`), a duration sets
    /// it (zero: deleted after reading).
    async fn hgetex<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        fields: &[&str],
        timeout: Option<Timeout>,
    ) -> Result<Vec<Option<V>>>;

    /// Removes and returns up to `count` items from the head (`LPOP key count`).
    async fn lpop_count<V: DeserializeOwned + Send>(&self, key: &str, count: u64)
    -> Result<Vec<V>>;

    /// Removes and returns up to `count` items from the tail, last first (`RPOP key count`).
    async fn rpop_count<V: DeserializeOwned + Send>(&self, key: &str, count: u64)
    -> Result<Vec<V>>;

    /// The index of an item equal to `value` (`LPOS`): the `rank`-th match (`None`: the first;
    /// negative: counting from the tail; 0 is
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)), looking at `maxlen` items at
    /// most (`None` or 0: all).
    async fn lpos<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        rank: Option<i64>,
        maxlen: Option<u64>,
    ) -> Result<Option<u64>>;

    /// The indexes of up to `count` items equal to `value` (`LPOS .. COUNT`; 0: all), as
    /// [`lpos`](CacheApi::lpos).
    async fn lpos_count<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        count: u64,
        rank: Option<i64>,
        maxlen: Option<u64>,
    ) -> Result<Vec<u64>>;

    /// Moves an item from one end of the list `source` to one end of `destination`,
    /// atomically on a server (`LMOVE`); the item, `None` when `source` is empty. On a
    /// cluster both keys need one hash tag.
    async fn lmove<V: DeserializeOwned + Send>(
        &self,
        source: &str,
        destination: &str,
        from: ListEnd,
        to: ListEnd,
    ) -> Result<Option<V>>;

    /// [`lmove`](CacheApi::lmove), waiting up to `timeout` (`None`: forever) for an item
    /// (`BLMOVE`); on a server, on a connection of its own.
    async fn blmove<V: DeserializeOwned + Send>(
        &self,
        source: &str,
        destination: &str,
        from: ListEnd,
        to: ListEnd,
        timeout: Option<Duration>,
    ) -> Result<Option<V>>;

    /// Inserts `value` before or after the first item equal to `pivot` (`LINSERT`): the new
    /// length, `Some(0)` for a missing list, `None` when `pivot` is not in it.
    async fn linsert<P, V>(
        &self,
        key: &str,
        at: InsertAt,
        pivot: &P,
        value: &V,
    ) -> Result<Option<u64>>
    where
        P: Serialize + Sync + ?Sized,
        V: Serialize + Sync + ?Sized;

    /// Moves `member` from the set `source` to `destination` (`SMOVE`); whether it was in
    /// `source`. On a cluster both keys need one hash tag.
    async fn smove<V: Serialize + Sync + ?Sized>(
        &self,
        source: &str,
        destination: &str,
        member: &V,
    ) -> Result<bool>;

    /// For each of `members`, whether it is in the set (`SMISMEMBER`).
    async fn smismember<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<Vec<bool>>;

    /// The members of the set `key`, batch by batch (`SSCAN`): a [`MemberScan`] is a
    /// [`Stream`](futures_core::Stream) for async code and an [`IntoIterator`] for blocking
    /// code, as [`iter_keys`](CacheApi::iter_keys).
    ///
    /// ```
    /// use cachex::prelude::*;
    ///
    /// let cache = Cache::in_memory();
    /// cache.sadd("tags", &["a", "b"])?;
    /// let mut tags = cache
    ///     .sscan::<String>("tags")?
    ///     .into_iter()
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// tags.sort();
    /// assert_eq!(tags, ["a", "b"]);
    /// # Ok::<(), cachex::Error>(())
    /// ```
    async fn sscan<V: DeserializeOwned + Send + 'static>(&self, key: &str)
    -> Result<MemberScan<V>>;

    /// Stores the members of the first set in none of the others at `destination`
    /// (`SDIFFSTORE`, replacing what it held); returns its size. On a cluster every key needs
    /// one hash tag.
    async fn sdiffstore(&self, destination: &str, keys: &[&str]) -> Result<u64>;

    /// Stores the members in every one of the sets at `destination` (`SINTERSTORE`).
    async fn sinterstore(&self, destination: &str, keys: &[&str]) -> Result<u64>;

    /// Stores the members in any of the sets at `destination` (`SUNIONSTORE`).
    async fn sunionstore(&self, destination: &str, keys: &[&str]) -> Result<u64>;

    /// [`zadd`](CacheApi::zadd) with Redis's flags ([`ZaddOptions`]: `NX`/`XX`, `GT`/`LT`,
    /// `CH`): how many members are new (with `CH`: new or changed).
    async fn zadd_with<V: Serialize + Sync>(
        &self,
        key: &str,
        members: &[(V, f64)],
        options: ZaddOptions,
    ) -> Result<u64>;

    /// Removes the members with `min <= score <= max` (`ZREMRANGEBYSCORE`); how many.
    async fn zremrangebyscore(&self, key: &str, min: f64, max: f64) -> Result<u64>;

    /// Removes the members from position `start` to `stop`, lowest score first
    /// (`ZREMRANGEBYRANK`; negative positions count from the end); how many.
    async fn zremrangebyrank(&self, key: &str, start: i64, stop: i64) -> Result<u64>;

    /// Members with `min <= score <= max`, highest first (`ZREVRANGEBYSCORE key max min`).
    async fn zrevrangebyscore<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        max: f64,
        min: f64,
    ) -> Result<Vec<V>>;

    /// [`zrevrangebyscore`](CacheApi::zrevrangebyscore) with the scores.
    async fn zrevrangebyscore_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        max: f64,
        min: f64,
    ) -> Result<Vec<(V, f64)>>;

    /// The score of each of `members` (`ZMSCORE`).
    async fn zmscore<V: Serialize + Sync>(
        &self,
        key: &str,
        members: &[V],
    ) -> Result<Vec<Option<f64>>>;

    // --- semaphores ---

    /// Acquires `weight` of the counting semaphore `key` of `capacity` (django-cachex's
    /// `semaphore`): its holders never hold more than `capacity` together. The share is held
    /// for `lease` at most (a holder that dies frees it when the lease runs out); waits up to
    /// `wait` for it (`Duration::ZERO`: one attempt), first come first served. `None` when it
    /// could not be acquired in time. A weight of 0 or above the capacity, or a lease under
    /// 1 ms, is an [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    ///
    /// The [`Permit`] holds a unique token: releasing or extending it acts only while the
    /// share is still this holder's; dropping it releases it in the background.
    ///
    /// ```
    /// use cachex::prelude::*;
    /// use std::time::Duration;
    ///
    /// let cache = Cache::in_memory();
    /// let (lease, now) = (Duration::from_secs(30), Duration::ZERO);
    /// let big = cache.semaphore("encoders", 3, 2, lease, now)?.expect("free");
    /// let small = cache.semaphore("encoders", 3, 1, lease, now)?.expect("1 of 3 left");
    /// assert!(cache.semaphore("encoders", 3, 1, lease, now)?.is_none(), "all 3 held");
    /// assert!(big.release()?);
    /// assert!(small.extend(Duration::from_secs(10))?);
    /// # Ok::<(), cachex::Error>(())
    /// ```
    async fn semaphore(
        &self,
        key: &str,
        capacity: u32,
        weight: u32,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Permit>>;

    // --- scripts ---

    /// Runs a Lua [`Script`](crate::Script) on the server: `keys` become `KEYS` through the
    /// prefix and version (as every operation's keys), `args` become `ARGV` (a
    /// [`ScriptArg::value`](crate::ScriptArg::value) encoded by the codec, a
    /// [`ScriptArg::raw`](crate::ScriptArg::raw) as given), and the reply is decoded into the
    /// type the caller names ([`FromScriptReply`](crate::FromScriptReply)). Sent by SHA-1
    /// (`EVALSHA`), loaded and sent again when the server does not know it. On a cluster the
    /// keys must share a slot (a hash tag); the in-memory backend refuses it
    /// ([`Error::Unsupported`](crate::Error::Unsupported)).
    ///
    /// ```no_run
    /// use cachex::prelude::*;
    /// use cachex::{Decoded, Script, ScriptArg};
    ///
    /// # fn main() -> cachex::Result<()> {
    /// let cache = Cache::from_url("redis://localhost:6379/0")?;
    /// let swap = Script::new("local old = redis.call('GET', KEYS[1]) \
    ///     redis.call('SET', KEYS[1], ARGV[1]) return old");
    /// let old: Option<Decoded<String>> =
    ///     cache.eval_script(&swap, &["greeting"], &[ScriptArg::value("hello")])?;
    /// # Ok(())
    /// # }
    /// ```
    async fn eval_script<T: crate::FromScriptReply + Send>(
        &self,
        script: &crate::Script,
        keys: &[&str],
        args: &[crate::ScriptArg<'_>],
    ) -> Result<T>;

    // --- streams ---

    /// Adds an entry to the stream `key` (`XADD`): the fields in order, their values through
    /// the codec; at least one field. Answers the new entry's id, or `None` when
    /// `options.nomkstream` is set and the stream does not exist. An id not above the
    /// stream's last id is [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    async fn xadd<V: Serialize + Sync>(
        &self,
        key: &str,
        fields: &[(&str, V)],
        options: XaddOptions,
    ) -> Result<Option<StreamId>>;

    /// The number of entries (`XLEN`; 0 for a missing stream).
    async fn xlen(&self, key: &str) -> Result<u64>;

    /// The entries from `start` to `end`, both inclusive, oldest first, at most `count`
    /// (`XRANGE`; [`StreamId::MIN`] and [`StreamId::MAX`] for the whole stream).
    async fn xrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: StreamId,
        end: StreamId,
        count: Option<u64>,
    ) -> Result<Vec<StreamEntry<V>>>;

    /// The entries from `end` down to `start`, newest first, at most `count` (`XREVRANGE`).
    async fn xrevrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        end: StreamId,
        start: StreamId,
        count: Option<u64>,
    ) -> Result<Vec<StreamEntry<V>>>;

    /// Reads the streams after their positions (`XREAD`): each stream that has entries, by
    /// the caller's key; empty when none has. With `options.block` it waits for entries
    /// (on a server, on a connection of its own, as [`blpop`](CacheApi::blpop)); then
    /// [`ReadFrom::Latest`] reads only what is added from now on. Several keys on a cluster
    /// need one slot (a hash tag).
    async fn xread<V: DeserializeOwned + Send>(
        &self,
        streams: &[(&str, ReadFrom)],
        options: ReadOptions,
    ) -> Result<StreamReads<V>>;

    /// Trims the stream (`XTRIM`): how many entries were removed.
    async fn xtrim(&self, key: &str, trim: Trim) -> Result<u64>;

    /// Deletes entries (`XDEL`): how many existed.
    async fn xdel(&self, key: &str, ids: &[StreamId]) -> Result<u64>;

    /// The stream's length, ids, group count and first and last entries (`XINFO STREAM`);
    /// [`Error::NotFound`](crate::Error::NotFound) for a missing stream.
    async fn xinfo_stream<V: DeserializeOwned + Send>(&self, key: &str) -> Result<StreamInfo<V>>;

    /// The stream's consumer groups (`XINFO GROUPS`), by name.
    async fn xinfo_groups(&self, key: &str) -> Result<Vec<GroupInfo>>;

    /// The consumers of `group` (`XINFO CONSUMERS`), by name;
    /// [`Error::NoGroup`](crate::Error::NoGroup) for a missing group.
    async fn xinfo_consumers(&self, key: &str, group: &str) -> Result<Vec<ConsumerInfo>>;

    /// Creates the consumer group `group`, delivering entries after `start` (`XGROUP
    /// CREATE`; [`ReadFrom::Latest`]: only new ones). `mkstream` makes a missing stream;
    /// without it a missing stream is [`Error::NotFound`](crate::Error::NotFound). An existing
    /// group is [`Error::GroupExists`](crate::Error::GroupExists).
    async fn xgroup_create(
        &self,
        key: &str,
        group: &str,
        start: ReadFrom,
        mkstream: bool,
    ) -> Result<()>;

    /// Destroys a consumer group and its pending entries (`XGROUP DESTROY`): whether it
    /// existed.
    async fn xgroup_destroy(&self, key: &str, group: &str) -> Result<bool>;

    /// Sets the group's last delivered id (`XGROUP SETID`).
    async fn xgroup_setid(&self, key: &str, group: &str, start: ReadFrom) -> Result<()>;

    /// Removes a consumer and its pending entries (`XGROUP DELCONSUMER`): how many entries it
    /// held.
    async fn xgroup_delconsumer(&self, key: &str, group: &str, consumer: &str) -> Result<u64>;

    /// Reads as `consumer` of `group` (`XREADGROUP`): [`ReadFrom::Undelivered`] gives entries
    /// never delivered to the group and makes them pending for the consumer (unless
    /// `options.noack`); an id gives the consumer's own pending entries after it. With
    /// `options.block` it waits for new entries, as [`xread`](CacheApi::xread). A missing
    /// stream or group is [`Error::NoGroup`](crate::Error::NoGroup).
    async fn xreadgroup<V: DeserializeOwned + Send>(
        &self,
        group: &str,
        consumer: &str,
        streams: &[(&str, ReadFrom)],
        options: ReadOptions,
    ) -> Result<StreamReads<V>>;

    /// Acknowledges pending entries (`XACK`): how many were pending.
    async fn xack(&self, key: &str, group: &str, ids: &[StreamId]) -> Result<u64>;

    /// The summary of the group's pending entries (`XPENDING key group`).
    async fn xpending(&self, key: &str, group: &str) -> Result<PendingSummary>;

    /// The group's pending entries in a range (`XPENDING key group [IDLE] start end count
    /// [consumer]`), with their consumer, idle time and delivery count.
    async fn xpending_range(
        &self,
        key: &str,
        group: &str,
        range: PendingRange,
    ) -> Result<Vec<PendingEntry>>;

    /// Gives `consumer` the pending entries `ids` idle at least `min_idle` (`XCLAIM`): the
    /// entries claimed. Entries deleted from the stream meanwhile leave the pending list and
    /// are not answered.
    async fn xclaim<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        ids: &[StreamId],
        options: ClaimOptions,
    ) -> Result<Vec<StreamEntry<V>>>;

    /// Claims for `consumer` up to `count` (default 100) pending entries idle at least
    /// `min_idle`, from `start` on (`XAUTOCLAIM`): the entries, the ids of deleted ones, and
    /// where to go on.
    async fn xautoclaim<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        start: StreamId,
        count: Option<u64>,
    ) -> Result<AutoClaim<V>>;
}
