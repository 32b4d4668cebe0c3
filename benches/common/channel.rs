//! Two minimal channels, written here so that every runtime is measured with the *same* channel
//! (the runtime under test has none, and tokio's own are tuned for tokio).
//!
//! They are built on `Arc<Mutex<..>>` rather than `Rc<RefCell<..>>` because tokio's multi-thread
//! runtime only accepts `Send` tasks; a lock nobody contends costs a few nanoseconds, the same for
//! every contender.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock would already have failed the bench; take the data anyway.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A single value, sent once, from any thread.
pub mod oneshot {
    use super::*;

    struct Slot<T> {
        value: Option<T>,
        waker: Option<Waker>,
        sender_gone: bool,
    }

    /// The sending half: [`Sender::send`] consumes it.
    pub struct Sender<T>(Arc<Mutex<Slot<T>>>);

    /// The receiving half: a future of `Some(value)`, or `None` if the sender was dropped unsent.
    pub struct Receiver<T>(Arc<Mutex<Slot<T>>>);

    /// A connected pair.
    pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let slot = Arc::new(Mutex::new(Slot {
            value: None,
            waker: None,
            sender_gone: false,
        }));
        (Sender(slot.clone()), Receiver(slot))
    }

    impl<T> Sender<T> {
        /// Stores the value and wakes the receiver (outside the lock).
        pub fn send(self, value: T) {
            let waker = {
                let mut slot = lock(&self.0);
                slot.value = Some(value);
                slot.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
            // `Drop` runs next and finds the value already there: nothing more to wake.
        }
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            let waker = {
                let mut slot = lock(&self.0);
                slot.sender_gone = true;
                slot.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = Option<T>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            let mut slot = lock(&self.0);
            if let Some(v) = slot.value.take() {
                return Poll::Ready(Some(v));
            }
            if slot.sender_gone {
                return Poll::Ready(None);
            }
            slot.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// An unbounded queue with one receiver and any number of senders.
pub mod mpsc {
    use super::*;

    struct Queue<T> {
        items: VecDeque<T>,
        waker: Option<Waker>,
        senders: usize,
    }

    /// A sending half; clone it for more senders.
    pub struct Sender<T>(Arc<Mutex<Queue<T>>>);

    /// The receiving half.
    pub struct Receiver<T>(Arc<Mutex<Queue<T>>>);

    /// A connected pair.
    pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let queue = Arc::new(Mutex::new(Queue {
            items: VecDeque::new(),
            waker: None,
            senders: 1,
        }));
        (Sender(queue.clone()), Receiver(queue))
    }

    impl<T> Sender<T> {
        /// Queues `value` and wakes the receiver if it waits.
        pub fn send(&self, value: T) {
            let waker = {
                let mut q = lock(&self.0);
                q.items.push_back(value);
                q.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            lock(&self.0).senders += 1;
            Sender(self.0.clone())
        }
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            let waker = {
                let mut q = lock(&self.0);
                q.senders -= 1;
                if q.senders == 0 {
                    q.waker.take()
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
        /// The next value, or `None` once every sender is gone and the queue is empty.
        pub async fn recv(&mut self) -> Option<T> {
            poll_fn(|cx| {
                let mut q = lock(&self.0);
                if let Some(v) = q.items.pop_front() {
                    return Poll::Ready(Some(v));
                }
                if q.senders == 0 {
                    return Poll::Ready(None);
                }
                q.waker = Some(cx.waker().clone());
                Poll::Pending
            })
            .await
        }
    }
}
