//! Hash commands. Fields are the caller's field names as bytes; values are encoded.

use bytes::Bytes;

use super::commands;
use crate::ops::{ExpireCondition, FieldsCondition};

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
    /// `HPEXPIRE key ms [NX|XX|GT|LT] FIELDS n field ...`: a code per field (see
    /// [`FieldExpiry`](crate::FieldExpiry)).
    Hpexpire { key: String, millis: i64, condition: Option<ExpireCondition>, fields: Vec<Vec<u8>> } -> Vec<i64>,
        "HPEXPIRE" cmd(key, millis, condition.map(expire_condition), "FIELDS", fields.len(), fields),
        keys [key], Writes, Never;
    /// `HPEXPIREAT key unix-ms [NX|XX|GT|LT] FIELDS n field ...`: as `HPEXPIRE`.
    HpexpireAt {
        key: String, unix_millis: i64, condition: Option<ExpireCondition>, fields: Vec<Vec<u8>>,
    } -> Vec<i64>,
        "HPEXPIREAT" cmd(key, unix_millis, condition.map(expire_condition), "FIELDS", fields.len(), fields),
        keys [key], Writes, Never;
    /// `HPTTL key FIELDS n field ...`: per field -2 missing, -1 persistent, else milliseconds.
    Hpttl { key: String, fields: Vec<Vec<u8>> } -> Vec<i64>,
        "HPTTL" cmd(key, "FIELDS", fields.len(), fields), keys [key], Reads, Safe;
    /// `HPEXPIRETIME key FIELDS n field ...`: per field -2, -1, or the Unix time in ms.
    HpexpireTime { key: String, fields: Vec<Vec<u8>> } -> Vec<i64>,
        "HPEXPIRETIME" cmd(key, "FIELDS", fields.len(), fields), keys [key], Reads, Safe;
    /// `HPERSIST key FIELDS n field ...`: per field -2 missing, -1 no expiry, 1 removed.
    Hpersist { key: String, fields: Vec<Vec<u8>> } -> Vec<i64>,
        "HPERSIST" cmd(key, "FIELDS", fields.len(), fields), keys [key], Writes, Never;
    /// `HSETEX key [FNX|FXX] [PX ms|PXAT t|KEEPTTL] FIELDS n field value ...`: whether set.
    Hsetex {
        key: String, condition: Option<FieldsCondition>, ttl: FieldTtl,
        pairs: Vec<(Vec<u8>, Vec<u8>)>,
    } -> bool,
        "HSETEX" cmd(key, condition.map(fields_condition), ttl.args(), "FIELDS", pairs.len(), pairs),
        keys [key], Writes, Never;
    /// `HGETEX key [PX ms|PXAT t|PERSIST] FIELDS n field ...`: the values, in order.
    Hgetex { key: String, ttl: FieldTtl, fields: Vec<Vec<u8>> } -> Vec<Option<Bytes>>,
        "HGETEX" cmd(key, ttl.args(), "FIELDS", fields.len(), fields), keys [key], Writes, Never;
}

/// The expiry `HSETEX` and `HGETEX` give the fields they touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldTtl {
    /// No expiry argument: `HSETEX` leaves the fields without expiry, `HGETEX` leaves theirs.
    Unchanged,
    /// `PX ms`.
    After(u64),
    /// `PXAT unix-ms` (a past time: deleted at once).
    At(i64),
    /// `KEEPTTL` (`HSETEX`).
    Keep,
    /// `PERSIST` (`HGETEX`).
    Persist,
}

#[cfg(feature = "redis")]
impl FieldTtl {
    /// Its arguments.
    fn args(&self) -> Vec<String> {
        match self {
            FieldTtl::Unchanged => Vec::new(),
            FieldTtl::After(millis) => vec!["PX".to_owned(), millis.to_string()],
            FieldTtl::At(unix_millis) => vec!["PXAT".to_owned(), unix_millis.to_string()],
            FieldTtl::Keep => vec!["KEEPTTL".to_owned()],
            FieldTtl::Persist => vec!["PERSIST".to_owned()],
        }
    }
}

/// `NX`, `XX`, `GT` or `LT`.
#[cfg(feature = "redis")]
fn expire_condition(condition: ExpireCondition) -> &'static str {
    match condition {
        ExpireCondition::NoExpiry => "NX",
        ExpireCondition::HasExpiry => "XX",
        ExpireCondition::Later => "GT",
        ExpireCondition::Sooner => "LT",
    }
}

/// `FNX` or `FXX`.
#[cfg(feature = "redis")]
fn fields_condition(condition: FieldsCondition) -> &'static str {
    match condition {
        FieldsCondition::NoneExist => "FNX",
        FieldsCondition::AllExist => "FXX",
    }
}
