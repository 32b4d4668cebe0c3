//! Bad input: values at the edges of what each API accepts (huge durations, huge counts, ranges
//! ending at `usize::MAX`, paths with NUL bytes, files that have no position). Each must get a
//! clear error or a clear panic — the same one on every backend — never an overflow, an abort or
//! a silently wrong answer.

use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use runtime::time::{interval, timeout};

/// `interval`'s schedule saturates at a far future instead of overflowing `Instant`.
#[runtime::test]
async fn interval_with_a_huge_period_never_overflows() {
    for period in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        let mut ticks = interval(period);
        ticks.tick().await; // the first tick completes at once
        // The second tick is computed (this overflowed) and is far away.
        let second = timeout(Duration::from_millis(5), ticks.tick()).await;
        assert!(second.is_err(), "{period:?}: the second tick came early");
        ticks.reset();
        let pending = poll_fn(|cx| Poll::Ready(ticks.poll_tick(cx).is_pending())).await;
        assert!(pending, "{period:?}: a tick was due right after reset");
    }
}
