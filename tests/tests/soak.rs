//! Load and integrity: blocking threads and async tasks hammer one cache on a real Redis on
//! loopback with a mix of Django's operations, each keeping a model of its own keys. Every
//! read must match the model (every acknowledged write reads back as written), and at the end
//! every key and every shared counter must be exactly what the acknowledged calls imply.
//!
//! Bounded in operations and in time (whichever comes first), so that CI stays fast; the
//! throughput and error counts are printed (`-- --nocapture`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex_tests::{Server, ServerKind};

/// At most this many operations in all...
const OPERATIONS: u64 = 300_000;
/// ...and no longer than this.
const DURATION: Duration = Duration::from_secs(40);
const THREADS: usize = 3;
const TASKS: usize = 3;
/// Keys per worker, and counters shared by all workers.
const KEYS: u64 = 200;
const COUNTERS: u64 = 4;

/// A small deterministic random generator (xorshift), one per worker.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What one worker did and believes.
struct Worker {
    name: String,
    rng: Rng,
    /// The value of each of its keys, as its acknowledged calls left it.
    model: HashMap<String, Option<String>>,
    /// How many increments of each shared counter it got acknowledged.
    increments: [i64; COUNTERS as usize],
    operations: u64,
    errors: Vec<String>,
}

/// One operation a worker decided on.
enum Step {
    Set(String, String),
    Get(String),
    Add(String, String),
    Delete(String),
    SetMany(Vec<(String, String)>),
    GetMany(Vec<String>),
    Incr(u64),
}

impl Worker {
    fn new(name: String, seed: u64) -> Worker {
        Worker {
            name,
            rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            model: HashMap::new(),
            increments: [0; COUNTERS as usize],
            operations: 0,
            errors: Vec::new(),
        }
    }

    fn key(&mut self) -> String {
        format!("{}:{}", self.name, self.rng.next() % KEYS)
    }

    fn next_step(&mut self) -> Step {
        self.operations += 1;
        let value = format!("{} wrote this at step {}", self.name, self.operations);
        match self.rng.next() % 100 {
            0..35 => Step::Set(self.key(), value),
            35..65 => Step::Get(self.key()),
            65..70 => Step::Add(self.key(), value),
            70..75 => Step::Delete(self.key()),
            75..80 => Step::SetMany(
                (0..5)
                    .map(|n| (self.key(), format!("{value} #{n}")))
                    .collect(),
            ),
            80..85 => Step::GetMany((0..5).map(|_| self.key()).collect()),
            _ => Step::Incr(self.rng.next() % COUNTERS),
        }
    }

    fn known(&self, key: &str) -> Option<String> {
        self.model.get(key).cloned().flatten()
    }

    fn error(&mut self, error: cachex::Error) {
        self.errors.push(error.to_string());
    }
}

/// Runs a step on either surface and checks it against the model: written once, with the
/// method names and `.await` (or nothing) given.
macro_rules! run_step {
    ($worker:expr, $cache:expr, $step:expr,
     $set:ident, $get:ident, $add:ident, $delete:ident, $set_many:ident, $get_many:ident,
     $incr:ident, $($await:tt)*) => {{
        let worker: &mut Worker = $worker;
        match $step {
            Step::Set(key, value) => match $cache.$set(&key, &value, Timeout::Never) $($await)* {
                Ok(()) => {
                    worker.model.insert(key, Some(value));
                }
                Err(error) => worker.error(error),
            },
            Step::Get(key) => match $cache.$get::<String>(&key) $($await)* {
                Ok(read) => assert_eq!(read, worker.known(&key), "{key}"),
                Err(error) => worker.error(error),
            },
            Step::Add(key, value) => match $cache.$add(&key, &value, Timeout::Never) $($await)* {
                Ok(added) => {
                    assert_eq!(added, worker.known(&key).is_none(), "add {key}");
                    if added {
                        worker.model.insert(key, Some(value));
                    }
                }
                Err(error) => worker.error(error),
            },
            Step::Delete(key) => match $cache.$delete(&key) $($await)* {
                Ok(existed) => {
                    assert_eq!(existed, worker.known(&key).is_some(), "delete {key}");
                    worker.model.insert(key, None);
                }
                Err(error) => worker.error(error),
            },
            Step::SetMany(items) => {
                let pairs: Vec<(&str, &String)> =
                    items.iter().map(|(key, value)| (key.as_str(), value)).collect();
                match $cache.$set_many(&pairs, Timeout::Never) $($await)* {
                    Ok(failed) => {
                        assert!(failed.is_empty(), "set_many failed for {failed:?}");
                        for (key, value) in items {
                            worker.model.insert(key, Some(value));
                        }
                    }
                    Err(error) => worker.error(error),
                }
            }
            Step::GetMany(keys) => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                match $cache.$get_many::<String>(&keys) $($await)* {
                    Ok(found) => {
                        for key in keys {
                            assert_eq!(found.get(key).cloned(), worker.known(key), "{key}");
                        }
                    }
                    Err(error) => worker.error(error),
                }
            }
            Step::Incr(counter) => {
                let key = format!("counter{counter}");
                match $cache.$incr(&key, 1, Timeout::Never) $($await)* {
                    Ok(_) => worker.increments[counter as usize] += 1,
                    Err(error) => worker.error(error),
                }
            }
        }
    }};
}

#[test]
fn a_mixed_load_keeps_every_acknowledged_write() {
    let server = Server::start(ServerKind::Redis);
    let cache = Cache::from_url(&format!("{}?prefix=soak", server.url())).expect("a cache");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let go_on = move |done: &AtomicU64| {
        done.fetch_add(1, Ordering::Relaxed) < OPERATIONS && started.elapsed() < DURATION
    };

    let threads: Vec<_> = (0..THREADS)
        .map(|n| {
            let (cache, done) = (cache.clone(), done.clone());
            thread::spawn(move || {
                let mut worker = Worker::new(format!("thread{n}"), n as u64 + 1);
                while go_on(&done) {
                    let step = worker.next_step();
                    run_step!(
                        &mut worker,
                        cache,
                        step,
                        set,
                        get,
                        add,
                        delete,
                        set_many,
                        get_many,
                        incr_or_create,
                    );
                }
                worker
            })
        })
        .collect();
    let tasks: Vec<_> = (0..TASKS)
        .map(|n| {
            let (cache, done) = (cache.clone(), done.clone());
            runtime.spawn(async move {
                let mut worker = Worker::new(format!("task{n}"), (THREADS + n) as u64 + 1);
                while go_on(&done) {
                    let step = worker.next_step();
                    run_step!(&mut worker, cache, step,
                        aset, aget, aadd, adelete, aset_many, aget_many, aincr_or_create, .await);
                }
                worker
            })
        })
        .collect();
    let mut workers: Vec<Worker> = threads
        .into_iter()
        .map(|thread| thread.join().expect("no panic in a thread"))
        .collect();
    for task in tasks {
        workers.push(runtime.block_on(task).expect("no panic in a task"));
    }
    let elapsed = started.elapsed();

    // Everything acknowledged is there, exactly.
    for worker in &workers {
        let keys: Vec<&str> = worker.model.keys().map(String::as_str).collect();
        let found = cache.get_many::<String>(&keys).expect("get_many");
        for key in keys {
            assert_eq!(
                found.get(key).cloned(),
                worker.known(key),
                "{key} at the end"
            );
        }
    }
    for counter in 0..COUNTERS {
        let acknowledged: i64 = workers
            .iter()
            .map(|worker| worker.increments[counter as usize])
            .sum();
        assert_eq!(
            cache.get::<i64>(&format!("counter{counter}")).expect("get"),
            Some(acknowledged).filter(|n| *n > 0),
            "counter{counter}"
        );
    }

    let total: u64 = workers.iter().map(|worker| worker.operations).sum();
    let surface = |prefix: &str| -> u64 {
        workers
            .iter()
            .filter(|worker| worker.name.starts_with(prefix))
            .map(|worker| worker.operations)
            .sum()
    };
    let errors: Vec<&String> = workers.iter().flat_map(|worker| &worker.errors).collect();
    println!(
        "soak: {total} operations in {elapsed:.2?} ({:.0}/s): {} by {THREADS} blocking threads, \
         {} by {TASKS} async tasks; {} errors",
        total as f64 / elapsed.as_secs_f64(),
        surface("thread"),
        surface("task"),
        errors.len()
    );
    // No fault is injected here: on a healthy loopback server, no call fails.
    assert!(errors.is_empty(), "{errors:#?}");
    cache.clear().expect("clear");
}
