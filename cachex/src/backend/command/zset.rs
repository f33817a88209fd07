//! Sorted-set commands. Members are encoded; scores are `f64` both ways (no text).

use bytes::Bytes;

use super::commands;
#[cfg(feature = "redis")]
use crate::ops::Compare;
use crate::ops::ZaddOptions;

/// Members with their scores, in order.
pub(crate) type Scored = Vec<(Bytes, f64)>;

commands! {
    /// `ZADD key [NX|XX] [GT|LT] [CH] score member ...`: how many are new (or changed, `CH`).
    Zadd { key: String, options: ZaddOptions, members: Vec<(f64, Vec<u8>)> } -> u64,
        "ZADD" cmd(key, zadd_flags(options), members), keys [key], Writes, Never;
    /// `ZREM key member ...`: how many were removed.
    Zrem { key: String, members: Vec<Vec<u8>> } -> u64,
        "ZREM" cmd(key, members), keys [key], Writes, Never;
    /// `ZSCORE key member`.
    Zscore { key: String, member: Vec<u8> } -> Option<f64>,
        "ZSCORE" cmd(key, member), keys [key], Reads, Safe;
    /// `ZRANK key member`.
    Zrank { key: String, member: Vec<u8> } -> Option<u64>,
        "ZRANK" cmd(key, member), keys [key], Reads, Safe;
    /// `ZREVRANK key member`.
    Zrevrank { key: String, member: Vec<u8> } -> Option<u64>,
        "ZREVRANK" cmd(key, member), keys [key], Reads, Safe;
    /// `ZRANGE key start stop`.
    Zrange { key: String, start: i64, stop: i64 } -> Vec<Bytes>,
        "ZRANGE" cmd(key, start, stop), keys [key], Reads, Safe;
    /// `ZRANGE key start stop WITHSCORES`.
    ZrangeWithScores { key: String, start: i64, stop: i64 } -> Scored,
        "ZRANGE" cmd(key, start, stop, "WITHSCORES"), keys [key], Reads, Safe;
    /// `ZREVRANGE key start stop`.
    Zrevrange { key: String, start: i64, stop: i64 } -> Vec<Bytes>,
        "ZREVRANGE" cmd(key, start, stop), keys [key], Reads, Safe;
    /// `ZREVRANGE key start stop WITHSCORES`.
    ZrevrangeWithScores { key: String, start: i64, stop: i64 } -> Scored,
        "ZREVRANGE" cmd(key, start, stop, "WITHSCORES"), keys [key], Reads, Safe;
    /// `ZRANGEBYSCORE key min max`, both bounds inclusive.
    ZrangeByScore { key: String, min: f64, max: f64 } -> Vec<Bytes>,
        "ZRANGEBYSCORE" cmd(key, min, max), keys [key], Reads, Safe;
    /// `ZRANGEBYSCORE key min max WITHSCORES`.
    ZrangeByScoreWithScores { key: String, min: f64, max: f64 } -> Scored,
        "ZRANGEBYSCORE" cmd(key, min, max, "WITHSCORES"), keys [key], Reads, Safe;
    /// `ZINCRBY key delta member`: the new score.
    ZincrBy { key: String, delta: f64, member: Vec<u8> } -> f64,
        "ZINCRBY" cmd(key, delta, member), keys [key], Writes, Never;
    /// `ZCARD key`.
    Zcard { key: String } -> u64,
        "ZCARD" cmd(key), keys [key], Reads, Safe;
    /// `ZCOUNT key min max`, both bounds inclusive.
    Zcount { key: String, min: f64, max: f64 } -> u64,
        "ZCOUNT" cmd(key, min, max), keys [key], Reads, Safe;
    /// `ZPOPMIN key count`.
    Zpopmin { key: String, count: u64 } -> Scored,
        "ZPOPMIN" cmd(key, count), keys [key], Writes, Never;
    /// `ZPOPMAX key count`.
    Zpopmax { key: String, count: u64 } -> Scored,
        "ZPOPMAX" cmd(key, count), keys [key], Writes, Never;
    /// `ZREMRANGEBYSCORE key min max`: how many were removed.
    ZremRangeByScore { key: String, min: f64, max: f64 } -> u64,
        "ZREMRANGEBYSCORE" cmd(key, min, max), keys [key], Writes, Safe;
    /// `ZREMRANGEBYRANK key start stop`: how many were removed.
    ZremRangeByRank { key: String, start: i64, stop: i64 } -> u64,
        "ZREMRANGEBYRANK" cmd(key, start, stop), keys [key], Writes, Never;
    /// `ZREVRANGEBYSCORE key max min`, highest first.
    ZrevrangeByScore { key: String, max: f64, min: f64 } -> Vec<Bytes>,
        "ZREVRANGEBYSCORE" cmd(key, max, min), keys [key], Reads, Safe;
    /// `ZREVRANGEBYSCORE key max min WITHSCORES`.
    ZrevrangeByScoreWithScores { key: String, max: f64, min: f64 } -> Scored,
        "ZREVRANGEBYSCORE" cmd(key, max, min, "WITHSCORES"), keys [key], Reads, Safe;
    /// `ZMSCORE key member ...`: each member's score.
    Zmscore { key: String, members: Vec<Vec<u8>> } -> Vec<Option<f64>>,
        "ZMSCORE" cmd(key, members), keys [key], Reads, Safe;
}

/// `ZADD`'s flags before the members.
#[cfg(feature = "redis")]
fn zadd_flags(options: &ZaddOptions) -> Vec<&'static str> {
    let mut flags: Vec<&'static str> = options
        .condition
        .map(super::strings::condition_flag)
        .into_iter()
        .collect();
    flags.extend(options.compare.map(|compare| match compare {
        Compare::Greater => "GT",
        Compare::Less => "LT",
    }));
    if options.changed {
        flags.push("CH");
    }
    flags
}
