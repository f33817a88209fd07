//! How a server backend reaches its data: one server, a Redis Cluster, or a primary found
//! through Sentinel.
//!
//! [`Server`](super::Server) sends every command through a [`Link`], one per tokio runtime,
//! opened by the backend's [`Connector`]. Whatever the topology, a link is a
//! [`redis::aio::ConnectionLike`], so a command written once in the backend runs unchanged on
//! every topology:
//!
//! - standalone: a [`ConnectionManager`] (one multiplexed connection, reconnecting by itself);
//! - cluster (feature `cluster`): the redis crate's async cluster connection, which routes each
//!   command by its key's slot, splits `MGET`/`DEL`/`EXISTS`/`UNLINK` by slot and follows
//!   `MOVED`/`ASK` and failovers; the link adds what it lacks: pipelines split by slot, and
//!   `SCAN` over every primary (see [`super::cluster`]);
//! - sentinel (feature `sentinel`): a connection to the primary that the sentinels name,
//!   resolved on first use and again after a failover (see [`super::sentinel`]).
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
}

impl Link {
    /// Sends `packet` on the connection that serves `route` (a Sentinel replica may serve
    /// reads; everything else goes where the topology routes it); whether a failed request
    /// may have reached the server.
    pub(crate) async fn send<T: FromRedisValue>(
        &mut self,
        packet: Packet<'_>,
        #[cfg_attr(not(feature = "sentinel"), allow(unused_variables))] route: Route,
    ) -> (RedisResult<T>, Reached) {
        match (self, packet) {
            (Link::Standalone(link), packet) => link.send(packet).await,
            #[cfg(feature = "sentinel")]
            (Link::Sentinel(link), Packet::One(_)) if route == Route::Reads => {
                match link.connection(route).await {
                    Ok(mut connection) => (packet.send(&mut connection).await, Reached::Maybe),
                    Err(err) => (Err(err), Reached::No),
                }
            }
            (link, packet) => (packet.send(link).await, Reached::Maybe),
        }
    }

    /// Whether the link knows its connection is closed (it must be replaced before use).
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Link::Standalone(link) => link.is_closed(),
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
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Standalone(link) => link.get_db(),
            #[cfg(feature = "cluster")]
            Link::Cluster(link) => link.get_db(),
            #[cfg(feature = "sentinel")]
            Link::Sentinel(link) => link.get_db(),
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

/// The parts of a URL that lists several nodes: `scheme://[userinfo@]h1:p1,h2:p2[/path][?query]`.
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) struct NodeList {
    /// `user:password` or `:password` or `user`, as written (percent-encoded), without the `@`.
    pub(crate) userinfo: Option<String>,
    /// Hosts (IPv6 without brackets) and ports.
    pub(crate) nodes: Vec<(String, u16)>,
    /// What follows the node list, without its leading `/`.
    pub(crate) path: String,
    /// The query's `name=value` pairs, as written.
    pub(crate) query: Vec<(String, String)>,
}

#[cfg(any(feature = "cluster", feature = "sentinel"))]
impl NodeList {
    /// Splits `rest` (the URL after `scheme://`); `default_port` fills in a missing port.
    /// Messages never quote the URL (it may hold a password).
    pub(crate) fn parse(scheme: &str, rest: &str, default_port: u16) -> crate::Result<NodeList> {
        use crate::Error;
        let invalid = |why: String| Error::Config(format!("invalid {scheme}:// URL: {why}"));
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo.to_owned()), hosts),
            None => (None, authority),
        };
        let mut nodes = Vec::new();
        for node in hosts.split(',').map(str::trim) {
            if node.is_empty() {
                return Err(invalid(
                    "an empty node in the list (expected host:port,host:port)".to_owned(),
                ));
            }
            let (host, port) = if let Some(bracketed) = node.strip_prefix('[') {
                let (host, after) = bracketed
                    .split_once(']')
                    .ok_or_else(|| invalid("an IPv6 address without its `]`".to_owned()))?;
                match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None if after.is_empty() => (host, None),
                    None => return Err(invalid("garbage after an IPv6 address".to_owned())),
                }
            } else {
                match node.rsplit_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (node, None),
                }
            };
            if host.is_empty() {
                return Err(invalid("a node without a host".to_owned()));
            }
            let port = match port {
                Some(port) => port
                    .parse::<u16>()
                    .ok()
                    .filter(|port| *port != 0)
                    .ok_or_else(|| invalid(format!("{port:?} is not a port")))?,
                None => default_port,
            };
            nodes.push((host.to_owned(), port));
        }
        let query = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (name.to_owned(), value.to_owned())
            })
            .collect();
        Ok(NodeList {
            userinfo: userinfo.filter(|userinfo| !userinfo.is_empty()),
            nodes,
            path: path.to_owned(),
            query,
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

/// A host as it is written in a URL: IPv6 addresses in brackets.
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// A URL query flag: `true`/`false` and the usual spellings.
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) fn flag(name: &str, value: &str) -> crate::Result<bool> {
    match value {
        "" | "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(crate::Error::Config(format!(
            "invalid value {value:?} for the option {name}"
        ))),
    }
}

/// The password of a `user:password` userinfo, percent-decoded, to scrub it from messages.
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) fn password_of(userinfo: Option<&str>) -> Option<String> {
    let (_, password) = userinfo?.split_once(':')?;
    (!password.is_empty()).then(|| percent_decode(password))
}

/// `%XX` escapes decoded (invalid ones kept as written).
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(all(test, any(feature = "cluster", feature = "sentinel")))]
mod tests {
    use super::*;

    #[test]
    fn node_lists() {
        let list = NodeList::parse(
            "redis+cluster",
            "u:p%40ss@h1:7000,[::1]:7001, h3/x/1?a=1&b",
            6379,
        )
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
        assert_eq!(
            list.query,
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), String::new())
            ]
        );
        assert_eq!(list.shown_nodes(), "h1:7000,[::1]:7001,h3:6379");
        assert_eq!(list.shown_userinfo(), "u:***@");
        assert_eq!(
            node_url(true, list.userinfo.as_deref(), "::1", 7001, 0),
            "rediss://u:p%40ss@[::1]:7001/0"
        );
        assert_eq!(password_of(Some("u:p%40ss")).as_deref(), Some("p@ss"));
        for bad in ["h1:7000,,h2", "h1:notaport", "[::1", "h:0", ":7000"] {
            assert!(
                NodeList::parse("redis+cluster", bad, 6379).is_err(),
                "{bad}"
            );
        }
    }
}
