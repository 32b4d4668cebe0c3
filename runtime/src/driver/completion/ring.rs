//! Talking to the ring: queue SQEs, make the one `io_uring_enter` per park turn, reap CQEs.
//!
//! - **Batching.** `push` only writes into the shared submission queue; nothing reaches the kernel
//!   until `enter`, which submits the whole batch and waits in the same syscall. When the SQ is
//!   full, `push` submits what is there and retries: an op is never dropped.
//! - **No needless syscalls.** A non-blocking park (`Some(ZERO)`) enters the kernel only when SQEs
//!   are queued or the kernel flagged pending work (`IORING_SQ_TASKRUN`) or a CQ overflow;
//!   otherwise it just reads the CQ, which is shared memory.
//! - **Batched waits.** Under a high load a blocking park waits for many completions, at most
//!   `min_wait` longer than for the first one (see [`batch`](super::batch)), so that one enter
//!   serves dozens of messages instead of a few.
//! - **No lost completions.** The ring is created with `IORING_FEAT_NODROP` (checked by the
//!   probe): when the CQ is full the kernel keeps further CQEs aside and sets
//!   `IORING_SQ_CQ_OVERFLOW`; after reaping, `reap` sees the flag and enters with `GETEVENTS` to
//!   flush them into the CQ, then reaps again.
//! - **A panicking waker costs nobody else anything.** Wakers are the application's code. Each
//!   CQE is handled under `catch_unwind`, and the driver's own state (slot, counters, a feed's
//!   stash and buffer) is final before anyone is woken, so a waker that panics leaves the driver
//!   consistent and every other CQE of the batch is still handled; the first panic is resumed
//!   when the park returns. (An orphaned op's `orphaned` hook runs last; a panic inside it can
//!   only cut that hook short.)
//! - **Cancelling now.** [`flush`](Driver::flush) submits and runs the kernel's pending
//!   completion work without waiting: a cancelled request's final CQE (which releases its
//!   descriptor) is reaped before it returns, so closing a socket is not put off until the next
//!   park.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use io_uring::{cqueue, squeue, types, EnterFlags};

use super::batch::{BatchWait, IDLE_TIMEOUT};
use super::lifecycle::{to_result, Reaped};
use super::{Driver, CANCEL_KEY, WAKE_KEY};
use crate::context::count;

/// CQEs copied out of the ring per batch (the ring's head is released after each batch).
const BATCH: usize = 64;

impl Driver {
    /// Queues one SQE; submits first when the queue is full.
    pub(super) fn push(&mut self, sqe: squeue::Entry) {
        count_kind(&sqe);
        crate::trace::sqe(sqe.get_opcode(), sqe.get_user_data());
        loop {
            // SAFETY: every SQE the driver builds points only into heap memory owned by the
            // request's slot (the op, the feed's bufring, the driver's wake buffer), which lives
            // until the request's final CQE (see `lifecycle` and `shutdown`).
            if unsafe { self.ring.submission().push(&sqe) }.is_ok() {
                return;
            }
            count(|c| c.uring_sq_full.inc());
            if let Err(e) = self.submit() {
                if e.raw_os_error() == Some(libc::EBUSY) {
                    // The CQ is full and the kernel holds overflowed CQEs: make room.
                    self.reap();
                } else {
                    // Nothing sensible is left but to wait for the kernel to take entries.
                    let _ = self.ring.submitter().squeue_wait();
                }
            }
        }
    }

    /// Submits the queued SQEs without waiting.
    fn submit(&mut self) -> io::Result<usize> {
        count(|c| c.uring_enter.inc());
        let n = self.ring.submit()?;
        count(|c| c.sqes_submitted.add(n as u64));
        Ok(n)
    }

    /// Submits what is queued and reaps what the kernel can finish without waiting, until no
    /// closed descriptor's feed is left to cancel (dropping what a CQE delivered can close one).
    pub(super) fn flush(&mut self) {
        loop {
            count(|c| c.uring_enter.inc());
            let to_submit = self.ring.submission().len() as u32;
            // SAFETY: no argument pointer is passed. `GETEVENTS` with `min_complete = 0` never
            // waits: it runs the completion work the kernel deferred to this thread (a cancelled
            // request's end, under DEFER_TASKRUN) and posts its CQEs before returning.
            let submitted = unsafe {
                self.ring.submitter().enter::<libc::sigset_t>(
                    to_submit,
                    0,
                    EnterFlags::GETEVENTS.bits(),
                    None,
                )
            };
            // An error (EINTR, EBUSY on a CQ overflow) is not the flush's failure: what was not
            // submitted stays queued for the next enter, and the reap makes room.
            if let Ok(n) = submitted {
                count(|c| c.sqes_submitted.add(n as u64));
            }
            self.reap();
            if self.closed_feeds.borrow().is_empty() {
                return;
            }
            self.cancel_closed_feeds();
        }
    }

    /// The park turn's one syscall (or none): submit everything and wait up to `timeout`.
    pub(super) fn enter(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let result = match timeout {
            Some(Duration::ZERO) => {
                let sq = self.ring.submission();
                let needed = !sq.is_empty() || sq.taskrun() || sq.cq_overflow();
                drop(sq);
                if !needed {
                    return Ok(());
                }
                self.submit().map(drop)
            }
            None => self.wait(None),
            Some(t) => self.wait(Some(t)),
        };
        match result {
            // ETIME: the timeout passed; EINTR: a signal; EBUSY: CQ overflow backlog (the reap
            // that follows makes room). None of them is a failure of the wait.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// Submits and waits for at least one CQE, or until `timeout` — or, under a high load, for a
    /// batch of them (see [`batch`](super::batch)).
    fn wait(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let requests = self.in_flight - usize::from(self.wake_armed);
        if let Some(batch) = self.batching.next_wait(requests, timeout) {
            match self.wait_batch(batch, timeout) {
                // A kernel that advertised the feature but refuses the argument: stop asking.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => self.batching.disable(),
                result => return result,
            }
        }
        count(|c| c.uring_enter.inc());
        let n = match timeout {
            None => self.ring.submitter().submit_and_wait(1)?,
            Some(t) => {
                let ts = timespec(t);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.ring.submitter().submit_with_args(1, &args)?
            }
        };
        count(|c| c.sqes_submitted.add(n as u64));
        Ok(())
    }

    /// Submits and waits for `batch.count` CQEs; once `batch.min_wait_us` has passed, for at least
    /// one. Never longer than `timeout`.
    fn wait_batch(&mut self, batch: BatchWait, timeout: Option<Duration>) -> io::Result<()> {
        count(|c| c.uring_enter.inc());
        let ts = timespec(timeout.unwrap_or(IDLE_TIMEOUT));
        let args = types::SubmitArgs::new()
            .timespec(&ts)
            .min_wait_usec(batch.min_wait_us);
        let n = self.ring.submitter().submit_with_args(batch.count, &args)?;
        count(|c| c.sqes_submitted.add(n as u64));
        Ok(())
    }

    /// Takes every CQE there is (flushing overflowed ones too) and acts on each. Returns how many.
    ///
    /// A panic while handling a CQE (a waker is the application's code) is kept in
    /// `self.panicked`, for `park` to resume, and the reap goes on.
    pub(super) fn reap(&mut self) -> usize {
        let mut batch = [(0u64, 0i32, 0u32); BATCH];
        let mut total = 0;
        loop {
            let mut n = 0;
            {
                let cq = self.ring.completion();
                for cqe in cq.take(BATCH) {
                    batch[n] = (cqe.user_data(), cqe.result(), cqe.flags());
                    n += 1;
                }
                // Dropping `cq` releases the entries to the kernel.
            }
            count(|c| c.cqes_reaped.add(n as u64));
            total += n;
            for &(key, result, flags) in &batch[..n] {
                crate::trace::cqe(key, result, flags);
                // Unwind safety: `on_cqe` brings the driver's state to its final form before it
                // wakes anyone (or runs an orphan's hook), so a panic can only come after that.
                let handled = catch_unwind(AssertUnwindSafe(|| self.on_cqe(key, result, flags)));
                if let Err(panic) = handled {
                    self.panicked.get_or_insert(panic);
                }
            }
            if n == BATCH {
                continue;
            }
            if self.ring.submission().cq_overflow() {
                count(|c| c.uring_cq_overflows.inc());
                // An enter with GETEVENTS (the flag makes `submit` add it) moves the kernel's
                // overflowed CQEs into the ring.
                let _ = self.submit();
                continue;
            }
            return total;
        }
    }

    /// One completion. Whoever must be woken is woken last.
    fn on_cqe(&mut self, key: u64, result: i32, flags: u32) {
        match key {
            WAKE_KEY => {
                // Another thread unparked us; re-armed at the next park.
                self.wake_armed = false;
                self.in_flight -= 1;
            }
            CANCEL_KEY => {} // ENOENT / EALREADY: the target's own CQE tells the story
            key => {
                let Some(slot) = self.ops.get_mut(key) else {
                    debug_assert!(false, "CQE for a freed slot");
                    return;
                };
                match slot.on_cqe(result, flags) {
                    Reaped::Stored(waiter) => {
                        self.in_flight -= 1;
                        self.batching.completed(key);
                        if let Some(waker) = waiter {
                            waker.wake();
                        }
                    }
                    Reaped::Orphaned(op) => {
                        self.in_flight -= 1;
                        self.batching.completed(key);
                        self.ops.remove(key);
                        op.orphaned(to_result(result));
                    }
                    Reaped::Feed(fd, kind) => {
                        let more = cqueue::more(flags);
                        if !more {
                            self.in_flight -= 1;
                            self.ops.remove(key);
                        }
                        self.on_feed_cqe(key, &fd, kind, result, flags, more);
                    }
                }
            }
        }
    }

    /// Cancels the feeds of descriptors that were closed since the last park.
    pub(super) fn cancel_closed_feeds(&mut self) {
        if self.closed_feeds.borrow().is_empty() {
            return;
        }
        let keys = std::mem::take(&mut *self.closed_feeds.borrow_mut());
        for key in keys {
            self.cancel(key);
        }
    }
}

/// A relative timeout for `io_uring_enter`.
fn timespec(t: Duration) -> types::Timespec {
    types::Timespec::new()
        .sec(t.as_secs())
        .nsec(t.subsec_nanos())
}

/// Counts an SQE by kind (a byte compare: cheap enough to do always).
fn count_kind(sqe: &squeue::Entry) {
    use io_uring::opcode;
    let code = sqe.get_opcode() as u8;
    count(|c| match code {
        opcode::Recv::CODE | opcode::RecvMsg::CODE => c.uring_recv_sqes.inc(),
        opcode::Send::CODE | opcode::SendMsg::CODE => c.uring_send_sqes.inc(),
        opcode::Accept::CODE => c.uring_accept_sqes.inc(),
        _ => c.uring_other_sqes.inc(),
    });
}
