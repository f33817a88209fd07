//! django-cachex 0.14.1's further operations (`expiretime`, `scan`, `memory_usage`, `largest_keys`,
//! `clear_all_versions`, `info`, `set` flags, multi-field `hset`, list moves and positions,
//! set moves, stores and scans, `zadd` flags and range removals, hash-field expiry), with
//! Redis's documented edge cases; multi-key operations use hash tags, and on a cluster keys of
//! several slots are the typed refusal that names the fix.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cachex::prelude::*;
use cachex::{
    Error, ExpireCondition, ExpireTime, FieldExpiry, FieldsCondition, InsertAt, ListEnd,
    SetOptions, SetOutcome, Ttl, ZaddOptions,
};
use futures::StreamExt as _;

use super::{Backend, PAST_EXPIRY, SHORT, Spelling, Subject, sleep};

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

/// On a cluster, a multi-key operation on keys of several slots is the typed refusal that
/// names hash tags.
fn assert_cross_slot<T: std::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(err @ Error::Unsupported { .. }) => {
            assert!(err.to_string().contains("hash tag"), "{err}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

/// Whether `at` is within `low..=high` from now.
fn expires_between(at: ExpireTime, low: Duration, high: Duration) -> bool {
    let now = SystemTime::now();
    matches!(at, ExpireTime::At(at) if now + low <= at && at <= now + high)
}

pub(crate) async fn breadth_keys(s: &Subject) {
    assert_eq!(
        call!(s, expiretime / aexpiretime("missing")).expect("expiretime"),
        ExpireTime::Missing
    );
    call!(s, set / aset("forever", &1, Timeout::Never)).expect("set");
    assert_eq!(
        call!(s, expiretime / aexpiretime("forever")).expect("expiretime"),
        ExpireTime::Persistent
    );
    call!(
        s,
        set / aset("soon", &1, Timeout::After(Duration::from_secs(100)))
    )
    .expect("set");
    let at = call!(s, expiretime / aexpiretime("soon")).expect("expiretime");
    assert!(
        expires_between(at, Duration::from_secs(95), Duration::from_secs(101)),
        "{at:?}"
    );

    // A scan round by round, the cursor passed back until it is 0: every key once at least.
    for key in ["user:1", "user:2", "user:3", "user:4", "user:5", "other:1"] {
        call!(s, set / aset(key, &1, Timeout::Never)).expect("set");
    }
    let (mut cursor, mut found) = (0, Vec::new());
    loop {
        let (next, keys) = call!(s, scan / ascan(cursor, "user:*", Some(2))).expect("scan");
        found.extend(keys);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    found.sort();
    found.dedup();
    assert_eq!(found, ["user:1", "user:2", "user:3", "user:4", "user:5"]);

    assert_eq!(
        call!(s, memory_usage / amemory_usage("missing", None)).expect("memory_usage"),
        None
    );
    call!(s, set / aset("big", &"x".repeat(1_000), Timeout::Never)).expect("set");
    let used = call!(s, memory_usage / amemory_usage("big", Some(0)))
        .expect("memory_usage")
        .expect("present");
    assert!(used >= 1_000, "{used} bytes for a value of 1,000");

    // The largest keys, largest first, by the caller's keys; the pattern filters.
    call!(s, set / aset("huge", &"x".repeat(5_000), Timeout::Never)).expect("set");
    let largest = call!(s, largest_keys / alargest_keys("*", 2, Some(0))).expect("largest_keys");
    let names: Vec<&str> = largest.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(names, ["huge", "big"], "{largest:?}");
    assert!(
        largest[0].1 > largest[1].1 && largest[1].1 >= 1_000,
        "{largest:?}"
    );
    let users = call!(s, largest_keys / alargest_keys("user:*", 10, None)).expect("largest_keys");
    assert_eq!(users.len(), 5, "{users:?}");
    assert!(users.iter().all(|(key, _)| key.starts_with("user:")));
    assert!(
        call!(s, largest_keys / alargest_keys("*", 0, None))
            .expect("largest_keys")
            .is_empty()
    );

    let info = call!(s, info / ainfo(None)).expect("info");
    assert!(!info.nodes.is_empty());
    for (_, sections) in &info.nodes {
        assert!(sections.contains_key("server"), "{sections:?}");
    }
    match s.backend {
        Backend::Memory => {
            assert_eq!(info.get("server", "server_name"), Some("cachex-memory"));
        }
        _ => assert!(info.get("server", "redis_version").is_some(), "{info:?}"),
    }
    if s.backend == Backend::Cluster {
        // One entry per primary, by address.
        assert_eq!(info.nodes.len(), 3, "{info:?}");
        assert!(info.nodes.iter().all(|(address, _)| address.is_some()));
    }
    let server = call!(s, info / ainfo(Some("server"))).expect("info");
    let sections = server.sections().expect("a node");
    assert!(sections.contains_key("server"));
    assert!(!sections.contains_key("keyspace"), "{sections:?}");
}

pub(crate) async fn breadth_clear_all_versions(s: &Subject) {
    let v2 = s.cache.with_version(2);
    let negative = s.cache.with_version(-1);
    // A cache whose prefix extends this one's keeps its keys.
    let extended = s.cache.with_prefix(format!("{}:sessions", s.prefix));
    call!(s, set / aset("a", &1, Timeout::Never)).expect("set");
    v2.aset("b", &2, Timeout::Never).await.expect("set");
    negative.aset("c", &3, Timeout::Never).await.expect("set");
    extended
        .aset("kept", &4, Timeout::Never)
        .await
        .expect("set");
    assert_eq!(
        call!(s, clear_all_versions / aclear_all_versions()).expect("clear_all_versions"),
        3
    );
    assert!(!call!(s, has_key / ahas_key("a")).expect("has_key"));
    assert_eq!(v2.aget::<i32>("b").await.expect("get"), None);
    assert_eq!(negative.aget::<i32>("c").await.expect("get"), None);
    assert_eq!(extended.aget::<i32>("kept").await.expect("get"), Some(4));
}

pub(crate) async fn breadth_set_with(s: &Subject) {
    let nothing = |stored| SetOutcome::<i32> {
        stored,
        previous: None,
    };
    let xx = SetOptions::new().xx();
    assert_eq!(
        call!(s, set_with / aset_with("k", &1, Timeout::Default, xx)).expect("set_with"),
        nothing(false)
    );
    assert!(!call!(s, has_key / ahas_key("k")).expect("not created"));
    let nx = SetOptions::new().nx();
    assert_eq!(
        call!(s, set_with / aset_with("k", &1, Timeout::Default, nx)).expect("set_with"),
        nothing(true)
    );
    assert_eq!(
        call!(s, set_with / aset_with("k", &2, Timeout::Default, nx)).expect("set_with"),
        nothing(false)
    );
    assert_eq!(call!(s, get / aget::<i32>("k")).expect("get"), Some(1));
    assert_eq!(
        call!(s, set_with / aset_with("k", &2, Timeout::Default, nx.get())).expect("set_with"),
        SetOutcome {
            stored: false,
            previous: Some(1)
        }
    );
    assert_eq!(
        call!(s, set_with / aset_with("k", &3, Timeout::Default, xx.get())).expect("set_with"),
        SetOutcome {
            stored: true,
            previous: Some(1)
        }
    );
    let get = SetOptions::new().get();
    assert_eq!(
        call!(s, set_with / aset_with("k", &4, Timeout::Default, get)).expect("set_with"),
        SetOutcome {
            stored: true,
            previous: Some(3)
        }
    );
    assert_eq!(
        call!(s, set_with / aset_with("fresh", &4, Timeout::Default, get)).expect("set_with"),
        nothing(true)
    );

    // KEEPTTL keeps the expiry; a plain write replaces it.
    call!(
        s,
        set / aset("t", &1, Timeout::After(Duration::from_secs(100)))
    )
    .expect("set");
    let keep = SetOptions::new().keep_ttl();
    assert!(
        call!(s, set_with / aset_with("t", &2, Timeout::Never, keep))
            .expect("set_with")
            .stored
    );
    assert_eq!(
        call!(s, ttl / attl("t")).expect("ttl"),
        Ttl::Expires(Duration::from_secs(100))
    );
    let plain = SetOptions::new();
    assert!(
        call!(s, set_with / aset_with("t", &3, Timeout::Never, plain))
            .expect("set_with")
            .stored
    );
    assert_eq!(call!(s, ttl / attl("t")).expect("ttl"), Ttl::Persistent);

    // A zero timeout keeps nothing, where the write would have happened.
    let zero = Timeout::seconds(0);
    assert_eq!(
        call!(s, set_with / aset_with("k", &5, zero, nx)).expect("set_with"),
        nothing(false)
    );
    assert_eq!(call!(s, get / aget::<i32>("k")).expect("get"), Some(4));
    assert_eq!(
        call!(s, set_with / aset_with("k", &5, zero, xx.get())).expect("set_with"),
        SetOutcome {
            stored: true,
            previous: Some(4)
        }
    );
    assert!(!call!(s, has_key / ahas_key("k")).expect("expired at once"));
    assert_eq!(
        call!(s, set_with / aset_with("gone", &5, zero, nx)).expect("set_with"),
        nothing(true)
    );
    assert!(!call!(s, has_key / ahas_key("gone")).expect("expired at once"));

    call!(s, rpush / arpush("list", &[1])).expect("rpush");
    assert!(matches!(
        call!(s, set_with / aset_with("list", &1, Timeout::Default, get)),
        Err(Error::WrongType { .. })
    ));
}

pub(crate) async fn breadth_hset_many(s: &Subject) {
    assert_eq!(
        call!(s, hset_many / ahset_many("h", &[("a", 1), ("b", 2)])).expect("hset_many"),
        2
    );
    assert_eq!(
        call!(s, hset_many / ahset_many("h", &[("b", 3), ("c", 4)])).expect("hset_many"),
        1,
        "one new field"
    );
    assert_eq!(
        call!(s, hgetall / ahgetall::<i32>("h")).expect("hgetall"),
        HashMap::from([
            ("a".to_owned(), 1),
            ("b".to_owned(), 3),
            ("c".to_owned(), 4)
        ])
    );
    let none: &[(&str, i32)] = &[];
    assert_eq!(
        call!(s, hset_many / ahset_many("h", none)).expect("hset_many"),
        0
    );
}

pub(crate) async fn breadth_lists(s: &Subject) {
    call!(s, rpush / arpush("l", &[1, 2, 3, 2, 1, 2])).expect("rpush");
    assert_eq!(
        call!(s, lpos / alpos("l", &2, None, None)).expect("lpos"),
        Some(1)
    );
    assert_eq!(
        call!(s, lpos / alpos("l", &2, Some(2), None)).expect("lpos"),
        Some(3)
    );
    assert_eq!(
        call!(s, lpos / alpos("l", &2, Some(-1), None)).expect("lpos"),
        Some(5)
    );
    assert_eq!(
        call!(s, lpos / alpos("l", &2, None, Some(1))).expect("lpos"),
        None,
        "only the first item is looked at"
    );
    assert_eq!(
        call!(s, lpos / alpos("l", &9, None, None)).expect("lpos"),
        None
    );
    assert_eq!(
        call!(s, lpos_count / alpos_count("l", &2, 0, None, None)).expect("lpos_count"),
        [1, 3, 5]
    );
    assert_eq!(
        call!(s, lpos_count / alpos_count("l", &2, 2, Some(-1), None)).expect("lpos_count"),
        [5, 3]
    );
    assert!(
        call!(s, lpos_count / alpos_count("missing", &2, 0, None, None))
            .expect("lpos_count")
            .is_empty()
    );
    assert!(matches!(
        call!(s, lpos / alpos("l", &2, Some(0), None)),
        Err(Error::InvalidArgument { .. })
    ));

    assert_eq!(
        call!(s, linsert / alinsert("l", InsertAt::Before, &3, &9)).expect("linsert"),
        Some(7)
    );
    assert_eq!(
        call!(s, linsert / alinsert("l", InsertAt::After, &9, &8)).expect("linsert"),
        Some(8)
    );
    assert_eq!(
        call!(s, lrange / alrange::<i32>("l", 0, -1)).expect("lrange"),
        [1, 2, 9, 8, 3, 2, 1, 2]
    );
    assert_eq!(
        call!(s, linsert / alinsert("l", InsertAt::After, &7, &9)).expect("linsert"),
        None,
        "no pivot"
    );
    assert_eq!(
        call!(s, linsert / alinsert("missing", InsertAt::After, &1, &9)).expect("linsert"),
        Some(0),
        "no list"
    );

    assert_eq!(
        call!(s, lpop_count / alpop_count::<i32>("l", 2)).expect("lpop_count"),
        [1, 2]
    );
    assert_eq!(
        call!(s, rpop_count / arpop_count::<i32>("l", 2)).expect("rpop_count"),
        [2, 1],
        "the tail first"
    );
    assert!(
        call!(s, lpop_count / alpop_count::<i32>("missing", 2))
            .expect("lpop_count")
            .is_empty()
    );
    assert_eq!(
        call!(s, lpop_count / alpop_count::<i32>("l", 10)).expect("lpop_count"),
        [9, 8, 3, 2]
    );
    assert!(!call!(s, has_key / ahas_key("l")).expect("an emptied list is deleted"));

    // Moves between lists of one hash tag.
    call!(s, rpush / arpush("{m}a", &[1, 2, 3])).expect("rpush");
    assert_eq!(
        call!(
            s,
            lmove / almove::<i32>("{m}a", "{m}b", ListEnd::Left, ListEnd::Right)
        )
        .expect("lmove"),
        Some(1)
    );
    assert_eq!(
        call!(
            s,
            lmove / almove::<i32>("{m}a", "{m}b", ListEnd::Right, ListEnd::Left)
        )
        .expect("lmove"),
        Some(3)
    );
    assert_eq!(
        call!(s, lrange / alrange::<i32>("{m}a", 0, -1)).expect("lrange"),
        [2]
    );
    assert_eq!(
        call!(s, lrange / alrange::<i32>("{m}b", 0, -1)).expect("lrange"),
        [3, 1]
    );
    // Onto itself: a rotation.
    assert_eq!(
        call!(
            s,
            lmove / almove::<i32>("{m}b", "{m}b", ListEnd::Left, ListEnd::Right)
        )
        .expect("lmove"),
        Some(3)
    );
    assert_eq!(
        call!(s, lrange / alrange::<i32>("{m}b", 0, -1)).expect("lrange"),
        [1, 3]
    );
    assert_eq!(
        call!(
            s,
            lmove / almove::<i32>("{m}none", "{m}b", ListEnd::Left, ListEnd::Left)
        )
        .expect("lmove"),
        None
    );
    call!(s, set / aset("{m}plain", "x", Timeout::Default)).expect("set");
    assert!(matches!(
        call!(
            s,
            lmove / almove::<i32>("{m}a", "{m}plain", ListEnd::Left, ListEnd::Left)
        ),
        Err(Error::WrongType { .. })
    ));
    assert_eq!(
        call!(s, lrange / alrange::<i32>("{m}a", 0, -1)).expect("lrange"),
        [2],
        "nothing moved"
    );
    if s.backend == Backend::Cluster {
        call!(s, rpush / arpush("untagged", &[1])).expect("rpush");
        assert_cross_slot(call!(
            s,
            lmove / almove::<i32>("untagged", "elsewhere", ListEnd::Left, ListEnd::Left)
        ));
    }
}

pub(crate) async fn breadth_blmove(s: &Subject) {
    assert_eq!(
        call!(
            s,
            blmove
                / ablmove::<i32>(
                    "{w}src",
                    "{w}dst",
                    ListEnd::Left,
                    ListEnd::Right,
                    Some(Duration::from_millis(100))
                )
        )
        .expect("blmove"),
        None,
        "times out"
    );
    // An item pushed by another thread while the move waits.
    let pusher = {
        let cache = s.cache.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            cache.rpush("{w}src", &[42]).expect("rpush")
        })
    };
    assert_eq!(
        call!(
            s,
            blmove
                / ablmove::<i32>(
                    "{w}src",
                    "{w}dst",
                    ListEnd::Left,
                    ListEnd::Right,
                    Some(Duration::from_secs(10))
                )
        )
        .expect("blmove"),
        Some(42)
    );
    pusher.join().expect("no panic");
    assert_eq!(
        call!(s, lrange / alrange::<i32>("{w}dst", 0, -1)).expect("lrange"),
        [42]
    );
    assert!(!call!(s, has_key / ahas_key("{w}src")).expect("emptied"));
}

pub(crate) async fn breadth_sets(s: &Subject) {
    call!(s, sadd / asadd("{s}a", &["x", "y", "z"])).expect("sadd");
    call!(s, sadd / asadd("{s}b", &["y", "w"])).expect("sadd");
    assert!(call!(s, smove / asmove("{s}a", "{s}b", "x")).expect("smove"));
    assert!(!call!(s, smove / asmove("{s}a", "{s}b", "x")).expect("smove, gone"));
    assert_eq!(
        sorted(call!(s, smembers / asmembers::<String>("{s}b")).expect("smembers")),
        ["w", "x", "y"]
    );
    assert!(call!(s, smove / asmove("{s}a", "{s}a", "y")).expect("onto itself"));
    assert_eq!(
        call!(s, smismember / asmismember("{s}a", &["y", "x", "nope"])).expect("smismember"),
        [true, false, false]
    );
    assert_eq!(
        call!(s, smismember / asmismember("missing", &["y"])).expect("smismember"),
        [false]
    );

    assert_eq!(
        call!(s, sinterstore / asinterstore("{s}i", &["{s}a", "{s}b"])).expect("sinterstore"),
        1
    );
    assert_eq!(
        call!(s, smembers / asmembers::<String>("{s}i")).expect("smembers"),
        ["y"]
    );
    assert_eq!(
        call!(s, sunionstore / asunionstore("{s}u", &["{s}a", "{s}b"])).expect("sunionstore"),
        4
    );
    assert_eq!(
        sorted(call!(s, smembers / asmembers::<String>("{s}u")).expect("smembers")),
        ["w", "x", "y", "z"]
    );
    assert_eq!(
        call!(s, sdiffstore / asdiffstore("{s}d", &["{s}a", "{s}b"])).expect("sdiffstore"),
        1
    );
    assert_eq!(
        call!(s, smembers / asmembers::<String>("{s}d")).expect("smembers"),
        ["z"]
    );
    // The destination is replaced whatever it held; an empty result deletes it.
    call!(s, set / aset("{s}plain", "v", Timeout::Default)).expect("set");
    assert_eq!(
        call!(
            s,
            sinterstore / asinterstore("{s}plain", &["{s}a", "{s}none"])
        )
        .expect("sinterstore"),
        0
    );
    assert!(!call!(s, has_key / ahas_key("{s}plain")).expect("deleted"));

    // A set large enough to take several SSCAN rounds on a server.
    let members: Vec<i32> = (0..2_500).collect();
    call!(s, sadd / asadd("big", &members)).expect("sadd");
    let scan = call!(s, sscan / asscan::<i32>("big")).expect("sscan");
    let found: Vec<i32> = match s.spelling {
        Spelling::Blocking | Spelling::HandleSync => scan.into_iter().collect::<Result<_, _>>(),
        _ => scan.collect::<Vec<_>>().await.into_iter().collect(),
    }
    .expect("every batch");
    let mut found = sorted(found);
    found.dedup();
    assert_eq!(found, members);
    let empty = call!(s, sscan / asscan::<i32>("missing")).expect("sscan");
    assert_eq!(empty.into_iter().count(), 0);

    if s.backend == Backend::Cluster {
        call!(s, sadd / asadd("untagged", &["x"])).expect("sadd");
        assert_cross_slot(call!(s, smove / asmove("untagged", "elsewhere", "x")));
        assert_cross_slot(call!(
            s,
            sunionstore / asunionstore("elsewhere", &["untagged"])
        ));
    }
}

pub(crate) async fn breadth_sorted_sets(s: &Subject) {
    assert_eq!(
        call!(
            s,
            zadd_with / azadd_with("z", &[("a", 1.0), ("b", 2.0)], ZaddOptions::new())
        )
        .expect("zadd"),
        2
    );
    let nx = ZaddOptions::new().nx();
    assert_eq!(
        call!(
            s,
            zadd_with / azadd_with("z", &[("a", 5.0), ("c", 3.0)], nx)
        )
        .expect("zadd"),
        1
    );
    assert_eq!(
        call!(s, zscore / azscore("z", "a")).expect("zscore"),
        Some(1.0)
    );
    let xx = ZaddOptions::new().xx();
    assert_eq!(
        call!(
            s,
            zadd_with / azadd_with("z", &[("a", 5.0), ("d", 4.0)], xx)
        )
        .expect("zadd"),
        0
    );
    assert_eq!(
        call!(s, zscore / azscore("z", "a")).expect("zscore"),
        Some(5.0)
    );
    assert_eq!(call!(s, zscore / azscore("z", "d")).expect("zscore"), None);
    // GT: only a greater score updates (b 2 -> 3 changes, a 5 -> 4 does not); CH counts it.
    let gt = ZaddOptions::new().gt().ch();
    assert_eq!(
        call!(
            s,
            zadd_with / azadd_with("z", &[("a", 4.0), ("b", 3.0)], gt)
        )
        .expect("zadd"),
        1
    );
    let lt = ZaddOptions::new().lt().ch();
    assert_eq!(
        call!(
            s,
            zadd_with / azadd_with("z", &[("a", 4.0), ("e", 0.5)], lt)
        )
        .expect("zadd"),
        2,
        "a lowered, e added"
    );
    assert!(matches!(
        call!(
            s,
            zadd_with / azadd_with("z", &[("a", 1.0)], ZaddOptions::new().nx().gt())
        ),
        Err(Error::InvalidArgument { .. })
    ));
    // Now e 0.5, b 3, c 3, a 4.
    assert_eq!(
        call!(s, zmscore / azmscore("z", &["a", "nope", "e"])).expect("zmscore"),
        [Some(4.0), None, Some(0.5)]
    );
    assert_eq!(
        call!(s, zmscore / azmscore("missing", &["a"])).expect("zmscore"),
        [None]
    );
    assert_eq!(
        call!(
            s,
            zrevrangebyscore / azrevrangebyscore::<String>("z", 3.5, 0.0)
        )
        .expect("zrevrangebyscore"),
        ["c", "b", "e"],
        "highest first, ties in reverse member order"
    );
    assert_eq!(
        call!(
            s,
            zrevrangebyscore_with_scores
                / azrevrangebyscore_with_scores::<String>("z", f64::INFINITY, 3.0)
        )
        .expect("zrevrangebyscore"),
        [
            ("a".to_owned(), 4.0),
            ("c".to_owned(), 3.0),
            ("b".to_owned(), 3.0)
        ]
    );
    assert_eq!(
        call!(s, zremrangebyscore / azremrangebyscore("z", 3.0, 3.0)).expect("zremrangebyscore"),
        2
    );
    assert_eq!(
        call!(s, zremrangebyrank / azremrangebyrank("z", 0, 0)).expect("zremrangebyrank"),
        1
    );
    assert_eq!(
        call!(s, zrange / azrange::<String>("z", 0, -1)).expect("zrange"),
        ["a"]
    );
    assert_eq!(
        call!(s, zremrangebyrank / azremrangebyrank("z", -1, -1)).expect("zremrangebyrank"),
        1
    );
    assert!(!call!(s, has_key / ahas_key("z")).expect("an emptied set is deleted"));
    assert_eq!(
        call!(s, zremrangebyscore / azremrangebyscore("missing", 0.0, 1.0))
            .expect("zremrangebyscore"),
        0
    );
}

/// Hash-field expiry: on memory and a Valkey 9 the whole behaviour; on Redis 7.0 and Valkey 8,
/// which lack the commands, the typed refusal naming the server's version.
pub(crate) async fn hash_field_expiry(s: &Subject) {
    call!(
        s,
        hset_many / ahset_many("h", &[("a", 1), ("b", 2), ("c", 3)])
    )
    .expect("hset_many");
    let expired = call!(
        s,
        hexpire / ahexpire("h", Duration::from_secs(100), &["a", "nope"], None)
    );
    let older = match s.backend {
        Backend::Redis => Some("Redis 7."),
        Backend::Valkey => Some("Valkey 8."),
        _ => None,
    };
    if let Some(version) = older {
        let refusals = [
            expired.map(drop),
            call!(s, hpttl / ahpttl("h", &["a"])).map(drop),
            call!(s, hpersist / ahpersist("h", &["a"])).map(drop),
            call!(
                s,
                hsetex / ahsetex("h", &[("a", 1)], Some(Timeout::Default), None)
            )
            .map(drop),
            call!(s, hgetex / ahgetex::<i32>("h", &["a"], None)).map(drop),
        ];
        for refusal in refusals {
            match refusal {
                Err(err @ Error::Unsupported { .. }) => {
                    let text = err.to_string();
                    assert!(text.contains(version), "{text}");
                    assert!(text.contains("Valkey 9"), "{text}");
                }
                other => panic!("expected Unsupported, got {other:?}"),
            }
        }
        return;
    }
    assert_eq!(
        expired.expect("hexpire"),
        [FieldExpiry::Changed, FieldExpiry::NoField]
    );
    assert_eq!(
        call!(s, httl / ahttl("h", &["a", "b", "nope"])).expect("httl"),
        [
            Ttl::Expires(Duration::from_secs(100)),
            Ttl::Persistent,
            Ttl::Missing
        ]
    );
    assert_eq!(
        call!(s, httl / ahttl("missing", &["a"])).expect("httl"),
        [Ttl::Missing]
    );
    let pttl = call!(s, hpttl / ahpttl("h", &["a"])).expect("hpttl");
    assert!(
        matches!(pttl[0], Ttl::Expires(left) if left > Duration::from_secs(95)),
        "{pttl:?}"
    );
    let times = call!(s, hexpiretime / ahexpiretime("h", &["a", "b"])).expect("hexpiretime");
    assert!(
        expires_between(times[0], Duration::from_secs(95), Duration::from_secs(101)),
        "{times:?}"
    );
    assert_eq!(times[1], ExpireTime::Persistent);

    // Conditions.
    let fifty = Duration::from_secs(50);
    assert_eq!(
        call!(
            s,
            hexpire / ahexpire("h", fifty, &["a", "b"], Some(ExpireCondition::NoExpiry))
        )
        .expect("hexpire"),
        [FieldExpiry::Unchanged, FieldExpiry::Changed]
    );
    let later = Duration::from_secs(200);
    assert_eq!(
        call!(
            s,
            hpexpire / ahpexpire("h", later, &["a"], Some(ExpireCondition::Sooner))
        )
        .expect("hpexpire"),
        [FieldExpiry::Unchanged]
    );
    assert_eq!(
        call!(
            s,
            hpexpire / ahpexpire("h", later, &["a", "c"], Some(ExpireCondition::Later))
        )
        .expect("hpexpire"),
        [FieldExpiry::Changed, FieldExpiry::Unchanged],
        "no expiry counts as infinite"
    );
    assert_eq!(
        call!(
            s,
            hpexpire / ahpexpire("h", later, &["c"], Some(ExpireCondition::HasExpiry))
        )
        .expect("hpexpire"),
        [FieldExpiry::Unchanged]
    );
    assert_eq!(
        call!(s, hpersist / ahpersist("h", &["a", "c", "nope"])).expect("hpersist"),
        [
            FieldExpiry::Changed,
            FieldExpiry::Unchanged,
            FieldExpiry::NoField
        ]
    );
    assert_eq!(
        call!(s, httl / ahttl("h", &["a"])).expect("httl"),
        [Ttl::Persistent]
    );
    // A past time deletes; a short expiry runs out.
    let past = UNIX_EPOCH + Duration::from_secs(1_000);
    assert_eq!(
        call!(s, hexpire_at / ahexpire_at("h", past, &["c"], None)).expect("hexpire_at"),
        [FieldExpiry::Deleted]
    );
    assert!(!call!(s, hexists / ahexists("h", "c")).expect("hexists"));
    let soon = SystemTime::now() + Duration::from_secs(100);
    assert_eq!(
        call!(s, hpexpire_at / ahpexpire_at("h", soon, &["a"], None)).expect("hpexpire_at"),
        [FieldExpiry::Changed]
    );
    assert_eq!(
        call!(s, hpexpire / ahpexpire("h", SHORT, &["b"], None)).expect("hpexpire"),
        [FieldExpiry::Changed]
    );
    sleep(PAST_EXPIRY).await;
    assert_eq!(call!(s, hget / ahget::<i32>("h", "b")).expect("hget"), None);
    assert_eq!(call!(s, hlen / ahlen("h")).expect("hlen"), 1);
    // A field written anew loses its expiry.
    call!(s, hset / ahset("h", "a", &9)).expect("hset");
    assert_eq!(
        call!(s, httl / ahttl("h", &["a"])).expect("httl"),
        [Ttl::Persistent]
    );
    // A hash whose every field expired is gone.
    call!(s, hset / ahset("h3", "f", &1)).expect("hset");
    call!(s, hpexpire / ahpexpire("h3", SHORT, &["f"], None)).expect("hpexpire");
    sleep(PAST_EXPIRY).await;
    assert!(!call!(s, has_key / ahas_key("h3")).expect("has_key"));

    // HSETEX and HGETEX.
    let hundred = Some(Timeout::After(Duration::from_secs(100)));
    assert!(
        call!(
            s,
            hsetex / ahsetex("h2", &[("x", 1), ("y", 2)], hundred, None)
        )
        .expect("hsetex")
    );
    assert_eq!(
        call!(s, httl / ahttl("h2", &["x"])).expect("httl"),
        [Ttl::Expires(Duration::from_secs(100))]
    );
    let fnx = Some(FieldsCondition::NoneExist);
    assert!(
        !call!(
            s,
            hsetex / ahsetex("h2", &[("x", 5), ("new", 5)], Some(Timeout::Never), fnx)
        )
        .expect("hsetex"),
        "x exists"
    );
    assert_eq!(
        call!(s, hget / ahget::<i32>("h2", "new")).expect("hget"),
        None
    );
    let fxx = Some(FieldsCondition::AllExist);
    assert!(call!(s, hsetex / ahsetex("h2", &[("x", 5)], None, fxx)).expect("hsetex"));
    assert_eq!(
        call!(s, hget / ahget::<i32>("h2", "x")).expect("hget"),
        Some(5)
    );
    assert_eq!(
        call!(s, httl / ahttl("h2", &["x"])).expect("httl"),
        [Ttl::Expires(Duration::from_secs(100))],
        "KEEPTTL"
    );
    assert!(
        call!(
            s,
            hsetex / ahsetex("h2", &[("x", 6)], Some(Timeout::Never), None)
        )
        .expect("hsetex")
    );
    assert_eq!(
        call!(s, httl / ahttl("h2", &["x"])).expect("httl"),
        [Ttl::Persistent]
    );
    assert_eq!(
        call!(
            s,
            hgetex / ahgetex::<i32>("h2", &["x", "y", "nope"], Some(Timeout::After(fifty)))
        )
        .expect("hgetex"),
        [Some(6), Some(2), None]
    );
    assert_eq!(
        call!(s, httl / ahttl("h2", &["x", "y"])).expect("httl"),
        [Ttl::Expires(fifty), Ttl::Expires(fifty)]
    );
    assert_eq!(
        call!(
            s,
            hgetex / ahgetex::<i32>("h2", &["x"], Some(Timeout::Never))
        )
        .expect("hgetex"),
        [Some(6)]
    );
    assert_eq!(
        call!(s, httl / ahttl("h2", &["x", "y"])).expect("httl"),
        [Ttl::Persistent, Ttl::Expires(fifty)],
        "PERSIST on x only"
    );
    assert_eq!(
        call!(s, hgetex / ahgetex::<i32>("h2", &["y"], None)).expect("hgetex"),
        [Some(2)]
    );
    assert_eq!(
        call!(
            s,
            hgetex / ahgetex::<i32>("h2", &["y"], Some(Timeout::seconds(0)))
        )
        .expect("hgetex"),
        [Some(2)]
    );
    assert!(!call!(s, hexists / ahexists("h2", "y")).expect("expired at once"));
    call!(
        s,
        hsetex / ahsetex("h2", &[("z", 1)], Some(Timeout::seconds(0)), None)
    )
    .expect("hsetex");
    assert!(!call!(s, hexists / ahexists("h2", "z")).expect("expired at once"));
    assert_eq!(
        call!(s, hgetex / ahgetex::<i32>("missing", &["a"], None)).expect("hgetex"),
        [None]
    );
}

/// The slow log: a script that runs for tens of milliseconds (past the default 10 ms
/// threshold) is in it, with its command and duration; the in-memory backend keeps none.
pub(crate) async fn breadth_slowlog(s: &Subject) {
    if s.backend == Backend::Memory {
        assert!(
            call!(s, slowlog_get / aslowlog_get(10))
                .expect("slowlog_get")
                .is_empty()
        );
        assert_eq!(
            call!(s, slowlog_len / aslowlog_len()).expect("slowlog_len"),
            0
        );
        return;
    }
    // A bounded loop (a clock-based one never ends where scripts see a frozen clock).
    let slow = cachex::Script::new("local n = 0 for i = 1, 5000000 do n = n + i end return 1");
    let ran: i64 = s
        .cache
        .aeval_script(&slow, &["slow"], &[])
        .await
        .expect("a slow script");
    assert_eq!(ran, 1);
    let entries = call!(s, slowlog_get / aslowlog_get(128)).expect("slowlog_get");
    let ours = entries
        .iter()
        .find(|entry| {
            entry
                .command
                .first()
                .is_some_and(|name| name.starts_with("EVAL"))
                && entry.command.iter().any(|arg| arg.contains("slow"))
        })
        .unwrap_or_else(|| panic!("the script is not in the slow log: {entries:?}"));
    assert!(ours.duration >= Duration::from_millis(10), "{ours:?}");
    assert!(call!(s, slowlog_len / aslowlog_len()).expect("slowlog_len") >= 1);
}
