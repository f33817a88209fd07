//! What a cluster or a Sentinel service changes for the cache, beyond Django's contract (which
//! `django_contract.rs` runs on both): multi-key operations over many slots, `clear` over
//! every primary, single-slot operations with and without hash tags, reads from replicas, URLs
//! and their secrets. The topologies are real (see `cachex_tests::topology`), one of each for
//! this test binary.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{Cache, Error};
use cachex_tests::topology::{SERVICE, bulk_text};
use cachex_tests::{Cluster, SentinelGroup, Server, shared_cluster, shared_sentinel};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn cluster_cache(prefix: &str) -> Cache {
    Cache::from_url(&format!("{}?prefix={prefix}", shared_cluster().url())).expect("a cache")
}

/// How many keys each primary of the shared cluster holds.
fn keys_per_primary(cluster: &Cluster) -> Vec<u64> {
    cluster
        .nodes()
        .filter(|node| node.command(&["ROLE"]).contains("master"))
        .map(|node| {
            node.command(&["DBSIZE"])
                .trim()
                .trim_start_matches(':')
                .parse()
                .expect("DBSIZE")
        })
        .collect()
}

#[test]
fn topologies_start_in_seconds() {
    let started = Instant::now();
    let cluster = Cluster::start();
    let cluster_took = started.elapsed();
    let started = Instant::now();
    let group = SentinelGroup::start();
    let sentinel_took = started.elapsed();
    println!(
        "startup: cluster of 6 nodes ready in {cluster_took:.2?}, Sentinel group (primary, \
         replica, 3 sentinels) ready in {sentinel_took:.2?}"
    );
    assert_eq!(cluster.nodes().count(), 6);
    assert_eq!(group.sentinels().len(), 3);
    assert_eq!(group.data_nodes().count(), 2);
}

#[test]
fn many_keys_over_every_slot() {
    let cache = cluster_cache("many");
    runtime().block_on(async {
        cache.aclear().await.expect("clear");
        let items: Vec<(String, u32)> = (0..500).map(|n| (format!("key{n}"), n)).collect();
        let borrowed: Vec<(&str, u32)> = items.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let failed = cache
            .aset_many(&borrowed, Timeout::After(Duration::from_secs(60)))
            .await
            .expect("set_many over many slots");
        assert!(failed.is_empty(), "{failed:?}");
        // Spread over every primary.
        let spread = keys_per_primary(shared_cluster());
        assert_eq!(spread.len(), 3);
        assert!(spread.iter().all(|count| *count > 0), "{spread:?}");

        let keys: Vec<&str> = items
            .iter()
            .map(|(k, _)| k.as_str())
            .chain(["missing1", "missing2"])
            .collect();
        let found: HashMap<String, u32> = cache.aget_many(&keys).await.expect("get_many");
        assert_eq!(found.len(), 500);
        for (key, value) in &items {
            assert_eq!(found.get(key), Some(value), "{key}");
        }
        // TTLs were set on every node.
        let ttl = shared_cluster()
            .nodes()
            .map(|node| node.command(&["PTTL", "many:1:key7"]))
            .find(|reply| !reply.starts_with('-'))
            .expect("the node of key7 answers");
        let ttl: i64 = ttl.trim().trim_start_matches(':').parse().expect("PTTL");
        assert!(ttl > 0 && ttl <= 60_000, "{ttl}");

        let deleted = cache
            .adelete_many(&keys[..250])
            .await
            .expect("delete_many over many slots");
        assert_eq!(deleted, 250);
        assert_eq!(cache.aclear().await.expect("clear every primary"), 250);
        let left: HashMap<String, u32> = cache.aget_many(&keys).await.expect("get_many");
        assert!(left.is_empty());
    });
}

#[test]
fn clear_scans_every_primary() {
    let cache = cluster_cache("clear");
    let other = cluster_cache("clear-other");
    runtime().block_on(async {
        cache.aclear().await.expect("clear");
        other.aclear().await.expect("clear");
        for n in 0..300 {
            cache
                .aset(&format!("k{n}"), &n, Timeout::Never)
                .await
                .expect("set");
        }
        other.aset("kept", &1, Timeout::Never).await.expect("set");
        assert_eq!(cache.aclear().await.expect("clear"), 300);
        assert!(!cache.ahas_key("k1").await.expect("has_key"));
        assert_eq!(other.aget::<i32>("kept").await.expect("get"), Some(1));
        assert_eq!(other.aclear().await.expect("clear"), 1);
    });
}

#[test]
fn single_slot_operations_need_a_hash_tag() {
    let cache = cluster_cache("tags");
    runtime().block_on(async {
        cache.aclear().await.expect("clear");
        // `tags:1:plain` and `tags:2:plain` hash to different slots.
        cache.aset("plain", &1, Timeout::Never).await.expect("set");
        match cache.aincr_version("plain", 1).await {
            Err(err @ Error::Unsupported { .. }) => {
                let message = err.to_string();
                assert!(message.contains("hash tag"), "{message}");
                assert!(message.contains("slot"), "{message}");
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
        assert_eq!(
            cache.aget::<i32>("plain").await.expect("unchanged"),
            Some(1)
        );
        // A hash tag in the key: both versions share its slot.
        cache
            .aset("{user42}", &2, Timeout::Never)
            .await
            .expect("set");
        assert_eq!(
            cache
                .aincr_version("{user42}", 1)
                .await
                .expect("incr_version"),
            2
        );
        assert_eq!(
            cache
                .with_version(2)
                .aget::<i32>("{user42}")
                .await
                .expect("get"),
            Some(2)
        );
        cache.with_version(2).aclear().await.expect("clear");
    });
    // A hash tag in the prefix: every key of the cache shares one slot.
    let tagged = cluster_cache("{tagged}");
    runtime().block_on(async {
        tagged.aset("a", &1, Timeout::Never).await.expect("set");
        assert_eq!(tagged.aincr_version("a", 1).await.expect("incr_version"), 2);
        assert_eq!(tagged.aclear().await.expect("clear"), 1);
    });
}

#[test]
fn counters_and_scripts_route_by_key() {
    let cache = cluster_cache("counters");
    runtime().block_on(async {
        for n in 0..50 {
            let key = format!("c{n}");
            assert_eq!(
                cache
                    .aincr_or_create(&key, n, Timeout::Never)
                    .await
                    .expect("incr_or_create"),
                n
            );
            assert_eq!(cache.aincr(&key, 1).await.expect("incr"), n + 1);
            assert!(cache.atouch(&key, Timeout::Never).await.expect("touch"));
        }
        assert!(matches!(
            cache.aincr("missing", 1).await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!(cache.aclear().await.expect("clear"), 50);
    });
}

#[test]
fn blocking_calls_on_a_cluster() {
    let cache = cluster_cache("blocking");
    cache.clear().expect("clear");
    let items: Vec<(String, i32)> = (0..100).map(|n| (format!("b{n}"), n)).collect();
    let borrowed: Vec<(&str, i32)> = items.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert!(
        cache
            .set_many(&borrowed, Timeout::Default)
            .expect("set_many")
            .is_empty()
    );
    let keys: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(cache.get_many::<i32>(&keys).expect("get_many").len(), 100);
    assert_eq!(cache.clear().expect("clear"), 100);
}

/// Writes a key through `cache` (which reads from replicas), reads it back (a replica follows
/// its primary within moments) and checks that one of `replicas` served a `GET`.
async fn read_from_replica(cache: &Cache, replicas: &[&Server]) {
    cache.aset("k", "v", Timeout::Never).await.expect("set");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match cache.aget::<String>("k").await.expect("get") {
            Some(value) => {
                assert_eq!(value, "v");
                break;
            }
            None if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            None => panic!("the replica never had the value"),
        }
    }
    let served = replicas.iter().any(|replica| {
        let stats = replica.command(&["INFO", "commandstats"]);
        bulk_text(&stats).contains("cmdstat_get:")
    });
    assert!(served, "no replica served a GET");
    cache.aclear().await.expect("clear");
}

/// The running data nodes that are replicas.
fn replicas<'a>(nodes: impl Iterator<Item = &'a Server>) -> Vec<&'a Server> {
    nodes
        .filter(|node| node.command(&["ROLE"]).contains("slave"))
        .collect()
}

#[test]
fn replica_reads_on_a_cluster() {
    let cluster = shared_cluster();
    let url = format!("{}?prefix=replicas&replica_reads=true", cluster.url());
    let cache = Cache::from_url(&url).expect("a cache");
    runtime().block_on(read_from_replica(&cache, &replicas(cluster.nodes())));
}

#[test]
fn replica_reads_on_sentinel() {
    let group = shared_sentinel();
    let url = format!("{}?prefix=replicas&replica_reads=true", group.url());
    let cache = Cache::from_url(&url).expect("a cache");
    runtime().block_on(read_from_replica(&cache, &replicas(group.data_nodes())));
}

#[test]
fn sentinel_databases_and_credentials() {
    let group = shared_sentinel();
    let cache = Cache::from_url(&format!("{}/3?prefix=db3", group.url())).expect("a cache");
    runtime().block_on(async {
        cache.aset("k", &1, Timeout::Never).await.expect("set");
    });
    let db0 = Cache::from_url(&format!("{}?prefix=db3", group.url())).expect("a cache");
    assert_eq!(db0.get::<i32>("k").expect("get"), None, "another database");
    assert_eq!(cache.get::<i32>("k").expect("get"), Some(1));
    let bad = Cache::from_url(&format!(
        "{}?sentinel_password=s3cret-sentinel",
        group
            .url()
            .replace("redis+sentinel://", "redis+sentinel://:data-s3cret@")
    ))
    .expect("a cache");
    let shown = format!("{bad} {bad:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    let unknown =
        Cache::from_url(&group.url().replace(SERVICE, "no-such-service")).expect("a cache");
    match unknown.get::<i32>("k") {
        Err(Error::Connection { reason, .. }) => {
            assert!(reason.contains("no-such-service"), "{reason}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    runtime().block_on(async {
        cache.aclear().await.expect("clear");
    });
}
