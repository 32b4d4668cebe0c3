//! [`Receiver`]: the one receiving side of a channel, bounded or not.

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::super::blocking::block_on;
use super::chan::Chan;
use super::TryRecvError;

/// Receives the values of a channel, in the order each sender sent them. It may move to another
/// thread, and be used there.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = runtime::sync::shared::mpsc::channel(2);
/// tx.try_send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert!(rx.try_recv().is_err());
/// tx.send(2).await.unwrap();
/// assert_eq!(rx.recv().await, Some(2));
/// # });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Receiver<T> {
        Receiver { chan }
    }

    /// The next value, or `None` once every value sent was received and every sender is gone
    /// (or the channel was closed).
    ///
    /// Cancel-safe: when the future is dropped before it completes, no value was taken, and no
    /// waker is left behind.
    pub async fn recv(&mut self) -> Option<T> {
        // Whether it completes or is dropped, a waker it left must not be woken later. (One that
        // takes a value at once left none: it saves the two atomic operations of forgetting.)
        struct ForgetWaker<'a, T> {
            chan: &'a Chan<T>,
            left_waker: bool,
        }
        impl<T> Drop for ForgetWaker<'_, T> {
            fn drop(&mut self) {
                if self.left_waker {
                    self.chan.forget_receiver_waker();
                }
            }
        }
        let mut forget = ForgetWaker {
            chan: &self.chan,
            left_waker: false,
        };
        poll_fn(|cx| forget.chan.poll_recv(cx, &mut forget.left_waker)).await
    }

    /// Receives on a thread that runs no runtime, sleeping until a value comes (or the channel
    /// is finished: `None`).
    ///
    /// # Panics
    /// When called on a thread running a runtime (it would stop that runtime): use
    /// [`recv`](Receiver::recv) there.
    ///
    /// ```
    /// let (tx, mut rx) = runtime::sync::shared::mpsc::unbounded_channel();
    /// let consumer = std::thread::spawn(move || rx.blocking_recv());
    /// runtime::Runtime::new().unwrap().block_on(async move {
    ///     tx.send("from a task").unwrap();
    /// });
    /// assert_eq!(consumer.join().unwrap(), Some("from a task"));
    /// ```
    pub fn blocking_recv(&mut self) -> Option<T> {
        block_on(self.recv())
    }

    /// Polls for the next value, as `recv` does.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx, &mut false)
    }

    /// A value if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Stops the channel: sends fail from now on, and waiting senders are woken with an error.
    /// Values already sent can still be received.
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// How many values were sent and not yet received.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is waiting to be received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.close_and_drain();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .finish()
    }
}
