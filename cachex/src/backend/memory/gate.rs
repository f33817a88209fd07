//! [`Gate`]: what keeps an in-memory transaction whole. Every command holds the stripes of its
//! keys shared while it runs; a transaction holds the stripes of all its keys exclusively from
//! its first command to its last. So no command on one of its keys (a write, or a read that
//! would see half of it) runs in between, while commands on other stripes go on. Stripes are
//! always taken in ascending order, so two holders never wait for each other in a cycle.

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many stripes: one bit each of a `u64` mask.
const STRIPES: usize = 64;

/// The stripes (see the module documentation).
pub(crate) struct Gate {
    stripes: [RwLock<()>; STRIPES],
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            stripes: std::array::from_fn(|_| RwLock::new(())),
        }
    }
}

/// Stripes held shared; released when dropped.
pub(crate) enum Shared<'a> {
    One(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    Many(#[allow(dead_code)] Vec<RwLockReadGuard<'a, ()>>),
}

impl Gate {
    /// Holds the stripes of `mask` shared (in ascending order).
    pub(crate) fn shared(&self, mask: u64) -> Shared<'_> {
        if mask.count_ones() == 1 {
            return Shared::One(self.read(mask.trailing_zeros() as usize));
        }
        Shared::Many(indexes(mask).map(|index| self.read(index)).collect())
    }

    /// Holds the stripes of `mask` exclusively (in ascending order).
    pub(crate) fn exclusive(&self, mask: u64) -> Vec<RwLockWriteGuard<'_, ()>> {
        indexes(mask)
            .map(|index| {
                self.stripes[index]
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
            })
            .collect()
    }

    fn read(&self, index: usize) -> RwLockReadGuard<'_, ()> {
        self.stripes[index]
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The stripes of the keys `keys` visits, as a mask; a command without keys (`FLUSHDB`,
/// `SCAN`) is about every key: every stripe.
pub(crate) fn stripes(keys: impl FnOnce(&mut dyn FnMut(&str))) -> u64 {
    let mut mask = 0u64;
    keys(&mut |key| mask |= 1 << stripe(key));
    if mask == 0 { u64::MAX } else { mask }
}

/// The stripe of a key (FNV-1a).
fn stripe(key: &str) -> usize {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash % STRIPES as u64) as usize
}

/// The indexes of the set bits of `mask`, ascending.
fn indexes(mask: u64) -> impl Iterator<Item = usize> {
    (0..STRIPES).filter(move |index| mask & (1 << index) != 0)
}
