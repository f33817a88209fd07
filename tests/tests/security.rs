//! Security: a password (`requirepass`) and ACL users authenticate on both surfaces, wrong or
//! missing credentials are a clear authentication error, an ACL's key limits hold, credentials
//! never appear in any `Display` or `Debug` or in what cachex logs, and stored values are only
//! ever read as data: a Python pickle that would run code is a decode error, also with the
//! pickle reader.
//!
//! TLS is tested in `tls.rs`.

use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use cachex::codec::{Codec, Compressor, Serializer};
use cachex::prelude::*;
use cachex::{CacheBuilder, Error};
use cachex_tests::{Server, ServerKind, logs, shared};

/// Every secret of this file contains this, so that one search finds any leak.
const SECRET: &str = "s3cret";

/// Held by the tests that fail open: cachex logs at most one fail-open warning a second,
/// process-wide, and one test needs to see its own.
static FAILING_OPEN: Mutex<()> = Mutex::new(());

/// The wait that frees the fail-open warning's rate limit.
const WARNING_INTERVAL: Duration = Duration::from_millis(1100);

/// A server with two ACL users and a password for the default user. The users are made
/// before the password is set: the harness's own commands do not authenticate.
fn server_with_users() -> Server {
    let server = Server::start(ServerKind::Redis);
    for command in [
        &[
            "ACL",
            "SETUSER",
            "alice",
            "on",
            ">alice-s3cret",
            "~app:*",
            "+@all",
        ][..],
        &[
            "ACL",
            "SETUSER",
            "reader",
            "on",
            ">reader-s3cret",
            "~*",
            "-@all",
            "+get",
            "+mget",
            "+exists",
        ],
        &["CONFIG", "SET", "requirepass", "admin-s3cret"],
    ] {
        assert_eq!(server.command(command), "+OK\r\n", "{command:?}");
    }
    server
}

/// `redis://{credentials}@127.0.0.1:{port}/0?prefix={prefix}&connect_timeout=2`.
fn url(server: &Server, credentials: &str, prefix: &str) -> String {
    format!(
        "redis://{credentials}127.0.0.1:{}/0?prefix={prefix}&connect_timeout=2",
        server.port()
    )
}

/// Everything a user may see of a cache and of an error, checked for secrets.
fn assert_no_secret(texts: &[String]) {
    for text in texts {
        assert!(!text.contains(SECRET), "a secret shows: {text}");
    }
}

/// Works on both surfaces: set, get, incr, clear.
fn exercise(cache: &Cache, runtime: &tokio::runtime::Runtime) {
    cache.set("k", "v", Timeout::Never).expect("set");
    assert_eq!(cache.get::<String>("k").expect("get").as_deref(), Some("v"));
    runtime.block_on(async {
        assert_eq!(
            cache
                .aincr_or_create("n", 2, Timeout::Never)
                .await
                .expect("incr"),
            2
        );
        assert_eq!(
            cache.aget::<String>("k").await.expect("aget").as_deref(),
            Some("v")
        );
    });
    assert_eq!(cache.clear().expect("clear"), 2);
}

#[test]
fn passwords_and_acl_users_authenticate_and_wrong_ones_are_clear_errors() {
    let _failing_open = FAILING_OPEN.lock().unwrap_or_else(PoisonError::into_inner);
    let logs = logs::capture();
    let server = server_with_users();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");

    for (credentials, prefix) in [
        (":admin-s3cret@", "admin"),
        ("default:admin-s3cret@", "default"),
        ("alice:alice-s3cret@", "app"),
    ] {
        let cache = Cache::from_url(&url(&server, credentials, prefix)).expect("a cache");
        exercise(&cache, &runtime);
        assert_no_secret(&[cache.to_string(), format!("{cache:?}")]);
    }

    let mut errors = Vec::new();
    for (credentials, expected) in [
        (":wrong-s3cret@", "authentication failed"),
        ("alice:wrong-s3cret@", "authentication failed"),
        ("mallory:mallory-s3cret@", "authentication failed"),
        ("", "requires authentication"),
    ] {
        let cache = Cache::from_url(&url(&server, credentials, "app")).expect("a cache");
        let blocking = cache.set("k", "v", Timeout::Never);
        let asynchronous = runtime.block_on(cache.aget::<String>("k")).map(drop);
        // Refused again on the next call: a refused connection is not kept.
        let again = cache.get::<String>("k").map(drop);
        for outcome in [blocking, asynchronous, again] {
            match outcome {
                Err(error @ Error::Connection { .. }) => {
                    let shown = format!("{error} | {error:?}");
                    assert!(shown.contains(expected), "{shown}");
                    assert!(shown.contains("127.0.0.1"), "says where: {shown}");
                    errors.push(shown);
                }
                other => panic!("{credentials:?}: expected a connection error, got {other:?}"),
            }
        }
        // With fail-open, refused credentials degrade to misses too (as django-redis's
        // IGNORE_EXCEPTIONS), with a warning.
        let open = Cache::from_url(&format!("{}&fail_open=1", url(&server, credentials, "app")))
            .expect("a cache");
        assert_eq!(open.get::<String>("k").expect("a miss"), None);
        errors.push(format!("{open} {open:?}"));
    }
    println!("authentication errors, as shown:\n{}", errors.join("\n"));
    assert_no_secret(&errors);
    // Nothing was written by the refused caches.
    let admin = Cache::from_url(&url(&server, ":admin-s3cret@", "app")).expect("a cache");
    assert_eq!(admin.get::<String>("k").expect("get"), None);

    // An ACL's limits hold: alice's keys are `app:*`, the reader may only read.
    let outside = Cache::from_url(&url(&server, "alice:alice-s3cret@", "other")).expect("a cache");
    let reader = Cache::from_url(&url(&server, "reader:reader-s3cret@", "app")).expect("a cache");
    admin.set("k", "v", Timeout::Never).expect("set");
    assert_eq!(
        reader.get::<String>("k").expect("get").as_deref(),
        Some("v")
    );
    for outcome in [
        outside.set("k", "v", Timeout::Never),
        outside.get::<String>("k").map(drop),
        reader.set("k", "w", Timeout::Never),
        reader.incr("n", 1).map(drop),
    ] {
        match outcome {
            Err(Error::Server {
                reason: message, ..
            }) => {
                assert!(message.contains("permission denied"), "{message}");
                assert!(message.contains("ACL"), "{message}");
                assert_no_secret(&[message]);
            }
            other => panic!("expected a permission error, got {other:?}"),
        }
    }
    assert_eq!(admin.get::<String>("k").expect("get").as_deref(), Some("v"));

    // What cachex logged meanwhile (fail-open warnings, at most one a second process-wide,
    // so maybe another test's) shows no secret either.
    assert_no_secret(&[logs.since()]);
}

#[test]
fn credentials_never_show_in_messages_debug_or_logs() {
    let _failing_open = FAILING_OPEN.lock().unwrap_or_else(PoisonError::into_inner);
    thread::sleep(WARNING_INTERVAL);
    let logs = logs::capture();
    let mut server = Server::start(ServerKind::Redis);
    let with_password = format!(
        "redis://user:url-s3cret@127.0.0.1:{}/0?prefix=redact&connect_timeout=0.3&response_timeout=0.3",
        server.port()
    );
    let builder = CacheBuilder::from_url(&with_password).expect("a valid URL");
    let cache = builder.clone().build().expect("a cache");
    let open = builder.clone().fail_open(true).build().expect("a cache");
    let mut shown = vec![
        format!("{builder:?}"),
        format!("{cache:?}"),
        cache.to_string(),
    ];
    let mut record = |outcome: Result<(), Error>| {
        let error = outcome.expect_err("an error");
        shown.push(format!("{error} | {error:?}"));
    };
    // The server has no such user: authentication fails.
    record(cache.get::<i32>("k").map(drop));
    assert_eq!(open.get::<i32>("k").expect("a miss"), None);
    // Down: refused.
    server.kill();
    record(cache.set("k", &1, Timeout::Never));
    assert_eq!(open.get::<i32>("k").expect("a miss"), None);
    // Hung: timeouts.
    server.restart();
    server.pause();
    record(cache.get::<i32>("k").map(drop));
    server.resume();
    // Invalid configurations that carry a password.
    for bad in [
        "redis://user:cfg-s3cret@127.0.0.1:6379/0?timeout=soon",
        "redis://user:cfg-s3cret@127.0.0.1:6379/0?tls_ca=/nonexistent",
        "rediss://user:cfg-s3cret@127.0.0.1:6379/0?tls_ca=/nonexistent.pem",
        "redis://user:cfg-s3cret@[::1/0",
        "redis+unix:///tmp/x.sock?pass=cfg-s3cret&db=nan",
        "ftp://user:cfg-s3cret@host",
    ] {
        match Cache::from_url(bad) {
            Ok(cache) => shown.push(format!("{cache} | {cache:?}")),
            Err(error) => shown.push(format!("{error} | {error:?}")),
        }
    }
    // Key warnings and fail-open warnings are logged; none shows the password.
    cache.set("with space", &1, Timeout::Never).ok();
    let logged = logs.since();
    println!("shown:\n{}\nlogged:\n{logged}", shown.join("\n"));
    assert!(logged.contains("failing open"), "{logged}");
    shown.push(logged);
    assert_no_secret(&shown);
}

/// Python pickles: loading the first runs `os.system(...)` in Python. Protocol 0 (text) and
/// protocol 5 (django-cachex's default serializer writes pickles of the highest protocol).
fn pickles(marker: &str) -> Vec<Vec<u8>> {
    let command = format!("touch {marker}");
    let protocol0 = format!("cos\nsystem\n(S'{command}'\ntR.").into_bytes();
    let mut protocol5 = vec![0x80, 0x05, 0x95];
    let body = {
        let mut body = Vec::new();
        body.extend_from_slice(b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94");
        body.push(0x8c);
        body.push(u8::try_from(command.len()).expect("a short command"));
        body.extend_from_slice(command.as_bytes());
        body.extend_from_slice(b"\x94\x85\x94R\x94.");
        body
    };
    protocol5.extend_from_slice(&(body.len() as u64).to_le_bytes());
    protocol5.extend_from_slice(&body);
    // A pickle of a plain dict, as django-cachex stores {"a": 1} by default.
    let dict = b"\x80\x05\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.".to_vec();
    vec![protocol0, protocol5, dict]
}

#[test]
fn a_stored_python_pickle_is_a_decode_error_and_never_runs() {
    let server = shared(ServerKind::Redis);
    let marker = std::env::temp_dir().join(format!("cachex-pickle-ran-{}", std::process::id()));
    let marker = marker.to_str().expect("a UTF-8 path");
    let prefix = format!("pickle-{}", std::process::id());
    let codecs = [
        Codec::default(),
        Codec::builder()
            .serializer(Serializer::MessagePack)
            .fallback_serializer(Serializer::Json)
            .build()
            .expect("a codec"),
        Codec::builder()
            .compressor(Compressor::Zlib)
            .fallback_compressor(Compressor::Zstd)
            .fallback_serializer(Serializer::MessagePack)
            .build()
            .expect("a codec"),
    ];
    for (n, pickle) in pickles(marker).iter().enumerate() {
        let key = format!("{prefix}:1:pickle{n}");
        server.command(&[b"SET".as_slice(), key.as_bytes(), pickle.as_slice()]);
        for codec in &codecs {
            let outcome = codec.decode::<serde_json::Value>(&key, pickle);
            assert!(matches!(outcome, Err(Error::Decode { .. })), "{outcome:?}");
        }
        let cache = Cache::from_url(&format!("{}?prefix={prefix}", server.url())).expect("a cache");
        for outcome in [
            cache
                .get::<serde_json::Value>(&format!("pickle{n}"))
                .map(drop),
            cache.get::<String>(&format!("pickle{n}")).map(drop),
        ] {
            assert!(
                matches!(&outcome, Err(Error::Decode { key, .. }) if key == &format!("pickle{n}")),
                "{outcome:?}"
            );
        }
    }
    // With the pickle reader (Django's default serializer): the plain dict is read, the
    // os.system pickles are refused as decoding errors naming the key, and nothing runs.
    let cache = Cache::from_url(&format!(
        "{}?prefix={prefix}&serializer=pickle",
        server.url()
    ))
    .expect("a cache");
    for n in 0..2 {
        let outcome = cache.get::<serde_json::Value>(&format!("pickle{n}"));
        assert!(
            matches!(&outcome, Err(Error::Decode { key, reason })
                if key == &format!("pickle{n}") && reason.contains("GLOBAL")),
            "{outcome:?}"
        );
    }
    assert_eq!(
        cache
            .get::<serde_json::Value>("pickle2")
            .expect("plain data"),
        Some(serde_json::json!({"a": 1}))
    );
    assert!(
        !std::path::Path::new(marker).exists(),
        "a pickle was executed"
    );
    assert_eq!(cache.clear().expect("clear"), 3);
}
