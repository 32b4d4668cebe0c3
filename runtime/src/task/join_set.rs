//! [`JoinSet`]: a set of spawned tasks whose outputs are collected in the order the tasks finish.
//!
//! **How `join_next` avoids polling every task.** Each slot of the set has a waker of its own, a
//! [`SlotWaker`]: the slot's index and a pointer to the set's [`ReadyList`]. It is registered as
//! the join waker of the slot's task when the task is spawned (one poll of its `JoinHandle`, which
//! cannot be ready yet). When the task ends, the executor wakes that waker, which pushes the
//! index onto the ready list (at most once: a flag says it is queued) and wakes whoever awaits
//! `join_next`. `join_next` then polls only the handles whose index it pops, in the order they
//! were pushed, which is the order the tasks finished. Joining `n` tasks costs `O(n)` polls in all,
//! whatever the order.
//!
//! ```text
//!  task ends ─► join waker = SlotWaker{index} ─► ready list [3, 0, 7, …] ─► join_next pops 3,
//!                                                   │                         polls slot 3 only
//!                                                   └─► wakes the task awaiting join_next
//! ```
//!
//! Wakers must be `Send + Sync`, so the ready list sits behind a `Mutex`; every wake happens on the
//! set's own thread, so the lock is never contended. Slot wakers are made once per slot and reused
//! when the slot is.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use super::{AbortHandle, JoinError, JoinHandle};

/// A set of tasks spawned on the current runtime, joined in the order they finish.
///
/// Tasks need not be `Send` (they run on this thread, like every task). Dropping the set aborts
/// every task still in it; [`detach_all`](JoinSet::detach_all) lets them run on instead.
///
/// ```
/// use runtime::task::JoinSet;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let mut set = JoinSet::new();
/// for i in 0..10u64 {
///     set.spawn(async move { i * i });
/// }
/// let mut total = 0;
/// while let Some(result) = set.join_next().await {
///     total += result.unwrap();
/// }
/// assert_eq!(total, 285);
/// assert!(set.is_empty());
/// # });
/// ```
pub struct JoinSet<T> {
    slots: Vec<Slot<T>>,
    /// Indices of the slots that hold no task.
    free: Vec<usize>,
    /// How many slots hold a task.
    len: usize,
    ready: Arc<ReadyList>,
}

struct Slot<T> {
    handle: Option<JoinHandle<T>>,
    notify: Arc<SlotWaker>,
    /// `notify` as a `Waker`, made once.
    waker: Waker,
}

/// Indices of the slots whose task may have ended, oldest first, and the waker of the task
/// awaiting [`JoinSet::join_next`].
#[derive(Default)]
struct ReadyList(Mutex<Ready>);

#[derive(Default)]
struct Ready {
    indices: VecDeque<usize>,
    joiner: Option<Waker>,
}

impl ReadyList {
    fn lock(&self) -> MutexGuard<'_, Ready> {
        // Nothing panics while the lock is held, but a poisoned list is still a consistent one.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The join waker of one slot's task.
struct SlotWaker {
    index: usize,
    /// Set while `index` is on the ready list (so it is pushed once however often it is woken).
    queued: AtomicBool,
    list: Arc<ReadyList>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let joiner = {
            let mut ready = self.list.lock();
            ready.indices.push_back(self.index);
            ready.joiner.take()
        };
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            ready: Arc::default(),
        }
    }

    /// How many tasks are in the set (running, or finished and not yet joined).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Spawns `future` on the current runtime and adds its task to the set. The returned
    /// [`AbortHandle`] may be dropped: the set keeps the task either way.
    ///
    /// # Panics
    /// When called outside a runtime.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let mut set = runtime::task::JoinSet::new();
    /// let sleeper = set.spawn(std::future::pending::<()>());
    /// sleeper.abort();
    /// assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(super::spawn(future))
    }

    /// Runs `f` on the blocking pool, as [`spawn_blocking`](super::spawn_blocking) does, and adds
    /// the task awaiting it to the set. Aborting that task does not stop `f`: a thread cannot be
    /// interrupted.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let mut set = runtime::task::JoinSet::new();
    /// set.spawn_blocking(|| (1..=100u32).sum::<u32>());
    /// assert_eq!(set.join_next().await.unwrap().unwrap(), 5050);
    /// # });
    /// ```
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.insert(super::spawn_blocking(f))
    }

    /// Adds a spawned task: registers the slot's waker as its join waker, so that its end puts
    /// the slot on the ready list.
    fn insert(&mut self, mut handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let notify = Arc::new(SlotWaker {
                    index: self.slots.len(),
                    queued: AtomicBool::new(false),
                    list: self.ready.clone(),
                });
                let waker = Waker::from(notify.clone());
                self.slots.push(Slot {
                    handle: None,
                    notify,
                    waker,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        if handle.is_finished() {
            // Cancelled at once (the runtime is shutting down): nothing will wake the slot.
            slot.notify.wake_by_ref();
        } else {
            // Not finished, and tasks finish only on this thread: this poll just stores the waker.
            let first = poll_handle(&mut handle, &slot.waker);
            debug_assert!(first.is_pending());
        }
        slot.handle = Some(handle);
        self.len += 1;
        abort
    }

    /// Waits for the next task to finish and returns its output, or the [`JoinError`] saying why it
    /// has none; `None` when the set is empty. Outputs come in the order the tasks finished.
    ///
    /// Cancel safe: when the returned future is dropped before it is ready, no output is lost.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The output of a task that has already finished, without waiting: `None` when no task in the
    /// set has finished (or the set is empty).
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let mut set = runtime::task::JoinSet::new();
    /// set.spawn(async { 7 });
    /// assert!(set.try_join_next().is_none(), "the task has not run yet");
    /// runtime::task::yield_now().await;
    /// assert_eq!(set.try_join_next().unwrap().unwrap(), 7);
    /// # });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        while let Some(index) = self.pop_ready(None) {
            if let Poll::Ready(output) = self.poll_slot(index) {
                return Some(output);
            }
        }
        None
    }

    /// The poll behind [`join_next`](JoinSet::join_next), for hand-written futures: `Pending`
    /// (with `cx`'s waker registered) while no task has finished.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        // Like an IO operation, a join spends the task's budget, so that a loop over a set of
        // finished tasks still lets the other tasks run.
        if crate::context::budget::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        while let Some(index) = self.pop_ready(Some(cx.waker())) {
            if let Poll::Ready(output) = self.poll_slot(index) {
                crate::context::budget::spend();
                return Poll::Ready(Some(output));
            }
        }
        Poll::Pending
    }

    /// Waits for every task and returns their outputs, in the order the tasks finished.
    ///
    /// # Panics
    /// When a task panicked (its panic is resumed here) or was aborted; the tasks still in the
    /// set are then aborted, as the set is dropped.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let set: runtime::task::JoinSet<u32> = (1..=3).map(|i| async move { i * 10 }).collect();
    /// let mut outputs = set.join_all().await;
    /// outputs.sort();
    /// assert_eq!(outputs, [10, 20, 30]);
    /// # });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len);
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("{e}"),
            }
        }
        outputs
    }

    /// Aborts every task in the set. They stay in it: [`join_next`](JoinSet::join_next) returns
    /// each one's output, or a cancelled [`JoinError`] for those that had not finished yet.
    pub fn abort_all(&mut self) {
        for handle in self.handles() {
            handle.abort();
        }
    }

    /// Aborts every task and waits until each has ended; the set is then empty.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let mut set = runtime::task::JoinSet::new();
    /// for _ in 0..3 {
    ///     set.spawn(std::future::pending::<()>());
    /// }
    /// set.shutdown().await;
    /// assert!(set.is_empty());
    /// # });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every task from the set without aborting it: each runs on, detached, as when its
    /// `JoinHandle` is dropped.
    pub fn detach_all(&mut self) {
        for slot in &mut self.slots {
            slot.handle = None;
            slot.notify.queued.store(false, Ordering::Release);
        }
        self.ready.lock().indices.clear();
        self.free = (0..self.slots.len()).rev().collect();
        self.len = 0;
    }

    fn handles(&self) -> impl Iterator<Item = &JoinHandle<T>> {
        self.slots.iter().filter_map(|slot| slot.handle.as_ref())
    }

    /// The oldest index on the ready list, marked as no longer queued. When the list is empty,
    /// `joiner` (if any) is stored, to be woken by the next push.
    fn pop_ready(&mut self, joiner: Option<&Waker>) -> Option<usize> {
        let index = {
            let mut ready = self.ready.lock();
            let index = ready.indices.pop_front();
            if let (None, Some(joiner)) = (index, joiner) {
                ready.joiner = Some(joiner.clone());
            }
            index?
        };
        self.slots[index]
            .notify
            .queued
            .store(false, Ordering::Release);
        Some(index)
    }

    /// Polls the task of slot `index` (woken, so probably finished); frees the slot when it is.
    fn poll_slot(&mut self, index: usize) -> Poll<Result<T, JoinError>> {
        let slot = &mut self.slots[index];
        let Some(handle) = slot.handle.as_mut() else {
            return Poll::Pending; // a slot emptied since it was woken
        };
        let Poll::Ready(output) = poll_handle(handle, &slot.waker) else {
            return Poll::Pending;
        };
        slot.handle = None;
        self.free.push(index);
        self.len -= 1;
        Poll::Ready(output)
    }
}

/// Polls a handle where it lies (`JoinHandle` is `Unpin`).
fn poll_handle<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(waker))
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

/// Spawns every future of the iterator into a new set.
///
/// # Panics
/// When called outside a runtime.
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
    T: 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(futures: I) -> Self {
        let mut set = JoinSet::new();
        set.extend(futures);
        set
    }
}

/// Spawns every future of the iterator into the set.
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
    T: 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, futures: I) {
        for future in futures {
            self.spawn(future);
        }
    }
}

impl<T> Drop for JoinSet<T> {
    /// Aborts every task still in the set.
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::JoinSet;

    fn ready_len<T>(set: &JoinSet<T>) -> usize {
        set.ready.lock().indices.len()
    }

    /// Each finished task is put on the ready list once, and each join takes exactly one entry:
    /// `join_next` polls the handle of one finished task, never the whole set.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "builds a runtime: io_uring and epoll syscalls Miri cannot run"
    )]
    fn a_join_polls_one_finished_task() {
        crate::Runtime::new().unwrap().block_on(async {
            let mut set = JoinSet::new();
            for i in 0..1000 {
                set.spawn(async move { i });
            }
            assert_eq!(ready_len(&set), 0, "no task has run yet");
            for _ in 0..100 {
                if ready_len(&set) == 1000 {
                    break;
                }
                crate::task::yield_now().await;
            }
            assert_eq!(ready_len(&set), 1000);
            for left in (0..1000).rev() {
                set.join_next().await.unwrap().unwrap();
                assert_eq!(ready_len(&set), left);
                assert_eq!(set.len(), left);
            }
        });
    }
}
