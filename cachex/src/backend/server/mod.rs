//! The Redis/Valkey server backend, natively async over the [`redis`] crate: one server, a
//! Redis Cluster (feature `cluster`, see `cluster`) or a Sentinel service (feature
//! `sentinel`, see `sentinel`). Every command goes through a [`Link`](topology::Link) of the URL's
//! topology (see [`topology`]), so each operation is written once for all three.
//!
//! # Connections: one per tokio runtime
//!
//! An async connection belongs to the tokio runtime that opened it: its socket is registered
//! with that runtime's I/O driver and its reader runs as a task there. A connection opened in
//! one runtime cannot serve another, and once its runtime is dropped it is dead. So a [`Server`]
//! keeps one connection per runtime (the Rust twin of django-cachex's per-event-loop pools),
//! keyed by [`Handle::id`](tokio::runtime::Handle::id) of the runtime the call runs in.
//!
//! Next to each connection lives the [`JoinHandle`](tokio::task::JoinHandle) of a sentinel
//! task spawned on its runtime that never ends by itself: when the runtime is dropped, tokio
//! cancels the sentinel, so [`JoinHandle::is_finished`](tokio::task::JoinHandle::is_finished)
//! says that the runtime is gone. Such a connection is never used again, and stale entries are
//! swept out whenever a connection is opened for another runtime.
//!
//! A blocking call of the cache on a thread it owns (a plain thread, or one in
//! `block_in_place`; see [`crate::bridge::may_block`]) does not use these: on a standalone
//! server it writes and reads a pooled blocking connection right there (see
//! [`blocking`]), without handing the request to a runtime worker. Blocking calls that
//! start on a runtime worker, and those to a cluster or Sentinel, run in cachex's own bridge
//! runtime (see [`crate::bridge`]) and share its connection.
//!
//! A standalone server's connection is a [`standalone::StandaloneLink`]: one multiplexed
//! connection (every concurrent call of the runtime shares one socket, commands pipelined)
//! that opens on first use and is replaced as soon as the server closes it (RESP3's disconnect
//! notice) or a request fails with an I/O error. A call made while the server is down fails
//! with [`Error::Connection`]; the next calls open a new connection, and succeed as soon as
//! the server is back, without any action from the user. A request that provably never
//! reached the server (its connection could not be opened, or it was not written whole) is
//! sent again whatever the command ([`Reached::No`]); one whose fate is unknown only when the
//! command is harmless twice ([`Resend::Safe`]: reads, plain `SET`, `PEXPIRE`, ...). Two
//! requests in a row that time out give the connection up (see [`connections`]).
//!
//! # Retries
//!
//! With a retry budget ([`ServerOptions::retry_budget`]), a call that fails because the server
//! cannot be reached is tried again, after a pause, until it succeeds or the budget (counted from
//! the start of the call) is spent: a server restart shorter than the budget costs the calls a
//! delay, not an error. Which failures are retried is decided by the command's [`Resend`] rule as
//! above: harmless commands after any broken or refused connection, the others only after a refused
//! one, or a `LOADING` answer (a restarted server reading its data back refuses every command with
//! it; it is an [`Error::Connection`] to the caller, like the server being down). Pauses grow from
//! [`RETRY_FIRST_PAUSE`], doubling up to [`RETRY_MAX_PAUSE`], each with up to half of it taken off
//! at random (so that many clients do not come back in step), and never past the budget. Timeouts
//! (a hung server, whose request may still be applied), server errors and refused credentials are
//! never retried. Each attempt has its own response timeout, so a call takes at most about the
//! budget plus one response timeout.
//!
//! # Timeouts
//!
//! Opening a connection (TCP connect, `AUTH`, `SELECT`) is bounded by the connect timeout and
//! fails with [`Error::Timeout`] carrying it. Every request (waiting for the connection
//! included) is bounded by the response timeout and fails with [`Error::Timeout`] carrying
//! that one; the connection stays usable (a late answer is discarded). Both need the runtime's
//! time driver, as the redis crate's own timeouts do: runtimes must enable I/O and time
//! (`#[tokio::main]`, `#[tokio::test]` and `Builder::enable_all` do).
//!
//! # Scripts
//!
//! Lua scripts of the command table are sent as `EVALSHA`; a server that does not know one
//! (it restarted, or `SCRIPT FLUSH`) answers `NOSCRIPT` without running anything, and the call
//! loads it (`SCRIPT LOAD`) and sends it again.

mod blocking;
#[cfg(feature = "cluster")]
mod cluster;
mod connections;
mod error;
mod options;
mod replicas;
#[cfg(feature = "sentinel")]
mod sentinel;
mod standalone;
mod topology;
pub(crate) mod tracking;
mod url;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::{FromRedisValue, RedisError, Value};
use tokio::time::Instant;

use self::blocking::{BlockingPool, Packet};
use self::connections::{Connections, Via};
use self::error::{breaks_connection, is_loading, is_topology_change, is_unknown_script};
pub(crate) use self::options::ServerOptions;
#[cfg(feature = "tls")]
pub(crate) use self::options::TlsRoots;
use self::options::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, RETRY_FIRST_PAUSE, RETRY_MAX_PAUSE,
};
pub(crate) use self::topology::bracketed;
use self::topology::{Connector, Parsed};
pub(crate) use self::url::host_and_port;
use super::batch::{AnyCommand, Reply};
use super::command::{Command, Request, Resend, Route, ScriptSource};
use super::near::{Near, Tracking};
use crate::error::{Delivery, Waiting};
use crate::{Error, Result};

/// Whether a request that failed may have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reached {
    /// It provably did not: it failed before it was written whole.
    No,
    /// It may have: it was written, and the answer did not come.
    Maybe,
}

/// A Redis or Valkey server, a cluster or a Sentinel service (see the module documentation).
pub(crate) struct Server {
    /// What opening a connection needs (boxed: it is large, and rarely used).
    connector: Box<Connector>,
    /// The URL without its password.
    location: String,
    /// The passwords, to scrub them from any message that might echo one.
    secrets: Vec<String>,
    connect_timeout: Duration,
    response_timeout: Duration,
    /// How long a call may go on retrying an unreachable server; zero: no retries.
    retry_budget: Duration,
    /// One connection per tokio runtime.
    connections: Connections,
    /// Blocking connections for callers that own their thread (a standalone server only;
    /// boxed, as the connector).
    blocking: Option<Box<BlockingPool>>,
    /// The near cache, with tracking on (see [`Server::track`]).
    near: Option<Arc<Near>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("location", &self.location)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("retry_budget", &self.retry_budget)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.location)
    }
}

impl Server {
    /// The backend of a server URL (see [`url::parse`]). No I/O: connections open lazily on
    /// first use.
    pub(crate) fn new(url: &str, options: ServerOptions) -> Result<Server> {
        let parsed = url::parse(url, &options)?;
        let connect_timeout = options.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let response_timeout = options.response_timeout.unwrap_or(DEFAULT_RESPONSE_TIMEOUT);
        let Parsed {
            connector,
            location,
            secrets,
        } = parsed;
        let blocking = match &connector {
            Connector::Standalone { client, .. } => BlockingPool::new(
                client.get_connection_info(),
                connect_timeout,
                response_timeout,
            )
            .map(Box::new),
            #[allow(unreachable_patterns)] // with the cluster or sentinel feature only
            _ => None,
        };
        Ok(Server {
            connector: Box::new(connector),
            location,
            secrets,
            connect_timeout,
            response_timeout,
            retry_budget: options.retry_budget.unwrap_or_default(),
            connections: Connections::default(),
            blocking,
            near: None,
        })
    }

    /// Turns tracking on: a near cache of the keys starting with `prefix` (`None`: every key),
    /// kept current by an invalidation link of its own, started now in the background (see
    /// [`tracking`]): on a server, a Sentinel service's primary, or every node of a cluster.
    pub(crate) fn track(&mut self, prefix: Option<String>, settings: Tracking) -> Result<()> {
        if settings.max_staleness.is_zero() || settings.max_bytes == 0 {
            return Err(Error::config(
                "tracking_max_staleness and tracking_max_bytes must be above zero (with \
                 either at zero no copy could be served: leave tracking off instead)",
            ));
        }
        let target = match &*self.connector {
            Connector::Standalone { client, .. } => tracking::Target::Server(client.clone()),
            // Tracked reads (`GET`+`PTTL`) go to the primary: the link on the primary covers
            // them. A read served by a replica installs nothing (see `tracking`).
            Connector::Replicas(topology) => {
                tracking::Target::Server(topology.primary_client().clone())
            }
            #[cfg(feature = "sentinel")]
            Connector::Sentinel(topology) => tracking::Target::Sentinel(topology.clone()),
            // Every node is linked, replicas too (see `tracking`).
            #[cfg(feature = "cluster")]
            Connector::Cluster(topology) => tracking::Target::Cluster(topology.clone()),
        };
        let near = Arc::new(Near::new(settings)?);
        match tracking::start(&near, target, prefix, self.connect_timeout) {
            Ok(true) => {
                self.near = Some(near);
                Ok(())
            }
            Ok(false) => Err(Error::Unsupported {
                operation: "tracking",
                reason: "cachex's bridge runtime, which runs the invalidation link, could not \
                         be started"
                    .to_owned(),
            }),
            Err(err) => Err(self.error(err)),
        }
    }

    /// The near cache, with tracking on.
    pub(crate) fn near(&self) -> Option<&Near> {
        self.near.as_deref()
    }

    /// Read your writes: the near cache's copies of the keys a command writes are evicted (all
    /// of them for a write that names no key, as `FLUSHDB`). Called before the write is sent
    /// and after its answer came, so that a fetch that raced with it installs nothing.
    fn evict_written(&self, route: Route, each_key: impl FnOnce(&mut dyn FnMut(&str))) {
        let Some(near) = self.near.as_deref().filter(|_| route == Route::Writes) else {
            return;
        };
        let mut named = false;
        each_key(&mut |key| {
            named = true;
            near.evict(key.as_bytes());
        });
        if !named {
            near.drop_all("this cache wrote without naming its keys");
        }
    }

    /// [`evict_written`](Self::evict_written) for every command of a pipeline.
    fn evict_all_written(&self, commands: &[Box<dyn AnyCommand>]) {
        if self.near.is_some() {
            for command in commands {
                self.evict_written(command.route(), |visit| command.each_key(visit));
            }
        }
    }

    /// The server's address with its password replaced by `***`, for errors and the cache's
    /// `Display`. It is rebuilt from the parsed URL, so it is normalized: port and database
    /// are explicit, as in `redis://user:***@localhost:6379/0` or
    /// `redis+unix:///run/redis.sock`.
    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    /// The topology's name (`redis`, `cluster`, `sentinel`), for logs.
    pub(crate) fn kind(&self) -> &'static str {
        self.connector.kind()
    }

    /// Whether the server is a cluster (a script's keys must then share a slot).
    pub(crate) fn is_cluster(&self) -> bool {
        #[cfg(feature = "cluster")]
        if matches!(*self.connector, Connector::Cluster(_)) {
            return true;
        }
        false
    }

    /// Runs one command of the table (see the module documentation). With tracking, the
    /// copies of the keys a write names are evicted before it is sent and after its answer.
    pub(crate) async fn execute<C: Command>(&self, command: C) -> Result<C::Output> {
        let tracked_write = self.near.is_some() && C::ROUTE == Route::Writes;
        if tracked_write {
            self.evict_written(C::ROUTE, |visit| command.each_key(visit));
        }
        let request = command.request();
        // The command (its values: a large one would otherwise be held three times over,
        // with the request and its packed bytes) is dropped once its request is built,
        // unless its keys are evicted again after the answer.
        let written = tracked_write.then_some(command);
        // Sent here rather than by a function awaited: one state machine less on every poll.
        let result = match request {
            Request::Plain(cmd) => {
                self.call(C::ROUTE, C::RESEND, Packet::One(&cmd), None)
                    .await
            }
            Request::Script { source, eval } => {
                self.call(C::ROUTE, C::RESEND, Packet::One(&eval), Some(source.text()))
                    .await
            }
            // Boxed, as rare and large: the common requests' futures stay small.
            Request::Blocking { command, wait } => {
                Box::pin(self.blocking_command(&command, wait)).await
            }
        };
        if let Some(command) = written {
            self.evict_written(C::ROUTE, |visit| command.each_key(visit));
        }
        result
    }

    /// Runs queued commands as one pipeline, or one `MULTI`/`EXEC` transaction when `atomic`:
    /// each one's own outcome, in order. A script goes as `EVAL` with its source (a pipeline
    /// cannot load a script the server lost without running the commands after it twice). The
    /// whole is sent again after a broken connection only when every command may be, and
    /// served by a replica only when every command only reads.
    pub(crate) async fn batch(
        &self,
        commands: Vec<Box<dyn AnyCommand>>,
        atomic: bool,
    ) -> Result<Vec<Result<Reply>>> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        if atomic {
            self.check_transaction(&commands)?;
        }
        let mut pipeline = redis::pipe();
        pipeline.ignore_errors();
        if atomic {
            pipeline.atomic();
        }
        let (mut route, mut resend) = (Route::Reads, Resend::Safe);
        for command in &commands {
            route = match (route, command.route()) {
                (Route::Writes, _) | (_, Route::Writes) => Route::Writes,
                (Route::Primary, _) | (_, Route::Primary) => Route::Primary,
                _ => Route::Reads,
            };
            if command.resend() == Resend::Never {
                resend = Resend::Never;
            }
            match command.request() {
                Request::Plain(cmd) => pipeline.add_command(cmd),
                Request::Script { source, eval } => pipeline.add_command(inline(&source, &eval)),
                Request::Blocking { .. } => {
                    return Err(Error::Unsupported {
                        operation: command.name(),
                        reason: "a blocking command cannot be pipelined".to_owned(),
                    });
                }
            };
        }
        self.evict_all_written(&commands);
        let replies = self
            .call::<Vec<Value>>(route, resend, Packet::Many(&pipeline), None)
            .await;
        self.evict_all_written(&commands);
        let replies = replies?;
        if replies.len() != commands.len() {
            return Err(Error::unexpected_reply(format!(
                "{} replies to a pipeline of {} commands",
                replies.len(),
                commands.len()
            )));
        }
        Ok(commands
            .iter()
            .zip(replies)
            .map(|(command, reply)| match reply {
                Value::ServerError(err) => Err(self.error(err.into())),
                reply => command.decode(reply).map_err(|err| self.error(err)),
            })
            .collect())
    }

    /// A transaction on a cluster must have all its keys on one slot (a hash tag).
    fn check_transaction(
        &self,
        #[cfg_attr(not(feature = "cluster"), allow(unused_variables))] commands: &[Box<
            dyn AnyCommand,
        >],
    ) -> Result<()> {
        #[cfg(feature = "cluster")]
        if self.is_cluster() {
            let mut keys = Vec::new();
            for command in commands {
                command.each_key(&mut |key| keys.push(key.to_owned()));
            }
            if !cluster::one_slot(keys.iter().map(String::as_bytes)) {
                return Err(Error::Unsupported {
                    operation: "transaction",
                    reason: "on a cluster, a transaction's keys must be on one slot: give them \
                             a common hash tag ({tag}) in the key or the cache's prefix"
                        .to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Drops the connections (a later call opens new ones).
    pub(crate) async fn close(&self) -> Result<()> {
        self.connections.clear();
        if let Some(pool) = &self.blocking {
            pool.close();
        }
        Ok(())
    }

    /// Sends `packet` on the current runtime's connection (or a pooled blocking one), within
    /// the response timeout; once more on a new connection if the old one was closed and
    /// `resend` allows it; and again after pauses while the retry budget lasts (see the module
    /// documentation). A `script` unknown to the server is loaded and sent again.
    async fn call<T: FromRedisValue>(
        &self,
        route: Route,
        resend: Resend,
        packet: Packet<'_>,
        script: Option<&str>,
    ) -> Result<T> {
        let started = Instant::now();
        match self.send(route, packet, started).await {
            Ok((Ok(value), _, _)) => Ok(value),
            // Boxed, as failures are rare: the usual call's future holds only the first
            // attempt, not the loop's replays, script loading and pauses.
            first => {
                let recover = self.call_again(route, resend, packet, script, started, first);
                Box::pin(recover).await
            }
        }
    }

    /// [`call`](Self::call) after its first attempt, `first`, did not bring a value.
    async fn call_again<T: FromRedisValue>(
        &self,
        route: Route,
        resend: Resend,
        packet: Packet<'_>,
        script: Option<&str>,
        started: Instant,
        first: Result<(redis::RedisResult<T>, Reached, Option<u64>)>,
    ) -> Result<T> {
        // When the current attempt started: its response timeout counts from there.
        let mut attempt = started;
        let mut replayed = false;
        let mut pause = RETRY_FIRST_PAUSE;
        let mut first = Some(first);
        loop {
            let sent = match first.take() {
                Some(sent) => sent,
                None => self.send(route, packet, attempt).await,
            };
            let (outcome, reached, generation) = match sent {
                Ok(sent) => sent,
                Err(err) => {
                    let delivery = err.delivery().unwrap_or(Delivery::Unknown);
                    return Err(err.delivered(delivery, resend == Resend::Safe));
                }
            };
            let err = match outcome {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            if let Some(script) = script.filter(|_| is_unknown_script(&err)) {
                let mut load = redis::cmd("SCRIPT");
                load.arg("LOAD").arg(script);
                let (loaded, _, _) = self
                    .send::<String>(Route::Writes, Packet::One(&load), attempt)
                    .await?;
                loaded.map_err(|err| self.error(err))?;
                continue;
            }
            // Sentinel: the primary may have moved. The link is dropped, so that the next one
            // asks the sentinels again.
            let read_only = err.code() == Some("READONLY");
            let failover = self.connector.follows_failovers() && (read_only || err.is_io_error());
            // A standalone connection that failed is replaced (the cluster connection
            // reconnects by itself).
            let standalone_broken = matches!(
                *self.connector,
                Connector::Standalone { .. } | Connector::Replicas(_)
            ) && err.is_io_error();
            if let Some(generation) =
                generation.filter(|_| breaks_connection(&err) || failover || standalone_broken)
            {
                self.connections.forget(generation);
            }
            // A request that failed before it was written whole was not applied, nor one sent
            // to a refused connection; a server still loading its data set refuses every
            // command, and a demoted primary every write.
            let never_applied = reached == Reached::No
                || err.is_connection_refusal()
                || is_loading(&err)
                || (failover && read_only);
            // An opening that timed out is not tried again at once: the server is not
            // answering, and the caller has waited its connect timeout. A cluster settling
            // after a failover or a slot migration refuses requests (`MOVED`, `TRYAGAIN`,
            // `CLUSTERDOWN`, ...) once its own retries are spent.
            let repeatable = !err.is_timeout()
                && match resend {
                    Resend::Safe => {
                        err.is_connection_dropped()
                            || failover
                            || never_applied
                            || is_topology_change(&err)
                    }
                    Resend::Never => never_applied,
                };
            let delivery = if never_applied {
                Delivery::NotSent
            } else {
                Delivery::Unknown
            };
            if !repeatable {
                return Err(self.error(err).delivered(delivery, resend == Resend::Safe));
            }
            if !replayed {
                replayed = true;
                continue;
            }
            let Some(wait) = retry_pause(started.elapsed(), self.retry_budget, pause) else {
                return Err(self.error(err).delivered(delivery, resend == Resend::Safe));
            };
            tokio::time::sleep(wait).await;
            pause = pause.saturating_mul(2).min(RETRY_MAX_PAUSE);
            attempt = Instant::now();
        }
    }

    /// Sends `packet` once: on a pooled blocking connection when the caller owns its thread
    /// (see [`blocking`]), else on the current runtime's connection, within the response
    /// timeout counted from `started`. The outer
    /// error is the timeout; the inner result is the server's answer or the connection's
    /// failure, with the generation of the runtime connection it was sent on.
    async fn send<T: FromRedisValue>(
        &self,
        route: Route,
        packet: Packet<'_>,
        started: Instant,
    ) -> Result<(redis::RedisResult<T>, Reached, Option<u64>)> {
        if let Some(pool) = self
            .blocking
            .as_ref()
            .filter(|_| crate::bridge::may_block())
        {
            let (outcome, reached) = pool
                .send(packet, started.into_std())
                .map_err(|waited| self.timeout(waited))?;
            return Ok((outcome, reached, None));
        }
        let deadline = deadline(started, self.response_timeout);
        let mut checkout = self
            .connections
            .current(&self.connector, &self.location)
            .map_err(|err| match err {
                connections::Unavailable::NoRuntime(err) => err,
                connections::Unavailable::Open(err) => self.error(err),
            })?;
        let (outcome, reached) = match (&mut checkout.via, packet) {
            // The usual request: its future polled right here, without the link's layers.
            (Via::Open(connection), Packet::One(command)) => {
                let answer = connection.send_packed_command(command);
                let Ok(answer) = tokio::time::timeout_at(deadline, answer).await else {
                    return Err(self.timed_out(&checkout));
                };
                let outcome = answer
                    .and_then(Value::extract_error)
                    .and_then(|value| T::from_redis_value(value).map_err(RedisError::from));
                (outcome, Reached::Maybe)
            }
            // Boxed, as the usual call's future would otherwise hold these larger ones: a
            // pipeline, and every request through a link (its first, cluster, Sentinel).
            (Via::Open(connection), packet) => {
                match Box::pin(tokio::time::timeout_at(deadline, packet.send(connection))).await {
                    Ok(outcome) => (outcome, Reached::Maybe),
                    Err(_) => return Err(self.timed_out(&checkout)),
                }
            }
            (Via::Link(link), packet) => {
                match Box::pin(tokio::time::timeout_at(deadline, link.send(packet, route))).await {
                    Ok(outcome) => outcome,
                    Err(_) => return Err(self.timed_out(&checkout)),
                }
            }
        };
        if outcome.is_ok() {
            Connections::answered(&checkout);
        }
        Ok((outcome, reached, Some(checkout.generation)))
    }

    /// A command that blocks its connection (`BLPOP`), on a connection of its own: a blocked
    /// command holds up every later command of its connection, so it must not share the
    /// runtime's multiplexed one. The response timeout counts from the end of `wait`.
    async fn blocking_command<T: FromRedisValue>(
        &self,
        command: &redis::Cmd,
        wait: Option<Duration>,
    ) -> Result<T> {
        let sent = async {
            let mut link = self.connector.open()?;
            command.query_async::<T>(&mut link).await
        };
        let limit = wait.and_then(|wait| wait.checked_add(self.response_timeout));
        let outcome = match limit {
            Some(limit) => tokio::time::timeout(limit, sent)
                .await
                .map_err(|_| Error::Timeout {
                    server: self.location.clone(),
                    waiting_for: Waiting::BlockingCommand,
                    after: limit,
                    delivery: Delivery::Unknown,
                    retry_safe: false,
                })?,
            None => sent.await,
        };
        outcome.map_err(|err| self.error(err))
    }
}

impl Server {
    /// A request on `checkout`'s connection timed out: noted (see
    /// [`Connections::timed_out`]), and its error.
    fn timed_out(&self, checkout: &connections::Checkout) -> Error {
        self.connections.timed_out(checkout);
        self.timeout(Waiting::Response)
    }

    /// A timeout of this server while `waiting_for` it: an opening sent nothing; a request
    /// may have been applied (the call loop says whether it is safe to repeat).
    fn timeout(&self, waiting_for: Waiting) -> Error {
        let (after, delivery) = match waiting_for {
            Waiting::Connect => (self.connect_timeout, Delivery::NotSent),
            _ => (self.response_timeout, Delivery::Unknown),
        };
        Error::Timeout {
            server: self.location.clone(),
            waiting_for,
            after,
            delivery,
            retry_safe: delivery == Delivery::NotSent,
        }
    }
}

/// The deadline of a request sent at `started` with `timeout` to answer: about 30 years
/// later when the sum is past what an [`Instant`] holds (as tokio's own "far future").
fn deadline(started: Instant, timeout: Duration) -> Instant {
    started
        .checked_add(timeout)
        .unwrap_or_else(|| started + Duration::from_secs(86_400 * 365 * 30))
}

/// `EVAL` of the script `source` with the keys and arguments of its `EVALSHA` `eval`.
fn inline(source: &ScriptSource, eval: &redis::Cmd) -> redis::Cmd {
    let mut inline = redis::cmd("EVAL");
    inline.arg(source.text());
    for arg in eval.args_iter().skip(2) {
        if let redis::Arg::Simple(arg) = arg {
            inline.arg(arg);
        }
    }
    inline
}

/// The pause before the next attempt of a call that has run for `elapsed`, with a retry
/// `budget` and a nominal `pause`: up to half of it taken off at random, and cut short at the
/// end of the budget; `None` once the budget is spent.
fn retry_pause(elapsed: Duration, budget: Duration, pause: Duration) -> Option<Duration> {
    let left = budget.checked_sub(elapsed).filter(|left| !left.is_zero())?;
    let off = (pause / 2).mul_f64(fastrand::f64());
    Some((pause - off).min(left))
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use super::{Server, ServerOptions};
    use crate::Error;
    use crate::backend::command::{Blpop, Get, IncrBy};

    #[test]
    fn retry_pauses_stay_inside_the_budget() {
        let budget = Duration::from_secs(1);
        let pause = Duration::from_millis(400);
        for _ in 0..100 {
            let wait = super::retry_pause(Duration::ZERO, budget, pause).expect("a pause");
            assert!(wait >= pause / 2 && wait <= pause, "{wait:?}");
        }
        let near_end = Duration::from_millis(950);
        let wait = super::retry_pause(near_end, budget, pause).expect("a pause");
        assert!(wait <= Duration::from_millis(50), "{wait:?}");
        assert_eq!(super::retry_pause(budget, budget, pause), None);
        assert_eq!(
            super::retry_pause(Duration::ZERO, Duration::ZERO, pause),
            None
        );
    }

    fn server(url: &str) -> Server {
        Server::new(url, ServerOptions::default()).expect("a valid URL")
    }

    #[test]
    fn outside_a_runtime_is_a_typed_error() {
        let server = server("redis://127.0.0.1:1");
        let mut future = pin!(server.execute(Get { key: "k".into() }));
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(Err(Error::Config { reason: message })) => {
                assert!(message.contains("outside a tokio runtime"), "{message}");
            }
            Poll::Ready(other) => panic!("expected a configuration error, got {other:?}"),
            Poll::Pending => panic!("expected an error at once"),
        }
    }

    #[test]
    fn futures_are_send() {
        fn send<T: Send>(_: T) {}
        let server = server("redis://127.0.0.1:1");
        // Only built, never polled: a plain command, a script, a pipeline, a blocking one.
        send(server.execute(Get { key: "k".into() }));
        send(server.execute(IncrBy {
            key: "k".into(),
            delta: 1,
        }));
        send(server.batch(vec![Box::new(Get { key: "k".into() })], true));
        send(server.execute(Blpop {
            keys: vec!["k".into()],
            timeout: None,
        }));
        send(server.close());
    }

    #[test]
    fn the_backend_is_small() {
        // `Cache` holds its backends in one enum.
        assert!(
            std::mem::size_of::<Server>() <= 256,
            "{}",
            std::mem::size_of::<Server>()
        );
    }
}
