//! Batched waits: let one blocking `io_uring_enter` gather many completions when the load is high.
//!
//! A plain blocking park asks the kernel for one completion (`wait_nr = 1`), so it returns as soon
//! as anything finishes — and a send usually finishes *inside* the enter that submits it. Under a
//! steady load of many connections the run loop therefore spins through short turns of a few
//! completions each, one enter apiece. With `IORING_FEAT_MIN_TIMEOUT` (Linux 6.12+) the enter can
//! say "wait for `wait_nr` completions, but once `min_wait` has passed, settle for whatever is
//! there (at least one)". Near saturation even a short `min_wait` changes the rhythm: the turn
//! that follows has more to do, so more arrives meanwhile, and the next enter collects more again
//! (echo, 100 connections: 30–40 messages per enter with 10 µs, instead of 2–4).
//!
//! The wait is idle time that every request in flight pays for, so it is only spent when requests
//! already take far longer. A batched wait is used only when all of these hold:
//! - the kernel offers the feature and [`Builder::batch_wait`](crate::Builder::batch_wait) is not
//!   zero;
//! - the previous blocking park already reaped at least [`MIN_GROUP`] completions: work arrives in
//!   groups (a ping-pong on one connection never does, so it never waits);
//! - operations stay in the kernel, on average, at least [`LATENCY_FACTOR`] × `min_wait` (one
//!   operation at a time is timed, see [`Batching::submitted`]). With a factor of 4 the echo
//!   benchmark lost 15–50% of its messages/s at 10–30 connections, where requests take 50–200 µs:
//!   a closed-loop client feels every microsecond the server idles. With 20 it engages from about
//!   100 connections on, where the loss stayed within the noise;
//! - a timer is not due sooner than `min_wait`.
//!
//! `wait_nr` is every request in flight (capped at [`MAX_BATCH`]), so the wait normally ends at
//! `min_wait`; it ends sooner when they all complete. Idle connections count as in flight too,
//! which is why the conditions above, not `wait_nr`, decide whether to wait at all.

use std::time::{Duration, Instant};

/// Completions the previous blocking park must have reaped before the next one may wait for more.
pub(super) const MIN_GROUP: usize = 4;
/// How many times `min_wait` operations must already last, on average, to make waiting worth it.
pub(super) const LATENCY_FACTOR: u32 = 20;
/// The most completions one batched wait asks for.
pub(super) const MAX_BATCH: usize = 256;
/// A timed operation still not complete after this long (an idle connection's read, an accept
/// with no client coming) counts as a sample of this long, and another operation is timed.
const PROBE_EXPIRY: Duration = Duration::from_millis(10);
/// The overall timeout of a batched wait that has no timer deadline. The kernel applies `min_wait`
/// only under an overall timeout (without one it would return after `min_wait` even with nothing
/// to reap); when this one passes the run loop simply parks again.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// When and how long the next blocking park waits for more than one completion.
#[derive(Debug)]
pub(super) struct Batching {
    /// The longest a batched wait lingers for more completions; zero: never batch.
    min_wait: Duration,
    /// When the current run-loop turn began (the end of the last park): the time stamp of every
    /// operation queued during the turn. One clock read per park, none per operation.
    turn_start: Instant,
    /// The operation being timed (its slot key) and when it was queued.
    probe: Option<(u64, Instant)>,
    /// Moving average (weight 1/8 per sample) of how long operations stay in the kernel, in µs.
    latency_us: u64,
    /// Completions the last blocking park reaped.
    last_reaped: usize,
}

/// The arguments of one batched wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BatchWait {
    /// `wait_nr`: how many completions would end the wait early.
    pub(super) count: usize,
    /// `min_wait_usec`.
    pub(super) min_wait_us: u32,
}

impl Batching {
    /// `min_wait` of zero, or a kernel without the feature (`supported == false`), turns it off.
    pub(super) fn new(min_wait: Duration, supported: bool) -> Batching {
        Batching {
            min_wait: if supported { min_wait } else { Duration::ZERO },
            turn_start: Instant::now(),
            probe: None,
            latency_us: 0,
            last_reaped: 0,
        }
    }

    /// The kernel refused a batched wait after all: plain waits from now on.
    pub(super) fn disable(&mut self) {
        self.min_wait = Duration::ZERO;
    }

    /// Whether batched waits may happen at all (for `Debug`).
    pub(super) fn enabled(&self) -> bool {
        !self.min_wait.is_zero()
    }

    /// A single-shot operation was queued under `key`: time it if no other one is being timed.
    pub(super) fn submitted(&mut self, key: u64) {
        if !self.enabled() {
            return;
        }
        if let Some((_, since)) = self.probe {
            // Most operations are queued in the turn that queued the probe: no clock arithmetic.
            if since == self.turn_start || self.turn_start.duration_since(since) < PROBE_EXPIRY {
                return;
            }
            // At least that long: operations are slow (or idle) rather than quick.
            self.sample(PROBE_EXPIRY);
        }
        self.probe = Some((key, self.turn_start));
    }

    /// The final CQE of the single-shot operation `key` was reaped (during the park that just
    /// ended, whose end is `turn_start`).
    pub(super) fn completed(&mut self, key: u64) {
        if let Some((probe, since)) = self.probe {
            if probe == key {
                self.sample(self.turn_start.duration_since(since));
                self.probe = None;
            }
        }
    }

    /// Adds one measured operation time to the moving average.
    fn sample(&mut self, took: Duration) {
        let us = took.as_micros().min(u64::MAX as u128) as u64;
        self.latency_us = self.latency_us - self.latency_us / 8 + us / 8;
    }

    /// A park is over: it waited (`blocking`) or only looked, and reaped `reaped` CQEs.
    pub(super) fn parked(&mut self, blocking: bool, reaped: usize) {
        if blocking {
            self.last_reaped = reaped;
        }
    }

    /// Marks the end of the enter, before its CQEs are reaped (they are stamped with this time).
    pub(super) fn enter_returned(&mut self) {
        if self.enabled() {
            self.turn_start = Instant::now();
        }
    }

    /// How the next blocking park should wait, with `in_flight` requests in the kernel (the
    /// wake-up read excluded) and the timer deadline `timeout`; `None` means a plain wait for one
    /// completion.
    pub(super) fn next_wait(
        &self,
        in_flight: usize,
        timeout: Option<Duration>,
    ) -> Option<BatchWait> {
        let min_wait_us = self.min_wait.as_micros().min(u128::from(u32::MAX)) as u64;
        if min_wait_us == 0
            || in_flight < 2
            || self.last_reaped < MIN_GROUP
            || self.latency_us < u64::from(LATENCY_FACTOR) * min_wait_us
            || timeout.is_some_and(|t| t <= self.min_wait)
        {
            return None;
        }
        Some(BatchWait {
            count: in_flight.min(MAX_BATCH),
            min_wait_us: min_wait_us as u32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Batching` whose measurements say "busy": groups of completions, slow operations.
    fn busy() -> Batching {
        let mut b = Batching::new(Duration::from_micros(50), true);
        b.last_reaped = 40;
        b.latency_us = 50 * u64::from(LATENCY_FACTOR);
        b
    }

    #[test]
    fn waits_for_a_batch_only_when_busy() {
        let b = busy();
        assert_eq!(
            b.next_wait(100, None),
            Some(BatchWait {
                count: 100,
                min_wait_us: 50
            })
        );
        assert_eq!(b.next_wait(10_000, None).unwrap().count, MAX_BATCH);
        assert_eq!(b.next_wait(1, None), None, "one request: nothing to batch");

        let mut pingpong = busy();
        pingpong.last_reaped = 1;
        assert_eq!(
            pingpong.next_wait(100, None),
            None,
            "completions come one by one"
        );

        let mut fast = busy();
        fast.latency_us = 50 * LATENCY_FACTOR as u64 - 1;
        assert_eq!(
            fast.next_wait(100, None),
            None,
            "requests are quick: waiting would show"
        );
    }

    #[test]
    fn never_when_off_unsupported_or_a_timer_is_near() {
        let mut off = busy();
        off.disable();
        assert_eq!(off.next_wait(100, None), None);

        let mut unsupported = Batching::new(Duration::from_micros(50), false);
        unsupported.last_reaped = 40;
        unsupported.latency_us = 50 * u64::from(LATENCY_FACTOR);
        assert_eq!(unsupported.next_wait(100, None), None);

        let b = busy();
        assert_eq!(b.next_wait(100, Some(Duration::from_micros(30))), None);
        assert!(b.next_wait(100, Some(Duration::from_millis(5))).is_some());
    }

    #[test]
    fn times_one_operation_at_a_time() {
        let mut b = Batching::new(Duration::from_micros(50), true);
        let start = b.turn_start;
        b.submitted(7);
        b.submitted(8); // 7 is being timed already
        b.turn_start = start + Duration::from_micros(800);
        b.completed(8);
        assert_eq!(b.latency_us, 0, "8 was not timed");
        b.completed(7);
        assert_eq!(b.latency_us, 100, "a first sample of 800 µs weighs 1/8");
        assert!(b.probe.is_none());
    }

    #[test]
    fn a_never_completing_operation_counts_as_slow_and_stops_being_timed() {
        let mut b = Batching::new(Duration::from_micros(50), true);
        let start = b.turn_start;
        b.submitted(7);
        b.turn_start = start + PROBE_EXPIRY;
        b.submitted(9);
        assert_eq!(b.probe.map(|(key, _)| key), Some(9));
        assert_eq!(b.latency_us, PROBE_EXPIRY.as_micros() as u64 / 8);
    }

    /// Against the kernel: a batched wait that asks for more completions than will come gives up
    /// after `min_wait` with what there is, instead of sleeping until the overall timeout.
    #[test]
    fn a_batched_wait_settles_for_fewer_after_min_wait() {
        use io_uring::opcode;

        let min_wait = Duration::from_millis(5);
        let builder = crate::Builder::new().batch_wait(min_wait);
        let Ok(mut driver) = super::super::Driver::new(&builder) else {
            return; // no io_uring on this machine
        };
        if !driver.batching.enabled() {
            return; // a kernel before 6.12: plain waits only
        }
        driver.batching.last_reaped = 100;
        driver.batching.latency_us = 1_000_000;
        // Two no-ops complete at once; pretend ten more requests are in flight, so the wait asks
        // for twelve completions that will never all come.
        for _ in 0..2 {
            driver.push(
                opcode::Nop::new()
                    .build()
                    .user_data(super::super::CANCEL_KEY),
            );
        }
        driver.in_flight += 10;
        let start = Instant::now();
        let result = driver.park(None);
        let waited = start.elapsed();
        driver.in_flight -= 10;
        result.unwrap();
        assert!(waited >= min_wait, "returned before min_wait: {waited:?}");
        assert!(waited < Duration::from_secs(10), "waited {waited:?}");
    }

    #[test]
    fn only_blocking_parks_count_the_group() {
        let mut b = busy();
        b.parked(false, 1);
        assert_eq!(b.last_reaped, 40);
        b.parked(true, 2);
        assert_eq!(b.last_reaped, 2);
    }
}
