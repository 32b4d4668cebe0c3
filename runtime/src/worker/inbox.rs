//! [`Inbox`]: work for one worker, sent from any thread — spawn requests, and the order to stop.
//!
//! A task cannot be created on one thread and queued on another (its stage and list links belong
//! to the thread that runs it), so a cross-worker spawn is a *message*: a `Send` closure that the
//! worker runs on its own thread, where it spawns the task locally. The worker drains its inbox
//! at every turn of its run loop.
//!
//! **No lost wake-up:** a sender pushes (or sets `closed`), then calls the worker's
//! `Shared::notify`; the worker, before it blocks, clears its park flag and only then looks at
//! the inbox (`has_work`). This is the remote run queue's protocol (`executor/shared.rs`), and the
//! same `SeqCst` fences make it hold: either the worker sees the message, or the sender sees the
//! flag cleared and writes the worker's eventfd.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;

use crossbeam_queue::SegQueue;

use crate::executor::Shared;

/// Something to run on a worker's thread (it spawns the task there).
pub(crate) type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct Inbox {
    jobs: SegQueue<Job>,
    closed: AtomicBool,
    /// The worker's executor: its `notify` interrupts the worker's driver.
    owner: Arc<Shared>,
}

impl Inbox {
    pub(crate) fn new(owner: Arc<Shared>) -> Inbox {
        Inbox {
            jobs: SegQueue::new(),
            closed: AtomicBool::new(false),
            owner,
        }
    }

    /// Sends `job` to the worker. After the worker stopped, the job is dropped unrun (on the
    /// caller's thread or with the inbox): whoever awaits it learns it was cancelled.
    pub(crate) fn push(&self, job: Job) {
        if self.closed.load(SeqCst) {
            return;
        }
        self.jobs.push(job);
        self.owner.notify();
    }

    /// Orders the worker to stop at its next turn.
    pub(crate) fn close(&self) {
        self.closed.store(true, SeqCst);
        self.owner.notify();
    }

    /// Whether the worker must not block: a job waits, or it must stop.
    pub(crate) fn has_work(&self) -> bool {
        !self.jobs.is_empty() || self.closed.load(SeqCst)
    }

    /// Runs the jobs that arrived (on the worker's thread, its runtime entered); returns whether
    /// the worker must stop.
    pub(crate) fn run_jobs(&self) -> bool {
        while let Some(job) = self.jobs.pop() {
            job();
        }
        self.closed.load(SeqCst)
    }
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("jobs", &self.jobs.len())
            .field("closed", &self.closed.load(SeqCst))
            .finish()
    }
}
