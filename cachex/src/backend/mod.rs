//! Backends: where the bytes live. The cache layer above makes keys and encodes values; a
//! backend stores made keys and encoded bytes, natively async, with Redis semantics.

#[cfg(feature = "cluster")]
pub(crate) mod cluster;
pub(crate) mod glob;
pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "sentinel")]
pub(crate) mod sentinel;
#[cfg(feature = "redis")]
pub(crate) mod topology;

use std::time::Duration;

use crate::Result;

/// When a stored value expires. A zero timeout never reaches a backend: the cache layer turns
/// it into a delete, as Django does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    Never,
    After(Duration),
}

/// How `set` treats a key that exists (Redis `SET` without flags, or with `NX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetMode {
    Always,
    IfAbsent,
}

/// The operations every backend implements, on made keys and encoded bytes. Each has the
/// semantics of the Redis command named in its doc, so that every backend behaves alike.
pub(crate) trait RawStore: Send + Sync {
    /// `GET`: the bytes of a live key.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// `SET key value [PX ms] [NX]`: whether the value was stored.
    async fn set(&self, key: &str, value: Vec<u8>, expiry: Expiry, mode: SetMode) -> Result<bool>;

    /// `MGET`: the bytes of each key, in order.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>>;

    /// `SET` of each item (pipelined on a server); returns the keys that were not stored.
    async fn set_many(&self, items: Vec<(String, Vec<u8>)>, expiry: Expiry) -> Result<Vec<String>>;

    /// `DEL`: how many of the keys existed.
    async fn delete_many(&self, keys: &[String]) -> Result<u64>;

    /// `EXISTS`.
    async fn exists(&self, key: &str) -> Result<bool>;

    /// `INCRBY`, atomically on the server. A missing key gives `Ok(None)` unless `create` is
    /// given, in which case it is created holding `delta` with that expiry (an existing key
    /// keeps its own). A value that is not an integer, or an overflow, is
    /// [`Error::WrongType`](crate::Error::WrongType).
    async fn incr_by(&self, key: &str, delta: i64, create: Option<Expiry>) -> Result<Option<i64>>;

    /// `PEXPIRE` / `PERSIST`: whether the key existed.
    async fn expire(&self, key: &str, expiry: Expiry) -> Result<bool>;

    /// `RENAME`, keeping the expiry and overwriting `to`: whether `from` existed.
    async fn rename(&self, from: &str, to: &str) -> Result<bool>;

    /// `SCAN MATCH pattern` + `UNLINK` in batches: how many keys were deleted.
    async fn delete_pattern(&self, pattern: &str) -> Result<u64>;

    /// `FLUSHDB`: every key of the database, this cache's or not.
    async fn flush_db(&self) -> Result<()>;

    /// Drops the connections (a later call opens new ones).
    async fn close(&self) -> Result<()>;
}
