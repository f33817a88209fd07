//! The guide: how to use cachex, topic by topic. Nothing here is code; every example runs as a
//! doctest on the embedded in-memory cache.
//!
//! | topic | read it for |
//! |---|---|
//! | [`surfaces`] | which spelling to call from which code: blocking, `aget`, `a()`, handles; your own traits |
//! | [`runtimes`] | what happens when blocking code calls async code and back; tokio runtimes; finding bridged calls |
//! | [`configuration`] | one URL for a whole deployment: every scheme and option, and the builder |
//! | [`topologies`] | standalone servers, TLS, Unix sockets; read replicas; Cluster and Sentinel |
//! | [`coordination`] | locks, counting semaphores, stampede prevention |
//! | [`tracking`] | a near cache the server keeps current: hot reads without a round trip, and its exact guarantee |
//! | [`codecs`] | how values are stored: serializers, compressors, their features, migrating between them |
//! | [`pipelines`] | many operations in one round trip, transactions, Lua scripts |
//! | [`streams`] | Redis streams: entries, blocking reads, consumer groups, claims |
//! | [`django`] | sharing a Redis with a Django service running django-cachex |
//! | [`cached`] | `#[cached]`: memoizing a function in a cache, its key, TTL, errors and concurrency |
//! | [`errors`] | the one error type, Django's exceptions, failing open |
//! | [`http`] | caching whole HTTP responses with a tower layer (`tower` feature): what is cached, keys and `Vary` |
//! | [`observability`] | the `tracing` spans and events, and the metrics (`metrics` feature): names, labels |
//! | [`features`] | the cargo features and what each one pulls in |
//!
//! Runnable programs are in the repository's `examples/` folder: `quickstart`, `web` (an axum
//! service and a blocking worker sharing one cache, with the HTTP layer and metrics),
//! `own_trait` and `migrate`.

#[doc = include_str!("surfaces.md")]
pub mod surfaces {}

#[doc = include_str!("runtimes.md")]
pub mod runtimes {}

#[doc = include_str!("configuration.md")]
pub mod configuration {}

#[doc = include_str!("topologies.md")]
pub mod topologies {}

#[doc = include_str!("coordination.md")]
pub mod coordination {}
#[doc = include_str!("tracking.md")]
pub mod tracking {}

#[doc = include_str!("codecs.md")]
pub mod codecs {}

#[doc = include_str!("pipelines.md")]
pub mod pipelines {}
#[doc = include_str!("streams.md")]
pub mod streams {}

#[doc = include_str!("django.md")]
pub mod django {}

#[doc = include_str!("errors.md")]
pub mod errors {}

#[cfg_attr(feature = "tower", doc = include_str!("http.md"))]
#[cfg_attr(
    not(feature = "tower"),
    doc = "Caching whole HTTP responses with a tower layer: this build has no `tower` feature."
)]
pub mod http {}

#[doc = include_str!("observability.md")]
pub mod observability {}

#[doc = include_str!("features.md")]
pub mod features {}

#[doc = include_str!("cached.md")]
pub mod cached {}
