//! The cache as configured by users: URLs, builder, secrets kept out of messages, fail-open,
//! `flush_db`, and the bytes it leaves on a real server (Django's format).

use std::net::TcpListener;

use cachex::codec::{Compressor, Serializer};
use cachex::prelude::*;
use cachex::{CacheBuilder, Error};
use cachex_tests::{Server, ServerKind, shared};

/// A loopback port nothing listens on: connections to it are refused at once.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

#[test]
fn a_cache_is_one_shared_thread_safe_handle() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Cache>();
    let cache = Cache::default();
    let clone = cache.clone();
    clone.set("k", "v", Timeout::Default).expect("set");
    assert_eq!(cache.get::<String>("k").expect("get").as_deref(), Some("v"));
    let thread = std::thread::spawn(move || clone.incr_or_create("n", 1, Timeout::Never));
    assert_eq!(thread.join().expect("no panic").expect("incr"), 1);
}

#[test]
fn one_url_configures_the_whole_cache() {
    let cache = Cache::from_url(
        "memory://?prefix=app&version=3&timeout=none&strict_keys=1&serializer=msgpack\
         &compressor=zlib&compression_level=9&min_length=10&max_entries=50",
    )
    .expect("a valid URL");
    let core = cache.core();
    assert_eq!(
        (core.key_settings().prefix(), core.key_settings().version()),
        ("app", 3)
    );
    assert_eq!(core.codec().serializer(), Serializer::MessagePack);
    assert_eq!(core.codec().compressor(), Some(Compressor::Zlib));
    assert_eq!(core.codec().min_length(), 10);
    assert!(matches!(
        cache.set("has space", &1, Timeout::Default),
        Err(Error::InvalidKey { .. })
    ));
    let long = "x".repeat(100);
    cache.set("long", &long, Timeout::Default).expect("set");
    assert_eq!(cache.get::<String>("long").expect("get"), Some(long));

    for bad in [
        "nonsense",
        "ftp://host",
        "memory://?colour=blue",
        "memory://?timeout=soon",
        "memory://?serializer=orjson",
        "memory://?compressor=brotli",
        "memory://?compressor=lz4&compression_level=3",
        "redis://127.0.0.1:6379?connect_timeout=-1",
    ] {
        assert!(
            matches!(Cache::from_url(bad), Err(Error::Config { .. })),
            "{bad}"
        );
    }
}

#[test]
fn passwords_never_appear_in_messages() {
    let url = format!(
        "redis://user:s3cret-pw@127.0.0.1:{}/0?connect_timeout=0.5",
        closed_port()
    );
    let cache = Cache::from_url(&url).expect("a valid URL");
    let builder = CacheBuilder::from_url(&url).expect("a valid URL");
    let error = cache.get::<i32>("k").expect_err("nothing listens there");
    assert!(matches!(error, Error::Connection { .. }), "{error:?}");
    for text in [
        format!("{cache:?}"),
        cache.to_string(),
        format!("{builder:?}"),
        format!("{error:?}"),
        error.to_string(),
    ] {
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("127.0.0.1"), "says where: {text}");
    }
    for bad in [
        "redis://user:s3cret-pw@",
        "redis//:s3cret-pw@host:6379/0",
        "memory://?password=s3cret-pw",
        "redis://host?password=s3cret-pw&colour=blue",
    ] {
        if let Err(error) = Cache::from_url(bad) {
            assert!(!format!("{error} {error:?}").contains("s3cret"), "{error}");
        }
    }
    let socket = CacheBuilder::from_url("redis+unix:///tmp/cachex.sock?db=1&pass=s3cret-pw")
        .expect("a valid URL");
    assert!(!format!("{socket:?}").contains("s3cret"), "{socket:?}");
    let cache = socket.build().expect("built lazily");
    assert!(!format!("{cache:?} {cache}").contains("s3cret"));
}

#[test]
fn fail_open_turns_an_unreachable_server_into_misses() {
    let url = format!("redis://127.0.0.1:{}/0?connect_timeout=0.5", closed_port());
    let strict = Cache::from_url(&url).expect("a valid URL");
    assert!(matches!(
        strict.get::<i32>("k"),
        Err(Error::Connection { .. })
    ));
    assert!(matches!(
        strict.set("k", &1, Timeout::Default),
        Err(Error::Connection { .. })
    ));

    let open = Cache::from_url(&format!("{url}&fail_open=1")).expect("a valid URL");
    assert_eq!(open.get::<i32>("k").expect("a miss"), None);
    open.set("k", &1, Timeout::Default)
        .expect("not stored, no error");
    assert!(!open.add("k", &1, Timeout::Default).expect("not added"));
    assert!(!open.has_key("k").expect("absent"));
    assert!(!open.delete("k").expect("nothing deleted"));
    assert!(
        open.get_many::<i32>(&["a", "b"])
            .expect("misses")
            .is_empty()
    );
    assert_eq!(
        open.set_many(&[("a", 1), ("b", 2)], Timeout::Default)
            .expect("failed keys"),
        ["a", "b"]
    );
    // Counters keep saying what happened: a count that was not kept is not a number to trust.
    assert!(matches!(open.incr("k", 1), Err(Error::Connection { .. })));
}

#[test]
fn flush_db_empties_the_database_clear_only_the_prefix() {
    let server = Server::start(ServerKind::Redis);
    let cache = Cache::from_url(&format!("{}?prefix=app", server.url())).expect("a cache");
    cache.set("k", &1, Timeout::Default).expect("set");
    server.command(&["SET", "someone-elses", "x"]);
    assert_eq!(cache.clear().expect("clear"), 1);
    assert_eq!(
        server.command(&["DBSIZE"]),
        ":1\r\n",
        "clear left the other key"
    );
    cache.set("k", &1, Timeout::Default).expect("set");
    cache.flush_db().expect("flush_db");
    assert_eq!(server.command(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn values_are_stored_in_djangos_format() {
    let server = shared(ServerKind::Redis);
    let prefix = format!("format-{}", std::process::id());
    let cache = Cache::from_url(&format!(
        "{}?prefix={prefix}&compressor=zlib&min_length=16",
        server.url()
    ))
    .expect("a cache");
    let raw = |key: &str| server.command(&["GET", &format!("{prefix}:1:{key}")]);
    cache.set("int", &42, Timeout::Default).expect("set");
    assert_eq!(
        raw("int"),
        "$2\r\n42\r\n",
        "a plain integer is its decimal text"
    );
    cache.set("text", "hi", Timeout::Default).expect("set");
    assert_eq!(raw("text"), "$4\r\n\"hi\"\r\n", "anything else is JSON");
    cache
        .set("long", &"x".repeat(64), Timeout::Default)
        .expect("set");
    assert!(
        raw("long").contains("\r\nx"),
        "zlib's header (0x78) starts the stored bytes"
    );
    // A counter Django wrote (an int: decimal text) is incremented on the server.
    server.command(&["SET", &format!("{prefix}:1:hits"), "10"]);
    assert_eq!(cache.incr("hits", 5).expect("incr"), 15);
    assert_eq!(raw("hits"), "$2\r\n15\r\n");
    cache.clear().expect("clear");
}

#[test]
fn timeouts_are_enforced_by_the_server() {
    let server = shared(ServerKind::Valkey);
    let prefix = format!("ttl-{}", std::process::id());
    let cache =
        Cache::from_url(&format!("{}?prefix={prefix}&timeout=120", server.url())).expect("a cache");
    cache.set("default", &1, Timeout::Default).expect("set");
    cache.set("never", &1, Timeout::Never).expect("set");
    cache.set("short", &1, Timeout::seconds(30)).expect("set");
    let ttl = |key: &str| server.command(&["TTL", &format!("{prefix}:1:{key}")]);
    let seconds = |reply: String| -> i64 {
        reply
            .trim_start_matches(':')
            .trim()
            .parse()
            .expect("a number")
    };
    assert!((110..=120).contains(&seconds(ttl("default"))));
    assert_eq!(seconds(ttl("never")), -1);
    assert!((20..=30).contains(&seconds(ttl("short"))));
    cache.clear().expect("clear");
}

#[test]
fn a_connection_limit_queues_requests_beyond_it() {
    let server = shared(ServerKind::Redis);
    let prefix = format!("limit-{}", std::process::id());
    let cache = Cache::from_url(&format!(
        "{}?prefix={prefix}&connection_limit=1",
        server.url()
    ))
    .expect("a cache");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let total: i64 = runtime.block_on(async {
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.aincr_or_create("n", 1, Timeout::Never).await })
            })
            .collect();
        let mut last = 0;
        for task in tasks {
            last = last.max(task.await.expect("no panic").expect("incr"));
        }
        last
    });
    assert_eq!(total, 50, "every request ran, one at a time");
    cache.clear().expect("clear");
}
