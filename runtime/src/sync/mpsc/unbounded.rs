//! [`UnboundedSender`]: the sending side of an unbounded channel, which never waits.

use std::fmt;
use std::rc::Rc;

use super::chan::{Chan, SenderRef};
use super::SendError;

/// Sends values into an unbounded channel; clone it for more producers.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = runtime::sync::mpsc::unbounded_channel();
/// for i in 0..1000 {
///     tx.send(i).unwrap(); // never waits
/// }
/// assert_eq!(rx.len(), 1000);
/// assert_eq!(rx.recv().await, Some(0));
/// # });
/// ```
pub struct UnboundedSender<T> {
    chan: SenderRef<T>,
}

impl<T> UnboundedSender<T> {
    pub(super) fn new(chan: Rc<Chan<T>>) -> UnboundedSender<T> {
        UnboundedSender {
            chan: SenderRef::first(chan),
        }
    }

    /// Sends without waiting. `Err` gives the value back when the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value).map_err(SendError)
    }

    /// Whether the receiver is gone or closed the channel.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender").finish_non_exhaustive()
    }
}
