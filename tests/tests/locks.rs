//! Distributed locks under contention, on every backend: at most one holder at a time across
//! OS threads (blocking surface) and tokio tasks (async surface), every protected
//! read-modify-write kept, and a lock whose lease ran out taken over safely.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cachex::Result;
use cachex::prelude::*;
use cachex_tests::{ServerKind, shared};

const LEASE: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(60);

/// Counts holders inside the critical section; more than one at a time is a failure.
#[derive(Default)]
struct Exclusion {
    inside: AtomicUsize,
    overlaps: AtomicUsize,
}

impl Exclusion {
    fn enter(&self) {
        if self.inside.fetch_add(1, Ordering::SeqCst) != 0 {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn leave(&self) {
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }
}

fn caches(name: &str) -> Vec<(&'static str, Cache)> {
    let prefix = format!("locks-{name}-{}", std::process::id());
    let server = |kind| {
        Cache::from_url(&format!("{}?prefix={prefix}", shared(kind).url())).expect("a cache")
    };
    vec![
        (
            "memory",
            Cache::builder().prefix(&prefix).build().expect("a cache"),
        ),
        ("redis", server(ServerKind::Redis)),
        ("valkey", server(ServerKind::Valkey)),
    ]
}

/// A read-modify-write that loses updates unless it is serialized.
fn unsafe_increment(cache: &Cache) -> Result<()> {
    let n = cache.get::<u64>("counter")?.unwrap_or(0);
    std::thread::sleep(Duration::from_micros(200));
    cache.set("counter", &(n + 1), Timeout::Never)
}

#[test]
fn threads_take_turns() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 25;
    for (backend, cache) in caches("threads") {
        cache.clear().expect("clear");
        let exclusion = Arc::new(Exclusion::default());
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (cache, exclusion) = (cache.clone(), exclusion.clone());
                std::thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        let lock = cache.lock("counter-lock", LEASE, WAIT)?.expect("acquired");
                        exclusion.enter();
                        unsafe_increment(&cache)?;
                        exclusion.leave();
                        assert!(lock.release()?, "still held at release");
                    }
                    Ok::<(), cachex::Error>(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("no panic").expect("no error");
        }
        assert_eq!(exclusion.overlaps.load(Ordering::SeqCst), 0, "{backend}");
        assert_eq!(
            cache.get::<u64>("counter").expect("get"),
            Some((THREADS * ROUNDS) as u64),
            "{backend}: an update was lost"
        );
        cache.clear().expect("clear");
    }
}

#[test]
fn tasks_take_turns() {
    const TASKS: usize = 16;
    const ROUNDS: usize = 10;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime");
    for (backend, cache) in caches("tasks") {
        runtime.block_on(async {
            cache.aclear().await.expect("clear");
            let exclusion = Arc::new(Exclusion::default());
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (cache, exclusion) = (cache.clone(), exclusion.clone());
                    tokio::spawn(async move {
                        for _ in 0..ROUNDS {
                            let lock = cache.alock("counter-lock", LEASE, WAIT).await?;
                            let lock = lock.expect("acquired");
                            exclusion.enter();
                            let n = cache.aget::<u64>("counter").await?.unwrap_or(0);
                            tokio::time::sleep(Duration::from_micros(200)).await;
                            cache.aset("counter", &(n + 1), Timeout::Never).await?;
                            exclusion.leave();
                            assert!(lock.arelease().await?, "still held at release");
                        }
                        Ok::<(), cachex::Error>(())
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("no panic").expect("no error");
            }
            assert_eq!(exclusion.overlaps.load(Ordering::SeqCst), 0, "{backend}");
            assert_eq!(
                cache.aget::<u64>("counter").await.expect("get"),
                Some((TASKS * ROUNDS) as u64),
                "{backend}: an update was lost"
            );
            cache.aclear().await.expect("clear");
        });
    }
}

#[test]
fn an_expired_lease_is_taken_over_safely() {
    for (backend, cache) in caches("expiry") {
        let stale = cache
            .lock("job", Duration::from_millis(50), Duration::ZERO)
            .expect("lock")
            .expect("free");
        // A waiter gets the lock once the lease runs out, without any release.
        let next = cache
            .lock("job", LEASE, Duration::from_secs(5))
            .expect("lock")
            .expect("taken over after the lease");
        assert!(!stale.extend(LEASE).expect("extend"), "{backend}");
        assert!(!stale.release().expect("release"), "{backend}");
        assert!(
            cache
                .lock("job", LEASE, Duration::ZERO)
                .expect("lock")
                .is_none(),
            "{backend}: the stale holder released the next holder's lock"
        );
        assert!(next.release().expect("release"), "{backend}");
    }
}

#[test]
fn a_dropped_lock_is_released_from_any_context() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    for (backend, cache) in caches("drop") {
        // Dropped inside a current-thread runtime's task: no blocking, released anyway.
        runtime.block_on(async {
            let lock = cache
                .alock("job", LEASE, Duration::ZERO)
                .await
                .expect("lock");
            drop(lock.expect("free"));
            let again = cache.alock("job", LEASE, Duration::from_secs(5)).await;
            assert!(
                again
                    .expect("lock")
                    .expect("released on drop")
                    .arelease()
                    .await
                    .expect("release"),
                "{backend}"
            );
        });
    }
}
