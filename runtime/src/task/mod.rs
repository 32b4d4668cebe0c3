//! A spawned future as data: one allocation holding a header and the future (or its output), the
//! references to it (run-queue entries, wakers, the join handle) and its state machine.
//!
//! For users: [`spawn`] a future and await its [`JoinHandle`] (or abort it, from any thread,
//! through an [`AbortHandle`]); collect many tasks' outputs in the order they finish with a
//! [`JoinSet`]; name a task with a [`Builder`]; give the others a turn with [`yield_now`]; run
//! blocking code with [`spawn_blocking`].
//!
//! This module knows nothing of IO or of how queues are kept; it only asks its owner executor to
//! schedule a task (`executor::schedule`) when a waker fires.
//!
//! Reference kinds, each owning one count in the state word (`state.rs`):
//! - the executor's owned-task list, from spawn until the task completes;
//! - the [`JoinHandle`], until it is dropped;
//! - every [`AbortHandle`], until it is dropped;
//! - a `Notified`, the run-queue entry, while the task is `SCHEDULED`;
//! - every [`Waker`](std::task::Waker) made from the task.

mod abort;
mod builder;
mod join;
mod join_set;
mod raw;
pub(crate) mod state;
mod waker;
mod yield_now;

use std::future::Future;
use std::ptr::NonNull;
use std::task::Poll;

pub use crate::blocking::spawn_blocking;
pub use abort::AbortHandle;
pub use builder::Builder;
pub use join::{JoinError, JoinHandle};
pub use join_set::JoinSet;
pub(crate) use raw::{Header, TaskName};
pub use yield_now::yield_now;

use state::PollAction;

/// Spawns a future onto the current thread's runtime and returns a handle to its output.
///
/// The future need not be `Send`: it runs on this thread only (each worker thread runs its own tasks).
///
/// # Panics
/// When called outside a runtime (outside `block_on`, `#[runtime::main]` or a task).
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let shared = std::rc::Rc::new(5); // not Send, and that is fine
/// let s = shared.clone();
/// let handle = runtime::spawn(async move { *s + 1 });
/// assert_eq!(handle.await.unwrap(), 6);
/// # });
/// ```
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    crate::context::with_executor(|executor| executor.spawn(future, ()))
}

/// Allocates a task named `name` (`()` for none), returning (the owned-list reference, the join
/// handle, the first queue entry).
pub(crate) fn new_task<F, N>(
    future: F,
    owner: std::sync::Arc<crate::executor::Shared>,
    name: N,
) -> (OwnedRef, JoinHandle<F::Output>, Notified)
where
    F: Future + 'static,
    N: TaskName,
{
    let raw = raw::allocate(future, owner, name);
    // SAFETY: `allocate` returns a task with three references and SCHEDULED set; each value below
    // takes over exactly one of them, and the JoinHandle's output type is F::Output.
    unsafe {
        (
            OwnedRef(raw),
            JoinHandle::from_raw(raw),
            Notified::from_raw(raw),
        )
    }
}

/// Releases one reference, freeing the task when it was the last.
///
/// # Safety
/// The caller must own one reference to the live task `ptr`, and not use it afterwards.
pub(crate) unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller owns a reference, so the header is alive until the decrement.
    let header = unsafe { ptr.as_ref() };
    if header.state.ref_dec() {
        // SAFETY: that was the last reference; the owner consumed the stage before releasing its
        // own (raw.rs invariants), so only memory is left to free.
        unsafe { (header.vtable.dealloc)(ptr) };
    }
}

/// A run-queue entry: one reference to a task that is `SCHEDULED`.
///
/// It may cross threads (the remote queue), but it is only *run* on the owner thread.
pub(crate) struct Notified(NonNull<Header>);

// SAFETY: a Notified only touches the atomic state and the Arc'd owner from a foreign thread; the
// stage (which may hold a !Send future) is touched only by `run`, which executors call on the
// owner thread, and dropping it frees memory only after the owner consumed the stage.
unsafe impl Send for Notified {}

impl Notified {
    /// # Safety
    /// The caller gives this entry one reference to the live task `ptr`, and the task's
    /// `SCHEDULED` bit was set for it.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified {
        Notified(ptr)
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the entry owns a reference.
        unsafe { self.0.as_ref() }
    }

    /// Hands the entry to its owner executor (local queue or remote queue).
    pub(crate) fn schedule(self) {
        crate::executor::schedule(self)
    }

    /// Polls the task once (or cancels it); returns the raw pointer when the task just ended, so the
    /// executor can unlink it from its owned list and release the owned reference.
    ///
    /// Must be called on the owner thread.
    pub(crate) fn run(self) -> Option<OwnedRef> {
        let ptr = self.0;
        let header = self.header();
        let ended = match header.state.start_poll() {
            PollAction::Skip => false,
            PollAction::Cancel => {
                // SAFETY: owner thread; the future is still running (not COMPLETE).
                unsafe { (header.vtable.cancel)(ptr) };
                true
            }
            PollAction::Poll => {
                crate::context::count(|c| c.polls.inc());
                crate::context::budget::reset();
                // SAFETY: owner thread; RUNNING guards the stage; our reference keeps it alive.
                match unsafe { (header.vtable.poll)(ptr) } {
                    Poll::Ready(()) => true,
                    Poll::Pending if header.state.end_poll() => {
                        // aborted while it was being polled (e.g. it aborted itself)
                        // SAFETY: as above.
                        unsafe { (header.vtable.cancel)(ptr) };
                        true
                    }
                    Poll::Pending => false,
                }
            }
        };
        let owned = ended.then(|| {
            // SAFETY: the task ended; the owned list holds a reference we now take over (the
            // executor unlinks it before anything else touches the list).
            let owned = OwnedRef(ptr);
            owned.finish();
            owned
        });
        drop(self);
        owned
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: the entry owns one reference.
        unsafe { drop_ref(self.0) }
    }
}

/// The owned-task list's reference to a task: how the executor reaches every live task (to drop all
/// of them at shutdown).
pub(crate) struct OwnedRef(NonNull<Header>);

impl OwnedRef {
    pub(crate) fn as_ptr(&self) -> NonNull<Header> {
        self.0
    }

    /// # Safety
    /// The caller hands over the owned-list reference of the live task `ptr`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> OwnedRef {
        OwnedRef(ptr)
    }

    /// Cancels a task that is still running (runtime shutdown): drops its future now.
    pub(crate) fn shutdown(&self) {
        // SAFETY: the owned reference keeps the header alive.
        let header = unsafe { self.0.as_ref() };
        if !header.state.is_complete() {
            // SAFETY: owner thread (shutdown runs where the runtime lives), task not complete.
            unsafe { (header.vtable.cancel)(self.0) };
            self.finish();
        }
    }

    /// The future is gone: mark the task complete, drop the output if nobody wants it, wake the
    /// joiner.
    fn finish(&self) {
        // SAFETY: the owned reference keeps the header alive.
        let header = unsafe { self.0.as_ref() };
        if header.state.complete() {
            if let Some(waker) = header.join_waker.take() {
                waker.wake();
            }
        } else {
            // SAFETY: owner thread, and no JoinHandle can read the output any more.
            unsafe { (header.vtable.drop_stage)(self.0) };
        }
    }
}

impl Drop for OwnedRef {
    fn drop(&mut self) {
        // SAFETY: this value owns the list's reference.
        unsafe { drop_ref(self.0) }
    }
}
