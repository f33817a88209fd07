//! [`Cache`]: Django's cache API over a backend, configured by a URL or a builder.
//!
//! - this file: the [`Cache`] handle (cheap clones of one shared [`CacheCore`]);
//! - [`builder`]: [`CacheBuilder`] and [`build`](CacheBuilder::build);
//! - [`url`]: [`CacheBuilder::from_url`], with one table of the URL's options;
//! - [`core`]: [`CacheCore`] and the helpers every operation uses, with the one call path to
//!   the backend;
//! - [`flight`]: single-flight for `get_or_set` (and the `tower` layer's misses), and XFetch's
//!   timings;
//! - [`api_impl`]: the [`CacheApi`](crate::CacheApi) implementation, one short body per operation;
//! - [`pipeline`]: [`Pipeline`]s and transactions, each operation queued by its own body.

mod api_impl;
mod builder;
mod core;
pub(crate) mod flight;
#[cfg(feature = "redis")]
mod near;
mod pipeline;
mod stampede;
mod url;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use self::builder::CacheBuilder;
use self::builder::Origin;
pub use self::core::CacheCore;
pub use self::pipeline::{Pipeline, PipelineApi, PipelineApiAsync, Queued, Replies};
pub use self::stampede::StampedePrevention;
use crate::Result;
use crate::api::CacheApiHandles;
use crate::backend::Store;
use crate::backend::memory::{Bound, Memory};
use crate::codec::Codec;
use crate::keys::Keys;

/// Django's `DEFAULT_TIMEOUT`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A cache: Django's API ([`CacheApi`](crate::CacheApi), brought in by `use cachex::prelude::*`) over the
/// embedded in-memory backend or a server.
///
/// Cloning is one reference count; every clone is the same cache. All spellings work:
///
/// ```
/// use cachex::prelude::*;
///
/// let cache = Cache::default(); // in memory: no server needed
/// cache.set("k", "v", Timeout::Default)?;
/// assert_eq!(cache.get::<String>("k")?.as_deref(), Some("v"));
/// assert_eq!(cache.get.as_sync::<String>("k")?.as_deref(), Some("v"));
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(cache.aget::<String>("k").await?.as_deref(), Some("v"));
/// assert_eq!(cache.a().get::<String>("k").await?.as_deref(), Some("v"));
/// assert_eq!(cache.get.as_async::<String>("k").await?.as_deref(), Some("v"));
/// # Ok::<(), cachex::Error>(())
/// # })?;
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Clone)]
pub struct Cache(Arc<CacheApiHandles<Arc<CacheCore>>>);

impl std::ops::Deref for Cache {
    type Target = CacheApiHandles<Arc<CacheCore>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Default for Cache {
    /// The embedded in-memory cache.
    fn default() -> Self {
        Cache::in_memory()
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&***self, f)
    }
}

/// The cache as a URL that builds the same cache: where it keeps its values, then every
/// option in force that a URL can express, durations in seconds, and never a secret
/// (passwords show as `***`):
///
/// ```
/// let cache = cachex::Cache::from_url("memory://?prefix=%7Bapp%7D&timeout=60")?;
/// assert_eq!(
///     cache.to_string(),
///     "memory://?prefix=%7Bapp%7D&version=1&timeout=60&strict_keys=false&fail_open=false\
///      &serializer=json&max_entries=10000"
/// );
/// # Ok::<(), cachex::Error>(())
/// ```
///
/// What only the builder sets is left out: a key function, `KeyValidation::Off`, fallback
/// serializers and compressors, a decompression cap, CA certificates given as PEM.
impl fmt::Display for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        url::show(self.core(), f)
    }
}

impl Cache {
    /// The embedded in-memory cache, with Django's defaults (no prefix, version 1, 300 s).
    pub fn in_memory() -> Self {
        let core = CacheCore::new(
            Arc::new(Store::Memory(Memory::new(Bound::default()))),
            Arc::new(Origin::memory(Bound::default())),
            Keys::new(),
            Codec::default(),
            Some(DEFAULT_TIMEOUT),
            false,
        );
        Cache::from_core(core)
    }

    /// A cache configured by one URL, so that a deployment is one environment variable:
    ///
    /// - `memory://` for the embedded cache (options `max_entries` or `max_bytes`);
    /// - `redis://[user:password@]host[:port][/db]`, `rediss://` (TLS), `valkey://`,
    ///   `valkeys://` (TLS), `redis+unix:///path/to.sock?db=0` for a Redis or Valkey server.
    ///   TLS needs the `tls` feature (rustls): the server's certificate is checked against
    ///   the system's roots, or the CA of `tls_ca`.
    /// - `redis+cluster://[user:password@]host1:port1,host2:port2` for a Redis Cluster (any
    ///   reachable seed node gives the topology; `rediss+cluster://` with TLS; option
    ///   `replica_reads=true`). Needs the `cluster` feature. Operations on several keys that
    ///   must share a slot (`incr_version`, which renames) need a hash tag (`{...}`) in the key
    ///   or the prefix; `get_many`, `set_many`, `delete_many` and `clear` work on any keys.
    /// - `redis+sentinel://[user:password@]host1:port1,host2:port2/service_name[/db]` for a
    ///   primary monitored by Sentinel (the user and password are the data nodes'; the
    ///   options `sentinel_username`, `sentinel_password` are the sentinels', and
    ///   `replica_reads=true` sends reads to a replica). Failovers are followed. Needs the
    ///   `sentinel` feature.
    ///
    /// The query string takes the cache's options, each URL those of its kind (the
    /// [configuration guide](crate::guide::configuration) has the table): everywhere `prefix`,
    /// `version`, `timeout` (seconds, or `none` for never), `strict_keys`, `fail_open`,
    /// `serializer` (`json`, `msgpack`), `compressor` (`zlib`, `gzip`, `zstd`, `lz4`),
    /// `compression_level`, `min_length`; `max_entries` or `max_bytes` for `memory://`; for servers
    /// `connect_timeout`, `response_timeout` and `retry_budget` (seconds, fractions allowed;
    /// see `CacheBuilder::retry_budget`), `connection_limit` (requests in flight per
    /// connection) and `tls_ca` (the path of a PEM file of CA certificates to trust instead of
    /// the system's roots, read when the cache is built; see
    #[cfg_attr(feature = "tls", doc = "[`CacheBuilder::tls_root_certificate`]);")]
    #[cfg_attr(
        not(feature = "tls"),
        doc = "`CacheBuilder::tls_root_certificate`, which needs the `tls` feature);"
    )]
    /// `db`, `user`, `pass` for Unix sockets, `protocol` (`resp2`, `resp3`) for one server,
    /// and the cluster's and Sentinel's own. Names and values are percent-decoded
    /// (`prefix=%7Bapp%7D` is `{app}`).
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) naming the mistake: an unknown option (with the
    /// closest known name), an option of another kind of URL, a value the option cannot take,
    /// a broken `%` escape, a bad host, port or database (`the port "63x9" is not a number from
    /// 1 to 65535`), or a codec this build does not include. No password is ever shown.
    ///
    /// ```
    /// let cache = cachex::Cache::from_url("memory://?prefix=app&version=2&timeout=60")?;
    /// assert_eq!(cache.core().key_settings().prefix(), "app");
    /// # Ok::<(), cachex::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        CacheBuilder::from_url(url)?.build()
    }

    /// A builder, starting from Django's defaults.
    pub fn builder() -> CacheBuilder {
        CacheBuilder::default()
    }

    /// The same cache (same backend, same settings) at another default version, as Django's
    /// `version=` argument: keys written through one are invisible to the other.
    pub fn with_version(&self, version: i64) -> Self {
        let core = self.core();
        self.view(core.keys.clone().with_version(version), core.stampede)
    }

    /// The same cache (same backend, same settings) under another prefix: keys written
    /// through one are invisible to the other, and `clear` on one leaves the other's.
    pub fn with_prefix(&self, prefix: impl Into<String>) -> Self {
        let core = self.core();
        self.view(core.keys.clone().with_prefix(prefix), core.stampede)
    }

    /// The same cache (same backend, same keys) with another `stampede_prevention` setting,
    /// as django-cachex's per-call `stampede_prevention=` argument: `None` reads and sets the
    /// raw stored expiries (the buffer included) and never misses early.
    ///
    /// ```
    /// use cachex::prelude::*;
    /// use cachex::{StampedePrevention, Ttl};
    /// use std::time::Duration;
    ///
    /// let cache = Cache::builder()
    ///     .stampede_prevention(Some(StampedePrevention::default()))
    ///     .build()?;
    /// cache.set("k", "v", Timeout::After(Duration::from_secs(100)))?;
    /// let Ttl::Expires(logical) = cache.ttl("k")? else { unreachable!() };
    /// let Ttl::Expires(stored) = cache.with_stampede_prevention(None).ttl("k")? else { unreachable!() };
    /// // Two reads a moment apart: the stored one is 60 s longer, give or take that moment.
    /// let buffer = stored.saturating_sub(logical);
    /// assert!(buffer <= Duration::from_secs(60) && buffer > Duration::from_secs(59));
    /// # Ok::<(), cachex::Error>(())
    /// ```
    pub fn with_stampede_prevention(&self, stampede: Option<StampedePrevention>) -> Self {
        self.view(self.core().keys.clone(), stampede)
    }

    /// A cache over this one's backend and settings with other keys and stampede option.
    fn view(&self, keys: Keys, stampede: Option<StampedePrevention>) -> Self {
        let core = self.core();
        let mut view = CacheCore::new(
            core.store.clone(),
            core.origin.clone(),
            keys,
            core.codec.clone(),
            core.default_timeout,
            core.fail_open,
        );
        view.stampede = stampede;
        Cache::from_core(view)
    }

    /// The cache's implementation of [`CacheApi`](crate::CacheApi), shared by every clone.
    pub fn core(&self) -> &CacheCore {
        &self.0
    }

    pub(super) fn from_core(core: CacheCore) -> Self {
        Cache(Arc::new(CacheApiHandles::new(Arc::new(core))))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{CacheApi, Timeout};

    #[test]
    fn a_cancelled_get_or_set_leaves_no_flight_behind() {
        let cache = Cache::in_memory();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            for _ in 0..10 {
                let never = cache.core().aget_or_set_with(
                    "k",
                    std::future::pending::<u32>,
                    Timeout::Default,
                );
                let timed_out = tokio::time::timeout(Duration::from_millis(1), never).await;
                assert!(timed_out.is_err());
            }
        });
        let flights = cache.core().flights.len();
        assert_eq!(flights, 0, "{flights} flights left");
    }
}
