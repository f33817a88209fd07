//! Hash commands on the in-memory store.

use std::collections::hash_map;

use bytes::Bytes;

use super::data::Hash;
use super::{Apply, Memory, count};
use crate::backend::command::{
    Hdel, Hexists, Hget, HgetAll, HincrBy, HincrByFloat, Hkeys, Hlen, Hmget, Hset, HsetNx, Hvals,
};
use crate::codec::counter_value;
use crate::{Error, Result};

impl Apply for Hset {
    fn apply(self, memory: &Memory) -> Result<u64> {
        memory.count_changes(
            &self.key,
            true,
            self.pairs,
            |hash: &mut Hash, (field, value)| hash.insert(field, Bytes::from(value)).is_none(),
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
        Ok(count(memory.read(&self.key, Hash::len)?))
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
