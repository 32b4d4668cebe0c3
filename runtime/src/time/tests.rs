//! Tests of the time futures on a real runtime, on every compiled backend.
//!
//! These sleep for real (a few milliseconds): waiting is the behaviour under
//! test. Assertions only bound times from below, never from above, so a slow
//! machine cannot make them fail.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::{interval, sleep, sleep_until, timeout, timeout_at, Elapsed, MissedTickBehavior};
use crate::{context, Runtime};

const MS: Duration = Duration::from_millis(1);

/// Runs `test` once on a fresh runtime of each compiled backend.
fn on_each_backend<F: Future<Output = ()>>(test: impl Fn() -> F) {
    crate::__private::run_test(None, "time", test);
}

fn pending_timers() -> usize {
    context::with_timers(|timers| timers.len())
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn sleep_waits_at_least_its_duration() {
    on_each_backend(|| async {
        let start = Instant::now();
        sleep(15 * MS).await;
        assert!(start.elapsed() >= 15 * MS);
        assert_eq!(pending_timers(), 0);
    });
}

#[test]
fn sleep_in_the_past_completes_at_once_even_without_a_runtime() {
    let mut past = sleep_until(Instant::now() - MS);
    assert!(poll_once(&mut past).is_ready());
    assert!(past.is_elapsed());
    assert!(poll_once(&mut sleep(Duration::ZERO)).is_ready());
}

#[test]
#[should_panic(expected = "there is no runtime on this thread")]
fn pending_sleep_outside_a_runtime_panics() {
    let _ = poll_once(&mut sleep(Duration::from_secs(1)));
}

#[test]
fn sleeping_tasks_wake_in_deadline_order() {
    on_each_backend(|| async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let handles: Vec<_> = (0..10u64)
            .rev()
            .map(|i| {
                let order = order.clone();
                crate::spawn(async move {
                    sleep(Duration::from_millis(2 * i)).await;
                    order.borrow_mut().push(i);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(*order.borrow(), (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn timeout_returns_the_output_or_elapsed() {
    on_each_backend(|| async {
        assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
        // The unused timer was cancelled with the `Timeout`.
        assert_eq!(pending_timers(), 0);

        let start = Instant::now();
        let slow = timeout(10 * MS, sleep(Duration::from_secs(60))).await;
        let elapsed: Elapsed = slow.unwrap_err();
        assert!(start.elapsed() >= 10 * MS);
        assert_eq!(elapsed.to_string(), "deadline has elapsed");
        assert_eq!(pending_timers(), 0);

        // A ready future wins even when the deadline has already passed.
        let past = Instant::now() - MS;
        assert_eq!(timeout_at(past, async { "ready" }).await, Ok("ready"));
    });
}

#[test]
fn dropping_a_pending_sleep_cancels_its_timer() {
    on_each_backend(|| async {
        let mut long = sleep(Duration::from_secs(60));
        assert!(poll_once(&mut long).is_pending());
        assert_eq!(pending_timers(), 1);
        drop(long);
        assert_eq!(pending_timers(), 0);
    });
}

#[test]
fn reset_moves_the_deadline() {
    on_each_backend(|| async {
        let start = Instant::now();
        let mut nap = sleep(Duration::from_secs(60));
        assert!(poll_once(&mut nap).is_pending());
        nap.reset(start + 5 * MS);
        assert_eq!(pending_timers(), 0);
        (&mut nap).await;
        assert!(start.elapsed() >= 5 * MS);
        // Reset after completion: it waits again.
        nap.reset(Instant::now() + 5 * MS);
        assert!(!nap.is_elapsed());
        nap.await;
    });
}

#[test]
fn interval_ticks_on_schedule() {
    on_each_backend(|| async {
        let start = Instant::now();
        let mut every = interval(5 * MS);
        let first = every.tick().await;
        assert!(first <= Instant::now() && first >= start);
        let second = every.tick().await;
        let third = every.tick().await;
        assert_eq!(second - first, 5 * MS);
        assert_eq!(third - second, 5 * MS);
        assert!(Instant::now() >= third);
    });
}

#[test]
fn interval_bursts_after_missed_ticks() {
    on_each_backend(|| async {
        let mut every = interval(2 * MS);
        assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
        let first = every.tick().await;
        // Fall behind by several periods.
        sleep(10 * MS).await;
        for n in 1..=4 {
            let tick = every.tick().await;
            assert_eq!(tick, first + 2 * MS * n);
        }
    });
}

#[test]
fn sleep_moved_between_runtimes() {
    let first = Runtime::new().unwrap();
    let second = Runtime::new().unwrap();
    let mut nap = sleep(10 * MS);
    first.block_on(async {
        assert!(poll_once(&mut nap).is_pending());
    });
    // Registered with `first`; awaiting it in `second` registers it there.
    second.block_on(async {
        nap.await;
        assert_eq!(pending_timers(), 0);
    });
    drop(first);
}

#[test]
fn dropping_a_sleep_after_its_runtime_is_fine() {
    let rt = Runtime::new().unwrap();
    let mut nap = sleep(Duration::from_secs(60));
    rt.block_on(async {
        assert!(poll_once(&mut nap).is_pending());
    });
    drop(rt);
    drop(nap);
}
