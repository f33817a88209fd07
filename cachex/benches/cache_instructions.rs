//! Counts what a call of the in-memory cache executes, for callgrind: the cost of the one call
//! path (`Store::run`'s dispatch) with the features it was built with, so that a feature that
//! observes calls (`metrics`) is measured against the build without it.
//!
//! `scripts/bench-instructions` runs it with the default features and with `metrics`, where
//! `get_recorded` is a `get` with metrics enabled (into the facade's no-op recorder: the
//! measuring, not what a recorder does with it). Run directly:
//! `cargo bench -p cachex --bench cache_instructions -- CASE [CALLS]`, with CASE one of `none`,
//! `get`, `get_miss`, `get_recorded` (with `--features metrics`).

use std::hint::black_box;

use cachex::prelude::*;

mod counting;

fn main() {
    let (case, calls) = counting::spelling_and_calls();
    let cache = Cache::in_memory();
    cache
        .set("gamma", &7u64, Timeout::Never)
        .expect("an in-memory set");
    let call: fn(&Cache) -> Option<u64> = match case.as_str() {
        "none" => |_| None,
        "get" => |cache| cache.get(black_box("gamma")).ok().flatten(),
        #[cfg(feature = "metrics")]
        "get_recorded" => {
            cachex::metrics::enable();
            |cache| cache.get(black_box("gamma")).ok().flatten()
        }
        "get_miss" => |cache| cache.get(black_box("delta")).ok().flatten(),
        other => {
            eprintln!("unknown case {other}");
            std::process::exit(2);
        }
    };
    let mut sum = 0u64;
    for _ in 0..calls {
        sum += call(black_box(&cache)).unwrap_or(0);
    }
    println!("{case}: {calls} calls, checksum {sum}");
}
