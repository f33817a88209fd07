//! Redis Sentinel: the server backend on the primary that the sentinels name, following
//! failovers itself.
//!
//! # URL
//!
//! `redis+sentinel://[user:password@]host1:port1,host2:port2[,...]/service_name[/db]`, with
//! the options `sentinel_username`, `sentinel_password` (credentials of the sentinels, when
//! they have their own) and `replica_reads=true` in the query; also `valkey+sentinel://`, and
//! `rediss+sentinel://` / `valkeys+sentinel://` for TLS to sentinels and data nodes alike
//! (feature `tls`). The user and password before `@` are those of the data nodes (primary and
//! replicas). A missing port is 26379; a missing db is 0.
//!
//! # Following the primary
//!
//! A [`SentinelLink`] (one per tokio runtime) asks the sentinels, in turn, for the address of
//! the service's primary (`SENTINEL GET-MASTER-ADDR-BY-NAME`), connects to it and checks with
//! `ROLE` that it is a primary indeed (a sentinel names the old one until a failover is
//! complete). A failover shows as a connection error (the old primary is gone, or the
//! sentinels made it close its clients when they demoted it) or as a `READONLY` reply (a
//! demoted primary that kept our connection): the backend then drops the link, so that the
//! next one asks the sentinels again, and sends the request once more when that cannot apply
//! it twice. Until the sentinels have promoted a replica, calls fail with
//! [`Error::Connection`](crate::Error::Connection), naming each sentinel's answer.
//!
//! A primary demoted on purpose (`SENTINEL FAILOVER`, or the old primary coming back) keeps
//! its clients until the sentinels get round to reconfiguring it, up to 10 s later, and until
//! then accepts writes that its demotion throws away. So each link also watches: every
//! [`WATCH_PERIOD`] a task of its runtime asks a sentinel where the primary is, and when the
//! answer changes the link is retired at once (its next request goes to the new primary; a
//! request cut off this way was never sent, so it is sent again).
//!
//! The redis crate's own Sentinel support resolves the primary once and sticks to it, which is
//! why this module asks the sentinels itself.
//!
//! # Reads from replicas
//!
//! With `replica_reads=true`, the commands the command table routes as reads (`GET`, `MGET`,
//! `EXISTS`, `PTTL`, ...; see [`Route`]) go to a
//! replica chosen at random among those the sentinels report healthy (the primary when there
//! is none). A replica may lag behind its primary: a value just written may not be read back
//! at once. Pipelines, scripts and `SCAN` always go to the primary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::io::tcp::TcpSettings;
use redis::{
    AsyncConnectionConfig, Cmd, IntoConnectionInfo, Pipeline, RedisError, RedisFuture, RedisResult,
    Value,
};
use tokio::sync::OnceCell;

use super::options::{DEFAULT_CONNECT_TIMEOUT, ServerOptions};
use super::topology::{Connector, NodeList, Parsed, bracketed, node_url};
use crate::backend::command::Route;
use crate::url_text::{UNRESERVED, percent_decode, percent_encode};
use crate::{Error, Result};

/// How often a link asks a sentinel whether the primary moved.
pub(crate) const WATCH_PERIOD: Duration = Duration::from_millis(500);

/// Where the sentinels are, and how to reach the data nodes they name.
pub(crate) struct SentinelTopology {
    /// One client per sentinel, with the sentinels' credentials.
    sentinels: Vec<redis::Client>,
    /// `host:port` of each sentinel, for messages.
    sentinel_names: Vec<String>,
    /// The name the sentinels monitor the primary under.
    service: String,
    /// The data nodes' `user:password`, as written in the URL.
    userinfo: Option<String>,
    db: i64,
    tls: bool,
    /// The CA certificates (PEM) TLS connections trust instead of the system's roots.
    #[cfg(feature = "tls")]
    tls_roots: Option<Vec<u8>>,
    replica_reads: bool,
    connect_timeout: Duration,
    connection_limit: Option<usize>,
    /// The sentinel that answered last: asked first next time.
    preferred: AtomicUsize,
}

/// Parses a Sentinel URL (see the module documentation): `scheme` is lowercase, `rest` the
/// URL after `scheme://`.
pub(crate) fn parse(scheme: &str, rest: &str, options: &ServerOptions) -> Result<Parsed> {
    let invalid = |why: &str| Error::config(format!("invalid {scheme}:// URL: {why}"));
    let tls = matches!(scheme, "rediss+sentinel" | "valkeys+sentinel");
    if tls && !cfg!(feature = "tls") {
        return Err(Error::config(format!(
            "{scheme}:// needs TLS, which this build of cachex does not include: enable the \
             `tls` feature of cachex"
        )));
    }
    let list = NodeList::parse(scheme, rest, 26379)?;
    let mut path = list.path.split('/');
    let service = path
        .next()
        .filter(|service| !service.is_empty())
        .ok_or_else(|| {
            invalid("the service name is missing (redis+sentinel://host:port/service_name/db)")
        })?
        .to_owned();
    let db = match path.next() {
        None | Some("") => 0,
        Some(db) => crate::url_text::database(db).map_err(|why| invalid(&why))?,
    };
    if path.next().is_some() {
        return Err(invalid(
            "too many path segments (redis+sentinel://host:port/service_name/db)",
        ));
    }
    let service =
        percent_decode(&service).map_err(|why| invalid(&format!("the service name {why}")))?;
    let sentinel_password = options
        .sentinel_password
        .as_ref()
        .map(|password| password.0.clone());
    // The sentinels' credentials, written as a URL's userinfo for the redis crate.
    let sentinel_userinfo = match (&options.sentinel_user, &sentinel_password) {
        (None, None) => None,
        (user, password) => Some(format!(
            "{}:{}",
            percent_encode(user.as_deref().unwrap_or_default(), UNRESERVED),
            percent_encode(password.as_deref().unwrap_or_default(), UNRESERVED)
        )),
    };
    #[cfg(feature = "tls")]
    let tls_roots = match &options.tls_roots {
        Some(_) if !tls => {
            return Err(Error::config(format!(
                "a TLS CA certificate was given for a {scheme}:// URL, which does not use TLS: \
                 use rediss+sentinel:// or valkeys+sentinel://"
            )));
        }
        Some(roots) => Some(roots.load()?),
        None => None,
    };
    #[cfg(feature = "tls")]
    if tls {
        super::options::ensure_crypto_provider();
    }
    let mut topology = SentinelTopology {
        sentinels: Vec::with_capacity(list.nodes.len()),
        sentinel_names: Vec::with_capacity(list.nodes.len()),
        service: service.clone(),
        userinfo: list.userinfo.clone(),
        db,
        tls,
        #[cfg(feature = "tls")]
        tls_roots,
        replica_reads: options.replica_reads,
        connect_timeout: options.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        connection_limit: options.connection_limit,
        preferred: AtomicUsize::new(0),
    };
    for (host, port) in &list.nodes {
        let url = node_url(tls, sentinel_userinfo.as_deref(), host, *port, 0);
        let client = topology
            .client(&url)
            .map_err(|err| Error::config(format!("invalid {scheme}:// URL: {err}")))?;
        topology.sentinels.push(client);
        topology
            .sentinel_names
            .push(format!("{}:{port}", bracketed(host)));
    }
    let location = format!(
        "{scheme}://{}{}/{}/{db}",
        list.shown_userinfo(),
        list.shown_nodes(),
        percent_encode(&service, UNRESERVED),
    );
    let secrets = list.password.into_iter().chain(sentinel_password).collect();
    Ok(Parsed {
        connector: Connector::Sentinel(Arc::new(topology)),
        location,
        secrets,
    })
}

impl SentinelTopology {
    /// A client for a node URL, with TCP_NODELAY and the TLS roots.
    fn client(&self, url: &str) -> RedisResult<redis::Client> {
        let info = url
            .into_connection_info()?
            .set_tcp_settings(TcpSettings::default().set_nodelay(true));
        #[cfg(feature = "tls")]
        if let Some(roots) = &self.tls_roots {
            return redis::Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(roots.clone()),
                },
            );
        }
        redis::Client::open(info)
    }

    /// How connections are opened: the connect timeout, no response timeout (requests are
    /// timed by the backend), the concurrency limit.
    fn connection_config(&self) -> AsyncConnectionConfig {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(None);
        match self.connection_limit {
            Some(limit) => config.set_concurrency_limit(limit),
            None => config,
        }
    }

    /// Asks the sentinels, the one that answered last first, for the primary, and connects to
    /// it (and to a replica with `replica_reads`).
    async fn resolve(&self) -> RedisResult<Resolved> {
        let count = self.sentinels.len();
        let first = self.preferred.load(Ordering::Relaxed);
        let mut failures = Vec::with_capacity(count);
        for offset in 0..count {
            let index = (first + offset) % count;
            match self.ask(index).await {
                Ok(resolved) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok(resolved);
                }
                Err(why) => {
                    failures.push(format!("sentinel {}: {why}", self.sentinel_names[index]))
                }
            }
        }
        Err(RedisError::from(std::io::Error::new(
            std::io::ErrorKind::NotConnected,
            format!(
                "no reachable primary for the Sentinel service {:?} ({})",
                self.service,
                failures.join("; ")
            ),
        )))
    }

    /// Asks one sentinel; why not, on failure.
    async fn ask(&self, index: usize) -> std::result::Result<Resolved, String> {
        let sentinel_config = self
            .connection_config()
            .set_response_timeout(Some(self.connect_timeout));
        let mut sentinel = self.sentinels[index]
            .get_multiplexed_async_connection_with_config(&sentinel_config)
            .await
            .map_err(|err| format!("unreachable ({err})"))?;
        let mut get_primary = redis::cmd("SENTINEL");
        get_primary
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&self.service);
        let address: Option<(String, u16)> = get_primary
            .query_async(&mut sentinel)
            .await
            .map_err(|err| format!("refused GET-MASTER-ADDR-BY-NAME ({err})"))?;
        let (host, port) = address
            .ok_or_else(|| format!("does not monitor a service named {:?}", self.service))?;
        let mut primary = self
            .data_connection(&host, port)
            .await
            .map_err(|err| format!("names {host}:{port}, which cannot be reached ({err})"))?;
        let role: Value = redis::cmd("ROLE")
            .query_async(&mut primary)
            .await
            .map_err(|err| format!("names {host}:{port}, which refused ROLE ({err})"))?;
        if !is_primary(&role) {
            return Err(format!(
                "names {host}:{port}, which is not a primary (a failover is under way)"
            ));
        }
        let replica = if self.replica_reads {
            self.replica(&mut sentinel).await
        } else {
            None
        };
        Ok(Resolved {
            primary,
            replica,
            address: (host, port),
        })
    }

    /// Where the sentinel that answered last says the primary is; `None` when it does not
    /// answer (the next sentinel is tried next time). `sentinel` keeps the connection.
    async fn primary_address(
        &self,
        sentinel: &mut Option<MultiplexedConnection>,
    ) -> Option<(String, u16)> {
        let index = self.preferred.load(Ordering::Relaxed) % self.sentinels.len();
        if sentinel.is_none() {
            let config = self
                .connection_config()
                .set_response_timeout(Some(self.connect_timeout));
            *sentinel = self.sentinels[index]
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .ok();
        }
        let connection = sentinel.as_mut()?;
        let mut get_primary = redis::cmd("SENTINEL");
        get_primary
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&self.service);
        match get_primary.query_async(connection).await {
            Ok(address) => address,
            Err(_) => {
                *sentinel = None;
                let _ = self.preferred.compare_exchange(
                    index,
                    (index + 1) % self.sentinels.len(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                None
            }
        }
    }

    /// A connection to a healthy replica the sentinel knows, chosen at random; `None` when
    /// there is none (reads then go to the primary).
    async fn replica(&self, sentinel: &mut MultiplexedConnection) -> Option<MultiplexedConnection> {
        let mut replicas = redis::cmd("SENTINEL");
        replicas.arg("REPLICAS").arg(&self.service);
        let replicas: Vec<HashMap<String, String>> = replicas.query_async(sentinel).await.ok()?;
        let healthy: Vec<(String, u16)> = replicas
            .iter()
            .filter(|replica| {
                let flags = replica.get("flags").map(String::as_str).unwrap_or_default();
                !flags.contains("s_down")
                    && !flags.contains("o_down")
                    && !flags.contains("disconnected")
                    && replica.get("master-link-status").map(String::as_str) == Some("ok")
            })
            .filter_map(|replica| {
                Some((
                    replica.get("ip")?.clone(),
                    replica.get("port")?.parse().ok()?,
                ))
            })
            .collect();
        if healthy.is_empty() {
            return None;
        }
        let pick = fastrand::usize(..healthy.len());
        let (host, port) = &healthy[pick];
        self.data_connection(host, *port).await.ok()
    }

    /// A connection to a data node, with the URL's credentials and database.
    async fn data_connection(&self, host: &str, port: u16) -> RedisResult<MultiplexedConnection> {
        let url = node_url(self.tls, self.userinfo.as_deref(), host, port, self.db);
        self.client(&url)?
            .get_multiplexed_async_connection_with_config(&self.connection_config())
            .await
    }
}

/// Whether a `ROLE` reply is a primary's.
fn is_primary(role: &Value) -> bool {
    match role {
        Value::Array(parts) => {
            matches!(
                parts.first(),
                Some(Value::BulkString(name)) if name.as_slice() == b"master"
            ) || matches!(parts.first(), Some(Value::SimpleString(name)) if name == "master")
        }
        _ => false,
    }
}

/// The connections of a link once the primary is known.
#[derive(Clone)]
struct Resolved {
    primary: MultiplexedConnection,
    replica: Option<MultiplexedConnection>,
    /// The primary's address, as the sentinel gave it.
    address: (String, u16),
}

/// Asks a sentinel every [`WATCH_PERIOD`] where the primary is, and raises `moved` when it is
/// no longer at `address`. Ends then, or once the link is dropped.
async fn watch(topology: Arc<SentinelTopology>, moved: Weak<AtomicBool>, address: (String, u16)) {
    let mut sentinel = None;
    loop {
        tokio::time::sleep(WATCH_PERIOD).await;
        let Some(flag) = moved.upgrade() else {
            return;
        };
        if let Some(current) = topology.primary_address(&mut sentinel).await {
            if current != address {
                flag.store(true, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// The connection of one tokio runtime to the service's primary (and a replica), resolved on
/// its first command. The backend drops a link whose primary failed (see the module
/// documentation), so a link never needs to resolve twice.
#[derive(Clone)]
pub(crate) struct SentinelLink {
    topology: Arc<SentinelTopology>,
    resolved: Arc<OnceCell<Resolved>>,
    /// Raised by the watcher when the sentinels name another primary.
    moved: Arc<AtomicBool>,
}

impl SentinelLink {
    /// A link that has not resolved the primary yet.
    pub(crate) fn new(topology: Arc<SentinelTopology>) -> SentinelLink {
        SentinelLink {
            topology,
            resolved: Arc::new(OnceCell::new()),
            moved: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The connections, resolved (and watched) if they are not yet. Fails at once if the
    /// primary moved: the backend then drops this link and sends the request on a new one.
    async fn resolved(&self) -> RedisResult<Resolved> {
        if self.moved.load(Ordering::Relaxed) {
            return Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                format!(
                    "the sentinels moved the primary of {:?}: reconnecting",
                    self.topology.service
                ),
            )));
        }
        self.resolved
            .get_or_try_init(|| async {
                let resolved = self.topology.resolve().await?;
                tokio::spawn(watch(
                    self.topology.clone(),
                    Arc::downgrade(&self.moved),
                    resolved.address.clone(),
                ));
                Ok(resolved)
            })
            .await
            .cloned()
    }
}

impl SentinelLink {
    /// The connection that serves a command of `route`: a replica for reads when the cache
    /// reads from replicas and one is healthy, else the primary.
    pub(crate) async fn connection(&self, route: Route) -> RedisResult<MultiplexedConnection> {
        let resolved = self.resolved().await?;
        Ok(match resolved.replica {
            Some(replica) if route == Route::Reads => replica,
            _ => resolved.primary,
        })
    }
}

impl ConnectionLike for SentinelLink {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let mut primary = self.resolved().await?.primary;
            primary.req_packed_command(cmd).await
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let mut primary = self.resolved().await?.primary;
            primary.req_packed_commands(pipeline, offset, count).await
        })
    }

    fn get_db(&self) -> i64 {
        self.topology.db
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let options = ServerOptions {
            sentinel_user: Some("s:u".to_owned()),
            sentinel_password: Some("s3cret".to_owned().into()),
            replica_reads: true,
            ..ServerOptions::default()
        };
        let parsed = parse(
            "redis+sentinel",
            "u:p%40ss@h1:26380,h2/my%20master/2",
            &options,
        )
        .expect("valid");
        assert_eq!(
            parsed.location,
            "redis+sentinel://u:***@h1:26380,h2:26379/my%20master/2"
        );
        assert_eq!(parsed.secrets, vec!["p@ss".to_owned(), "s3cret".to_owned()]);
        let Connector::Sentinel(topology) = parsed.connector else {
            panic!("not a Sentinel connector");
        };
        assert_eq!(topology.service, "my master");
        assert!(topology.replica_reads);
        let sentinel = topology.sentinels[0].get_connection_info().redis_settings();
        assert_eq!(sentinel.username(), Some("s:u"));
        assert_eq!(sentinel.password(), Some("s3cret"));
        for (bad, named) in [
            ("h1:26379", "the service name is missing"),
            ("h1:26379/", "the service name is missing"),
            ("h1/svc/x", "the database \"x\""),
            ("h1/svc/-1", "the database \"-1\""),
            ("h1/svc/1/2", "too many path segments"),
            ("h1/sv%c", "the service name has a broken %-escape"),
            ("h1:263790/svc", "the port \"263790\""),
        ] {
            match parse("redis+sentinel", bad, &ServerOptions::default()) {
                Err(Error::Config { reason: message }) => {
                    assert!(message.contains(named), "{bad}: {message}");
                }
                _ => panic!("{bad}: accepted"),
            }
        }
    }
}
