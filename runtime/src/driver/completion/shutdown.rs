//! Dropping the driver without letting the kernel write into freed memory.
//!
//! Requests still in flight point into memory the driver owns: orphaned ops' buffers, the
//! provided-buffer ring, the wake-up read's `u64`. Closing the ring makes the kernel cancel them,
//! but asynchronously. So the driver first ends every request itself, then waits — at most
//! [`PATIENCE`] — until every final CQE arrived:
//! - each request it knows is cancelled by its key: every slot still in the kernel (single-shot
//!   operations, orphans and multishot feeds) and the wake-up read. One `AsyncCancel` matching
//!   *any* request would do, but only from Linux 5.19; the driver runs on 5.11;
//! - the wake-up read is also completed, by a write to the eventfd: a read the kernel handed to a
//!   worker thread (a file without non-blocking reads) may not be cancellable, but it does end
//!   when there is something to read.
//!
//! If some final CQEs never come, the memory their requests point into is leaked rather than
//! freed (and counted in `Stats::uring_leaked`): a bounded leak at shutdown is safe, a
//! use-after-free by the kernel is not.

use std::time::{Duration, Instant};

use super::{Driver, WAKE_KEY};

/// How long a dropped driver waits for its cancelled requests to finish.
const PATIENCE: Duration = Duration::from_secs(2);

impl Drop for Driver {
    fn drop(&mut self) {
        if self.in_flight > 0 {
            self.end_every_request();
            let deadline = Instant::now() + PATIENCE;
            while self.in_flight > 0 {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                let step = (deadline - now).min(Duration::from_millis(50));
                let _ = self.enter(Some(step));
                self.reap();
            }
        }
        // A waker that panicked meanwhile has nobody left to report to.
        drop(self.panicked.take());
        if self.in_flight > 0 {
            crate::context::count(|c| c.uring_leaked.add(self.in_flight as u64));
            // The kernel may still write into these: never free them.
            self.ops.drain().for_each(std::mem::forget);
            std::mem::forget(self.bufring.take());
            std::mem::forget(std::mem::take(&mut self.wake_buf));
        }
        // The ring closes when the fields drop, before the buffer ring (field order).
    }
}

impl Driver {
    /// Asks the kernel to end every request the driver knows of (see the module docs).
    fn end_every_request(&mut self) {
        let keys: Vec<u64> = self
            .ops
            .iter()
            .filter(|(_, slot)| slot.in_kernel())
            .map(|(key, _)| key)
            .collect();
        for key in keys {
            self.cancel(key);
        }
        if self.wake_armed {
            self.cancel(WAKE_KEY);
            self.eventfd.wake();
        }
    }
}
