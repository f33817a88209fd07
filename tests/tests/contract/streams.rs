//! Streams: entries, ranges, trimming, reads (blocking ones woken by another task, and timing
//! out), consumer groups with their pending entries, claims, and Redis's refusals as typed
//! errors. Keys read together carry a hash tag, as a cluster needs.

use std::time::Duration;

use cachex::prelude::*;
use cachex::stream::{
    Block, ClaimOptions, PendingRange, ReadFrom, ReadOptions, StreamEntry, StreamId, Trim,
    XaddOptions,
};
use cachex::{Error, KeyType};

use super::{SHORT, Spelling, Subject};

/// Adds `("n", n)` to `key` with the given id (`None`: a new one); the id.
async fn add(s: &Subject, key: &str, n: i64, id: Option<StreamId>) -> StreamId {
    let options = XaddOptions {
        id,
        ..XaddOptions::default()
    };
    call!(s, xadd / axadd(key, &[("n", n)], options))
        .expect("xadd")
        .expect("the stream is made")
}

/// The `n` fields of entries.
fn numbers(entries: &[StreamEntry<i64>]) -> Vec<i64> {
    entries
        .iter()
        .map(|entry| *entry.get("n").expect("an n field"))
        .collect()
}

/// Another task adds `("n", n)` to `key` a moment from now; with read options that wait
/// long enough for it.
fn add_later(
    s: &Subject,
    key: &'static str,
    n: i64,
) -> (tokio::task::JoinHandle<Option<StreamId>>, ReadOptions) {
    let cache = s.cache.clone();
    let writer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cache
            .axadd(key, &[("n", n)], XaddOptions::default())
            .await
            .expect("xadd")
    });
    let long = ReadOptions {
        block: Block::For(Duration::from_secs(10)),
        ..ReadOptions::default()
    };
    (writer, long)
}

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

const WHOLE: (StreamId, StreamId) = (StreamId::MIN, StreamId::MAX);

pub(crate) async fn stream_entries(s: &Subject) {
    // Made ids grow; explicit ids must be above the top one.
    let first = add(s, "s", 1, None).await;
    let second = add(s, "s", 2, None).await;
    assert!(second > first, "{second} after {first}");
    let high = StreamId::new(second.ms + 1000, 5);
    assert_eq!(add(s, "s", 3, Some(high)).await, high);
    assert!(matches!(
        call!(
            s,
            xadd / axadd(
                "s",
                &[("n", 4)],
                XaddOptions {
                    id: Some(high),
                    ..Default::default()
                }
            )
        ),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        call!(
            s,
            xadd / axadd(
                "fresh",
                &[("n", 4)],
                XaddOptions {
                    id: Some(StreamId::MIN),
                    ..Default::default()
                }
            )
        ),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        call!(s, xadd / axadd::<i64>("s", &[], XaddOptions::default())),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(call!(s, xlen / axlen("s")).expect("xlen"), 3);
    assert_eq!(call!(s, xlen / axlen("missing")).expect("xlen"), 0);
    assert_eq!(
        call!(s, key_type / akey_type("s")).expect("type"),
        Some(KeyType::Stream)
    );

    // Ranges, both ways, with a count.
    let all = call!(s, xrange / axrange::<i64>("s", WHOLE.0, WHOLE.1, None)).expect("xrange");
    assert_eq!(numbers(&all), [1, 2, 3]);
    assert_eq!(all[0].id, first);
    let two = call!(s, xrange / axrange::<i64>("s", second, WHOLE.1, Some(2))).expect("xrange");
    assert_eq!(numbers(&two), [2, 3]);
    let newest = call!(
        s,
        xrevrange / axrevrange::<i64>("s", WHOLE.1, WHOLE.0, Some(2))
    )
    .expect("xrevrange");
    assert_eq!(numbers(&newest), [3, 2]);
    assert!(
        call!(
            s,
            xrange / axrange::<i64>("missing", WHOLE.0, WHOLE.1, None)
        )
        .expect("xrange")
        .is_empty()
    );

    // Values through the codec, fields in order.
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
    struct Event {
        user: String,
        tags: Vec<String>,
    }
    let event = Event {
        user: "ünï ✓".into(),
        tags: vec!["a".into()],
    };
    let fields = [("first", event.clone()), ("second", event.clone())];
    let event_id = call!(s, xadd / axadd("events", &fields, XaddOptions::default()))
        .expect("xadd")
        .expect("made");
    let read = call!(
        s,
        xrange / axrange::<Event>("events", WHOLE.0, WHOLE.1, None)
    )
    .expect("xrange");
    assert_eq!(
        read,
        [StreamEntry {
            id: event_id,
            fields: vec![("first".into(), event.clone()), ("second".into(), event)],
        }]
    );

    // Deleting and trimming.
    assert_eq!(
        call!(s, xdel / axdel("s", &[first, id(1, 1)])).expect("xdel"),
        1
    );
    for n in 4..=8 {
        add(s, "s", n, None).await;
    }
    assert_eq!(
        call!(s, xtrim / axtrim("s", Trim::max_len(3))).expect("xtrim"),
        4
    );
    let kept = call!(s, xrange / axrange::<i64>("s", WHOLE.0, WHOLE.1, None)).expect("xrange");
    assert_eq!(numbers(&kept), [6, 7, 8]);
    assert_eq!(
        call!(s, xtrim / axtrim("s", Trim::min_id(kept[1].id))).expect("xtrim"),
        1
    );
    let trim = XaddOptions {
        trim: Some(Trim::max_len(2)),
        ..XaddOptions::default()
    };
    call!(s, xadd / axadd("s", &[("n", 9)], trim)).expect("xadd");
    let kept = call!(s, xrange / axrange::<i64>("s", WHOLE.0, WHOLE.1, None)).expect("xrange");
    assert_eq!(numbers(&kept), [8, 9]);
    assert_eq!(
        call!(s, xtrim / axtrim("missing", Trim::max_len(0))).expect("xtrim"),
        0
    );
    assert!(matches!(
        call!(s, xtrim / axtrim("s", Trim::max_len(1).limit(10))),
        Err(Error::InvalidArgument { .. })
    ));

    // A stream emptied is kept; NOMKSTREAM makes nothing.
    assert_eq!(
        call!(s, xtrim / axtrim("s", Trim::max_len(0))).expect("xtrim"),
        2
    );
    assert_eq!(call!(s, xlen / axlen("s")).expect("xlen"), 0);
    assert!(call!(s, has_key / ahas_key("s")).expect("has_key"));
    let no_stream = XaddOptions {
        nomkstream: true,
        ..XaddOptions::default()
    };
    assert_eq!(
        call!(s, xadd / axadd("absent", &[("n", 1)], no_stream)).expect("xadd"),
        None
    );
    assert!(!call!(s, has_key / ahas_key("absent")).expect("has_key"));

    // XINFO STREAM.
    let info = call!(s, xinfo_stream / axinfo_stream::<i64>("s")).expect("xinfo");
    assert_eq!(info.length, 0);
    assert_eq!(info.entries_added, 9);
    assert_eq!(info.groups, 0);
    assert_eq!(info.first_entry, None);
    assert_eq!(info.max_deleted_entry_id, first, "xdel's, not trimming's");
    add(s, "s", 10, None).await;
    let info = call!(s, xinfo_stream / axinfo_stream::<i64>("s")).expect("xinfo");
    assert_eq!(info.length, 1);
    assert_eq!(
        info.first_entry.as_ref().map(|e| e.fields.clone()),
        Some(vec![("n".into(), 10)])
    );
    assert_eq!(info.first_entry, info.last_entry);
    assert!(matches!(
        call!(s, xinfo_stream / axinfo_stream::<i64>("missing")),
        Err(Error::NotFound { ref key }) if key == "missing"
    ));

    // Another type's key.
    call!(s, set / aset("plain", "x", Timeout::Default)).expect("set");
    assert!(matches!(
        call!(
            s,
            xadd / axadd("plain", &[("n", 1)], XaddOptions::default())
        ),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        call!(s, xlen / axlen("plain")),
        Err(Error::WrongType { .. })
    ));
}

pub(crate) async fn stream_reads(s: &Subject) {
    let a = add(s, "{r}a", 1, None).await;
    add(s, "{r}a", 2, None).await;
    add(s, "{r}b", 10, None).await;
    let read = call!(
        s,
        xread
            / axread::<i64>(
                &[
                    ("{r}a", ReadFrom::START),
                    ("{r}b", ReadFrom::START),
                    ("{r}none", ReadFrom::START)
                ],
                ReadOptions::default()
            )
    )
    .expect("xread");
    let keys: Vec<&str> = read.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(
        keys,
        ["{r}a", "{r}b"],
        "only streams with entries, by the caller's keys"
    );
    assert_eq!(numbers(&read[0].1), [1, 2]);
    assert_eq!(numbers(&read[1].1), [10]);
    let after = call!(
        s,
        xread
            / axread::<i64>(
                &[("{r}a", ReadFrom::After(a))],
                ReadOptions {
                    count: Some(5),
                    ..Default::default()
                }
            )
    )
    .expect("xread");
    assert_eq!(numbers(&after[0].1), [2]);
    let limited = call!(
        s,
        xread
            / axread::<i64>(
                &[("{r}a", ReadFrom::START)],
                ReadOptions {
                    count: Some(1),
                    ..Default::default()
                }
            )
    )
    .expect("xread");
    assert_eq!(numbers(&limited[0].1), [1]);
    assert!(
        call!(
            s,
            xread / axread::<i64>(&[("{r}a", ReadFrom::Latest)], ReadOptions::default())
        )
        .expect("xread")
        .is_empty()
    );
    assert!(matches!(
        call!(
            s,
            xread / axread::<i64>(&[("{r}a", ReadFrom::Undelivered)], ReadOptions::default())
        ),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        call!(s, xread / axread::<i64>(&[], ReadOptions::default())),
        Err(Error::InvalidArgument { .. })
    ));

    // Blocking: times out empty, or is woken by an entry added by another task.
    let short = ReadOptions {
        block: Block::For(Duration::from_millis(100)),
        ..ReadOptions::default()
    };
    assert!(
        call!(
            s,
            xread / axread::<i64>(&[("{r}a", ReadFrom::Latest)], short)
        )
        .expect("xread")
        .is_empty(),
        "times out"
    );
    let (writer, long) = add_later(s, "{r}a", 42);
    let woken = call!(
        s,
        xread / axread::<i64>(&[("{r}a", ReadFrom::Latest)], long)
    )
    .expect("xread");
    let added = writer.await.expect("no panic").expect("made");
    assert_eq!(woken.len(), 1);
    assert_eq!(woken[0].1[0].id, added);
    assert_eq!(numbers(&woken[0].1), [42]);
    // Entries already there answer a blocking read at once, even one that waits for ever.
    let forever = ReadOptions {
        block: Block::Forever,
        ..ReadOptions::default()
    };
    let at_once = call!(
        s,
        xread / axread::<i64>(&[("{r}a", ReadFrom::START)], forever)
    )
    .expect("xread");
    assert_eq!(numbers(&at_once[0].1), [1, 2, 42]);
}

pub(crate) async fn consumer_groups(s: &Subject) {
    // Creating groups.
    assert!(matches!(
        call!(s, xgroup_create / axgroup_create("q", "g", ReadFrom::START, false)),
        Err(Error::NotFound { ref key }) if key == "q"
    ));
    call!(
        s,
        xgroup_create / axgroup_create("q", "g", ReadFrom::START, true)
    )
    .expect("mkstream");
    assert!(call!(s, has_key / ahas_key("q")).expect("has_key"));
    assert!(matches!(
        call!(s, xgroup_create / axgroup_create("q", "g", ReadFrom::START, true)),
        Err(Error::GroupExists { ref key, .. }) if key == "q"
    ));
    let ids = [
        add(s, "q", 1, None).await,
        add(s, "q", 2, None).await,
        add(s, "q", 3, None).await,
    ];
    call!(
        s,
        xgroup_create / axgroup_create("q", "late", ReadFrom::Latest, false)
    )
    .expect("create");

    // Reading new entries makes them pending for the reader.
    let two = ReadOptions {
        count: Some(2),
        ..ReadOptions::default()
    };
    let read = call!(
        s,
        xreadgroup / axreadgroup::<i64>("g", "alice", &[("q", ReadFrom::Undelivered)], two)
    )
    .expect("xreadgroup");
    assert_eq!(read[0].0, "q");
    assert_eq!(numbers(&read[0].1), [1, 2]);
    let rest = call!(
        s,
        xreadgroup
            / axreadgroup::<i64>(
                "g",
                "bob",
                &[("q", ReadFrom::Undelivered)],
                ReadOptions::default()
            )
    )
    .expect("xreadgroup");
    assert_eq!(numbers(&rest[0].1), [3]);
    assert!(
        call!(
            s,
            xreadgroup
                / axreadgroup::<i64>(
                    "g",
                    "bob",
                    &[("q", ReadFrom::Undelivered)],
                    ReadOptions::default()
                )
        )
        .expect("xreadgroup")
        .is_empty(),
        "nothing new"
    );
    let summary = call!(s, xpending / axpending("q", "g")).expect("xpending");
    assert_eq!(summary.count, 3);
    assert_eq!(summary.smallest, Some(ids[0]));
    assert_eq!(summary.largest, Some(ids[2]));
    assert_eq!(
        summary.consumers,
        [("alice".to_owned(), 2), ("bob".to_owned(), 1)]
    );
    let empty = call!(s, xpending / axpending("q", "late")).expect("xpending");
    assert_eq!(
        (empty.count, empty.smallest, empty.consumers.len()),
        (0, None, 0)
    );

    // Groups and consumers.
    let groups = call!(s, xinfo_groups / axinfo_groups("q")).expect("xinfo groups");
    let names: Vec<&str> = groups.iter().map(|group| group.name.as_str()).collect();
    assert_eq!(names, ["g", "late"]);
    assert_eq!((groups[0].consumers, groups[0].pending), (2, 3));
    assert_eq!(groups[0].last_delivered_id, ids[2]);
    assert_eq!(groups[1].last_delivered_id, ids[2], "$ when created");
    let consumers = call!(s, xinfo_consumers / axinfo_consumers("q", "g")).expect("consumers");
    let pending: Vec<(&str, u64)> = consumers
        .iter()
        .map(|c| (c.name.as_str(), c.pending))
        .collect();
    assert_eq!(pending, [("alice", 2), ("bob", 1)]);
    assert!(consumers.iter().all(|c| c.idle < Duration::from_secs(60)));

    // The extended pending list, and a consumer's history.
    let alice = PendingRange {
        consumer: Some("alice".to_owned()),
        ..PendingRange::first(10)
    };
    let listed =
        call!(s, xpending_range / axpending_range("q", "g", alice.clone())).expect("xpending");
    let listed_ids: Vec<StreamId> = listed.iter().map(|entry| entry.id).collect();
    assert_eq!(listed_ids, ids[..2]);
    assert!(
        listed
            .iter()
            .all(|entry| entry.consumer == "alice" && entry.deliveries == 1)
    );
    let idle_long = PendingRange {
        min_idle: Some(Duration::from_secs(3600)),
        ..PendingRange::first(10)
    };
    assert!(
        call!(s, xpending_range / axpending_range("q", "g", idle_long))
            .expect("xpending")
            .is_empty()
    );
    let history = call!(
        s,
        xreadgroup
            / axreadgroup::<i64>(
                "g",
                "alice",
                &[("q", ReadFrom::START)],
                ReadOptions::default()
            )
    )
    .expect("history");
    assert_eq!(numbers(&history[0].1), [1, 2]);
    let nothing_pending = call!(
        s,
        xreadgroup
            / axreadgroup::<i64>(
                "g",
                "carol",
                &[("q", ReadFrom::START)],
                ReadOptions::default()
            )
    )
    .expect("history");
    assert_eq!(
        nothing_pending.len(),
        1,
        "a history read answers the stream"
    );
    assert!(nothing_pending[0].1.is_empty());

    // Acknowledging.
    assert_eq!(
        call!(s, xack / axack("q", "g", &[ids[0], id(1, 1)])).expect("xack"),
        1
    );
    assert_eq!(
        call!(s, xack / axack("q", "g", &[ids[0]])).expect("xack"),
        0
    );
    assert_eq!(
        call!(s, xack / axack("q", "nogroup", &[ids[1]])).expect("xack"),
        0
    );

    // Claims: explicit, then automatic.
    let claimed = call!(
        s,
        xclaim
            / axclaim::<i64>(
                "q",
                "g",
                "bob",
                Duration::ZERO,
                &[ids[1], id(1, 1)],
                ClaimOptions::default()
            )
    )
    .expect("xclaim");
    assert_eq!(numbers(&claimed), [2]);
    assert!(
        call!(
            s,
            xclaim
                / axclaim::<i64>(
                    "q",
                    "g",
                    "carol",
                    Duration::from_secs(3600),
                    &[ids[1]],
                    ClaimOptions::default()
                )
        )
        .expect("xclaim")
        .is_empty(),
        "not idle long enough"
    );
    let retried = ClaimOptions {
        retry_count: Some(7),
        ..ClaimOptions::default()
    };
    call!(
        s,
        xclaim / axclaim::<i64>("q", "g", "bob", Duration::ZERO, &[ids[1]], retried)
    )
    .expect("xclaim");
    let listed = call!(
        s,
        xpending_range / axpending_range("q", "g", PendingRange::first(10))
    )
    .expect("xpending");
    let owners: Vec<(StreamId, &str, u64)> = listed
        .iter()
        .map(|entry| (entry.id, entry.consumer.as_str(), entry.deliveries))
        .collect();
    assert_eq!(owners, [(ids[1], "bob", 7), (ids[2], "bob", 1)]);
    let auto = call!(
        s,
        xautoclaim / axautoclaim::<i64>("q", "g", "carol", Duration::ZERO, StreamId::MIN, Some(1))
    )
    .expect("xautoclaim");
    assert_eq!(numbers(&auto.claimed), [2]);
    assert_eq!(auto.next, ids[2]);
    assert!(auto.deleted.is_empty());
    call!(s, xdel / axdel("q", &[ids[2]])).expect("xdel");
    let auto = call!(
        s,
        xautoclaim / axautoclaim::<i64>("q", "g", "carol", Duration::ZERO, auto.next, None)
    )
    .expect("xautoclaim");
    assert!(auto.claimed.is_empty());
    assert_eq!(
        auto.deleted,
        [ids[2]],
        "a deleted entry leaves the pending list"
    );
    assert_eq!(auto.next, StreamId::MIN, "the scan is complete");
    assert_eq!(
        call!(s, xpending / axpending("q", "g"))
            .expect("xpending")
            .consumers,
        [("carol".to_owned(), 1)]
    );

    // NOACK reads leave nothing pending; SETID rewinds the group.
    call!(
        s,
        xgroup_setid / axgroup_setid("q", "late", ReadFrom::START)
    )
    .expect("setid");
    let noack = ReadOptions {
        noack: true,
        ..ReadOptions::default()
    };
    let read = call!(
        s,
        xreadgroup / axreadgroup::<i64>("late", "dave", &[("q", ReadFrom::Undelivered)], noack)
    )
    .expect("xreadgroup");
    assert_eq!(numbers(&read[0].1), [1, 2]);
    assert_eq!(
        call!(s, xpending / axpending("q", "late"))
            .expect("xpending")
            .count,
        0
    );

    // Removing consumers and groups.
    assert_eq!(
        call!(
            s,
            xgroup_delconsumer / axgroup_delconsumer("q", "g", "carol")
        )
        .expect("delconsumer"),
        1
    );
    assert_eq!(
        call!(
            s,
            xgroup_delconsumer / axgroup_delconsumer("q", "g", "nobody")
        )
        .expect("delconsumer"),
        0
    );
    assert!(call!(s, xgroup_destroy / axgroup_destroy("q", "late")).expect("destroy"));
    assert!(!call!(s, xgroup_destroy / axgroup_destroy("q", "late")).expect("destroy"));

    // Missing groups and streams: NOGROUP, named by the caller's key.
    assert!(matches!(
        call!(s, xreadgroup / axreadgroup::<i64>("late", "x", &[("q", ReadFrom::Undelivered)], ReadOptions::default())),
        Err(Error::NoGroup { ref key, .. }) if key == "q"
    ));
    assert!(matches!(
        call!(
            s,
            xreadgroup
                / axreadgroup::<i64>(
                    "g",
                    "x",
                    &[("nostream", ReadFrom::Undelivered)],
                    ReadOptions::default()
                )
        ),
        Err(Error::NoGroup { .. })
    ));
    assert!(matches!(
        call!(s, xpending / axpending("q", "late")),
        Err(Error::NoGroup { .. })
    ));
    assert!(matches!(
        call!(s, xinfo_consumers / axinfo_consumers("q", "late")),
        Err(Error::NoGroup { .. })
    ));
    assert!(matches!(
        call!(
            s,
            xgroup_setid / axgroup_setid("q", "late", ReadFrom::START)
        ),
        Err(Error::NoGroup { .. })
    ));
    assert!(matches!(
        call!(
            s,
            xreadgroup
                / axreadgroup::<i64>("g", "x", &[("q", ReadFrom::Latest)], ReadOptions::default())
        ),
        Err(Error::InvalidArgument { .. })
    ));
}

pub(crate) async fn blocking_group_reads(s: &Subject) {
    call!(
        s,
        xgroup_create / axgroup_create("w", "g", ReadFrom::Latest, true)
    )
    .expect("create");
    let short = ReadOptions {
        block: Block::For(SHORT),
        ..ReadOptions::default()
    };
    assert!(
        call!(
            s,
            xreadgroup / axreadgroup::<i64>("g", "c", &[("w", ReadFrom::Undelivered)], short)
        )
        .expect("xreadgroup")
        .is_empty(),
        "times out"
    );
    let (writer, long) = add_later(s, "w", 7);
    let woken = call!(
        s,
        xreadgroup / axreadgroup::<i64>("g", "c", &[("w", ReadFrom::Undelivered)], long)
    )
    .expect("xreadgroup");
    writer.await.expect("no panic");
    assert_eq!(numbers(&woken[0].1), [7]);
    assert_eq!(
        call!(s, xpending / axpending("w", "g"))
            .expect("xpending")
            .count,
        1
    );
    assert!(matches!(
        call!(
            s,
            xreadgroup / axreadgroup::<i64>("nogroup", "c", &[("w", ReadFrom::Undelivered)], short)
        ),
        Err(Error::NoGroup { .. })
    ));
}
