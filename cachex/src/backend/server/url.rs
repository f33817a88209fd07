//! Server URLs: `redis://`, `rediss://`, `valkey://`, `valkeys://`, `redis+unix://`,
//! `unix://`, and the cluster and Sentinel forms (parsed by their own modules), into what
//! opening connections needs. No I/O here.

use redis::io::tcp::TcpSettings;
use redis::{
    AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, ProtocolVersion,
};

#[cfg(feature = "tls")]
use super::options::ensure_crypto_provider;
use super::options::{DEFAULT_CONNECT_TIMEOUT, ServerOptions};
use super::topology::{Connector, Parsed};
use crate::{Error, Result};

/// Parses a server URL: `redis://`, `rediss://`, `valkey://`, `valkeys://` (the same as
/// `redis://` and `rediss://`), `redis+unix://` and `unix://`, with user and password
/// (`redis://user:password@host:port/db`, or `?db=1&user=u&pass=p` for Unix sockets) and
/// `?protocol=resp3`, or a cluster or Sentinel URL. Other query parameters are left to the
/// cache layer. No I/O here: connections open lazily on first use.
///
/// `rediss://` and `valkeys://` need the `tls` feature (rustls, trusting the system's
/// roots, or the CA of `ServerOptions::tls_roots` instead); without it they are refused with
/// [`Error::Config`]. The redis crate's `#insecure` fragment (no certificate check) is
/// refused too.
pub(super) fn parse(url: &str, options: &ServerOptions) -> Result<Parsed> {
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
    if let Some(parsed) = topology_url(&scheme, rest, options) {
        return parsed;
    }
    let tls = matches!(scheme.as_str(), "rediss" | "valkeys");
    if !matches!(
        scheme.as_str(),
        "redis" | "rediss" | "valkey" | "valkeys" | "redis+unix" | "unix"
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
    let mut info = info.set_tcp_settings(TcpSettings::default().set_nodelay(true));
    // RESP3 unless the URL asks for RESP2: over RESP3 the async connection hears at once that
    // its server closed it (an idle reap, `CLIENT KILL`, a restart) and reconnects before the
    // next request, instead of failing it.
    let asks_protocol = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("protocol=")));
    if !asks_protocol {
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        info = info.set_redis_settings(settings);
    }
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
    // Responses are timed by the call loop, per request, so that a response timeout and a
    // connect timeout can be told apart.
    let mut config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(None);
    if let Some(limit) = options.connection_limit {
        config = config.set_concurrency_limit(limit);
    }
    Ok(Parsed {
        connector: Connector::Standalone {
            client,
            config,
            connect_timeout,
        },
        location,
        secrets: password.into_iter().collect(),
    })
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

#[cfg(test)]
mod tests {
    use super::super::Server;
    use super::{Connector, ServerOptions};
    use crate::Error;

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
            let parsed = super::parse(url, &ServerOptions::default()).expect("a valid URL");
            match &parsed.connector {
                Connector::Standalone { client, .. } => {
                    assert!(client.get_connection_info().tcp_settings().nodelay());
                }
                #[allow(unreachable_patterns)]
                _ => panic!("{url}: not a standalone server"),
            }
            assert_eq!(parsed.location, location, "{url}");
            let server = Server::new(url, ServerOptions::default()).expect("a valid URL");
            assert_eq!(server.to_string(), location);
            let debug = format!("{server:?}");
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
            match super::parse(url, &ServerOptions::default()).map(|parsed| parsed.location) {
                Err(Error::Config(message)) => {
                    assert!(message.contains(expected), "{url}: {message}");
                    assert!(!message.contains("s3cret"), "{message}");
                }
                other => panic!("{url}: expected a configuration error, got {other:?}"),
            }
        }
    }
}
