//! [`Store`]: the backend a cache uses, dispatched statically, every call traced when something
//! listens and measured with the `metrics` feature.

use std::future::Future;
use std::time::Instant;

use tracing::Instrument;

use super::batch::{AnyCommand, Batch, Reply, typed};
use super::command::{Scan, Unlink};
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
    /// A pipeline's operations, queued (see [`super::batch`]).
    Batch(Batch),
}

/// Runs one backend call on whichever backend the store is; observed (see [`Store::observed`])
/// when something listens: a `tracing` subscriber at debug level for target `cachex`, or, with
/// the `metrics` feature, once `cachex::metrics::enable` was called. The observed call is
/// boxed, so that the plain one, the usual case, keeps its own size: the calling futures stay
/// small and cheap to move.
macro_rules! dispatch {
    ($store:expr, $operation:expr, $keys:expr, $backend:ident => $call:expr) => {
        if observing() {
            Box::pin($store.observed($operation, $keys, async {
                match $store {
                    Store::Memory($backend) => $call,
                    #[cfg(feature = "redis")]
                    Store::Server($backend) => $call,
                    Store::Batch($backend) => $call,
                }
            }))
            .await
        } else {
            match $store {
                Store::Memory($backend) => $call,
                #[cfg(feature = "redis")]
                Store::Server($backend) => $call,
                Store::Batch($backend) => $call,
            }
        }
    };
}

/// Whether backend calls are observed (traced, measured): see `dispatch!`.
#[inline(always)]
fn observing() -> bool {
    #[cfg(feature = "metrics")]
    if crate::metrics::is_enabled() {
        return true;
    }
    tracing::enabled!(target: "cachex", tracing::Level::DEBUG)
}

impl Store {
    /// The backend's name, for logs.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            #[cfg(feature = "redis")]
            Store::Server(server) => server.kind(),
            Store::Batch(_) => "pipeline",
        }
    }

    /// Whether the backend is a cluster (a script's keys must then share a slot).
    #[cfg(feature = "redis")]
    pub(crate) fn is_cluster(&self) -> bool {
        match self {
            #[cfg(feature = "redis")]
            Store::Server(server) => server.is_cluster(),
            _ => false,
        }
    }

    /// The batch of a pipeline's store.
    pub(crate) fn as_batch(&self) -> Option<&Batch> {
        match self {
            Store::Batch(batch) => Some(batch),
            _ => None,
        }
    }

    /// The near cache of a server backend with tracking on.
    #[cfg(feature = "redis")]
    pub(crate) fn near(&self) -> Option<&super::near::Near> {
        match self {
            Store::Server(server) => server.near(),
            _ => None,
        }
    }

    /// The in-memory store, for a call it answers at once on the caller's thread (no future,
    /// no runtime); `None` for the other stores, and while calls are observed: those take
    /// [`run`](Self::run).
    #[inline]
    pub(crate) fn memory_now(&self) -> Option<&Memory> {
        match self {
            Store::Memory(memory) if !observing() => Some(memory),
            _ => None,
        }
    }

    /// Runs one command of the table about the caller's `key`: the one path every operation
    /// of the cache takes to a backend, and where an error gets the key its caller knows
    /// (backends only know made keys).
    pub(crate) async fn run<C: Apply>(&self, key: &str, command: C) -> Result<C::Output> {
        // The dispatch itself, not `execute` awaited: one state machine less on every poll.
        let keys = command.key_count();
        let result = dispatch!(self, C::NAME, keys, backend => backend.execute(command).await);
        result.map_err(|err| err.about(key))
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
        if let Store::Batch(batch) = self {
            return batch.pipeline(commands).await;
        }
        let queued = commands
            .into_iter()
            .map(|command| Box::new(command) as Box<dyn AnyCommand>)
            .collect();
        let replies = self.batch(queued, false).await?;
        Ok(replies
            .into_iter()
            .map(|reply| reply.and_then(typed))
            .collect())
    }

    /// Runs queued commands of any kinds in one go, in order, each with its own outcome; as a
    /// transaction when `atomic` (no other client's command runs between them). The outer
    /// error is the call's (the server could not be reached, the keys of a cluster
    /// transaction are on several slots).
    pub(crate) async fn batch(
        &self,
        commands: Vec<Box<dyn AnyCommand>>,
        atomic: bool,
    ) -> Result<Vec<Result<Reply>>> {
        let mut keys = 0;
        for command in &commands {
            command.each_key(&mut |_| keys += 1);
        }
        let operation = if atomic { "transaction" } else { "pipeline" };
        dispatch!(self, operation, keys, backend => backend.batch(commands, atomic).await)
    }

    // --- admin ---
    // `raw` and `batch_if` do not go through `dispatch!`: they are synchronous (`raw` backs
    // the synchronous `CacheCore::raw`) while the macro awaits an observed future, and they
    // exist on the in-memory backend only while the macro makes one call on every backend.
    // They are not traced or measured.

    /// The raw content of the made key `key` (in-memory only; on a server, `cachex-admin`
    /// reads it with a script).
    pub(crate) fn raw(&self, key: &str) -> Result<Option<crate::ops::RawData>> {
        match self {
            Store::Memory(memory) => Ok(memory.raw(key)),
            _ => Err(admin_unsupported("raw")),
        }
    }

    /// A transaction run only if `check` accepts the raw content of `key` under its hold
    /// (in-memory only; on a server, a script checks and applies).
    pub(crate) fn batch_if(
        &self,
        commands: Vec<Box<dyn AnyCommand>>,
        key: &str,
        check: super::memory::Check<'_>,
    ) -> Result<Option<Vec<Result<Reply>>>> {
        match self {
            Store::Memory(memory) => Ok(memory.batch_if(commands, key, check)),
            _ => Err(admin_unsupported("execute_if")),
        }
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
    /// event giving its duration and outcome; with metrics enabled, records its duration and
    /// error (`crate::metrics::call`). Only called when [`observing`]: otherwise a call costs
    /// one check of tracing's cached interest (and, with the `metrics` feature, one atomic
    /// load).
    async fn observed<T>(
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
        let elapsed = started.elapsed();
        if !span.is_disabled() {
            let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            let _in_span = span.enter();
            match &result {
                Ok(_) => tracing::debug!(target: "cachex", elapsed_us, "done"),
                Err(err) => tracing::debug!(target: "cachex", elapsed_us, error = %err, "failed"),
            }
        }
        #[cfg(feature = "metrics")]
        if crate::metrics::is_enabled() {
            crate::metrics::call(operation, self.kind(), elapsed, result.as_ref().err());
        }
        result
    }
}

/// An admin operation the server backends do not offer (a script does it there).
fn admin_unsupported(operation: &'static str) -> crate::Error {
    crate::Error::Unsupported {
        operation,
        reason: "only the in-memory backend offers it: on a server, use a script (eval_script)"
            .to_owned(),
    }
}
