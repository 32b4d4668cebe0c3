//! One spawned task is one heap allocation: a [`Header`] followed by the future's [`Stage`].
//!
//! ```text
//!  NonNull<Header> ──► ┌─────────────────────────────┐  #[repr(C)], so a pointer to the cell is
//!                      │ Header                      │  also a pointer to its header
//!                      │   state   (atomic, any thread)
//!                      │   vtable  (&'static, per F) │
//!                      │   owner   (Arc<Shared>)     │
//!                      │   links, join waker (owner thread only)
//!                      ├─────────────────────────────┤
//!                      │ Stage<F>: Running(F)        │
//!                      │         | Finished(output)  │
//!                      │         | Consumed          │
//!                      ├─────────────────────────────┤
//!                      │ name: N  (`()` or Box<str>) │
//!                      └─────────────────────────────┘
//! ```
//!
//! The name is a type parameter rather than a header field: a task spawned without a name stores
//! `()` there, so it is exactly as large, and as fast to spawn, as if names did not exist. Only
//! the typed functions (a panic or an abort, which put the name in the [`JoinError`]) read it.
//!
//! Code that does not know `F` (queues, wakers, the join handle) holds a `NonNull<Header>` and reaches
//! the typed parts through the [`Vtable`], of which there is one `static` per future and name type.
//!
//! # Invariants
//! - **Owner thread only:** the stage, the links and the join waker are touched only on the thread that
//!   spawned the task (wakers from other threads only touch `state` and `owner`).
//! - **Stage consumed before the last reference goes:** the owner drops the future (completion, abort
//!   or shutdown) and the output (join handle dropped, or nobody wants it) on its own thread, so
//!   [`Vtable::dealloc`], which may run on any thread, only frees memory.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::join::JoinError;
use super::state::State;
use super::waker;
use crate::executor::Shared;

/// The type-erased part of a task, at the start of its allocation.
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// The executor this task belongs to: wakes are sent there.
    pub(crate) owner: Arc<Shared>,
    /// Links of the owner's intrusive list of live tasks (owner thread only).
    pub(crate) prev: Cell<Option<NonNull<Header>>>,
    pub(crate) next: Cell<Option<NonNull<Header>>>,
    /// The waker of the task awaiting the `JoinHandle` (owner thread only).
    pub(crate) join_waker: Cell<Option<Waker>>,
}

/// Functions that know the concrete future type, one static table per type.
///
/// Every entry takes the header of a live task built for this table's future type; the `# Safety`
/// section of the generic function it points to says what else the caller must ensure.
pub(crate) struct Vtable {
    /// Polls the future once; returns `Ready` when the stage became `Finished`.
    /// # Safety: see [`poll`] (owner thread, stage `Running`).
    pub(crate) poll: unsafe fn(NonNull<Header>) -> Poll<()>,
    /// Drops the future and stores `Err(JoinError::cancelled())` as the output.
    /// # Safety: see [`cancel`] (owner thread).
    pub(crate) cancel: unsafe fn(NonNull<Header>),
    /// Moves the output into `*mut Poll<Result<F::Output, JoinError>>`, leaving `Consumed`.
    /// # Safety: see [`read_output`] (owner thread, `dst` of the right type).
    pub(crate) read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops whatever the stage holds, leaving `Consumed`.
    /// # Safety: see [`drop_stage`] (owner thread).
    pub(crate) drop_stage: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    /// # Safety: see [`dealloc`] (no reference left, stage consumed; any thread).
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
}

/// What a task keeps as its name: `()` (no name, no bytes) or a `Box<str>`.
pub(crate) trait TaskName: 'static {
    fn get(&self) -> Option<&str>;
}

impl TaskName for () {
    fn get(&self) -> Option<&str> {
        None
    }
}

impl TaskName for Box<str> {
    fn get(&self) -> Option<&str> {
        Some(self)
    }
}

/// What the task holds after its header.
enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct TaskCell<F: Future, N> {
    header: Header,
    stage: StageCell<F>,
    name: N,
}

/// The cell holding the stage. Under loom it is loom's `UnsafeCell`, so the model checks that each
/// access to the stage — the owner's, and the freeing thread's in [`dealloc`] — is ordered after
/// the previous one by the state word (a data race on the stage is reported, not silently run).
struct StageCell<F: Future>(
    #[cfg(not(all(test, loom)))] std::cell::UnsafeCell<Stage<F>>,
    #[cfg(all(test, loom))] loom::cell::UnsafeCell<Stage<F>>,
);

#[cfg(not(all(test, loom)))]
impl<F: Future> StageCell<F> {
    fn new(stage: Stage<F>) -> Self {
        StageCell(std::cell::UnsafeCell::new(stage))
    }

    /// Calls `f` with a pointer to the stage.
    fn with_mut<R>(&self, f: impl FnOnce(*mut Stage<F>) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(all(test, loom))]
impl<F: Future> StageCell<F> {
    fn new(stage: Stage<F>) -> Self {
        StageCell(loom::cell::UnsafeCell::new(stage))
    }

    /// Calls `f` with a pointer to the stage; loom records a write access.
    fn with_mut<R>(&self, f: impl FnOnce(*mut Stage<F>) -> R) -> R {
        self.0.with_mut(f)
    }
}

struct VtableOf<F, N>(std::marker::PhantomData<(F, N)>);

impl<F: Future + 'static, N: TaskName> VtableOf<F, N> {
    const VTABLE: Vtable = Vtable {
        poll: poll::<F, N>,
        cancel: cancel::<F, N>,
        read_output: read_output::<F, N>,
        drop_stage: drop_stage::<F, N>,
        dealloc: dealloc::<F, N>,
    };
}

/// Allocates a task for `future`, named `name` (`()` for none). The returned pointer carries the
/// three references `State::new` counts (owned list, join handle, first queue entry).
pub(crate) fn allocate<F: Future + 'static, N: TaskName>(
    future: F,
    owner: Arc<Shared>,
    name: N,
) -> NonNull<Header> {
    let cell = Box::new(TaskCell {
        header: Header {
            state: State::new(),
            vtable: &VtableOf::<F, N>::VTABLE,
            owner,
            prev: Cell::new(None),
            next: Cell::new(None),
            join_waker: Cell::new(None),
        },
        stage: StageCell::new(Stage::Running(future)),
        name,
    });
    NonNull::from(Box::leak(cell)).cast()
}

/// The task's stage, and its name.
///
/// # Safety
/// `ptr` must point to a live `TaskCell<F, N>` with these very `F` and `N`, and the caller must be
/// on the owner thread with no other borrow of the stage alive.
unsafe fn stage<'a, F: Future, N: TaskName>(
    ptr: NonNull<Header>,
) -> (&'a mut Stage<F>, Option<&'a str>) {
    // SAFETY: the header is the first field of the #[repr(C)] TaskCell<F, N> (the caller
    // guarantees the types), and the owner-thread rule makes this the only access to the stage;
    // the name is never written after allocation.
    let cell = unsafe { ptr.cast::<TaskCell<F, N>>().as_ref() };
    // SAFETY: as above.
    (
        unsafe { cell.stage.with_mut(|stage| &mut *stage) },
        cell.name.get(),
    )
}

/// Runs `f`, turning a panic into its payload; used so a panicking task never unwinds into the
/// executor.
fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    catch_unwind(AssertUnwindSafe(f))
}

/// # Safety
/// As for [`stage`]; the stage must be `Running`.
unsafe fn poll<F: Future, N: TaskName>(ptr: NonNull<Header>) -> Poll<()> {
    // SAFETY: forwarded from the caller.
    let (stage, name) = unsafe { stage::<F, N>(ptr) };
    // SAFETY: the header stays alive for the whole poll: the caller holds a queue-entry reference.
    let waker = unsafe { waker::borrowed(ptr) };
    let mut cx = Context::from_waker(&waker);
    let result = catch(|| match stage {
        // SAFETY: the future lives inside the heap allocation and is never moved out of it until
        // it is dropped in place, so it is pinned.
        Stage::Running(future) => unsafe { Pin::new_unchecked(future) }.poll(&mut cx),
        _ => unreachable!("a task is polled only while its future is running"),
    });
    match result {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(output)) => {
            finish(stage, Ok(output));
            Poll::Ready(())
        }
        Err(payload) => {
            finish(stage, Err(JoinError::panic(payload).in_task(name)));
            Poll::Ready(())
        }
    }
}

/// Drops the future and stores the output.
fn finish<F: Future>(stage: &mut Stage<F>, output: Result<F::Output, JoinError>) {
    replace_in_place(stage, Stage::Finished(output));
}

/// Drops what `stage` holds *where it lies*, then puts `next` there. A running future is pinned:
/// its destructor may rely on its address (an intrusive waiter list entry, a self-reference), so
/// it must never be moved out to be dropped. A panic in the destructor is swallowed: the task is
/// over either way.
fn replace_in_place<F: Future>(stage: &mut Stage<F>, next: Stage<F>) {
    let place: *mut Stage<F> = stage;
    // SAFETY: `place` comes from a unique reference, so it is valid and nobody else uses it; the
    // value is dropped exactly once, here (after a panic in its destructor it is not touched
    // again either)...
    let _ = catch(|| unsafe { std::ptr::drop_in_place(place) });
    // SAFETY: ...and the dropped value is overwritten without being read or dropped again.
    unsafe { std::ptr::write(place, next) };
}

/// # Safety
/// As for [`stage`].
unsafe fn cancel<F: Future, N: TaskName>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let (stage, name) = unsafe { stage::<F, N>(ptr) };
    finish(stage, Err(JoinError::cancelled().in_task(name)));
}

/// # Safety
/// As for [`stage`], and `dst` must point to a valid `Poll<Result<F::Output, JoinError>>`.
unsafe fn read_output<F: Future, N: TaskName>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: forwarded from the caller.
    let (stage, _) = unsafe { stage::<F, N>(ptr) };
    let dst = dst.cast::<Poll<Result<F::Output, JoinError>>>();
    match mem::replace(stage, Stage::Consumed) {
        // SAFETY: the caller guarantees `dst` has this type and is valid for writes.
        Stage::Finished(output) => unsafe { *dst = Poll::Ready(output) },
        _ => panic!("JoinHandle polled after it returned its output"),
    }
}

/// # Safety
/// As for [`stage`].
unsafe fn drop_stage<F: Future, N: TaskName>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let (stage, _) = unsafe { stage::<F, N>(ptr) };
    replace_in_place(stage, Stage::Consumed);
}

/// # Safety
/// `ptr` must come from [`allocate`] with these `F` and `N`, its reference count must have reached
/// zero, and its stage must be `Consumed` (see the module invariants), so this may run on any
/// thread.
unsafe fn dealloc<F: Future, N: TaskName>(ptr: NonNull<Header>) {
    // SAFETY: the allocation was made by `Box::new` in `allocate` with this type, and nobody refers
    // to it any more.
    let cell = unsafe { Box::from_raw(ptr.cast::<TaskCell<F, N>>().as_ptr()) };
    // Freeing is the stage's last write: under loom this access must be ordered after the owner's.
    cell.stage.with_mut(|stage| {
        // SAFETY: we own the cell now.
        debug_assert!(matches!(unsafe { &*stage }, Stage::Consumed));
    });
    drop(cell);
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::mem;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use super::super::{new_task, waker};
    use crate::executor::Shared;

    /// Starts a closure on another thread; the function it returns joins that thread.
    pub(super) type Spawn = fn(Box<dyn FnOnce() + Send>) -> Box<dyn FnOnce()>;

    /// One task, its references spread over threads: one foreign thread drops a waker, another
    /// wakes by value, while the owner polls the task to completion, takes its output and releases
    /// its own references. Whichever thread drops the count to zero frees the task; once every
    /// thread is joined and the queued entries are gone, it must have been freed.
    pub(super) fn release_references_across_threads(shared: &Arc<Shared>, spawn: Spawn) {
        let (owned, join, notified) = new_task(async { Box::new(7) }, shared.clone(), ());
        // SAFETY: the task is alive: `owned` holds a reference until the end of the poll.
        let borrowed = unsafe { waker::borrowed(owned.as_ptr()) };
        let (dropped, woken) = ((*borrowed).clone(), (*borrowed).clone());
        let joins = [
            spawn(Box::new(move || drop(dropped))),
            spawn(Box::new(move || woken.wake())),
        ];

        // As in the executor: `run` hands back the owned list's reference when the task ends.
        mem::forget(owned);
        let ended = notified.run().expect("the task ends in its first poll");
        drop(ended);
        let mut join = join;
        let output = Pin::new(&mut join).poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(output, Poll::Ready(Ok(seven)) if *seven == 7));
        drop(join);

        joins.into_iter().for_each(|join| join());
        // A wake during the poll queued an entry: the executor pops it and skips it.
        while let Some(entry) = shared.pop_remote() {
            assert!(entry.run().is_none());
        }
        // Every task holds its owner's `Shared`: only the caller's is left once the task is freed.
        assert_eq!(Arc::strong_count(shared), 1, "the task was not freed");
    }

    /// The std-threads run of the scenario; under Miri, it also checks that no thread touches the
    /// task after it was freed.
    #[cfg(not(loom))]
    #[test]
    fn references_released_across_threads_free_the_task() {
        let (_driver, unparker) = crate::executor::test_unparker();
        let shared = Arc::new(Shared::new(unparker));
        for _ in 0..if cfg!(miri) { 10 } else { 200 } {
            release_references_across_threads(&shared, |f| {
                let thread = std::thread::spawn(f);
                Box::new(move || thread.join().unwrap())
            });
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::Arc;

    use super::tests::release_references_across_threads;
    use crate::executor::{test_unparker, Shared};

    /// The scenario of `tests` under loom: the task is freed exactly once in every interleaving,
    /// and `dealloc`'s access to the stage comes after the owner's last one (else loom reports a
    /// race on the stage cell).
    #[test]
    fn last_reference_frees_the_task_exactly_once() {
        let (_driver, unparker) = test_unparker();
        let mut model = loom::model::Builder::new();
        // Unbounded, this model takes minutes; `LOOM_MAX_PREEMPTIONS` still overrides the bound.
        model.preemption_bound.get_or_insert(4);
        model.check(move || {
            let shared = Arc::new(Shared::new(unparker.clone()));
            release_references_across_threads(&shared, |f| {
                let thread = loom::thread::spawn(f);
                Box::new(move || thread.join().unwrap())
            });
        });
    }
}
