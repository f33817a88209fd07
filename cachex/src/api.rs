//! Django's cache API as one `#[auto_async]` trait: every method written once, natively async;
//! the blocking surface, the `a()` view and the method handles are derived.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

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

impl From<Duration> for Timeout {
    fn from(duration: Duration) -> Self {
        Timeout::After(duration)
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
#[auto_async(crate = crate)]
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
    /// added: if another process stored one first, that one is returned.
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

    /// Moves the value of `key` to version + `delta`, keeping its timeout, and returns the new
    /// version. A missing key is [`Error::NotFound`](crate::Error::NotFound).
    async fn incr_version(&self, key: &str, delta: i64) -> Result<i64>;

    /// Moves the value of `key` to version - `delta`.
    async fn decr_version(&self, key: &str, delta: i64) -> Result<i64>;

    /// Deletes every key of the database, this cache's or not (Redis `FLUSHDB`).
    async fn flush_db(&self) -> Result<()>;
}
