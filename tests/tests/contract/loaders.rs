//! Fallible loaders (`try_get_or_set`, `atry_get_or_set_with`, `try_get_or_set_early`): a
//! loader's error is returned as `LoadError::Loader` and never stored, the next call loads
//! again, concurrent misses share one failed load, and the cache's own errors are
//! `LoadError::Cache`.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cachex::prelude::*;
use cachex::{Error, LoadError};

use super::{Backend, PAST_EXPIRY, Spelling, Subject, sleep};

type Loaded<V> = Result<V, LoadError<io::Error>>;

/// A loader that counts its runs and fails as a database that is down would.
fn failing(runs: &AtomicUsize) -> impl FnOnce() -> Result<u32, io::Error> + Send + '_ {
    || {
        runs.fetch_add(1, Ordering::SeqCst);
        Err(io::Error::other("the database is down"))
    }
}

fn assert_loader_error<V: std::fmt::Debug>(loaded: Loaded<V>) {
    match loaded {
        Err(LoadError::Loader(error)) => assert_eq!(error.to_string(), "the database is down"),
        other => panic!("expected the loader's error, got {other:?}"),
    }
}

pub(crate) async fn try_get_or_set(s: &Subject) {
    let runs = AtomicUsize::new(0);
    assert_loader_error(call!(
        s,
        try_get_or_set / atry_get_or_set("k", failing(&runs), Timeout::Default)
    ));
    assert!(
        !call!(s, has_key / ahas_key("k")).expect("has_key"),
        "an error is never stored"
    );
    assert_loader_error(call!(
        s,
        try_get_or_set / atry_get_or_set("k", failing(&runs), Timeout::Default)
    ));
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the next call loads again");
    let loaded: Loaded<u32> = call!(
        s,
        try_get_or_set / atry_get_or_set("k", || Ok(7), Timeout::Default)
    );
    assert_eq!(loaded.expect("loaded"), 7);
    assert_eq!(call!(s, get / aget::<u32>("k")).expect("get"), Some(7));
    let hit = call!(
        s,
        try_get_or_set / atry_get_or_set("k", failing(&runs), Timeout::Default)
    );
    assert_eq!(hit.expect("a hit"), 7);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "a hit does not load");

    // An async loader, on the async side.
    let loaded: Loaded<u32> = s
        .cache
        .atry_get_or_set_with(
            "async",
            || async { Err(io::Error::other("the database is down")) },
            Timeout::Default,
        )
        .await;
    assert_loader_error(loaded);
    assert!(!call!(s, has_key / ahas_key("async")).expect("has_key"));
    let loaded: Loaded<u32> = s
        .cache
        .atry_get_or_set_with("async", || async { Ok(8) }, Timeout::Default)
        .await;
    assert_eq!(loaded.expect("loaded"), 8);

    // The cache's own errors are the cache's, and the loader does not run.
    call!(s, hset / ahset("hash", "f", &1)).expect("hset");
    match call!(
        s,
        try_get_or_set / atry_get_or_set("hash", failing(&runs), Timeout::Default)
    ) {
        Err(LoadError::Cache(Error::WrongType { key, .. })) => assert_eq!(key, "hash"),
        other => panic!("expected the cache's WrongType, got {other:?}"),
    }
    call!(s, set / aset("text", "not a number", Timeout::Default)).expect("set");
    assert!(matches!(
        call!(
            s,
            try_get_or_set / atry_get_or_set("text", failing(&runs), Timeout::Default)
        ),
        Err(LoadError::Cache(Error::Decode { .. }))
    ));
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    if s.backend == Backend::Redis {
        // A server that is not there, without fail_open: the cache's Connection error.
        let dead = Cache::from_url("redis://127.0.0.1:1/0").expect("a cache");
        assert!(matches!(
            dead.try_get_or_set("k", failing(&runs), Timeout::Default),
            Err(LoadError::Cache(Error::Connection { .. }))
        ));
        assert!(matches!(
            dead.atry_get_or_set("k", failing(&runs), Timeout::Default)
                .await,
            Err(LoadError::Cache(Error::Connection { .. }))
        ));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}

/// How many callers each concurrency test starts.
const CALLERS: usize = 16;

/// What the first loader of a concurrency test waits for before failing: every caller has
/// called, and then had the time of many round trips to join the load.
fn everyone_called(called: &AtomicUsize) -> bool {
    called.load(Ordering::SeqCst) == CALLERS
}

/// Every caller got the one loader's error: the same `Arc`, from one run.
fn assert_one_shared_failure(results: Vec<Loaded<u32>>, runs: &AtomicUsize) {
    let errors: Vec<Arc<io::Error>> = results
        .into_iter()
        .map(|result| match result {
            Err(LoadError::Loader(error)) => error,
            other => panic!("expected the loader's error, got {other:?}"),
        })
        .collect();
    assert_eq!(errors.len(), CALLERS);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the loader ran once for all"
    );
    assert!(
        errors.iter().all(|error| Arc::ptr_eq(error, &errors[0])),
        "every caller got the loader's own error"
    );
}

pub(crate) async fn try_get_or_set_single_flight(s: &Subject) {
    // Tasks with an async loader.
    let runs = Arc::new(AtomicUsize::new(0));
    let called = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (cache, runs, called) = (s.cache.clone(), runs.clone(), called.clone());
            tokio::spawn(async move {
                called.fetch_add(1, Ordering::SeqCst);
                let loader = || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    while !everyone_called(&called) {
                        sleep(Duration::from_millis(1)).await;
                    }
                    sleep(PAST_EXPIRY).await;
                    Err(io::Error::other("the database is down"))
                };
                cache
                    .atry_get_or_set_with("tasks", loader, Timeout::Default)
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("no panic"));
    }
    assert_one_shared_failure(results, &runs);
    assert!(!call!(s, has_key / ahas_key("tasks")).expect("has_key"));

    // Threads with a blocking loader.
    let (runs, called) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let results = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..CALLERS)
            .map(|_| {
                scope.spawn(|| {
                    called.fetch_add(1, Ordering::SeqCst);
                    let loader = || {
                        runs.fetch_add(1, Ordering::SeqCst);
                        while !everyone_called(&called) {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        std::thread::sleep(PAST_EXPIRY);
                        Err(io::Error::other("the database is down"))
                    };
                    s.cache.try_get_or_set("threads", loader, Timeout::Default)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().expect("no panic"))
            .collect()
    });
    assert_one_shared_failure(results, &runs);
    assert!(!call!(s, has_key / ahas_key("threads")).expect("has_key"));
}

pub(crate) async fn try_get_or_set_early(s: &Subject) {
    let runs = AtomicUsize::new(0);
    let minute = Timeout::After(Duration::from_secs(60));
    assert_loader_error(call!(
        s,
        try_get_or_set_early / atry_get_or_set_early("k", failing(&runs), minute, 1.0)
    ));
    assert!(
        !call!(s, has_key / ahas_key("k")).expect("has_key"),
        "an error is never stored"
    );
    let slow = || {
        std::thread::sleep(Duration::from_millis(5));
        Ok(1)
    };
    let loaded: Loaded<u32> = call!(
        s,
        try_get_or_set_early / atry_get_or_set_early("k", slow, minute, 1.0)
    );
    assert_eq!(loaded.expect("loaded"), 1);
    // A huge beta always recomputes early; a failed recomputation keeps the current value.
    let kept = call!(
        s,
        try_get_or_set_early / atry_get_or_set_early("k", failing(&runs), minute, 1e12)
    );
    assert_eq!(kept.expect("the current value"), 1);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "the early recomputation ran"
    );
    assert_eq!(call!(s, get / aget::<u32>("k")).expect("get"), Some(1));
    assert!(matches!(
        call!(
            s,
            try_get_or_set_early / atry_get_or_set_early("k", failing(&runs), minute, -1.0)
        ),
        Err(LoadError::Cache(Error::InvalidArgument { .. }))
    ));
}
