//! String commands: the values `get`, `set` and counters work on.

use bytes::Bytes;

use super::{Expiry, commands};
#[cfg(feature = "redis")]
use super::{Script, expiry_millis, px};
use crate::ops::Condition;

commands! {
    /// `GET key`.
    Get { key: String } -> Option<Bytes>,
        "GET" cmd(key), keys [key], Reads, Safe;
    /// `MGET key ...`: each key's value, in order.
    Mget { keys: Vec<String> } -> Vec<Option<Bytes>>,
        "MGET" cmd(keys), keys [keys], Reads, Safe;
    /// `SET key value [PX ms]`: always stores.
    Set { key: String, value: Vec<u8>, expiry: Expiry } -> bool,
        "SET" cmd(key, value, px(expiry)), keys [key], Writes, Safe;
    /// `SET key value [PX ms] NX`: whether stored (only when absent).
    SetNx { key: String, value: Vec<u8>, expiry: Expiry } -> bool,
        "SET" cmd(key, value, px(expiry), "NX"), keys [key], Writes, Never;
    /// `SET key value [PX ms] XX`: whether stored (only when present).
    SetXx { key: String, value: Vec<u8>, expiry: Expiry } -> bool,
        "SET" cmd(key, value, px(expiry), "XX"), keys [key], Writes, Never;
    /// `SET key value [PX ms] GET`: the previous value.
    SetGet { key: String, value: Vec<u8>, expiry: Expiry } -> Option<Bytes>,
        "SET" cmd(key, value, px(expiry), "GET"), keys [key], Writes, Never;
    /// `SET key value [PX ms|KEEPTTL] [NX|XX] [GET]`: `expiry` `None` keeps the key's expiry.
    SetWith {
        key: String, value: Vec<u8>, expiry: Option<Expiry>, condition: Option<Condition>,
        get: bool,
    } -> SetReply,
        "SET" cmd(key, value, set_flags(expiry, condition, *get)), keys [key], Writes, Never;
    /// `GETDEL key`: the value, deleted.
    GetDel { key: String } -> Option<Bytes>,
        "GETDEL" cmd(key), keys [key], Writes, Never;
    /// `INCRBY` of a key that must exist: `None` when it does not. Not an integer, or an
    /// overflow, is an error.
    IncrBy { key: String, delta: i64 } -> Option<i64>,
        "INCRBY" script(INCR_EXISTING; key; delta), keys [key], Writes, Never;
    /// `INCRBY` that creates a missing key first, holding 0 with `expiry`; an existing key
    /// keeps its own expiry.
    IncrOrCreate { key: String, delta: i64, expiry: Expiry } -> i64,
        "INCRBY" script(
            INCR_OR_CREATE; key;
            delta, millis_text(*expiry)
        ),
        keys [key], Writes, Never;
    /// `SET key value [PX ms]` unless the key holds a value with more than `buffer` seconds
    /// left (`TTL`), or no expiry: `add` under stampede prevention, where a value inside its
    /// buffer counts as missing. Whether stored.
    AddStampede { key: String, value: Vec<u8>, expiry: Expiry, buffer: u64 } -> bool,
        "SET NX" script(ADD_STAMPEDE; key; value, millis_text(*expiry), buffer),
        keys [key], Writes, Never;
    /// `PEXPIRE key ms` (`PERSIST` for no expiry) if the key holds a value with more than
    /// `buffer` seconds left, or no expiry: `touch` under stampede prevention. Whether it
    /// did.
    TouchStampede { key: String, expiry: Expiry, buffer: u64 } -> bool,
        "PEXPIRE" script(TOUCH_STAMPEDE; key; millis_text(*expiry), buffer),
        keys [key], Writes, Safe;
}

/// What `SET` with flags answers: `OK` (stored), nil (not stored, or no previous value with
/// `GET`), or the previous value (`GET`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SetReply {
    Ok,
    Nil,
    Value(Bytes),
}

#[cfg(feature = "redis")]
impl redis::FromRedisValue for SetReply {
    fn from_redis_value(value: redis::Value) -> Result<Self, redis::ParsingError> {
        Ok(match value {
            redis::Value::Okay => SetReply::Ok,
            redis::Value::Nil => SetReply::Nil,
            value => SetReply::Value(redis::FromRedisValue::from_redis_value(value)?),
        })
    }
}

/// `SET`'s flags after the value: the expiry (`PX ms`, none, or `KEEPTTL`), `NX`/`XX`, `GET`.
#[cfg(feature = "redis")]
fn set_flags(expiry: &Option<Expiry>, condition: &Option<Condition>, get: bool) -> Vec<String> {
    let mut flags = Vec::new();
    match expiry {
        None => flags.push("KEEPTTL".to_owned()),
        Some(expiry) => flags.extend(
            px(expiry)
                .map(|(px, ms)| [px.to_owned(), ms.to_string()])
                .into_iter()
                .flatten(),
        ),
    }
    flags.extend(condition.map(|condition| condition_flag(condition).to_owned()));
    if get {
        flags.push("GET".to_owned());
    }
    flags
}

/// `NX` or `XX`.
#[cfg(feature = "redis")]
pub(super) fn condition_flag(condition: Condition) -> &'static str {
    match condition {
        Condition::Absent => "NX",
        Condition::Present => "XX",
    }
}

/// Whether a value with `pttl` left (`PTTL`'s answer) outlives a stampede buffer of `buffer`
/// seconds: no expiry, or more than the buffer left in `TTL`'s seconds (rounded to the
/// nearest, as Redis rounds them), as the scripts above compare them.
pub(crate) fn outlives_buffer(pttl: i64, buffer: u64) -> bool {
    pttl == -1 || ttl_secs(pttl) > i64::try_from(buffer).unwrap_or(i64::MAX)
}

/// `TTL`'s seconds for `PTTL`'s milliseconds (negative answers kept).
pub(crate) fn ttl_secs(pttl: i64) -> i64 {
    if pttl < 0 { pttl } else { (pttl + 500) / 1000 }
}

/// An expiry as a script argument: milliseconds, or empty for none.
#[cfg(feature = "redis")]
fn millis_text(expiry: Expiry) -> String {
    expiry_millis(expiry)
        .map(|millis| millis.to_string())
        .unwrap_or_default()
}

/// See [`AddStampede`]: `ARGV` value, milliseconds (empty: no expiry), buffer in seconds.
#[cfg(feature = "redis")]
static ADD_STAMPEDE: Script = Script::new(
    r"
local ttl = redis.call('TTL', KEYS[1])
if ttl == -1 or ttl > tonumber(ARGV[3]) then
    return 0
end
if ARGV[2] == '' then
    redis.call('SET', KEYS[1], ARGV[1])
else
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
",
);

/// See [`TouchStampede`]: `ARGV` milliseconds (empty: no expiry), buffer in seconds.
#[cfg(feature = "redis")]
static TOUCH_STAMPEDE: Script = Script::new(
    r"
local ttl = redis.call('TTL', KEYS[1])
if ttl ~= -1 and ttl <= tonumber(ARGV[2]) then
    return 0
end
if ARGV[1] == '' then
    redis.call('PERSIST', KEYS[1])
else
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 1
",
);

/// See [`IncrBy`]. The result is read back with `GET` because Lua numbers are doubles and
/// would round integers beyond 2^53.
#[cfg(feature = "redis")]
static INCR_EXISTING: Script = Script::new(
    r"
if redis.call('EXISTS', KEYS[1]) == 0 then
    return false
end
redis.call('INCRBY', KEYS[1], ARGV[1])
return redis.call('GET', KEYS[1])
",
);

/// See [`IncrOrCreate`]: `PX ARGV[2]` unless it is empty. Read back with `GET`, as above.
#[cfg(feature = "redis")]
static INCR_OR_CREATE: Script = Script::new(
    r"
if ARGV[2] == '' then
    redis.call('SET', KEYS[1], '0', 'NX')
else
    redis.call('SET', KEYS[1], '0', 'NX', 'PX', ARGV[2])
end
redis.call('INCRBY', KEYS[1], ARGV[1])
return redis.call('GET', KEYS[1])
",
);
