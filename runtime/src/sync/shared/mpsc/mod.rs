//! Multi-producer, single-consumer channels between threads: many senders, one receiver, values
//! in order per sender. The same API as [`sync::mpsc`](crate::sync::mpsc), for values that are
//! `Send`, plus `blocking_send`/`blocking_recv` for threads that run no runtime.
//!
//! - [`channel`] is bounded: `send` waits while the channel is full (back-pressure), `try_send`
//!   never waits and reports a full channel;
//! - [`unbounded_channel`] never makes a sender wait (and so never pushes back).
//!
//! Both have the same receiving side, [`Receiver`] (also named [`UnboundedReceiver`]).
//!
//! ```
//! use runtime::sync::shared::mpsc;
//!
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = mpsc::channel(8);
//! // A plain thread produces; this runtime's task consumes.
//! let producer = std::thread::spawn(move || {
//!     for i in 0..3 {
//!         tx.blocking_send(i).unwrap();
//!     }
//! });
//! let mut got = Vec::new();
//! while let Some(v) = rx.recv().await {
//!     got.push(v);
//! }
//! assert_eq!(got, [0, 1, 2]);
//! producer.join().unwrap();
//! # });
//! ```
//!
//! **How it works.** Values go through a lock-free queue (`crossbeam_queue::SegQueue`); one
//! atomic word counts them and says whether the channel is finished; the receiver waits in an
//! atomic waker slot. A send is therefore a `compare_exchange`, a push and, when the receiver
//! waits, a wake: no lock. A bounded channel adds its free room, an atomic count of free slots
//! with a locked list of the senders waiting for one: the lock is taken only when a sender must
//! wait, or to hand a freed slot to one that does. See `chan.rs` and `slots.rs`.
//!
//! **Cancellation**, as with the local channel: a dropped `send` sends nothing and leaves the
//! line of waiting senders; if a slot had already been handed to it, the slot goes to the next
//! sender. A dropped `recv` loses no value (a value is taken out only by the poll that returns
//! it) and leaves no waker behind.

mod bounded;
mod chan;
mod receiver;
mod slots;
mod unbounded;

use std::sync::Arc;

pub use crate::sync::mpsc::{TryRecvError, TrySendError};
pub use crate::sync::SendError;
pub use bounded::Sender;
pub use receiver::Receiver;
pub use unbounded::UnboundedSender;

/// The receiving side of an [`unbounded_channel`]: the same type as a bounded channel's.
pub type UnboundedReceiver<T> = Receiver<T>;

/// A channel holding at most `capacity` values.
///
/// # Panics
/// If `capacity` is 0 (a channel must hold at least one value) or exceeds
/// [`Semaphore::MAX_PERMITS`](crate::sync::Semaphore::MAX_PERMITS).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc channel capacity must be at least 1");
    let chan = Arc::new(chan::Chan::new(Some(capacity)));
    (Sender::new(chan.clone()), Receiver::new(chan))
}

/// A channel without a bound: sending never waits.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = runtime::sync::shared::mpsc::unbounded_channel();
/// std::thread::spawn(move || tx.send("hello").unwrap()).join().unwrap();
/// assert_eq!(rx.recv().await, Some("hello"));
/// assert_eq!(rx.recv().await, None); // the sender is gone
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(chan::Chan::new(None));
    (UnboundedSender::new(chan.clone()), Receiver::new(chan))
}
