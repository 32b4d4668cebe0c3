//! A channel for exactly one value.
//!
//! ```
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, rx) = runtime::sync::oneshot::channel();
//! runtime::spawn(async move { tx.send(7).unwrap() });
//! assert_eq!(rx.await, Ok(7));
//! # });
//! ```
//!
//! The [`Receiver`] is itself the future; dropping it leaves no waker behind, and a value sent
//! after it is gone comes back to the sender.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::waiters::set_only_waiter;

struct Inner<T> {
    value: Option<T>,
    receiver: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

/// Sends the one value.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = runtime::sync::oneshot::channel::<u8>();
/// drop(rx);
/// assert!(tx.is_closed());
/// assert_eq!(tx.send(1), Err(1)); // nobody to receive it: the value comes back
/// # });
/// ```
pub struct Sender<T> {
    inner: Rc<RefCell<Inner<T>>>,
}

/// Awaits the one value: `Ok(value)`, or `Err(RecvError)` when the sender was dropped without
/// sending.
///
/// ```
/// use runtime::sync::oneshot::{self, RecvError};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = oneshot::channel::<u8>();
/// drop(tx);
/// assert_eq!(rx.await, Err(RecvError));
/// # });
/// ```
pub struct Receiver<T> {
    inner: Rc<RefCell<Inner<T>>>,
}

/// The sender was dropped without sending (see [`Receiver`]'s example).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use runtime::sync::oneshot::{self, TryRecvError};
///
/// let (tx, mut rx) = oneshot::channel();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.send(5).unwrap();
/// assert_eq!(rx.try_recv(), Ok(5));
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Not sent yet.
    Empty,
    /// The sender was dropped without sending (or the value was already received).
    Closed,
}

/// A new oneshot channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Rc::new(RefCell::new(Inner {
        value: None,
        receiver: None,
        sender_gone: false,
        receiver_gone: false,
    }));
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
        let waker = {
            let mut inner = self.inner.borrow_mut();
            if inner.receiver_gone {
                return Err(value);
            }
            inner.value = Some(value);
            inner.receiver.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver was dropped.
    pub fn is_closed(&self) -> bool {
        self.inner.borrow().receiver_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            inner.sender_gone = true;
            inner.receiver.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The value if it was sent, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut inner = self.inner.borrow_mut();
        match inner.value.take() {
            Some(value) => Ok(value),
            None if inner.sender_gone => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.try_recv() {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError)),
            Err(TryRecvError::Empty) => {
                set_only_waiter(&mut self.inner.borrow_mut().receiver, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Taken out and dropped with the channel unborrowed: a value's `Drop` may use it.
        let (value, waker) = {
            let mut inner = self.inner.borrow_mut();
            inner.receiver_gone = true;
            (inner.value.take(), inner.receiver.take())
        };
        drop((value, waker));
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
        f.debug_struct("Receiver")
            .field("sent", &self.inner.borrow().value.is_some())
            .finish()
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("not sent yet"),
            TryRecvError::Closed => f.write_str("sender dropped without sending"),
        }
    }
}

impl std::error::Error for TryRecvError {}
