//! Tracking (the near cache), measured side by side in one run: a hot `get` with tracking next
//! to the same `get` without and next to the in-memory backend's; the invalidation delay (a
//! write acknowledged to another client until this cache's copy is gone), p50 and p99; the
//! memory held per copy; and django-cachex 0.14.1's tracking in the same scenario, on the
//! same server.
//!
//! Run with `scripts/bench-tracking` (it makes the Python environment with django-cachex
//! 0.14.1, then runs `cargo bench -p cachex-tests --bench tracking`); `-- --quick` for a smoke
//! run. The Python is `CACHEX_TRACKING_PYTHON`, or the one `scripts/django-cachex-venv` makes
//! (`.cache/django-cachex-0.14.1`); without one, the django-cachex rows are left out with a note. No timing is asserted.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{CacheBuilder, TrackingStats};
use cachex_tests::{Server, ServerKind};

/// How much to measure.
struct Plan {
    rounds: usize,
    /// Hot calls per round of the in-process sides (tracking, memory).
    hot: u64,
    /// Calls per round of the round-trip side.
    remote: u64,
    /// Invalidation delays measured.
    delays: usize,
    /// Copies made to measure the memory per copy.
    copies: usize,
}

impl Plan {
    fn from_args() -> Plan {
        if std::env::args().any(|arg| arg == "--quick") {
            Plan {
                rounds: 3,
                hot: 20_000,
                remote: 200,
                delays: 100,
                copies: 10_000,
            }
        } else {
            Plan {
                rounds: 9,
                hot: 200_000,
                remote: 2_000,
                delays: 1_000,
                copies: 100_000,
            }
        }
    }
}

/// The median of `values` (sorted in place).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Nanoseconds per call of `call`, `calls` times.
fn per_call(calls: u64, mut call: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..calls {
        call();
    }
    started.elapsed().as_nanos() as f64 / calls as f64
}

/// Two sides measured in alternating rounds (the order flipped each round): the median
/// figure of each and the median of the per-round ratios `a / b`.
fn side_by_side(
    rounds: usize,
    mut a: impl FnMut() -> f64,
    mut b: impl FnMut() -> f64,
) -> (f64, f64, f64) {
    a();
    b();
    let (mut firsts, mut seconds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (x, y) = if round % 2 == 0 {
            let x = a();
            (x, b())
        } else {
            let y = b();
            (a(), y)
        };
        firsts.push(x);
        seconds.push(y);
        ratios.push(x / y);
    }
    (
        median(&mut firsts),
        median(&mut seconds),
        median(&mut ratios),
    )
}

fn stats(cache: &Cache) -> TrackingStats {
    cache.tracking_stats().expect("tracking is on")
}

fn tracking_cache(url: &str, max_bytes: u64) -> Cache {
    let cache = CacheBuilder::from_url(url)
        .expect("a URL")
        .prefix("rs")
        .tracking_max_bytes(max_bytes)
        .build()
        .expect("a cache");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stats(&cache).live {
        assert!(
            Instant::now() < deadline,
            "the invalidation link never came up"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    cache
}

/// The resident memory of this process, in bytes.
fn rss() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|pages| pages.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0
}

/// The invalidation delays, in microseconds, sorted: `writer`'s write acknowledged until
/// `reader`'s copy is gone (the beginning of the first read that no longer finds it); and the
/// same from the write's start (its round trip included). The server sends the invalidation
/// before the write's answer, so the first is often about zero.
fn invalidation_delays(rounds: usize, reader: &Cache, writer: &Cache) -> (Vec<f64>, Vec<f64>) {
    let mut delays = Vec::with_capacity(rounds);
    let mut from_start = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let round = i64::try_from(round).expect("small");
        writer.set("delay", &round, Timeout::Never).expect("set");
        while reader.get::<i64>("delay").expect("get") != Some(round) {}
        let hits = stats(reader).hits;
        while stats(reader).hits == hits {
            black_box(reader.get::<i64>("delay").expect("get"));
        }
        let sent = Instant::now();
        writer.set("delay", &-1, Timeout::Never).expect("set");
        let acked = Instant::now();
        let began = loop {
            let began = Instant::now();
            if reader.get::<i64>("delay").expect("get") == Some(-1) {
                break began;
            }
        };
        delays.push(began.duration_since(acked).as_nanos() as f64 / 1000.0);
        from_start.push(began.duration_since(sent).as_nanos() as f64 / 1000.0);
    }
    delays.sort_by(f64::total_cmp);
    from_start.sort_by(f64::total_cmp);
    (delays, from_start)
}

/// `p50 …, p99 …, max …` of sorted microseconds.
fn spread(sorted: &[f64]) -> String {
    format!(
        "p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        percentile(sorted, 0.5),
        percentile(sorted, 0.99),
        sorted.last().copied().unwrap_or_default()
    )
}

fn percentile(sorted: &[f64], at: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * at).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

/// django-cachex's figures, as its script prints them (`None`: no Python with it).
fn django(plan: &Plan, url: &str) -> Option<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("CACHEX_TRACKING_PYTHON")
        .map(Into::into)
        .unwrap_or_else(cachex_tests::django::venv_python);
    if !python.exists() {
        println!(
            "\n(django-cachex rows left out: no {}; scripts/bench-tracking makes it)",
            python.display()
        );
        return None;
    }
    let output = Command::new(&python)
        .arg(root.join("benches/tracking_django.py"))
        .args([
            url.to_owned(),
            (plan.hot / 4).to_string(),
            plan.delays.to_string(),
            plan.copies.to_string(),
        ])
        .output()
        .expect("python runs");
    if !output.status.success() {
        println!(
            "\n(django-cachex rows left out: its script failed: {})",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    serde_json::from_slice(&output.stdout).ok()
}

fn main() {
    let plan = Plan::from_args();
    let server = Server::start(ServerKind::Redis);
    let url = server.url();
    let value = "x".repeat(100);

    let tracked = tracking_cache(&url, 32 << 20);
    let plain = CacheBuilder::from_url(&url)
        .expect("a URL")
        .prefix("rs")
        .build()
        .expect("a cache");
    let memory = Cache::in_memory();
    plain.set("hot", &value, Timeout::Never).expect("set");
    memory.set("hot", &value, Timeout::Never).expect("set");
    black_box(tracked.get::<String>("hot").expect("get"));

    eprintln!("hot get: tracking vs a round trip");
    let (with, without, vs_server) = side_by_side(
        plan.rounds,
        || per_call(plan.hot, || drop(black_box(tracked.get::<String>("hot")))),
        || per_call(plan.remote, || drop(black_box(plain.get::<String>("hot")))),
    );
    eprintln!("hot get: tracking vs the in-memory backend");
    let (with_again, in_memory, vs_memory) = side_by_side(
        plan.rounds,
        || per_call(plan.hot, || drop(black_box(tracked.get::<String>("hot")))),
        || per_call(plan.hot, || drop(black_box(memory.get::<String>("hot")))),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    eprintln!("hot aget: tracking vs the in-memory backend");
    let (async_with, async_memory, async_vs_memory) = side_by_side(
        plan.rounds,
        || {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..plan.hot {
                    drop(black_box(tracked.aget::<String>("hot").await));
                }
                started.elapsed().as_nanos() as f64 / plan.hot as f64
            })
        },
        || {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..plan.hot {
                    drop(black_box(memory.aget::<String>("hot").await));
                }
                started.elapsed().as_nanos() as f64 / plan.hot as f64
            })
        },
    );

    eprintln!("invalidation delay");
    let writer = CacheBuilder::from_url(&url)
        .expect("a URL")
        .prefix("rs")
        .build()
        .expect("a cache");
    let (delays, from_start) = invalidation_delays(plan.delays, &tracked, &writer);

    eprintln!("memory per copy");
    // A bound none of the copies reaches: every copy made stays.
    let tracked = tracking_cache(&url, 1 << 32);
    let keys: Vec<String> = (0..plan.copies).map(|at| format!("copy:{at}")).collect();
    let items: Vec<(&str, &str)> = keys
        .iter()
        .map(|key| (key.as_str(), value.as_str()))
        .collect();
    for chunk in items.chunks(1000) {
        plain.set_many(chunk, Timeout::Never).expect("set_many");
    }
    let copies_before = stats(&tracked).copies;
    let before = rss();
    for key in &keys {
        black_box(tracked.get::<String>(key).expect("get"));
    }
    let grown = rss() - before;
    let after = stats(&tracked);
    let made = after.copies.saturating_sub(copies_before).max(1) as f64;
    let per_copy = grown / made;

    eprintln!("django-cachex 0.14.1");
    let python = django(&plan, &url);

    println!("\n## tracking (Redis on loopback, 100-byte value)\n");
    println!("| case | figure | baseline | baseline figure | ratio | target | met |");
    println!("| --- | ---: | --- | ---: | ---: | ---: | :---: |");
    let met = |ok: bool| if ok { "yes" } else { "**no**" };
    println!(
        "| hot `get`, tracking | {} | `get` without tracking | {} | {:.1}× faster | >= 30× | {} |",
        fmt_ns(with),
        fmt_ns(without),
        1.0 / vs_server,
        met(1.0 / vs_server >= 30.0)
    );
    println!(
        "| hot `get`, tracking | {} | in-memory backend `get` | {} | {vs_memory:.2} | <= 2 | {} |",
        fmt_ns(with_again),
        fmt_ns(in_memory),
        met(vs_memory <= 2.0)
    );
    println!(
        "| hot `aget`, tracking | {} | in-memory backend `aget` | {} | {async_vs_memory:.2} | <= 2 | {} |",
        fmt_ns(async_with),
        fmt_ns(async_memory),
        met(async_vs_memory <= 2.0)
    );
    let p99 = percentile(&delays, 0.99);
    println!(
        "| invalidation delay from the write's answer ({} writes) | {} | | | | p99 < 2 ms | {} |",
        delays.len(),
        spread(&delays),
        met(p99 < 2000.0)
    );
    println!(
        "| invalidation delay from the write's start | {} | | | | | |",
        spread(&from_start)
    );
    println!(
        "| memory per copy (100 B value, ~12 B key) | {per_copy:.0} B (RSS growth over {made:.0} copies; weigher counts {} B) | | | | | |",
        after.bytes / after.copies.max(1)
    );
    if let Some(python) = python {
        let number = |name: &str| python[name].as_f64().unwrap_or(f64::NAN);
        let numbers = |name: &str| -> Vec<f64> {
            python[name]
                .as_array()
                .map(|items| items.iter().filter_map(serde_json::Value::as_f64).collect())
                .unwrap_or_default()
        };
        let (python_delays, python_from_start) = (numbers("delays_us"), numbers("from_start_us"));
        let (hot_tracking, hot_plain) = (number("hot_tracking_ns"), number("hot_plain_ns"));
        println!(
            "| django-cachex hot `get`, tracking | {} | its `get` without tracking | {} | {:.1}× faster | | |",
            fmt_ns(hot_tracking),
            fmt_ns(hot_plain),
            hot_plain / hot_tracking
        );
        println!(
            "| cachex hot `get`, tracking | {} | django-cachex hot `get`, tracking | {} | {:.1}× faster | | |",
            fmt_ns(with),
            fmt_ns(hot_tracking),
            hot_tracking / with
        );
        if !python_delays.is_empty() && !python_from_start.is_empty() {
            println!(
                "| django-cachex invalidation delay from the write's answer | {} | | | | | |",
                spread(&python_delays)
            );
            println!(
                "| django-cachex invalidation delay from the write's start | {} | | | | | |",
                spread(&python_from_start)
            );
        }
        println!(
            "| django-cachex memory per copy | {:.0} B (RSS growth) | | | | | |",
            number("per_copy_bytes")
        );
    }
}
