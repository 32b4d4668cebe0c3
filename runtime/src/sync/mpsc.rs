//! A bounded multi-producer, single-consumer channel.
//!
//! `send` waits while the channel is full (back-pressure); `try_send` never waits and reports a full
//! channel, which is how a server notices a consumer that stopped keeping up (see
//! `examples/chat.rs`).
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

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::Closed;

struct Inner<T> {
    queue: VecDeque<T>,
    capacity: usize,
    receiver: Option<Waker>,
    /// Senders waiting for room, woken one per freed slot.
    senders: VecDeque<Waker>,
    sender_count: usize,
    receiver_gone: bool,
}

/// The sending side; clone it for more producers.
pub struct Sender<T> {
    inner: Rc<RefCell<Inner<T>>>,
}

/// The receiving side.
pub struct Receiver<T> {
    inner: Rc<RefCell<Inner<T>>>,
}

/// Why `try_send` did not send (the value comes back).
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel holds `capacity` values already.
    Full(T),
    /// The receiver is gone.
    Closed(T),
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full"),
            TrySendError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for TrySendError<T> {}

/// A channel holding at most `capacity` values (at least 1).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let capacity = capacity.max(1);
    let inner = Rc::new(RefCell::new(Inner {
        queue: VecDeque::with_capacity(capacity.min(1024)),
        capacity,
        receiver: None,
        senders: VecDeque::new(),
        sender_count: 1,
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
    /// Sends without waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            if inner.receiver_gone {
                return Err(TrySendError::Closed(value));
            }
            if inner.queue.len() >= inner.capacity {
                return Err(TrySendError::Full(value));
            }
            inner.queue.push_back(value);
            inner.receiver.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Sends, waiting for room while the channel is full. `Err` gives the value back when the
    /// receiver is gone.
    pub async fn send(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        poll_fn(
            |cx| match self.try_send(value.take().expect("not sent yet")) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(TrySendError::Closed(v)) => Poll::Ready(Err(v)),
                Err(TrySendError::Full(v)) => {
                    value = Some(v);
                    self.inner
                        .borrow_mut()
                        .senders
                        .push_back(cx.waker().clone());
                    Poll::Pending
                }
            },
        )
        .await
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.borrow().receiver_gone
    }

    /// How many values wait in the channel.
    pub fn len(&self) -> usize {
        self.inner.borrow().queue.len()
    }

    /// Whether the channel is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.inner.borrow_mut().sender_count += 1;
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            inner.sender_count -= 1;
            if inner.sender_count == 0 {
                inner.receiver.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next value, or `None` once every sender is gone and the channel is empty.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let (value, waker) = {
                let mut inner = self.inner.borrow_mut();
                match inner.queue.pop_front() {
                    Some(v) => (Some(v), inner.senders.pop_front()),
                    None if inner.sender_count == 0 => return Poll::Ready(None),
                    None => {
                        inner.receiver = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                }
            };
            if let Some(w) = waker {
                w.wake();
            }
            Poll::Ready(value)
        })
        .await
    }

    /// A value if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Result<Option<T>, Closed> {
        let (value, waker) = {
            let mut inner = self.inner.borrow_mut();
            match inner.queue.pop_front() {
                Some(v) => (v, inner.senders.pop_front()),
                None if inner.sender_count == 0 => return Err(Closed),
                None => return Ok(None),
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(Some(value))
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let senders = {
            let mut inner = self.inner.borrow_mut();
            inner.receiver_gone = true;
            inner.queue.clear();
            std::mem::take(&mut inner.senders)
        };
        for w in senders {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("len", &self.len()).finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
