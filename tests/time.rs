//! Timers: `sleep`, `sleep_until`, `timeout` and `interval`, on every compiled backend.
//!
//! Time is the one thing these tests *measure*: they check that a timer never fires before its
//! deadline and that timers fire in deadline order. They never assert an upper bound on lateness
//! (a loaded machine may run them late), only that everything finishes.

use std::cell::RefCell;
use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use runtime::time::{interval, sleep, sleep_until, timeout, Elapsed, Sleep};

const MS: Duration = Duration::from_millis(1);

/// Sleeps until `base + delay` for every delay, each in its own task, and returns the delays in
/// the order the tasks woke up.
///
/// A timer is registered when its `Sleep` is first polled. Tasks are first polled in batches with
/// driver turns (and timer firings) in between, so a late-polled task could legitimately wake after
/// an earlier-registered timer with a later deadline. To test the wheel's order and nothing else,
/// every `Sleep` is polled once here, all in one go, before its task is spawned; `base` lies far
/// enough ahead that none is due yet.
async fn wake_order(delays_ms: &[u32]) -> Vec<u32> {
    let base = Instant::now() + 100 * MS;
    let mut sleeps: Vec<Sleep> = delays_ms
        .iter()
        .map(|&d| sleep_until(base + MS * d))
        .collect();
    poll_fn(|cx| {
        for s in &mut sleeps {
            assert!(
                Pin::new(s).poll(cx).is_pending(),
                "the machine is too slow for this test"
            );
        }
        Poll::Ready(())
    })
    .await;

    let woke = Rc::new(RefCell::new(Vec::new()));
    let mut handles = Vec::new();
    for (sleep, &delay) in sleeps.into_iter().zip(delays_ms) {
        let woke = woke.clone();
        handles.push(runtime::spawn(async move {
            let deadline = sleep.deadline();
            sleep.await;
            assert!(
                Instant::now() >= deadline,
                "a timer fired before its deadline"
            );
            woke.borrow_mut().push(delay);
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let woke = woke.borrow().clone();
    woke
}

#[runtime::test]
async fn timers_fire_in_deadline_order() {
    // A scrambled order of distinct deadlines 3 ms apart.
    let delays_ms = [27u32, 3, 18, 0, 9, 24, 6, 21, 12, 15, 30];
    let mut expected = delays_ms.to_vec();
    expected.sort_unstable();
    assert_eq!(wake_order(&delays_ms).await, expected);
}

#[runtime::test]
async fn many_timers_all_fire_in_order() {
    // 1000 timers over 0..50 ms, about 20 per millisecond: timers due in the same millisecond may
    // fire in any order, so only the millisecond is compared.
    let mut x: u32 = 0x9e37_79b9;
    let delays_ms: Vec<u32> = (0..1000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % 50
        })
        .collect();
    let woke = wake_order(&delays_ms).await;
    assert_eq!(woke.len(), delays_ms.len());
    assert!(
        woke.windows(2).all(|w| w[0] <= w[1]),
        "timers fired out of deadline order: {woke:?}"
    );
}

#[runtime::test]
async fn sleep_waits_at_least_its_duration() {
    let start = Instant::now();
    sleep(20 * MS).await;
    assert!(start.elapsed() >= 20 * MS);
}

#[runtime::test]
async fn sleep_zero_completes() {
    let s = sleep(Duration::ZERO);
    // Its deadline is now or already past...
    assert!(s.deadline() <= Instant::now());
    // ...and awaiting it returns (at the latest after one driver turn).
    s.await;
    // A deadline in the past behaves the same.
    sleep_until(Instant::now() - 10 * MS).await;
}

#[runtime::test]
async fn timeout_elapses_and_drops_the_future() {
    struct SetOnDrop(Rc<RefCell<bool>>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    let dropped = Rc::new(RefCell::new(false));
    let guard = SetOnDrop(dropped.clone());
    let start = Instant::now();
    let result = timeout(20 * MS, async move {
        let _guard = guard;
        pending::<()>().await
    })
    .await;
    let elapsed: Elapsed = result.expect_err("a pending future cannot finish in time");
    assert_eq!(elapsed.to_string(), "deadline has elapsed");
    assert!(start.elapsed() >= 20 * MS, "timeout elapsed early");
    assert!(*dropped.borrow(), "the timed-out future was not dropped");
}

#[runtime::test]
async fn timeout_of_a_ready_future_is_ok() {
    assert_eq!(timeout(Duration::from_secs(10), async { 7 }).await, Ok(7));
    // The inner future is polled before the deadline is looked at: a zero timeout still lets a
    // ready future through.
    assert_eq!(timeout(Duration::ZERO, async { 8 }).await, Ok(8));
    // A future that finishes before the deadline wins, after a real wait.
    let result = timeout(Duration::from_secs(10), async {
        sleep(5 * MS).await;
        9
    })
    .await;
    assert_eq!(result, Ok(9));
}

#[runtime::test]
async fn a_finished_timeout_does_not_fire_later() {
    // The sleep inside a finished `Timeout` is cancelled: a long one must not keep anything alive,
    // and a later short sleep still works normally.
    for _ in 0..100 {
        assert_eq!(timeout(Duration::from_secs(3600), async { 1 }).await, Ok(1));
    }
    sleep(MS).await;
}

#[runtime::test]
async fn interval_ticks_every_period() {
    let period = 10 * MS;
    let start = Instant::now();
    let mut ticks = interval(period);
    let first = ticks.tick().await;
    let mut previous = first;
    for _ in 0..4 {
        let tick = ticks.tick().await;
        // Each tick is scheduled one period after the previous one, and never fires early.
        assert_eq!(tick - previous, period);
        assert!(Instant::now() >= tick);
        previous = tick;
    }
    assert!(start.elapsed() >= 4 * period);
    assert_eq!(ticks.period(), period);
}
