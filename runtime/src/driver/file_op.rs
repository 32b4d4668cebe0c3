//! Where file operations part ways: the one place that decides how a file op gets done.
//!
//! - **io_uring** (completion): the op is submitted like a socket op ([`Op`](super::Op)); the
//!   kernel waits for the disk itself and the worker thread never blocks. (A kernel that lacks one
//!   of the file opcodes — `MKDIRAT` came in 5.15 — takes the pool path below instead.)
//! - **epoll** (readiness): readiness means nothing for a regular file (it is always "ready", and
//!   `epoll_ctl` rejects it with `EPERM`), yet its syscalls may block on the disk. So the op's
//!   `attempt` — a plain blocking syscall — and its `complete` run on the blocking pool, and the
//!   task awaits the result, woken from the pool thread like by any other remote waker.
//!
//! Either way the caller gets the same output, and the op is described once (`ops/fs/`).

use std::io;
use std::panic::resume_unwind;

use super::op::Operation;

/// Performs the file operation `op` with whichever backend the current runtime runs.
///
/// # Panics
/// Outside a runtime; when the op panics on the pool thread (a bug; the panic is carried over);
/// when the runtime was dropped before the pool ran the op (the awaiting future outlived it).
pub(crate) async fn run<T>(op: T) -> T::Output
where
    T: Operation + Send,
    T::Output: Send,
{
    if crate::context::with_driver(|driver| driver.completes_files()) {
        return super::Op::new(op).await;
    }
    on_blocking_pool(op).await
}

/// The readiness backend's way: the blocking syscall on a pool thread.
async fn on_blocking_pool<T>(mut op: T) -> T::Output
where
    T: Operation + Send,
    T::Output: Send,
{
    let outcome = crate::blocking::run(move || {
        let result = loop {
            match op.attempt() {
                // A signal arrived before any data moved: simply ask again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => break result,
            }
        };
        op.complete(result)
    })
    .await;
    match outcome {
        Ok(output) => output,
        Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
        Err(_) => panic!("the runtime was dropped before this file operation could run"),
    }
}
