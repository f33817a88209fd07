//! [`CacheCore`]: what a [`Cache`](super::Cache) shares between its clones, and the helpers
//! every operation uses: making keys, encoding and decoding values, timeouts, fail-open, and
//! the one call path to the backend.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::builder::Origin;
use super::flight::{ComputeTimes, Flights};
use super::stampede::StampedePrevention;
use crate::api::{Timeout, Ttl};
use crate::backend::command::{
    Del, Exists, FieldTtl, Get, GetDel, GetPttl, Mget, PersistExisting, Pexpire, Pttl, Rename,
    Scored, expiry_millis,
};
use crate::backend::memory::{Apply, Found, wrong_type};
use crate::backend::{Expiry, Store};
use crate::codec::Codec;
use crate::keys::Keys;
use crate::ops::{Condition, ExpireTime, FieldExpiry, SetOptions, SetOutcome};
use crate::scan::KeyScan;
use crate::{Error, Result};

/// The furthest time `expire_at` and the hash-field forms accept, in Unix milliseconds
/// (about 285,000 years): further is refused as a server would refuse an overflowing one.
const MAX_EXPIRE_MILLIS: u64 = 1 << 53;

/// What [`CacheCore::read_now`] takes from the in-memory store under a shard's lock.
enum Read<V> {
    /// A short value, decoded there.
    Decoded(V),
    /// The bytes of a longer value, or of one that does not decode, to decode once the lock
    /// is released.
    Shared(Bytes),
}

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
    /// The `stampede_prevention` option.
    pub(super) stampede: Option<StampedePrevention>,
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

/// How a read of one key goes on (see [`CacheCore::read`]): each `async fn` awaited is one
/// more state machine polled on every wake-up, so the usual case is not wrapped in one.
pub(super) enum ReadPlan<'a> {
    /// The bytes are known: a near cache's copy.
    #[cfg(feature = "redis")]
    Known(Option<Bytes>),
    /// `GET` to the store, the usual read: the caller awaits it itself.
    Get(Get),
    /// Anything else (stampede prevention, a tracked fetch): rare, and boxed, so that the
    /// usual read's future stays small.
    Later(Pin<Box<dyn Future<Output = Result<Option<Bytes>>> + Send + 'a>>),
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
            stampede: None,
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

    /// What a value written with `timeout` is stored for: its expiry, plus the stampede
    /// buffer when the option is on; `None` when it means "expired at once". Every write of
    /// a value (`set`, `add`, `set_many`, `touch`, `get_or_set`) takes its expiry here.
    pub(super) fn stored_expiry(&self, timeout: Timeout) -> Option<Expiry> {
        let expiry = self.expiry(timeout)?;
        Some(match self.stampede {
            Some(stampede) => stampede.stored(expiry),
            None => expiry,
        })
    }

    /// A stored time left or deadline (`PTTL`, `PEXPIRETIME` codes) as the caller sees it:
    /// under stampede prevention, without the buffer every write adds.
    pub(super) fn logical_millis(&self, stored: i64) -> i64 {
        match self.stampede {
            Some(stampede) => stampede.logical_millis(stored),
            None => stored,
        }
    }

    /// How a read of the made key finds its stored bytes: under stampede prevention, `None`
    /// when the read must miss (the value is within its buffer, or XFetch chose this caller to
    /// recompute it); with tracking, a copy or a fetch. Not a future itself: the usual read's
    /// `GET` is awaited by the caller (see [`ReadPlan`]).
    pub(super) fn read<'a>(&'a self, key: &'a str, made: String) -> ReadPlan<'a> {
        if let Some(stampede) = self.stampede {
            return ReadPlan::Later(Box::pin(async move {
                let (bytes, pttl) = self.get_pttl_bytes(key, made).await?;
                Ok(bytes.filter(|_| !stampede.recompute(pttl)))
            }));
        }
        #[cfg(feature = "redis")]
        if let Some(near) = self.store.near() {
            return match near.lookup(&made) {
                crate::backend::near::Lookup::Hit(copy, _) => ReadPlan::Known(copy),
                missed => ReadPlan::Later(Box::pin(super::near::get_missed(
                    self, near, key, made, missed,
                ))),
            };
        }
        ReadPlan::Get(Get { key: made })
    }

    /// `GET` and `PTTL` of the made key (stampede prevention), served by the near cache when
    /// tracking is on: a copy knows its expiry.
    async fn get_pttl_bytes(&self, key: &str, made: String) -> Result<(Option<Bytes>, i64)> {
        #[cfg(feature = "redis")]
        if let Some(near) = self.store.near() {
            return super::near::get_pttl(self, near, key, made).await;
        }
        self.run(key, GetPttl { key: made }).await
    }

    /// `get_many`'s values under stampede prevention, in the order of `made`: the ones a read
    /// must miss are `None`. With tracking, copies with their expiries and the rest in one
    /// script; without, `MGET` and the found values' expiries in one pipeline.
    pub(super) async fn read_many(
        &self,
        key: &str,
        stampede: StampedePrevention,
        made: Vec<String>,
    ) -> Result<Vec<Option<Bytes>>> {
        #[cfg(feature = "redis")]
        if let Some(near) = self.store.near() {
            let read = super::near::get_many_pttl(self, near, key, made).await?;
            return Ok(read
                .into_iter()
                .map(|(bytes, pttl)| bytes.filter(|_| !stampede.recompute(pttl)))
                .collect());
        }
        let mut values = self.run(key, Mget { keys: made.clone() }).await?;
        let (found, asks): (Vec<usize>, Vec<Pttl>) = made
            .into_iter()
            .enumerate()
            .filter(|(at, _)| values.get(*at).is_some_and(Option::is_some))
            .map(|(at, key)| (at, Pttl { key }))
            .unzip();
        if found.is_empty() {
            return Ok(values);
        }
        let pttls = self.store.pipeline(asks).await?;
        for (at, pttl) in found.into_iter().zip(pttls) {
            if stampede.recompute(pttl?) {
                values[at] = None;
            }
        }
        Ok(values)
    }

    /// Whether the made key holds a value (`has_key`, and `add` with a zero timeout): under
    /// stampede prevention, only one with more than the buffer left.
    pub(super) async fn present(&self, key: &str, made: String) -> Result<bool> {
        match self.stampede {
            None => self.run(key, Exists { key: made }).await,
            Some(stampede) => Ok(stampede.outlives(self.run(key, Pttl { key: made }).await?)),
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

    /// `MGET` of the made keys, served by the near cache when tracking is on.
    pub(super) async fn get_many_bytes(
        &self,
        key: &str,
        made: Vec<String>,
    ) -> Result<Vec<Option<Bytes>>> {
        #[cfg(feature = "redis")]
        if let Some(near) = self.store.near() {
            return Box::pin(super::near::get_many(self, near, key, made)).await;
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

    /// Runs one command about the caller's `key` (see [`Store::run`]): its future itself, not
    /// one more wrapped around it.
    pub(super) fn run<C: Apply>(
        &self,
        key: &str,
        command: C,
    ) -> impl Future<Output = Result<C::Output>> + Send {
        self.store.run(key, command)
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

    /// `get` without counting a lookup (`aget` is this, inline, and counted): the value of the
    /// caller's `key`, if any (a miss when failing open, or inside a stampede buffer).
    pub(super) async fn read_value<V: DeserializeOwned>(&self, key: &str) -> Result<Option<V>> {
        let made = self.key(key)?;
        let bytes = match self.read(key, made) {
            #[cfg(feature = "redis")]
            ReadPlan::Known(bytes) => Ok(bytes),
            ReadPlan::Get(get) => self.run(key, get).await,
            ReadPlan::Later(later) => later.await,
        };
        let bytes = self.or_fail_open(bytes, || None)?;
        self.decode_optional(key, bytes)
    }

    /// `get`'s value when the caller's thread can have it at once, without a future or a
    /// runtime: from the in-memory store (its `GET` never waits) while nothing observes the
    /// call (see `Store::memory_now`), or from a near cache's copy (tracking; a copy's hit is
    /// never traced). `None` when the call must run `aget`: another store, no copy to serve,
    /// or stampede prevention (its rules need the read's time left). The key is made in this
    /// thread's reused buffer (see `Keys::with_made`).
    pub(super) fn read_now<V: DeserializeOwned>(&self, key: &str) -> Result<Option<Option<V>>> {
        if self.stampede.is_some() {
            return Ok(None);
        }
        if let Some(memory) = self.store.memory_now() {
            // No failing open: the store's `GET` fails only with `WRONGTYPE`.
            // A short value is decoded from the bytes borrowed under the shard's lock (no
            // clone of the shared bytes, no release of it); a longer one, or one that does not
            // decode (for the error, built outside the lock), is shared out and decoded after.
            let found = self.keys.with_made(key, |made| {
                memory.get_now(made, |bytes| {
                    let decoded = if self.codec.decodes_quickly(bytes) {
                        self.codec.decode(key, bytes).ok()
                    } else {
                        None
                    };
                    decoded.map_or_else(|| Read::Shared(bytes.clone()), Read::Decoded)
                })
            })?;
            return match found {
                Found::Missing => Ok(Some(None)),
                Found::Value(Read::Decoded(value)) => Ok(Some(Some(value))),
                Found::Value(Read::Shared(bytes)) => {
                    self.decode_optional(key, Some(bytes)).map(Some)
                }
                Found::WrongType => Err(wrong_type(key)),
            };
        }
        #[cfg(feature = "redis")]
        if let Some(near) = self.store.near() {
            let Some((bytes, _)) = self.keys.with_made(key, |made| near.hit(made))? else {
                return Ok(None);
            };
            return self.decode_optional(key, bytes).map(Some);
        }
        Ok(None)
    }

    /// Counts the hits and misses of a get-like `operation` (`get`, `get_many`, ...): the one
    /// place lookups are measured (`crate::metrics::lookups`, with the `metrics` feature and
    /// metrics enabled; nothing without the feature).
    #[inline(always)]
    pub(super) fn count_lookups(&self, operation: &'static str, hits: usize, misses: usize) {
        #[cfg(feature = "metrics")]
        if crate::metrics::is_enabled() {
            crate::metrics::lookups(operation, self.store.kind(), hits as u64, misses as u64);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (operation, hits, misses);
    }

    /// `get`'s value, counted as a hit or a miss.
    #[inline(always)]
    pub(super) fn counted_get<V>(&self, value: Option<V>) -> Option<V> {
        self.count_lookups(
            "get",
            usize::from(value.is_some()),
            usize::from(value.is_none()),
        );
        value
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
        let key = caller_key(keys, made, &popped_from, "a blocking pop")?;
        Ok(Some((key.to_owned(), self.codec.decode(key, &value)?)))
    }

    /// Gives `key` a new timeout (`touch`, `expire`): `PEXPIRE`, `PERSIST` for none (or one
    /// too far away to set), a delete for "expired at once". Whether the key existed.
    pub(super) async fn expire_in(&self, key: &str, timeout: Timeout) -> Result<bool> {
        let made = self.key(key)?;
        match self.stored_expiry(timeout).map(expiry_millis) {
            Some(Some(millis)) => {
                let millis = i64::try_from(millis).unwrap_or(i64::MAX);
                self.run(key, Pexpire { key: made, millis }).await
            }
            Some(None) => self.run(key, PersistExisting { key: made }).await,
            None => self.run(key, Del { keys: vec![made] }).await.map(|n| n > 0),
        }
    }

    /// [`set_with`](crate::CacheApi::set_with) with a timeout that means "expired at once":
    /// nothing is kept, the key is deleted where the write would have happened.
    pub(super) async fn set_expired_at_once<V: DeserializeOwned>(
        &self,
        key: &str,
        made: String,
        options: SetOptions,
    ) -> Result<SetOutcome<V>> {
        let exists = match (options.condition, options.get) {
            (None, false) => None,
            (_, true) => None,
            (Some(_), false) => Some(self.run(key, Exists { key: made.clone() }).await?),
        };
        let previous = match (options.condition, options.get) {
            // NX on a present key changes nothing: it is only read.
            (Some(Condition::Absent), true) => self.run(key, Get { key: made }).await?,
            (Some(Condition::Absent), false) => None,
            (_, true) => self.run(key, GetDel { key: made }).await?,
            (_, false) => {
                self.run(key, Del { keys: vec![made] }).await?;
                None
            }
        };
        let present = exists.unwrap_or(previous.is_some());
        let stored = match options.condition {
            None => true,
            Some(Condition::Absent) => !present,
            Some(Condition::Present) => present,
        };
        Ok(SetOutcome {
            stored,
            previous: if options.get {
                self.decode_optional(key, previous)?
            } else {
                None
            },
        })
    }

    /// A hash-field command's result: a server without the command (older than Redis 7.4 or
    /// Valkey 9) is named, with its version, in the [`Error::Unsupported`].
    pub(super) async fn with_server_version<T>(&self, result: Result<T>) -> Result<T> {
        match result {
            Err(Error::Unsupported { reason, .. }) if reason.contains("unknown command") => {
                let info = crate::CacheApi::ainfo(self, Some("server")).await;
                let version = info
                    .ok()
                    .and_then(|info| info.server_version())
                    .unwrap_or_else(|| "this server".to_owned());
                Err(Error::Unsupported {
                    operation: "hash-field expiry",
                    reason: format!(
                        "{version} does not have it: it needs Redis 7.4 or later (HSETEX and \
                         HGETEX: Redis 8) or Valkey 9 or later ({reason})"
                    ),
                })
            }
            other => other,
        }
    }

    /// The `HSETEX`/`HGETEX` expiry of a timeout; `never` for [`Timeout::Never`] (no
    /// argument for `HSETEX`, `PERSIST` for `HGETEX`). "Expired at once" is a past time.
    pub(super) fn field_ttl(&self, timeout: Timeout, never: FieldTtl) -> FieldTtl {
        match self.expiry(timeout).map(expiry_millis) {
            Some(Some(millis)) => FieldTtl::After(millis),
            Some(None) => never,
            None => FieldTtl::At(1),
        }
    }

    /// Field names and encoded values.
    pub(super) fn encode_fields<V: Serialize>(
        &self,
        fields: &[(&str, V)],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        fields
            .iter()
            .map(|(field, value)| Ok((field.as_bytes().to_vec(), self.codec.encode(value)?)))
            .collect()
    }

    /// Scores and encoded members, as `ZADD` takes them.
    pub(super) fn scored_members<V: Serialize>(
        &self,
        members: &[(V, f64)],
    ) -> Result<Vec<(f64, Vec<u8>)>> {
        members
            .iter()
            .map(|(member, value)| Ok((score(*value)?, self.codec.encode(member)?)))
            .collect()
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

/// The caller's key of a made key a command answered (`what`, for the error when it is none
/// of `made`).
pub(super) fn caller_key<'k>(
    keys: &[&'k str],
    made: &[String],
    answered: &[u8],
    what: &str,
) -> Result<&'k str> {
    made.iter()
        .position(|made| made.as_bytes() == answered)
        .and_then(|at| keys.get(at).copied())
        .ok_or_else(|| Error::unexpected_reply(format!("{what} answered an unknown key")))
}

/// A score as sent to a backend: NaN is refused (as Redis refuses it); `-0.0` is `0.0`.
pub(super) fn score(score: f64) -> Result<f64> {
    if score.is_nan() {
        return Err(Error::invalid_argument("a score cannot be NaN".to_owned()));
    }
    Ok(score + 0.0)
}

/// A time as Unix milliseconds (negative before 1970), within what a server accepts.
pub(super) fn unix_millis(when: SystemTime) -> Result<i64> {
    let millis = match when.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).ok(),
        Err(before) => i64::try_from(before.duration().as_millis())
            .ok()
            .map(|millis| -millis),
    };
    millis
        .filter(|millis| millis.unsigned_abs() <= MAX_EXPIRE_MILLIS)
        .ok_or_else(|| Error::invalid_argument(format!("expiry time {when:?} is out of range")))
}

/// A time to live of `PTTL`-like codes: -2 missing, -1 persistent, else milliseconds.
pub(super) fn ttl_of_millis(millis: i64) -> Ttl {
    match millis {
        -2 => Ttl::Missing,
        -1 => Ttl::Persistent,
        millis => Ttl::Expires(Duration::from_millis(millis.max(0).unsigned_abs())),
    }
}

/// An expiry time of `PEXPIRETIME`-like codes: -2 missing, -1 persistent, else Unix ms.
pub(super) fn expire_time(code: i64) -> ExpireTime {
    match code {
        -2 => ExpireTime::Missing,
        -1 => ExpireTime::Persistent,
        millis => ExpireTime::At(UNIX_EPOCH + Duration::from_millis(millis.max(0).unsigned_abs())),
    }
}

/// The hash-field expiry commands' codes per field (`HPEXPIRE`, `HPERSIST`).
pub(super) fn field_expiries(codes: Vec<i64>) -> Result<Vec<FieldExpiry>> {
    codes
        .into_iter()
        .map(|code| match code {
            -2 => Ok(FieldExpiry::NoField),
            -1 | 0 => Ok(FieldExpiry::Unchanged),
            1 => Ok(FieldExpiry::Changed),
            2 => Ok(FieldExpiry::Deleted),
            other => Err(Error::unexpected_reply(format!(
                "a hash-field expiry code {other}"
            ))),
        })
        .collect()
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
