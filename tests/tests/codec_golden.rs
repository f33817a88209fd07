//! Golden vectors from the real django-cachex (`tests/fixtures/django/`, see its README):
//! cachex reads every value Django wrote, and writes what Django writes.
//!
//! Byte for byte: plain integers, JSON and MessagePack payloads, uncompressed values, and zstd
//! frames (the same libzstd on both sides). zlib, gzip and LZ4 output comes from other
//! implementations of the same formats (miniz_oxide, lz4_flex), and gzip headers carry
//! mtime 0 where Python writes the clock: for those the payload inside must be identical and
//! the frame must read back. django-cachex 0.14.1 itself also decodes everything cachex
//! encodes (the Python `scripts/django-cachex-venv` makes, or `CACHEX_DJANGO_PYTHON`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cachex::codec::{Codec, Compressor, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Deserialize, Serialize)]
struct Case {
    serializer: String,
    compressor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    level: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_length: Option<usize>,
    compressed: bool,
    value: Value,
    bytes: String,
}

impl Case {
    fn label(&self) -> String {
        format!(
            "{}/{}{}{} {}",
            self.serializer,
            self.compressor,
            self.level
                .map(|l| format!(" level {l}"))
                .unwrap_or_default(),
            self.min_length
                .map(|m| format!(" min_length {m}"))
                .unwrap_or_default(),
            self.value.to_string().chars().take(60).collect::<String>()
        )
    }

    fn django_bytes(&self) -> Vec<u8> {
        BASE64
            .decode(&self.bytes)
            .expect("fixture bytes are base64")
    }

    fn codec(&self) -> Codec {
        let mut builder = Codec::builder().serializer(
            self.serializer
                .parse::<Serializer>()
                .expect("known serializer"),
        );
        if self.compressor != "none" {
            builder = builder.compressor(self.compressor.parse::<Compressor>().expect("known"));
        }
        if let Some(level) = self.level {
            builder = builder.compression_level(level);
        }
        if let Some(min_length) = self.min_length {
            builder = builder.min_length(min_length);
        }
        builder.build().expect("valid codec")
    }
}

/// Bytes for a failure message: text stays readable, the rest is escaped.
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

fn cases() -> Vec<Case> {
    let text = std::fs::read(cachex_tests::django::fixture("vectors.json")).expect("fixture");
    // Read with cachex's own JSON reader: serde_json as built here (without its
    // `float_roundtrip` feature) may read a 17-digit float one unit off, and the MessagePack
    // vectors carry Python's exact floats.
    let cases: Vec<Case> = Codec::new()
        .decode("vectors.json", &text)
        .expect("fixture is a list of cases");
    assert!(cases.len() > 100, "fixture too small: {}", cases.len());
    cases
}

#[test]
fn fixture_covers_every_configuration() {
    let cases = cases();
    let mut seen = BTreeMap::new();
    for case in &cases {
        let entry = seen
            .entry((case.serializer.as_str(), case.compressor.as_str()))
            .or_insert((0, 0));
        entry.0 += 1;
        entry.1 += usize::from(case.compressed);
    }
    for serializer in ["json", "msgpack"] {
        for compressor in ["none", "zlib", "gzip", "zstd", "lz4"] {
            let (total, compressed) = seen
                .get(&(serializer, compressor))
                .copied()
                .unwrap_or_default();
            assert!(total > 0, "no case for {serializer}/{compressor}");
            if compressor != "none" {
                assert!(
                    compressed >= 3,
                    "{serializer}/{compressor}: {compressed} compressed"
                );
            }
        }
    }
}

#[test]
fn decodes_every_django_vector() {
    for case in cases() {
        let codec = case.codec();
        let decoded: Value = codec
            .decode("golden", &case.django_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", case.label()));
        assert_eq!(decoded, case.value, "{}", case.label());
        // Type-exact, as Python compares: 1, 1.0 and true are three values.
        assert_eq!(
            decoded.to_string(),
            case.value.to_string(),
            "{}",
            case.label()
        );
    }
}

#[test]
fn encodes_like_django() {
    let mut identical: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for case in cases() {
        let codec = case.codec();
        let django = case.django_bytes();
        let ours = codec
            .encode(&case.value)
            .unwrap_or_else(|e| panic!("{}: {e}", case.label()));
        if !case.compressed {
            // Integers, JSON, MessagePack, and values at or under min_length.
            assert!(
                ours == django,
                "{}:\n cachex {}\n django {}",
                case.label(),
                show(&ours),
                show(&django)
            );
            continue;
        }
        // Compressed on both sides, around the same payload.
        let payload = |bytes: &[u8]| -> Vec<u8> {
            let payload: Cow<'_, [u8]> = codec.payload("golden", bytes).expect("decompresses");
            payload.into_owned()
        };
        let (our_payload, django_payload) = (payload(&ours), payload(&django));
        assert_ne!(our_payload, ours, "{}: not compressed", case.label());
        assert!(
            our_payload == django_payload,
            "{}:\n cachex {}\n django {}",
            case.label(),
            show(&our_payload),
            show(&django_payload)
        );
        let back: Value = codec.decode("golden", &ours).expect("reads its own bytes");
        assert_eq!(back, case.value, "{}", case.label());
        let same = match case.compressor.as_str() {
            // The header's mtime (bytes 4..8) is the clock in Python, 0 here.
            "gzip" => {
                ours.len() == django.len() && {
                    let mut django = django.clone();
                    django[4..8].fill(0);
                    ours == django
                }
            }
            _ => ours == django,
        };
        if case.compressor == "zstd" {
            assert!(same, "{}: zstd frames differ", case.label());
        }
        let entry = identical.entry(case.compressor.clone()).or_default();
        entry.0 += usize::from(same);
        entry.1 += 1;
    }
    for (compressor, (same, total)) in identical {
        println!("{compressor}: {same} of {total} compressed vectors byte-identical");
    }
}

/// Has django-cachex itself decode what cachex encodes for every vector (the Python of
/// `cachex_tests::django::python`).
#[test]
fn django_decodes_what_cachex_encodes() {
    let python = cachex_tests::django::python();
    let ours: Vec<Case> = cases()
        .into_iter()
        .map(|case| {
            let bytes = case.codec().encode(&case.value).expect("encodes");
            Case {
                bytes: BASE64.encode(bytes),
                ..case
            }
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cachex-encoded.json");
    std::fs::write(&path, serde_json::to_vec(&ours).expect("serializes")).expect("writes");
    let output = Command::new(python)
        .arg(cachex_tests::django::fixture("generate.py"))
        .arg("--check")
        .arg(&path)
        .output()
        .expect("runs the Python with django-cachex");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "django-cachex refused cachex's bytes"
    );
    assert!(
        stdout.contains(&format!("{} passed, 0 failed", ours.len())),
        "{stdout}"
    );
}
