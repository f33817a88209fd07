//! The options and typed replies of the operations beyond Django's contract that take flags
//! or answer more than one thing: `set_with`, `zadd_with`, list moves, hash-field expiry,
//! `expiretime`, `info`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Which existing value a write may overwrite: Redis's `NX` / `XX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Only when absent (`NX`).
    Absent,
    /// Only when present (`XX`).
    Present,
}

/// The flags of [`set_with`](crate::CacheApi::set_with): Redis's `SET` options.
///
/// ```
/// use cachex::prelude::*;
/// use cachex::SetOptions;
///
/// let cache = Cache::in_memory();
/// let first = cache.set_with("k", &1, Timeout::Default, SetOptions::new().nx().get())?;
/// assert!(first.stored);
/// assert_eq!(first.previous, None::<i32>);
/// let again = cache.set_with("k", &2, Timeout::Default, SetOptions::new().nx().get())?;
/// assert!(!again.stored);
/// assert_eq!(again.previous, Some(1));
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetOptions {
    /// Only when absent or present (`NX`/`XX`); `None` always stores.
    pub condition: Option<Condition>,
    /// Answer the value it replaced (`GET`).
    pub get: bool,
    /// Keep the key's current expiry (`KEEPTTL`): the timeout is then not used.
    pub keep_ttl: bool,
}

impl SetOptions {
    /// No flag: a plain `set`.
    pub fn new() -> Self {
        SetOptions::default()
    }

    /// Only when the key is missing (`NX`).
    pub fn nx(mut self) -> Self {
        self.condition = Some(Condition::Absent);
        self
    }

    /// Only when the key exists (`XX`).
    pub fn xx(mut self) -> Self {
        self.condition = Some(Condition::Present);
        self
    }

    /// Answer the previous value (`GET`).
    pub fn get(mut self) -> Self {
        self.get = true;
        self
    }

    /// Keep the current expiry (`KEEPTTL`).
    pub fn keep_ttl(mut self) -> Self {
        self.keep_ttl = true;
        self
    }
}

/// What [`set_with`](crate::CacheApi::set_with) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetOutcome<V> {
    /// Whether the value was stored (false when `NX`/`XX` prevented it).
    pub stored: bool,
    /// The value before the call, when [`SetOptions::get`] was asked for (else `None`).
    pub previous: Option<V>,
}

/// How [`zadd_with`](crate::CacheApi::zadd_with) treats members: Redis's `ZADD` flags.
///
/// `NX` with `GT` or `LT` is refused ([`Error::InvalidArgument`](crate::Error)), as Redis
/// refuses it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZaddOptions {
    /// Only new members (`NX`) or only existing ones (`XX`).
    pub condition: Option<Condition>,
    /// Only a greater (`GT`) or lower (`LT`) score updates a member.
    pub compare: Option<Compare>,
    /// Count changed scores as well as new members (`CH`).
    pub changed: bool,
}

impl ZaddOptions {
    /// No flag: a plain `zadd`.
    pub fn new() -> Self {
        ZaddOptions::default()
    }

    /// Only add new members (`NX`).
    pub fn nx(mut self) -> Self {
        self.condition = Some(Condition::Absent);
        self
    }

    /// Only update existing members (`XX`).
    pub fn xx(mut self) -> Self {
        self.condition = Some(Condition::Present);
        self
    }

    /// Only update a score to a greater one (`GT`).
    pub fn gt(mut self) -> Self {
        self.compare = Some(Compare::Greater);
        self
    }

    /// Only update a score to a lower one (`LT`).
    pub fn lt(mut self) -> Self {
        self.compare = Some(Compare::Less);
        self
    }

    /// Answer how many members were added or changed (`CH`).
    pub fn ch(mut self) -> Self {
        self.changed = true;
        self
    }
}

/// A comparison of a new expiry or score with the current one (`GT` / `LT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Only when greater (`GT`).
    Greater,
    /// Only when lower (`LT`).
    Less,
}

/// When [`hexpire`](crate::CacheApi::hexpire) and its twins set a field's expiry: Redis's
/// `NX`, `XX`, `GT`, `LT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireCondition {
    /// Only when the field has no expiry (`NX`).
    NoExpiry,
    /// Only when it has one (`XX`).
    HasExpiry,
    /// Only when the new expiry is later (`GT`; no expiry counts as infinite).
    Later,
    /// Only when it is sooner (`LT`).
    Sooner,
}

/// What [`hexpire`](crate::CacheApi::hexpire) or [`hpersist`](crate::CacheApi::hpersist)
/// did to one field (Redis's reply codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldExpiry {
    /// The field (or the hash) does not exist (`-2`).
    NoField,
    /// Nothing changed: the condition was not met (`hexpire`'s `0`), or the field had no
    /// expiry (`hpersist`'s `-1`).
    Unchanged,
    /// The expiry was set (`hexpire`) or removed (`hpersist`) (`1`).
    Changed,
    /// The new expiry was now or past: the field was deleted (`2`).
    Deleted,
}

/// When a key or a hash field expires (`expiretime`, `hexpiretime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireTime {
    /// It does not exist.
    Missing,
    /// It exists and never expires.
    Persistent,
    /// It expires at this time (to the millisecond).
    At(SystemTime),
}

/// One end of a list (`lmove`, `blmove`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListEnd {
    /// The head (`LEFT`).
    Left,
    /// The tail (`RIGHT`).
    Right,
}

/// Where [`linsert`](crate::CacheApi::linsert) puts a value, around its pivot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertAt {
    /// Before the pivot (`BEFORE`).
    Before,
    /// After it (`AFTER`).
    After,
}

/// Which fields of a hash [`hsetex`](crate::CacheApi::hsetex) writes: Redis's `FNX`/`FXX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldsCondition {
    /// Only when none of the fields exists (`FNX`).
    NoneExist,
    /// Only when all of them exist (`FXX`).
    AllExist,
}

/// A server's `INFO`: its sections (lower case, `server`, `memory`, `keyspace`, ...), each a
/// map of field to value as the server wrote it.
pub type InfoSections = BTreeMap<String, BTreeMap<String, String>>;

/// What [`info`](crate::CacheApi::info) answers: one entry per server that answered. A
/// standalone server or a Sentinel-managed primary is one node; a cluster answers with each of
/// its primaries (their fields are not summed: a figure such as `used_memory` is per node); the
/// in-memory backend describes itself in the same shape (`server`, `memory`, `keyspace`).
///
/// ```
/// use cachex::prelude::*;
///
/// let cache = Cache::in_memory();
/// let info = cache.info(None)?;
/// assert_eq!(info.get("server", "server_name"), Some("cachex-memory"));
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// Each answering node: its address (`None` for the only one) and its sections.
    pub nodes: Vec<(Option<String>, InfoSections)>,
}

impl Info {
    /// The value of `field` in `section`, on the first node that has it.
    pub fn get(&self, section: &str, field: &str) -> Option<&str> {
        self.nodes.iter().find_map(|(_, sections)| {
            sections
                .get(section)
                .and_then(|fields| fields.get(field))
                .map(String::as_str)
        })
    }

    /// The sections of the first node (the only one, off a cluster).
    pub fn sections(&self) -> Option<&InfoSections> {
        self.nodes.first().map(|(_, sections)| sections)
    }

    /// `INFO`'s text as sections: `# Server` starts `server`, `name:value` lines are fields.
    pub(crate) fn parse(text: &str) -> InfoSections {
        let mut sections = InfoSections::new();
        let mut current = String::new();
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('#') {
                current = name.trim().to_lowercase();
                sections.entry(current.clone()).or_default();
            } else if let Some((field, value)) = line.split_once(':') {
                sections
                    .entry(current.clone())
                    .or_default()
                    .insert(field.to_owned(), value.to_owned());
            }
        }
        sections
    }

    /// The server's name and version, as `INFO server` gives them (`Valkey 9.0.1`,
    /// `Redis 7.0.15`), for errors that name it.
    pub(crate) fn server_version(&self) -> Option<String> {
        if let Some(version) = self.get("server", "valkey_version") {
            return Some(format!("Valkey {version}"));
        }
        self.get("server", "redis_version")
            .map(|version| format!("Redis {version}"))
    }
}

#[cfg(test)]
mod tests {
    use super::Info;

    #[test]
    fn info_text_becomes_sections() {
        let text = "# Server\r\nredis_version:7.2.4\r\nvalkey_version:9.1.2\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0\r\n";
        let info = Info {
            nodes: vec![(None, Info::parse(text))],
        };
        assert_eq!(info.get("server", "redis_version"), Some("7.2.4"));
        assert_eq!(info.get("keyspace", "db0"), Some("keys=1,expires=0"));
        assert_eq!(info.server_version().as_deref(), Some("Valkey 9.1.2"));
    }
}

/// One entry of the server's slow log ([`slowlog_get`](crate::CacheApi::slowlog_get)): a
/// command that took longer than the server's `slowlog-log-slower-than`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowlogEntry {
    /// The entry's number, growing with each entry.
    pub id: u64,
    /// When the command ran (to the second).
    pub at: SystemTime,
    /// How long it took (to the microsecond).
    pub duration: Duration,
    /// The command and its arguments as the server kept them (it shortens long ones), as text;
    /// bytes that are not UTF-8 are replaced.
    pub command: Vec<String>,
    /// The client's address, when the server says.
    pub client_address: Option<String>,
    /// The client's name (`CLIENT SETNAME`), when it has one.
    pub client_name: Option<String>,
}

// --- admin ---

/// What a key holds, raw: its stored bytes as they are, not decoded (for tools that inspect
/// keys, as `cachex-admin` does; see [`CacheCore::raw`](crate::CacheCore::raw)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RawData {
    /// A plain value's bytes.
    String(Vec<u8>),
    /// A hash's fields and values, by field.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A list's items, head first.
    List(Vec<Vec<u8>>),
    /// A set's members, in byte order.
    Set(Vec<Vec<u8>>),
    /// A sorted set's members and scores, lowest score first.
    SortedSet(Vec<(Vec<u8>, f64)>),
    /// A stream: its length, last id and how many entries were ever added (what changes when
    /// it changes; its entries are read with `xrange`).
    Stream {
        /// How many entries it has.
        length: u64,
        /// The last id ever made.
        last_id: crate::stream::StreamId,
        /// How many entries were ever added.
        entries_added: u64,
    },
}
