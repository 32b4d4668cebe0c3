//! The runtime's thread-local: which runtime (if any) this thread is running, this thread's
//! counters, and the mailboxes of the drivers alive on this thread (see `driver/identity.rs`).
//!
//! `block_on` *enters* a runtime by storing a pointer to its [`Core`] here for the duration of the
//! call; futures reach their driver, timers and executor through the functions below. (The only
//! other per-thread state is the trace's recording lane, `trace/lane.rs`, used when tracing is on.)
//!
//! # Invariant
//! `core` is either null or points to a `Core` that outlives the [`EnterGuard`] which stored it: the
//! guard borrows the `Core` for its whole life and restores the previous value when dropped (also
//! when unwinding).

use std::cell::{Cell, RefCell, RefMut};
use std::marker::PhantomData;
use std::ptr;
use std::rc::Rc;

use crate::driver::{Driver, DriverId, Mailbox};
use crate::executor::Executor;
use crate::runtime::Core;
use crate::stats::Counters;
use crate::task::Notified;
use crate::time::Timers;

/// What the hot path reads: every field is plain data with nothing to drop, so the thread-local
/// needs no destructor, and reaching it is one load relative to the thread pointer, with no
/// "initialised yet? destroyed already?" check (a thread-local with a destructor pays that check
/// on every access).
struct Context {
    core: Cell<*const Core>,
    counters: Counters,
    /// IO operations the current poll may still complete before it must yield (see [`budget`]).
    budget: Cell<u32>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            core: Cell::new(ptr::null()),
            counters: Counters::new(),
            budget: Cell::new(BUDGET),
        }
    };

    /// The mailbox of every driver alive on this thread, entered or not (see
    /// `driver/identity.rs`): where things dropped away from their driver are posted. Kept apart
    /// from [`CONTEXT`] because it owns heap memory, and so needs a destructor.
    static MAILBOXES: RefCell<Vec<(DriverId, Rc<Mailbox>)>> = const { RefCell::new(Vec::new()) };
}

/// How many operations one poll of a task may complete before it is made to yield.
const BUDGET: u32 = 128;

/// Cooperative budget: a task whose operations are always ready (a socket with megabytes buffered)
/// would otherwise never return `Pending`, and every other task on the thread would starve. Each
/// poll of a task starts with [`BUDGET`] operations; when they are spent, the next operation wakes
/// its task and returns `Pending` once, which sends the task to the back of the run queue.
pub(crate) mod budget {
    use std::task::{Context, Poll};

    use super::{BUDGET, CONTEXT};

    /// A task (or the `block_on` future) is about to be polled.
    pub(crate) fn reset() {
        CONTEXT.with(|c| c.budget.set(BUDGET));
    }

    /// `Pending` (after waking the task) when the budget is spent.
    pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
        CONTEXT.with(|c| proceed(c, cx))
    }

    /// One operation completed.
    pub(crate) fn spend() {
        CONTEXT.with(spent);
    }

    /// [`poll_proceed`] on a thread-local already in hand.
    #[inline]
    pub(super) fn proceed(c: &super::Context, cx: &mut Context<'_>) -> Poll<()> {
        if c.budget.get() == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(())
    }

    /// [`spend`] on a thread-local already in hand.
    #[inline]
    pub(super) fn spent(c: &super::Context) {
        c.budget.set(c.budget.get().saturating_sub(1));
    }
}

/// Keeps a runtime entered on this thread; leaving restores what was there before.
pub(crate) struct EnterGuard<'a> {
    previous: *const Core,
    _core: PhantomData<&'a Core>,
}

/// Enters `core` on this thread.
///
/// With `nested == false` (block_on), entering while another runtime is entered panics: a
/// `block_on` inside a task would stop that runtime's whole thread.
pub(crate) fn enter(core: &Core, nested: bool) -> EnterGuard<'_> {
    let previous = CONTEXT.with(|c| c.core.replace(core as *const Core));
    if !previous.is_null() && !nested {
        CONTEXT.with(|c| c.core.set(previous));
        panic!(
            "cannot start a runtime from within a runtime: `block_on` was called on a thread that \
             is already running one (use `runtime::spawn` or `.await` instead)"
        );
    }
    EnterGuard {
        previous,
        _core: PhantomData,
    }
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        let previous = self.previous;
        CONTEXT.with(|c| c.core.set(previous));
    }
}

/// Runs `f` on the entered runtime's core, or returns `None` when no runtime is entered.
fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CONTEXT.with(|c| c.core.get());
    if core.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer is valid while its EnterGuard lives (module invariant), and the
    // guard outlives this call because it lives on a caller's stack frame below us.
    Some(f(unsafe { &*core }))
}

fn with_core<R>(f: impl FnOnce(&Core) -> R) -> R {
    try_with_core(f).unwrap_or_else(|| no_runtime())
}

#[cold]
#[track_caller]
fn no_runtime() -> ! {
    panic!(
        "there is no runtime on this thread: this must be called from inside `block_on`, \
         `#[runtime::main]`, `#[runtime::test]` or a task spawned on a runtime"
    )
}

/// The poll of one IO operation, with a single look at the thread-local: the cooperative budget
/// (see [`budget`]), the entered runtime's driver for `f`, and the budget spent when `f` returns
/// `Ready`. Panics outside a runtime, and when the driver is already borrowed.
#[inline]
pub(crate) fn poll_with_driver<R>(
    cx: &mut std::task::Context<'_>,
    f: impl FnOnce(&mut Driver, &mut std::task::Context<'_>) -> std::task::Poll<R>,
) -> std::task::Poll<R> {
    CONTEXT.with(|c| {
        if budget::proceed(c, cx).is_pending() {
            return std::task::Poll::Pending;
        }
        let core = c.core.get();
        if core.is_null() {
            no_runtime();
        }
        // SAFETY: as in `try_with_core`: the EnterGuard that stored the pointer outlives this call.
        let core = unsafe { &*core };
        let result = f(
            &mut borrow_driver(core).expect("the driver is busy (re-entrant use)"),
            cx,
        );
        if result.is_ready() {
            budget::spent(c);
        }
        result
    })
}

/// The executor of the entered runtime. Panics outside a runtime.
pub(crate) fn with_executor<R>(f: impl FnOnce(&Executor) -> R) -> R {
    with_core(|core| f(&core.executor))
}

/// The backend of the entered runtime. Panics outside a runtime.
pub(crate) fn backend() -> crate::Backend {
    with_core(|core| core.backend())
}

/// The driver of the entered runtime. Panics outside a runtime, or when called from inside the
/// driver itself (it is borrowed only for short, non-reentrant stretches).
pub(crate) fn with_driver<R>(f: impl FnOnce(&mut Driver) -> R) -> R {
    with_core(|core| f(&mut borrow_driver(core).expect("the driver is busy (re-entrant use)")))
}

/// Like [`with_driver`], but `None` outside a runtime or while the driver is borrowed; for
/// destructors, which must never panic.
pub(crate) fn try_with_driver<R>(f: impl FnOnce(&mut Driver) -> R) -> Option<R> {
    try_with_core(|core| borrow_driver(core).map(|mut d| f(&mut d))).flatten()
}

fn borrow_driver(core: &Core) -> Option<RefMut<'_, Driver>> {
    core.driver.try_borrow_mut().ok()
}

/// The timers of the entered runtime. Panics outside a runtime.
pub(crate) fn with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> R {
    with_core(|core| f(&mut core.timers.borrow_mut()))
}

/// Like [`with_timers`], but `None` outside a runtime (for destructors).
pub(crate) fn try_with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> Option<R> {
    try_with_core(|core| core.timers.try_borrow_mut().ok().map(|mut t| f(&mut t))).flatten()
}

/// Which worker of its runtime this thread runs. Panics outside a runtime.
pub(crate) fn with_worker<R>(f: impl FnOnce(&crate::worker::WorkerInfo) -> R) -> R {
    with_core(|core| f(core.worker()))
}

/// The signal registry of the entered runtime. Panics outside a runtime.
pub(crate) fn with_signals<R>(f: impl FnOnce(&crate::signal::Registry) -> R) -> R {
    with_core(|core| f(&core.signals))
}

/// The blocking pool of the entered runtime. Panics outside a runtime.
pub(crate) fn with_blocking_pool<R>(f: impl FnOnce(&crate::blocking::Pool) -> R) -> R {
    with_core(|core| f(&core.blocking))
}

/// Pushes `task` on the local run queue when this thread runs the task's owner executor; gives it
/// back otherwise.
pub(crate) fn try_push_local(task: Notified) -> Option<Notified> {
    let mut task = Some(task);
    try_with_core(|core| {
        let owner = &task.as_ref().expect("present").header().owner;
        if std::sync::Arc::ptr_eq(core.executor.shared(), owner) {
            core.executor.push_local(task.take().expect("present"));
        }
    });
    task
}

/// Whether this thread is running the executor that `shared` belongs to.
pub(crate) fn is_current(shared: &std::sync::Arc<crate::executor::Shared>) -> bool {
    try_with_core(|core| std::sync::Arc::ptr_eq(core.executor.shared(), shared)).unwrap_or(false)
}

/// A driver was created on this thread: things of its own dropped elsewhere reach it through
/// `mailbox`.
pub(crate) fn register_mailbox(id: DriverId, mailbox: Rc<Mailbox>) {
    let _ = MAILBOXES.try_with(|boxes| boxes.borrow_mut().push((id, mailbox)));
}

/// The driver `id` is being dropped: nothing can be posted to it any more.
pub(crate) fn unregister_mailbox(id: DriverId) {
    let _ = MAILBOXES.try_with(|boxes| boxes.borrow_mut().retain(|(owner, _)| *owner != id));
}

/// The mailbox of the driver `id`, when that driver is alive on this thread.
pub(crate) fn mailbox(id: DriverId) -> Option<Rc<Mailbox>> {
    MAILBOXES
        .try_with(|boxes| {
            let boxes = boxes.try_borrow().ok()?;
            boxes
                .iter()
                .find(|(owner, _)| *owner == id)
                .map(|(_, m)| m.clone())
        })
        .ok()
        .flatten()
}

/// Bumps this thread's counters: `count(|c| c.polls.inc())`.
#[inline]
pub(crate) fn count(f: impl FnOnce(&Counters)) {
    CONTEXT.with(|c| f(&c.counters));
}

/// A snapshot of this thread's counters.
pub(crate) fn stats() -> crate::Stats {
    CONTEXT.with(|c| c.counters.snapshot())
}
