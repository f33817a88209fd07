//! Stampede prevention (`stampede_prevention=buffer:60,beta:1,delta:1`), as django-cachex
//! 0.14.1 does it, on memory, Redis and a cluster, blocking and async: values are stored for
//! their timeout plus the buffer (integers too), a value inside its buffer reads as missing
//! (`get`, `get_many`, `has_key`) and is overwritten by `add` and `get_or_set` and left alone by
//! `touch`, and a value near the end of its logical life misses now and then (XFetch). `ttl`,
//! `pttl` and `expiretime` report the logical expiry (the buffer taken off) and `expire`,
//! `pexpire` and `expire_at` add the buffer, as django-cachex 0.14.1's; the cases read and set
//! the stored expiry through `with_stampede_prevention(None)`.

use std::time::{Duration, SystemTime};

use cachex::prelude::*;
use cachex::{ExpireTime, StampedePrevention, Ttl};
use cachex_tests::{ServerKind, shared, shared_cluster};

const BUFFER: u64 = 60;

/// The cache with the option on each backend.
fn caches(name: &str) -> Vec<(&'static str, Cache)> {
    let prefix = format!("stampede-{name}-{}", std::process::id());
    let option = format!("stampede_prevention=buffer:{BUFFER},beta:1,delta:1");
    let at =
        |url: String| Cache::from_url(&format!("{url}?prefix={prefix}&{option}")).expect("a cache");
    let memory = Cache::builder()
        .prefix(&prefix)
        .stampede_prevention(Some(StampedePrevention::default()))
        .build()
        .expect("a cache");
    vec![
        ("memory", memory),
        ("redis", at(shared(ServerKind::Redis).url())),
        ("cluster", at(shared_cluster().url())),
    ]
}

/// Stores `value` at `key` for `secs`, buffer or not (as a cache without the option would).
fn store_for(cache: &Cache, key: &str, value: &str, secs: u64) {
    let raw = cache.with_stampede_prevention(None);
    raw.set(key, value, Timeout::Never).expect("set");
    assert!(
        raw.pexpire(key, Duration::from_secs(secs))
            .expect("pexpire")
    );
}

/// The stored expiry in whole seconds (rounded to the nearest).
fn stored_secs(cache: &Cache, key: &str) -> u64 {
    match cache
        .with_stampede_prevention(None)
        .pttl(key)
        .expect("pttl")
    {
        Ttl::Expires(left) => (left.as_millis() as u64 + 500) / 1000,
        other => panic!("{key}: {other:?}"),
    }
}

const TIMEOUT: Duration = Duration::from_secs(100);

#[test]
fn writes_store_the_timeout_plus_the_buffer() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for (backend, cache) in caches("writes") {
        let timeout = Timeout::After(TIMEOUT);
        cache.set("text", "value", timeout).expect("set");
        runtime
            .block_on(cache.aset("async", "value", timeout))
            .expect("aset");
        cache.set("number", &5, timeout).expect("set an integer");
        assert!(cache.add("added", "value", timeout).expect("add"));
        cache
            .set_many(&[("many", "value")], timeout)
            .expect("set_many");
        cache.set("touched", "value", Timeout::Never).expect("set");
        assert!(cache.touch("touched", timeout).expect("touch"), "{backend}");
        for key in ["text", "async", "number", "added", "many", "touched"] {
            assert_eq!(stored_secs(&cache, key), 100 + BUFFER, "{backend}: {key}");
        }
        // Read back on both surfaces: far from the end, a read never misses.
        assert_eq!(
            cache.get::<String>("text").expect("get").as_deref(),
            Some("value")
        );
        let read = runtime
            .block_on(cache.aget::<String>("async"))
            .expect("aget");
        assert_eq!(read.as_deref(), Some("value"), "{backend}");
        // Integers too (django-cachex 0.14.1 buffers every value), and they still count.
        assert_eq!(
            cache.get::<i64>("number").expect("get"),
            Some(5),
            "{backend}"
        );
        assert_eq!(cache.incr("number", 1).expect("incr"), 6, "{backend}");
        // No timeout: no expiry, and always read.
        cache.set("forever", "value", Timeout::Never).expect("set");
        assert_eq!(cache.ttl("forever").expect("ttl"), Ttl::Persistent);
        assert!(cache.get::<String>("forever").expect("get").is_some());
        cache.clear().expect("clear");
    }
}

#[test]
fn a_value_inside_its_buffer_is_missing() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for (backend, cache) in caches("inside") {
        // Written without the option for less than the buffer: its logical life is over.
        for key in ["stale", "stale2", "add", "touch", "loaded"] {
            store_for(&cache, key, "old", BUFFER / 2);
        }
        assert_eq!(
            cache.get::<String>("stale").expect("get"),
            None,
            "{backend}"
        );
        let read = runtime
            .block_on(cache.aget::<String>("stale"))
            .expect("aget");
        assert_eq!(read, None, "{backend}");
        assert!(!cache.has_key("stale").expect("has_key"), "{backend}");
        assert_ne!(
            cache.ttl("stale").expect("ttl"),
            Ttl::Missing,
            "{backend}: still stored"
        );
        cache
            .set("fresh", "new", Timeout::After(TIMEOUT))
            .expect("set");
        let found = cache
            .get_many::<String>(&["stale", "stale2", "fresh", "missing"])
            .expect("get_many");
        assert_eq!(found.keys().collect::<Vec<_>>(), vec!["fresh"], "{backend}");

        // add overwrites it, as it would a missing value; not a live one.
        assert!(
            cache
                .add("add", "new", Timeout::After(TIMEOUT))
                .expect("add")
        );
        assert_eq!(
            cache.get::<String>("add").expect("get").as_deref(),
            Some("new")
        );
        assert_eq!(stored_secs(&cache, "add"), 100 + BUFFER, "{backend}");
        assert!(
            !cache
                .add("add", "newer", Timeout::After(TIMEOUT))
                .expect("add")
        );
        // touch leaves it alone, as get misses it.
        assert!(
            !cache
                .touch("touch", Timeout::After(TIMEOUT))
                .expect("touch")
        );
        assert!(stored_secs(&cache, "touch") <= BUFFER / 2, "{backend}");
        assert!(!cache.touch("missing", Timeout::Never).expect("touch"));
        // get_or_set computes it again and stores it (set, not add: the stale value is there).
        let loaded = runtime
            .block_on(cache.aget_or_set("loaded", || "computed".to_owned(), Timeout::Default))
            .expect("aget_or_set");
        assert_eq!(loaded, "computed", "{backend}");
        assert_eq!(stored_secs(&cache, "loaded"), 300 + BUFFER, "{backend}");
        let again = cache.get_or_set("loaded", || "not again".to_owned(), Timeout::Default);
        assert_eq!(again.expect("get_or_set"), "computed", "{backend}");
        cache.clear().expect("clear");
    }
}

#[test]
fn near_its_logical_end_a_value_misses_now_and_then() {
    for (backend, cache) in caches("xfetch") {
        // One second (one delta) of logical life left: each read misses with probability
        // e^-1 (about 37 %): 200 reads see both (the chance they do not is below 1e-39).
        store_for(&cache, "near", "value", BUFFER + 1);
        let hits = (0..200)
            .filter(|_| cache.get::<String>("near").expect("get").is_some())
            .count();
        println!("{backend}: {hits} hits of 200 reads one second before the logical end");
        assert!(0 < hits && hits < 200, "{backend}: {hits} hits of 200");
        cache.clear().expect("clear");
    }
}

/// Rounds a time left to whole seconds.
fn secs(ttl: Ttl) -> u64 {
    match ttl {
        Ttl::Expires(left) => (left.as_millis() as u64 + 500) / 1000,
        other => panic!("{other:?}"),
    }
}

#[test]
fn expiries_are_read_and_set_without_the_buffer() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for (backend, cache) in caches("logical") {
        cache
            .set("k", "value", Timeout::After(TIMEOUT))
            .expect("set");
        assert_eq!(secs(cache.ttl("k").expect("ttl")), 100, "{backend}: ttl");
        assert_eq!(secs(cache.pttl("k").expect("pttl")), 100, "{backend}: pttl");
        let when = match cache.expiretime("k").expect("expiretime") {
            ExpireTime::At(when) => when,
            other => panic!("{backend}: {other:?}"),
        };
        let left = when
            .duration_since(SystemTime::now())
            .expect("in the future");
        assert!(
            (98..=100).contains(&left.as_secs()),
            "{backend}: expiretime {left:?} from now"
        );

        // expire under the buffer: the value stays readable (stored 30 + 60), as in Django.
        assert!(cache.expire("k", Duration::from_secs(30)).expect("expire"));
        assert_eq!(stored_secs(&cache, "k"), 30 + BUFFER, "{backend}");
        assert_eq!(secs(cache.ttl("k").expect("ttl")), 30, "{backend}");
        assert!(
            cache.get::<String>("k").expect("get").is_some(),
            "{backend}"
        );
        let set = runtime
            .block_on(cache.apexpire("k", Duration::from_secs(40)))
            .expect("apexpire");
        assert!(set, "{backend}");
        assert_eq!(stored_secs(&cache, "k"), 40 + BUFFER, "{backend}");

        let deadline = SystemTime::now() + Duration::from_secs(200);
        assert!(cache.expire_at("k", deadline).expect("expire_at"));
        assert_eq!(stored_secs(&cache, "k"), 200 + BUFFER, "{backend}");
        assert_eq!(secs(cache.ttl("k").expect("ttl")), 200, "{backend}");

        // Inside the buffer the logical time left is 0, the key still stored.
        store_for(&cache, "stale", "old", BUFFER / 2);
        assert_eq!(
            cache.ttl("stale").expect("ttl"),
            Ttl::Expires(Duration::ZERO),
            "{backend}"
        );

        // A deadline already past deletes, it is not kept for the buffer.
        let past = SystemTime::now() - Duration::from_secs(5);
        assert!(cache.expire_at("k", past).expect("expire_at"));
        assert_eq!(cache.ttl("k").expect("ttl"), Ttl::Missing, "{backend}");
        assert_eq!(cache.ttl("never").expect("ttl"), Ttl::Missing, "{backend}");
        cache.set("forever", "v", Timeout::Never).expect("set");
        assert_eq!(
            cache.ttl("forever").expect("ttl"),
            Ttl::Persistent,
            "{backend}"
        );
        cache.clear().expect("clear");
    }
}

#[test]
fn views_keep_the_option() {
    for (backend, cache) in caches("views") {
        for view in [
            cache.with_version(2),
            cache.with_prefix("other-stampede-view"),
        ] {
            view.set("k", "value", Timeout::After(TIMEOUT))
                .expect("set");
            assert_eq!(stored_secs(&view, "k"), 100 + BUFFER, "{backend}");
            view.clear().expect("clear");
        }
    }
}
