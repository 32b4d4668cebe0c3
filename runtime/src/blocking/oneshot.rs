//! A one-value channel from a blocking-pool thread back to the async side.
//!
//! The receiver is a future; the sender is consumed by [`Sender::send`]. Dropping the sender (with
//! or without a value) wakes the receiver, so a job that is dropped unrun (the runtime shut down)
//! is reported as [`Closed`] instead of leaving its awaiter pending forever.
//!
//! A `Mutex` is plenty here: each channel is locked a handful of times in its life, and the job it
//! reports on made at least one blocking syscall.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Creates a connected sender and receiver.
pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            waker: None,
            sender_gone: false,
        }),
    });
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct Inner<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    /// The receiver's waker, stored when it found nothing.
    waker: Option<Waker>,
    sender_gone: bool,
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while holding the lock (wakers are called after releasing it), so a
        // poisoned lock still holds consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sending half; it may move to any thread.
pub(crate) struct Sender<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Sender<T> {
    /// Stores the value; dropping `self` right after wakes the receiver.
    pub(crate) fn send(self, value: T) {
        self.inner.lock().value = Some(value);
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.inner.lock();
            state.sender_gone = true;
            state.waker.take()
        };
        // Outside the lock: waking may run arbitrary code (it schedules a task, possibly on a
        // remote queue plus an eventfd write).
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// The receiving half: a future of the value.
pub(crate) struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.inner.lock();
        if let Some(value) = state.value.take() {
            return Poll::Ready(Ok(value));
        }
        if state.sender_gone {
            return Poll::Ready(Err(Closed));
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Release the task's waker now rather than when the job finishes: it holds a reference to
        // the task (and to its runtime's shared state).
        let waker = self.inner.lock().waker.take();
        drop(waker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Result<T, Closed>> {
        Pin::new(rx).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn value_sent_from_another_thread_wakes_the_receiver() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let (tx, mut rx) = channel();
        assert!(poll(&mut rx, &waker).is_pending());
        std::thread::spawn(move || tx.send(7)).join().unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll(&mut rx, &waker), Poll::Ready(Ok(7)));
    }

    #[test]
    fn dropped_sender_reports_closed() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let (tx, mut rx) = channel::<u8>();
        assert!(poll(&mut rx, &waker).is_pending());
        drop(tx);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll(&mut rx, &waker), Poll::Ready(Err(Closed)));
    }

    #[test]
    fn value_outlives_a_dropped_receiver() {
        let (tx, rx) = channel();
        drop(rx);
        tx.send(String::from("nobody reads this")); // must neither panic nor leak
    }
}
