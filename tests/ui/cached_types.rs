use std::sync::LazyLock;

use cachex::{Cache, cached};

static CACHE: LazyLock<Cache> = LazyLock::new(Cache::in_memory);

struct Secret(u32);

/// The arguments make the key: each must be `serde::Serialize`.
#[cached(cache = CACHE)]
fn lookup(id: u32, secret: Secret) -> u32 {
    id + secret.0
}

/// The cache is a `cachex::Cache`.
#[cached(cache = "redis://localhost")]
fn wrong_cache(id: u32) -> u32 {
    id
}

#[derive(Debug)]
struct MyError;

/// The cache's errors become the function's: `From<cachex::Error>` is needed.
#[cached(cache = CACHE)]
fn fallible(id: u32) -> Result<u32, MyError> {
    Ok(id)
}

fn main() {}
