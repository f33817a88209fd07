//! Streams' typed values: entry ids, where a read starts, trimming, entries and the replies of
//! the stream operations of [`CacheApi`](crate::CacheApi) (`xadd`, `xread`, consumer groups,
//! ...). Field names are strings; field values go through the cache's codec.
//!
//! ```
//! use cachex::prelude::*;
//! use cachex::stream::{ReadFrom, ReadOptions, StreamId, XaddOptions};
//!
//! let cache = Cache::in_memory();
//! let id = cache.xadd("events", &[("kind", "login")], XaddOptions::default())?;
//! let id = id.expect("the stream is made");
//! let read = cache.xread::<String>(&[("events", ReadFrom::START)], ReadOptions::default())?;
//! assert_eq!(read[0].0, "events");
//! assert_eq!(read[0].1[0].id, id);
//! assert_eq!(read[0].1[0].get("kind").map(String::as_str), Some("login"));
//! assert_eq!("5-1".parse::<StreamId>()?, StreamId::new(5, 1));
//! # Ok::<(), cachex::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::Error;

/// A stream entry's id: milliseconds and a sequence number, written `ms-seq`.
///
/// ```
/// use cachex::stream::StreamId;
///
/// let id: StreamId = "1700000000000-3".parse()?;
/// assert_eq!(id, StreamId::new(1_700_000_000_000, 3));
/// assert_eq!(id.to_string(), "1700000000000-3");
/// assert_eq!("42".parse::<StreamId>()?, StreamId::new(42, 0));
/// assert!("x-1".parse::<StreamId>().is_err());
/// assert!(StreamId::MIN < id && id < StreamId::MAX);
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// The milliseconds part.
    pub ms: u64,
    /// The sequence number within the millisecond.
    pub seq: u64,
}

impl StreamId {
    /// The smallest id, `0-0` (Redis's `-` in a range).
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest id (Redis's `+` in a range).
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// The id `ms-seq`.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The id right after this one; `None` after [`MAX`](Self::MAX).
    pub(crate) fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => Some(StreamId {
                ms: self.ms.checked_add(1)?,
                seq: 0,
            }),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for StreamId {
    type Err = Error;

    /// `ms-seq`, or `ms` alone (sequence 0); anything else is
    /// [`Error::InvalidArgument`].
    fn from_str(text: &str) -> Result<StreamId, Error> {
        let invalid = || Error::invalid_argument(format!("{text:?} is not a stream id (ms-seq)"));
        let number = |part: &str| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            part.parse::<u64>().map_err(|_| invalid())
        };
        match text.split_once('-') {
            Some((ms, seq)) => Ok(StreamId::new(number(ms)?, number(seq)?)),
            None => Ok(StreamId::new(number(text)?, 0)),
        }
    }
}

/// Where a read or a consumer group starts.
///
/// - `xread`: [`After`](ReadFrom::After) an id, or [`Latest`](ReadFrom::Latest) (`$`: only
///   entries added from now on, for a blocking read);
/// - `xreadgroup`: [`Undelivered`](ReadFrom::Undelivered) (`>`: entries never delivered to the
///   group), or [`After`](ReadFrom::After) an id (the consumer's own pending entries);
/// - `xgroup_create`, `xgroup_setid`: the group's last delivered id, [`After`](ReadFrom::After)
///   an id or [`Latest`](ReadFrom::Latest).
///
/// An id a command does not take is [`Error::InvalidArgument`], as Redis refuses it.
///
/// ```
/// use cachex::stream::{ReadFrom, StreamId};
///
/// assert_eq!("$".parse::<ReadFrom>()?, ReadFrom::Latest);
/// assert_eq!(">".parse::<ReadFrom>()?, ReadFrom::Undelivered);
/// assert_eq!("0".parse::<ReadFrom>()?, ReadFrom::START);
/// assert_eq!(ReadFrom::After(StreamId::new(7, 1)).to_string(), "7-1");
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadFrom {
    /// Entries after this id.
    After(StreamId),
    /// `$`: after the stream's last id.
    Latest,
    /// `>`: entries never delivered to the consumer group.
    Undelivered,
}

impl ReadFrom {
    /// From the beginning (`0`).
    pub const START: ReadFrom = ReadFrom::After(StreamId::MIN);
}

impl fmt::Display for ReadFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadFrom::After(id) => id.fmt(f),
            ReadFrom::Latest => f.write_str("$"),
            ReadFrom::Undelivered => f.write_str(">"),
        }
    }
}

impl FromStr for ReadFrom {
    type Err = Error;

    /// `$`, `>`, or an id.
    fn from_str(text: &str) -> Result<ReadFrom, Error> {
        match text {
            "$" => Ok(ReadFrom::Latest),
            ">" => Ok(ReadFrom::Undelivered),
            id => id.parse().map(ReadFrom::After),
        }
    }
}

impl From<StreamId> for ReadFrom {
    fn from(id: StreamId) -> ReadFrom {
        ReadFrom::After(id)
    }
}

/// How a stream is trimmed (`xtrim`, `xadd`'s trimming): to a length or below an id.
///
/// Exact unless [`approximate`](Trim::approximate): Redis then trims whole internal nodes
/// only, so it may keep more entries (the in-memory backend trims exactly either way).
///
/// ```
/// use cachex::stream::{StreamId, Trim};
///
/// let _keep_1000 = Trim::max_len(1000).approximate();
/// let _drop_old = Trim::min_id(StreamId::new(1_700_000_000_000, 0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trim {
    pub(crate) strategy: TrimTo,
    pub(crate) approximate: bool,
    pub(crate) limit: Option<u64>,
}

/// What a [`Trim`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrimTo {
    /// `MAXLEN`: the newest `n` entries.
    MaxLen(u64),
    /// `MINID`: the entries from this id on.
    MinId(StreamId),
}

impl Trim {
    /// Keep the newest `len` entries (`MAXLEN len`).
    pub fn max_len(len: u64) -> Trim {
        Trim {
            strategy: TrimTo::MaxLen(len),
            approximate: false,
            limit: None,
        }
    }

    /// Keep the entries whose id is `id` or greater (`MINID id`).
    pub fn min_id(id: StreamId) -> Trim {
        Trim {
            strategy: TrimTo::MinId(id),
            approximate: false,
            limit: None,
        }
    }

    /// Let the server trim less, for speed (`~`).
    pub fn approximate(self) -> Trim {
        Trim {
            approximate: true,
            ..self
        }
    }

    /// At most `limit` entries evicted per call (`LIMIT`, with
    /// [`approximate`](Self::approximate) only, as Redis requires).
    pub fn limit(self, limit: u64) -> Trim {
        Trim {
            limit: Some(limit),
            ..self
        }
    }
}

/// `xadd`'s options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XaddOptions {
    /// The entry's id; `None` lets the backend make one (`*`: now, after the last id).
    pub id: Option<StreamId>,
    /// Trimming done with the add.
    pub trim: Option<Trim>,
    /// Do not make a missing stream (`NOMKSTREAM`): `xadd` then adds nothing and answers
    /// `None`.
    pub nomkstream: bool,
}

/// How long a read waits for entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Block {
    /// Not at all (the default).
    #[default]
    No,
    /// Up to this long (`BLOCK ms`; rounded up to a millisecond).
    For(Duration),
    /// Until entries come (`BLOCK 0`).
    Forever,
}

/// `xread`'s and `xreadgroup`'s options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// At most this many entries per stream (`COUNT`).
    pub count: Option<u64>,
    /// Whether to wait for entries. A waiting read runs on a connection of its own on a
    /// server, as `blpop` does.
    pub block: Block,
    /// `xreadgroup` only: deliver without adding to the pending entries (`NOACK`).
    pub noack: bool,
}

/// A stream entry: its id and its fields in order, values decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamEntry<V> {
    /// The entry's id.
    pub id: StreamId,
    /// Field names and values, in the order they were added. Empty for an entry deleted
    /// while still pending in a consumer group (`xreadgroup` of a consumer's history).
    pub fields: Vec<(String, V)>,
}

impl<V> StreamEntry<V> {
    /// The value of `field`.
    pub fn get(&self, field: &str) -> Option<&V> {
        self.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value)
    }
}

/// What `xread` and `xreadgroup` answer: each stream that had entries, by the caller's key, in
/// the order of the request. Empty when nothing came.
pub type StreamReads<V> = Vec<(String, Vec<StreamEntry<V>>)>;

/// `xinfo_stream`'s answer.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamInfo<V> {
    /// The number of entries.
    pub length: u64,
    /// The greatest id ever added (deleted entries included).
    pub last_generated_id: StreamId,
    /// The greatest id deleted by `xdel` (not by trimming), `0-0` when none.
    pub max_deleted_entry_id: StreamId,
    /// How many entries were ever added.
    pub entries_added: u64,
    /// The number of consumer groups.
    pub groups: u64,
    /// The first entry.
    pub first_entry: Option<StreamEntry<V>>,
    /// The last entry.
    pub last_entry: Option<StreamEntry<V>>,
}

/// A consumer group (`xinfo_groups`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    /// Its name.
    pub name: String,
    /// How many consumers it has.
    pub consumers: u64,
    /// How many entries were delivered and not acknowledged.
    pub pending: u64,
    /// The last id delivered to the group.
    pub last_delivered_id: StreamId,
}

/// A consumer of a group (`xinfo_consumers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerInfo {
    /// Its name.
    pub name: String,
    /// How many entries it holds unacknowledged.
    pub pending: u64,
    /// How long since it last read or claimed.
    pub idle: Duration,
}

/// `xpending`'s summary of a group's pending entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingSummary {
    /// How many entries are pending.
    pub count: u64,
    /// The smallest pending id.
    pub smallest: Option<StreamId>,
    /// The greatest pending id.
    pub largest: Option<StreamId>,
    /// Each consumer with pending entries, and how many.
    pub consumers: Vec<(String, u64)>,
}

/// Which pending entries `xpending_range` lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRange {
    /// From this id (inclusive).
    pub start: StreamId,
    /// To this id (inclusive).
    pub end: StreamId,
    /// At most this many.
    pub count: u64,
    /// Only this consumer's.
    pub consumer: Option<String>,
    /// Only those idle at least this long (`IDLE`).
    pub min_idle: Option<Duration>,
}

impl PendingRange {
    /// The first `count` pending entries of the group, any consumer, any idle time.
    pub fn first(count: u64) -> PendingRange {
        PendingRange {
            start: StreamId::MIN,
            end: StreamId::MAX,
            count,
            consumer: None,
            min_idle: None,
        }
    }
}

/// A pending entry (`xpending_range`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEntry {
    /// The entry's id.
    pub id: StreamId,
    /// The consumer holding it.
    pub consumer: String,
    /// How long since it was last delivered.
    pub idle: Duration,
    /// How many times it was delivered.
    pub deliveries: u64,
}

/// `xclaim`'s options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClaimOptions {
    /// The idle time the claimed entries get (`IDLE`; default: zero).
    pub idle: Option<Duration>,
    /// The delivery count the claimed entries get (`RETRYCOUNT`; default: one more).
    pub retry_count: Option<u64>,
    /// Claim the given ids even when no consumer holds them, if they exist in the stream
    /// (`FORCE`).
    pub force: bool,
}

/// `xautoclaim`'s answer.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoClaim<V> {
    /// Where the next call should start (`0-0` when the scan is complete).
    pub next: StreamId,
    /// The entries claimed.
    pub claimed: Vec<StreamEntry<V>>,
    /// Pending ids whose entry was deleted from the stream (removed from the pending list).
    pub deleted: Vec<StreamId>,
}
