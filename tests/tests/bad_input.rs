//! Hostile and broken input, each a typed error and nothing corrupted: stored bytes corrupted
//! or truncated under every codec (serializer × compressor), values of the wrong type, keys
//! of the wrong Redis type (`WRONGTYPE`), suspicious keys (too long, control characters, an
//! attempt at RESP injection), huge values, bytes that are not UTF-8 where text is expected,
//! glob characters in prefixes.
//!
//! The corrupt bytes are written behind the cache's back with a plain connection of the redis
//! crate, then read through cachex.

use std::collections::HashMap;

use cachex::codec::{Codec, Compressor, Serializer};
use cachex::keys::KeyValidation;
use cachex::prelude::*;
use cachex::{CacheBuilder, Error};
use cachex_tests::made_key as made;
use cachex_tests::{Server, ServerKind, logs, shared};
use serde::{Deserialize, Serialize};

/// A plain connection of the redis crate to `server`.
fn raw(server: &Server) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{}", server.port()))
        .expect("a valid URL")
        .get_connection()
        .expect("a raw connection")
}

fn raw_get(raw: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query(raw).expect("GET")
}

fn raw_set(raw: &mut redis::Connection, key: &str, bytes: &[u8]) {
    let () = redis::cmd("SET")
        .arg(key)
        .arg(bytes)
        .query(raw)
        .expect("SET");
}

/// A cache on the shared Redis under a prefix of this test process.
fn cache_on(server: &Server, prefix: &str, codec: Option<Codec>) -> Cache {
    let mut builder = CacheBuilder::from_url(&server.url())
        .expect("a valid URL")
        .prefix(format!("{prefix}-{}", std::process::id()));
    if let Some(codec) = codec {
        let mut codec_builder = Codec::builder()
            .serializer(codec.serializer())
            .min_length(16);
        if let Some(compressor) = codec.compressor() {
            codec_builder = codec_builder.compressor(compressor);
        }
        builder = builder.codec(codec_builder);
    }
    builder.build().expect("a cache")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    tags: Vec<String>,
    score: f64,
    visits: u64,
}

fn profile() -> Profile {
    Profile {
        name: "Zoë".repeat(20),
        tags: (0..20).map(|n| format!("tag number {n}")).collect(),
        score: 0.1,
        visits: 42,
    }
}

fn every_codec() -> Vec<Codec> {
    let mut codecs = Vec::new();
    for serializer in [Serializer::Json, Serializer::MessagePack] {
        for compressor in [
            None,
            Some(Compressor::Zlib),
            Some(Compressor::Gzip),
            Some(Compressor::Zstd),
            Some(Compressor::Lz4),
        ] {
            let mut builder = Codec::builder().serializer(serializer);
            if let Some(compressor) = compressor {
                builder = builder.compressor(compressor);
            }
            codecs.push(builder.build().expect("a codec"));
        }
    }
    codecs
}

fn is_decode_error_about<T: std::fmt::Debug>(outcome: &Result<T, Error>, key: &str) -> bool {
    matches!(outcome, Err(Error::Decode { key: about, .. }) if about == key)
}

#[test]
fn corrupt_or_truncated_bytes_are_decode_errors_under_every_codec() {
    let server = shared(ServerKind::Redis);
    let mut raw = raw(server);
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(10);
    for codec in every_codec() {
        let label = format!("{}+{:?}", codec.serializer(), codec.compressor());
        let cache = cache_on(server, &format!("corrupt-{label}"), Some(codec.clone()));
        cache.set("text", &text, Timeout::Never).expect("set");
        cache
            .set("profile", &profile(), Timeout::Never)
            .expect("set");
        cache
            .set("witness", "untouched", Timeout::Never)
            .expect("set");
        let mut undetected = 0;
        let mut corruptions = 0;
        for key in ["text", "profile"] {
            let stored = raw_get(&mut raw, &made(&cache, key)).expect("stored bytes");
            let read = |cache: &Cache| match key {
                "text" => cache.get::<String>(key).map(|value| value.is_some()),
                _ => cache.get::<Profile>(key).map(|value| value.is_some()),
            };
            // Truncated: always refused.
            for cut in [0, 1, stored.len() / 2, stored.len() - 1] {
                raw_set(&mut raw, &made(&cache, key), &stored[..cut]);
                let outcome = read(&cache);
                assert!(
                    is_decode_error_about(&outcome, key),
                    "{label} {key} cut at {cut} of {}: {outcome:?}",
                    stored.len()
                );
            }
            // Bytes flipped: refused where the format has a checksum (zlib, gzip) or the
            // change breaks the structure; elsewhere a changed value may come back (a cache
            // does not sign its values), but never a panic or another kind of error.
            for at in [0, stored.len() / 4, stored.len() / 2, stored.len() - 1] {
                let mut flipped = stored.clone();
                flipped[at] ^= 0x55;
                raw_set(&mut raw, &made(&cache, key), &flipped);
                let outcome = read(&cache);
                corruptions += 1;
                match outcome {
                    Ok(_) => undetected += 1,
                    Err(Error::Decode { key: ref about, .. }) if about == key => {}
                    other => panic!("{label} {key} flipped at {at}: {other:?}"),
                }
                if matches!(
                    codec.compressor(),
                    Some(Compressor::Zlib | Compressor::Gzip)
                ) && at > 0
                    && at < stored.len() - 1
                {
                    assert!(
                        is_decode_error_about(&read(&cache), key),
                        "{label} {key} flipped at {at} passed the checksum"
                    );
                }
            }
            // Nothing else was harmed, and the key is usable again at once.
            assert_eq!(
                cache.get::<String>("witness").expect("get").as_deref(),
                Some("untouched")
            );
            raw_set(&mut raw, &made(&cache, key), &stored);
            assert!(read(&cache).expect("intact again"));
        }
        println!("{label}: {undetected} of {corruptions} flipped bytes read back as a value");
        cache.clear().expect("clear");
    }
}

#[test]
fn a_value_of_another_type_is_a_decode_error_on_every_backend() {
    let redis = shared(ServerKind::Redis);
    for cache in [
        Cache::in_memory(),
        cache_on(redis, "wrong-type", None),
        cache_on(
            redis,
            "wrong-type-msgpack",
            Some(
                Codec::builder()
                    .serializer(Serializer::MessagePack)
                    .build()
                    .expect("a codec"),
            ),
        ),
    ] {
        cache
            .set("text", "not a number", Timeout::Never)
            .expect("set");
        cache.set("number", &42, Timeout::Never).expect("set");
        cache.set("flag", &true, Timeout::Never).expect("set");
        cache
            .set("profile", &profile(), Timeout::Never)
            .expect("set");
        assert!(is_decode_error_about(&cache.get::<i64>("text"), "text"));
        assert!(is_decode_error_about(
            &cache.get::<String>("number"),
            "number"
        ));
        assert!(is_decode_error_about(&cache.get::<i64>("flag"), "flag"));
        assert!(is_decode_error_about(
            &cache.get::<Vec<u32>>("profile"),
            "profile"
        ));
        assert!(is_decode_error_about(&cache.get::<Profile>("text"), "text"));
        cache.set("wide", &300, Timeout::Never).expect("set");
        assert!(is_decode_error_about(&cache.get::<u8>("wide"), "wide"));
        // get_many names the key that did not decode.
        let many = cache.get_many::<String>(&["text", "number"]);
        assert!(is_decode_error_about(&many, "number"), "{many:?}");
        // incr of a value that is not an integer: WrongType, and the value is unchanged.
        assert!(
            matches!(cache.incr("text", 1), Err(Error::WrongType { ref key, .. }) if key == "text")
        );
        assert_eq!(
            cache.get::<String>("text").expect("get").as_deref(),
            Some("not a number")
        );
        // Overflow is refused too, on every backend.
        cache.set("big", &i64::MAX, Timeout::Never).expect("set");
        assert!(matches!(cache.incr("big", 1), Err(Error::WrongType { .. })));
        assert_eq!(cache.get::<i64>("big").expect("get"), Some(i64::MAX));
        cache.clear().expect("clear");
    }
}

#[test]
fn a_key_of_another_redis_type_is_a_wrongtype_error() {
    let server = shared(ServerKind::Redis);
    let cache = cache_on(server, "wrongtype", None);
    let list = made(&cache, "list");
    assert_eq!(server.command(&["RPUSH", &list, "a", "b"]), ":2\r\n");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let wrong = |outcome: Result<(), Error>| {
        assert!(
            matches!(&outcome, Err(Error::WrongType { key, detail }) if key == "list" && detail.contains("WRONGTYPE")),
            "{outcome:?}"
        );
    };
    wrong(cache.get::<String>("list").map(drop));
    wrong(runtime.block_on(cache.aget::<String>("list")).map(drop));
    wrong(cache.incr("list", 1).map(drop));
    wrong(cache.incr_or_create("list", 1, Timeout::Never).map(drop));
    wrong(runtime.block_on(cache.adecr("list", 1)).map(drop));
    // The list is intact; a key of another type is present for has_key and add.
    assert_eq!(server.command(&["LLEN", &list]), ":2\r\n");
    assert!(cache.has_key("list").expect("has_key"));
    assert!(!cache.add("list", "v", Timeout::Never).expect("add"));
    // MGET answers nil for a key that holds no string: a miss, as for redis-py.
    assert!(
        cache
            .get_many::<String>(&["list"])
            .expect("get_many")
            .is_empty()
    );
    // SET replaces a value of any type, as Django's set does.
    cache
        .set("list", "now a string", Timeout::Never)
        .expect("set");
    assert_eq!(
        cache.get::<String>("list").expect("get").as_deref(),
        Some("now a string")
    );
    cache.clear().expect("clear");
}

#[test]
fn suspicious_keys_are_warned_about_or_refused_and_never_escape_their_key() {
    let logs = logs::capture();
    let server = Server::start(ServerKind::Redis);
    let tag = "suspicious-key-test";
    let long = format!("{tag}-{}", "x".repeat(300));
    let keys = [
        long.as_str(),
        "with space",
        "tab\there",
        "nul\0byte",
        "del\u{7f}",
        // RESP injection: the key is one binary-safe bulk string, never a second command.
        "x\r\nFLUSHALL\r\nSET pwned 1\r\n",
    ];
    let warned = Cache::from_url(&format!("{}?prefix={tag}", server.url())).expect("a cache");
    let strict = Cache::from_url(&format!(
        "{}?prefix={tag}-strict&strict_keys=1",
        server.url()
    ))
    .expect("a cache");
    warned.set("witness", &1, Timeout::Never).expect("set");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for key in keys {
        // Warned: stored under exactly the made key, and read back.
        warned.set(key, key, Timeout::Never).expect("set");
        assert_eq!(
            warned.get::<String>(key).expect("get").as_deref(),
            Some(key)
        );
        let stored = format!("{tag}:1:{key}");
        assert_eq!(
            server.command(&["EXISTS", stored.as_str()]),
            ":1\r\n",
            "{key:?}"
        );
        // Strict: refused before anything is sent, on both surfaces.
        for outcome in [
            strict.set(key, &1, Timeout::Never),
            runtime.block_on(strict.aset(key, &1, Timeout::Never)),
            strict.get::<i32>(key).map(drop),
            runtime
                .block_on(strict.aincr_or_create(key, 1, Timeout::Never))
                .map(drop),
        ] {
            assert!(
                matches!(&outcome, Err(Error::InvalidKey { key: about, .. }) if about == key),
                "{key:?}: {outcome:?}"
            );
        }
    }
    // Nothing escaped: one key per set, the witness, no `pwned`, nothing flushed, nothing of
    // the strict cache.
    assert_eq!(
        server.command(&["DBSIZE"]),
        format!(":{}\r\n", keys.len() + 1)
    );
    assert_eq!(server.command(&["EXISTS", "pwned"]), ":0\r\n");
    assert_eq!(warned.get::<i32>("witness").expect("get"), Some(1));
    let warnings = logs.lines_with(&["WARN", "cachex::keys", tag]);
    assert!(
        warnings.iter().any(|line| line.contains("longer than 250")),
        "{warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|line| line.contains("control characters")),
        "{warnings:#?}"
    );
    // A key's line breaks are escaped in the log: no forged log line.
    let injected = logs.lines_with(&["FLUSHALL"]);
    assert!(
        !injected.is_empty() && injected.iter().all(|line| line.contains("WARN")),
        "{injected:#?}"
    );
    // Off: no warning at all.
    let quiet = CacheBuilder::from_url(&format!("{}?prefix={tag}-quiet", server.url()))
        .expect("a valid URL")
        .key_validation(KeyValidation::Off)
        .build()
        .expect("a cache");
    let before = logs::capture();
    quiet.set("with space", &1, Timeout::Never).expect("set");
    assert!(before.lines_with(&[&format!("{tag}-quiet")]).is_empty());
}

#[test]
fn huge_values_round_trip_or_are_refused_by_the_decompression_cap() {
    let server = shared(ServerKind::Redis);
    let huge = "0123456789abcdef".repeat(20 * 1024 * 1024 / 16); // 20 MiB
    let zstd = Codec::builder()
        .compressor(Compressor::Zstd)
        .build()
        .expect("a codec");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for cache in [
        Cache::in_memory(),
        cache_on(server, "huge", None),
        cache_on(server, "huge-zstd", Some(zstd)),
    ] {
        cache
            .set("huge", &huge, Timeout::Never)
            .expect("set 20 MiB");
        assert!(cache.get::<String>("huge").expect("get") == Some(huge.clone()));
        let read = runtime
            .block_on(cache.aget::<String>("huge"))
            .expect("aget");
        assert!(read.as_deref() == Some(huge.as_str()));
        cache.clear().expect("clear");
    }
    // A small value that decompresses to more than the cap (a "zip bomb") is refused.
    let writer = cache_on(
        server,
        "bomb",
        Some(
            Codec::builder()
                .compressor(Compressor::Zstd)
                .build()
                .expect("a codec"),
        ),
    );
    writer
        .set("bomb", &"0".repeat(4 << 20), Timeout::Never)
        .expect("set");
    let capped = CacheBuilder::from_url(&server.url())
        .expect("a valid URL")
        .prefix(writer.core().key_settings().prefix())
        .codec(
            Codec::builder()
                .compressor(Compressor::Zstd)
                .max_decompressed_len(1 << 20),
        )
        .build()
        .expect("a cache");
    let mut raw = raw(server);
    let stored = raw_get(&mut raw, &made(&writer, "bomb")).expect("stored");
    println!("a 4 MiB value is {} bytes with zstd", stored.len());
    match capped.get::<String>("bomb") {
        Err(Error::Decode { key, reason }) => {
            assert_eq!(key, "bomb");
            assert!(reason.contains("decompresses to more than"), "{reason}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    writer.clear().expect("clear");
}

#[test]
fn bytes_that_are_not_utf8_are_decode_errors_where_text_is_expected() {
    let server = shared(ServerKind::Redis);
    let mut raw = raw(server);
    let json = cache_on(server, "utf8-json", None);
    let msgpack = cache_on(
        server,
        "utf8-msgpack",
        Some(
            Codec::builder()
                .serializer(Serializer::MessagePack)
                .build()
                .expect("a codec"),
        ),
    );
    let cases: [(&Cache, &str, &[u8]); 5] = [
        (&json, "raw", b"\xff\xfe\x00garbage"),
        (&json, "in-a-json-string", b"\"caf\xe9\""),
        (&json, "in-a-json-map", b"{\"\xc3\x28\": 1}"),
        (&msgpack, "in-a-msgpack-str", b"\xa3caf\xe9"),
        (&msgpack, "raw", b"\xc1\xff\xfe"),
    ];
    for (cache, key, bytes) in cases {
        raw_set(&mut raw, &made(cache, key), bytes);
        assert!(
            is_decode_error_about(&cache.get::<String>(key), key),
            "{key}"
        );
        assert!(
            is_decode_error_about(&cache.get::<serde_json::Value>(key), key),
            "{key}"
        );
        assert!(is_decode_error_about(
            &cache.get::<HashMap<String, i32>>(key),
            key
        ));
    }
    // A stored key that is not UTF-8, under the prefix: clear still finds and deletes it.
    let mut binary_key = json.core().key_settings().prefix().as_bytes().to_vec();
    binary_key.extend_from_slice(b":1:\xff\xfe");
    let () = redis::cmd("SET")
        .arg(&binary_key)
        .arg("v")
        .query(&mut raw)
        .expect("SET");
    assert_eq!(json.clear().expect("clear"), 4);
    msgpack.clear().expect("clear");
}

#[test]
fn glob_characters_in_a_prefix_never_reach_another_prefix() {
    let server = Server::start(ServerKind::Redis);
    let globby = ["a*", "a?", "a[b]", "a[^x]", "a\\", "a\\*"];
    let plain = ["ab", "aa", "a", "ab:c", "a]", "axb", "a\\b", "b"];
    for backend in ["memory", "redis"] {
        let base = match backend {
            "memory" => Cache::in_memory(),
            _ => Cache::from_url(&server.url()).expect("a cache"),
        };
        for prefix in globby {
            for other in plain
                .iter()
                .chain(globby.iter())
                .filter(|other| **other != prefix)
            {
                base.with_prefix(*other)
                    .set("k", other, Timeout::Never)
                    .expect("set");
            }
            let mine = base.with_prefix(prefix);
            mine.set("k", "mine", Timeout::Never).expect("set");
            mine.set("k*", "mine too", Timeout::Never).expect("set");
            assert_eq!(
                mine.clear().expect("clear"),
                2,
                "{backend}: clear of {prefix:?}"
            );
            for other in plain
                .iter()
                .chain(globby.iter())
                .filter(|other| **other != prefix)
            {
                assert_eq!(
                    base.with_prefix(*other)
                        .get::<String>("k")
                        .expect("get")
                        .as_deref(),
                    Some(*other),
                    "{backend}: clear of {prefix:?} reached {other:?}"
                );
            }
        }
        base.flush_db().expect("flush_db");
    }
}
