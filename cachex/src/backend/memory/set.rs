//! Set commands on the in-memory store.

use bytes::Bytes;

use super::data::Set;
use super::{Apply, Memory, count};
use crate::Result;
use crate::backend::command::{
    Sadd, Scard, Sdiff, Sinter, SisMember, Smembers, Spop, SrandMember, Srem, Sunion,
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

/// `SINTER`/`SUNION`/`SDIFF`: the first key's set combined with each of the others' in turn
/// (a missing key is an empty set).
fn combine(memory: &Memory, keys: Vec<String>, with: fn(&Set, &Set) -> Set) -> Result<Vec<Bytes>> {
    let mut sets = Vec::with_capacity(keys.len());
    for key in &keys {
        sets.push(memory.read(key, Set::clone)?);
    }
    let mut sets = sets.into_iter();
    let first = sets.next().unwrap_or_default();
    let combined = sets.fold(first, |acc, set| with(&acc, &set));
    Ok(combined.into_iter().collect())
}

variants! {
    combine(keys) {
        Sinter => (|acc, set| acc.intersection(set).cloned().collect()),
        Sunion => (|acc, set| acc.union(set).cloned().collect()),
        Sdiff => (|acc, set| acc.difference(set).cloned().collect()),
    }
}
