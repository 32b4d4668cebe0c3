//! Synchronisation between the tasks of one worker thread: channels, locks, a semaphore, a
//! notification.
//!
//! Tasks of one runtime share a thread, so these primitives need no atomics or locks: their state
//! is a `RefCell` and a waiting task leaves its waker. They are `!Send` (to talk to another thread,
//! use a `Send` channel whose receiver wakes through a `Waker`: runtime wakers work from any
//! thread). The names and methods are tokio's, so code moves over with few changes.
//!
//! | need | use |
//! |---|---|
//! | many producers, one consumer | [`mpsc::channel`] (bounded), [`mpsc::unbounded_channel`] |
//! | one value, once | [`oneshot`] |
//! | every receiver gets every value | [`broadcast`] (a ring; laggards learn what they missed) |
//! | receivers see the latest value | [`watch`] |
//! | "something happened" | [`Notify`] |
//! | exclusive access across `.await` | [`Mutex`], [`RwLock`] |
//! | at most N at a time | [`Semaphore`] |
//!
//! Every primitive that makes a task wait keeps its waiters in one kind of list
//! (`waiters.rs`): first come, first served, and **cancel-safe** — a future dropped while it
//! waits leaves no waker behind, and one dropped after it was handed something (a permit, a
//! notification, the lock) passes it on to the next waiter. `Mutex`, `RwLock` and the bounded
//! `mpsc` are built on [`Semaphore`], so they share its fairness and its cancellation.

pub mod broadcast;
mod broadcast_ring;
mod error;
pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
mod rwlock;
mod semaphore;
pub mod shared;
mod waiters;
pub mod watch;

pub use error::{SendError, TryLockError};
pub use mutex::{Mutex, MutexGuard};
pub use notify::{Notified, Notify};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
