//! What `#[auto_async]` costs per call, each case next to its baseline, with the ratio.
//!
//! Run with `cargo bench -p cachex --bench auto_async`. The table at the end reads the medians
//! criterion just measured; a ratio of 1.00 means "costs the same as the baseline".
//!
//! - async spellings: `x.am()`, `x.a().m()` and `x.m.as_async()` against a hand-written
//!   inherent `async fn` with the same body, each future polled once with a no-op waker;
//! - the blocking bridge: derived blocking twins against a plain blocking function with the
//!   same body, outside any runtime, inside a multi-thread runtime's worker and on a
//!   current-thread runtime, for a future ready at once and for one pending once;
//! - the async twin of a blocking method against the same plain function.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};

mod support;
use support::{App, Store, Table, ready};

/// Every spelling is called on the same `App`, so that each pays the same dereferences to reach
/// the table (`App` -> handles -> table), and only the spelling differs.
fn async_spellings(group: &mut BenchmarkGroup<'_, WallTime>, app: &App) {
    group.bench_function("hand_written", |b| {
        b.iter(|| ready(black_box(app).direct(black_box("gamma"))))
    });
    group.bench_function("am", |b| {
        b.iter(|| ready(black_box(app).aget(black_box("gamma"))))
    });
    group.bench_function("a_view", |b| {
        b.iter(|| ready(black_box(app).a().get(black_box("gamma"))))
    });
    group.bench_function("handle_as_async", |b| {
        b.iter(|| ready(black_box(app).get.as_async(black_box("gamma"))))
    });
}

/// Times `iters` calls of `call` inside a task of a multi-thread runtime (on a worker).
fn on_worker(
    runtime: &tokio::runtime::Runtime,
    table: &Arc<Table>,
    iters: u64,
    call: fn(&Table) -> Option<u64>,
) -> Duration {
    let table = table.clone();
    let task = runtime.spawn(async move {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(call(black_box(&table)));
        }
        start.elapsed()
    });
    runtime.block_on(task).unwrap_or_default()
}

fn blocking_bridge(group: &mut BenchmarkGroup<'_, WallTime>, table: &Arc<Table>) {
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    group.bench_function("plain_fn", |b| {
        b.iter(|| black_box(table).lookup(black_box("gamma")))
    });
    group.bench_function("ready_outside_runtime", |b| {
        b.iter(|| black_box(table).get(black_box("gamma")))
    });
    group.bench_function("ready_on_worker", |b| {
        b.iter_custom(|iters| on_worker(&multi, table, iters, |t| t.get("gamma")))
    });
    group.bench_function("ready_current_thread", |b| {
        b.iter_custom(|iters| {
            current.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(black_box(table).get(black_box("gamma")));
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("pending_outside_runtime", |b| {
        b.iter(|| black_box(table).get_after_yield(black_box("gamma")))
    });
    group.bench_function("pending_on_worker", |b| {
        b.iter_custom(|iters| on_worker(&multi, table, iters, |t| t.get_after_yield("gamma")))
    });
    group.bench_function("async_twin_outside_runtime", |b| {
        b.iter(|| ready(black_box(table).asize(black_box("gamma"))))
    });
    group.bench_function("async_twin_on_worker", |b| {
        b.iter_custom(|iters| {
            on_worker(&multi, table, iters, |t| ready(t.asize("gamma")).flatten())
        })
    });
}

/// The median criterion measured for `group/case`, in nanoseconds.
fn median(group: &str, case: &str) -> Option<f64> {
    let home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|dir| PathBuf::from(dir).join("criterion"))
        })
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/criterion"));
    let path = home.join(group).join(case).join("new/estimates.json");
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn print_ratios(tables: &[(&str, &str, &[&str])]) {
    println!(
        "\n{:<28} {:<28} {:>10} {:>10} {:>7}",
        "group", "case", "median", "baseline", "ratio"
    );
    for (group, baseline, cases) in tables {
        let Some(base) = median(group, baseline) else {
            println!("{group}: no measurement of {baseline} found");
            continue;
        };
        for case in *cases {
            match median(group, case) {
                Some(value) => println!(
                    "{group:<28} {case:<28} {value:>8.1}ns {base:>8.1}ns {:>7.2}",
                    value / base
                ),
                None => println!("{group:<28} {case:<28} (not measured in this run)"),
            }
        }
    }
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let table = Arc::new(Table::new());
    let app = App::new(table.clone());

    let mut group = criterion.benchmark_group("async_spellings");
    async_spellings(&mut group, &app);
    group.finish();
    let mut group = criterion.benchmark_group("blocking_bridge");
    blocking_bridge(&mut group, &table);
    group.finish();
    criterion.final_summary();

    print_ratios(&[
        (
            "async_spellings",
            "hand_written",
            &["am", "a_view", "handle_as_async"],
        ),
        (
            "blocking_bridge",
            "plain_fn",
            &[
                "ready_outside_runtime",
                "ready_on_worker",
                "ready_current_thread",
                "pending_outside_runtime",
                "pending_on_worker",
                "async_twin_outside_runtime",
                "async_twin_on_worker",
            ],
        ),
    ]);
}
