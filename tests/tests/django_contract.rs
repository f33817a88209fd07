//! Django's cache contract, the extended operations (in `contract/extended.rs`), fallible
//! loaders (`contract/loaders.rs`) and streams (`contract/streams.rs`), written once and run
//! over every backend (memory, Redis, Valkey, Redis Cluster, Redis Sentinel): every spelling (`m`, `am`, `a().m`, `m.as_sync`,
//! `m.as_async`) on memory, both surfaces (`m`, `am`) on the servers: the cases are the ones of Django's own cache tests that apply (prefix and version isolation, key functions,
//! expiry, unicode and binary data, large values, zero and negative timeouts, get_or_set with
//! callables, incr/decr edge cases, touch, close).
//!
//! Servers are real processes started by the harness on free loopback ports, one per kind (and
//! one cluster of 3 primaries with a replica each, one Sentinel group) for the whole test
//! binary; every test works under a prefix of its own. On the cluster, keys spread over every
//! slot; `incr_version` (a rename) uses keys with a hash tag, as a cluster needs.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use cachex::keys::{KeyFunction, KeyValidation};
use cachex::prelude::*;
use cachex::{CacheBuilder, Error};
use cachex_tests::{ServerKind, shared, shared_cluster, shared_sentinel};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Memory,
    Redis,
    Valkey,
    Cluster,
    Sentinel,
    /// A Valkey 9, for the commands only it has here (hash-field expiry).
    Valkey9,
}

impl Backend {
    /// The server URL of the backend (its shared server or topology).
    fn url(self) -> String {
        match self {
            Backend::Memory => unreachable_memory(),
            Backend::Redis => shared(ServerKind::Redis).url(),
            Backend::Valkey => shared(ServerKind::Valkey).url(),
            Backend::Cluster => shared_cluster().url(),
            Backend::Sentinel => shared_sentinel().url(),
            Backend::Valkey9 => shared(ServerKind::Valkey9).url(),
        }
    }
}

/// How the subject's calls are spelled.
#[derive(Clone, Copy, Debug)]
enum Spelling {
    /// `cache.m(..)`, from a task of a multi-thread runtime.
    Blocking,
    /// `cache.am(..).await`
    Prefixed,
    /// `cache.a().m(..).await`
    View,
    /// `cache.m.as_sync(..)`
    HandleSync,
    /// `cache.m.as_async(..).await`
    HandleAsync,
}

/// A cache under test, and how to call it.
struct Subject {
    cache: Cache,
    backend: Backend,
    spelling: Spelling,
    prefix: String,
}

impl Subject {
    /// A builder for another cache on the same backend (for options the subject lacks); it
    /// shares the subject's server and database, under `prefix`.
    fn builder(&self, prefix: &str) -> CacheBuilder {
        CacheBuilder::from_url(&self.backend.url())
            .expect("a valid URL")
            .prefix(format!("{}-{prefix}", self.prefix))
    }
}

fn unreachable_memory() -> String {
    panic!("a memory cache is never rebuilt from a URL: use with_prefix / with_version")
}

/// Calls one method of the subject's cache in the subject's spelling:
/// `call!(s, get / aget::<i64>("key"))`.
macro_rules! call {
    ($s:expr, $m:ident / $am:ident $(::<$($g:ty),+>)? ($($arg:expr),* $(,)?)) => {{
        let subject: &Subject = &$s;
        let cache = &subject.cache;
        match subject.spelling {
            Spelling::Blocking => cache.$m $(::<$($g),+>)? ($($arg),*),
            Spelling::Prefixed => cache.$am $(::<$($g),+>)? ($($arg),*).await,
            Spelling::View => cache.a().$m $(::<$($g),+>)? ($($arg),*).await,
            Spelling::HandleSync => cache.$m.as_sync $(::<$($g),+>)? ($($arg),*),
            Spelling::HandleAsync => cache.$m.as_async $(::<$($g),+>)? ($($arg),*).await,
        }
    }};
}

type Case = for<'a> fn(&'a Subject) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Runs one case on one backend in one spelling, inside a multi-thread runtime.
fn run(backend: Backend, spelling: Spelling, name: &str, case: Case) {
    static UNIQUE: AtomicU64 = AtomicU64::new(0);
    let prefix = format!(
        "{name}-{spelling:?}-{}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    );
    let cache = match backend {
        Backend::Memory => Cache::builder().prefix(&prefix).build(),
        _ => Cache::from_url(&format!("{}?prefix={prefix}", backend.url())),
    }
    .expect("a cache");
    let subject = Subject {
        cache,
        backend,
        spelling,
        prefix,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        call!(subject, clear / aclear()).expect("a clean start");
        case(&subject).await;
        call!(subject, clear / aclear()).expect("clean up");
    });
}

async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// Long enough past a short timeout for the value to be gone, on any machine.
const PAST_EXPIRY: Duration = Duration::from_millis(300);
const SHORT: Duration = Duration::from_millis(50);

#[path = "contract/breadth.rs"]
mod breadth_cases;
#[path = "contract/extended.rs"]
mod extended;
#[path = "contract/loaders.rs"]
mod loaders;
#[path = "contract/pipelines.rs"]
mod pipelines;
#[path = "contract/streams.rs"]
mod streams;

mod cases {
    use super::*;
    pub(super) use crate::breadth_cases::*;
    pub(super) use crate::extended::*;
    pub(super) use crate::loaders::*;
    pub(super) use crate::pipelines::*;
    pub(super) use crate::streams::*;

    pub(super) async fn simple(s: &Subject) {
        assert_eq!(
            call!(s, get / aget::<String>("missing")).expect("get"),
            None
        );
        call!(s, set / aset("key", "value", Timeout::Default)).expect("set");
        assert_eq!(
            call!(s, get / aget::<String>("key"))
                .expect("get")
                .as_deref(),
            Some("value")
        );
        call!(s, set / aset("key", "other", Timeout::Never)).expect("overwrite");
        assert_eq!(
            call!(s, get / aget::<String>("key"))
                .expect("get")
                .as_deref(),
            Some("other")
        );
    }

    pub(super) async fn data_types(s: &Subject) {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Record {
            name: String,
            tags: Vec<String>,
            score: f64,
            active: bool,
            parent: Option<u32>,
        }
        let record = Record {
            name: "ünïcødé ✓".into(),
            tags: vec!["a".into(), "b".into()],
            score: 1.5,
            active: true,
            parent: None,
        };
        call!(s, set / aset("record", &record, Timeout::Default)).expect("set");
        assert_eq!(
            call!(s, get / aget::<Record>("record")).expect("get"),
            Some(record)
        );
        let map = HashMap::from([("x".to_owned(), 1), ("y".to_owned(), 2)]);
        call!(s, set / aset("map", &map, Timeout::Default)).expect("set");
        assert_eq!(
            call!(s, get / aget::<HashMap<String, i32>>("map")).expect("get"),
            Some(map)
        );
        for (key, value) in [("true", true), ("false", false)] {
            call!(s, set / aset(key, &value, Timeout::Default)).expect("set");
            assert_eq!(call!(s, get / aget::<bool>(key)).expect("get"), Some(value));
        }
        call!(s, set / aset("unit", &(), Timeout::Default)).expect("set");
        assert_eq!(call!(s, get / aget::<()>("unit")).expect("get"), Some(()));
        for n in [0i64, -1, i64::MAX, i64::MIN] {
            call!(s, set / aset("int", &n, Timeout::Default)).expect("set");
            assert_eq!(call!(s, get / aget::<i64>("int")).expect("get"), Some(n));
        }
    }

    pub(super) async fn unicode_and_binary(s: &Subject) {
        let key = "ключ-鍵-🔑";
        let value = "Ṳᾔḯ¢◎ⅾℯ \u{0} \u{1f} \\ \" end";
        call!(s, set / aset(key, value, Timeout::Default)).expect("set");
        assert_eq!(
            call!(s, get / aget::<String>(key)).expect("get").as_deref(),
            Some(value)
        );
        let bytes: Vec<u8> = (0..=255).collect();
        call!(s, set / aset("bytes", &bytes, Timeout::Default)).expect("set");
        assert_eq!(
            call!(s, get / aget::<Vec<u8>>("bytes")).expect("get"),
            Some(bytes)
        );
    }

    pub(super) async fn large_values(s: &Subject) {
        let large = "x".repeat(1 << 20);
        call!(s, set / aset("large", &large, Timeout::Default)).expect("set");
        assert_eq!(
            call!(s, get / aget::<String>("large")).expect("get"),
            Some(large)
        );
    }

    pub(super) async fn add(s: &Subject) {
        assert!(call!(s, add / aadd("key", "first", Timeout::Default)).expect("add"));
        assert!(!call!(s, add / aadd("key", "second", Timeout::Default)).expect("add"));
        assert_eq!(
            call!(s, get / aget::<String>("key"))
                .expect("get")
                .as_deref(),
            Some("first")
        );
        // Zero timeout: says whether it would have been added, keeps nothing.
        assert!(call!(s, add / aadd("zero", "v", Timeout::seconds(0))).expect("add"));
        assert!(!call!(s, has_key / ahas_key("zero")).expect("has_key"));
    }

    pub(super) async fn delete_and_has_key(s: &Subject) {
        call!(s, set / aset("key", &1, Timeout::Default)).expect("set");
        assert!(call!(s, has_key / ahas_key("key")).expect("has_key"));
        assert!(call!(s, delete / adelete("key")).expect("delete"));
        assert!(
            !call!(s, delete / adelete("key")).expect("delete"),
            "already gone"
        );
        assert!(!call!(s, has_key / ahas_key("key")).expect("has_key"));
    }

    pub(super) async fn many(s: &Subject) {
        let failed = call!(
            s,
            set_many / aset_many(&[("a", 1), ("b", 2), ("c", 3)], Timeout::Default)
        )
        .expect("set_many");
        assert!(failed.is_empty(), "{failed:?}");
        let found =
            call!(s, get_many / aget_many::<i32>(&["a", "b", "missing"])).expect("get_many");
        assert_eq!(
            found,
            HashMap::from([("a".to_owned(), 1), ("b".to_owned(), 2)])
        );
        assert!(
            call!(s, get_many / aget_many::<i32>(&[]))
                .expect("get_many")
                .is_empty()
        );
        assert_eq!(
            call!(s, delete_many / adelete_many(&["a", "c", "missing"])).expect("delete_many"),
            2
        );
        assert_eq!(
            call!(s, delete_many / adelete_many(&[])).expect("delete_many"),
            0
        );
        let found = call!(s, get_many / aget_many::<i32>(&["a", "b", "c"])).expect("get_many");
        assert_eq!(found, HashMap::from([("b".to_owned(), 2)]));
    }

    pub(super) async fn expiry(s: &Subject) {
        call!(s, set / aset("short", "v", Timeout::After(SHORT))).expect("set");
        call!(s, set / aset("forever", "v", Timeout::Never)).expect("set");
        assert!(call!(s, has_key / ahas_key("short")).expect("has_key"));
        sleep(PAST_EXPIRY).await;
        assert_eq!(call!(s, get / aget::<String>("short")).expect("get"), None);
        assert!(!call!(s, has_key / ahas_key("short")).expect("has_key"));
        assert!(call!(s, has_key / ahas_key("forever")).expect("has_key"));
        // add succeeds again once the value expired
        call!(s, set / aset("again", "old", Timeout::After(SHORT))).expect("set");
        sleep(PAST_EXPIRY).await;
        assert!(call!(s, add / aadd("again", "new", Timeout::Default)).expect("add"));
    }

    pub(super) async fn zero_and_negative_timeouts(s: &Subject) {
        for timeout in [
            Timeout::seconds(0),
            Timeout::seconds(-1),
            Timeout::After(Duration::ZERO),
        ] {
            call!(s, set / aset("key", "kept", Timeout::Default)).expect("set");
            call!(s, set / aset("key", "gone", timeout)).expect("set");
            assert_eq!(
                call!(s, get / aget::<String>("key")).expect("get"),
                None,
                "{timeout:?}"
            );
            let failed = call!(s, set_many / aset_many(&[("k1", 1)], timeout)).expect("set_many");
            assert!(failed.is_empty());
            assert!(!call!(s, has_key / ahas_key("k1")).expect("has_key"));
        }
    }

    pub(super) async fn touch(s: &Subject) {
        assert!(!call!(s, touch / atouch("missing", Timeout::Never)).expect("touch"));
        call!(s, set / aset("key", "v", Timeout::After(SHORT))).expect("set");
        assert!(call!(s, touch / atouch("key", Timeout::Never)).expect("touch"));
        sleep(PAST_EXPIRY).await;
        assert!(call!(s, has_key / ahas_key("key")).expect("kept by touch"));
        assert!(call!(s, touch / atouch("key", Timeout::After(SHORT))).expect("touch"));
        sleep(PAST_EXPIRY).await;
        assert!(!call!(s, has_key / ahas_key("key")).expect("expired after touch"));
        call!(s, set / aset("key", "v", Timeout::Never)).expect("set");
        assert!(call!(s, touch / atouch("key", Timeout::seconds(0))).expect("touch 0 deletes"));
        assert!(!call!(s, has_key / ahas_key("key")).expect("has_key"));
    }

    pub(super) async fn incr_decr(s: &Subject) {
        assert!(matches!(
            call!(s, incr / aincr("missing", 1)),
            Err(Error::NotFound { ref key }) if key == "missing"
        ));
        call!(s, set / aset("n", &1, Timeout::Default)).expect("set");
        assert_eq!(call!(s, incr / aincr("n", 1)).expect("incr"), 2);
        assert_eq!(call!(s, incr / aincr("n", 10)).expect("incr"), 12);
        assert_eq!(call!(s, incr / aincr("n", -15)).expect("incr"), -3);
        assert_eq!(call!(s, decr / adecr("n", 2)).expect("decr"), -5);
        assert_eq!(call!(s, decr / adecr("n", -6)).expect("decr"), 1);
        assert_eq!(
            call!(s, get / aget::<i64>("n")).expect("get"),
            Some(1),
            "stored as an integer"
        );
        call!(s, set / aset("text", "not a number", Timeout::Default)).expect("set");
        assert!(matches!(
            call!(s, incr / aincr("text", 1)),
            Err(Error::WrongType { ref key, .. }) if key == "text"
        ));
        call!(s, set / aset("max", &i64::MAX, Timeout::Default)).expect("set");
        assert!(
            matches!(
                call!(s, incr / aincr("max", 1)),
                Err(Error::WrongType { .. })
            ),
            "overflow"
        );
        assert_eq!(
            call!(s, get / aget::<i64>("max")).expect("get"),
            Some(i64::MAX),
            "unchanged"
        );
        assert!(matches!(
            call!(s, decr / adecr("n", i64::MIN)),
            Err(Error::WrongType { .. })
        ));
        // Create on missing, explicitly.
        assert_eq!(
            call!(
                s,
                incr_or_create / aincr_or_create("hits", 5, Timeout::Default)
            )
            .expect("create"),
            5
        );
        assert_eq!(
            call!(
                s,
                incr_or_create / aincr_or_create("hits", 5, Timeout::Default)
            )
            .expect("incr"),
            10
        );
        assert_eq!(
            call!(
                s,
                incr_or_create / aincr_or_create("zero", 3, Timeout::seconds(0))
            )
            .expect("zero"),
            3
        );
        assert!(!call!(s, has_key / ahas_key("zero")).expect("has_key"));
        // A zero timeout never destroys an existing counter.
        let hits = call!(
            s,
            incr_or_create / aincr_or_create("hits", 1, Timeout::seconds(0))
        );
        assert_eq!(hits.expect("incr"), 11);
    }

    pub(super) async fn incr_keeps_the_timeout(s: &Subject) {
        call!(s, set / aset("n", &1, Timeout::After(SHORT))).expect("set");
        assert_eq!(call!(s, incr / aincr("n", 1)).expect("incr"), 2);
        sleep(PAST_EXPIRY).await;
        assert!(!call!(s, has_key / ahas_key("n")).expect("expired with its own timeout"));
        call!(s, set / aset("m", &1, Timeout::After(SHORT))).expect("set");
        assert_eq!(
            call!(s, incr_or_create / aincr_or_create("m", 1, Timeout::Never)).expect("incr"),
            2
        );
        sleep(PAST_EXPIRY).await;
        assert!(!call!(s, has_key / ahas_key("m")).expect("an existing key keeps its timeout"));
    }

    pub(super) async fn get_or_set(s: &Subject) {
        let computed = AtomicUsize::new(0);
        let compute = || {
            computed.fetch_add(1, Ordering::SeqCst);
            "computed".to_owned()
        };
        let first: String = call!(
            s,
            get_or_set / aget_or_set("key", compute, Timeout::Default)
        )
        .expect("miss");
        let again: String = call!(
            s,
            get_or_set / aget_or_set("key", compute, Timeout::Default)
        )
        .expect("hit");
        assert_eq!((first.as_str(), again.as_str()), ("computed", "computed"));
        assert_eq!(
            computed.load(Ordering::SeqCst),
            1,
            "the default is computed on a miss only"
        );
        call!(s, set / aset("present", "stored", Timeout::Default)).expect("set");
        let present: String = call!(
            s,
            get_or_set / aget_or_set("present", compute, Timeout::Default)
        )
        .expect("hit");
        assert_eq!(present, "stored");
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        // An async default, on the async side.
        let value: u32 = s
            .cache
            .aget_or_set_with("async", || async { 7 }, Timeout::Default)
            .await
            .expect("async default");
        assert_eq!(value, 7);
    }

    pub(super) async fn get_or_set_single_flight(s: &Subject) {
        let computed = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let cache = s.cache.clone();
                let computed = computed.clone();
                tokio::spawn(async move {
                    cache
                        .aget_or_set_with(
                            "slow",
                            || async move {
                                computed.fetch_add(1, Ordering::SeqCst);
                                sleep(SHORT).await;
                                42u32
                            },
                            Timeout::Default,
                        )
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.expect("no panic").expect("value"), 42);
        }
        assert_eq!(
            computed.load(Ordering::SeqCst),
            1,
            "concurrent misses computed it once"
        );
    }

    pub(super) async fn prefix_isolation(s: &Subject) {
        let other = s.cache.with_prefix(format!("{}-other", s.prefix));
        call!(s, set / aset("key", "mine", Timeout::Default)).expect("set");
        assert_eq!(other.aget::<String>("key").await.expect("get"), None);
        other
            .aset("key", "theirs", Timeout::Default)
            .await
            .expect("set");
        other
            .aset("only-theirs", "x", Timeout::Default)
            .await
            .expect("set");
        assert!(call!(s, clear / aclear()).expect("clear") >= 1);
        assert_eq!(call!(s, get / aget::<String>("key")).expect("get"), None);
        assert_eq!(
            other
                .aget::<String>("key")
                .await
                .expect("clear left the other prefix")
                .as_deref(),
            Some("theirs")
        );
        assert_eq!(other.aclear().await.expect("clear"), 2);
    }

    pub(super) async fn glob_characters_in_prefixes(s: &Subject) {
        let star = s.cache.with_prefix(format!("{}*", s.prefix));
        let exact = s.cache.with_prefix(format!("{}?x", s.prefix));
        star.aset("k", &1, Timeout::Default).await.expect("set");
        exact.aset("k", &2, Timeout::Default).await.expect("set");
        call!(s, set / aset("k", &3, Timeout::Default)).expect("set");
        assert_eq!(
            star.aclear().await.expect("clear"),
            1,
            "a `*` in a prefix is not a glob"
        );
        assert_eq!(exact.aget::<i32>("k").await.expect("get"), Some(2));
        assert_eq!(call!(s, get / aget::<i32>("k")).expect("get"), Some(3));
        exact.aclear().await.expect("clear");
    }

    pub(super) async fn versions(s: &Subject) {
        let v2 = s.cache.with_version(2);
        call!(s, set / aset("answer", &42, Timeout::Default)).expect("set");
        assert_eq!(
            v2.aget::<i32>("answer").await.expect("get"),
            None,
            "versions are isolated"
        );
        v2.aset("answer", &37, Timeout::Default).await.expect("set");
        assert_eq!(
            call!(s, get / aget::<i32>("answer")).expect("get"),
            Some(42)
        );
        assert_eq!(v2.aget::<i32>("answer").await.expect("get"), Some(37));
        // incr_version moves the value and keeps its timeout. The keys carry a hash tag, so
        // that both versions of a key share a cluster slot (a rename needs one slot).
        call!(s, set / aset("{moving}", "v", Timeout::After(SHORT))).expect("set");
        assert_eq!(
            call!(s, incr_version / aincr_version("{moving}", 1)).expect("incr_version"),
            2
        );
        assert_eq!(
            call!(s, get / aget::<String>("{moving}")).expect("get"),
            None
        );
        assert_eq!(
            v2.aget::<String>("{moving}").await.expect("get").as_deref(),
            Some("v")
        );
        sleep(PAST_EXPIRY).await;
        assert_eq!(
            v2.aget::<String>("{moving}").await.expect("get"),
            None,
            "the timeout moved too"
        );
        // decr_version moves it back; missing keys are errors.
        v2.aset("{back}", "b", Timeout::Default).await.expect("set");
        assert_eq!(
            v2.adecr_version("{back}", 1).await.expect("decr_version"),
            1
        );
        assert_eq!(
            call!(s, get / aget::<String>("{back}"))
                .expect("get")
                .as_deref(),
            Some("b")
        );
        assert!(matches!(
            call!(s, incr_version / aincr_version("{missing}", 1)),
            Err(Error::NotFound { .. })
        ));
        if s.backend == Backend::Cluster {
            // Without a hash tag the two versions live in different slots: a typed error
            // that names the fix.
            call!(s, set / aset("untagged", "v", Timeout::Default)).expect("set");
            match call!(s, incr_version / aincr_version("untagged", 1)) {
                Err(err @ Error::Unsupported { .. }) => {
                    assert!(err.to_string().contains("hash tag"), "{err}");
                }
                other => panic!("expected Unsupported, got {other:?}"),
            }
        }
        v2.aclear().await.expect("clear");
    }

    pub(super) async fn key_function_and_validation(s: &Subject) {
        let builder = match s.backend {
            Backend::Memory => Cache::builder().prefix(&s.prefix),
            _ => s.builder("keyfn"),
        };
        let custom = builder
            .clone()
            .key_function(KeyFunction::new(|key, prefix, version| {
                format!("{prefix}|{version}|{key}")
            }))
            .build()
            .expect("a cache");
        custom.aset("k", &1, Timeout::Default).await.expect("set");
        assert_eq!(custom.aget::<i32>("k").await.expect("get"), Some(1));
        assert_eq!(custom.aclear().await.expect("clear"), 1);
        // A key function that hides the prefix leaves clear nothing safe to match.
        let hashed = builder
            .clone()
            .key_function(KeyFunction::new(|key, _, version| {
                format!("h{version}{}", key.len())
            }))
            .build()
            .expect("a cache");
        hashed.aset("k", &1, Timeout::Default).await.expect("set");
        assert!(matches!(
            hashed.aclear().await,
            Err(Error::Unsupported {
                operation: "clear",
                ..
            })
        ));
        assert!(hashed.adelete("k").await.expect("delete"));
        let strict = builder
            .key_validation(KeyValidation::Strict)
            .build()
            .expect("a cache");
        for bad in ["with space", "tab\there", &"x".repeat(300)] {
            assert!(matches!(
                strict.aset(bad, &1, Timeout::Default).await,
                Err(Error::InvalidKey { .. })
            ));
            assert!(matches!(
                strict.aget::<i32>(bad).await,
                Err(Error::InvalidKey { .. })
            ));
        }
        // The default only warns: the key is used.
        call!(s, set / aset("with space", &1, Timeout::Default)).expect("warned, stored");
        assert_eq!(
            call!(s, get / aget::<i32>("with space")).expect("get"),
            Some(1)
        );
    }

    pub(super) async fn decode_errors_name_the_key(s: &Subject) {
        call!(s, set / aset("text", "not a list", Timeout::Default)).expect("set");
        match call!(s, get / aget::<Vec<u32>>("text")) {
            Err(Error::Decode { key, .. }) => assert_eq!(key, "text"),
            other => panic!("expected a decode error, got {other:?}"),
        }
        call!(s, set / aset("good", &[1, 2], Timeout::Default)).expect("set");
        assert!(matches!(
            call!(s, get_many / aget_many::<u32>(&["good"])),
            Err(Error::Decode { .. })
        ));
        assert_eq!(
            call!(s, get / aget::<String>("text"))
                .expect("the value is intact")
                .as_deref(),
            Some("not a list")
        );
    }

    pub(super) async fn close(s: &Subject) {
        call!(s, set / aset("key", &1, Timeout::Default)).expect("set");
        call!(s, close / aclose()).expect("close");
        assert_eq!(
            call!(s, get / aget::<i32>("key")).expect("works after close"),
            Some(1)
        );
        call!(s, close / aclose()).expect("close twice");
    }
}

macro_rules! cases {
    ($backend:expr, $spelling:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                crate::run($backend, $spelling, stringify!($case), |s| Box::pin(crate::cases::$case(s)));
            }
        )*
    };
}

/// Both surfaces: the blocking call and the async one (`am`).
macro_rules! surfaces {
    ($backend:expr; $($case:ident),*) => {
        mod blocking { use crate::*; cases!($backend, Spelling::Blocking; $($case),*); }
        mod prefixed { use crate::*; cases!($backend, Spelling::Prefixed; $($case),*); }
    };
}

/// Both surfaces and the other spellings (`a().m`, `m.as_sync`, `m.as_async`).
macro_rules! spellings {
    ($backend:expr; $($case:ident),*) => {
        surfaces!($backend; $($case),*);
        mod view { use crate::*; cases!($backend, Spelling::View; $($case),*); }
        mod handle_sync { use crate::*; cases!($backend, Spelling::HandleSync; $($case),*); }
        mod handle_async { use crate::*; cases!($backend, Spelling::HandleAsync; $($case),*); }
    };
}

/// Every case on every backend. The spellings are one code path (the macro's), so every
/// spelling runs on memory and the servers run both surfaces: that keeps CI time in check
/// as cases grow, without leaving a spelling or a backend untested.
macro_rules! matrix {
    ($($case:ident),* $(,)?) => {
        mod memory { spellings!(Backend::Memory; $($case),*); }
        mod redis { surfaces!(Backend::Redis; $($case),*); }
        mod valkey { surfaces!(Backend::Valkey; $($case),*); }
        mod cluster { surfaces!(Backend::Cluster; $($case),*); }
        mod sentinel { surfaces!(Backend::Sentinel; $($case),*); }
    };
}

matrix!(
    pipeline_typed_results,
    pipeline_errors_are_each_operations_own,
    transactions_are_atomic,
    pipelines_across_slots,
    scripts,
    simple,
    data_types,
    unicode_and_binary,
    large_values,
    add,
    delete_and_has_key,
    many,
    expiry,
    zero_and_negative_timeouts,
    touch,
    incr_decr,
    incr_keeps_the_timeout,
    get_or_set,
    get_or_set_single_flight,
    prefix_isolation,
    glob_characters_in_prefixes,
    versions,
    key_function_and_validation,
    decode_errors_name_the_key,
    close,
    ttl_and_expire,
    key_types,
    keys_and_patterns,
    iter_keys_in_batches,
    rename_and_renamenx,
    set_flags,
    hashes,
    lists,
    blocking_pops,
    sets,
    sorted_sets,
    locks,
    get_or_set_early,
    try_get_or_set,
    try_get_or_set_single_flight,
    try_get_or_set_early,
    stream_entries,
    stream_reads,
    consumer_groups,
    blocking_group_reads,
);

/// django-cachex 0.14.1's further operations (`contract/breadth.rs`), over the same matrix.
mod breadth {
    matrix!(
        breadth_keys,
        breadth_clear_all_versions,
        breadth_set_with,
        breadth_hset_many,
        breadth_lists,
        breadth_blmove,
        breadth_sets,
        breadth_sorted_sets,
        breadth_slowlog,
    );

    /// Hash-field expiry needs Redis 7.4+ or Valkey 9: its behaviour on memory and a Valkey 9,
    /// the typed refusal on Redis 7.0 and Valkey 8 (Cluster and Sentinel run Redis 7.0 too, and
    /// the refusal takes the same path there).
    mod field_expiry {
        mod memory {
            spellings!(Backend::Memory; hash_field_expiry);
        }
        mod valkey9 {
            surfaces!(Backend::Valkey9; hash_field_expiry);
        }
        mod redis {
            surfaces!(Backend::Redis; hash_field_expiry);
        }
        mod valkey {
            surfaces!(Backend::Valkey; hash_field_expiry);
        }
    }
}
