//! The cache API on [`CacheCore`]: each operation makes its keys, encodes its values, runs
//! commands of the table through [`CacheCore::run`] and decodes the replies.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::core::{CacheCore, field_bytes, field_name, score};
use super::flight::recompute_early;
use crate::api::{CacheApi, KeyType, Timeout, Ttl};
use crate::backend::Expiry;
use crate::backend::command::*;
use crate::load::LoadError;
use crate::lock::Lock;
use crate::scan::KeyScan;
use crate::{Error, Result};

impl CacheApi for CacheCore {
    async fn aget<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        let made = self.key(key)?;
        let bytes = self.get_bytes(key, made).await;
        let bytes = self.or_fail_open(bytes, || None)?;
        self.decode_optional(key, bytes)
    }

    async fn aset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<()> {
        let made = self.key(key)?;
        let value = self.codec.encode(value)?;
        let result = match self.expiry(timeout) {
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
        let result = match self.expiry(timeout) {
            Some(expiry) => {
                let add = SetNx {
                    key: made,
                    value,
                    expiry,
                };
                self.run(key, add).await
            }
            // Django: would it have been added? Nothing is kept.
            None => self
                .run(key, Exists { key: made })
                .await
                .map(|exists| !exists),
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
        let values = self.get_many_bytes(keys[0], made).await;
        let values = self.or_fail_open(values, Vec::new)?;
        let mut found = HashMap::with_capacity(values.len());
        for (key, bytes) in keys.iter().zip(values) {
            if let Some(bytes) = bytes {
                found.insert((*key).to_owned(), self.codec.decode(key, &bytes)?);
            }
        }
        Ok(found)
    }

    async fn aset_many<V: Serialize + Sync>(
        &self,
        items: &[(&str, V)],
        timeout: Timeout,
    ) -> Result<Vec<String>> {
        let all = || items.iter().map(|(key, _)| (*key).to_owned()).collect();
        let about = items.first().map(|(key, _)| *key).unwrap_or_default();
        let Some(expiry) = self.expiry(timeout) else {
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
        let result = self.run(key, Exists { key: made }).await;
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
        let made = self.key(key)?;
        let result = match self.expiry(timeout).map(expiry_millis) {
            Some(Some(millis)) => {
                let millis = i64::try_from(millis).unwrap_or(i64::MAX);
                self.run(key, Pexpire { key: made, millis }).await
            }
            // No expiry, or one too far away to set: the key stays, without expiry.
            Some(None) => self.run(key, PersistExisting { key: made }).await,
            None => self.run(key, Del { keys: vec![made] }).await.map(|n| n > 0),
        };
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
        if let Some(value) = self.aget(key).await? {
            return Ok(value);
        }
        let flight = self.flights.join(&self.key(key)?);
        let turn = flight.turn::<E>().await.map_err(LoadError::Loader)?;
        if let Some(value) = self.aget(key).await? {
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
        // As Django: add, so that a value another process stored first wins.
        if self.aadd(key, &value, timeout).await? {
            return Ok(value);
        }
        Ok(self.aget(key).await?.unwrap_or(value))
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
            return self.atry_get_or_set(key, loader, timeout).await;
        };
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
        Ok(match self.ttl_of(key).await? {
            None => Ttl::Missing,
            Some(Duration::MAX) => Ttl::Persistent,
            // Redis's TTL rounds to the nearest second.
            Some(left) => Ttl::Expires(Duration::from_secs(
                (left.as_millis() as u64).saturating_add(500) / 1000,
            )),
        })
    }

    async fn apttl(&self, key: &str) -> Result<Ttl> {
        Ok(match self.ttl_of(key).await? {
            None => Ttl::Missing,
            Some(Duration::MAX) => Ttl::Persistent,
            Some(left) => Ttl::Expires(left),
        })
    }

    async fn aexpire(&self, key: &str, seconds: i64) -> Result<bool> {
        self.expire_command(key, seconds, 1000, false).await
    }

    async fn apexpire(&self, key: &str, millis: i64) -> Result<bool> {
        self.expire_command(key, millis, 1, false).await
    }

    async fn aexpire_at(&self, key: &str, unix_seconds: i64) -> Result<bool> {
        self.expire_command(key, unix_seconds, 1000, true).await
    }

    async fn apexpire_at(&self, key: &str, unix_millis: i64) -> Result<bool> {
        self.expire_command(key, unix_millis, 1, true).await
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
        const FIRST_PAUSE: Duration = Duration::from_millis(2);
        const LONGEST_PAUSE: Duration = Duration::from_millis(100);
        let made = self.key(key)?;
        let token = format!("{:032x}", fastrand::u128(..)).into_bytes();
        let expiry = Expiry::After(lease.max(Duration::from_millis(1)));
        let deadline = Instant::now().checked_add(wait);
        let mut pause = FIRST_PAUSE;
        loop {
            let take = SetNx {
                key: made.clone(),
                value: token.clone(),
                expiry,
            };
            let taken = self.run(key, take).await?;
            if taken {
                return Ok(Some(Lock::new(self.store.clone(), key, made, token)));
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => pause,
            };
            if left.is_zero() {
                return Ok(None);
            }
            crate::bridge::sleep(pause.min(left)).await?;
            pause = (pause * 2).min(LONGEST_PAUSE);
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
        let members = members
            .iter()
            .map(|(member, value)| Ok((score(*value)?, self.codec.encode(member)?)))
            .collect::<Result<Vec<_>>>()?;
        self.on_key(key, |key| Zadd { key, members }).await
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
}
