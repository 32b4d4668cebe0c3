//! [`Handle`]: a runtime seen from anywhere — `Send + Sync + Clone` — to spawn `Send` futures on
//! its workers; and [`RemoteJoinHandle`], the `Send` handle of a task spawned that way.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use super::inbox::Inbox;
use crate::blocking::oneshot;
use crate::task::{AbortHandle, JoinError};

/// A handle to a runtime's workers, usable from any thread: spawn `Send` futures on them.
///
/// Get one with [`Runtime::handle`](crate::Runtime::handle), or [`Handle::current`] inside a task.
/// Spawned tasks run on the chosen worker's thread for their whole life.
///
/// ```
/// let rt = runtime::Runtime::builder().workers(2).build()?;
/// let handle = rt.handle();
/// let from_a_thread = std::thread::spawn(move || handle.spawn(async { 6 * 7 }));
/// let task = from_a_thread.join().unwrap();
/// assert_eq!(rt.block_on(task).unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    inner: Arc<Inner>,
}

struct Inner {
    /// One per worker, worker 0 first.
    inboxes: Vec<Arc<Inbox>>,
    /// Round-robin cursor of [`Handle::spawn`].
    next: AtomicUsize,
}

impl Handle {
    pub(crate) fn new(inboxes: Vec<Arc<Inbox>>) -> Handle {
        Handle {
            inner: Arc::new(Inner {
                inboxes,
                next: AtomicUsize::new(0),
            }),
        }
    }

    /// The handle of the runtime running the current task.
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn current() -> Handle {
        crate::context::with_worker(|worker| worker.handle.clone())
    }

    /// How many workers the runtime has.
    pub fn workers(&self) -> usize {
        self.inner.inboxes.len()
    }

    /// Spawns `future` on the next worker in turn (round robin). From a worker of this runtime or
    /// from any other thread; the task starts at that worker's next turn (worker 0 runs while its
    /// thread is in [`block_on`](crate::Runtime::block_on)).
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let worker = self.inner.next.fetch_add(1, Ordering::Relaxed) % self.workers();
        self.spawn_on(worker, future)
    }

    /// Spawns `future` on worker `worker`.
    ///
    /// # Panics
    /// When `worker` is not below [`workers`](Self::workers).
    pub fn spawn_on<F>(&self, worker: usize, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_made_on(worker, move || future)
    }

    /// Spawns, on every worker, the future `factory(worker)` makes *there*: the future need not
    /// be `Send` (the per-core server pattern: each worker binds its own listener, say).
    pub fn spawn_on_each<M, F>(&self, factory: M) -> Vec<RemoteJoinHandle<F::Output>>
    where
        M: Fn(usize) -> F + Send + Sync + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let factory = Arc::new(factory);
        (0..self.workers())
            .map(|worker| {
                let factory = factory.clone();
                self.spawn_made_on(worker, move || factory(worker))
            })
            .collect()
    }

    /// Sends worker `worker` a job that makes the future there and spawns it; the result comes
    /// back through a cross-thread oneshot.
    fn spawn_made_on<M, F>(&self, worker: usize, make: M) -> RemoteJoinHandle<F::Output>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let inbox = self.inner.inboxes.get(worker).unwrap_or_else(|| {
            panic!(
                "spawn_on({worker}): the runtime has {} workers",
                self.workers()
            )
        });
        let (tx, rx) = oneshot::channel();
        let abort = Arc::new(AbortSlot::default());
        let slot = abort.clone();
        inbox.push(Box::new(move || {
            if slot.requested() {
                return; // aborted before it started: `tx` drops, the awaiter sees "cancelled"
            }
            let future = match catch_unwind(AssertUnwindSafe(make)) {
                Ok(future) => future,
                Err(payload) => return tx.send(Err(JoinError::panic(payload))),
            };
            let task = crate::spawn(future);
            slot.set(task.abort_handle());
            drop(crate::spawn(async move { tx.send(task.await) }));
        }));
        RemoteJoinHandle { rx, abort }
    }

    /// Runs `job` on worker `worker`'s thread, its runtime entered.
    pub(crate) fn run_on(&self, worker: usize, job: impl FnOnce() + Send + 'static) {
        self.inner.inboxes[worker].push(Box::new(job));
    }

    /// Orders every worker to stop (used when the runtime shuts down).
    pub(crate) fn close_all(&self) {
        self.inner.inboxes.iter().for_each(|inbox| inbox.close());
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.workers())
            .finish()
    }
}

/// The handle of a task spawned through a [`Handle`]: `Send`, awaitable from any thread and any
/// runtime. Awaiting it gives the task's output, or a [`JoinError`] if it panicked, was aborted,
/// or its worker stopped first.
pub struct RemoteJoinHandle<T> {
    rx: oneshot::Receiver<Result<T, JoinError>>,
    abort: Arc<AbortSlot>,
}

impl<T> RemoteJoinHandle<T> {
    /// Cancels the task: at its worker's next turn, or before it starts.
    pub fn abort(&self) {
        self.abort.abort();
    }
}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|result| result.unwrap_or_else(|_closed| Err(JoinError::cancelled())))
    }
}

impl<T> std::fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJoinHandle").finish_non_exhaustive()
    }
}

/// Where an abort meets the task it aims at, whichever comes first.
#[derive(Default)]
struct AbortSlot(Mutex<AbortState>);

#[derive(Default)]
struct AbortState {
    requested: bool,
    handle: Option<AbortHandle>,
}

impl AbortSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, AbortState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn requested(&self) -> bool {
        self.lock().requested
    }

    /// The task was spawned: abort it now if that was asked for meanwhile.
    fn set(&self, handle: AbortHandle) {
        let mut state = self.lock();
        if state.requested {
            handle.abort();
        }
        state.handle = Some(handle);
    }

    fn abort(&self) {
        let mut state = self.lock();
        state.requested = true;
        if let Some(handle) = &state.handle {
            handle.abort();
        }
    }
}
