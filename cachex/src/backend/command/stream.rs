//! Stream commands. Field names are the caller's names as bytes; field values are encoded.
//! Replies come as the raw shapes below (values still encoded), decoded by the cache layer.

use std::time::Duration;

use bytes::Bytes;

use super::commands;
#[cfg(feature = "redis")]
use crate::stream::TrimTo;
use crate::stream::{
    ConsumerInfo, GroupInfo, PendingEntry, PendingSummary, ReadFrom, StreamId, Trim,
};

commands! {
    /// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] n [LIMIT l]] id|* field value ...`: the
    /// new entry's id, `None` under `NOMKSTREAM` when the stream is missing.
    Xadd {
        key: String, nomkstream: bool, trim: Option<Trim>, id: Option<StreamId>,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    } -> Option<StreamId>,
        "XADD" cmd(key, nomkstream.then_some("NOMKSTREAM"), trim, auto(id), fields), keys [key],
        Writes, Never;
    /// `XLEN key`.
    Xlen { key: String } -> u64,
        "XLEN" cmd(key), keys [key], Reads, Safe;
    /// `XRANGE key start end [COUNT n]`, both ends inclusive.
    Xrange { key: String, start: StreamId, end: StreamId, count: Option<u64> } -> Vec<RawEntry>,
        "XRANGE" cmd(key, start, end, count.map(|n| ("COUNT", n))), keys [key], Reads, Safe;
    /// `XREVRANGE key end start [COUNT n]`: newest first.
    Xrevrange { key: String, end: StreamId, start: StreamId, count: Option<u64> } -> Vec<RawEntry>,
        "XREVRANGE" cmd(key, end, start, count.map(|n| ("COUNT", n))), keys [key], Reads, Safe;
    /// `XREAD [COUNT n] STREAMS key ... id ...`, without waiting.
    Xread { keys: Vec<String>, from: Vec<ReadFrom>, count: Option<u64> } -> Streams,
        "XREAD" cmd(count.map(|n| ("COUNT", n)), "STREAMS", keys, from), keys [keys], Reads,
        Safe;
    /// `XREAD [COUNT n] BLOCK ms STREAMS key ... id ...`: waits up to `wait` (`None`:
    /// forever) on a connection of its own.
    XreadBlock {
        keys: Vec<String>, from: Vec<ReadFrom>, count: Option<u64>, wait: Option<Duration>,
    } -> Streams,
        "XREAD" blocking(*wait; count.map(|n| ("COUNT", n)), "BLOCK", block_millis(wait),
            "STREAMS", keys, from), keys [keys], Reads, Safe;
    /// `XTRIM key MAXLEN|MINID [=|~] n [LIMIT l]`: how many entries were removed.
    Xtrim { key: String, trim: Trim } -> u64,
        "XTRIM" cmd(key, trim), keys [key], Writes, Never;
    /// `XDEL key id ...`: how many entries were removed.
    Xdel { key: String, ids: Vec<StreamId> } -> u64,
        "XDEL" cmd(key, ids), keys [key], Writes, Safe;
    /// `XINFO STREAM key`.
    XinfoStream { key: String } -> RawStreamInfo,
        "XINFO" cmd("STREAM", key), keys [key], Reads, Safe;
    /// `XINFO GROUPS key`.
    XinfoGroups { key: String } -> Groups,
        "XINFO" cmd("GROUPS", key), keys [key], Reads, Safe;
    /// `XINFO CONSUMERS key group`.
    XinfoConsumers { key: String, group: String } -> Consumers,
        "XINFO" cmd("CONSUMERS", key, group), keys [key], Reads, Safe;
    /// `XGROUP CREATE key group id|$ [MKSTREAM]`.
    XgroupCreate { key: String, group: String, start: ReadFrom, mkstream: bool } -> (),
        "XGROUP" cmd("CREATE", key, group, start, mkstream.then_some("MKSTREAM")), keys [key],
        Writes, Never;
    /// `XGROUP DESTROY key group`: whether the group existed.
    XgroupDestroy { key: String, group: String } -> bool,
        "XGROUP" cmd("DESTROY", key, group), keys [key], Writes, Safe;
    /// `XGROUP SETID key group id|$`.
    XgroupSetId { key: String, group: String, start: ReadFrom } -> (),
        "XGROUP" cmd("SETID", key, group, start), keys [key], Writes, Safe;
    /// `XGROUP DELCONSUMER key group consumer`: how many pending entries it held.
    XgroupDelConsumer { key: String, group: String, consumer: String } -> u64,
        "XGROUP" cmd("DELCONSUMER", key, group, consumer), keys [key], Writes, Never;
    /// `XREADGROUP GROUP group consumer [COUNT n] [NOACK] STREAMS key ... id ...`, without
    /// waiting.
    XreadGroup {
        group: String, consumer: String, keys: Vec<String>, from: Vec<ReadFrom>,
        count: Option<u64>, noack: bool,
    } -> Streams,
        "XREADGROUP" cmd("GROUP", group, consumer, count.map(|n| ("COUNT", n)),
            noack.then_some("NOACK"), "STREAMS", keys, from), keys [keys], Writes, Never;
    /// `XREADGROUP ... BLOCK ms ...`: waits up to `wait` (`None`: forever) on a connection of
    /// its own.
    XreadGroupBlock {
        group: String, consumer: String, keys: Vec<String>, from: Vec<ReadFrom>,
        count: Option<u64>, noack: bool, wait: Option<Duration>,
    } -> Streams,
        "XREADGROUP" blocking(*wait; "GROUP", group, consumer, count.map(|n| ("COUNT", n)),
            "BLOCK", block_millis(wait), noack.then_some("NOACK"), "STREAMS", keys, from),
        keys [keys], Writes, Never;
    /// `XACK key group id ...`: how many were acknowledged.
    Xack { key: String, group: String, ids: Vec<StreamId> } -> u64,
        "XACK" cmd(key, group, ids), keys [key], Writes, Safe;
    /// `XPENDING key group`: the summary.
    XpendingSummary { key: String, group: String } -> Summary,
        "XPENDING" cmd(key, group), keys [key], Reads, Safe;
    /// `XPENDING key group [IDLE ms] start end count [consumer]`.
    XpendingRange {
        key: String, group: String, min_idle_ms: Option<u64>, start: StreamId, end: StreamId,
        count: u64, consumer: Option<String>,
    } -> Pending,
        "XPENDING" cmd(key, group, min_idle_ms.map(|ms| ("IDLE", ms)), start, end, count,
            consumer), keys [key], Reads, Safe;
    /// `XCLAIM key group consumer min-idle id ... [IDLE ms] [RETRYCOUNT n] [FORCE]`: the
    /// entries claimed.
    Xclaim {
        key: String, group: String, consumer: String, min_idle_ms: u64, ids: Vec<StreamId>,
        idle_ms: Option<u64>, retry_count: Option<u64>, force: bool,
    } -> Vec<RawEntry>,
        "XCLAIM" cmd(key, group, consumer, min_idle_ms, ids, idle_ms.map(|ms| ("IDLE", ms)),
            retry_count.map(|n| ("RETRYCOUNT", n)), force.then_some("FORCE")), keys [key],
        Writes, Never;
    /// `XAUTOCLAIM key group consumer min-idle start [COUNT n]`.
    Xautoclaim {
        key: String, group: String, consumer: String, min_idle_ms: u64, start: StreamId,
        count: Option<u64>,
    } -> RawAutoClaim,
        "XAUTOCLAIM" cmd(key, group, consumer, min_idle_ms, start, count.map(|n| ("COUNT", n))),
        keys [key], Writes, Never;
}

/// A stream entry as stored: its id, field names and encoded values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawEntry {
    pub(crate) id: StreamId,
    pub(crate) fields: Vec<(Vec<u8>, Bytes)>,
}

/// What `XREAD`/`XREADGROUP` answer: each stream's made key and entries; empty when none.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Streams(pub(crate) Vec<(Vec<u8>, Vec<RawEntry>)>);

/// `XINFO STREAM`'s answer, values still encoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RawStreamInfo {
    pub(crate) length: u64,
    pub(crate) last_generated_id: StreamId,
    pub(crate) max_deleted_entry_id: StreamId,
    pub(crate) entries_added: u64,
    pub(crate) groups: u64,
    pub(crate) first_entry: Option<RawEntry>,
    pub(crate) last_entry: Option<RawEntry>,
}

/// `XINFO GROUPS`'s answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Groups(pub(crate) Vec<GroupInfo>);

/// `XINFO CONSUMERS`'s answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Consumers(pub(crate) Vec<ConsumerInfo>);

/// `XPENDING`'s summary.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Summary(pub(crate) PendingSummary);

/// `XPENDING`'s extended form.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Pending(pub(crate) Vec<PendingEntry>);

/// `XAUTOCLAIM`'s answer, values still encoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RawAutoClaim {
    pub(crate) next: StreamId,
    pub(crate) claimed: Vec<RawEntry>,
    pub(crate) deleted: Vec<StreamId>,
}

/// `XADD`'s id argument: the id, or `*`.
#[cfg(feature = "redis")]
fn auto(id: &Option<StreamId>) -> String {
    id.map_or_else(|| "*".to_owned(), |id| id.to_string())
}

/// `BLOCK`'s milliseconds: 0 for ever, at least 1 otherwise (0 would wait for ever).
#[cfg(feature = "redis")]
fn block_millis(wait: &Option<Duration>) -> u64 {
    wait.map_or(0, |wait| {
        u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)
    })
}

#[cfg(feature = "redis")]
mod wire {
    //! The stream types as arguments, and the replies' shapes (RESP2 arrays or RESP3 maps).

    use redis::{FromRedisValue, ParsingError, RedisWrite, ToRedisArgs, Value};

    use super::*;

    impl ToRedisArgs for StreamId {
        fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
            out.write_arg(self.to_string().as_bytes());
        }
    }

    impl ToRedisArgs for ReadFrom {
        fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
            out.write_arg(self.to_string().as_bytes());
        }
    }

    impl ToRedisArgs for Trim {
        fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
            let how: &[u8] = if self.approximate { b"~" } else { b"=" };
            let (name, threshold) = match self.strategy {
                TrimTo::MaxLen(len) => ("MAXLEN", len.to_string()),
                TrimTo::MinId(id) => ("MINID", id.to_string()),
            };
            out.write_arg(name.as_bytes());
            out.write_arg(how);
            out.write_arg(threshold.as_bytes());
            if let Some(limit) = self.limit {
                out.write_arg(b"LIMIT");
                out.write_arg(limit.to_string().as_bytes());
            }
        }
    }

    /// A reply of an unexpected shape.
    fn shape(what: &str, value: &Value) -> ParsingError {
        format!("{what} expected in a stream reply, got {value:?}").into()
    }

    /// A text reply.
    fn text(value: &Value) -> Result<String, ParsingError> {
        match value {
            Value::BulkString(bytes) => Ok(String::from_utf8(bytes.clone())?),
            Value::SimpleString(text) => Ok(text.clone()),
            Value::VerbatimString { text, .. } => Ok(text.clone()),
            other => Err(shape("a text", other)),
        }
    }

    /// A count.
    fn number(value: &Value) -> Result<u64, ParsingError> {
        match value {
            Value::Int(n) => u64::try_from(*n).map_err(|_| shape("a count", value)),
            other => text(other)?.parse().map_err(|_| shape("a count", other)),
        }
    }

    /// An id.
    fn id(value: &Value) -> Result<StreamId, ParsingError> {
        text(value)?
            .parse()
            .map_err(|_| shape("a stream id", value))
    }

    /// The items of an array (`Nil`: none).
    fn items(value: &Value) -> Result<&[Value], ParsingError> {
        match value {
            Value::Array(items) | Value::Set(items) => Ok(items),
            Value::Nil => Ok(&[]),
            other => Err(shape("an array", other)),
        }
    }

    /// Names and values: a RESP3 map or a RESP2 flat array.
    fn pairs(value: &Value) -> Result<Vec<(String, &Value)>, ParsingError> {
        match value {
            Value::Map(pairs) => pairs
                .iter()
                .map(|(name, value)| Ok((text(name)?, value)))
                .collect(),
            other => items(other)?
                .chunks(2)
                .map(|pair| match pair {
                    [name, value] => Ok((text(name)?, value)),
                    _ => Err(shape("name-value pairs", other)),
                })
                .collect(),
        }
    }

    /// The value named `name` of pairs.
    fn field<'a>(pairs: &[(String, &'a Value)], name: &str) -> Result<&'a Value, ParsingError> {
        pairs
            .iter()
            .find(|(found, _)| found == name)
            .map(|(_, value)| *value)
            .ok_or_else(|| format!("no {name:?} in a stream reply").into())
    }

    /// Bytes of a bulk string.
    fn bytes(value: &Value) -> Result<Vec<u8>, ParsingError> {
        match value {
            Value::BulkString(bytes) => Ok(bytes.clone()),
            Value::SimpleString(text) => Ok(text.clone().into_bytes()),
            Value::Int(n) => Ok(n.to_string().into_bytes()),
            other => Err(shape("a string", other)),
        }
    }

    /// An entry, `None` for an entry that no longer exists (`nil`).
    fn entry(value: &Value) -> Result<Option<RawEntry>, ParsingError> {
        match value {
            Value::Nil => Ok(None),
            other => match items(other)? {
                [entry_id, fields] => {
                    let fields = match fields {
                        Value::Map(map) => map
                            .iter()
                            .map(|(name, value)| Ok((bytes(name)?, bytes(value)?.into())))
                            .collect::<Result<_, ParsingError>>()?,
                        fields => items(fields)?
                            .chunks(2)
                            .map(|pair| match pair {
                                [name, value] => Ok((bytes(name)?, bytes(value)?.into())),
                                _ => Err(shape("an entry's fields", other)),
                            })
                            .collect::<Result<_, ParsingError>>()?,
                    };
                    Ok(Some(RawEntry {
                        id: id(entry_id)?,
                        fields,
                    }))
                }
                _ => Err(shape("an entry", other)),
            },
        }
    }

    /// Entries, leaving out the deleted ones.
    fn entries(value: &Value) -> Result<Vec<RawEntry>, ParsingError> {
        items(value)?
            .iter()
            .filter_map(|item| entry(item).transpose())
            .collect()
    }

    impl FromRedisValue for StreamId {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            id(&value)
        }
    }

    impl FromRedisValue for RawEntry {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            entry(&value)?.ok_or_else(|| shape("an entry", &value))
        }

        fn from_redis_value_refs(items: &[Value]) -> Result<Vec<Self>, ParsingError> {
            items
                .iter()
                .filter_map(|item| entry(item).transpose())
                .collect()
        }

        fn from_redis_values(items: Vec<Value>) -> Result<Vec<Self>, ParsingError> {
            Self::from_redis_value_refs(&items)
        }
    }

    impl FromRedisValue for Streams {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            let streams = match &value {
                Value::Map(streams) => streams
                    .iter()
                    .map(|(key, read)| Ok((bytes(key)?, entries(read)?)))
                    .collect::<Result<_, ParsingError>>()?,
                other => items(other)?
                    .iter()
                    .map(|stream| match items(stream)? {
                        [key, read] => Ok((bytes(key)?, entries(read)?)),
                        _ => Err(shape("a stream's entries", stream)),
                    })
                    .collect::<Result<_, ParsingError>>()?,
            };
            Ok(Streams(streams))
        }
    }

    impl FromRedisValue for RawStreamInfo {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            let info = pairs(&value)?;
            Ok(RawStreamInfo {
                length: number(field(&info, "length")?)?,
                last_generated_id: id(field(&info, "last-generated-id")?)?,
                max_deleted_entry_id: id(field(&info, "max-deleted-entry-id")?)?,
                entries_added: number(field(&info, "entries-added")?)?,
                groups: number(field(&info, "groups")?)?,
                first_entry: entry(field(&info, "first-entry")?)?,
                last_entry: entry(field(&info, "last-entry")?)?,
            })
        }
    }

    impl FromRedisValue for Groups {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            let groups = items(&value)?
                .iter()
                .map(|group| {
                    let group = pairs(group)?;
                    Ok(GroupInfo {
                        name: text(field(&group, "name")?)?,
                        consumers: number(field(&group, "consumers")?)?,
                        pending: number(field(&group, "pending")?)?,
                        last_delivered_id: id(field(&group, "last-delivered-id")?)?,
                    })
                })
                .collect::<Result<_, ParsingError>>()?;
            Ok(Groups(groups))
        }
    }

    impl FromRedisValue for Consumers {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            let consumers = items(&value)?
                .iter()
                .map(|consumer| {
                    let consumer = pairs(consumer)?;
                    Ok(ConsumerInfo {
                        name: text(field(&consumer, "name")?)?,
                        pending: number(field(&consumer, "pending")?)?,
                        idle: Duration::from_millis(number(field(&consumer, "idle")?)?),
                    })
                })
                .collect::<Result<_, ParsingError>>()?;
            Ok(Consumers(consumers))
        }
    }

    impl FromRedisValue for Summary {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            let [count, smallest, largest, consumers] = items(&value)? else {
                return Err(shape("a pending summary", &value));
            };
            let optional_id = |value: &Value| match value {
                Value::Nil => Ok(None),
                value => id(value).map(Some),
            };
            let consumers = items(consumers)?
                .iter()
                .map(|consumer| match items(consumer)? {
                    [name, count] => Ok((text(name)?, number(count)?)),
                    _ => Err(shape("a consumer's pending count", consumer)),
                })
                .collect::<Result<_, ParsingError>>()?;
            Ok(Summary(PendingSummary {
                count: number(count)?,
                smallest: optional_id(smallest)?,
                largest: optional_id(largest)?,
                consumers,
            }))
        }
    }

    impl FromRedisValue for Pending {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            let pending = items(&value)?
                .iter()
                .map(|item| match items(item)? {
                    [entry_id, consumer, idle, deliveries] => Ok(PendingEntry {
                        id: id(entry_id)?,
                        consumer: text(consumer)?,
                        idle: Duration::from_millis(number(idle)?),
                        deliveries: number(deliveries)?,
                    }),
                    _ => Err(shape("a pending entry", item)),
                })
                .collect::<Result<_, ParsingError>>()?;
            Ok(Pending(pending))
        }
    }

    impl FromRedisValue for RawAutoClaim {
        fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
            let (next, claimed, deleted) = match items(&value)? {
                [next, claimed] => (next, claimed, &Value::Nil),
                [next, claimed, deleted] => (next, claimed, deleted),
                _ => return Err(shape("an autoclaim reply", &value)),
            };
            Ok(RawAutoClaim {
                next: id(next)?,
                claimed: entries(claimed)?,
                deleted: items(deleted)?.iter().map(id).collect::<Result<_, _>>()?,
            })
        }
    }
}
