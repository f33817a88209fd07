//! `#[cached]` functions on the in-memory cache and a real Redis: a hit does not run the body,
//! results expire after their TTL, the `key` option replaces the arguments, an `Err` is never
//! stored, concurrent misses run the body once, and both forms run where they are called (an
//! `async fn` on a runtime; a blocking `fn` from a plain thread and inside runtimes).
//!
//! Each memoized function counts the runs of its body, and takes the backend as its first
//! argument: `cache = backend.cache()` picks the cache, and the backend is part of the key.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, LazyLock};
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{Ttl, cached};
use cachex_tests::{ServerKind, shared};

#[derive(Clone, Copy, Debug, serde::Serialize)]
enum Backend {
    Memory,
    Redis,
}

const BACKENDS: [Backend; 2] = [Backend::Memory, Backend::Redis];

fn prefix() -> String {
    format!("cached-fn-{}", std::process::id())
}

static MEMORY: LazyLock<Cache> =
    LazyLock::new(|| Cache::builder().prefix(prefix()).build().expect("a cache"));
static REDIS: LazyLock<Cache> = LazyLock::new(|| {
    let url = format!("{}?prefix={}", shared(ServerKind::Redis).url(), prefix());
    Cache::from_url(&url).expect("a cache")
});

impl Backend {
    fn cache(self) -> &'static Cache {
        match self {
            Backend::Memory => &MEMORY,
            Backend::Redis => &REDIS,
        }
    }
}

/// The runs of one function's body.
struct Calls(AtomicUsize);

impl Calls {
    const fn new() -> Self {
        Calls(AtomicUsize::new(0))
    }

    fn count(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

static SQUARES: Calls = Calls::new();

#[cached(cache = backend.cache(), ttl = 60)]
fn square(backend: Backend, n: u64) -> u64 {
    SQUARES.count();
    n * n
}

#[test]
fn a_hit_does_not_run_the_body() {
    for backend in BACKENDS {
        let before = SQUARES.get();
        assert_eq!(square(backend, 3).expect("a call"), 9);
        assert_eq!(
            SQUARES.get(),
            before + 1,
            "{backend:?}: a miss runs the body"
        );
        assert_eq!(square(backend, 3).expect("a call"), 9);
        assert_eq!(SQUARES.get(), before + 1, "{backend:?}: a hit does not");
        assert_eq!(square(backend, 4).expect("a call"), 16);
        assert_eq!(
            SQUARES.get(),
            before + 2,
            "{backend:?}: other arguments, another key"
        );

        // The key: the function's path, then the arguments as JSON; kept for `ttl`.
        let key = format!("cached_fn::square:[\"{backend:?}\",3]");
        assert_eq!(backend.cache().get::<u64>(&key).expect("a get"), Some(9));
        match backend.cache().ttl(&key).expect("a ttl") {
            Ttl::Expires(left) => assert!(left <= Duration::from_secs(60), "{left:?}"),
            other => panic!("{backend:?}: expected an expiry, got {other:?}"),
        }
    }
}

static SHORT_LIVED: Calls = Calls::new();

#[cached(cache = backend.cache(), ttl = Duration::from_millis(300))]
fn short_lived(backend: Backend, label: String) -> String {
    SHORT_LIVED.count();
    label.to_uppercase()
}

#[test]
fn a_result_expires_after_its_ttl() {
    for backend in BACKENDS {
        let before = SHORT_LIVED.get();
        assert_eq!(short_lived(backend, "a b".into()).expect("a call"), "A B");
        // A space in an argument is escaped: the key holds none (no key warning).
        let key =
            "cached_fn::short_lived:[\"".to_owned() + &format!("{backend:?}") + "\",\"a\\u0020b\"]";
        assert_eq!(
            backend
                .cache()
                .get::<String>(&key)
                .expect("a get")
                .as_deref(),
            Some("A B")
        );
        // Expiry is awaited, not timed: the body runs again once the key is gone.
        let deadline = Instant::now() + Duration::from_secs(30);
        while backend.cache().has_key(&key).expect("has_key") {
            assert!(
                Instant::now() < deadline,
                "{backend:?}: the key never expired"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(short_lived(backend, "a b".into()).expect("a call"), "A B");
        assert_eq!(
            SHORT_LIVED.get(),
            before + 2,
            "{backend:?}: expired, computed again"
        );
    }
}

static BY_ID: Calls = Calls::new();

/// The key is the id only: the request's other fields do not make another entry.
#[cached(cache = backend.cache(), key = format!("{backend:?}/{id}"))]
fn user_name(backend: Backend, id: u32, request_id: u64) -> String {
    BY_ID.count();
    format!("user {id} (first asked by request {request_id})")
}

#[test]
fn the_key_option_replaces_the_arguments() {
    for backend in BACKENDS {
        let before = BY_ID.get();
        let first = user_name(backend, 7, 100).expect("a call");
        assert_eq!(user_name(backend, 7, 101).expect("a call"), first);
        assert_eq!(BY_ID.get(), before + 1, "{backend:?}: one entry for id 7");
        let key = format!("cached_fn::user_name:{backend:?}/7");
        assert_eq!(
            backend.cache().get::<String>(&key).expect("a get"),
            Some(first)
        );
    }
}

#[derive(Debug, PartialEq)]
enum LoadError {
    Database(&'static str),
    Cache(String),
}

impl From<cachex::Error> for LoadError {
    fn from(error: cachex::Error) -> Self {
        LoadError::Cache(error.to_string())
    }
}

static FLAKY: Calls = Calls::new();

/// Fails on its first run, then succeeds.
#[cached(cache = backend.cache())]
fn flaky(backend: Backend, n: u32) -> Result<u32, LoadError> {
    let run = FLAKY.count();
    if run % 2 == 1 {
        return Err(LoadError::Database("down"));
    }
    Ok(n + 1)
}

#[test]
fn an_err_is_never_stored() {
    for backend in BACKENDS {
        let before = FLAKY.get();
        assert_eq!(before % 2, 0, "runs come in pairs");
        assert_eq!(flaky(backend, 1), Err(LoadError::Database("down")));
        let key = format!("cached_fn::flaky:[\"{backend:?}\",1]");
        assert!(
            !backend.cache().has_key(&key).expect("has_key"),
            "{backend:?}: stored an Err"
        );
        assert_eq!(
            flaky(backend, 1),
            Ok(2),
            "{backend:?}: the next call runs the body again"
        );
        assert_eq!(flaky(backend, 1), Ok(2));
        assert_eq!(FLAKY.get(), before + 2, "{backend:?}: the Ok is stored");
    }
}

/// The cache's own errors reach the caller: the key of an argument JSON cannot write.
#[cached(cache = MEMORY)]
fn by_map(map: std::collections::HashMap<(u8, u8), u8>) -> Result<usize, LoadError> {
    Ok(map.len())
}

#[test]
fn a_cache_error_becomes_the_functions_error() {
    let map = [((1, 2), 3)].into_iter().collect();
    match by_map(map) {
        Err(LoadError::Cache(message)) => {
            assert!(message.contains("cached_fn::by_map"), "{message}")
        }
        other => panic!("expected the cache's error, got {other:?}"),
    }
}

/// Runs `call` on `threads` threads released together; their results.
fn at_once<T: Send>(threads: usize, call: impl Fn() -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        let callers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    call()
                })
            })
            .collect();
        callers
            .into_iter()
            .map(|caller| caller.join().expect("a caller"))
            .collect()
    })
}

static SLOW: Calls = Calls::new();

#[cached(cache = backend.cache())]
fn slow(backend: Backend, n: u32) -> u32 {
    SLOW.count();
    std::thread::sleep(Duration::from_millis(300));
    n * 10
}

#[test]
fn concurrent_misses_run_the_body_once() {
    const THREADS: usize = 8;
    for backend in BACKENDS {
        let before = SLOW.get();
        for result in at_once(THREADS, || slow(backend, 5)) {
            assert_eq!(result.expect("a call"), 50);
        }
        assert_eq!(
            SLOW.get(),
            before + 1,
            "{backend:?}: {THREADS} callers, one run"
        );
    }
}

static ASYNC_CALLS: Calls = Calls::new();

/// An async body with `?` and an early `return`, as written in any async fn.
#[cached(cache = backend.cache(), ttl = 60)]
async fn fetch(backend: Backend, path: String) -> Result<usize, LoadError> {
    ASYNC_CALLS.count();
    tokio::time::sleep(Duration::from_millis(200)).await;
    if path.is_empty() {
        return Err(LoadError::Database("no path"));
    }
    let length = Ok::<_, LoadError>(path.len())?;
    Ok(length)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_fn_on_a_runtime() {
    for backend in BACKENDS {
        let before = ASYNC_CALLS.get();
        let calls = (0..8).map(|_| tokio::spawn(fetch(backend, "/a/b".into())));
        for call in futures::future::join_all(calls).await {
            assert_eq!(call.expect("a task"), Ok(4));
        }
        assert_eq!(
            ASYNC_CALLS.get(),
            before + 1,
            "{backend:?}: 8 tasks, one run"
        );
        assert_eq!(
            fetch(backend, String::new()).await,
            Err(LoadError::Database("no path"))
        );
        assert_eq!(
            fetch(backend, String::new()).await,
            Err(LoadError::Database("no path"))
        );
        assert_eq!(
            ASYNC_CALLS.get(),
            before + 3,
            "{backend:?}: errors are not stored"
        );
    }
}

static INFALLIBLE_ASYNC: Calls = Calls::new();

#[cached(cache = backend.cache())]
async fn double(backend: Backend, n: i64) -> i64 {
    INFALLIBLE_ASYNC.count();
    n * 2
}

#[tokio::test]
async fn an_async_fn_that_cannot_fail_returns_the_caches_result() {
    for backend in BACKENDS {
        let before = INFALLIBLE_ASYNC.get();
        let value: cachex::Result<i64> = double(backend, 21).await;
        assert_eq!(value.expect("a call"), 42);
        assert_eq!(double(backend, 21).await.expect("a call"), 42);
        assert_eq!(INFALLIBLE_ASYNC.get(), before + 1, "{backend:?}");
    }
}

static EVERYWHERE: Calls = Calls::new();

#[cached(cache = backend.cache())]
fn everywhere(backend: Backend, place: &str) -> String {
    EVERYWHERE.count();
    format!("computed for {place}")
}

#[test]
fn a_blocking_fn_from_a_thread_and_inside_runtimes() {
    for backend in BACKENDS {
        let before = EVERYWHERE.get();
        let from_thread = std::thread::spawn(move || everywhere(backend, "a thread"))
            .join()
            .expect("a thread");
        assert_eq!(from_thread.expect("a call"), "computed for a thread");

        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let on_worker = multi
            .block_on(
                async move { tokio::spawn(async move { everywhere(backend, "a worker") }).await },
            )
            .expect("a task");
        assert_eq!(on_worker.expect("a call"), "computed for a worker");

        let current = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let in_current = current.block_on(async move { everywhere(backend, "a thread") });
        assert_eq!(in_current.expect("a call"), "computed for a thread");
        assert_eq!(
            EVERYWHERE.get(),
            before + 2,
            "{backend:?}: the last call is a hit"
        );
    }
}

static FAILING: Calls = Calls::new();

#[cached(cache = backend.cache())]
fn failing(backend: Backend, n: u32) -> Result<u32, LoadError> {
    FAILING.count();
    std::thread::sleep(Duration::from_millis(100));
    Err(LoadError::Database("down")).map(|()| n)
}

#[test]
fn callers_waiting_on_a_failed_body_each_run_their_own() {
    const THREADS: usize = 4;
    for backend in BACKENDS {
        let before = FAILING.get();
        for result in at_once(THREADS, || failing(backend, 1)) {
            assert_eq!(result, Err(LoadError::Database("down")), "{backend:?}");
        }
        // Every caller got an error of its own body: the failed load is not shared as a value.
        assert_eq!(FAILING.get(), before + THREADS, "{backend:?}");
        let key = format!("cached_fn::failing:[\"{backend:?}\",1]");
        assert!(
            !backend.cache().has_key(&key).expect("has_key"),
            "{backend:?}"
        );
    }
}
