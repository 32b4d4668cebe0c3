//! [`Runtime`]: one worker — an executor, a driver and the timers — run by `block_on` on the
//! calling thread.
//!
//! The run loop, in full:
//!
//! ```text
//! loop {
//!     poll the block_on future, if it was woken
//!     poll the tasks that are ready now (at least 61   (executor: no syscalls)
//!         if there are that many, at most 256)
//!     turn the driver: wait for IO, an unpark or the next timer deadline —
//!         or just peek (timeout 0) when tasks are still ready
//!     fire the timers that are due
//! }
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::builder::{Backend, Builder};
use crate::context;
use crate::driver::Driver;
use crate::executor::{Executor, Shared};
use crate::task::JoinHandle;
use crate::time::Timers;

/// A single-threaded runtime: tasks spawned on it run on the thread that calls
/// [`block_on`](Runtime::block_on). For several cores, run one `Runtime` per thread
/// (thread-per-core); tasks never migrate, so they need not be `Send`.
///
/// ```
/// let rt = runtime::Runtime::new()?;
/// let answer = rt.block_on(async {
///     let task = runtime::spawn(async { 40 + 2 });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Dropping the runtime drops every task that has not finished (their awaiting `JoinHandle`s report
/// cancellation), closes the driver's descriptors and frees all task memory.
pub struct Runtime {
    core: Box<Core>,
    // Tasks are !Send and live on this thread.
    _not_send: PhantomData<*const ()>,
}

/// Everything one worker owns. `context` points here while the runtime is entered.
pub(crate) struct Core {
    pub(crate) executor: Executor,
    pub(crate) driver: RefCell<Driver>,
    pub(crate) timers: RefCell<Timers>,
    backend: Backend,
    /// Why `Backend::Auto` did not get io_uring, when it fell back to epoll.
    fallback_reason: Option<String>,
    /// The signals this runtime listens for (`runtime::signal`).
    pub(crate) signals: crate::signal::Registry,
    /// Threads for blocking work; dropped last, after the tasks that await its jobs.
    pub(crate) blocking: crate::blocking::Pool,
}

impl Runtime {
    /// A runtime with the default settings (backend chosen by [`Backend::Auto`]).
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to choose the backend and other settings.
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn from_builder(builder: &Builder) -> io::Result<Runtime> {
        let (driver, fallback_reason) = Driver::new(builder)?;
        let backend = driver.backend();
        let executor = Executor::new(driver.unparker());
        Ok(Runtime {
            core: Box::new(Core {
                executor,
                driver: RefCell::new(driver),
                timers: RefCell::new(Timers::new()),
                backend,
                fallback_reason,
                signals: crate::signal::Registry::default(),
                blocking: crate::blocking::Pool::new(
                    builder.max_blocking_threads,
                    builder.blocking_keep_alive,
                ),
            }),
            _not_send: PhantomData,
        })
    }

    /// The backend this runtime runs on: never `Auto`, always the one that was chosen.
    pub fn backend(&self) -> Backend {
        self.core.backend
    }

    /// Why io_uring is not in use when [`Backend::Auto`] chose epoll (e.g. "io_uring: disabled
    /// for everyone by the sysctl kernel.io_uring_disabled=2"); `None` when no fallback happened.
    ///
    /// ```
    /// let rt = runtime::Runtime::new()?;
    /// if let Some(why) = rt.fallback_reason() {
    ///     eprintln!("running on {} because {why}", rt.backend());
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn fallback_reason(&self) -> Option<&str> {
        self.core.fallback_reason.as_deref()
    }

    /// Runs `future` to completion on this thread, running spawned tasks, IO and timers meanwhile.
    ///
    /// # Panics
    /// When called from inside a runtime (a task or another `block_on`) on the same thread.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _entered = context::enter(&self.core, false);
        // What another runtime on this thread dropped of ours since we last ran comes first.
        self.core.driver.borrow_mut().collect_mail();
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            shared: self.core.executor.shared().clone(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if main.woken.swap(false, SeqCst) {
                context::budget::reset();
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return output;
                }
            }
            self.core.executor.run_ready();
            self.core.turn(&main.woken);
        }
    }

    /// Spawns a task on this runtime from outside it; it starts running at the next `block_on`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let _entered = context::enter(&self.core, true);
        crate::spawn(future)
    }

    /// How many spawned tasks have not ended yet.
    pub fn live_tasks(&self) -> usize {
        self.core.executor.live_tasks()
    }
}

impl Core {
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// One turn of the driver, then the timers.
    fn turn(&self, main_woken: &AtomicBool) {
        let shared = self.executor.shared();
        // Block only when nothing at all is ready. `prepare_park` must come before the last look at
        // `main_woken` (see executor/shared.rs, "No lost wake-ups").
        let may_block =
            !self.executor.has_ready() && !shared.prepare_park() && !main_woken.load(SeqCst);
        let has_timers = self.timers.borrow().len() > 0;
        let timeout = match (may_block, has_timers) {
            (false, _) => Some(Duration::ZERO),
            (true, false) => None,
            (true, true) => self.timers.borrow().next_timeout(Instant::now()),
        };
        context::count(|c| c.driver_turns.inc());
        if let Err(e) = self.driver.borrow_mut().park(timeout) {
            // A failing wait (e.g. EINTR is already retried inside) must not kill the runtime; say so.
            eprintln!("runtime: driver wait failed: {e}");
        }
        shared.unparked();
        if has_timers || self.timers.borrow().len() > 0 {
            self.timers.borrow_mut().fire_expired(Instant::now());
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Futures dropped here may hand in-flight operations back to the driver, so the runtime is
        // entered while they go, and the driver is dropped only after them.
        let _entered = context::enter(&self.core, true);
        self.core.executor.shutdown();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("backend", &self.core.backend)
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}

/// The waker of the `block_on` future: a flag, plus an unpark when woken from another thread.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        if !context::is_current(&self.shared) {
            self.shared.notify();
        }
    }
}
