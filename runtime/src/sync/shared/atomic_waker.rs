//! [`AtomicWaker`]: the slot where a channel's one receiver leaves its waker, filled by the
//! receiver and emptied by any sender, from any thread, without a lock.
//!
//! A `Mutex<Option<Waker>>` would do, but then every send would take the lock just to see
//! whether the receiver waits. Here the slot is guarded by two bits of one atomic word, and a
//! sender that finds it busy does not wait for it: it leaves the wake-up to whoever holds it.
//!
//! # States
//!
//! | state | meaning | may touch the waker |
//! |---|---|---|
//! | `IDLE` | the slot is free (empty, or holding the receiver's waker) | nobody |
//! | `REGISTERING` | the receiver is storing its waker | the receiver |
//! | `REGISTERING \| WAKING` | a wake came while the receiver stores: it must wake itself when done | the receiver |
//! | `WAKING` | someone is taking the waker out, to wake it or to forget it | that one taker |
//!
//! Only the receiver registers, one call at a time (the channels' receiving methods take
//! `&mut self`), so `REGISTERING` is never contended; any number of threads may `take`.
//!
//! # No lost wake-up
//!
//! The receiver registers, *then* looks for a value; a sender makes its value visible, *then*
//! calls [`wake`](AtomicWaker::wake). Every change of the state word is a read-modify-write, so
//! they happen one after another in a single order, and a sender's `fetch_or(WAKING)` lands:
//! - *before the receiver's first step:* the receiver's `compare_exchange` can succeed only
//!   after the sender cleared `WAKING` with a release store, which it reads with acquire: the
//!   value is visible to the look that follows, so the receiver finds it (if `WAKING` is still
//!   set, the receiver wakes its own waker instead and will look again);
//! - *while the receiver stores its waker:* the receiver's release step fails, sees `WAKING`,
//!   and wakes the waker it just stored;
//! - *after the receiver's release step:* the sender finds `IDLE`, takes the stored waker and
//!   wakes it.
//!
//! The loom models in `loom_tests.rs` check this together with the channels around it.

use std::fmt;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
use std::task::Waker;

use super::primitives::{spin_loop, AtomicUsize, UnsafeCell};
use crate::sync::waiters::set_only_waiter;

const IDLE: usize = 0;
const REGISTERING: usize = 0b01;
const WAKING: usize = 0b10;

/// One waker slot, for the one task that waits on a channel's receiving side.
pub(super) struct AtomicWaker {
    state: AtomicUsize,
    /// # Invariant
    /// Touched only by the holder of `REGISTERING` or `WAKING` (see the module's table).
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cell is touched by one thread at a time, the one that moved the state word from
// `IDLE` to `REGISTERING` or `WAKING` (the field's invariant), with acquire/release on that word
// ordering one holder's accesses before the next's. What it holds, a `Waker`, is `Send + Sync`.
unsafe impl Sync for AtomicWaker {}

impl AtomicWaker {
    /// An empty slot.
    pub(super) fn new() -> AtomicWaker {
        AtomicWaker {
            state: AtomicUsize::new(IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    /// Stores `waker` for the next `wake` (replacing the one stored, unless both wake the same
    /// task). Only the receiver calls this, never twice at once. The caller must look for what
    /// it waits for *after* this returns.
    pub(super) fn register(&self, waker: &Waker) {
        match self
            .state
            .compare_exchange(IDLE, REGISTERING, Acquire, Acquire)
        {
            Ok(_) => {
                // SAFETY: `REGISTERING` is ours: no other thread touches the cell until we clear it.
                self.waker
                    .with_mut(|slot| set_only_waiter(unsafe { &mut *slot }, waker));
                if let Err(actual) = self
                    .state
                    .compare_exchange(REGISTERING, IDLE, AcqRel, Acquire)
                {
                    // A wake came meanwhile and could not take the waker: it is ours to wake.
                    debug_assert_eq!(actual, REGISTERING | WAKING);
                    // SAFETY: the state is still `REGISTERING | WAKING`, and only we clear it.
                    let stored = self.waker.with_mut(|slot| unsafe { (*slot).take() });
                    self.state.swap(IDLE, AcqRel);
                    if let Some(stored) = stored {
                        stored.wake();
                    }
                }
            }
            // A taker is emptying the slot, to wake the waker stored before (or to forget it):
            // this waker is woken instead, so the receiver polls again and registers again. The
            // taker is a few instructions from done: give it the moment.
            Err(WAKING) => {
                waker.wake_by_ref();
                spin_loop();
            }
            Err(state) => unreachable!("two registrations at once (state {state:#b})"),
        }
    }

    /// Takes the stored waker out, or `None` when there is none, or when another thread holds
    /// the slot (it then wakes the receiver itself, or is the receiver).
    pub(super) fn take(&self) -> Option<Waker> {
        match self.state.fetch_or(WAKING, AcqRel) {
            IDLE => {
                // SAFETY: the state went from `IDLE` to `WAKING`: the cell is ours until we
                // clear `WAKING`.
                let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
                self.state.fetch_and(!WAKING, Release);
                waker
            }
            _ => None,
        }
    }

    /// Wakes the stored waker, if any (it is taken out: one wake per registration).
    pub(super) fn wake(&self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }
}

impl fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicWaker").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    use super::AtomicWaker;

    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn one_wake_per_registration_and_the_latest_waker_wins() {
        let slot = AtomicWaker::new();
        slot.wake(); // nothing registered: nothing happens
        let (old, new) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
        slot.register(&Waker::from(old.clone()));
        slot.register(&Waker::from(new.clone()));
        slot.wake();
        slot.wake(); // taken by the first wake
        assert_eq!((old.0.load(SeqCst), new.0.load(SeqCst)), (0, 1));
        slot.register(&Waker::from(new.clone()));
        assert!(slot.take().is_some(), "a forgotten waker is never woken");
        slot.wake();
        assert_eq!(new.0.load(SeqCst), 1);
    }
}
