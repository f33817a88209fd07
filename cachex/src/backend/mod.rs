//! Backends: where the bytes live. The cache layer above makes keys and encodes values; a
//! backend stores made keys and encoded bytes, natively async, with Redis semantics.

#[cfg(feature = "redis")]
pub(crate) mod blocking;
#[cfg(feature = "cluster")]
pub(crate) mod cluster;
pub(crate) mod glob;
pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "sentinel")]
pub(crate) mod sentinel;
#[cfg(feature = "redis")]
pub(crate) mod topology;

use std::time::Duration;

use bytes::Bytes;

use crate::{Error, Result};

/// When a stored value expires. A zero timeout never reaches a backend: the cache layer turns
/// it into a delete, as Django does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    Never,
    After(Duration),
}

/// How `set` treats a key that exists (Redis `SET` without flags, or with `NX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetMode {
    Always,
    /// `NX`
    IfAbsent,
    /// `XX`
    IfPresent,
}

/// The operations every backend implements, on made keys and encoded bytes. Each has the
/// semantics of the Redis command named in its doc, so that every backend behaves alike.
pub(crate) trait RawStore: Send + Sync {
    /// `GET`: the bytes of a live key.
    async fn get(&self, key: &str) -> Result<Option<Bytes>>;

    /// `SET key value [PX ms] [NX]`: whether the value was stored.
    async fn set(&self, key: &str, value: Vec<u8>, expiry: Expiry, mode: SetMode) -> Result<bool>;

    /// `MGET`: the bytes of each key, in order.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>>;

    /// `SET` of each item (pipelined on a server); returns the keys that were not stored.
    async fn set_many(&self, items: Vec<(String, Vec<u8>)>, expiry: Expiry) -> Result<Vec<String>>;

    /// `DEL`: how many of the keys existed.
    async fn delete_many(&self, keys: &[String]) -> Result<u64>;

    /// `EXISTS`.
    async fn exists(&self, key: &str) -> Result<bool>;

    /// `INCRBY`, atomically on the server. A missing key gives `Ok(None)` unless `create` is
    /// given, in which case it is created holding `delta` with that expiry (an existing key
    /// keeps its own). A value that is not an integer, or an overflow, is
    /// [`Error::WrongType`](crate::Error::WrongType).
    async fn incr_by(&self, key: &str, delta: i64, create: Option<Expiry>) -> Result<Option<i64>>;

    /// `PEXPIRE` / `PERSIST`: whether the key existed.
    async fn expire(&self, key: &str, expiry: Expiry) -> Result<bool>;

    /// `RENAME`, keeping the expiry and overwriting `to`: whether `from` existed.
    async fn rename(&self, from: &str, to: &str) -> Result<bool>;

    /// `SCAN MATCH pattern` + `UNLINK` in batches: how many keys were deleted.
    async fn delete_pattern(&self, pattern: &str) -> Result<u64>;

    /// `FLUSHDB`: every key of the database, this cache's or not.
    async fn flush_db(&self) -> Result<()>;

    /// One [`Command`] on data structures or key metadata, answered as Redis would.
    async fn execute(&self, command: Command) -> Result<Reply>;

    /// `SCAN cursor MATCH pattern COUNT count`: some keys matching `pattern` and the cursor to
    /// go on from, `None` when the scan is complete. Keys that exist for the whole scan are
    /// returned at least once.
    async fn scan(&self, cursor: Cursor, pattern: &str, count: usize) -> Result<ScanPage>;

    /// Drops the connections (a later call opens new ones).
    async fn close(&self) -> Result<()>;
}

/// Where a scan goes on: the node (of a topology with several primaries) and that node's
/// `SCAN` cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) node: usize,
    pub(crate) position: u64,
}

/// One page of a scan: keys, and the cursor of the next page (`None` at the end).
pub(crate) type ScanPage = (Vec<Vec<u8>>, Option<Cursor>);

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Left,
    Right,
}

/// The set operations of `SINTER`, `SUNION`, `SDIFF`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetOp {
    Inter,
    Union,
    Diff,
}

/// A Redis command of the extended API, on made keys and encoded values (hash fields are
/// the caller's field names as bytes). Each variant names the command it mirrors; backends
/// answer with the [`Reply`] that command gives.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Command {
    /// `PTTL key`: -2 missing, -1 persistent, else milliseconds left.
    Pttl(String),
    /// `PEXPIRE key ms`: 1 if the key exists; a non-positive time deletes it.
    Pexpire { key: String, millis: i64 },
    /// `PEXPIREAT key unix-ms`: as `PEXPIRE`, at an absolute time.
    PexpireAt { key: String, unix_millis: i64 },
    /// `PERSIST key`: 1 if an expiry was removed.
    Persist(String),
    /// `TYPE key`: a status (`none`, `string`, `hash`, `list`, `set`, `zset`).
    Type(String),
    /// `RENAMENX from to`: 1 if renamed, 0 if `to` exists; an error when `from` is missing.
    RenameNx { from: String, to: String },
    /// `SET key value [PX ms] GET`: the previous value.
    SetGet {
        key: String,
        value: Vec<u8>,
        expiry: Expiry,
    },
    /// `GETDEL key`: the value, deleted.
    GetDel(String),
    /// `GET key` + `PTTL key`, atomically: `[value, pttl]`.
    GetPttl(String),
    /// Deletes `key` if it holds `token` (a lock's release): 1 if deleted.
    DeleteIfEquals { key: String, token: Vec<u8> },
    /// Sets a new expiry on `key` if it holds `token` (a lock's extension): 1 if set.
    ExpireIfEquals {
        key: String,
        token: Vec<u8>,
        millis: u64,
    },
    /// `HSET key field value [field value ...]`: how many fields are new.
    Hset {
        key: String,
        pairs: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// `HSETNX key field value`: 1 if set.
    HsetNx {
        key: String,
        field: Vec<u8>,
        value: Vec<u8>,
    },
    /// `HGET key field`.
    Hget { key: String, field: Vec<u8> },
    /// `HMGET key field ...`.
    Hmget { key: String, fields: Vec<Vec<u8>> },
    /// `HGETALL key`: `[field, value, ...]`.
    HgetAll(String),
    /// `HDEL key field ...`: how many were removed.
    Hdel { key: String, fields: Vec<Vec<u8>> },
    /// `HLEN key`.
    Hlen(String),
    /// `HKEYS key`.
    Hkeys(String),
    /// `HVALS key`.
    Hvals(String),
    /// `HEXISTS key field`.
    Hexists { key: String, field: Vec<u8> },
    /// `HINCRBY key field delta`: the new value.
    HincrBy {
        key: String,
        field: Vec<u8>,
        delta: i64,
    },
    /// `LPUSH`/`RPUSH key value ...`: the new length.
    Push {
        key: String,
        end: End,
        values: Vec<Vec<u8>>,
    },
    /// `LPOP`/`RPOP key`.
    Pop { key: String, end: End },
    /// `BLPOP`/`BRPOP key ... timeout`: `[key, value]`, or nil when the time ran out. `None`
    /// waits forever.
    BlockingPop {
        keys: Vec<String>,
        end: End,
        timeout: Option<Duration>,
    },
    /// `LRANGE key start stop`.
    Lrange { key: String, start: i64, stop: i64 },
    /// `LINDEX key index`.
    Lindex { key: String, index: i64 },
    /// `LLEN key`.
    Llen(String),
    /// `LREM key count value`: how many were removed.
    Lrem {
        key: String,
        count: i64,
        value: Vec<u8>,
    },
    /// `LTRIM key start stop`.
    Ltrim { key: String, start: i64, stop: i64 },
    /// `LSET key index value`.
    Lset {
        key: String,
        index: i64,
        value: Vec<u8>,
    },
    /// `SADD key member ...`: how many are new.
    Sadd { key: String, members: Vec<Vec<u8>> },
    /// `SREM key member ...`: how many were removed.
    Srem { key: String, members: Vec<Vec<u8>> },
    /// `SMEMBERS key`.
    Smembers(String),
    /// `SISMEMBER key member`.
    SisMember { key: String, member: Vec<u8> },
    /// `SCARD key`.
    Scard(String),
    /// `SPOP key`.
    Spop(String),
    /// `SRANDMEMBER key count` (count > 0: distinct members).
    SrandMember { key: String, count: i64 },
    /// `SINTER`/`SUNION`/`SDIFF key ...`.
    SetOp { op: SetOp, keys: Vec<String> },
    /// `ZADD key score member ...`: how many are new.
    Zadd {
        key: String,
        members: Vec<(f64, Vec<u8>)>,
    },
    /// `ZREM key member ...`: how many were removed.
    Zrem { key: String, members: Vec<Vec<u8>> },
    /// `ZSCORE key member`: the score as text.
    Zscore { key: String, member: Vec<u8> },
    /// `ZRANK`/`ZREVRANK key member`.
    Zrank {
        key: String,
        member: Vec<u8>,
        reverse: bool,
    },
    /// `ZRANGE`/`ZREVRANGE key start stop [WITHSCORES]`.
    Zrange {
        key: String,
        start: i64,
        stop: i64,
        reverse: bool,
        with_scores: bool,
    },
    /// `ZRANGEBYSCORE key min max [WITHSCORES]`, both bounds inclusive.
    ZrangeByScore {
        key: String,
        min: f64,
        max: f64,
        with_scores: bool,
    },
    /// `ZINCRBY key delta member`: the new score as text.
    ZincrBy {
        key: String,
        delta: f64,
        member: Vec<u8>,
    },
    /// `ZCARD key`.
    Zcard(String),
    /// `ZCOUNT key min max`, both bounds inclusive.
    Zcount { key: String, min: f64, max: f64 },
    /// `ZPOPMIN`/`ZPOPMAX key count`: `[member, score, ...]`.
    Zpop { key: String, count: u64, max: bool },
}

impl Command {
    /// The name of the Redis command it mirrors, for logs.
    pub(crate) fn name(&self) -> &'static str {
        use Command::*;
        let by_end = |end: &End, left, right| match end {
            End::Left => left,
            End::Right => right,
        };
        match self {
            Pttl(_) => "PTTL",
            Pexpire { .. } => "PEXPIRE",
            PexpireAt { .. } => "PEXPIREAT",
            Persist(_) => "PERSIST",
            Type(_) => "TYPE",
            RenameNx { .. } => "RENAMENX",
            SetGet { .. } => "SET GET",
            GetDel(_) => "GETDEL",
            GetPttl(_) => "GET PTTL",
            DeleteIfEquals { .. } => "lock release",
            ExpireIfEquals { .. } => "lock extend",
            Hset { .. } => "HSET",
            HsetNx { .. } => "HSETNX",
            Hget { .. } => "HGET",
            Hmget { .. } => "HMGET",
            HgetAll(_) => "HGETALL",
            Hdel { .. } => "HDEL",
            Hlen(_) => "HLEN",
            Hkeys(_) => "HKEYS",
            Hvals(_) => "HVALS",
            Hexists { .. } => "HEXISTS",
            HincrBy { .. } => "HINCRBY",
            Push { end, .. } => by_end(end, "LPUSH", "RPUSH"),
            Pop { end, .. } => by_end(end, "LPOP", "RPOP"),
            BlockingPop { end, .. } => by_end(end, "BLPOP", "BRPOP"),
            Lrange { .. } => "LRANGE",
            Lindex { .. } => "LINDEX",
            Llen(_) => "LLEN",
            Lrem { .. } => "LREM",
            Ltrim { .. } => "LTRIM",
            Lset { .. } => "LSET",
            Sadd { .. } => "SADD",
            Srem { .. } => "SREM",
            Smembers(_) => "SMEMBERS",
            SisMember { .. } => "SISMEMBER",
            Scard(_) => "SCARD",
            Spop(_) => "SPOP",
            SrandMember { .. } => "SRANDMEMBER",
            SetOp { op, .. } => match op {
                self::SetOp::Inter => "SINTER",
                self::SetOp::Union => "SUNION",
                self::SetOp::Diff => "SDIFF",
            },
            Zadd { .. } => "ZADD",
            Zrem { .. } => "ZREM",
            Zscore { .. } => "ZSCORE",
            Zrank { reverse: false, .. } => "ZRANK",
            Zrank { reverse: true, .. } => "ZREVRANK",
            Zrange { reverse: false, .. } => "ZRANGE",
            Zrange { reverse: true, .. } => "ZREVRANGE",
            ZrangeByScore { .. } => "ZRANGEBYSCORE",
            ZincrBy { .. } => "ZINCRBY",
            Zcard(_) => "ZCARD",
            Zcount { .. } => "ZCOUNT",
            Zpop { max: false, .. } => "ZPOPMIN",
            Zpop { max: true, .. } => "ZPOPMAX",
        }
    }

    /// How many keys it touches.
    pub(crate) fn key_count(&self) -> usize {
        match self {
            Command::BlockingPop { keys, .. } | Command::SetOp { keys, .. } => keys.len(),
            Command::RenameNx { .. } => 2,
            _ => 1,
        }
    }
}

/// A reply, as Redis gives it (RESP2).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reply {
    Nil,
    Int(i64),
    Bytes(Vec<u8>),
    Status(String),
    Array(Vec<Reply>),
}

impl Reply {
    fn unexpected(&self, expected: &str) -> Error {
        Error::Server(format!("expected {expected} from the server, got {self:?}"))
    }

    /// An integer reply.
    pub(crate) fn int(self) -> Result<i64> {
        match self {
            Reply::Int(n) => Ok(n),
            other => Err(other.unexpected("an integer")),
        }
    }

    /// A count: an integer reply that is never negative.
    pub(crate) fn count(self) -> Result<u64> {
        let n = self.int()?;
        u64::try_from(n).map_err(|_| Reply::Int(n).unexpected("a count"))
    }

    /// A 0/1 integer reply.
    pub(crate) fn flag(self) -> Result<bool> {
        Ok(self.int()? != 0)
    }

    /// A bulk string or nil.
    pub(crate) fn bytes(self) -> Result<Option<Vec<u8>>> {
        match self {
            Reply::Nil => Ok(None),
            Reply::Bytes(bytes) => Ok(Some(bytes)),
            other => Err(other.unexpected("a string or nil")),
        }
    }

    /// An array (nil is empty).
    pub(crate) fn array(self) -> Result<Vec<Reply>> {
        match self {
            Reply::Nil => Ok(Vec::new()),
            Reply::Array(items) => Ok(items),
            other => Err(other.unexpected("an array")),
        }
    }

    /// An array of bulk strings.
    pub(crate) fn byte_items(self) -> Result<Vec<Vec<u8>>> {
        self.array()?
            .into_iter()
            .map(|item| match item {
                Reply::Bytes(bytes) => Ok(bytes),
                other => Err(other.unexpected("a string")),
            })
            .collect()
    }
}
