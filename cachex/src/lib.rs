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
//! `tls` adds `rediss://` and `valkeys://`, `cluster` Redis Cluster (`redis+cluster://`),
//! `sentinel` Redis Sentinel (`redis+sentinel://`), `tower` a layer caching HTTP responses
//! (`cachex::tower`, the guide's `http` page) and `metrics` counters and latencies through the
//! `metrics` facade (`cachex::metrics`, the guide's `observability` page). With
//! `default-features = false` this crate is only the [`auto_async`] attribute and the
//! [`bridge`] runtime that generated code calls, for annotating your own traits without
//! pulling in a Redis client.

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
mod cached;
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
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
#[cfg(feature = "cache")]
mod ops;
#[cfg(feature = "cache")]
mod scan;
#[cfg(feature = "cache")]
mod script;
#[cfg(feature = "cache")]
mod semaphore;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub mod stream;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
#[cfg(feature = "cache")]
mod url_text;

#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use api::{CacheApi, CacheApiAsync, CacheApiHandle, CacheApiHandles, KeyType, Timeout, Ttl};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use backend::near::TrackingStats;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use cache::{
    Cache, CacheBuilder, CacheCore, DEFAULT_TIMEOUT, Pipeline, PipelineApi, PipelineApiAsync,
    Queued, Replies, StampedePrevention,
};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use error::{Cause, Delivery, Error, Result, Waiting};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use load::LoadError;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use lock::{Lock, LockApi, LockApiAsync};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use ops::{
    Compare, Condition, ExpireCondition, ExpireTime, FieldExpiry, FieldsCondition, Info,
    InfoSections, InsertAt, ListEnd, RawData, SetOptions, SetOutcome, SlowlogEntry, ZaddOptions,
};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use scan::{KeyIter, KeyScan, MemberIter, MemberScan, Scan, ScanIter};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use script::{Decoded, FromScriptReply, Script, ScriptArg, ScriptReply};
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use semaphore::{Permit, PermitApi, PermitApiAsync};

/// Everything needed to use a cache: `use cachex::prelude::*;`.
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub mod prelude {
    pub use crate::{Cache, CacheApi, LockApi, PermitApi, PipelineApi, Timeout};
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
/// # The impl side
///
/// With `#[auto_async]` on the impl block too, implementors write the definition's names:
/// `async fn get` there is the native async side of `get` (renamed `aget`), `fn set` the native
/// blocking side, and injection keeps working (`async fn set` is the async side of a blocking
/// `set`, `fn get` the blocking side of an async `get`). A method the trait skips is marked
/// `#[auto_async(skip)]` in the impl too, to keep its name.
///
/// ```
/// use cachex::auto_async;
///
/// #[auto_async]
/// pub trait Store: Send + Sync {
///     async fn get(&self, key: &str) -> Option<String>;
///     fn set(&self, key: &str, value: &str);
/// }
///
/// struct Fixed;
///
/// #[auto_async]
/// impl Store for Fixed {
///     async fn get(&self, key: &str) -> Option<String> {
///         Some(key.to_uppercase())
///     }
///     fn set(&self, _: &str, _: &str) {}
/// }
///
/// assert_eq!(Fixed.get("k").as_deref(), Some("K"));
/// ```
///
/// # Trait objects
///
/// `#[auto_async(dyn)]` makes the trait usable as `Box<dyn Trait>`, `Arc<dyn Trait>` and
/// `&dyn Trait` (also `+ Send`, `+ Sync`): those pointers implement the trait, so every
/// spelling works on them, and generic code taking an implementor takes them too. The blocking
/// forms go through the vtable (to an injected side when the implementor wrote one); the async
/// forms through a boxed future, one allocation per call, from a hidden `{Trait}Dyn` supertrait
/// implemented for every implementor (and a `{Trait}Object` marker of the object types).
/// Statically dispatched calls are unchanged: no box, the instructions of a hand-written
/// `async fn` (`scripts/bench-instructions` counts both).
///
/// ```
/// use cachex::auto_async;
/// use std::sync::Arc;
///
/// #[auto_async(dyn)]
/// pub trait Store: Send + Sync {
///     async fn get(&self, key: &str) -> Option<String>;
///     fn size(&self) -> usize;
///     /// Generic: left out of the vtable (`where Self: Sized`), so it needs a default body.
///     async fn get_parsed<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
///         self.aget(key).await?.parse().ok()
///     }
/// }
///
/// struct Fixed;
///
/// impl Store for Fixed {
///     async fn aget(&self, key: &str) -> Option<String> {
///         Some(key.len().to_string())
///     }
///     fn size(&self) -> usize {
///         1
///     }
/// }
///
/// let store: Arc<dyn Store> = Arc::new(Fixed);
/// assert_eq!(store.get("abc").as_deref(), Some("3"));
/// # let runtime = tokio::runtime::Runtime::new().unwrap();
/// runtime.block_on(async {
///     assert_eq!(store.aget("ab").await.as_deref(), Some("2"));
///     assert_eq!(store.a().get("a").await.as_deref(), Some("1"));
///     assert_eq!(store.asize().await, 1);
///     let borrowed: &dyn Store = &Fixed;
///     assert_eq!((&borrowed).aget("abcd").await.as_deref(), Some("4"));
/// });
/// ```
///
/// What Rust requires of a trait object, and what it takes:
///
/// - Methods a trait object cannot call (generic ones, `impl Trait` arguments or results,
///   `self` by value, `Self` in arguments or results) get `where Self: Sized` on every form,
///   and need a default body: `Box<dyn Trait>` implements the trait, and could not implement
///   them. The same goes for the trait's own skipped methods.
/// - An async form's borrowed inputs and its future share one lifetime (the shortest of the
///   caller's; shared and exclusive references shrink to it), as a boxed future needs one:
///   implementors still write plain `async fn am(&self, key: &str)`, which is more general.
/// - The trait has no generic parameters nor associated consts, and (without `local`) has
///   `Send + Sync` supertraits. `Arc`, `&` (and `Rc` for `local` traits) are implemented only
///   when no required method takes `&mut self`; `Box` always.
/// - On a `&dyn Trait` variable itself, `r.am()` and `r.a()` name the object's own methods,
///   which are `Sized`-only so that static calls stay unboxed: write `(&r).am()`, or take
///   `impl Trait` (which `&dyn Trait` is). Only the blocking `r.m()` reaches the object itself.
/// - Method handles over a trait object (`TraitHandles<Arc<dyn Trait>>`) offer `as_sync` of the
///   methods in the vtable; their `as_async` needs a `Sized` implementor.
///
/// # Forwarding types
///
/// `#[auto_async(forward(App))]` makes `App`, a type that opts in to the method handles (it
/// dereferences to `{Trait}Handles<P>`), implement the trait by forwarding every method to the
/// implementor behind the handles, so that it can be passed where the trait is expected
/// (`fn f(store: &impl Store)`) and its rustdoc lists the operations. The provided forms are
/// forwarded too, so an implementor's injected side is the one called, at no cost. Methods
/// that take `&mut self` or `self`, or mention `Self`, keep their default body (a required one
/// cannot be forwarded and is reported).
///
/// ```
/// use cachex::auto_async;
/// use std::sync::Arc;
///
/// #[auto_async(forward(App))]
/// pub trait Store: Send + Sync {
///     async fn get(&self, key: &str) -> Option<usize>;
/// }
///
/// pub struct Lengths;
///
/// impl Store for Lengths {
///     async fn aget(&self, key: &str) -> Option<usize> {
///         Some(key.len())
///     }
/// }
///
/// #[derive(Clone)]
/// pub struct App(Arc<StoreHandles<Arc<Lengths>>>);
///
/// impl std::ops::Deref for App {
///     type Target = StoreHandles<Arc<Lengths>>;
///     fn deref(&self) -> &Self::Target {
///         &self.0
///     }
/// }
///
/// fn total(store: &impl Store, keys: &[&str]) -> usize {
///     keys.iter().filter_map(|key| store.get(key)).sum()
/// }
///
/// let app = App(Arc::new(StoreHandles::new(Arc::new(Lengths))));
/// assert_eq!(total(&app, &["a", "bb"]), 3);
/// assert_eq!(app.get.as_sync("abc"), Some(3));
/// ```
///
/// Forgetting to bring the trait into scope (for the cache: `use cachex::prelude::*`) makes
/// rustc point at a handle field (`x.m` is a field, not a method) and name the trait to import.
///
/// # Options
///
/// On the trait: `local` (futures without `Send`), `dyn` (trait objects), `forward(Type, ..)`
/// (forwarding types), `crate = path` (where generated code finds this crate),
/// `deprecated_sync = "note"` / `deprecated_async = "note"` (applied to every method). On a
/// method: `nonblocking`, `skip`, `deprecated_sync = "note"`, `deprecated_async = "note"`. On an
/// impl block: none; on its methods, `skip`.
///
/// # Misuse
///
/// Every misuse is a compile error at the user's own tokens, one per misuse, all reported in one
/// pass; and the rest still expands as intended: a bad option is left out, an invalid method
/// (without `self`, `unsafe`, `-> !`, a twin name that clashes) is kept as written without
/// twins, an invalid `dyn` or `forward` is not generated. An impl written against what is valid
/// then compiles, and gets no follow-up error.
///
/// # Supported shapes
///
/// Generic traits and methods, lifetimes in arguments and results, `where` clauses, associated
/// types and consts, supertraits (`Send + Sync` or not), `impl Trait` arguments and results
/// (`Result<impl AsRef<str> + Send, E>`), `&self`, `&mut self`, `self`, `mut self` and
/// `self: Box<Self>`, default bodies on either form (a value coerces to the declared type, as
/// in an `async fn`), doc comments and attributes (carried to both twins, `cfg` and lint levels
/// to every generated item), any visibility. The `Send` a future needs is a bound on the
/// methods that return it: `Self: Sync` for a provided `&self` async form (and for the blocking
/// twin that runs it), `Self: Send` for `&mut self` and `self`, so a type that is not `Sync`
/// still implements the trait and calls everything else. A by-value `self` gets `Self: Sized`
/// where a body moves it.
///
/// # Compared with async-trait, trait-variant and maybe-async
///
/// | | `#[auto_async]` | async-trait | trait-variant | maybe-async |
/// |---|---|---|---|---|
/// | what it generates | both a blocking and an async form of every method, from one definition, on the same object | an object-safe trait whose `async fn`s return boxed futures | a `Send` variant of a trait with native `async fn`s | either the async or the blocking form, chosen by a crate feature |
/// | calling both forms in one program | yes, with bridges that work in every runtime situation | async only | async only | no: one or the other per build |
/// | static dispatch | no box, no allocation (measured) | a box per call | no box | no box |
/// | trait objects | opt-in `dyn`: boxed async calls, vtable blocking calls | yes, always boxed | no | with its async form boxed by async-trait |
/// | implementors write | one side per method (`async fn am` or `fn m`), or the definition's names with `#[auto_async]` on the impl | the `async fn`, with the attribute on the impl | the `async fn` | the `async fn`, compiled both ways |
///
/// What `#[auto_async]` adds: a blocking surface and an async one on the same object from one
/// definition, either side native per method (and both when injected), the bridges between them
/// in every runtime situation, the `a()` view and the method handles, a migration path (reporting
/// bridged calls, deprecating a side). What it does not do: make blocking code asynchronous (the
/// async twin of a blocking method runs it in `block_in_place`, so that the worker's other tasks
/// move elsewhere), box futures outside trait objects, make a trait with generic parameters a
/// trait object, or call a trait object's async forms on a bare `&dyn Trait` without `(&r)`.
#[doc(inline)]
pub use cachex_macros::auto_async;

/// Memoizes a function in a [`Cache`]: a call whose result is stored is answered from the
/// cache without running the body. On `fn` and `async fn`; the guide's
/// [`cached` page](crate::guide::cached) has the details.
///
/// - `cache = EXPR` (required): the cache, any expression whose reference is a `&Cache`: a
///   `static` `LazyLock<Cache>`, a call returning `&Cache` or `Cache`.
/// - `ttl = EXPR`: how long a result is kept: an integer literal is seconds, anything else
///   goes through [`Timeout::from`] (a `Duration`, `Timeout::Never`); by default the cache's
///   default timeout.
/// - `key = EXPR`: the key of a call, made from the arguments (anything `Display`), in place
///   of the arguments themselves.
/// - `crate = path`: where `cachex` is, for a renamed dependency.
///
/// The key is the function's module path and name, `:`, then the arguments as compact JSON
/// (they must be `serde::Serialize`), or the `key` expression. Concurrent misses of one key
/// run the body once (the cache's [`get_or_set`](CacheApi::get_or_set) family). A function
/// returning `Result<T, E>` stores only `Ok` values: an `Err` is returned and never stored, and
/// the cache's own errors become `E` through `From<cachex::Error>`. Any other function
/// returns [`cachex::Result`](Result) of its value instead, the cache's error in `Err`.
///
/// ```
/// use std::sync::LazyLock;
/// use cachex::{Cache, cached};
///
/// static CACHE: LazyLock<Cache> = LazyLock::new(Cache::in_memory);
///
/// #[cached(cache = CACHE, ttl = 60)]
/// fn profile(id: u32) -> String {
///     format!("user {id}") // a database query
/// }
///
/// assert_eq!(profile(1)?, "user 1"); // runs the body and stores the result
/// assert_eq!(profile(1)?, "user 1"); // from the cache
/// # Ok::<(), cachex::Error>(())
/// ```
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
#[doc(inline)]
pub use cachex_macros::cached;

/// What generated code calls; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bridge::{
        BlockingCall, BoxFuture, LocalBoxFuture, block_on, block_on_local, blocking,
        blocking_local, boxed, boxed_local, nonblocking,
    };
    pub use std::boxed::Box;
    pub use std::rc::Rc;
    pub use std::sync::Arc;

    /// What `#[cached]` functions call.
    #[cfg(feature = "cache")]
    pub mod cached {
        pub use crate::cached::*;
    }
}
