//! A Django service (the real django-cachex 0.14.1, with its JsonSerializer or its default
//! pickle) and cachex sharing one Redis: each reads the plain-data values and counters the other
//! wrote, with and without compression; cachex refuses a pickled object.
//! The Python environment is the one `scripts/django-cachex-venv` makes (`scripts/test` runs
//! it), or `CACHEX_DJANGO_PYTHON`; the fixtures are in `tests/fixtures/django/`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use cachex::prelude::*;
use cachex_tests::{ServerKind, shared};
use serde_json::{Value, json};

/// A test's place on the shared Redis: the URL of its database, and a key prefix of its own
/// (`interop-{name}-{process}`).
fn place(name: &str) -> (String, String) {
    let server = shared(ServerKind::Redis);
    (
        format!("{}/0", server.url()),
        format!("interop-{name}-{}", std::process::id()),
    )
}

/// Runs the Django side; returns what it printed.
fn django(url: &str, prefix: &str, mode: &str, codec: Codec, values: &Value) -> String {
    let script = cachex_tests::django::fixture("live.py");
    let mut child = Command::new(cachex_tests::django::python())
        .args([
            script.as_os_str(),
            url.as_ref(),
            prefix.as_ref(),
            mode.as_ref(),
            codec.compressor.as_ref(),
            codec.serializer.as_ref(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("a stdin")
        .write_all(values.to_string().as_bytes())
        .expect("values sent");
    let output = child.wait_with_output().expect("python ends");
    assert!(
        output.status.success(),
        "django side failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn values() -> Value {
    json!({
        "text": "héllo wörld ✓",
        "int": 42,
        "negative": -7,
        "float": 1.5,
        "true": true,
        "null": null,
        "list": [1, "two", 3.5, false],
        "map": {"nested": {"k": [1, 2]}, "empty": {}},
        "long": "x".repeat(1000),
    })
}

/// The two sides' configuration: Django's serializer (`json` or `pickle`, its default) and
/// compressor (`none` or a short name); cachex is given the same.
#[derive(Clone, Copy)]
struct Codec {
    serializer: &'static str,
    compressor: &'static str,
}

fn both_directions(codec: Codec) {
    let Codec {
        serializer,
        compressor,
    } = codec;
    let (url, prefix) = place(&format!("{serializer}-{compressor}"));
    let mut query = format!("prefix={prefix}&serializer={serializer}");
    if compressor != "none" {
        query.push_str(&format!("&compressor={compressor}"));
    }
    let cache = Cache::from_url(&format!("{url}?{query}")).expect("a cache");
    let values = values();
    let Value::Object(entries) = &values else {
        unreachable!("the values are a map")
    };

    // Django writes, cachex reads.
    django(&url, &prefix, "write", codec, &values);
    for (key, value) in entries {
        let read: Option<Value> = cache
            .get(&format!("django:{key}"))
            .expect("cachex reads it");
        assert_eq!(read.as_ref(), Some(value), "{key}");
    }
    assert_eq!(cache.get::<i64>("django:counter").expect("get"), Some(15));
    assert_eq!(
        cache
            .incr("django:counter", 1)
            .expect("incr Django's counter"),
        16
    );

    if serializer == "pickle" {
        python_values_and_objects(&cache);
    }

    // cachex writes, Django reads.
    write_rust_values(&cache, &values);
    let seen = django_reads(&url, &prefix, codec, &values);
    let present: Vec<&str> = entries.keys().map(String::as_str).collect();
    assert_eq!(seen["present"], json!(present), "Django sees every key");
    assert_eq!(seen["counter"], json!(20));
    assert_eq!(seen["counter_after_incr"], json!(21));
    assert_eq!(cache.get::<i64>("rust:counter").expect("get"), Some(21));
    cache.clear().expect("clear");
}

#[test]
fn django_and_cachex_share_plain_values_and_counters() {
    both_directions(Codec {
        serializer: "json",
        compressor: "none",
    });
}

#[test]
fn and_with_every_compressor() {
    for compressor in ["zlib", "gzip", "zstd", "lz4"] {
        both_directions(Codec {
            serializer: "json",
            compressor,
        });
    }
}

/// Django left at django-cachex's default serializer (pickle, protocol 5 as 0.14.1 on Python
/// 3.14 writes it), and cachex configured with `serializer=pickle`: both directions, with and
/// without compression.
#[test]
fn with_djangos_default_pickle() {
    for compressor in ["none", "zstd"] {
        both_directions(Codec {
            serializer: "pickle",
            compressor,
        });
    }
}

/// Python's own plain data (a tuple, a set, bytes) read from Django's pickle, and a pickled
/// `datetime.date` refused as a decoding error that names the key.
fn python_values_and_objects(cache: &Cache) {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Python {
        tuple: (i64, String),
        set: Vec<i64>,
        // `bytes` (b"\x00\xff") is read too, but into serde's byte buffers, which neither
        // `Value` nor `Vec<u8>` take: the codec's unit tests read it.
    }
    let read: Option<Python> = cache.get("django:python").expect("plain Python data");
    let read = read.expect("present");
    assert_eq!(read.tuple, (1, "a".to_owned()));
    assert_eq!(read.set, vec![3]);
    let error = cache
        .get::<Value>("django:object")
        .expect_err("a datetime is an object");
    let cachex::Error::Decode { key, reason } = &error else {
        panic!("expected a decoding error, got {error:?}");
    };
    assert!(key.ends_with("django:object"), "{key}");
    assert!(reason.contains("STACK_GLOBAL"), "{reason}");
}

/// Values cachex writes with `stampede_prevention` stay readable by a Django cache without the
/// option: the stored bytes are the ones written without it, and the stored expiry is the
/// timeout plus the buffer (checked on the server). Both sides with the option:
/// `stampede_prevention_on_both_sides`.
#[test]
fn values_written_with_stampede_prevention_stay_readable() {
    let (url, prefix) = place("stampede");
    let query = format!("prefix={prefix}&serializer=json&stampede_prevention=buffer:60");
    let cache = Cache::from_url(&format!("{url}?{query}")).expect("a cache");
    let values = values();
    write_rust_values(&cache, &values);
    for key in ["rust:text", "rust:counter"] {
        let secs = stored_secs(&cache, key).expect("an expiry");
        assert!(
            (359..=360).contains(&secs),
            "{key}: stored for {secs} s, not 300 + 60"
        );
    }
    let codec = Codec {
        serializer: "json",
        compressor: "none",
    };
    let seen = django_reads(&url, &prefix, codec, &values);
    assert_eq!(seen["counter"], json!(20));
    assert_eq!(seen["counter_after_incr"], json!(21));
    cache.clear().expect("clear");
}

/// cachex writes the values under `rust:`, and a counter at 20.
fn write_rust_values(cache: &Cache, values: &Value) {
    for (key, value) in values.as_object().expect("a map") {
        cache
            .set(&format!("rust:{key}"), value, Timeout::Default)
            .expect("set");
    }
    cache
        .set("rust:counter", &20, Timeout::Default)
        .expect("set");
}

/// What Django read of the values cachex wrote under `rust:`, each checked.
fn django_reads(url: &str, prefix: &str, codec: Codec, values: &Value) -> Value {
    let seen: Value = serde_json::from_str(&django(url, prefix, "read", codec, values))
        .expect("Django printed JSON");
    for (key, value) in values.as_object().expect("a map") {
        assert_eq!(&seen[key], value, "Django read {key}");
    }
    seen
}

/// Values written through a django-cachex pipeline are read through a cachex pipeline, and
/// the other way round: same keys, same encoding, counters shared.
#[test]
fn pipelines_on_both_sides() {
    let (url, prefix) = place("pipeline");
    let cache =
        Cache::from_url(&format!("{url}?prefix={prefix}&serializer=json")).expect("a cache");

    // Django's pipeline writes, cachex's reads.
    let json = Codec {
        serializer: "json",
        compressor: "none",
    };
    django(&url, &prefix, "pipeline-write", json, &json!({}));
    let mut pipe = cache.pipeline();
    let text = pipe.get::<String>("django:text");
    let count = pipe.incr("django:count", 1);
    let items = pipe.lrange::<Value>("django:list", 0, -1);
    let field = pipe.hget::<Vec<i64>>("django:hash", "field");
    let mut replies = pipe.execute().expect("cachex's pipeline");
    assert_eq!(
        replies.take(text).expect("text").as_deref(),
        Some("héllo ✓")
    );
    assert_eq!(replies.take(count).expect("count"), 16);
    assert_eq!(
        replies.take(items).expect("list"),
        [json!(1), json!("two"), json!({"three": 3})]
    );
    assert_eq!(replies.take(field).expect("field"), Some(vec![1, 2]));

    // cachex's transaction writes, Django's pipeline reads.
    let list = [json!(1.5), json!("deux"), json!([3])];
    let field = json!({"k": [true]}); // arguments are borrowed until the pipeline runs
    let mut tx = cache.transaction();
    let writes = [
        tx.set("rust:text", "wörld", Timeout::Default),
        tx.set("rust:count", &20, Timeout::Default),
    ];
    let pushed = tx.rpush("rust:list", &list);
    let hset = tx.hset("rust:hash", "field", &field);
    let mut replies = tx.execute().expect("cachex's transaction");
    for write in writes {
        replies.take(write).expect("set");
    }
    assert_eq!(replies.take(pushed).expect("rpush"), 3);
    assert!(replies.take(hset).expect("hset"));
    let seen: Value =
        serde_json::from_str(&django(&url, &prefix, "pipeline-read", json, &json!({})))
            .expect("Django's JSON");
    assert_eq!(
        seen,
        json!({"text": "wörld", "count": 21, "list": list, "field": {"k": [true]}})
    );
    assert_eq!(cache.get::<i64>("rust:count").expect("get"), Some(21));
    cache.clear().expect("clear");
}

/// Runs `fixtures/django/{script}` in `mode` on the server `url` with the key prefix `prefix`;
/// returns what it printed.
fn django_script(script: &str, url: &str, prefix: &str, mode: &str) -> String {
    let output = Command::new(cachex_tests::django::python())
        .arg(cachex_tests::django::fixture(script))
        .args([url, prefix, mode])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "django side failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Streams shared with django-cachex (its cache's stream methods, see
/// `fixtures/django/streams.py`), with its JSON serializer: entries Django added, read by
/// cachex in a range and in the group Django created; entries cachex added, read by Django in
/// a range and in the group cachex created, and acknowledged there.
#[test]
fn streams_in_both_directions() {
    use cachex::stream::{ReadFrom, ReadOptions, StreamEntry, StreamId, XaddOptions};

    let (url, prefix) = place("streams");
    let cache =
        Cache::from_url(&format!("{url}?prefix={prefix}&serializer=json")).expect("a cache");

    // Django writes, cachex reads.
    django_script("streams.py", &url, &prefix, "write");
    let fields = |entry: &StreamEntry<Value>| -> Vec<(String, Value)> { entry.fields.clone() };
    let entries: Vec<StreamEntry<Value>> = cache
        .xrange("django:events", StreamId::MIN, StreamId::MAX, None)
        .expect("xrange");
    assert_eq!(
        entries.iter().map(fields).collect::<Vec<_>>(),
        [
            vec![("user".into(), json!("héllo")), ("n".into(), json!(1))],
            vec![
                ("user".into(), json!("wörld")),
                ("n".into(), json!(2)),
                ("data".into(), json!({"k": [1, 2]})),
            ],
        ]
    );
    let read = cache
        .xreadgroup::<Value>(
            "workers",
            "rust",
            &[("django:events", ReadFrom::Undelivered)],
            ReadOptions::default(),
        )
        .expect("read in Django's group");
    assert_eq!(read[0].1, entries);
    let ids: Vec<StreamId> = entries.iter().map(|entry| entry.id).collect();
    assert_eq!(
        cache.xack("django:events", "workers", &ids).expect("xack"),
        2
    );

    // cachex writes, Django reads.
    let first = cache
        .xadd(
            "rust:events",
            &[("user", json!("ünï ✓")), ("n", json!(3))],
            XaddOptions::default(),
        )
        .expect("xadd")
        .expect("made");
    let second = cache
        .xadd(
            "rust:events",
            &[("data", json!({"nested": [true, null]}))],
            XaddOptions::default(),
        )
        .expect("xadd")
        .expect("made");
    cache
        .xgroup_create("rust:events", "workers", ReadFrom::START, false)
        .expect("group");
    let seen: Value = serde_json::from_str(&django_script("streams.py", &url, &prefix, "read"))
        .expect("Django printed JSON");
    let expected = json!([
        [first.to_string(), {"user": "ünï ✓", "n": 3}],
        [second.to_string(), {"data": {"nested": [true, null]}}],
    ]);
    assert_eq!(seen["range"], expected, "Django's xrange");
    assert_eq!(seen["group"], expected, "Django's xreadgroup");
    assert_eq!(seen["acked"], json!(2));
    assert_eq!(
        cache
            .xpending("rust:events", "workers")
            .expect("xpending")
            .count,
        0,
        "Django acknowledged them"
    );
    cache.clear().expect("clear");
}

/// The seconds left on `key` as stored (the stampede buffer included), rounded to the nearest;
/// `None` without expiry.
fn stored_secs(cache: &Cache, key: &str) -> Option<u128> {
    logical_secs(&cache.with_stampede_prevention(None), key)
}

/// The time left of `key` as the cache reports it (the buffer taken off under stampede
/// prevention), in whole seconds (rounded to the nearest); `None` without expiry.
fn logical_secs(cache: &Cache, key: &str) -> Option<u128> {
    match cache.pttl(key).expect("pttl") {
        cachex::Ttl::Expires(left) => Some((left.as_millis() + 500) / 1000),
        cachex::Ttl::Persistent => None,
        cachex::Ttl::Missing => panic!("{key} is missing"),
    }
}

/// A value stored for 300 s plus the 60 s buffer: more than 300 s left, at most 360 (the time
/// since the write is not bounded, the buffer is what is checked).
fn assert_buffered(what: &str, secs: u128) {
    assert!(
        (301..=360).contains(&secs),
        "{what}: stored for {secs} s, not 300 + 60"
    );
}

/// Stampede prevention on both sides, with the same buffer (django-cachex's
/// `OPTIONS["stampede_prevention"] = {"buffer": 60}`, cachex's `stampede_prevention=buffer:60`):
/// each stores the other's timeout plus the buffer, reads the other's values, and counts a value
/// with less than the buffer left as missing (`get`, `has_key`), which its `add` then
/// overwrites. Both sides' `ttl` strip the buffer and both sides' `expire` add it.
#[test]
fn stampede_prevention_on_both_sides() {
    let (url, prefix) = place("stampede-both");
    let cache = Cache::from_url(&format!(
        "{url}?prefix={prefix}&serializer=json&stampede_prevention=buffer:60"
    ))
    .expect("a cache");
    // The same keys without the option, to shorten an expiry on the server as it is.
    let plain =
        Cache::from_url(&format!("{url}?prefix={prefix}&serializer=json")).expect("a cache");
    let five_minutes = Timeout::After(std::time::Duration::from_secs(300));
    let late = std::time::Duration::from_secs(30);

    // Django writes, cachex reads.
    django_script("stampede.py", &url, &prefix, "write");
    assert_eq!(
        cache.get::<String>("django:text").expect("get").as_deref(),
        Some("héllo ✓")
    );
    assert_eq!(cache.get::<i64>("django:counter").expect("get"), Some(20));
    assert_eq!(
        cache.get::<Value>("django:forever").expect("get"),
        Some(json!({"k": [1, 2]}))
    );
    for key in ["django:text", "django:counter"] {
        assert_buffered(key, stored_secs(&plain, key).expect("an expiry"));
        // cachex's ttl is the logical one, as Django's: the 300 s Django was given.
        let logical = logical_secs(&cache, key).expect("an expiry");
        assert!(
            (299..=300).contains(&logical),
            "{key}: cachex's ttl {logical}"
        );
    }
    // Django's expire(k, 100) stored 100 + 60, which cachex reads as 100.
    assert_eq!(stored_secs(&plain, "django:expired"), Some(160));
    assert_eq!(logical_secs(&cache, "django:expired"), Some(100));
    assert_eq!(stored_secs(&cache, "django:forever"), None);
    // Less than the buffer left: missing for cachex, and its add overwrites it.
    assert!(plain.expire("django:text", late).expect("expire"));
    assert_eq!(cache.get::<String>("django:text").expect("get"), None);
    assert_eq!(
        cache.ttl("django:text").expect("ttl"),
        cachex::Ttl::Expires(std::time::Duration::ZERO),
        "inside the buffer: 0 left, as Django's max(0, ttl - buffer)"
    );
    assert!(!cache.has_key("django:text").expect("has_key"));
    assert!(
        cache
            .add("django:text", "cachex's add", five_minutes)
            .expect("add")
    );
    assert_buffered(
        "added",
        stored_secs(&plain, "django:text").expect("an expiry"),
    );

    // cachex writes, Django reads.
    cache
        .set("rust:text", "wörld ✓", five_minutes)
        .expect("set");
    cache.set("rust:counter", &20, five_minutes).expect("set");
    cache
        .set("rust:forever", &json!([1, "two"]), Timeout::Never)
        .expect("set");
    cache.set("rust:late", "old", five_minutes).expect("set");
    assert!(plain.expire("rust:late", late).expect("expire"));
    cache
        .set("rust:expired", "value", Timeout::Never)
        .expect("set");
    assert!(
        cache
            .expire("rust:expired", std::time::Duration::from_secs(100))
            .expect("expire")
    );
    let seen: Value = serde_json::from_str(&django_script("stampede.py", &url, &prefix, "read"))
        .expect("Django printed JSON");
    assert_eq!(seen["text"], json!("wörld ✓"));
    assert_eq!(seen["counter_after_incr"], json!(21));
    assert_eq!(seen["forever"], json!([1, "two"]));
    for key in ["text", "counter"] {
        let logical = seen["ttl"][key].as_u64().expect("Django's ttl");
        let stored = seen["stored_ttl"][key].as_u64().expect("the stored ttl");
        assert_buffered(key, stored.into());
        // Read second, so at most a second less: Django's ttl is the stored one less 60.
        assert!(
            (logical + 59..=logical + 60).contains(&stored),
            "{key}: Django's ttl {logical}, stored {stored}"
        );
    }
    assert_eq!(seen["ttl"]["forever"], Value::Null, "no expiry");
    // cachex's expire(k, 100) stored 100 + 60, which Django reads as 100.
    let stored = seen["stored_ttl"]["expired"]
        .as_u64()
        .expect("the stored ttl");
    assert!((159..=160).contains(&stored), "stored {stored}");
    assert!(
        (99..=100).contains(&seen["ttl"]["expired"].as_u64().expect("Django's ttl")),
        "Django's ttl of cachex's expire: {}",
        seen["ttl"]["expired"]
    );
    assert_eq!(seen["late"], json!("MISSING"), "inside the buffer");
    assert_eq!(seen["late_present"], json!(false));
    assert_eq!(seen["late_added"], json!(true), "Django's add overwrote it");
    assert_eq!(seen["django_text"], json!("cachex's add"));
    assert_eq!(
        cache.get::<String>("rust:late").expect("get").as_deref(),
        Some("django's add")
    );
    assert_buffered(
        "Django's add",
        stored_secs(&plain, "rust:late").expect("an expiry"),
    );
    assert_eq!(cache.get::<i64>("rust:counter").expect("get"), Some(21));
    cache.clear().expect("clear");
}

/// A Django process that takes one command a line and answers one line
/// (`fixtures/django/{script}` in `mode`).
struct Driver {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Driver {
    fn start(script: &str, url: &str, prefix: &str, mode: &[&str]) -> Driver {
        let mut child = Command::new(cachex_tests::django::python())
            .arg(cachex_tests::django::fixture(script))
            .args([url, prefix])
            .args(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python starts");
        let input = child.stdin.take().expect("a stdin");
        let output = BufReader::new(child.stdout.take().expect("a stdout"));
        Driver {
            child,
            input,
            output,
        }
    }

    /// The next line the process prints.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.output.read_line(&mut line).expect("an answer");
        assert!(
            !line.is_empty(),
            "the Django process ended (see its stderr)"
        );
        line.trim_end().to_owned()
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.input, "{command}").expect("command sent");
        self.line()
    }

    /// Waits for the process to end; asserts that it succeeded.
    fn finish(mut self) {
        drop(self.input);
        let status = self.child.wait().expect("python ends");
        assert!(status.success(), "the Django process failed: {status}");
    }
}

/// Semaphores shared with django-cachex's `cache.semaphore` (same prefix, so the same
/// `{prefix:1:name}` keys): the holders on both sides never hold more than the capacity
/// together, a release on one side admits a waiter on the other, and a Django holder that dies
/// without releasing frees its share for cachex when its lease runs out. (Django's leases are
/// at least 5 s: far longer than the step that checks that they still hold.)
#[test]
fn semaphores_shared_with_django() {
    let (url, prefix) = place("semaphore");
    let cache =
        Cache::from_url(&format!("{url}?prefix={prefix}&serializer=json")).expect("a cache");
    let (lease, now) = (Duration::from_secs(30), Duration::ZERO);
    let mut django = Driver::start("semaphore.py", &url, &prefix, &["drive"]);

    // Capacity 3: Django holds 2, cachex 1, then neither side gets more.
    assert_eq!(django.ask("acquire a jobs 3 2 30 0"), "yes");
    let one = cache
        .semaphore("jobs", 3, 1, lease, now)
        .expect("semaphore");
    let one = one.expect("1 of 3 left");
    assert!(
        cache
            .semaphore("jobs", 3, 1, lease, now)
            .expect("semaphore")
            .is_none(),
        "Django's 2 and cachex's 1 fill it"
    );
    assert_eq!(
        django.ask("acquire b jobs 3 1 30 0"),
        "no",
        "full for Django too"
    );
    // cachex's release makes room for Django, Django's for cachex.
    assert!(one.release().expect("release"));
    assert_eq!(django.ask("acquire b jobs 3 1 30 0"), "yes");
    assert_eq!(django.ask("release a"), "released");
    let two = cache
        .semaphore("jobs", 3, 2, lease, now)
        .expect("semaphore");
    let two = two.expect("2 of 3 left");
    assert_eq!(django.ask("acquire c jobs 3 1 30 0"), "no");
    // A Django waiter is admitted once cachex releases.
    writeln!(django.input, "acquire c jobs 3 1 30 20").expect("command sent");
    assert!(two.release().expect("release"));
    assert_eq!(django.line(), "yes", "admitted after cachex's release");
    assert!(
        cache
            .semaphore("jobs", 3, 2, lease, now)
            .expect("semaphore")
            .is_none(),
        "Django holds 2"
    );

    // A Django holder with a 5 s lease holds all of `short`, and dies without releasing:
    // cachex gets it when the lease runs out.
    assert_eq!(django.ask("acquire d short 2 2 5 0"), "yes");
    assert!(
        cache
            .semaphore("short", 2, 1, lease, now)
            .expect("semaphore")
            .is_none(),
        "Django holds it"
    );
    writeln!(django.input, "exit").expect("command sent");
    django.finish();
    let after = cache
        .semaphore("short", 2, 2, lease, Duration::from_secs(30))
        .expect("semaphore");
    assert!(
        after
            .expect("freed by the lease")
            .release()
            .expect("release")
    );
}

/// Holders on both sides at once, with weights (capacity 3; Django threads of weights 1 and 2,
/// cachex threads of weights 1 and 2): while holding, each adds its weight to a shared counter
/// and notes what it holds; it never exceeds the capacity.
#[test]
fn semaphore_holders_on_both_sides_never_exceed_capacity() {
    const ROUNDS: usize = 25;
    let (url, prefix) = place("semaphore-stress");
    let cache =
        Cache::from_url(&format!("{url}?prefix={prefix}&serializer=json")).expect("a cache");
    cache.set("inside", &0, Timeout::Never).expect("set");
    let (wait, lease) = (Duration::from_secs(60), Duration::from_secs(30));
    let warmup = cache
        .semaphore("shared", 3, 1, lease, wait)
        .expect("semaphore");
    assert!(warmup.expect("free").release().expect("release"));
    let rounds = ROUNDS.to_string();
    let mut django = Driver::start(
        "semaphore.py",
        &url,
        &prefix,
        &["stress", "shared", "3", "1,2", &rounds],
    );
    assert_eq!(django.line(), "ready");
    let highest = std::thread::scope(|scope| {
        let holders: Vec<_> = [1, 2]
            .map(|weight: u32| {
                let cache = &cache;
                scope.spawn(move || {
                    let mut highest = 0;
                    for _ in 0..ROUNDS {
                        let permit = cache
                            .semaphore("shared", 3, weight, lease, wait)
                            .expect("semaphore")
                            .expect("acquired within a minute");
                        let inside = cache.incr("inside", weight.into()).expect("incr");
                        std::thread::sleep(Duration::from_millis(5));
                        let before = cache.incr("inside", -i64::from(weight)).expect("decr")
                            + i64::from(weight);
                        highest = highest.max(inside).max(before);
                        assert!(permit.release().expect("release"), "still held");
                    }
                    highest
                })
            })
            .into_iter()
            .collect();
        holders
            .into_iter()
            .map(|holder| holder.join().expect("holder"))
            .max()
    });
    let seen: Value = serde_json::from_str(&django.line()).expect("Django printed JSON");
    django.finish();
    println!(
        "Django's holders held alongside another in {} of their rounds",
        seen["shared"]
    );
    assert_eq!(seen["rounds"], json!(2 * ROUNDS));
    let highest = highest
        .expect("two holders")
        .max(seen["max"].as_i64().expect("a max"));
    assert!(highest <= 3, "{highest} held of a capacity of 3");
    assert_eq!(cache.get::<i64>("inside").expect("get"), Some(0));
}

/// Reads `key` through `cache` until `done` holds for what it read, 10 s at most.
fn read_until(cache: &Cache, key: &str, done: impl Fn(Option<i64>) -> bool) -> Option<i64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let value = cache.get::<i64>(key).expect("get");
        if done(value) {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{key} stays {value:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Tracking on both sides, on one prefix (cachex's `tracking=true`, django-cachex's
/// `OPTIONS["tracking"]`: each a BCAST registration for `prefix:`): each side serves its copy,
/// and a write on either side replaces the copy on the other.
#[test]
fn tracking_on_both_sides_of_one_prefix() {
    let (url, prefix) = place("tracking");
    let cache = Cache::from_url(&format!(
        "{url}?prefix={prefix}&serializer=json&tracking=true"
    ))
    .expect("a tracking cache");
    read_until(&cache, "warm", |_| {
        cache.tracking_stats().expect("tracking").live
    });
    cache.set("shared", &1, Timeout::Never).expect("set");
    let mut django = Driver::start("tracking.py", &url, &prefix, &[]);
    assert_eq!(django.line(), "ready");

    // Both hold a copy of 1.
    assert_eq!(django.ask("hit shared"), "1");
    let hits = cache.tracking_stats().expect("tracking").hits;
    read_until(&cache, "shared", |_| {
        cache.tracking_stats().expect("tracking").hits > hits
    });

    // cachex writes: Django's copy goes.
    cache.set("shared", &2, Timeout::Never).expect("set");
    assert_eq!(
        django.ask("until shared 2"),
        "yes",
        "Django's copy replaced"
    );
    assert_eq!(django.ask("hit shared"), "2");
    assert_eq!(
        read_until(&cache, "shared", |value| value == Some(2)),
        Some(2)
    );

    // Django writes: cachex's copy goes.
    let hits = cache.tracking_stats().expect("tracking").hits;
    read_until(&cache, "shared", |_| {
        cache.tracking_stats().expect("tracking").hits > hits
    });
    let invalidations = cache.tracking_stats().expect("tracking").invalidations;
    assert_eq!(django.ask("set shared 3"), "done");
    assert_eq!(
        read_until(&cache, "shared", |value| value == Some(3)),
        Some(3)
    );
    assert!(cache.tracking_stats().expect("tracking").invalidations > invalidations);
    django.finish();
    cache.clear().expect("clear");
}

/// Hash fields made by `HINCRBYFLOAT` (stored as bare float text) on either side, read by the
/// other with the same serializer: django-cachex 0.14.1 reads bare float text as a float before
/// trying its serializer, whatever the serializer, and so does cachex (before, it read them
/// only through JSON, and failed with MessagePack and pickle).
#[test]
fn float_fields_in_both_directions() {
    for serializer in ["json", "msgpack", "pickle"] {
        let (url, prefix) = place(&format!("floats-{serializer}"));
        let cache = Cache::from_url(&format!("{url}?prefix={prefix}&serializer={serializer}"))
            .expect("a cache");
        let codec = Codec {
            serializer,
            compressor: "none",
        };
        django(&url, &prefix, "float-write", codec, &json!({}));
        assert_eq!(
            cache.hget::<f64>("django:floats", "x").expect(serializer),
            Some(10.25),
            "{serializer}"
        );
        assert_eq!(
            cache
                .hincrbyfloat("django:floats", "x", 0.5)
                .expect("hincrbyfloat"),
            10.75
        );
        assert_eq!(
            cache
                .hincrbyfloat("rust:floats", "x", 1.5)
                .expect("hincrbyfloat"),
            1.5
        );
        assert_eq!(
            cache
                .hincrbyfloat("rust:floats", "x", 1.0)
                .expect("hincrbyfloat"),
            2.5
        );
        let seen: Value =
            serde_json::from_str(&django(&url, &prefix, "float-read", codec, &json!({})))
                .expect("Django printed JSON");
        assert_eq!(seen, json!({"x": 2.5, "all": {"x": 2.5}}), "{serializer}");
        cache.clear().expect("clear");
    }
}
