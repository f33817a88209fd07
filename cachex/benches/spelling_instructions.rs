//! Counts what each async spelling executes, for callgrind: wall-clock differences of a
//! nanosecond are noise on a shared machine, instruction counts are not.
//!
//! `scripts/bench-instructions` builds this and runs it under `valgrind --tool=callgrind` once
//! per spelling; equal counts per call mean the spellings compile to the same work.
//! Run directly: `cargo bench -p cachex --bench spelling_instructions -- SPELLING [CALLS]`,
//! with SPELLING one of `none`, `hand_written`, `am`, `a_view`, `handle_as_async`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use cachex::auto_async;

#[auto_async]
trait Store: Send + Sync {
    async fn get(&self, key: &str) -> Option<u64>;
}

struct Table(Vec<u64>);

impl Table {
    #[inline(never)]
    fn lookup(&self, key: &str) -> Option<u64> {
        self.0.get(key.len()).copied()
    }

    async fn direct(&self, key: &str) -> Option<u64> {
        self.lookup(key)
    }
}

impl Store for Table {
    async fn aget(&self, key: &str) -> Option<u64> {
        self.lookup(key)
    }
}

struct App(Arc<StoreHandles<Arc<Table>>>);

impl std::ops::Deref for App {
    type Target = StoreHandles<Arc<Table>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[inline(always)]
fn ready<F: Future>(future: F) -> Option<F::Output> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|arg| arg != "--bench");
    let spelling = args.next().unwrap_or_else(|| "none".into());
    let calls: u64 = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let app = App(Arc::new(StoreHandles::new(Arc::new(Table(
        (0..64).collect(),
    )))));
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
