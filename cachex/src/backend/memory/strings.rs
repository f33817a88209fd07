//! String commands on the in-memory store: the values `get`, `set` and counters work on.

use super::map::Op;
use bytes::Bytes;

use super::data::Data;
use super::keys::entry_pttl;
use super::{Apply, Entry, Memory, deadline};
use crate::backend::Expiry;
use crate::backend::command::{
    AddStampede, Get, GetDel, IncrBy, IncrOrCreate, Mget, Set, SetGet, SetNx, SetReply, SetWith,
    SetXx, TouchStampede, outlives_buffer,
};
use crate::codec::counter_value;
use crate::ops::Condition;
use crate::{Error, Result};

impl Apply for Get {
    fn apply(self, memory: &Memory) -> Result<Option<Bytes>> {
        memory.string(&self.key)
    }
}

impl Apply for Mget {
    fn apply(self, memory: &Memory) -> Result<Vec<Option<Bytes>>> {
        // `MGET` answers nil for keys of another type.
        Ok(self
            .keys
            .iter()
            .map(|key| memory.string(key).ok().flatten())
            .collect())
    }
}

/// Which existing key a `SET` overwrites.
#[derive(Clone, Copy, PartialEq, Eq)]
enum When {
    /// Plain `SET`.
    Always,
    /// `NX`: only a missing key.
    Absent,
    /// `XX`: only an existing key.
    Present,
}

/// `SET key value [PX ms] [NX|XX]`: whether the value was stored.
fn set(memory: &Memory, key: String, value: Vec<u8>, expiry: Expiry, when: When) -> Result<bool> {
    let entry = Entry::new(value, expiry);
    if when == When::Always {
        memory.put(&key, entry);
        return Ok(true);
    }
    Ok(memory.update(&key, |current| {
        if current.is_some() == (when == When::Present) {
            (Op::Put(entry), true)
        } else {
            (Op::Nop, false)
        }
    }))
}

variants! {
    set(key, value, expiry) {
        Set => (When::Always),
        SetNx => (When::Absent),
        SetXx => (When::Present),
    }
}

/// Whether a live entry counts as present under stampede prevention with `buffer` seconds.
fn outlives(entry: Option<&Entry>, buffer: u64) -> bool {
    entry.is_some_and(|entry| outlives_buffer(entry_pttl(entry), buffer))
}

impl Apply for AddStampede {
    fn apply(self, memory: &Memory) -> Result<bool> {
        let entry = Entry::new(self.value, self.expiry);
        Ok(memory.update(&self.key, |current| {
            if outlives(current, self.buffer) {
                (Op::Nop, false)
            } else {
                (Op::Put(entry), true)
            }
        }))
    }
}

impl Apply for TouchStampede {
    fn apply(self, memory: &Memory) -> Result<bool> {
        Ok(memory.update(&self.key, |current| match current {
            Some(entry) if outlives(Some(entry), self.buffer) => {
                (Op::Put(entry.expiring(super::deadline(self.expiry))), true)
            }
            _ => (Op::Nop, false),
        }))
    }
}

/// Replaces (`Some`) or removes (`None`) a string key: its previous value. `WRONGTYPE`, and
/// no change, when it holds another type.
fn replace(memory: &Memory, key: &str, with: Option<Entry>) -> Result<Option<Bytes>> {
    memory.update(key, |current| {
        let previous = match current.map(|old| old.bytes(key)).transpose() {
            Ok(previous) => previous.cloned(),
            Err(err) => return (Op::Nop, Err(err)),
        };
        let op = match with {
            Some(entry) => Op::Put(entry),
            None if previous.is_some() => Op::Remove,
            None => Op::Nop,
        };
        (op, Ok(previous))
    })
}

impl Apply for SetGet {
    fn apply(self, memory: &Memory) -> Result<Option<Bytes>> {
        let entry = Entry::new(self.value, self.expiry);
        replace(memory, &self.key, Some(entry))
    }
}

impl Apply for SetWith {
    /// `SET` with flags: `NX`/`XX`, `GET` (an error on another type, nothing changed),
    /// `KEEPTTL` (`expiry` `None`).
    fn apply(self, memory: &Memory) -> Result<SetReply> {
        let Self {
            key,
            value,
            expiry,
            condition,
            get,
        } = self;
        memory.update(&key, |current| {
            let previous = match current.filter(|_| get).map(|old| old.bytes(&key)) {
                Some(Err(err)) => return (Op::Nop, Err(err)),
                Some(Ok(previous)) => Some(previous.clone()),
                None => None,
            };
            let allowed = match condition {
                None => true,
                Some(Condition::Absent) => current.is_none(),
                Some(Condition::Present) => current.is_some(),
            };
            let reply = match previous {
                Some(previous) => SetReply::Value(previous),
                None if get || !allowed => SetReply::Nil,
                None => SetReply::Ok,
            };
            if !allowed {
                return (Op::Nop, Ok(reply));
            }
            let expires_at = match expiry {
                Some(expiry) => deadline(expiry),
                None => current.and_then(|entry| entry.expires_at),
            };
            let entry = Entry {
                data: Data::Bytes(value.into()),
                expires_at,
            };
            (Op::Put(entry), Ok(reply))
        })
    }
}

impl Apply for GetDel {
    fn apply(self, memory: &Memory) -> Result<Option<Bytes>> {
        replace(memory, &self.key, None)
    }
}

/// `INCRBY`, atomically for the key. A missing key gives `None` unless `create` is given: it
/// is then created holding `delta` with that expiry (an existing key keeps its own). A value
/// that is not an integer, or an overflow, is [`Error::WrongType`].
fn incr_by(memory: &Memory, key: &str, delta: i64, create: Option<Expiry>) -> Result<Option<i64>> {
    memory.update(key, |current| match (current, create) {
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

impl Apply for IncrBy {
    fn apply(self, memory: &Memory) -> Result<Option<i64>> {
        incr_by(memory, &self.key, self.delta, None)
    }
}

impl Apply for IncrOrCreate {
    fn apply(self, memory: &Memory) -> Result<i64> {
        // Always a value: a missing key is created.
        let value = incr_by(memory, &self.key, self.delta, Some(self.expiry))?;
        Ok(value.unwrap_or(self.delta))
    }
}
