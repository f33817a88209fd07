//! [`Lock`]: a distributed lock with a lease, held through a unique token.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::Store;
use crate::backend::command::{DeleteIfEquals, ExpireIfEquals};
use crate::backend::memory::Apply;
use crate::{Result, auto_async};

/// A lock acquired with [`lock`](crate::CacheApi::lock). Its key holds a token unique to this
/// holder, for the lease at most; release and extension act only while the key still holds
/// that token (one atomic step on the server), so a holder whose lease ran out can never
/// release or extend the lock of the next holder.
///
/// Dropping a lock that was not released releases it in the background, on cachex's bridge
/// runtime: dropping never blocks, not even on a runtime thread. Release it explicitly
/// (`release()` or `arelease().await`) to know that it is released.
pub struct Lock {
    store: Arc<Store>,
    key: String,
    made: String,
    token: Vec<u8>,
    held: bool,
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("key", &self.key)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

impl Lock {
    pub(crate) fn new(store: Arc<Store>, key: &str, made: String, token: Vec<u8>) -> Self {
        Lock {
            store,
            key: key.to_owned(),
            made,
            token,
            held: true,
        }
    }

    /// The key the lock was taken on, as the caller gave it.
    pub fn key(&self) -> &str {
        &self.key
    }

    fn release_command(&self) -> DeleteIfEquals {
        DeleteIfEquals {
            key: self.made.clone(),
            token: self.token.clone(),
        }
    }
}

/// What a [`Lock`] can do, on both surfaces: `lock.release()` / `lock.arelease().await`,
/// `lock.extend(lease)` / `lock.aextend(lease).await`. Brought in by `cachex::prelude::*`.
#[auto_async(crate = crate)]
pub trait LockApi: Send + Sync {
    /// Releases the lock; says whether it was still held (false: the lease ran out, and the
    /// key was left alone).
    async fn release(self) -> Result<bool>
    where
        Self: Sized;

    /// Gives the lock a new lease from now; says whether it was still held.
    async fn extend(&self, lease: Duration) -> Result<bool>;
}

impl LockApi for Lock {
    async fn arelease(mut self) -> Result<bool> {
        self.held = false;
        let command = self.release_command();
        self.store.run(&self.key, command).await
    }

    async fn aextend(&self, lease: Duration) -> Result<bool> {
        let millis = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
        let command = ExpireIfEquals {
            key: self.made.clone(),
            token: self.token.clone(),
            millis,
        };
        self.store.run(&self.key, command).await
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if self.held {
            run_in_background(&self.store, &self.key, self.release_command(), "lock");
        }
    }
}

/// Runs `command` on the bridge runtime without waiting for it: how a dropped lock or permit
/// is released (dropping never blocks, not even on a runtime thread). A failure is logged; the
/// lease frees what it held anyway.
pub(crate) fn run_in_background<C>(store: &Arc<Store>, key: &str, command: C, what: &'static str)
where
    C: Apply + Sync + 'static,
{
    let (store, key) = (store.clone(), key.to_owned());
    let spawned = crate::bridge::spawn(async move {
        if let Err(err) = store.run(&key, command).await {
            tracing::warn!(target: "cachex", "a dropped {what} was not released: {err}");
        }
    });
    if spawned.is_none() {
        tracing::warn!(
            target: "cachex",
            "a dropped {what} was not released (no bridge runtime): it expires with its lease"
        );
    }
}

/// The pauses between two attempts to take a lock or a permit: from 2 ms, doubling up to
/// 100 ms, until `wait` is over.
pub(crate) struct Retry {
    deadline: Option<Instant>,
    pause: Duration,
}

impl Retry {
    const FIRST_PAUSE: Duration = Duration::from_millis(2);
    const LONGEST_PAUSE: Duration = Duration::from_millis(100);

    /// Attempts for `wait` from now (`Duration::MAX`: for ever).
    pub(crate) fn within(wait: Duration) -> Retry {
        Retry {
            deadline: Instant::now().checked_add(wait),
            pause: Self::FIRST_PAUSE,
        }
    }

    /// Waits before the next attempt; false when the time is over (no wait then).
    pub(crate) async fn pause(&mut self) -> Result<bool> {
        let left = match self.deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => self.pause,
        };
        if left.is_zero() {
            return Ok(false);
        }
        crate::bridge::sleep(self.pause.min(left)).await?;
        self.pause = (self.pause * 2).min(Self::LONGEST_PAUSE);
        Ok(true)
    }
}
