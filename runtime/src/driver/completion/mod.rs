//! The completion backend: io_uring.
//!
//! "Do this, tell me when it is done." Each operation becomes one submission queue entry (SQE)
//! whose `user_data` is the key of a [`Lifecycle`] slot; the kernel waits, copies and answers with
//! a completion queue entry (CQE) carrying the same key. The run loop's `park` is one
//! `io_uring_enter` that submits every SQE queued since the last turn *and* waits for completions
//! (for a whole batch of them when the load is high, see [`batch`]).
//!
//! The life of a read under this backend:
//!
//! ```text
//! task: stream.read(buf).await
//!   Op::poll ─► poll_op: bytes stashed on the fd? ── yes ──► copy them, Ready (no syscall)
//!                 │ no
//!                 ▼
//!               slot = Waiting(waker); push Recv SQE {fd, buf ptr, user_data = key}; Pending
//!                                                   ⋮ (other tasks run, push their SQEs)
//!   park: io_uring_enter(submit all, wait ≥ 1 CQE or the timer deadline)
//!   reap: CQE {key, n} ─► slot = Completed(n), wake the task
//!   Op::poll ─► poll_op: Completed ─► free the slot ─► Ready(n): the bytes are already in buf
//! ```
//!
//! Dropping a future whose op is in flight hands the op (and its buffer) to the slot
//! (`Ignored`) and submits an `AsyncCancel` at once; when the final CQE arrives (usually before
//! the drop returns, see `ring::flush`) the op's `orphaned` hook keeps what the kernel did
//! (received bytes or an accepted connection go to the descriptor's stash, where the next
//! operation finds them) and releases its clone of the descriptor. See [`lifecycle`] for the
//! state machine.
//!
//! Files: [`probe`] creates the ring (setup flags, features, opcodes, refusal messages);
//! [`ring`] submits, waits and reaps; [`batch`] decides when a wait gathers a batch;
//! [`feed`] runs multishot requests; [`bufring`] owns the provided buffers; [`shutdown`] makes
//! sure the kernel is done before memory is freed.

mod batch;
mod bufring;
mod feed;
mod lifecycle;
mod probe;
mod ring;
mod shutdown;

use std::any::Any;
use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use io_uring::{opcode, types, IoUring};

use super::eventfd::{EventFd, Unparker};
use super::identity::DriverId;
use super::op::{Operation, Stage};
use super::slab::Slab;
use super::syscall::syscall;
use crate::builder::Builder;
use batch::Batching;
use bufring::BufRing;
pub(crate) use feed::cancel_feed_now;
pub(crate) use lifecycle::Orphan;
use lifecycle::{to_result, Dropped, Lifecycle};

/// `user_data` of the eventfd read that lets other threads wake a parked driver. Slab keys never
/// reach it (it would need slot index `u32::MAX`).
const WAKE_KEY: u64 = u64::MAX;
/// `user_data` of cancel requests: their own completions carry nothing we need.
const CANCEL_KEY: u64 = u64::MAX - 1;

/// Environment override of the builder's multishot options, for benchmarks: a comma-separated
/// list of `accept`, `recv`, or `none`.
const MULTISHOT_ENV: &str = "RUNTIME_URING_MULTISHOT";
/// Environment override of the builder's `batch_wait`, in microseconds (`0` turns it off), for
/// benchmarks.
const BATCH_WAIT_ENV: &str = "RUNTIME_URING_BATCH_WAIT_US";

pub(crate) struct Driver {
    ring: IoUring,
    /// One slot per request the kernel knows (single-shot ops and multishot feeds).
    ops: Slab<Lifecycle>,
    /// Requests whose final CQE has not arrived (including the wake-up read): what `Drop` waits
    /// for before freeing memory the kernel may write.
    in_flight: usize,
    eventfd: Arc<EventFd>,
    /// Where the wake-up read puts the eventfd's counter (heap: its address must not move).
    wake_buf: Box<u64>,
    wake_armed: bool,
    mode: probe::SetupMode,
    /// Serve accepts from one multishot accept per listener.
    multishot_accept: bool,
    /// Serve stream reads from one multishot receive per socket (needs `bufring`).
    multishot_recv: bool,
    bufring: Option<BufRing>,
    /// Keys of feeds whose descriptor closed while this driver was out of reach (left there by
    /// `SharedFd`'s drop): cancelled as soon as the driver runs again.
    closed_feeds: Rc<RefCell<Vec<u64>>>,
    /// The first panic of a waker woken during a reap: resumed when the park returns, after
    /// every other completion was handled (see `ring`).
    panicked: Option<Box<dyn Any + Send>>,
    /// When a blocking park waits for a batch of completions rather than the first one.
    batching: Batching,
    /// The kernel supports every file opcode: file operations are submitted, not sent to the pool.
    file_ops: bool,
}

impl Driver {
    /// Creates the ring (see [`probe`]) and arms the wake-up read.
    ///
    /// # Errors
    /// `Unsupported` with the cause when the kernel refuses io_uring or lacks what we need.
    pub(crate) fn new(builder: &Builder) -> io::Result<Driver> {
        let probe::Ring {
            ring,
            mode,
            min_timeout,
            file_ops,
        } = probe::create(builder.ring_entries)?;
        let eventfd = Arc::new(EventFd::new()?);
        make_blocking(eventfd.raw())?;
        let (mut multishot_accept, mut multishot_recv) =
            (builder.multishot_accept, builder.multishot_recv);
        if let Ok(list) = std::env::var(MULTISHOT_ENV) {
            multishot_accept = list.split(',').any(|w| w.trim() == "accept");
            multishot_recv = list.split(',').any(|w| w.trim() == "recv");
        }
        let mut batch_wait = builder.batch_wait;
        if let Ok(us) = std::env::var(BATCH_WAIT_ENV) {
            if let Ok(us) = us.trim().parse::<u64>() {
                batch_wait = Duration::from_micros(us);
            }
        }
        let bufring = if multishot_recv {
            // A kernel without provided-buffer rings (before 5.19) keeps the simple path.
            BufRing::new(
                &ring.submitter(),
                builder.recv_buffers.0,
                builder.recv_buffers.1,
            )
            .ok()
        } else {
            None
        };
        let mut driver = Driver {
            ring,
            ops: Slab::new(),
            in_flight: 0,
            eventfd,
            wake_buf: Box::new(0),
            wake_armed: false,
            mode,
            multishot_accept,
            multishot_recv: bufring.is_some(),
            bufring,
            closed_feeds: Rc::new(RefCell::new(Vec::new())),
            panicked: None,
            batching: Batching::new(batch_wait, min_timeout),
            file_ops,
        };
        driver.arm_wake();
        Ok(driver)
    }

    /// Whether file operations can be submitted to this ring (see `probe::Ring::file_ops`).
    pub(crate) fn completes_files(&self) -> bool {
        self.file_ops
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker::new(self.eventfd.clone())
    }

    /// Submits what is queued, waits for completions (at most `timeout`; `Some(ZERO)`: no wait)
    /// and wakes the tasks whose operations completed.
    ///
    /// # Panics
    /// When a waker panicked (the first such panic is resumed, once every completion was handled).
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.cancel_closed_feeds();
        if !self.wake_armed {
            self.arm_wake();
        }
        let result = self.enter(timeout);
        self.batching.enter_returned();
        let reaped = self.reap();
        self.batching
            .parked(timeout != Some(Duration::ZERO), reaped);
        if !self.closed_feeds.borrow().is_empty() {
            // Descriptors closed by what this reap delivered: stop their feeds now.
            self.cancel_closed_feeds();
            self.flush();
        }
        if let Some(panic) = self.panicked.take() {
            std::panic::resume_unwind(panic);
        }
        result
    }

    /// Drives `op` by completion: take a stashed result, or wait on a multishot feed, or submit
    /// its SQE (in flight under `id`, this driver's identity); later polls collect the CQE.
    pub(crate) fn poll_op<T: Operation>(
        &mut self,
        id: DriverId,
        op: &mut T,
        stage: &mut Stage,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        if *stage == Stage::Unsubmitted {
            match op.take_ready(cx) {
                Poll::Ready(Some(result)) => {
                    crate::context::count(|c| c.uring_stash_hits.inc());
                    return Poll::Ready(result);
                }
                // An orphan's result comes first: woken when it arrives.
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {}
            }
            if let Some((fd, kind)) = op.feed() {
                if self.feed_enabled(kind) {
                    self.wait_feed(fd, kind, cx);
                    return Poll::Pending;
                }
            }
            let key = self.ops.insert(Lifecycle::Submitted);
            self.push(op.sqe().user_data(key));
            self.in_flight += 1;
            self.batching.submitted(key);
            *stage = Stage::InFlight { owner: id, key };
        }
        let Stage::InFlight { key, .. } = *stage else {
            unreachable!("the completion driver never leaves an op in {stage:?}")
        };
        let Some(slot) = self.ops.get_mut(key) else {
            unreachable!("the slot of an operation in flight here is freed only by its future")
        };
        match slot.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((result, _flags)) => {
                self.ops.remove(key);
                Poll::Ready(to_result(result))
            }
        }
    }

    /// The future of the op in slot `key` was dropped. The op is kept until the kernel is done
    /// with it, or handed its result now if that already arrived.
    ///
    /// The cancel is submitted at once, and what the kernel finishes at once is reaped: a
    /// cancelled receive usually ends here, releasing its clone of the descriptor, so a stream
    /// dropped next closes at once instead of at the next park.
    pub(crate) fn orphan(&mut self, key: u64, op: Box<dyn Orphan>) {
        let Some(slot) = self.ops.get_mut(key) else {
            // Every caller checked the op's owner, so this is a driver bug; the kernel may still
            // use the op's memory, so leak it rather than free it.
            debug_assert!(false, "orphaned an operation whose slot is gone");
            std::mem::forget(op);
            return;
        };
        match slot.orphan(op) {
            Dropped::Kept => {
                self.cancel(key);
                self.flush();
            }
            Dropped::AlreadyCompleted(op, result) => {
                self.ops.remove(key);
                op.orphaned(to_result(result));
            }
        }
    }

    /// Queues an `AsyncCancel` for the request `key` (its final CQE still comes, usually with
    /// `-ECANCELED`, or with the result if it had finished).
    fn cancel(&mut self, key: u64) {
        crate::context::count(|c| c.cancels.inc());
        self.push(opcode::AsyncCancel::new(key).build().user_data(CANCEL_KEY));
    }

    /// (Re-)arms the read of the eventfd: its completion is a wake-up from another thread.
    fn arm_wake(&mut self) {
        let buf: *mut u64 = &mut *self.wake_buf;
        let sqe = opcode::Read::new(types::Fd(self.eventfd.raw()), buf.cast(), 8)
            .build()
            .user_data(WAKE_KEY);
        self.push(sqe);
        self.wake_armed = true;
        self.in_flight += 1;
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("io_uring::Driver")
            .field("mode", &self.mode)
            .field("slots", &self.ops.len())
            .field("in_flight", &self.in_flight)
            .field("multishot_accept", &self.multishot_accept)
            .field("multishot_recv", &self.multishot_recv)
            .field("batched_waits", &self.batching.enabled())
            .finish()
    }
}

/// Clears `O_NONBLOCK`: io_uring honours it on reads, so a read of a non-blocking eventfd would
/// complete at once with `EAGAIN` instead of waiting for a wake-up.
fn make_blocking(fd: std::os::fd::RawFd) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL take no pointers; `fd` is the driver's live eventfd.
    let flags = syscall!(other_syscalls, unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    // SAFETY: as above.
    syscall!(other_syscalls, unsafe {
        libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK)
    })?;
    Ok(())
}
