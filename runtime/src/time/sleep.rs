//! [`Sleep`]: a future that completes at a deadline.
//!
//! A `Sleep` registers with the current worker's timer wheel the first time it
//! is polled (creating one costs nothing and needs no runtime). While pending
//! it holds only a key into the wheel; the wheel holds its waker. Dropping the
//! `Sleep` cancels the entry, so abandoned timers (a `timeout` whose future won)
//! never linger.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::timers::TimerKey;
use crate::context;

/// Waits until `duration` has elapsed.
///
/// The timer has millisecond resolution: the future completes no earlier than
/// `duration` after this call, and usually within a millisecond after that.
/// A duration too large to add to the clock sleeps for (practically) ever.
///
/// # Panics
///
/// Polling the returned future outside a runtime panics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use runtime::time::sleep;
///
/// async fn pause() {
///     sleep(Duration::from_millis(20)).await;
/// }
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// Waits until `deadline` is reached: the future never completes before it,
/// and usually within a millisecond after it (the timers count whole
/// milliseconds, rounding deadlines up). A deadline in the past completes on
/// the first poll.
///
/// ```
/// use std::time::Duration;
/// use runtime::time::{sleep_until, Instant};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let start = Instant::now();
/// // Three steps on a fixed schedule: a slow step does not shift the later ones.
/// for step in 1..=3 {
///     let deadline = start + Duration::from_millis(5) * step;
///     sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// }
/// # });
/// ```
///
/// # Panics
///
/// Polling the returned future outside a runtime panics (unless the deadline
/// has already passed).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        state: State::Unregistered,
    }
}

/// `now + duration`, or a point decades away if that does not fit.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    saturating_add(Instant::now(), duration)
}

/// `instant + duration`, or a point decades after `instant` if that does not fit: a deadline
/// too far to represent is, in practice, never.
pub(crate) fn saturating_add(instant: Instant, duration: Duration) -> Instant {
    const DECADES: Duration = Duration::from_secs(30 * 365 * 24 * 3600);
    instant
        .checked_add(duration)
        .unwrap_or_else(|| instant + DECADES)
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// `Sleep` is `Unpin`, so it can be polled through `&mut` and reused with
/// [`reset`](Sleep::reset). It may be moved to another worker thread; it then
/// registers afresh with that worker's timers.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    state: State,
}

/// Where a `Sleep` is in its life.
#[derive(Clone, Copy, Debug)]
enum State {
    /// Not in any wheel yet (or reset since).
    Unregistered,
    /// Waiting in a worker's wheel.
    Registered(TimerKey),
    /// The deadline has been reached.
    Elapsed,
}

impl Sleep {
    /// The instant at which this future completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached and observed by a poll.
    pub fn is_elapsed(&self) -> bool {
        matches!(self.state, State::Elapsed)
    }

    /// Changes the deadline, also after the `Sleep` has completed: the next
    /// poll waits for the new one. The deadline may move earlier or later; the
    /// timer is registered again at the next poll.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runtime::time::{sleep, Instant};
    ///
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// // An idle timeout that every bit of activity pushes back.
    /// let mut idle = sleep(Duration::from_millis(20));
    /// let mut deadline = idle.deadline();
    /// for _activity in 0..3 {
    ///     deadline = Instant::now() + Duration::from_millis(20);
    ///     idle.reset(deadline);
    /// }
    /// (&mut idle).await;
    /// assert!(idle.is_elapsed() && Instant::now() >= deadline);
    /// // Reset after completion: it waits again.
    /// idle.reset(Instant::now() + Duration::from_millis(1));
    /// idle.await;
    /// # });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    /// Registers with the current worker's timers, unless already due.
    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.state = State::Elapsed;
            return Poll::Ready(());
        }
        let key = context::with_timers(|timers| timers.insert(self.deadline, cx.waker()));
        self.state = State::Registered(key);
        Poll::Pending
    }

    /// Removes this sleep's entry from the wheel, if it has one.
    fn cancel(&mut self) {
        if let State::Registered(key) = std::mem::replace(&mut self.state, State::Unregistered) {
            // `try_with_timers`: this also runs from `Drop`, possibly after the
            // runtime is gone, where there is nothing left to cancel. The
            // returned waker is dropped here, after the timers are released.
            let _waker = context::try_with_timers(|timers| timers.cancel(key));
        }
    }
}

/// What a registered `Sleep` found in the wheel.
enum Check {
    /// The timer fired.
    Fired,
    /// Still pending; holds the waker replaced by the current one, if any.
    Waiting(Option<Waker>),
    /// The key belongs to another worker: the `Sleep` was moved.
    Moved,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let key = match this.state {
            State::Elapsed => return Poll::Ready(()),
            State::Unregistered => return this.register(cx),
            State::Registered(key) => key,
        };
        let check = context::with_timers(|timers| {
            if !timers.owns(key) {
                Check::Moved
            } else if timers.is_fired(key) {
                Check::Fired
            } else {
                Check::Waiting(timers.update_waker(key, cx.waker()))
            }
        });
        match check {
            Check::Fired => {
                this.state = State::Elapsed;
                Poll::Ready(())
            }
            Check::Waiting(replaced_waker) => {
                // Dropped here, after the timers are released: it may be the
                // last reference to another task.
                drop(replaced_waker);
                Poll::Pending
            }
            // The old entry stays in the other worker's wheel until it fires
            // (a harmless spurious wake-up); register here instead.
            Check::Moved => this.register(cx),
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("state", &self.state)
            .finish()
    }
}
