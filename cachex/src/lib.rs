//! cachex: Django's cache API for Rust, blocking and async on the same cache, over Redis,
//! Valkey and an embedded in-memory default, with values that Django services using
//! django-cachex read and write. Its blocking and async surfaces are derived from one
//! definition by [`auto_async`], which you can put on your own traits too.
//!
#![cfg_attr(feature = "cache", doc = include_str!("guide/start.md"))]
#![cfg_attr(
    not(feature = "cache"),
    doc = "This build has no `cache` feature: it is [`auto_async`] and its [`bridge`] only.\n"
)]
//!
//! # Features
//!
//! `cache` (the API, JSON and the in-memory backend), `redis` (Redis and Valkey servers) and
//! `codecs` (`msgpack`, `zlib`, `gzip`, `zstd`, `lz4`, one feature each) are on by default;
//! `tls` adds `rediss://` and `valkeys://`, `cluster` Redis Cluster (`redis+cluster://`) and
//! `sentinel` Redis Sentinel (`redis+sentinel://`). With `default-features = false` this crate
//! is only the [`auto_async`] attribute and the [`bridge`] runtime that generated code calls, for
//! annotating your own traits without pulling in a Redis client.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "cache")]
mod api;
#[cfg(feature = "cache")]
mod backend;
pub mod bridge;
#[cfg(feature = "cache")]
mod cache;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub mod codec;
#[cfg(feature = "cache")]
mod error;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub mod guide;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub mod keys;
#[cfg(feature = "cache")]
mod load;
#[cfg(feature = "cache")]
mod lock;
#[cfg(feature = "cache")]
mod scan;

#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use api::{CacheApi, CacheApiAsync, CacheApiHandle, CacheApiHandles, KeyType, Timeout, Ttl};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use cache::{Cache, CacheBuilder, CacheCore, DEFAULT_TIMEOUT};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use error::{Error, Result};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use load::LoadError;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use lock::{Lock, LockApi, LockApiAsync};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use scan::{KeyIter, KeyScan};

/// Everything needed to use a cache: `use cachex::prelude::*;`.
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub mod prelude {
    pub use crate::{Cache, CacheApi, LockApi, Timeout};
}

/// Derives a blocking and an async API from one trait definition.
///
/// Every operation is written once, with its plain name. `async fn m` is native async:
/// implementors write `async fn am` and the blocking `m` is provided. `fn m` is native
/// blocking: implementors write `fn m` and the async `am` is provided.
///
/// ```
/// use cachex::auto_async;
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// #[auto_async]
/// pub trait Store: Send + Sync {
///     /// Native async: implementors write `async fn aget`; the blocking `get` is provided.
///     async fn get(&self, key: &str) -> Option<String>;
///     /// Native blocking: implementors write `fn size`; the async `asize` is provided.
///     fn size(&self) -> usize;
///     /// Cheap: `alen` is a ready future that calls `len` inline.
///     #[auto_async(nonblocking)]
///     fn len(&self) -> usize;
///     /// Left alone: no twin.
///     #[auto_async(skip)]
///     fn name(&self) -> &str;
/// }
///
/// #[derive(Default)]
/// struct Mem(Mutex<HashMap<String, String>>);
///
/// impl Store for Mem {
///     async fn aget(&self, key: &str) -> Option<String> {
///         self.0.lock().ok()?.get(key).cloned()
///     }
///     fn size(&self) -> usize {
///         self.0.lock().map(|map| map.values().map(String::len).sum()).unwrap_or(0)
///     }
///     fn len(&self) -> usize {
///         self.0.lock().map(|map| map.len()).unwrap_or(0)
///     }
///     fn name(&self) -> &str {
///         "mem"
///     }
/// }
///
/// let mem = Mem::default();
/// mem.0.lock().unwrap().insert("k".into(), "v".into());
/// // Blocking, from anywhere:
/// assert_eq!(mem.get("k").as_deref(), Some("v"));
/// # let runtime = tokio::runtime::Runtime::new().unwrap();
/// runtime.block_on(async {
///     // Async, with the `a` prefix or through the async view:
///     assert_eq!(mem.aget("k").await.as_deref(), Some("v"));
///     assert_eq!(mem.a().get("k").await.as_deref(), Some("v"));
///     assert_eq!(mem.a().size().await, 1);
///     assert_eq!(mem.alen().await, 1);
/// });
/// ```
///
/// # Spellings
///
/// For every method `m` (with the trait in scope and nothing else):
///
/// | spelling | meaning |
/// |---|---|
/// | `x.m(args)` | blocking call |
/// | `x.am(args).await` | async call |
/// | `x.a().m(args).await` | the async view, with the definition's names (`x.a_mut()` for `&mut self` methods) |
/// | `x.m.as_sync(args)` / `x.m.as_async(args).await` | method handles, on types that opt in |
///
/// # Injection
///
/// The provided side of any method can be overridden with a native implementation: write
/// `fn get` in the impl above and the blocking call no longer crosses the bridge.
///
/// # Options
///
/// On the trait: `local` (futures without `Send`), `crate = path` (where generated code finds
/// this crate), `deprecated_sync = "note"` / `deprecated_async = "note"` (applied to every
/// method). On a method: `nonblocking`, `skip`, `deprecated_sync = "note"`,
/// `deprecated_async = "note"`.
#[doc(inline)]
pub use cachex_macros::auto_async;

/// What generated code calls; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bridge::{
        BlockingCall, block_on, block_on_local, blocking, blocking_local, nonblocking,
    };
}
