//! Stream commands on the in-memory store: entries in id order, the last id, consumer groups
//! with their pending entries (owner, delivery count, delivery time), consumers' idle times,
//! claims, and blocking reads; Redis's semantics and refusals (`BUSYGROUP`, `NOGROUP`, ids
//! not above the top item, ...).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;

use super::{Apply, Instant, Memory, count, unix_millis_now};
use crate::backend::command::{
    Consumers, Groups, Pending, RawAutoClaim, RawEntry, RawStreamInfo, Streams, Summary, Xack,
    Xadd, Xautoclaim, Xclaim, Xdel, XgroupCreate, XgroupDelConsumer, XgroupDestroy, XgroupSetId,
    XinfoConsumers, XinfoGroups, XinfoStream, Xlen, XpendingRange, XpendingSummary, Xrange, Xread,
    XreadBlock, XreadGroup, XreadGroupBlock, Xrevrange, Xtrim,
};
use crate::stream::{
    ConsumerInfo, GroupInfo, PendingEntry, PendingSummary, ReadFrom, StreamId, Trim, TrimTo,
};
use crate::{Error, Result};

/// An entry's fields and encoded values.
type Fields = Vec<(Vec<u8>, Bytes)>;

/// A stream's entries in id order.
type Entries = BTreeMap<StreamId, Fields>;

/// A stream: entries by id, the last id ever made, and consumer groups by name.
#[derive(Default)]
pub(in crate::backend::memory) struct Stream {
    entries: Entries,
    last_id: StreamId,
    max_deleted: StreamId,
    entries_added: u64,
    groups: BTreeMap<String, Group>,
}

/// A consumer group: the last id delivered, the pending entries, the consumers.
struct Group {
    last_delivered: StreamId,
    pending: BTreeMap<StreamId, Delivery>,
    consumers: BTreeMap<String, Instant>,
}

/// A pending entry: who holds it, when it was last delivered, how many times.
struct Delivery {
    consumer: String,
    at: Instant,
    count: u64,
}

impl Stream {
    /// Its length, last id and how many entries were ever added (`RawData::Stream`).
    pub(super) fn counts(&self) -> (u64, StreamId, u64) {
        (self.entries.len() as u64, self.last_id, self.entries_added)
    }

    /// The bytes it stores: fields and values.
    pub(super) fn size(&self) -> usize {
        self.entries
            .values()
            .flatten()
            .map(|(field, value)| field.len() + value.len())
            .sum()
    }

    /// An entry as a reply.
    fn entry(&self, id: StreamId) -> Option<RawEntry> {
        self.entries.get(&id).map(|fields| RawEntry {
            id,
            fields: fields.clone(),
        })
    }

    /// Removes entries; how many were there. `XDEL` (`deleted`) keeps the greatest id it
    /// removed, trimming does not (as Redis).
    fn remove(&mut self, ids: impl IntoIterator<Item = StreamId>, deleted: bool) -> u64 {
        let mut removed = 0;
        for id in ids {
            if self.entries.remove(&id).is_some() {
                removed += 1;
                if deleted {
                    self.max_deleted = self.max_deleted.max(id);
                }
            }
        }
        removed
    }

    /// Trims as `trim` says; how many entries were removed.
    fn trim(&mut self, trim: Trim) -> Result<u64> {
        if trim.limit.is_some() && !trim.approximate {
            return Err(Error::invalid_argument(
                "a trimming LIMIT needs an approximate trim".to_owned(),
            ));
        }
        let limit = trim.limit.filter(|limit| *limit > 0).unwrap_or(u64::MAX);
        let doomed: Vec<StreamId> = match trim.strategy {
            TrimTo::MaxLen(len) => {
                let excess = count(self.entries.len()).saturating_sub(len);
                self.entries
                    .keys()
                    .take(usize::try_from(excess.min(limit)).unwrap_or(usize::MAX))
                    .copied()
                    .collect()
            }
            TrimTo::MinId(min) => self
                .entries
                .range(..min)
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .map(|(id, _)| *id)
                .collect(),
        };
        Ok(self.remove(doomed, false))
    }

    /// The id `XADD` gives a new entry: the one asked for, or now (after the last id).
    fn new_id(&self, asked: Option<StreamId>) -> Result<StreamId> {
        match asked {
            Some(StreamId::MIN) => Err(Error::invalid_argument(
                "the ID specified in XADD must be greater than 0-0".to_owned(),
            )),
            Some(id) if id <= self.last_id => Err(Error::invalid_argument(
                "the ID specified in XADD is equal or smaller than the target stream top item"
                    .to_owned(),
            )),
            Some(id) => Ok(id),
            None => {
                let now = u64::try_from(unix_millis_now()).unwrap_or(0);
                if now > self.last_id.ms {
                    Ok(StreamId::new(now, 0))
                } else {
                    self.last_id.next().ok_or_else(|| {
                        Error::invalid_argument("the stream has exhausted its ids".to_owned())
                    })
                }
            }
        }
    }

    /// Entries after `after`, at most `limit`.
    fn after(&self, after: StreamId, limit: Option<u64>) -> Vec<RawEntry> {
        let Some(from) = after.next() else {
            return Vec::new();
        };
        self.entries
            .range(from..)
            .take(take(limit))
            .map(|(id, fields)| RawEntry {
                id: *id,
                fields: fields.clone(),
            })
            .collect()
    }

    /// The group `name`, or `NOGROUP`.
    fn group(&mut self, key: &str, name: &str) -> Result<&mut Group> {
        self.groups.get_mut(name).ok_or_else(|| no_group(key, name))
    }
}

/// How many items a `COUNT` lets through (`None`: all).
fn take(limit: Option<u64>) -> usize {
    limit.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Redis's `NOGROUP`.
fn no_group(key: &str, group: &str) -> Error {
    Error::NoGroup {
        key: key.to_owned(),
        detail: format!("NOGROUP No such key or consumer group {group:?}"),
    }
}

/// The whole milliseconds of a duration.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// How long since `at`.
fn since(at: Instant) -> Duration {
    Instant::now().saturating_duration_since(at)
}

impl Group {
    /// Marks `consumer` as seen now, making it if it is new.
    fn seen(&mut self, consumer: &str) {
        self.consumers.insert(consumer.to_owned(), Instant::now());
    }

    /// Gives the pending entry `id` to `consumer`, delivered `idle` ago, `count` times.
    fn deliver(&mut self, id: StreamId, consumer: &str, idle: Duration, count: u64) {
        let at = Instant::now()
            .checked_sub(idle)
            .unwrap_or_else(Instant::now);
        self.pending.insert(
            id,
            Delivery {
                consumer: consumer.to_owned(),
                at,
                count,
            },
        );
    }
}

impl Apply for Xadd {
    fn apply(self, memory: &Memory) -> Result<Option<StreamId>> {
        let Self {
            key,
            nomkstream,
            trim,
            id,
            fields,
        } = self;
        let added = memory.modify(&key, !nomkstream, |stream: &mut Stream| {
            let id = stream.new_id(id)?;
            let fields = fields
                .into_iter()
                .map(|(field, value)| (field, Bytes::from(value)))
                .collect();
            stream.entries.insert(id, fields);
            stream.last_id = id;
            stream.entries_added += 1;
            if let Some(trim) = trim {
                stream.trim(trim)?;
            }
            Ok(id)
        })?;
        memory.pushes.notify_waiters();
        Ok(added)
    }
}

impl Apply for Xlen {
    fn apply(self, memory: &Memory) -> Result<u64> {
        memory.read(&self.key, |stream: &Stream| count(stream.entries.len()))
    }
}

/// `XRANGE`/`XREVRANGE`: entries from `start` to `end` inclusive, newest first when `reverse`.
fn range(
    memory: &Memory,
    key: &str,
    start: StreamId,
    end: StreamId,
    limit: Option<u64>,
    reverse: bool,
) -> Result<Vec<RawEntry>> {
    memory.read(key, |stream: &Stream| {
        if start > end {
            return Vec::new();
        }
        let found = stream.entries.range(start..=end);
        let entry = |(id, fields): (&StreamId, &Fields)| RawEntry {
            id: *id,
            fields: fields.clone(),
        };
        if reverse {
            found.rev().take(take(limit)).map(entry).collect()
        } else {
            found.take(take(limit)).map(entry).collect()
        }
    })
}

impl Apply for Xrange {
    fn apply(self, memory: &Memory) -> Result<Vec<RawEntry>> {
        range(memory, &self.key, self.start, self.end, self.count, false)
    }
}

impl Apply for Xrevrange {
    fn apply(self, memory: &Memory) -> Result<Vec<RawEntry>> {
        range(memory, &self.key, self.start, self.end, self.count, true)
    }
}

/// `XREAD`'s positions with `$` made the streams' last ids now (a missing stream's is 0-0);
/// `>` is refused.
fn resolve(memory: &Memory, keys: &[String], from: &[ReadFrom]) -> Result<Vec<StreamId>> {
    keys.iter()
        .zip(from)
        .map(|(key, from)| match from {
            ReadFrom::After(id) => Ok(*id),
            ReadFrom::Latest => memory.read(key, |stream: &Stream| stream.last_id),
            ReadFrom::Undelivered => Err(Error::invalid_argument(
                "the > ID can be specified only when calling XREADGROUP".to_owned(),
            )),
        })
        .collect()
}

/// `XREAD` now: the streams with entries after their id; `None` when none has any.
fn read_now(
    memory: &Memory,
    keys: &[String],
    after: &[StreamId],
    limit: Option<u64>,
) -> Result<Option<Streams>> {
    let mut streams = Vec::new();
    for (key, after) in keys.iter().zip(after) {
        let entries = memory.read(key, |stream: &Stream| stream.after(*after, limit))?;
        if !entries.is_empty() {
            streams.push((key.clone().into_bytes(), entries));
        }
    }
    Ok((!streams.is_empty()).then_some(Streams(streams)))
}

impl Apply for Xread {
    fn apply(self, memory: &Memory) -> Result<Streams> {
        let after = resolve(memory, &self.keys, &self.from)?;
        Ok(read_now(memory, &self.keys, &after, self.count)?.unwrap_or_default())
    }
}

impl Apply for XreadBlock {
    fn apply(self, memory: &Memory) -> Result<Streams> {
        Xread {
            keys: self.keys,
            from: self.from,
            count: self.count,
        }
        .apply(memory)
    }

    fn apply_waiting(self, memory: &Memory) -> impl Future<Output = Result<Streams>> + Send {
        let Self {
            keys,
            from,
            count,
            wait,
        } = self;
        let resolved = resolve(memory, &keys, &from);
        let memory = memory.clone();
        async move {
            let after = resolved?;
            let read = memory.wait_for(wait, "blocking stream read", move |memory| {
                read_now(memory, &keys, &after, count)
            });
            Ok(read.await?.unwrap_or_default())
        }
    }
}

impl Apply for Xtrim {
    fn apply(self, memory: &Memory) -> Result<u64> {
        let removed = memory.modify(&self.key, false, |stream: &mut Stream| {
            stream.trim(self.trim)
        })?;
        Ok(removed.unwrap_or(0))
    }
}

impl Apply for Xdel {
    fn apply(self, memory: &Memory) -> Result<u64> {
        let removed = memory.modify(&self.key, false, |stream: &mut Stream| {
            Ok(stream.remove(self.ids, true))
        })?;
        Ok(removed.unwrap_or(0))
    }
}

/// Runs `change` on the stream at `key`; a missing stream is `missing`'s error.
fn on_stream<R>(
    memory: &Memory,
    key: &str,
    missing: impl FnOnce() -> Error,
    change: impl FnOnce(&mut Stream) -> Result<R>,
) -> Result<R> {
    memory.modify(key, false, change)?.ok_or_else(missing)
}

/// Runs `change` on the entries and the group `group` of the stream at `key`; a missing
/// stream or group is `NOGROUP`.
fn on_group<R>(
    memory: &Memory,
    key: &str,
    group: &str,
    change: impl FnOnce(&Entries, &mut Group) -> Result<R>,
) -> Result<R> {
    on_stream(
        memory,
        key,
        || no_group(key, group),
        |stream| {
            let Stream {
                entries, groups, ..
            } = stream;
            let found = groups.get_mut(group).ok_or_else(|| no_group(key, group))?;
            change(entries, found)
        },
    )
}

/// Redis's refusal of an `XINFO`/`XGROUP` on a missing key.
fn no_key(key: &str) -> impl FnOnce() -> Error + '_ {
    move || Error::NotFound {
        key: key.to_owned(),
    }
}

impl Apply for XinfoStream {
    fn apply(self, memory: &Memory) -> Result<RawStreamInfo> {
        on_stream(memory, &self.key, no_key(&self.key), |stream| {
            let first = stream.entries.keys().next().copied();
            let last = stream.entries.keys().next_back().copied();
            Ok(RawStreamInfo {
                length: count(stream.entries.len()),
                last_generated_id: stream.last_id,
                max_deleted_entry_id: stream.max_deleted,
                entries_added: stream.entries_added,
                groups: count(stream.groups.len()),
                first_entry: first.and_then(|id| stream.entry(id)),
                last_entry: last.and_then(|id| stream.entry(id)),
            })
        })
    }
}

impl Apply for XinfoGroups {
    fn apply(self, memory: &Memory) -> Result<Groups> {
        on_stream(memory, &self.key, no_key(&self.key), |stream| {
            Ok(Groups(
                stream
                    .groups
                    .iter()
                    .map(|(name, group)| GroupInfo {
                        name: name.clone(),
                        consumers: count(group.consumers.len()),
                        pending: count(group.pending.len()),
                        last_delivered_id: group.last_delivered,
                    })
                    .collect(),
            ))
        })
    }
}

impl Apply for XinfoConsumers {
    fn apply(self, memory: &Memory) -> Result<Consumers> {
        let Self { key, group } = self;
        on_stream(memory, &key, no_key(&key), |stream| {
            let group = stream.group(&key, &group)?;
            Ok(Consumers(
                group
                    .consumers
                    .iter()
                    .map(|(name, seen)| ConsumerInfo {
                        name: name.clone(),
                        pending: count(
                            group
                                .pending
                                .values()
                                .filter(|delivery| &delivery.consumer == name)
                                .count(),
                        ),
                        idle: since(*seen),
                    })
                    .collect(),
            ))
        })
    }
}

/// A group's last delivered id for `XGROUP CREATE`/`SETID`: an id, or the last id (`$`).
fn group_start(stream: &Stream, start: ReadFrom) -> Result<StreamId> {
    match start {
        ReadFrom::After(id) => Ok(id),
        ReadFrom::Latest => Ok(stream.last_id),
        ReadFrom::Undelivered => Err(Error::invalid_argument(
            "invalid stream ID specified as stream command argument (>)".to_owned(),
        )),
    }
}

impl Apply for XgroupCreate {
    fn apply(self, memory: &Memory) -> Result<()> {
        let Self {
            key,
            group,
            start,
            mkstream,
        } = self;
        let created = memory.modify(&key, mkstream, |stream: &mut Stream| {
            let last_delivered = group_start(stream, start)?;
            if stream.groups.contains_key(&group) {
                return Err(Error::GroupExists {
                    key: key.clone(),
                    detail: "BUSYGROUP Consumer Group name already exists".to_owned(),
                });
            }
            stream.groups.insert(
                group,
                Group {
                    last_delivered,
                    pending: BTreeMap::new(),
                    consumers: BTreeMap::new(),
                },
            );
            Ok(())
        })?;
        created.ok_or_else(no_key(&key))
    }
}

impl Apply for XgroupDestroy {
    fn apply(self, memory: &Memory) -> Result<bool> {
        on_stream(memory, &self.key, no_key(&self.key), |stream| {
            Ok(stream.groups.remove(&self.group).is_some())
        })
    }
}

impl Apply for XgroupSetId {
    fn apply(self, memory: &Memory) -> Result<()> {
        let Self { key, group, start } = self;
        on_stream(memory, &key, no_key(&key), |stream| {
            let last_delivered = group_start(stream, start)?;
            stream.group(&key, &group)?.last_delivered = last_delivered;
            Ok(())
        })
    }
}

impl Apply for XgroupDelConsumer {
    fn apply(self, memory: &Memory) -> Result<u64> {
        let Self {
            key,
            group,
            consumer,
        } = self;
        on_stream(memory, &key, no_key(&key), |stream| {
            let group = stream.group(&key, &group)?;
            let before = group.pending.len();
            group
                .pending
                .retain(|_, delivery| delivery.consumer != consumer);
            group.consumers.remove(&consumer);
            Ok(count(before - group.pending.len()))
        })
    }
}

/// One `XREADGROUP`, as its rows carry it.
struct GroupRead {
    group: String,
    consumer: String,
    keys: Vec<String>,
    from: Vec<ReadFrom>,
    count: Option<u64>,
    noack: bool,
}

impl GroupRead {
    /// Refuses `$`, and streams or groups that do not exist (`NOGROUP`), before reading.
    fn check(&self, memory: &Memory) -> Result<()> {
        if self.from.contains(&ReadFrom::Latest) {
            return Err(Error::invalid_argument(
                "the $ ID is meaningless in the context of XREADGROUP".to_owned(),
            ));
        }
        for key in &self.keys {
            let exists = memory.read(key, |stream: &Stream| {
                stream.groups.contains_key(&self.group)
            })?;
            if !exists {
                return Err(no_group(key, &self.group));
            }
        }
        Ok(())
    }

    /// Reads now: new entries (`>`) become pending for the consumer (unless `noack`); an id
    /// reads the consumer's own pending entries after it, delivered once more. `None` when no
    /// stream answered (only `>` reads can answer nothing).
    fn read(&self, memory: &Memory) -> Result<Option<Streams>> {
        self.check(memory)?;
        let mut streams = Vec::new();
        for (key, from) in self.keys.iter().zip(&self.from) {
            let read = on_stream(
                memory,
                key,
                || no_group(key, &self.group),
                |stream| {
                    let entries = match *from {
                        ReadFrom::After(after) => self.history(stream, key, after)?,
                        _ => self.undelivered(stream, key)?,
                    };
                    Ok((matches!(from, ReadFrom::After(_)) || !entries.is_empty())
                        .then_some(entries))
                },
            )?;
            if let Some(entries) = read {
                streams.push((key.clone().into_bytes(), entries));
            }
        }
        Ok((!streams.is_empty()).then_some(Streams(streams)))
    }

    /// `>`: entries after the group's last delivered id.
    fn undelivered(&self, stream: &mut Stream, key: &str) -> Result<Vec<RawEntry>> {
        let group = stream
            .groups
            .get(&self.group)
            .ok_or_else(|| no_group(key, &self.group))?;
        let entries = stream.after(group.last_delivered, self.count);
        let group = stream.group(key, &self.group)?;
        group.seen(&self.consumer);
        for entry in &entries {
            group.last_delivered = entry.id;
            if !self.noack {
                group.deliver(entry.id, &self.consumer, Duration::ZERO, 1);
            }
        }
        Ok(entries)
    }

    /// An id: the consumer's pending entries after it (a deleted one without fields).
    fn history(&self, stream: &mut Stream, key: &str, after: StreamId) -> Result<Vec<RawEntry>> {
        let Some(from) = after.next() else {
            return Ok(Vec::new());
        };
        let Stream {
            entries, groups, ..
        } = stream;
        let group = groups
            .get_mut(&self.group)
            .ok_or_else(|| no_group(key, &self.group))?;
        group.seen(&self.consumer);
        let mut read = Vec::new();
        for (id, delivery) in group.pending.range_mut(from..) {
            if read.len() >= take(self.count) {
                break;
            }
            if delivery.consumer != self.consumer {
                continue;
            }
            let fields = match entries.get(id) {
                Some(fields) => {
                    delivery.at = Instant::now();
                    delivery.count += 1;
                    fields.clone()
                }
                None => Vec::new(),
            };
            read.push(RawEntry { id: *id, fields });
        }
        Ok(read)
    }
}

impl Apply for XreadGroup {
    fn apply(self, memory: &Memory) -> Result<Streams> {
        let read = GroupRead {
            group: self.group,
            consumer: self.consumer,
            keys: self.keys,
            from: self.from,
            count: self.count,
            noack: self.noack,
        };
        Ok(read.read(memory)?.unwrap_or_default())
    }
}

impl Apply for XreadGroupBlock {
    fn apply(self, memory: &Memory) -> Result<Streams> {
        XreadGroup {
            group: self.group,
            consumer: self.consumer,
            keys: self.keys,
            from: self.from,
            count: self.count,
            noack: self.noack,
        }
        .apply(memory)
    }

    fn apply_waiting(self, memory: &Memory) -> impl Future<Output = Result<Streams>> + Send {
        let wait = self.wait;
        let read = GroupRead {
            group: self.group,
            consumer: self.consumer,
            keys: self.keys,
            from: self.from,
            count: self.count,
            noack: self.noack,
        };
        let checked = read.check(memory);
        let waiting = memory.wait_for(wait, "blocking group read", move |memory| read.read(memory));
        async move {
            checked?;
            Ok(waiting.await?.unwrap_or_default())
        }
    }
}

impl Apply for Xack {
    fn apply(self, memory: &Memory) -> Result<u64> {
        let Self { key, group, ids } = self;
        let acked = memory.modify(&key, false, |stream: &mut Stream| {
            Ok(match stream.groups.get_mut(&group) {
                Some(group) => count(
                    ids.iter()
                        .filter(|id| group.pending.remove(id).is_some())
                        .count(),
                ),
                None => 0,
            })
        })?;
        Ok(acked.unwrap_or(0))
    }
}

impl Apply for XpendingSummary {
    fn apply(self, memory: &Memory) -> Result<Summary> {
        let Self { key, group } = self;
        on_group(memory, &key, &group, |_, group| {
            let mut consumers: BTreeMap<&str, u64> = BTreeMap::new();
            for delivery in group.pending.values() {
                *consumers.entry(&delivery.consumer).or_default() += 1;
            }
            Ok(Summary(PendingSummary {
                count: count(group.pending.len()),
                smallest: group.pending.keys().next().copied(),
                largest: group.pending.keys().next_back().copied(),
                consumers: consumers
                    .into_iter()
                    .map(|(name, n)| (name.to_owned(), n))
                    .collect(),
            }))
        })
    }
}

impl Apply for XpendingRange {
    fn apply(self, memory: &Memory) -> Result<Pending> {
        let Self {
            key,
            group,
            min_idle_ms,
            start,
            end,
            count: limit,
            consumer,
        } = self;
        on_group(memory, &key, &group, |_, group| {
            if start > end {
                return Ok(Pending(Vec::new()));
            }
            let pending = group
                .pending
                .range(start..=end)
                .filter(|(_, delivery)| {
                    consumer
                        .as_ref()
                        .is_none_or(|consumer| &delivery.consumer == consumer)
                })
                .map(|(id, delivery)| PendingEntry {
                    id: *id,
                    consumer: delivery.consumer.clone(),
                    idle: since(delivery.at),
                    deliveries: delivery.count,
                })
                .filter(|entry| min_idle_ms.is_none_or(|min| millis(entry.idle) >= min))
                .take(take(Some(limit)))
                .collect();
            Ok(Pending(pending))
        })
    }
}

impl Apply for Xclaim {
    fn apply(self, memory: &Memory) -> Result<Vec<RawEntry>> {
        let Self {
            key,
            group,
            consumer,
            min_idle_ms,
            ids,
            idle_ms,
            retry_count,
            force,
        } = self;
        on_group(memory, &key, &group, |entries, group| {
            let idle = Duration::from_millis(idle_ms.unwrap_or(0));
            let mut claimed = Vec::new();
            for id in ids {
                let deliveries = match group.pending.get(&id) {
                    None if force && entries.contains_key(&id) => 0,
                    None => continue,
                    Some(delivery) => {
                        if min_idle_ms > 0 && millis(since(delivery.at)) < min_idle_ms {
                            continue;
                        }
                        delivery.count
                    }
                };
                let Some(fields) = entries.get(&id) else {
                    group.pending.remove(&id);
                    continue;
                };
                group.seen(&consumer);
                let deliveries = retry_count.unwrap_or(deliveries + 1);
                group.deliver(id, &consumer, idle, deliveries);
                claimed.push(RawEntry {
                    id,
                    fields: fields.clone(),
                });
            }
            Ok(claimed)
        })
    }
}

/// How many pending entries `XAUTOCLAIM` looks at per entry it may answer.
const AUTOCLAIM_ATTEMPTS: u64 = 10;

impl Apply for Xautoclaim {
    fn apply(self, memory: &Memory) -> Result<RawAutoClaim> {
        let Self {
            key,
            group,
            consumer,
            min_idle_ms,
            start,
            count: limit,
        } = self;
        let limit = limit.unwrap_or(100);
        on_group(memory, &key, &group, |entries, group| {
            group.seen(&consumer);
            let mut left = limit;
            let mut attempts = limit.saturating_mul(AUTOCLAIM_ATTEMPTS);
            let mut claimed = Vec::new();
            let mut deleted = Vec::new();
            let candidates: Vec<StreamId> =
                group.pending.range(start..).map(|(id, _)| *id).collect();
            let mut examined = 0;
            for id in &candidates {
                if attempts == 0 || left == 0 {
                    break;
                }
                attempts -= 1;
                examined += 1;
                let Some(fields) = entries.get(id) else {
                    group.pending.remove(id);
                    deleted.push(*id);
                    left -= 1;
                    continue;
                };
                let Some(delivery) = group.pending.get(id) else {
                    continue;
                };
                if min_idle_ms > 0 && millis(since(delivery.at)) < min_idle_ms {
                    continue;
                }
                let deliveries = delivery.count + 1;
                group.deliver(*id, &consumer, Duration::ZERO, deliveries);
                claimed.push(RawEntry {
                    id: *id,
                    fields: fields.clone(),
                });
                left -= 1;
            }
            let next = candidates.get(examined).copied().unwrap_or(StreamId::MIN);
            Ok(RawAutoClaim {
                next,
                claimed,
                deleted,
            })
        })
    }
}
