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
//!         or just peek (timeout 0) when tasks are still ready,
//!         or peek and then spin briefly when work from another thread is expected
//!     fire the timers that are due
//! }
//! ```
//!
//! **The spin before a park** ([`Builder::spin_before_park`]): waking a thread that blocked in the
//! kernel is slow (a system call on the waker's side, a scheduler wake-up on the sleeper's: tens of
//! microseconds on a virtual machine whose idle vCPU must be woken first). So when the worker has a
//! reason to expect work from another thread soon — its last park was ended by a remote wake, its
//! last spin was answered, or it sent a job to the blocking pool since it last looked — it first
//! spins for at most the configured time: it watches the remote queue, the `block_on` waker and
//! the inbox, yields its CPU between looks, and peeks at the driver (timeout 0) every
//! [`SPIN_SLICE`]. A spin that nothing answers withdraws the reason, so an idle worker never spins,
//! and each remote wake or blocking job costs at most one unanswered spin.
//!
//! A spin answered from the worker's own CPU (wakers note their CPU while the worker spins) means
//! that the answering thread shares that CPU and could only run because the spin yielded it:
//! spinning gains nothing there, and measured slower than parking (`remote_wake`, both threads on
//! one CPU: 6–7 µs per round trip instead of 3–4). The worker then does not spin for
//! [`SPIN_PAUSE`]. Blocking-pool threads are not noted: they spin and yield after a job
//! themselves, and a worker and a pool thread share a CPU well that way.
//!
//! The spin does not touch the park handshake (`executor/shared.rs`, "No lost wake-ups"): the park
//! flag stays set while the worker spins, as it does whenever the worker is awake, so wakers push
//! without writing the eventfd, and the spin sees what they push. When the spin gives up, the next
//! turn parks through `prepare_park` like any other: a wake that came after the spin's last look is
//! seen by `prepare_park`'s look or interrupts the park.

use std::cell::{Cell, OnceCell, RefCell};
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
use crate::trace::{LaneGuard, TaskId, Tracer};
use crate::worker::{self, Handle, Inbox, RemoteJoinHandle, WorkerInfo, WorkerThread};

/// A thread-per-core runtime: one or more workers, each a thread with its own executor, driver and
/// timers. Worker 0 is the thread that calls [`block_on`](Runtime::block_on); the others
/// ([`Builder::workers`]) are started with the runtime. Tasks never migrate, so they need not be
/// `Send`; a [`Handle`] spawns `Send` futures on any worker.
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
    /// Workers 1.. (only worker 0's runtime has them).
    threads: Vec<WorkerThread>,
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
    /// Work sent to this worker from other threads (spawns, the order to stop).
    pub(crate) inbox: Arc<Inbox>,
    /// Which worker this is; set once every worker has started.
    pub(crate) worker: OnceCell<WorkerInfo>,
    /// Threads for blocking work; dropped last, after the tasks that await its jobs.
    pub(crate) blocking: crate::blocking::Pool,
    /// The runtime's trace (off unless asked for).
    trace: Tracer,
    /// When to spin before parking, and the spin under way.
    spin: Spin,
}

/// How often a spin before a park peeks at the driver (timeout 0): the longest that IO and timers
/// wait while the worker spins.
const SPIN_SLICE: Duration = Duration::from_micros(10);

/// How long a worker does not spin after a spin was answered from its own CPU.
const SPIN_PAUSE: Duration = Duration::from_millis(100);

/// The spin before a park: whether the worker expects work from another thread, and until when
/// the spin under way lasts.
struct Spin {
    /// The longest spin; zero: never spin.
    limit: Duration,
    /// Work from another thread is expected soon.
    armed: Cell<bool>,
    /// When the spin under way gives up; `None`: no spin under way.
    until: Cell<Option<Instant>>,
    /// No spin before this: the last one was answered from this worker's own CPU.
    paused_until: Cell<Option<Instant>>,
}

impl Spin {
    fn new(limit: Duration) -> Spin {
        Spin {
            limit,
            armed: Cell::new(false),
            until: Cell::new(None),
            paused_until: Cell::new(None),
        }
    }

    /// Something happened that makes work from another thread likely soon.
    fn arm(&self) {
        if self.limit.is_zero() {
            return;
        }
        if let Some(until) = self.paused_until.get() {
            if Instant::now() < until {
                return;
            }
            self.paused_until.set(None);
        }
        self.armed.set(true);
    }

    /// Ends the spin under way; `expect_more`: stay armed (the spin was answered).
    fn end(&self, expect_more: bool) {
        self.until.set(None);
        self.armed.set(expect_more);
    }
}

/// Spins until `done()` holds or `deadline` passes; returns `done()`'s last answer.
///
/// Between looks the thread also yields its CPU (`sched_yield`): on a machine with few CPUs the
/// thread that will answer may be waiting for this very CPU, and a plain spin would hold it off
/// until the deadline.
pub(crate) fn spin_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    loop {
        for _ in 0..8 {
            if done() {
                return true;
            }
            std::hint::spin_loop();
        }
        if Instant::now() >= deadline {
            return done();
        }
        std::thread::yield_now();
    }
}

/// The CPU this thread runs on (`getcpu`: a vDSO call on x86-64), or `usize::MAX` if unknown.
pub(crate) fn current_cpu() -> usize {
    // SAFETY: sched_getcpu takes no arguments and only reads the calling thread's CPU number.
    let cpu = unsafe { libc::sched_getcpu() };
    usize::try_from(cpu).unwrap_or(usize::MAX)
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
        let cpus = worker::allowed_cpus();
        if builder.pin_workers {
            worker::pin(0, &cpus);
        }
        let core = Core::new(builder)?;
        let (handle, threads) = worker::start(builder, &core, &cpus)?;
        Ok(Runtime::from_core(
            core,
            WorkerInfo { id: 0, handle },
            threads,
        ))
    }

    /// The runtime of one worker: `core`, which is worker `info.id`.
    pub(crate) fn from_core(core: Core, info: WorkerInfo, threads: Vec<WorkerThread>) -> Runtime {
        core.worker.set(info).expect("a core becomes a worker once");
        Runtime {
            core: Box::new(core),
            threads,
            _not_send: PhantomData,
        }
    }

    /// A [`Handle`] to this runtime's workers: `Send + Clone`, spawns `Send` futures on them from
    /// any thread.
    pub fn handle(&self) -> Handle {
        self.core.worker().handle.clone()
    }

    /// Spawns, on every worker, the future `factory(worker)` makes there (it need not be `Send`):
    /// the per-core server pattern. See [`Handle::spawn_on_each`].
    pub fn spawn_on_each<M, F>(&self, factory: M) -> Vec<RemoteJoinHandle<F::Output>>
    where
        M: Fn(usize) -> F + Send + Sync + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        self.handle().spawn_on_each(factory)
    }

    /// How many workers this runtime has.
    pub fn workers(&self) -> usize {
        self.handle().workers()
    }

    /// Stops every worker — their tasks are dropped, their in-flight io_uring operations
    /// cancelled — and waits at most `timeout` for the worker threads to end. A thread still busy
    /// then (a task blocking its thread) is left to finish on its own.
    pub fn shutdown_timeout(mut self, timeout: std::time::Duration) {
        let deadline = Instant::now().checked_add(timeout);
        self.shut_down(deadline);
    }

    /// Runs a worker thread's loop until its inbox is closed.
    pub(crate) fn run_worker(&self) {
        let _entered = context::enter(&self.core, false);
        let _lane = self.core.enter_trace();
        self.core.driver.borrow_mut().collect_mail();
        let never_woken = AtomicBool::new(false);
        loop {
            self.core.executor.run_ready();
            if self.core.turn(&never_woken) == Turn::Stop {
                return;
            }
        }
    }

    /// Worker 0's part of shutting down: tell the other workers to stop, drop this worker's
    /// tasks, then wait for the other threads (until `deadline`, if any).
    fn shut_down(&mut self, deadline: Option<Instant>) {
        if self.core.worker().id == 0 {
            self.core.worker().handle.close_all();
        }
        {
            // Futures dropped here may hand in-flight operations back to the driver, so the
            // runtime is entered while they go, and the driver is dropped only after them.
            let _entered = context::enter(&self.core, true);
            self.core.executor.shutdown();
        }
        worker::join(std::mem::take(&mut self.threads), deadline);
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
        let _lane = self.core.enter_trace();
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
                let traced = crate::trace::poll_begin(TaskId::BLOCK_ON);
                let poll = future.as_mut().poll(&mut cx);
                crate::trace::poll_end(traced);
                if let Poll::Ready(output) = poll {
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
        let _lane = self.core.enter_trace();
        crate::spawn(future)
    }

    /// How many spawned tasks have not ended yet.
    pub fn live_tasks(&self) -> usize {
        self.core.executor.live_tasks()
    }
}

/// What the run loop does after a turn.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    Continue,
    /// The worker's inbox was closed: the runtime is shutting down.
    Stop,
}

impl Core {
    /// A worker's parts, on the calling thread (which will run it).
    pub(crate) fn new(builder: &Builder) -> io::Result<Core> {
        let (driver, fallback_reason) = Driver::new(builder)?;
        let backend = driver.backend();
        let executor = Executor::new(driver.unparker());
        let inbox = Arc::new(Inbox::new(executor.shared().clone()));
        Ok(Core {
            executor,
            driver: RefCell::new(driver),
            timers: RefCell::new(Timers::new()),
            backend,
            fallback_reason,
            signals: crate::signal::Registry::default(),
            inbox,
            worker: OnceCell::new(),
            blocking: crate::blocking::Pool::new(
                builder.max_blocking_threads,
                builder.blocking_keep_alive,
                builder.spin_before_park,
                builder.tracer.clone(),
            ),
            trace: builder.tracer.clone(),
            spin: Spin::new(builder.spin_before_park),
        })
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn worker(&self) -> &WorkerInfo {
        self.worker.get().expect("set when the runtime is built")
    }

    /// Makes this thread record into this worker's trace lane (when tracing is on).
    fn enter_trace(&self) -> LaneGuard {
        let executor = Arc::as_ptr(self.executor.shared()) as usize;
        self.trace
            .enter_worker(self.worker().id, executor, self.backend)
    }

    /// Runs what other threads sent, then one turn of the driver, then the timers.
    fn turn(&self, main_woken: &AtomicBool) -> Turn {
        if self.inbox.run_jobs() {
            return Turn::Stop;
        }
        if self.blocking.take_spawned() {
            self.spin.arm();
        }
        if self.spin.armed.get() && !self.executor.has_ready() && !self.remote_work(main_woken) {
            return self.spin_turn(main_woken);
        }
        let shared = self.executor.shared();
        // Block only when nothing at all is ready. `prepare_park` must come before the last looks
        // at `main_woken` and the inbox (see executor/shared.rs, "No lost wake-ups").
        let prepared = !self.executor.has_ready();
        let may_block = prepared
            && !shared.prepare_park()
            && !main_woken.load(SeqCst)
            && !self.inbox.has_work();
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
        if shared.unparked() && prepared {
            // Another thread woke us (or would have): it may well do so again soon.
            self.spin.arm();
        }
        if has_timers || self.timers.borrow().len() > 0 {
            self.timers.borrow_mut().fire_expired(Instant::now());
        }
        Turn::Continue
    }

    /// Whether another thread left work: a remote wake, the `block_on` future woken, a job in the
    /// inbox.
    fn remote_work(&self, main_woken: &AtomicBool) -> bool {
        self.executor.shared().has_remote() || main_woken.load(SeqCst) || self.inbox.has_work()
    }

    /// A turn of the spin before a park (see the module docs): a look at the driver and the timers
    /// without blocking, then a spin of at most [`SPIN_SLICE`] for work from another thread. The
    /// park flag is left as it is (set: the worker is awake).
    fn spin_turn(&self, main_woken: &AtomicBool) -> Turn {
        let now = Instant::now();
        let until = match self.spin.until.get() {
            Some(until) => until,
            None => {
                context::count(|c| c.spins.inc());
                // A CPU noted during an earlier spin is no news about this one.
                self.executor.shared().take_waker_cpu();
                let until = now + self.spin.limit;
                self.spin.until.set(Some(until));
                until
            }
        };
        context::count(|c| c.driver_turns.inc());
        if let Err(e) = self.driver.borrow_mut().park(Some(Duration::ZERO)) {
            eprintln!("runtime: driver wait failed: {e}");
        }
        let mut slice_end = until.min(now + SPIN_SLICE);
        if self.timers.borrow().len() > 0 {
            let now = Instant::now();
            self.timers.borrow_mut().fire_expired(now);
            if let Some(next) = self.timers.borrow().next_timeout(now) {
                slice_end = slice_end.min(now + next);
            }
        }
        let shared = self.executor.shared();
        let answered = if shared.has_remote() || self.inbox.has_work() {
            true
        } else if self.executor.has_ready() || main_woken.load(SeqCst) {
            // IO or a timer woke something (or anyone woke the `block_on` future): run it, and
            // spin on after it if there is time left.
            return Turn::Continue;
        } else {
            shared.set_spinning(true);
            let answered = spin_until(slice_end, || self.remote_work(main_woken));
            shared.set_spinning(false);
            answered
        };
        if answered {
            context::count(|c| c.spin_hits.inc());
            let waker_cpu = shared.take_waker_cpu();
            if waker_cpu != usize::MAX && waker_cpu == current_cpu() {
                // The answer came from this CPU: the thread that gave it can only run when this
                // one lets it, so spinning for it only gets in its way. Park for a while.
                self.spin.end(false);
                self.spin
                    .paused_until
                    .set(Some(Instant::now() + SPIN_PAUSE));
            } else {
                self.spin.end(true); // more may follow
            }
        } else if Instant::now() >= until {
            // Nobody answered: do not spin again until something gives a new reason to.
            self.spin.end(false);
        }
        Turn::Continue
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shut_down(None);
        // Worker 0 writes the trace, once the other workers have stopped.
        if self.core.worker().id == 0 {
            self.core.trace.flush_at_drop();
        }
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
