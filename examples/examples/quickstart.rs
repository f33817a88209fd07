//! Quickstart: Django's cache API, blocking and async, on one cache.
//!
//! Run with `cargo run --example quickstart`: it uses the embedded in-memory cache unless
//! `CACHEX_URL` names a server (`CACHEX_URL=redis://127.0.0.1:6379/0`).

use cachex::prelude::*;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Profile {
    name: String,
    karma: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cache = match std::env::var("CACHEX_URL") {
        Ok(url) => Cache::from_url(&url)?,
        Err(_) => Cache::default(),
    };
    println!("cache: {cache}");
    run(&cache)
}

/// The tour, on any cache; it clears the cache's keys (its prefix) at the end.
pub fn run(cache: &Cache) -> Result<(), Box<dyn std::error::Error>> {
    // Blocking code: a CLI, a worker thread, a WSGI-style handler.
    let profile = Profile {
        name: "ada".into(),
        karma: 42,
    };
    cache.set("user:1", &profile, Timeout::Default)?;
    println!("get            -> {:?}", cache.get::<Profile>("user:1")?);
    println!(
        "add (present)  -> {}",
        cache.add("user:1", &profile, Timeout::Never)?
    );
    cache.set("visits", &0, Timeout::Never)?;
    println!("incr           -> {}", cache.incr("visits", 1)?);

    // Async code, on any runtime, same cache.
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        println!(
            "aget           -> {:?}",
            cache.aget::<Profile>("user:1").await?
        );
        println!(
            "a().get        -> {:?}",
            cache.a().get::<u32>("visits").await?
        );
        println!(
            "get.as_async   -> {:?}",
            cache.get.as_async::<u32>("visits").await?
        );
        let greeting: String = cache
            .aget_or_set_with(
                "greeting",
                || async { "hello".to_owned() },
                Timeout::Default,
            )
            .await?;
        println!("aget_or_set    -> {greeting}");
        Ok::<(), cachex::Error>(())
    })?;

    println!("clear          -> {} keys", cache.clear()?);
    Ok(())
}
