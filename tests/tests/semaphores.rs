//! Counting semaphores on every backend (memory, Redis, Valkey, Cluster, Sentinel): under
//! contention from OS threads (blocking surface) and tokio tasks (async surface) the holders
//! never hold more than the capacity, as an independent counter of the holders sees it; a
//! holder that dies frees its share with its lease; a stale holder cannot release or extend
//! the next one's share; a dropped permit and a cancelled wait give back what they held.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cachex::prelude::*;
use cachex::{Error, Permit};
use cachex_tests::{ServerKind, shared, shared_cluster, shared_sentinel};

const LEASE: Duration = Duration::from_secs(30);
const WAIT: Duration = Duration::from_secs(120);
const CAPACITY: u32 = 3;

fn caches(name: &str) -> Vec<(&'static str, Cache)> {
    let prefix = format!("sem-{name}-{}", std::process::id());
    let at = |url: String| Cache::from_url(&format!("{url}?prefix={prefix}")).expect("a cache");
    vec![
        (
            "memory",
            Cache::builder().prefix(&prefix).build().expect("a cache"),
        ),
        ("redis", at(shared(ServerKind::Redis).url())),
        ("valkey", at(shared(ServerKind::Valkey).url())),
        ("cluster", at(shared_cluster().url())),
        ("sentinel", at(shared_sentinel().url())),
    ]
}

/// The weight the holders hold, counted by the holders themselves (independent of the
/// semaphore): added after acquiring, taken off before releasing, so that it never exceeds
/// what the semaphore counts.
#[derive(Default)]
struct Holders {
    held: AtomicU32,
    most: AtomicU32,
}

impl Holders {
    fn enter(&self, weight: u32) {
        let now = self.held.fetch_add(weight, Ordering::SeqCst) + weight;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self, weight: u32) {
        self.held.fetch_sub(weight, Ordering::SeqCst);
    }

    fn most(&self) -> u32 {
        self.most.load(Ordering::SeqCst)
    }
}

/// Weights 1 and 2 in turn: a weighted semaphore, not only a counting one.
fn weight(worker: usize) -> u32 {
    1 + (worker % 2) as u32
}

#[test]
fn threads_never_hold_more_than_the_capacity() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 12;
    for (backend, cache) in caches("threads") {
        let holders = Arc::new(Holders::default());
        let workers: Vec<_> = (0..THREADS)
            .map(|worker| {
                let (cache, holders) = (cache.clone(), holders.clone());
                std::thread::spawn(move || {
                    let weight = weight(worker);
                    for _ in 0..ROUNDS {
                        let permit = cache.semaphore("pool", CAPACITY, weight, LEASE, WAIT)?;
                        let permit = permit.expect("acquired within the wait");
                        holders.enter(weight);
                        std::thread::sleep(Duration::from_micros(500));
                        holders.leave(weight);
                        assert!(permit.release()?, "still held at release");
                    }
                    Ok::<(), Error>(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("no panic").expect("no error");
        }
        let most = holders.most();
        println!("{backend}: at most {most} of {CAPACITY} held at once");
        assert!(most <= CAPACITY, "{backend}: {most} held at once");
        assert_free(backend, &cache);
    }
}

#[test]
fn tasks_never_hold_more_than_the_capacity() {
    const TASKS: usize = 16;
    const ROUNDS: usize = 6;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime");
    for (backend, cache) in caches("tasks") {
        let holders = Arc::new(Holders::default());
        runtime.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|task| {
                    let (cache, holders) = (cache.clone(), holders.clone());
                    tokio::spawn(async move {
                        let weight = weight(task);
                        for _ in 0..ROUNDS {
                            let permit = cache.asemaphore("pool", CAPACITY, weight, LEASE, WAIT);
                            let permit = permit.await?.expect("acquired within the wait");
                            holders.enter(weight);
                            tokio::time::sleep(Duration::from_micros(500)).await;
                            holders.leave(weight);
                            assert!(permit.arelease().await?, "still held at release");
                        }
                        Ok::<(), Error>(())
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("no panic").expect("no error");
            }
        });
        let most = holders.most();
        println!("{backend}: at most {most} of {CAPACITY} held at once");
        assert!(most <= CAPACITY, "{backend}: {most} held at once");
        assert_free(backend, &cache);
    }
}

/// The whole capacity can be taken at once: every share was given back.
fn assert_free(backend: &str, cache: &Cache) {
    let all = cache.semaphore("pool", CAPACITY, CAPACITY, LEASE, Duration::ZERO);
    let all = all.expect("semaphore");
    assert!(all.is_some(), "{backend}: a share was never given back");
}

fn take(cache: &Cache, weight: u32, lease: Duration, wait: Duration) -> Option<Permit> {
    cache
        .semaphore("job", CAPACITY, weight, lease, wait)
        .expect("semaphore")
}

#[test]
fn the_capacity_is_shared_by_weight() {
    for (backend, cache) in caches("weights") {
        let two = take(&cache, 2, LEASE, Duration::ZERO).expect("free");
        let one = take(&cache, 1, LEASE, Duration::ZERO).expect("one left");
        assert!(
            take(&cache, 1, LEASE, Duration::ZERO).is_none(),
            "{backend}: a fourth share of three"
        );
        assert!(two.release().expect("release"), "{backend}");
        let again = take(&cache, 2, LEASE, Duration::ZERO).expect("two given back");
        assert!(one.extend(LEASE).expect("extend"), "{backend}");
        assert!(one.release().expect("release"), "{backend}");
        assert!(again.release().expect("release"), "{backend}");
    }
}

#[test]
fn a_dead_holder_frees_its_share_with_its_lease() {
    for (backend, cache) in caches("dead") {
        // A holder that dies: never released, never dropped.
        let dead = take(&cache, CAPACITY, Duration::from_millis(200), Duration::ZERO);
        std::mem::forget(dead.expect("free"));
        assert!(
            take(&cache, 1, LEASE, Duration::ZERO).is_none(),
            "{backend}: held until the lease runs out"
        );
        let next = take(&cache, CAPACITY, LEASE, Duration::from_secs(10));
        let next = next.unwrap_or_else(|| panic!("{backend}: the lease did not free the share"));
        assert!(next.release().expect("release"), "{backend}");
    }
}

#[test]
fn a_stale_holder_cannot_touch_the_next_holders_share() {
    for (backend, cache) in caches("stale") {
        let stale = take(&cache, CAPACITY, Duration::from_millis(100), Duration::ZERO);
        let stale = stale.expect("free");
        let next = take(&cache, CAPACITY, LEASE, Duration::from_secs(10)).expect("taken over");
        assert!(!stale.extend(LEASE).expect("extend"), "{backend}");
        assert!(!stale.release().expect("release"), "{backend}");
        assert!(
            take(&cache, 1, LEASE, Duration::ZERO).is_none(),
            "{backend}: the stale holder gave back the next holder's share"
        );
        assert!(next.release().expect("release"), "{backend}");
    }
}

#[test]
fn a_dropped_permit_and_a_cancelled_wait_give_back_what_they_held() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    for (backend, cache) in caches("drop") {
        runtime.block_on(async {
            // Dropped inside a current-thread runtime's task: no blocking, released anyway.
            let permit = cache.asemaphore("job", CAPACITY, CAPACITY, LEASE, Duration::ZERO);
            let held = permit.await.expect("semaphore").expect("free");
            // A waiter queues behind it, then is cancelled: it must leave the queue, or it
            // would stand first in line for its heartbeat's 5 s.
            let waiting = cache.asemaphore("job", CAPACITY, 1, LEASE, WAIT);
            let cancelled = tokio::time::timeout(Duration::from_millis(100), waiting).await;
            assert!(cancelled.is_err(), "{backend}: admitted while all was held");
            drop(held);
            let again = cache.asemaphore("job", CAPACITY, CAPACITY, LEASE, Duration::from_secs(2));
            let again = again.await.expect("semaphore");
            let again = again.unwrap_or_else(|| panic!("{backend}: not given back"));
            assert!(again.arelease().await.expect("release"), "{backend}");
        });
    }
}

#[test]
fn impossible_requests_are_refused() {
    let cache = Cache::in_memory();
    for (capacity, weight, lease) in [
        (0, 1, LEASE),
        (3, 0, LEASE),
        (3, 4, LEASE),
        (3, 1, Duration::ZERO),
    ] {
        let refused = cache.semaphore("job", capacity, weight, lease, Duration::ZERO);
        assert!(
            matches!(refused, Err(Error::InvalidArgument { .. })),
            "capacity {capacity}, weight {weight}, lease {lease:?}: {refused:?}"
        );
    }
}
