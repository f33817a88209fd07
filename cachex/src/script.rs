//! [`Script`]: a Lua script of the caller's, run by
//! [`eval_script`](crate::CacheApi::eval_script) with keys through the prefix and version and
//! values through the codec; [`ScriptArg`] its arguments, [`ScriptReply`] and
//! [`FromScriptReply`] its typed reply.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::Codec;
use crate::{Error, Result};

/// A Lua script, sent by its SHA-1 (`EVALSHA`) and loaded on the server's `NOSCRIPT` (a
/// restart, a `SCRIPT FLUSH`), then sent again. Cheap to clone; make it once and reuse it.
///
/// ```
/// let script = cachex::Script::new("return redis.call('GET', KEYS[1])");
/// assert!(script.source().starts_with("return"));
/// ```
#[derive(Clone)]
pub struct Script {
    source: Arc<str>,
    hash: Arc<str>,
}

impl Script {
    /// A script of this Lua source.
    pub fn new(source: impl Into<String>) -> Script {
        let source: String = source.into();
        #[cfg(feature = "redis")]
        let hash = redis::Script::new(&source).get_hash().to_owned();
        #[cfg(not(feature = "redis"))]
        let hash = String::new(); // nothing sends it
        Script {
            source: source.into(),
            hash: hash.into(),
        }
    }

    /// Its Lua source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Its SHA-1, as `EVALSHA` names it (empty in a build without the `redis` feature: no
    /// server to send it to).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    pub(crate) fn shared_source(&self) -> Arc<str> {
        self.source.clone()
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// An argument of a script (`ARGV`): a [value](ScriptArg::value), encoded by the cache's
/// codec as `set` would store it, or [raw](ScriptArg::raw) bytes given as they are (a number,
/// a flag); numbers and text convert into raw arguments (`7.into()`, `"NX".into()`).
pub struct ScriptArg<'a>(Arg<'a>);

/// Encodes a value with the cache's codec.
type Encode<'a> = Box<dyn Fn(&Codec) -> Result<Vec<u8>> + Send + Sync + 'a>;

enum Arg<'a> {
    Raw(Vec<u8>),
    Value(Encode<'a>),
}

impl fmt::Debug for ScriptArg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Arg::Raw(bytes) => f.debug_tuple("Raw").field(bytes).finish(),
            Arg::Value(_) => f.write_str("Value(..)"),
        }
    }
}

impl<'a> ScriptArg<'a> {
    /// A value, encoded by the cache's codec (a script that stores it stores what `set`
    /// would).
    pub fn value<V: Serialize + Sync + ?Sized>(value: &'a V) -> ScriptArg<'a> {
        ScriptArg(Arg::Value(Box::new(move |codec: &Codec| {
            codec.encode(value)
        })))
    }

    /// Raw bytes (a number's text, a flag), sent as they are.
    pub fn raw(bytes: impl AsRef<[u8]>) -> ScriptArg<'a> {
        ScriptArg(Arg::Raw(bytes.as_ref().to_vec()))
    }

    /// The bytes sent.
    pub(crate) fn encoded(&self, codec: &Codec) -> Result<Vec<u8>> {
        match &self.0 {
            Arg::Raw(bytes) => Ok(bytes.clone()),
            Arg::Value(encode) => encode(codec),
        }
    }
}

impl From<i64> for ScriptArg<'_> {
    fn from(number: i64) -> Self {
        ScriptArg::raw(number.to_string())
    }
}

impl From<&str> for ScriptArg<'_> {
    fn from(text: &str) -> Self {
        ScriptArg::raw(text)
    }
}

/// A script's reply, as the server gives it (Lua's values as Redis converts them).
#[derive(Clone, Debug, PartialEq)]
pub enum ScriptReply {
    /// `nil` or `false`.
    Nil,
    /// An integer (Lua numbers are truncated to integers).
    Int(i64),
    /// A string: bytes, as stored.
    Data(Vec<u8>),
    /// A status (`{ok = ...}`, `redis.status_reply`).
    Status(String),
    /// A table.
    Array(Vec<ScriptReply>),
    /// A double (RESP3).
    Double(f64),
    /// A boolean (RESP3).
    Bool(bool),
}

/// A type a script's reply decodes into, as [`eval_script`](crate::CacheApi::eval_script)'s
/// caller names it: [`ScriptReply`] itself, `()`, `i64`, `u64`, `f64`, `bool`, `String` (a
/// string or a status, UTF-8), `Option<T>` (`nil` is `None`), `Vec<T>` (a table), or
/// [`Decoded<V>`] (a string decoded by the cache's codec, as `get` decodes a value).
pub trait FromScriptReply: Sized {
    /// Decodes `reply` (`codec` decodes stored values).
    fn from_reply(reply: ScriptReply, codec: &Codec) -> Result<Self>;
}

/// A value stored through the codec, returned by a script (`return redis.call('GET',
/// KEYS[1])`), decoded as `get` would decode it.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded<V>(pub V);

/// A reply of another shape than the caller named.
fn mismatch(reply: &ScriptReply, wanted: &str) -> Error {
    Error::unexpected_reply(format!("the script returned {reply:?}, not {wanted}"))
}

/// A number given as text (Lua's `tostring`).
fn parsed<T: std::str::FromStr>(text: &[u8]) -> Option<T> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

impl FromScriptReply for ScriptReply {
    fn from_reply(reply: ScriptReply, _: &Codec) -> Result<Self> {
        Ok(reply)
    }
}

impl FromScriptReply for () {
    fn from_reply(_: ScriptReply, _: &Codec) -> Result<Self> {
        Ok(())
    }
}

impl FromScriptReply for i64 {
    fn from_reply(reply: ScriptReply, _: &Codec) -> Result<Self> {
        match &reply {
            ScriptReply::Int(number) => Ok(*number),
            ScriptReply::Data(text) => parsed(text).ok_or_else(|| mismatch(&reply, "an integer")),
            _ => Err(mismatch(&reply, "an integer")),
        }
    }
}

impl FromScriptReply for u64 {
    fn from_reply(reply: ScriptReply, codec: &Codec) -> Result<Self> {
        let number = i64::from_reply(reply, codec)?;
        u64::try_from(number).map_err(|_| mismatch(&ScriptReply::Int(number), "a u64"))
    }
}

impl FromScriptReply for f64 {
    fn from_reply(reply: ScriptReply, _: &Codec) -> Result<Self> {
        match &reply {
            ScriptReply::Double(number) => Ok(*number),
            #[allow(clippy::cast_precision_loss)] // Lua's numbers are doubles anyway
            ScriptReply::Int(number) => Ok(*number as f64),
            ScriptReply::Data(text) => parsed(text).ok_or_else(|| mismatch(&reply, "a number")),
            _ => Err(mismatch(&reply, "a number")),
        }
    }
}

impl FromScriptReply for bool {
    fn from_reply(reply: ScriptReply, _: &Codec) -> Result<Self> {
        match reply {
            ScriptReply::Bool(value) => Ok(value),
            ScriptReply::Int(number) => Ok(number != 0),
            ScriptReply::Nil => Ok(false),
            ScriptReply::Status(_) => Ok(true),
            other => Err(mismatch(&other, "a boolean")),
        }
    }
}

impl FromScriptReply for String {
    fn from_reply(reply: ScriptReply, _: &Codec) -> Result<Self> {
        match reply {
            ScriptReply::Status(text) => Ok(text),
            ScriptReply::Data(bytes) => String::from_utf8(bytes)
                .map_err(|err| mismatch(&ScriptReply::Data(err.into_bytes()), "UTF-8 text")),
            other => Err(mismatch(&other, "text")),
        }
    }
}

impl<T: FromScriptReply> FromScriptReply for Option<T> {
    fn from_reply(reply: ScriptReply, codec: &Codec) -> Result<Self> {
        match reply {
            ScriptReply::Nil => Ok(None),
            reply => T::from_reply(reply, codec).map(Some),
        }
    }
}

impl<T: FromScriptReply> FromScriptReply for Vec<T> {
    fn from_reply(reply: ScriptReply, codec: &Codec) -> Result<Self> {
        match reply {
            ScriptReply::Array(items) => items
                .into_iter()
                .map(|item| T::from_reply(item, codec))
                .collect(),
            other => Err(mismatch(&other, "a table")),
        }
    }
}

impl<V: DeserializeOwned> FromScriptReply for Decoded<V> {
    fn from_reply(reply: ScriptReply, codec: &Codec) -> Result<Self> {
        match reply {
            ScriptReply::Data(bytes) => codec.decode("script reply", &bytes).map(Decoded),
            ScriptReply::Int(number) => codec
                .decode("script reply", number.to_string().as_bytes())
                .map(Decoded),
            other => Err(mismatch(&other, "a stored value")),
        }
    }
}

#[cfg(feature = "redis")]
impl redis::FromRedisValue for ScriptReply {
    fn from_redis_value(value: redis::Value) -> std::result::Result<Self, redis::ParsingError> {
        use redis::Value;
        Ok(match value {
            Value::Nil => ScriptReply::Nil,
            Value::Int(number) => ScriptReply::Int(number),
            Value::BulkString(bytes) => ScriptReply::Data(bytes),
            Value::SimpleString(text) => ScriptReply::Status(text),
            Value::Okay => ScriptReply::Status("OK".to_owned()),
            Value::Array(items) | Value::Set(items) => ScriptReply::Array(
                items
                    .into_iter()
                    .map(ScriptReply::from_redis_value)
                    .collect::<std::result::Result<_, _>>()?,
            ),
            Value::Double(number) => ScriptReply::Double(number),
            Value::Boolean(value) => ScriptReply::Bool(value),
            Value::VerbatimString { text, .. } => ScriptReply::Data(text.into_bytes()),
            Value::BigNumber(number) => ScriptReply::Data(number),
            Value::Map(pairs) => ScriptReply::Array(
                pairs
                    .into_iter()
                    .flat_map(|(key, value)| [key, value])
                    .map(ScriptReply::from_redis_value)
                    .collect::<std::result::Result<_, _>>()?,
            ),
            other => {
                return Err(redis::ParsingError::from(format!(
                    "a script reply of an unknown kind: {other:?}"
                )));
            }
        })
    }
}
