//! List commands on the in-memory store, blocking pops included.

use bytes::Bytes;

use super::data::List;
use super::{Apply, Memory, count, index, index_range};
use crate::backend::command::{
    Blmove, Blpop, Brpop, Lindex, Linsert, Llen, Lmove, Lpop, LpopCount, Lpos, LposCount, Lpush,
    Lrange, Lrem, Lset, Ltrim, Rpop, RpopCount, Rpush,
};
use crate::ops::{InsertAt, ListEnd as End};
use crate::{Error, Result};

/// `LPUSH`/`RPUSH`: the new length. Wakes the blocking pops.
fn push(memory: &Memory, key: String, values: Vec<Vec<u8>>, end: End) -> Result<u64> {
    let len = memory.modify(&key, true, |list: &mut List| {
        for value in values {
            let value = Bytes::from(value);
            match end {
                End::Left => list.push_front(value),
                End::Right => list.push_back(value),
            }
        }
        Ok(list.len())
    })?;
    memory.pushes.notify_waiters();
    Ok(count(len.unwrap_or(0)))
}

/// Pops from one end of the list at `key`.
fn pop_at(memory: &Memory, key: &str, end: End) -> Result<Option<Bytes>> {
    let popped = memory.modify(key, false, |list: &mut List| {
        Ok(match end {
            End::Left => list.pop_front(),
            End::Right => list.pop_back(),
        })
    })?;
    Ok(popped.flatten())
}

/// `LPOP`/`RPOP`.
fn pop(memory: &Memory, key: String, end: End) -> Result<Option<Bytes>> {
    pop_at(memory, &key, end)
}

/// Pops from the first of `keys` whose list has items: that key and the value.
fn pop_first(memory: &Memory, keys: &[String], end: End) -> Result<Option<(Vec<u8>, Bytes)>> {
    for key in keys {
        if let Some(value) = pop_at(memory, key, end)? {
            return Ok(Some((key.clone().into_bytes(), value)));
        }
    }
    Ok(None)
}

variants! {
    push(key, values) {
        Lpush => (End::Left),
        Rpush => (End::Right),
    }
}

variants! {
    pop(key) {
        Lpop => (End::Left),
        Rpop => (End::Right),
    }
}

/// Implements [`Apply`] for a blocking pop from one end of the lists.
macro_rules! blocking_pop {
    ($($command:ident => $end:expr),+) => {$(
        impl Apply for $command {
            /// Pops now, from the first list with items; `None` when all are empty.
            fn apply(self, memory: &Memory) -> Result<Self::Output> {
                pop_first(memory, &self.keys, $end)
            }

            fn apply_waiting(
                self,
                memory: &Memory,
            ) -> impl Future<Output = Result<Self::Output>> + Send {
                let keys = self.keys;
                memory.wait_for(self.timeout, "blocking pop", move |memory| {
                    let _shared = memory
                        .gate
                        .shared(|visit| keys.iter().for_each(|key| visit(key)));
                    pop_first(memory, &keys, $end)
                })
            }
        }
    )+};
}

blocking_pop!(Blpop => End::Left, Brpop => End::Right);

impl Apply for Lrange {
    fn apply(self, memory: &Memory) -> Result<Vec<Bytes>> {
        memory.read(&self.key, |list: &List| {
            match index_range(list.len(), self.start, self.stop) {
                Some((first, last)) => list.range(first..=last).cloned().collect(),
                None => Vec::new(),
            }
        })
    }
}

impl Apply for Lindex {
    fn apply(self, memory: &Memory) -> Result<Option<Bytes>> {
        memory.read(&self.key, |list: &List| {
            index(list.len(), self.index).and_then(|at| list.get(at).cloned())
        })
    }
}

impl Apply for Llen {
    fn apply(self, memory: &Memory) -> Result<u64> {
        Ok(count(memory.read(&self.key, List::len)?))
    }
}

/// `LREM`: removes up to `count` items equal to `value` from the head (`count > 0`), the tail
/// (`count < 0`) or everywhere (`0`); how many were removed.
fn remove_from(list: &mut List, count: i64, value: &[u8]) -> usize {
    let limit = match count {
        0 => usize::MAX,
        count => usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX),
    };
    let matching = list
        .iter()
        .enumerate()
        .filter(|(_, item)| item.as_ref() == value)
        .map(|(at, _)| at);
    let mut positions: Vec<usize> = if count < 0 {
        matching.rev().take(limit).collect()
    } else {
        matching.take(limit).collect()
    };
    positions.sort_unstable();
    for at in positions.iter().rev() {
        list.remove(*at);
    }
    positions.len()
}

impl Apply for Lrem {
    fn apply(self, memory: &Memory) -> Result<u64> {
        let removed = memory.modify(&self.key, false, |list: &mut List| {
            Ok(remove_from(list, self.count, &self.value))
        })?;
        Ok(count(removed.unwrap_or(0)))
    }
}

impl Apply for Ltrim {
    fn apply(self, memory: &Memory) -> Result<()> {
        memory.modify(&self.key, false, |list: &mut List| {
            match index_range(list.len(), self.start, self.stop) {
                Some((first, last)) => {
                    list.truncate(last + 1);
                    list.drain(..first);
                }
                None => list.clear(),
            }
            Ok(())
        })?;
        Ok(())
    }
}

impl Apply for Lset {
    fn apply(self, memory: &Memory) -> Result<()> {
        let Self {
            key,
            index: at,
            value,
        } = self;
        let set = memory.modify(&key, false, |list: &mut List| {
            match index(list.len(), at).and_then(|at| list.get_mut(at)) {
                Some(item) => {
                    *item = Bytes::from(value);
                    Ok(())
                }
                None => Err(Error::invalid_argument("index out of range".to_owned())),
            }
        })?;
        set.ok_or(Error::NotFound { key })
    }
}

/// `LPOP`/`RPOP key count`: up to `count` items from one end; `None` for a missing key.
fn pop_count(memory: &Memory, key: String, count: u64, end: End) -> Result<Option<Vec<Bytes>>> {
    memory.modify(&key, false, |list: &mut List| {
        let count = usize::try_from(count).unwrap_or(usize::MAX).min(list.len());
        Ok(match end {
            End::Left => list.drain(..count).collect(),
            End::Right => list.drain(list.len() - count..).rev().collect(),
        })
    })
}

variants! {
    pop_count(key, count) {
        LpopCount => (End::Left),
        RpopCount => (End::Right),
    }
}

/// `LPOS key value [COUNT c] [RANK r] [MAXLEN m]`: the indexes of up to `count` matches (0:
/// all), from the `rank`-th one (negative: counting from the tail), looking at the first
/// `maxlen` items only (0: all) from that end. A zero rank is refused by the cache layer.
fn positions(
    list: &List,
    value: &[u8],
    rank: Option<i64>,
    count: u64,
    maxlen: Option<u64>,
) -> Vec<u64> {
    let rank = rank.unwrap_or(1);
    let skip = usize::try_from(rank.unsigned_abs().saturating_sub(1)).unwrap_or(usize::MAX);
    let maxlen = match maxlen {
        None | Some(0) => usize::MAX,
        Some(maxlen) => usize::try_from(maxlen).unwrap_or(usize::MAX),
    };
    let count = match count {
        0 => usize::MAX,
        count => usize::try_from(count).unwrap_or(usize::MAX),
    };
    let indexes: Box<dyn Iterator<Item = usize>> = if rank < 0 {
        Box::new((0..list.len()).rev())
    } else {
        Box::new(0..list.len())
    };
    indexes
        .take(maxlen)
        .filter(|at| list[*at].as_ref() == value)
        .skip(skip)
        .take(count)
        .map(super::count)
        .collect()
}

impl Apply for Lpos {
    fn apply(self, memory: &Memory) -> Result<Option<u64>> {
        memory.read(&self.key, |list: &List| {
            positions(list, &self.value, self.rank, 1, self.maxlen)
                .first()
                .copied()
        })
    }
}

impl Apply for LposCount {
    fn apply(self, memory: &Memory) -> Result<Vec<u64>> {
        memory.read(&self.key, |list: &List| {
            positions(list, &self.value, self.rank, self.count, self.maxlen)
        })
    }
}

/// `LMOVE source destination from to`: pops at one end of `source` and pushes at one end of
/// `destination` (a destination of another type is an error before anything moves). Wakes
/// the blocking pops.
fn move_item(
    memory: &Memory,
    source: &str,
    destination: &str,
    from: End,
    to: End,
) -> Result<Option<Bytes>> {
    memory.read(destination, |_: &List| ())?;
    let Some(item) = pop_at(memory, source, from)? else {
        return Ok(None);
    };
    push(memory, destination.to_owned(), vec![item.to_vec()], to)?;
    Ok(Some(item))
}

impl Apply for Lmove {
    fn apply(self, memory: &Memory) -> Result<Option<Bytes>> {
        move_item(memory, &self.source, &self.destination, self.from, self.to)
    }
}

impl Apply for Blmove {
    /// Moves now; `None` when the source is empty.
    fn apply(self, memory: &Memory) -> Result<Option<Bytes>> {
        move_item(memory, &self.source, &self.destination, self.from, self.to)
    }

    fn apply_waiting(self, memory: &Memory) -> impl Future<Output = Result<Self::Output>> + Send {
        let Self {
            source,
            destination,
            from,
            to,
            timeout,
        } = self;
        memory.wait_for(timeout, "blocking move", move |memory| {
            let _shared = memory.gate.shared(|visit| {
                [&source, &destination]
                    .into_iter()
                    .for_each(|key| visit(key))
            });
            move_item(memory, &source, &destination, from, to)
        })
    }
}

impl Apply for Linsert {
    fn apply(self, memory: &Memory) -> Result<i64> {
        let Self {
            key,
            at,
            pivot,
            value,
        } = self;
        let inserted = memory.modify(&key, false, |list: &mut List| {
            let Some(found) = list.iter().position(|item| item.as_ref() == pivot) else {
                return Ok(-1);
            };
            let at = match at {
                InsertAt::Before => found,
                InsertAt::After => found + 1,
            };
            list.insert(at, Bytes::from(value));
            Ok(i64::try_from(list.len()).unwrap_or(i64::MAX))
        })?;
        memory.pushes.notify_waiters();
        Ok(inserted.unwrap_or(0))
    }
}
