//! [`CacheCore`]: what a [`Cache`](super::Cache) shares between its clones, and the helpers
//! every operation uses: making keys, encoding and decoding values, timeouts, fail-open, and
//! the one call path to the backend.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::builder::Origin;
use super::flight::{ComputeTimes, Flights};
use crate::api::Timeout;
use crate::backend::command::{Get, Mget, Pexpire, PexpireAt, Pttl, Rename, Scored};
use crate::backend::memory::Apply;
use crate::backend::{Expiry, Store};
use crate::codec::Codec;
use crate::keys::Keys;
use crate::scan::KeyScan;
use crate::{Error, Result};

/// The longest expiry `expire`, `pexpire` and their absolute forms accept, in milliseconds
/// (about 285,000 years): further is refused as a server would refuse an overflowing one.
const MAX_EXPIRE_MILLIS: u64 = 1 << 53;

/// What a [`Cache`](super::Cache) shares between its clones: settings, codec, backend. It
/// implements [`CacheApi`](crate::CacheApi); a `Cache` dereferences to it.
pub struct CacheCore {
    pub(super) store: Arc<Store>,
    pub(super) keys: Keys,
    pub(super) codec: Codec,
    pub(super) default_timeout: Option<Duration>,
    pub(super) fail_open: bool,
    /// Where the values are, and the backend's options.
    pub(super) origin: Arc<Origin>,
    pub(super) flights: Flights,
    pub(super) compute_times: ComputeTimes,
}

impl fmt::Debug for CacheCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("location", &self.origin.address)
            .field("keys", &self.keys)
            .field("codec", &self.codec)
            .field("default_timeout", &self.default_timeout)
            .field("fail_open", &self.fail_open)
            .finish()
    }
}

impl CacheCore {
    /// A core over `store` with these settings.
    pub(super) fn new(
        store: Arc<Store>,
        origin: Arc<Origin>,
        keys: Keys,
        codec: Codec,
        default_timeout: Option<Duration>,
        fail_open: bool,
    ) -> CacheCore {
        CacheCore {
            store,
            keys,
            codec,
            default_timeout,
            fail_open,
            origin,
            flights: Flights::default(),
            compute_times: ComputeTimes::default(),
        }
    }

    /// The key settings.
    pub fn key_settings(&self) -> &Keys {
        &self.keys
    }

    /// The value codec.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The expiry of a timeout; `None` when it means "expired at once".
    pub(super) fn expiry(&self, timeout: Timeout) -> Option<Expiry> {
        let duration = match timeout {
            Timeout::Default => self.default_timeout,
            Timeout::Never => None,
            Timeout::After(duration) => Some(duration),
        };
        match duration {
            None => Some(Expiry::Never),
            Some(duration) if duration.is_zero() => None,
            Some(duration) => Some(Expiry::After(duration.max(Duration::from_millis(1)))),
        }
    }

    /// The stored key of a caller's key (prefix and version applied, validated).
    pub(super) fn key(&self, key: &str) -> Result<String> {
        self.keys.make(key, None)
    }

    /// The stored keys of the caller's keys.
    pub(super) fn made_keys(&self, keys: &[&str]) -> Result<Vec<String>> {
        keys.iter().map(|key| self.key(key)).collect()
    }

    /// `GET` of the made key, served by the near cache when tracking is on (see
    /// [`crate::backend::near`]).
    pub(super) async fn get_bytes(&self, key: &str, made: String) -> Result<Option<Bytes>> {
        #[cfg(feature = "redis")]
        if let Some(near) = self.store.near() {
            return super::near::get(self, near, key, made).await;
        }
        self.run(key, Get { key: made }).await
    }

    /// `MGET` of the made keys, served by the near cache when tracking is on.
    pub(super) async fn get_many_bytes(
        &self,
        key: &str,
        made: Vec<String>,
    ) -> Result<Vec<Option<Bytes>>> {
        #[cfg(feature = "redis")]
        if let Some(near) = self.store.near() {
            return super::near::get_many(self, near, key, made).await;
        }
        self.run(key, Mget { keys: made }).await
    }

    /// The counters of the near cache, with tracking on (see
    /// [`CacheBuilder::tracking`](super::CacheBuilder::tracking)); `None` without.
    ///
    /// ```
    /// let cache = cachex::Cache::in_memory();
    /// assert!(cache.tracking_stats().is_none());
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn tracking_stats(&self) -> Option<crate::TrackingStats> {
        self.store.near().map(|near| near.stats())
    }

    /// Runs one command about the caller's `key` (see [`Store::run`]).
    pub(super) async fn run<C: Apply>(&self, key: &str, command: C) -> Result<C::Output> {
        self.store.run(key, command).await
    }

    /// Runs the command `make` builds from the stored key of the caller's `key`.
    pub(super) async fn on_key<C: Apply>(
        &self,
        key: &str,
        make: impl FnOnce(String) -> C,
    ) -> Result<C::Output> {
        let command = make(self.key(key)?);
        self.run(key, command).await
    }

    /// [`on_key`](Self::on_key) for a command answering one value, decoded.
    pub(super) async fn value<C, V>(
        &self,
        key: &str,
        make: impl FnOnce(String) -> C,
    ) -> Result<Option<V>>
    where
        C: Apply<Output = Option<Bytes>>,
        V: DeserializeOwned,
    {
        let value = self.on_key(key, make).await?;
        self.decode_optional(key, value)
    }

    /// [`on_key`](Self::on_key) for a command answering values, decoded.
    pub(super) async fn values<C, V>(
        &self,
        key: &str,
        make: impl FnOnce(String) -> C,
    ) -> Result<Vec<V>>
    where
        C: Apply<Output = Vec<Bytes>>,
        V: DeserializeOwned,
    {
        let values = self.on_key(key, make).await?;
        self.decode_all(key, values)
    }

    /// [`on_key`](Self::on_key) for a command answering members with scores, decoded.
    pub(super) async fn scored<C, V>(
        &self,
        key: &str,
        make: impl FnOnce(String) -> C,
    ) -> Result<Vec<(V, f64)>>
    where
        C: Apply<Output = Scored>,
        V: DeserializeOwned,
    {
        let members = self.on_key(key, make).await?;
        self.decode_scored(key, members)
    }

    /// In fail-open mode, a connection failure or timeout becomes `fallback`, with a warning.
    pub(super) fn or_fail_open<T>(
        &self,
        result: Result<T>,
        fallback: impl FnOnce() -> T,
    ) -> Result<T> {
        match result {
            Err(err @ (Error::Connection { .. } | Error::Timeout { .. })) if self.fail_open => {
                warn_failing_open(&self.origin.address, &err);
                Ok(fallback())
            }
            other => other,
        }
    }

    pub(super) fn encode_all<V: Serialize>(&self, values: &[V]) -> Result<Vec<Vec<u8>>> {
        values
            .iter()
            .map(|value| self.codec.encode(value))
            .collect()
    }

    pub(super) fn decode_optional<V: DeserializeOwned>(
        &self,
        key: &str,
        bytes: Option<Bytes>,
    ) -> Result<Option<V>> {
        bytes
            .map(|bytes| self.codec.decode(key, &bytes))
            .transpose()
    }

    pub(super) fn decode_all<V: DeserializeOwned>(
        &self,
        key: &str,
        items: Vec<Bytes>,
    ) -> Result<Vec<V>> {
        items
            .iter()
            .map(|bytes| self.codec.decode(key, bytes))
            .collect()
    }

    pub(super) fn decode_scored<V: DeserializeOwned>(
        &self,
        key: &str,
        items: Scored,
    ) -> Result<Vec<(V, f64)>> {
        items
            .into_iter()
            .map(|(member, score)| Ok((self.codec.decode(key, &member)?, score)))
            .collect()
    }

    /// A blocking pop's made key and value as the caller's key and the value.
    pub(super) fn decode_popped<V: DeserializeOwned>(
        &self,
        keys: &[&str],
        made: &[String],
        popped: Option<(Vec<u8>, Bytes)>,
    ) -> Result<Option<(String, V)>> {
        let Some((popped_from, value)) = popped else {
            return Ok(None);
        };
        let key = made
            .iter()
            .position(|made| made.as_bytes() == popped_from)
            .map(|at| keys[at])
            .ok_or_else(|| {
                Error::unexpected_reply("a blocking pop answered an unknown key".to_owned())
            })?;
        Ok(Some((key.to_owned(), self.codec.decode(key, &value)?)))
    }

    /// How long `key` has left: `None` when missing, `Duration::MAX` when persistent.
    pub(super) async fn ttl_of(&self, key: &str) -> Result<Option<Duration>> {
        let made = self.key(key)?;
        match self.run(key, Pttl { key: made }).await? {
            -2 => Ok(None),
            -1 => Ok(Some(Duration::MAX)),
            millis => Ok(Some(Duration::from_millis(millis.max(0).unsigned_abs()))),
        }
    }

    /// `PEXPIREAT`/`PEXPIRE` in milliseconds of `value` × `scale`.
    pub(super) async fn expire_command(
        &self,
        key: &str,
        value: i64,
        scale: i64,
        absolute: bool,
    ) -> Result<bool> {
        let millis = value
            .checked_mul(scale)
            .filter(|millis| millis.unsigned_abs() <= MAX_EXPIRE_MILLIS)
            .ok_or_else(|| Error::invalid_argument(format!("expiry {value} is out of range")))?;
        let made = self.key(key)?;
        if absolute {
            let command = PexpireAt {
                key: made,
                unix_millis: millis,
            };
            self.run(key, command).await
        } else {
            self.run(key, Pexpire { key: made, millis }).await
        }
    }

    /// A scan of the caller's keys matching `pattern`.
    pub(super) fn key_scan(&self, pattern: &str) -> KeyScan {
        KeyScan::new(
            self.store.clone(),
            self.keys.clone(),
            self.keys.pattern(pattern, None),
        )
    }

    /// Moves `key`'s value `delta` versions away, keeping its expiry: the new version.
    pub(super) async fn version_move(&self, key: &str, delta: i64) -> Result<i64> {
        let version = self.keys.version();
        let new_version = version
            .checked_add(delta)
            .ok_or_else(|| Error::config(format!("version {version} + {delta} is out of range")))?;
        let from = self.keys.make(key, Some(version))?;
        let to = self.keys.make(key, Some(new_version))?;
        self.run(key, Rename { from, to }).await?;
        Ok(new_version)
    }
}

/// A score as sent to a backend: NaN is refused (as Redis refuses it); `-0.0` is `0.0`.
pub(super) fn score(score: f64) -> Result<f64> {
    if score.is_nan() {
        return Err(Error::invalid_argument("a score cannot be NaN".to_owned()));
    }
    Ok(score + 0.0)
}

/// A hash field name of a reply.
pub(super) fn field_name(key: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::Decode {
        key: key.to_owned(),
        reason: "a hash field name is not UTF-8".to_owned(),
    })
}

/// The caller's field names as bytes.
pub(super) fn field_bytes(fields: &[&str]) -> Vec<Vec<u8>> {
    fields
        .iter()
        .map(|field| field.as_bytes().to_vec())
        .collect()
}

/// At most one fail-open warning a second, process-wide.
fn warn_failing_open(location: &str, err: &Error) {
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
        *last = Some(Instant::now());
        tracing::warn!(target: "cachex", "cache {location} unavailable, failing open: {err}");
    }
}
