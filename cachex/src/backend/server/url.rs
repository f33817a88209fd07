//! Server URLs: `redis://`, `rediss://`, `valkey://`, `valkeys://`, `redis+unix://`,
//! `unix://`, and the cluster and Sentinel forms (parsed by their own modules), into what
//! opening connections needs. Hosts, ports and databases are checked here, each named when it
//! is wrong, before anything reaches the redis crate. No I/O here.

use std::net::Ipv6Addr;
use std::path::PathBuf;

use redis::io::tcp::TcpSettings;
use redis::{
    AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo,
};

use super::options::ServerOptions;
#[cfg(feature = "tls")]
use super::options::ensure_crypto_provider;
use super::replicas::ReplicaTopology;
use super::topology::{Connector, Parsed};
use crate::url_text::{PATH, UNRESERVED, database, percent_decode, percent_encode};
use crate::{Error, Result};

/// How many requests a multiplexed connection queues for writing before callers wait for room:
/// the redis crate's default. A longer queue saves the waiting calls a semaphore wait (fewer
/// instructions per call), but with hundreds of calls in flight it lets them all out in one
/// batch, so client and server take turns instead of overlapping: 256 tasks ran 1.07 to 1.10
/// times faster with 50 than with 128 or 1,024 (BENCHMARKS.md).
const PIPELINE_BUFFER: usize = 50;

/// The port of a server URL that names none.
const DEFAULT_PORT: u16 = 6379;

/// Parses a server URL: `redis://`, `rediss://`, `valkey://`, `valkeys://` (the same as
/// `redis://` and `rediss://`), `redis+unix://` and `unix://`, with user and password
/// (`redis://user:password@host:port/db`; a Unix socket's are [`ServerOptions::db`],
/// [`ServerOptions::user`] and [`ServerOptions::password`]), or a cluster or Sentinel URL.
/// The URL has no query: its options were read by the cache layer into `options`. No I/O
/// here: connections open lazily on first use.
///
/// `rediss://` and `valkeys://` need the `tls` feature (rustls, trusting the system's
/// roots, or the CA of `ServerOptions::tls_roots` instead); without it they are refused with
/// [`Error::Config`]. The redis crate's `#insecure` fragment (no certificate check) is
/// refused too, as is any other fragment.
pub(super) fn parse(url: &str, options: &ServerOptions) -> Result<Parsed> {
    let (scheme, rest) = url
        .split_once("://")
        .map(|(scheme, rest)| (scheme.to_ascii_lowercase(), rest))
        .ok_or_else(|| {
            Error::config(
                "a server URL starts with redis://, rediss://, valkey://, valkeys://, \
                 redis+unix://, unix://, redis+cluster:// or redis+sentinel://"
                    .to_owned(),
            )
        })?;
    let tls = matches!(scheme.split('+').next(), Some("rediss" | "valkeys"));
    let rest = match rest.split_once('#') {
        None => rest,
        Some((_, "insecure")) if tls => {
            return Err(Error::config(format!(
                "{scheme}:// with #insecure (no certificate check) is not supported: trust the \
                 server's CA instead (CacheBuilder::tls_root_certificate, or \
                 tls_ca=/path/to/ca.pem)"
            )));
        }
        Some(_) => {
            return Err(invalid(
                &scheme,
                "a #fragment is not part of a server URL".to_owned(),
            ));
        }
    };
    if let Some(parsed) = topology_url(&scheme, rest, options) {
        return parsed;
    }
    if !matches!(
        scheme.as_str(),
        "redis" | "rediss" | "valkey" | "valkeys" | "redis+unix" | "unix"
    ) {
        return Err(Error::config(format!(
            "unknown server URL scheme {scheme:?}: expected redis://, rediss://, valkey://, \
             valkeys://, redis+unix://, unix://, redis+cluster:// or redis+sentinel://"
        )));
    }
    super::options::check_tls_is_built(&scheme, tls)?;
    let info = if matches!(scheme.as_str(), "redis+unix" | "unix") {
        unix_connection_info(&scheme, rest, options)?
    } else {
        tcp_connection_info(&scheme, rest, tls, options)?
    };
    let location = describe(&scheme, &info);
    let password = info.redis_settings().password().map(str::to_owned);
    let info = info.set_tcp_settings(TcpSettings::default().set_nodelay(true));
    let client = client(&scheme, tls, info.clone(), options)?;
    // Responses are timed by the call loop, per request, so that a response timeout and a
    // connect timeout can be told apart.
    let connect_timeout = options.effective_connect_timeout();
    let mut config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(None)
        .set_pipeline_buffer_size(PIPELINE_BUFFER);
    if let Some(limit) = options.connection_limit {
        config = config.set_concurrency_limit(limit);
    }
    let connector = if options.replicas.is_empty() {
        Connector::Standalone {
            client,
            config,
            connect_timeout,
        }
    } else {
        let replicas = options
            .replicas
            .iter()
            .map(|(host, port)| {
                let addr = match info.addr() {
                    ConnectionAddr::TcpTls { .. } => ConnectionAddr::TcpTls {
                        host: host.clone(),
                        port: *port,
                        insecure: false,
                        tls_params: None,
                    },
                    _ => ConnectionAddr::Tcp(host.clone(), *port),
                };
                self::client(&scheme, tls, info.clone().set_addr(addr), options)
            })
            .collect::<Result<Vec<_>>>()?;
        let topology = ReplicaTopology::new(client, replicas, config, connect_timeout);
        Connector::Replicas(std::sync::Arc::new(topology))
    };
    Ok(Parsed {
        connector,
        location,
        secrets: password.into_iter().collect(),
    })
}

/// The client of one server: `info`, over TLS (trusting `options`' roots) when `tls`.
fn client(
    scheme: &str,
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))] tls: bool,
    info: ConnectionInfo,
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))] options: &ServerOptions,
) -> Result<redis::Client> {
    #[cfg(feature = "tls")]
    let client = {
        if tls {
            ensure_crypto_provider();
        }
        match &options.tls_roots {
            Some(_) if !tls => {
                return Err(Error::config(format!(
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
            .map_err(|err| Error::config(format!("invalid TLS CA certificate: {err}")))?,
            None => redis::Client::open(info).map_err(|err| invalid(scheme, err.to_string()))?,
        }
    };
    #[cfg(not(feature = "tls"))]
    let client = redis::Client::open(info).map_err(|err| invalid(scheme, err.to_string()))?;
    Ok(client)
}

/// The error for a URL of `scheme` that is wrong in the way `why` says. Never quote the URL
/// in `why`: it may hold a password.
pub(super) fn invalid(scheme: &str, why: String) -> Error {
    Error::config(format!("invalid {scheme}:// URL: {why}"))
}

/// `rest` of `redis://[user[:password]@]host[:port][/db]` (after `scheme://`), checked part
/// by part.
fn tcp_connection_info(
    scheme: &str,
    rest: &str,
    tls: bool,
    options: &ServerOptions,
) -> Result<ConnectionInfo> {
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, address) = match authority.rsplit_once('@') {
        Some((userinfo, address)) => (Some(userinfo), address),
        None => (None, authority),
    };
    let (host, port) = host_and_port(address, DEFAULT_PORT).map_err(|why| invalid(scheme, why))?;
    let db = match path {
        "" => 0,
        db => database(db).map_err(|why| invalid(scheme, why))?,
    };
    let (user, password) = match userinfo.filter(|userinfo| !userinfo.is_empty()) {
        None => (None, None),
        Some(userinfo) => {
            let credentials = credentials(userinfo).map_err(|why| invalid(scheme, why))?;
            (credentials.0.filter(|user| !user.is_empty()), credentials.1)
        }
    };
    let addr = if tls {
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure: false,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host, port)
    };
    connection_info(addr, db, user.as_deref(), password.as_deref(), options)
}

/// `rest` of `redis+unix:///path/to/redis.sock` (after `scheme://`); the database, user and
/// password come from `options`.
fn unix_connection_info(
    scheme: &str,
    rest: &str,
    options: &ServerOptions,
) -> Result<ConnectionInfo> {
    let path =
        percent_decode(rest).map_err(|why| invalid(scheme, format!("the socket path {why}")))?;
    if !path.starts_with('/') {
        return Err(invalid(
            scheme,
            if path.is_empty() {
                format!("the socket path is missing ({scheme}:///path/to/redis.sock)")
            } else {
                format!("the socket path {path:?} is not absolute ({scheme}:///path/to/redis.sock)")
            },
        ));
    }
    connection_info(
        ConnectionAddr::Unix(PathBuf::from(path)),
        options.db.unwrap_or(0),
        options.user.as_deref(),
        options
            .password
            .as_ref()
            .map(|password| password.0.as_str()),
        options,
    )
}

/// The connection info of `addr`, with the handshake's settings.
fn connection_info(
    addr: ConnectionAddr,
    db: i64,
    user: Option<&str>,
    password: Option<&str>,
    options: &ServerOptions,
) -> Result<ConnectionInfo> {
    let mut settings = RedisConnectionInfo::default().set_db(db);
    if let Some(user) = user {
        settings = settings.set_username(user);
    }
    if let Some(password) = password {
        settings = settings.set_password(password);
    }
    settings = settings.set_protocol(options.effective_protocol());
    let info = addr
        .into_connection_info()
        .map_err(|err| Error::config(format!("invalid server address: {err}")))?;
    Ok(info.set_redis_settings(settings))
}

/// `host[:port]` or `[ipv6][:port]`, each part checked: the host a name or an IP address
/// (not a wildcard), the port from 1 to 65535. `Err` names the bad part (never a password: the
/// text is what follows the `@`).
pub(crate) fn host_and_port(
    text: &str,
    default_port: u16,
) -> std::result::Result<(String, u16), String> {
    let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("the host {text:?} has no closing ]"))?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(format!("the host [{host}] is not an IPv6 address"));
        }
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(format!("{after:?} after the host [{host}] is not a :port")),
        }
    } else {
        if text.matches(':').count() > 1 {
            return Err(format!(
                "the host {text:?} looks like an IPv6 address without its brackets \
                 ([::1]:6379)"
            ));
        }
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("the host is missing (expected host:port)".to_owned());
    }
    if !host.contains(':')
        && !host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'))
    {
        return Err(format!(
            "the host {host:?} is not a host name or an IP address"
        ));
    }
    if matches!(host, "0.0.0.0" | "::") {
        return Err(format!(
            "the host {host} is a wildcard address (0.0.0.0 or ::), which a server listens on, \
             not one to connect to"
        ));
    }
    let port = match port {
        None => default_port,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|number| *number != 0 && port.bytes().all(|byte| byte.is_ascii_digit()))
            .ok_or_else(|| format!("the port {port:?} is not a number from 1 to 65535"))?,
    };
    Ok((host.to_owned(), port))
}

/// The user and password of a `user:password` userinfo (either may be missing),
/// percent-decoded. `Err` says which is broken, without quoting it.
pub(crate) fn credentials(
    userinfo: &str,
) -> std::result::Result<(Option<String>, Option<String>), String> {
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let user = percent_decode(user).map_err(|why| format!("the user name {why}"))?;
    let password = password
        .filter(|password| !password.is_empty())
        .map(percent_decode)
        .transpose()
        .map_err(|why| format!("the password {why}"))?;
    Ok((Some(user), password))
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
        feature => Err(Error::config(format!(
            "{scheme}:// needs the `{feature}` feature of cachex, which this build does not \
             include"
        ))),
    })
}

/// The location of a parsed URL: the URL rebuilt without its password.
fn describe(scheme: &str, info: &ConnectionInfo) -> String {
    let settings = info.redis_settings();
    match info.addr() {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            let user = settings
                .username()
                .map(|user| percent_encode(user, UNRESERVED));
            let credentials = match (user, settings.password().is_some()) {
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
            format!("{scheme}://{credentials}{host}:{port}/{}", settings.db())
        }
        ConnectionAddr::Unix(path) => format!(
            "{scheme}://{}",
            percent_encode(&path.to_string_lossy(), PATH)
        ),
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
        let socket = ServerOptions {
            db: Some(2),
            user: Some("u".to_owned()),
            password: Some("s3cret".to_owned().into()),
            ..ServerOptions::default()
        };
        let resp3 = ServerOptions {
            protocol: Some(redis::ProtocolVersion::RESP3),
            ..ServerOptions::default()
        };
        let plain = ServerOptions::default();
        let cases = [
            ("redis://localhost", &plain, "redis://localhost:6379/0"),
            (
                "redis://127.0.0.1:7000/3",
                &plain,
                "redis://127.0.0.1:7000/3",
            ),
            ("REDIS://h:1/2", &plain, "redis://h:1/2"),
            (
                "redis://user:s3cret@host:6380/1",
                &plain,
                "redis://user:***@host:6380/1",
            ),
            ("redis://:s3cret@host", &plain, "redis://:***@host:6379/0"),
            ("redis://user@host/", &plain, "redis://user@host:6379/0"),
            (
                "redis://us%40er:p%40ss%3Aw0rd@host",
                &plain,
                "redis://us%40er:***@host:6379/0",
            ),
            ("valkey://[::1]:7001/2", &plain, "valkey://[::1]:7001/2"),
            ("redis://host/0", &resp3, "redis://host:6379/0"),
            (
                "redis+unix:///run/redis.sock",
                &plain,
                "redis+unix:///run/redis.sock",
            ),
            (
                "redis+unix:///run/redis.sock",
                &socket,
                "redis+unix:///run/redis.sock",
            ),
            (
                "unix:///tmp/my%20r.sock",
                &socket,
                "unix:///tmp/my%20r.sock",
            ),
        ];
        for (url, options, location) in cases {
            let parsed = super::parse(url, options).expect("a valid URL");
            match &parsed.connector {
                Connector::Standalone { client, .. } => {
                    let info = client.get_connection_info();
                    assert!(info.tcp_settings().nodelay());
                    if url.contains("unix") {
                        assert_eq!(info.redis_settings().db(), options.db.unwrap_or(0));
                        assert_eq!(info.redis_settings().username(), options.user.as_deref());
                    }
                    assert_eq!(
                        info.redis_settings().protocol(),
                        options.effective_protocol()
                    );
                }
                #[allow(unreachable_patterns)]
                _ => panic!("{url}: not a standalone server"),
            }
            assert_eq!(parsed.location, location, "{url}");
            let password = parsed.secrets.first().map(String::as_str);
            if url.contains("s3cret") || options.password.is_some() {
                assert_eq!(password, Some("s3cret"), "{url}");
            } else if url.contains("w0rd") {
                assert_eq!(password, Some("p@ss:w0rd"), "{url}");
            }
            let server = Server::new(url, options.clone()).expect("a valid URL");
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
    fn refuses_bad_urls_naming_the_bad_part_without_showing_secrets() {
        let cases = [
            ("localhost:6379", "starts with redis://"),
            (
                "http://user:s3cret@host",
                "unknown server URL scheme \"http\"",
            ),
            ("redis://user:s3cret@host/notadb", "the database \"notadb\""),
            ("redis://user:s3cret@host/+1", "the database \"+1\""),
            ("redis://user:s3cret@host:+1", "the port \"+1\""),
            ("redis://user:s3cret@host:0", "the port \"0\""),
            ("redis://user:s3cret@host:", "the port \"\""),
            ("redis://user:s3cret@exa mple:1", "the host \"exa mple\""),
            (
                "redis://user:s3cret@[::1/0",
                "the host \"[::1\" has no closing ]",
            ),
            (
                "redis://user:s3cret@[zz]:1",
                "the host [zz] is not an IPv6 address",
            ),
            ("redis://user:s3cret@[::1]x", "is not a :port"),
            ("redis://user:s3cret@::1:6379", "without its brackets"),
            ("redis://user:s3cret@:6379", "the host is missing"),
            ("redis://user:s3cret@", "the host is missing"),
            (
                "redis://user:s3cret%zz@host",
                "the password has a broken %-escape",
            ),
            (
                "redis://us%er:s3cret@host",
                "the user name has a broken %-escape",
            ),
            ("redis://user:s3cret@host/0#x", "#fragment"),
            ("redis+unix://relative.sock", "is not absolute"),
            ("redis+unix://", "the socket path is missing"),
            ("unix:///tmp/%zz", "the socket path has a broken %-escape"),
            ("redis://user:s3cret@0.0.0.0", "wildcard"),
            ("redis://user:s3cret@[::]:1", "wildcard"),
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
                Err(Error::Config { reason: message }) => {
                    assert!(message.contains(expected), "{url}: {message}");
                    assert!(!message.contains("s3cret"), "{message}");
                }
                other => panic!("{url}: expected a configuration error, got {other:?}"),
            }
        }
    }
}
