//! The options of a server backend, and the TLS roots it trusts.

use std::fmt;
use std::time::Duration;

use redis::ProtocolVersion;

#[cfg(feature = "tls")]
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
    /// A Unix socket's database (`?db=`); `None` is 0. A TCP URL names its database in its
    /// path.
    pub(crate) db: Option<i64>,
    /// A Unix socket's user (`?user=`); a TCP URL names it before its `@`.
    pub(crate) user: Option<String>,
    /// A Unix socket's password (`?pass=`); a TCP URL gives it before its `@`.
    pub(crate) password: Option<Secret>,
    /// RESP2 or RESP3 (`?protocol=`), for one server; `None` is RESP3 (see
    /// [`effective_protocol`](Self::effective_protocol)).
    pub(crate) protocol: Option<ProtocolVersion>,
    /// Reads go to replicas (cluster and Sentinel, `?replica_reads=true`).
    pub(crate) replica_reads: bool,
    /// Read replicas of one server, listed in its URL (`?replicas=host:port,...`).
    pub(crate) replicas: Vec<(String, u16)>,
    /// The sentinels' own user, when they have one (`?sentinel_username=`).
    pub(crate) sentinel_user: Option<String>,
    /// The sentinels' own password, when they have one (`?sentinel_password=`).
    pub(crate) sentinel_password: Option<Secret>,
    /// The near cache's settings, with tracking on (`?tracking=true`).
    pub(crate) tracking: Option<crate::backend::near::Tracking>,
}

impl ServerOptions {
    /// How long opening a connection may take.
    pub(crate) fn effective_connect_timeout(&self) -> Duration {
        self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }

    /// How long a request may wait for its answer.
    pub(crate) fn effective_response_timeout(&self) -> Duration {
        self.response_timeout.unwrap_or(DEFAULT_RESPONSE_TIMEOUT)
    }

    /// The protocol spoken with one server: RESP3 unless `?protocol=resp2` asks for RESP2.
    /// Over RESP3 an async connection hears at once that its server closed it (an idle reap,
    /// `CLIENT KILL`, a restart) and is replaced before the next request instead of failing
    /// it; over RESP2 it finds out only when a request fails.
    pub(crate) fn effective_protocol(&self) -> ProtocolVersion {
        self.protocol.unwrap_or(ProtocolVersion::RESP3)
    }
}

/// A password: its `Debug` shows `***`, never the text.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(text)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
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
                    .map_err(|err| Error::config(format!("cannot read {source}: {err}")))?;
                (pem, source)
            }
        };
        let mut certificates = 0;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            certificate.map_err(|err| Error::config(format!("invalid PEM in {source}: {err}")))?;
            certificates += 1;
        }
        if certificates == 0 {
            return Err(Error::config(format!(
                "{source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )));
        }
        Ok(pem)
    }
}

/// Refuses a TLS URL (`tls`) when this build has no TLS, naming the feature to enable.
pub(crate) fn check_tls_is_built(scheme: &str, tls: bool) -> crate::Result<()> {
    if tls && !cfg!(feature = "tls") {
        return Err(crate::Error::config(format!(
            "{scheme}:// needs TLS, which this build of cachex does not include: enable the \
             `tls` feature of cachex"
        )));
    }
    Ok(())
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
