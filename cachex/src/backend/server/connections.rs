//! The async connections of a server backend: one per tokio runtime.
//!
//! An async connection belongs to the tokio runtime that opened it (see the module
//! documentation of [`super`]). Next to each connection lives the [`JoinHandle`] of a task
//! spawned on its runtime that never ends by itself: when the runtime is dropped, tokio
//! cancels it, so [`JoinHandle::is_finished`] says that the runtime is gone. Such a connection
//! is never used again, and stale entries are swept out whenever a connection is opened for
//! another runtime.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use tokio::runtime::{self, Handle};
use tokio::task::JoinHandle;

use super::topology::{Connector, Link};
use crate::Error;

/// Gives every cached connection a distinct number, so that a broken one can be dropped
/// without dropping a newer one that replaced it meanwhile.
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

/// The connection of one runtime, with the task that tells whether that runtime lives.
struct Slot {
    link: Link,
    /// A task of the connection's runtime that never ends: finished means the runtime is gone.
    alive: JoinHandle<()>,
    generation: u64,
}

impl Slot {
    fn is_live(&self) -> bool {
        !self.alive.is_finished()
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

/// One connection per tokio runtime.
#[derive(Default)]
pub(super) struct Connections {
    slots: RwLock<HashMap<runtime::Id, Slot>>,
}

impl Connections {
    /// The connection of the current runtime and its generation, opened (lazily: no I/O) if
    /// it has none yet.
    pub(super) fn current(
        &self,
        connector: &Connector,
        location: &str,
    ) -> Result<(Link, u64), Unavailable> {
        let handle = Handle::try_current().map_err(|_| {
            Unavailable::NoRuntime(Error::Config(format!(
                "the server backend of {location} was called outside a tokio runtime: call it \
                 from async code running in a runtime, or use the cache's blocking API"
            )))
        })?;
        let id = handle.id();
        {
            let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(slot) = slots.get(&id).filter(|slot| slot.is_live()) {
                return Ok((slot.link.clone(), slot.generation));
            }
        }
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        // Another call of this runtime may have opened it meanwhile.
        if let Some(slot) = slots.get(&id).filter(|slot| slot.is_live()) {
            return Ok((slot.link.clone(), slot.generation));
        }
        // Connections of runtimes that were dropped since.
        slots.retain(|_, slot| slot.is_live());
        // No I/O: this at most spawns a helper task on the current runtime.
        let link = connector.open().map_err(Unavailable::Open)?;
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        slots.insert(
            id,
            Slot {
                link: link.clone(),
                alive: handle.spawn(std::future::pending()),
                generation,
            },
        );
        Ok((link, generation))
    }

    /// Drops a connection that cannot recover by itself (its opening failed for a reason that
    /// reconnecting as such would not fix, e.g. a refused password), so that the next call
    /// opens a new one.
    pub(super) fn forget(&self, generation: u64) {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|_, slot| slot.generation != generation);
    }

    /// Drops every connection.
    pub(super) fn clear(&self) {
        let slots =
            std::mem::take(&mut *self.slots.write().unwrap_or_else(PoisonError::into_inner));
        drop(slots);
    }
}
