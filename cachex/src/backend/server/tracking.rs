//! The invalidation link of a near cache (see [`crate::backend::near`]): a connection of its
//! own to the server, over RESP3, with `CLIENT TRACKING ON BCAST PREFIX <the cache's prefix>`.
//!
//! Why broadcast mode on the link itself rather than the default mode with `REDIRECT`:
//!
//! - **No per-key bookkeeping on the server, no redirect to keep consistent.** In the default
//!   mode the server remembers every key each data connection read, and the data
//!   connections (one per runtime, plus the blocking pool) would each need
//!   `CLIENT TRACKING ON REDIRECT <link id>` again whenever either side reconnects; a data
//!   connection that missed it would install copies nobody invalidates. With `BCAST`, the
//!   server tells the link of every write under the prefix, whoever wrote and whichever
//!   connection read: the link alone decides whether copies may be served.
//! - **One ordered stream.** Over RESP3 the invalidations come on the link itself, in order
//!   with the link's own replies, and the push handler applies each one as it is read. So a
//!   `PING` answered on the link proves that every invalidation the server sent before it has
//!   been applied: that is the heartbeat that keeps copies servable (see `max_staleness`).
//!
//! The cost of `BCAST` is messages for keys this process never read (every write under the
//! prefix): cheap for a cache whose keys are hot, and the reason the prefix is sent.
//!
//! # Topologies
//!
//! The link tracks the primary: a standalone server, the primary of a `replicas=` list, or
//! the primary a Sentinel service names ([`Target`]); on a cluster, every node, its replicas
//! too (a failover promotes one), with a check at each heartbeat, on one node in turn, that no
//! node it lacks has joined ([`covered`]). The replicas of a `replicas=` list and of a
//! Sentinel service are not tracked: the fetches that install copies (`GET`+`PTTL`, rows
//! routed `Primary`) read the primary, since a replica's answer could predate an invalidation
//! already applied, and nothing would ever correct the copy. On Sentinel, the topology's
//! watcher drops every copy the moment a failover is announced or the primary moves (before
//! the new primary accepts a write, when the announcement is heard), the session that tracked
//! the old primary ends, and the next one connects to the new primary once the failover is
//! over, checked with `ROLE` on the link itself.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, PushInfo, PushKind, Value};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::backend::near::{self, Near};

/// The first pause before the link is opened again after a loss.
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// The longest pause between two attempts to open the link.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// Where the link connects (one per cache, made once: the size of the client is no cost).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Target {
    /// One server (standalone, or the primary of a `replicas=` list).
    Server(redis::Client),
    /// The primary of a Sentinel service, found again after each failover.
    #[cfg(feature = "sentinel")]
    Sentinel(Arc<super::sentinel::SentinelTopology>),
    /// Every node of a cluster, primaries and replicas (see [`cluster`](super::cluster)).
    #[cfg(feature = "cluster")]
    Cluster(Arc<super::cluster::ClusterTopology>),
}

impl Target {
    /// The clients of the servers to track now (over RESP3 whatever the cache's protocol),
    /// with their addresses (a cluster's, to check that no node joined), and what the session
    /// must check they are still the right ones with.
    async fn clients(&self) -> redis::RedisResult<(Vec<(String, redis::Client)>, u64)> {
        match self {
            Target::Server(client) => Ok((vec![(String::new(), client.clone())], 0)),
            #[cfg(feature = "sentinel")]
            Target::Sentinel(topology) => {
                let (client, checked) = topology.tracked_primary().await?;
                Ok((vec![(String::new(), client)], checked))
            }
            #[cfg(feature = "cluster")]
            Target::Cluster(topology) => Ok((topology.tracked_nodes().await?, 0)),
        }
    }

    /// Whether the server the session connected to (with `checked` from
    /// [`clients`](Self::clients)) is still the one to track: a Sentinel failover that began
    /// since makes it not.
    fn still_current(&self, checked: u64) -> bool {
        match self {
            #[cfg(feature = "sentinel")]
            Target::Sentinel(topology) => topology.still_primary(checked),
            _ => {
                let _ = checked;
                true
            }
        }
    }
}

/// Whether every node that linked nodes of a cluster know (`CLUSTER NODES` asked on the
/// link connections `asked`, at once) is linked: a node that joined, and could accept writes
/// the link does not hear, ends the session. `hosts` are the connections' hosts (for a node
/// listed without IP). Always true for one server.
async fn covered(
    target: &Target,
    connections: &mut [MultiplexedConnection],
    hosts: &[&str],
    asked: std::ops::Range<usize>,
    linked: &std::collections::BTreeSet<&str>,
) -> bool {
    #[cfg(feature = "cluster")]
    if matches!(target, Target::Cluster(_)) {
        let (Some(connections), Some(hosts)) =
            (connections.get_mut(asked.clone()), hosts.get(asked))
        else {
            return false;
        };
        let nodes = redis::cmd("CLUSTER").arg("NODES").clone();
        let answers = futures_util::future::join_all(
            connections
                .iter_mut()
                .map(|connection| nodes.query_async::<String>(connection)),
        )
        .await;
        return answers.into_iter().zip(hosts).all(|(text, host)| {
            text.is_ok_and(|text| {
                super::cluster::live_nodes(&text, host)
                    .iter()
                    .all(|node| linked.contains(node.as_str()))
            })
        });
    }
    let _ = (target, connections, hosts, asked, linked);
    true
}

/// Sends `command` on every connection, at once: whether each one answered without error.
async fn on_each(connections: &mut [MultiplexedConnection], command: &redis::Cmd) -> bool {
    #[cfg(feature = "cluster")]
    {
        let answers = futures_util::future::join_all(
            connections
                .iter_mut()
                .map(|connection| command.query_async::<()>(connection)),
        )
        .await;
        answers.iter().all(Result::is_ok)
    }
    // One connection without clusters.
    #[cfg(not(feature = "cluster"))]
    {
        for connection in connections {
            if command.query_async::<()>(connection).await.is_err() {
                return false;
            }
        }
        true
    }
}

/// Starts the link of `near` on cachex's bridge runtime: it connects to `target`, turns
/// tracking on for keys starting with `prefix` (`None`: every key, for a custom key
/// function), and keeps `near` informed until `near` is dropped. `false` if the bridge
/// runtime could not be started.
pub(crate) fn start(
    near: &Arc<Near>,
    target: Target,
    prefix: Option<String>,
    connect_timeout: Duration,
) -> redis::RedisResult<bool> {
    let target = match target {
        Target::Server(client) => Target::Server(redis::Client::open(super::topology::resp3(
            client.get_connection_info().clone(),
        ))?),
        #[cfg(feature = "sentinel")]
        Target::Sentinel(topology) => {
            topology.track(near);
            Target::Sentinel(topology)
        }
        #[cfg(feature = "cluster")]
        Target::Cluster(topology) => Target::Cluster(topology),
    };
    let link = Link {
        near: Arc::downgrade(near),
        target,
        prefix,
        connect_timeout,
    };
    Ok(crate::bridge::spawn(link.run()).is_some())
}

/// What the link task needs.
struct Link {
    near: Weak<Near>,
    target: Target,
    prefix: Option<String>,
    connect_timeout: Duration,
}

impl Link {
    /// Keeps a session open, opening a new one after each loss, until the near cache is gone.
    async fn run(self) {
        let mut pause = FIRST_PAUSE;
        loop {
            let started = Instant::now();
            let ended = self.session().await;
            let Some(near) = self.near.upgrade() else {
                return;
            };
            near.link_down("the invalidation link was lost");
            tracing::debug!(target: "cachex::tracking", reason = ended, "invalidation link lost");
            drop(near);
            // A session that lasted resets the pauses.
            if started.elapsed() > MAX_PAUSE {
                pause = FIRST_PAUSE;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    /// One session: open the connections (one per server to track), track, heartbeat until
    /// one fails. Why it ended.
    async fn session(&self) -> &'static str {
        let Some(near) = self.near.upgrade() else {
            return "the cache is gone";
        };
        let (heartbeat, max_staleness) = (near.heartbeat(), near.settings().max_staleness);
        drop(near);
        let closed = Arc::new(Notify::new());
        // Whether this session is the current one: a close reported by the connection after
        // the session ended must not drop the next session's copies.
        let current = Arc::new(AtomicBool::new(true));
        let _ended = Ended(current.clone());
        let (clients, checked) = match self.target.clients().await {
            Ok((clients, _)) if clients.is_empty() => return "no server to track could be found",
            Ok(found) => found,
            Err(_) => return "no server to track could be found",
        };
        let linked: std::collections::BTreeSet<&str> = clients
            .iter()
            .map(|(address, _)| address.as_str())
            .collect();
        let hosts: Vec<&str> = clients
            .iter()
            .map(|(address, _)| address.rsplit_once(':').map_or("", |(host, _)| host))
            .collect();
        let mut connections = Vec::with_capacity(clients.len());
        for (_, client) in &clients {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.connect_timeout))
                // Copies stop being served once the last answer is older than
                // `max_staleness`; the connection is given up only well after, as a slow
                // answer is not a lost link.
                .set_response_timeout(Some((max_staleness * 4).max(Duration::from_secs(1))))
                .set_push_sender(pushed(self.near.clone(), closed.clone(), current.clone()));
            let opening = client.get_multiplexed_async_connection_with_config(&config);
            match tokio::time::timeout(self.connect_timeout, opening).await {
                Ok(Ok(connection)) => connections.push(connection),
                _ => return "the link could not connect",
            }
        }
        let mut track = redis::cmd("CLIENT");
        track.arg("TRACKING").arg("ON").arg("BCAST");
        if let Some(prefix) = &self.prefix {
            track.arg("PREFIX").arg(prefix);
        }
        // No copy is installed before the link is up (no fetch takes a token), so writes
        // before a node's tracking is on are seen by every fetch that may install.
        let asked = near::Instant::now();
        if !on_each(&mut connections, &track).await {
            return "the server refused CLIENT TRACKING";
        }
        // A Sentinel's primary is checked on the link itself, tracking on: a demoted primary
        // would not hear the new primary's writes.
        #[cfg(feature = "sentinel")]
        if matches!(self.target, Target::Sentinel(_)) {
            for connection in &mut connections {
                let role: redis::RedisResult<Value> =
                    redis::cmd("ROLE").query_async(connection).await;
                if !role.is_ok_and(|role| super::sentinel::is_primary(&role)) {
                    return "the server tracked is not a primary";
                }
            }
        }
        let every = 0..connections.len();
        if !covered(&self.target, &mut connections, &hosts, every, &linked).await {
            return "a cluster node is not linked";
        }
        // Checked before the link is up: a failover that began before must not let copies be
        // served at all.
        if !self.target.still_current(checked) {
            return "a Sentinel failover began";
        }
        let Some(near) = self.near.upgrade() else {
            return "the cache is gone";
        };
        near.link_up(asked);
        // And after: a failover that began between the two checks dropped copies while the
        // link was still down, so the link goes down again at once. One that begins later
        // drops the copies itself (see the Sentinel topology's `upheaval`).
        if !self.target.still_current(checked) {
            near.link_down("a Sentinel failover began");
            return "a Sentinel failover began";
        }
        drop(near);
        let ping = redis::cmd("PING");
        // The node whose `CLUSTER NODES` the next heartbeat checks: one in turn, as each
        // learns of a node that joined within a gossip round or so, and asking every node at
        // each heartbeat would cost the cluster a reply of every node's line from each.
        let mut turn = 0;
        loop {
            if tokio::time::timeout(heartbeat, closed.notified())
                .await
                .is_ok()
            {
                return "the server closed the link";
            }
            let sent = near::Instant::now();
            if !on_each(&mut connections, &ping).await {
                return "the link's PING failed";
            }
            if !self.target.still_current(checked) {
                return "a Sentinel failover began";
            }
            turn = (turn + 1) % connections.len();
            let asked = turn..turn + 1;
            if !covered(&self.target, &mut connections, &hosts, asked, &linked).await {
                return "a cluster node is not linked";
            }
            match self.near.upgrade() {
                Some(near) => near.confirm(sent),
                None => return "the cache is gone",
            }
        }
    }
}

/// Marks a session ended when it returns.
struct Ended(Arc<AtomicBool>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The link's push handler: applies invalidations as they are read (before any reply after
/// them is delivered), and reports the connection's close.
fn pushed(
    near: Weak<Near>,
    closed: Arc<Notify>,
    current: Arc<AtomicBool>,
) -> impl Fn(PushInfo) -> Result<(), Infallible> + Send + Sync + 'static {
    move |push: PushInfo| {
        match push.kind {
            PushKind::Invalidate => {
                if let Some(near) = near.upgrade() {
                    match push.data.first() {
                        Some(Value::Array(keys))
                            if keys.iter().all(|key| matches!(key, Value::BulkString(_))) =>
                        {
                            near.invalidated(Some(keys.iter().filter_map(|key| match key {
                                Value::BulkString(key) => Some(key.as_slice()),
                                _ => None,
                            })));
                        }
                        // A flush (nil), or keys of a shape not known: every key.
                        _ => near.invalidated(None::<std::iter::Empty<&[u8]>>),
                    }
                }
            }
            PushKind::Disconnection => {
                if let Some(near) = near.upgrade().filter(|_| current.load(Ordering::SeqCst)) {
                    near.link_down("the server closed the invalidation link");
                }
                closed.notify_one();
            }
            _ => {}
        }
        Ok(())
    }
}
