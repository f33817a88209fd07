//! The cache API on [`CacheCore`]: each operation makes its keys, encodes its values, runs
//! commands of the table through [`CacheCore::run`] and decodes the replies.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_core::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::core::{
    CacheCore, caller_key, expire_time, field_bytes, field_expiries, field_name, score,
    ttl_of_millis, unix_millis,
};
use super::flight::recompute_early;
use crate::api::{CacheApi, KeyType, Timeout, Ttl};
use crate::backend::command::*;
use crate::backend::{Expiry, SCAN_BATCH};
use crate::load::LoadError;
use crate::lock::{Lock, Retry};
use crate::ops::{
    Condition, ExpireCondition, ExpireTime, FieldExpiry, FieldsCondition, Info, InsertAt, ListEnd,
    SetOptions, SetOutcome, SlowlogEntry, ZaddOptions,
};
use crate::scan::{KeyScan, MemberScan};
use crate::semaphore::{self, Permit};
use crate::stream::{
    AutoClaim, Block, ClaimOptions, ConsumerInfo, GroupInfo, PendingEntry, PendingRange,
    PendingSummary, ReadFrom, ReadOptions, StreamEntry, StreamId, StreamInfo, StreamReads, Trim,
    XaddOptions,
};
use crate::{Error, Result};

impl CacheApi for CacheCore {
    async fn aget<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        let value = self.read_value(key).await?;
        Ok(self.counted_get(value))
    }

    /// Native where the value is at hand (the in-memory store, a near cache's copy: no
    /// runtime, no future); elsewhere the bridge runs `aget`, as the derived twin does.
    fn get<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        match self.read_now(key)? {
            Some(value) => Ok(self.counted_get(value)),
            None => crate::__private::block_on("CacheApi", "get", std::pin::pin!(self.aget(key))),
        }
    }

    async fn aset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<()> {
        let made = self.key(key)?;
        let value = self.codec.encode(value)?;
        let result = match self.stored_expiry(timeout) {
            Some(expiry) => {
                let set = Set {
                    key: made,
                    value,
                    expiry,
                };
                self.run(key, set).await
            }
            None => self.run(key, Del { keys: vec![made] }).await.map(|_| true),
        };
        self.or_fail_open(result, || false).map(drop)
    }

    async fn aadd<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<bool> {
        let made = self.key(key)?;
        let value = self.codec.encode(value)?;
        let result = match (self.stored_expiry(timeout), self.stampede) {
            (Some(expiry), None) => {
                let add = SetNx {
                    key: made,
                    value,
                    expiry,
                };
                self.run(key, add).await
            }
            // A value inside its stampede buffer counts as missing, as `get` misses it.
            (Some(expiry), Some(stampede)) => {
                let add = AddStampede {
                    key: made,
                    value,
                    expiry,
                    buffer: stampede.buffer_secs(),
                };
                self.run(key, add).await
            }
            // Django: would it have been added? Nothing is kept.
            (None, _) => self.present(key, made).await.map(|present| !present),
        };
        self.or_fail_open(result, || false)
    }

    async fn adelete(&self, key: &str) -> Result<bool> {
        let made = self.key(key)?;
        let result = self.run(key, Del { keys: vec![made] }).await.map(|n| n > 0);
        self.or_fail_open(result, || false)
    }

    async fn aget_many<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
    ) -> Result<HashMap<String, V>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let made = self.made_keys(keys)?;
        let values = match self.stampede {
            // Under stampede prevention the expiries are asked too (a near cache's copies know
            // theirs).
            Some(stampede) => Box::pin(self.read_many(keys[0], stampede, made)).await,
            None => self.get_many_bytes(keys[0], made).await,
        };
        let values = self.or_fail_open(values, Vec::new)?;
        let mut found = HashMap::with_capacity(values.len());
        let mut hits = 0;
        for (key, bytes) in keys.iter().zip(values) {
            if let Some(bytes) = bytes {
                found.insert((*key).to_owned(), self.codec.decode(key, &bytes)?);
                hits += 1;
            }
        }
        self.count_lookups("get_many", hits, keys.len() - hits);
        Ok(found)
    }

    async fn aset_many<V: Serialize + Sync>(
        &self,
        items: &[(&str, V)],
        timeout: Timeout,
    ) -> Result<Vec<String>> {
        let all = || items.iter().map(|(key, _)| (*key).to_owned()).collect();
        let about = items.first().map(|(key, _)| *key).unwrap_or_default();
        let Some(expiry) = self.stored_expiry(timeout) else {
            let made = items
                .iter()
                .map(|(key, _)| self.key(key))
                .collect::<Result<Vec<_>>>()?;
            let deleted = self
                .run(about, Del { keys: made })
                .await
                .map(|_| Vec::new());
            return self.or_fail_open(deleted, all);
        };
        let mut sets = Vec::with_capacity(items.len());
        for (key, value) in items {
            let (key, value) = (self.key(key)?, self.codec.encode(value)?);
            sets.push(Set { key, value, expiry });
        }
        let stored = self.store.pipeline(sets).await.map(|outcomes| {
            items
                .iter()
                .zip(outcomes)
                .filter(|(_, outcome)| !matches!(outcome, Ok(true)))
                .map(|((key, _), _)| (*key).to_owned())
                .collect()
        });
        self.or_fail_open(stored, all)
    }

    async fn adelete_many(&self, keys: &[&str]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let made = self.made_keys(keys)?;
        let result = self.run(keys[0], Del { keys: made }).await;
        self.or_fail_open(result, || 0)
    }

    async fn ahas_key(&self, key: &str) -> Result<bool> {
        let made = self.key(key)?;
        let result = self.present(key, made).await;
        self.or_fail_open(result, || false)
    }

    async fn aincr(&self, key: &str, delta: i64) -> Result<i64> {
        self.on_key(key, |key| IncrBy { key, delta })
            .await?
            .ok_or_else(|| Error::NotFound {
                key: key.to_owned(),
            })
    }

    async fn adecr(&self, key: &str, delta: i64) -> Result<i64> {
        let negated = delta.checked_neg().ok_or_else(|| Error::WrongType {
            key: key.to_owned(),
            detail: format!("cannot decrement by {delta}"),
        })?;
        self.aincr(key, negated).await
    }

    async fn aincr_or_create(&self, key: &str, delta: i64, timeout: Timeout) -> Result<i64> {
        let made = self.key(key)?;
        match self.expiry(timeout) {
            Some(expiry) => {
                let command = IncrOrCreate {
                    key: made,
                    delta,
                    expiry,
                };
                self.run(key, command).await
            }
            // With a zero timeout a missing counter is not created: the count is `delta`, kept
            // nowhere; an existing one is incremented and keeps its own expiry.
            None => Ok(self
                .run(key, IncrBy { key: made, delta })
                .await?
                .unwrap_or(delta)),
        }
    }

    async fn atouch(&self, key: &str, timeout: Timeout) -> Result<bool> {
        if let (Some(stampede), Some(expiry)) = (self.stampede, self.stored_expiry(timeout)) {
            // A value inside its stampede buffer is left alone, as `get` misses it.
            let touch = TouchStampede {
                key: self.key(key)?,
                expiry,
                buffer: stampede.buffer_secs(),
            };
            return self.or_fail_open(self.run(key, touch).await, || false);
        }
        let result = self.expire_in(key, timeout).await;
        self.or_fail_open(result, || false)
    }

    async fn aclear(&self) -> Result<u64> {
        let pattern = self
            .keys
            .all_versions_pattern()
            .ok_or_else(|| Error::Unsupported {
                operation: "clear",
                reason: "this cache's key function does not start its keys with the prefix, so \
                     its keys cannot be told from other keys: use a key function that does, or \
                     flush_db"
                    .to_owned(),
            })?;
        self.store.delete_pattern(&pattern).await
    }

    async fn aclose(&self) -> Result<()> {
        self.store.close().await
    }

    async fn aget_or_set<V, F>(&self, key: &str, default: F, timeout: Timeout) -> Result<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> V + Send,
    {
        let loader = || Ok::<V, Infallible>(default());
        self.atry_get_or_set(key, loader, timeout)
            .await
            .map_err(LoadError::into_cache)
    }

    async fn aget_or_set_with<V, F, Fut>(
        &self,
        key: &str,
        default: F,
        timeout: Timeout,
    ) -> Result<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = V> + Send,
    {
        let loader = || async { Ok::<V, Infallible>(default().await) };
        self.atry_get_or_set_with(key, loader, timeout)
            .await
            .map_err(LoadError::into_cache)
    }

    async fn atry_get_or_set<V, E, F>(
        &self,
        key: &str,
        loader: F,
        timeout: Timeout,
    ) -> Result<V, LoadError<E>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        E: Send + Sync + 'static,
        F: FnOnce() -> Result<V, E> + Send,
    {
        self.atry_get_or_set_with(key, || std::future::ready(loader()), timeout)
            .await
    }

    async fn atry_get_or_set_with<V, E, F, Fut>(
        &self,
        key: &str,
        loader: F,
        timeout: Timeout,
    ) -> Result<V, LoadError<E>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<V, E>> + Send,
    {
        self.get_or_load("get_or_set", key, loader, timeout).await
    }

    async fn aincr_version(&self, key: &str, delta: i64) -> Result<i64> {
        self.version_move(key, delta).await
    }

    async fn adecr_version(&self, key: &str, delta: i64) -> Result<i64> {
        let negated = delta
            .checked_neg()
            .ok_or_else(|| Error::config(format!("cannot move a version by -{delta}")))?;
        self.version_move(key, negated).await
    }

    async fn aflush_db(&self) -> Result<()> {
        self.store.run("", FlushDb {}).await
    }

    async fn aget_or_set_early<V, F>(
        &self,
        key: &str,
        default: F,
        timeout: Timeout,
        beta: f64,
    ) -> Result<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> V + Send,
    {
        let loader = || Ok::<V, Infallible>(default());
        self.atry_get_or_set_early(key, loader, timeout, beta)
            .await
            .map_err(LoadError::into_cache)
    }

    async fn atry_get_or_set_early<V, E, F>(
        &self,
        key: &str,
        loader: F,
        timeout: Timeout,
        beta: f64,
    ) -> Result<V, LoadError<E>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        E: Send + Sync + 'static,
        F: FnOnce() -> Result<V, E> + Send,
    {
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(Error::invalid_argument(format!(
                "beta must be a finite number >= 0, not {beta}"
            ))
            .into());
        }
        let made = self.key(key)?;
        let (value, left_millis) = self.run(key, GetPttl { key: made.clone() }).await?;
        let Some(value) = self.decode_optional::<V>(key, value)? else {
            let loader = || std::future::ready(loader());
            return self
                .get_or_load("get_or_set_early", key, loader, timeout)
                .await;
        };
        self.count_lookups("get_or_set_early", 1, 0);
        let Some(delta) = self.compute_times.of(&made).filter(|_| left_millis > 0) else {
            return Ok(value);
        };
        if !recompute_early(delta, left_millis, beta) {
            return Ok(value);
        }
        // One early recomputation per process at a time; the others keep the current value.
        let flight = self.flights.join(&made);
        let Some(_computing) = flight.try_turn() else {
            return Ok(value);
        };
        let started = Instant::now();
        // A failed recomputation keeps the current value, which has not expired.
        let Ok(fresh) = loader() else {
            tracing::debug!(
                target: "cachex",
                "early recomputation of {key:?} failed, keeping its value"
            );
            return Ok(value);
        };
        self.compute_times.record(&made, started.elapsed());
        self.aset(key, &fresh, timeout).await?;
        Ok(fresh)
    }

    async fn areplace<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<bool> {
        let made = self.key(key)?;
        let value = self.codec.encode(value)?;
        match self.expiry(timeout) {
            Some(expiry) => {
                self.run(
                    key,
                    SetXx {
                        key: made,
                        value,
                        expiry,
                    },
                )
                .await
            }
            // Replaced by a value that expires at once: deleted, if it was there.
            None => Ok(self.run(key, Del { keys: vec![made] }).await? > 0),
        }
    }

    async fn aswap<V>(&self, key: &str, value: &V, timeout: Timeout) -> Result<Option<V>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
    {
        let made = self.key(key)?;
        let value = self.codec.encode(value)?;
        let previous = match self.expiry(timeout) {
            Some(expiry) => {
                self.run(
                    key,
                    SetGet {
                        key: made,
                        value,
                        expiry,
                    },
                )
                .await?
            }
            None => self.run(key, GetDel { key: made }).await?,
        };
        self.decode_optional(key, previous)
    }

    async fn attl(&self, key: &str) -> Result<Ttl> {
        Ok(self.apttl(key).await?.to_seconds())
    }

    async fn apttl(&self, key: &str) -> Result<Ttl> {
        let stored = self.on_key(key, |key| Pttl { key }).await?;
        Ok(ttl_of_millis(self.logical_millis(stored)))
    }

    async fn aexpire(&self, key: &str, timeout: impl Into<Timeout> + Send) -> Result<bool> {
        self.expire_in(key, timeout.into()).await
    }

    async fn apexpire(&self, key: &str, timeout: impl Into<Timeout> + Send) -> Result<bool> {
        self.expire_in(key, timeout.into()).await
    }

    async fn aexpire_at(&self, key: &str, when: SystemTime) -> Result<bool> {
        let mut unix_millis = unix_millis(when)?;
        if let Some(stampede) = self.stampede {
            unix_millis =
                stampede.stored_deadline(unix_millis, self::unix_millis(SystemTime::now())?);
        }
        self.on_key(key, |key| PexpireAt { key, unix_millis }).await
    }

    async fn apexpire_at(&self, key: &str, when: SystemTime) -> Result<bool> {
        self.aexpire_at(key, when).await
    }

    async fn apersist(&self, key: &str) -> Result<bool> {
        self.on_key(key, |key| Persist { key }).await
    }

    async fn akey_type(&self, key: &str) -> Result<Option<KeyType>> {
        Ok(KeyType::named(
            &self.on_key(key, |key| Type { key }).await?.0,
        ))
    }

    async fn akeys(&self, pattern: &str) -> Result<Vec<String>> {
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        let mut scan = self.key_scan(pattern);
        while let Some(key) = std::future::poll_fn(|cx| Pin::new(&mut scan).poll_next(cx)).await {
            let key = key?;
            if seen.insert(key.clone()) {
                found.push(key);
            }
        }
        Ok(found)
    }

    async fn aiter_keys(&self, pattern: &str) -> Result<KeyScan> {
        Ok(self.key_scan(pattern))
    }

    /// Injected native blocking side: building the scan needs no I/O, so it is not bridged.
    fn iter_keys(&self, pattern: &str) -> Result<KeyScan> {
        Ok(self.key_scan(pattern))
    }

    async fn adelete_pattern(&self, pattern: &str) -> Result<u64> {
        self.store
            .delete_pattern(&self.keys.pattern(pattern, None))
            .await
    }

    async fn arename(&self, from: &str, to: &str) -> Result<()> {
        let (made_from, made_to) = (self.key(from)?, self.key(to)?);
        self.run(
            from,
            Rename {
                from: made_from,
                to: made_to,
            },
        )
        .await
    }

    async fn arenamenx(&self, from: &str, to: &str) -> Result<bool> {
        let command = RenameNx {
            from: self.key(from)?,
            to: self.key(to)?,
        };
        self.run(from, command).await
    }

    async fn alock(&self, key: &str, lease: Duration, wait: Duration) -> Result<Option<Lock>> {
        let made = self.key(key)?;
        let token = format!("{:032x}", fastrand::u128(..)).into_bytes();
        let expiry = Expiry::After(lease.max(Duration::from_millis(1)));
        let mut retry = Retry::within(wait);
        loop {
            let take = SetNx {
                key: made.clone(),
                value: token.clone(),
                expiry,
            };
            if self.run(key, take).await? {
                return Ok(Some(Lock::new(self.store.clone(), key, made, token)));
            }
            if !retry.pause().await? {
                return Ok(None);
            }
        }
    }

    async fn ahset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        field: &str,
        value: &V,
    ) -> Result<bool> {
        let pairs = vec![(field.as_bytes().to_vec(), self.codec.encode(value)?)];
        let made = self.key(key)?;
        Ok(self.run(key, Hset { key: made, pairs }).await? > 0)
    }

    async fn ahsetnx<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        field: &str,
        value: &V,
    ) -> Result<bool> {
        let value = self.codec.encode(value)?;
        let field = field.as_bytes().to_vec();
        self.on_key(key, |key| HsetNx { key, field, value }).await
    }

    async fn ahget<V: DeserializeOwned + Send>(&self, key: &str, field: &str) -> Result<Option<V>> {
        let field = field.as_bytes().to_vec();
        self.value(key, |key| Hget { key, field }).await
    }

    async fn ahmget<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        fields: &[&str],
    ) -> Result<Vec<Option<V>>> {
        let command = Hmget {
            key: self.key(key)?,
            fields: field_bytes(fields),
        };
        let values = self.run(key, command).await?;
        values
            .into_iter()
            .map(|value| self.decode_optional(key, value))
            .collect()
    }

    async fn ahgetall<V: DeserializeOwned + Send>(&self, key: &str) -> Result<HashMap<String, V>> {
        let made = self.key(key)?;
        let items = self.run(key, HgetAll { key: made }).await?;
        let mut all = HashMap::with_capacity(items.len());
        for (field, value) in items {
            all.insert(field_name(key, field)?, self.codec.decode(key, &value)?);
        }
        Ok(all)
    }

    async fn ahdel(&self, key: &str, fields: &[&str]) -> Result<u64> {
        let fields = field_bytes(fields);
        self.on_key(key, |key| Hdel { key, fields }).await
    }

    async fn ahlen(&self, key: &str) -> Result<u64> {
        self.on_key(key, |key| Hlen { key }).await
    }

    async fn ahkeys(&self, key: &str) -> Result<Vec<String>> {
        let made = self.key(key)?;
        let fields = self.run(key, Hkeys { key: made }).await?;
        fields
            .into_iter()
            .map(|field| field_name(key, field))
            .collect()
    }

    async fn ahvals<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Vec<V>> {
        self.values(key, |key| Hvals { key }).await
    }

    async fn ahexists(&self, key: &str, field: &str) -> Result<bool> {
        let field = field.as_bytes().to_vec();
        self.on_key(key, |key| Hexists { key, field }).await
    }

    async fn ahincrby(&self, key: &str, field: &str, delta: i64) -> Result<i64> {
        let field = field.as_bytes().to_vec();
        self.on_key(key, |key| HincrBy { key, field, delta }).await
    }

    async fn ahincrbyfloat(&self, key: &str, field: &str, delta: f64) -> Result<f64> {
        let field = field.as_bytes().to_vec();
        self.on_key(key, |key| HincrByFloat { key, field, delta })
            .await
    }

    async fn alpush<V: Serialize + Sync>(&self, key: &str, values: &[V]) -> Result<u64> {
        let values = self.encode_all(values)?;
        self.on_key(key, |key| Lpush { key, values }).await
    }

    async fn arpush<V: Serialize + Sync>(&self, key: &str, values: &[V]) -> Result<u64> {
        let values = self.encode_all(values)?;
        self.on_key(key, |key| Rpush { key, values }).await
    }

    async fn alpop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        self.value(key, |key| Lpop { key }).await
    }

    async fn arpop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        self.value(key, |key| Rpop { key }).await
    }

    async fn alrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>> {
        self.values(key, |key| Lrange { key, start, stop }).await
    }

    async fn alindex<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        index: i64,
    ) -> Result<Option<V>> {
        self.value(key, |key| Lindex { key, index }).await
    }

    async fn allen(&self, key: &str) -> Result<u64> {
        self.on_key(key, |key| Llen { key }).await
    }

    async fn alrem<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        count: i64,
        value: &V,
    ) -> Result<u64> {
        let value = self.codec.encode(value)?;
        self.on_key(key, |key| Lrem { key, count, value }).await
    }

    async fn altrim(&self, key: &str, start: i64, stop: i64) -> Result<()> {
        self.on_key(key, |key| Ltrim { key, start, stop }).await
    }

    async fn alset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        index: i64,
        value: &V,
    ) -> Result<()> {
        let value = self.codec.encode(value)?;
        self.on_key(key, |key| Lset { key, index, value }).await
    }

    async fn ablpop<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
        timeout: Option<Duration>,
    ) -> Result<Option<(String, V)>> {
        let made = self.made_keys(keys)?;
        let about = keys.first().copied().unwrap_or_default();
        let command = Blpop {
            keys: made.clone(),
            timeout,
        };
        let popped = self.run(about, command).await?;
        self.decode_popped(keys, &made, popped)
    }

    async fn abrpop<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
        timeout: Option<Duration>,
    ) -> Result<Option<(String, V)>> {
        let made = self.made_keys(keys)?;
        let about = keys.first().copied().unwrap_or_default();
        let command = Brpop {
            keys: made.clone(),
            timeout,
        };
        let popped = self.run(about, command).await?;
        self.decode_popped(keys, &made, popped)
    }

    async fn asadd<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64> {
        let members = self.encode_all(members)?;
        self.on_key(key, |key| Sadd { key, members }).await
    }

    async fn asrem<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64> {
        let members = self.encode_all(members)?;
        self.on_key(key, |key| Srem { key, members }).await
    }

    async fn asmembers<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Vec<V>> {
        self.values(key, |key| Smembers { key }).await
    }

    async fn asismember<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<bool> {
        let member = self.codec.encode(member)?;
        self.on_key(key, |key| SisMember { key, member }).await
    }

    async fn ascard(&self, key: &str) -> Result<u64> {
        self.on_key(key, |key| Scard { key }).await
    }

    async fn aspop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        self.value(key, |key| Spop { key }).await
    }

    async fn asrandmember<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: i64,
    ) -> Result<Vec<V>> {
        self.values(key, |key| SrandMember { key, count }).await
    }

    async fn asinter<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>> {
        let about = keys.first().copied().unwrap_or_default();
        let made = self.made_keys(keys)?;
        let members = self.run(about, Sinter { keys: made }).await?;
        self.decode_all(about, members)
    }

    async fn asunion<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>> {
        let about = keys.first().copied().unwrap_or_default();
        let made = self.made_keys(keys)?;
        let members = self.run(about, Sunion { keys: made }).await?;
        self.decode_all(about, members)
    }

    async fn asdiff<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>> {
        let about = keys.first().copied().unwrap_or_default();
        let made = self.made_keys(keys)?;
        let members = self.run(about, Sdiff { keys: made }).await?;
        self.decode_all(about, members)
    }

    async fn azadd<V: Serialize + Sync>(&self, key: &str, members: &[(V, f64)]) -> Result<u64> {
        self.azadd_with(key, members, ZaddOptions::new()).await
    }

    async fn azrem<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64> {
        let members = self.encode_all(members)?;
        self.on_key(key, |key| Zrem { key, members }).await
    }

    async fn azscore<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<f64>> {
        let member = self.codec.encode(member)?;
        self.on_key(key, |key| Zscore { key, member }).await
    }

    async fn azrank<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<u64>> {
        let member = self.codec.encode(member)?;
        self.on_key(key, |key| Zrank { key, member }).await
    }

    async fn azrevrank<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<u64>> {
        let member = self.codec.encode(member)?;
        self.on_key(key, |key| Zrevrank { key, member }).await
    }

    async fn azrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>> {
        self.values(key, |key| Zrange { key, start, stop }).await
    }

    async fn azrange_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<(V, f64)>> {
        self.scored(key, |key| ZrangeWithScores { key, start, stop })
            .await
    }

    async fn azrevrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>> {
        self.values(key, |key| Zrevrange { key, start, stop }).await
    }

    async fn azrevrange_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<(V, f64)>> {
        self.scored(key, |key| ZrevrangeWithScores { key, start, stop })
            .await
    }

    async fn azrangebyscore<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        min: f64,
        max: f64,
    ) -> Result<Vec<V>> {
        let (min, max) = (score(min)?, score(max)?);
        self.values(key, |key| ZrangeByScore { key, min, max })
            .await
    }

    async fn azrangebyscore_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        min: f64,
        max: f64,
    ) -> Result<Vec<(V, f64)>> {
        let (min, max) = (score(min)?, score(max)?);
        self.scored(key, |key| ZrangeByScoreWithScores { key, min, max })
            .await
    }

    async fn azincrby<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
        delta: f64,
    ) -> Result<f64> {
        let (delta, member) = (score(delta)?, self.codec.encode(member)?);
        self.on_key(key, |key| ZincrBy { key, delta, member }).await
    }

    async fn azcard(&self, key: &str) -> Result<u64> {
        self.on_key(key, |key| Zcard { key }).await
    }

    async fn azcount(&self, key: &str, min: f64, max: f64) -> Result<u64> {
        let (min, max) = (score(min)?, score(max)?);
        self.on_key(key, |key| Zcount { key, min, max }).await
    }

    async fn azpopmin<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: u64,
    ) -> Result<Vec<(V, f64)>> {
        self.scored(key, |key| Zpopmin { key, count }).await
    }

    async fn azpopmax<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: u64,
    ) -> Result<Vec<(V, f64)>> {
        self.scored(key, |key| Zpopmax { key, count }).await
    }

    // --- breadth: django-cachex 0.14.1's further operations ---

    async fn aexpiretime(&self, key: &str) -> Result<ExpireTime> {
        let stored = self.on_key(key, |key| PexpireTime { key }).await?;
        Ok(expire_time(self.logical_millis(stored)))
    }

    async fn ascan(
        &self,
        cursor: u64,
        pattern: &str,
        count: Option<usize>,
    ) -> Result<(u64, Vec<String>)> {
        let scan = Scan {
            cursor,
            pattern: self.keys.pattern(pattern, None),
            count: count.unwrap_or(SCAN_BATCH),
        };
        let (next, made) = self.run("", scan).await?;
        let keys = made
            .into_iter()
            .map(|made| {
                String::from_utf8(made)
                    .map(|made| self.keys.user_key(&made).to_owned())
                    .map_err(|err| Error::Decode {
                        key: String::from_utf8_lossy(err.as_bytes()).into_owned(),
                        reason: "a stored key is not UTF-8".to_owned(),
                    })
            })
            .collect::<Result<_>>()?;
        Ok((next, keys))
    }

    async fn amemory_usage(&self, key: &str, samples: Option<u64>) -> Result<Option<u64>> {
        self.on_key(key, |key| MemoryUsage { key, samples }).await
    }

    async fn alargest_keys(
        &self,
        pattern: &str,
        count: usize,
        samples: Option<u64>,
    ) -> Result<Vec<(String, u64)>> {
        /// How many keys one `MEMORY USAGE` pipeline measures.
        const BATCH: usize = 100;
        let mut largest = BinaryHeap::with_capacity(count + 1);
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut scan = self.key_scan(pattern);
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let next = std::future::poll_fn(|cx| Pin::new(&mut scan).poll_next(cx)).await;
            let done = next.is_none();
            if let Some(key) = next {
                batch.push(key?);
            }
            if batch.len() == BATCH || (done && !batch.is_empty()) {
                let asks = batch
                    .iter()
                    .map(|key| {
                        let key = self.key(key)?;
                        Ok(MemoryUsage { key, samples })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let sizes = self.store.pipeline(asks).await?;
                for (key, size) in batch.drain(..).zip(sizes) {
                    // A key gone since the scan saw it has no size: left out.
                    if let Some(size) = size? {
                        largest.push(Reverse((size, key)));
                        if largest.len() > count {
                            largest.pop();
                        }
                    }
                }
            }
            if done {
                break;
            }
        }
        let mut found: Vec<(String, u64)> = largest
            .into_iter()
            .map(|Reverse((size, key))| (key, size))
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(found)
    }

    async fn aslowlog_get(&self, count: u64) -> Result<Vec<SlowlogEntry>> {
        self.run("", SlowlogGet { count }).await
    }

    async fn aslowlog_len(&self) -> Result<u64> {
        self.run("", SlowlogLen {}).await
    }

    async fn aclear_all_versions(&self) -> Result<u64> {
        match self.keys.every_version_pattern() {
            Some(pattern) => self.store.delete_pattern(&pattern).await,
            None => self.aclear().await,
        }
    }

    async fn ainfo(&self, section: Option<&str>) -> Result<Info> {
        let section = section.map(str::to_owned);
        let nodes = self.run("", ServerInfo { section }).await?.0;
        Ok(Info {
            nodes: nodes
                .into_iter()
                .map(|(address, text)| (address, Info::parse(&text)))
                .collect(),
        })
    }

    async fn aset_with<V>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
        options: SetOptions,
    ) -> Result<SetOutcome<V>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
    {
        let made = self.key(key)?;
        let value = self.codec.encode(value)?;
        let SetOptions {
            condition,
            get,
            keep_ttl,
        } = options;
        let expiry = match (keep_ttl, self.expiry(timeout)) {
            (true, _) => None,
            (false, Some(expiry)) => Some(expiry),
            (false, None) => return self.set_expired_at_once(key, made, options).await,
        };
        let command = SetWith {
            key: made,
            value,
            expiry,
            condition,
            get,
        };
        let (stored, previous) = match self.run(key, command).await? {
            SetReply::Ok => (true, None),
            SetReply::Nil if !get => (false, None),
            SetReply::Nil => (condition != Some(Condition::Present), None),
            SetReply::Value(previous) => (condition != Some(Condition::Absent), Some(previous)),
        };
        Ok(SetOutcome {
            stored,
            previous: self.decode_optional(key, previous)?,
        })
    }

    async fn ahset_many<V: Serialize + Sync>(
        &self,
        key: &str,
        fields: &[(&str, V)],
    ) -> Result<u64> {
        if fields.is_empty() {
            return Ok(0);
        }
        let pairs = self.encode_fields(fields)?;
        self.on_key(key, |key| Hset { key, pairs }).await
    }

    async fn ahexpire(
        &self,
        key: &str,
        ttl: Duration,
        fields: &[&str],
        condition: Option<ExpireCondition>,
    ) -> Result<Vec<FieldExpiry>> {
        let millis = i64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX);
        let fields = field_bytes(fields);
        let codes = self.on_key(key, |key| Hpexpire {
            key,
            millis,
            condition,
            fields,
        });
        field_expiries(self.with_server_version(codes.await).await?)
    }

    async fn ahpexpire(
        &self,
        key: &str,
        ttl: Duration,
        fields: &[&str],
        condition: Option<ExpireCondition>,
    ) -> Result<Vec<FieldExpiry>> {
        self.ahexpire(key, ttl, fields, condition).await
    }

    async fn ahexpire_at(
        &self,
        key: &str,
        when: SystemTime,
        fields: &[&str],
        condition: Option<ExpireCondition>,
    ) -> Result<Vec<FieldExpiry>> {
        let unix_millis = unix_millis(when)?;
        let fields = field_bytes(fields);
        let codes = self.on_key(key, |key| HpexpireAt {
            key,
            unix_millis,
            condition,
            fields,
        });
        field_expiries(self.with_server_version(codes.await).await?)
    }

    async fn ahpexpire_at(
        &self,
        key: &str,
        when: SystemTime,
        fields: &[&str],
        condition: Option<ExpireCondition>,
    ) -> Result<Vec<FieldExpiry>> {
        self.ahexpire_at(key, when, fields, condition).await
    }

    async fn ahttl(&self, key: &str, fields: &[&str]) -> Result<Vec<Ttl>> {
        let ttls = self.ahpttl(key, fields).await?;
        Ok(ttls.into_iter().map(Ttl::to_seconds).collect())
    }

    async fn ahpttl(&self, key: &str, fields: &[&str]) -> Result<Vec<Ttl>> {
        let fields = field_bytes(fields);
        let codes = self.on_key(key, |key| Hpttl { key, fields });
        let codes = self.with_server_version(codes.await).await?;
        Ok(codes.into_iter().map(ttl_of_millis).collect())
    }

    async fn ahexpiretime(&self, key: &str, fields: &[&str]) -> Result<Vec<ExpireTime>> {
        let fields = field_bytes(fields);
        let codes = self.on_key(key, |key| HpexpireTime { key, fields });
        let codes = self.with_server_version(codes.await).await?;
        Ok(codes.into_iter().map(expire_time).collect())
    }

    async fn ahpersist(&self, key: &str, fields: &[&str]) -> Result<Vec<FieldExpiry>> {
        let fields = field_bytes(fields);
        let codes = self.on_key(key, |key| Hpersist { key, fields });
        field_expiries(self.with_server_version(codes.await).await?)
    }

    async fn ahsetex<V: Serialize + Sync>(
        &self,
        key: &str,
        fields: &[(&str, V)],
        timeout: Option<Timeout>,
        condition: Option<FieldsCondition>,
    ) -> Result<bool> {
        let pairs = self.encode_fields(fields)?;
        let ttl = match timeout {
            None => FieldTtl::Keep,
            Some(timeout) => self.field_ttl(timeout, FieldTtl::Unchanged),
        };
        let set = self.on_key(key, |key| Hsetex {
            key,
            condition,
            ttl,
            pairs,
        });
        self.with_server_version(set.await).await
    }

    async fn ahgetex<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        fields: &[&str],
        timeout: Option<Timeout>,
    ) -> Result<Vec<Option<V>>> {
        let ttl = match timeout {
            None => FieldTtl::Unchanged,
            Some(timeout) => self.field_ttl(timeout, FieldTtl::Persist),
        };
        let fields = field_bytes(fields);
        let values = self.on_key(key, |key| Hgetex { key, ttl, fields });
        let values = self.with_server_version(values.await).await?;
        values
            .into_iter()
            .map(|value| self.decode_optional(key, value))
            .collect()
    }

    async fn alpop_count<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: u64,
    ) -> Result<Vec<V>> {
        let popped = self.on_key(key, |key| LpopCount { key, count }).await?;
        self.decode_all(key, popped.unwrap_or_default())
    }

    async fn arpop_count<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: u64,
    ) -> Result<Vec<V>> {
        let popped = self.on_key(key, |key| RpopCount { key, count }).await?;
        self.decode_all(key, popped.unwrap_or_default())
    }

    async fn alpos<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        rank: Option<i64>,
        maxlen: Option<u64>,
    ) -> Result<Option<u64>> {
        let (value, rank) = (self.codec.encode(value)?, list_rank(rank)?);
        self.on_key(key, |key| Lpos {
            key,
            value,
            rank,
            maxlen,
        })
        .await
    }

    async fn alpos_count<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        count: u64,
        rank: Option<i64>,
        maxlen: Option<u64>,
    ) -> Result<Vec<u64>> {
        let (value, rank) = (self.codec.encode(value)?, list_rank(rank)?);
        self.on_key(key, |key| LposCount {
            key,
            value,
            count,
            rank,
            maxlen,
        })
        .await
    }

    async fn almove<V: DeserializeOwned + Send>(
        &self,
        source: &str,
        destination: &str,
        from: ListEnd,
        to: ListEnd,
    ) -> Result<Option<V>> {
        let command = Lmove {
            source: self.key(source)?,
            destination: self.key(destination)?,
            from,
            to,
        };
        let moved = self.run(source, command).await?;
        self.decode_optional(source, moved)
    }

    async fn ablmove<V: DeserializeOwned + Send>(
        &self,
        source: &str,
        destination: &str,
        from: ListEnd,
        to: ListEnd,
        timeout: Option<Duration>,
    ) -> Result<Option<V>> {
        let command = Blmove {
            source: self.key(source)?,
            destination: self.key(destination)?,
            from,
            to,
            timeout,
        };
        let moved = self.run(source, command).await?;
        self.decode_optional(source, moved)
    }

    async fn alinsert<P, V>(
        &self,
        key: &str,
        at: InsertAt,
        pivot: &P,
        value: &V,
    ) -> Result<Option<u64>>
    where
        P: Serialize + Sync + ?Sized,
        V: Serialize + Sync + ?Sized,
    {
        let (pivot, value) = (self.codec.encode(pivot)?, self.codec.encode(value)?);
        let length = self
            .on_key(key, |key| Linsert {
                key,
                at,
                pivot,
                value,
            })
            .await?;
        Ok(u64::try_from(length).ok())
    }

    async fn asmove<V: Serialize + Sync + ?Sized>(
        &self,
        source: &str,
        destination: &str,
        member: &V,
    ) -> Result<bool> {
        let command = Smove {
            source: self.key(source)?,
            destination: self.key(destination)?,
            member: self.codec.encode(member)?,
        };
        self.run(source, command).await
    }

    async fn asmismember<V: Serialize + Sync>(
        &self,
        key: &str,
        members: &[V],
    ) -> Result<Vec<bool>> {
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let members = self.encode_all(members)?;
        self.on_key(key, |key| SmisMember { key, members }).await
    }

    async fn asscan<V: DeserializeOwned + Send + 'static>(
        &self,
        key: &str,
    ) -> Result<MemberScan<V>> {
        let made = self.key(key)?;
        Ok(MemberScan::members(
            self.store.clone(),
            self.codec.clone(),
            key,
            made,
        ))
    }

    async fn asdiffstore(&self, destination: &str, keys: &[&str]) -> Result<u64> {
        let (destination_made, keys) = (self.key(destination)?, self.made_keys(keys)?);
        let command = SdiffStore {
            destination: destination_made,
            keys,
        };
        self.run(destination, command).await
    }

    async fn asinterstore(&self, destination: &str, keys: &[&str]) -> Result<u64> {
        let (destination_made, keys) = (self.key(destination)?, self.made_keys(keys)?);
        let command = SinterStore {
            destination: destination_made,
            keys,
        };
        self.run(destination, command).await
    }

    async fn asunionstore(&self, destination: &str, keys: &[&str]) -> Result<u64> {
        let (destination_made, keys) = (self.key(destination)?, self.made_keys(keys)?);
        let command = SunionStore {
            destination: destination_made,
            keys,
        };
        self.run(destination, command).await
    }

    async fn azadd_with<V: Serialize + Sync>(
        &self,
        key: &str,
        members: &[(V, f64)],
        options: ZaddOptions,
    ) -> Result<u64> {
        if members.is_empty() {
            return Ok(0);
        }
        let members = self.scored_members(members)?;
        self.on_key(key, |key| Zadd {
            key,
            options,
            members,
        })
        .await
    }

    async fn azremrangebyscore(&self, key: &str, min: f64, max: f64) -> Result<u64> {
        let (min, max) = (score(min)?, score(max)?);
        self.on_key(key, |key| ZremRangeByScore { key, min, max })
            .await
    }

    async fn azremrangebyrank(&self, key: &str, start: i64, stop: i64) -> Result<u64> {
        self.on_key(key, |key| ZremRangeByRank { key, start, stop })
            .await
    }

    async fn azrevrangebyscore<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        max: f64,
        min: f64,
    ) -> Result<Vec<V>> {
        let (max, min) = (score(max)?, score(min)?);
        self.values(key, |key| ZrevrangeByScore { key, max, min })
            .await
    }

    async fn azrevrangebyscore_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        max: f64,
        min: f64,
    ) -> Result<Vec<(V, f64)>> {
        let (max, min) = (score(max)?, score(min)?);
        self.scored(key, |key| ZrevrangeByScoreWithScores { key, max, min })
            .await
    }

    async fn azmscore<V: Serialize + Sync>(
        &self,
        key: &str,
        members: &[V],
    ) -> Result<Vec<Option<f64>>> {
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let members = self.encode_all(members)?;
        self.on_key(key, |key| Zmscore { key, members }).await
    }

    // --- semaphores ---

    async fn asemaphore(
        &self,
        key: &str,
        capacity: u32,
        weight: u32,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Permit>> {
        let made = self.key(key)?;
        let request = semaphore::Request {
            capacity,
            weight,
            lease,
            wait,
        };
        semaphore::acquire(&self.store, key, &made, request).await
    }

    // --- scripts ---

    async fn aeval_script<T: crate::FromScriptReply + Send>(
        &self,
        script: &crate::Script,
        keys: &[&str],
        args: &[crate::ScriptArg<'_>],
    ) -> Result<T> {
        let about = keys.first().copied().unwrap_or_default();
        let command = Eval {
            source: script.shared_source(),
            hash: script.hash().into(),
            keys: self.made_keys(keys)?,
            args: args
                .iter()
                .map(|arg| arg.encoded(&self.codec))
                .collect::<Result<_>>()?,
        };
        let reply = self.run(about, command).await?;
        T::from_reply(reply, &self.codec).map_err(|err| err.about(about))
    }

    // --- streams ---

    async fn axadd<V: Serialize + Sync>(
        &self,
        key: &str,
        fields: &[(&str, V)],
        options: XaddOptions,
    ) -> Result<Option<StreamId>> {
        if fields.is_empty() {
            return Err(Error::invalid_argument(
                "a stream entry needs at least one field".to_owned(),
            ));
        }
        let fields = fields
            .iter()
            .map(|(field, value)| Ok((field.as_bytes().to_vec(), self.codec.encode(value)?)))
            .collect::<Result<Vec<_>>>()?;
        let XaddOptions {
            id,
            trim,
            nomkstream,
        } = options;
        self.on_key(key, |key| Xadd {
            key,
            nomkstream,
            trim,
            id,
            fields,
        })
        .await
    }

    async fn axlen(&self, key: &str) -> Result<u64> {
        self.on_key(key, |key| Xlen { key }).await
    }

    async fn axrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: StreamId,
        end: StreamId,
        count: Option<u64>,
    ) -> Result<Vec<StreamEntry<V>>> {
        let range = |key| Xrange {
            key,
            start,
            end,
            count,
        };
        self.entries_of(key, range).await
    }

    async fn axrevrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        end: StreamId,
        start: StreamId,
        count: Option<u64>,
    ) -> Result<Vec<StreamEntry<V>>> {
        let range = |key| Xrevrange {
            key,
            end,
            start,
            count,
        };
        self.entries_of(key, range).await
    }

    async fn axread<V: DeserializeOwned + Send>(
        &self,
        streams: &[(&str, ReadFrom)],
        options: ReadOptions,
    ) -> Result<StreamReads<V>> {
        if options.noack {
            return Err(Error::invalid_argument(
                "noack is for xreadgroup: xread keeps no pending entries".to_owned(),
            ));
        }
        let (keys, made, from) = self.stream_keys(streams)?;
        let about = keys[0];
        let count = options.count;
        let reply = match waits(options.block) {
            None => {
                let read = Xread {
                    keys: made.clone(),
                    from,
                    count,
                };
                self.run(about, read).await?
            }
            Some(wait) => {
                let read = XreadBlock {
                    keys: made.clone(),
                    from,
                    count,
                    wait,
                };
                self.run(about, read).await?
            }
        };
        self.stream_reads(&keys, &made, reply)
    }

    async fn axtrim(&self, key: &str, trim: Trim) -> Result<u64> {
        self.on_key(key, |key| Xtrim { key, trim }).await
    }

    async fn axdel(&self, key: &str, ids: &[StreamId]) -> Result<u64> {
        let ids = ids.to_vec();
        self.on_key(key, |key| Xdel { key, ids }).await
    }

    async fn axinfo_stream<V: DeserializeOwned + Send>(&self, key: &str) -> Result<StreamInfo<V>> {
        let info = self.on_key(key, |key| XinfoStream { key }).await?;
        let entry =
            |entry: Option<RawEntry>| entry.map(|entry| self.stream_entry(key, entry)).transpose();
        Ok(StreamInfo {
            length: info.length,
            last_generated_id: info.last_generated_id,
            max_deleted_entry_id: info.max_deleted_entry_id,
            entries_added: info.entries_added,
            groups: info.groups,
            first_entry: entry(info.first_entry)?,
            last_entry: entry(info.last_entry)?,
        })
    }

    async fn axinfo_groups(&self, key: &str) -> Result<Vec<GroupInfo>> {
        Ok(self.on_key(key, |key| XinfoGroups { key }).await?.0)
    }

    async fn axinfo_consumers(&self, key: &str, group: &str) -> Result<Vec<ConsumerInfo>> {
        let group = group.to_owned();
        Ok(self
            .on_key(key, |key| XinfoConsumers { key, group })
            .await?
            .0)
    }

    async fn axgroup_create(
        &self,
        key: &str,
        group: &str,
        start: ReadFrom,
        mkstream: bool,
    ) -> Result<()> {
        let group = group.to_owned();
        self.on_key(key, |key| XgroupCreate {
            key,
            group,
            start,
            mkstream,
        })
        .await
    }

    async fn axgroup_destroy(&self, key: &str, group: &str) -> Result<bool> {
        let group = group.to_owned();
        self.on_key(key, |key| XgroupDestroy { key, group }).await
    }

    async fn axgroup_setid(&self, key: &str, group: &str, start: ReadFrom) -> Result<()> {
        let group = group.to_owned();
        self.on_key(key, |key| XgroupSetId { key, group, start })
            .await
    }

    async fn axgroup_delconsumer(&self, key: &str, group: &str, consumer: &str) -> Result<u64> {
        let (group, consumer) = (group.to_owned(), consumer.to_owned());
        self.on_key(key, |key| XgroupDelConsumer {
            key,
            group,
            consumer,
        })
        .await
    }

    async fn axreadgroup<V: DeserializeOwned + Send>(
        &self,
        group: &str,
        consumer: &str,
        streams: &[(&str, ReadFrom)],
        options: ReadOptions,
    ) -> Result<StreamReads<V>> {
        let (keys, made, from) = self.stream_keys(streams)?;
        let about = keys[0];
        let (group, consumer) = (group.to_owned(), consumer.to_owned());
        let ReadOptions { count, noack, .. } = options;
        let reply = match waits(options.block) {
            None => {
                let read = XreadGroup {
                    group,
                    consumer,
                    keys: made.clone(),
                    from,
                    count,
                    noack,
                };
                self.run(about, read).await?
            }
            Some(wait) => {
                let read = XreadGroupBlock {
                    group,
                    consumer,
                    keys: made.clone(),
                    from,
                    count,
                    noack,
                    wait,
                };
                self.run(about, read).await?
            }
        };
        self.stream_reads(&keys, &made, reply)
    }

    async fn axack(&self, key: &str, group: &str, ids: &[StreamId]) -> Result<u64> {
        let (group, ids) = (group.to_owned(), ids.to_vec());
        self.on_key(key, |key| Xack { key, group, ids }).await
    }

    async fn axpending(&self, key: &str, group: &str) -> Result<PendingSummary> {
        let group = group.to_owned();
        Ok(self
            .on_key(key, |key| XpendingSummary { key, group })
            .await?
            .0)
    }

    async fn axpending_range(
        &self,
        key: &str,
        group: &str,
        range: PendingRange,
    ) -> Result<Vec<PendingEntry>> {
        let group = group.to_owned();
        let PendingRange {
            start,
            end,
            count,
            consumer,
            min_idle,
        } = range;
        let min_idle_ms = min_idle.map(millis);
        let pending = self
            .on_key(key, |key| XpendingRange {
                key,
                group,
                min_idle_ms,
                start,
                end,
                count,
                consumer,
            })
            .await?;
        Ok(pending.0)
    }

    async fn axclaim<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        ids: &[StreamId],
        options: ClaimOptions,
    ) -> Result<Vec<StreamEntry<V>>> {
        let (group, consumer, ids) = (group.to_owned(), consumer.to_owned(), ids.to_vec());
        let ClaimOptions {
            idle,
            retry_count,
            force,
        } = options;
        let claim = |key| Xclaim {
            key,
            group,
            consumer,
            min_idle_ms: millis(min_idle),
            ids,
            idle_ms: idle.map(millis),
            retry_count,
            force,
        };
        self.entries_of(key, claim).await
    }

    async fn axautoclaim<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        start: StreamId,
        count: Option<u64>,
    ) -> Result<AutoClaim<V>> {
        let (group, consumer) = (group.to_owned(), consumer.to_owned());
        let claimed = self
            .on_key(key, |key| Xautoclaim {
                key,
                group,
                consumer,
                min_idle_ms: millis(min_idle),
                start,
                count,
            })
            .await?;
        Ok(AutoClaim {
            next: claimed.next,
            claimed: self.stream_entries(key, claimed.claimed)?,
            deleted: claimed.deleted,
        })
    }
}

/// `LPOS`'s rank: 0 is refused, as Redis refuses it.
fn list_rank(rank: Option<i64>) -> Result<Option<i64>> {
    if rank == Some(0) {
        return Err(Error::invalid_argument(
            "an LPOS rank counts matches from 1 (negative: from the tail), it cannot be 0"
                .to_owned(),
        ));
    }
    Ok(rank)
}

/// A read's wait as a blocking row takes it: `None` when it does not wait, `Some(None)` for
/// ever.
fn waits(block: Block) -> Option<Option<Duration>> {
    match block {
        Block::No => None,
        Block::For(wait) => Some(Some(wait)),
        Block::Forever => Some(None),
    }
}

/// Whole milliseconds, as stream commands take idle times.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl CacheCore {
    /// A stream entry with its field names checked and values decoded.
    fn stream_entry<V: DeserializeOwned>(
        &self,
        key: &str,
        entry: RawEntry,
    ) -> Result<StreamEntry<V>> {
        let fields = entry
            .fields
            .into_iter()
            .map(|(field, value)| Ok((field_name(key, field)?, self.codec.decode(key, &value)?)))
            .collect::<Result<_>>()?;
        Ok(StreamEntry {
            id: entry.id,
            fields,
        })
    }

    /// [`on_key`](Self::on_key) for a command answering stream entries, decoded.
    async fn entries_of<C, V>(
        &self,
        key: &str,
        make: impl FnOnce(String) -> C,
    ) -> Result<Vec<StreamEntry<V>>>
    where
        C: crate::backend::memory::Apply<Output = Vec<RawEntry>>,
        V: DeserializeOwned,
    {
        let entries = self.on_key(key, make).await?;
        self.stream_entries(key, entries)
    }

    /// Stream entries, decoded.
    fn stream_entries<V: DeserializeOwned>(
        &self,
        key: &str,
        entries: Vec<RawEntry>,
    ) -> Result<Vec<StreamEntry<V>>> {
        entries
            .into_iter()
            .map(|entry| self.stream_entry(key, entry))
            .collect()
    }

    /// A read's caller keys, made keys and positions; at least one stream.
    fn stream_keys<'k>(
        &self,
        streams: &[(&'k str, ReadFrom)],
    ) -> Result<(Vec<&'k str>, Vec<String>, Vec<ReadFrom>)> {
        if streams.is_empty() {
            return Err(Error::invalid_argument(
                "a stream read needs at least one stream".to_owned(),
            ));
        }
        let keys: Vec<&str> = streams.iter().map(|(key, _)| *key).collect();
        let made = self.made_keys(&keys)?;
        let from = streams.iter().map(|(_, from)| *from).collect();
        Ok((keys, made, from))
    }

    /// A read's streams by the caller's keys, decoded.
    fn stream_reads<V: DeserializeOwned>(
        &self,
        keys: &[&str],
        made: &[String],
        reply: Streams,
    ) -> Result<StreamReads<V>> {
        reply
            .0
            .into_iter()
            .map(|(read_from, entries)| {
                let key = caller_key(keys, made, &read_from, "a stream read")?;
                Ok((key.to_owned(), self.stream_entries(key, entries)?))
            })
            .collect()
    }
}

// --- get_or_set's body, shared by its forms, counted under the caller's operation ---

impl CacheCore {
    /// `get_or_set` for every form of it: the value of `key`, or the loader's, stored with
    /// `timeout` (concurrent misses in this process load once); its lookup counted as
    /// `operation`'s hit or miss (see [`CacheCore::count_lookups`]).
    async fn get_or_load<V, E, F, Fut>(
        &self,
        operation: &'static str,
        key: &str,
        loader: F,
        timeout: Timeout,
    ) -> Result<V, LoadError<E>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        E: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<V, E>> + Send,
    {
        let value = self.read_value(key).await?;
        self.count_lookups(
            operation,
            usize::from(value.is_some()),
            usize::from(value.is_none()),
        );
        if let Some(value) = value {
            return Ok(value);
        }
        let flight = self.flights.join(&self.key(key)?);
        let turn = flight.turn::<E>().await.map_err(LoadError::Loader)?;
        if let Some(value) = self.read_value(key).await? {
            return Ok(value); // another caller of this process computed it meanwhile
        }
        let started = Instant::now();
        let value = match loader().await {
            Ok(value) => value,
            Err(error) => {
                let error = Arc::new(error);
                turn.fail(error.clone());
                return Err(LoadError::Loader(error));
            }
        };
        self.compute_times.record(&flight.key, started.elapsed());
        if self.stampede.is_some() {
            // As django-cachex: set, for a miss may have left the stale value in its buffer,
            // which add would keep.
            self.aset(key, &value, timeout).await?;
            return Ok(value);
        }
        // As Django: add, so that a value another process stored first wins.
        if self.aadd(key, &value, timeout).await? {
            return Ok(value);
        }
        Ok(self.read_value(key).await?.unwrap_or(value))
    }
}
