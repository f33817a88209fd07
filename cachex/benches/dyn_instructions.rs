//! Counts what the spellings of a `#[auto_async(dyn)]` trait execute, for callgrind, like
//! `spelling_instructions` (a binary of its own, so that the counts of that one stay comparable
//! from run to run): the async twin and the view called statically next to a hand-written
//! `async fn`, the same through an `Arc<dyn ..>`, and the blocking twin (bridging a future ready
//! at once) statically, on a trait without `dyn`, and through an `Arc<dyn ..>`.
//!
//! Run directly: `cargo bench -p cachex --bench dyn_instructions -- SPELLING [CALLS]`, with
//! SPELLING one of `none`, `hand_written`, `static_am`, `static_a_view`, `arc_dyn_am`,
//! `arc_dyn_a_view`, `static_blocking`, `plain_trait_blocking`, `arc_dyn_blocking`.

use std::hint::black_box;
use std::sync::Arc;

use cachex::auto_async;

mod counting;
#[allow(dead_code)] // shared with the `auto_async` bench, which uses all of it
mod support;
use support::{Store, Table, ready};

/// `Store::get` again, on a trait that can be a trait object.
#[auto_async(dyn)]
trait Object: Send + Sync {
    async fn get(&self, key: &str) -> Option<u64>;
}

impl Object for Table {
    async fn aget(&self, key: &str) -> Option<u64> {
        self.lookup(key)
    }
}

/// Makes `calls` calls, each on a `black_box`ed target, and returns the checksum.
fn checksum<T: ?Sized>(calls: u64, target: &T, call: fn(&T) -> Option<Option<u64>>) -> u64 {
    let mut sum = 0u64;
    for _ in 0..calls {
        sum += call(black_box(target)).flatten().unwrap_or(0);
    }
    sum
}

fn main() {
    let (spelling, calls) = counting::spelling_and_calls();
    let table = Arc::new(Table::new());
    let object: Arc<dyn Object> = table.clone();
    let on_table: fn(&Table) -> Option<Option<u64>> = match spelling.as_str() {
        "none" => |_| None,
        "hand_written" => |table| ready(table.direct(black_box("gamma"))),
        "static_am" => |table| ready(Object::aget(table, black_box("gamma"))),
        "static_a_view" => |table| ready(Object::a(table).get(black_box("gamma"))),
        "static_blocking" => |table| Some(Object::get(table, black_box("gamma"))),
        "plain_trait_blocking" => |table| Some(Store::get(table, black_box("gamma"))),
        spelling => {
            let on_object: fn(&Arc<dyn Object>) -> Option<Option<u64>> = match spelling {
                "arc_dyn_am" => |object| ready(object.aget(black_box("gamma"))),
                "arc_dyn_a_view" => |object| ready(object.a().get(black_box("gamma"))),
                "arc_dyn_blocking" => |object| Some(object.get(black_box("gamma"))),
                other => {
                    eprintln!("unknown spelling {other}");
                    std::process::exit(2);
                }
            };
            let sum = checksum(calls, &object, on_object);
            println!("{spelling}: {calls} calls, checksum {sum}");
            return;
        }
    };
    let sum = checksum(calls, &*table, on_table);
    println!("{spelling}: {calls} calls, checksum {sum}");
}
