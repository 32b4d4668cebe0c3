//! What a lane records: one [`Record`] per event, stamped with the time since the trace began.
//!
//! Records are small plain values (no allocation, except a task's name, copied once at spawn).
//! They say what happened in the runtime's own terms — a task's header address, a descriptor, a
//! slot key, a raw result — and the Chrome writer (`chrome.rs`) turns them into readable names
//! when the trace is flushed, so that recording stays cheap.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::task::Header;

/// A task, as the trace knows it while it lives: the address of its header. An address can be
/// reused once its task is freed; the writer renumbers tasks in spawn order, so each spawn starts
/// a new number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TaskId(pub(super) usize);

impl TaskId {
    /// The future passed to `block_on`, which is polled like a task but is not one.
    pub(crate) const BLOCK_ON: TaskId = TaskId(0);

    /// The task whose header is at `header`.
    pub(crate) fn of(header: *const Header) -> TaskId {
        TaskId(header as usize)
    }
}

/// What a thread is busy with, so that a wake can say who woke the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Doing {
    /// Between the things below (the run loop itself, or a thread outside any of them).
    Other,
    /// Polling a task (or the `block_on` future).
    Polling,
    /// In the driver: waiting for IO and handing out what arrived.
    Parked,
    /// Waking the timers that are due.
    FiringTimers,
    /// Running a blocking-pool job.
    RunningJob,
}

/// An IO operation as the driver sees it: its type and its descriptor (`-1` when it has none,
/// e.g. a file op that opens a path).
#[derive(Debug, Clone, Copy)]
pub(super) struct OpInfo {
    /// The operation's type name (`runtime::driver::ops::recv::Recv`); shortened when written.
    pub(super) kind: &'static str,
    pub(super) fd: i32,
}

/// A syscall's or an operation's outcome: bytes (or a count) when `>= 0`, else `-errno`, or
/// [`NOT_AN_OS_ERROR`] for an error that carries no errno.
pub(super) type Outcome = i64;

/// The [`Outcome`] of an error without an errno.
pub(super) const NOT_AN_OS_ERROR: Outcome = i64::MIN;

/// The [`Outcome`] of `result`.
pub(super) fn outcome(result: &io::Result<usize>) -> Outcome {
    match result {
        Ok(n) => *n as Outcome,
        Err(e) => e
            .raw_os_error()
            .map_or(NOT_AN_OS_ERROR, |errno| -(errno as Outcome)),
    }
}

/// One event, and when it happened.
#[derive(Debug, Clone)]
pub(super) struct Record {
    /// Nanoseconds since the trace began.
    pub(super) at: u64,
    pub(super) event: Event,
}

/// Everything a lane can record. See `trace/mod.rs` for where each one comes from.
#[derive(Debug, Clone)]
pub(super) enum Event {
    /// A task was spawned on this worker.
    Spawn {
        task: TaskId,
        name: Option<Arc<str>>,
    },
    PollBegin {
        task: TaskId,
    },
    PollEnd {
        task: TaskId,
    },
    /// `task` was scheduled: onto this thread's own run queue (`local`), or sent to the worker
    /// whose executor is at address `owner`.
    Wake {
        task: TaskId,
        owner: usize,
        local: bool,
        by: Doing,
    },
    /// A task woken by another thread came out of this worker's remote queue.
    WakeArrived {
        task: TaskId,
    },
    /// The driver was first handed an operation (`key`: its io_uring slot, when it has one).
    OpSubmit {
        op: OpInfo,
        key: Option<u64>,
    },
    /// The operation's future got its result.
    OpComplete {
        op: OpInfo,
        result: Outcome,
    },
    /// epoll: the non-blocking syscall an operation makes once its descriptor is ready.
    #[cfg_attr(not(feature = "epoll"), allow(dead_code))]
    Attempt {
        op: OpInfo,
        result: Outcome,
    },
    ParkBegin {
        timeout: Option<Duration>,
    },
    /// The park made `syscalls` waiting syscalls (named `syscall`) and handed out `events`
    /// readiness events or completions.
    ParkEnd {
        syscall: &'static str,
        syscalls: u64,
        events: u32,
    },
    /// epoll: one event of an `epoll_wait` (`token` names the descriptor's registration).
    #[cfg_attr(not(feature = "epoll"), allow(dead_code))]
    Readiness {
        token: u64,
        events: u32,
    },
    /// io_uring: a submission queue entry was queued.
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    Sqe {
        opcode: u8,
        key: u64,
    },
    /// io_uring: a completion queue entry was reaped.
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    Cqe {
        key: u64,
        result: i32,
        flags: u32,
    },
    /// A timer was due; its waker is woken next.
    TimerFired,
    JobBegin,
    JobEnd,
}
