//! The blocking pool: a few ordinary threads per runtime for work that would stall a worker thread
//! — a long computation, a library that only offers blocking calls, and (under epoll) file IO.
//!
//! A worker thread must never block: while it sits in a syscall, none of its tasks, timers or
//! sockets make progress. [`spawn_blocking`] moves the closure to a pool thread instead and hands
//! back an ordinary [`JoinHandle`]:
//!
//! ```text
//! worker thread                                     pool thread
//!   spawn_blocking(f) ── job (f + oneshot sender) ──►  queue ──► f() (panics caught)
//!   spawn(task awaiting the oneshot receiver)                      │
//!   ...other tasks run...                                          ▼
//!   task woken through the remote queue + eventfd ◄──── sender.send(result) wakes the task's waker
//!   task returns f's value (or resumes f's panic) ──► JoinHandle<T>
//! ```
//!
//! The result travels back through a plain task [`Waker`](std::task::Waker), which already knows
//! how to wake a task from a foreign thread (see `executor/shared.rs`): the pool needs no channel
//! of its own into the executor.
//!
//! Threads start on demand, up to
//! [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads), and exit after
//! [`Builder::blocking_keep_alive`](crate::Builder::blocking_keep_alive) without work. Syscalls
//! made on a pool thread are counted in *that* thread's [`Stats`](crate::Stats), not in the
//! worker's. See `pool.rs` for the queue, and for what happens when the runtime is dropped.

pub(crate) mod oneshot;
mod pool;

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use pool::{on_pool_thread, Pool};

use crate::task::{JoinError, JoinHandle};

/// Runs the blocking closure `f` on the runtime's blocking pool and returns a handle to its value.
///
/// Use it for anything that would hold up the worker thread: CPU-heavy work, blocking library
/// calls, `std::fs` or `std::net` calls. The closure starts right away (it does not wait for the
/// handle to be polled) and runs to the end even if the handle is dropped or aborted: a thread
/// cannot be interrupted. A panic in `f` is caught and reported as a [`JoinError`] whose
/// `is_panic()` is true.
///
/// At most [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads) closures run at
/// once; the others wait in a queue.
///
/// # Panics
/// When called outside a runtime.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let digest = runtime::task::spawn_blocking(|| {
///     // Pretend this is a slow hash, or a blocking library call.
///     (1..=1000u64).sum::<u64>()
/// });
/// assert_eq!(digest.await.unwrap(), 500_500);
/// # });
/// ```
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let result = run(f);
    crate::spawn(async move {
        match result.await {
            Ok(value) => value,
            // Re-raised inside the task, so the task's own panic catching turns it into the
            // JoinError, payload intact (`resume_unwind` does not print it a second time).
            Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
            // The pool drops unstarted jobs only when the runtime is dropped, and the runtime
            // drops its tasks (this one included) before its pool.
            Err(_) => unreachable!("a blocking job was dropped while its task was still alive"),
        }
    })
}

/// Queues `f` on the current runtime's pool now, and returns a future of its outcome: its value,
/// its panic, or `cancelled` if the runtime was dropped before it ran. Crate-internal callers (file
/// operations) await this directly, without a task in between.
///
/// # Panics
/// When called outside a runtime.
pub(crate) fn run<F, T>(f: F) -> Pending<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job = Box::new(move || {
        // AssertUnwindSafe: after a panic nothing of `f` is used again; the payload goes to the
        // awaiter, like a task's panic goes to its JoinHandle.
        tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    crate::context::with_blocking_pool(|pool| pool.spawn(job));
    Pending { rx }
}

/// The outcome of a job queued by [`run`].
pub(crate) struct Pending<T> {
    rx: oneshot::Receiver<std::thread::Result<T>>,
}

impl<T> Future for Pending<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|outcome| match outcome {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(payload)) => Err(JoinError::panic(payload)),
                Err(oneshot::Closed) => Err(JoinError::cancelled()),
            })
    }
}
