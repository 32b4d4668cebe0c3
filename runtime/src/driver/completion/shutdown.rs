//! Dropping the driver without letting the kernel write into freed memory.
//!
//! Requests still in flight point into memory the driver owns: orphaned ops' buffers, the
//! provided-buffer ring, the wake-up read's `u64`. Closing the ring makes the kernel cancel them,
//! but asynchronously. So the driver first cancels everything itself (one `AsyncCancel` matching
//! any request, 5.19+), then waits — at most [`PATIENCE`] — until every final CQE arrived. If some
//! never do, the memory they point into is leaked rather than freed: a bounded leak at shutdown is
//! safe, a use-after-free by the kernel is not.

use std::time::{Duration, Instant};

use io_uring::{opcode, types::CancelBuilder};

use super::{Driver, CANCEL_KEY};

/// How long a dropped driver waits for its cancelled requests to finish.
const PATIENCE: Duration = Duration::from_secs(2);

impl Drop for Driver {
    fn drop(&mut self) {
        if self.in_flight > 0 {
            crate::context::count(|c| c.cancels.inc());
            self.push(
                opcode::AsyncCancel2::new(CancelBuilder::any())
                    .build()
                    .user_data(CANCEL_KEY),
            );
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
        if self.in_flight > 0 {
            // The kernel may still write into these: never free them.
            self.ops.drain().for_each(std::mem::forget);
            std::mem::forget(self.bufring.take());
            std::mem::forget(std::mem::take(&mut self.wake_buf));
        }
        // The ring closes when the fields drop, before the buffer ring (field order).
    }
}
