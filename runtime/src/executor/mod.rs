//! Who polls which task when: one executor per worker thread, with a local run queue (wakes from the
//! owner thread) and a remote one (wakes from anywhere else).
//!
//! The executor makes no syscalls of its own; the only way it reaches the kernel is the driver's
//! [`Unparker`](crate::driver::Unparker), when a foreign thread must interrupt a parked driver.
//!
//! **Fairness:** [`Executor::run_ready`] polls at most one *generation* of tasks before the run loop
//! goes back to the driver (without blocking when tasks are still ready): the tasks that were
//! queued when it started, at least [`DRIVER_INTERVAL`] and at most [`MAX_GENERATION`] polls. The
//! count is fixed when the call starts, so tasks woken meanwhile (an always-ready task that wakes
//! itself included) cannot stretch it: IO and timers are never starved, and the remote queue is
//! looked at on every such turn.
//! Why a generation and not a fixed 61: when one driver turn wakes 100 tasks (100 connections
//! that received data), polling them all before the next turn lets one `io_uring_enter` (or one
//! `epoll_wait`) serve all of them, instead of a non-blocking turn every 61 polls.

#[cfg(all(test, loom))]
mod loom_queue;
mod owned;
mod shared;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

pub(crate) use shared::Shared;

use crate::driver::Unparker;
use crate::task::{self, JoinHandle, Notified, TaskName};
use crate::trace::TaskId;
use owned::OwnedTasks;

/// How many tasks are polled between two looks at the driver, at least (when that many are ready).
pub(crate) const DRIVER_INTERVAL: usize = 61;
/// The most tasks polled between two looks at the driver: bounds how long IO and timers wait when
/// thousands of tasks are ready at once.
pub(crate) const MAX_GENERATION: usize = 256;

pub(crate) struct Executor {
    local: RefCell<VecDeque<Notified>>,
    owned: OwnedTasks,
    shared: Arc<Shared>,
}

impl Executor {
    pub(crate) fn new(unparker: Unparker) -> Executor {
        Executor {
            local: RefCell::new(VecDeque::with_capacity(256)),
            owned: OwnedTasks::new(),
            shared: Arc::new(Shared::new(unparker)),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Spawns `future` as a task named `name` (`()` for an unnamed task).
    pub(crate) fn spawn<F, N>(&self, future: F, name: N) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        N: TaskName,
    {
        let traced_name = crate::trace::task_name(name.get());
        let (owned, handle, notified) = task::new_task(future, self.shared.clone(), name);
        crate::trace::spawn(owned.as_ptr().as_ptr(), traced_name);
        crate::context::count(|c| c.tasks_spawned.inc());
        if self.shared.is_closed() {
            // The runtime is shutting down: the task is cancelled before it ever runs.
            owned.shutdown();
            drop(notified);
            drop(owned);
            return handle;
        }
        self.owned.push(owned);
        self.local.borrow_mut().push_back(notified);
        handle
    }

    /// Pushes a task woken on this thread.
    pub(crate) fn push_local(&self, task: Notified) {
        crate::context::count(|c| c.local_wakes.inc());
        self.local.borrow_mut().push_back(task);
    }

    /// Polls the tasks queued now — at least [`DRIVER_INTERVAL`] ready tasks if there are that
    /// many, at most [`MAX_GENERATION`] — local ones first, then remote ones.
    pub(crate) fn run_ready(&self) {
        let queued = self.local.borrow().len();
        let budget = queued.clamp(DRIVER_INTERVAL, MAX_GENERATION);
        for _ in 0..budget {
            let next = self.local.borrow_mut().pop_front();
            let task = match next {
                Some(task) => task,
                None => match self.shared.pop_remote() {
                    Some(task) => {
                        crate::context::count(|c| c.remote_wakes.inc());
                        crate::trace::wake_arrived(task.header());
                        task
                    }
                    None => return,
                },
            };
            let traced = crate::trace::poll_begin(TaskId::of(task.header()));
            if let Some(ended) = task.run() {
                drop(self.owned.remove(ended));
            }
            crate::trace::poll_end(traced);
        }
    }

    /// Whether some task is ready to run now.
    pub(crate) fn has_ready(&self) -> bool {
        !self.local.borrow().is_empty()
    }

    /// How many tasks are alive (spawned and not yet ended).
    pub(crate) fn live_tasks(&self) -> usize {
        self.owned.len()
    }

    /// Drops every task's future, then every queued entry. Must run on the owner thread, with the
    /// driver still alive (futures may hand in-flight operations back to it).
    pub(crate) fn shutdown(&self) {
        self.shared.close();
        while let Some(task) = self.owned.pop() {
            task.shutdown();
        }
        loop {
            let next = self.local.borrow_mut().pop_front();
            match next {
                Some(task) => drop(task),
                None => break,
            }
        }
        while let Some(task) = self.shared.pop_remote() {
            drop(task);
        }
    }
}

/// Sends a woken task to its owner: straight onto the local queue when we are on the owner's
/// thread, else through the owner's remote queue.
pub(crate) fn schedule(task: Notified) {
    crate::trace::wake(task.header());
    let task = match crate::context::try_push_local(task) {
        None => return,
        Some(task) => task,
    };
    // The task may run and be freed by its owner as soon as it is pushed: keep the owner alive.
    let owner = task.header().owner.clone();
    owner.push_remote(task);
}

/// A driver and its unparker, for tests that build executor parts without a runtime. Keep the
/// driver alive as long as the unparker is used.
#[cfg(test)]
pub(crate) fn test_unparker() -> (crate::driver::Driver, Unparker) {
    let builder = crate::Builder::new().backend(crate::Backend::compiled()[0]);
    let (driver, _) = crate::driver::Driver::new(&builder).expect("a driver for the test");
    let unparker = driver.unparker();
    (driver, unparker)
}

#[cfg(test)]
mod tests {
    use super::MAX_GENERATION;

    /// Spawns `n` tasks that finish at once, awaits them all, and returns how many driver turns
    /// that took.
    fn driver_turns_to_run(n: usize) -> u64 {
        let rt = crate::Runtime::new().unwrap();
        rt.block_on(async move {
            let before = crate::stats();
            let tasks: Vec<_> = (0..n).map(|_| crate::spawn(async {})).collect();
            for task in tasks {
                task.await.unwrap();
            }
            (crate::stats() - before).driver_turns
        })
    }

    #[test]
    fn a_generation_of_ready_tasks_runs_between_two_driver_turns() {
        // 200 ready tasks: one generation, one turn (with a fixed budget of 61: four).
        assert_eq!(driver_turns_to_run(200), 1);
        // A generation is capped, so that thousands of ready tasks still let IO in regularly.
        let n = 4 * MAX_GENERATION - 10;
        assert_eq!(driver_turns_to_run(n), 4);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::cell::Cell;
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use super::Executor;

    /// A future that never finishes and hands its waker out on every poll.
    struct GivesWaker(Rc<Cell<Option<Waker>>>);

    impl Future for GivesWaker {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.0.set(Some(cx.waker().clone()));
            Poll::Pending
        }
    }

    /// A wake from another thread races the runtime's shutdown: whichever wins, the entry it
    /// pushes is released (by shutdown's drain or by the waker itself), nothing stays in the
    /// closed queue, and the task is freed.
    #[test]
    fn remote_wake_racing_shutdown_leaves_no_task_behind() {
        let (_driver, unparker) = super::test_unparker();
        loom::model(move || {
            let executor = Executor::new(unparker.clone());
            let shared = executor.shared().clone();
            let waker_slot = Rc::new(Cell::new(None));
            let handle = executor.spawn(GivesWaker(waker_slot.clone()), ());
            executor.run_ready(); // the task is polled once and its waker escapes
            let waker = waker_slot.take().expect("the task was polled");

            let remote = loom::thread::spawn(move || waker.wake());
            executor.shutdown();
            drop(executor);
            remote.join().unwrap();

            assert!(
                shared.pop_remote().is_none(),
                "an entry was left in the closed queue"
            );
            drop(handle);
            // Every task holds its owner's `Shared`: only ours is left once the task is freed.
            assert_eq!(Arc::strong_count(&shared), 1, "the task was never freed");
        });
    }
}
