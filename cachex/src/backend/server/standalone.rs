//! [`StandaloneLink`]: a runtime's connection to one server, opened on first use, that knows
//! when its server closed it.
//!
//! It is one multiplexed connection of the redis crate (every concurrent call of the runtime
//! shares one socket, commands pipelined), managed here rather than by the crate's
//! `ConnectionManager` so that two facts the call loop needs are not lost:
//!
//! - **A failed opening is told apart from a failed request**: the request did not leave, so
//!   it may be sent again whatever the command ([`Reached::No`]).
//! - **A connection the server closed is not used again**: over RESP3 (the default) the
//!   connection's reader reports the server's close (an idle reap, `CLIENT KILL`, a restart)
//!   the moment it happens, and the link marks itself closed; the next call opens a new one
//!   before sending. Over RESP2 the reader cannot report it: the link is replaced after the
//!   first request that fails with an I/O error.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{
    AsyncConnectionConfig, Cmd, Pipeline, ProtocolVersion, PushInfo, PushKind, RedisError,
    RedisFuture, RedisResult, Value,
};
use tokio::sync::OnceCell;

use super::Reached;
use super::blocking::Packet;

/// One runtime's connection to one server (see the module documentation). Clones share it.
#[derive(Clone)]
pub(crate) struct StandaloneLink(Arc<Shared>);

/// What the clones of a link share.
struct Shared {
    client: redis::Client,
    config: AsyncConnectionConfig,
    /// How long opening may take, handshake included.
    connect_timeout: Duration,
    connection: OnceCell<MultiplexedConnection>,
    closed: Arc<AtomicBool>,
}

impl StandaloneLink {
    /// A link that connects on its first request.
    pub(crate) fn new(
        client: redis::Client,
        config: AsyncConnectionConfig,
        connect_timeout: Duration,
    ) -> StandaloneLink {
        StandaloneLink(Arc::new(Shared {
            client,
            config,
            connect_timeout,
            connection: OnceCell::new(),
            closed: Arc::default(),
        }))
    }

    /// Whether the server closed the connection (it must not be used again).
    pub(crate) fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::Relaxed)
    }

    /// The connection, if it is open (a clone: each request needs its own handle).
    pub(crate) fn open_connection(&self) -> Option<MultiplexedConnection> {
        self.0.connection.get().cloned()
    }

    /// Sends `packet`, opening the connection first if it is not open yet; whether a failed
    /// request may have reached the server.
    pub(crate) async fn send<T: redis::FromRedisValue>(
        &self,
        packet: Packet<'_>,
    ) -> (RedisResult<T>, Reached) {
        // The open connection is taken without awaiting; opening, rare and with a large
        // future, is boxed so that every request's future stays small.
        let opened = match self.0.connection.get() {
            Some(connection) => Ok(connection.clone()),
            None => Box::pin(self.connection()).await,
        };
        match opened {
            Ok(mut connection) => (packet.send(&mut connection).await, Reached::Maybe),
            Err(err) => (Err(err), Reached::No),
        }
    }

    /// The connection, opened if it is not yet (a failed opening is tried again by the next
    /// call).
    async fn connection(&self) -> RedisResult<MultiplexedConnection> {
        let shared = &self.0;
        shared
            .connection
            .get_or_try_init(|| async {
                let resp3 = shared
                    .client
                    .get_connection_info()
                    .redis_settings()
                    .protocol()
                    != ProtocolVersion::RESP2;
                let config = if resp3 {
                    let closed = shared.closed.clone();
                    shared
                        .config
                        .clone()
                        .set_push_sender(move |push: PushInfo| {
                            if push.kind == PushKind::Disconnection {
                                closed.store(true, Ordering::Relaxed);
                            }
                            Ok::<(), std::convert::Infallible>(())
                        })
                } else {
                    shared.config.clone()
                };
                let opening = shared
                    .client
                    .get_multiplexed_async_connection_with_config(&config);
                // The crate's connection timeout bounds the TCP connect only; the handshake
                // (`HELLO`, `AUTH`, `SELECT`) counts too.
                tokio::time::timeout(shared.connect_timeout, opening)
                    .await
                    .map_err(|_| RedisError::from(io::Error::from(io::ErrorKind::TimedOut)))?
            })
            .await
            .cloned()
    }
}

impl ConnectionLike for StandaloneLink {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move { self.connection().await?.req_packed_command(cmd).await })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            connection
                .req_packed_commands(pipeline, offset, count)
                .await
        })
    }

    fn get_db(&self) -> i64 {
        self.0.client.get_connection_info().redis_settings().db()
    }
}
