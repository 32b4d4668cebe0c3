//! The atomics, the lock and the cell the channels of this module are built from: std's, or
//! loom's while the loom models run (`--cfg loom`), so that loom sees every access and tries
//! every interleaving of them. The same switch as `executor/shared.rs` and `task/state.rs`.
//!
//! `Notify` uses std's types directly: its `new` is a `const fn` (so a `Notify` can be a
//! `static`), which loom's types cannot offer.

#[cfg(all(test, loom))]
pub(super) use loom::cell::UnsafeCell;
#[cfg(all(test, loom))]
pub(super) use loom::sync::{atomic::AtomicUsize, Mutex, MutexGuard};

#[cfg(not(all(test, loom)))]
pub(super) use std::sync::{atomic::AtomicUsize, Mutex, MutexGuard};

/// Tells the processor (or loom's scheduler) that this thread waits for another to move on.
#[cfg(all(test, loom))]
pub(super) use loom::thread::yield_now as spin_loop;
#[cfg(not(all(test, loom)))]
pub(super) use std::hint::spin_loop;

/// std's `UnsafeCell` with loom's interface: access only inside `with_mut`, which names the
/// moment the cell is touched (loom checks that no two such moments race).
#[cfg(not(all(test, loom)))]
#[derive(Debug, Default)]
pub(super) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(all(test, loom)))]
impl<T> UnsafeCell<T> {
    pub(super) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer to the contents; the caller's protocol decides who may write.
    pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Locks `mutex`. A panic under one of these locks (a user's `Clone`, say) leaves the state
/// consistent, since every change is complete before user code runs, so poisoning is ignored.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
