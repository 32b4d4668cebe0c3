//! The state both kinds of channel share, safe to touch from any thread: a lock-free queue of
//! values, one atomic word that counts them and says whether the channel is finished, the
//! receiver's waker slot, the count of senders, and for a bounded channel the free [`Slots`].
//!
//! # The state word
//!
//! `queued << 2 | CLOSED | NO_SENDERS`, where `queued` counts the values sent and not yet
//! received. A sender counts its value *before* pushing it, with a `compare_exchange` that fails
//! once `CLOSED` is set; so when `send` returns `Ok` the value is counted, and a receiver that
//! finds the queue empty while `queued > 0` knows a value is on its way (its sender wakes it once
//! the value is in). Hence:
//! - `recv` returns `None` only when `queued == 0` and `CLOSED` or `NO_SENDERS` is set: every
//!   value that was sent has been received, and no more can come;
//! - a `send` that returned `Ok` is never lost to a concurrent `close`.
//!
//! `NO_SENDERS` is set by the last sender to go, after every sender's last count (the count of
//! senders is decremented with acquire/release, so the last one sees all the others' work).
//!
//! # Waking the receiver
//!
//! The receiver looks for a value, registers its waker in an [`AtomicWaker`], then looks again;
//! a sender pushes, then wakes. `atomic_waker.rs` explains why no wake-up is lost, and the loom
//! models in `loom_tests.rs` check it with this very code.

use std::ops::Deref;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};

use crossbeam_queue::SegQueue;

use super::super::atomic_waker::AtomicWaker;
use super::super::primitives::AtomicUsize;
use super::slots::Slots;
use super::TryRecvError;

/// The receiver closed the channel, or is gone.
const CLOSED: usize = 0b01;
/// Every sender is gone.
const NO_SENDERS: usize = 0b10;
/// One queued value in the state word.
const ONE: usize = 0b100;

pub(super) struct Chan<T> {
    queue: SegQueue<T>,
    state: AtomicUsize,
    senders: AtomicUsize,
    receiver: AtomicWaker,
    /// `None` for an unbounded channel.
    slots: Option<Slots>,
}

impl<T> Chan<T> {
    /// A channel with one sender; `capacity` is `None` for an unbounded one.
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            queue: SegQueue::new(),
            state: AtomicUsize::new(0),
            senders: AtomicUsize::new(1),
            receiver: AtomicWaker::new(),
            slots: capacity.map(Slots::new),
        }
    }

    /// The free slots of a bounded channel.
    pub(super) fn slots(&self) -> &Slots {
        self.slots.as_ref().expect("a bounded channel")
    }

    /// Queues `value` and wakes the receiver; gives it back when the channel is closed (and a
    /// bounded channel's slot with it).
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let mut state = self.state.load(Acquire);
        loop {
            if state & CLOSED != 0 {
                if let Some(slots) = &self.slots {
                    slots.release();
                }
                return Err(value);
            }
            match self
                .state
                .compare_exchange_weak(state, state + ONE, AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        self.queue.push(value);
        self.receiver.wake();
        Ok(())
    }

    /// Whether nothing more may be sent.
    pub(super) fn is_closed(&self) -> bool {
        self.state.load(Acquire) & CLOSED != 0
    }

    /// How many values were sent and not yet received (counting those being pushed right now).
    pub(super) fn len(&self) -> usize {
        self.state.load(Acquire) / ONE
    }

    /// The next value; `None` once every value sent was received and nothing more can come.
    /// Sets `left_waker` when it registered the receiver's waker (whatever it returns): a `recv`
    /// that stops waiting must then forget it.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>, left_waker: &mut bool) -> Poll<Option<T>> {
        let outcome = match self.try_recv() {
            Err(TryRecvError::Empty) => {
                self.receiver.register(cx.waker());
                *left_waker = true;
                // Look again: a value pushed before the waker was in place would not wake us.
                self.try_recv()
            }
            outcome => outcome,
        };
        match outcome {
            Ok(value) => Poll::Ready(Some(value)),
            Err(TryRecvError::Disconnected) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        }
    }

    /// The next value if one is queued.
    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        if let Some(value) = self.queue.pop() {
            self.state.fetch_sub(ONE, AcqRel);
            if let Some(slots) = &self.slots {
                slots.release();
            }
            return Ok(value);
        }
        let state = self.state.load(Acquire);
        if state < ONE && state & (CLOSED | NO_SENDERS) != 0 {
            Err(TryRecvError::Disconnected)
        } else {
            // Nothing sent yet, or a value counted and not pushed yet (its sender will wake us).
            Err(TryRecvError::Empty)
        }
    }

    /// A `recv` stopped waiting (it completed, or was dropped): the waker it left must not be
    /// woken any more.
    pub(super) fn forget_receiver_waker(&self) {
        drop(self.receiver.take());
    }

    /// The receiver stops the channel: sends fail from now on, and waiting senders are woken.
    pub(super) fn close(&self) {
        self.state.fetch_or(CLOSED, AcqRel);
        if let Some(slots) = &self.slots {
            slots.close();
        }
    }

    /// The receiver is gone: closes the channel, forgets its waker, and drops the values queued
    /// (a value sent right now by a sender that counted it before the close is dropped with the
    /// channel).
    pub(super) fn close_and_drain(&self) {
        self.close();
        self.forget_receiver_waker();
        while let Some(value) = self.queue.pop() {
            self.state.fetch_sub(ONE, AcqRel);
            drop(value);
        }
    }

    /// One more sender (called by a sender, so the count cannot be 0 meanwhile).
    fn add_sender(&self) {
        self.senders.fetch_add(1, Relaxed);
    }

    /// A sender is gone; the last one tells the receiver that nothing more will come.
    fn drop_sender(&self) {
        if self.senders.fetch_sub(1, AcqRel) == 1 {
            self.state.fetch_or(NO_SENDERS, AcqRel);
            self.receiver.wake();
        }
    }
}

/// A counted reference from a sender: the receiver learns that the channel is finished when the
/// last one is dropped.
pub(super) struct SenderRef<T>(Arc<Chan<T>>);

impl<T> SenderRef<T> {
    /// The reference of the channel's first sender.
    pub(super) fn first(chan: Arc<Chan<T>>) -> SenderRef<T> {
        SenderRef(chan)
    }
}

impl<T> Deref for SenderRef<T> {
    type Target = Chan<T>;

    fn deref(&self) -> &Chan<T> {
        &self.0
    }
}

impl<T> Clone for SenderRef<T> {
    fn clone(&self) -> Self {
        self.0.add_sender();
        SenderRef(self.0.clone())
    }
}

impl<T> Drop for SenderRef<T> {
    fn drop(&mut self) {
        self.0.drop_sender();
    }
}
