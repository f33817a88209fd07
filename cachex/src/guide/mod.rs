//! The guide: how to use cachex, topic by topic. Nothing here is code; every example runs as a
//! doctest on the embedded in-memory cache.
//!
//! | topic | read it for |
//! |---|---|
//! | [`surfaces`] | which spelling to call from which code: blocking, `aget`, `a()`, handles; your own traits |
//! | [`runtimes`] | what happens when blocking code calls async code and back; tokio runtimes; finding bridged calls |
//! | [`configuration`] | one URL for a whole deployment: every scheme and option, and the builder |
//! | [`topologies`] | standalone servers, TLS, Unix sockets; Cluster and Sentinel |
//! | [`tracking`] | a near cache the server keeps current: hot reads without a round trip, and its exact guarantee |
//! | [`codecs`] | how values are stored: serializers, compressors, their features, migrating between them |
//! | [`django`] | sharing a Redis with a Django service running django-cachex |
//! | [`errors`] | the one error type, Django's exceptions, failing open |
//! | [`features`] | the cargo features and what each one pulls in |
//!
//! Runnable programs are in the repository's `examples/` folder: `quickstart`, `web` (an axum
//! service and a blocking worker sharing one cache), `own_trait` and `migrate`.

#[doc = include_str!("surfaces.md")]
pub mod surfaces {}

#[doc = include_str!("runtimes.md")]
pub mod runtimes {}

#[doc = include_str!("configuration.md")]
pub mod configuration {}

#[doc = include_str!("topologies.md")]
pub mod topologies {}

#[doc = include_str!("tracking.md")]
pub mod tracking {}

#[doc = include_str!("codecs.md")]
pub mod codecs {}

#[doc = include_str!("django.md")]
pub mod django {}

#[doc = include_str!("errors.md")]
pub mod errors {}

#[doc = include_str!("features.md")]
pub mod features {}
