//! List commands. Values are encoded.

use std::time::Duration;

use bytes::Bytes;

use super::commands;

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

/// A blocking pop's timeout argument: seconds, 0 for ever.
#[cfg(feature = "redis")]
fn seconds(timeout: &Option<Duration>) -> f64 {
    timeout.map_or(0.0, |timeout| timeout.as_secs_f64())
}
