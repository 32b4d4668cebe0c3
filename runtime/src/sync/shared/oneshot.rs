//! A channel for exactly one value, between threads. The same API as
//! [`sync::oneshot`](crate::sync::oneshot), plus [`Receiver::blocking_recv`].
//!
//! ```
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, rx) = runtime::sync::shared::oneshot::channel();
//! std::thread::spawn(move || tx.send(7).unwrap());
//! assert_eq!(rx.await, Ok(7));
//! # });
//! ```
//!
//! The [`Receiver`] is itself the future; dropping it leaves no waker behind, and a value sent
//! after it is gone comes back to the sender.
//!
//! # How it works
//!
//! One atomic word holds three flags, each set once: `VALUE_SENT`, `SENDER_GONE` and
//! `RECEIVER_GONE`. The value sits in a cell that belongs to the sender until `VALUE_SENT` is
//! set, and to the receiver after that, with one exception: a sender that finds
//! `RECEIVER_GONE` when it sets `VALUE_SENT` takes its value back (the receiver, gone before the
//! value came, will never look). No lock: a send is one write and one `fetch_or`, and the
//! receiver waits in an atomic waker slot, like the `mpsc` receiver.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::Arc;
use std::task::{Context, Poll};

use super::atomic_waker::AtomicWaker;
use super::blocking::block_on;
use super::primitives::{AtomicUsize, UnsafeCell};

pub use crate::sync::oneshot::{RecvError, TryRecvError};

const VALUE_SENT: usize = 0b001;
const SENDER_GONE: usize = 0b010;
const RECEIVER_GONE: usize = 0b100;

struct Inner<T> {
    state: AtomicUsize,
    /// # Invariant
    /// Touched by the sender only before it sets `VALUE_SENT`, or after, if `RECEIVER_GONE` was
    /// already set; by the receiver only once it has seen `VALUE_SENT`.
    value: UnsafeCell<Option<T>>,
    receiver: AtomicWaker,
}

// SAFETY: the value moves between threads (hence `T: Send`); the field's invariant gives the
// cell one user at a time, each hand-over a release `fetch_or`, read with acquire, of the flag
// that says whose turn it is: `VALUE_SENT` to the receiver, `RECEIVER_GONE` back to the sender.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Sends the one value, from any thread.
///
/// ```
/// let (tx, rx) = runtime::sync::shared::oneshot::channel::<u8>();
/// drop(rx);
/// assert!(tx.is_closed());
/// assert_eq!(tx.send(1), Err(1)); // nobody to receive it: the value comes back
/// ```
pub struct Sender<T> {
    inner: Arc<Inner<T>>,
}

/// Awaits the one value: `Ok(value)`, or `Err(RecvError)` when the sender was dropped without
/// sending.
///
/// ```
/// use runtime::sync::shared::oneshot::{self, RecvError};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = oneshot::channel::<u8>();
/// std::thread::spawn(move || drop(tx));
/// assert_eq!(rx.await, Err(RecvError));
/// # });
/// ```
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

/// A new oneshot channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        receiver: AtomicWaker::new(),
    });
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

impl<T> Sender<T> {
    /// Sends `value`; gives it back when the receiver is gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let inner = &self.inner;
        // SAFETY: `VALUE_SENT` is not set (`send` takes the one sender): the cell is ours.
        inner.value.with_mut(|slot| unsafe { *slot = Some(value) });
        let state = inner.state.fetch_or(VALUE_SENT, AcqRel);
        if state & RECEIVER_GONE != 0 {
            // SAFETY: the receiver went before the value came: it never touches the cell again.
            let value = inner.value.with_mut(|slot| unsafe { (*slot).take() });
            return Err(value.expect("the value was just stored"));
        }
        inner.receiver.wake();
        Ok(())
    }

    /// Whether the receiver was dropped.
    pub fn is_closed(&self) -> bool {
        self.inner.state.load(Acquire) & RECEIVER_GONE != 0
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let state = self.inner.state.fetch_or(SENDER_GONE, AcqRel);
        if state & VALUE_SENT == 0 {
            // Dropped without sending: a waiting receiver must learn it.
            self.inner.receiver.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The value if it was sent, without waiting.
    ///
    /// ```
    /// use runtime::sync::shared::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let state = self.inner.state.load(Acquire);
        if state & VALUE_SENT != 0 {
            // SAFETY: we saw `VALUE_SENT` (acquire) and are not gone: the cell is ours.
            let value = self.inner.value.with_mut(|slot| unsafe { (*slot).take() });
            // `None`: the value was received already.
            value.ok_or(TryRecvError::Closed)
        } else if state & SENDER_GONE != 0 {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Waits for the value on a thread that runs no runtime.
    ///
    /// # Panics
    /// When called on a thread running a runtime (it would stop that runtime): `.await` the
    /// receiver there.
    ///
    /// ```
    /// let (tx, rx) = runtime::sync::shared::oneshot::channel();
    /// let waiter = std::thread::spawn(move || rx.blocking_recv());
    /// tx.send("done").unwrap();
    /// assert_eq!(waiter.join().unwrap(), Ok("done"));
    /// ```
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        block_on(self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcome = match self.try_recv() {
            Err(TryRecvError::Empty) => {
                self.inner.receiver.register(cx.waker());
                // Look again: a value sent before the waker was in place would not wake us.
                self.try_recv()
            }
            outcome => outcome,
        };
        match outcome {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError)),
            Err(TryRecvError::Empty) => Poll::Pending,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let state = self.inner.state.fetch_or(RECEIVER_GONE, AcqRel);
        let value = if state & VALUE_SENT != 0 {
            // SAFETY: we saw `VALUE_SENT` (acquire): the cell is ours.
            self.inner.value.with_mut(|slot| unsafe { (*slot).take() })
        } else {
            None
        };
        // Dropped here rather than with the last handle: the receiving side owns the value.
        drop((value, self.inner.receiver.take()));
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.load(Acquire);
        f.debug_struct("Receiver")
            .field("sent", &(state & VALUE_SENT != 0))
            .finish()
    }
}
