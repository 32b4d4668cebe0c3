//! A multi-producer, multi-consumer channel between threads: every receiver gets every value, in
//! order. The same API and the same ring as [`sync::broadcast`](crate::sync::broadcast) (read its
//! docs for the ring and for lagging), for values that are `Send + Clone`, plus
//! [`Receiver::blocking_recv`].
//!
//! ```
//! use runtime::sync::shared::broadcast::{self, RecvError};
//!
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! let listener = std::thread::spawn(move || rx2.blocking_recv());
//! tx.send("hello").unwrap();
//! assert_eq!(rx1.recv().await, Ok("hello"));
//! assert_eq!(listener.join().unwrap(), Ok("hello"));
//! drop(tx);
//! assert_eq!(rx1.recv().await, Err(RecvError::Closed));
//! # });
//! ```
//!
//! **The lock.** The ring, the counts and the waiting receivers sit behind one `Mutex`: a send
//! writes a slot every receiver may be reading and overwrites the oldest, and a receive updates
//! the slot's count of readers who still have to read it. Doing that without a lock needs a
//! sequence lock per slot; one short critical section per send and per receive is the simpler
//! trade. A receiver clones the value *under* the lock, so `T::clone` must not use this channel
//! (it would wait for itself); wakers are woken, and overwritten or unread values dropped, after
//! the lock is released.
//!
//! **Cancellation.** A send wakes every waiting receiver (nothing is handed to one waiter only),
//! so a dropped `recv` just leaves the list, and loses no value: a value is taken only by the
//! poll that returns it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::blocking::block_on;
use super::primitives::{lock, Mutex};
use crate::sync::broadcast_ring::Ring;
use crate::sync::waiters::{WaitKey, WakeList};
use crate::sync::SendError;

pub use crate::sync::broadcast::{RecvError, TryRecvError};

/// A channel keeping the last `capacity` values for its receivers.
///
/// # Panics
/// If `capacity` is 0.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Ring::new(capacity)));
    let receiver = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, receiver)
}

type Shared<T> = Arc<Mutex<Ring<T>>>;

/// Sends values to every receiver, from any thread; clone it for more producers.
///
/// ```
/// let (tx, rx) = runtime::sync::shared::broadcast::channel(4);
/// let _rx2 = tx.subscribe();
/// assert_eq!(tx.send(1), Ok(2)); // two receivers will see it
/// drop(rx);
/// ```
pub struct Sender<T> {
    shared: Shared<T>,
}

/// Receives every value sent after it was created, in order; it may move to another thread.
///
/// ```
/// use runtime::sync::shared::broadcast::{self, RecvError};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = broadcast::channel(2);
/// std::thread::spawn(move || (0..5).for_each(|i| drop(tx.send(i))))
///     .join()
///     .unwrap();
/// // The ring keeps two values: this receiver missed three.
/// assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
/// assert_eq!(rx.recv().await, Ok(3));
/// assert_eq!(rx.recv().await, Ok(4));
/// assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// # });
/// ```
pub struct Receiver<T> {
    shared: Shared<T>,
    /// The position of the next value to read.
    next: u64,
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver, overwriting the oldest value when the ring is full.
    /// Returns how many receivers there are; fails (giving the value back) when there are none.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut woken = WakeList::new();
        let (receivers, overwritten) = lock(&self.shared).push(value, &mut woken)?;
        // Dropped with the lock released: a value's `Drop` may use the channel.
        drop(overwritten);
        woken.wake_all();
        Ok(receivers)
    }

    /// A new receiver, which will get the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::at_end(&self.shared)
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared).receivers()
    }

    /// How many values are kept for receivers that have not read them all.
    pub fn len(&self) -> usize {
        lock(&self.shared).len()
    }

    /// Whether no value is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared).add_sender();
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut woken = WakeList::new();
        lock(&self.shared).drop_sender(&mut woken);
        woken.wake_all();
    }
}

impl<T> Receiver<T> {
    /// A receiver of the values sent from now on.
    fn at_end(shared: &Shared<T>) -> Receiver<T> {
        let next = lock(shared).subscribe();
        Receiver {
            shared: shared.clone(),
            next,
        }
    }

    /// The next value, waiting for one if needed. `Err(Lagged(n))` when `n` values were
    /// overwritten before this receiver read them; `Err(Closed)` once every sender is gone and
    /// every value was read.
    pub async fn recv(&mut self) -> Result<T, RecvError>
    where
        T: Clone,
    {
        Recv {
            receiver: self,
            key: None,
        }
        .await
    }

    /// Waits for the next value on a thread that runs no runtime.
    ///
    /// # Panics
    /// When called on a thread running a runtime (it would stop that runtime): use
    /// [`recv`](Receiver::recv) there.
    pub fn blocking_recv(&mut self) -> Result<T, RecvError>
    where
        T: Clone,
    {
        block_on(self.recv())
    }

    /// The next value if one is waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        lock(&self.shared).read(&mut self.next)
    }

    /// A new receiver of the values sent from now on (not the ones this one still has to read).
    pub fn resubscribe(&self) -> Receiver<T> {
        Receiver::at_end(&self.shared)
    }

    /// How many kept values this receiver has not read yet.
    pub fn len(&self) -> usize {
        lock(&self.shared).unread(self.next)
    }

    /// Whether this receiver has read every kept value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let unread_values = lock(&self.shared).unsubscribe(self.next);
        // Dropped with the lock released: a value's `Drop` may use the channel.
        drop(unread_values);
    }
}

/// The future of [`Receiver::recv`].
struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// The waiter entry, while waiting.
    key: Option<WaitKey>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        // Looking and starting to wait happen under one lock: a send cannot slip in between.
        let mut ring = lock(&this.receiver.shared);
        let outcome = match ring.read(&mut this.receiver.next) {
            Ok(value) => Ok(value),
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {
                ring.waiters.wait(&mut this.key, cx.waker());
                return Poll::Pending;
            }
        };
        ring.waiters.leave(&mut this.key);
        Poll::Ready(outcome)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            lock(&self.receiver.shared).waiters.leave(&mut self.key);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("receivers", &self.receiver_count())
            .field("len", &self.len())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .field("len", &self.len())
            .finish()
    }
}
