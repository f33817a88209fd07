//! What the `cargo fuzz` targets of `fuzz/` run, one input at a time, so that the normal test
//! suite can replay their corpus (`tests/tests/fuzz_corpus.rs`) through exactly the same code.
//!
//! - [`decode`]: the first byte picks a codec (serializer, compressor, fallbacks, `min_length`),
//!   the rest is stored bytes, decoded into several types. Decoding must never panic, and a
//!   value that decodes as a `serde_json::Value` must encode and decode back to itself.
//! - [`keys`]: the input is a prefix, a version, a validation mode and a key. The made key must
//!   be Django's `{prefix}:{version}:{key}`, validation must refuse exactly what Django warns
//!   about, and `clear` on the in-memory backend must delete this prefix's key and no key of
//!   a neighbouring prefix (glob characters in the prefix are escaped).

use std::collections::HashMap;

use cachex::codec::{Codec, Compressor, Serializer};
use cachex::keys::{KeyValidation, MAX_KEY_LENGTH, escape_glob};
use cachex::prelude::*;
use serde::Deserialize;

/// The largest output decompression may produce while fuzzing: small, so that runs stay fast,
/// and so that the cap itself is exercised.
const MAX_DECOMPRESSED: usize = 1 << 20;

/// The codec the selector byte of a [`decode`] input picks: bit 0 the serializer, bits 1-3 the
/// compressor (none, zlib, gzip, zstd, lz4), bit 4 the other serializer as a fallback, bit 5
/// every compressor as a fallback, bit 6 `min_length` 0 instead of 256.
pub fn codec_for(selector: u8) -> Codec {
    let (serializer, other) = if selector & 1 == 0 {
        (Serializer::Json, Serializer::MessagePack)
    } else {
        (Serializer::MessagePack, Serializer::Json)
    };
    const COMPRESSORS: [Compressor; 4] = [
        Compressor::Zlib,
        Compressor::Gzip,
        Compressor::Zstd,
        Compressor::Lz4,
    ];
    let mut builder = Codec::builder()
        .serializer(serializer)
        .max_decompressed_len(MAX_DECOMPRESSED);
    if let Some(&compressor) = COMPRESSORS.get(usize::from((selector >> 1) & 7) % 5) {
        builder = builder.compressor(compressor);
    }
    if selector & 0x10 != 0 {
        builder = builder.fallback_serializer(other);
    }
    if selector & 0x20 != 0 {
        for compressor in COMPRESSORS {
            builder = builder.fallback_compressor(compressor);
        }
    }
    if selector & 0x40 != 0 {
        builder = builder.min_length(0);
    }
    builder.build().expect("a valid codec")
}

/// A typed value of some depth, to decode into.
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // only decoded
struct Profile {
    name: String,
    tags: Vec<String>,
    score: Option<f64>,
    kind: Kind,
    extra: HashMap<String, (i32, bool)>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // only decoded
enum Kind {
    Plain,
    Weighted(u32),
    Named { name: String },
}

/// One input of the `decode` fuzz target (see the module documentation).
///
/// # Panics
///
/// When decoding panics, or a decoded `serde_json::Value` does not survive encoding and
/// decoding again.
pub fn decode(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let codec = codec_for(selector);
    // Every type must give a value or a typed error; none may panic.
    let _ = codec.decode::<String>("k", bytes);
    let _ = codec.decode::<i64>("k", bytes);
    let _ = codec.decode::<u8>("k", bytes);
    let _ = codec.decode::<f64>("k", bytes);
    let _ = codec.decode::<bool>("k", bytes);
    let _ = codec.decode::<char>("k", bytes);
    let _ = codec.decode::<()>("k", bytes);
    let _ = codec.decode::<Option<String>>("k", bytes);
    let _ = codec.decode::<Vec<u8>>("k", bytes);
    let _ = codec.decode::<Vec<u32>>("k", bytes);
    let _ = codec.decode::<HashMap<String, Option<i64>>>("k", bytes);
    let _ = codec.decode::<Profile>("k", bytes);
    if let Ok(value) = codec.decode::<serde_json::Value>("k", bytes) {
        let encoded = codec
            .encode(&value)
            .unwrap_or_else(|err| panic!("{value:?} decoded but does not encode: {err}"));
        let again: serde_json::Value = codec.decode("k", &encoded).unwrap_or_else(|err| {
            panic!("{value:?} encoded as {encoded:?} does not decode: {err}")
        });
        assert_eq!(again, value, "encoded as {encoded:?}");
    }
}

/// One input of the `keys` fuzz target: `selector, prefix, 0x1f, key` (see the module
/// documentation). The selector's low two bits pick the validation, the whole byte (as `i8`)
/// the version.
///
/// # Panics
///
/// When a made key, a validation or a `clear` is wrong.
pub fn keys(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (prefix, key) = text.split_once('\u{1f}').unwrap_or((&text, ""));
    let version = i64::from(selector as i8);
    let validation = match selector & 3 {
        0 => KeyValidation::Warn,
        1 => KeyValidation::Strict,
        _ => KeyValidation::Off,
    };
    let keys = cachex::keys::Keys::new()
        .with_prefix(prefix)
        .with_version(version)
        .with_validation(validation);
    let expected = format!("{prefix}:{version}:{key}");
    let suspicious = expected.chars().count() > MAX_KEY_LENGTH
        || expected.chars().any(|c| (c as u32) < 33 || c as u32 == 127);
    match keys.make(key, None) {
        Ok(made) => {
            assert_eq!(made, expected);
            assert!(
                validation != KeyValidation::Strict || !suspicious,
                "strict mode let {made:?} through"
            );
        }
        Err(err) => {
            assert!(
                validation == KeyValidation::Strict && suspicious,
                "{expected:?} refused: {err}"
            );
            assert!(matches!(err, cachex::Error::InvalidKey { .. }), "{err:?}");
        }
    }
    assert_eq!(
        keys.all_versions_pattern(),
        Some(format!("{}:*", escape_glob(prefix)))
    );

    // `clear` of this prefix on the in-memory backend (Redis's glob matching) deletes this
    // prefix's key and leaves every neighbouring prefix's.
    let cache = Cache::builder()
        .key_validation(KeyValidation::Off)
        .version(version)
        .build()
        .expect("an in-memory cache");
    let mine = cache.with_prefix(prefix);
    let mut neighbours = vec![
        format!("{prefix}x"),
        format!("{prefix}*"),
        format!("x{prefix}"),
    ];
    let mut shorter = prefix.chars();
    if shorter.next_back().is_some() {
        neighbours.push(shorter.as_str().to_owned());
    }
    neighbours.retain(|other| other != prefix && !other.starts_with(&format!("{prefix}:")));
    mine.set(key, &1, Timeout::Never).expect("set");
    for other in &neighbours {
        cache
            .with_prefix(other.as_str())
            .set(key, &2, Timeout::Never)
            .expect("set");
    }
    assert_eq!(mine.clear().expect("clear"), 1, "prefix {prefix:?}");
    assert_eq!(mine.get::<i64>(key).expect("get"), None);
    for other in &neighbours {
        assert_eq!(
            cache
                .with_prefix(other.as_str())
                .get::<i64>(key)
                .expect("get"),
            Some(2),
            "clear of {prefix:?} reached {other:?}"
        );
    }
}
