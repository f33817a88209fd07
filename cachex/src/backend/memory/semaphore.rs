//! The semaphore scripts' semantics on the in-memory store, step by step as the Lua of
//! `command/semaphore.rs`, on the same keys; the scripts of all semaphores run one at a time
//! (`Memory::scripts`), as a server runs one script at a time.

use std::time::Duration;

use bytes::Bytes;

use super::data::{Hash, SortedSet, lock};
use super::keys::pttl;
use super::{Apply, Entry, Memory, unix_millis_now};
use crate::Result;
use crate::backend::Expiry;
use crate::backend::command::{
    SemaphoreAcquire, SemaphoreDequeue, SemaphoreExtend, SemaphoreRelease,
};

/// The hash field of the state key holding the weight in use.
const USED: &[u8] = b"used";

/// A holder's lease key.
fn claim_key(state: &str, token: &[u8]) -> String {
    format!("{state}:claim:{}", String::from_utf8_lossy(token))
}

/// A waiter's heartbeat key.
fn waiter_key(queue: &str, token: &[u8]) -> String {
    format!("{queue}:waiter:{}", String::from_utf8_lossy(token))
}

impl Memory {
    /// Stores `1` at `key` for `millis`.
    fn put_marker(&self, key: &str, millis: u64) {
        let expiry = Expiry::After(Duration::from_millis(millis));
        self.put(key, Entry::new(b"1".to_vec(), expiry));
    }

    /// Gives each key an expiry of `millis` unless it has a longer one (a missing key stays
    /// missing).
    fn keep_for(&self, keys: &[&str], millis: u64) {
        let millis = i64::try_from(millis).unwrap_or(i64::MAX);
        for key in keys {
            if pttl(self, key) < millis {
                self.set_deadline(key, millis);
            }
        }
    }

    /// Sets the weight in use.
    fn set_used(&self, state: &str, used: u64) -> Result<()> {
        let used = Bytes::from(used.to_string());
        self.modify(state, true, |hash: &mut Hash| {
            hash.insert(USED.to_vec(), used);
            Ok(())
        })?;
        Ok(())
    }
}

impl Apply for SemaphoreAcquire {
    fn apply(self, memory: &Memory) -> Result<bool> {
        let _one_script = lock(&memory.scripts);
        let Self {
            state,
            claims,
            queue,
            token,
            weight,
            capacity,
            lease_millis,
            waiter_millis,
        } = self;
        if memory.read(&claims, |hash: &Hash| hash.contains_key(&token))? {
            return Ok(true);
        }
        let held = memory.read(&claims, |hash: &Hash| {
            hash.iter()
                .map(|(token, weight)| (token.clone(), weight.clone()))
                .collect::<Vec<_>>()
        })?;
        let mut used = 0u64;
        for (holder, held_weight) in held {
            if memory.live(&claim_key(&state, &holder)).is_some() {
                used += std::str::from_utf8(&held_weight)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok())
                    .unwrap_or(0);
            } else {
                memory.modify(&claims, false, |hash: &mut Hash| Ok(hash.remove(&holder)))?;
            }
        }
        let waiting = memory.read(&queue, |zset: &SortedSet| {
            zset.ordered(false)
                .map(|(_, member)| member.clone())
                .collect::<Vec<_>>()
        })?;
        for waiter in waiting {
            if waiter.as_ref() != token.as_slice()
                && memory.live(&waiter_key(&queue, &waiter)).is_none()
            {
                memory.modify(&queue, false, |zset: &mut SortedSet| {
                    Ok(zset.remove(&waiter))
                })?;
            }
        }
        let first = memory.read(&queue, |zset: &SortedSet| {
            zset.ordered(false).next().map(|(_, member)| member.clone())
        })?;
        let first_in_line = first.is_none_or(|first| first.as_ref() == token.as_slice());
        let admitted = first_in_line && used + u64::from(weight) <= u64::from(capacity);
        if admitted {
            used += u64::from(weight);
            let weight = Bytes::from(weight.to_string());
            memory.modify(&claims, true, |hash: &mut Hash| {
                Ok(hash.insert(token.clone(), weight))
            })?;
            memory.put_marker(&claim_key(&state, &token), lease_millis);
            memory.modify(
                &queue,
                false,
                |zset: &mut SortedSet| Ok(zset.remove(&token)),
            )?;
            memory.remove(&waiter_key(&queue, &token));
        } else {
            let now = unix_millis_now() as f64;
            memory.modify(&queue, true, |zset: &mut SortedSet| {
                if !zset.scores.contains_key(token.as_slice()) {
                    zset.insert(now, Bytes::from(token.clone()));
                }
                Ok(())
            })?;
            memory.put_marker(&waiter_key(&queue, &token), waiter_millis);
        }
        memory.set_used(&state, used)?;
        let guard = lease_millis.max(waiter_millis).saturating_mul(2);
        memory.keep_for(&[&state, &claims, &queue], guard);
        Ok(admitted)
    }
}

impl Apply for SemaphoreRelease {
    fn apply(self, memory: &Memory) -> Result<bool> {
        let _one_script = lock(&memory.scripts);
        let weight = memory.modify(&self.claims, false, |hash: &mut Hash| {
            Ok(hash.remove(&self.token))
        })?;
        let Some(Some(weight)) = weight else {
            return Ok(false);
        };
        memory.remove(&claim_key(&self.state, &self.token));
        let used = memory.read(&self.state, |hash: &Hash| hash.get(USED).cloned())?;
        let Some(used) = used else {
            return Ok(true);
        };
        let number = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let used = number(&used).saturating_sub(number(&weight));
        let holders = memory.read(&self.claims, |hash: &Hash| hash.len())?;
        if used == 0 && holders == 0 {
            memory.remove(&self.state);
            return Ok(true);
        }
        memory.set_used(&self.state, used)?;
        let keys = [self.state.as_str(), &self.claims, &self.queue];
        memory.keep_for(&keys, self.lease_millis.saturating_mul(2));
        Ok(true)
    }
}

impl Apply for SemaphoreExtend {
    fn apply(self, memory: &Memory) -> Result<bool> {
        let _one_script = lock(&memory.scripts);
        if !memory.read(&self.claims, |hash: &Hash| hash.contains_key(&self.token))? {
            return Ok(false);
        }
        let claim = claim_key(&self.state, &self.token);
        let left = pttl(memory, &claim).max(0).unsigned_abs();
        let lease = left.saturating_add(self.millis);
        memory.put_marker(&claim, lease);
        memory.keep_for(&[&self.state, &self.claims], lease.saturating_mul(2));
        Ok(true)
    }
}

impl Apply for SemaphoreDequeue {
    fn apply(self, memory: &Memory) -> Result<()> {
        let _one_script = lock(&memory.scripts);
        memory.modify(&self.queue, false, |zset: &mut SortedSet| {
            Ok(zset.remove(&self.token))
        })?;
        memory.remove(&waiter_key(&self.queue, &self.token));
        Ok(())
    }
}
