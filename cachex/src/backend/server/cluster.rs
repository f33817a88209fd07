//! Redis Cluster: the server backend over the redis crate's async cluster connection.
//!
//! # URL
//!
//! `redis+cluster://[user:password@]host1:port1,host2:port2[,...][/0][?replica_reads=true]`
//! (also `valkey+cluster://`; `rediss+cluster://` and `valkeys+cluster://` with TLS, which
//! needs the `tls` feature). The nodes are seeds: any reachable one gives the cluster's
//! topology. A missing port is 6379. A cluster has only database 0. `replica_reads=true`
//! sends reads to a random replica of the key's shard (they may lag behind the primary).
//!
//! # What the cluster connection does, and what this module adds
//!
//! The redis crate routes every command by its key's slot, follows `MOVED` and `ASK`, refreshes
//! its slot map when a request meets `MOVED` or a node it cannot reach, and retries (`TRYAGAIN`,
//! `CLUSTERDOWN`, a broken connection) up to [`RETRIES`] times; it splits `MGET`, `DEL`,
//! `EXISTS`, `UNLINK` and `TOUCH` over their keys' slots itself, putting the answers back
//! together in order. It does not split pipelines (it sends a pipeline to the node of its first
//! key), sends `SCAN` to one random node, never refreshes its slot map unless a request fails
//! (replicas that join later are never read from), and once its retries are spent hands back
//! the last redirection or refusal as it is. So a [`ClusterLink`]:
//!
//! - splits a pipeline (not a transaction) by the slot of each command's first key, sends the
//!   parts concurrently and puts the answers back in order: `set_many` of keys on many nodes
//!   never meets `CROSSSLOT` or `MOVED`;
//! - runs `SCAN` over every primary in turn: the cursor it returns carries, in its top
//!   [`SLOT_BITS`] bits, the first slot of the primary being scanned (so the scan follows that
//!   shard to its new primary after a failover) and the node's own cursor in the rest. A caller
//!   that loops on `SCAN` until the cursor is 0, as on one server, visits every primary;
//! - follows an `ASK` the connection gave up on (a slot being migrated, under concurrent
//!   requests: see [`follow_ask`]), for commands on one slot;
//! - asks a node for the slot map every [`CHECK_PERIOD`], and after a request met a change of
//!   topology (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`, `READONLY`, `MASTERDOWN`, a node that
//!   cannot be reached), and opens a new connection when the map changed (new replicas, a
//!   failover, slots moved): requests in flight finish on the old one.
//!
//! A refusal that still reaches the backend (during a failover, until the cluster has promoted
//! a replica) is an [`Error::Connection`] for the caller, never a
//! server error, and the backend sends the request once more where that cannot apply it
//! twice. The cluster connection itself sends a request again after its connection broke,
//! whatever the command: an increment whose answer was lost that way may be applied twice.
//!
//! A command on several keys that must share a slot (`RENAME`, a Lua script, `SINTER`, ...)
//! gets the server's `CROSSSLOT` reply when they do not, which the backend turns into
//! [`Error::Unsupported`] naming the fix: a hash tag (`{...}`) in
//! the keys, or in the cache's prefix, so that they hash to one slot.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use redis::aio::ConnectionLike;
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_read_routing::RandomReplicaStrategy;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo, Slot, SlotAddr};
use redis::io::tcp::TcpSettings;
use redis::{
    Arg, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, ServerErrorKind, Value,
};

use super::error::is_topology_change;
use super::options::{DEFAULT_CONNECT_TIMEOUT, ServerOptions};
use super::topology::{Connector, NodeList, Parsed, node_client, node_url, resp3, timed_out};
use crate::{Error, Result};

/// How many top bits of a cluster `SCAN` cursor name the shard being scanned (a slot, below
/// 16384 = 2^14); the node's own cursor has the other 50, far more than a node's table needs.
pub(crate) const SLOT_BITS: u32 = 14;

/// Where the node's cursor ends in a cluster `SCAN` cursor.
const NODE_CURSOR_BITS: u32 = u64::BITS - SLOT_BITS;

/// How often the cluster connection retries a request (reconnecting, refreshing its slot map)
/// before it gives up, and how long it waits between tries, in milliseconds: from 10 ms,
/// doubling, at most 500 ms. About 3 s in all, which covers a replica's promotion with a short
/// `cluster-node-timeout`; the response timeout bounds the whole call anyway.
const RETRIES: u32 = 16;
const MIN_RETRY_WAIT_MS: u64 = 10;
const MAX_RETRY_WAIT_MS: u64 = 500;

/// How often a link asks a node for the slot map, to learn of replicas added since it connected
/// (and of any other change that no request met).
pub(crate) const CHECK_PERIOD: Duration = Duration::from_secs(5);

/// After a request met a topology error, a check of the slot map made less than this ago
/// stands (a failover fails many requests at once).
const CHECK_SPACING: Duration = Duration::from_millis(250);

/// A link replaces its connection at most this often (nodes may disagree for a moment while
/// the cluster settles).
const REOPEN_SPACING: Duration = Duration::from_secs(1);

/// How many `ASK` redirections of one request a link follows after the cluster connection gave
/// up.
const MAX_REDIRECTS: usize = 5;

/// What opening a cluster connection needs.
pub(crate) struct ClusterTopology {
    client: ClusterClient,
    config: ClusterConfig,
    /// Bounds each step of a check of the slot map (asking for it, opening a connection).
    connect_timeout: Duration,
    /// What tracking's invalidation link needs to reach every node (see [`Nodes`]).
    nodes: Nodes,
}

/// The seeds of a cluster URL and how to reach any node: tracking's link connects to every
/// node (see [`ClusterTopology::tracked_nodes`]).
struct Nodes {
    seeds: Vec<redis::ConnectionInfo>,
    tls: bool,
    userinfo: Option<String>,
    /// The CA certificates (PEM) TLS connections trust instead of the system's roots.
    #[cfg(feature = "tls")]
    tls_roots: Option<Vec<u8>>,
}

/// Parses a cluster URL (see the module documentation): `scheme` is lowercase, `rest` the URL
/// after `scheme://`.
pub(crate) fn parse(scheme: &str, rest: &str, options: &ServerOptions) -> Result<Parsed> {
    let tls = matches!(scheme, "rediss+cluster" | "valkeys+cluster");
    super::options::check_tls_is_built(scheme, tls)?;
    let list = NodeList::parse(scheme, rest, 6379)?;
    if !matches!(list.path.as_str(), "" | "0") {
        return Err(Error::config(format!(
            "invalid {scheme}:// URL: the database {:?}: a cluster has only database 0, so \
             the URL has no path (or /0)",
            list.path
        )));
    }
    let replica_reads = options.replica_reads;
    let mut nodes = Vec::with_capacity(list.nodes.len());
    for (host, port) in &list.nodes {
        let info = redis::IntoConnectionInfo::into_connection_info(node_url(
            tls,
            list.userinfo.as_deref(),
            host,
            *port,
            0,
        ))
        .map_err(|err| Error::config(format!("invalid {scheme}:// URL: {err}")))?;
        nodes.push(info);
    }
    let connect_timeout = options.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    #[allow(unused_mut)] // the TLS roots are set with the tls feature only
    let mut tracked = Nodes {
        seeds: nodes.clone(),
        tls,
        userinfo: list.userinfo.clone(),
        #[cfg(feature = "tls")]
        tls_roots: None,
    };
    let mut builder = ClusterClientBuilder::new(nodes)
        .connection_timeout(connect_timeout)
        .tcp_settings(TcpSettings::default().set_nodelay(true))
        .retries(RETRIES)
        .min_retry_wait(MIN_RETRY_WAIT_MS)
        .max_retry_wait(MAX_RETRY_WAIT_MS)
        .retry_wait_formula(MIN_RETRY_WAIT_MS, 2)
        // Requests are timed by the backend, per call.
        .overall_response_timeout(None);
    if replica_reads {
        builder = builder.read_routing_strategy(RandomReplicaStrategy);
    }
    if let Some(limit) = options.connection_limit {
        builder = builder.connection_concurrency_limit(limit);
    }
    #[cfg(feature = "tls")]
    match &options.tls_roots {
        Some(_) if !tls => {
            return Err(Error::config(format!(
                "a TLS CA certificate was given for a {scheme}:// URL, which does not use TLS: \
                 use rediss+cluster:// or valkeys+cluster://"
            )));
        }
        Some(roots) => {
            let roots = roots.load()?;
            tracked.tls_roots = Some(roots.clone());
            builder = builder.certs(redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(roots),
            });
        }
        None => {}
    }
    #[cfg(feature = "tls")]
    if tls {
        super::options::ensure_crypto_provider();
    }
    let client = builder
        .build()
        .map_err(|err| Error::config(format!("invalid {scheme}:// URL: {err}")))?;
    let config = ClusterConfig::new().set_connection_timeout(connect_timeout);
    Ok(Parsed {
        connector: Connector::Cluster(Arc::new(ClusterTopology {
            client,
            config,
            connect_timeout,
            nodes: tracked,
        })),
        location: format!("{scheme}://{}{}", list.shown_userinfo(), list.shown_nodes()),
        secrets: list.password.into_iter().collect(),
    })
}

// --- tracking ---

impl ClusterTopology {
    /// Every node of the cluster a seed knows (`CLUSTER NODES`; primaries and replicas, but not
    /// those flagged failed, without address or in handshake): its `host:port` and a client
    /// over RESP3 for tracking's invalidation link. Replicas are linked too: a replica that a
    /// failover promotes then reports its own writes on the link it already has.
    pub(crate) async fn tracked_nodes(&self) -> RedisResult<Vec<(String, redis::Client)>> {
        let mut last = None;
        for seed in &self.nodes.seeds {
            let asked = async {
                let mut connection = self
                    .node_client(seed.clone())?
                    .get_multiplexed_async_connection_with_config(
                        &redis::AsyncConnectionConfig::new()
                            .set_connection_timeout(Some(self.connect_timeout))
                            .set_response_timeout(Some(self.connect_timeout)),
                    )
                    .await?;
                redis::cmd("CLUSTER")
                    .arg("NODES")
                    .query_async::<String>(&mut connection)
                    .await
            };
            match tokio::time::timeout(self.connect_timeout, asked).await {
                Ok(Ok(text)) => {
                    let host = match seed.addr() {
                        redis::ConnectionAddr::Tcp(host, _)
                        | redis::ConnectionAddr::TcpTls { host, .. } => host.as_str(),
                        _ => "",
                    };
                    return live_nodes(&text, host)
                        .into_iter()
                        .map(|address| {
                            let client = self.tracking_client(&address)?;
                            Ok((address, client))
                        })
                        .collect();
                }
                Ok(Err(err)) => last = Some(err),
                Err(_) => last = Some(timed_out(ASKING_NODES)),
            }
        }
        Err(last.unwrap_or_else(|| timed_out(ASKING_NODES)))
    }

    /// A RESP3 client of the node at `address` (`host:port`), with the URL's credentials and TLS.
    fn tracking_client(&self, address: &str) -> RedisResult<redis::Client> {
        let (host, port) = address
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
            .ok_or_else(|| scan_error(format!("a node address {address:?} without a port")))?;
        let url = node_url(
            self.nodes.tls,
            self.nodes.userinfo.as_deref(),
            host.trim_start_matches('[').trim_end_matches(']'),
            port,
            0,
        );
        let info = redis::IntoConnectionInfo::into_connection_info(url)?
            .set_tcp_settings(TcpSettings::default().set_nodelay(true));
        self.node_client(resp3(info))
    }

    /// A client of a node's connection info, with the URL's TLS roots.
    fn node_client(&self, info: redis::ConnectionInfo) -> RedisResult<redis::Client> {
        node_client(
            info,
            #[cfg(feature = "tls")]
            self.nodes.tls_roots.as_ref(),
        )
    }
}

/// What [`ClusterTopology::tracked_nodes`] times out on.
const ASKING_NODES: &str = "asking a cluster node for its nodes";

/// The `host:port` of the nodes a `CLUSTER NODES` reply lists, but those flagged failed
/// (`fail`, not the suspicion `fail?`), without address (`noaddr`) or in handshake. A node's
/// hostname is preferred to its IP when it announces one (TLS certificates name hosts); a node
/// listed without IP (`:port`, no `cluster-announce-ip`) is taken to be on `asked_host`, the
/// host of the node asked, as the redis crate does.
pub(crate) fn live_nodes(text: &str, asked_host: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, address, flags) = (fields.next()?, fields.next()?, fields.next()?);
            let gone = flags
                .split(',')
                .any(|flag| matches!(flag, "fail" | "noaddr" | "handshake"));
            // `ip:port@cport[,hostname]`
            let (ip_port, rest) = address.split_once('@').unwrap_or((address, ""));
            let hostname = rest.split_once(',').map_or("", |(_, hostname)| hostname);
            let (ip, port) = ip_port.rsplit_once(':')?;
            let host = [hostname, ip, asked_host]
                .into_iter()
                .find(|host| !host.is_empty())?;
            (!gone && !port.is_empty()).then(|| format!("{host}:{port}"))
        })
        .collect()
}

/// The cluster connection of one tokio runtime, opened on its first command (again on the next
/// command if opening failed), and replaced when the slot map changed (see the module
/// documentation).
#[derive(Clone)]
pub(crate) struct ClusterLink {
    topology: Arc<ClusterTopology>,
    state: Arc<LinkState>,
}

/// What the clones of a link share.
struct LinkState {
    /// The connection in use, once opened.
    current: RwLock<Option<Arc<Current>>>,
    /// Held while opening or checking, so that concurrent requests do it once.
    checking: tokio::sync::Mutex<()>,
}

/// A cluster connection, with the slot map it was opened on.
#[derive(Clone)]
struct Current {
    connection: ClusterConnection,
    /// The slot map when it was last checked (`None` if asking for it failed).
    slots: Option<SlotMap>,
    /// When it was opened.
    opened: Instant,
    /// When its slot map was last checked.
    checked: Instant,
}

impl ClusterLink {
    /// A link that has not connected yet.
    pub(crate) fn new(topology: Arc<ClusterTopology>) -> ClusterLink {
        ClusterLink {
            topology,
            state: Arc::new(LinkState {
                current: RwLock::new(None),
                checking: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn current(&self) -> Option<Arc<Current>> {
        self.state
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The cluster connection, opened if it is not yet: one that reaches a seed node and
    /// learns the slot map. The first one starts the watch of the slot map.
    async fn connection(&self) -> RedisResult<ClusterConnection> {
        if let Some(current) = self.current() {
            return Ok(current.connection.clone());
        }
        let _checking = self.state.checking.lock().await;
        if let Some(current) = self.current() {
            return Ok(current.connection.clone());
        }
        let current = self.open().await?;
        let connection = current.connection.clone();
        *self
            .state
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(current));
        tokio::spawn(watch(Arc::downgrade(&self.state), self.topology.clone()));
        Ok(connection)
    }

    /// A new cluster connection, and the slot map as a node gives it now.
    async fn open(&self) -> RedisResult<Current> {
        let mut connection = self
            .topology
            .client
            .get_async_connection_with_config(self.topology.config.clone())
            .await?;
        let slots = slot_map(&mut connection).await.ok();
        let now = Instant::now();
        Ok(Current {
            connection,
            slots,
            opened: now,
            checked: now,
        })
    }

    /// Asks a node for the slot map, and opens a new connection (which learns it afresh) when
    /// it changed since the current one was opened: replicas listed since, a failover, slots
    /// moved. After a request met a topology error (`after_error`), a check under way or made
    /// less than [`CHECK_SPACING`] ago stands. A connection is replaced at most once per
    /// [`REOPEN_SPACING`]. Each step is bounded by the connect timeout.
    async fn check(&self, after_error: bool) {
        let _checking = if after_error {
            match self.state.checking.try_lock() {
                Ok(checking) => checking,
                Err(_) => return,
            }
        } else {
            self.state.checking.lock().await
        };
        let Some(current) = self.current() else {
            return;
        };
        if after_error && current.checked.elapsed() < CHECK_SPACING {
            return;
        }
        let within = self.topology.connect_timeout;
        let slots = tokio::time::timeout(within, slot_map(&mut current.connection.clone()))
            .await
            .ok()
            .and_then(Result::ok);
        let changed = slots.is_some() && slots != current.slots;
        let next = if changed && current.opened.elapsed() >= REOPEN_SPACING {
            tokio::time::timeout(within, self.open())
                .await
                .ok()
                .and_then(Result::ok)
        } else {
            None
        };
        let next = next.unwrap_or_else(|| Current {
            checked: Instant::now(),
            ..Current::clone(&current)
        });
        *self
            .state
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(next));
    }

    /// The outcome of a request, after which the slot map is checked if the request met a
    /// change of topology (`changed`: an error, or an error reply of it); an error that names no
    /// node of the cluster is a connection error.
    async fn checked<T>(&self, outcome: RedisResult<T>, changed: bool) -> RedisResult<T> {
        let changed = changed
            || outcome.as_ref().is_err_and(|err| {
                is_topology_change(err) || err.is_io_error() || no_connection(err)
            });
        if changed {
            self.check(true).await;
        }
        outcome.map_err(|err| {
            if no_connection(&err) {
                RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::NotConnected,
                    format!("no node of the cluster could be reached ({err})"),
                ))
            } else {
                err
            }
        })
    }
}

/// Whether an error of the cluster connection says it has no connection to send a request on.
fn no_connection(err: &RedisError) -> bool {
    err.kind() == ErrorKind::ClusterConnectionNotFound
}

/// Checks the slot map of a link every [`CHECK_PERIOD`], until the link is dropped.
async fn watch(state: Weak<LinkState>, topology: Arc<ClusterTopology>) {
    loop {
        tokio::time::sleep(CHECK_PERIOD).await;
        let Some(state) = state.upgrade() else {
            return;
        };
        ClusterLink {
            topology: topology.clone(),
            state,
        }
        .check(false)
        .await;
    }
}

/// The slot map as a node gives it (`CLUSTER SLOTS`): each range of slots with the addresses
/// of its primary and (sorted) replicas, in the order of the slots.
type SlotMap = Vec<(i64, i64, Vec<String>)>;

/// Asks a node for the slot map.
async fn slot_map(connection: &mut ClusterConnection) -> RedisResult<SlotMap> {
    let mut slots = redis::cmd("CLUSTER");
    slots.arg("SLOTS");
    let reply = connection
        .route_command(
            slots,
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        )
        .await?;
    slot_map_of(reply)
}

/// The slot map of a `CLUSTER SLOTS` reply.
fn slot_map_of(reply: Value) -> RedisResult<SlotMap> {
    let Value::Array(ranges) = reply else {
        return Err(scan_error(format!(
            "unexpected CLUSTER SLOTS reply {reply:?}"
        )));
    };
    let mut map: SlotMap = ranges
        .into_iter()
        .filter_map(|range| {
            let Value::Array(parts) = range else {
                return None;
            };
            let mut parts = parts.into_iter();
            let (Some(Value::Int(start)), Some(Value::Int(end))) = (parts.next(), parts.next())
            else {
                return None;
            };
            let nodes: Vec<String> = parts.map(|node| node_address(&node)).collect();
            let (primary, replicas) = nodes.split_first()?;
            let mut sorted = replicas.to_vec();
            sorted.sort_unstable();
            sorted.insert(0, primary.clone());
            Some((start, end, sorted))
        })
        .collect();
    map.sort_unstable();
    Ok(map)
}

/// `host:port` of a node in a `CLUSTER SLOTS` reply (`[host, port, id, ...]`).
fn node_address(node: &Value) -> String {
    match node {
        Value::Array(fields) => match (fields.first(), fields.get(1)) {
            (Some(Value::BulkString(host)), Some(Value::Int(port))) => {
                format!("{}:{port}", String::from_utf8_lossy(host))
            }
            _ => format!("{node:?}"),
        },
        _ => format!("{node:?}"),
    }
}

impl ConnectionLike for ClusterLink {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let outcome = if is_scan(cmd) {
                scan(&mut connection, cmd).await
            } else {
                match connection.req_packed_command(cmd).await {
                    Err(err) if ask_target(&err).is_some() && on_one_slot(cmd) => {
                        follow_ask(&mut connection, cmd, err).await
                    }
                    outcome => outcome,
                }
            };
            let changed = outcome.as_ref().is_ok_and(is_topology_reply);
            self.checked(outcome, changed).await
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let outcome = if pipeline.is_transaction() || offset != 0 || count != pipeline.len() {
                connection
                    .req_packed_commands(pipeline, offset, count)
                    .await
            } else {
                split_pipeline(&connection, pipeline).await
            };
            let changed = outcome
                .as_ref()
                .is_ok_and(|replies| replies.iter().any(is_topology_reply));
            self.checked(outcome, changed).await
        })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// Whether a reply is an error reply of a topology change (`READONLY` from a replica the
/// cluster connection sent a script to, say).
fn is_topology_reply(reply: &Value) -> bool {
    matches!(reply, Value::ServerError(err) if is_topology_change(&err.clone().into()))
}

/// Whether the keys of a command are all on one slot, so that a redirection of it may be
/// followed as it is: always, except for the commands that the cluster connection splits by
/// slot (`MGET`, `DEL`, `MSET`, ...), when their keys are on several.
fn on_one_slot(cmd: &Cmd) -> bool {
    let mut args = cmd.args_iter().filter_map(|arg| match arg {
        Arg::Simple(arg) => Some(arg),
        _ => None,
    });
    let Some(name) = args.next() else {
        return true;
    };
    let keys: Vec<&[u8]> = match name.to_ascii_uppercase().as_slice() {
        b"MGET" | b"DEL" | b"EXISTS" | b"UNLINK" | b"TOUCH" | b"WATCH" => args.collect(),
        b"MSET" => args.step_by(2).collect(),
        _ => return true,
    };
    keys.windows(2)
        .all(|pair| Slot::for_key(pair[0]) == Slot::for_key(pair[1]))
}

/// Follows the `ASK` redirection `err` of `cmd`, and the ones after it, at most
/// [`MAX_REDIRECTS`] times. The cluster connection follows an `ASK` itself, but with `ASKING`
/// and the command sent one after the other, between which a concurrent request on the same
/// connection may come (the target then answers `ASK` again, and after enough of those the
/// connection gives up): here the two go as one pipeline. A `MOVED` the connection gave up on
/// is not followed: it names a node that could not be reached (a failed primary, during a
/// failover), and the error stands.
async fn follow_ask(
    connection: &mut ClusterConnection,
    cmd: &Cmd,
    mut err: RedisError,
) -> RedisResult<Value> {
    for _ in 0..MAX_REDIRECTS {
        let Some(route) = ask_target(&err) else {
            return Err(err);
        };
        let mut asking = redis::pipe();
        asking.cmd("ASKING").add_command(cmd.clone());
        let reply = connection
            .route_pipeline(asking, 0, 2, route)
            .await?
            .into_iter()
            .nth(1)
            .unwrap_or(Value::Nil);
        err = match reply {
            Value::ServerError(reply) if reply.code() == "ASK" => reply.into(),
            reply => return Ok(reply),
        };
    }
    Err(err)
}

/// The node an `ASK` error sends to.
fn ask_target(err: &RedisError) -> Option<SingleNodeRoutingInfo> {
    if err.kind() != ErrorKind::Server(ServerErrorKind::Ask) {
        return None;
    }
    let (address, _) = err.redirect_node()?;
    let (host, port) = address.rsplit_once(':')?;
    Some(SingleNodeRoutingInfo::ByAddress {
        host: host.to_owned(),
        port: port.parse().ok()?,
    })
}

/// The slot of a command's first key (its first argument after the name; after the
/// subcommand for a container command such as `MEMORY USAGE`; a script's after its key
/// count), if it has one.
fn first_key_slot(cmd: &Cmd) -> Option<Slot> {
    let mut args = cmd.args_iter();
    let is =
        |name: &[u8], of: &[&str]| of.iter().any(|of| name.eq_ignore_ascii_case(of.as_bytes()));
    let (script, skip) = match args.next() {
        Some(Arg::Simple(name)) if is(name, &["EVAL", "EVALSHA"]) => (true, 2),
        Some(Arg::Simple(name)) if is(name, &["MEMORY", "OBJECT", "XINFO", "XGROUP"]) => (false, 1),
        _ => (false, 0),
    };
    let mut args = args.skip(skip);
    match args.next() {
        Some(Arg::Simple(key)) if !script || !cmd.args_iter().nth(2).is_some_and(no_keys) => {
            Some(Slot::for_key(key))
        }
        _ => None,
    }
}

/// Whether a script's key count is 0.
fn no_keys(count: Arg<&[u8]>) -> bool {
    matches!(count, Arg::Simple(b"0"))
}

/// Whether the keys are all on one slot.
pub(crate) fn one_slot<'a>(mut keys: impl Iterator<Item = &'a [u8]>) -> bool {
    let Some(first) = keys.next().map(Slot::for_key) else {
        return true;
    };
    keys.all(|key| Slot::for_key(key) == first)
}

/// Sends a pipeline as one pipeline per slot, concurrently, and puts the answers back in the
/// pipeline's order. A pipeline whose commands share a slot goes as it is.
async fn split_pipeline(
    connection: &ClusterConnection,
    pipeline: &Pipeline,
) -> RedisResult<Vec<Value>> {
    let commands: Vec<&Cmd> = pipeline.cmd_iter().collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_slot: HashMap<Option<Slot>, usize> = HashMap::new();
    for (index, cmd) in commands.iter().enumerate() {
        let group = *by_slot.entry(first_key_slot(cmd)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(index);
    }
    if groups.len() <= 1 {
        return connection
            .clone()
            .req_packed_commands(pipeline, 0, commands.len())
            .await;
    }
    let requests = groups.iter().map(|indices| {
        let mut part = redis::pipe();
        for &index in indices {
            part.add_command(commands[index].clone());
        }
        let mut connection = connection.clone();
        async move {
            let count = part.len();
            connection.req_packed_commands(&part, 0, count).await
        }
    });
    let replies = join_all(requests).await;
    let mut values = vec![Value::Nil; commands.len()];
    for (indices, reply) in groups.iter().zip(replies) {
        for (&index, value) in indices.iter().zip(reply?) {
            values[index] = value;
        }
    }
    Ok(values)
}

/// Whether a command is `SCAN`.
fn is_scan(cmd: &Cmd) -> bool {
    matches!(cmd.args_iter().next(), Some(Arg::Simple(name)) if name.eq_ignore_ascii_case(b"SCAN"))
}

/// An error of the cluster `SCAN`, as the redis crate's errors are.
fn scan_error(detail: String) -> RedisError {
    RedisError::from((ErrorKind::Client, "cluster SCAN", detail))
}

/// `SCAN` over every primary, one after the other (see the module documentation).
async fn scan(connection: &mut ClusterConnection, cmd: &Cmd) -> RedisResult<Value> {
    let mut args = cmd.args_iter().skip(1);
    let cursor: u64 = match args.next() {
        Some(Arg::Simple(cursor)) => std::str::from_utf8(cursor)
            .ok()
            .and_then(|cursor| cursor.parse().ok())
            .ok_or_else(|| scan_error("the cursor is not a number".to_owned()))?,
        _ => return Err(scan_error("SCAN without a cursor".to_owned())),
    };
    let rest: Vec<&[u8]> = args
        .filter_map(|arg| match arg {
            Arg::Simple(arg) => Some(arg),
            _ => None,
        })
        .collect();
    let (shard, node_cursor) = if cursor == 0 {
        match shards(connection).await?.first() {
            Some(first) => (*first, 0),
            None => return Ok(scan_reply(0, Vec::new())),
        }
    } else {
        let shard = u16::try_from(cursor >> NODE_CURSOR_BITS)
            .map_err(|_| scan_error("the cursor is not a cluster cursor".to_owned()))?;
        (shard, cursor & node_cursor_mask())
    };
    let mut node_scan = redis::cmd("SCAN");
    node_scan.arg(node_cursor);
    for arg in &rest {
        node_scan.arg(*arg);
    }
    let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
        redis::cluster_routing::Route::new(shard, SlotAddr::Master),
    ));
    let reply = connection.route_command(node_scan, route).await?;
    let (next, keys): (u64, Value) = match reply {
        Value::Array(mut parts) if parts.len() == 2 => {
            let keys = parts.pop().unwrap_or(Value::Nil);
            let next = redis::from_redis_value(parts.pop().unwrap_or(Value::Nil))
                .map_err(|err| scan_error(format!("a node's SCAN cursor: {err}")))?;
            (next, keys)
        }
        other => return Err(scan_error(format!("unexpected SCAN reply {other:?}"))),
    };
    let keys = match keys {
        Value::Array(keys) => keys,
        other => return Err(scan_error(format!("unexpected SCAN keys {other:?}"))),
    };
    let cursor = if next != 0 {
        if next > node_cursor_mask() {
            return Err(scan_error(format!(
                "a node's SCAN cursor {next} does not fit in {NODE_CURSOR_BITS} bits"
            )));
        }
        (u64::from(shard) << NODE_CURSOR_BITS) | next
    } else {
        // This primary is done: on to the next shard, in the order of their first slots.
        match shards(connection)
            .await?
            .into_iter()
            .find(|first| *first > shard)
        {
            Some(next_shard) => u64::from(next_shard) << NODE_CURSOR_BITS,
            None => 0,
        }
    };
    Ok(scan_reply(cursor, keys))
}

fn node_cursor_mask() -> u64 {
    (1 << NODE_CURSOR_BITS) - 1
}

/// A `SCAN` reply: the cursor and the keys.
fn scan_reply(cursor: u64, keys: Vec<Value>) -> Value {
    Value::Array(vec![
        Value::BulkString(cursor.to_string().into_bytes()),
        Value::Array(keys),
    ])
}

/// The shards of the cluster, each named by the lowest slot its primary serves, in order
/// (`CLUSTER SLOTS`, asked of any node).
async fn shards(connection: &mut ClusterConnection) -> RedisResult<Vec<u16>> {
    let mut slots = redis::cmd("CLUSTER");
    slots.arg("SLOTS");
    let reply = connection
        .route_command(
            slots,
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        )
        .await?;
    let Value::Array(ranges) = reply else {
        return Err(scan_error(format!(
            "unexpected CLUSTER SLOTS reply {reply:?}"
        )));
    };
    // The primary of each range (its address and id, as given), with its lowest slot.
    let mut lowest: HashMap<String, u16> = HashMap::new();
    for range in ranges {
        let Value::Array(parts) = range else { continue };
        let (Some(Value::Int(start)), Some(primary)) = (parts.first(), parts.get(2)) else {
            continue;
        };
        let Ok(start) = u16::try_from(*start) else {
            continue;
        };
        let entry = lowest.entry(format!("{primary:?}")).or_insert(start);
        *entry = (*entry).min(start);
    }
    let mut shards: Vec<u16> = lowest.into_values().collect();
    shards.sort_unstable();
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_nodes_leave_out_failed_nodes() {
        let text = "\
a1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:30002@40002,node-b master - 0 0 2 connected 5461-10922
c3 127.0.0.1:30003@40003 master,fail? - 0 0 3 connected 10923-16383
d4 127.0.0.1:30004@40004 slave,fail a1 0 0 1 disconnected
e5 :0@0 master,noaddr - 0 0 0 disconnected
f6 127.0.0.1:30006@40006 handshake - 0 0 0 connected
g7 127.0.0.1:30007@40007 slave b2 0 0 2 connected
";
        let nodes: Vec<String> = live_nodes(text, "seed").into_iter().collect();
        assert_eq!(
            nodes,
            [
                "127.0.0.1:30001",
                "127.0.0.1:30003",
                "127.0.0.1:30007",
                "node-b:30002"
            ]
        );
    }

    #[test]
    fn live_nodes_take_the_asked_host_for_a_node_without_ip() {
        let text = "\
a1 :30001@40001 myself,master - 0 0 1 connected 0-16383
b2 10.0.0.2:30002@40002 slave a1 0 0 1 connected
c3 :30003@40003,host-c slave a1 0 0 1 connected
";
        let nodes: Vec<String> = live_nodes(text, "seed.example").into_iter().collect();
        assert_eq!(
            nodes,
            ["10.0.0.2:30002", "host-c:30003", "seed.example:30001"]
        );
    }

    #[test]
    fn live_nodes_prefer_a_hostname() {
        let text = "\
a1 10.0.0.1:30001@40001,node-a.example myself,master - 0 0 1 connected 0-16383
b2 10.0.0.2:30002@40002, slave a1 0 0 1 connected
c3 ::1:30003@40003,node-c slave a1 0 0 1 connected
d4 ::1:30004@40004 slave a1 0 0 1 connected
";
        let nodes: Vec<String> = live_nodes(text, "seed").into_iter().collect();
        assert_eq!(
            nodes,
            [
                "10.0.0.2:30002",
                "::1:30004",
                "node-a.example:30001",
                "node-c:30003"
            ]
        );
    }

    #[test]
    fn redirections_are_followed_for_commands_on_one_slot() {
        let command = |args: &[&str]| {
            let mut cmd = redis::cmd(args[0]);
            for arg in &args[1..] {
                cmd.arg(*arg);
            }
            cmd
        };
        assert!(on_one_slot(&command(&["SET", "a", "1"])));
        assert!(on_one_slot(&command(&["MGET", "{t}a", "{t}b"])));
        assert!(!on_one_slot(&command(&["MGET", "a", "b", "c"])));
        assert!(on_one_slot(&command(&["MSET", "{t}a", "x", "{t}b", "y"])));
        assert!(!on_one_slot(&command(&["DEL", "{t}a", "{u}b"])));
    }

    #[test]
    fn slot_maps_ignore_the_order_of_replicas() {
        let node = |port: i64| {
            Value::Array(vec![
                Value::BulkString(b"10.0.0.1".to_vec()),
                Value::Int(port),
                Value::BulkString(format!("id{port}").into_bytes()),
            ])
        };
        let range = |start: i64, nodes: Vec<Value>| {
            let mut parts = vec![Value::Int(start), Value::Int(start + 99)];
            parts.extend(nodes);
            Value::Array(parts)
        };
        let one = slot_map_of(Value::Array(vec![
            range(100, vec![node(7001), node(7004), node(7005)]),
            range(0, vec![node(7000), node(7003)]),
        ]))
        .expect("a map");
        let other = slot_map_of(Value::Array(vec![
            range(0, vec![node(7000), node(7003)]),
            range(100, vec![node(7001), node(7005), node(7004)]),
        ]))
        .expect("a map");
        assert_eq!(one, other);
        assert_eq!(
            one[1].2,
            vec!["10.0.0.1:7001", "10.0.0.1:7004", "10.0.0.1:7005"]
        );
        let without_replicas =
            slot_map_of(Value::Array(vec![range(0, vec![node(7000)])])).expect("a map");
        assert_ne!(without_replicas[0], one[0]);
        assert!(slot_map_of(Value::Nil).is_err());
    }
}
