//! One IO operation, two faces.
//!
//! An [`Operation`] is a plain value (the fd, the buffer, an address) that knows how to get itself
//! done by either model:
//!
//! - **readiness face** (epoll): *which* direction to wait for ([`interest`](Operation::interest)),
//!   then the non-blocking syscall to retry ([`attempt`](Operation::attempt)) until it stops
//!   answering `WouldBlock`. The program copies the data itself, in `attempt`.
//! - **completion face** (io_uring): the submission queue entry ([`sqe`](Operation::sqe)) that asks
//!   the kernel to do the whole thing, copy included.
//!
//! Both faces end in [`complete`](Operation::complete), which turns the raw result into the output
//! and hands the buffer back. [`Op`] is the future that drives an operation through whichever
//! driver the runtime runs; only the drivers look at the faces.
//!
//! # Invariant (completion face)
//! An SQE may point only at memory the operation owns *on the heap* (a buffer's storage, a boxed
//! address): never at the operation value itself, which moves (e.g. into the driver when its future
//! is dropped early). The driver keeps the operation alive until the kernel reports completion.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::fd::SharedFd;
use super::identity::DriverId;

/// Which readiness an operation waits for.
#[cfg_attr(not(feature = "epoll"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// An IO operation described once for both backends. See the module docs.
pub(crate) trait Operation: Sized + 'static {
    /// What the caller gets back (usually the result and the buffer).
    type Output;

    /// Readiness face: the descriptor and the direction to wait for before each attempt.
    #[cfg_attr(not(feature = "epoll"), allow(dead_code))]
    fn interest(&self) -> (&SharedFd, Direction);

    /// Both faces: the socket this operation acts on, if it acts on one. A socket belongs to the
    /// driver that first runs an operation on it (see `driver/identity.rs`); file operations,
    /// which keep no per-driver state, answer `None`.
    fn socket(&self) -> Option<&SharedFd> {
        None
    }

    /// Readiness face: a call made once, before the first wait (a non-blocking `connect` starts
    /// here).
    #[cfg_attr(not(feature = "epoll"), allow(dead_code))]
    fn prepare(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Readiness face: the non-blocking syscall. `WouldBlock` means "not ready after all: wait
    /// again".
    fn attempt(&mut self) -> io::Result<usize>;

    /// Readiness face: whether a successful attempt that returned `n` proves the descriptor has
    /// nothing more in this direction (a short read or write), so the cached readiness can be
    /// cleared without paying for an `EAGAIN` attempt.
    #[cfg_attr(not(feature = "epoll"), allow(dead_code))]
    fn drained(&self, _n: usize) -> bool {
        false
    }

    /// Completion face: the submission queue entry (the driver sets `user_data`).
    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry;

    /// Completion face: checked before submitting. `Ready(Some(result))`: the result is already
    /// there — what the kernel delivered to an earlier, cancelled operation on the same
    /// descriptor (or to a multishot request), kept in the descriptor's
    /// [stash](super::fd::Stash). `Pending`: such a cancelled operation is still in the kernel and
    /// its result, which comes first, is not known yet (the op registered `cx`'s waker on the
    /// stash). `Ready(None)`: ask the kernel.
    #[cfg(feature = "io-uring")]
    fn take_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Option<io::Result<usize>>> {
        Poll::Ready(None)
    }

    /// Completion face: the op's future was dropped while the kernel still works on it; its
    /// result will come to [`orphaned`](Operation::orphaned). Ops whose results go to the stash
    /// note it here, so that the next operation waits for that result instead of overtaking it.
    #[cfg(feature = "io-uring")]
    fn abandoned(&mut self) {}

    /// Completion face: the kind of multishot request that may serve this operation instead of
    /// an SQE of its own (the op then waits for the descriptor's stash). `None` for most ops.
    #[cfg(feature = "io-uring")]
    fn feed(&self) -> Option<(&SharedFd, FeedKind)> {
        None
    }

    /// Both faces: the result of the syscall or of the completion, turned into the output.
    fn complete(self, result: io::Result<usize>) -> Self::Output;

    /// Completion face: the op's future was dropped, but the kernel finished the work anyway.
    /// Whatever was done must not be lost (bytes read, an accepted connection): the default drops
    /// the operation; ops that produce something override this.
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    fn orphaned(self, result: io::Result<usize>) {
        drop(result);
    }
}

/// A multishot request that serves every operation of one kind on a descriptor.
#[cfg(feature = "io-uring")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeedKind {
    /// Multishot accept: each completion is a new connection.
    Accept,
    /// Multishot receive into the provided-buffer ring: each completion is a chunk of bytes.
    Recv,
}

/// Where an [`Op`] is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Not yet handed to the driver.
    Unsubmitted,
    /// Readiness: prepared, waiting for readiness or retrying.
    #[cfg_attr(not(feature = "epoll"), allow(dead_code))]
    Waiting,
    /// Completion: submitted to the kernel by driver `owner` under `key` (slot index and
    /// generation, the SQE's `user_data`). Only that driver may complete or free it.
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    InFlight { owner: DriverId, key: u64 },
    /// The output was returned.
    Done,
}

/// The future of one operation.
pub(crate) struct Op<T: Operation> {
    data: Option<T>,
    stage: Stage,
}

// The operation is never pinned: the kernel only points at its heap parts (module invariant).
impl<T: Operation> Unpin for Op<T> {}

impl<T: Operation> Op<T> {
    pub(crate) fn new(data: T) -> Op<T> {
        Op {
            data: Some(data),
            stage: Stage::Unsubmitted,
        }
    }

    /// The operation, until the future has returned it (to re-aim an op that reads into or
    /// writes from borrowed memory before each poll: `ops/poll_io.rs`).
    pub(crate) fn operation_mut(&mut self) -> Option<&mut T> {
        self.data.as_mut()
    }
}

impl<T: Operation> Future for Op<T> {
    type Output = T::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        let this = self.get_mut();
        let data = this
            .data
            .as_mut()
            .expect("an IO operation was polled after it completed");
        let stage = &mut this.stage;
        let result = match crate::context::poll_with_driver(cx, |driver, cx| {
            driver.poll_op(data, stage, cx)
        }) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        this.stage = Stage::Done;
        let data = this.data.take().expect("checked above");
        // Outside the driver borrow: completing may drop descriptors, which talk to the driver.
        Poll::Ready(data.complete(result))
    }
}

impl<T: Operation> Drop for Op<T> {
    fn drop(&mut self) {
        if let Stage::InFlight { owner, key } = self.stage {
            if let Some(data) = self.data.take() {
                super::orphan(owner, key, data);
            }
        }
    }
}
