//! The extended operations (TTL and key operations, `set` flags, hashes, lists, sets, sorted
//! sets, locks, early recomputation), with Redis's documented edge cases: empty collections
//! delete their key, wrong types are errors, negative ranges count from the end, score ties
//! are ordered by member and infinities are scores, blocking pops time out.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cachex::prelude::*;
use cachex::{Error, KeyType, Ttl};
use futures::StreamExt as _;

use super::{Backend, PAST_EXPIRY, SHORT, Spelling, Subject, sleep};

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

fn expires_within(ttl: Ttl, low: Duration, high: Duration) -> bool {
    matches!(ttl, Ttl::Expires(left) if low <= left && left <= high)
}

pub(crate) async fn ttl_and_expire(s: &Subject) {
    assert_eq!(call!(s, ttl / attl("missing")).expect("ttl"), Ttl::Missing);
    assert_eq!(
        call!(s, pttl / apttl("missing")).expect("pttl"),
        Ttl::Missing
    );
    call!(s, set / aset("k", &1, Timeout::Never)).expect("set");
    assert_eq!(call!(s, ttl / attl("k")).expect("ttl"), Ttl::Persistent);
    assert_eq!(call!(s, pttl / apttl("k")).expect("pttl"), Ttl::Persistent);
    call!(
        s,
        set / aset("k", &1, Timeout::After(Duration::from_secs(100)))
    )
    .expect("set");
    assert_eq!(
        call!(s, ttl / attl("k")).expect("ttl"),
        Ttl::Expires(Duration::from_secs(100))
    );
    let pttl = call!(s, pttl / apttl("k")).expect("pttl");
    assert!(
        expires_within(pttl, Duration::from_secs(90), Duration::from_secs(100)),
        "{pttl:?}"
    );
    assert!(call!(s, expire / aexpire("k", Timeout::seconds(50))).expect("expire"));
    assert_eq!(
        call!(s, ttl / attl("k")).expect("ttl"),
        Ttl::Expires(Duration::from_secs(50))
    );
    assert!(call!(s, pexpire / apexpire("k", Timeout::millis(20_000))).expect("pexpire"));
    let pttl = call!(s, pttl / apttl("k")).expect("pttl");
    assert!(
        expires_within(pttl, Duration::from_secs(15), Duration::from_secs(20)),
        "{pttl:?}"
    );
    assert!(call!(s, persist / apersist("k")).expect("persist"));
    assert_eq!(call!(s, ttl / attl("k")).expect("ttl"), Ttl::Persistent);
    assert!(!call!(s, persist / apersist("k")).expect("nothing to remove"));
    assert!(!call!(s, persist / apersist("missing")).expect("persist"));
    assert!(!call!(s, expire / aexpire("missing", Duration::from_secs(10))).expect("expire"));

    let in_100s = SystemTime::now() + Duration::from_secs(100);
    assert!(call!(s, expire_at / aexpire_at("k", in_100s)).expect("expire_at"));
    let ttl = call!(s, ttl / attl("k")).expect("ttl");
    assert!(
        expires_within(ttl, Duration::from_secs(98), Duration::from_secs(100)),
        "{ttl:?}"
    );
    let in_50s = SystemTime::now() + Duration::from_secs(50);
    assert!(call!(s, pexpire_at / apexpire_at("k", in_50s)).expect("pexpire_at"));
    let pttl = call!(s, pttl / apttl("k")).expect("pttl");
    assert!(
        expires_within(pttl, Duration::from_secs(45), Duration::from_secs(50)),
        "{pttl:?}"
    );

    // A time in the past, zero or negative deletes the key, which existed.
    for (key, seconds) in [("zero", 0), ("negative", -5)] {
        call!(s, set / aset(key, &1, Timeout::Never)).expect("set");
        assert!(call!(s, expire / aexpire(key, Timeout::seconds(seconds))).expect("expire"));
        assert!(!call!(s, has_key / ahas_key(key)).expect("deleted"));
    }
    call!(s, set / aset("past", &1, Timeout::Never)).expect("set");
    let past = UNIX_EPOCH + Duration::from_secs(1_000);
    assert!(call!(s, expire_at / aexpire_at("past", past)).expect("expire_at"));
    assert!(!call!(s, has_key / ahas_key("past")).expect("deleted"));

    // A time no server can hold is refused; a timeout too long to set keeps the key, without
    // expiry, as `touch` does.
    let far = UNIX_EPOCH + Duration::from_secs(1 << 60);
    assert!(matches!(
        call!(s, expire_at / aexpire_at("k", far)),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(call!(s, has_key / ahas_key("k")).expect("left alone"));
    assert!(call!(s, expire / aexpire("k", Timeout::seconds(i64::MAX))).expect("expire"));
    assert_eq!(call!(s, ttl / attl("k")).expect("ttl"), Ttl::Persistent);
    assert!(call!(s, expire / aexpire("k", Timeout::Never)).expect("expire"));
    assert_eq!(call!(s, ttl / attl("k")).expect("ttl"), Ttl::Persistent);

    assert!(call!(s, pexpire / apexpire("k", Duration::from_millis(50))).expect("pexpire"));
    sleep(PAST_EXPIRY).await;
    assert_eq!(call!(s, ttl / attl("k")).expect("ttl"), Ttl::Missing);
}

pub(crate) async fn key_types(s: &Subject) {
    assert_eq!(
        call!(s, key_type / akey_type("missing")).expect("type"),
        None
    );
    call!(s, set / aset("string", "v", Timeout::Never)).expect("set");
    call!(s, hset / ahset("hash", "f", &1)).expect("hset");
    call!(s, rpush / arpush("list", &[1])).expect("rpush");
    call!(s, sadd / asadd("set", &[1])).expect("sadd");
    call!(s, zadd / azadd("zset", &[(1, 1.0)])).expect("zadd");
    for (key, kind) in [
        ("string", KeyType::String),
        ("hash", KeyType::Hash),
        ("list", KeyType::List),
        ("set", KeyType::Set),
        ("zset", KeyType::SortedSet),
    ] {
        assert_eq!(
            call!(s, key_type / akey_type(key)).expect("type"),
            Some(kind)
        );
    }
}

pub(crate) async fn keys_and_patterns(s: &Subject) {
    for key in ["user:1", "user:2", "user:10", "other:1", "a*b"] {
        call!(s, set / aset(key, &1, Timeout::Never)).expect("set");
    }
    assert_eq!(
        sorted(call!(s, keys / akeys("user:*")).expect("keys")),
        ["user:1", "user:10", "user:2"]
    );
    assert_eq!(
        sorted(call!(s, keys / akeys("user:?")).expect("keys")),
        ["user:1", "user:2"]
    );
    assert_eq!(call!(s, keys / akeys("a\\*b")).expect("keys"), ["a*b"]);
    assert_eq!(call!(s, keys / akeys("*")).expect("keys").len(), 5);
    assert!(call!(s, keys / akeys("nothing*")).expect("keys").is_empty());

    // Another version and another prefix (with glob characters) are other caches' keys.
    let other_version = s.cache.with_version(7);
    other_version
        .aset("user:3", &1, Timeout::Never)
        .await
        .expect("set");
    let globby = s.cache.with_prefix(format!("{}?", s.prefix));
    globby
        .aset("user:4", &1, Timeout::Never)
        .await
        .expect("set");
    assert_eq!(call!(s, keys / akeys("user:*")).expect("keys").len(), 3);
    assert_eq!(globby.akeys("*").await.expect("keys"), ["user:4"]);

    assert_eq!(
        call!(s, delete_pattern / adelete_pattern("user:*")).expect("delete_pattern"),
        3
    );
    assert_eq!(
        sorted(call!(s, keys / akeys("*")).expect("keys")),
        ["a*b", "other:1"]
    );
    assert_eq!(
        other_version.aget::<i32>("user:3").await.expect("get"),
        Some(1)
    );
    assert_eq!(globby.aget::<i32>("user:4").await.expect("get"), Some(1));
    other_version.aclear().await.expect("clear");
    globby.aclear().await.expect("clear");
}

pub(crate) async fn iter_keys_in_batches(s: &Subject) {
    let keys: Vec<String> = (0..2_500).map(|i| format!("many:{i}")).collect();
    let items: Vec<(&str, i32)> = keys.iter().map(|key| (key.as_str(), 1)).collect();
    call!(s, set_many / aset_many(&items, Timeout::Never)).expect("set_many");
    call!(s, set / aset("unrelated", &1, Timeout::Never)).expect("set");
    let scan = call!(s, iter_keys / aiter_keys("many:*")).expect("iter_keys");
    let found: Vec<String> = match s.spelling {
        Spelling::Blocking | Spelling::HandleSync => scan.into_iter().collect::<Result<_, _>>(),
        _ => scan.collect::<Vec<_>>().await.into_iter().collect(),
    }
    .expect("every batch");
    let found: std::collections::HashSet<String> = found.into_iter().collect();
    assert_eq!(found.len(), 2_500);
    assert!(found.contains("many:2499"));
    assert_eq!(
        call!(s, keys / akeys("many:*")).expect("keys").len(),
        2_500,
        "keys() returns each key once"
    );
}

pub(crate) async fn rename_and_renamenx(s: &Subject) {
    call!(
        s,
        set / aset("{r}a", &1, Timeout::After(Duration::from_secs(100)))
    )
    .expect("set");
    call!(s, rename / arename("{r}a", "{r}b")).expect("rename");
    assert!(!call!(s, has_key / ahas_key("{r}a")).expect("moved"));
    assert_eq!(call!(s, get / aget::<i32>("{r}b")).expect("get"), Some(1));
    assert!(matches!(
        call!(s, ttl / attl("{r}b")).expect("ttl"),
        Ttl::Expires(_)
    ));
    match call!(s, rename / arename("{r}missing", "{r}x")) {
        Err(Error::NotFound { key }) => assert_eq!(key, "{r}missing"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    call!(s, set / aset("{r}c", &2, Timeout::Never)).expect("set");
    call!(s, rename / arename("{r}b", "{r}c")).expect("rename overwrites");
    assert_eq!(call!(s, get / aget::<i32>("{r}c")).expect("get"), Some(1));

    assert!(call!(s, renamenx / arenamenx("{r}c", "{r}d")).expect("renamenx"));
    call!(s, set / aset("{r}e", &5, Timeout::Never)).expect("set");
    assert!(!call!(s, renamenx / arenamenx("{r}d", "{r}e")).expect("renamenx onto a key"));
    assert_eq!(
        call!(s, get / aget::<i32>("{r}e")).expect("untouched"),
        Some(5)
    );
    assert_eq!(
        call!(s, get / aget::<i32>("{r}d")).expect("untouched"),
        Some(1)
    );
    assert!(matches!(
        call!(s, renamenx / arenamenx("{r}missing", "{r}z")),
        Err(Error::NotFound { .. })
    ));
    if s.backend == Backend::Cluster {
        // Keys in different slots: a typed error that names the fix.
        call!(s, set / aset("untagged", &1, Timeout::Default)).expect("set");
        match call!(s, rename / arename("untagged", "elsewhere")) {
            Err(err @ Error::Unsupported { .. }) => {
                assert!(err.to_string().contains("hash tag"), "{err}");
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }
}

pub(crate) async fn set_flags(s: &Subject) {
    assert!(!call!(s, replace / areplace("k", &1, Timeout::Default)).expect("replace"));
    assert!(!call!(s, has_key / ahas_key("k")).expect("not created"));
    call!(s, set / aset("k", &1, Timeout::Default)).expect("set");
    assert!(call!(s, replace / areplace("k", &2, Timeout::Default)).expect("replace"));
    assert_eq!(call!(s, get / aget::<i32>("k")).expect("get"), Some(2));
    assert_eq!(
        call!(s, swap / aswap("k", &3, Timeout::Default)).expect("swap"),
        Some(2)
    );
    assert_eq!(call!(s, get / aget::<i32>("k")).expect("get"), Some(3));
    assert_eq!(
        call!(s, swap / aswap("new", &5, Timeout::Default)).expect("swap"),
        None
    );
    assert_eq!(call!(s, get / aget::<i32>("new")).expect("get"), Some(5));
    assert_eq!(
        call!(s, swap / aswap("new", &6, Timeout::seconds(0))).expect("swap"),
        Some(5)
    );
    assert!(!call!(s, has_key / ahas_key("new")).expect("expired at once"));
    assert!(call!(s, replace / areplace("k", &4, Timeout::seconds(0))).expect("replace"));
    assert!(!call!(s, has_key / ahas_key("k")).expect("expired at once"));
    call!(s, rpush / arpush("list", &[1])).expect("rpush");
    assert!(matches!(
        call!(s, swap / aswap("list", &1, Timeout::Default)),
        Err(Error::WrongType { .. })
    ));
}

pub(crate) async fn hashes(s: &Subject) {
    assert!(call!(s, hset / ahset("h", "f1", "a")).expect("hset"));
    assert!(!call!(s, hset / ahset("h", "f1", "b")).expect("hset an existing field"));
    assert!(!call!(s, hsetnx / ahsetnx("h", "f1", "c")).expect("hsetnx"));
    assert!(call!(s, hsetnx / ahsetnx("h", "f2", "c")).expect("hsetnx"));
    assert_eq!(
        call!(s, hget / ahget::<String>("h", "f1"))
            .expect("hget")
            .as_deref(),
        Some("b")
    );
    assert_eq!(
        call!(s, hget / ahget::<String>("h", "nope")).expect("hget"),
        None
    );
    assert_eq!(
        call!(s, hget / ahget::<String>("nope", "f1")).expect("hget"),
        None
    );
    assert_eq!(
        call!(s, hmget / ahmget::<String>("h", &["f1", "nope", "f2"])).expect("hmget"),
        [Some("b".to_owned()), None, Some("c".to_owned())]
    );
    assert_eq!(
        call!(s, hmget / ahmget::<String>("nope", &["f1"])).expect("hmget"),
        [None]
    );
    assert_eq!(
        call!(s, hgetall / ahgetall::<String>("h")).expect("hgetall"),
        HashMap::from([
            ("f1".to_owned(), "b".to_owned()),
            ("f2".to_owned(), "c".to_owned())
        ])
    );
    assert!(
        call!(s, hgetall / ahgetall::<String>("nope"))
            .expect("hgetall")
            .is_empty()
    );
    assert_eq!(call!(s, hlen / ahlen("h")).expect("hlen"), 2);
    assert_eq!(
        sorted(call!(s, hkeys / ahkeys("h")).expect("hkeys")),
        ["f1", "f2"]
    );
    assert_eq!(
        sorted(call!(s, hvals / ahvals::<String>("h")).expect("hvals")),
        ["b", "c"]
    );
    assert!(call!(s, hexists / ahexists("h", "f2")).expect("hexists"));
    assert!(!call!(s, hexists / ahexists("h", "f3")).expect("hexists"));
    assert_eq!(
        call!(s, hincrby / ahincrby("h", "n", 5)).expect("hincrby"),
        5
    );
    assert_eq!(
        call!(s, hincrby / ahincrby("h", "n", -7)).expect("hincrby"),
        -2
    );
    assert_eq!(
        call!(s, hget / ahget::<i64>("h", "n")).expect("hget"),
        Some(-2)
    );
    assert!(matches!(
        call!(s, hincrby / ahincrby("h", "f1", 1)),
        Err(Error::WrongType { .. })
    ));
    call!(s, hset / ahset("h", "max", &i64::MAX)).expect("hset");
    assert!(matches!(
        call!(s, hincrby / ahincrby("h", "max", 1)),
        Err(Error::WrongType { .. })
    ));
    assert_eq!(
        call!(s, hdel / ahdel("h", &["f1", "f2", "n", "max", "nope"])).expect("hdel"),
        4
    );
    // The last field gone, the hash is gone.
    assert_eq!(call!(s, hlen / ahlen("h")).expect("hlen"), 0);
    assert_eq!(call!(s, key_type / akey_type("h")).expect("type"), None);
    assert!(!call!(s, has_key / ahas_key("h")).expect("has_key"));

    // HINCRBYFLOAT: a missing field counts from 0; an integer field is a number too.
    assert_eq!(
        call!(s, hincrbyfloat / ahincrbyfloat("hf", "x", 10.5)).expect("hincrbyfloat"),
        10.5
    );
    assert_eq!(
        call!(s, hincrbyfloat / ahincrbyfloat("hf", "x", -0.25)).expect("hincrbyfloat"),
        10.25
    );
    assert_eq!(
        call!(s, hget / ahget::<f64>("hf", "x")).expect("hget"),
        Some(10.25)
    );
    call!(s, hset / ahset("hf", "n", &2)).expect("hset");
    assert_eq!(
        call!(s, hincrbyfloat / ahincrbyfloat("hf", "n", 0.5)).expect("hincrbyfloat"),
        2.5
    );
    call!(s, hset / ahset("hf", "word", "text")).expect("hset");
    assert!(matches!(
        call!(s, hincrbyfloat / ahincrbyfloat("hf", "word", 1.0)),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        call!(s, hincrbyfloat / ahincrbyfloat("hf", "x", f64::INFINITY)),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(
        call!(s, hget / ahget::<f64>("hf", "x")).expect("hget"),
        Some(10.25),
        "a refused increment changes nothing"
    );

    call!(s, set / aset("plain", "x", Timeout::Default)).expect("set");
    assert!(matches!(
        call!(s, hget / ahget::<String>("plain", "f")),
        Err(Error::WrongType { .. })
    ));
    match call!(s, hset / ahset("plain", "f", &1)) {
        Err(Error::WrongType { key, .. }) => assert_eq!(key, "plain"),
        other => panic!("expected WrongType, got {other:?}"),
    }
    call!(s, hset / ahset("h2", "f", &1)).expect("hset");
    assert!(matches!(
        call!(s, get / aget::<i32>("h2")),
        Err(Error::WrongType { .. })
    ));
    assert!(
        call!(s, get_many / aget_many::<i32>(&["h2"]))
            .expect("MGET skips other types")
            .is_empty()
    );
    assert!(matches!(
        call!(s, incr / aincr("h2", 1)),
        Err(Error::WrongType { .. })
    ));
}

pub(crate) async fn lists(s: &Subject) {
    assert_eq!(call!(s, rpush / arpush("l", &[1, 2, 3])).expect("rpush"), 3);
    assert_eq!(call!(s, lpush / alpush("l", &[0, -1])).expect("lpush"), 5);
    let all = || async { call!(s, lrange / alrange::<i32>("l", 0, -1)).expect("lrange") };
    assert_eq!(all().await, [-1, 0, 1, 2, 3]);
    for ((start, stop), expected) in [
        ((-2, -1), vec![2, 3]),
        ((3, 100), vec![2, 3]),
        ((5, 10), vec![]),
        ((2, 1), vec![]),
        ((-100, 0), vec![-1]),
        ((-100, -100), vec![]),
    ] {
        assert_eq!(
            call!(s, lrange / alrange::<i32>("l", start, stop)).expect("lrange"),
            expected,
            "LRANGE {start} {stop}"
        );
    }
    assert!(
        call!(s, lrange / alrange::<i32>("nope", 0, -1))
            .expect("lrange")
            .is_empty()
    );
    assert_eq!(
        call!(s, lindex / alindex::<i32>("l", 0)).expect("lindex"),
        Some(-1)
    );
    assert_eq!(
        call!(s, lindex / alindex::<i32>("l", -1)).expect("lindex"),
        Some(3)
    );
    assert_eq!(
        call!(s, lindex / alindex::<i32>("l", 99)).expect("lindex"),
        None
    );
    assert_eq!(call!(s, llen / allen("l")).expect("llen"), 5);
    assert_eq!(call!(s, llen / allen("nope")).expect("llen"), 0);
    call!(s, lset / alset("l", 1, &10)).expect("lset");
    call!(s, lset / alset("l", -1, &30)).expect("lset");
    assert_eq!(all().await, [-1, 10, 1, 2, 30]);
    assert!(matches!(
        call!(s, lset / alset("l", 99, &0)),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        call!(s, lset / alset("nope", 0, &0)),
        Err(Error::NotFound { .. })
    ));

    call!(s, rpush / arpush("l", &[1, 5, 1, 1])).expect("rpush");
    assert_eq!(all().await, [-1, 10, 1, 2, 30, 1, 5, 1, 1]);
    assert_eq!(
        call!(s, lrem / alrem("l", 2, &1)).expect("lrem from the head"),
        2
    );
    assert_eq!(all().await, [-1, 10, 2, 30, 5, 1, 1]);
    assert_eq!(
        call!(s, lrem / alrem("l", -1, &1)).expect("lrem from the tail"),
        1
    );
    assert_eq!(all().await, [-1, 10, 2, 30, 5, 1]);
    call!(s, rpush / arpush("l", &[1])).expect("rpush");
    assert_eq!(call!(s, lrem / alrem("l", 0, &1)).expect("lrem all"), 2);
    assert_eq!(call!(s, lrem / alrem("l", 0, &99)).expect("lrem none"), 0);
    assert_eq!(all().await, [-1, 10, 2, 30, 5]);
    call!(s, ltrim / altrim("l", 1, -2)).expect("ltrim");
    assert_eq!(all().await, [10, 2, 30]);

    assert_eq!(call!(s, lpop / alpop::<i32>("l")).expect("lpop"), Some(10));
    assert_eq!(call!(s, rpop / arpop::<i32>("l")).expect("rpop"), Some(30));
    assert_eq!(call!(s, rpop / arpop::<i32>("l")).expect("rpop"), Some(2));
    assert_eq!(call!(s, lpop / alpop::<i32>("l")).expect("lpop"), None);
    assert!(!call!(s, has_key / ahas_key("l")).expect("an emptied list is deleted"));
    call!(s, rpush / arpush("t", &[1, 2])).expect("rpush");
    call!(s, ltrim / altrim("t", 5, 10)).expect("ltrim to nothing");
    assert!(!call!(s, has_key / ahas_key("t")).expect("a trimmed-out list is deleted"));

    call!(s, set / aset("plain", "x", Timeout::Default)).expect("set");
    assert!(matches!(
        call!(s, lpush / alpush("plain", &[1])),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        call!(s, llen / allen("plain")),
        Err(Error::WrongType { .. })
    ));
}

pub(crate) async fn blocking_pops(s: &Subject) {
    assert_eq!(
        call!(
            s,
            blpop / ablpop::<i32>(&["empty"], Some(Duration::from_millis(100)))
        )
        .expect("blpop"),
        None,
        "times out"
    );
    assert_eq!(
        call!(
            s,
            brpop / abrpop::<i32>(&["empty"], Some(Duration::from_millis(100)))
        )
        .expect("brpop"),
        None,
        "times out"
    );
    call!(s, rpush / arpush("{b}l2", &[1, 2])).expect("rpush");
    assert_eq!(
        call!(
            s,
            blpop / ablpop::<i32>(&["{b}empty", "{b}l2"], Some(Duration::from_secs(1)))
        )
        .expect("blpop"),
        Some(("{b}l2".to_owned(), 1))
    );
    assert_eq!(
        call!(s, brpop / abrpop::<i32>(&["{b}l2"], None)).expect("brpop"),
        Some(("{b}l2".to_owned(), 2))
    );
    // An item pushed by another thread while the pop waits.
    let pusher = {
        let cache = s.cache.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            cache.rpush("later", &[42]).expect("rpush")
        })
    };
    assert_eq!(
        call!(
            s,
            blpop / ablpop::<i32>(&["later"], Some(Duration::from_secs(10)))
        )
        .expect("blpop"),
        Some(("later".to_owned(), 42))
    );
    pusher.join().expect("no panic");
    call!(s, set / aset("plain", "x", Timeout::Default)).expect("set");
    assert!(matches!(
        call!(s, blpop / ablpop::<i32>(&["plain"], Some(SHORT))),
        Err(Error::WrongType { .. })
    ));
}

pub(crate) async fn sets(s: &Subject) {
    assert_eq!(
        call!(s, sadd / asadd("s", &["a", "b", "c"])).expect("sadd"),
        3
    );
    assert_eq!(call!(s, sadd / asadd("s", &["c", "d"])).expect("sadd"), 1);
    assert_eq!(call!(s, scard / ascard("s")).expect("scard"), 4);
    assert_eq!(call!(s, scard / ascard("nope")).expect("scard"), 0);
    assert!(call!(s, sismember / asismember("s", "a")).expect("sismember"));
    assert!(!call!(s, sismember / asismember("s", "z")).expect("sismember"));
    assert_eq!(
        sorted(call!(s, smembers / asmembers::<String>("s")).expect("smembers")),
        ["a", "b", "c", "d"]
    );
    assert_eq!(call!(s, srem / asrem("s", &["a", "z"])).expect("srem"), 1);
    let two = call!(s, srandmember / asrandmember::<String>("s", 2)).expect("srandmember");
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1], "distinct members");
    assert_eq!(
        sorted(call!(s, srandmember / asrandmember::<String>("s", 10)).expect("srandmember")),
        ["b", "c", "d"]
    );
    let repeated = call!(s, srandmember / asrandmember::<String>("s", -5)).expect("srandmember");
    assert_eq!(repeated.len(), 5);
    assert!(
        repeated
            .iter()
            .all(|member| ["b", "c", "d"].contains(&member.as_str()))
    );
    assert!(
        call!(s, srandmember / asrandmember::<String>("nope", 3))
            .expect("srandmember")
            .is_empty()
    );
    let popped = call!(s, spop / aspop::<String>("s"))
        .expect("spop")
        .expect("a member");
    assert!(!call!(s, sismember / asismember("s", &popped)).expect("sismember"));
    assert_eq!(call!(s, scard / ascard("s")).expect("scard"), 2);

    call!(s, sadd / asadd("{s}s1", &[1, 2, 3])).expect("sadd");
    call!(s, sadd / asadd("{s}s2", &[2, 3, 4])).expect("sadd");
    assert_eq!(
        sorted(call!(s, sinter / asinter::<i32>(&["{s}s1", "{s}s2"])).expect("sinter")),
        [2, 3]
    );
    assert_eq!(
        sorted(call!(s, sunion / asunion::<i32>(&["{s}s1", "{s}s2"])).expect("sunion")),
        [1, 2, 3, 4]
    );
    assert_eq!(
        call!(s, sdiff / asdiff::<i32>(&["{s}s1", "{s}s2"])).expect("sdiff"),
        [1]
    );
    assert!(
        call!(s, sinter / asinter::<i32>(&["{s}s1", "{s}nope"]))
            .expect("sinter")
            .is_empty()
    );
    assert_eq!(
        sorted(call!(s, sunion / asunion::<i32>(&["{s}s1", "{s}nope"])).expect("sunion")),
        [1, 2, 3]
    );
    assert_eq!(
        call!(s, srem / asrem("{s}s1", &[1, 2, 3])).expect("srem"),
        3
    );
    assert!(!call!(s, has_key / ahas_key("{s}s1")).expect("an emptied set is deleted"));
    assert_eq!(call!(s, spop / aspop::<i32>("{s}s1")).expect("spop"), None);

    call!(s, set / aset("{s}plain", "x", Timeout::Default)).expect("set");
    assert!(matches!(
        call!(s, sadd / asadd("{s}plain", &[1])),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        call!(s, sinter / asinter::<i32>(&["{s}s2", "{s}plain"])),
        Err(Error::WrongType { .. })
    ));
    if s.backend == Backend::Cluster {
        match call!(s, sunion / asunion::<i32>(&["one", "two"])) {
            Err(err @ Error::Unsupported { .. }) => {
                assert!(err.to_string().contains("hash tag"), "{err}");
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }
}

pub(crate) async fn sorted_sets(s: &Subject) {
    let (inf, ninf) = (f64::INFINITY, f64::NEG_INFINITY);
    assert_eq!(
        call!(
            s,
            zadd / azadd(
                "z",
                &[("a", 1.0), ("c", 2.0), ("b", 2.0), ("d", ninf), ("e", inf)]
            )
        )
        .expect("zadd"),
        5
    );
    assert_eq!(
        call!(s, zadd / azadd("z", &[("a", 3.0)])).expect("an update"),
        0
    );
    assert_eq!(
        call!(s, zscore / azscore("z", "a")).expect("zscore"),
        Some(3.0)
    );
    assert_eq!(
        call!(s, zscore / azscore("z", "e")).expect("zscore"),
        Some(inf)
    );
    assert_eq!(
        call!(s, zscore / azscore("z", "d")).expect("zscore"),
        Some(ninf)
    );
    assert_eq!(
        call!(s, zscore / azscore("z", "nope")).expect("zscore"),
        None
    );
    assert_eq!(
        call!(s, zscore / azscore("nope", "a")).expect("zscore"),
        None
    );
    // Ties (b and c at 2) in member order.
    assert_eq!(
        call!(s, zrange / azrange::<String>("z", 0, -1)).expect("zrange"),
        ["d", "b", "c", "a", "e"]
    );
    assert_eq!(
        call!(s, zrange / azrange::<String>("z", -2, -1)).expect("zrange"),
        ["a", "e"]
    );
    assert!(
        call!(s, zrange / azrange::<String>("z", 3, 1))
            .expect("zrange")
            .is_empty()
    );
    assert_eq!(
        call!(s, zrevrange / azrevrange::<String>("z", 0, 1)).expect("zrevrange"),
        ["e", "a"]
    );
    assert_eq!(
        call!(
            s,
            zrange_with_scores / azrange_with_scores::<String>("z", 0, 1)
        )
        .expect("zrange"),
        [("d".to_owned(), ninf), ("b".to_owned(), 2.0)]
    );
    assert_eq!(
        call!(
            s,
            zrevrange_with_scores / azrevrange_with_scores::<String>("z", 0, 0)
        )
        .expect("zrevrange"),
        [("e".to_owned(), inf)]
    );
    assert_eq!(call!(s, zrank / azrank("z", "c")).expect("zrank"), Some(2));
    assert_eq!(
        call!(s, zrevrank / azrevrank("z", "c")).expect("zrevrank"),
        Some(2)
    );
    assert_eq!(call!(s, zrank / azrank("z", "d")).expect("zrank"), Some(0));
    assert_eq!(call!(s, zrank / azrank("z", "nope")).expect("zrank"), None);
    assert_eq!(
        call!(s, zrangebyscore / azrangebyscore::<String>("z", 2.0, 3.0)).expect("zrangebyscore"),
        ["b", "c", "a"]
    );
    assert_eq!(
        call!(s, zrangebyscore / azrangebyscore::<String>("z", ninf, inf))
            .expect("zrangebyscore")
            .len(),
        5
    );
    assert_eq!(
        call!(
            s,
            zrangebyscore_with_scores / azrangebyscore_with_scores::<String>("z", 2.5, inf)
        )
        .expect("zrangebyscore"),
        [("a".to_owned(), 3.0), ("e".to_owned(), inf)]
    );
    assert_eq!(
        call!(s, zcount / azcount("z", 2.0, 2.0)).expect("zcount"),
        2
    );
    assert_eq!(
        call!(s, zcount / azcount("z", ninf, inf)).expect("zcount"),
        5
    );
    assert_eq!(
        call!(s, zincrby / azincrby("z", "b", 0.5)).expect("zincrby"),
        2.5
    );
    assert_eq!(
        call!(s, zincrby / azincrby("z", "new", -1.0)).expect("zincrby"),
        -1.0
    );
    assert_eq!(call!(s, zcard / azcard("z")).expect("zcard"), 6);
    assert_eq!(call!(s, zcard / azcard("nope")).expect("zcard"), 0);
    assert_eq!(
        call!(s, zrem / azrem("z", &["new", "nope"])).expect("zrem"),
        1
    );
    assert_eq!(
        call!(s, zpopmin / azpopmin::<String>("z", 2)).expect("zpopmin"),
        [("d".to_owned(), ninf), ("c".to_owned(), 2.0)]
    );
    assert_eq!(
        call!(s, zpopmax / azpopmax::<String>("z", 1)).expect("zpopmax"),
        [("e".to_owned(), inf)]
    );
    assert!(
        call!(s, zpopmax / azpopmax::<String>("nope", 1))
            .expect("zpopmax")
            .is_empty()
    );

    // NaN is no score; inf - inf is refused too, and nothing changes.
    assert!(matches!(
        call!(s, zadd / azadd("z", &[("x", f64::NAN)])),
        Err(Error::InvalidArgument { .. })
    ));
    call!(s, zadd / azadd("z", &[("top", inf)])).expect("zadd");
    assert!(matches!(
        call!(s, zincrby / azincrby("z", "top", ninf)),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(
        call!(s, zscore / azscore("z", "top")).expect("zscore"),
        Some(inf)
    );

    assert_eq!(
        call!(s, zpopmin / azpopmin::<String>("z", 10))
            .expect("zpopmin")
            .len(),
        3
    );
    assert!(!call!(s, has_key / ahas_key("z")).expect("an emptied sorted set is deleted"));
    call!(s, set / aset("plain", "x", Timeout::Default)).expect("set");
    assert!(matches!(
        call!(s, zadd / azadd("plain", &[(1, 1.0)])),
        Err(Error::WrongType { .. })
    ));
}

pub(crate) async fn locks(s: &Subject) {
    let lease = Duration::from_secs(10);
    let lock = call!(s, lock / alock("job", lease, Duration::ZERO))
        .expect("lock")
        .expect("a free lock");
    assert_eq!(lock.key(), "job");
    assert!(
        call!(s, lock / alock("job", lease, Duration::from_millis(50)))
            .expect("lock")
            .is_none(),
        "held by another holder"
    );
    assert!(lock.aextend(lease).await.expect("extend"));
    assert!(lock.arelease().await.expect("release"));
    let again = call!(s, lock / alock("job", lease, Duration::ZERO))
        .expect("lock")
        .expect("free once released");
    drop(again); // released in the background
    let after_drop = call!(s, lock / alock("job", lease, Duration::from_secs(5)))
        .expect("lock")
        .expect("free once dropped");

    // A holder whose lease ran out can neither release nor extend the next holder's lock.
    assert!(after_drop.aextend(SHORT).await.expect("extend"));
    sleep(PAST_EXPIRY).await;
    let next = call!(s, lock / alock("job", lease, Duration::ZERO))
        .expect("lock")
        .expect("free once expired");
    assert!(!after_drop.aextend(lease).await.expect("extend"));
    assert!(!after_drop.arelease().await.expect("release"));
    assert!(
        call!(s, lock / alock("job", lease, Duration::ZERO))
            .expect("lock")
            .is_none(),
        "the next holder still holds it"
    );
    assert!(next.arelease().await.expect("release"));
}

pub(crate) async fn get_or_set_early(s: &Subject) {
    let computed = Arc::new(AtomicUsize::new(0));
    let compute = || {
        let computed = computed.clone();
        move || {
            std::thread::sleep(Duration::from_millis(5));
            computed.fetch_add(1, Ordering::SeqCst) as i64
        }
    };
    let minute = Timeout::After(Duration::from_secs(60));
    assert_eq!(
        call!(
            s,
            get_or_set_early / aget_or_set_early("k", compute(), minute, 1.0)
        )
        .expect("miss"),
        0
    );
    // A minute left and a 5 ms computation: beta 1 does not recompute early, beta 0 never.
    for beta in [1.0, 0.0] {
        assert_eq!(
            call!(
                s,
                get_or_set_early / aget_or_set_early("k", compute(), minute, beta)
            )
            .expect("hit"),
            0
        );
    }
    // A huge beta always recomputes early.
    assert_eq!(
        call!(
            s,
            get_or_set_early / aget_or_set_early("k", compute(), minute, 1e12)
        )
        .expect("early"),
        1
    );
    assert_eq!(call!(s, get / aget::<i64>("k")).expect("get"), Some(1));
    assert!(matches!(
        call!(s, ttl / attl("k")).expect("ttl"),
        Ttl::Expires(_)
    ));
    assert_eq!(computed.load(Ordering::SeqCst), 2);
    assert!(matches!(
        call!(
            s,
            get_or_set_early / aget_or_set_early("k", compute(), minute, -1.0)
        ),
        Err(Error::InvalidArgument { .. })
    ));
}
