//! Blocking connections for blocking callers of a standalone server.
//!
//! A blocking call of the cache runs its (async) future on the caller's own thread when it
//! can (see [`crate::bridge::may_block`]). Through the runtime's multiplexed connection, each
//! request would then cross threads twice: to the connection's task, which writes and reads
//! the socket on a runtime worker, and back to the waiting caller. On a thread that is blocked
//! anyway, the request is better written and read right there, on a plain blocking
//! [`redis::Connection`]: the same two system calls as the redis crate's own blocking client.
//! The connections are pooled, one per concurrent blocking caller.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::{Cmd, FromRedisValue, Pipeline, RedisResult};

use crate::{Error, Result};

/// How many idle connections a pool keeps; more are closed when they come back.
const MAX_IDLE: usize = 64;

/// What a server backend writes in one call: a command or a pipeline.
#[derive(Clone, Copy)]
pub(crate) enum Packet<'a> {
    One(&'a Cmd),
    Many(&'a Pipeline),
}

impl Packet<'_> {
    /// Sends it on an async connection.
    pub(crate) async fn send<T, C>(self, connection: &mut C) -> RedisResult<T>
    where
        T: FromRedisValue,
        C: redis::aio::ConnectionLike + Send,
    {
        match self {
            Packet::One(command) => command.query_async(connection).await,
            Packet::Many(pipeline) => pipeline.query_async(connection).await,
        }
    }

    fn send_blocking<T: FromRedisValue>(
        self,
        connection: &mut redis::Connection,
    ) -> RedisResult<T> {
        match self {
            Packet::One(command) => command.query(connection),
            Packet::Many(pipeline) => pipeline.query(connection),
        }
    }
}

/// Blocking connections to one server.
pub(crate) struct BlockingPool {
    client: redis::Client,
    connect_timeout: Duration,
    response_timeout: Duration,
    idle: Mutex<Vec<redis::Connection>>,
}

impl BlockingPool {
    pub(crate) fn new(
        client: redis::Client,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Self {
        BlockingPool {
            client,
            connect_timeout,
            response_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `request` on an idle connection, or a new one. The outer error is a response
    /// timeout (the connection is closed: a late answer must never be read as the next
    /// request's); the inner result is the server's answer or the connection's failure, as the
    /// async path gets them. A connection that failed is closed, not pooled.
    pub(crate) fn send<T: FromRedisValue>(&self, request: Packet<'_>) -> Result<RedisResult<T>> {
        let idle = self.idle().pop();
        let mut connection = match idle {
            Some(connection) => connection,
            None => match self.open() {
                Ok(connection) => connection,
                Err(err) => return Ok(Err(err)),
            },
        };
        let outcome = request.send_blocking(&mut connection);
        match &outcome {
            Err(err) if err.is_timeout() => return Err(Error::Timeout(self.response_timeout)),
            Err(err) if err.is_io_error() || err.is_unrecoverable_error() => {}
            _ => {
                let mut idle = self.idle();
                if idle.len() < MAX_IDLE {
                    idle.push(connection);
                }
            }
        }
        Ok(outcome)
    }

    /// Closes every idle connection.
    pub(crate) fn close(&self) {
        self.idle().clear();
    }

    fn open(&self) -> RedisResult<redis::Connection> {
        let connection = self
            .client
            .get_connection_with_timeout(self.connect_timeout)?;
        connection.set_read_timeout(Some(self.response_timeout))?;
        connection.set_write_timeout(Some(self.response_timeout))?;
        Ok(connection)
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<redis::Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
