//! List commands on the in-memory store, blocking pops included.

use std::time::Duration;

use bytes::Bytes;

use super::data::List;
use super::{Apply, Memory, count, index, index_range};
use crate::backend::command::{
    Blpop, Brpop, Lindex, Llen, Lpop, Lpush, Lrange, Lrem, Lset, Ltrim, Rpop, Rpush,
};
use crate::{Error, Result};

/// Which end of a list.
#[derive(Clone, Copy)]
enum End {
    Left,
    Right,
}

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

/// `BLPOP`/`BRPOP`: waits for an item, woken by every push; `None` when `timeout` runs out
/// first (`None`: never).
async fn blocking_pop(
    memory: Memory,
    keys: Vec<String>,
    end: End,
    timeout: Option<Duration>,
) -> Result<Option<(Vec<u8>, Bytes)>> {
    memory
        .wait_for(timeout, "blocking pop", move |memory| {
            pop_first(memory, &keys, end)
        })
        .await
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
                blocking_pop(memory.clone(), self.keys, $end, self.timeout)
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
