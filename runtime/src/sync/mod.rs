//! Synchronisation between the tasks of one worker thread: channels, locks, a semaphore, a
//! notification.
//!
//! Tasks of one runtime share a thread, so these primitives need no atomics or locks: their state
//! is a `RefCell` and a waiting task leaves its waker. They are `!Send` (to talk to another thread,
//! use a `Send` channel whose receiver wakes through a `Waker`: runtime wakers work from any
//! thread).
//!
//! | need | use |
//! |---|---|
//! | many producers, one consumer | [`mpsc::channel`] (bounded), [`mpsc::unbounded_channel`] |
//! | one value, once | [`oneshot`] |
//!
//! Every primitive that makes a task wait keeps its waiters in one kind of list
//! (`waiters.rs`): first come, first served, and **cancel-safe** — a future dropped while it
//! waits leaves no waker behind, and one dropped after it was handed something (a permit, a
//! notification) passes it on to the next waiter.

mod error;
pub mod mpsc;
pub mod oneshot;
mod semaphore;
mod waiters;

pub use error::SendError;
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
