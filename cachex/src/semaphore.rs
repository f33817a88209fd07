//! [`Permit`]: a share of a distributed counting semaphore, held through a unique token for a
//! lease (django-cachex's `cache.semaphore()`, on its keys).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::Store;
use crate::backend::command::{
    SemaphoreAcquire, SemaphoreDequeue, SemaphoreExtend, SemaphoreRelease,
};
use crate::lock::{Retry, run_in_background};
use crate::{Error, Result, auto_async};

/// How long a waiter stays in the queue after its last attempt: far longer than the longest
/// pause between two attempts (100 ms), so that only a waiter that stopped trying is dropped.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// The keys of one semaphore: all start with the hash tag `{made key}`, so that they share a
/// cluster slot (see `backend/command/semaphore.rs`).
#[derive(Clone, Debug)]
struct Keys {
    state: String,
    claims: String,
    queue: String,
}

impl Keys {
    fn of(made: &str) -> Keys {
        Keys {
            state: format!("{{{made}}}:state"),
            claims: format!("{{{made}}}:claims"),
            queue: format!("{{{made}}}:queue"),
        }
    }
}

/// A share of a counting semaphore, acquired with
/// [`semaphore`](crate::CacheApi::semaphore): `weight` of the semaphore's `capacity`, held
/// for the lease at most. The holders of one semaphore never hold more than its capacity
/// together; a holder that dies without releasing frees its share when its lease runs out.
/// Release and extension act only while this holder's token still holds its share (one
/// atomic step on the server), so a holder whose lease ran out can never release or extend
/// what the next holder took.
///
/// Dropping a permit that was not released releases it in the background, on cachex's bridge
/// runtime: dropping never blocks. Release it explicitly (`release()` or `arelease().await`)
/// to know that it is released.
///
/// The semaphore lives in keys of django-cachex's layout, `{prefix:version:key}:state`,
/// `:claims` and `:queue` (and a key per holder and per waiter): a Django process using
/// `cache.semaphore(key, ...)` with the same prefix and version shares it. They start with the
/// hash tag, outside the cache's `prefix:` namespace, so `clear` does not remove them (as
/// with django-cachex).
pub struct Permit {
    store: Arc<Store>,
    key: String,
    keys: Keys,
    token: Vec<u8>,
    lease: Duration,
    held: bool,
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("key", &self.key)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

/// Whole milliseconds of a duration, at least one.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// What a semaphore's caller asks for, checked.
pub(crate) struct Request {
    pub(crate) capacity: u32,
    pub(crate) weight: u32,
    pub(crate) lease: Duration,
    pub(crate) wait: Duration,
}

impl Request {
    /// Refuses what could never be admitted or never be freed.
    fn check(&self) -> Result<()> {
        if self.capacity == 0 {
            return Err(Error::invalid_argument(
                "a semaphore's capacity must be at least 1",
            ));
        }
        if self.weight == 0 || self.weight > self.capacity {
            return Err(Error::invalid_argument(format!(
                "a semaphore's weight must be between 1 and its capacity ({}), not {}",
                self.capacity, self.weight
            )));
        }
        if self.lease < Duration::from_millis(1) {
            return Err(Error::invalid_argument(
                "a semaphore's lease must be at least 1 ms: a share is only given back by its \
                 release or its lease",
            ));
        }
        Ok(())
    }
}

/// Waits for a share of the semaphore on the made key `made` (the caller's `key`): the
/// permit, or `None` when the wait is over first.
pub(crate) async fn acquire(
    store: &Arc<Store>,
    key: &str,
    made: &str,
    request: Request,
) -> Result<Option<Permit>> {
    request.check()?;
    let keys = Keys::of(made);
    let token = format!("{:032x}", fastrand::u128(..)).into_bytes();
    let lease_millis = millis(request.lease);
    // Until it is disarmed, a cancelled or failed wait leaves the queue and gives back what the
    // server may have admitted without the answer arriving.
    let mut leaving = Leaving {
        store: store.clone(),
        key: key.to_owned(),
        keys: keys.clone(),
        token: token.clone(),
        lease_millis,
        armed: true,
    };
    let mut retry = Retry::within(request.wait);
    loop {
        let acquire = SemaphoreAcquire {
            state: keys.state.clone(),
            claims: keys.claims.clone(),
            queue: keys.queue.clone(),
            token: token.clone(),
            weight: request.weight,
            capacity: request.capacity,
            lease_millis,
            waiter_millis: millis(HEARTBEAT),
        };
        if store.run(key, acquire).await? {
            leaving.armed = false;
            return Ok(Some(Permit {
                store: store.clone(),
                key: key.to_owned(),
                keys: keys.clone(),
                token,
                lease: request.lease,
                held: true,
            }));
        }
        if !retry.pause().await? {
            leaving.armed = false;
            let dequeue = SemaphoreDequeue {
                queue: keys.queue.clone(),
                token: token.clone(),
            };
            store.run(key, dequeue).await?;
            return Ok(None);
        }
    }
}

/// A wait for a share that ended without a permit (cancelled, or failed): leaves the queue and
/// gives back a share the server may have admitted, in the background.
struct Leaving {
    store: Arc<Store>,
    key: String,
    keys: Keys,
    token: Vec<u8>,
    lease_millis: u64,
    armed: bool,
}

impl Drop for Leaving {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let dequeue = SemaphoreDequeue {
            queue: self.keys.queue.clone(),
            token: self.token.clone(),
        };
        run_in_background(&self.store, &self.key, dequeue, "semaphore wait");
        let release = release_command(&self.keys, &self.token, self.lease_millis);
        run_in_background(&self.store, &self.key, release, "semaphore wait");
    }
}

fn release_command(keys: &Keys, token: &[u8], lease_millis: u64) -> SemaphoreRelease {
    SemaphoreRelease {
        state: keys.state.clone(),
        claims: keys.claims.clone(),
        queue: keys.queue.clone(),
        token: token.to_vec(),
        lease_millis,
    }
}

impl Permit {
    /// The key the semaphore is on, as the caller gave it.
    pub fn key(&self) -> &str {
        &self.key
    }

    fn release_command(&self) -> SemaphoreRelease {
        release_command(&self.keys, &self.token, millis(self.lease))
    }
}

/// What a [`Permit`] can do, on both surfaces: `permit.release()` /
/// `permit.arelease().await`, `permit.extend(more)` / `permit.aextend(more).await`. Brought in
/// by `cachex::prelude::*`.
#[auto_async(crate = crate)]
pub trait PermitApi: Send + Sync {
    /// Gives the share back; says whether it was still held (false: the lease ran out, and
    /// the share had been given back already).
    async fn release(self) -> Result<bool>
    where
        Self: Sized;

    /// Adds `more` to what is left of the lease (as django-cachex's `extend`); says whether
    /// the share was still held.
    async fn extend(&self, more: Duration) -> Result<bool>;
}

impl PermitApi for Permit {
    async fn arelease(mut self) -> Result<bool> {
        self.held = false;
        let command = self.release_command();
        self.store.run(&self.key, command).await
    }

    async fn aextend(&self, more: Duration) -> Result<bool> {
        let command = SemaphoreExtend {
            state: self.keys.state.clone(),
            claims: self.keys.claims.clone(),
            token: self.token.clone(),
            millis: millis(more),
        };
        self.store.run(&self.key, command).await
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.held {
            run_in_background(&self.store, &self.key, self.release_command(), "permit");
        }
    }
}
