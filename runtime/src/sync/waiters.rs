//! The waiter list behind every primitive in `sync`: who waits, in which order, and what each
//! waiter was handed when it was woken.
//!
//! # Why entries, not a queue of wakers
//!
//! The obvious way to make futures wait — push `cx.waker().clone()` on a queue at every `Pending`
//! poll, pop one to wake — has two faults:
//! - a future dropped while it waits (under a `timeout`, say) leaves its waker behind; the next
//!   wake-up goes to that dead waker, and the live waiter behind it sleeps forever: a *lost
//!   wake-up*;
//! - a future polled again pushes its waker again, so the queue grows with every poll.
//!
//! Here each waiting future *owns an entry*, named by a [`WaitKey`] only it holds. It adds the
//! entry on its first `Pending` poll, refreshes the entry's waker in place on later polls, and
//! takes the entry out when it completes or is dropped. A key cannot be cloned and `poll` and
//! `remove` consume it, so each entry has one owner and is removed exactly once.
//!
//! # Notifications
//!
//! Waking an entry takes it out of the FIFO order and marks it with a [`Notification`]:
//! - [`Notification::One`]: the waiter was *handed* something only one waiter may have: semaphore
//!   permits, the single wake-up of `Notify::notify_one`. A future dropped before it used what it
//!   was handed must pass it on: `remove` tells it so, and the primitive gives it to the next
//!   waiter.
//! - [`Notification::All`]: every waiter was told to look again (a new value, a closed channel).
//!   There is nothing to pass on.
//!
//! # Layout
//!
//! Entries live in a slab (a `Vec` whose vacant slots are reused) and are linked into FIFO order
//! by index, so adding at the back, removing from the middle and waking the front are all O(1),
//! with no `unsafe` and, once the slab has grown, no allocation per waiter.
//!
//! The list never wakes anyone itself: it hands the wakers back (one, or a [`WakeList`]) and the
//! primitive wakes them after releasing its `RefCell` borrow, so whatever a waker does, it finds
//! the primitive unborrowed.

use std::task::Waker;

/// What a woken waiter was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notification {
    /// It was handed something only one waiter may have; if unused, it must be passed on.
    One,
    /// Every waiter was told to look again; nothing to pass on.
    All,
}

/// The name of one entry, held by the one future that waits in it.
#[derive(Debug)]
#[must_use = "an entry stays in the list until its key is given back to `remove` or `poll`"]
pub(crate) struct WaitKey(usize);

/// What a waiting future finds when it is polled again.
#[derive(Debug)]
pub(crate) enum Polled {
    /// Still waiting; the entry now holds the latest waker. Keep the key.
    Waiting(WaitKey),
    /// Woken: the entry is gone, and this is what it was told.
    Notified(Notification),
}

/// A FIFO list of waiting futures, each with a request `T` (how many permits, say) the primitive
/// can read at the front.
#[derive(Debug)]
pub(crate) struct WaitList<T = ()> {
    entries: Vec<Entry<T>>,
    /// Indices of vacant entries, reused before the `Vec` grows.
    vacant: Vec<usize>,
    /// The oldest waiting entry, woken first.
    front: Option<usize>,
    /// The newest waiting entry.
    back: Option<usize>,
}

#[derive(Debug)]
struct Entry<T> {
    /// Neighbours in FIFO order; meaningful only while the entry is `Waiting`.
    prev: Option<usize>,
    next: Option<usize>,
    state: State<T>,
}

#[derive(Debug)]
enum State<T> {
    Vacant,
    Waiting { waker: Waker, request: T },
    Notified(Notification),
}

impl<T> WaitList<T> {
    /// An empty list (no allocation).
    pub(crate) const fn new() -> Self {
        WaitList {
            entries: Vec::new(),
            vacant: Vec::new(),
            front: None,
            back: None,
        }
    }

    /// Whether nobody waits (entries already woken do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.front.is_none()
    }

    /// The request of the oldest waiter.
    pub(crate) fn front(&self) -> Option<&T> {
        let entry = &self.entries[self.front?];
        match &entry.state {
            State::Waiting { request, .. } => Some(request),
            _ => unreachable!("only waiting entries are linked"),
        }
    }

    /// Adds a waiter at the back.
    pub(crate) fn push_back(&mut self, request: T, waker: &Waker) -> WaitKey {
        let entry = Entry {
            prev: self.back,
            next: None,
            state: State::Waiting {
                waker: waker.clone(),
                request,
            },
        };
        let index = match self.vacant.pop() {
            Some(index) => {
                self.entries[index] = entry;
                index
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
        };
        match self.back {
            Some(back) => self.entries[back].next = Some(index),
            None => self.front = Some(index),
        }
        self.back = Some(index);
        WaitKey(index)
    }

    /// For a waiter polled again: still waiting (its waker is updated in place, nothing is added),
    /// or notified (its entry is removed and the notification returned).
    pub(crate) fn poll(&mut self, key: WaitKey, waker: &Waker) -> Polled {
        match &mut self.entries[key.0].state {
            State::Waiting { waker: stored, .. } => {
                refresh(stored, waker);
                Polled::Waiting(key)
            }
            State::Notified(_) => match self.remove(key) {
                Some(notification) => Polled::Notified(notification),
                None => unreachable!("the entry was notified"),
            },
            State::Vacant => unreachable!("a key names an occupied entry"),
        }
    }

    /// Takes a waiter's entry out, whatever its state. Returns the notification it had received
    /// and not yet seen, if any: a `One` must then be passed on by the caller.
    pub(crate) fn remove(&mut self, key: WaitKey) -> Option<Notification> {
        let index = key.0;
        let notification = match std::mem::replace(&mut self.entries[index].state, State::Vacant) {
            State::Waiting { .. } => {
                self.unlink(index);
                None
            }
            State::Notified(notification) => Some(notification),
            State::Vacant => unreachable!("a key names an occupied entry"),
        };
        self.vacant.push(index);
        notification
    }

    /// Wakes the oldest waiter with [`Notification::One`]; returns its waker (to wake once the
    /// primitive is no longer borrowed), or `None` if nobody waits.
    pub(crate) fn notify_front(&mut self) -> Option<Waker> {
        let index = self.front?;
        Some(self.notify(index, Notification::One))
    }

    /// Wakes every waiter with [`Notification::All`], adding their wakers to `wakers`.
    pub(crate) fn notify_all(&mut self, wakers: &mut WakeList) {
        while let Some(index) = self.front {
            wakers.push(self.notify(index, Notification::All));
        }
    }

    fn notify(&mut self, index: usize, notification: Notification) -> Waker {
        let state = std::mem::replace(
            &mut self.entries[index].state,
            State::Notified(notification),
        );
        self.unlink(index);
        match state {
            State::Waiting { waker, .. } => waker,
            _ => unreachable!("only waiting entries are linked"),
        }
    }

    /// Takes a waiting entry out of the FIFO order.
    fn unlink(&mut self, index: usize) {
        let Entry { prev, next, .. } = self.entries[index];
        match prev {
            Some(prev) => self.entries[prev].next = next,
            None => self.front = next,
        }
        match next {
            Some(next) => self.entries[next].prev = prev,
            None => self.back = prev,
        }
    }
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl WaitList<()> {
    /// For a future that waits for a condition and is only ever told to look again
    /// ([`Notification::All`]): makes sure it has an entry holding its latest waker, a fresh one
    /// if a notification took the old one out.
    pub(crate) fn wait(&mut self, key: &mut Option<WaitKey>, waker: &Waker) {
        let entry = match key.take() {
            Some(old) => match self.poll(old, waker) {
                Polled::Waiting(old) => old,
                Polled::Notified(_) => self.push_back((), waker),
            },
            None => self.push_back((), waker),
        };
        *key = Some(entry);
    }

    /// The condition holds, or the future is dropped: takes its entry out, if it has one.
    pub(crate) fn leave(&mut self, key: &mut Option<WaitKey>) {
        if let Some(key) = key.take() {
            let notification = self.remove(key);
            debug_assert_ne!(notification, Some(Notification::One), "nothing to pass on");
        }
    }
}

/// Stores the waker of a primitive's only waiter (a channel's one receiver, say), where a list
/// is not needed; a waker that would wake the same task is kept as it is.
pub(crate) fn set_only_waiter(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(stored) => refresh(stored, waker),
        None => *slot = Some(waker.clone()),
    }
}

/// Replaces `stored` with `waker`, unless both wake the same task (then nothing is cloned).
fn refresh(stored: &mut Waker, waker: &Waker) {
    if !stored.will_wake(waker) {
        stored.clone_from(waker);
    }
}

/// Wakers to wake once the primitive that produced them is no longer borrowed. Holds one waker
/// without allocating (the common case: a release hands a lock to one waiter).
#[derive(Debug, Default)]
#[must_use = "the wakers must be woken"]
pub(crate) struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        WakeList {
            first: None,
            rest: Vec::new(),
        }
    }

    /// Adds a waker.
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Wakes every waker, in the order they were added.
    pub(crate) fn wake_all(self) {
        self.first
            .into_iter()
            .chain(self.rest)
            .for_each(Waker::wake);
    }
}

impl Extend<Waker> for WakeList {
    fn extend<I: IntoIterator<Item = Waker>>(&mut self, wakers: I) {
        wakers.into_iter().for_each(|waker| self.push(waker));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    use super::*;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter::default());
        (counter.clone(), Waker::from(counter))
    }

    #[test]
    fn wakes_in_fifo_order_and_skips_removed_waiters() {
        let mut list = WaitList::new();
        let (a, wa) = waker();
        let (b, wb) = waker();
        let (c, wc) = waker();
        let ka = list.push_back(1, &wa);
        let kb = list.push_back(2, &wb);
        let kc = list.push_back(3, &wc);
        assert_eq!(list.front(), Some(&1));
        // The middle waiter gives up: the list skips it.
        assert_eq!(list.remove(kb), None);
        list.notify_front().unwrap().wake();
        assert_eq!(list.front(), Some(&3));
        list.notify_front().unwrap().wake();
        assert!(list.is_empty() && list.notify_front().is_none());
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        assert_eq!(b.0.load(Ordering::SeqCst), 0);
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
        assert!(matches!(
            list.poll(ka, &wa),
            Polled::Notified(Notification::One)
        ));
        // A woken waiter that leaves without looking learns what it must pass on.
        assert_eq!(list.remove(kc), Some(Notification::One));
    }

    #[test]
    fn polling_again_updates_the_entry_in_place() {
        let mut list = WaitList::new();
        let (old, wold) = waker();
        let (new, wnew) = waker();
        let mut key = list.push_back((), &wold);
        for _ in 0..1000 {
            key = match list.poll(key, &wnew) {
                Polled::Waiting(key) => key,
                Polled::Notified(_) => unreachable!(),
            };
        }
        assert_eq!(list.entries.len(), 1);
        list.notify_front().unwrap().wake();
        assert_eq!(old.0.load(Ordering::SeqCst), 0);
        assert_eq!(new.0.load(Ordering::SeqCst), 1);
        let _ = list.remove(key);
    }

    #[test]
    fn notify_all_wakes_everyone_and_slots_are_reused() {
        let mut list = WaitList::new();
        let (count, w) = waker();
        let keys: Vec<WaitKey> = (0..3).map(|_| list.push_back((), &w)).collect();
        let mut wakers = WakeList::new();
        list.notify_all(&mut wakers);
        wakers.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), 3);
        assert!(list.is_empty());
        for key in keys {
            assert_eq!(list.remove(key), Some(Notification::All));
        }
        let key = list.push_back((), &w);
        assert_eq!(list.entries.len(), 3, "a vacant entry is reused");
        assert_eq!(list.remove(key), None);
    }
}
