//! A multi-producer, multi-consumer channel: every receiver gets every value, in order.
//!
//! The channel keeps the last `capacity` values in a ring, shared by all receivers (a value is
//! stored once, and cloned for each receiver when it reads it). Each receiver only remembers the
//! *position* of the next value it wants. A send never waits: when the ring is full, the oldest
//! value is overwritten. A receiver that was still to read it has *lagged*: its next `recv`
//! returns [`RecvError::Lagged`] with how many values it missed, then carries on from the oldest
//! value still kept. So a slow receiver costs memory bounded by the ring, and never slows the
//! others.
//!
//! ```text
//!  positions:   5   6   7   8          head = 5: the oldest value kept
//!  ring:      [ e | f | g | h ]        next position to send: 9
//!  receiver A, next = 7: reads g, h, then waits
//!  receiver B, next = 3: missed 3 and 4 (overwritten): Lagged(2), then reads e, f, g, h
//! ```
//!
//! A value is dropped as soon as every receiver has read it (the last reader takes it rather
//! than cloning it), or when it is overwritten.
//!
//! ```
//! use runtime::sync::broadcast::{self, RecvError};
//!
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send("hello").unwrap();
//! assert_eq!(rx1.recv().await, Ok("hello"));
//! assert_eq!(rx2.recv().await, Ok("hello"));
//! drop(tx);
//! assert_eq!(rx1.recv().await, Err(RecvError::Closed));
//! # });
//! ```
//!
//! **Cancellation.** A send wakes every waiting receiver (nothing is handed to one waiter only),
//! so a dropped `recv` just leaves the list, and loses no value: a value is taken only by the
//! poll that returns it.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::broadcast_ring::{Claim, Ring};
use super::waiters::{WaitKey, WakeList};
use super::SendError;

/// A channel keeping the last `capacity` values for its receivers.
///
/// # Panics
/// If `capacity` is 0.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Ring::new(capacity)));
    let receiver = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, receiver)
}

type Shared<T> = Rc<RefCell<Ring<T>>>;

/// Sends values to every receiver; clone it for more producers.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = runtime::sync::broadcast::channel(4);
/// let _rx2 = tx.subscribe();
/// assert_eq!(tx.send(1), Ok(2)); // two receivers will see it
/// drop(rx);
/// # });
/// ```
pub struct Sender<T> {
    shared: Shared<T>,
}

/// Receives every value sent after it was created, in order.
///
/// ```
/// use runtime::sync::broadcast::{self, RecvError};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = broadcast::channel(2);
/// for i in 0..5 {
///     tx.send(i).unwrap();
/// }
/// // The ring keeps two values: this receiver missed three.
/// assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
/// assert_eq!(rx.recv().await, Ok(3));
/// assert_eq!(rx.recv().await, Ok(4));
/// # });
/// ```
pub struct Receiver<T> {
    shared: Shared<T>,
    /// The position of the next value to read.
    next: u64,
}

/// Why [`Receiver::recv`] returned no value.
///
/// ```
/// use runtime::sync::broadcast::{self, RecvError};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = broadcast::channel(1);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap(); // overwrites 1, which `rx` had not read
/// assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
/// assert_eq!(rx.recv().await, Ok(2));
/// drop(tx);
/// assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and every value was read.
    Closed,
    /// The receiver fell so far behind that this many values were overwritten before it read
    /// them. The next `recv` returns the oldest value still kept.
    Lagged(u64),
}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use runtime::sync::broadcast::{self, TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel::<u8>(4);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value is waiting.
    Empty,
    /// Every sender is gone and every value was read.
    Closed,
    /// As [`RecvError::Lagged`].
    Lagged(u64),
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver, overwriting the oldest value when the ring is full.
    /// Returns how many receivers there are; fails (giving the value back) when there are none.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut woken = WakeList::new();
        let (receivers, overwritten) = self.shared.borrow_mut().push(value, &mut woken)?;
        // Dropped with the channel unborrowed: a value's `Drop` may use the channel.
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
        self.shared.borrow().receivers()
    }

    /// How many values are kept for receivers that have not read them all.
    pub fn len(&self) -> usize {
        self.shared.borrow().len()
    }

    /// Whether no value is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.borrow_mut().add_sender();
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut woken = WakeList::new();
        self.shared.borrow_mut().drop_sender(&mut woken);
        woken.wake_all();
    }
}

impl<T> Receiver<T> {
    /// A receiver of the values sent from now on.
    fn at_end(shared: &Shared<T>) -> Receiver<T> {
        let next = shared.borrow_mut().subscribe();
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

    /// The next value if one is waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        let claim = self.shared.borrow_mut().claim(&mut self.next)?;
        match claim {
            Claim::Taken(value) => Ok(value),
            // Cloned under a shared borrow: the clone may look at the channel, not change it.
            Claim::Kept(index) => Ok(self.shared.borrow().cloned(index)),
        }
    }

    /// A new receiver of the values sent from now on (not the ones this one still has to read).
    pub fn resubscribe(&self) -> Receiver<T> {
        Receiver::at_end(&self.shared)
    }

    /// How many kept values this receiver has not read yet.
    pub fn len(&self) -> usize {
        self.shared.borrow().unread(self.next)
    }

    /// Whether this receiver has read every kept value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let unread_values = self.shared.borrow_mut().unsubscribe(self.next);
        // Dropped with the channel unborrowed: a value's `Drop` may use the channel.
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
        let outcome = match this.receiver.try_recv() {
            Ok(value) => Ok(value),
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {
                let mut shared = this.receiver.shared.borrow_mut();
                shared.waiters.wait(&mut this.key, cx.waker());
                return Poll::Pending;
            }
        };
        if this.key.is_some() {
            this.receiver
                .shared
                .borrow_mut()
                .waiters
                .leave(&mut this.key);
        }
        Poll::Ready(outcome)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            self.receiver
                .shared
                .borrow_mut()
                .waiters
                .leave(&mut self.key);
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

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("channel closed"),
            RecvError::Lagged(n) => write!(f, "receiver lagged by {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
            TryRecvError::Lagged(n) => write!(f, "receiver lagged by {n} values"),
        }
    }
}

impl std::error::Error for TryRecvError {}
