//! [`Cache`]: Django's cache API over a backend, configured by a URL or a builder.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::api::{CacheApi, CacheApiHandles, KeyType, Timeout, Ttl};
use crate::backend::memory::{DEFAULT_MAX_ENTRIES, Memory};
#[cfg(feature = "tls")]
use crate::backend::redis::TlsRoots;
#[cfg(feature = "redis")]
use crate::backend::redis::{Redis, ServerOptions};
use crate::backend::{Command, Cursor, End, Expiry, RawStore, Reply, ScanPage, SetMode, SetOp};
use crate::codec::{Codec, CodecBuilder};
use crate::keys::{KeyFunction, KeyValidation, Keys};
use crate::lock::Lock;
use crate::scan::{KeyScan, SCAN_BATCH};
use crate::{Error, Result};

/// Django's `DEFAULT_TIMEOUT`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A cache: Django's API ([`CacheApi`], brought in by `use cachex::prelude::*`) over the
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

/// Where the cache keeps its values, without secrets: `memory://?max_entries=10000`,
/// `redis://user:***@host:6379/0`.
impl fmt::Display for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.core().location)
    }
}

impl Cache {
    /// The embedded in-memory cache, with Django's defaults (no prefix, version 1, 300 s).
    pub fn in_memory() -> Self {
        let core = CacheCore {
            store: Arc::new(Store::Memory(Memory::new(DEFAULT_MAX_ENTRIES))),
            location: Location::Memory {
                max_entries: DEFAULT_MAX_ENTRIES,
            }
            .to_string(),
            keys: Keys::new(),
            codec: Codec::default(),
            default_timeout: Some(DEFAULT_TIMEOUT),
            fail_open: false,
            flights: Flights::default(),
            compute_times: Mutex::default(),
        };
        Cache::from_core(core)
    }

    /// A cache configured by one URL, so that a deployment is one environment variable:
    ///
    /// - `memory://` for the embedded cache (option `max_entries`);
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
    /// The query string takes the cache's options: `prefix`, `version`, `timeout` (seconds,
    /// or `none` for never), `strict_keys`, `fail_open`, `serializer` (`json`, `msgpack`),
    /// `compressor` (`zlib`, `gzip`, `zstd`, `lz4`), `compression_level`, `min_length`, and
    /// for servers `connect_timeout`, `response_timeout` and `retry_budget` (seconds, fractions
    /// allowed; see `CacheBuilder::retry_budget`), `connection_limit` (requests in flight
    /// per connection) and `tls_ca` (the path of a PEM file of CA certificates to trust
    /// instead of the system's roots, read when the cache is built; see
    #[cfg_attr(feature = "tls", doc = "[`CacheBuilder::tls_root_certificate`]).")]
    #[cfg_attr(
        not(feature = "tls"),
        doc = "`CacheBuilder::tls_root_certificate`, which needs the `tls` feature)."
    )]
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
        self.with_keys(self.core().keys.clone().with_version(version))
    }

    /// The same cache (same backend, same settings) under another prefix: keys written
    /// through one are invisible to the other, and `clear` on one leaves the other's.
    pub fn with_prefix(&self, prefix: impl Into<String>) -> Self {
        self.with_keys(self.core().keys.clone().with_prefix(prefix))
    }

    fn with_keys(&self, keys: Keys) -> Self {
        let core = self.core();
        Cache::from_core(CacheCore {
            keys,
            store: core.store.clone(),
            codec: core.codec.clone(),
            default_timeout: core.default_timeout,
            fail_open: core.fail_open,
            location: core.location.clone(),
            flights: Flights::default(),
            compute_times: Mutex::default(),
        })
    }

    /// The cache's implementation of [`CacheApi`], shared by every clone.
    pub fn core(&self) -> &CacheCore {
        &self.0
    }

    fn from_core(core: CacheCore) -> Self {
        Cache(Arc::new(CacheApiHandles::new(Arc::new(core))))
    }
}

/// Builds a [`Cache`].
///
/// ```
/// use cachex::Cache;
/// use std::time::Duration;
///
/// let cache = Cache::builder()
///     .prefix("app")
///     .version(2)
///     .default_timeout(Some(Duration::from_secs(60)))
///     .build()?;
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CacheBuilder {
    location: Location,
    keys: Keys,
    codec: CodecBuilder,
    default_timeout: Option<Duration>,
    fail_open: bool,
    #[cfg(feature = "redis")]
    server: ServerOptions,
}

/// Where the values live.
#[derive(Clone, PartialEq, Eq)]
enum Location {
    Memory {
        max_entries: u64,
    },
    /// A server URL, without the cache's own options.
    #[cfg(feature = "redis")]
    Server {
        url: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Memory { max_entries } => write!(f, "memory://?max_entries={max_entries}"),
            #[cfg(feature = "redis")]
            Location::Server { url } => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Default for CacheBuilder {
    fn default() -> Self {
        CacheBuilder {
            location: Location::Memory {
                max_entries: DEFAULT_MAX_ENTRIES,
            },
            keys: Keys::new(),
            codec: Codec::builder(),
            default_timeout: Some(DEFAULT_TIMEOUT),
            fail_open: false,
            #[cfg(feature = "redis")]
            server: ServerOptions::default(),
        }
    }
}

impl CacheBuilder {
    /// A builder configured by a URL (see [`Cache::from_url`]).
    pub fn from_url(url: &str) -> Result<Self> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            Error::Config("not a cache URL: it must start with a scheme and `://`".to_owned())
        })?;
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        #[cfg(not(feature = "redis"))]
        let _ = address; // only server URLs have an address
        let mut builder = CacheBuilder::default();
        let mut server_query = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match builder.clone().option(name, value) {
                Ok(configured) => builder = configured,
                Err(Error::Config(_)) if !is_cache_option(name) => server_query.push(pair),
                Err(err) => return Err(err),
            }
        }
        builder.location = match scheme.to_ascii_lowercase().as_str() {
            "memory" => match server_query.first() {
                Some(unknown) => {
                    let name = unknown.split_once('=').map_or(*unknown, |(name, _)| name);
                    return Err(Error::Config(format!("unknown cache option {name:?}")));
                }
                None => builder.location,
            },
            #[cfg(feature = "redis")]
            "redis" | "rediss" | "valkey" | "valkeys" | "redis+unix" | "unix" | "redis+cluster"
            | "rediss+cluster" | "valkey+cluster" | "valkeys+cluster" | "redis+sentinel"
            | "rediss+sentinel" | "valkey+sentinel" | "valkeys+sentinel" => {
                let query = server_query.join("&");
                let separator = if query.is_empty() { "" } else { "?" };
                Location::Server {
                    url: format!("{scheme}://{address}{separator}{query}"),
                }
            }
            other => {
                return Err(Error::Config(format!(
                    "unknown cache URL scheme {other:?}: expected {}",
                    if cfg!(feature = "redis") {
                        "memory, redis, rediss, valkey, valkeys, redis+unix, redis+cluster or \
                         redis+sentinel"
                    } else {
                        "memory (server URLs need the `redis` feature)"
                    }
                )));
            }
        };
        Ok(builder)
    }

    /// Applies one `name=value` option of a URL's query string.
    fn option(mut self, name: &str, value: &str) -> Result<Self> {
        let invalid = || Error::Config(format!("invalid value {value:?} for the option {name}"));
        let flag = || match value {
            "" | "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            _ => Err(invalid()),
        };
        match name {
            "prefix" => self.keys = self.keys.with_prefix(value),
            "version" => {
                self.keys = self
                    .keys
                    .with_version(value.parse().map_err(|_| invalid())?)
            }
            "timeout" => {
                self.default_timeout = match value {
                    "none" | "None" => None,
                    seconds => Some(Duration::from_secs(
                        seconds
                            .parse::<i64>()
                            .map_err(|_| invalid())?
                            .max(0)
                            .unsigned_abs(),
                    )),
                }
            }
            "strict_keys" => {
                if flag()? {
                    self.keys = self.keys.with_validation(KeyValidation::Strict);
                }
            }
            "fail_open" => self.fail_open = flag()?,
            "serializer" => self.codec = self.codec.serializer(value.parse()?),
            "compressor" => self.codec = self.codec.compressor(value.parse()?),
            "compression_level" => {
                self.codec = self
                    .codec
                    .compression_level(value.parse().map_err(|_| invalid())?)
            }
            "min_length" => {
                self.codec = self.codec.min_length(value.parse().map_err(|_| invalid())?)
            }
            "max_entries" => {
                self.location = Location::Memory {
                    max_entries: value.parse().map_err(|_| invalid())?,
                }
            }
            #[cfg(feature = "redis")]
            "connect_timeout" => {
                self.server.connect_timeout = Some(parse_seconds(value).ok_or_else(invalid)?)
            }
            #[cfg(feature = "redis")]
            "connection_limit" => {
                self.server.connection_limit = Some(value.parse().map_err(|_| invalid())?)
            }
            #[cfg(feature = "redis")]
            "response_timeout" => {
                self.server.response_timeout = Some(parse_seconds(value).ok_or_else(invalid)?)
            }
            #[cfg(feature = "redis")]
            "retry_budget" => {
                self.server.retry_budget = Some(parse_seconds(value).ok_or_else(invalid)?)
            }
            #[cfg(feature = "tls")]
            "tls_ca" => {
                if value.is_empty() {
                    return Err(invalid());
                }
                self.server.tls_roots = Some(TlsRoots::File(value.into()));
            }
            #[cfg(not(feature = "tls"))]
            "tls_ca" => {
                return Err(Error::Config(
                    "the option tls_ca needs TLS, which this build of cachex does not include: \
                     enable the `tls` feature of cachex"
                        .to_owned(),
                ));
            }
            other => return Err(Error::Config(format!("unknown cache option {other:?}"))),
        }
        Ok(self)
    }

    /// The key prefix (Django's `KEY_PREFIX`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.keys = self.keys.with_prefix(prefix);
        self
    }

    /// The default version (Django's `VERSION`).
    pub fn version(mut self, version: i64) -> Self {
        self.keys = self.keys.with_version(version);
        self
    }

    /// The key function (Django's `KEY_FUNCTION`).
    pub fn key_function(mut self, function: KeyFunction) -> Self {
        self.keys = self.keys.with_function(function);
        self
    }

    /// What happens to keys Django warns about (warned by default).
    pub fn key_validation(mut self, validation: KeyValidation) -> Self {
        self.keys = self.keys.with_validation(validation);
        self
    }

    /// The default timeout: `None` for never (Django's `TIMEOUT`, 300 s by default).
    pub fn default_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.default_timeout = timeout;
        self
    }

    /// The value codec: serializer, compressor and their fallbacks (JSON without
    /// compression by default, as django-cachex's `JSONSerializer`).
    pub fn codec(mut self, codec: CodecBuilder) -> Self {
        self.codec = codec;
        self
    }

    /// Fail open: when the server is down, reads are misses and writes report "not stored",
    /// with a warning (at most one a second), instead of errors (django-redis's
    /// `IGNORE_EXCEPTIONS`). This covers `get`, `get_many`, `has_key`, `set`, `set_many`,
    /// `add`, `delete`, `delete_many` and `touch`; counters, versions, `clear`, `flush_db` and
    /// `close` still report the failure, since no made-up answer to them is safe.
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    /// The bound on the number of entries of the in-memory backend.
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.location = Location::Memory { max_entries };
        self
    }

    /// How long connecting to a server may take (default 1 s: a cache that cannot connect
    /// should fail fast, or fail open).
    #[cfg(feature = "redis")]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.server.connect_timeout = Some(timeout);
        self
    }

    /// How long a server may take to answer a request (default 5 s); past it, the call fails
    /// with [`Error::Timeout`]. A command that timed out may still have been applied by the
    /// server.
    #[cfg(feature = "redis")]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.server.response_timeout = Some(timeout);
        self
    }

    /// Retries calls while the server cannot be reached, for up to `budget` per call (default
    /// none: a call fails as soon as the server is found unreachable, after at most one
    /// immediate replay on a new connection). URL option: `retry_budget=<seconds>`.
    ///
    /// Only failures that leave no doubt are retried: commands whose repetition is harmless
    /// (`GET`, `MGET`, plain `SET`, `set_many`'s pipeline, `DEL`, `EXISTS`, `PEXPIRE`, `clear`'s
    /// `SCAN`/`UNLINK`, `FLUSHDB`) after any broken or refused connection; the others (`add`'s
    /// `SET NX`, `incr`/`decr`, the version moves' `RENAME`) only when the connection was
    /// refused, which proves they were never sent, so nothing is ever applied twice. A request
    /// lost with a broken connection may still have been applied: for those commands that
    /// stays an [`Error::Connection`]. Timeouts (a hung server) and server errors are not
    /// retried.
    ///
    /// Pauses between attempts start at 10 ms and double up to 500 ms, less up to half at
    /// random, and never run past the budget. So a server restart shorter than the budget
    /// delays the calls made meanwhile instead of failing them; a call still takes at most
    /// about the budget plus one response timeout. With [`fail_open`](Self::fail_open) as
    /// well, a call fails open once the budget is spent.
    #[cfg(feature = "redis")]
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.server.retry_budget = Some(budget);
        self
    }

    /// At most `limit` requests in flight on each server connection (cachex keeps one
    /// multiplexed connection per tokio runtime); further requests wait their turn.
    #[cfg(feature = "redis")]
    pub fn connection_limit(mut self, limit: usize) -> Self {
        self.server.connection_limit = Some(limit);
        self
    }

    /// Trusts the CA certificates of `pem` (PEM text, one or more `-----BEGIN CERTIFICATE-----`
    /// blocks) for `rediss://` and `valkeys://`, instead of the system's roots: for servers
    /// whose certificate a private CA signed. The URL option `tls_ca=/path/to/ca.pem` does the
    /// same from a file; whichever comes last wins. [`build`](Self::build) fails with
    /// [`Error::Config`] when `pem` holds no certificate, or the URL does not use TLS.
    ///
    /// Needs the `tls` feature, which connects with rustls (its ring provider, installed as
    /// rustls's process default unless the application installed one first).
    #[cfg(feature = "tls")]
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.server.tls_roots = Some(TlsRoots::Pem(pem.into()));
        self
    }

    /// Builds the cache. Servers are connected to lazily, on first use.
    pub fn build(self) -> Result<Cache> {
        let (store, location) = match &self.location {
            Location::Memory { max_entries } => (
                Store::Memory(Memory::new(*max_entries)),
                self.location.to_string(),
            ),
            #[cfg(feature = "redis")]
            Location::Server { url } => {
                let redis = Redis::new(url, self.server.clone())?;
                let location = redis.location().to_owned();
                (Store::Redis(redis), location)
            }
        };
        Ok(Cache::from_core(CacheCore {
            store: Arc::new(store),
            location,
            codec: self.codec.build()?,
            keys: self.keys,
            default_timeout: self.default_timeout,
            fail_open: self.fail_open,
            flights: Flights::default(),
            compute_times: Mutex::default(),
        }))
    }
}

/// Seconds, fractions allowed (`0.5`).
#[cfg(feature = "redis")]
fn parse_seconds(value: &str) -> Option<Duration> {
    Duration::try_from_secs_f64(value.parse().ok()?).ok()
}

/// Whether a URL query option belongs to the cache rather than to the server.
fn is_cache_option(name: &str) -> bool {
    matches!(
        name,
        "prefix"
            | "version"
            | "timeout"
            | "strict_keys"
            | "fail_open"
            | "serializer"
            | "compressor"
            | "compression_level"
            | "min_length"
            | "max_entries"
            | "connect_timeout"
            | "response_timeout"
            | "connection_limit"
            | "retry_budget"
            | "tls_ca"
    )
}

/// Hides the secrets of a URL, for messages: the password of `user:password@`, and the
/// values of query parameters that carry one (`pass`, `password`, anything with `token`).
#[cfg(feature = "redis")]
fn redact(url: &str) -> String {
    let (address, query) = url.split_once('?').unwrap_or((url, ""));
    let address = match (address.find("://"), address.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &address[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => {
                    format!("{}{user}:***{}", &address[..scheme_end + 3], &address[at..])
                }
                None => format!("{}***{}", &address[..scheme_end + 3], &address[at..]),
            }
        }
        _ => address.to_owned(),
    };
    if query.is_empty() {
        return address;
    }
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{address}?{}", query.join("&"))
}

#[cfg(feature = "redis")]
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "pass" || name.contains("password") || name.contains("token") || name.contains("secret")
}

/// The backends, dispatched statically.
pub(crate) enum Store {
    Memory(Memory),
    #[cfg(feature = "redis")]
    Redis(Redis),
}

/// Runs one backend call on whichever backend the store is; traced (see [`Store::traced`])
/// when something listens. The traced call is boxed, so that the untraced one, the usual case,
/// keeps its own size: the calling futures stay small and cheap to move.
macro_rules! dispatch {
    ($store:expr, $operation:expr, $keys:expr, $backend:ident => $call:expr) => {
        if tracing::enabled!(target: "cachex", tracing::Level::DEBUG) {
            Box::pin($store.traced($operation, $keys, async {
                match $store {
                    Store::Memory($backend) => $call,
                    #[cfg(feature = "redis")]
                    Store::Redis($backend) => $call,
                }
            }))
            .await
        } else {
            match $store {
                Store::Memory($backend) => $call,
                #[cfg(feature = "redis")]
                Store::Redis($backend) => $call,
            }
        }
    };
}

impl Store {
    /// The backend's name, for logs.
    fn kind(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            #[cfg(feature = "redis")]
            Store::Redis(redis) => redis.kind(),
        }
    }

    /// Runs `call` in a `cachex` span (operation, key count, backend) and ends it with a debug
    /// event giving its duration and outcome. Only called when something listens at debug
    /// level for target `cachex`: otherwise a call costs one check of tracing's cached
    /// interest.
    async fn traced<T>(
        &self,
        operation: &'static str,
        keys: usize,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let span = tracing::debug_span!(
            target: "cachex",
            "cachex",
            operation,
            keys,
            backend = self.kind()
        );
        let started = Instant::now();
        let result = call.instrument(span.clone()).await;
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let _in_span = span.enter();
        match &result {
            Ok(_) => tracing::debug!(target: "cachex", elapsed_us, "done"),
            Err(err) => tracing::debug!(target: "cachex", elapsed_us, error = %err, "failed"),
        }
        result
    }
}

impl RawStore for Store {
    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        dispatch!(self, "GET", 1, store => store.get(key).await)
    }
    async fn set(&self, key: &str, value: Vec<u8>, expiry: Expiry, mode: SetMode) -> Result<bool> {
        dispatch!(self, "SET", 1, store => store.set(key, value, expiry, mode).await)
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>> {
        dispatch!(self, "MGET", keys.len(), store => store.get_many(keys).await)
    }
    async fn set_many(&self, items: Vec<(String, Vec<u8>)>, expiry: Expiry) -> Result<Vec<String>> {
        let count = items.len();
        dispatch!(self, "SET many", count, store => store.set_many(items, expiry).await)
    }
    async fn delete_many(&self, keys: &[String]) -> Result<u64> {
        dispatch!(self, "DEL", keys.len(), store => store.delete_many(keys).await)
    }
    async fn exists(&self, key: &str) -> Result<bool> {
        dispatch!(self, "EXISTS", 1, store => store.exists(key).await)
    }
    async fn incr_by(&self, key: &str, delta: i64, create: Option<Expiry>) -> Result<Option<i64>> {
        dispatch!(self, "INCRBY", 1, store => store.incr_by(key, delta, create).await)
    }
    async fn expire(&self, key: &str, expiry: Expiry) -> Result<bool> {
        dispatch!(self, "PEXPIRE", 1, store => store.expire(key, expiry).await)
    }
    async fn rename(&self, from: &str, to: &str) -> Result<bool> {
        dispatch!(self, "RENAME", 2, store => store.rename(from, to).await)
    }
    async fn delete_pattern(&self, pattern: &str) -> Result<u64> {
        dispatch!(self, "SCAN UNLINK", 0, store => store.delete_pattern(pattern).await)
    }
    async fn flush_db(&self) -> Result<()> {
        dispatch!(self, "FLUSHDB", 0, store => store.flush_db().await)
    }
    async fn execute(&self, command: Command) -> Result<Reply> {
        let (operation, keys) = (command.name(), command.key_count());
        dispatch!(self, operation, keys, store => store.execute(command).await)
    }
    async fn scan(&self, cursor: Cursor, pattern: &str, count: usize) -> Result<ScanPage> {
        dispatch!(self, "SCAN", 0, store => store.scan(cursor, pattern, count).await)
    }
    async fn close(&self) -> Result<()> {
        dispatch!(self, "close", 0, store => store.close().await)
    }
}

/// One lock per key being computed by `get_or_set`, so that concurrent misses of a key in this
/// process compute it once.
#[derive(Default)]
struct Flights(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// A caller's place in the flight of one key; leaving (even by cancellation) forgets the
/// key's lock once nobody else holds it.
struct Flight<'a> {
    flights: &'a Flights,
    key: String,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Flights {
    fn join(&self, key: &str) -> Flight<'_> {
        let mut flights = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Flight {
            lock: flights.entry(key.to_owned()).or_default().clone(),
            key: key.to_owned(),
            flights: self,
        }
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut flights = self
            .flights
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The map's reference and ours: nobody else is waiting.
        if Arc::strong_count(&self.lock) == 2 {
            flights.remove(&self.key);
        }
    }
}

/// What a [`Cache`] shares between its clones: settings, codec, backend. It implements
/// [`CacheApi`]; a `Cache` dereferences to it.
pub struct CacheCore {
    store: Arc<Store>,
    keys: Keys,
    codec: Codec,
    default_timeout: Option<Duration>,
    fail_open: bool,
    location: String,
    flights: Flights,
    /// How long this process last took to compute each key of `get_or_set` (for XFetch).
    compute_times: Mutex<HashMap<String, Duration>>,
}

impl fmt::Debug for CacheCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("location", &self.location)
            .field("keys", &self.keys)
            .field("codec", &self.codec)
            .field("default_timeout", &self.default_timeout)
            .field("fail_open", &self.fail_open)
            .finish()
    }
}

impl CacheCore {
    /// The key settings.
    pub fn key_settings(&self) -> &Keys {
        &self.keys
    }

    /// The value codec.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The expiry of a timeout; `None` when it means "expired at once".
    fn expiry(&self, timeout: Timeout) -> Option<Expiry> {
        let duration = match timeout {
            Timeout::Default => self.default_timeout,
            Timeout::Never => None,
            Timeout::After(duration) => Some(duration),
        };
        match duration {
            None => Some(Expiry::Never),
            Some(duration) if duration.is_zero() => None,
            Some(duration) => Some(Expiry::After(duration.max(Duration::from_millis(1)))),
        }
    }

    fn key(&self, key: &str) -> Result<String> {
        self.keys.make(key, None)
    }

    /// In fail-open mode, a connection failure or timeout becomes `fallback`, with a warning.
    fn or_fail_open<T>(&self, result: Result<T>, fallback: impl FnOnce() -> T) -> Result<T> {
        match result {
            Err(err @ (Error::Connection { .. } | Error::Timeout(_))) if self.fail_open => {
                warn_failing_open(&self.location, &err);
                Ok(fallback())
            }
            other => other,
        }
    }

    /// Runs a command of the extended API about the caller's `key`.
    async fn run(&self, key: &str, command: Command) -> Result<Reply> {
        self.store
            .execute(command)
            .await
            .map_err(|err| err.about(key))
    }

    fn made_keys(&self, keys: &[&str]) -> Result<Vec<String>> {
        keys.iter().map(|key| self.key(key)).collect()
    }

    fn encode_all<V: Serialize>(&self, values: &[V]) -> Result<Vec<Vec<u8>>> {
        values
            .iter()
            .map(|value| self.codec.encode(value))
            .collect()
    }

    fn decode_all<V: DeserializeOwned>(&self, key: &str, reply: Reply) -> Result<Vec<V>> {
        reply
            .byte_items()?
            .iter()
            .map(|bytes| self.codec.decode(key, bytes))
            .collect()
    }

    fn decode_optional<V: DeserializeOwned>(&self, key: &str, reply: Reply) -> Result<Option<V>> {
        reply
            .bytes()?
            .map(|bytes| self.codec.decode(key, &bytes))
            .transpose()
    }

    /// `[member, score, ...]` as pairs.
    fn decode_scored<V: DeserializeOwned>(&self, key: &str, reply: Reply) -> Result<Vec<(V, f64)>> {
        let items = reply.byte_items()?;
        items
            .chunks(2)
            .map(|pair| match pair {
                [member, score] => Ok((self.codec.decode(key, member)?, parse_score(score)?)),
                _ => Err(Error::Server(
                    "a score is missing from the reply".to_owned(),
                )),
            })
            .collect()
    }

    /// A blocking pop's `[made key, value]` as the caller's key and the value.
    fn decode_popped<V: DeserializeOwned>(
        &self,
        keys: &[&str],
        made: &[String],
        reply: Reply,
    ) -> Result<Option<(String, V)>> {
        let mut items = reply.byte_items()?.into_iter();
        let (Some(popped_from), Some(value)) = (items.next(), items.next()) else {
            return Ok(None);
        };
        let key = made
            .iter()
            .position(|made| made.as_bytes() == popped_from)
            .map(|at| keys[at])
            .ok_or_else(|| Error::Server("a blocking pop answered an unknown key".to_owned()))?;
        Ok(Some((key.to_owned(), self.codec.decode(key, &value)?)))
    }

    async fn ttl_of(&self, key: &str) -> Result<Option<Duration>> {
        let made = self.key(key)?;
        match self.run(key, Command::Pttl(made)).await?.int()? {
            -2 => Ok(None),
            -1 => Ok(Some(Duration::MAX)),
            millis => Ok(Some(Duration::from_millis(millis.max(0).unsigned_abs()))),
        }
    }

    /// `PEXPIREAT`/`PEXPIRE` in milliseconds of `value` × `scale`.
    async fn expire_command(
        &self,
        key: &str,
        value: i64,
        scale: i64,
        absolute: bool,
    ) -> Result<bool> {
        let millis = value
            .checked_mul(scale)
            .filter(|millis| millis.unsigned_abs() <= MAX_EXPIRE_MILLIS)
            .ok_or_else(|| Error::InvalidArgument(format!("expiry {value} is out of range")))?;
        let made = self.key(key)?;
        let command = if absolute {
            Command::PexpireAt {
                key: made,
                unix_millis: millis,
            }
        } else {
            Command::Pexpire { key: made, millis }
        };
        self.run(key, command).await?.flag()
    }

    /// Pushes `values` onto one end of a list.
    async fn push(&self, key: &str, end: End, values: Vec<Vec<u8>>) -> Result<u64> {
        let made = self.key(key)?;
        let command = Command::Push {
            key: made,
            end,
            values,
        };
        self.run(key, command).await?.count()
    }

    async fn blocking_pop<V: DeserializeOwned>(
        &self,
        keys: &[&str],
        end: End,
        timeout: Option<Duration>,
    ) -> Result<Option<(String, V)>> {
        let made = self.made_keys(keys)?;
        let command = Command::BlockingPop {
            keys: made.clone(),
            end,
            timeout,
        };
        let reply = self.store.execute(command).await?;
        self.decode_popped(keys, &made, reply)
    }

    async fn set_op<V: DeserializeOwned>(&self, op: SetOp, keys: &[&str]) -> Result<Vec<V>> {
        let made = self.made_keys(keys)?;
        let about = keys.first().copied().unwrap_or_default();
        let reply = self.run(about, Command::SetOp { op, keys: made }).await?;
        self.decode_all(about, reply)
    }

    async fn zrange_command(
        &self,
        key: &str,
        start: i64,
        stop: i64,
        reverse: bool,
        with_scores: bool,
    ) -> Result<Reply> {
        let made = self.key(key)?;
        let command = Command::Zrange {
            key: made,
            start,
            stop,
            reverse,
            with_scores,
        };
        self.run(key, command).await
    }

    async fn zrange_by_score_command(
        &self,
        key: &str,
        min: f64,
        max: f64,
        with_scores: bool,
    ) -> Result<Reply> {
        let (min, max) = (score(min)?, score(max)?);
        let made = self.key(key)?;
        let command = Command::ZrangeByScore {
            key: made,
            min,
            max,
            with_scores,
        };
        self.run(key, command).await
    }

    async fn zrank_command<V: Serialize + ?Sized>(
        &self,
        key: &str,
        member: &V,
        reverse: bool,
    ) -> Result<Option<u64>> {
        let made = self.key(key)?;
        let member = self.codec.encode(member)?;
        let command = Command::Zrank {
            key: made,
            member,
            reverse,
        };
        match self.run(key, command).await? {
            Reply::Nil => Ok(None),
            reply => reply.count().map(Some),
        }
    }

    async fn zpop<V: DeserializeOwned>(
        &self,
        key: &str,
        count: u64,
        max: bool,
    ) -> Result<Vec<(V, f64)>> {
        let made = self.key(key)?;
        let reply = self
            .run(
                key,
                Command::Zpop {
                    key: made,
                    count,
                    max,
                },
            )
            .await?;
        self.decode_scored(key, reply)
    }

    fn key_scan(&self, pattern: &str) -> KeyScan {
        KeyScan::new(
            self.store.clone(),
            self.keys.clone(),
            self.keys.pattern(pattern, None),
        )
    }

    fn record_compute_time(&self, made: &str, took: Duration) {
        let mut times = self
            .compute_times
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if times.len() >= MAX_COMPUTE_TIMES && !times.contains_key(made) {
            times.clear();
        }
        times.insert(made.to_owned(), took);
    }

    fn compute_time(&self, made: &str) -> Option<Duration> {
        let times = self
            .compute_times
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        times.get(made).copied()
    }

    async fn version_move(&self, key: &str, delta: i64) -> Result<i64> {
        let version = self.keys.version();
        let new_version = version
            .checked_add(delta)
            .ok_or_else(|| Error::Config(format!("version {version} + {delta} is out of range")))?;
        let from = self.keys.make(key, Some(version))?;
        let to = self.keys.make(key, Some(new_version))?;
        if self.store.rename(&from, &to).await? {
            Ok(new_version)
        } else {
            Err(Error::NotFound {
                key: key.to_owned(),
            })
        }
    }
}

/// The longest expiry `expire`, `pexpire` and their absolute forms accept, in milliseconds
/// (about 285,000 years): further is refused as a server would refuse an overflowing one.
const MAX_EXPIRE_MILLIS: u64 = 1 << 53;

/// How many keys' compute times are remembered for XFetch before the record starts over.
const MAX_COMPUTE_TIMES: usize = 10_000;

/// A score as sent to a backend: NaN is refused (as Redis refuses it); `-0.0` is `0.0`.
fn score(score: f64) -> Result<f64> {
    if score.is_nan() {
        return Err(Error::InvalidArgument("a score cannot be NaN".to_owned()));
    }
    Ok(score + 0.0)
}

/// A score of a reply (`inf` and `-inf` included).
fn parse_score(text: &[u8]) -> Result<f64> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            Error::Server(format!(
                "the server answered {:?} for a score",
                String::from_utf8_lossy(text)
            ))
        })
}

/// A hash field name of a reply.
fn field_name(key: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::Decode {
        key: key.to_owned(),
        reason: "a hash field name is not UTF-8".to_owned(),
    })
}

/// At most one fail-open warning a second, process-wide.
fn warn_failing_open(location: &str, err: &Error) {
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
        *last = Some(Instant::now());
        tracing::warn!(target: "cachex", "cache {location} unavailable, failing open: {err}");
    }
}

impl CacheApi for CacheCore {
    async fn aget<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        let made = self.key(key)?;
        let bytes = self.or_fail_open(self.store.get(&made).await, || None);
        let bytes = bytes.map_err(|err| err.about(key))?;
        bytes
            .map(|bytes| self.codec.decode(key, &bytes))
            .transpose()
    }

    async fn aset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<()> {
        let made = self.key(key)?;
        let bytes = self.codec.encode(value)?;
        let result = match self.expiry(timeout) {
            Some(expiry) => self.store.set(&made, bytes, expiry, SetMode::Always).await,
            None => self.store.delete_many(&[made]).await.map(|_| true),
        };
        self.or_fail_open(result, || false).map(drop)
    }

    async fn aadd<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<bool> {
        let made = self.key(key)?;
        let bytes = self.codec.encode(value)?;
        let result = match self.expiry(timeout) {
            Some(expiry) => {
                self.store
                    .set(&made, bytes, expiry, SetMode::IfAbsent)
                    .await
            }
            // Django: would it have been added? Nothing is kept.
            None => self.store.exists(&made).await.map(|exists| !exists),
        };
        self.or_fail_open(result, || false)
    }

    async fn adelete(&self, key: &str) -> Result<bool> {
        let made = self.key(key)?;
        let result = self.store.delete_many(&[made]).await.map(|n| n > 0);
        self.or_fail_open(result, || false)
    }

    async fn aget_many<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
    ) -> Result<HashMap<String, V>> {
        let made = keys
            .iter()
            .map(|key| self.key(key))
            .collect::<Result<Vec<_>>>()?;
        let values = self.or_fail_open(self.store.get_many(&made).await, Vec::new)?;
        let mut found = HashMap::with_capacity(values.len());
        for (key, bytes) in keys.iter().zip(values) {
            if let Some(bytes) = bytes {
                found.insert((*key).to_owned(), self.codec.decode(key, &bytes)?);
            }
        }
        Ok(found)
    }

    async fn aset_many<V: Serialize + Sync>(
        &self,
        items: &[(&str, V)],
        timeout: Timeout,
    ) -> Result<Vec<String>> {
        let mut encoded = Vec::with_capacity(items.len());
        let mut by_made = HashMap::with_capacity(items.len());
        for (key, value) in items {
            let made = self.key(key)?;
            by_made.insert(made.clone(), *key);
            encoded.push((made, self.codec.encode(value)?));
        }
        let all = || items.iter().map(|(key, _)| (*key).to_owned()).collect();
        let result = match self.expiry(timeout) {
            Some(expiry) => self.store.set_many(encoded, expiry).await.map(|failed| {
                failed
                    .iter()
                    .filter_map(|made| by_made.get(made).map(|key| (*key).to_owned()))
                    .collect()
            }),
            None => {
                let made: Vec<String> = encoded.into_iter().map(|(made, _)| made).collect();
                self.store.delete_many(&made).await.map(|_| Vec::new())
            }
        };
        self.or_fail_open(result, all)
    }

    async fn adelete_many(&self, keys: &[&str]) -> Result<u64> {
        let made = keys
            .iter()
            .map(|key| self.key(key))
            .collect::<Result<Vec<_>>>()?;
        let result = self.store.delete_many(&made).await;
        self.or_fail_open(result, || 0)
    }

    async fn ahas_key(&self, key: &str) -> Result<bool> {
        let made = self.key(key)?;
        let result = self.store.exists(&made).await;
        self.or_fail_open(result, || false)
    }

    async fn aincr(&self, key: &str, delta: i64) -> Result<i64> {
        let made = self.key(key)?;
        self.store
            .incr_by(&made, delta, None)
            .await
            .map_err(|err| err.about(key))?
            .ok_or_else(|| Error::NotFound {
                key: key.to_owned(),
            })
    }

    async fn adecr(&self, key: &str, delta: i64) -> Result<i64> {
        let negated = delta.checked_neg().ok_or_else(|| Error::WrongType {
            key: key.to_owned(),
            detail: format!("cannot decrement by {delta}"),
        })?;
        self.aincr(key, negated).await
    }

    async fn aincr_or_create(&self, key: &str, delta: i64, timeout: Timeout) -> Result<i64> {
        let made = self.key(key)?;
        let created = self.expiry(timeout);
        let counted = self.store.incr_by(&made, delta, created).await;
        // With a zero timeout a missing counter is not created: the count is `delta`, kept
        // nowhere; an existing one is incremented and keeps its own expiry.
        Ok(counted.map_err(|err| err.about(key))?.unwrap_or(delta))
    }

    async fn atouch(&self, key: &str, timeout: Timeout) -> Result<bool> {
        let made = self.key(key)?;
        let result = match self.expiry(timeout) {
            Some(expiry) => self.store.expire(&made, expiry).await,
            None => self.store.delete_many(&[made]).await.map(|n| n > 0),
        };
        self.or_fail_open(result, || false)
    }

    async fn aclear(&self) -> Result<u64> {
        let pattern = self
            .keys
            .all_versions_pattern()
            .ok_or_else(|| Error::Unsupported {
                operation: "clear",
                reason: "this cache's key function does not start its keys with the prefix, so \
                     its keys cannot be told from other keys: use a key function that does, or \
                     flush_db"
                    .to_owned(),
            })?;
        self.store.delete_pattern(&pattern).await
    }

    async fn aclose(&self) -> Result<()> {
        self.store.close().await
    }

    async fn aget_or_set<V, F>(&self, key: &str, default: F, timeout: Timeout) -> Result<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> V + Send,
    {
        self.aget_or_set_with(key, || std::future::ready(default()), timeout)
            .await
    }

    async fn aget_or_set_with<V, F, Fut>(
        &self,
        key: &str,
        default: F,
        timeout: Timeout,
    ) -> Result<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = V> + Send,
    {
        if let Some(value) = self.aget(key).await? {
            return Ok(value);
        }
        let flight = self.flights.join(&self.key(key)?);
        let _computing = flight.lock.lock().await;
        if let Some(value) = self.aget(key).await? {
            return Ok(value); // another caller of this process computed it meanwhile
        }
        let started = Instant::now();
        let value = default().await;
        self.record_compute_time(&flight.key, started.elapsed());
        // As Django: add, so that a value another process stored first wins.
        if self.aadd(key, &value, timeout).await? {
            return Ok(value);
        }
        Ok(self.aget(key).await?.unwrap_or(value))
    }

    async fn aincr_version(&self, key: &str, delta: i64) -> Result<i64> {
        self.version_move(key, delta).await
    }

    async fn adecr_version(&self, key: &str, delta: i64) -> Result<i64> {
        let negated = delta
            .checked_neg()
            .ok_or_else(|| Error::Config(format!("cannot move a version by -{delta}")))?;
        self.version_move(key, negated).await
    }

    async fn aflush_db(&self) -> Result<()> {
        self.store.flush_db().await
    }

    async fn aget_or_set_early<V, F>(
        &self,
        key: &str,
        default: F,
        timeout: Timeout,
        beta: f64,
    ) -> Result<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
        F: FnOnce() -> V + Send,
    {
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "beta must be a finite number >= 0, not {beta}"
            )));
        }
        let made = self.key(key)?;
        let reply = self.run(key, Command::GetPttl(made.clone())).await?;
        let mut reply = reply.array()?.into_iter();
        let (Some(value), Some(pttl)) = (reply.next(), reply.next()) else {
            return Err(Error::Server("GET and PTTL answered too little".to_owned()));
        };
        let Some(value) = self.decode_optional::<V>(key, value)? else {
            return self.aget_or_set(key, default, timeout).await;
        };
        let left_millis = pttl.int()?;
        let Some(delta) = self.compute_time(&made).filter(|_| left_millis > 0) else {
            return Ok(value);
        };
        // XFetch: recompute when now - delta * beta * ln(rand) >= expiry, rand in (0, 1].
        let early_millis = delta.as_secs_f64() * 1000.0 * beta * -(1.0 - fastrand::f64()).ln();
        if early_millis < left_millis as f64 {
            return Ok(value);
        }
        // One early recomputation per process at a time; the others keep the current value.
        let flight = self.flights.join(&made);
        let Ok(_computing) = flight.lock.try_lock() else {
            return Ok(value);
        };
        let started = Instant::now();
        let fresh = default();
        self.record_compute_time(&made, started.elapsed());
        self.aset(key, &fresh, timeout).await?;
        Ok(fresh)
    }

    async fn areplace<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &V,
        timeout: Timeout,
    ) -> Result<bool> {
        let made = self.key(key)?;
        let bytes = self.codec.encode(value)?;
        match self.expiry(timeout) {
            Some(expiry) => {
                let stored = self.store.set(&made, bytes, expiry, SetMode::IfPresent);
                stored.await.map_err(|err| err.about(key))
            }
            // Replaced by a value that expires at once: deleted, if it was there.
            None => Ok(self.store.delete_many(&[made]).await? > 0),
        }
    }

    async fn aswap<V>(&self, key: &str, value: &V, timeout: Timeout) -> Result<Option<V>>
    where
        V: Serialize + DeserializeOwned + Send + Sync,
    {
        let made = self.key(key)?;
        let bytes = self.codec.encode(value)?;
        let command = match self.expiry(timeout) {
            Some(expiry) => Command::SetGet {
                key: made,
                value: bytes,
                expiry,
            },
            None => Command::GetDel(made),
        };
        let previous = self.run(key, command).await?;
        self.decode_optional(key, previous)
    }

    async fn attl(&self, key: &str) -> Result<Ttl> {
        Ok(match self.ttl_of(key).await? {
            None => Ttl::Missing,
            Some(Duration::MAX) => Ttl::Persistent,
            // Redis's TTL rounds to the nearest second.
            Some(left) => Ttl::Expires(Duration::from_secs(
                (left.as_millis() as u64).saturating_add(500) / 1000,
            )),
        })
    }

    async fn apttl(&self, key: &str) -> Result<Ttl> {
        Ok(match self.ttl_of(key).await? {
            None => Ttl::Missing,
            Some(Duration::MAX) => Ttl::Persistent,
            Some(left) => Ttl::Expires(left),
        })
    }

    async fn aexpire(&self, key: &str, seconds: i64) -> Result<bool> {
        self.expire_command(key, seconds, 1000, false).await
    }

    async fn apexpire(&self, key: &str, millis: i64) -> Result<bool> {
        self.expire_command(key, millis, 1, false).await
    }

    async fn aexpire_at(&self, key: &str, unix_seconds: i64) -> Result<bool> {
        self.expire_command(key, unix_seconds, 1000, true).await
    }

    async fn apexpire_at(&self, key: &str, unix_millis: i64) -> Result<bool> {
        self.expire_command(key, unix_millis, 1, true).await
    }

    async fn apersist(&self, key: &str) -> Result<bool> {
        let made = self.key(key)?;
        self.run(key, Command::Persist(made)).await?.flag()
    }

    async fn akey_type(&self, key: &str) -> Result<Option<KeyType>> {
        let made = self.key(key)?;
        let name = match self.run(key, Command::Type(made)).await? {
            Reply::Status(name) => name,
            Reply::Bytes(name) => String::from_utf8_lossy(&name).into_owned(),
            other => return Err(Error::Server(format!("TYPE answered {other:?}"))),
        };
        Ok(match name.as_str() {
            "none" => None,
            "string" => Some(KeyType::String),
            "hash" => Some(KeyType::Hash),
            "list" => Some(KeyType::List),
            "set" => Some(KeyType::Set),
            "zset" => Some(KeyType::SortedSet),
            _ => Some(KeyType::Other(name)),
        })
    }

    async fn akeys(&self, pattern: &str) -> Result<Vec<String>> {
        let pattern = self.keys.pattern(pattern, None);
        let mut found = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut cursor = Some(Cursor::default());
        while let Some(at) = cursor {
            let (keys, next) = self.store.scan(at, &pattern, SCAN_BATCH).await?;
            for made in keys {
                if seen.insert(made.clone()) {
                    let made = field_name(&pattern, made).map_err(|_| Error::Decode {
                        key: pattern.clone(),
                        reason: "a stored key is not UTF-8".to_owned(),
                    })?;
                    found.push(self.keys.user_key(&made).to_owned());
                }
            }
            cursor = next;
        }
        Ok(found)
    }

    async fn aiter_keys(&self, pattern: &str) -> Result<KeyScan> {
        Ok(self.key_scan(pattern))
    }

    /// Injected native blocking side: building the scan needs no I/O, so it is not bridged.
    fn iter_keys(&self, pattern: &str) -> Result<KeyScan> {
        Ok(self.key_scan(pattern))
    }

    async fn adelete_pattern(&self, pattern: &str) -> Result<u64> {
        self.store
            .delete_pattern(&self.keys.pattern(pattern, None))
            .await
    }

    async fn arename(&self, from: &str, to: &str) -> Result<()> {
        let (made_from, made_to) = (self.key(from)?, self.key(to)?);
        let renamed = self.store.rename(&made_from, &made_to).await;
        match renamed.map_err(|err| err.about(from))? {
            true => Ok(()),
            false => Err(Error::NotFound {
                key: from.to_owned(),
            }),
        }
    }

    async fn arenamenx(&self, from: &str, to: &str) -> Result<bool> {
        let command = Command::RenameNx {
            from: self.key(from)?,
            to: self.key(to)?,
        };
        self.run(from, command).await?.flag()
    }

    async fn alock(&self, key: &str, lease: Duration, wait: Duration) -> Result<Option<Lock>> {
        const FIRST_PAUSE: Duration = Duration::from_millis(2);
        const LONGEST_PAUSE: Duration = Duration::from_millis(100);
        let made = self.key(key)?;
        let token = format!("{:032x}", fastrand::u128(..)).into_bytes();
        let expiry = Expiry::After(lease.max(Duration::from_millis(1)));
        let deadline = Instant::now().checked_add(wait);
        let mut pause = FIRST_PAUSE;
        loop {
            let taken = self
                .store
                .set(&made, token.clone(), expiry, SetMode::IfAbsent)
                .await
                .map_err(|err| err.about(key))?;
            if taken {
                return Ok(Some(Lock::new(self.store.clone(), key, made, token)));
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => pause,
            };
            if left.is_zero() {
                return Ok(None);
            }
            crate::bridge::sleep(pause.min(left)).await?;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    async fn ahset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        field: &str,
        value: &V,
    ) -> Result<bool> {
        let made = self.key(key)?;
        let pairs = vec![(field.as_bytes().to_vec(), self.codec.encode(value)?)];
        self.run(key, Command::Hset { key: made, pairs })
            .await?
            .flag()
    }

    async fn ahsetnx<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        field: &str,
        value: &V,
    ) -> Result<bool> {
        let command = Command::HsetNx {
            key: self.key(key)?,
            field: field.as_bytes().to_vec(),
            value: self.codec.encode(value)?,
        };
        self.run(key, command).await?.flag()
    }

    async fn ahget<V: DeserializeOwned + Send>(&self, key: &str, field: &str) -> Result<Option<V>> {
        let command = Command::Hget {
            key: self.key(key)?,
            field: field.as_bytes().to_vec(),
        };
        let reply = self.run(key, command).await?;
        self.decode_optional(key, reply)
    }

    async fn ahmget<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        fields: &[&str],
    ) -> Result<Vec<Option<V>>> {
        let command = Command::Hmget {
            key: self.key(key)?,
            fields: fields
                .iter()
                .map(|field| field.as_bytes().to_vec())
                .collect(),
        };
        let replies = self.run(key, command).await?.array()?;
        replies
            .into_iter()
            .map(|reply| self.decode_optional(key, reply))
            .collect()
    }

    async fn ahgetall<V: DeserializeOwned + Send>(&self, key: &str) -> Result<HashMap<String, V>> {
        let made = self.key(key)?;
        let items = self.run(key, Command::HgetAll(made)).await?.byte_items()?;
        let mut items = items.into_iter();
        let mut all = HashMap::with_capacity(items.len() / 2);
        while let (Some(field), Some(value)) = (items.next(), items.next()) {
            all.insert(field_name(key, field)?, self.codec.decode(key, &value)?);
        }
        Ok(all)
    }

    async fn ahdel(&self, key: &str, fields: &[&str]) -> Result<u64> {
        let command = Command::Hdel {
            key: self.key(key)?,
            fields: fields
                .iter()
                .map(|field| field.as_bytes().to_vec())
                .collect(),
        };
        self.run(key, command).await?.count()
    }

    async fn ahlen(&self, key: &str) -> Result<u64> {
        let made = self.key(key)?;
        self.run(key, Command::Hlen(made)).await?.count()
    }

    async fn ahkeys(&self, key: &str) -> Result<Vec<String>> {
        let made = self.key(key)?;
        let fields = self.run(key, Command::Hkeys(made)).await?.byte_items()?;
        fields
            .into_iter()
            .map(|field| field_name(key, field))
            .collect()
    }

    async fn ahvals<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Vec<V>> {
        let made = self.key(key)?;
        let reply = self.run(key, Command::Hvals(made)).await?;
        self.decode_all(key, reply)
    }

    async fn ahexists(&self, key: &str, field: &str) -> Result<bool> {
        let command = Command::Hexists {
            key: self.key(key)?,
            field: field.as_bytes().to_vec(),
        };
        self.run(key, command).await?.flag()
    }

    async fn ahincrby(&self, key: &str, field: &str, delta: i64) -> Result<i64> {
        let command = Command::HincrBy {
            key: self.key(key)?,
            field: field.as_bytes().to_vec(),
            delta,
        };
        self.run(key, command).await?.int()
    }

    async fn alpush<V: Serialize + Sync>(&self, key: &str, values: &[V]) -> Result<u64> {
        self.push(key, End::Left, self.encode_all(values)?).await
    }

    async fn arpush<V: Serialize + Sync>(&self, key: &str, values: &[V]) -> Result<u64> {
        self.push(key, End::Right, self.encode_all(values)?).await
    }

    async fn alpop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        let made = self.key(key)?;
        let reply = self
            .run(
                key,
                Command::Pop {
                    key: made,
                    end: End::Left,
                },
            )
            .await?;
        self.decode_optional(key, reply)
    }

    async fn arpop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        let made = self.key(key)?;
        let reply = self
            .run(
                key,
                Command::Pop {
                    key: made,
                    end: End::Right,
                },
            )
            .await?;
        self.decode_optional(key, reply)
    }

    async fn alrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>> {
        let made = self.key(key)?;
        let reply = self
            .run(
                key,
                Command::Lrange {
                    key: made,
                    start,
                    stop,
                },
            )
            .await?;
        self.decode_all(key, reply)
    }

    async fn alindex<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        index: i64,
    ) -> Result<Option<V>> {
        let made = self.key(key)?;
        let reply = self.run(key, Command::Lindex { key: made, index }).await?;
        self.decode_optional(key, reply)
    }

    async fn allen(&self, key: &str) -> Result<u64> {
        let made = self.key(key)?;
        self.run(key, Command::Llen(made)).await?.count()
    }

    async fn alrem<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        count: i64,
        value: &V,
    ) -> Result<u64> {
        let command = Command::Lrem {
            key: self.key(key)?,
            count,
            value: self.codec.encode(value)?,
        };
        self.run(key, command).await?.count()
    }

    async fn altrim(&self, key: &str, start: i64, stop: i64) -> Result<()> {
        let made = self.key(key)?;
        self.run(
            key,
            Command::Ltrim {
                key: made,
                start,
                stop,
            },
        )
        .await?;
        Ok(())
    }

    async fn alset<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        index: i64,
        value: &V,
    ) -> Result<()> {
        let command = Command::Lset {
            key: self.key(key)?,
            index,
            value: self.codec.encode(value)?,
        };
        self.run(key, command).await?;
        Ok(())
    }

    async fn ablpop<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
        timeout: Option<Duration>,
    ) -> Result<Option<(String, V)>> {
        self.blocking_pop(keys, End::Left, timeout).await
    }

    async fn abrpop<V: DeserializeOwned + Send>(
        &self,
        keys: &[&str],
        timeout: Option<Duration>,
    ) -> Result<Option<(String, V)>> {
        self.blocking_pop(keys, End::Right, timeout).await
    }

    async fn asadd<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64> {
        let command = Command::Sadd {
            key: self.key(key)?,
            members: self.encode_all(members)?,
        };
        self.run(key, command).await?.count()
    }

    async fn asrem<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64> {
        let command = Command::Srem {
            key: self.key(key)?,
            members: self.encode_all(members)?,
        };
        self.run(key, command).await?.count()
    }

    async fn asmembers<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Vec<V>> {
        let made = self.key(key)?;
        let reply = self.run(key, Command::Smembers(made)).await?;
        self.decode_all(key, reply)
    }

    async fn asismember<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<bool> {
        let command = Command::SisMember {
            key: self.key(key)?,
            member: self.codec.encode(member)?,
        };
        self.run(key, command).await?.flag()
    }

    async fn ascard(&self, key: &str) -> Result<u64> {
        let made = self.key(key)?;
        self.run(key, Command::Scard(made)).await?.count()
    }

    async fn aspop<V: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<V>> {
        let made = self.key(key)?;
        let reply = self.run(key, Command::Spop(made)).await?;
        self.decode_optional(key, reply)
    }

    async fn asrandmember<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: i64,
    ) -> Result<Vec<V>> {
        let made = self.key(key)?;
        let reply = self
            .run(key, Command::SrandMember { key: made, count })
            .await?;
        self.decode_all(key, reply)
    }

    async fn asinter<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>> {
        self.set_op(SetOp::Inter, keys).await
    }

    async fn asunion<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>> {
        self.set_op(SetOp::Union, keys).await
    }

    async fn asdiff<V: DeserializeOwned + Send>(&self, keys: &[&str]) -> Result<Vec<V>> {
        self.set_op(SetOp::Diff, keys).await
    }

    async fn azadd<V: Serialize + Sync>(&self, key: &str, members: &[(V, f64)]) -> Result<u64> {
        let members = members
            .iter()
            .map(|(member, value)| Ok((score(*value)?, self.codec.encode(member)?)))
            .collect::<Result<Vec<_>>>()?;
        let made = self.key(key)?;
        self.run(key, Command::Zadd { key: made, members })
            .await?
            .count()
    }

    async fn azrem<V: Serialize + Sync>(&self, key: &str, members: &[V]) -> Result<u64> {
        let command = Command::Zrem {
            key: self.key(key)?,
            members: self.encode_all(members)?,
        };
        self.run(key, command).await?.count()
    }

    async fn azscore<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<f64>> {
        let command = Command::Zscore {
            key: self.key(key)?,
            member: self.codec.encode(member)?,
        };
        let reply = self.run(key, command).await?.bytes()?;
        reply.map(|text| parse_score(&text)).transpose()
    }

    async fn azrank<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<u64>> {
        self.zrank_command(key, member, false).await
    }

    async fn azrevrank<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
    ) -> Result<Option<u64>> {
        self.zrank_command(key, member, true).await
    }

    async fn azrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>> {
        let reply = self.zrange_command(key, start, stop, false, false).await?;
        self.decode_all(key, reply)
    }

    async fn azrange_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<(V, f64)>> {
        let reply = self.zrange_command(key, start, stop, false, true).await?;
        self.decode_scored(key, reply)
    }

    async fn azrevrange<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<V>> {
        let reply = self.zrange_command(key, start, stop, true, false).await?;
        self.decode_all(key, reply)
    }

    async fn azrevrange_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        start: i64,
        stop: i64,
    ) -> Result<Vec<(V, f64)>> {
        let reply = self.zrange_command(key, start, stop, true, true).await?;
        self.decode_scored(key, reply)
    }

    async fn azrangebyscore<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        min: f64,
        max: f64,
    ) -> Result<Vec<V>> {
        let reply = self.zrange_by_score_command(key, min, max, false).await?;
        self.decode_all(key, reply)
    }

    async fn azrangebyscore_with_scores<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        min: f64,
        max: f64,
    ) -> Result<Vec<(V, f64)>> {
        let reply = self.zrange_by_score_command(key, min, max, true).await?;
        self.decode_scored(key, reply)
    }

    async fn azincrby<V: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        member: &V,
        delta: f64,
    ) -> Result<f64> {
        let command = Command::ZincrBy {
            key: self.key(key)?,
            delta: score(delta)?,
            member: self.codec.encode(member)?,
        };
        let reply = self.run(key, command).await?.bytes()?;
        parse_score(&reply.unwrap_or_default())
    }

    async fn azcard(&self, key: &str) -> Result<u64> {
        let made = self.key(key)?;
        self.run(key, Command::Zcard(made)).await?.count()
    }

    async fn azcount(&self, key: &str, min: f64, max: f64) -> Result<u64> {
        let command = Command::Zcount {
            key: self.key(key)?,
            min: score(min)?,
            max: score(max)?,
        };
        self.run(key, command).await?.count()
    }

    async fn azpopmin<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: u64,
    ) -> Result<Vec<(V, f64)>> {
        self.zpop(key, count, false).await
    }

    async fn azpopmax<V: DeserializeOwned + Send>(
        &self,
        key: &str,
        count: u64,
    ) -> Result<Vec<(V, f64)>> {
        self.zpop(key, count, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let flights = cache.core().flights.0.lock().expect("not poisoned");
        assert!(flights.is_empty(), "{} flights left", flights.len());
    }

    #[test]
    #[cfg(feature = "redis")]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact("redis://secret@host"), "redis://***@host");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
        assert_eq!(
            redact("redis+unix:///tmp/s.sock?db=1&pass=secret&auth_token=t"),
            "redis+unix:///tmp/s.sock?db=1&pass=***&auth_token=***"
        );
    }
}
