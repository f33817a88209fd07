//! Key commands: existence, deletion, expiry, type, renames, scans, and the lock scripts.

use std::borrow::Cow;

#[cfg(feature = "redis")]
use super::Script;
use super::{KeyCount, commands};
use crate::ops::SlowlogEntry;

commands! {
    /// `EXISTS key`.
    Exists { key: String } -> bool,
        "EXISTS" cmd(key), keys [key], Reads, Safe;
    /// `DEL key ...`: how many existed.
    Del { keys: Vec<String> } -> u64,
        "DEL" cmd(keys), keys [keys], Writes, Safe;
    /// `UNLINK key ...` of keys found by a scan: how many existed.
    Unlink { keys: Vec<Vec<u8>> } -> u64,
        "UNLINK" cmd(keys), keys [keys], Writes, Safe;
    /// `PTTL key`: -2 missing, -1 persistent, else milliseconds left.
    Pttl { key: String } -> i64,
        "PTTL" cmd(key), keys [key], Reads, Safe;
    /// `PEXPIRE key ms`: whether the key exists; a non-positive time deletes it.
    Pexpire { key: String, millis: i64 } -> bool,
        "PEXPIRE" cmd(key, millis), keys [key], Writes, Safe;
    /// `PEXPIREAT key unix-ms`: as `PEXPIRE`, at an absolute time.
    PexpireAt { key: String, unix_millis: i64 } -> bool,
        "PEXPIREAT" cmd(key, unix_millis), keys [key], Writes, Safe;
    /// `PERSIST key`: whether an expiry was removed.
    Persist { key: String } -> bool,
        "PERSIST" cmd(key), keys [key], Writes, Never;
    /// `PERSIST key` + `EXISTS key`, atomically: whether the key exists (it keeps no expiry).
    PersistExisting { key: String } -> bool,
        "PERSIST" script(PERSIST_EXISTING; key;), keys [key], Writes, Safe;
    /// `TYPE key`.
    Type { key: String } -> TypeOf,
        "TYPE" cmd(key), keys [key], Reads, Safe;
    /// `RENAME from to`, keeping the expiry and overwriting `to`; missing `from` is an error.
    Rename { from: String, to: String } -> (),
        "RENAME" cmd(from, to), keys [from, to], Writes, Never;
    /// `RENAMENX from to`: whether renamed (not when `to` exists); missing `from` is an error.
    RenameNx { from: String, to: String } -> bool,
        "RENAMENX" cmd(from, to), keys [from, to], Writes, Never;
    /// `SCAN cursor MATCH pattern COUNT count`: the next cursor (0 at the end) and some keys.
    /// Read on the primary: what it finds may be deleted next.
    Scan { cursor: u64, pattern: String, count: usize } -> (u64, Vec<Vec<u8>>),
        "SCAN" cmd(cursor, "MATCH", pattern, "COUNT", count), keys [], Primary, Safe;
    /// `PEXPIRETIME key`: -2 missing, -1 persistent, else the Unix time in milliseconds.
    PexpireTime { key: String } -> i64,
        "PEXPIRETIME" cmd(key), keys [key], Reads, Safe;
    /// `MEMORY USAGE key [SAMPLES n]`: the bytes the key takes, `None` when missing.
    MemoryUsage { key: String, samples: Option<u64> } -> Option<u64>,
        "MEMORY" cmd("USAGE", key, samples.map(|n| ("SAMPLES", n))), keys [key], Reads, Safe;
    /// `INFO [section]`: the server's sections (every primary's on a cluster).
    ServerInfo { section: Option<String> } -> InfoReply,
        "INFO" cmd(section), keys [], Primary, Safe;
    /// `FLUSHDB`: every key of the database.
    FlushDb {} -> (),
        "FLUSHDB" cmd(), keys [], Writes, Safe;
    /// `SLOWLOG GET count`: the newest entries of the slow log (every node's on a cluster).
    SlowlogGet { count: u64 } -> Vec<SlowlogEntry>,
        "SLOWLOG" cmd("GET", count), keys [], Primary, Safe;
    /// `SLOWLOG LEN`: how many entries the slow log holds (summed over a cluster's nodes).
    SlowlogLen {} -> u64,
        "SLOWLOG" cmd("LEN"), keys [], Primary, Safe;
    /// `GET key` + `PTTL key`, atomically.
    GetPttl { key: String } -> (Option<bytes::Bytes>, i64),
        "GET PTTL" script(GET_PTTL; key;), keys [key], Primary, Safe;
    /// `MGET` + `PTTL` of each key, atomically: each key's value (nil for another type, as
    /// `MGET`) and milliseconds left. Read on the primary: the near cache keeps what it reads.
    MgetPttl { keys: Vec<String> } -> Vec<(Option<bytes::Bytes>, i64)>,
        "MGET PTTL" script(MGET_PTTL; keys;), keys [keys], Primary, Safe;
    /// Deletes `key` if it holds `token` (a lock's release): whether deleted.
    DeleteIfEquals { key: String, token: Vec<u8> } -> bool,
        "lock release" script(DELETE_IF_EQUALS; key; token), keys [key], Writes, Safe;
    /// Sets a new expiry on `key` if it holds `token` (a lock's extension): whether set.
    ExpireIfEquals { key: String, token: Vec<u8>, millis: u64 } -> bool,
        "lock extend" script(EXPIRE_IF_EQUALS; key; token, millis), keys [key], Writes, Safe;
}

impl KeyCount for Vec<Vec<u8>> {
    fn count(&self) -> usize {
        self.len()
    }

    fn each(&self, visit: &mut dyn FnMut(&str)) {
        self.iter()
            .for_each(|key| visit(&String::from_utf8_lossy(key)));
    }
}

/// `TYPE`'s answer: the Redis name of what the key holds (`none` when it is missing,
/// `string`, `hash`, `list`, `set`, `zset`, or another type's name).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TypeOf(pub(crate) Cow<'static, str>);

#[cfg(feature = "redis")]
impl redis::FromRedisValue for TypeOf {
    fn from_redis_value(value: redis::Value) -> Result<Self, redis::ParsingError> {
        let name: String = redis::FromRedisValue::from_redis_value(value)?;
        Ok(TypeOf(Cow::Owned(name)))
    }
}

/// A slow log entry: `[id, unix seconds, microseconds, [args], address, name]` (the last two
/// since Redis 4).
#[cfg(feature = "redis")]
impl redis::FromRedisValue for SlowlogEntry {
    fn from_redis_value(value: redis::Value) -> Result<Self, redis::ParsingError> {
        use redis::FromRedisValue as Decode;
        let redis::Value::Array(fields) = value else {
            return Err(format!("a slow log entry is an array, not {value:?}").into());
        };
        let mut fields = fields.into_iter();
        let mut next = || fields.next().unwrap_or(redis::Value::Nil);
        let id = u64::from_redis_value(next())?;
        let at = u64::from_redis_value(next())?;
        let micros = u64::from_redis_value(next())?;
        let command: Vec<Vec<u8>> = Decode::from_redis_value(next())?;
        let text = |value: redis::Value| -> Result<Option<String>, redis::ParsingError> {
            Ok(Option::<String>::from_redis_value(value)?.filter(|text| !text.is_empty()))
        };
        Ok(SlowlogEntry {
            id,
            at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(at),
            duration: std::time::Duration::from_micros(micros),
            command: command
                .iter()
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect(),
            client_address: text(next())?,
            client_name: text(next())?,
        })
    }
}

/// `INFO`'s answer: each node's address (`None` for a single server) and its text.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct InfoReply(pub(crate) Vec<(Option<String>, String)>);

#[cfg(feature = "redis")]
impl redis::FromRedisValue for InfoReply {
    fn from_redis_value(value: redis::Value) -> Result<Self, redis::ParsingError> {
        match value {
            // A cluster answers with each node's text, by address.
            redis::Value::Map(nodes) => nodes
                .into_iter()
                .map(|(address, text)| {
                    Ok((
                        Some(redis::FromRedisValue::from_redis_value(address)?),
                        redis::FromRedisValue::from_redis_value(text)?,
                    ))
                })
                .collect::<Result<_, _>>()
                .map(InfoReply),
            text => Ok(InfoReply(vec![(
                None,
                redis::FromRedisValue::from_redis_value(text)?,
            )])),
        }
    }
}

/// See [`PersistExisting`].
#[cfg(feature = "redis")]
static PERSIST_EXISTING: Script = Script::new(
    r"
redis.call('PERSIST', KEYS[1])
return redis.call('EXISTS', KEYS[1])
",
);

/// See [`GetPttl`].
#[cfg(feature = "redis")]
static GET_PTTL: Script = Script::new(
    r"
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
",
);

/// See [`MgetPttl`]. A key of another type reads as nil, as `MGET` has it.
#[cfg(feature = "redis")]
static MGET_PTTL: Script = Script::new(
    r"
local found = {}
for i, key in ipairs(KEYS) do
    local value = redis.pcall('GET', key)
    if type(value) == 'table' and value.err then
        value = false
    end
    found[i] = {value, redis.call('PTTL', key)}
end
return found
",
);

/// See [`DeleteIfEquals`].
#[cfg(feature = "redis")]
static DELETE_IF_EQUALS: Script = Script::new(
    r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
",
);

/// See [`ExpireIfEquals`].
#[cfg(feature = "redis")]
static EXPIRE_IF_EQUALS: Script = Script::new(
    r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
);
