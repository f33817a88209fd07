//! Key commands on the in-memory store: existence, deletion, expiry, type, renames, scans,
//! and the lock scripts' semantics.

use std::time::Duration;

use super::map::Op;

use super::data::{Data, lock};
use super::{
    Apply, Entry, Instant, Memory, count, millis_left, unix_millis_at, unix_millis_now, weight,
};
use crate::backend::command::{
    Del, DeleteIfEquals, Eval, Exists, ExpireIfEquals, FlushDb, GetPttl, InfoReply, MemoryUsage,
    MgetPttl, Persist, PersistExisting, Pexpire, PexpireAt, PexpireTime, Pttl, Rename, RenameNx,
    Scan, ServerInfo, SlowlogGet, SlowlogLen, Type, TypeOf, Unlink,
};
use crate::backend::glob;
use crate::ops::SlowlogEntry;
use crate::script::ScriptReply;
use crate::{Error, Result};

impl Apply for Exists {
    fn apply(self, memory: &Memory) -> Result<bool> {
        Ok(memory.live(&self.key).is_some())
    }
}

impl Apply for Del {
    fn apply(self, memory: &Memory) -> Result<u64> {
        Ok(count(
            self.keys.iter().filter(|key| memory.remove(key)).count(),
        ))
    }
}

impl Apply for Unlink {
    fn apply(self, memory: &Memory) -> Result<u64> {
        // Every stored key is text: bytes that are not cannot name one.
        let removed = self
            .keys
            .iter()
            .filter_map(|key| std::str::from_utf8(key).ok())
            .filter(|key| memory.remove(key))
            .count();
        Ok(count(removed))
    }
}

/// `PTTL key`: -2 missing, -1 persistent, else milliseconds left (rounded up).
pub(super) fn pttl(memory: &Memory, key: &str) -> i64 {
    memory.live(key).map_or(-2, |entry| entry_pttl(&entry))
}

/// `PTTL` of a live entry: -1 persistent, else milliseconds left (rounded up).
pub(super) fn entry_pttl(entry: &Entry) -> i64 {
    entry.expires_at.map_or(-1, millis_left)
}

impl Apply for PexpireTime {
    fn apply(self, memory: &Memory) -> Result<i64> {
        Ok(match memory.live(&self.key) {
            None => -2,
            Some(entry) => entry.expires_at.map_or(-1, unix_millis_at),
        })
    }
}

impl Apply for MemoryUsage {
    /// The key's and its stored bytes (a server adds its own overhead).
    fn apply(self, memory: &Memory) -> Result<Option<u64>> {
        Ok(memory
            .live(&self.key)
            .map(|entry| u64::from(weight(&self.key, &entry))))
    }
}

impl Apply for ServerInfo {
    /// The in-memory store described as a server's `INFO` (`server`, `memory`, `keyspace`).
    fn apply(self, memory: &Memory) -> Result<InfoReply> {
        memory.entries.run_pending_tasks();
        let sections = [
            (
                "Server",
                format!(
                    "server_name:cachex-memory\r\ncachex_version:{}\r\n",
                    env!("CARGO_PKG_VERSION")
                ),
            ),
            (
                "Memory",
                format!("used_memory:{}\r\n", memory.entries.weighted_size()),
            ),
            (
                "Keyspace",
                format!("db0:keys={}\r\n", memory.entries.entry_count()),
            ),
        ];
        let wanted = self.section.map(|section| section.to_lowercase());
        let text: String = sections
            .iter()
            .filter(|(name, _)| {
                wanted.as_deref().is_none_or(|wanted| {
                    matches!(wanted, "all" | "everything" | "default")
                        || wanted == name.to_lowercase()
                })
            })
            .map(|(name, fields)| format!("# {name}\r\n{fields}\r\n"))
            .collect();
        Ok(InfoReply(vec![(None, text)]))
    }
}

impl Apply for Pttl {
    fn apply(self, memory: &Memory) -> Result<i64> {
        Ok(pttl(memory, &self.key))
    }
}

impl Apply for Pexpire {
    fn apply(self, memory: &Memory) -> Result<bool> {
        Ok(memory.set_deadline(&self.key, self.millis))
    }
}

impl Apply for PexpireAt {
    fn apply(self, memory: &Memory) -> Result<bool> {
        let millis = self.unix_millis.saturating_sub(unix_millis_now());
        Ok(memory.set_deadline(&self.key, millis))
    }
}

impl Apply for Persist {
    fn apply(self, memory: &Memory) -> Result<bool> {
        Ok(memory.update(&self.key, |current| match current {
            Some(entry) if entry.expires_at.is_some() => (Op::Put(entry.expiring(None)), true),
            _ => (Op::Nop, false),
        }))
    }
}

impl Apply for PersistExisting {
    fn apply(self, memory: &Memory) -> Result<bool> {
        Ok(memory.update(&self.key, |current| match current {
            Some(entry) => (Op::Put(entry.expiring(None)), true),
            None => (Op::Nop, false),
        }))
    }
}

impl Apply for Type {
    fn apply(self, memory: &Memory) -> Result<TypeOf> {
        Ok(match memory.live(&self.key) {
            Some(entry) => TypeOf(entry.data.type_name().into()),
            None => TypeOf("none".into()),
        })
    }
}

impl Apply for Rename {
    fn apply(self, memory: &Memory) -> Result<()> {
        let renamed = if self.from == self.to {
            memory.live(&self.from).is_some()
        } else {
            let _serialized = lock(&memory.renames);
            memory.rename_now(&self.from, &self.to)
        };
        if renamed {
            Ok(())
        } else {
            Err(Error::NotFound { key: self.from })
        }
    }
}

impl Apply for RenameNx {
    fn apply(self, memory: &Memory) -> Result<bool> {
        let _serialized = lock(&memory.renames);
        if memory.live(&self.from).is_none() {
            return Err(Error::NotFound { key: self.from });
        }
        if memory.live(&self.to).is_some() {
            return Ok(false);
        }
        Ok(memory.rename_now(&self.from, &self.to))
    }
}

impl Apply for Scan {
    /// One page: every live matching key (a snapshot of the map), and the end.
    fn apply(self, memory: &Memory) -> Result<(u64, Vec<Vec<u8>>)> {
        let now = Instant::now();
        let keys = memory
            .entries
            .iter()
            .into_iter()
            .filter(|(key, entry)| {
                entry.is_live(now) && glob::matches(self.pattern.as_bytes(), key.as_bytes())
            })
            .map(|(key, _)| key.as_bytes().to_vec())
            .collect();
        Ok((0, keys))
    }
}

impl Apply for SlowlogGet {
    /// Nothing: the in-memory backend keeps no slow log.
    fn apply(self, _memory: &Memory) -> Result<Vec<SlowlogEntry>> {
        Ok(Vec::new())
    }
}

impl Apply for SlowlogLen {
    /// 0: the in-memory backend keeps no slow log.
    fn apply(self, _memory: &Memory) -> Result<u64> {
        Ok(0)
    }
}

impl Apply for FlushDb {
    fn apply(self, memory: &Memory) -> Result<()> {
        memory.entries.invalidate_all();
        Ok(())
    }
}

impl Apply for GetPttl {
    fn apply(self, memory: &Memory) -> Result<(Option<bytes::Bytes>, i64)> {
        let value = memory.string(&self.key)?;
        Ok((value, pttl(memory, &self.key)))
    }
}

impl Apply for MgetPttl {
    fn apply(self, memory: &Memory) -> Result<Vec<(Option<bytes::Bytes>, i64)>> {
        // A key of another type reads as nil, as `MGET` has it.
        Ok(self
            .keys
            .iter()
            .map(|key| (memory.string(key).ok().flatten(), pttl(memory, key)))
            .collect())
    }
}

/// Whether an entry is a string holding exactly `token`.
fn holds(entry: &Entry, token: &[u8]) -> bool {
    matches!(&entry.data, Data::Bytes(held) if held.as_ref() == token)
}

impl Apply for DeleteIfEquals {
    fn apply(self, memory: &Memory) -> Result<bool> {
        Ok(memory.update(&self.key, |current| match current {
            Some(entry) if holds(entry, &self.token) => (Op::Remove, true),
            _ => (Op::Nop, false),
        }))
    }
}

impl Apply for ExpireIfEquals {
    fn apply(self, memory: &Memory) -> Result<bool> {
        Ok(memory.update(&self.key, |current| match current {
            Some(entry) if holds(entry, &self.token) => {
                let at = Instant::now().checked_add(Duration::from_millis(self.millis));
                (Op::Put(entry.expiring(at)), true)
            }
            _ => (Op::Nop, false),
        }))
    }
}

impl Apply for Eval {
    fn apply(self, _: &Memory) -> Result<ScriptReply> {
        Err(Error::Unsupported {
            operation: "eval_script",
            reason: "the in-memory backend does not run Lua scripts: use a server, or the \
                     cache's own operations (a transaction runs several atomically)"
                .to_owned(),
        })
    }
}
