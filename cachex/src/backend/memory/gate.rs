//! [`Gate`]: what keeps an in-memory transaction whole. A transaction holds the stripes of all
//! its keys exclusively from its first command to its last, so that no command on one of its
//! keys (a write, or a read that would see half of it) runs in between, while commands on
//! other stripes go on. Stripes are always taken in ascending order, so two holders never wait
//! for each other in a cycle.
//!
//! A command takes the cheaper of two ways in:
//!
//! - **No transaction running** (the usual case): it only counts itself in its thread's slot of
//!   `unguarded` and runs without any stripe: no hash of its keys, no lock.
//! - **A transaction running or starting**: it holds its keys' stripes shared, as every command
//!   did before.
//!
//! A read of one key (`GET` on the blocking path, [`Gate::read_only`]) has a cheaper way still:
//! it does not count itself at all. It reads `started` (transactions started so far), then
//! `transactions`, and runs when that is 0; after it, `started` again: unchanged, its answer
//! stands; changed, it runs again, through the gate. A transaction increments
//! `transactions`, *then* `started`, before it waits for the unguarded commands and takes its
//! stripes. A read that saw the transaction's `started` saw its `transactions` too (both
//! sequentially consistent), unless it had ended, writes and all. A read that did not, and
//! saw any of its writes (made under the shard locks the read takes after them), must see
//! its `started` afterwards: the write happened before the read, which happened before the
//! second look. So an answer that stands saw none of a running transaction's writes.
//!
//! Why a transaction never overlaps an unguarded command on its keys: a command increments its
//! slot, *then* reads `transactions`; a transaction increments `transactions`, *then* reads
//! every slot (all four accesses sequentially consistent, so they have one order that both
//! sides see). If the command read 0, its increment came before that read, which came before
//! the transaction's increment and so before the transaction's reads of the slots: the
//! transaction sees the command counted and waits until it is done before it takes its
//! stripes. If the command read a transaction, it uncounts itself and takes its stripes like
//! any guarded command. A command started after the transaction's increment always reads it.
//! Commands are synchronous (a blocking pop waits between its attempts, never inside one), so
//! the wait is as short as one command; no transaction starts inside a command, so a
//! transaction never waits for its own thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many stripes: one bit each of a `u64` mask.
const STRIPES: usize = 64;

/// How many slots count the unguarded commands (threads share them round-robin).
const SLOTS: usize = 16;

/// A counter on a cache line of its own: threads counting in different slots do not slow
/// each other down.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct Slot(AtomicUsize);

/// The stripes and the counts (see the module documentation).
pub(crate) struct Gate {
    stripes: [RwLock<()>; STRIPES],
    /// Transactions running or waiting to start: while not 0, commands take their stripes.
    transactions: AtomicUsize,
    /// Transactions started so far (wrapping): a read that sees it change looks again.
    started: AtomicUsize,
    /// Commands running without stripes, counted in their thread's slot.
    unguarded: [Slot; SLOTS],
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            stripes: std::array::from_fn(|_| RwLock::new(())),
            transactions: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            unguarded: std::array::from_fn(|_| Slot::default()),
        }
    }
}

/// A command's way in; released when dropped.
pub(crate) enum Shared<'a> {
    /// Counted in `unguarded`, no stripe held.
    Unguarded(&'a Slot),
    One(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    Many(#[allow(dead_code)] Vec<RwLockReadGuard<'a, ()>>),
}

impl Drop for Shared<'_> {
    fn drop(&mut self) {
        if let Shared::Unguarded(slot) = self {
            slot.0.fetch_sub(1, Ordering::Release);
        }
    }
}

/// A transaction's hold: its stripes exclusively; released when dropped.
pub(crate) struct Exclusive<'a> {
    _stripes: Vec<RwLockWriteGuard<'a, ()>>,
    transactions: &'a AtomicUsize,
}

impl Drop for Exclusive<'_> {
    fn drop(&mut self) {
        self.transactions.fetch_sub(1, Ordering::Release);
    }
}

thread_local! {
    /// This thread's slot of [`Gate::unguarded`].
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's slot: given round-robin on first use.
fn slot_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    SLOT.with(|slot| {
        let mut index = slot.get();
        if index == usize::MAX {
            index = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
            slot.set(index);
        }
        index
    })
}

impl Gate {
    /// Lets a command about the keys `keys` visits in (see the module documentation): a
    /// command without keys (`FLUSHDB`, `SCAN`) is about every key.
    #[inline]
    pub(crate) fn shared(&self, keys: impl FnOnce(&mut dyn FnMut(&str))) -> Shared<'_> {
        if self.transactions.load(Ordering::SeqCst) == 0 {
            let slot = &self.unguarded[slot_index()];
            slot.0.fetch_add(1, Ordering::SeqCst);
            if self.transactions.load(Ordering::SeqCst) == 0 {
                return Shared::Unguarded(slot);
            }
            slot.0.fetch_sub(1, Ordering::Release);
        }
        let mask = stripes(keys);
        if mask.count_ones() == 1 {
            return Shared::One(self.read(mask.trailing_zeros() as usize));
        }
        Shared::Many(indexes(mask).map(|index| self.read(index)).collect())
    }

    /// What `read` answers, a command that only reads the keys `keys` visits (and changes
    /// nothing but eviction hints): at once, not counted, while no transaction runs or starts
    /// meanwhile; else again through [`shared`](Self::shared) (see the module documentation).
    #[inline]
    pub(crate) fn read_only<R>(
        &self,
        keys: impl FnOnce(&mut dyn FnMut(&str)),
        read: impl Fn() -> R,
    ) -> R {
        let started = self.started.load(Ordering::SeqCst);
        if self.transactions.load(Ordering::SeqCst) == 0 {
            let answer = read();
            if self.started.load(Ordering::SeqCst) == started {
                return answer;
            }
        }
        let _shared = self.shared(keys);
        read()
    }

    /// Holds the stripes of the keys `keys` visits exclusively (in ascending order), once no
    /// unguarded command runs.
    pub(crate) fn exclusive(&self, keys: impl FnOnce(&mut dyn FnMut(&str))) -> Exclusive<'_> {
        self.transactions.fetch_add(1, Ordering::SeqCst);
        self.started.fetch_add(1, Ordering::SeqCst);
        for slot in &self.unguarded {
            while slot.0.load(Ordering::SeqCst) != 0 {
                std::thread::yield_now();
            }
        }
        let stripes = indexes(stripes(keys))
            .map(|index| {
                self.stripes[index]
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
            })
            .collect();
        Exclusive {
            _stripes: stripes,
            transactions: &self.transactions,
        }
    }

    fn read(&self, index: usize) -> RwLockReadGuard<'_, ()> {
        self.stripes[index]
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The stripes of the keys `keys` visits, as a mask; a command without keys (`FLUSHDB`,
/// `SCAN`) is about every key: every stripe.
fn stripes(keys: impl FnOnce(&mut dyn FnMut(&str))) -> u64 {
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

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_read_overlapped_by_a_transaction_runs_again_through_the_gate() {
        let gate = Gate::default();
        let runs = Cell::new(0);
        let answer = gate.read_only(
            |visit| visit("k"),
            || {
                runs.set(runs.get() + 1);
                if runs.get() == 1 {
                    // A transaction on the key starts (and ends) while the read runs: the read
                    // is not counted, so it does not wait for it.
                    drop(gate.exclusive(|visit| visit("k")));
                }
                runs.get()
            },
        );
        assert_eq!(answer, 2, "the first answer was dropped");
        // Nothing overlaps: one run.
        assert_eq!(gate.read_only(|visit| visit("k"), || 7), 7);
    }

    #[test]
    fn a_read_during_a_transaction_waits_for_its_end() {
        let gate = Gate::default();
        let exclusive = gate.exclusive(|visit| visit("k"));
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                gate.read_only(
                    |visit| visit("k"),
                    || gate.transactions.load(Ordering::SeqCst),
                )
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!reader.is_finished(), "the read went past the transaction");
            drop(exclusive);
            assert_eq!(reader.join().expect("the reader"), 0);
        });
    }
}
