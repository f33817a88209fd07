//! A primary and read replicas listed in the URL (`redis://primary/0?replicas=r1,r2`), without
//! Sentinel, on real replicas (`--replicaof`) of Redis and Valkey: writes go to the primary,
//! reads spread over the replicas (counted by each server's `INFO commandstats`), on both
//! surfaces; a replica killed mid-run is left out and the reads go on, from the other replica,
//! then from the primary when both are gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use cachex::prelude::*;
use cachex_tests::{ReplicaSet, ServerKind};

const KEYS: usize = 20;

fn cache_of(set: &ReplicaSet, name: &str) -> Cache {
    let url = format!("{}&prefix=replicas-{name}", set.url());
    Cache::from_url(&url).expect("a cache")
}

/// Writes the keys (blocking and async) and waits until the replicas have them.
fn write_keys(set: &ReplicaSet, cache: &Cache, runtime: &tokio::runtime::Runtime) {
    for i in 0..KEYS {
        let key = format!("k{i}");
        if i % 2 == 0 {
            cache.set(&key, &i, Timeout::Never).expect("set");
        } else {
            runtime
                .block_on(cache.aset(&key, &i, Timeout::Never))
                .expect("aset");
        }
    }
    set.wait_replicated();
}

#[test]
fn reads_go_to_the_replicas_and_writes_to_the_primary() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let set = ReplicaSet::start(kind, 2);
        let cache = cache_of(&set, "spread");
        assert!(cache.to_string().contains("replicas=127.0.0.1:"), "{cache}");
        write_keys(&set, &cache, &runtime);
        let before: Vec<u64> = set
            .replicas
            .iter()
            .map(|replica| ReplicaSet::calls(replica, "get"))
            .collect();
        let primary_before = ReplicaSet::calls(&set.primary, "get");
        for round in 0..100 {
            let key = format!("k{}", round % KEYS);
            let read: Option<usize> = if round % 2 == 0 {
                cache.get(&key).expect("get")
            } else {
                runtime.block_on(cache.aget(&key)).expect("aget")
            };
            assert_eq!(read, Some(round % KEYS), "{kind}: {key}");
        }
        let served: Vec<u64> = set
            .replicas
            .iter()
            .zip(before)
            .map(|(replica, before)| ReplicaSet::calls(replica, "get") - before)
            .collect();
        println!("{kind}: 100 reads served by the replicas as {served:?}");
        assert_eq!(
            served.iter().sum::<u64>(),
            100,
            "{kind}: every read on a replica"
        );
        assert!(served.iter().all(|n| *n > 0), "{kind}: spread {served:?}");
        assert_eq!(
            ReplicaSet::calls(&set.primary, "get"),
            primary_before,
            "{kind}: no read on the primary"
        );
    }
}

#[test]
fn reads_go_on_when_replicas_are_killed_mid_run() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for kind in [ServerKind::Redis, ServerKind::Valkey] {
        let mut set = ReplicaSet::start(kind, 2);
        let cache = cache_of(&set, "killed");
        write_keys(&set, &cache, &runtime);
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicUsize::new(0));
        // A thread on the blocking surface and a task on the async one read all along.
        let thread = {
            let (cache, stop, reads) = (cache.clone(), stop.clone(), reads.clone());
            std::thread::spawn(move || {
                let mut round = 0;
                while !stop.load(Ordering::SeqCst) {
                    let key = format!("k{}", round % KEYS);
                    let read: Option<usize> = cache.get(&key).expect("a read fails");
                    assert_eq!(read, Some(round % KEYS), "{key}, blocking read {round}");
                    reads.fetch_add(1, Ordering::SeqCst);
                    round += 1;
                }
            })
        };
        let task = {
            let (cache, stop, reads) = (cache.clone(), stop.clone(), reads.clone());
            runtime.spawn(async move {
                let mut round = 0;
                while !stop.load(Ordering::SeqCst) {
                    let key = format!("k{}", round % KEYS);
                    let read: Option<usize> = cache.aget(&key).await.expect("a read fails");
                    assert_eq!(read, Some(round % KEYS), "{key}, async read {round}");
                    reads.fetch_add(1, Ordering::SeqCst);
                    round += 1;
                }
            })
        };
        let read_on = |more: usize| {
            let until = reads.load(Ordering::SeqCst) + more;
            while reads.load(Ordering::SeqCst) < until {
                assert!(
                    !thread.is_finished() && !task.is_finished(),
                    "{kind}: a reader failed"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        read_on(200);
        set.replicas[0].kill();
        read_on(200);
        let primary_before = ReplicaSet::calls(&set.primary, "get");
        set.replicas[1].kill();
        read_on(200);
        stop.store(true, Ordering::SeqCst);
        thread.join().expect("the blocking reader never failed");
        runtime
            .block_on(task)
            .expect("the async reader never failed");
        let on_primary = ReplicaSet::calls(&set.primary, "get") - primary_before;
        println!("{kind}: {on_primary} reads on the primary once both replicas were killed");
        assert!(
            on_primary >= 150,
            "{kind}: only {on_primary} reads on the primary"
        );
        // Writes still go to the primary.
        cache.set("after", "kill", Timeout::Never).expect("set");
    }
}
