//! [`Notify`] between threads: wake one waiting task, or all of them, with no data attached. The
//! same API and rules as [`sync::Notify`](crate::sync::Notify): `notify_one` wakes the oldest
//! waiter or leaves one permit; `notify_waiters` wakes every waiter and every `Notified` created
//! before the call, and stores nothing; a dropped `Notified` that `notify_one` had chosen passes
//! the wake-up on.
//!
//! # How it works
//!
//! One atomic word, `calls << 2 | mode`, where `calls` counts `notify_waiters` calls and the mode
//! is `EMPTY`, `NOTIFIED` (a permit is stored) or `WAITING` (the list holds waiters). The waiter
//! list sits behind a `Mutex`. Two rules make the fast paths lock-free:
//! - `WAITING` is set and cleared only with the lock held, together with the list (`WAITING`
//!   exactly while it holds a waiter); so whoever holds the lock and reads `WAITING` knows it
//!   stays so until they change it;
//! - `EMPTY` and `NOTIFIED` swap without the lock: `notify_one` with nobody waiting stores the
//!   permit with one `compare_exchange`, and `notified()` takes a stored permit the same way.
//!
//! A task that must wait takes the lock and moves `EMPTY` to `WAITING` with a
//! `compare_exchange`; it fails if a permit came meanwhile, and the task takes the permit instead.
//! A `notify_one` that reads `WAITING` takes the lock and wakes the oldest waiter. So a permit and
//! a waiter never miss each other. Wakers are woken after the lock is released.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::sync::waiters::{Notification, Polled, WaitKey, WaitList, WakeList};

const EMPTY: usize = 0b00;
const NOTIFIED: usize = 0b01;
const WAITING: usize = 0b10;
const MODE: usize = 0b11;
/// One `notify_waiters` call in the state word.
const ONE_CALL: usize = 0b100;

/// Wakes tasks, on any thread, that wait for "something happened".
///
/// ```
/// use std::sync::Arc;
/// use runtime::sync::shared::Notify;
///
/// let ready = Arc::new(Notify::new());
/// let waiter = {
///     let ready = ready.clone();
///     std::thread::spawn(move || {
///         runtime::Runtime::new().unwrap().block_on(async {
///             ready.notified().await;
///             "woken"
///         })
///     })
/// };
/// ready.notify_one(); // wakes the waiter, or leaves a permit if it has not started waiting
/// assert_eq!(waiter.join().unwrap(), "woken");
/// ```
pub struct Notify {
    state: AtomicUsize,
    waiters: Mutex<WaitList>,
}

impl Notify {
    /// A `Notify` without a stored permit; `const`, so it may be a `static`.
    ///
    /// ```
    /// use runtime::sync::shared::Notify;
    ///
    /// static SHUTDOWN: Notify = Notify::new();
    ///
    /// let worker = std::thread::spawn(|| {
    ///     runtime::Runtime::new().unwrap().block_on(SHUTDOWN.notified());
    /// });
    /// SHUTDOWN.notify_one();
    /// worker.join().unwrap();
    /// ```
    pub const fn new() -> Notify {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// A future that completes when this is notified: by `notify_one` (or its stored permit), or
    /// by a `notify_waiters` called after this future was created.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            calls_at_creation: self.state.load(SeqCst) / ONE_CALL,
            key: None,
            done: false,
        }
    }

    /// Wakes the oldest waiter, or stores a permit for the next `notified()` if nobody waits.
    pub fn notify_one(&self) {
        let mut state = self.state.load(SeqCst);
        // Nobody waits: store the permit, no lock.
        while state & MODE != WAITING {
            let permit = (state & !MODE) | NOTIFIED;
            match self.state.compare_exchange(state, permit, SeqCst, SeqCst) {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        let waker = self.notify_one_locked(&mut self.lock_waiters());
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every waiter, and every `Notified` created so far; stores no permit.
    pub fn notify_waiters(&self) {
        let mut woken = WakeList::new();
        {
            let mut waiters = self.lock_waiters();
            let state = self.state.fetch_add(ONE_CALL, SeqCst);
            if state & MODE == WAITING {
                waiters.notify_all(&mut woken);
                self.state.fetch_and(!MODE, SeqCst);
            }
        }
        woken.wake_all();
    }

    /// `notify_one` with the lock held: the oldest waiter's waker (to wake once the lock is
    /// released), or the permit stored.
    fn notify_one_locked(&self, waiters: &mut WaitList) -> Option<Waker> {
        if self.state.load(SeqCst) & MODE != WAITING {
            // Nobody waits; the mode may still swap between `EMPTY` and `NOTIFIED` under us.
            self.state.fetch_or(NOTIFIED, SeqCst);
            return None;
        }
        let waker = waiters.notify_front();
        debug_assert!(waker.is_some(), "`WAITING` means someone waits");
        self.left_list(waiters);
        waker
    }

    /// A waiter left the list (woken or dropped), with the lock held: clears `WAITING` if it
    /// was the last one.
    fn left_list(&self, waiters: &WaitList) {
        if waiters.is_empty() {
            self.state.fetch_and(!MODE, SeqCst);
        }
    }

    /// The first poll of a `Notified` that found no permit: takes one that came meanwhile, or
    /// joins the list, with the lock held.
    fn take_permit_or_wait(&self, notified: &mut Notified<'_>, waker: &Waker) -> bool {
        let mut waiters = self.lock_waiters();
        let mut state = self.state.load(SeqCst);
        loop {
            if state / ONE_CALL != notified.calls_at_creation {
                return true;
            }
            let next = match state & MODE {
                NOTIFIED => (state & !MODE) | EMPTY,
                EMPTY => (state & !MODE) | WAITING,
                // Already `WAITING`, which only lock holders change.
                _ => break,
            };
            match self.state.compare_exchange(state, next, SeqCst, SeqCst) {
                Ok(_) if next & MODE == EMPTY => return true,
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        notified.key = Some(waiters.push_back((), waker));
        false
    }

    fn lock_waiters(&self) -> MutexGuard<'_, WaitList> {
        // No user code runs under the lock, and every change is complete before it is released.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

/// The future of [`Notify::notified`]: completes once notified.
///
/// It counts as waiting for `notify_waiters` from the moment it is created, and for `notify_one`
/// from its first poll.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let notify = runtime::sync::shared::Notify::new();
/// let notified = notify.notified(); // not polled yet...
/// std::thread::scope(|s| {
///     s.spawn(|| notify.notify_waiters()); // ...but already reached by this
/// });
/// notified.await;
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `notify_waiters` calls made before this was created.
    calls_at_creation: usize,
    /// The waiter entry, while waiting.
    key: Option<WaitKey>,
    done: bool,
}

impl Notified<'_> {
    /// The first poll's fast path: a `notify_waiters` call since creation, or a stored permit
    /// taken without the lock.
    fn notified_without_lock(&self) -> bool {
        let state = self.notify.state.load(SeqCst);
        state / ONE_CALL != self.calls_at_creation
            || (state & MODE == NOTIFIED
                && self
                    .notify
                    .state
                    .compare_exchange(state, state & !MODE, SeqCst, SeqCst)
                    .is_ok())
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(());
        }
        let notify = this.notify;
        let notified = match this.key.take() {
            None => this.notified_without_lock() || notify.take_permit_or_wait(this, cx.waker()),
            Some(key) => match notify.lock_waiters().poll(key, cx.waker()) {
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
        let notify = self.notify;
        let waker = {
            let mut waiters = notify.lock_waiters();
            match waiters.remove(key) {
                // Chosen by `notify_one` but given up: the wake-up goes on.
                Some(Notification::One) => notify.notify_one_locked(&mut waiters),
                // It was waiting: it may have been the last one.
                None => {
                    notify.left_list(&waiters);
                    None
                }
                Some(Notification::All) => None,
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
            .field("permit", &(self.state.load(SeqCst) & MODE == NOTIFIED))
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
