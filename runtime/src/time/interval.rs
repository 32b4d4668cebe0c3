//! [`Interval`]: a stream of evenly spaced instants.
//!
//! An `Interval` is a [`Sleep`] that, each time it completes, is reset to the
//! next tick. The first tick completes immediately. What happens after a
//! tick was missed (the task was busy for longer than a period) is chosen by
//! [`MissedTickBehavior`]; the default, [`Burst`](MissedTickBehavior::Burst),
//! catches up by completing the missed ticks back to back, so that in the long
//! run the number of ticks matches the elapsed time.

use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::{saturating_add, sleep_until, Sleep};

/// Ticks every `period`, starting now (the first tick completes at once).
///
/// # Panics
///
/// Panics if `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use runtime::time::interval;
///
/// async fn heartbeat() {
///     let mut every_second = interval(Duration::from_secs(1));
///     for _ in 0..3 {
///         let at = every_second.tick().await;
///         println!("tick at {at:?}");
///     }
/// }
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// Panics if `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use runtime::time::{interval_at, Instant};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let start = Instant::now() + Duration::from_millis(5);
/// let mut ticks = interval_at(start, Duration::from_millis(10));
/// assert_eq!(ticks.tick().await, start); // waits for `start`
/// assert_eq!(ticks.tick().await, start + Duration::from_millis(10));
/// # });
/// ```
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval: the period must be non-zero");
    Interval {
        sleep: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed.
///
/// Take a 10 ms period with ticks due at 0, 10, 20, 30, ... and a task that
/// only polls again at 35 ms, when the tick due at 10 completes.
///
/// ```
/// use std::time::Duration;
/// use runtime::time::{interval, Instant, MissedTickBehavior};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let period = Duration::from_millis(10);
/// let mut ticks = interval(period);
/// ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
/// let first = ticks.tick().await;
/// // Busy for three and a half periods: the ticks at 10, 20 and 30 ms are missed.
/// while first.elapsed() < period * 7 / 2 {
///     std::hint::spin_loop();
/// }
/// assert_eq!(ticks.tick().await, first + period); // the late tick, observed now
/// let next = ticks.tick().await; // then the schedule resumes: 20 and 30 are skipped
/// assert!(next >= first + period * 4 && (next - first).as_millis() % 10 == 0);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Keep the schedule and catch up: the ticks due at 20 and 30 complete
    /// immediately, then the tick at 40 is waited for.
    #[default]
    Burst,
    /// Restart the schedule from now: the next tick is at 45, then 55, ...
    Delay,
    /// Keep the schedule but drop what was missed: the next tick is at 40.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick that was due at `due` and completed at `now`. A deadline too
    /// far to represent becomes a point decades away (as for [`sleep`](super::sleep)).
    fn next_deadline(self, due: Instant, now: Instant, period: Duration) -> Instant {
        let on_schedule = saturating_add(due, period);
        if now < on_schedule {
            // Not behind: every behavior keeps the schedule.
            return on_schedule;
        }
        match self {
            MissedTickBehavior::Burst => on_schedule,
            MissedTickBehavior::Delay => saturating_add(now, period),
            MissedTickBehavior::Skip => {
                // The first point of the schedule after `now`.
                let behind = (now - due).as_nanos() % period.as_nanos();
                // `behind < period`, which is a valid `Duration`.
                let behind = Duration::from_nanos(behind as u64);
                saturating_add(now, period - behind)
            }
        }
    }
}

/// Returned by [`interval`] and [`interval_at`]; see the module documentation.
#[derive(Debug)]
pub struct Interval {
    /// Completes at the next tick.
    sleep: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for
    /// (not the possibly later instant at which it was observed).
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready` with its scheduled instant once due.
    /// When `Pending`, the task is woken at the tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.sleep.deadline();
        let next = self
            .missed_tick_behavior
            .next_deadline(due, Instant::now(), self.period);
        self.sleep.reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_after(self.period);
    }

    /// Restarts the schedule: the next tick is now.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(saturating_add(Instant::now(), after));
    }

    /// Restarts the schedule: the next tick is at `deadline`, then every period after it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runtime::time::{interval, Instant};
    ///
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let mut ticks = interval(Duration::from_secs(3600));
    /// ticks.tick().await;
    /// let soon = Instant::now() + Duration::from_millis(5);
    /// ticks.reset_at(soon); // no need to wait an hour for the next one
    /// assert_eq!(ticks.tick().await, soon);
    /// # });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.sleep.reset(deadline);
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The current [`MissedTickBehavior`].
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Chooses what to do when ticks are missed (see [`MissedTickBehavior`]
    /// for an example). Takes effect from the next tick that completes late.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn next_deadline_when_on_time() {
        let start = Instant::now();
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let next = behavior.next_deadline(start, start + 3 * MS, 10 * MS);
            assert_eq!(next, start + 10 * MS, "{behavior:?}");
        }
    }

    #[test]
    fn next_deadline_when_behind() {
        // The example from the docs: tick due at 10 observed at 35.
        let zero = Instant::now();
        let (due, now, period) = (zero + 10 * MS, zero + 35 * MS, 10 * MS);
        let next = |behavior: MissedTickBehavior| behavior.next_deadline(due, now, period);
        assert_eq!(next(MissedTickBehavior::Burst), zero + 20 * MS);
        assert_eq!(next(MissedTickBehavior::Delay), zero + 45 * MS);
        assert_eq!(next(MissedTickBehavior::Skip), zero + 40 * MS);
        // Exactly on a schedule point: skip to the following one.
        let on_point = MissedTickBehavior::Skip.next_deadline(due, zero + 30 * MS, period);
        assert_eq!(on_point, zero + 40 * MS);
    }

    #[test]
    fn next_deadline_saturates_instead_of_overflowing() {
        let now = Instant::now();
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let next = behavior.next_deadline(now, now, Duration::MAX);
            assert!(next > now + Duration::from_secs(10 * 365 * 24 * 3600));
        }
    }

    #[test]
    #[should_panic(expected = "non-zero")]
    fn zero_period_panics() {
        let _ = interval(Duration::ZERO);
    }
}
