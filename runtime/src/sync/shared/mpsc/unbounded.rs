//! [`UnboundedSender`]: the sending side of an unbounded channel, which never waits.

use std::fmt;
use std::sync::Arc;

use super::chan::{Chan, SenderRef};
use super::SendError;

/// Sends values into an unbounded channel from any thread; clone it for more producers.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = runtime::sync::shared::mpsc::unbounded_channel();
/// let producers: Vec<_> = (0..2)
///     .map(|p| {
///         let tx = tx.clone();
///         std::thread::spawn(move || (0..500).for_each(|i| tx.send((p, i)).unwrap()))
///     })
///     .collect();
/// drop(tx);
/// let mut next = [0, 0];
/// while let Some((p, i)) = rx.recv().await {
///     assert_eq!(i, next[p]); // in order, per producer
///     next[p] += 1;
/// }
/// assert_eq!(next, [500, 500]);
/// producers.into_iter().for_each(|p| p.join().unwrap());
/// # });
/// ```
pub struct UnboundedSender<T> {
    chan: SenderRef<T>,
}

impl<T> UnboundedSender<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> UnboundedSender<T> {
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
