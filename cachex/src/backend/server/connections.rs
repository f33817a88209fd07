//! The async connections of a server backend: one per tokio runtime.
//!
//! An async connection belongs to the tokio runtime that opened it (see the module
//! documentation of [`super`]). Next to each connection lives the [`JoinHandle`] of a task
//! spawned on its runtime that never ends by itself: when the runtime is dropped, tokio
//! cancels it, so [`JoinHandle::is_finished`] says that the runtime is gone. Such a connection
//! is never used again, and stale entries are swept out whenever a connection is opened for
//! another runtime.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use redis::aio::MultiplexedConnection;
use tokio::runtime::{self, Handle};
use tokio::task::JoinHandle;

use super::topology::{Connector, Link};
use crate::Error;

/// How many requests in a row may time out on a connection before it is given up: a flow that
/// a middlebox lost, or an address that moved, never answers again, and nothing else would
/// end it before TCP's own give-up (minutes).
const TIMEOUTS_BEFORE_REPLACING: u32 = 2;

/// Gives every cached connection a distinct number, so that a broken one can be dropped
/// without dropping a newer one that replaced it meanwhile.
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

/// The connection of one runtime, with the task that tells whether that runtime lives.
struct Slot {
    link: Link,
    /// A task of the connection's runtime that never ends: finished means the runtime is gone.
    alive: JoinHandle<()>,
    generation: u64,
    /// Requests that timed out in a row on it.
    timeouts: Arc<AtomicU32>,
}

/// The connection a call uses, and what the call reports back about it.
pub(super) struct Checkout {
    pub(super) via: Via,
    pub(super) generation: u64,
    timeouts: Arc<AtomicU32>,
}

/// What a call sends on.
pub(super) enum Via {
    /// A standalone server's open connection (the usual case): a command is sent on it
    /// directly, its future polled by the call loop without the link's layers around it.
    Open(MultiplexedConnection),
    /// The runtime's link (it opens its connection, or routes by topology).
    Link(Link),
}

impl Slot {
    fn checkout(&self) -> Checkout {
        let via = match self.link.open_standalone() {
            Some(connection) => Via::Open(connection),
            None => Via::Link(self.link.clone()),
        };
        Checkout {
            via,
            generation: self.generation,
            timeouts: self.timeouts.clone(),
        }
    }
}

impl Slot {
    /// Whether its runtime still lives, and its connection was not closed.
    fn is_live(&self) -> bool {
        !self.alive.is_finished() && !self.link.is_closed()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.alive.abort();
    }
}

/// Why no connection could be had.
pub(super) enum Unavailable {
    /// The call runs outside any tokio runtime.
    NoRuntime(Error),
    /// Opening failed.
    Open(redis::RedisError),
}

/// One connection per tokio runtime. A process has few runtimes (usually one, plus cachex's
/// bridge runtime), so the slots are a short list searched in order: cheaper per call than
/// hashing the runtime's id.
#[derive(Default)]
pub(super) struct Connections {
    slots: RwLock<Vec<(runtime::Id, Slot)>>,
}

/// The live slot of runtime `id`, if any.
fn live(slots: &[(runtime::Id, Slot)], id: runtime::Id) -> Option<&Slot> {
    slots
        .iter()
        .find(|(slot_id, _)| *slot_id == id)
        .map(|(_, slot)| slot)
        .filter(|slot| slot.is_live())
}

impl Connections {
    /// The connection of the current runtime and its generation, opened (lazily: no I/O) if
    /// it has none yet.
    pub(super) fn current(
        &self,
        connector: &Connector,
        location: &str,
    ) -> Result<Checkout, Unavailable> {
        let handle = Handle::try_current().map_err(|_| {
            Unavailable::NoRuntime(Error::config(format!(
                "the server backend of {location} was called outside a tokio runtime: call it \
                 from async code running in a runtime, or use the cache's blocking API"
            )))
        })?;
        let id = handle.id();
        {
            let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(slot) = live(&slots, id) {
                return Ok(slot.checkout());
            }
        }
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        // Another call of this runtime may have opened it meanwhile.
        if let Some(slot) = live(&slots, id) {
            return Ok(slot.checkout());
        }
        // Connections of runtimes that were dropped since, and this runtime's dead one.
        slots.retain(|(_, slot)| slot.is_live());
        // No I/O: this at most spawns a helper task on the current runtime.
        let link = connector.open().map_err(Unavailable::Open)?;
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        let slot = Slot {
            link,
            alive: handle.spawn(std::future::pending()),
            generation,
            timeouts: Arc::default(),
        };
        let checkout = slot.checkout();
        slots.push((id, slot));
        Ok(checkout)
    }

    /// Drops a connection that cannot recover by itself (its opening failed for a reason that
    /// reconnecting as such would not fix, e.g. a refused password), so that the next call
    /// opens a new one.
    pub(super) fn forget(&self, generation: u64) {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|(_, slot)| slot.generation != generation);
    }

    /// Notes that a request on `checkout`'s connection timed out: after
    /// [`TIMEOUTS_BEFORE_REPLACING`] in a row the connection is given up, and the next call
    /// opens a new one.
    pub(super) fn timed_out(&self, checkout: &Checkout) {
        let in_a_row = checkout.timeouts.fetch_add(1, Ordering::Relaxed) + 1;
        if in_a_row >= TIMEOUTS_BEFORE_REPLACING {
            self.forget(checkout.generation);
        }
    }

    /// Notes that a request on `checkout`'s connection was answered.
    pub(super) fn answered(checkout: &Checkout) {
        if checkout.timeouts.load(Ordering::Relaxed) != 0 {
            checkout.timeouts.store(0, Ordering::Relaxed);
        }
    }

    /// Drops every connection.
    pub(super) fn clear(&self) {
        let slots =
            std::mem::take(&mut *self.slots.write().unwrap_or_else(PoisonError::into_inner));
        drop(slots);
    }
}
