//! The part of an executor other threads may touch: the remote run queue and the unparker.
//!
//! A wake from a foreign thread pushes the task here and, unless a wake-up is already pending,
//! interrupts the owner's driver (an eventfd write). The `notified` flag makes a burst of remote
//! wakes cost one eventfd write, not one each.
//!
//! **No lost wake-ups:** before the owner parks it clears the flag, then looks at the queue; a remote
//! waker pushes, then sets the flag. A `SeqCst` fence sits between the two steps on each side, so
//! whichever fence comes first in the single total order, either the owner sees the task, or the
//! waker sees the flag cleared and writes the eventfd. [`ParkFlag`] holds that protocol alone so
//! that loom can check it (`cargo test` with `RUSTFLAGS="--cfg loom"`).
//!
//! **No entry left in a closed queue:** shutdown sets `closed`, then drains the queue; a remote
//! waker pushes, then looks at `closed` again and drains the queue itself if it is set. The same
//! store/fence/load pattern as above makes sure one of the two drains sees the entry. Without the
//! fences that pattern leans on the queue's internals (an *empty* answer from a lock-free queue
//! promises no ordering), and a lost entry would be a leak that nothing ever frees: the entry
//! holds its task, the task holds this `Shared`, and this `Shared` holds the queue.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

#[cfg(all(test, loom))]
use loom::sync::atomic::{fence, AtomicBool, Ordering::SeqCst};
#[cfg(not(all(test, loom)))]
use std::sync::atomic::{fence, AtomicBool, Ordering::SeqCst};

use crate::driver::Unparker;
use crate::task::Notified;

/// The remote run queue: lock-free, so a wake from another thread takes no lock. The loom model
/// checks swap in a stand-in whose orderings loom can explore (`loom_queue.rs`).
#[cfg(not(all(test, loom)))]
type RemoteQueue = crossbeam_queue::SegQueue<Notified>;
#[cfg(all(test, loom))]
type RemoteQueue = super::loom_queue::LoomQueue<Notified>;

pub(crate) struct Shared {
    remote: RemoteQueue,
    unparker: Unparker,
    notified: ParkFlag,
    /// The runtime shut down: further remote wakes are dropped.
    closed: AtomicBool,
    /// The owner spins for remote work (see `runtime.rs`, "The spin before a park"): wakers then
    /// note their CPU in `waker_cpu`. Both are hints, never part of a wake-up's delivery (hence
    /// `std`'s atomics, also under loom).
    spinning: std::sync::atomic::AtomicBool,
    /// The CPU of the last waker that found the owner spinning; `usize::MAX`: none.
    waker_cpu: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(unparker: Unparker) -> Shared {
        Shared {
            remote: RemoteQueue::new(),
            unparker,
            notified: ParkFlag::new(),
            closed: AtomicBool::new(false),
            spinning: std::sync::atomic::AtomicBool::new(false),
            waker_cpu: AtomicUsize::new(usize::MAX),
        }
    }

    /// A wake from a thread that is not the owner's.
    pub(crate) fn push_remote(&self, task: Notified) {
        if self.closed.load(SeqCst) {
            return; // dropping the entry releases its reference
        }
        self.remote.push(task);
        // Pairs with the fence in `close`: either the owner's drain sees our entry, or we see
        // `closed` below (see "No entry left in a closed queue" above).
        fence(SeqCst);
        if self.closed.load(SeqCst) {
            // Shutdown may have drained the queue before our push: drain it ourselves so no
            // reference is left behind (the owner already consumed every task's stage).
            while let Some(task) = self.remote.pop() {
                drop(task);
            }
            return;
        }
        self.notify();
    }

    /// Makes sure the owner's driver wakes up (or will not go to sleep).
    pub(crate) fn notify(&self) {
        // Pool threads are not noted: they spin and yield after a job themselves, so sharing a
        // CPU with one does not stall it (see `runtime.rs`, "The spin before a park").
        if self.spinning.load(Relaxed) && !crate::blocking::on_pool_thread() {
            self.waker_cpu.store(crate::runtime::current_cpu(), Relaxed);
        }
        if self.notified.should_unpark() {
            self.unparker.unpark();
        }
    }

    /// The owner starts or stops spinning for remote work.
    pub(crate) fn set_spinning(&self, spinning: bool) {
        self.spinning.store(spinning, Relaxed);
    }

    /// The CPU of the last waker that found the owner spinning (`usize::MAX`: none), forgotten
    /// once read.
    pub(crate) fn take_waker_cpu(&self) -> usize {
        self.waker_cpu.swap(usize::MAX, Relaxed)
    }

    pub(crate) fn pop_remote(&self) -> Option<Notified> {
        self.remote.pop()
    }

    /// Called by the owner right before it blocks in the driver: returns true when work arrived
    /// meanwhile (then it must not block).
    pub(crate) fn prepare_park(&self) -> bool {
        self.notified.before_park();
        !self.remote.is_empty()
    }

    /// The owner is awake again: remote wakers need not write the eventfd. Returns whether a
    /// remote waker signalled since [`prepare_park`](Self::prepare_park) (meaningless without it:
    /// the flag is then set already).
    pub(crate) fn unparked(&self) -> bool {
        self.notified.after_park()
    }

    /// Whether tasks woken from other threads wait in the remote queue (a hint: the queue may
    /// change at once).
    pub(crate) fn has_remote(&self) -> bool {
        !self.remote.is_empty()
    }

    /// The runtime shuts down: from now on remote wakes release their entry instead of queueing
    /// it. The owner drains the queue *after* this call.
    pub(crate) fn close(&self) {
        self.closed.store(true, SeqCst);
        // Pairs with the fence in `push_remote`.
        fence(SeqCst);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("remote_len", &self.remote.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The unpark handshake between the owner and remote wakers.
///
/// `true` means "an unpark is pending, or the owner is awake and will look at the queue anyway".
pub(crate) struct ParkFlag(AtomicBool);

impl ParkFlag {
    pub(crate) fn new() -> ParkFlag {
        ParkFlag(AtomicBool::new(true))
    }

    /// Called by a remote waker *after* it pushed its task: must it interrupt the driver?
    pub(crate) fn should_unpark(&self) -> bool {
        fence(SeqCst);
        !self.0.swap(true, SeqCst)
    }

    /// Called by the owner before it looks at the queue one last time and blocks.
    pub(crate) fn before_park(&self) {
        self.0.store(false, SeqCst);
        fence(SeqCst);
    }

    /// Called by the owner once it is awake again. Returns whether a remote waker set the flag
    /// since [`before_park`](Self::before_park).
    pub(crate) fn after_park(&self) -> bool {
        self.0.swap(true, SeqCst)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::ParkFlag;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;

    /// A remote wake racing the owner's decision to park is never lost: if the owner saw an empty
    /// queue, the waker unparked it.
    #[test]
    fn remote_wake_is_never_lost() {
        loom::model(|| {
            let flag = Arc::new(ParkFlag::new());
            let queue = Arc::new(AtomicUsize::new(0)); // stands in for the remote queue's length
            let unparks = Arc::new(AtomicUsize::new(0));
            // the owner was awake; now it goes to park
            let waker = {
                let (flag, queue, unparks) = (flag.clone(), queue.clone(), unparks.clone());
                loom::thread::spawn(move || {
                    queue.fetch_add(1, Ordering::Release);
                    if flag.should_unpark() {
                        unparks.fetch_add(1, Ordering::Relaxed);
                    }
                })
            };
            flag.before_park();
            let saw_task = queue.load(Ordering::Acquire) > 0;
            waker.join().unwrap();
            if !saw_task {
                assert_eq!(unparks.load(Ordering::Relaxed), 1, "lost wake-up");
            }
        });
    }
}
