//! The task state word: a handful of flag bits and a reference count packed into one `AtomicUsize`.
//!
//! Only this word is ever touched from a foreign thread (a waker that travelled). Everything else in a
//! task is read and written by its owner thread alone, which is why it can live in plain `Cell`s.
//!
//! | bit            | set when                                  | cleared when                         | rules out                   |
//! |----------------|-------------------------------------------|--------------------------------------|-----------------------------|
//! | `SCHEDULED`    | a wake pushes the task on a run queue      | the executor pops it to poll it      | a second queue entry        |
//! | `RUNNING`      | the executor starts a poll                 | the poll returns                     | —                           |
//! | `COMPLETE`     | the future returned `Ready`, panicked or was cancelled | never                    | any further poll or wake    |
//! | `JOIN_INTEREST`| spawn (the `JoinHandle` exists)            | the `JoinHandle` is dropped          | —                           |
//! | `CANCELLED`    | `JoinHandle::abort` or runtime shutdown    | never                                | a further poll of the future|
//!
//! **Invariant:** `SCHEDULED` is set exactly while one run-queue entry (a [`Notified`](super::Notified))
//! for the task exists, so a task is never queued twice ("no double scheduling"). Shutdown is the one
//! exception: it drops entries without running them, and the tasks are cancelled anyway.
//!
//! The bits above `REF_SHIFT` count references: the owned-task list, the `JoinHandle`, each queue entry
//! and each `Waker`. The one that drops the count to zero frees the allocation.

#[cfg(all(test, loom))]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(all(test, loom)))]
use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) const SCHEDULED: usize = 1 << 0;
pub(crate) const RUNNING: usize = 1 << 1;
pub(crate) const COMPLETE: usize = 1 << 2;
pub(crate) const JOIN_INTEREST: usize = 1 << 3;
pub(crate) const CANCELLED: usize = 1 << 4;

const REF_SHIFT: u32 = 6;
const REF_ONE: usize = 1 << REF_SHIFT;
const FLAGS: usize = REF_ONE - 1;

/// The state word of one task.
pub(crate) struct State(AtomicUsize);

/// What a wake must do after it has updated the state.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum WakeAction {
    /// The task was idle: it is now `SCHEDULED` and the caller must push one queue entry, which owns
    /// one reference.
    Schedule,
    /// Already queued or already complete: nothing to do.
    Nothing,
}

/// What the executor must do with a task it popped from a queue.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum PollAction {
    /// Poll the future.
    Poll,
    /// The task was aborted: drop the future instead of polling it.
    Cancel,
    /// The task completed while it sat in the queue (e.g. cancelled at shutdown): just drop the entry.
    Skip,
}

impl State {
    /// A new task: referenced by the owned-task list, the `JoinHandle` and its first queue entry.
    pub(crate) fn new() -> State {
        State(AtomicUsize::new((3 * REF_ONE) | SCHEDULED | JOIN_INTEREST))
    }

    fn load(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    /// Applies `f` until the compare-exchange wins; returns (old, new).
    fn update(&self, mut f: impl FnMut(usize) -> usize) -> (usize, usize) {
        let mut old = self.0.load(Ordering::Acquire);
        loop {
            let new = f(old);
            match self
                .0
                .compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return (old, new),
                Err(actual) => old = actual,
            }
        }
    }

    /// A wake that keeps its own reference (`wake_by_ref`): on `Schedule` one new reference is taken
    /// for the queue entry.
    pub(crate) fn wake_by_ref(&self) -> WakeAction {
        let (old, _) = self.update(|s| {
            if s & (SCHEDULED | COMPLETE) != 0 {
                s
            } else {
                (s | SCHEDULED) + REF_ONE
            }
        });
        if old & (SCHEDULED | COMPLETE) != 0 {
            WakeAction::Nothing
        } else {
            WakeAction::Schedule
        }
    }

    /// A wake that consumes the waker's reference (`wake`): on `Schedule` that reference moves to the
    /// queue entry; on `Nothing` the caller must still drop it.
    pub(crate) fn wake_by_val(&self) -> WakeAction {
        let (old, _) = self.update(|s| {
            if s & (SCHEDULED | COMPLETE) != 0 {
                s
            } else {
                s | SCHEDULED
            }
        });
        if old & (SCHEDULED | COMPLETE) != 0 {
            WakeAction::Nothing
        } else {
            WakeAction::Schedule
        }
    }

    /// The executor popped the task: clear `SCHEDULED`, set `RUNNING`.
    pub(crate) fn start_poll(&self) -> PollAction {
        let (old, _) = self.update(|s| {
            if s & COMPLETE != 0 {
                s & !SCHEDULED
            } else {
                (s & !SCHEDULED) | RUNNING
            }
        });
        if old & COMPLETE != 0 {
            PollAction::Skip
        } else if old & CANCELLED != 0 {
            PollAction::Cancel
        } else {
            PollAction::Poll
        }
    }

    /// The poll returned `Pending`. Returns true when the task was aborted during the poll, so the
    /// executor must now cancel it.
    pub(crate) fn end_poll(&self) -> bool {
        let (old, _) = self.update(|s| s & !RUNNING);
        old & CANCELLED != 0
    }

    /// The future is gone (finished, panicked or cancelled). Returns whether a `JoinHandle` still
    /// wants the output.
    pub(crate) fn complete(&self) -> bool {
        let (_, new) = self.update(|s| (s & !RUNNING) | COMPLETE);
        new & JOIN_INTEREST != 0
    }

    /// `abort()`: mark cancelled; returns what a wake would (schedule it so the executor drops it).
    pub(crate) fn cancel(&self) -> WakeAction {
        let (old, _) = self.update(|s| {
            if s & COMPLETE != 0 {
                s
            } else if s & (SCHEDULED | RUNNING) != 0 {
                s | CANCELLED
            } else {
                (s | CANCELLED | SCHEDULED) + REF_ONE
            }
        });
        if old & (COMPLETE | SCHEDULED | RUNNING) != 0 {
            WakeAction::Nothing
        } else {
            WakeAction::Schedule
        }
    }

    /// The `JoinHandle` is dropped. Returns whether the task had completed (then the output, if
    /// still stored, is the handle's to drop).
    pub(crate) fn drop_join_interest(&self) -> bool {
        let (old, _) = self.update(|s| s & !JOIN_INTEREST);
        old & COMPLETE != 0
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.load() & COMPLETE != 0
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // A count this large means a reference leak; abort rather than overflow into the flags.
        if prev > usize::MAX / 2 {
            std::process::abort();
        }
    }

    /// Drops one reference; returns true when it was the last one.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = self.0.fetch_sub(REF_ONE, Ordering::AcqRel);
        // One release too many would free the task twice: stop here instead.
        assert!(prev >= REF_ONE, "task reference count underflow");
        prev & !FLAGS == REF_ONE
    }

    #[cfg(test)]
    pub(crate) fn ref_count(&self) -> usize {
        self.load() >> REF_SHIFT
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn new_task_is_scheduled_with_three_refs() {
        let s = State::new();
        assert_eq!(s.ref_count(), 3);
        assert_eq!(s.wake_by_ref(), WakeAction::Nothing, "already queued");
    }

    #[test]
    fn wake_while_running_schedules_once() {
        let s = State::new();
        assert_eq!(s.start_poll(), PollAction::Poll);
        assert_eq!(s.wake_by_ref(), WakeAction::Schedule);
        assert_eq!(s.wake_by_ref(), WakeAction::Nothing);
        assert!(!s.end_poll());
        assert_eq!(s.ref_count(), 4);
    }

    #[test]
    fn complete_task_ignores_wakes() {
        let s = State::new();
        let _ = s.start_poll();
        assert!(s.complete());
        assert_eq!(s.wake_by_ref(), WakeAction::Nothing);
        assert_eq!(s.cancel(), WakeAction::Nothing);
        assert!(s.drop_join_interest());
    }

    #[test]
    fn abort_of_idle_task_schedules_it_for_cancellation() {
        let s = State::new();
        let _ = s.start_poll();
        assert!(!s.end_poll());
        assert_eq!(s.cancel(), WakeAction::Schedule);
        assert_eq!(s.start_poll(), PollAction::Cancel);
    }

    #[test]
    fn last_ref_is_reported_once() {
        let s = State::new();
        assert!(!s.ref_dec());
        assert!(!s.ref_dec());
        assert!(s.ref_dec());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// Two wakers race (one on another thread) against the executor polling: the task ends up queued
    /// at most once per poll and every reference is accounted for.
    #[test]
    fn concurrent_wakes_never_double_schedule() {
        loom::model(|| {
            let s = Arc::new(State::new());
            assert_eq!(s.start_poll(), PollAction::Poll); // the first queue entry is consumed
            s.ref_dec();
            let s2 = s.clone();
            let t = loom::thread::spawn(move || s2.wake_by_ref() == WakeAction::Schedule);
            let local = s.wake_by_ref() == WakeAction::Schedule;
            let _ = s.end_poll();
            let remote = t.join().unwrap();
            // exactly one of the two wakes pushed an entry
            assert!(local ^ remote);
            assert_eq!(s.ref_count(), 3);
        });
    }
}
