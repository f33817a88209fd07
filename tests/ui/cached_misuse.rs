use std::sync::LazyLock;

use cachex::{Cache, cached};

static CACHE: LazyLock<Cache> = LazyLock::new(Cache::in_memory);

#[cached(cache = CACHE, timeout = 60, fast, ttl = 1, ttl = 2)]
fn options(n: u32) -> u32 {
    n
}

#[cached]
fn no_cache(n: u32) -> u32 {
    n
}

#[cached(cache = CACHE)]
fn returns_nothing(n: u32) {
    let _ = n;
}

#[cached(cache = CACHE)]
fn generic<T: serde::Serialize>(value: T) -> usize {
    std::mem::size_of_val(&value)
}

#[cached(cache = CACHE)]
fn takes_impl(value: impl std::fmt::Display) -> String {
    value.to_string()
}

#[cached(cache = CACHE)]
fn destructures((a, b): (u32, u32)) -> u32 {
    a + b
}

#[cached(cache = CACHE)]
const fn constant(n: u32) -> u32 {
    n
}

struct Service;

impl Service {
    #[cached(cache = CACHE)]
    fn method(&self, n: u32) -> u32 {
        n
    }
}

#[cached(cache = CACHE)]
struct NotAFunction;

fn main() {
    // Every function above still exists as written: these calls have no follow-up errors.
    let _: u32 = options(1);
    let _: u32 = no_cache(1);
    returns_nothing(1);
    let _: usize = generic(1u8);
    let _: String = takes_impl(1);
    let _: u32 = destructures((1, 2));
    let _: u32 = constant(1);
    let _: u32 = Service.method(1);
    let _ = NotAFunction;
}
