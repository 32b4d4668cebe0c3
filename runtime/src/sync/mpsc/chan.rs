//! The state both kinds of channel share: the queue, the receiver's waker, the count of senders,
//! and for a bounded channel the free slots.
//!
//! A bounded channel counts its free slots with a [`Semaphore`]: a sender takes a permit before
//! queueing, the receiver gives one back per value it takes out. Waiting for room, its order and
//! its cancellation are therefore the semaphore's (first come, first served; a dropped `send`
//! passes on a slot it had been handed).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::TryRecvError;
use crate::sync::waiters::set_only_waiter;
use crate::sync::Semaphore;

pub(super) struct Chan<T> {
    state: RefCell<State<T>>,
    /// One permit per free slot; `None` for an unbounded channel.
    slots: Option<Semaphore>,
}

struct State<T> {
    queue: VecDeque<T>,
    /// The receiver's waker while a `recv` waits.
    receiver: Option<Waker>,
    senders: usize,
    /// The receiver closed the channel or is gone: nothing more may be sent.
    closed: bool,
}

impl<T> Chan<T> {
    /// A channel with one sender; `capacity` is `None` for an unbounded one.
    pub(super) fn new(capacity: Option<usize>) -> Rc<Chan<T>> {
        Rc::new(Chan {
            state: RefCell::new(State {
                queue: VecDeque::with_capacity(capacity.unwrap_or(0).min(1024)),
                receiver: None,
                senders: 1,
                closed: false,
            }),
            slots: capacity.map(Semaphore::new),
        })
    }

    /// The free slots of a bounded channel.
    pub(super) fn slots(&self) -> &Semaphore {
        self.slots.as_ref().expect("a bounded channel")
    }

    /// Queues `value` and wakes the receiver; gives it back when the channel is closed.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let waker = {
            let mut state = self.state.borrow_mut();
            if state.closed {
                drop(state);
                // A sender that took a slot before the close gives it back.
                if let Some(slots) = &self.slots {
                    slots.add_permits(1);
                }
                return Err(value);
            }
            state.queue.push_back(value);
            state.receiver.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether nothing more may be sent.
    pub(super) fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// How many values are queued.
    pub(super) fn len(&self) -> usize {
        self.state.borrow().queue.len()
    }

    /// The next value; `None` once the queue is empty and nothing more can come.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.try_recv() {
            Ok(value) => Poll::Ready(Some(value)),
            Err(TryRecvError::Disconnected) => Poll::Ready(None),
            Err(TryRecvError::Empty) => {
                set_only_waiter(&mut self.state.borrow_mut().receiver, cx.waker());
                Poll::Pending
            }
        }
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let value = {
            let mut state = self.state.borrow_mut();
            match state.queue.pop_front() {
                Some(value) => value,
                None if state.senders == 0 || state.closed => {
                    return Err(TryRecvError::Disconnected)
                }
                None => return Err(TryRecvError::Empty),
            }
        };
        if let Some(slots) = &self.slots {
            slots.add_permits(1);
        }
        Ok(value)
    }

    /// A `recv` was dropped: its waker must not be woken any more.
    pub(super) fn forget_receiver_waker(&self) {
        // Taken out first, so the waker is dropped with the state unborrowed.
        let waker = self.state.borrow_mut().receiver.take();
        drop(waker);
    }

    /// The receiver stops the channel: sends fail from now on, and waiting senders are woken.
    pub(super) fn close(&self) {
        self.state.borrow_mut().closed = true;
        if let Some(slots) = &self.slots {
            slots.close();
        }
    }

    /// Takes every queued value out, for the receiver to drop once the state is unborrowed (a
    /// value's `Drop` may use the channel, a sender it holds for one).
    pub(super) fn take_queue(&self) -> VecDeque<T> {
        std::mem::take(&mut self.state.borrow_mut().queue)
    }
}

/// A counted reference from a sender: the receiver learns that the channel is finished when the
/// last one is dropped.
pub(super) struct SenderRef<T>(Rc<Chan<T>>);

impl<T> SenderRef<T> {
    /// The reference of the channel's first sender.
    pub(super) fn first(chan: Rc<Chan<T>>) -> SenderRef<T> {
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
        self.0.state.borrow_mut().senders += 1;
        SenderRef(self.0.clone())
    }
}

impl<T> Drop for SenderRef<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.0.state.borrow_mut();
            state.senders -= 1;
            if state.senders == 0 {
                state.receiver.take()
            } else {
                None
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
