//! Instructions per call of cachex's hot paths and of the peers' same work, for callgrind
//! (instruction counts are stable on a loaded machine, wall-clock time is not).
//!
//! `scripts/bench-instructions paths` runs each path twice under `valgrind --tool=callgrind`,
//! with N and 2N calls, and reports (count(2N) - count(N)) / N: the cost of one call, with the
//! setup (server start, connections, filling) cancelled out. Only this process is counted: the
//! `redis-server` it starts (the tests' harness) runs outside valgrind.
//! Run directly: `cargo bench -p cachex-tests --bench path_instructions -- PATH [CALLS]`;
//! `-- sizes` prints the sizes of the cache's futures (each move of one copies that much).

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use cachex::prelude::*;
use cachex_tests::made_key as made;
use cachex_tests::{Server, ServerKind};
use redis::IntoConnectionInfo;

/// Keys of the in-memory paths, looked up in turn.
const KEYS: usize = 1000;
/// Tasks of the concurrent paths.
const TASKS: usize = 256;
/// OS threads of the concurrent blocking paths.
const THREADS: usize = 16;

fn decode(bytes: &[u8]) -> String {
    serde_json::from_slice(bytes).expect("a JSON string")
}

fn value_100() -> String {
    "v".repeat(98)
}

fn value_1m() -> String {
    "v".repeat(1024 * 1024 - 2)
}

/// A current-thread runtime: one thread, so the count is one deterministic schedule.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn memory(path: &str, calls: u64) {
    let cache = Cache::in_memory();
    let value = value_100();
    let bytes = cache.core().codec().encode(&value).expect("encodes");
    let keys: Vec<String> = (0..KEYS).map(|i| format!("mem:{i}")).collect();
    let made: Vec<String> = keys.iter().map(|key| made(&cache, key)).collect();
    let moka: moka::sync::Cache<String, Arc<[u8]>> = moka::sync::Cache::builder()
        .max_capacity(10_000)
        .eviction_policy(moka::policy::EvictionPolicy::lru())
        .build();
    let quick: quick_cache::sync::Cache<String, Arc<[u8]>> = quick_cache::sync::Cache::new(10_000);
    // `mem_get_never`: the values stored without an expiry (the peers have none), so that a
    // read does not look at the clock.
    let timeout = if path == "mem_get_never" {
        Timeout::Never
    } else {
        Timeout::Default
    };
    for (key, made) in keys.iter().zip(&made) {
        cache.set(key, &value, timeout).expect("set");
        moka.insert(made.clone(), Arc::from(bytes.as_slice()));
        quick.insert(made.clone(), Arc::from(bytes.as_slice()));
    }
    let runtime = runtime();
    for call in 0..calls as usize {
        let i = call % KEYS;
        match path {
            "mem_get" | "mem_get_never" => {
                drop(black_box(cache.get::<String>(&keys[i]).expect("get")))
            }
            "mem_aget" => drop(black_box(
                runtime
                    .block_on(cache.aget::<String>(&keys[i]))
                    .expect("aget"),
            )),
            "mem_set" => cache.set(&keys[i], &value, Timeout::Default).expect("set"),
            "moka_get_decode" => drop(black_box(decode(&moka.get(made[i].as_str()).expect("hit")))),
            "quick_get_decode" => drop(black_box(decode(
                &quick.get(made[i].as_str()).expect("hit"),
            ))),
            "quick_insert_encode" => quick.insert(
                made[i].clone(),
                Arc::from(serde_json::to_vec(&value).expect("encodes")),
            ),
            "moka_insert_encode" => moka.insert(
                made[i].clone(),
                Arc::from(serde_json::to_vec(&value).expect("encodes")),
            ),
            other => unknown(other),
        }
    }
}

fn server(path: &str, calls: u64) {
    let server = Server::start(ServerKind::Redis);
    let url = format!("{}/0", server.url());
    let cache = Cache::from_url(&url).expect("a cache");
    // `_mt` paths: the concurrent ones on two workers, as the timing bench runs them (callgrind
    // runs the threads one at a time: the count is of a real schedule, not a fixed one).
    let runtime = if path.ends_with("_mt") {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
    } else {
        runtime()
    };
    let path = path.trim_end_matches("_mt");
    let value = value_100();
    cache
        .set("bench:value", &value, Timeout::Default)
        .expect("set");
    let key_made = made(&cache, "bench:value");
    let owned: Vec<String> = (0..100).map(|i| format!("many:{i}")).collect();
    let keys: Vec<&str> = owned.iter().map(String::as_str).collect();
    let made_many: Vec<String> = keys.iter().map(|key| made(&cache, key)).collect();
    let items: Vec<(&str, String)> = keys.iter().map(|k| (*k, value.clone())).collect();
    cache.set_many(&items, Timeout::Default).expect("set_many");
    let client =
        redis::Client::open(url.as_str().into_connection_info().expect("info")).expect("a client");
    let mut conn = client.get_connection().expect("a connection");
    let mux = runtime
        .block_on(client.get_multiplexed_async_connection())
        .expect("a multiplexed connection");
    // The same with a queue of 1,024 requests instead of the crate's 50 (cachex keeps 50): no
    // semaphore waits with 256 tasks, so fewer instructions, though less throughput in time.
    let mux_queue_1024 = runtime
        .block_on(client.get_multiplexed_async_connection_with_config(
            &redis::AsyncConnectionConfig::new().set_pipeline_buffer_size(1024),
        ))
        .expect("a multiplexed connection");
    // Warm up: each side's connections opened before the counted calls.
    drop(cache.get::<String>("bench:value"));
    drop(runtime.block_on(cache.aget::<String>("bench:value")));
    match path {
        "get" => {
            for _ in 0..calls {
                drop(black_box(cache.get::<String>("bench:value").expect("get")));
            }
        }
        // The calls split among THREADS OS threads: one cache, or a `Connection` each (with
        // the decode, or raw).
        "get_threads" => std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| {
                    for _ in 0..calls / THREADS as u64 {
                        drop(black_box(cache.get::<String>("bench:value").expect("get")));
                    }
                });
            }
        }),
        "conn_get_threads" | "conn_get_decode_threads" => std::thread::scope(|scope| {
            for _ in 0..THREADS {
                let mut conn = client.get_connection().expect("a connection");
                let key = &key_made;
                scope.spawn(move || {
                    for _ in 0..calls / THREADS as u64 {
                        let bytes: Option<Vec<u8>> =
                            redis::cmd("GET").arg(key).query(&mut conn).expect("GET");
                        if path == "conn_get_decode_threads" {
                            drop(black_box(decode(&bytes.expect("hit"))));
                        } else {
                            drop(black_box(bytes));
                        }
                    }
                });
            }
        }),
        "conn_get_decode" => {
            for _ in 0..calls {
                let bytes: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(&key_made)
                    .query(&mut conn)
                    .expect("GET");
                drop(black_box(decode(&bytes.expect("hit"))));
            }
        }
        "aget" => runtime.block_on(async {
            for _ in 0..calls {
                drop(black_box(
                    cache.aget::<String>("bench:value").await.expect("aget"),
                ));
            }
        }),
        "mux_get_decode" => runtime.block_on(async {
            let mut mux = mux.clone();
            for _ in 0..calls {
                let bytes: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(&key_made)
                    .query_async(&mut mux)
                    .await
                    .expect("GET");
                drop(black_box(decode(&bytes.expect("hit"))));
            }
        }),
        "aget_256" => runtime.block_on(async {
            let per_task = calls / TASKS as u64;
            let handles: Vec<_> = (0..TASKS)
                .map(|_| {
                    let cache = cache.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            drop(black_box(
                                cache.aget::<String>("bench:value").await.expect("aget"),
                            ));
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.await.expect("a task");
            }
        }),
        "mux_get_decode_256" | "mux1024_get_decode_256" => runtime.block_on(async {
            let per_task = calls / TASKS as u64;
            let mux = if path == "mux_get_decode_256" {
                &mux
            } else {
                &mux_queue_1024
            };
            let handles: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (mut mux, key) = (mux.clone(), key_made.clone());
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            let bytes: Option<Vec<u8>> = redis::cmd("GET")
                                .arg(&key)
                                .query_async(&mut mux)
                                .await
                                .expect("GET");
                            drop(black_box(decode(&bytes.expect("hit"))));
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.await.expect("a task");
            }
        }),
        // `_1m`: a value of 1 MiB (the scale rows' largest).
        "aset" | "aset_1m" => runtime.block_on(async {
            let value = if path == "aset" { value } else { value_1m() };
            for _ in 0..calls {
                cache
                    .aset("bench:value", &value, Timeout::Default)
                    .await
                    .expect("aset");
            }
        }),
        "mux_set_encode" | "mux_set_encode_1m" => runtime.block_on(async {
            let value = if path == "mux_set_encode" {
                value
            } else {
                value_1m()
            };
            let mut mux = mux.clone();
            for _ in 0..calls {
                redis::cmd("SET")
                    .arg(&key_made)
                    .arg(serde_json::to_vec(&value).expect("encodes"))
                    .arg("PX")
                    .arg(300_000)
                    .exec_async(&mut mux)
                    .await
                    .expect("SET");
            }
        }),
        "get_many" => {
            for _ in 0..calls {
                let found: HashMap<String, String> = cache.get_many(&keys).expect("get_many");
                drop(black_box(found));
            }
        }
        "aget_many" => runtime.block_on(async {
            for _ in 0..calls {
                let found: HashMap<String, String> =
                    cache.aget_many(&keys).await.expect("aget_many");
                drop(black_box(found));
            }
        }),
        "mux_mget_decode" => runtime.block_on(async {
            let mut mux = mux.clone();
            for _ in 0..calls {
                let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                    .arg(&made_many)
                    .query_async(&mut mux)
                    .await
                    .expect("MGET");
                let map: HashMap<String, String> = keys
                    .iter()
                    .zip(found)
                    .filter_map(|(key, bytes)| Some(((*key).to_owned(), decode(&bytes?))))
                    .collect();
                drop(black_box(map));
            }
        }),
        "conn_mget_decode" => {
            for _ in 0..calls {
                let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                    .arg(&made_many)
                    .query(&mut conn)
                    .expect("MGET");
                let map: HashMap<String, String> = keys
                    .iter()
                    .zip(found)
                    .filter_map(|(key, bytes)| Some(((*key).to_owned(), decode(&bytes?))))
                    .collect();
                drop(black_box(map));
            }
        }
        other => unknown(other),
    }
}

fn unknown(path: &str) -> ! {
    eprintln!("unknown path {path}");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|arg| arg != "--bench");
    let path = args.next().unwrap_or_else(|| "mem_get".into());
    let calls: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    if path == "sizes" {
        let cache = Cache::in_memory();
        println!(
            "aget future: {} bytes",
            std::mem::size_of_val(&cache.aget::<String>("k"))
        );
        println!(
            "aset future: {} bytes",
            std::mem::size_of_val(&cache.aset("k", "v", Timeout::Default))
        );
        println!(
            "aget_many future: {} bytes",
            std::mem::size_of_val(&cache.aget_many::<String>(&["k"]))
        );
        return;
    }
    if path.starts_with("mem_") || path.starts_with("moka_") || path.starts_with("quick_") {
        memory(&path, calls);
    } else {
        server(&path, calls);
    }
    println!("{path}: {calls} calls");
}
