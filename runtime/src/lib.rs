//! A thread-per-core async runtime for Linux with two interchangeable IO backends:
//!
//! - an **epoll reactor** — the *readiness* model: the kernel says a descriptor *could* be read, and
//!   the program makes the copying syscall itself;
//! - an **io_uring driver** — the *completion* model: the program hands the kernel the buffer, and
//!   the kernel does the wait *and* the copy.
//!
//! The same program runs unchanged on either ([`Backend`]), so the two models can be compared.
//!
//! ```no_run
//! use runtime::net::TcpListener;
//!
//! #[runtime::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = TcpListener::bind("127.0.0.1:8080")?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         runtime::spawn(async move {
//!             let mut buf = Vec::with_capacity(4096);
//!             loop {
//!                 let (res, b) = stream.read(buf).await;
//!                 let Ok(n @ 1..) = res else { return };
//!                 let (res, b) = stream.write_all(b).await;
//!                 if res.is_err() || n == 0 { return }
//!                 buf = b;
//!             }
//!         });
//!     }
//! }
//! ```
//!
//! Map of the crate (see ARCHITECTURE.md for the whole story):
//! - [`task`] — a spawned future as data; `executor` — who polls what when;
//! - `driver` — the kernel boundary (`readiness/` for epoll, `completion/` for io_uring);
//! - [`net`], [`fs`], [`io`], [`time`], [`sync`], [`signal`] — the public API over them;
//! - `blocking` — the pool behind [`task::spawn_blocking`];
//! - [`stats()`] — counters that prove what the runtime did; [`trace`] — the same, event by event,
//!   as a timeline.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod blocking;
mod buf;
mod builder;
mod context;
mod driver;
mod executor;
pub mod fs;
pub mod interop;
pub mod io;
pub mod net;
mod runtime;
pub mod signal;
mod stats;
pub mod sync;
pub mod task;
pub mod time;
pub mod trace;
mod worker;

#[doc(hidden)]
pub mod __private;

pub use builder::{Backend, Builder};
pub use runtime::Runtime;
pub use runtime_macros::{main, test};
pub use stats::Stats;
pub use task::{spawn, JoinHandle};
pub use worker::{Handle, RemoteJoinHandle, WorkerStats};

/// The backend of the runtime running the current task: never `Auto`, always the one chosen.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// println!("this task runs on {}", runtime::backend());
/// # });
/// ```
///
/// # Panics
/// When called outside a runtime.
pub fn backend() -> Backend {
    context::backend()
}

/// Which worker of its runtime runs the current task: `0` (the thread in `block_on`) to
/// [`workers()`]` - 1`.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(runtime::worker_id(), 0);
/// # });
/// ```
///
/// # Panics
/// When called outside a runtime.
pub fn worker_id() -> usize {
    context::with_worker(|w| w.id)
}

/// How many workers the current task's runtime has.
///
/// # Panics
/// When called outside a runtime.
pub fn workers() -> usize {
    context::with_worker(|w| w.handle.workers())
}

/// This worker thread's counters: tasks, polls, wake-ups, driver turns, syscalls by kind.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let stats = runtime::stats();
/// println!("{} polls, {} syscalls so far", stats.polls, stats.syscalls());
/// # });
/// ```
pub fn stats() -> Stats {
    context::stats()
}
