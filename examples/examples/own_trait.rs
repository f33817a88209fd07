//! Your own trait: one definition, a blocking and an async API, every spelling.
//!
//! Run with `cargo run --example own_trait`.
//!
//! - `Store` is annotated with `#[auto_async]`; each method is written once, with its plain
//!   name, on the side that is native (`async fn get`, `fn set`).
//! - `Memory` implements one side of each method; the other is derived.
//! - `App` opts in to method handles, so every spelling works: `app.get(..)`,
//!   `app.aget(..).await`, `app.a().get(..).await`, `app.get.as_sync(..)`,
//!   `app.get.as_async(..).await`.
//! - `Snapshot` injects a native blocking `get` next to its native `aget`: its blocking calls
//!   no longer cross the bridge.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cachex::auto_async;

/// A small key-value store, written once.
#[auto_async]
pub trait Store: Send + Sync {
    /// Reads a value. Native async: implementors write `aget`, the blocking `get` is derived.
    async fn get(&self, key: &str) -> Option<String>;
    /// Writes a value. Native blocking: implementors write `set`, the async `aset` is derived.
    fn set(&self, key: &str, value: &str);
    /// Counts the entries: cheap, so `acount` calls it inline.
    #[auto_async(nonblocking)]
    fn count(&self) -> usize;
}

/// An in-memory implementation; each method is written on one side only.
#[derive(Default)]
pub struct Memory(RwLock<HashMap<String, String>>);

impl Store for Memory {
    async fn aget(&self, key: &str) -> Option<String> {
        self.0.read().ok()?.get(key).cloned()
    }

    fn set(&self, key: &str, value: &str) {
        if let Ok(mut map) = self.0.write() {
            map.insert(key.to_owned(), value.to_owned());
        }
    }

    fn count(&self) -> usize {
        self.0.read().map_or(0, |map| map.len())
    }
}

/// A frozen copy of a store, with both sides of `get` written by hand.
pub struct Snapshot(HashMap<String, String>);

impl Store for Snapshot {
    async fn aget(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    /// Injected: the native blocking side. `snapshot.get(..)` runs this, without the bridge.
    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set(&self, _key: &str, _value: &str) {}

    fn count(&self) -> usize {
        self.0.len()
    }
}

/// A type that offers method handles: `app.get.as_sync(..)`, `app.get.as_async(..)`.
#[derive(Clone, Default)]
pub struct App(Arc<StoreHandles<Arc<Memory>>>);

impl std::ops::Deref for App {
    type Target = StoreHandles<Arc<Memory>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Default for StoreHandles<Arc<Memory>> {
    fn default() -> Self {
        StoreHandles::new(Arc::default())
    }
}

/// Calls every spelling; returns `(spelling, result)` pairs, in order.
pub fn run() -> std::io::Result<Vec<(&'static str, String)>> {
    let mut seen = Vec::new();
    let app = App::default();

    // Blocking code (a CLI, a worker thread, a WSGI-style handler):
    app.set("greeting", "hello");
    seen.push(("get", format!("{:?}", app.get("greeting"))));
    seen.push(("get.as_sync", format!("{:?}", app.get.as_sync("greeting"))));

    // Async code, on any runtime:
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        app.aset("farewell", "bye").await;
        seen.push(("aget", format!("{:?}", app.aget("farewell").await)));
        seen.push(("a().get", format!("{:?}", app.a().get("farewell").await)));
        let handle = app.get.as_async("greeting").await;
        seen.push(("get.as_async", format!("{handle:?}")));
        seen.push(("acount", app.acount().await.to_string()));

        // Blocking calls stay safe inside async code: no panic, no stalled runtime.
        let blocking = tokio::task::spawn_blocking({
            let app = app.clone();
            move || app.get("greeting")
        });
        let from_blocking = blocking.await.map_err(std::io::Error::other)?;
        seen.push(("spawn_blocking get", format!("{from_blocking:?}")));
        std::io::Result::Ok(())
    })?;

    // Injection: a native blocking side, called directly.
    let snapshot = Snapshot(HashMap::from([("greeting".to_owned(), "hi".to_owned())]));
    seen.push(("injected get", format!("{:?}", snapshot.get("greeting"))));
    Ok(seen)
}

fn main() -> std::io::Result<()> {
    for (spelling, result) in run()? {
        println!("{spelling:<20} -> {result}");
    }
    Ok(())
}
