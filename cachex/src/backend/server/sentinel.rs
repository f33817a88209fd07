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
//! The links of every runtime share what the sentinels said: where the primary is, with the
//! configuration epoch of that answer (a sentinel that has not heard of the last failover
//! names the old primary with an older epoch, and is not believed), and whether a failover is
//! under way. A [`SentinelLink`] (one per tokio runtime) connects to the primary named so and
//! checks with `ROLE` that it is a primary indeed before it sends anything to it.
//!
//! The sentinels are followed two ways, by a watcher that runs in the runtime of the first
//! link (and again in another one when that runtime is gone):
//!
//! - it subscribes to every sentinel's announcements, as redis-py's and Lettuce's Sentinel
//!   clients do: `+try-failover` and `+selected-slave` say that a sentinel is promoting a
//!   replica, `+switch-master` that it is done and where the new primary is, and the
//!   `-failover-abort-*` events that it gave up;
//! - every [`WATCH_PERIOD`] it asks a sentinel (`SENTINEL MASTER`) where the primary is and
//!   whether a failover is under way, should an announcement have been missed (a subscription
//!   being reconnected).
//!
//! A failover loses the writes that reach the old primary once the replica is promoted: the
//! old primary accepts them until the sentinels reconfigure it, up to 10 s later, and then
//! throws them away as it resynchronizes from the new one. So from the moment a sentinel
//! announces a failover until it announces the switch (about a second), requests for the
//! primary wait (at most [`FAILOVER_HOLD`], and never past their response timeout) instead of
//! being sent, and then go to the new primary. A sentinel announces the failover one tick of
//! its timer (50 to 100 ms) before it promotes the replica, so a write acknowledged before that
//! has reached the replica too. Reads keep going to the old primary while it answers.
//!
//! When the primary fails (a connection error, or a `READONLY` reply from a demoted primary
//! that kept the connection), the backend drops the link, so that the next one asks again,
//! and sends the request once more when that cannot apply it twice. Until the sentinels have
//! promoted a replica, calls fail with [`Error::Connection`], naming
//! each sentinel's answer.
//!
//! What this cannot save: writes acknowledged by a primary that then dies (`kill -9`, a lost
//! machine) before it sent them to its replica. Redis replicates asynchronously; the tests
//! measure how many such writes a failover under load loses.
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
//!
//! # Tracking
//!
//! A near cache's invalidation link (see [`super::tracking`]) tracks the primary found here
//! ([`SentinelTopology::tracked_primary`]). Its near cache is registered with the watch, which
//! drops every copy the moment a sentinel announces a failover or another primary is named
//! (an *upheaval*): a sentinel announces before it promotes the replica, so no write to the new
//! primary can find a copy the old primary's link would never invalidate. The link's session
//! then ends, and the next one waits for the failover to end and tracks the new primary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, MultiplexedConnection, PubSubStream};
use redis::io::tcp::TcpSettings;
use redis::{
    AsyncConnectionConfig, Cmd, IntoConnectionInfo, Pipeline, RedisError, RedisFuture, RedisResult,
    Value,
};
use tokio::sync::Notify;

use super::options::{DEFAULT_CONNECT_TIMEOUT, ServerOptions};
use super::topology::{
    Connector, NodeList, Parsed, bracketed, node_client, node_url, resp3, timed_out,
};
use crate::backend::command::Route;
use crate::backend::near::Near;
use crate::url_text::{UNRESERVED, percent_decode, percent_encode};
use crate::{Error, Result};

/// How often the watcher asks a sentinel where the primary is, besides what the sentinels
/// announce.
pub(crate) const WATCH_PERIOD: Duration = Duration::from_millis(500);

/// How long requests for the primary wait, at most, for a failover that a sentinel announced
/// to end: a sentinel's failover takes about a second from its announcement to the switch;
/// past this, requests go to the primary the sentinels name, whatever it is.
pub(crate) const FAILOVER_HOLD: Duration = Duration::from_secs(5);

/// How long a sentinel subscription may stay silent before the watcher checks it with `PING`
/// (a sentinel that no longer answers is subscribed to again), and the pause before
/// subscribing again.
const SUBSCRIPTION_CHECK: Duration = Duration::from_secs(2);

/// What the sentinels announce that the watcher follows (their pub/sub channels).
const ANNOUNCEMENTS: &[&str] = &[
    "+try-failover",
    "+selected-slave",
    "+switch-master",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
    "+failover-end-for-timeout",
];

/// Where the sentinels are, how to reach the data nodes they name, and what they said.
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
    /// What the sentinels said, shared by the links of every runtime.
    watch: Watch,
}

/// The primary as a sentinel named it: its address, and the configuration epoch of that
/// answer (every failover raises it).
#[derive(Clone, Debug, PartialEq)]
struct Named {
    address: (String, u16),
    epoch: u64,
}

/// What the sentinels said about the primary (see the module documentation).
struct Watch {
    /// The newest primary named: by the highest epoch, or announced by `+switch-master`.
    primary: Mutex<Option<Named>>,
    /// Raised when a link must find the primary again: it moved.
    generation: AtomicU64,
    /// When each sentinel (by index) announced the failover it is running, until it ends.
    failovers: Mutex<Vec<Option<Instant>>>,
    /// Whether any sentinel runs a failover: `failovers` has an entry (read without a lock).
    holding: AtomicBool,
    /// Wakes the requests waiting for a failover to end.
    changed: Notify,
    /// Whether the watcher's tasks run (in some runtime).
    watching: AtomicBool,
    /// Raised when the primary moved or a failover began: a tracking link connected before
    /// must not be trusted (see [`SentinelTopology::tracked_primary`]).
    upheaval: AtomicU64,
    /// The near caches (tracking) whose links follow this service: every copy is dropped at
    /// once on an upheaval.
    trackers: Mutex<Vec<Weak<Near>>>,
}

impl Watch {
    fn new(sentinels: usize) -> Watch {
        Watch {
            primary: Mutex::new(None),
            generation: AtomicU64::new(0),
            failovers: Mutex::new(vec![None; sentinels]),
            holding: AtomicBool::new(false),
            changed: Notify::new(),
            watching: AtomicBool::new(false),
            upheaval: AtomicU64::new(0),
            trackers: Mutex::new(Vec::new()),
        }
    }

    /// The primary moved or a failover began: tracking links connected before are not
    /// trusted, and every near cache drops its copies now, before anyone can write to a new
    /// primary that their links do not hear.
    fn upheaval(&self, why: &'static str) {
        self.upheaval.fetch_add(1, Ordering::SeqCst);
        let mut trackers = self.trackers.lock().unwrap_or_else(PoisonError::into_inner);
        trackers.retain(|near| match near.upgrade() {
            Some(near) => {
                near.link_down(why);
                true
            }
            None => false,
        });
    }

    /// The primary named last, if any.
    fn primary(&self) -> Option<Named> {
        self.primary
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A sentinel named `named`: believed unless an answer or an announcement was newer. Whether
    /// it was (an answer as new as the newest one is).
    fn named(&self, named: Named) -> bool {
        let mut primary = self.primary.lock().unwrap_or_else(PoisonError::into_inner);
        match primary.as_ref() {
            Some(known) if named.epoch < known.epoch => false,
            Some(known) if *known == named => true,
            known => {
                let moved = known.is_some_and(|known| known.address != named.address);
                *primary = Some(named);
                if moved {
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    drop(primary);
                    self.upheaval("a sentinel named another primary");
                }
                true
            }
        }
    }

    /// A sentinel announced `+switch-master` to `address`: the failovers are over, links find
    /// the primary again. The epoch of an announcement is not given: it is taken as the next
    /// one, which a sentinel's later answer about this failover matches or exceeds.
    fn switched(&self, address: (String, u16)) {
        let moved = {
            let mut primary = self.primary.lock().unwrap_or_else(PoisonError::into_inner);
            let moved = primary.as_ref().map(|known| &known.address) != Some(&address);
            if moved {
                let epoch = primary.as_ref().map_or(0, |known| known.epoch + 1);
                *primary = Some(Named { address, epoch });
                self.generation.fetch_add(1, Ordering::AcqRel);
            }
            moved
        };
        if moved {
            self.upheaval("a sentinel switched the primary");
        }
        let mut failovers = self
            .failovers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        failovers.iter_mut().for_each(|failover| *failover = None);
        self.holding.store(false, Ordering::Release);
        drop(failovers);
        self.changed.notify_waiters();
    }

    /// Sentinel `index` runs a failover (`true`) or not (`false`).
    fn failing_over(&self, index: usize, running: bool) {
        let mut failovers = self
            .failovers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(failover) = failovers.get_mut(index) else {
            return;
        };
        match (running, failover.is_some()) {
            (true, false) => *failover = Some(Instant::now()),
            (false, true) => *failover = None,
            _ => return,
        }
        let holding = failovers.iter().any(Option::is_some);
        self.holding.store(holding, Ordering::Release);
        drop(failovers);
        if running {
            // A sentinel announces its failover before it promotes the replica.
            self.upheaval("a sentinel began a failover");
        }
        if !holding {
            self.changed.notify_waiters();
        }
    }

    /// Whether a failover announced less than [`FAILOVER_HOLD`] ago is under way.
    fn holding(&self) -> bool {
        if !self.holding.load(Ordering::Acquire) {
            return false;
        }
        let mut failovers = self
            .failovers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for failover in failovers.iter_mut() {
            if failover.is_some_and(|since| since.elapsed() >= FAILOVER_HOLD) {
                *failover = None;
            }
        }
        let holding = failovers.iter().any(Option::is_some);
        self.holding.store(holding, Ordering::Release);
        holding
    }

    /// Waits while a failover is under way (at most [`FAILOVER_HOLD`]).
    async fn failover_over(&self) {
        if !self.holding() {
            return;
        }
        let deadline = tokio::time::Instant::now() + FAILOVER_HOLD;
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            if !self.holding() {
                return;
            }
            // Woken when the failover ends; the deadline, and the hold's own expiry, bound the
            // wait should the end never be heard.
            let step = tokio::time::Instant::now() + WATCH_PERIOD;
            if tokio::time::timeout_at(step.min(deadline), changed)
                .await
                .is_err()
                && tokio::time::Instant::now() >= deadline
            {
                return;
            }
        }
    }
}

/// Parses a Sentinel URL (see the module documentation): `scheme` is lowercase, `rest` the
/// URL after `scheme://`.
pub(crate) fn parse(scheme: &str, rest: &str, options: &ServerOptions) -> Result<Parsed> {
    let invalid = |why: &str| Error::config(format!("invalid {scheme}:// URL: {why}"));
    let tls = matches!(scheme, "rediss+sentinel" | "valkeys+sentinel");
    super::options::check_tls_is_built(scheme, tls)?;
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
        watch: Watch::new(list.nodes.len()),
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
        node_client(
            info,
            #[cfg(feature = "tls")]
            self.tls_roots.as_ref(),
        )
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

    /// The name of sentinel `index`, for messages.
    fn sentinel_name(&self, index: usize) -> &str {
        self.sentinel_names
            .get(index)
            .map(String::as_str)
            .unwrap_or("?")
    }

    /// Asks the sentinels, the one that answered last first, for the primary, until one
    /// answers as newly as any did; connects to the primary named (and to a replica with
    /// `replica_reads`), having checked that it is a primary. A failover under way does not
    /// stop this: requests for the primary wait for it (see [`SentinelLink`]), reads do not.
    async fn resolve(&self) -> RedisResult<Resolved> {
        let generation = self.watch.generation.load(Ordering::Acquire);
        let count = self.sentinels.len();
        let first = self.preferred.load(Ordering::Relaxed);
        let mut failures = Vec::with_capacity(count);
        let mut answered = None;
        for offset in 0..count {
            let index = (first + offset) % count;
            let why = match self.ask(index).await {
                Ok((sentinel, master)) if self.heard(index, &master) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    answered = Some(sentinel);
                    break;
                }
                Ok(_) => "names an older primary than another sentinel did".to_owned(),
                Err(why) => why,
            };
            failures.push(format!("sentinel {}: {why}", self.sentinel_name(index)));
        }
        let unavailable = |why: String| {
            let failures = if failures.is_empty() {
                String::new()
            } else {
                format!("; {}", failures.join("; "))
            };
            // Nothing was sent: a refusal, as far as the backend's resend rules go.
            RedisError::from(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                format!(
                    "no reachable primary for the Sentinel service {:?} ({why}{failures})",
                    self.service
                ),
            ))
        };
        // The newest primary named: by the sentinel that answered, or by a newer answer or
        // announcement (a sentinel that answered may not know of the last failover yet).
        let Some(named) = self.watch.primary() else {
            return Err(unavailable("no sentinel named one".to_owned()));
        };
        let (host, port) = &named.address;
        let mut primary = self
            .data_connection(host, *port)
            .await
            .map_err(|err| unavailable(format!("{host}:{port} cannot be reached: {err}")))?;
        let role: Value = redis::cmd("ROLE")
            .query_async(&mut primary)
            .await
            .map_err(|err| unavailable(format!("{host}:{port} refused ROLE: {err}")))?;
        if !is_primary(&role) {
            return Err(unavailable(format!(
                "{host}:{port} is not a primary: a failover is under way"
            )));
        }
        let replica = match (self.replica_reads, answered) {
            (true, Some(mut sentinel)) => self.replica(&mut sentinel).await,
            _ => None,
        };
        Ok(Resolved {
            primary,
            replica,
            generation,
            address: named.address,
        })
    }

    /// Sentinel `index` said `master`: whether the answer is as new as any heard. An answer
    /// given during a failover names the old primary (sometimes with the new epoch already):
    /// it says that the failover runs, not where the primary is, unless nothing is known yet.
    fn heard(&self, index: usize, master: &Master) -> bool {
        self.watch.failing_over(index, master.failing_over);
        if master.failing_over {
            if self.watch.primary().is_none() {
                self.watch.named(Named {
                    address: master.named.address.clone(),
                    epoch: 0,
                });
            }
            return true;
        }
        self.watch.named(master.named.clone())
    }

    /// A connection to sentinel `index`, whose requests time out after the connect timeout.
    async fn sentinel_connection(&self, index: usize) -> RedisResult<MultiplexedConnection> {
        let config = self
            .connection_config()
            .set_response_timeout(Some(self.connect_timeout));
        self.sentinels[index]
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// Asks sentinel `index` where the primary is; why not, on failure.
    async fn ask(
        &self,
        index: usize,
    ) -> std::result::Result<(MultiplexedConnection, Master), String> {
        let mut sentinel = self
            .sentinel_connection(index)
            .await
            .map_err(|err| format!("unreachable ({err})"))?;
        let master = self.master(&mut sentinel).await?;
        Ok((sentinel, master))
    }

    /// `SENTINEL MASTER service` on a sentinel's connection.
    async fn master(
        &self,
        sentinel: &mut MultiplexedConnection,
    ) -> std::result::Result<Master, String> {
        let mut master = redis::cmd("SENTINEL");
        master.arg("MASTER").arg(&self.service);
        let fields: HashMap<String, String> =
            master.query_async(sentinel).await.map_err(|err| {
                if err.to_string().contains("No such master") {
                    format!("does not monitor a service named {:?}", self.service)
                } else {
                    format!("refused SENTINEL MASTER ({err})")
                }
            })?;
        Master::from_fields(&fields)
            .ok_or_else(|| format!("gave an unexpected SENTINEL MASTER reply {fields:?}"))
    }

    /// Asks the preferred sentinel where the primary is, on `sentinel` (kept for the next
    /// time); moves on to the next sentinel when this one does not answer, or answers with an
    /// older view than another one gave.
    async fn poll(&self, sentinel: &mut Option<(usize, MultiplexedConnection)>) {
        let count = self.sentinels.len();
        let index = self.preferred.load(Ordering::Relaxed) % count;
        if sentinel.as_ref().is_none_or(|(open, _)| *open != index) {
            *sentinel = self
                .sentinel_connection(index)
                .await
                .ok()
                .map(|connection| (index, connection));
        }
        let fresh = match sentinel.as_mut() {
            Some((_, connection)) => match self.master(connection).await {
                Ok(master) => self.heard(index, &master),
                Err(_) => {
                    *sentinel = None;
                    false
                }
            },
            None => false,
        };
        if !fresh {
            let _ = self.preferred.compare_exchange(
                index,
                (index + 1) % count,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// Sentinel `index` published `payload` on `channel` (one of [`ANNOUNCEMENTS`]).
    fn announced(&self, index: usize, channel: &str, payload: &str) {
        if channel == "+switch-master" {
            // `<service> <old ip> <old port> <new ip> <new port>`
            let words: Vec<&str> = payload.split_whitespace().collect();
            if let [service, _, _, host, port] = words[..] {
                if service == self.service {
                    if let Ok(port) = port.parse() {
                        self.watch.switched((host.to_owned(), port));
                    }
                }
            }
            return;
        }
        // `master <service> <ip> <port>`, or `slave <name> <ip> <port> @ <service> <ip> <port>`.
        let service = match payload.split_once(" @ ") {
            Some((_, master)) => master.split_whitespace().next(),
            None => payload.split_whitespace().nth(1),
        };
        if service == Some(self.service.as_str()) {
            let running = matches!(channel, "+try-failover" | "+selected-slave");
            self.watch.failing_over(index, running);
        }
    }

    /// Subscribes to sentinel `index`'s announcements.
    async fn subscribe(&self, index: usize) -> RedisResult<(redis::aio::PubSubSink, PubSubStream)> {
        let pubsub = tokio::time::timeout(
            self.connect_timeout,
            self.sentinels[index].get_async_pubsub(),
        )
        .await
        .map_err(|_| timed_out("subscribing to a sentinel"))??;
        let (mut sink, stream) = pubsub.split();
        tokio::time::timeout(self.connect_timeout, sink.subscribe(ANNOUNCEMENTS))
            .await
            .map_err(|_| timed_out("subscribing to a sentinel"))??;
        Ok((sink, stream))
    }

    /// Starts the watcher (see the module documentation) in the current runtime, unless it
    /// runs already.
    fn watch(self: &Arc<Self>) {
        if self.watch.watching.swap(true, Ordering::AcqRel) {
            return;
        }
        let watching = Arc::new(Watching(Arc::downgrade(self)));
        tokio::spawn(poll_sentinels(Arc::downgrade(self), watching.clone()));
        for index in 0..self.sentinels.len() {
            tokio::spawn(follow_announcements(
                Arc::downgrade(self),
                index,
                watching.clone(),
            ));
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

    // --- tracking ---

    /// Registers a near cache whose link follows this service: it drops every copy the moment
    /// the watcher hears that a failover began or the primary moved.
    pub(crate) fn track(&self, near: &Arc<Near>) {
        self.watch
            .trackers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(near));
    }

    /// Where a tracking link connects: a client (over RESP3) of the primary the sentinels name
    /// once no failover is under way, checked with `ROLE`, and the upheaval count read before
    /// it was resolved. The link trusts its connection only while that count is unchanged
    /// (see [`still_primary`](Self::still_primary)). Starts the watcher (in the current
    /// runtime) if it does not run.
    pub(crate) async fn tracked_primary(self: &Arc<Self>) -> RedisResult<(redis::Client, u64)> {
        if !self.watch.watching.load(Ordering::Acquire) {
            self.watch();
        }
        self.watch.failover_over().await;
        let upheaval = self.watch.upheaval.load(Ordering::SeqCst);
        let resolved = self.resolve().await?;
        let (host, port) = &resolved.address;
        let url = node_url(self.tls, self.userinfo.as_deref(), host, *port, self.db);
        let info = url
            .into_connection_info()?
            .set_tcp_settings(TcpSettings::default().set_nodelay(true));
        let client = node_client(
            resp3(info),
            #[cfg(feature = "tls")]
            self.tls_roots.as_ref(),
        )?;
        Ok((client, upheaval))
    }

    /// Whether nothing moved since a tracking link read `upheaval`: no failover began, the
    /// primary it connected to is still the one named, and the watcher still runs (its
    /// runtime may have ended: the link's next session starts it again, in its own).
    pub(crate) fn still_primary(&self, upheaval: u64) -> bool {
        self.watch.upheaval.load(Ordering::SeqCst) == upheaval
            && !self.watch.holding()
            && self.watch.watching.load(Ordering::Acquire)
    }

    /// A connection to a data node, with the URL's credentials and database.
    async fn data_connection(&self, host: &str, port: u16) -> RedisResult<MultiplexedConnection> {
        let url = node_url(self.tls, self.userinfo.as_deref(), host, port, self.db);
        self.client(&url)?
            .get_multiplexed_async_connection_with_config(&self.connection_config())
            .await
    }
}

/// A sentinel's `SENTINEL MASTER` answer, as far as following the primary goes.
struct Master {
    named: Named,
    /// The `failover_in_progress` flag: this sentinel is promoting a replica.
    failing_over: bool,
}

impl Master {
    /// From the answer's fields; `None` when one is missing or malformed.
    fn from_fields(fields: &HashMap<String, String>) -> Option<Master> {
        let host = fields.get("ip")?.clone();
        let port = fields.get("port")?.parse().ok()?;
        let epoch = fields.get("config-epoch")?.parse().ok()?;
        let failing_over = fields
            .get("flags")
            .is_some_and(|flags| flags.split(',').any(|flag| flag == "failover_in_progress"));
        Some(Master {
            named: Named {
                address: (host, port),
                epoch,
            },
            failing_over,
        })
    }
}

/// Whether a `ROLE` reply is a primary's.
pub(crate) fn is_primary(role: &Value) -> bool {
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

/// Held by the watcher's tasks: when the last one ends (the topology was dropped, or the
/// runtime that ran them), the next link starts the watcher again.
struct Watching(Weak<SentinelTopology>);

impl Drop for Watching {
    fn drop(&mut self) {
        if let Some(topology) = self.0.upgrade() {
            topology.watch.watching.store(false, Ordering::Release);
        }
    }
}

/// Asks a sentinel where the primary is every [`WATCH_PERIOD`], until the topology is dropped.
async fn poll_sentinels(topology: Weak<SentinelTopology>, _watching: Arc<Watching>) {
    let mut sentinel = None;
    loop {
        tokio::time::sleep(WATCH_PERIOD).await;
        let Some(topology) = topology.upgrade() else {
            return;
        };
        topology.poll(&mut sentinel).await;
    }
}

/// Follows sentinel `index`'s announcements, subscribing again whenever the subscription
/// breaks or stops answering, until the topology is dropped.
async fn follow_announcements(
    topology: Weak<SentinelTopology>,
    index: usize,
    _watching: Arc<Watching>,
) {
    loop {
        let Some(strong) = topology.upgrade() else {
            return;
        };
        let subscribed = strong.subscribe(index).await;
        let check_timeout = strong.connect_timeout;
        drop(strong);
        if let Ok((mut sink, mut stream)) = subscribed {
            loop {
                let next = std::future::poll_fn(|cx| {
                    futures_core::Stream::poll_next(std::pin::Pin::new(&mut stream), cx)
                });
                match tokio::time::timeout(SUBSCRIPTION_CHECK, next).await {
                    Ok(Some(message)) => {
                        let Some(strong) = topology.upgrade() else {
                            return;
                        };
                        let payload: String = message.get_payload().unwrap_or_default();
                        strong.announced(index, message.get_channel_name(), &payload);
                    }
                    Ok(None) => break,
                    Err(_) => {
                        if topology.strong_count() == 0 {
                            return;
                        }
                        let ping = tokio::time::timeout(check_timeout, sink.ping::<Value>()).await;
                        if !matches!(ping, Ok(Ok(_))) {
                            break;
                        }
                    }
                }
            }
        }
        tokio::time::sleep(SUBSCRIPTION_CHECK).await;
    }
}

/// The connections of a link once the primary is known.
struct Resolved {
    primary: MultiplexedConnection,
    replica: Option<MultiplexedConnection>,
    /// The watch's generation when the primary was named: once it changed, the primary moved.
    generation: u64,
    /// The primary's address.
    address: (String, u16),
}

/// The connection of one tokio runtime to the service's primary (and a replica), resolved on
/// its first command and again whenever the sentinels name another primary.
#[derive(Clone)]
pub(crate) struct SentinelLink {
    topology: Arc<SentinelTopology>,
    resolved: Arc<RwLock<Option<Arc<Resolved>>>>,
    /// Held while resolving, so that concurrent requests resolve once.
    resolving: Arc<tokio::sync::Mutex<()>>,
}

impl SentinelLink {
    /// A link that has not resolved the primary yet.
    pub(crate) fn new(topology: Arc<SentinelTopology>) -> SentinelLink {
        SentinelLink {
            topology,
            resolved: Arc::new(RwLock::new(None)),
            resolving: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The connections, if they are resolved and the primary did not move since.
    fn current(&self) -> Option<Arc<Resolved>> {
        let generation = self.topology.watch.generation.load(Ordering::Acquire);
        self.resolved
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|resolved| resolved.generation == generation)
            .cloned()
    }

    /// The connections, resolved (again, if the primary moved) when they are not.
    async fn resolved(&self) -> RedisResult<Arc<Resolved>> {
        if !self.topology.watch.watching.load(Ordering::Acquire) {
            self.topology.watch();
        }
        if let Some(resolved) = self.current() {
            return Ok(resolved);
        }
        let _resolving = self.resolving.lock().await;
        if let Some(resolved) = self.current() {
            return Ok(resolved);
        }
        let resolved = Arc::new(self.topology.resolve().await?);
        *self
            .resolved
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(resolved.clone());
        Ok(resolved)
    }

    /// The primary's connection, once no failover is under way.
    async fn primary(&self) -> RedisResult<MultiplexedConnection> {
        self.topology.watch.failover_over().await;
        Ok(self.resolved().await?.primary.clone())
    }

    /// The connection that serves a command of `route`: a replica for reads when the cache
    /// reads from replicas and one is healthy, else the primary. Reads do not wait for a
    /// failover: the old primary serves them while it answers.
    pub(crate) async fn connection(&self, route: Route) -> RedisResult<MultiplexedConnection> {
        if route != Route::Reads {
            return self.primary().await;
        }
        let resolved = self.resolved().await?;
        Ok(resolved
            .replica
            .clone()
            .unwrap_or_else(|| resolved.primary.clone()))
    }
}

impl ConnectionLike for SentinelLink {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move { self.primary().await?.req_packed_command(cmd).await })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            self.primary()
                .await?
                .req_packed_commands(pipeline, offset, count)
                .await
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

    /// The topology of a URL with three sentinels monitoring `svc` (no I/O).
    fn topology() -> Arc<SentinelTopology> {
        let parsed =
            parse("redis+sentinel", "h1,h2,h3/svc", &ServerOptions::default()).expect("valid");
        match parsed.connector {
            Connector::Sentinel(topology) => topology,
            _ => panic!("a Sentinel connector"),
        }
    }

    fn address(port: u16) -> (String, u16) {
        ("10.0.0.1".to_owned(), port)
    }

    #[test]
    fn a_primary_named_with_an_older_epoch_is_not_believed() {
        let watch = Watch::new(3);
        let named = |port, epoch| Named {
            address: address(port),
            epoch,
        };
        assert!(watch.named(named(6379, 3)));
        let generation = watch.generation.load(Ordering::Acquire);
        // A sentinel that has not heard of the failover yet.
        assert!(!watch.named(named(6380, 2)));
        assert_eq!(watch.primary(), Some(named(6379, 3)));
        // The failover's answer moves the links.
        assert!(watch.named(named(6380, 4)));
        assert_eq!(watch.generation.load(Ordering::Acquire), generation + 1);
        // Announced without an epoch: taken as the next one, which a later answer about the
        // same failover matches.
        watch.switched(address(6381));
        assert_eq!(watch.primary(), Some(named(6381, 5)));
        assert!(watch.named(named(6381, 5)));
        assert_eq!(watch.generation.load(Ordering::Acquire), generation + 2);
    }

    #[test]
    fn announcements_hold_and_release_writes() {
        let topology = topology();
        let watch = &topology.watch;
        assert!(!watch.holding());
        topology.announced(1, "+try-failover", "master other 10.0.0.1 6379");
        assert!(!watch.holding(), "another service's failover");
        topology.announced(1, "+try-failover", "master svc 10.0.0.1 6379");
        topology.announced(
            2,
            "+selected-slave",
            "slave 10.0.0.1:6380 10.0.0.1 6380 @ svc 10.0.0.1 6379",
        );
        assert!(watch.holding());
        // A sentinel that lost the election gives up; the other one goes on.
        topology.announced(1, "-failover-abort-not-elected", "master svc 10.0.0.1 6379");
        assert!(watch.holding());
        topology.announced(2, "+switch-master", "svc 10.0.0.1 6379 10.0.0.1 6380");
        assert!(!watch.holding());
        assert_eq!(
            watch.primary().map(|named| named.address),
            Some(address(6380))
        );
        topology.announced(0, "+switch-master", "other 10.0.0.1 6380 10.0.0.1 6399");
        assert_eq!(
            watch.primary().map(|named| named.address),
            Some(address(6380))
        );
    }

    #[test]
    fn sentinel_master_replies() {
        let fields = |flags: &str| -> HashMap<String, String> {
            [
                ("name", "svc"),
                ("ip", "10.0.0.1"),
                ("port", "6379"),
                ("flags", flags),
                ("config-epoch", "7"),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
        };
        let master = Master::from_fields(&fields("master")).expect("a reply");
        assert_eq!(
            master.named,
            Named {
                address: address(6379),
                epoch: 7
            }
        );
        assert!(!master.failing_over);
        let master = Master::from_fields(&fields("master,failover_in_progress")).expect("a reply");
        assert!(master.failing_over);
        let mut partial = fields("master");
        partial.remove("config-epoch");
        assert!(Master::from_fields(&partial).is_none());
    }
}
