//! Set commands. Members are encoded.

use bytes::Bytes;

use super::commands;

commands! {
    /// `SADD key member ...`: how many are new.
    Sadd { key: String, members: Vec<Vec<u8>> } -> u64,
        "SADD" cmd(key, members), keys [key], Writes, Never;
    /// `SREM key member ...`: how many were removed.
    Srem { key: String, members: Vec<Vec<u8>> } -> u64,
        "SREM" cmd(key, members), keys [key], Writes, Never;
    /// `SMEMBERS key`.
    Smembers { key: String } -> Vec<Bytes>,
        "SMEMBERS" cmd(key), keys [key], Reads, Safe;
    /// `SISMEMBER key member`.
    SisMember { key: String, member: Vec<u8> } -> bool,
        "SISMEMBER" cmd(key, member), keys [key], Reads, Safe;
    /// `SCARD key`.
    Scard { key: String } -> u64,
        "SCARD" cmd(key), keys [key], Reads, Safe;
    /// `SPOP key`.
    Spop { key: String } -> Option<Bytes>,
        "SPOP" cmd(key), keys [key], Writes, Never;
    /// `SRANDMEMBER key count` (count > 0: distinct members; < 0: may repeat).
    SrandMember { key: String, count: i64 } -> Vec<Bytes>,
        "SRANDMEMBER" cmd(key, count), keys [key], Reads, Safe;
    /// `SINTER key ...`.
    Sinter { keys: Vec<String> } -> Vec<Bytes>,
        "SINTER" cmd(keys), keys [keys], Reads, Safe;
    /// `SUNION key ...`.
    Sunion { keys: Vec<String> } -> Vec<Bytes>,
        "SUNION" cmd(keys), keys [keys], Reads, Safe;
    /// `SDIFF key ...`.
    Sdiff { keys: Vec<String> } -> Vec<Bytes>,
        "SDIFF" cmd(keys), keys [keys], Reads, Safe;
    /// `SMOVE source destination member`: whether it moved.
    Smove { source: String, destination: String, member: Vec<u8> } -> bool,
        "SMOVE" cmd(source, destination, member), keys [source, destination], Writes, Never;
    /// `SMISMEMBER key member ...`: for each, whether it is a member.
    SmisMember { key: String, members: Vec<Vec<u8>> } -> Vec<bool>,
        "SMISMEMBER" cmd(key, members), keys [key], Reads, Safe;
    /// `SSCAN key cursor COUNT count`: the next cursor (0 at the end) and some members.
    Sscan { key: String, cursor: u64, count: usize } -> (u64, Vec<Vec<u8>>),
        "SSCAN" cmd(key, cursor, "COUNT", count), keys [key], Reads, Safe;
    /// `SDIFFSTORE destination key ...`: the size of the stored set.
    SdiffStore { destination: String, keys: Vec<String> } -> u64,
        "SDIFFSTORE" cmd(destination, keys), keys [destination, keys], Writes, Safe;
    /// `SINTERSTORE destination key ...`.
    SinterStore { destination: String, keys: Vec<String> } -> u64,
        "SINTERSTORE" cmd(destination, keys), keys [destination, keys], Writes, Safe;
    /// `SUNIONSTORE destination key ...`.
    SunionStore { destination: String, keys: Vec<String> } -> u64,
        "SUNIONSTORE" cmd(destination, keys), keys [destination, keys], Writes, Safe;
}
