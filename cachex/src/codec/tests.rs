use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::*;

const ALL: [Compressor; 4] = [
    Compressor::Zlib,
    Compressor::Gzip,
    Compressor::Zstd,
    Compressor::Lz4,
];

fn codec(serializer: Serializer, compressor: Option<Compressor>) -> Codec {
    let builder = Codec::builder().serializer(serializer);
    match compressor {
        Some(compressor) => builder.compressor(compressor),
        None => builder,
    }
    .build()
    .expect("valid codec")
}

fn long_value() -> Value {
    json!({"text": "lorem ipsum dolor sit amet ".repeat(20), "n": [1, 2, 3]})
}

fn assert_decode_error<V: DeserializeOwned + fmt::Debug>(codec: &Codec, bytes: &[u8]) -> String {
    match codec.decode::<V>("the-key", bytes) {
        Err(Error::Decode { key, reason }) => {
            assert_eq!(key, "the-key");
            reason
        }
        other => panic!("expected a decode error for {bytes:?}, got {other:?}"),
    }
}

macro_rules! int_round_trip {
    ($codec:expr, $($ty:ty),*) => {$(
        for value in [<$ty>::MIN, <$ty>::MAX, 0 as $ty, 1 as $ty] {
            let bytes = $codec.encode(&value).expect("encodes");
            assert_eq!(bytes, value.to_string().as_bytes(), "{}", stringify!($ty));
            assert_eq!($codec.decode::<$ty>("k", &bytes).expect("decodes"), value);
        }
    )*};
}

#[test]
fn integers_are_decimal_text_whatever_the_configuration() {
    for serializer in [Serializer::Json, Serializer::MessagePack] {
        for compressor in [None, Some(Compressor::Zstd)] {
            let codec = codec(serializer, compressor);
            int_round_trip!(
                codec, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
            );
            assert_eq!(codec.encode(&-1i8).expect("encodes"), b"-1");
            assert_eq!(codec.encode(&Some(7u16)).expect("encodes"), b"7");
        }
    }
}

#[test]
fn integers_through_newtypes_and_values() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Hits(u64);
    let codec = Codec::new();
    assert_eq!(codec.encode(&Hits(12)).expect("encodes"), b"12");
    assert_eq!(codec.decode::<Hits>("k", b"12").expect("decodes"), Hits(12));
    assert_eq!(codec.encode(&json!(-5)).expect("encodes"), b"-5");
    assert_eq!(
        codec.encode(&json!(u64::MAX)).expect("encodes"),
        b"18446744073709551615"
    );
    assert_eq!(
        codec.decode::<Value>("k", b"-5").expect("decodes"),
        json!(-5)
    );
    assert_eq!(
        codec
            .decode::<Value>("k", b"18446744073709551615")
            .expect("decodes"),
        json!(u64::MAX)
    );
    // Floats and optional ints take integers too.
    assert_eq!(codec.decode::<f64>("k", b"3").expect("decodes"), 3.0);
    assert_eq!(
        codec.decode::<Option<i64>>("k", b"3").expect("decodes"),
        Some(3)
    );
    // Python's int() reads these, so django-cachex does, and so does the codec.
    for text in [&b" 7\n"[..], b"+7", b"007", b"0_7"] {
        assert_eq!(
            codec.decode::<i64>("k", text).expect("decodes"),
            7,
            "{text:?}"
        );
    }
    // Out of range for the requested type: an error naming the key, not a wrapped value.
    assert_decode_error::<u8>(&codec, b"256");
    assert_decode_error::<String>(&codec, b"42");
}

#[test]
fn bools_floats_and_null_are_not_integers() {
    let json = Codec::new();
    assert_eq!(json.encode(&true).expect("encodes"), b"true");
    assert_eq!(json.encode(&false).expect("encodes"), b"false");
    assert_eq!(json.encode(&Some(true)).expect("encodes"), b"true");
    assert_eq!(json.encode(&1.0f64).expect("encodes"), b"1.0");
    assert_eq!(json.encode(&Option::<i64>::None).expect("encodes"), b"null");
    assert_eq!(json.encode("42").expect("encodes"), br#""42""#);
    assert!(json.decode::<bool>("k", b"true").expect("decodes"));
    assert_decode_error::<i64>(&json, b"true");
    assert_decode_error::<bool>(&json, b"1");

    let msgpack = codec(Serializer::MessagePack, None);
    assert_eq!(msgpack.encode(&true).expect("encodes"), [0xc3]);
    assert_eq!(msgpack.encode(&false).expect("encodes"), [0xc2]);
    assert!(msgpack.decode::<bool>("k", &[0xc3]).expect("decodes"));
}

/// Bare float text (what `HINCRBYFLOAT` stores) reads as a float whatever the serializer, as
/// django-cachex 0.14.1's `decode` reads it; a type that takes no float falls through to the
/// serializers as before.
#[test]
fn float_text_reads_as_a_float_whatever_the_serializer() {
    for serializer in [Serializer::Json, Serializer::MessagePack] {
        for compressor in [None, Some(Compressor::Zstd)] {
            let codec = codec(serializer, compressor);
            assert_eq!(codec.decode::<f64>("k", b"10.25").expect("decodes"), 10.25);
            assert_eq!(
                codec.decode::<Value>("k", b"-0.5").expect("decodes"),
                json!(-0.5)
            );
            assert_eq!(codec.decode::<f32>("k", b"2.5").expect("decodes"), 2.5);
            assert_decode_error::<i64>(&codec, b"2.5");
            assert_decode_error::<String>(&codec, b"2.5");
        }
    }
    // Not NaN or the infinities: those are left to the serializer (JSON has neither).
    assert_decode_error::<f64>(&Codec::new(), b"nan");
    assert_decode_error::<f64>(&codec(Serializer::MessagePack, None), b"inf");
}

#[test]
fn compresses_only_payloads_longer_than_min_length() {
    for compressor in ALL {
        let codec = codec(Serializer::Json, Some(compressor));
        // JSON adds the two quotes.
        let at_limit = "x".repeat(DEFAULT_MIN_LENGTH - 2);
        let over = "x".repeat(DEFAULT_MIN_LENGTH - 1);
        let bytes = codec.encode(&at_limit).expect("encodes");
        assert_eq!(bytes.len(), DEFAULT_MIN_LENGTH);
        assert_eq!(bytes.first(), Some(&b'"'), "{compressor}");
        let bytes = codec.encode(&over).expect("encodes");
        assert!(compressor.may_apply(&bytes), "{compressor}: {bytes:?}");
        assert_eq!(codec.decode::<String>("k", &bytes).expect("decodes"), over);
    }
    let eager = Codec::builder()
        .compressor(Compressor::Zlib)
        .min_length(0)
        .build()
        .expect("valid");
    let bytes = eager.encode("a").expect("encodes");
    assert!(Compressor::Zlib.may_apply(&bytes));
    assert_eq!(eager.decode::<String>("k", &bytes).expect("decodes"), "a");
}

#[test]
fn every_compressor_and_level_round_trips() {
    let value = long_value();
    for serializer in [Serializer::Json, Serializer::MessagePack] {
        for compressor in ALL {
            let levels: Vec<Option<i32>> = match compressor {
                Compressor::Zlib | Compressor::Gzip => vec![None, Some(0), Some(1), Some(9)],
                Compressor::Zstd => vec![None, Some(-5), Some(1), Some(19)],
                Compressor::Lz4 => vec![None],
            };
            for level in levels {
                let mut builder = Codec::builder()
                    .serializer(serializer)
                    .compressor(compressor);
                if let Some(level) = level {
                    builder = builder.compression_level(level);
                }
                let codec = builder.build().expect("valid");
                let bytes = codec.encode(&value).expect("encodes");
                assert!(compressor.may_apply(&bytes), "{compressor} {level:?}");
                let back: Value = codec.decode("k", &bytes).expect("decodes");
                assert_eq!(back, value, "{serializer} {compressor} {level:?}");
            }
        }
    }
}

#[test]
fn levels_are_checked() {
    let build = |compressor: Option<Compressor>, level: i32| {
        let builder = Codec::builder().compression_level(level);
        match compressor {
            Some(compressor) => builder.compressor(compressor),
            None => builder,
        }
        .build()
    };
    assert!(matches!(build(None, 1), Err(Error::Config { .. })));
    assert!(matches!(
        build(Some(Compressor::Zlib), 10),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        build(Some(Compressor::Gzip), -1),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        build(Some(Compressor::Zstd), 23),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        build(Some(Compressor::Lz4), 1),
        Err(Error::Config { .. })
    ));
    assert!(build(Some(Compressor::Zstd), 22).is_ok());
    assert_eq!(Compressor::Zlib.default_level(), Some(6));
    assert_eq!(Compressor::Gzip.default_level(), Some(9));
    assert_eq!(Compressor::Zstd.default_level(), Some(3));
    assert_eq!(Compressor::Lz4.default_level(), None);
}

#[test]
fn names_parse_including_django_class_paths() {
    for serializer in [Serializer::Json, Serializer::MessagePack] {
        assert_eq!(
            serializer.name().parse::<Serializer>().ok(),
            Some(serializer)
        );
    }
    for compressor in ALL {
        assert_eq!(
            compressor.name().parse::<Compressor>().ok(),
            Some(compressor)
        );
    }
    assert_eq!(
        "django_cachex.serializers.msgpack.MessagePackSerializer"
            .parse::<Serializer>()
            .ok(),
        Some(Serializer::MessagePack)
    );
    assert_eq!(
        "django_cachex.compressors.zstd.ZStdCompressor"
            .parse::<Compressor>()
            .ok(),
        Some(Compressor::Zstd)
    );
    // django-cachex 0.14.1's spellings.
    for (class, serializer) in [
        (
            "django_cachex.serializers.json.JsonSerializer",
            Serializer::Json,
        ),
        (
            "django_cachex.serializers.msgpack.MsgpackSerializer",
            Serializer::MessagePack,
        ),
    ] {
        assert_eq!(class.parse::<Serializer>().ok(), Some(serializer));
    }
    assert_eq!(
        "django_cachex.compressors.zstd.ZstdCompressor"
            .parse::<Compressor>()
            .ok(),
        Some(Compressor::Zstd)
    );
    for pickle in [
        "pickle",
        "django_cachex.serializers.pickle.PickleSerializer",
    ] {
        assert_eq!(pickle.parse::<Serializer>().ok(), Some(Serializer::Pickle));
    }
    assert!(matches!(
        "django_cachex.serializers.orjson.OrjsonSerializer".parse::<Serializer>(),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        "lzma".parse::<Compressor>(),
        Err(Error::Config { .. })
    ));
    // A near miss is named, with what was meant.
    match "django_cachex.serializers.json.JSONSerialiser".parse::<Serializer>() {
        Err(Error::Config { reason: message }) => assert!(
            message.contains("JSONSerialiser")
                && message.contains("did you mean django_cachex.serializers.json.JSONSerializer"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    match "zstandard".parse::<Compressor>() {
        Err(Error::Config { reason: message }) => {
            assert!(message.contains("\"zstandard\""), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn serializer_fallback_chain() {
    let value = json!({"a": [1, 2.5, "x"], "b": null});
    let json_bytes = Codec::new().encode(&value).expect("encodes");
    let msgpack_bytes = codec(Serializer::MessagePack, None)
        .encode(&value)
        .expect("encodes");

    // Only JSON: MessagePack bytes are refused...
    assert_decode_error::<Value>(&Codec::new(), &msgpack_bytes);
    // ...until MessagePack is a fallback.
    let json_then_msgpack = Codec::builder()
        .fallback_serializer(Serializer::MessagePack)
        .build()
        .expect("valid");
    assert_eq!(
        json_then_msgpack
            .decode::<Value>("k", &msgpack_bytes)
            .expect("decodes"),
        value
    );
    assert_eq!(
        json_then_msgpack
            .decode::<Value>("k", &json_bytes)
            .expect("decodes"),
        value
    );
    // The other way round: `{` is a valid one-byte MessagePack integer (123), so MessagePack
    // must refuse the bytes left after it for JSON to get its turn, as msgpack.loads does.
    let msgpack_then_json = Codec::builder()
        .serializer(Serializer::MessagePack)
        .fallback_serializer(Serializer::Json)
        .build()
        .expect("valid");
    assert_eq!(
        msgpack_then_json
            .decode::<Value>("k", &json_bytes)
            .expect("decodes"),
        value
    );
    assert_eq!(
        msgpack_then_json
            .decode::<Value>("k", &msgpack_bytes)
            .expect("decodes"),
        value
    );
    // Writing uses the first serializer only.
    assert_eq!(
        msgpack_then_json.encode(&value).expect("encodes"),
        msgpack_bytes
    );
}

#[test]
fn compressor_fallback_chain() {
    let value = long_value();
    for old in ALL {
        let written = codec(Serializer::Json, Some(old))
            .encode(&value)
            .expect("encodes");
        for new in ALL {
            let reader = Codec::builder()
                .compressor(new)
                .fallback_compressor(old)
                .build()
                .expect("valid");
            assert_eq!(
                reader.decode::<Value>("k", &written).expect("decodes"),
                value
            );
        }
        // A fallback alone: written uncompressed, compressed values still read.
        let reader = Codec::builder()
            .fallback_compressor(old)
            .build()
            .expect("valid");
        assert_eq!(
            reader.decode::<Value>("k", &written).expect("decodes"),
            value
        );
        let plain = reader.encode(&value).expect("encodes");
        assert_eq!(plain.first(), Some(&b'{'));
        // Without it, the compressed bytes are taken raw and refused.
        let reason = assert_decode_error::<Value>(&Codec::new(), &written);
        assert!(reason.contains("json"), "{reason}");
    }
    // Uncompressed values are read raw whatever the compressors.
    let mut all = Codec::builder().compressor(Compressor::Zlib);
    for compressor in ALL {
        all = all.fallback_compressor(compressor);
    }
    let all = all.build().expect("valid");
    let small = json!(["short", 1, true]);
    let bytes = Codec::new().encode(&small).expect("encodes");
    assert_eq!(all.decode::<Value>("k", &bytes).expect("decodes"), small);
}

#[test]
fn corrupt_and_truncated_input_is_a_decode_error_for_every_compressor() {
    let value = long_value();
    for compressor in ALL {
        let codec = codec(Serializer::Json, Some(compressor));
        let bytes = codec.encode(&value).expect("encodes");
        assert!(bytes.len() > 20, "{compressor}");
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for cut in [1, 2, 4, 8, bytes.len() / 2, bytes.len() - 4] {
            cases.push(bytes[..bytes.len() - cut].to_vec());
        }
        // Magic numbers and headers are always checked; the middle and the end only where the
        // format has a checksum (zlib's Adler-32, gzip's CRC-32: Django's zstd and LZ4 frames
        // carry none, so a flipped literal byte there decodes, as it does in Python).
        let mut positions = vec![0, 1, 2, 3];
        if matches!(compressor, Compressor::Zlib | Compressor::Gzip) {
            positions.extend([bytes.len() / 2, bytes.len() - 6, bytes.len() - 1]);
        }
        for at in positions {
            let mut corrupt = bytes.clone();
            corrupt[at] ^= 0x55;
            cases.push(corrupt);
        }
        cases.push(bytes[..4].to_vec());
        for case in cases {
            assert_decode_error::<Value>(&codec, &case);
        }
    }
    let codec = codec(Serializer::Json, None);
    for garbage in [
        &b""[..],
        b"\x00",
        b"\xff\xfe",
        b"{\"a\": ",
        b"[1, 2",
        b"\"\xff\"",
    ] {
        assert_decode_error::<Value>(&codec, garbage);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut all = Codec::builder()
        .serializer(Serializer::MessagePack)
        .fallback_serializer(Serializer::Json);
    for compressor in ALL {
        all = all.fallback_compressor(compressor);
    }
    let all = all.max_decompressed_len(1 << 20).build().expect("valid");
    let seeds = ALL.map(|c| {
        codec(Serializer::Json, Some(c))
            .encode(&long_value())
            .expect("encodes")
    });
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..2000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        bytes.truncate((next() as usize) % (bytes.len() + 1));
        // Any outcome but a panic; mostly errors.
        let _ = all.decode::<Value>("k", &bytes);
    }
}

#[test]
fn decompression_bombs_are_refused() {
    let cap = 1 << 20;
    let bomb = vec![0u8; 8 << 20];
    for compressor in ALL {
        let level = compressor.default_level().unwrap_or(0);
        let packed = compressor.compress(&bomb, level).expect("compresses");
        assert!(packed.len() < 64 << 10, "{compressor}: {}", packed.len());
        let codec = Codec::builder()
            .fallback_compressor(compressor)
            .max_decompressed_len(cap)
            .build()
            .expect("valid");
        let reason = assert_decode_error::<Value>(&codec, &packed);
        assert!(
            reason.contains("more than 1048576 bytes"),
            "{compressor}: {reason}"
        );
        // Just under the cap is fine.
        let fits = compressor
            .compress(&bomb[..cap], level)
            .expect("compresses");
        assert_eq!(
            compressor.decompress(&fits, cap).map(|out| out.len()).ok(),
            Some(cap)
        );
    }
    // A zstd frame without a content size (streaming) is cut off while decoding.
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).expect("encoder");
    std::io::Write::write_all(&mut encoder, &bomb).expect("compresses");
    let streamed = encoder.finish().expect("compresses");
    assert_eq!(
        zstd::zstd_safe::get_frame_content_size(&streamed).ok(),
        Some(None)
    );
    let codec = Codec::builder()
        .fallback_compressor(Compressor::Zstd)
        .max_decompressed_len(cap)
        .build()
        .expect("valid");
    let reason = assert_decode_error::<Value>(&codec, &streamed);
    assert!(
        reason.contains("more than 1048576 bytes"),
        "streamed zstd: {reason}"
    );
    assert_eq!(DEFAULT_MAX_DECOMPRESSED_LEN, 64 << 20);
}

#[test]
fn zstd_window_is_bounded_by_the_cap() {
    assert_eq!(compress::zstd_window_log(1 << 20), 20);
    assert_eq!(compress::zstd_window_log((1 << 20) + 1), 21);
    assert_eq!(compress::zstd_window_log(DEFAULT_MAX_DECOMPRESSED_LEN), 26);
    assert_eq!(compress::zstd_window_log(usize::MAX), 27);
    assert_eq!(compress::zstd_window_log(0), 10);
}

#[test]
fn framing_as_python_reads_it() {
    let data = b"hello world ".repeat(40);
    let cap = DEFAULT_MAX_DECOMPRESSED_LEN;
    let pack = |c: Compressor| {
        c.compress(&data, c.default_level().unwrap_or(0))
            .expect("packs")
    };
    let twice = 2 * data.len();

    // zlib: one stream; what follows is ignored.
    let zlib = pack(Compressor::Zlib);
    for tail in [&b"junk"[..], &zlib] {
        let input = [&zlib[..], tail].concat();
        assert_eq!(
            Compressor::Zlib.decompress(&input, cap).ok(),
            Some(data.clone())
        );
    }
    // gzip: every member, zero padding allowed, anything else refused; empty is empty.
    let gzip = pack(Compressor::Gzip);
    let input = [&gzip[..], b"\0\0\0", &gzip, b"\0"].concat();
    let out = Compressor::Gzip
        .decompress(&input, cap)
        .ok()
        .map(|out| out.len());
    assert_eq!(out, Some(twice));
    assert!(
        Compressor::Gzip
            .decompress(&[&gzip[..], b"junk"].concat(), cap)
            .is_err()
    );
    assert_eq!(Compressor::Gzip.decompress(b"", cap).ok(), Some(Vec::new()));
    // zstd: every frame; nothing else may follow.
    let zstd = pack(Compressor::Zstd);
    let out = Compressor::Zstd
        .decompress(&[&zstd[..], &zstd].concat(), cap)
        .ok()
        .map(|o| o.len());
    assert_eq!(out, Some(twice));
    assert!(
        Compressor::Zstd
            .decompress(&[&zstd[..], b"\0\0\0\0"].concat(), cap)
            .is_err()
    );
    // lz4: the first frame; what follows is ignored.
    let lz4 = pack(Compressor::Lz4);
    for tail in [&b"junk"[..], &lz4] {
        let input = [&lz4[..], tail].concat();
        assert_eq!(
            Compressor::Lz4.decompress(&input, cap).ok(),
            Some(data.clone())
        );
    }
    // A gzip header with every optional field.
    let mut full = vec![
        0x1f,
        0x8b,
        8,
        2 | 4 | 8 | 16,
        0,
        0,
        0,
        0,
        0,
        255,
        3,
        0,
        b'x',
        b'y',
        b'z',
    ];
    full.extend_from_slice(b"name\0comment\0\x12\x34");
    full.extend_from_slice(&gzip[10..]);
    assert_eq!(
        Compressor::Gzip.decompress(&full, cap).ok(),
        Some(data.clone())
    );
}

#[test]
fn counter_values_follow_redis() {
    assert_eq!(counter_value(b"42"), Some(42));
    assert_eq!(counter_value(b"-9223372036854775808"), Some(i64::MIN));
    assert_eq!(counter_value(b" 42"), None);
    assert_eq!(counter_value(b"4.2"), None);
    // What the codec writes for an i64 is always a counter.
    for n in [0, 1, -1, i64::MIN, i64::MAX] {
        let bytes = Codec::new().encode(&n).expect("encodes");
        assert_eq!(counter_value(&bytes), Some(n));
    }
}

#[test]
fn structs_are_maps_in_both_serializers() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct User {
        name: String,
        age: u8,
        tags: Vec<String>,
    }
    let user = User {
        name: "Zoë".into(),
        age: 7,
        tags: vec!["a".into()],
    };
    let json = Codec::new();
    let bytes = json.encode(&user).expect("encodes");
    assert_eq!(bytes, br#"{"name": "Zo\u00eb", "age": 7, "tags": ["a"]}"#);
    assert_eq!(json.decode::<User>("k", &bytes).expect("decodes"), user);
    let msgpack = codec(Serializer::MessagePack, None);
    let bytes = msgpack.encode(&user).expect("encodes");
    assert_eq!(bytes.first(), Some(&0x83)); // a map of three entries
    assert_eq!(msgpack.decode::<User>("k", &bytes).expect("decodes"), user);
    // A value of another shape is a decode error.
    assert_decode_error::<User>(&json, b"[1, 2]");
}

#[test]
fn encode_errors_are_reported() {
    use std::collections::BTreeMap;
    let mut map = BTreeMap::new();
    map.insert(vec![1u8], 1);
    assert!(matches!(
        Codec::new().encode(&map),
        Err(Error::Encode { .. })
    ));
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let msgpack = codec(Serializer::MessagePack, None);
    let deep = [vec![0x91u8; 100_000], vec![0xc0]].concat();
    assert_decode_error::<Value>(&msgpack, &deep);
    let shallow = [vec![0x91u8; MAX_DEPTH - 1], vec![0xc0]].concat();
    assert!(msgpack.decode::<Value>("k", &shallow).is_ok());
    let json = "[".repeat(100_000) + &"]".repeat(100_000);
    assert_decode_error::<Value>(&Codec::new(), json.as_bytes());
}
