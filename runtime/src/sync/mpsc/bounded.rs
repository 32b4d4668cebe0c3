//! [`Sender`]: the sending side of a bounded channel, which waits for room.

use std::fmt;
use std::rc::Rc;

use super::chan::{Chan, SenderRef};
use super::{SendError, TrySendError};
use crate::sync::TryAcquireError;

/// Sends values into a bounded channel; clone it for more producers.
///
/// ```
/// use runtime::sync::mpsc::{self, TrySendError};
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
    pub(super) fn new(chan: Rc<Chan<T>>) -> Sender<T> {
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
        if self.chan.slots().acquire_permits(1).await.is_err() {
            return Err(SendError(value));
        }
        // The slot now belongs to the value (the receiver gives it back when taking the value).
        self.chan.push(value).map_err(SendError)
    }

    /// Sends without waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.slots().try_acquire_permits(1) {
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
        self.chan.slots().available_permits()
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
