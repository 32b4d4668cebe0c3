//! A channel that holds one value, the latest: receivers see the current value and wait for the
//! next change, not for every change.
//!
//! The value carries a version, bumped by every send. Each receiver remembers the version it last
//! saw; `changed()` completes as soon as the two differ. Changes that happen while a receiver
//! looks away are merged into one: it sees the latest value, never a backlog.
//!
//! ```
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = runtime::sync::watch::channel("starting");
//! let watcher = runtime::spawn(async move {
//!     while rx.changed().await.is_ok() {
//!         if *rx.borrow_and_update() == "ready" {
//!             return true;
//!         }
//!     }
//!     false
//! });
//! tx.send_replace("loading");
//! tx.send_replace("ready");
//! assert!(watcher.await.unwrap());
//! # });
//! ```
//!
//! **Borrows.** [`Receiver::borrow`] and [`Sender::borrow`] hand out a `RefCell` borrow of the
//! value: drop it before the next `.await`, or a send meanwhile will panic. A send drops the old
//! value after releasing the channel, so the old value's `Drop` may use the channel.
//!
//! **Cancellation.** Every waiting receiver is woken by a change (nothing is handed to one waiter
//! only), so a dropped `changed()` just leaves the list.

use std::cell::{self, RefCell};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{WaitKey, WaitList, WakeList};
use super::SendError;

/// A new channel holding `init`.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(Shared {
        value: RefCell::new(init),
        state: RefCell::new(State {
            version: 0,
            sender_gone: false,
            receivers: 1,
            waiters: WaitList::new(),
        }),
    });
    let receiver = Receiver {
        shared: shared.clone(),
        seen: 0,
    };
    (Sender { shared }, receiver)
}

struct Shared<T> {
    value: RefCell<T>,
    state: RefCell<State>,
}

struct State {
    /// Bumped by every change.
    version: u64,
    sender_gone: bool,
    receivers: usize,
    /// Receivers waiting in `changed()`.
    waiters: WaitList,
}

/// Sets the value; every receiver sees the change.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = runtime::sync::watch::channel(0);
/// tx.send_modify(|v| *v += 1);
/// assert_eq!(*rx.borrow(), 1);
/// drop(rx);
/// assert!(tx.send(2).is_err()); // no receiver: `send` refuses, `send_replace` would not
/// # });
/// ```
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

/// Sees the latest value and waits for changes; clone it for more watchers.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = runtime::sync::watch::channel(1);
/// assert!(!rx.has_changed().unwrap());
/// tx.send(2).unwrap();
/// assert!(rx.has_changed().unwrap());
/// rx.changed().await.unwrap(); // already changed: completes at once
/// assert_eq!(*rx.borrow_and_update(), 2);
/// drop(tx);
/// assert!(rx.changed().await.is_err()); // nothing more will change
/// # });
/// ```
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    /// The version this receiver last saw.
    seen: u64,
}

/// A borrow of the value in a watch channel; drop it before the next `.await`.
///
/// ```
/// let (tx, mut rx) = runtime::sync::watch::channel(1);
/// tx.send(2).unwrap();
/// let value = rx.borrow_and_update();
/// assert_eq!((*value, value.has_changed()), (2, true));
/// ```
pub struct Ref<'a, T> {
    value: cell::Ref<'a, T>,
    has_changed: bool,
}

/// The sender is gone: the value will not change any more (see [`Receiver`]'s example).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl<T> Sender<T> {
    /// Sets the value and notifies the receivers; fails (giving the value back) when there are
    /// none.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Sets the value, even with no receiver, and returns the old one.
    pub fn send_replace(&self, value: T) -> T {
        let old = std::mem::replace(&mut *self.shared.value.borrow_mut(), value);
        self.shared.changed();
        old
    }

    /// Changes the value in place and notifies the receivers. `modify` runs while the value is
    /// borrowed: it must not use this channel.
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Changes the value in place; notifies the receivers only if `modify` returns `true`.
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let modified = modify(&mut self.shared.value.borrow_mut());
        if modified {
            self.shared.changed();
        }
        modified
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            value: self.shared.value.borrow(),
            has_changed: false,
        }
    }

    /// A new receiver, which has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = self.shared.state.borrow_mut();
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: state.version,
        }
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        self.shared.state.borrow().receivers
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }
}

impl<T> Shared<T> {
    /// Bumps the version (or marks the sender gone) and wakes every waiting receiver.
    fn changed(&self) {
        self.notify(|state| state.version += 1);
    }

    fn notify(&self, update: impl FnOnce(&mut State)) {
        let mut woken = WakeList::new();
        {
            let mut state = self.state.borrow_mut();
            update(&mut state);
            state.waiters.notify_all(&mut woken);
        }
        woken.wake_all();
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.notify(|state| state.sender_gone = true);
    }
}

impl<T> Receiver<T> {
    /// Waits until the value changes from the version this receiver last saw (at once if it
    /// already has), and marks the new version seen. `Err` when the sender is gone and the value
    /// did not change since.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed {
            receiver: self,
            key: None,
        }
        .await
    }

    /// Whether the value changed since this receiver last saw it. `Err` when the sender is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.borrow();
        if state.sender_gone {
            return Err(RecvError(()));
        }
        Ok(state.version != self.seen)
    }

    /// The current value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let has_changed = self.shared.state.borrow().version != self.seen;
        Ref {
            value: self.shared.value.borrow(),
            has_changed,
        }
    }

    /// The current value, marking it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let version = self.shared.state.borrow().version;
        let has_changed = version != self.seen;
        self.seen = version;
        Ref {
            value: self.shared.value.borrow(),
            has_changed,
        }
    }

    /// Marks the current value seen.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.state.borrow().version;
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state.borrow_mut().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.state.borrow_mut().receivers -= 1;
    }
}

/// The future of [`Receiver::changed`].
struct Changed<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// The waiter entry, while waiting.
    key: Option<WaitKey>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut state = this.receiver.shared.state.borrow_mut();
        let outcome = if state.version != this.receiver.seen {
            this.receiver.seen = state.version;
            Ok(())
        } else if state.sender_gone {
            Err(RecvError(()))
        } else {
            state.waiters.wait(&mut this.key, cx.waker());
            return Poll::Pending;
        };
        state.waiters.leave(&mut this.key);
        Poll::Ready(outcome)
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            let mut state = self.receiver.shared.state.borrow_mut();
            state.waiters.leave(&mut self.key);
        }
    }
}

impl<T> Ref<'_, T> {
    /// Whether the value had changed since the receiver last saw it, when it was borrowed.
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.borrow())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*self.borrow())
            .finish()
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch sender dropped")
    }
}

impl std::error::Error for RecvError {}
