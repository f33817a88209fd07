//! `Pipeline::aexecute_if`, the in-memory compare-and-swap `cachex-admin` uses: concurrent
//! read-modify-write loops lose no update (a write between another's check and its apply
//! would), and a server refuses it as unsupported (the admin uses a script there).

use cachex::prelude::*;
use cachex::{Cache, Error, RawData};
use cachex_tests::{ServerKind, shared};
use std::sync::Arc;
use tokio::sync::Barrier;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Increments `key` by a compare-and-swap loop: read, compute, apply if unchanged; the
/// first read waits at `barrier` for every other task's first read, so that they all try
/// to apply over the same value once. How many attempts conflicted.
async fn increment(
    cache: Cache,
    key: &'static str,
    times: u32,
    barrier: Arc<Barrier>,
) -> Result<u32, Error> {
    let mut conflicts = 0;
    let mut first = true;
    for _ in 0..times {
        loop {
            let seen = cache.core().raw(key)?;
            if std::mem::take(&mut first) {
                barrier.wait().await;
            }
            let now: i64 = match &seen {
                Some(RawData::String(bytes)) => String::from_utf8_lossy(bytes).parse().unwrap_or(0),
                _ => 0,
            };
            let next = now + 1;
            let mut tx = cache.transaction();
            let _stored = tx.set(key, &next, Timeout::Never);
            if tx
                .aexecute_if(key, |current| current == seen.as_ref())
                .await?
                .is_some()
            {
                break;
            }
            conflicts += 1;
        }
    }
    Ok(conflicts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_compare_and_swap_loses_no_update() -> TestResult {
    let cache = Cache::in_memory();
    cache.aset("n", &0, Timeout::Never).await?;
    let barrier = Arc::new(Barrier::new(4));
    let tasks: Vec<_> = (0..4)
        .map(|_| tokio::spawn(increment(cache.clone(), "n", 500, barrier.clone())))
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await??;
    }
    assert_eq!(cache.aget::<i64>("n").await?, Some(2000));
    // The loops did contend: the four first attempts read the same value, so at least three
    // of them conflicted (and were retried, losing nothing).
    assert!(conflicts >= 3, "{conflicts} conflicts");
    Ok(())
}

#[tokio::test]
async fn a_refused_check_runs_nothing() -> TestResult {
    let cache = Cache::in_memory();
    cache.ahset("h", "a", &1).await?;
    let mut tx = cache.transaction();
    let _set = tx.hset("h", "b", &2);
    let _deleted = tx.hdel("h", &["a"]);
    assert!(tx.aexecute_if("h", |_| false).await?.is_none());
    assert_eq!(cache.ahkeys("h").await?, ["a"]);
    assert_eq!(
        cache.core().raw("h")?,
        Some(RawData::Hash(vec![(b"a".to_vec(), b"1".to_vec())]))
    );
    assert_eq!(cache.core().raw("missing")?, None);
    Ok(())
}

#[tokio::test]
async fn servers_refuse_it() -> TestResult {
    let cache = Cache::from_url(&shared(ServerKind::Redis).url())?;
    assert!(matches!(
        cache.core().raw("k"),
        Err(Error::Unsupported { .. })
    ));
    let mut tx = cache.transaction();
    let _stored = tx.set("k", &1, Timeout::Never);
    assert!(matches!(
        tx.aexecute_if("k", |_| true).await,
        Err(Error::Unsupported { .. })
    ));
    Ok(())
}
