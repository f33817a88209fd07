//! Set commands on the in-memory store.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::data::{Data, Set};
use super::{Apply, Entry, Memory, count};
use crate::Result;
use crate::backend::command::{
    Sadd, Scard, Sdiff, SdiffStore, Sinter, SinterStore, SisMember, Smembers, SmisMember, Smove,
    Spop, SrandMember, Srem, Sscan, Sunion, SunionStore,
};

impl Apply for Sadd {
    fn apply(self, memory: &Memory) -> Result<u64> {
        memory.count_changes(&self.key, true, self.members, |set: &mut Set, member| {
            set.insert(Bytes::from(member))
        })
    }
}

impl Apply for Srem {
    fn apply(self, memory: &Memory) -> Result<u64> {
        memory.count_changes(&self.key, false, &self.members, |set: &mut Set, member| {
            set.remove(member.as_slice())
        })
    }
}

impl Apply for Smembers {
    fn apply(self, memory: &Memory) -> Result<Vec<Bytes>> {
        memory.read(&self.key, |set: &Set| set.iter().cloned().collect())
    }
}

impl Apply for SisMember {
    fn apply(self, memory: &Memory) -> Result<bool> {
        memory.read(&self.key, |set: &Set| set.contains(self.member.as_slice()))
    }
}

impl Apply for Scard {
    fn apply(self, memory: &Memory) -> Result<u64> {
        Ok(count(memory.read(&self.key, Set::len)?))
    }
}

/// A random position below `len`; `None` when `len` is 0.
fn pick(len: usize) -> Option<usize> {
    (len > 0).then(|| fastrand::usize(..len))
}

impl Apply for Spop {
    fn apply(self, memory: &Memory) -> Result<Option<Bytes>> {
        let popped = memory.modify(&self.key, false, |set: &mut Set| {
            let chosen = pick(set.len()).and_then(|at| set.iter().nth(at).cloned());
            if let Some(member) = &chosen {
                set.remove(member);
            }
            Ok(chosen)
        })?;
        Ok(popped.flatten())
    }
}

/// `SRANDMEMBER key count`: distinct members when `count > 0`, `|count|` members with
/// repetitions when it is negative.
fn random_members(set: &Set, count: i64) -> Vec<Bytes> {
    let members: Vec<&Bytes> = set.iter().collect();
    let wanted = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    if count >= 0 {
        let mut chosen = members;
        fastrand::shuffle(&mut chosen);
        chosen.into_iter().take(wanted).cloned().collect()
    } else {
        (0..wanted)
            .filter_map(|_| pick(members.len()).map(|at| members[at].clone()))
            .collect()
    }
}

impl Apply for SrandMember {
    fn apply(self, memory: &Memory) -> Result<Vec<Bytes>> {
        memory.read(&self.key, |set: &Set| random_members(set, self.count))
    }
}

/// The first key's set combined with each of the others' in turn (a missing key is an empty
/// set).
fn combined(memory: &Memory, keys: &[String], with: fn(&Set, &Set) -> Set) -> Result<Set> {
    let mut sets = Vec::with_capacity(keys.len());
    for key in keys {
        sets.push(memory.read(key, Set::clone)?);
    }
    let mut sets = sets.into_iter();
    let first = sets.next().unwrap_or_default();
    Ok(sets.fold(first, |acc, set| with(&acc, &set)))
}

fn intersection(acc: &Set, set: &Set) -> Set {
    acc.intersection(set).cloned().collect()
}

fn union(acc: &Set, set: &Set) -> Set {
    acc.union(set).cloned().collect()
}

fn difference(acc: &Set, set: &Set) -> Set {
    acc.difference(set).cloned().collect()
}

/// `SINTER`/`SUNION`/`SDIFF`.
fn combine(memory: &Memory, keys: Vec<String>, with: fn(&Set, &Set) -> Set) -> Result<Vec<Bytes>> {
    Ok(combined(memory, &keys, with)?.into_iter().collect())
}

variants! {
    combine(keys) {
        Sinter => (intersection),
        Sunion => (union),
        Sdiff => (difference),
    }
}

/// `SINTERSTORE`/`SUNIONSTORE`/`SDIFFSTORE`: the combination stored at `destination`
/// (whatever it held; an empty one deletes it), and its size.
fn combine_into(
    memory: &Memory,
    destination: String,
    keys: Vec<String>,
    with: fn(&Set, &Set) -> Set,
) -> Result<u64> {
    let set = combined(memory, &keys, with)?;
    let size = count(set.len());
    if set.is_empty() {
        memory.remove(&destination);
    } else {
        let entry = Entry {
            data: Data::Set(Arc::new(Mutex::new(set))),
            expires_at: None,
        };
        memory.put(&destination, entry);
    }
    Ok(size)
}

variants! {
    combine_into(destination, keys) {
        SinterStore => (intersection),
        SunionStore => (union),
        SdiffStore => (difference),
    }
}

impl Apply for Smove {
    /// Removes the member from `source` and adds it to `destination` (of another type: an
    /// error before anything moves); whether it was in `source`.
    fn apply(self, memory: &Memory) -> Result<bool> {
        let Self {
            source,
            destination,
            member,
        } = self;
        memory.read(&destination, |_: &Set| ())?;
        if source == destination {
            return memory.read(&source, |set: &Set| set.contains(member.as_slice()));
        }
        let moved = memory.modify(&source, false, |set: &mut Set| {
            Ok(set.remove(member.as_slice()))
        })?;
        if moved != Some(true) {
            return Ok(false);
        }
        memory.modify(&destination, true, |set: &mut Set| {
            Ok(set.insert(Bytes::from(member)))
        })?;
        Ok(true)
    }
}

impl Apply for SmisMember {
    fn apply(self, memory: &Memory) -> Result<Vec<bool>> {
        let found = memory.read(&self.key, |set: &Set| {
            Some(
                self.members
                    .iter()
                    .map(|member| set.contains(member.as_slice()))
                    .collect(),
            )
        })?;
        Ok(found.unwrap_or_else(|| vec![false; self.members.len()]))
    }
}

impl Apply for Sscan {
    /// One page: every member (a snapshot of the set), and the end.
    fn apply(self, memory: &Memory) -> Result<(u64, Vec<Vec<u8>>)> {
        let members = memory.read(&self.key, |set: &Set| {
            set.iter().map(|member| member.to_vec()).collect()
        })?;
        Ok((0, members))
    }
}
