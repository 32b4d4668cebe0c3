//! The per-worker timer state: a [`Wheel`] of wakers plus the clock mapping.
//!
//! Each worker thread owns one [`Timers`]. The run loop asks it how long the
//! IO driver may block ([`Timers::next_timeout`]) and, after every turn of the
//! driver, wakes what is due ([`Timers::fire_expired`]). The futures in this
//! module ([`Sleep`](super::Sleep) and everything built on it) reach it through
//! `crate::context::with_timers`.
//!
//! The wheel counts whole milliseconds since the moment the `Timers` was
//! created. Deadlines are rounded *up* to the next millisecond and the current
//! time *down*, so a timer can fire up to a millisecond late but never early.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};

use super::wheel::{Key, Wheel};

/// Length of one wheel tick, in nanoseconds (one millisecond; `next_timeout`
/// relies on this when it turns ticks back into a `Duration`).
const NANOS_PER_TICK: u128 = 1_000_000;

/// Source of [`Timers::id`]s; 0 is never handed out.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Names a timer registered with one particular [`Timers`].
///
/// It carries the id of the `Timers` it belongs to: a `Sleep` may move to
/// another worker thread, and its key must then never be used on that other
/// worker's wheel, where the same index could name someone else's timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    owner: u64,
    key: Key,
}

/// The timers of one worker thread.
pub(crate) struct Timers {
    wheel: Wheel<Waker>,
    /// Tick 0 of the wheel.
    origin: Instant,
    /// Distinguishes this `Timers` from those of other workers.
    id: u64,
}

impl Timers {
    /// Empty timer state whose clock starts now.
    pub(crate) fn new() -> Timers {
        Timers {
            wheel: Wheel::new(),
            origin: Instant::now(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.wheel.len()
    }

    /// How long the driver may block before a timer needs attention: `None`
    /// when no timer is pending, zero when something is already due.
    ///
    /// The answer can be shorter than the time to the earliest deadline (the
    /// wheel may need to move a far timer down a level first); waking up early
    /// is harmless, `fire_expired` then simply fires nothing. Callers that
    /// block with millisecond granularity should round this *up*.
    pub(crate) fn next_timeout(&self, now: Instant) -> Option<Duration> {
        let tick = self.wheel.next_expiration()?;
        // Work in durations since the origin: an `Instant` for a far tick
        // might not be representable.
        let due = Duration::from_millis(tick);
        Some(due.saturating_sub(now.saturating_duration_since(self.origin)))
    }

    /// Wakes every timer whose deadline is `<= now` and forgets it; returns
    /// how many were woken.
    ///
    /// Wakers are called while `self` is borrowed: a waker must not reach
    /// back into the timers (waking a task only queues it, so this holds for
    /// the runtime's own wakers). Each timer is removed before its waker runs.
    pub(crate) fn fire_expired(&mut self, now: Instant) -> usize {
        let now = self.now_tick(now);
        self.wheel.advance(now, crate::trace::timer_fired)
    }

    /// Registers a timer due at `deadline` that wakes `waker`. A deadline
    /// that has already passed fires on the next [`fire_expired`](Self::fire_expired).
    pub(crate) fn insert(&mut self, deadline: Instant, waker: &Waker) -> TimerKey {
        let when = self.deadline_tick(deadline);
        TimerKey {
            owner: self.id,
            key: self.wheel.insert(when, waker.clone()),
        }
    }

    /// Whether `key` was handed out by this `Timers` (and not another
    /// worker's).
    pub(crate) fn owns(&self, key: TimerKey) -> bool {
        key.owner == self.id
    }

    /// Whether the timer is no longer pending: it fired (or was cancelled).
    /// `key` must belong to this `Timers` (see [`owns`](Self::owns)).
    pub(crate) fn is_fired(&self, key: TimerKey) -> bool {
        debug_assert!(self.owns(key), "timer key used on the wrong worker");
        !self.wheel.contains(key.key)
    }

    /// Makes the pending timer `key` wake `waker` instead of the waker it
    /// holds. Returns the replaced waker, so that the caller drops it after
    /// releasing the timers (dropping a waker can drop a task, and with it
    /// other timers). Does nothing for a fired timer or an equivalent waker.
    pub(crate) fn update_waker(&mut self, key: TimerKey, waker: &Waker) -> Option<Waker> {
        debug_assert!(self.owns(key), "timer key used on the wrong worker");
        let stored = self.wheel.get_mut(key.key)?;
        if stored.will_wake(waker) {
            return None;
        }
        Some(std::mem::replace(stored, waker.clone()))
    }

    /// Cancels the timer `key`, returning its waker (for the caller to drop
    /// once the timers are released). A key of a timer that already fired or
    /// was cancelled, or one from another worker, changes nothing.
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<Waker> {
        if !self.owns(key) {
            return None;
        }
        self.wheel.remove(key.key)
    }

    /// The current time in whole ticks since the origin, rounded down.
    fn now_tick(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin);
        u64::try_from(since.as_nanos() / NANOS_PER_TICK).unwrap_or(u64::MAX)
    }

    /// A deadline in whole ticks since the origin, rounded up so that the
    /// timer never fires before `deadline`.
    fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.origin);
        u64::try_from(since.as_nanos().div_ceil(NANOS_PER_TICK)).unwrap_or(u64::MAX)
    }
}

impl fmt::Debug for Timers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers")
            .field("pending", &self.len())
            .field("origin", &self.origin)
            .finish()
    }
}

impl Default for Timers {
    fn default() -> Self {
        Timers::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    /// A waker that counts how often it was woken.
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counting_waker() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    fn wakes(counter: &CountingWaker) -> usize {
        counter.0.load(Ordering::Relaxed)
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn fires_at_the_deadline_never_before() {
        let mut timers = Timers::new();
        let start = timers.origin;
        let (counter, waker) = counting_waker();
        let deadline = start + 10 * MS + Duration::from_micros(300);
        let key = timers.insert(deadline, &waker);
        assert_eq!(timers.len(), 1);
        assert_eq!(timers.fire_expired(start + 10 * MS), 0);
        assert_eq!(timers.fire_expired(deadline - Duration::from_nanos(1)), 0);
        assert!(!timers.is_fired(key));
        assert_eq!(wakes(&counter), 0);
        // Rounded up to whole milliseconds: due at 11 ms.
        assert_eq!(timers.fire_expired(start + 11 * MS), 1);
        assert!(timers.is_fired(key));
        assert_eq!(wakes(&counter), 1);
        assert_eq!(timers.len(), 0);
    }

    #[test]
    fn next_timeout_counts_down() {
        let mut timers = Timers::new();
        let start = timers.origin;
        assert_eq!(timers.next_timeout(start), None);
        let (_counter, waker) = counting_waker();
        timers.insert(start + 5 * MS, &waker);
        assert_eq!(timers.next_timeout(start), Some(5 * MS));
        assert_eq!(
            timers.next_timeout(start + Duration::from_micros(4_500)),
            Some(Duration::from_micros(500))
        );
        assert_eq!(timers.next_timeout(start + 9 * MS), Some(Duration::ZERO));
        // Far timers report the start of their slot, which is never later.
        let mut timers = Timers::new();
        let start = timers.origin;
        timers.insert(start + Duration::from_secs(100), &waker);
        let first = timers.next_timeout(start).unwrap();
        assert!(first > Duration::ZERO && first <= Duration::from_secs(100));
    }

    #[test]
    fn past_deadline_fires_on_next_call() {
        let mut timers = Timers::new();
        let start = timers.origin;
        timers.fire_expired(start + 50 * MS);
        let (counter, waker) = counting_waker();
        timers.insert(start + 20 * MS, &waker);
        timers.insert(start - MS, &waker);
        assert_eq!(timers.next_timeout(start + 50 * MS), Some(Duration::ZERO));
        assert_eq!(timers.fire_expired(start + 50 * MS), 2);
        assert_eq!(wakes(&counter), 2);
    }

    #[test]
    fn cancel_and_update_waker() {
        let mut timers = Timers::new();
        let start = timers.origin;
        let (first, first_waker) = counting_waker();
        let (second, second_waker) = counting_waker();
        let key = timers.insert(start + 3 * MS, &first_waker);
        assert!(timers.update_waker(key, &first_waker).is_none());
        assert!(timers.update_waker(key, &second_waker).is_some());
        timers.fire_expired(start + 3 * MS);
        assert_eq!((wakes(&first), wakes(&second)), (0, 1));
        // Fired: cancel and update do nothing.
        assert!(timers.update_waker(key, &first_waker).is_none());
        assert!(timers.cancel(key).is_none());

        let key = timers.insert(start + 5 * MS, &first_waker);
        assert!(timers.cancel(key).is_some());
        assert!(timers.cancel(key).is_none());
        assert_eq!(timers.fire_expired(start + 10 * MS), 0);
        assert_eq!(wakes(&first), 0);
    }

    #[test]
    fn keys_of_another_worker_are_ignored() {
        let mut mine = Timers::new();
        let mut theirs = Timers::new();
        let (_counter, waker) = counting_waker();
        let my_key = mine.insert(mine.origin + MS, &waker);
        let their_key = theirs.insert(theirs.origin + MS, &waker);
        assert!(mine.owns(my_key) && !mine.owns(their_key));
        assert!(mine.cancel(their_key).is_none());
        assert_eq!(mine.len(), 1);
        assert_eq!(theirs.len(), 1);
    }

    #[test]
    fn far_and_huge_deadlines() {
        let mut timers = Timers::new();
        let start = timers.origin;
        let (counter, waker) = counting_waker();
        let year = Duration::from_secs(365 * 24 * 3600);
        timers.insert(start + 5 * year, &waker);
        assert!(timers.next_timeout(start).unwrap() <= 5 * year);
        assert_eq!(timers.fire_expired(start + 4 * year), 0);
        assert_eq!(timers.fire_expired(start + 5 * year), 1);
        assert_eq!(wakes(&counter), 1);
    }
}
