//! Pipelines, transactions and scripts: typed results, each operation's own error, atomicity
//! under concurrent writers and readers, the cluster's split by slot and its refusal of a
//! transaction over several slots, scripts by SHA with the fallback after `SCRIPT FLUSH`.

use std::collections::HashMap;

use cachex::prelude::*;
use cachex::{Decoded, Error, Pipeline, Replies, Script, ScriptArg, ScriptReply, Ttl};

use super::{Backend, Spelling, Subject};

/// Runs a pipeline on the subject's surface: `execute()` for the blocking spellings,
/// `aexecute().await` for the async ones.
async fn execute(s: &Subject, pipe: Pipeline<'_>) -> cachex::Result<Replies> {
    match s.spelling {
        Spelling::Blocking | Spelling::HandleSync => pipe.execute(),
        Spelling::Prefixed | Spelling::View | Spelling::HandleAsync => pipe.aexecute().await,
    }
}

pub(crate) async fn pipeline_typed_results(s: &Subject) {
    let cache = &s.cache;
    let mut pipe = cache.pipeline();
    assert!(pipe.is_empty());
    let set = pipe.set("name", "Ada", Timeout::Never);
    let tagged = pipe.set("{m}1", "Ada", Timeout::Never);
    let name = pipe.get::<String>("name");
    let missing = pipe.get::<String>("missing");
    let created = pipe.incr_or_create("count", 5, Timeout::Never);
    let counted = pipe.incr("count", 2);
    let hset = pipe.hset("h", "f", &1.5);
    let hash = pipe.hgetall::<f64>("h");
    let pushed = pipe.rpush("l", &["a", "b", "c"]);
    let range = pipe.lrange::<String>("l", 0, -1);
    let zadd = pipe.zadd("z", &[("x", 2.0), ("y", 1.0)]);
    let scored = pipe.zrange_with_scores::<String>("z", 0, -1);
    let ttl = pipe.ttl("name");
    let many = pipe.get_many::<String>(&["{m}1", "{m}2"]);
    let added = pipe.add("name", "other", Timeout::Never);
    let deleted = pipe.delete("missing");
    assert_eq!(pipe.len(), 16);
    // Nothing was sent yet.
    assert_eq!(cache.get::<String>("name").expect("get"), None);
    let mut replies = execute(s, pipe).await.expect("execute");
    assert_eq!(replies.len(), 16);
    replies.take(set).expect("set");
    replies.take(tagged).expect("set");
    assert_eq!(replies.take(name).expect("get").as_deref(), Some("Ada"));
    assert_eq!(replies.take(missing).expect("get"), None);
    assert_eq!(replies.take(created).expect("incr_or_create"), 5);
    assert_eq!(replies.take(counted).expect("incr"), 7);
    assert!(replies.take(hset).expect("hset"));
    assert_eq!(
        replies.take(hash).expect("hgetall"),
        HashMap::from([("f".to_owned(), 1.5)])
    );
    assert_eq!(replies.take(pushed).expect("rpush"), 3);
    assert_eq!(replies.take(range).expect("lrange"), ["a", "b", "c"]);
    assert_eq!(replies.take(zadd).expect("zadd"), 2);
    assert_eq!(
        replies.take(scored).expect("zrange"),
        [("y".to_owned(), 1.0), ("x".to_owned(), 2.0)]
    );
    assert_eq!(replies.take(ttl).expect("ttl"), Ttl::Persistent);
    assert_eq!(
        replies.take(many).expect("get_many"),
        HashMap::from([("{m}1".to_owned(), "Ada".to_owned())])
    );
    assert!(!replies.take(added).expect("add"));
    assert!(!replies.take(deleted).expect("delete"));
    // What the pipeline wrote, read directly.
    assert_eq!(cache.get::<i64>("count").expect("get"), Some(7));

    // A handle of another pipeline is refused; an empty pipeline runs.
    let mut other = cache.pipeline();
    let foreign = other.get::<String>("name");
    let mut empty = execute(s, cache.pipeline()).await.expect("empty");
    assert!(empty.is_empty());
    assert!(matches!(
        empty.take(foreign),
        Err(Error::InvalidArgument { .. })
    ));
    drop(other);

    // The further operations and streams queue as the others do (one row each); what they
    // borrow lives longer than the pipeline.
    let grace = "Grace".to_owned();
    let fields = [("a", 1), ("b", 2)];
    let entry = [("field", "value")];
    let mut pipe = cache.pipeline();
    let swapped = pipe.set_with(
        "name",
        &grace,
        Timeout::Never,
        cachex::SetOptions::new().get(),
    );
    let many_fields = pipe.hset_many("h2", &fields);
    let popped = pipe.lpop_count::<String>("l", 2);
    let position = pipe.lpos("l", "c", None, None);
    let flagged = pipe.zadd_with("z", &[("x", 5.0)], cachex::ZaddOptions::new().gt().ch());
    let scores = pipe.zmscore("z", &["x", "none"]);
    let added = pipe.xadd("s", &entry, cachex::stream::XaddOptions::default());
    let length = pipe.xlen("s");
    let mut replies = execute(s, pipe).await.expect("execute");
    let outcome = replies.take(swapped).expect("set_with");
    assert!(outcome.stored);
    assert_eq!(outcome.previous.as_deref(), Some("Ada"));
    assert_eq!(replies.take(many_fields).expect("hset_many"), 2);
    assert_eq!(replies.take(popped).expect("lpop_count"), ["a", "b"]);
    assert_eq!(replies.take(position).expect("lpos"), Some(0));
    assert_eq!(replies.take(flagged).expect("zadd_with"), 1);
    assert_eq!(replies.take(scores).expect("zmscore"), [Some(5.0), None]);
    assert!(replies.take(added).expect("xadd").is_some());
    assert_eq!(replies.take(length).expect("xlen"), 1);
}

pub(crate) async fn pipeline_errors_are_each_operations_own(s: &Subject) {
    let cache = &s.cache;
    cache
        .set("{e}text", "not a list", Timeout::Never)
        .expect("set");
    // Arguments are borrowed until the pipeline runs: declared before it.
    let nan = [("m", f64::NAN)];
    for transaction in [false, true] {
        let mut pipe = if transaction {
            cache.transaction()
        } else {
            cache.pipeline()
        };
        let before = pipe.set("{e}before", &1, Timeout::Never);
        let wrong_type = pipe.lpush("{e}text", &["x"]);
        let not_found = pipe.incr("{e}missing", 1);
        let undecodable = pipe.get::<i64>("{e}text");
        let invalid = pipe.zadd("{e}z", &nan);
        let after = pipe.incr_or_create("{e}after", 1, Timeout::Never);
        let mut replies = execute(s, pipe).await.expect("the whole runs");
        replies.take(before).expect("set");
        let err = replies
            .take(wrong_type)
            .expect_err("a string is not a list");
        assert!(
            matches!(&err, Error::WrongType { key, .. } if key == "{e}text"),
            "{err:?}"
        );
        assert!(
            matches!(replies.take(not_found), Err(Error::NotFound { key }) if key == "{e}missing")
        );
        assert!(
            matches!(replies.take(undecodable), Err(Error::Decode { .. })),
            "a string read as an integer"
        );
        assert!(
            matches!(replies.take(invalid), Err(Error::InvalidArgument { .. })),
            "a NaN score fails before any I/O"
        );
        assert!(replies.take(after).expect("incr_or_create") >= 1);
    }
    assert_eq!(cache.get::<i64>("{e}after").expect("get"), Some(2));
}

/// Writers each push their number twice in one transaction while readers read two counters a
/// transaction moves together: the list holds pairs only, and no reader sees the counters
/// apart. Writers and readers run as tasks and on threads (both surfaces).
pub(crate) async fn transactions_are_atomic(s: &Subject) {
    const WRITERS: usize = 6;
    const ROUNDS: usize = 20;
    let cache = s.cache.clone();
    async fn round(cache: &Cache, writer: usize, blocking: bool) {
        // Padded, so that a transaction spans several of a server's reads (16 KiB each on
        // Redis): a plain pipeline could then be interleaved with other clients' commands.
        let number = [(writer, "x".repeat(20_000))];
        let mut tx = cache.transaction();
        let first = tx.rpush("{t}log", &number);
        let second = tx.rpush("{t}log", &number);
        let a = tx.incr_or_create("{t}a", 1, Timeout::Never);
        let b = tx.incr_or_create("{t}b", 1, Timeout::Never);
        let mut replies = if blocking {
            tx.execute()
        } else {
            tx.aexecute().await
        }
        .expect("transaction");
        let (first, second) = (
            replies.take(first).expect("rpush"),
            replies.take(second).expect("rpush"),
        );
        assert_eq!(second, first + 1, "nothing came between the two pushes");
        assert_eq!(
            replies.take(a).expect("a"),
            replies.take(b).expect("b"),
            "the counters moved together"
        );
    }
    async fn look(cache: &Cache) {
        let mut tx = cache.transaction();
        let a = tx.get::<i64>("{t}a");
        let b = tx.get::<i64>("{t}b");
        let mut replies = tx.aexecute().await.expect("read");
        assert_eq!(replies.take(a).expect("a"), replies.take(b).expect("b"));
    }
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let cache = cache.clone();
        if writer % 2 == 0 {
            tasks.push(tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    round(&cache, writer, false).await;
                    look(&cache).await;
                }
            }));
        } else {
            tasks.push(tokio::task::spawn_blocking(move || {
                for _ in 0..ROUNDS {
                    futures::executor::block_on(round(&cache, writer, true));
                }
            }));
        }
    }
    for task in tasks {
        task.await.expect("a writer");
    }
    let log = s
        .cache
        .lrange::<(usize, String)>("{t}log", 0, -1)
        .expect("lrange");
    let log: Vec<usize> = log.into_iter().map(|(writer, _)| writer).collect();
    assert_eq!(log.len(), WRITERS * ROUNDS * 2);
    for pair in log.chunks(2) {
        assert_eq!(
            pair[0], pair[1],
            "a transaction's two pushes are adjacent: {log:?}"
        );
    }
    let total = i64::try_from(WRITERS * ROUNDS).expect("small");
    assert_eq!(s.cache.get::<i64>("{t}a").expect("a"), Some(total));
}

/// A pipeline over keys on every slot comes back in order (a cluster splits it by slot and
/// sends the parts concurrently); a transaction over several slots is refused on a cluster
/// and runs elsewhere; one over a hash tag runs everywhere.
pub(crate) async fn pipelines_across_slots(s: &Subject) {
    let cache = &s.cache;
    let keys: Vec<String> = (0..64).map(|i| format!("spread:{i}")).collect();
    let numbers: Vec<usize> = (0..keys.len()).collect();
    let mut pipe = cache.pipeline();
    let sets: Vec<_> = keys
        .iter()
        .zip(&numbers)
        .map(|(key, i)| pipe.set(key, i, Timeout::Never))
        .collect();
    let gets: Vec<_> = keys.iter().map(|key| pipe.get::<usize>(key)).collect();
    let counters: Vec<_> = keys.iter().map(|key| pipe.incr(key, 1)).collect();
    let mut replies = execute(s, pipe).await.expect("pipeline");
    for set in sets {
        replies.take(set).expect("set");
    }
    for (i, get) in gets.into_iter().enumerate() {
        assert_eq!(replies.take(get).expect("get"), Some(i), "in order");
    }
    for (i, counter) in counters.into_iter().enumerate() {
        assert_eq!(replies.take(counter).expect("incr"), i as i64 + 1);
    }
    // A command of a pipeline on keys of several slots: its own error on a cluster (a
    // pipeline's commands go as they are, each to its first key's node).
    let mut pipe = cache.pipeline();
    let spread = pipe.get_many::<i64>(&["spread:1", "spread:2"]);
    let single = pipe.get::<i64>("spread:3");
    let mut replies = execute(s, pipe).await.expect("pipeline");
    assert_eq!(replies.take(single).expect("get"), Some(4));
    match (s.backend, replies.take(spread)) {
        (Backend::Cluster, Err(Error::Unsupported { .. })) => {}
        (Backend::Cluster, other) => panic!("a cross-slot MGET in a pipeline: {other:?}"),
        (_, found) => assert_eq!(found.expect("get_many").len(), 2),
    }

    let mut tx = cache.transaction();
    let first = tx.set("apart:1", &1, Timeout::Never);
    let second = tx.set("apart:2", &2, Timeout::Never);
    let outcome = execute(s, tx).await;
    if s.backend == Backend::Cluster {
        let err = outcome.expect_err("a transaction over several slots");
        assert!(
            matches!(&err, Error::Unsupported { reason, .. } if reason.contains("hash tag")),
            "{err:?}"
        );
        assert_eq!(
            cache.get::<i64>("apart:1").expect("get"),
            None,
            "nothing sent"
        );
    } else {
        let mut replies = outcome.expect("one server: any keys");
        replies.take(first).expect("set");
        replies.take(second).expect("set");
    }
    let mut tx = cache.transaction();
    let first = tx.set("{tag}1", &1, Timeout::Never);
    let moved = tx.rename("{tag}1", "{tag}2");
    let read = tx.get::<i64>("{tag}2");
    let mut replies = execute(s, tx).await.expect("one slot");
    replies.take(first).expect("set");
    replies.take(moved).expect("rename");
    assert_eq!(replies.take(read).expect("get"), Some(1));
}

const SWAP: &str = "local old = redis.call('GET', KEYS[1]) \
                    redis.call('SET', KEYS[1], ARGV[1]) \
                    return old";

/// Scripts: keys through the prefix, values through the codec, typed replies, the fallback to
/// the source after `SCRIPT FLUSH`, refused in memory; queued in a pipeline too.
pub(crate) async fn scripts(s: &Subject) {
    let cache = &s.cache;
    let swap = Script::new(SWAP);
    let count = Script::new("return #KEYS + #ARGV");
    let first: cachex::Result<Option<Decoded<String>>> = match s.spelling {
        Spelling::Blocking | Spelling::HandleSync => {
            cache.eval_script(&swap, &["{s}k"], &[ScriptArg::value("one")])
        }
        _ => {
            cache
                .aeval_script(&swap, &["{s}k"], &[ScriptArg::value("one")])
                .await
        }
    };
    if s.backend == Backend::Memory {
        assert!(matches!(first, Err(Error::Unsupported { .. })), "{first:?}");
        return;
    }
    assert_eq!(first.expect("eval"), None);
    // The key went through the prefix and the value through the codec: `get` reads it.
    assert_eq!(
        cache.get::<String>("{s}k").expect("get").as_deref(),
        Some("one")
    );
    let old: Option<Decoded<String>> = cache
        .aeval_script(&swap, &["{s}k"], &[ScriptArg::value("two")])
        .await
        .expect("eval");
    assert_eq!(old, Some(Decoded("one".to_owned())));
    let counted: i64 = cache
        .aeval_script(&count, &["{s}a", "{s}b"], &[ScriptArg::raw("x"), 7.into()])
        .await
        .expect("eval");
    assert_eq!(counted, 4);
    let raw: ScriptReply = cache
        .aeval_script(&Script::new("return {1, 'two', false}"), &[], &[])
        .await
        .expect("eval");
    assert_eq!(
        raw,
        ScriptReply::Array(vec![
            ScriptReply::Int(1),
            ScriptReply::Data(b"two".to_vec()),
            ScriptReply::Nil
        ])
    );
    // The server forgets its scripts: the call loads it and runs it once.
    flush_scripts(s);
    let old: Option<Decoded<String>> = cache
        .aeval_script(&swap, &["{s}k"], &[ScriptArg::value("three")])
        .await
        .expect("eval after SCRIPT FLUSH");
    assert_eq!(old, Some(Decoded("two".to_owned())));
    assert_eq!(
        cache.get::<String>("{s}k").expect("get").as_deref(),
        Some("three")
    );
    // A script error is the call's own error.
    let failed = cache
        .aeval_script::<()>(&Script::new("return redis.error_reply('boom')"), &[], &[])
        .await;
    assert!(failed.is_err());
    // In a pipeline (sent with its source), with `incr` (a script of the table).
    flush_scripts(s);
    let args = [ScriptArg::value("four")];
    let mut pipe = cache.transaction();
    let swapped = pipe.eval_script::<Option<Decoded<String>>>(&swap, &["{s}k"], &args);
    let counter = pipe.incr_or_create("{s}n", 3, Timeout::Never);
    let mut replies = execute(s, pipe).await.expect("pipeline");
    assert_eq!(
        replies.take(swapped).expect("eval"),
        Some(Decoded("three".to_owned()))
    );
    assert_eq!(replies.take(counter).expect("incr"), 3);
    // On a cluster, a script's keys must share a slot.
    if s.backend == Backend::Cluster {
        let spread = cache
            .aeval_script::<i64>(&count, &["apart:1", "apart:2"], &[])
            .await;
        assert!(spread.is_err(), "keys on two slots");
    }
}

/// `SCRIPT FLUSH` on every server of the backend.
fn flush_scripts(s: &Subject) {
    match s.backend {
        Backend::Memory => {}
        Backend::Redis | Backend::Valkey | Backend::Valkey9 => {
            let kind = match s.backend {
                Backend::Redis => cachex_tests::ServerKind::Redis,
                Backend::Valkey => cachex_tests::ServerKind::Valkey,
                _ => cachex_tests::ServerKind::Valkey9,
            };
            cachex_tests::shared(kind).command(&["SCRIPT", "FLUSH"]);
        }
        Backend::Cluster => {
            for node in cachex_tests::shared_cluster().nodes() {
                node.command(&["SCRIPT", "FLUSH"]);
            }
        }
        Backend::Sentinel => {
            for node in cachex_tests::shared_sentinel().data_nodes() {
                node.command(&["SCRIPT", "FLUSH"]);
            }
        }
    }
}
