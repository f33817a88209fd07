//! Hash commands. Fields are the caller's field names as bytes; values are encoded.

use bytes::Bytes;

use super::commands;

commands! {
    /// `HSET key field value [field value ...]`: how many fields are new.
    Hset { key: String, pairs: Vec<(Vec<u8>, Vec<u8>)> } -> u64,
        "HSET" cmd(key, pairs), keys [key], Writes, Never;
    /// `HSETNX key field value`: whether set (only a new field).
    HsetNx { key: String, field: Vec<u8>, value: Vec<u8> } -> bool,
        "HSETNX" cmd(key, field, value), keys [key], Writes, Never;
    /// `HGET key field`.
    Hget { key: String, field: Vec<u8> } -> Option<Bytes>,
        "HGET" cmd(key, field), keys [key], Reads, Safe;
    /// `HMGET key field ...`: each field's value, in order.
    Hmget { key: String, fields: Vec<Vec<u8>> } -> Vec<Option<Bytes>>,
        "HMGET" cmd(key, fields), keys [key], Reads, Safe;
    /// `HGETALL key`: every field and value.
    HgetAll { key: String } -> Vec<(Vec<u8>, Bytes)>,
        "HGETALL" cmd(key), keys [key], Reads, Safe;
    /// `HDEL key field ...`: how many were removed.
    Hdel { key: String, fields: Vec<Vec<u8>> } -> u64,
        "HDEL" cmd(key, fields), keys [key], Writes, Never;
    /// `HLEN key`.
    Hlen { key: String } -> u64,
        "HLEN" cmd(key), keys [key], Reads, Safe;
    /// `HKEYS key`.
    Hkeys { key: String } -> Vec<Vec<u8>>,
        "HKEYS" cmd(key), keys [key], Reads, Safe;
    /// `HVALS key`.
    Hvals { key: String } -> Vec<Bytes>,
        "HVALS" cmd(key), keys [key], Reads, Safe;
    /// `HEXISTS key field`.
    Hexists { key: String, field: Vec<u8> } -> bool,
        "HEXISTS" cmd(key, field), keys [key], Reads, Safe;
    /// `HINCRBY key field delta`: the new value.
    HincrBy { key: String, field: Vec<u8>, delta: i64 } -> i64,
        "HINCRBY" cmd(key, field, delta), keys [key], Writes, Never;
    /// `HINCRBYFLOAT key field delta`: the new value.
    HincrByFloat { key: String, field: Vec<u8>, delta: f64 } -> f64,
        "HINCRBYFLOAT" cmd(key, field, delta), keys [key], Writes, Never;
}
