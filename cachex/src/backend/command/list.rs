//! List commands. Values are encoded.

use std::time::Duration;

use bytes::Bytes;

use super::commands;
use crate::ops::{InsertAt, ListEnd};

commands! {
    /// `LPUSH key value ...`: the new length.
    Lpush { key: String, values: Vec<Vec<u8>> } -> u64,
        "LPUSH" cmd(key, values), keys [key], Writes, Never;
    /// `RPUSH key value ...`: the new length.
    Rpush { key: String, values: Vec<Vec<u8>> } -> u64,
        "RPUSH" cmd(key, values), keys [key], Writes, Never;
    /// `LPOP key`.
    Lpop { key: String } -> Option<Bytes>,
        "LPOP" cmd(key), keys [key], Writes, Never;
    /// `RPOP key`.
    Rpop { key: String } -> Option<Bytes>,
        "RPOP" cmd(key), keys [key], Writes, Never;
    /// `BLPOP key ... timeout`: the key popped from and the value, `None` when the time ran
    /// out. `None` waits forever.
    Blpop { keys: Vec<String>, timeout: Option<Duration> } -> Option<(Vec<u8>, Bytes)>,
        "BLPOP" blocking(*timeout; keys, seconds(timeout)), keys [keys], Writes, Never;
    /// `BRPOP key ... timeout`, as [`Blpop`].
    Brpop { keys: Vec<String>, timeout: Option<Duration> } -> Option<(Vec<u8>, Bytes)>,
        "BRPOP" blocking(*timeout; keys, seconds(timeout)), keys [keys], Writes, Never;
    /// `LPOP key count`: up to `count` items, `None` for a missing key.
    LpopCount { key: String, count: u64 } -> Option<Vec<Bytes>>,
        "LPOP" cmd(key, count), keys [key], Writes, Never;
    /// `RPOP key count`.
    RpopCount { key: String, count: u64 } -> Option<Vec<Bytes>>,
        "RPOP" cmd(key, count), keys [key], Writes, Never;
    /// `LPOS key value [RANK r] [MAXLEN m]`: the first match's index.
    Lpos { key: String, value: Vec<u8>, rank: Option<i64>, maxlen: Option<u64> } -> Option<u64>,
        "LPOS" cmd(key, value, rank.map(|r| ("RANK", r)), maxlen.map(|m| ("MAXLEN", m))),
        keys [key], Reads, Safe;
    /// `LPOS key value COUNT c [RANK r] [MAXLEN m]`: the matches' indexes (`count` 0: all).
    LposCount {
        key: String, value: Vec<u8>, count: u64, rank: Option<i64>, maxlen: Option<u64>,
    } -> Vec<u64>,
        "LPOS" cmd(key, value, "COUNT", count, rank.map(|r| ("RANK", r)), maxlen.map(|m| ("MAXLEN", m))),
        keys [key], Reads, Safe;
    /// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`: the item moved.
    Lmove { source: String, destination: String, from: ListEnd, to: ListEnd } -> Option<Bytes>,
        "LMOVE" cmd(source, destination, side(from), side(to)), keys [source, destination],
        Writes, Never;
    /// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`, waiting as [`Blpop`].
    Blmove {
        source: String, destination: String, from: ListEnd, to: ListEnd,
        timeout: Option<Duration>,
    } -> Option<Bytes>,
        "BLMOVE" blocking(*timeout; source, destination, side(from), side(to), seconds(timeout)),
        keys [source, destination], Writes, Never;
    /// `LINSERT key BEFORE|AFTER pivot value`: the new length, -1 without the pivot, 0 for a
    /// missing key.
    Linsert { key: String, at: InsertAt, pivot: Vec<u8>, value: Vec<u8> } -> i64,
        "LINSERT" cmd(key, match at { InsertAt::Before => "BEFORE", InsertAt::After => "AFTER" }, pivot, value),
        keys [key], Writes, Never;
    /// `LRANGE key start stop`.
    Lrange { key: String, start: i64, stop: i64 } -> Vec<Bytes>,
        "LRANGE" cmd(key, start, stop), keys [key], Reads, Safe;
    /// `LINDEX key index`.
    Lindex { key: String, index: i64 } -> Option<Bytes>,
        "LINDEX" cmd(key, index), keys [key], Reads, Safe;
    /// `LLEN key`.
    Llen { key: String } -> u64,
        "LLEN" cmd(key), keys [key], Reads, Safe;
    /// `LREM key count value`: how many were removed.
    Lrem { key: String, count: i64, value: Vec<u8> } -> u64,
        "LREM" cmd(key, count, value), keys [key], Writes, Never;
    /// `LTRIM key start stop`.
    Ltrim { key: String, start: i64, stop: i64 } -> (),
        "LTRIM" cmd(key, start, stop), keys [key], Writes, Safe;
    /// `LSET key index value`; an index out of range is an error.
    Lset { key: String, index: i64, value: Vec<u8> } -> (),
        "LSET" cmd(key, index, value), keys [key], Writes, Safe;
}

/// `LEFT` or `RIGHT`.
#[cfg(feature = "redis")]
fn side(end: &ListEnd) -> &'static str {
    match end {
        ListEnd::Left => "LEFT",
        ListEnd::Right => "RIGHT",
    }
}

/// A blocking pop's timeout argument: seconds, 0 for ever.
#[cfg(feature = "redis")]
fn seconds(timeout: &Option<Duration>) -> f64 {
    timeout.map_or(0.0, |timeout| timeout.as_secs_f64())
}
