//! Counts what each async spelling executes, for callgrind: wall-clock differences of a
//! nanosecond are noise on a shared machine, instruction counts are not.
//!
//! `scripts/bench-instructions` builds this and runs it under `valgrind --tool=callgrind` once
//! per spelling; equal counts per call mean the spellings compile to the same work.
//! Run directly: `cargo bench -p cachex --bench spelling_instructions -- SPELLING [CALLS]`,
//! with SPELLING one of `none`, `hand_written`, `am`, `a_view`, `handle_as_async`.

use std::hint::black_box;
use std::sync::Arc;

mod counting;
#[allow(dead_code)] // shared with the `auto_async` bench, which uses all of it
mod support;
use support::{App, Store, Table, ready};

fn main() {
    let (spelling, calls) = counting::spelling_and_calls();
    let app = App::new(Arc::new(Table::new()));
    let call: fn(&App) -> Option<Option<u64>> = match spelling.as_str() {
        "none" => |_| None,
        "hand_written" => |app| ready(app.direct(black_box("gamma"))),
        "am" => |app| ready(app.aget(black_box("gamma"))),
        "a_view" => |app| ready(app.a().get(black_box("gamma"))),
        "handle_as_async" => |app| ready(app.get.as_async(black_box("gamma"))),
        other => {
            eprintln!("unknown spelling {other}");
            std::process::exit(2);
        }
    };
    let mut sum = 0u64;
    for _ in 0..calls {
        sum += call(black_box(&app)).flatten().unwrap_or(0);
    }
    println!("{spelling}: {calls} calls, checksum {sum}");
}
