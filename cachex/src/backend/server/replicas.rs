//! A primary and read replicas listed in the URL, without Sentinel (django-cachex's `LOCATION`
//! list: the first server is the primary, the others replicas):
//! `redis://[user:password@]primary:6379/0?replicas=replica1:6379,replica2:6379`. The
//! replicas share the primary's scheme (TLS), credentials and database.
//!
//! Writes, and reads that must see the latest state (`Route::Primary`), go to the primary.
//! Single reads (`Route::Reads` rows: `GET`, `MGET`, `HGET`, ...) go to a replica chosen at
//! random among the healthy ones; a replica that fails (refused, dropped, loading, cut off
//! from its primary) is left out for [`REST`] and the read goes on to another replica, then to
//! the primary. Pipelines go to the primary. A replica may lag behind its primary: a value just
//! written may not be read back at once (as with Sentinel's `replica_reads`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::{AsyncConnectionConfig, FromRedisValue, RedisError, RedisResult};

use super::Reached;
use super::blocking::Packet;
use super::standalone::StandaloneLink;

/// How long a replica that failed is left out before it is tried again.
pub(crate) const REST: Duration = Duration::from_secs(1);

/// The servers, and which replicas are resting after a failure (shared by every runtime's
/// link).
pub(crate) struct ReplicaTopology {
    primary: redis::Client,
    replicas: Vec<Replica>,
    config: AsyncConnectionConfig,
    connect_timeout: Duration,
}

/// One replica: its client, and until when it rests after a failure.
struct Replica {
    client: redis::Client,
    resting_until: Mutex<Option<Instant>>,
}

impl ReplicaTopology {
    /// A primary and its replicas, with the connections' settings.
    pub(crate) fn new(
        primary: redis::Client,
        replicas: Vec<redis::Client>,
        config: AsyncConnectionConfig,
        connect_timeout: Duration,
    ) -> ReplicaTopology {
        let replicas = replicas
            .into_iter()
            .map(|client| Replica {
                client,
                resting_until: Mutex::new(None),
            })
            .collect();
        ReplicaTopology {
            primary,
            replicas,
            config,
            connect_timeout,
        }
    }

    /// The primary's client (tracking's invalidation link connects to it).
    pub(crate) fn primary_client(&self) -> &redis::Client {
        &self.primary
    }

    fn link(&self, client: &redis::Client) -> StandaloneLink {
        StandaloneLink::new(client.clone(), self.config.clone(), self.connect_timeout)
    }

    /// The replicas not resting now, in random order.
    fn healthy(&self) -> Vec<usize> {
        let now = Instant::now();
        let mut healthy: Vec<usize> = (0..self.replicas.len())
            .filter(|at| {
                let resting = self.replicas[*at]
                    .resting_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                resting.is_none_or(|until| until <= now)
            })
            .collect();
        fastrand::shuffle(&mut healthy);
        healthy
    }

    /// Leaves a replica out for [`REST`].
    fn rest(&self, at: usize) {
        let mut resting = self.replicas[at]
            .resting_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *resting = Instant::now().checked_add(REST);
    }
}

/// The connections of one tokio runtime: to the primary and to each replica.
#[derive(Clone)]
pub(crate) struct ReplicasLink {
    topology: Arc<ReplicaTopology>,
    /// The primary's connection: writes, pipelines, and what the link is asked directly.
    pub(crate) primary: StandaloneLink,
    /// Each replica's connection, replaced after it failed.
    replicas: Arc<Vec<Mutex<StandaloneLink>>>,
}

impl ReplicasLink {
    /// Links to the topology's servers; no I/O (they connect on first use).
    pub(crate) fn new(topology: Arc<ReplicaTopology>) -> ReplicasLink {
        let replicas = topology
            .replicas
            .iter()
            .map(|replica| Mutex::new(topology.link(&replica.client)))
            .collect();
        ReplicasLink {
            primary: topology.link(&topology.primary),
            replicas: Arc::new(replicas),
            topology,
        }
    }

    /// Whether the primary's connection is known to be closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.primary.is_closed()
    }

    /// Sends a read to a healthy replica, the next one when it fails, and the primary when
    /// none answers.
    pub(crate) async fn read<T: FromRedisValue>(
        &self,
        packet: Packet<'_>,
    ) -> (RedisResult<T>, Reached) {
        for at in self.topology.healthy() {
            let link = {
                let mut link = self.replicas[at]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if link.is_closed() {
                    *link = self.topology.link(&self.topology.replicas[at].client);
                }
                link.clone()
            };
            let (outcome, reached) = link.send(packet).await;
            match outcome {
                Err(err) if replica_failed(&err) => {
                    tracing::debug!(target: "cachex", replica = at, "replica failed, resting: {err}");
                    self.topology.rest(at);
                    let mut link = self.replicas[at]
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    *link = self.topology.link(&self.topology.replicas[at].client);
                }
                outcome => return (outcome, reached),
            }
        }
        self.primary.send(packet).await
    }

    /// Sends anything else to the primary.
    pub(crate) async fn send<T: FromRedisValue>(
        &self,
        packet: Packet<'_>,
    ) -> (RedisResult<T>, Reached) {
        self.primary.send(packet).await
    }
}

/// Whether a replica's error means it cannot serve reads now (rather than an answer to the
/// command): it cannot be reached, or is loading, or is cut off from its primary.
fn replica_failed(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
        || err.is_timeout()
        || matches!(err.code(), Some("LOADING" | "MASTERDOWN"))
}
