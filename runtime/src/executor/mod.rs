//! Who polls which task when: one executor per worker thread, with a local run queue (wakes from the
//! owner thread) and a remote one (wakes from anywhere else).
//!
//! The executor makes no syscalls of its own; the only way it reaches the kernel is the driver's
//! [`Unparker`](crate::driver::Unparker), when a foreign thread must interrupt a parked driver.
//!
//! **Fairness:** [`Executor::run_ready`] polls at most [`DRIVER_INTERVAL`] tasks before the run loop
//! goes back to the driver (without blocking when tasks are still ready), so an always-ready task
//! cannot starve IO or timers, and the remote queue is looked at on every such turn.

mod owned;
mod shared;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

pub(crate) use shared::Shared;

use crate::driver::Unparker;
use crate::task::{self, JoinHandle, Notified};
use owned::OwnedTasks;

/// How many tasks are polled between two looks at the driver.
pub(crate) const DRIVER_INTERVAL: usize = 61;

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

    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let (owned, handle, notified) = task::new_task(future, self.shared.clone());
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

    /// Polls up to [`DRIVER_INTERVAL`] ready tasks, local ones first, then remote ones.
    pub(crate) fn run_ready(&self) {
        for _ in 0..DRIVER_INTERVAL {
            let next = self.local.borrow_mut().pop_front();
            let task = match next {
                Some(task) => task,
                None => match self.shared.pop_remote() {
                    Some(task) => {
                        crate::context::count(|c| c.remote_wakes.inc());
                        task
                    }
                    None => return,
                },
            };
            if let Some(ended) = task.run() {
                drop(self.owned.remove(ended));
            }
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
    let task = match crate::context::try_push_local(task) {
        None => return,
        Some(task) => task,
    };
    // The task may run and be freed by its owner as soon as it is pushed: keep the owner alive.
    let owner = task.header().owner.clone();
    owner.push_remote(task);
}
