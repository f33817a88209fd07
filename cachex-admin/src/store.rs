//! What the pages read and change, through the cache's own API: a key's content with its
//! fingerprint, and the edits, applied only if the key still has the fingerprint the page
//! showed (compare-and-swap): by a Lua script on a server, in a transaction checked under the
//! in-memory backend's exclusive hold in memory.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cachex::prelude::*;
use cachex::stream::{StreamId, Trim, XaddOptions};
use cachex::{
    Error, KeyType, Queued, RawData, Replies, Script, ScriptArg, ScriptReply, SetOptions, Ttl,
};
use serde_json::Value;

/// How many items of a collection a key page shows.
pub(crate) const SHOWN: usize = 500;

/// How many items a hash, list, set or sorted set may hold to be edited. An edit checks the
/// key's whole content (its fingerprint) before it applies, and on a server that check runs
/// in a Lua script, which holds the server: above this size the key's page shows the key
/// without its edit forms and an edit is refused ([`Outcome::TooLarge`]), the size read
/// first (`HLEN`, `LLEN`, `SCARD`, `ZCARD`) so that such a key is never read whole. Streams
/// are fingerprinted from `XINFO STREAM` (no entry is read) and have no limit.
pub(crate) const EDITABLE: u64 = 10_000;

/// How many matching keys the key browser looks at, at most.
pub(crate) const SCANNED: usize = 10_000;

/// One stored value, decoded for display.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    /// The value as JSON text, or the raw bytes as lossy text when they do not decode.
    pub(crate) text: String,
    /// The stored bytes, hex-encoded (how removals name the item).
    pub(crate) hex: String,
    /// Whether the bytes did not decode (the text is the raw view).
    pub(crate) raw: bool,
}

/// What a key holds, decoded for display.
#[derive(Debug)]
pub(crate) enum Content {
    String(Item),
    Hash(Vec<(String, Item)>),
    List(Vec<Item>),
    Set(Vec<Item>),
    SortedSet(Vec<(Item, f64)>),
    Stream(Vec<(StreamId, Vec<(String, String)>)>),
}

/// A key as its page shows it.
#[derive(Debug)]
pub(crate) struct KeyView {
    pub(crate) content: Content,
    /// How many items it holds (1 for a string), of which at most [`SHOWN`] are shown.
    pub(crate) total: u64,
    pub(crate) ttl: Ttl,
    /// The fingerprint of its content, which every edit form sends back; `None` when it holds
    /// more than [`EDITABLE`] items (not editable here).
    pub(crate) fingerprint: Option<String>,
}

/// One change to a key, made from a page's form.
#[derive(Debug)]
pub(crate) enum Edit {
    SetString(Value),
    HashSet(String, Value),
    HashDelete(String),
    Push { head: bool, value: Value },
    Pop { head: bool },
    ListRemove(Vec<u8>),
    ListTrim(i64, i64),
    ListSet(i64, Value),
    SetAdd(Value),
    SetRemove(Vec<u8>),
    ZsetAdd(Value, f64),
    ZsetRemove(Vec<u8>),
    StreamAdd(String, Value),
    StreamDelete(StreamId),
    StreamTrim(u64),
}

/// What an edit came to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Applied,
    /// The key changed since the page was shown: nothing was done.
    Conflict,
    /// The key holds more than [`EDITABLE`] items: nothing was done.
    TooLarge,
}

/// The Lua function both scripts start with: the type and fingerprint of a key (SHA-1 of its
/// type name, as is, then its content's parts, each of these length-prefixed; hashes and sets
/// sorted), its size and up to `limit` of its items, raw. Its size is read first: above
/// `EDITABLE` items the fingerprint is `false` and only the first `limit` items are read.
const FINGERPRINT: &str = r#"
local function lp(parts, s) s = tostring(s) parts[#parts + 1] = #s .. ':' .. s end
local SIZE = {hash = 'HLEN', list = 'LLEN', set = 'SCARD', zset = 'ZCARD'}
local function scanned(command, key, limit)
  local items, cursor = {}, '0'
  repeat
    local reply = redis.call(command, key, cursor, 'COUNT', limit)
    cursor = reply[1]
    for _, v in ipairs(reply[2]) do items[#items + 1] = v end
  until cursor == '0' or #items >= limit
  return items
end
local function look(key, limit)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t['ok'] end
  local parts, items, total = {t}, {}, 0
  if SIZE[t] then
    total = redis.call(SIZE[t], key)
    if total > EDITABLE then
      if limit == 0 then return t, false, total, items end
      if t == 'list' then items = redis.call('LRANGE', key, 0, limit - 1)
      elseif t == 'zset' then items = redis.call('ZRANGE', key, 0, limit - 1, 'WITHSCORES')
      elseif t == 'hash' then items = scanned('HSCAN', key, limit)
      else items = scanned('SSCAN', key, limit) end
      local keep = limit
      if t == 'hash' or t == 'zset' then keep = 2 * limit end
      while #items > keep do items[#items] = nil end
      return t, false, total, items
    end
  end
  if t == 'string' then
    local v = redis.call('GET', key)
    lp(parts, v) items[1] = v total = 1
  elseif t == 'hash' then
    local h = redis.call('HGETALL', key)
    local fields = {}
    for i = 1, #h, 2 do fields[#fields + 1] = {h[i], h[i + 1]} end
    table.sort(fields, function(a, b) return a[1] < b[1] end)
    for i, f in ipairs(fields) do
      lp(parts, f[1]) lp(parts, f[2])
      if i <= limit then items[#items + 1] = f[1] items[#items + 1] = f[2] end
    end
    total = #fields
  elseif t == 'list' or t == 'set' then
    local l
    if t == 'list' then l = redis.call('LRANGE', key, 0, -1) else
      l = redis.call('SMEMBERS', key) table.sort(l) end
    for i, v in ipairs(l) do lp(parts, v) if i <= limit then items[#items + 1] = v end end
    total = #l
  elseif t == 'zset' then
    local z = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for i = 1, #z, 2 do
      lp(parts, z[i]) lp(parts, z[i + 1])
      if (i + 1) / 2 <= limit then items[#items + 1] = z[i] items[#items + 1] = z[i + 1] end
    end
    total = #z / 2
  elseif t == 'stream' then
    local info = redis.call('XINFO', 'STREAM', key)
    for i = 1, #info, 2 do
      if info[i] == 'length' or info[i] == 'last-generated-id' or info[i] == 'entries-added' then
        lp(parts, info[i + 1])
      end
    end
    total = redis.call('XLEN', key)
  end
  return t, redis.sha1hex(table.concat(parts)), total, items
end
"#;

/// The Lua of [`FINGERPRINT`] with its limit.
fn fingerprint_lua() -> String {
    format!("local EDITABLE = {EDITABLE}\n{FINGERPRINT}")
}

/// Reads a key: `{type, fingerprint (or "" when it is too large to edit), total, items}`.
static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(format!(
        "{}\nlocal t, fp, total, items = look(KEYS[1], tonumber(ARGV[1]))\n\
         return {{t, fp or '', total, items}}",
        fingerprint_lua()
    ))
});

/// Applies one edit if the key's fingerprint is `ARGV[1]`: 1, 0 when it changed, 2 when it is
/// too large to edit. `ARGV[2]` is the command (one of the edits'), the rest its arguments
/// after the key.
static EDIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(format!(
        "{}\nlocal _, fp = look(KEYS[1], 0)\n\
         if fp == false then return 2 end\n\
         if fp ~= ARGV[1] then return 0 end\n\
         local allowed = {{SET = true, HSET = true, HDEL = true, LPUSH = true, RPUSH = true,\n\
           LPOP = true, RPOP = true, LREM = true, LTRIM = true, LSET = true, SADD = true,\n\
           SREM = true, ZADD = true, ZREM = true, XADD = true, XDEL = true, XTRIM = true}}\n\
         local op = ARGV[2]\n\
         if not allowed[op] then return redis.error_reply('not an edit: ' .. op) end\n\
         local args = {{}}\n\
         for i = 3, #ARGV do args[#args + 1] = ARGV[i] end\n\
         if op == 'SET' then args[#args + 1] = 'KEEPTTL' end\n\
         redis.call(op, KEYS[1], unpack(args))\n\
         return 1",
        fingerprint_lua()
    ))
});

/// Creates a key if it does not exist: 0 when it does, else runs the command `ARGV[2]` (one
/// of the add form's) with the rest as its arguments after the key, then sets a TTL of
/// `ARGV[1]` milliseconds unless it is 0, and answers 1.
static ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n\
         local allowed = {SET = true, HSET = true, RPUSH = true, SADD = true, ZADD = true,\n\
           XADD = true}\n\
         local op = ARGV[2]\n\
         if not allowed[op] then return redis.error_reply('not an addition: ' .. op) end\n\
         local args = {}\n\
         for i = 3, #ARGV do args[#args + 1] = ARGV[i] end\n\
         redis.call(op, KEYS[1], unpack(args))\n\
         if ARGV[1] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n\
         return 1",
    )
});

/// Whether the cache is the in-memory backend (which answers `raw`; a server refuses it).
fn in_memory(cache: &Cache, key: &str) -> Result<Option<Option<RawData>>, Error> {
    match cache.core().raw(key) {
        Ok(raw) => Ok(Some(raw)),
        Err(Error::Unsupported { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The key's view, or `None` when it is missing.
pub(crate) async fn view(cache: &Cache, key: &str) -> Result<Option<KeyView>, Error> {
    let ttl = cache.apttl(key).await?;
    let (content, total, fingerprint) = match in_memory(cache, key)? {
        Some(None) => return Ok(None),
        Some(Some(raw)) => {
            let fingerprint = editable(&raw).then(|| fingerprint(&raw));
            let (content, total) = memory_content(cache, key, raw).await?;
            (content, total, fingerprint)
        }
        None => match server_content(cache, key).await? {
            None => return Ok(None),
            Some(found) => found,
        },
    };
    Ok(Some(KeyView {
        content,
        total,
        ttl,
        fingerprint,
    }))
}

/// Whether a key holds at most [`EDITABLE`] items (a stream always is).
fn editable(raw: &RawData) -> bool {
    let items = match raw {
        RawData::Hash(fields) => fields.len(),
        RawData::List(items) | RawData::Set(items) => items.len(),
        RawData::SortedSet(members) => members.len(),
        _ => 0,
    };
    u64::try_from(items).is_ok_and(|items| items <= EDITABLE)
}

/// The SHA-1 of a key's raw content, as hex (the in-memory fingerprint).
pub(crate) fn fingerprint(raw: &RawData) -> String {
    let mut parts = Vec::new();
    let mut part = |bytes: &[u8]| {
        parts.extend_from_slice(bytes.len().to_string().as_bytes());
        parts.push(b':');
        parts.extend_from_slice(bytes);
    };
    match raw {
        RawData::String(bytes) => {
            part(b"string");
            part(bytes);
        }
        RawData::Hash(fields) => {
            part(b"hash");
            for (field, value) in fields {
                part(field);
                part(value);
            }
        }
        RawData::List(items) | RawData::Set(items) => {
            part(if matches!(raw, RawData::List(_)) {
                b"list"
            } else {
                b"set"
            });
            items.iter().for_each(|item| part(item));
        }
        RawData::SortedSet(members) => {
            part(b"zset");
            for (member, score) in members {
                part(member);
                part(score.to_string().as_bytes());
            }
        }
        RawData::Stream {
            length,
            last_id,
            entries_added,
        } => {
            part(b"stream");
            part(length.to_string().as_bytes());
            part(last_id.to_string().as_bytes());
            part(entries_added.to_string().as_bytes());
        }
        _ => part(b"other"),
    }
    hex(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &parts).as_ref())
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|byte| {
            [
                DIGITS[usize::from(byte >> 4)],
                DIGITS[usize::from(byte & 15)],
            ]
        })
        .map(char::from)
        .collect()
}

/// The bytes of lower-case or upper-case hex; `None` if it is not hex.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    // `from_str_radix` alone would take a sign (`+f`).
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// A stored value decoded by the cache's codec, or its raw view.
fn item(cache: &Cache, key: &str, bytes: &[u8]) -> Item {
    match cache.core().codec().decode::<Value>(key, bytes) {
        Ok(value) => Item {
            text: value.to_string(),
            hex: hex(bytes),
            raw: false,
        },
        Err(_) => Item {
            text: String::from_utf8_lossy(bytes).into_owned(),
            hex: hex(bytes),
            raw: true,
        },
    }
}

/// The first [`SHOWN`] of a list's or set's values, decoded.
fn shown(cache: &Cache, key: &str, values: &[Vec<u8>]) -> Vec<Item> {
    values
        .iter()
        .take(SHOWN)
        .map(|v| item(cache, key, v))
        .collect()
}

/// A memory key's content from its raw data.
async fn memory_content(cache: &Cache, key: &str, raw: RawData) -> Result<(Content, u64), Error> {
    let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    Ok(match raw {
        RawData::String(bytes) => (Content::String(item(cache, key, &bytes)), 1),
        RawData::Hash(fields) => (
            Content::Hash(
                fields
                    .iter()
                    .take(SHOWN)
                    .map(|(f, v)| (String::from_utf8_lossy(f).into_owned(), item(cache, key, v)))
                    .collect(),
            ),
            len(fields.len()),
        ),
        RawData::List(items) => (Content::List(shown(cache, key, &items)), len(items.len())),
        RawData::Set(items) => (Content::Set(shown(cache, key, &items)), len(items.len())),
        RawData::SortedSet(members) => (
            Content::SortedSet(
                members
                    .iter()
                    .take(SHOWN)
                    .map(|(m, s)| (item(cache, key, m), *s))
                    .collect(),
            ),
            len(members.len()),
        ),
        RawData::Stream { length, .. } => (stream_content(cache, key).await?, length),
        _ => (Content::List(Vec::new()), 0),
    })
}

/// The newest entries of a stream, values decoded as JSON text.
async fn stream_content(cache: &Cache, key: &str) -> Result<Content, Error> {
    let count = Some(u64::try_from(SHOWN).unwrap_or(u64::MAX));
    let entries = cache
        .axrevrange::<Value>(key, StreamId::MAX, StreamId::MIN, count)
        .await?;
    Ok(Content::Stream(
        entries
            .into_iter()
            .map(|entry| {
                let fields = entry
                    .fields
                    .into_iter()
                    .map(|(field, value)| (field, value.to_string()))
                    .collect();
                (entry.id, fields)
            })
            .collect(),
    ))
}

/// A server key's content, total and fingerprint, read by one script.
async fn server_content(
    cache: &Cache,
    key: &str,
) -> Result<Option<(Content, u64, Option<String>)>, Error> {
    let limit = SHOWN.to_string();
    let reply: ScriptReply = cache
        .aeval_script(&READ, &[key], &[ScriptArg::raw(limit)])
        .await?;
    let unexpected = || Error::Unsupported {
        operation: "admin",
        reason: "the admin's read script answered another shape".to_owned(),
    };
    let ScriptReply::Array(parts) = reply else {
        return Err(unexpected());
    };
    let [kind, fingerprint, total, ScriptReply::Array(items)] =
        <[ScriptReply; 4]>::try_from(parts).map_err(|_| unexpected())?
    else {
        return Err(unexpected());
    };
    let text = |reply: ScriptReply| match reply {
        ScriptReply::Data(bytes) => Ok(bytes),
        ScriptReply::Status(text) => Ok(text.into_bytes()),
        ScriptReply::Int(n) => Ok(n.to_string().into_bytes()),
        _ => Err(unexpected()),
    };
    let kind = String::from_utf8_lossy(&text(kind)?).into_owned();
    let fingerprint = String::from_utf8_lossy(&text(fingerprint)?).into_owned();
    let fingerprint = (!fingerprint.is_empty()).then_some(fingerprint);
    let total = match total {
        ScriptReply::Int(n) => u64::try_from(n).unwrap_or(0),
        _ => return Err(unexpected()),
    };
    let items = items.into_iter().map(text).collect::<Result<Vec<_>, _>>()?;
    let pairs = |items: &[Vec<u8>]| -> Vec<(Vec<u8>, Vec<u8>)> {
        items
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect()
    };
    let content = match kind.as_str() {
        "none" => return Ok(None),
        "string" => Content::String(item(cache, key, items.first().map_or(&[][..], |v| v))),
        "hash" => Content::Hash(
            pairs(&items)
                .iter()
                .map(|(f, v)| (String::from_utf8_lossy(f).into_owned(), item(cache, key, v)))
                .collect(),
        ),
        "list" => Content::List(items.iter().map(|v| item(cache, key, v)).collect()),
        "set" => Content::Set(items.iter().map(|v| item(cache, key, v)).collect()),
        "zset" => Content::SortedSet(
            pairs(&items)
                .iter()
                .map(|(m, s)| {
                    let score = std::str::from_utf8(s)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(f64::NAN);
                    (item(cache, key, m), score)
                })
                .collect(),
        ),
        "stream" => stream_content(cache, key).await?,
        other => {
            return Err(Error::Unsupported {
                operation: "admin",
                reason: format!("the admin does not show keys of type {other}"),
            });
        }
    };
    Ok(Some((content, total, fingerprint)))
}

/// Applies `edit` to `key` if its fingerprint is still `seen`.
pub(crate) async fn apply(
    cache: &Cache,
    key: &str,
    seen: &str,
    edit: Edit,
) -> Result<Outcome, Error> {
    if in_memory(cache, key)?.is_some() {
        return apply_in_memory(cache, key, seen, &edit).await;
    }
    let (op, args) = command_of(&edit);
    let mut all = vec![ScriptArg::raw(seen), ScriptArg::raw(op)];
    all.extend(args);
    let applied: i64 = cache.aeval_script(&EDIT, &[key], &all).await?;
    Ok(match applied {
        1 => Outcome::Applied,
        2 => Outcome::TooLarge,
        _ => Outcome::Conflict,
    })
}

/// Creates `key` holding what `edit` adds (a string set, a field set, a value pushed or
/// added, an entry added) with `ttl` (none when `None`), only if the key does not exist, at
/// once (a script on a server, a transaction under the exclusive hold in memory): `false`
/// when it exists (nothing done).
pub(crate) async fn add(
    cache: &Cache,
    key: &str,
    edit: Edit,
    ttl: Option<Duration>,
) -> Result<bool, Error> {
    if in_memory(cache, key)?.is_some() {
        return run_in_memory(cache, key, &edit, ttl, |now| now.is_none()).await;
    }
    let (op, args) = command_of(&edit);
    let millis = ttl.map_or(0, |ttl| ttl.as_millis());
    let mut all = vec![ScriptArg::raw(millis.to_string()), ScriptArg::raw(op)];
    all.extend(args);
    let added: i64 = cache.aeval_script(&ADD, &[key], &all).await?;
    Ok(added == 1)
}

/// The command and arguments after the key of an edit, for the scripts.
fn command_of(edit: &Edit) -> (&'static str, Vec<ScriptArg<'_>>) {
    match edit {
        Edit::SetString(value) => ("SET", vec![ScriptArg::value(value)]),
        Edit::HashSet(field, value) => {
            ("HSET", vec![field.as_str().into(), ScriptArg::value(value)])
        }
        Edit::HashDelete(field) => ("HDEL", vec![field.as_str().into()]),
        Edit::Push { head, value } => (
            if *head { "LPUSH" } else { "RPUSH" },
            vec![ScriptArg::value(value)],
        ),
        Edit::Pop { head } => (if *head { "LPOP" } else { "RPOP" }, vec![]),
        Edit::ListRemove(raw) => ("LREM", vec![ScriptArg::raw("1"), ScriptArg::raw(raw)]),
        Edit::ListTrim(start, stop) => ("LTRIM", vec![(*start).into(), (*stop).into()]),
        Edit::ListSet(index, value) => ("LSET", vec![(*index).into(), ScriptArg::value(value)]),
        Edit::SetAdd(value) => ("SADD", vec![ScriptArg::value(value)]),
        Edit::SetRemove(raw) => ("SREM", vec![ScriptArg::raw(raw)]),
        Edit::ZsetAdd(value, score) => (
            "ZADD",
            vec![ScriptArg::raw(score.to_string()), ScriptArg::value(value)],
        ),
        Edit::ZsetRemove(raw) => ("ZREM", vec![ScriptArg::raw(raw)]),
        Edit::StreamAdd(field, value) => (
            "XADD",
            vec!["*".into(), field.as_str().into(), ScriptArg::value(value)],
        ),
        Edit::StreamDelete(id) => ("XDEL", vec![ScriptArg::raw(id.to_string())]),
        Edit::StreamTrim(len) => (
            "XTRIM",
            vec!["MAXLEN".into(), ScriptArg::raw(len.to_string())],
        ),
    }
}

/// The value stored as `raw`, decoded, to name an item to remove through the API: only when
/// the codec encodes it back to the same bytes (else the API would name another item).
fn decoded(cache: &Cache, key: &str, raw: &[u8]) -> Result<Value, Error> {
    let codec = cache.core().codec();
    let value = codec.decode::<Value>(key, raw)?;
    if codec.encode(&value)? != raw {
        return Err(Error::Unsupported {
            operation: "admin",
            reason: "this item's stored bytes are not what its value encodes to (another \
                     encoder wrote it), so the in-memory backend cannot name it to remove it"
                .to_owned(),
        });
    }
    Ok(value)
}

/// Checks one queued operation's result.
type Check = Box<dyn FnOnce(&mut Replies) -> Result<(), Error> + Send>;

/// The check of an operation whose result is only whether it failed.
fn checked<T: 'static>(queued: Queued<T>) -> Check {
    Box::new(move |replies| replies.take(queued).map(drop))
}

/// Applies an edit in memory: only if the fingerprint still matches, checked under the
/// transaction's exclusive hold of the key (and only if the key is not too large to edit).
async fn apply_in_memory(
    cache: &Cache,
    key: &str,
    seen: &str,
    edit: &Edit,
) -> Result<Outcome, Error> {
    let too_large = AtomicBool::new(false);
    let ran = run_in_memory(cache, key, edit, None, |now| match now {
        Some(raw) if !editable(raw) => {
            too_large.store(true, Ordering::Relaxed);
            false
        }
        now => now.map(fingerprint).as_deref() == Some(seen),
    })
    .await?;
    Ok(if ran {
        Outcome::Applied
    } else if too_large.load(Ordering::Relaxed) {
        Outcome::TooLarge
    } else {
        Outcome::Conflict
    })
}

/// Runs `edit` (then sets `ttl`, if any) in one transaction, only if `check` accepts the
/// key's raw content under the transaction's exclusive hold of the key: whether it ran.
async fn run_in_memory(
    cache: &Cache,
    key: &str,
    edit: &Edit,
    ttl: Option<Duration>,
    check: impl FnOnce(Option<&RawData>) -> bool + Send,
) -> Result<bool, Error> {
    // Values to remove are named by their stored bytes; the API takes them decoded.
    let removed: Option<Value> = match edit {
        Edit::ListRemove(raw) | Edit::SetRemove(raw) | Edit::ZsetRemove(raw) => {
            Some(decoded(cache, key, raw)?)
        }
        _ => None,
    };
    let removed = removed.unwrap_or(Value::Null);
    let one = std::slice::from_ref(&removed);
    let scored;
    let added;
    let field;
    let id;
    let entry_fields;
    let mut tx = cache.transaction();
    let check_edit: Check = match edit {
        Edit::SetString(value) => {
            checked(tx.set_with(key, value, Timeout::Never, SetOptions::new().keep_ttl()))
        }
        Edit::HashSet(f, value) => checked(tx.hset(key, f, value)),
        Edit::HashDelete(f) => {
            field = [f.as_str()];
            checked(tx.hdel(key, &field))
        }
        Edit::Push { head, value } => {
            added = [value.clone()];
            checked(if *head {
                tx.lpush(key, &added)
            } else {
                tx.rpush(key, &added)
            })
        }
        Edit::Pop { head } => checked(if *head {
            tx.lpop::<Value>(key)
        } else {
            tx.rpop::<Value>(key)
        }),
        Edit::ListRemove(_) => checked(tx.lrem(key, 1, &removed)),
        Edit::ListTrim(start, stop) => checked(tx.ltrim(key, *start, *stop)),
        Edit::ListSet(index, value) => checked(tx.lset(key, *index, value)),
        Edit::SetAdd(value) => {
            added = [value.clone()];
            checked(tx.sadd(key, &added))
        }
        Edit::SetRemove(_) => checked(tx.srem(key, one)),
        Edit::ZsetAdd(value, score) => {
            scored = [(value.clone(), *score)];
            checked(tx.zadd(key, &scored))
        }
        Edit::ZsetRemove(_) => checked(tx.zrem(key, one)),
        Edit::StreamAdd(f, value) => {
            entry_fields = [(f.as_str(), value.clone())];
            checked(tx.xadd(key, &entry_fields, XaddOptions::default()))
        }
        Edit::StreamDelete(entry) => {
            id = [*entry];
            checked(tx.xdel(key, &id))
        }
        Edit::StreamTrim(len) => checked(tx.xtrim(key, Trim::max_len(*len))),
    };
    let check_ttl = ttl.map(|ttl| checked(tx.expire(key, Timeout::After(ttl))));
    let Some(mut replies) = tx.aexecute_if(key, check).await? else {
        return Ok(false);
    };
    check_edit(&mut replies)?;
    if let Some(check_ttl) = check_ttl {
        check_ttl(&mut replies)?;
    }
    Ok(true)
}

/// The keys matching `pattern`, sorted: at most [`SCANNED`] of them. The scan (`SCAN` with
/// `MATCH`) walks the keyspace until it has found more than [`SCANNED`] matches (then `true`):
/// with fewer matches it walks the whole keyspace, batch by batch; when it stops early, the
/// keys kept are the first ones the scan met (in the server's scan order), sorted, not the
/// first ones in sorted order.
pub(crate) async fn matching(cache: &Cache, pattern: &str) -> Result<(Vec<String>, bool), Error> {
    let mut scan = std::pin::pin!(cache.aiter_keys(pattern).await?);
    // A key can come twice in a scan: a set keeps it once.
    let mut found = std::collections::BTreeSet::new();
    while found.len() <= SCANNED {
        let next =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(scan.as_mut(), cx)).await;
        match next {
            Some(key) => {
                found.insert(key?);
            }
            None => break,
        }
    }
    let capped = found.len() > SCANNED;
    Ok((found.into_iter().take(SCANNED).collect(), capped))
}

/// A key's type and time to live, for the key browser.
pub(crate) async fn types_and_ttls(
    cache: &Cache,
    keys: &[String],
) -> Result<Vec<(Option<KeyType>, Ttl)>, Error> {
    let mut pipe = cache.pipeline();
    let queued: Vec<_> = keys
        .iter()
        .map(|key| (pipe.key_type(key), pipe.ttl(key)))
        .collect();
    let mut replies = pipe.aexecute().await?;
    queued
        .into_iter()
        .map(|(kind, ttl)| Ok((replies.take(kind)?, replies.take(ttl)?)))
        .collect()
}

/// A time to live as the pages show it.
pub(crate) fn ttl_text(ttl: Ttl) -> String {
    match ttl {
        Ttl::Missing => "missing".to_owned(),
        Ttl::Persistent => "never expires".to_owned(),
        Ttl::Expires(left) => seconds(left),
    }
}

fn seconds(left: Duration) -> String {
    format!("{} s", left.as_secs())
}

#[cfg(test)]
mod tests {
    use super::{hex, unhex};

    #[test]
    fn unhex_takes_hex_digits_only() {
        assert_eq!(unhex("00ffA1"), Some(vec![0, 255, 161]));
        assert_eq!(unhex(&hex(b"any bytes")), Some(b"any bytes".to_vec()));
        assert_eq!(unhex("+f"), None);
        assert_eq!(unhex("-1"), None);
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }
}
