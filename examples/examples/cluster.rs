//! A cache over a Redis Cluster (or a Sentinel service), configured by one URL.
//!
//! ```sh
//! CACHEX_URL='redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002?prefix=app' \
//!     cargo run --example cluster
//! CACHEX_URL='redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster/0' \
//!     cargo run --example cluster
//! ```
//!
//! Without `CACHEX_URL` it runs on the embedded in-memory cache, and says so.
//!
//! On a cluster, keys spread over every node: `get_many`, `set_many`, `delete_many` and `clear`
//! work on any keys (cachex splits them by slot and scans every primary). An operation that must
//! find its keys in one slot, such as `incr_version` (a rename from one version's key to the
//! next one's), needs a hash tag: the part of the key between `{` and `}` decides the slot.

use std::time::Duration;

use cachex::prelude::*;

fn main() -> cachex::Result<()> {
    let cache = match std::env::var("CACHEX_URL") {
        Ok(url) => Cache::from_url(&url)?,
        Err(_) => {
            println!(
                "CACHEX_URL is not set: using the in-memory cache. Point it at a cluster, e.g. \
                 CACHEX_URL='redis+cluster://127.0.0.1:7000,127.0.0.1:7001'"
            );
            Cache::default()
        }
    };
    println!("cache: {cache}");

    // Many keys, many slots, one call each.
    let items: Vec<(String, u32)> = (0..20).map(|n| (format!("item:{n}"), n)).collect();
    let borrowed: Vec<(&str, u32)> = items.iter().map(|(key, n)| (key.as_str(), *n)).collect();
    let failed = cache.set_many(&borrowed, Timeout::After(Duration::from_secs(60)))?;
    println!(
        "set_many       -> {} keys, {} failed",
        items.len(),
        failed.len()
    );
    let keys: Vec<&str> = items.iter().map(|(key, _)| key.as_str()).collect();
    println!(
        "get_many       -> {} found",
        cache.get_many::<u32>(&keys)?.len()
    );

    // A hash tag keeps both versions of a key in one slot, so incr_version works anywhere.
    cache.set("{user:1}:profile", "ada", Timeout::Default)?;
    println!(
        "incr_version   -> {}",
        cache.incr_version("{user:1}:profile", 1)?
    );
    // Without one, a cluster refuses with a typed error that names the fix.
    cache.set("untagged", "x", Timeout::Default)?;
    match cache.incr_version("untagged", 1) {
        Ok(version) => println!("incr_version   -> {version} (not a cluster)"),
        Err(err) => println!("incr_version   -> {err}"),
    }

    // The async side, same cache.
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let hits = cache.aincr_or_create("hits", 1, Timeout::Never).await?;
        println!("aincr_or_create-> {hits}");
        cachex::Result::Ok(())
    })?;

    println!("clear          -> {} keys removed", cache.clear()?);
    Ok(())
}
