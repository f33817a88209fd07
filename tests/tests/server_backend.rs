//! The server backend against real `redis-server` and `valkey-server` processes, through the
//! cache's public API only: every basic operation on both servers, Unix sockets, credentials in
//! errors, a restart followed, timeouts and refused connections as typed errors, and how the
//! backend holds its connections (one per live tokio runtime, shared by its concurrent calls, a
//! dropped runtime's never reused, a pooled one for blocking calls on their own thread).
//!
//! How many connections the cache holds is asked of the server (`CLIENT LIST`), leaving out the
//! test's own: the connection that asks, and the redis-crate connections named `raw` through
//! which the tests look behind the cache's back. Connections close asynchronously on the
//! server's side, so counts are awaited, within a generous liveness bound, never timed.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{CacheBuilder, Error};
use cachex_tests::{Server, ServerKind};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;

/// A liveness bound: far above anything a healthy server takes, below a hang.
const GENEROUS: Duration = Duration::from_secs(10);

/// A minute's expiry, far longer than any test.
const MINUTE: Timeout = Timeout::After(Duration::from_secs(60));

/// The stored key of `key` in a cache with Django's default prefix (none) and version (1).
fn stored(key: &str) -> String {
    format!(":1:{key}")
}

/// A connection of the redis crate to database `db` of `server`, named `raw` (so that
/// [`cache_connections`] leaves it out), to look behind the cache's back.
async fn raw(server: &Server, db: u8) -> MultiplexedConnection {
    let mut connection = redis::Client::open(format!("redis://127.0.0.1:{}/{db}", server.port()))
        .expect("a valid URL")
        .get_multiplexed_async_connection()
        .await
        .expect("a raw connection");
    let () = redis::cmd("CLIENT")
        .arg(&["SETNAME", "raw"])
        .query_async(&mut connection)
        .await
        .expect("CLIENT SETNAME");
    connection
}

/// `PTTL` of a stored key: milliseconds left, -1 without expiry, -2 missing.
async fn pttl(raw: &mut MultiplexedConnection, key: &str) -> i64 {
    raw.pttl(stored(key)).await.expect("PTTL")
}

/// Whether `ttl` (milliseconds) is an expiry of at most a minute.
fn within_a_minute(ttl: i64) -> bool {
    ttl > 0 && ttl <= 60_000
}

/// Sets a server option with `CONFIG SET`.
async fn config_set(raw: &mut MultiplexedConnection, name: &str, value: &str) {
    let () = redis::cmd("CONFIG")
        .arg(&["SET", name, value])
        .query_async(raw)
        .await
        .expect("CONFIG SET");
}

/// The ids of the connections `server` has open, except the test's own: this `CLIENT LIST`'s
/// (and any earlier one's still closing) and those named `raw`.
fn cache_connections(server: &Server) -> BTreeSet<u64> {
    server
        .command(&["CLIENT", "LIST"])
        .lines()
        .filter(|line| !line.contains(" name=raw ") && !line.contains(" cmd=client|list "))
        .filter_map(|line| line.strip_prefix("id=")?.split(' ').next()?.parse().ok())
        .collect()
}

/// Waits until `server` has `count` connections of [`cache_connections`], and returns their
/// ids; panics with the server's list of clients when that does not happen within
/// [`GENEROUS`]. Async, so that the runtime it runs on can close connections meanwhile.
async fn settled(server: &Server, count: usize) -> BTreeSet<u64> {
    let deadline = Instant::now() + GENEROUS;
    loop {
        let ids = cache_connections(server);
        if ids.len() == count {
            return ids;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} cache connections, the server has {ids:?}:\n{}",
            server.command(&["CLIENT", "LIST"])
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// [`settled`] from blocking code, on a runtime of its own that the cache never sees.
fn settled_now(server: &Server, count: usize) -> BTreeSet<u64> {
    current_thread().block_on(settled(server, count))
}

/// The text stored under `key`, read through the cache.
async fn text(cache: &Cache, key: &str) -> Option<String> {
    cache.aget(key).await.expect("get")
}

/// A port of 127.0.0.1 on which nothing listens (bound and released a moment ago).
fn refusing_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

// -------------------------------------------------------------------------------------------
// Every basic operation, on Redis and on Valkey

#[tokio::test]
async fn every_basic_operation_keeps_its_semantics_on_redis() {
    every_basic_operation(ServerKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_basic_operation_keeps_its_semantics_on_valkey() {
    every_basic_operation(ServerKind::Valkey).await;
}

/// Runs every basic operation against a fresh server of `kind`, in database 1 (database 0
/// holds a bystander key that must survive `flush_db`), and checks what the server stored.
async fn every_basic_operation(kind: ServerKind) {
    let server = Server::start(kind);
    let cache = Cache::from_url(&format!("{}/1", server.url())).expect("a cache");
    let mut db0 = raw(&server, 0).await;
    let () = db0.set("bystander", "kept").await.expect("SET");
    let mut raw = raw(&server, 1).await;

    set_get_and_add(&server, &cache, &mut raw).await;
    get_many_set_many_and_delete_many(&cache, &mut raw).await;
    counters(&cache, &mut raw).await;
    touch_and_rename(&cache, &mut raw).await;
    delete_pattern_in_several_scan_batches(&cache, &mut raw).await;

    // flush_db: this database only.
    cache.aflush_db().await.expect("flush_db");
    assert!(!cache.ahas_key("k").await.expect("has_key"));
    let size: u64 = redis::cmd("DBSIZE")
        .query_async(&mut raw)
        .await
        .expect("DBSIZE");
    assert_eq!(size, 0);
    let kept: Option<String> = db0.get("bystander").await.expect("GET");
    assert_eq!(kept.as_deref(), Some("kept"));

    // close: the connection is closed, and later calls open a new one.
    let before = settled(&server, 1).await;
    cache.aclose().await.expect("close");
    settled(&server, 0).await;
    cache
        .aset("after", "close", Timeout::Never)
        .await
        .expect("set");
    assert_eq!(text(&cache, "after").await.as_deref(), Some("close"));
    let after = settled(&server, 1).await;
    assert!(after.is_disjoint(&before), "{before:?} then {after:?}");
}

/// `get`, `set`, `add`, binary values, expiry.
async fn set_get_and_add(server: &Server, cache: &Cache, raw: &mut MultiplexedConnection) {
    assert_eq!(text(cache, "k").await, None);
    cache.aset("k", "v1", Timeout::Never).await.expect("set");
    assert_eq!(text(cache, "k").await.as_deref(), Some("v1"));
    assert_eq!(pttl(raw, "k").await, -1);
    // add: not over an existing key, which keeps its value and its (absent) expiry.
    assert!(!cache.aadd("k", "v2", MINUTE).await.expect("add"));
    assert_eq!(text(cache, "k").await.as_deref(), Some("v1"));
    assert_eq!(pttl(raw, "k").await, -1);
    // add of a missing key, with an expiry.
    assert!(cache.aadd("n", "x", MINUTE).await.expect("add"));
    let ttl = pttl(raw, "n").await;
    assert!(within_a_minute(ttl), "{ttl}");
    // A plain set clears the expiry, as SET does.
    cache.aset("n", "y", Timeout::Never).await.expect("set");
    assert_eq!(pttl(raw, "n").await, -1);

    // Binary values survive: MessagePack stores these numbers as every byte value there is.
    let binary: Vec<u8> = (0..=255).collect();
    let msgpack =
        Cache::from_url(&format!("{}/1?serializer=msgpack", server.url())).expect("a cache");
    msgpack
        .aset("bin", &binary, Timeout::Never)
        .await
        .expect("set");
    let bytes: Vec<u8> = raw.get(stored("bin")).await.expect("GET");
    assert!((0..=255).all(|byte| bytes.contains(&byte)), "{bytes:?}");
    assert_eq!(
        msgpack.aget::<Vec<u8>>("bin").await.expect("get"),
        Some(binary)
    );
    drop(msgpack);

    // An expiry really expires.
    let short = Timeout::After(Duration::from_millis(200));
    cache.aset("short", "s", short).await.expect("set");
    // Expiring (or, on a stalled machine, already expired: -2), never persistent (-1).
    let ttl = pttl(raw, "short").await;
    assert!((ttl > 0 || ttl == -2) && ttl <= 200, "{ttl}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(text(cache, "short").await, None);
    assert!(!cache.ahas_key("short").await.expect("has_key"));
}

/// `get_many`, `set_many` (with the keys a server refuses), `delete_many`, `has_key`.
async fn get_many_set_many_and_delete_many(cache: &Cache, raw: &mut MultiplexedConnection) {
    let none: &[&str] = &[];
    assert!(
        cache
            .aget_many::<String>(none)
            .await
            .expect("get_many")
            .is_empty()
    );
    let found = cache
        .aget_many::<String>(&["k", "missing", "n"])
        .await
        .expect("get_many");
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found["k"], "v1");
    assert_eq!(found["n"], "y");
    let no_items: &[(&str, &str)] = &[];
    assert!(
        cache
            .aset_many(no_items, MINUTE)
            .await
            .expect("set_many")
            .is_empty()
    );
    let failed = cache
        .aset_many(&[("m1", "1"), ("m2", "2")], MINUTE)
        .await
        .expect("set_many");
    assert!(failed.is_empty(), "{failed:?}");
    let found = cache
        .aget_many::<String>(&["m1", "m2"])
        .await
        .expect("get_many");
    assert_eq!((found["m1"].as_str(), found["m2"].as_str()), ("1", "2"));
    let ttl = pttl(raw, "m2").await;
    assert!(within_a_minute(ttl), "{ttl}");
    // The keys whose SET the server refuses come back: make it refuse every write.
    config_set(raw, "maxmemory-policy", "noeviction").await;
    config_set(raw, "maxmemory", "1").await;
    let failed = cache
        .aset_many(&[("f1", "1"), ("f2", "2")], Timeout::Never)
        .await;
    config_set(raw, "maxmemory", "0").await;
    assert_eq!(failed.expect("set_many"), ["f1", "f2"]);

    assert_eq!(cache.adelete_many(none).await.expect("delete_many"), 0);
    assert!(cache.ahas_key("m1").await.expect("has_key"));
    assert_eq!(
        cache
            .adelete_many(&["m1", "m2", "missing"])
            .await
            .expect("delete_many"),
        2
    );
    assert!(!cache.ahas_key("m1").await.expect("has_key"));
}

/// `incr` (never creates), `incr_or_create` (creates with an expiry, keeps an existing key's),
/// exact beyond 2^53, and `WrongType` naming the key.
async fn counters(cache: &Cache, raw: &mut MultiplexedConnection) {
    match cache.aincr("counter", 1).await {
        Err(Error::NotFound { key }) => assert_eq!(key, "counter"),
        other => panic!("incr of a missing key: expected NotFound, got {other:?}"),
    }
    assert!(
        !cache.ahas_key("counter").await.expect("has_key"),
        "incr without create created"
    );
    assert_eq!(
        cache
            .aincr_or_create("counter", 5, Timeout::Never)
            .await
            .expect("incr"),
        5
    );
    assert_eq!(pttl(raw, "counter").await, -1);
    assert_eq!(cache.aincr("counter", -7).await.expect("incr"), -2);
    assert_eq!(cache.aget::<i64>("counter").await.expect("get"), Some(-2));
    let text: Option<String> = raw.get(stored("counter")).await.expect("GET");
    assert_eq!(text.as_deref(), Some("-2"));
    assert_eq!(
        cache
            .aincr_or_create("ttl-counter", 3, MINUTE)
            .await
            .expect("incr"),
        3
    );
    let ttl = pttl(raw, "ttl-counter").await;
    assert!(within_a_minute(ttl), "{ttl}");
    // An existing key keeps its own expiry (here: none).
    assert_eq!(
        cache
            .aincr_or_create("counter", 1, MINUTE)
            .await
            .expect("incr"),
        -1
    );
    assert_eq!(pttl(raw, "counter").await, -1);
    // Exact beyond 2^53 (Lua numbers are doubles).
    let big = (1_i64 << 53) + 1;
    cache.aset("big", &big, Timeout::Never).await.expect("set");
    assert_eq!(cache.aincr("big", 2).await.expect("incr"), big + 2);
    // Not an integer, another type, an overflow: WrongType naming the key.
    let () = raw.rpush(stored("list"), "item").await.expect("RPUSH");
    let () = raw.set(stored("max"), i64::MAX).await.expect("SET");
    for key in ["k", "list", "max"] {
        match cache.aincr(key, 1).await {
            Err(Error::WrongType { key: found, detail }) => {
                assert_eq!(found, key);
                assert!(!detail.is_empty());
            }
            other => panic!("incr of {key}: expected WrongType, got {other:?}"),
        }
        match cache.aincr_or_create(key, 1, MINUTE).await {
            Err(Error::WrongType { key: found, .. }) => assert_eq!(found, key),
            other => panic!("incr_or_create of {key}: expected WrongType, got {other:?}"),
        }
    }
    assert_eq!(cache.aget::<i64>("max").await.expect("get"), Some(i64::MAX));
    // GET of another type: WrongType too.
    match cache.aget::<String>("list").await {
        Err(Error::WrongType { key, .. }) => assert_eq!(key, "list"),
        other => panic!("get of a list: expected WrongType, got {other:?}"),
    }
}

/// `touch` (an expiry, or none), `rename` and `incr_version` (which keep the expiry and
/// overwrite).
async fn touch_and_rename(cache: &Cache, raw: &mut MultiplexedConnection) {
    assert!(cache.atouch("k", MINUTE).await.expect("touch"));
    let ttl = pttl(raw, "k").await;
    assert!(within_a_minute(ttl), "{ttl}");
    assert!(cache.atouch("k", Timeout::Never).await.expect("touch"));
    assert_eq!(pttl(raw, "k").await, -1);
    // PERSIST answers 0 for a key without expiry: still "the key exists".
    assert!(cache.atouch("k", Timeout::Never).await.expect("touch"));
    assert!(!cache.atouch("missing", MINUTE).await.expect("touch"));
    assert!(
        !cache
            .atouch("missing", Timeout::Never)
            .await
            .expect("touch")
    );

    cache.aset("from", "f", MINUTE).await.expect("set");
    cache.aset("to", "old", Timeout::Never).await.expect("set");
    cache.arename("from", "to").await.expect("rename");
    assert_eq!(text(cache, "to").await.as_deref(), Some("f"));
    assert!(!cache.ahas_key("from").await.expect("has_key"));
    let ttl = pttl(raw, "to").await;
    assert!(within_a_minute(ttl), "{ttl}");
    match cache.arename("from", "to").await {
        Err(Error::NotFound { key }) => assert_eq!(key, "from"),
        other => panic!("rename of a missing key: expected NotFound, got {other:?}"),
    }

    let version2 = cache.with_version(2);
    cache.aset("doc", "new", MINUTE).await.expect("set");
    version2
        .aset("doc", "old", Timeout::Never)
        .await
        .expect("set");
    assert_eq!(
        cache.aincr_version("doc", 1).await.expect("incr_version"),
        2
    );
    assert_eq!(text(&version2, "doc").await.as_deref(), Some("new"));
    assert!(!cache.ahas_key("doc").await.expect("has_key"));
    let ttl: i64 = raw.pttl(":2:doc").await.expect("PTTL");
    assert!(within_a_minute(ttl), "{ttl}");
    match cache.aincr_version("doc", 1).await {
        Err(Error::NotFound { key }) => assert_eq!(key, "doc"),
        other => panic!("incr_version of a missing key: expected NotFound, got {other:?}"),
    }
}

/// `delete_pattern` under a prefix holding glob characters, over several `SCAN` batches: its
/// keys of this version only, not those of a look-alike prefix or of another version.
async fn delete_pattern_in_several_scan_batches(cache: &Cache, raw: &mut MultiplexedConnection) {
    let globbed = cache.with_prefix("p[x]");
    let names: Vec<String> = (0..2500).map(|n| format!("key{n}")).collect();
    let items: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), "v")).collect();
    assert!(
        globbed
            .aset_many(&items, MINUTE)
            .await
            .expect("set_many")
            .is_empty()
    );
    let look_alike = cache.with_prefix("px");
    look_alike.aset("key", "v", MINUTE).await.expect("set");
    let other_version = globbed.with_version(2);
    other_version.aset("key", "v", MINUTE).await.expect("set");
    let () = raw.set("p[x]:1", "v").await.expect("SET");

    assert_eq!(
        globbed.adelete_pattern("*").await.expect("delete_pattern"),
        2500
    );
    assert!(!globbed.ahas_key("key7").await.expect("has_key"));
    assert!(look_alike.ahas_key("key").await.expect("has_key"));
    assert!(other_version.ahas_key("key").await.expect("has_key"));
    let bare: bool = raw.exists("p[x]:1").await.expect("EXISTS");
    assert!(bare);
    assert_eq!(
        globbed
            .adelete_pattern("nothing:*")
            .await
            .expect("delete_pattern"),
        0
    );
}

// -------------------------------------------------------------------------------------------
// Addresses and credentials

#[tokio::test]
async fn a_unix_socket_url_reaches_its_database() {
    // A relative path: the server runs in its own folder.
    let server = Server::start_with(
        ServerKind::Redis,
        &["--unixsocket", "server.sock", "--unixsocketperm", "700"],
    );
    let socket = server.dir().join("server.sock");
    let socket_text = socket.to_str().expect("a UTF-8 path");
    let cache = Cache::from_url(&format!("redis+unix://{socket_text}?db=2")).expect("a cache");
    cache.aset("k", "v", Timeout::Never).await.expect("set");
    assert_eq!(text(&cache, "k").await.as_deref(), Some("v"));
    // Database 2 of that server, seen over TCP.
    let tcp = Cache::from_url(&format!("{}/2", server.url())).expect("a cache");
    assert_eq!(text(&tcp, "k").await.as_deref(), Some("v"));
}

#[tokio::test]
async fn authentication_errors_never_show_the_password() {
    let server = Server::start(ServerKind::Redis);
    // The user first: the harness's own commands do not authenticate.
    for command in [
        &[
            "ACL",
            "SETUSER",
            "alice",
            "on",
            ">alice-pass",
            "~*",
            "+@all",
        ][..],
        &["CONFIG", "SET", "requirepass", "s3cret-pass"],
    ] {
        assert_eq!(server.command(command), "+OK\r\n", "{command:?}");
    }
    let port = server.port();

    for (url, password) in [
        (
            format!("redis://:wrong-pass@127.0.0.1:{port}"),
            "wrong-pass",
        ),
        (
            format!("redis://alice:not-alices@127.0.0.1:{port}"),
            "not-alices",
        ),
    ] {
        let cache = Cache::from_url(&url).expect("a cache");
        match cache.aget::<String>("k").await {
            Err(err @ Error::Connection { .. }) => {
                let shown = format!("{err} {err:?}");
                assert!(shown.contains("authentication failed"), "{shown}");
                assert!(!shown.contains(password), "{shown}");
                // The error names the server as the cache's `Display` does, without its options.
                let address = cache.to_string();
                let address = address.split('?').next().unwrap_or_default();
                assert!(shown.contains(address), "{shown}");
            }
            other => panic!("expected a connection error, got {other:?}"),
        }
        // The refused connection is not kept: each call tries again.
        assert!(matches!(
            cache.aget::<String>("k").await,
            Err(Error::Connection { .. })
        ));
    }

    let anonymous = Cache::from_url(&server.url()).expect("a cache");
    match anonymous.aget::<String>("k").await {
        Err(Error::Connection { reason, .. }) => {
            assert!(reason.contains("requires authentication"), "{reason}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }

    for url in [
        format!("redis://:s3cret-pass@127.0.0.1:{port}/3"),
        format!("valkey://alice:alice-pass@127.0.0.1:{port}/3"),
    ] {
        let cache = Cache::from_url(&url).expect("a cache");
        assert!(!format!("{cache:?} {cache}").contains("-pass"));
        cache.aset("k", "v", Timeout::Never).await.expect("set");
        assert_eq!(text(&cache, "k").await.as_deref(), Some("v"));
    }
}

// -------------------------------------------------------------------------------------------
// Failures and recovery

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_is_followed_without_help() {
    let mut server = Server::start(ServerKind::Redis);
    let cache = Cache::from_url(&server.url()).expect("a cache");
    cache.aset("k", "v", Timeout::Never).await.expect("set");
    // Errors name the server as the cache's `Display` does, without its options.
    let location = cache
        .to_string()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();

    // While the server is down, calls fail with a connection error, every time.
    server.kill();
    for _ in 0..3 {
        match cache.aget::<String>("k").await {
            Err(Error::Connection { server, reason, .. }) => {
                assert_eq!(server, location);
                assert!(!reason.is_empty());
            }
            other => panic!("expected a connection error during the outage, got {other:?}"),
        }
    }
    server.restart();

    // Back up (empty: no persistence): calls succeed again without any help. The first one
    // may still see the old connection's failure.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match cache.aget::<String>("k").await {
            Ok(value) => {
                assert_eq!(value, None);
                break;
            }
            Err(Error::Connection { .. }) if attempts < 20 => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("no recovery after {attempts} calls: {other:?}"),
        }
    }
    cache.aset("k", "again", Timeout::Never).await.expect("set");
    assert_eq!(
        cache
            .aincr_or_create("n", 1, Timeout::Never)
            .await
            .expect("incr"),
        1
    );
    assert_eq!(text(&cache, "k").await.as_deref(), Some("again"));

    // A restart between two calls: a read finds its connection closed and is sent again on a
    // new one, so even the first call after the restart succeeds.
    server.restart();
    assert_eq!(
        cache
            .aget::<String>("k")
            .await
            .expect("a read after a restart"),
        None
    );
    cache.aset("k", "3", Timeout::Never).await.expect("set");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_the_late_answer_is_dropped() {
    let mut server = Server::start(ServerKind::Redis);
    let timeout = Duration::from_secs(1);
    let cache = CacheBuilder::from_url(&server.url())
        .expect("a valid URL")
        .response_timeout(timeout)
        .build()
        .expect("a cache");
    cache.aset("k", "v", Timeout::Never).await.expect("set");

    // The connection is open; the server stops answering until resumed.
    server.pause();
    let paused = cache.aget::<String>("k").await;
    server.resume();
    match paused {
        Err(Error::Timeout { after, .. }) => assert_eq!(after, timeout),
        other => panic!("expected a timeout, got {other:?}"),
    }
    // The late answer is dropped: the connection stays in step.
    cache.aset("k2", "v2", Timeout::Never).await.expect("set");
    assert_eq!(text(&cache, "k").await.as_deref(), Some("v"));
    assert_eq!(text(&cache, "k2").await.as_deref(), Some("v2"));
}

#[tokio::test]
async fn a_silent_server_is_a_connect_timeout() {
    // Accepts connections (in the kernel's backlog) and never answers.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a listener");
    let port = listener.local_addr().expect("an address").port();
    let connect_timeout = Duration::from_millis(200);
    let cache = CacheBuilder::from_url(&format!("redis://127.0.0.1:{port}"))
        .expect("a valid URL")
        .connect_timeout(connect_timeout)
        .response_timeout(Duration::from_secs(10))
        .build()
        .expect("a cache");
    match cache.aget::<String>("k").await {
        Err(Error::Timeout { after, .. }) => assert_eq!(after, connect_timeout),
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    drop(listener);
}

#[tokio::test]
async fn a_refused_connection_is_a_connection_error_without_the_password() {
    let port = refusing_port();
    let cache =
        Cache::from_url(&format!("redis://:hidden-pass@127.0.0.1:{port}")).expect("a cache");
    match cache.aset("k", "", Timeout::Never).await {
        Err(err @ Error::Connection { .. }) => {
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("hidden-pass"), "{shown}");
            assert!(
                shown.contains(&format!("redis://:***@127.0.0.1:{port}/0")),
                "{shown}"
            );
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}

// -------------------------------------------------------------------------------------------
// Runtimes and connections

#[test]
fn a_dropped_runtime_s_connection_is_closed_and_never_used_again() {
    let server = Server::start(ServerKind::Redis);
    let cache = Cache::from_url(&server.url()).expect("a cache");

    let first = current_thread();
    first
        .block_on(cache.aset("k", "v", Timeout::Never))
        .expect("set");
    let first_connection = settled_now(&server, 1);
    drop(first);

    // A new runtime gets a connection of its own; the dead runtime's is gone.
    let second = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    assert_eq!(second.block_on(text(&cache, "k")).as_deref(), Some("v"));
    let second_connection = settled_now(&server, 1);
    assert!(second_connection.is_disjoint(&first_connection));

    // Two live runtimes, two connections, both usable, concurrently.
    let third = current_thread();
    std::thread::scope(|scope| {
        let other = scope.spawn(|| second.block_on(cache.aincr_or_create("n", 1, Timeout::Never)));
        let here = third.block_on(cache.aincr_or_create("n", 1, Timeout::Never));
        let mut counts = [
            here.expect("incr"),
            other.join().expect("no panic").expect("incr"),
        ];
        counts.sort_unstable();
        assert_eq!(counts, [1, 2]);
    });
    let two_runtimes = settled_now(&server, 2);
    assert!(two_runtimes.is_superset(&second_connection));

    // Blocking calls, on a thread of their own, use one pooled blocking connection, and keep
    // working after every runtime of ours is gone.
    drop(second);
    drop(third);
    assert_eq!(cache.get::<String>("k").expect("get").as_deref(), Some("v"));
    let pooled = settled_now(&server, 1);
    assert!(pooled.is_disjoint(&two_runtimes));
    assert_eq!(cache.get::<String>("k").expect("get").as_deref(), Some("v"));
    assert_eq!(
        settled_now(&server, 1),
        pooled,
        "the pooled connection again"
    );

    // A new runtime: its own new connection, beside the idle pooled one.
    let again = current_thread();
    assert_eq!(again.block_on(text(&cache, "k")).as_deref(), Some("v"));
    let now = settled_now(&server, 2);
    assert!(now.is_superset(&pooled), "{pooled:?} then {now:?}");
    let earlier: BTreeSet<u64> = first_connection.union(&two_runtimes).copied().collect();
    assert!(now.is_disjoint(&earlier), "{earlier:?} then {now:?}");
}

#[tokio::test]
async fn blocking_calls_inside_a_current_thread_runtime_use_a_blocking_connection() {
    let server = Server::start(ServerKind::Redis);
    let cache = Cache::from_url(&server.url()).expect("a cache");
    // The async call uses this runtime's connection...
    cache.aset("k", "v", Timeout::Never).await.expect("set");
    let runtime_connection = settled(&server, 1).await;
    // ...and a blocking call made on this runtime's own thread (which it blocks anyway) uses
    // a blocking connection: no deadlock, no panic.
    assert_eq!(cache.get::<String>("k").expect("get").as_deref(), Some("v"));
    let both = settled(&server, 2).await;
    assert!(both.is_superset(&runtime_connection));
    assert_eq!(text(&cache, "k").await.as_deref(), Some("v"));
    assert_eq!(settled(&server, 2).await, both, "no other connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_of_a_runtime_share_one_connection() {
    let server = Server::start(ServerKind::Redis);
    let cache = Cache::from_url(&server.url()).expect("a cache");
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..200 {
        let cache = cache.clone();
        tasks.spawn(async move {
            let key = format!("key{n}");
            let value = format!("value {n}");
            cache.aset(&key, &value, MINUTE).await?;
            let read = cache.aget::<String>(&key).await?;
            let counted = cache.aincr_or_create("counter", 1, Timeout::Never).await?;
            Ok::<_, Error>((read == Some(value), counted))
        });
    }
    let mut counts = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        let (matched, counted) = outcome.expect("no panic").expect("calls succeed");
        assert!(matched);
        counts.push(counted);
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=200).collect::<Vec<i64>>());
    settled(&server, 1).await;
}

/// Stream replies come as RESP3 maps or RESP2 arrays (`XREAD`, `XINFO`): both protocols read
/// alike, blocking reads included, on the blocking surface (pooled connections) and the async
/// one (the multiplexed connection).
#[test]
fn stream_replies_read_alike_over_resp2_and_resp3() {
    use cachex::stream::{Block, PendingRange, ReadFrom, ReadOptions, StreamId, Trim, XaddOptions};

    let server = cachex_tests::shared(ServerKind::Valkey);
    let read = |protocol: &str| {
        let prefix = format!("resp-{protocol}-{}", std::process::id());
        let url = format!("{}?prefix={prefix}&protocol={protocol}", server.url());
        let cache = Cache::from_url(&url).expect("a cache");
        let explicit = XaddOptions {
            id: Some(StreamId::new(5, 1)),
            trim: Some(Trim::max_len(10)),
            ..XaddOptions::default()
        };
        let id = cache.xadd("s", &[("n", 1)], explicit).expect("xadd");
        cache
            .xgroup_create("s", "g", ReadFrom::START, false)
            .expect("group");
        let start = [("s", ReadFrom::START)];
        let reads = cache
            .xread::<i64>(&start, ReadOptions::default())
            .expect("xread");
        let group = cache
            .xreadgroup::<i64>(
                "g",
                "c",
                &[("s", ReadFrom::Undelivered)],
                ReadOptions::default(),
            )
            .expect("xreadgroup");
        let info = cache.xinfo_stream::<i64>("s").expect("xinfo stream");
        let groups = cache.xinfo_groups("s").expect("xinfo groups");
        let consumers: Vec<(String, u64)> = cache
            .xinfo_consumers("s", "g")
            .expect("xinfo consumers")
            .into_iter()
            .map(|consumer| (consumer.name, consumer.pending))
            .collect();
        let summary = cache.xpending("s", "g").expect("xpending");
        let pending: Vec<(StreamId, String, u64)> = cache
            .xpending_range("s", "g", PendingRange::first(10))
            .expect("xpending range")
            .into_iter()
            .map(|entry| (entry.id, entry.consumer, entry.deliveries))
            .collect();
        let claimed = cache
            .xautoclaim::<i64>("s", "g", "d", Duration::ZERO, StreamId::MIN, None)
            .expect("xautoclaim");
        let waited = ReadOptions {
            block: Block::For(Duration::from_millis(50)),
            ..ReadOptions::default()
        };
        let nothing = cache
            .xread::<i64>(&[("s", ReadFrom::Latest)], waited)
            .expect("a blocking read times out");
        let at_once = bridge_async(cache.axread::<i64>(&start, waited)).expect("async xread");
        cache.clear().expect("clear");
        format!(
            "{id:?} {reads:?} {group:?} {info:?} {groups:?} {consumers:?} {summary:?} \
             {pending:?} {claimed:?} {nothing:?} {at_once:?}"
        )
    };
    let resp3 = read("resp3");
    assert_eq!(read("resp2"), resp3);
    assert!(
        resp3.starts_with("Some(StreamId { ms: 5, seq: 1 })"),
        "{resp3}"
    );
    assert!(resp3.contains("[(\"c\", 1)]"), "{resp3}");
}

/// Runs a future to its end on a runtime of its own.
fn bridge_async<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}
