//! [`Store`]: the backend a cache uses, dispatched statically, every call traced when something
//! listens.

use std::future::Future;
use std::time::Instant;

use tracing::Instrument;

use super::command::{Command, Scan, Unlink};
use super::memory::{Apply, Memory};
#[cfg(feature = "redis")]
use super::server::Server;
use crate::Result;

/// How many keys each `SCAN` round asks for.
pub(crate) const SCAN_BATCH: usize = 1_000;

/// The backends, dispatched statically.
pub(crate) enum Store {
    Memory(Memory),
    #[cfg(feature = "redis")]
    Server(Server),
}

/// Runs one backend call on whichever backend the store is; traced (see [`Store::traced`])
/// when something listens. The traced call is boxed, so that the untraced one, the usual case,
/// keeps its own size: the calling futures stay small and cheap to move.
macro_rules! dispatch {
    ($store:expr, $operation:expr, $keys:expr, $backend:ident => $call:expr) => {
        if tracing::enabled!(target: "cachex", tracing::Level::DEBUG) {
            Box::pin($store.traced($operation, $keys, async {
                match $store {
                    Store::Memory($backend) => $call,
                    #[cfg(feature = "redis")]
                    Store::Server($backend) => $call,
                }
            }))
            .await
        } else {
            match $store {
                Store::Memory($backend) => $call,
                #[cfg(feature = "redis")]
                Store::Server($backend) => $call,
            }
        }
    };
}

impl Store {
    /// The backend's name, for logs.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            #[cfg(feature = "redis")]
            Store::Server(server) => server.kind(),
        }
    }

    /// The near cache of a server backend with tracking on.
    #[cfg(feature = "redis")]
    pub(crate) fn near(&self) -> Option<&super::near::Near> {
        match self {
            Store::Memory(_) => None,
            Store::Server(server) => server.near(),
        }
    }

    /// Runs one command of the table about the caller's `key`: the one path every operation
    /// of the cache takes to a backend, and where an error gets the key its caller knows
    /// (backends only know made keys).
    pub(crate) async fn run<C: Apply>(&self, key: &str, command: C) -> Result<C::Output> {
        self.execute(command).await.map_err(|err| err.about(key))
    }

    /// Runs one command of the table.
    async fn execute<C: Apply>(&self, command: C) -> Result<C::Output> {
        let keys = command.key_count();
        dispatch!(self, C::NAME, keys, backend => backend.execute(command).await)
    }

    /// Runs commands of one kind together (a pipeline on a server): each one's own outcome, in
    /// order. The outer error is the call's (the server could not be reached, say).
    pub(crate) async fn pipeline<C: Apply>(
        &self,
        commands: Vec<C>,
    ) -> Result<Vec<Result<C::Output>>> {
        let keys = commands.iter().map(Command::key_count).sum();
        dispatch!(self, C::NAME, keys, backend => backend.pipeline(commands).await)
    }

    /// Deletes every key matching `pattern` (`SCAN` + `UNLINK`, batch by batch): how many.
    pub(crate) async fn delete_pattern(&self, pattern: &str) -> Result<u64> {
        #[cfg(feature = "redis")]
        if let Some(near) = self.near() {
            near.drop_all("this cache deleted keys by pattern");
        }
        let mut cursor = 0;
        let mut deleted = 0;
        loop {
            let scan = Scan {
                cursor,
                pattern: pattern.to_owned(),
                count: SCAN_BATCH,
            };
            let (next, keys) = self.execute(scan).await?;
            if !keys.is_empty() {
                deleted += self.execute(Unlink { keys }).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    /// Drops the connections (a later call opens new ones).
    pub(crate) async fn close(&self) -> Result<()> {
        dispatch!(self, "close", 0, backend => backend.close().await)
    }

    /// Runs `call` in a `cachex` span (operation, key count, backend) and ends it with a debug
    /// event giving its duration and outcome. Only called when something listens at debug
    /// level for target `cachex`: otherwise a call costs one check of tracing's cached
    /// interest.
    async fn traced<T>(
        &self,
        operation: &'static str,
        keys: usize,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let span = tracing::debug_span!(
            target: "cachex",
            "cachex",
            operation,
            keys,
            backend = self.kind()
        );
        let started = Instant::now();
        let result = call.instrument(span.clone()).await;
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let _in_span = span.enter();
        match &result {
            Ok(_) => tracing::debug!(target: "cachex", elapsed_us, "done"),
            Err(err) => tracing::debug!(target: "cachex", elapsed_us, error = %err, "failed"),
        }
        result
    }
}
