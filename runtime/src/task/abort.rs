//! [`AbortHandle`]: the permission to abort a task, without the permission to await it.
//!
//! It owns one reference to the task (like a `Waker`), and touches only the atomic state word and
//! the owner's queues, which is what a waker does from any thread: so, unlike a
//! [`JoinHandle`](super::JoinHandle), it is `Send + Sync`.

use std::fmt;
use std::ptr::NonNull;

use super::raw::Header;
use super::state::WakeAction;
use super::Notified;

/// Aborts a spawned task from anywhere, without awaiting it.
///
/// Made by [`JoinHandle::abort_handle`](super::JoinHandle::abort_handle) and returned by
/// [`JoinSet::spawn`](super::JoinSet::spawn). Dropping it does nothing to the task.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let handle = runtime::spawn(std::future::pending::<()>());
/// let abort = handle.abort_handle();
/// std::thread::spawn(move || abort.abort()).join().unwrap();
/// assert!(handle.await.unwrap_err().is_cancelled());
/// # });
/// ```
pub struct AbortHandle {
    raw: NonNull<Header>,
}

// SAFETY: an AbortHandle touches only the task's atomic state word and its owner's `Arc<Shared>`
// (to queue the task), as a `Waker` does; the stage, which may hold a !Send future, is consumed
// by the owner thread before the last reference goes (raw.rs invariants).
unsafe impl Send for AbortHandle {}
// SAFETY: as above; `abort` and `is_finished` take `&self` and use only atomic operations.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// # Safety
    /// The caller gives the handle one reference to the live task `raw`.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> AbortHandle {
        AbortHandle { raw }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle owns a reference, so the header is alive.
        unsafe { self.raw.as_ref() }
    }

    /// Asks the task to stop, as [`JoinHandle::abort`](super::JoinHandle::abort) does: its future
    /// is dropped the next time its executor reaches it. May be called from any thread.
    pub fn abort(&self) {
        abort(self.header(), self.raw);
    }

    /// Whether the task has ended (finished, panicked or was aborted).
    pub fn is_finished(&self) -> bool {
        self.header().state.is_complete()
    }
}

/// Marks the task `raw` (whose `header` the caller keeps alive) cancelled and, unless it is
/// queued, running or complete, queues it so that its executor drops the future.
pub(super) fn abort(header: &Header, raw: NonNull<Header>) {
    if header.state.cancel() == WakeAction::Schedule {
        // SAFETY: `cancel` set SCHEDULED and took a reference for this entry.
        unsafe { Notified::from_raw(raw) }.schedule();
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: the handle owned one reference, released exactly once.
        unsafe { super::drop_ref(self.raw) }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
