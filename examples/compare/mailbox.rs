//! A mailbox from an ordinary thread into a runtime thread: the sender pushes a message and wakes
//! the task that waits in [`Mailbox::recv`].
//!
//! The runtime's own channels (`runtime::sync`) are for tasks of one thread. Across threads a
//! `Mutex` plus the receiver's `Waker` is enough: runtime wakers work from any thread (the waker
//! queues the task remotely and pokes the sleeping driver through its eventfd). While nobody
//! writes, the server thread stays parked and the mailbox costs nothing — no timer, no polling.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

/// Messages for one receiving task.
pub struct Mailbox<T> {
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    queue: VecDeque<T>,
    /// The receiver's waker, stored when it found the queue empty.
    waker: Option<Waker>,
}

impl<T> Mailbox<T> {
    /// An empty mailbox.
    pub fn new() -> Mailbox<T> {
        Mailbox {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                waker: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // Nothing can panic while the lock is held, so even a poisoned lock holds a whole queue.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `message` and wakes the receiver (from any thread).
    pub fn send(&self, message: T) {
        let waker = {
            let mut inner = self.lock();
            inner.queue.push_back(message);
            inner.waker.take()
        };
        // Woken after the lock is released: the receiver may run at once on its own thread.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Waits for the next message.
    pub fn recv(&self) -> impl Future<Output = T> + '_ {
        poll_fn(move |cx| {
            let mut inner = self.lock();
            match inner.queue.pop_front() {
                Some(message) => Poll::Ready(message),
                None => {
                    // Stored under the lock, so a `send` either sees this waker or its message
                    // is seen by the check above: no wake-up is lost.
                    inner.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}
