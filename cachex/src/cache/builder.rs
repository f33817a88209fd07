//! [`CacheBuilder`]: every option of a cache, and building it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::stampede::StampedePrevention;
use super::url::Kind;
use super::{Cache, CacheCore, DEFAULT_TIMEOUT};
use crate::Result;
use crate::backend::Store;
use crate::backend::memory::{Bound, Memory};
#[cfg(feature = "tls")]
use crate::backend::server::TlsRoots;
#[cfg(feature = "redis")]
use crate::backend::server::{Server, ServerOptions};
use crate::codec::{Codec, CodecBuilder};
use crate::keys::{KeyFunction, KeyValidation, Keys};

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
    pub(super) location: Location,
    pub(super) keys: Keys,
    pub(super) codec: CodecBuilder,
    pub(super) default_timeout: Option<Duration>,
    pub(super) fail_open: bool,
    pub(super) stampede: Option<StampedePrevention>,
    #[cfg(feature = "redis")]
    pub(super) server: ServerOptions,
}

/// Where the values live.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum Location {
    Memory {
        bound: Bound,
    },
    /// A server URL, without its query (the options are the builder's).
    #[cfg(feature = "redis")]
    Server {
        url: String,
        /// The kind of URL, by scheme: which options it takes.
        kind: Kind,
    },
}

impl Location {
    /// The kind of URL this location is configured by.
    pub(super) fn kind(&self) -> Kind {
        match self {
            Location::Memory { .. } => Kind::Memory,
            #[cfg(feature = "redis")]
            Location::Server { kind, .. } => *kind,
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Memory { bound } => f.debug_struct("Memory").field("bound", bound).finish(),
            #[cfg(feature = "redis")]
            Location::Server { url, .. } => f
                .debug_tuple("Server")
                .field(&super::url::redact(url))
                .finish(),
        }
    }
}

/// Where a built cache keeps its values and how its backend was configured: what its
/// `Display` shows besides the settings the core holds itself (keys, codec, timeout,
/// fail-open).
pub(super) struct Origin {
    /// The address without secrets: `memory://`, `redis://user:***@host:6379/0`.
    pub(super) address: String,
    pub(super) location: Location,
    #[cfg(feature = "redis")]
    pub(super) server: ServerOptions,
}

impl Origin {
    /// The embedded in-memory backend's.
    pub(super) fn memory(bound: Bound) -> Origin {
        Origin {
            address: "memory://".to_owned(),
            location: Location::Memory { bound },
            #[cfg(feature = "redis")]
            server: ServerOptions::default(),
        }
    }
}

impl Default for CacheBuilder {
    fn default() -> Self {
        CacheBuilder {
            location: Location::Memory {
                bound: Bound::default(),
            },
            keys: Keys::new(),
            codec: Codec::builder(),
            default_timeout: Some(DEFAULT_TIMEOUT),
            fail_open: false,
            stampede: None,
            #[cfg(feature = "redis")]
            server: ServerOptions::default(),
        }
    }
}

impl CacheBuilder {
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
    /// compression by default, as django-cachex's `JsonSerializer`, 0.3's `JSONSerializer`).
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

    /// Stampede prevention (django-cachex's `stampede_prevention` option; off by default):
    /// see [`StampedePrevention`]. A buffer that is not whole seconds, or a negative or
    /// infinite β or δ, makes [`build`](Self::build) fail.
    pub fn stampede_prevention(mut self, stampede: Option<StampedePrevention>) -> Self {
        self.stampede = stampede;
        self
    }

    /// The bound on the number of entries of the in-memory backend (default 10,000).
    /// The backend is bounded by one measure: this replaces [`max_bytes`](Self::max_bytes).
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.location = Location::Memory {
            bound: Bound::Entries(max_entries),
        };
        self
    }

    /// Bounds the in-memory backend by the bytes it stores instead of its number of entries:
    /// each entry weighs its made key plus its encoded value (for a hash, list, set or sorted
    /// set, its fields, values and members, a score as 8 bytes), and the least recently used
    /// entries are evicted past `max_bytes`. The bound counts stored data, not the process's
    /// whole memory (the map's own overhead comes on top, tens of bytes an entry).
    /// Replaces [`max_entries`](Self::max_entries). With it, a write to a collection weighs
    /// the whole collection again.
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.location = Location::Memory {
            bound: Bound::Bytes(max_bytes),
        };
        self
    }

    /// How long connecting to a server may take (default 1 s: a cache that cannot connect
    /// should fail fast, or fail open).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.server.connect_timeout = Some(timeout);
        self
    }

    /// How long a server may take to answer a request (default 5 s); past it, the call fails
    /// with [`Error::Timeout`](crate::Error::Timeout). A command that timed out may still have been applied by the
    /// server.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
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
    /// stays an [`Error::Connection`](crate::Error::Connection). Timeouts (a hung server) and server errors are not
    /// retried.
    ///
    /// Pauses between attempts start at 10 ms and double up to 500 ms, less up to half at
    /// random, and never run past the budget. So a server restart shorter than the budget
    /// delays the calls made meanwhile instead of failing them; a call still takes at most
    /// about the budget plus one response timeout. With [`fail_open`](Self::fail_open) as
    /// well, a call fails open once the budget is spent.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.server.retry_budget = Some(budget);
        self
    }

    /// At most `limit` requests in flight on each server connection (cachex keeps one
    /// multiplexed connection per tokio runtime); further requests wait their turn.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn connection_limit(mut self, limit: usize) -> Self {
        self.server.connection_limit = Some(limit);
        self
    }

    /// Turns tracking on (default off): a near cache of local copies that `get` and
    /// `get_many` serve without a round trip, kept current by the server's invalidation
    /// messages on a connection of its own (`CLIENT TRACKING ON BCAST`), never served while
    /// that connection is lost or silent past `max_staleness` (default 1 s), bounded by
    /// `max_bytes` (default 32 MiB). On a server, a `replicas=` list, a Sentinel service or a
    /// cluster (the link follows failovers and slot moves); the in-memory backend, already
    /// local, is refused with [`Error::Config`](crate::Error::Config) by
    /// [`build`](Self::build).
    /// URL options: `tracking=true`, `tracking_max_staleness=<seconds>`,
    /// `tracking_max_bytes=<bytes>`. See the guide's [tracking page](crate::guide::tracking).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn tracking(mut self, on: bool) -> Self {
        self.server.tracking = on.then(|| self.server.tracking.unwrap_or_default());
        self
    }

    /// How long copies may be served after the invalidation link's last confirmation
    /// (default 1 s); turns tracking on. See [`tracking`](Self::tracking).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn tracking_max_staleness(mut self, max_staleness: Duration) -> Self {
        self.server.tracking.get_or_insert_default().max_staleness = max_staleness;
        self
    }

    /// The bound on the near cache's weight: keys, values and about 160 bytes a copy (default
    /// 32 MiB); a value larger than an eighth of it is not copied. Turns tracking on. See
    /// [`tracking`](Self::tracking).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn tracking_max_bytes(mut self, max_bytes: u64) -> Self {
        self.server.tracking.get_or_insert_default().max_bytes = max_bytes;
        self
    }

    /// Trusts the CA certificates of `pem` (PEM text, one or more `-----BEGIN CERTIFICATE-----`
    /// blocks) for `rediss://` and `valkeys://`, instead of the system's roots: for servers
    /// whose certificate a private CA signed. The URL option `tls_ca=/path/to/ca.pem` does the
    /// same from a file; whichever comes last wins. [`build`](Self::build) fails with
    /// [`Error::Config`](crate::Error::Config) when `pem` holds no certificate, or the URL does not use TLS.
    ///
    /// Needs the `tls` feature, which connects with rustls (its ring provider, installed as
    /// rustls's process default unless the application installed one first).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.server.tls_roots = Some(TlsRoots::Pem(pem.into()));
        self
    }

    /// Builds the cache. Servers are connected to lazily, on first use.
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) naming what is wrong: the server URL's host,
    /// port, database or credentials, the codec, or TLS settings.
    pub fn build(self) -> Result<Cache> {
        let (store, origin) = match self.location {
            Location::Memory { bound } => {
                #[cfg(feature = "redis")]
                if self.server.tracking.is_some() {
                    return Err(crate::Error::config(
                        "tracking keeps local copies of a server's values; the in-memory \
                         backend is already local: leave tracking off",
                    ));
                }
                (Store::Memory(Memory::new(bound)), Origin::memory(bound))
            }
            #[cfg(feature = "redis")]
            Location::Server { url, kind } => {
                let mut server = Server::new(&url, self.server.clone())?;
                if let Some(tracking) = self.server.tracking {
                    server.track(self.keys.made_prefix(), tracking)?;
                }
                let origin = Origin {
                    address: server.location().to_owned(),
                    location: Location::Server { url, kind },
                    server: self.server,
                };
                (Store::Server(server), origin)
            }
        };
        let mut core = CacheCore::new(
            Arc::new(store),
            Arc::new(origin),
            self.keys,
            self.codec.build()?,
            self.default_timeout,
            self.fail_open,
        );
        core.stampede = self.stampede.map(StampedePrevention::check).transpose()?;
        Ok(Cache::from_core(core))
    }
}
