//! Your own trait: one definition, a blocking and an async API, every spelling.
//!
//! Run with `cargo run --example own_trait`.

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

fn main() {
    let app = App::default();

    // Blocking code (a CLI, a worker thread, a WSGI-style handler):
    app.set("greeting", "hello");
    println!("blocking  get      -> {:?}", app.get("greeting"));
    println!("handle    as_sync  -> {:?}", app.get.as_sync("greeting"));

    // Async code, on any runtime:
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        app.aset("farewell", "bye").await;
        println!("async     aget     -> {:?}", app.aget("farewell").await);
        println!("view      a().get  -> {:?}", app.a().get("farewell").await);
        println!(
            "handle    as_async -> {:?}",
            app.get.as_async("greeting").await
        );
        println!("nonblocking acount -> {}", app.acount().await);

        // Blocking calls stay safe inside async code: no panic, no stalled runtime.
        let blocking = tokio::task::spawn_blocking({
            let app = app.clone();
            move || app.get("greeting")
        });
        println!(
            "spawn_blocking get -> {:?}",
            blocking.await.expect("no panic")
        );
    });
}
