//! Sorted-set commands on the in-memory store. Scores are `f64` both ways.

use bytes::Bytes;

use super::data::{Score, SortedSet};
use super::{Apply, Memory, count, index_range};
use crate::backend::command::{
    Scored, Zadd, Zcard, Zcount, ZincrBy, Zmscore, Zpopmax, Zpopmin, Zrange, ZrangeByScore,
    ZrangeByScoreWithScores, ZrangeWithScores, Zrank, Zrem, ZremRangeByRank, ZremRangeByScore,
    Zrevrange, ZrevrangeByScore, ZrevrangeByScoreWithScores, ZrevrangeWithScores, Zrevrank, Zscore,
};
use crate::ops::{Compare, Condition};
use crate::{Error, Result};

/// A member of a sorted set, as the plain range replies give it.
fn member((_, member): &(Score, Bytes)) -> Bytes {
    member.clone()
}

/// A member and its score, as the `WITHSCORES` replies give them.
fn with_score((score, member): &(Score, Bytes)) -> (Bytes, f64) {
    (member.clone(), score.0)
}

impl Apply for Zadd {
    /// `ZADD` with its flags: `NX`/`XX` choose new or existing members, `GT`/`LT` let only a
    /// greater or lower score update one (new members are added), `CH` counts changed scores
    /// too. `NX` with `GT` or `LT` is refused, as Redis refuses it.
    fn apply(self, memory: &Memory) -> Result<u64> {
        let Self {
            key,
            options,
            members,
        } = self;
        if options.condition == Some(Condition::Absent) && options.compare.is_some() {
            return Err(Error::invalid_argument(
                "GT, LT, and/or NX options at the same time are not compatible".to_owned(),
            ));
        }
        let counted = memory.modify(&key, true, |zset: &mut SortedSet| {
            let (mut added, mut changed) = (0, 0);
            for (score, member) in members {
                let old = zset.scores.get(member.as_slice()).copied();
                let allowed = match (old, options.condition, options.compare) {
                    (Some(_), Some(Condition::Absent), _) | (None, Some(Condition::Present), _) => {
                        false
                    }
                    (Some(old), _, Some(Compare::Greater)) => score > old,
                    (Some(old), _, Some(Compare::Less)) => score < old,
                    _ => true,
                };
                if !allowed {
                    continue;
                }
                match old {
                    None => added += 1,
                    Some(old) if old != score => changed += 1,
                    Some(_) => {}
                }
                zset.insert(score, Bytes::from(member));
            }
            Ok(if options.changed {
                added + changed
            } else {
                added
            })
        })?;
        Ok(count(counted.unwrap_or(0)))
    }
}

impl Apply for Zrem {
    fn apply(self, memory: &Memory) -> Result<u64> {
        memory.count_changes(
            &self.key,
            false,
            &self.members,
            |zset: &mut SortedSet, member| zset.remove(member),
        )
    }
}

impl Apply for Zscore {
    fn apply(self, memory: &Memory) -> Result<Option<f64>> {
        memory.read(&self.key, |zset: &SortedSet| {
            zset.scores.get(self.member.as_slice()).copied()
        })
    }
}

/// `ZRANK`/`ZREVRANK`: the member's position, lowest score first or (`reverse`) highest
/// first.
fn rank(memory: &Memory, key: String, member: Vec<u8>, reverse: bool) -> Result<Option<u64>> {
    let rank = memory.read(&key, |zset: &SortedSet| {
        zset.ordered(reverse).position(|(_, item)| *item == member)
    })?;
    Ok(rank.map(count))
}

variants! {
    rank(key, member) {
        Zrank => (false),
        Zrevrank => (true),
    }
}

/// `ZRANGE`/`ZREVRANGE key start stop`: the items from `start` to `stop`, lowest score first
/// or (`reverse`) highest first, each as `item` gives it.
fn by_rank<T>(
    memory: &Memory,
    key: String,
    start: i64,
    stop: i64,
    reverse: bool,
    item: fn(&(Score, Bytes)) -> T,
) -> Result<Vec<T>> {
    memory.read(&key, |zset: &SortedSet| {
        match index_range(zset.order.len(), start, stop) {
            Some((first, last)) => zset
                .ordered(reverse)
                .skip(first)
                .take(last + 1 - first)
                .map(item)
                .collect(),
            None => Vec::new(),
        }
    })
}

variants! {
    by_rank(key, start, stop) {
        Zrange => (false, member),
        ZrangeWithScores => (false, with_score),
        Zrevrange => (true, member),
        ZrevrangeWithScores => (true, with_score),
    }
}

/// Whether a score lies between `min` and `max`, both inclusive.
fn within(score: Score, min: f64, max: f64) -> bool {
    min <= score.0 && score.0 <= max
}

/// `ZRANGEBYSCORE key min max` (`ZREVRANGEBYSCORE key max min`): the items scored from `min`
/// to `max`, lowest first (or, `reverse`, highest first), each as `item` gives it.
fn by_score<T>(
    memory: &Memory,
    key: String,
    min: f64,
    max: f64,
    reverse: bool,
    item: fn(&(Score, Bytes)) -> T,
) -> Result<Vec<T>> {
    memory.read(&key, |zset: &SortedSet| {
        zset.ordered(reverse)
            .filter(|(score, _)| within(*score, min, max))
            .map(item)
            .collect()
    })
}

variants! {
    by_score(key, min, max) {
        ZrangeByScore => (false, member),
        ZrangeByScoreWithScores => (false, with_score),
        ZrevrangeByScore => (true, member),
        ZrevrangeByScoreWithScores => (true, with_score),
    }
}

/// Removes the members `pick` chooses among the ordered ones; how many.
fn remove_where(
    memory: &Memory,
    key: &str,
    pick: impl FnOnce(&SortedSet) -> Vec<Bytes>,
) -> Result<u64> {
    let removed = memory.modify(key, false, |zset: &mut SortedSet| {
        let chosen = pick(zset);
        for member in &chosen {
            zset.remove(member);
        }
        Ok(chosen.len())
    })?;
    Ok(count(removed.unwrap_or(0)))
}

impl Apply for ZremRangeByScore {
    fn apply(self, memory: &Memory) -> Result<u64> {
        remove_where(memory, &self.key, |zset| {
            zset.order
                .iter()
                .filter(|(score, _)| within(*score, self.min, self.max))
                .map(member)
                .collect()
        })
    }
}

impl Apply for ZremRangeByRank {
    fn apply(self, memory: &Memory) -> Result<u64> {
        remove_where(memory, &self.key, |zset| {
            match index_range(zset.order.len(), self.start, self.stop) {
                Some((first, last)) => zset
                    .order
                    .iter()
                    .skip(first)
                    .take(last + 1 - first)
                    .map(member)
                    .collect(),
                None => Vec::new(),
            }
        })
    }
}

impl Apply for Zmscore {
    fn apply(self, memory: &Memory) -> Result<Vec<Option<f64>>> {
        let scores = memory.read(&self.key, |zset: &SortedSet| {
            Some(
                self.members
                    .iter()
                    .map(|member| zset.scores.get(member.as_slice()).copied())
                    .collect(),
            )
        })?;
        Ok(scores.unwrap_or_else(|| vec![None; self.members.len()]))
    }
}

impl Apply for ZincrBy {
    fn apply(self, memory: &Memory) -> Result<f64> {
        let Self { key, delta, member } = self;
        let score = memory.modify(&key, true, |zset: &mut SortedSet| {
            let score = zset.scores.get(member.as_slice()).copied().unwrap_or(0.0) + delta;
            if score.is_nan() {
                return Err(Error::invalid_argument(
                    "resulting score is not a number (NaN)".to_owned(),
                ));
            }
            zset.insert(score, Bytes::from(member));
            Ok(score)
        })?;
        Ok(score.unwrap_or(delta))
    }
}

impl Apply for Zcard {
    fn apply(self, memory: &Memory) -> Result<u64> {
        Ok(count(
            memory.read(&self.key, |zset: &SortedSet| zset.scores.len())?,
        ))
    }
}

impl Apply for Zcount {
    fn apply(self, memory: &Memory) -> Result<u64> {
        Ok(count(memory.read(&self.key, |zset: &SortedSet| {
            zset.order
                .iter()
                .filter(|(score, _)| within(*score, self.min, self.max))
                .count()
        })?))
    }
}

/// `ZPOPMIN`/`ZPOPMAX key count`: removes up to `count` members with the lowest scores or
/// (`max`) the highest, and gives them in that order.
fn pop(memory: &Memory, key: String, count: u64, max: bool) -> Result<Scored> {
    let popped = memory.modify(&key, false, |zset: &mut SortedSet| {
        let taken: Scored = zset
            .ordered(max)
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .map(with_score)
            .collect();
        for (member, _) in &taken {
            zset.remove(member);
        }
        Ok(taken)
    })?;
    Ok(popped.unwrap_or_default())
}

variants! {
    pop(key, count) {
        Zpopmin => (false),
        Zpopmax => (true),
    }
}
