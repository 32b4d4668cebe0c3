//! Multi-producer, single-consumer channels: many senders, one receiver, values in order.
//!
//! - [`channel`] is bounded: `send` waits while the channel is full (back-pressure), `try_send`
//!   never waits and reports a full channel;
//! - [`unbounded_channel`] never makes a sender wait (and so never pushes back).
//!
//! Both have the same receiving side, [`Receiver`] (also named [`UnboundedReceiver`]).
//!
//! ```
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = runtime::sync::mpsc::channel(8);
//! for i in 0..3 {
//!     let tx = tx.clone();
//!     runtime::spawn(async move { tx.send(i).await.unwrap() });
//! }
//! drop(tx);
//! let mut got = Vec::new();
//! while let Some(v) = rx.recv().await {
//!     got.push(v);
//! }
//! got.sort();
//! assert_eq!(got, [0, 1, 2]);
//! # });
//! ```
//!
//! **Cancellation.** A dropped `send` sends nothing and leaves the line of waiting senders; if a
//! slot had already been handed to it, the slot goes to the next sender. A dropped `recv` loses no
//! value (a value is taken out only by the poll that returns it).

mod bounded;
mod chan;
mod receiver;
mod unbounded;

use std::fmt;

pub use super::SendError;
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
    let chan = chan::Chan::new(Some(capacity));
    (Sender::new(chan.clone()), Receiver::new(chan))
}

/// A channel without a bound: sending never waits.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = runtime::sync::mpsc::unbounded_channel();
/// tx.send("hello").unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some("hello"));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = chan::Chan::new(None);
    (UnboundedSender::new(chan.clone()), Receiver::new(chan))
}

/// Why [`Sender::try_send`] did not send (the value comes back); see [`Sender`]'s example.
#[derive(PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel holds `capacity` values already (or senders wait for the room first).
    Full(T),
    /// The receiver is gone or closed the channel.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full"),
            TrySendError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use runtime::sync::mpsc::{self, TryRecvError};
///
/// let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing is queued right now.
    Empty,
    /// Nothing is queued and nothing more can come: every sender is gone, or the channel was
    /// closed.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Disconnected => f.write_str("channel disconnected"),
        }
    }
}

impl std::error::Error for TryRecvError {}
