//! [`Sender`]: the sending side of a bounded channel, which waits for room.

use std::fmt;
use std::sync::Arc;

use super::super::blocking::block_on;
use super::chan::{Chan, SenderRef};
use super::{SendError, TrySendError};
use crate::sync::TryAcquireError;

/// Sends values into a bounded channel from any thread; clone it for more producers.
///
/// ```
/// use runtime::sync::shared::mpsc::{self, TrySendError};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::channel(1);
/// tx.send("first").await.unwrap();
/// // Full: `try_send` says so, `send` would wait for `recv` to make room.
/// assert_eq!(tx.try_send("second"), Err(TrySendError::Full("second")));
/// assert_eq!(rx.recv().await, Some("first"));
/// tx.send("second").await.unwrap();
/// # });
/// ```
pub struct Sender<T> {
    chan: SenderRef<T>,
}

impl<T> Sender<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Sender<T> {
        Sender {
            chan: SenderRef::first(chan),
        }
    }

    /// Sends, waiting for room while the channel is full. Senders that wait are served in the
    /// order they started waiting. `Err` gives the value back when the receiver is gone.
    ///
    /// When the future is dropped before it completes, nothing was sent (and the value is dropped
    /// with it).
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.chan.slots().acquire().await.is_err() {
            return Err(SendError(value));
        }
        // The slot now belongs to the value (the receiver gives it back when taking the value).
        self.chan.push(value).map_err(SendError)
    }

    /// Sends from a thread that runs no runtime, sleeping while the channel is full.
    ///
    /// # Panics
    /// When called on a thread running a runtime (it would stop that runtime): use
    /// [`send`](Sender::send) there.
    ///
    /// ```
    /// let (tx, mut rx) = runtime::sync::shared::mpsc::channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     tx.blocking_send(1).unwrap();
    ///     tx.blocking_send(2).unwrap(); // sleeps until the first is received
    /// });
    /// runtime::Runtime::new().unwrap().block_on(async {
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, Some(2));
    /// });
    /// producer.join().unwrap();
    /// ```
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        block_on(self.send(value))
    }

    /// Sends without waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.slots().try_acquire() {
            Ok(()) => self.chan.push(value).map_err(TrySendError::Closed),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Whether the receiver is gone or closed the channel.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// How many values could be sent now without waiting.
    pub fn capacity(&self) -> usize {
        self.chan.slots().available()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .finish()
    }
}
