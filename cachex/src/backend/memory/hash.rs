//! Hash commands on the in-memory store.

use std::collections::hash_map;

use bytes::Bytes;

use super::data::Hash;
use super::{
    Apply, Instant, Memory, count, deadline_in, millis_left, unix_millis_at, unix_millis_now,
};
use crate::backend::command::{
    FieldTtl, Hdel, Hexists, Hget, HgetAll, Hgetex, HincrBy, HincrByFloat, Hkeys, Hlen, Hmget,
    Hpersist, Hpexpire, HpexpireAt, HpexpireTime, Hpttl, Hset, HsetNx, Hsetex, Hvals,
};
use crate::codec::counter_value;
use crate::ops::{ExpireCondition, FieldsCondition};
use crate::{Error, Result};

impl Apply for Hset {
    fn apply(self, memory: &Memory) -> Result<u64> {
        memory.count_changes(
            &self.key,
            true,
            self.pairs,
            |hash: &mut Hash, (field, value)| {
                // A field written anew loses its expiry, as on a server.
                hash.deadlines.remove(&field);
                hash.insert(field, Bytes::from(value)).is_none()
            },
        )
    }
}

impl Apply for HsetNx {
    fn apply(self, memory: &Memory) -> Result<bool> {
        let set = memory.modify(&self.key, true, |hash: &mut Hash| {
            Ok(match hash.entry(self.field) {
                hash_map::Entry::Occupied(_) => false,
                hash_map::Entry::Vacant(vacant) => {
                    vacant.insert(Bytes::from(self.value));
                    true
                }
            })
        })?;
        Ok(set.unwrap_or(false))
    }
}

impl Apply for Hget {
    fn apply(self, memory: &Memory) -> Result<Option<Bytes>> {
        memory.read(&self.key, |hash: &Hash| hash.get(&self.field).cloned())
    }
}

impl Apply for Hmget {
    fn apply(self, memory: &Memory) -> Result<Vec<Option<Bytes>>> {
        let values = memory.read(&self.key, |hash: &Hash| {
            let values = self.fields.iter().map(|field| hash.get(field).cloned());
            Some(values.collect())
        })?;
        Ok(values.unwrap_or_else(|| vec![None; self.fields.len()]))
    }
}

impl Apply for HgetAll {
    fn apply(self, memory: &Memory) -> Result<Vec<(Vec<u8>, Bytes)>> {
        memory.read(&self.key, |hash: &Hash| {
            hash.iter()
                .map(|(field, value)| (field.clone(), value.clone()))
                .collect()
        })
    }
}

impl Apply for Hdel {
    fn apply(self, memory: &Memory) -> Result<u64> {
        memory.count_changes(&self.key, false, &self.fields, |hash: &mut Hash, field| {
            hash.remove(field).is_some()
        })
    }
}

impl Apply for Hlen {
    fn apply(self, memory: &Memory) -> Result<u64> {
        Ok(count(memory.read(&self.key, |hash: &Hash| hash.len())?))
    }
}

impl Apply for Hkeys {
    fn apply(self, memory: &Memory) -> Result<Vec<Vec<u8>>> {
        memory.read(&self.key, |hash: &Hash| hash.keys().cloned().collect())
    }
}

impl Apply for Hvals {
    fn apply(self, memory: &Memory) -> Result<Vec<Bytes>> {
        memory.read(&self.key, |hash: &Hash| hash.values().cloned().collect())
    }
}

impl Apply for Hexists {
    fn apply(self, memory: &Memory) -> Result<bool> {
        memory.read(&self.key, |hash: &Hash| hash.contains_key(&self.field))
    }
}

impl Apply for HincrBy {
    fn apply(self, memory: &Memory) -> Result<i64> {
        let Self { key, field, delta } = self;
        let sum = memory.modify(&key, true, |hash: &mut Hash| {
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
            hash.insert(field, Bytes::from(sum.to_string()));
            Ok(sum)
        })?;
        Ok(sum.unwrap_or(delta))
    }
}

impl Apply for HincrByFloat {
    fn apply(self, memory: &Memory) -> Result<f64> {
        let Self { key, field, delta } = self;
        let sum = memory.modify(&key, true, |hash: &mut Hash| {
            let current = match hash.get(&field) {
                None => 0.0,
                Some(value) => std::str::from_utf8(value)
                    .ok()
                    .and_then(|text| text.parse::<f64>().ok())
                    .filter(|number| number.is_finite())
                    .ok_or_else(|| Error::WrongType {
                        key: key.clone(),
                        detail: "hash value is not a float".to_owned(),
                    })?,
            };
            let sum = current + delta;
            if !sum.is_finite() {
                return Err(Error::invalid_argument(
                    "increment would produce NaN or Infinity".to_owned(),
                ));
            }
            // As Redis writes it: the shortest text that reads back the same, no exponent.
            hash.insert(field, Bytes::from(sum.to_string()));
            Ok(sum)
        })?;
        Ok(sum.unwrap_or(delta))
    }
}

/// A field's code for a missing field (or hash), as the hash-field expiry commands answer.
const NO_FIELD: i64 = -2;

/// `HPEXPIRE`/`HPEXPIREAT` with the expiry `millis` from now: a code per field (-2 missing, 0
/// condition not met, 1 set, 2 deleted because the time is now or past).
fn expire_fields(
    memory: &Memory,
    key: &str,
    millis: i64,
    condition: Option<ExpireCondition>,
    fields: Vec<Vec<u8>>,
) -> Result<Vec<i64>> {
    let deadline = deadline_in(millis);
    let codes = memory.modify(key, false, |hash: &mut Hash| {
        Ok(fields
            .iter()
            .map(|field| {
                if !hash.contains_key(field) {
                    return NO_FIELD;
                }
                let current = hash.deadlines.get(field).copied();
                // No expiry counts as infinite; a deadline too far to represent too.
                let new = deadline.flatten();
                let later = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(a), Some(b)) => a < b,
                };
                let allowed = match condition {
                    None => true,
                    Some(ExpireCondition::NoExpiry) => current.is_none(),
                    Some(ExpireCondition::HasExpiry) => current.is_some(),
                    Some(ExpireCondition::Later) => later(current, new),
                    Some(ExpireCondition::Sooner) => later(new, current),
                };
                if !allowed {
                    return 0;
                }
                set_deadline(hash, field, deadline);
                if deadline.is_none() { 2 } else { 1 }
            })
            .collect())
    })?;
    Ok(codes.unwrap_or_else(|| vec![NO_FIELD; fields.len()]))
}

impl Apply for Hpexpire {
    fn apply(self, memory: &Memory) -> Result<Vec<i64>> {
        expire_fields(memory, &self.key, self.millis, self.condition, self.fields)
    }
}

impl Apply for HpexpireAt {
    fn apply(self, memory: &Memory) -> Result<Vec<i64>> {
        let millis = self.unix_millis.saturating_sub(unix_millis_now());
        expire_fields(memory, &self.key, millis, self.condition, self.fields)
    }
}

/// Each field's expiry as `when` gives it (-2 missing, -1 persistent).
fn field_expiries(
    memory: &Memory,
    key: &str,
    fields: &[Vec<u8>],
    when: fn(Instant) -> i64,
) -> Result<Vec<i64>> {
    let codes = memory.read(key, |hash: &Hash| {
        Some(
            fields
                .iter()
                .map(|field| match hash.deadlines.get(field) {
                    _ if !hash.contains_key(field) => NO_FIELD,
                    None => -1,
                    Some(at) => when(*at),
                })
                .collect(),
        )
    })?;
    Ok(codes.unwrap_or_else(|| vec![NO_FIELD; fields.len()]))
}

impl Apply for Hpttl {
    fn apply(self, memory: &Memory) -> Result<Vec<i64>> {
        field_expiries(memory, &self.key, &self.fields, millis_left)
    }
}

impl Apply for HpexpireTime {
    fn apply(self, memory: &Memory) -> Result<Vec<i64>> {
        field_expiries(memory, &self.key, &self.fields, unix_millis_at)
    }
}

impl Apply for Hpersist {
    fn apply(self, memory: &Memory) -> Result<Vec<i64>> {
        let codes = memory.modify(&self.key, false, |hash: &mut Hash| {
            Ok(self
                .fields
                .iter()
                .map(|field| {
                    if !hash.contains_key(field) {
                        NO_FIELD
                    } else if hash.deadlines.remove(field).is_some() {
                        1
                    } else {
                        -1
                    }
                })
                .collect())
        })?;
        Ok(codes.unwrap_or_else(|| vec![NO_FIELD; self.fields.len()]))
    }
}

/// Gives `field` the expiry `ttl` asks for (`HSETEX`, `HGETEX`); a time now or past deletes
/// it.
fn expire_field(hash: &mut Hash, field: &[u8], ttl: FieldTtl) {
    let millis = match ttl {
        FieldTtl::Unchanged | FieldTtl::Keep => return,
        FieldTtl::Persist => {
            hash.deadlines.remove(field);
            return;
        }
        FieldTtl::After(millis) => i64::try_from(millis).unwrap_or(i64::MAX),
        FieldTtl::At(unix_millis) => unix_millis.saturating_sub(unix_millis_now()),
    };
    set_deadline(hash, field, deadline_in(millis));
}

/// Gives `field` a deadline as [`deadline_in`] answers it: `None` (now or past) deletes the
/// field, `Some(None)` (too far to represent) leaves it without one.
fn set_deadline(hash: &mut Hash, field: &[u8], deadline: Option<Option<Instant>>) {
    match deadline {
        None => {
            hash.remove(field);
            hash.deadlines.remove(field);
        }
        Some(None) => {
            hash.deadlines.remove(field);
        }
        Some(Some(at)) => {
            hash.deadlines.insert(field.to_vec(), at);
        }
    }
}

impl Apply for Hsetex {
    fn apply(self, memory: &Memory) -> Result<bool> {
        let Self {
            key,
            condition,
            ttl,
            pairs,
        } = self;
        let set = memory.modify(&key, true, |hash: &mut Hash| {
            let allowed = match condition {
                None => true,
                Some(FieldsCondition::NoneExist) => {
                    pairs.iter().all(|(field, _)| !hash.contains_key(field))
                }
                Some(FieldsCondition::AllExist) => {
                    pairs.iter().all(|(field, _)| hash.contains_key(field))
                }
            };
            if !allowed {
                return Ok(false);
            }
            for (field, value) in pairs {
                if ttl != FieldTtl::Keep {
                    hash.deadlines.remove(&field);
                }
                hash.insert(field.clone(), Bytes::from(value));
                expire_field(hash, &field, ttl);
            }
            Ok(true)
        })?;
        Ok(set.unwrap_or(false))
    }
}

impl Apply for Hgetex {
    fn apply(self, memory: &Memory) -> Result<Vec<Option<Bytes>>> {
        let values = memory.modify(&self.key, false, |hash: &mut Hash| {
            let values: Vec<Option<Bytes>> = self
                .fields
                .iter()
                .map(|field| hash.get(field).cloned())
                .collect();
            for field in &self.fields {
                if hash.contains_key(field) {
                    expire_field(hash, field, self.ttl);
                }
            }
            Ok(values)
        })?;
        Ok(values.unwrap_or_else(|| vec![None; self.fields.len()]))
    }
}
