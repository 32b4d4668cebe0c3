//! The time toolkit (`Instant`, `sleep_until`, `timeout_at`, `Sleep::reset`, `Interval` and its
//! missed-tick behaviours) on every compiled backend.
//!
//! Ticks are missed by keeping the task busy (a spin loop: the worker runs nothing else
//! meanwhile), never by sleeping. Assertions bound times from below only, or check the schedule
//! itself (the instants a tick reports), so a slow machine cannot make them fail.

use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use runtime::time::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Instant, Interval,
    MissedTickBehavior,
};

const MS: Duration = Duration::from_millis(1);

/// Keeps the worker busy until `until`, without yielding: every timer due meanwhile is missed.
fn busy_until(until: Instant) {
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Whether the next tick is due already: one poll, no waiting.
async fn tick_is_ready(ticks: &mut Interval) -> Option<Instant> {
    poll_fn(|cx| match ticks.poll_tick(cx) {
        Poll::Ready(at) => Poll::Ready(Some(at)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

#[runtime::test]
async fn sleep_until_is_never_early() {
    // Deadlines off the millisecond grid too: the wheel rounds them up, never down.
    let start = Instant::now();
    for step in 0..12u32 {
        let deadline = start + MS * step + Duration::from_micros(u64::from(step) * 170);
        sleep_until(deadline).await;
        assert!(Instant::now() >= deadline, "step {step} woke early");
    }
    // Many at once, in tasks of their own.
    let base = Instant::now();
    let handles: Vec<_> = (0..32u32)
        .map(|i| {
            let deadline = base + Duration::from_micros(u64::from(i) * 613);
            runtime::spawn(async move {
                sleep_until(deadline).await;
                Instant::now() >= deadline
            })
        })
        .collect();
    for handle in handles {
        assert!(handle.await.unwrap(), "a task woke early");
    }
    // A deadline in the past completes at once.
    sleep_until(start).await;
}

#[runtime::test]
async fn timeout_at_gives_up_at_its_deadline_not_before() {
    let deadline = Instant::now() + 10 * MS;
    let result = timeout_at(deadline, sleep(Duration::from_secs(60))).await;
    assert!(result.is_err());
    assert!(Instant::now() >= deadline);
    // A future that finishes in time wins; the deadline is reported.
    let later = Instant::now() + Duration::from_secs(60);
    let quick = timeout_at(later, sleep(MS));
    assert_eq!(quick.deadline(), later);
    assert_eq!(quick.await, Ok(()));
}

#[runtime::test]
async fn sleep_reset_moves_the_deadline_both_ways() {
    let start = Instant::now();
    let mut nap = sleep(Duration::from_secs(60));
    // Registered with the far deadline, then moved closer.
    assert!(!sleep_is_done(&mut nap).await);
    nap.reset(start + 5 * MS);
    (&mut nap).await;
    assert!(Instant::now() >= start + 5 * MS);
    // Moved later after completing: waits again.
    let later = Instant::now() + 5 * MS;
    nap.reset(later);
    assert!(!nap.is_elapsed());
    timeout(Duration::from_secs(5), &mut nap).await.unwrap();
    assert!(Instant::now() >= later);
}

/// Whether `sleep` completes at one poll, no waiting.
async fn sleep_is_done(sleep: &mut runtime::time::Sleep) -> bool {
    use std::future::Future;
    use std::pin::Pin;
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *sleep).poll(cx).is_ready())).await
}

const PERIOD: Duration = Duration::from_millis(10);

/// An interval that missed ticks, right after the late poll that noticed.
struct Missed {
    ticks: Interval,
    /// The first tick's instant.
    first: Instant,
    /// The time just before and just after the late poll.
    before: Instant,
    after: Instant,
}

/// An interval with `behavior` whose first tick has completed; the task is then kept busy for
/// three and a half periods, missing the ticks at 1, 2 and 3 periods, and polls the next tick
/// (which is due: the one at 1 period).
async fn miss_three_ticks(behavior: MissedTickBehavior) -> Missed {
    let mut ticks = interval(PERIOD);
    ticks.set_missed_tick_behavior(behavior);
    assert_eq!(ticks.missed_tick_behavior(), behavior);
    let first = ticks.tick().await;
    busy_until(first + PERIOD * 7 / 2);
    let before = Instant::now();
    let late = tick_is_ready(&mut ticks)
        .await
        .expect("the missed tick is due");
    let after = Instant::now();
    assert_eq!(
        late,
        first + PERIOD,
        "{behavior:?}: the late tick reports its own instant"
    );
    Missed {
        ticks,
        first,
        before,
        after,
    }
}

#[runtime::test]
async fn burst_catches_up_on_every_missed_tick() {
    let Missed {
        mut ticks, first, ..
    } = miss_three_ticks(MissedTickBehavior::Burst).await;
    assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
    // The ticks at 2 and 3 periods are due already: each completes at its first poll.
    for n in 2..=3 {
        let tick = tick_is_ready(&mut ticks).await;
        assert_eq!(tick, Some(first + PERIOD * n), "tick {n}");
    }
    // Then the schedule goes on as planned.
    let fourth = timeout(Duration::from_secs(5), ticks.tick()).await.unwrap();
    assert_eq!(fourth, first + PERIOD * 4);
    assert!(Instant::now() >= fourth);
}

#[runtime::test]
async fn delay_restarts_the_schedule_from_the_late_tick() {
    let Missed {
        mut ticks,
        before,
        after,
        ..
    } = miss_three_ticks(MissedTickBehavior::Delay).await;
    // One period after the moment the late tick was seen, whatever the old schedule said.
    let next = timeout(Duration::from_secs(5), ticks.tick()).await.unwrap();
    assert!(
        next >= before + PERIOD && next <= after + PERIOD,
        "{next:?}"
    );
    assert!(Instant::now() >= next);
    let following = timeout(Duration::from_secs(5), ticks.tick()).await.unwrap();
    assert!(following >= next + PERIOD);
}

#[runtime::test]
async fn skip_drops_missed_ticks_and_keeps_the_grid() {
    let Missed {
        mut ticks,
        first,
        before,
        after,
    } = miss_three_ticks(MissedTickBehavior::Skip).await;
    // The first point of the original grid after the late poll: 2 and 3 periods are skipped.
    let next = timeout(Duration::from_secs(5), ticks.tick()).await.unwrap();
    let offset = next - first;
    assert_eq!(
        offset.as_nanos() % PERIOD.as_nanos(),
        0,
        "{offset:?} is off the grid"
    );
    assert!(next > before && next <= after + PERIOD, "{offset:?}");
    assert!(next >= first + PERIOD * 4);
    assert!(Instant::now() >= next);
}

#[runtime::test]
async fn interval_resets() {
    let mut ticks = interval(Duration::from_secs(3600));
    ticks.tick().await;
    ticks.reset_immediately();
    assert!(tick_is_ready(&mut ticks).await.is_some());
    let soon = Instant::now() + 3 * MS;
    ticks.reset_at(soon);
    assert_eq!(ticks.tick().await, soon);
    let before = Instant::now();
    ticks.reset_after(2 * MS);
    let next = ticks.tick().await;
    assert!(next >= before + 2 * MS && Instant::now() >= next);
    ticks.reset();
    assert!(tick_is_ready(&mut ticks).await.is_none(), "an hour away");
    // `interval_at` starts where it is told.
    let start = Instant::now() + 4 * MS;
    let mut later = interval_at(start, PERIOD);
    assert_eq!(later.tick().await, start);
    assert!(Instant::now() >= start);
}
