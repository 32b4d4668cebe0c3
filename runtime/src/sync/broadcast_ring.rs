//! The ring behind both broadcast channels: the values kept, the counts of senders and receivers,
//! and the receivers waiting for a value, with the operations on them. The single-thread channel
//! ([`sync::broadcast`](crate::sync::broadcast)) keeps it in a `RefCell`, the cross-thread one
//! ([`sync::shared::broadcast`](crate::sync::shared::broadcast)) behind a `Mutex`.
//!
//! Nothing here wakes a waker or drops a value: wakers are collected in a [`WakeList`], and
//! overwritten or unread values are handed back, for the caller to wake and drop once the borrow or
//! the lock is released.

use std::collections::VecDeque;

use super::broadcast::TryRecvError;
use super::waiters::{WaitList, WakeList};
use super::SendError;

/// The state of a broadcast channel.
pub(crate) struct Ring<T> {
    /// The values kept, oldest first.
    slots: VecDeque<Slot<T>>,
    /// The position of `slots[0]`. Positions count every value ever sent.
    head: u64,
    capacity: usize,
    senders: usize,
    receivers: usize,
    /// Receivers waiting for a value.
    pub(crate) waiters: WaitList,
}

struct Slot<T> {
    /// Taken by the last receiver to read it.
    value: Option<T>,
    /// Receivers that still have to read it.
    unread: usize,
}

/// What [`Ring::claim`] found for a receiver.
pub(crate) enum Claim<T> {
    /// The receiver was the last to read this value, and took it.
    Taken(T),
    /// The value stays for other receivers, at this index: see [`Ring::cloned`].
    Kept(usize),
}

impl<T> Ring<T> {
    /// The ring of a new channel, with one sender and one receiver (at position 0).
    ///
    /// # Panics
    /// If `capacity` is 0.
    pub(crate) fn new(capacity: usize) -> Ring<T> {
        assert!(
            capacity > 0,
            "broadcast channel capacity must be at least 1"
        );
        Ring {
            slots: VecDeque::new(),
            head: 0,
            capacity,
            senders: 1,
            receivers: 1,
            waiters: WaitList::new(),
        }
    }

    /// How many receivers there are.
    pub(crate) fn receivers(&self) -> usize {
        self.receivers
    }

    /// How many values are kept.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// How many kept values a receiver at position `next` has not read yet.
    pub(crate) fn unread(&self, next: u64) -> usize {
        (self.end() - next.max(self.head)) as usize
    }

    /// The position the next value sent will have.
    fn end(&self) -> u64 {
        self.head + self.slots.len() as u64
    }

    /// Keeps `value` for every receiver, overwriting the oldest value when the ring is full, and
    /// collects the waiting receivers in `woken`. Returns how many receivers there are and the
    /// overwritten value, or gives `value` back when there is no receiver.
    pub(crate) fn push(
        &mut self,
        value: T,
        woken: &mut WakeList,
    ) -> Result<(usize, Option<T>), SendError<T>> {
        if self.receivers == 0 {
            return Err(SendError(value));
        }
        let overwritten = if self.slots.len() == self.capacity {
            self.head += 1;
            self.slots.pop_front().and_then(|slot| slot.value)
        } else {
            None
        };
        self.slots.push_back(Slot {
            value: Some(value),
            unread: self.receivers,
        });
        self.waiters.notify_all(woken);
        Ok((self.receivers, overwritten))
    }

    /// Counts one more sender.
    pub(crate) fn add_sender(&mut self) {
        self.senders += 1;
    }

    /// Counts one sender less; when it was the last, collects the waiting receivers in `woken`
    /// (they must learn that nothing more will come).
    pub(crate) fn drop_sender(&mut self, woken: &mut WakeList) {
        self.senders -= 1;
        if self.senders == 0 {
            self.waiters.notify_all(woken);
        }
    }

    /// Counts one more receiver, and returns its position: it gets the values sent from now on.
    pub(crate) fn subscribe(&mut self) -> u64 {
        self.receivers += 1;
        self.end()
    }

    /// Counts one receiver less, at position `next`: the values it had not read are no longer
    /// kept for it. Returns the values nobody has to read any more, to drop outside.
    pub(crate) fn unsubscribe(&mut self, next: u64) -> Vec<T> {
        let mut unread_values = Vec::new();
        self.receivers -= 1;
        let first = next.saturating_sub(self.head) as usize;
        for slot in self.slots.iter_mut().skip(first) {
            slot.unread -= 1;
            if slot.unread == 0 {
                unread_values.extend(slot.value.take());
            }
        }
        self.drop_read_front();
        unread_values
    }

    /// The index of the value at position `*next` for a receiver. When that value was
    /// overwritten, moves `*next` on to the oldest value kept and says how many were missed.
    fn locate(&mut self, next: &mut u64) -> Result<usize, TryRecvError> {
        if *next < self.head {
            let missed = self.head - *next;
            *next = self.head;
            return Err(TryRecvError::Lagged(missed));
        }
        let index = (*next - self.head) as usize;
        if index < self.slots.len() {
            Ok(index)
        } else if self.senders == 0 {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Marks the value at `index` read by the receiver at `*next`, and moves it on. The last
    /// reader takes the value instead of cloning it: it is returned then.
    fn consume(&mut self, index: usize, next: &mut u64) -> Option<T> {
        *next += 1;
        let slot = &mut self.slots[index];
        slot.unread -= 1;
        if slot.unread > 0 {
            return None;
        }
        let value = slot.value.take();
        self.drop_read_front();
        value
    }

    /// Reads the value at position `*next` for a receiver, cloning it unless it is the last
    /// reader, and moves it on.
    pub(crate) fn read(&mut self, next: &mut u64) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        let index = self.locate(next)?;
        // Cloned before anything changes: a panicking `clone` leaves the ring as it was.
        let cloned = if self.slots[index].unread == 1 {
            None
        } else {
            Some(self.cloned(index))
        };
        let taken = self.consume(index, next);
        Ok(cloned.or(taken).expect("an unread value is kept"))
    }

    /// Marks the value at position `*next` read by a receiver, and moves it on, without cloning
    /// it: the value is either taken (by the last reader) or left at an index for
    /// [`cloned`](Ring::cloned).
    pub(crate) fn claim(&mut self, next: &mut u64) -> Result<Claim<T>, TryRecvError> {
        let index = self.locate(next)?;
        Ok(match self.consume(index, next) {
            Some(value) => Claim::Taken(value),
            None => Claim::Kept(index),
        })
    }

    /// A clone of the value kept at `index`.
    pub(crate) fn cloned(&self, index: usize) -> T
    where
        T: Clone,
    {
        self.slots[index]
            .value
            .clone()
            .expect("an unread value is kept")
    }

    /// Forgets values at the front that every receiver has read. Read values form a prefix: a
    /// receiver reads in order, so one that read a value read every value before it.
    fn drop_read_front(&mut self) {
        while self.slots.front().is_some_and(|slot| slot.unread == 0) {
            self.slots.pop_front();
            self.head += 1;
        }
    }
}
