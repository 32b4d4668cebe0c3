//! Recording what the runtime does, event by event, into a file that Perfetto
//! (<https://ui.perfetto.dev>) or `chrome://tracing` opens as a timeline.
//!
//! Turn it on with `RUNTIME_TRACE=trace.json` in the environment, or
//! [`Builder::trace`](crate::Builder::trace). The trace is written when the runtime is dropped,
//! and whenever [`flush`] is called. `cargo run --example timeline -- trace.json` draws it as an
//! SVG and an HTML page.
//!
//! ```
//! let path = std::env::temp_dir().join(format!("doc-trace-{}.json", std::process::id()));
//! let rt = runtime::Runtime::builder().trace(&path).build()?;
//! rt.block_on(async {
//!     runtime::spawn(async { runtime::task::yield_now().await }).await.unwrap();
//! });
//! drop(rt); // writes the file
//! let json = std::fs::read_to_string(&path)?;
//! assert!(json.contains("\"traceEvents\""));
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # What is recorded, and where
//!
//! Each event is recorded where it happens, by a one-line hook that calls a function below:
//!
//! | event | hook in |
//! |---|---|
//! | task spawned (its number and name) | `executor/mod.rs` (`Executor::spawn`) |
//! | poll begins / ends | `executor/mod.rs` (`run_ready`), `runtime.rs` (the `block_on` future) |
//! | wake: local or remote, by whom | `executor/mod.rs` (`schedule`, where the two part ways) |
//! | a remote wake arrives | `executor/mod.rs` (`run_ready`, popping the remote queue) |
//! | operation submitted / completed | `driver/mod.rs` (`Driver::poll_op`) |
//! | park begins / ends (syscall, timeout, events) | `driver/mod.rs` (`Driver::park`) |
//! | epoll: readiness event; the attempt (the copy) | `driver/readiness/mod.rs` |
//! | io_uring: SQE queued; CQE reaped | `driver/completion/ring.rs` |
//! | timer fired | `time/timers.rs` (`fire_expired`) |
//! | blocking job begins / ends | `blocking/pool.rs` |
//!
//! # Lanes
//!
//! Every worker thread and every blocking-pool thread records into its own lane: a bounded ring
//! of records ([`Builder::trace_buffer`](crate::Builder::trace_buffer) of them, 65 536 by
//! default) that keeps the newest and counts what it overwrote. A flush copies every lane of the
//! runtime and merges them into one file, one timeline row per lane; the count of overwritten
//! records is written in the file (and said on stderr when the runtime is dropped).
//!
//! # What it costs
//!
//! **Off** (the default), each hook is one load of a thread-local pointer and a branch that is
//! never taken: no allocation, no syscall, no lock. **On**, an event costs a clock read
//! (`Instant::now`, a vDSO call), an uncontended lock of the lane and a write into the ring — tens
//! of nanoseconds; a spawn also copies the task's name. ARCHITECTURE.md ("Tracing") has the
//! measured numbers.

mod chrome;
mod event;
mod json;
mod lane;
mod ring;
mod session;

use std::any::type_name;
use std::io;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

pub(crate) use event::TaskId;
use event::{outcome, Doing, Event, OpInfo};
pub(crate) use lane::LaneGuard;
pub(crate) use session::Tracer;

use crate::driver::op::{Operation, Stage};
use crate::task::Header;

/// Writes the trace of every traced runtime of this process to its file now (replacing what an
/// earlier flush wrote). Does nothing when no runtime is traced.
///
/// A runtime writes its trace when it is dropped anyway; call this to see a program that does not
/// end, or before a crash you expect. Each thread's newest
/// [`Builder::trace_buffer`](crate::Builder::trace_buffer) events are written.
///
/// # Errors
/// When a trace file cannot be written (every traced runtime is still tried).
pub fn flush() -> io::Result<()> {
    session::flush_all()
}

// The hooks. Each one checks whether this thread records (`lane::current`) and does nothing else
// when it does not; the recording itself is out of line (`Lane`'s methods are `#[cold]`).

/// Hook: copies a task's name for [`spawn`] (before the name moves into the task).
#[inline]
pub(crate) fn task_name(name: Option<&str>) -> Option<Arc<str>> {
    lane::current()?;
    name.map(Arc::from)
}

/// Hook: a task was spawned.
#[inline]
pub(crate) fn spawn(task: *const Header, name: Option<Arc<str>>) {
    if let Some(lane) = lane::current() {
        lane.record(Event::Spawn {
            task: TaskId::of(task),
            name,
        });
    }
}

/// Hook: `task` is about to be polled. Returns it, for [`poll_end`].
#[inline]
pub(crate) fn poll_begin(task: TaskId) -> TaskId {
    if let Some(lane) = lane::current() {
        lane.record_and_do(Event::PollBegin { task }, Doing::Polling);
    }
    task
}

/// Hook: the poll of `task` returned.
#[inline]
pub(crate) fn poll_end(task: TaskId) {
    if let Some(lane) = lane::current() {
        lane.record_and_do(Event::PollEnd { task }, Doing::Other);
    }
}

/// Hook: `task` is being scheduled (its `SCHEDULED` bit was just set).
#[inline]
pub(crate) fn wake(task: &Header) {
    if let Some(lane) = lane::current() {
        let local = crate::context::is_current(&task.owner);
        let owner = Arc::as_ptr(&task.owner) as usize;
        let task = TaskId::of(task);
        lane.record_by(|by| Event::Wake {
            task,
            owner,
            local,
            by,
        });
    }
}

/// Hook: a task woken by another thread came out of the remote queue.
#[inline]
pub(crate) fn wake_arrived(task: &Header) {
    if let Some(lane) = lane::current() {
        lane.record(Event::WakeArrived {
            task: TaskId::of(task),
        });
    }
}

/// Hook, before the driver polls an operation: whether this poll may submit it (for
/// [`op_polled`]).
#[inline]
pub(crate) fn op_polling(stage: &Stage) -> bool {
    lane::current().is_some() && *stage == Stage::Unsubmitted
}

/// Hook, after the driver polled an operation: records its submission (when `submitting` and
/// the driver took it) and its completion (when the result is there).
#[inline]
pub(crate) fn op_polled<T: Operation>(
    op: &T,
    submitting: bool,
    stage: &Stage,
    result: &Poll<io::Result<usize>>,
) {
    if let Some(lane) = lane::current() {
        record_op(lane, op, submitting, stage, result);
    }
}

#[cold]
#[inline(never)]
fn record_op<T: Operation>(
    lane: &lane::Lane,
    op: &T,
    submitting: bool,
    stage: &Stage,
    result: &Poll<io::Result<usize>>,
) {
    let op = OpInfo {
        kind: type_name::<T>(),
        fd: op.socket().map_or(-1, |fd| fd.raw()),
    };
    if submitting && (*stage != Stage::Unsubmitted || result.is_ready()) {
        let key = match *stage {
            Stage::InFlight { key, .. } => Some(key),
            _ => None,
        };
        lane.record(Event::OpSubmit { op, key });
    }
    if let Poll::Ready(result) = result {
        lane.record(Event::OpComplete {
            op,
            result: outcome(result),
        });
    }
}

/// Hook (epoll): the non-blocking syscall of an operation of type `T` on `fd` returned
/// `result`, which is handed back.
#[cfg(feature = "epoll")]
#[inline]
pub(crate) fn attempt<T>(fd: std::os::fd::RawFd, result: io::Result<usize>) -> io::Result<usize> {
    if let Some(lane) = lane::current() {
        let op = OpInfo {
            kind: type_name::<T>(),
            fd,
        };
        lane.record(Event::Attempt {
            op,
            result: outcome(&result),
        });
    }
    result
}

/// Hook: the driver is about to wait at most `timeout` (`None`: until something happens).
#[inline]
pub(crate) fn park_begin(timeout: Option<Duration>) {
    if let Some(lane) = lane::current() {
        lane.park_begin(timeout);
    }
}

/// Hook: the driver returned from its wait and handed out what arrived.
#[inline]
pub(crate) fn park_end() {
    if let Some(lane) = lane::current() {
        lane.park_end();
    }
}

/// Hook (epoll): one event of a wait, for the registration `token`.
#[cfg(feature = "epoll")]
#[inline]
pub(crate) fn readiness(token: u64, events: u32) {
    if let Some(lane) = lane::current() {
        lane.record_park_event(Event::Readiness { token, events });
    }
}

/// Hook (io_uring): an SQE with this opcode and `user_data` was queued.
#[cfg(feature = "io-uring")]
#[inline]
pub(crate) fn sqe(opcode: u32, key: u64) {
    if let Some(lane) = lane::current() {
        let opcode = opcode as u8;
        lane.record(Event::Sqe { opcode, key });
    }
}

/// Hook (io_uring): a CQE was reaped.
#[cfg(feature = "io-uring")]
#[inline]
pub(crate) fn cqe(key: u64, result: i32, flags: u32) {
    if let Some(lane) = lane::current() {
        lane.record_park_event(Event::Cqe { key, result, flags });
    }
}

/// Hook: a timer is due; records it and wakes its `waker`.
#[inline]
pub(crate) fn timer_fired(waker: Waker) {
    let Some(lane) = lane::current() else {
        return waker.wake();
    };
    let before = lane.doing();
    lane.record_and_do(Event::TimerFired, Doing::FiringTimers);
    waker.wake();
    lane.set_doing(before);
}

/// Hook: runs a blocking-pool job between its begin and end records.
#[inline]
pub(crate) fn blocking_job(job: impl FnOnce()) {
    let Some(lane) = lane::current() else {
        return job();
    };
    lane.record_and_do(Event::JobBegin, Doing::RunningJob);
    job();
    lane.record_and_do(Event::JobEnd, Doing::Other);
}
