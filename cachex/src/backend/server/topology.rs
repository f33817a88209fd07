//! How a server backend reaches its data: one server, a Redis Cluster, or a primary found
//! through Sentinel.
//!
//! [`Server`](super::Server) sends every command through a [`Link`], one per tokio runtime,
//! opened by the backend's [`Connector`]. Whatever the topology, a link is a
//! [`redis::aio::ConnectionLike`], so a command written once in the backend runs unchanged on
//! every topology:
//!
//! - standalone: a [`StandaloneLink`] (one multiplexed connection, replaced when the server
//!   closes it; see [`super::standalone`]);
//! - cluster (feature `cluster`): the redis crate's async cluster connection, which routes each
//!   command by its key's slot, splits `MGET`/`DEL`/`EXISTS`/`UNLINK` by slot and follows
//!   `MOVED`/`ASK` and failovers; the link adds what it lacks: pipelines split by slot, and
//!   `SCAN` over every primary (see `super::cluster`);
//! - sentinel (feature `sentinel`): a connection to the primary that the sentinels name,
//!   resolved on first use and again after a failover (see `super::sentinel`);
//! - replicas: a primary and read replicas listed in the URL, reads spread over the healthy
//!   replicas (see [`super::replicas`]).
//!
//! Links open lazily: making one does no I/O, the first command connects.

use redis::aio::ConnectionLike;
use redis::{
    AsyncConnectionConfig, Cmd, FromRedisValue, Pipeline, RedisFuture, RedisResult, Value,
};

use super::Reached;
use super::blocking::Packet;
use super::standalone::StandaloneLink;
use crate::backend::command::Route;

/// Opens the links of one backend (one per tokio runtime). Its owner boxes it, so the size of
/// the standalone variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Connector {
    /// One Redis or Valkey server.
    Standalone {
        /// The server's client (address, credentials, database, TLS).
        client: redis::Client,
        /// The concurrency limit of its connections.
        config: AsyncConnectionConfig,
        /// How long opening a connection may take, handshake included.
        connect_timeout: std::time::Duration,
    },
    /// A Redis Cluster.
    #[cfg(feature = "cluster")]
    Cluster(std::sync::Arc<super::cluster::ClusterTopology>),
    /// A primary (and its replicas) monitored by sentinels.
    #[cfg(feature = "sentinel")]
    Sentinel(std::sync::Arc<super::sentinel::SentinelTopology>),
    /// A primary and read replicas listed in the URL.
    Replicas(std::sync::Arc<super::replicas::ReplicaTopology>),
}

impl Connector {
    /// A new link, for the current tokio runtime. No I/O: links connect on their first
    /// command.
    pub(crate) fn open(&self) -> RedisResult<Link> {
        match self {
            Connector::Standalone {
                client,
                config,
                connect_timeout,
            } => Ok(Link::Standalone(StandaloneLink::new(
                client.clone(),
                config.clone(),
                *connect_timeout,
            ))),
            #[cfg(feature = "cluster")]
            Connector::Cluster(topology) => Ok(Link::Cluster(super::cluster::ClusterLink::new(
                topology.clone(),
            ))),
            #[cfg(feature = "sentinel")]
            Connector::Sentinel(topology) => Ok(Link::Sentinel(
                super::sentinel::SentinelLink::new(topology.clone()),
            )),
            Connector::Replicas(topology) => Ok(Link::Replicas(
                super::replicas::ReplicasLink::new(topology.clone()),
            )),
        }
    }

    /// The topology's name, for logs.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Connector::Standalone { .. } => "redis",
            #[cfg(feature = "cluster")]
            Connector::Cluster(_) => "cluster",
            #[cfg(feature = "sentinel")]
            Connector::Sentinel(_) => "sentinel",
            Connector::Replicas(_) => "replicas",
        }
    }

    /// Whether the backend follows failovers itself (Sentinel): a link that met a connection
    /// error or a `READONLY` reply is dropped, so that the next one finds the primary again.
    pub(crate) fn follows_failovers(&self) -> bool {
        match self {
            #[cfg(feature = "sentinel")]
            Connector::Sentinel(_) => true,
            _ => false,
        }
    }
}

/// The connection of one runtime to the backend's servers, whatever the topology.
#[derive(Clone)]
pub(crate) enum Link {
    /// One server.
    Standalone(StandaloneLink),
    /// A cluster.
    #[cfg(feature = "cluster")]
    Cluster(super::cluster::ClusterLink),
    /// The primary of a Sentinel service.
    #[cfg(feature = "sentinel")]
    Sentinel(super::sentinel::SentinelLink),
    /// A primary and its read replicas.
    Replicas(super::replicas::ReplicasLink),
}

impl Link {
    /// Sends `packet` on the connection that serves `route` (a Sentinel replica or a listed
    /// replica may serve reads; everything else goes where the topology routes it); whether
    /// a failed request may have reached the server.
    pub(crate) async fn send<T: FromRedisValue>(
        &mut self,
        packet: Packet<'_>,
        route: Route,
    ) -> (RedisResult<T>, Reached) {
        match (self, packet) {
            (Link::Standalone(link), packet) => link.send(packet).await,
            (Link::Replicas(link), Packet::One(_)) if route == Route::Reads => {
                Box::pin(link.read(packet)).await
            }
            (Link::Replicas(link), packet) => link.send(packet).await,
            #[cfg(feature = "sentinel")]
            (Link::Sentinel(link), Packet::One(_)) if route == Route::Reads => {
                match Box::pin(link.connection(route)).await {
                    Ok(mut connection) => (packet.send(&mut connection).await, Reached::Maybe),
                    Err(err) => (Err(err), Reached::No),
                }
            }
            #[allow(unreachable_patterns)] // with the cluster or sentinel feature only
            (link, packet) => (packet.send(link).await, Reached::Maybe),
        }
    }

    /// A standalone server's connection, if it is open (a clone: each request needs its own
    /// handle).
    pub(crate) fn open_standalone(&self) -> Option<redis::aio::MultiplexedConnection> {
        match self {
            Link::Standalone(link) => link.open_connection(),
            #[allow(unreachable_patterns)] // with the cluster or sentinel feature only
            _ => None,
        }
    }

    /// Whether the link knows its connection is closed (it must be replaced before use).
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Link::Standalone(link) => link.is_closed(),
            Link::Replicas(link) => link.is_closed(),
            #[allow(unreachable_patterns)] // with the cluster or sentinel feature only
            _ => false,
        }
    }
}

impl ConnectionLike for Link {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Link::Standalone(link) => link.req_packed_command(cmd),
            #[cfg(feature = "cluster")]
            Link::Cluster(link) => link.req_packed_command(cmd),
            #[cfg(feature = "sentinel")]
            Link::Sentinel(link) => link.req_packed_command(cmd),
            Link::Replicas(link) => link.primary.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Link::Standalone(link) => link.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "cluster")]
            Link::Cluster(link) => link.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "sentinel")]
            Link::Sentinel(link) => link.req_packed_commands(pipeline, offset, count),
            Link::Replicas(link) => link.primary.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Standalone(link) => link.get_db(),
            #[cfg(feature = "cluster")]
            Link::Cluster(link) => link.get_db(),
            #[cfg(feature = "sentinel")]
            Link::Sentinel(link) => link.get_db(),
            Link::Replicas(link) => link.primary.get_db(),
        }
    }
}

/// A parsed server URL: how to connect, and how to show it.
pub(crate) struct Parsed {
    /// What opens the links.
    pub(crate) connector: Connector,
    /// The URL without secrets, for `Debug`, `Display` and errors.
    pub(crate) location: String,
    /// Every password of the URL, to scrub them from any message that might echo one.
    pub(crate) secrets: Vec<String>,
}

/// The parts of a URL that lists several nodes: `scheme://[userinfo@]h1:p1,h2:p2[/path]` (its
/// options were read by the cache layer).
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) struct NodeList {
    /// `user:password` or `:password` or `user`, as written (percent-encoded), without the `@`.
    pub(crate) userinfo: Option<String>,
    /// The password of the userinfo, percent-decoded, to scrub it from messages.
    pub(crate) password: Option<String>,
    /// Hosts (IPv6 without brackets) and ports.
    pub(crate) nodes: Vec<(String, u16)>,
    /// What follows the node list, without its leading `/`.
    pub(crate) path: String,
}

#[cfg(any(feature = "cluster", feature = "sentinel"))]
impl NodeList {
    /// Splits `rest` (the URL after `scheme://`); `default_port` fills in a missing port.
    /// Each host and port is checked, and named when it is wrong; messages never quote the
    /// userinfo (it may hold a password).
    pub(crate) fn parse(scheme: &str, rest: &str, default_port: u16) -> crate::Result<NodeList> {
        use super::url::{credentials, host_and_port, invalid};
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo.to_owned()), hosts),
            None => (None, authority),
        };
        let userinfo = userinfo.filter(|userinfo| !userinfo.is_empty());
        let password = match &userinfo {
            Some(userinfo) => credentials(userinfo).map_err(|why| invalid(scheme, why))?.1,
            None => None,
        };
        let mut nodes = Vec::new();
        for node in hosts.split(',').map(str::trim) {
            if node.is_empty() {
                return Err(invalid(
                    scheme,
                    "an empty node in the list (expected host:port,host:port)".to_owned(),
                ));
            }
            nodes.push(host_and_port(node, default_port).map_err(|why| invalid(scheme, why))?);
        }
        Ok(NodeList {
            userinfo,
            password,
            nodes,
            path: path.to_owned(),
        })
    }

    /// The userinfo for display: `user:***@`, `:***@`, `user@` or nothing.
    pub(crate) fn shown_userinfo(&self) -> String {
        match self.userinfo.as_deref() {
            None => String::new(),
            Some(userinfo) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***@"),
                None => format!("{userinfo}@"),
            },
        }
    }

    /// The node list for display: `h1:p1,[::1]:p2`.
    pub(crate) fn shown_nodes(&self) -> String {
        self.nodes
            .iter()
            .map(|(host, port)| format!("{}:{port}", bracketed(host)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `redis://[userinfo@]host:port/db`, or `rediss://` with TLS.
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) fn node_url(
    tls: bool,
    userinfo: Option<&str>,
    host: &str,
    port: u16,
    db: i64,
) -> String {
    let scheme = if tls { "rediss" } else { "redis" };
    let userinfo = userinfo.map(|info| format!("{info}@")).unwrap_or_default();
    format!("{scheme}://{userinfo}{}:{port}/{db}", bracketed(host))
}

/// A client of one node from its connection info, trusting the CA certificates `roots` (PEM)
/// instead of the system's when given.
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) fn node_client(
    info: redis::ConnectionInfo,
    #[cfg(feature = "tls")] roots: Option<&Vec<u8>>,
) -> RedisResult<redis::Client> {
    #[cfg(feature = "tls")]
    if let Some(roots) = roots {
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

/// `info` over RESP3, whatever protocol it asked for: tracking's invalidation links need its
/// push messages.
pub(crate) fn resp3(info: redis::ConnectionInfo) -> redis::ConnectionInfo {
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(redis::ProtocolVersion::RESP3);
    info.set_redis_settings(settings)
}

/// A timeout of a topology's own requests (`what`), as the redis crate's errors are.
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) fn timed_out(what: &str) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what} timed out"),
    ))
}

/// A host as it is written in a URL: IPv6 addresses in brackets.
pub(crate) fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

#[cfg(all(test, any(feature = "cluster", feature = "sentinel")))]
mod tests {
    use super::*;

    #[test]
    fn node_lists() {
        let list = NodeList::parse("redis+cluster", "u:p%40ss@h1:7000,[::1]:7001, h3/x/1", 6379)
            .expect("valid");
        assert_eq!(list.userinfo.as_deref(), Some("u:p%40ss"));
        assert_eq!(
            list.nodes,
            vec![
                ("h1".to_owned(), 7000),
                ("::1".to_owned(), 7001),
                ("h3".to_owned(), 6379)
            ]
        );
        assert_eq!(list.path, "x/1");
        assert_eq!(list.shown_nodes(), "h1:7000,[::1]:7001,h3:6379");
        assert_eq!(list.shown_userinfo(), "u:***@");
        assert_eq!(
            node_url(true, list.userinfo.as_deref(), "::1", 7001, 0),
            "rediss://u:p%40ss@[::1]:7001/0"
        );
        assert_eq!(list.password.as_deref(), Some("p@ss"));
        for (bad, named) in [
            ("h1:7000,,h2", "an empty node"),
            ("h1:notaport", "the port \"notaport\""),
            ("h1:7000,h2:70001", "the port \"70001\""),
            ("[::1", "the host \"[::1\""),
            ("h:0", "the port \"0\""),
            (":7000", "the host is missing"),
            ("a b:7000", "the host \"a b\""),
            ("u:pw%z@h1", "the password has a broken %-escape"),
        ] {
            match NodeList::parse("redis+cluster", bad, 6379) {
                Err(crate::Error::Config { reason: message }) => {
                    assert!(message.contains(named), "{bad}: {message}");
                }
                _ => panic!("{bad}: accepted"),
            }
        }
    }
}
