//! Value codecs: how values become the bytes stored in the cache, in django-cachex's format.
//!
//! The format, as django-cachex 0.14.1 writes it (the cache's `encode`, then redis-py's
//! `Encoder`; 0.3.0's `KeyValueCacheClient.encode` wrote the same bytes) and reads it
//! (`decode`):
//!
//! - **Plain integers** (not bools) are stored as their decimal text (`42`, `-7`), so that
//!   Redis' `INCR` works on them; no serializer or compressor is involved, whatever the
//!   configuration.
//! - **Anything else** is serialized with the first serializer, then, if a compressor is
//!   configured and the serialized payload is *longer than* `min_length` bytes (256 by
//!   default; a payload of exactly `min_length` bytes is stored uncompressed), compressed with
//!   the first compressor. Nothing marks a value as compressed.
//! - **Reading** tries, in order: the bytes as an integer (Python's `int(bytes)`); then as a
//!   finite float (Python's `float(bytes)`: what `INCRBYFLOAT`/`HINCRBYFLOAT` store; 0.14.1
//!   does this, 0.3.0 did not); then each configured compressor in turn, keeping the first that decompresses the bytes (if none
//!   does, the bytes are used as they are); then each configured serializer in turn, keeping
//!   the first that parses the payload.
//!
//! [`Codec`] does the same, byte for byte where the algorithms allow it: see [`Codec`] for what
//! differs. Checked against vectors made by django-cachex itself (`tests/fixtures/django/`).
//!
//! django-cachex's default serializer is pickle. With the `pickle` feature cachex reads and
//! writes pickled plain data ([`Serializer::Pickle`]), and refuses any pickle that names a
//! class or a callable; without it, the Django side must set
//! `"serializer": "django_cachex.serializers.json.JsonSerializer"` (or the MessagePack one;
//! django-cachex 0.3 spelled them `JSONSerializer` and `MessagePackSerializer`) in its cache
//! `OPTIONS`.

mod compress;
mod integer;
#[cfg(feature = "pickle")]
mod pickle;
mod pyjson;

use std::borrow::Cow;
use std::fmt;
#[cfg(feature = "msgpack")]
use std::io::Cursor;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// Deepest nesting of arrays and maps either serializer reads (serde_json's own limit).
#[cfg(feature = "msgpack")]
const MAX_DEPTH: usize = 128;

/// The longest stored value whose decoding counts as quick (see [`Codec::decodes_quickly`]).
const QUICK_DECODE: usize = 1024;

/// Default of [`CodecBuilder::min_length`]: django-cachex's `BaseCompressor.min_length`.
pub const DEFAULT_MIN_LENGTH: usize = 256;

/// Default of [`CodecBuilder::max_decompressed_len`]: 64 MiB.
///
/// Decompression stops with [`Error::Decode`] once its output would pass this size, so a
/// small "zip bomb" cannot exhaust memory (reading allocates at most about twice the cap).
/// Redis accepts values up to 512 MB, but a cache value that decompresses to more than 64 MiB
/// is far more likely an attack or a mistake than data; raise the cap if you store such
/// values. django-cachex itself has no cap.
pub const DEFAULT_MAX_DECOMPRESSED_LEN: usize = 64 * 1024 * 1024;

/// How values other than plain integers are turned into bytes.
///
/// The names accepted by [`FromStr`] are the short ones (`json`, `msgpack`, `pickle`) and
/// django-cachex's class paths, as 0.14.1 spells them
/// (`django_cachex.serializers.json.JsonSerializer`, `...msgpack.MsgpackSerializer`,
/// `...pickle.PickleSerializer`) and as 0.3 did (`...json.JSONSerializer`,
/// `...msgpack.MessagePackSerializer`), so a service can reuse its Django `OPTIONS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Serializer {
    /// JSON, written exactly as django-cachex's `JSONSerializer` writes it (Python's
    /// `json.dumps` defaults: `", "` and `": "` separators, non-ASCII characters escaped as
    /// `\uXXXX`, floats in Python's `repr` form), and read with floats correctly rounded, so
    /// that every float Python wrote comes back bit for bit. The default.
    #[default]
    Json,
    /// MessagePack, as django-cachex's `MessagePackSerializer` (`msgpack.dumps`): the smallest
    /// integer encoding, floats as float64 when the Rust value is an `f64`, strings as `str`,
    /// Rust structs as maps keyed by field name. Read as `msgpack.loads` does: bytes left
    /// after the value are refused (so that a fallback serializer gets its turn).
    MessagePack,
    /// Python's pickle, django-cachex's default `PickleSerializer`, for plain data only (the
    /// `pickle` feature). Reads protocols 0 to 5 (Python 3.14 writes 5, older Pythons 4) when
    /// the pickle holds only None, bools, numbers, str, bytes, lists, tuples, dicts, sets and
    /// frozensets; a pickle that names a global, calls one or builds an object (a class
    /// instance, `os.system`, a `datetime`) is refused before anything is decoded, and nothing
    /// is ever executed or instantiated. Nesting deeper than 128 levels is refused, as in the
    /// other readers. Writes protocol 3 (serde-pickle), which every Python 3 reads: structs and
    /// maps as dicts, sequences as lists, tuples as tuples, byte buffers (`serde_bytes`) as
    /// bytes.
    Pickle,
}

impl Serializer {
    /// The short name: `json`, `msgpack` or `pickle`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::MessagePack => "msgpack",
            Self::Pickle => "pickle",
        }
    }

    /// Whether this build of cachex includes this serializer (MessagePack needs the `msgpack`
    /// feature, pickle the `pickle` feature). A [`CodecBuilder`] naming one that is not
    /// included fails to build with [`Error::Config`].
    pub const fn is_available(self) -> bool {
        match self {
            Self::Json => true,
            Self::MessagePack => cfg!(feature = "msgpack"),
            Self::Pickle => cfg!(feature = "pickle"),
        }
    }

    /// The feature of cachex that includes this serializer, if any is needed.
    const fn feature(self) -> Option<&'static str> {
        match self {
            Self::Json => None,
            Self::MessagePack => Some("msgpack"),
            Self::Pickle => Some("pickle"),
        }
    }

    fn serialize<V: Serialize + ?Sized>(self, value: &V) -> Result<Vec<u8>> {
        let encode = |reason: String| Error::Encode { reason };
        match self {
            Self::Json => pyjson::to_vec(value).map_err(|e| encode(format!("json: {e}"))),
            #[cfg(not(feature = "msgpack"))]
            Self::MessagePack => Err(encode(not_included(self.name(), "msgpack"))),
            #[cfg(feature = "msgpack")]
            Self::MessagePack => {
                let mut out = Vec::with_capacity(64);
                let mut serializer = rmp_serde::Serializer::new(&mut out).with_struct_map();
                value
                    .serialize(&mut serializer)
                    .map_err(|e| encode(format!("msgpack: {e}")))?;
                Ok(out)
            }
            #[cfg(not(feature = "pickle"))]
            Self::Pickle => Err(encode(not_included(self.name(), "pickle"))),
            #[cfg(feature = "pickle")]
            Self::Pickle => pickle::to_vec(value).map_err(|e| encode(format!("pickle: {e}"))),
        }
    }

    fn deserialize<V: DeserializeOwned>(self, payload: &[u8]) -> std::result::Result<V, String> {
        match self {
            Self::Json => serde_json::from_slice(payload).map_err(|err| err.to_string()),
            #[cfg(not(feature = "msgpack"))]
            Self::MessagePack => Err(not_included(self.name(), "msgpack")),
            #[cfg(feature = "msgpack")]
            Self::MessagePack => {
                // Like `msgpack.loads`, refuse bytes left over after the value: without this
                // check a JSON payload such as `{"a": 1}` would read as the integer 123.
                let mut deserializer = rmp_serde::Deserializer::new(Cursor::new(payload));
                // The JSON reader's nesting limit, not rmp-serde's 1024: deep recursion could
                // overflow a worker thread's stack.
                deserializer.set_max_depth(MAX_DEPTH);
                let value = V::deserialize(&mut deserializer).map_err(|e| e.to_string())?;
                let used = deserializer.position();
                if used != payload.len() as u64 {
                    return Err(format!(
                        "{} bytes of extra data after the value",
                        payload.len() as u64 - used
                    ));
                }
                Ok(value)
            }
            #[cfg(not(feature = "pickle"))]
            Self::Pickle => Err(not_included(self.name(), "pickle")),
            #[cfg(feature = "pickle")]
            Self::Pickle => pickle::from_slice(payload),
        }
    }
}

impl fmt::Display for Serializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names [`Serializer`]'s [`FromStr`] accepts: the short ones, and django-cachex's classes
/// as 0.3 spelled them (`JSONSerializer`, `MessagePackSerializer`) and as 0.14.1 does
/// (`JsonSerializer`, `MsgpackSerializer`); `PickleSerializer` is spelled the same in both.
const SERIALIZER_NAMES: &[(&str, Serializer)] = &[
    ("json", Serializer::Json),
    ("msgpack", Serializer::MessagePack),
    ("messagepack", Serializer::MessagePack),
    ("pickle", Serializer::Pickle),
    (
        "django_cachex.serializers.pickle.PickleSerializer",
        Serializer::Pickle,
    ),
    (
        "django_cachex.serializers.json.JsonSerializer",
        Serializer::Json,
    ),
    (
        "django_cachex.serializers.msgpack.MsgpackSerializer",
        Serializer::MessagePack,
    ),
    (
        "django_cachex.serializers.json.JSONSerializer",
        Serializer::Json,
    ),
    (
        "django_cachex.serializers.msgpack.MessagePackSerializer",
        Serializer::MessagePack,
    ),
];

impl FromStr for Serializer {
    type Err = Error;

    /// A short name (`json`, `msgpack`, `pickle`) or django-cachex's class (0.3's or 0.14.1's).
    /// Anything else is [`Error::Config`] naming it, with the closest known name when one is
    /// close.
    fn from_str(name: &str) -> Result<Self> {
        from_name(
            "serializer",
            SERIALIZER_NAMES,
            "json, msgpack or pickle",
            name,
        )
    }
}

/// The entry of `names` called `name`, or the error that names it (`what` is `serializer` or
/// `compressor`, `short` the short names, for the message).
fn from_name<T: Copy>(what: &str, names: &[(&str, T)], short: &str, name: &str) -> Result<T> {
    if let Some((_, found)) = names.iter().find(|(known, _)| *known == name) {
        return Ok(*found);
    }
    let meant = crate::url_text::closest(name, names.iter().map(|(known, _)| *known))
        .map(|meant| format!("did you mean {meant}? "))
        .unwrap_or_default();
    Err(Error::config(format!(
        "unknown {what} {name:?}: {meant}expected {short}, or django-cachex's class of one of \
         them"
    )))
}

/// A compression algorithm, in the layout django-cachex's compressor classes write.
///
/// The compression level is set on the [`CodecBuilder`]; its default is django-cachex's.
/// The names accepted by [`FromStr`] are the short ones (`zlib`, `gzip`, `zstd`, `lz4`) and
/// django-cachex's class paths (`django_cachex.compressors.zlib.ZlibCompressor`, ...; for
/// Zstandard both 0.14.1's `ZstdCompressor` and 0.3's `ZStdCompressor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compressor {
    /// zlib (RFC 1950), as `ZlibCompressor`: levels 0 to 9, default 6.
    Zlib,
    /// gzip (RFC 1952), as `GzipCompressor` (Python's `gzip.compress`): levels 0 to 9,
    /// default 9. The header's modification time is written as 0.
    Gzip,
    /// Zstandard, as `ZStdCompressor`: levels from zstd's range (negative ones are fast
    /// modes), default 3.
    Zstd,
    /// LZ4 frames, as `Lz4Compressor` (`lz4.frame.compress`): content size in the header, no
    /// checksums, 64 KiB blocks. No level.
    Lz4,
}

impl Compressor {
    /// The short name: `zlib`, `gzip`, `zstd` or `lz4`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Zlib => "zlib",
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
            Self::Lz4 => "lz4",
        }
    }

    /// The level django-cachex compresses at, `None` for LZ4, which has no level.
    pub const fn default_level(self) -> Option<i32> {
        match self {
            Self::Zlib => Some(6),
            Self::Gzip => Some(9),
            Self::Zstd => Some(3),
            Self::Lz4 => None,
        }
    }

    /// Whether this build of cachex includes this compressor (each has its feature: `zlib`,
    /// `gzip`, `zstd`, `lz4`, all on by default). A [`CodecBuilder`] naming one that is not
    /// included fails to build with [`Error::Config`].
    pub const fn is_available(self) -> bool {
        match self {
            Self::Zlib => cfg!(feature = "zlib"),
            Self::Gzip => cfg!(feature = "gzip"),
            Self::Zstd => cfg!(feature = "zstd"),
            Self::Lz4 => cfg!(feature = "lz4"),
        }
    }

    fn check_level(self, level: i32) -> Result<()> {
        let valid = match self {
            Self::Zlib | Self::Gzip => (0..=9).contains(&level),
            #[cfg(feature = "zstd")]
            Self::Zstd => zstd::compression_level_range().contains(&level),
            // Checked by `build` before levels: never reached without the feature.
            #[cfg(not(feature = "zstd"))]
            Self::Zstd => true,
            Self::Lz4 => false,
        };
        if valid {
            Ok(())
        } else if self == Self::Lz4 {
            Err(Error::config("lz4 has no compression level"))
        } else {
            Err(Error::config(format!(
                "invalid {self} compression level {level}"
            )))
        }
    }
}

impl fmt::Display for Compressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names [`Compressor`]'s [`FromStr`] accepts: the short ones, and django-cachex's classes,
/// spelled the same in 0.3 and 0.14.1 but for Zstandard's (`ZStdCompressor` in 0.3,
/// `ZstdCompressor` in 0.14.1).
const COMPRESSOR_NAMES: &[(&str, Compressor)] = &[
    ("zlib", Compressor::Zlib),
    ("gzip", Compressor::Gzip),
    ("zstd", Compressor::Zstd),
    ("lz4", Compressor::Lz4),
    (
        "django_cachex.compressors.zlib.ZlibCompressor",
        Compressor::Zlib,
    ),
    (
        "django_cachex.compressors.gzip.GzipCompressor",
        Compressor::Gzip,
    ),
    (
        "django_cachex.compressors.zstd.ZstdCompressor",
        Compressor::Zstd,
    ),
    (
        "django_cachex.compressors.zstd.ZStdCompressor",
        Compressor::Zstd,
    ),
    (
        "django_cachex.compressors.lz4.Lz4Compressor",
        Compressor::Lz4,
    ),
];

impl FromStr for Compressor {
    type Err = Error;

    /// A short name (`zlib`, `gzip`, `zstd`, `lz4`) or django-cachex's class (0.3's or
    /// 0.14.1's). Anything else is [`Error::Config`] naming it, with the closest known name
    /// when one is close.
    fn from_str(name: &str) -> Result<Self> {
        from_name(
            "compressor",
            COMPRESSOR_NAMES,
            "zlib, gzip, zstd or lz4",
            name,
        )
    }
}

/// Turns values into the bytes stored in the cache and back, interoperable with
/// django-cachex (see the [module documentation](self) for the format).
///
/// ```
/// use cachex::codec::{Codec, Compressor, Serializer};
/// use serde_json::{Value, json};
///
/// // JSON, zstd above 256 bytes, and able to read values an older configuration wrote
/// // with MessagePack or zlib.
/// let codec = Codec::builder()
///     .serializer(Serializer::Json)
///     .fallback_serializer(Serializer::MessagePack)
///     .compressor(Compressor::Zstd)
///     .fallback_compressor(Compressor::Zlib)
///     .build()?;
///
/// // Integers are their decimal text: Redis can INCR them and Django reads an int.
/// assert_eq!(codec.encode(&42)?, b"42");
/// assert_eq!(codec.decode::<i64>("hits", b"43")?, 43);
///
/// // Anything else is JSON as Python's json.dumps writes it...
/// let bytes = codec.encode(&json!({"name": "Zoë", "tags": [1, 2.5, true, null]}))?;
/// assert_eq!(bytes, br#"{"name": "Zo\u00eb", "tags": [1, 2.5, true, null]}"#);
/// assert_eq!(codec.decode::<Value>("user", &bytes)?["name"], "Zoë");
///
/// // ...compressed once longer than 256 bytes.
/// let long = "x".repeat(300);
/// let bytes = codec.encode(&long)?;
/// assert!(bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])); // a zstd frame
/// assert_eq!(codec.decode::<String>("long", &bytes)?, long);
///
/// // Corrupt data is an error naming the key, never a panic.
/// let error = codec.decode::<Value>("user", b"\x28\xb5\x2f\xfd garbage").unwrap_err();
/// assert!(error.to_string().contains("\"user\""));
/// # Ok::<(), cachex::Error>(())
/// ```
///
/// # Differences from django-cachex
///
/// - Compressed bytes are not always identical to Python's, though Python reads them all: the
///   zlib and gzip deflate streams come from miniz_oxide, not zlib, and LZ4 blocks from
///   lz4_flex, not liblz4 (zstd uses the same libzstd and matches). gzip headers carry
///   mtime 0 where Python writes the current time.
/// - JSON cannot hold NaN or infinities: serde_json writes them as `null` where Python writes
///   `NaN`/`Infinity`, and values Python stored with those tokens do not decode.
/// - Integers are read up to the `i128`/`u128` range; longer integer text (Python ints have
///   no limit) falls through to the serializers.
/// - Decompression output is capped ([`CodecBuilder::max_decompressed_len`]).
/// - Maps are written in the order the Rust value gives (struct fields in declaration order,
///   `serde_json::Value` and `BTreeMap` sorted), Python's in insertion order; both sides read
///   any order.
/// - Integers inside JSON beyond 64 bits are read as floats (serde_json's `Value` has no
///   larger integers).
/// - Types decide what they accept: a value Django stored as an integer is returned as such
///   only if the requested type takes integers (`i64`, `f64`, `serde_json::Value`, ...);
///   otherwise decoding goes on through the serializers, which then usually refuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    /// The writing serializer first, then the fallbacks.
    serializers: Vec<Serializer>,
    compressor: Option<Compressor>,
    level: i32,
    min_length: usize,
    /// The writing compressor first (if any), then the fallbacks.
    decompressors: Vec<Compressor>,
    max_decompressed_len: usize,
}

impl Default for Codec {
    /// JSON, no compression: what a django-cachex cache configured with `JSONSerializer` and
    /// no compressor writes.
    fn default() -> Self {
        Self {
            serializers: vec![Serializer::Json],
            compressor: None,
            level: 0,
            min_length: DEFAULT_MIN_LENGTH,
            decompressors: Vec::new(),
            max_decompressed_len: DEFAULT_MAX_DECOMPRESSED_LEN,
        }
    }
}

impl Codec {
    /// The default codec: JSON, no compression.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> CodecBuilder {
        CodecBuilder::default()
    }

    /// The serializer values are written with.
    pub fn serializer(&self) -> Serializer {
        self.serializers.first().copied().unwrap_or_default()
    }

    /// The compressor values are written with, if any.
    pub fn compressor(&self) -> Option<Compressor> {
        self.compressor
    }

    /// The level values are compressed at: `None` without a compressor, or with LZ4, which
    /// has no level.
    pub fn compression_level(&self) -> Option<i32> {
        self.compressor
            .and_then(|compressor| compressor.default_level())
            .map(|_| self.level)
    }

    /// Serialized payloads longer than this many bytes are compressed.
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// The bytes to store for `value`.
    ///
    /// A value that serializes as a plain integer (any Rust integer type, also inside `Some`
    /// or a newtype struct; not a bool) becomes its decimal text. Anything else is serialized,
    /// then compressed if a compressor is set and the payload is longer than `min_length`.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if the value cannot be serialized (a map with non-string keys in
    /// JSON, a failing `Serialize` implementation) or compressed.
    pub fn encode<V: Serialize + ?Sized>(&self, value: &V) -> Result<Vec<u8>> {
        if let Some(text) = integer::integer_text(value) {
            return Ok(text.into_bytes());
        }
        let payload = self.serializer().serialize(value)?;
        match self.compressor {
            Some(compressor) if payload.len() > self.min_length => compressor
                .compress(&payload, self.level)
                .map_err(|e| Error::Encode {
                    reason: format!("{compressor}: {e}"),
                }),
            _ => Ok(payload),
        }
    }

    /// The value stored as `bytes` under `key` (the key is only used in errors).
    ///
    /// Integer text first (as Python's `int(bytes)` reads it), if `V` takes an integer; then
    /// finite float text (as Python's `float(bytes)` reads it), if `V` takes a float; then
    /// the configured compressors in order, the first that decompresses the bytes winning
    /// (none: the bytes as they are); then the configured serializers in order.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`], naming `key` and saying what each decoder said, if no serializer
    /// accepts the payload (corrupt, truncated or foreign data, or a value of another shape
    /// than `V`), or if decompression would produce more than the configured maximum.
    pub fn decode<V: DeserializeOwned>(&self, key: &str, bytes: &[u8]) -> Result<V> {
        // The usual case, in few instructions: no number text and nothing to decompress with,
        // so the stored bytes go straight to the serializers.
        if self.decompressors.is_empty() && !integer::may_be_number(bytes) {
            return self.deserialize(key, bytes, Vec::new());
        }
        self.decode_number_or_payload(key, bytes)
    }

    /// [`decode`](Self::decode) of `bytes` that may be number text or compressed.
    #[inline(never)]
    fn decode_number_or_payload<V: DeserializeOwned>(&self, key: &str, bytes: &[u8]) -> Result<V> {
        let mut notes = Vec::new();
        if integer::may_be_number(bytes) {
            if let Some(n) = integer::parse_python_int(bytes) {
                match integer::from_int(n) {
                    Some(value) => return Ok(value),
                    None => notes.push(format!(
                        "the integer {n} is not a {}",
                        short_type_name::<V>()
                    )),
                }
            }
            // Bare float text (`HINCRBYFLOAT`'s), as django-cachex 0.14.1 reads it: a float
            // whatever the serializer. Not NaN or the infinities, which no serializer here reads
            // as such and `INCRBYFLOAT` never stores: those go on to the serializers as before.
            if let Some(x) = integer::parse_python_float(bytes).filter(|x| x.is_finite()) {
                match integer::from_float(x) {
                    Some(value) => return Ok(value),
                    None => {
                        notes.push(format!("the float {x} is not a {}", short_type_name::<V>()))
                    }
                }
            }
        }
        let payload = if self.decompressors.is_empty() {
            Cow::Borrowed(bytes)
        } else {
            self.decompress(key, bytes, &mut notes)?
        };
        self.deserialize(key, &payload, notes)
    }

    /// The value the first serializer that reads `payload` makes of it; else
    /// [`Error::Decode`] with `notes` (what was said before) and what each one said.
    #[inline]
    fn deserialize<V: DeserializeOwned>(
        &self,
        key: &str,
        payload: &[u8],
        mut notes: Vec<String>,
    ) -> Result<V> {
        for serializer in &self.serializers {
            match serializer.deserialize(payload) {
                Ok(value) => return Ok(value),
                Err(reason) => notes.push(format!("{serializer}: {reason}")),
            }
        }
        Err(Error::Decode {
            key: key.to_owned(),
            reason: notes.join("; "),
        })
    }

    /// Whether decoding `bytes` is sure to be quick: at most [`QUICK_DECODE`] bytes, and no
    /// decompressor configured (a short compressed payload may inflate to much more). Such a
    /// value may be decoded where a lock is held.
    pub(crate) fn decodes_quickly(&self, bytes: &[u8]) -> bool {
        bytes.len() <= QUICK_DECODE && self.decompressors.is_empty()
    }

    /// The serialized payload inside stored `bytes`: decompressed by the first configured
    /// compressor that applies, else `bytes` themselves (integer text included). For
    /// inspecting stored values; [`decode`](Self::decode) is this, then the serializers.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] naming `key` if decompression would produce more than the configured
    /// maximum.
    pub fn payload<'a>(&self, key: &str, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>> {
        self.decompress(key, bytes, &mut Vec::new())
    }

    /// The payload inside `bytes`: decompressed by the first compressor that applies, or
    /// `bytes` themselves.
    fn decompress<'a>(
        &self,
        key: &str,
        bytes: &'a [u8],
        notes: &mut Vec<String>,
    ) -> Result<Cow<'a, [u8]>> {
        for &compressor in &self.decompressors {
            if !compressor.may_apply(bytes) {
                continue;
            }
            match compressor.decompress(bytes, self.max_decompressed_len) {
                Ok(payload) => return Ok(Cow::Owned(payload)),
                Err(compress::Refusal::Invalid(reason)) => {
                    notes.push(format!("{compressor}: {reason}"));
                }
                Err(compress::Refusal::TooLarge) => {
                    return Err(Error::Decode {
                        key: key.to_owned(),
                        reason: format!(
                            "{compressor}: decompresses to more than {} bytes",
                            self.max_decompressed_len
                        ),
                    });
                }
            }
        }
        Ok(Cow::Borrowed(bytes))
    }
}

/// Builds a [`Codec`]; start from [`Codec::builder`].
#[derive(Debug, Clone)]
pub struct CodecBuilder {
    serializer: Serializer,
    fallback_serializers: Vec<Serializer>,
    compressor: Option<Compressor>,
    level: Option<i32>,
    min_length: usize,
    fallback_compressors: Vec<Compressor>,
    max_decompressed_len: usize,
}

impl Default for CodecBuilder {
    fn default() -> Self {
        Self {
            serializer: Serializer::Json,
            fallback_serializers: Vec::new(),
            compressor: None,
            level: None,
            min_length: DEFAULT_MIN_LENGTH,
            fallback_compressors: Vec::new(),
            max_decompressed_len: DEFAULT_MAX_DECOMPRESSED_LEN,
        }
    }
}

impl CodecBuilder {
    /// The serializer values are written with, and tried first on reading (default JSON).
    pub fn serializer(mut self, serializer: Serializer) -> Self {
        self.serializer = serializer;
        self
    }

    /// A serializer tried on reading after the ones before it, for values written by another
    /// configuration (django-cachex's serializer list, after its first entry).
    pub fn fallback_serializer(mut self, serializer: Serializer) -> Self {
        self.fallback_serializers.push(serializer);
        self
    }

    /// The compressor values are written with, and tried first on reading (default none).
    pub fn compressor(mut self, compressor: Compressor) -> Self {
        self.compressor = Some(compressor);
        self
    }

    /// The compression level of [`compressor`](Self::compressor): 0 to 9 for zlib and gzip,
    /// zstd's range for zstd; LZ4 has none. Default: [`Compressor::default_level`], which is
    /// django-cachex's.
    pub fn compression_level(mut self, level: i32) -> Self {
        self.level = Some(level);
        self
    }

    /// Serialized payloads longer than this many bytes are compressed; default
    /// [`DEFAULT_MIN_LENGTH`] (256), as django-cachex.
    pub fn min_length(mut self, min_length: usize) -> Self {
        self.min_length = min_length;
        self
    }

    /// A compressor tried on reading after the ones before it, for values written by another
    /// configuration (django-cachex's compressor list, after its first entry). It may be set
    /// without [`compressor`](Self::compressor): then values are written uncompressed and
    /// compressed ones are still read.
    pub fn fallback_compressor(mut self, compressor: Compressor) -> Self {
        self.fallback_compressors.push(compressor);
        self
    }

    /// The largest output decompression may produce; default
    /// [`DEFAULT_MAX_DECOMPRESSED_LEN`] (64 MiB).
    pub fn max_decompressed_len(mut self, max: usize) -> Self {
        self.max_decompressed_len = max;
        self
    }

    /// The codec.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a serializer or compressor (fallbacks included) that this build
    /// of cachex does not include (see [`Compressor::is_available`]), a compression level
    /// without a compressor, a level out of the compressor's range, or any level for LZ4.
    pub fn build(self) -> Result<Codec> {
        let serializers =
            std::iter::once(self.serializer).chain(self.fallback_serializers.iter().copied());
        for serializer in serializers {
            if let (false, Some(feature)) = (serializer.is_available(), serializer.feature()) {
                return Err(Error::config(not_included(serializer.name(), feature)));
            }
        }
        for compressor in self.compressor.iter().chain(&self.fallback_compressors) {
            if !compressor.is_available() {
                return Err(Error::config(not_included(
                    compressor.name(),
                    compressor.name(),
                )));
            }
        }
        let level = match (self.compressor, self.level) {
            (None, Some(_)) => {
                return Err(Error::config("a compression level needs a compressor"));
            }
            (Some(compressor), Some(level)) => {
                compressor.check_level(level)?;
                level
            }
            (Some(compressor), None) => compressor.default_level().unwrap_or(0),
            (None, None) => 0,
        };
        let mut serializers = vec![self.serializer];
        for serializer in self.fallback_serializers {
            if !serializers.contains(&serializer) {
                serializers.push(serializer);
            }
        }
        let mut decompressors: Vec<Compressor> = self.compressor.into_iter().collect();
        for compressor in self.fallback_compressors {
            if !decompressors.contains(&compressor) {
                decompressors.push(compressor);
            }
        }
        Ok(Codec {
            serializers,
            compressor: self.compressor,
            level,
            min_length: self.min_length,
            decompressors,
            max_decompressed_len: self.max_decompressed_len,
        })
    }
}

/// Why a codec cannot be used: the feature that includes it is off.
fn not_included(codec: &str, feature: &str) -> String {
    format!(
        "the {codec} codec is not included in this build of cachex: enable its `{feature}` feature"
    )
}

/// The integer a stored counter holds, as Redis' `INCR` reads it: an optional `-`, then `0`
/// or digits without a leading zero, within `i64`. `None` for anything else, including text
/// that [`Codec::decode`] would still read as an integer the way Python's `int()` does
/// (`" 7"`, `"+7"`, `"007"`, `"1_000"`): Redis refuses to increment those, and an embedded
/// backend emulating `INCR` should too.
///
/// ```
/// use cachex::codec::counter_value;
///
/// assert_eq!(counter_value(b"-42"), Some(-42));
/// assert_eq!(counter_value(b"007"), None);
/// assert_eq!(counter_value(br#""42""#), None); // a JSON string, not a counter
/// ```
pub fn counter_value(bytes: &[u8]) -> Option<i64> {
    integer::redis_integer(bytes)
}

/// The name of a type without its module paths, for messages: `Option<String>`, not
/// `core::option::Option<alloc::string::String>`.
fn short_type_name<V>() -> String {
    let full = std::any::type_name::<V>();
    let mut short = String::with_capacity(full.len());
    for part in full.split_inclusive(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        let (path, delimiter) = match part.char_indices().last() {
            Some((at, c)) if !(c.is_alphanumeric() || c == '_' || c == ':') => part.split_at(at),
            _ => (part, ""),
        };
        short.push_str(path.rsplit("::").next().unwrap_or(path));
        short.push_str(delimiter);
    }
    short
}

// The unit tests use every codec.
#[cfg(all(
    test,
    feature = "msgpack",
    feature = "zlib",
    feature = "gzip",
    feature = "zstd",
    feature = "lz4"
))]
mod tests;

// Run by `scripts/check-features`, on a build with no optional codec.
#[cfg(all(
    test,
    not(feature = "msgpack"),
    not(feature = "zlib"),
    not(feature = "gzip"),
    not(feature = "zstd"),
    not(feature = "lz4")
))]
mod without_codecs {
    use super::*;
    use crate::Cache;

    fn config_message(result: Result<impl fmt::Debug>) -> String {
        match result {
            Err(Error::Config { reason: message }) => message,
            other => panic!("expected Error::Config, got {other:?}"),
        }
    }

    #[test]
    fn naming_a_codec_that_is_not_included_is_a_config_error() {
        for compressor in [
            Compressor::Zlib,
            Compressor::Gzip,
            Compressor::Zstd,
            Compressor::Lz4,
        ] {
            assert!(!compressor.is_available());
            let message = config_message(Codec::builder().compressor(compressor).build());
            assert!(
                message.contains(&format!("enable its `{compressor}` feature")),
                "{message}"
            );
            let message = config_message(Codec::builder().fallback_compressor(compressor).build());
            assert!(message.contains(compressor.name()), "{message}");
        }
        assert!(!Serializer::MessagePack.is_available());
        let message = config_message(
            Codec::builder()
                .fallback_serializer(Serializer::MessagePack)
                .build(),
        );
        assert!(message.contains("`msgpack` feature"), "{message}");
        let message = config_message(Cache::from_url("memory://?compressor=zstd"));
        assert!(message.contains("`zstd` feature"), "{message}");
        let message = config_message(Cache::from_url("memory://?serializer=msgpack"));
        assert!(message.contains("`msgpack` feature"), "{message}");
    }

    #[test]
    fn json_without_compression_still_works() -> Result<()> {
        let codec = Codec::builder().build()?;
        let bytes = codec.encode(&serde_json::json!({"a": [1, 2]}))?;
        assert_eq!(bytes, br#"{"a": [1, 2]}"#);
        assert_eq!(
            codec.decode::<serde_json::Value>("k", &bytes)?,
            serde_json::json!({"a": [1, 2]})
        );
        Ok(())
    }
}
