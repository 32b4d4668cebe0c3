//! [`Notify`]: wake one waiting task, or all of them, with no data attached.
//!
//! `notify_one` wakes the oldest waiter; with nobody waiting it leaves a *permit*, which the next
//! `notified()` takes at once (permits do not add up: at most one is stored). `notify_waiters`
//! wakes every waiter — including every `Notified` future created before the call, polled or not —
//! and stores nothing.
//!
//! **Cancellation.** A dropped `Notified` leaves the list. If `notify_one` had already chosen it,
//! the notification is passed on (to the next waiter, else stored as the permit): a wake-up is
//! never lost to a future that was given up.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{Notification, Polled, WaitKey, WaitList, WakeList};

/// Wakes tasks that wait for "something happened".
///
/// ```
/// use std::rc::Rc;
/// use runtime::sync::Notify;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let ready = Rc::new(Notify::new());
/// let waiter = {
///     let ready = ready.clone();
///     runtime::spawn(async move {
///         ready.notified().await;
///         "woken"
///     })
/// };
/// ready.notify_one(); // wakes the waiter, or leaves a permit if it has not started waiting
/// assert_eq!(waiter.await.unwrap(), "woken");
/// # });
/// ```
#[derive(Default)]
pub struct Notify {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// A `notify_one` that found nobody waiting.
    permit: bool,
    /// How many times `notify_waiters` was called: a `Notified` created before a call is woken by
    /// it even if it was not waiting yet.
    notify_waiters_calls: u64,
    waiters: WaitList,
}

impl Notify {
    /// A `Notify` without a stored permit.
    pub const fn new() -> Notify {
        Notify {
            state: RefCell::new(State {
                permit: false,
                notify_waiters_calls: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// A future that completes when this is notified: by `notify_one` (or its stored permit), or
    /// by a `notify_waiters` called after this future was created.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            calls_at_creation: self.state.borrow().notify_waiters_calls,
            key: None,
            done: false,
        }
    }

    /// Wakes the oldest waiter, or stores a permit for the next `notified()` if nobody waits.
    pub fn notify_one(&self) {
        let waker = self.state.borrow_mut().notify_one();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every waiter, and every `Notified` created so far; stores no permit.
    pub fn notify_waiters(&self) {
        let mut woken = WakeList::new();
        {
            let mut state = self.state.borrow_mut();
            state.notify_waiters_calls += 1;
            state.waiters.notify_all(&mut woken);
        }
        woken.wake_all();
    }
}

impl State {
    fn notify_one(&mut self) -> Option<std::task::Waker> {
        let waker = self.waiters.notify_front();
        if waker.is_none() {
            self.permit = true;
        }
        waker
    }
}

/// The future of [`Notify::notified`]: completes once notified.
///
/// It counts as waiting for `notify_waiters` from the moment it is created, and for `notify_one`
/// from its first poll.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let notify = runtime::sync::Notify::new();
/// let notified = notify.notified(); // not polled yet...
/// notify.notify_waiters(); // ...but already reached by this
/// notified.await;
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    calls_at_creation: u64,
    /// The waiter entry, while waiting.
    key: Option<WaitKey>,
    done: bool,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(());
        }
        let mut state = this.notify.state.borrow_mut();
        let notified = match this.key.take() {
            None if state.notify_waiters_calls != this.calls_at_creation => true,
            None if state.permit => {
                state.permit = false;
                true
            }
            None => {
                this.key = Some(state.waiters.push_back((), cx.waker()));
                false
            }
            Some(key) => match state.waiters.poll(key, cx.waker()) {
                Polled::Waiting(key) => {
                    this.key = Some(key);
                    false
                }
                Polled::Notified(_) => true,
            },
        };
        this.done = notified;
        if notified {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            let mut state = self.notify.state.borrow_mut();
            match state.waiters.remove(key) {
                // Chosen by `notify_one` but given up: the wake-up goes on.
                Some(Notification::One) => state.notify_one(),
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify")
            .field("permit", &self.state.borrow().permit)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.key.is_some())
            .field("done", &self.done)
            .finish()
    }
}
