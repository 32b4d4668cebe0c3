//! [`Slots`]: the free room of a bounded channel, one permit per value it may still hold; senders
//! take one before queueing, the receiver gives one back per value it takes out.
//!
//! It is the local channel's `Semaphore` cut down to one permit at a time, and made to work
//! across threads: taking and giving back a slot is one `compare_exchange` on an atomic word
//! while nobody waits; the waiting senders' list sits behind a `Mutex`, which is taken only when
//! a sender must wait, when one stops waiting, and to hand a slot to a waiting sender.
//!
//! # State word
//!
//! `free << 2 | WAITERS | CLOSED`, with three invariants:
//! - `WAITERS` is set exactly while the list holds a waiting sender; both change only with the
//!   lock held;
//! - `WAITERS` implies `free == 0`: a slot given back while senders wait goes straight to the
//!   oldest of them, so a newcomer's `try_acquire` cannot overtake it (first come, first served,
//!   as with the local channel);
//! - `CLOSED` is set once, with the lock held.
//!
//! A sender about to wait sets `WAITERS` with a `compare_exchange` while holding the lock; a
//! receiver giving a slot back either adds it to `free` with a `compare_exchange` on the same
//! word, which fails if `WAITERS` was set first, or sees `WAITERS` and takes the lock, behind which
//! the waiting sender is already in the list. Either way the slot is not lost.
//!
//! **Cancellation** is the semaphore's: a dropped `acquire` leaves the list, and one that had been
//! handed a slot passes it on.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, Waker};

use super::super::primitives::{lock, AtomicUsize, Mutex};
use crate::sync::waiters::{Notification, Polled, WaitKey, WaitList, WakeList};
use crate::sync::{Semaphore, TryAcquireError};

const CLOSED: usize = 0b01;
const WAITERS: usize = 0b10;
/// One free slot in the state word.
const ONE: usize = 0b100;

/// The free slots of a bounded channel.
#[derive(Debug)]
pub(super) struct Slots {
    state: AtomicUsize,
    waiters: Mutex<WaitList>,
}

/// `acquire` failed: the receiver closed the channel.
#[derive(Debug)]
pub(super) struct Closed;

impl Slots {
    /// `capacity` free slots.
    pub(super) fn new(capacity: usize) -> Slots {
        assert!(
            capacity <= Semaphore::MAX_PERMITS,
            "mpsc channel capacity too large"
        );
        Slots {
            state: AtomicUsize::new(capacity * ONE),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Slots free right now.
    pub(super) fn available(&self) -> usize {
        self.state.load(Acquire) / ONE
    }

    /// Takes a slot if one is free (then nobody waits: see the invariants). No lock.
    pub(super) fn try_acquire(&self) -> Result<(), TryAcquireError> {
        let mut state = self.state.load(Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if state < ONE {
                return Err(TryAcquireError::NoPermits);
            }
            match self
                .state
                .compare_exchange_weak(state, state - ONE, AcqRel, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// Waits for a slot.
    pub(super) fn acquire(&self) -> WaitForSlot<'_> {
        WaitForSlot {
            slots: self,
            key: None,
        }
    }

    /// Gives one slot back: to the oldest waiting sender, else to the free count (no lock then).
    pub(super) fn release(&self) {
        let mut state = self.state.load(Acquire);
        while state & WAITERS == 0 {
            match self
                .state
                .compare_exchange_weak(state, state + ONE, AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        let waker = self.release_locked(&mut lock(&self.waiters));
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Gives one slot back with the lock held; returns the waker to wake once it is released.
    fn release_locked(&self, waiters: &mut WaitList) -> Option<Waker> {
        let Some(waker) = waiters.notify_front() else {
            // Nobody waits (the last waiter left before we took the lock): `WAITERS` is clear.
            self.state.fetch_add(ONE, AcqRel);
            return None;
        };
        if waiters.is_empty() {
            self.state.fetch_and(!WAITERS, AcqRel);
        }
        Some(waker)
    }

    /// The receiver is gone or closed the channel: waiting and later `acquire`s fail.
    pub(super) fn close(&self) {
        let mut woken = WakeList::new();
        {
            let mut waiters = lock(&self.waiters);
            waiters.notify_all(&mut woken);
            self.state.fetch_or(CLOSED, AcqRel);
            self.state.fetch_and(!WAITERS, AcqRel);
        }
        woken.wake_all();
    }

    /// The slow path of a first poll, with the lock held: takes a slot that came free meanwhile,
    /// or joins the list (filling `key`).
    fn take_or_wait(
        &self,
        waiters: &mut WaitList,
        key: &mut Option<WaitKey>,
        waker: &Waker,
    ) -> Poll<Result<(), Closed>> {
        let mut state = self.state.load(Acquire);
        loop {
            if state & CLOSED != 0 {
                return Poll::Ready(Err(Closed));
            }
            let next = if state >= ONE {
                state - ONE
            } else {
                state | WAITERS
            };
            // With `WAITERS` already set there is nothing to change (only lock holders change it).
            if next == state {
                break;
            }
            match self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) if next & WAITERS == 0 => return Poll::Ready(Ok(())),
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        *key = Some(waiters.push_back((), waker));
        Poll::Pending
    }
}

/// The future of [`Slots::acquire`]: `Ok` once a slot is ours.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub(super) struct WaitForSlot<'a> {
    slots: &'a Slots,
    /// The waiter entry, while waiting.
    key: Option<WaitKey>,
}

impl Future for WaitForSlot<'_> {
    type Output = Result<(), Closed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let slots = this.slots;
        let Some(key) = this.key.take() else {
            return match slots.try_acquire() {
                Ok(()) => Poll::Ready(Ok(())),
                Err(TryAcquireError::Closed) => Poll::Ready(Err(Closed)),
                Err(TryAcquireError::NoPermits) => {
                    let mut waiters = lock(&slots.waiters);
                    slots.take_or_wait(&mut waiters, &mut this.key, cx.waker())
                }
            };
        };
        match lock(&slots.waiters).poll(key, cx.waker()) {
            Polled::Waiting(key) => {
                this.key = Some(key);
                Poll::Pending
            }
            // Handed a slot.
            Polled::Notified(Notification::One) => Poll::Ready(Ok(())),
            // Woken by `close`.
            Polled::Notified(Notification::All) => Poll::Ready(Err(Closed)),
        }
    }
}

impl Drop for WaitForSlot<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let slots = self.slots;
        let waker = {
            let mut waiters = lock(&slots.waiters);
            match waiters.remove(key) {
                // Handed a slot it will not use: it goes on.
                Some(Notification::One) => slots.release_locked(&mut waiters),
                // It was waiting: it may have been the last one.
                None => {
                    if waiters.is_empty() {
                        slots.state.fetch_and(!WAITERS, AcqRel);
                    }
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

#[cfg(all(test, not(loom)))]
mod tests {
    use std::future::Future;
    use std::pin::{pin, Pin};
    use std::task::{Context, Poll, Waker};

    use super::{Closed, Slots, TryAcquireError};

    /// Whether the slot was taken.
    fn poll(future: Pin<&mut impl Future<Output = Result<(), Closed>>>) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        matches!(future.poll(&mut cx), Poll::Ready(Ok(())))
    }

    #[test]
    fn a_freed_slot_goes_to_the_waiting_sender_not_to_a_newcomer() {
        let slots = Slots::new(1);
        slots.try_acquire().unwrap();
        let mut waiting = pin!(slots.acquire());
        assert!(!poll(waiting.as_mut()));
        slots.release();
        assert_eq!(slots.try_acquire(), Err(TryAcquireError::NoPermits));
        assert!(poll(waiting.as_mut()), "the waiter was handed the slot");
        slots.release();
        assert_eq!(slots.available(), 1);
    }

    #[test]
    fn a_dropped_waiter_passes_its_slot_on() {
        let slots = Slots::new(1);
        slots.try_acquire().unwrap();
        let mut first = Box::pin(slots.acquire());
        let mut second = pin!(slots.acquire());
        assert!(!poll(first.as_mut()) && !poll(second.as_mut()));
        slots.release(); // handed to `first`...
        drop(first); // ...which gives up: `second` gets it
        assert!(poll(second.as_mut()));
        slots.release();
        assert_eq!(slots.available(), 1);
        slots.close();
        assert_eq!(slots.try_acquire(), Err(TryAcquireError::Closed));
    }
}
