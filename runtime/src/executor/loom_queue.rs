//! The remote run queue as loom sees it (compiled only for the loom model checks).
//!
//! Loom explores only the atomics it provides; the lock-free `SegQueue` uses the standard ones, so
//! inside a model its every operation would look instantaneous and perfectly ordered. This stand-in
//! offers the same calls with no more ordering than a lock-free queue promises:
//! - a `pop` that returns an entry synchronises with the `push` of that entry;
//! - an *empty* answer (from `pop` or `is_empty`) synchronises with nothing: it comes from plain
//!   acquire loads of two counters, which loom may serve stale.
//!
//! So a protocol that only works because an empty answer was "fresh enough" fails under loom,
//! whatever the real queue's internals happen to guarantee today.

use std::collections::VecDeque;

use loom::sync::atomic::{AtomicUsize, Ordering::Acquire, Ordering::Release};
use loom::sync::Mutex;

pub(crate) struct LoomQueue<T> {
    entries: Mutex<VecDeque<T>>,
    /// Entries pushed so far; bumped after the entry is in `entries`.
    pushed: AtomicUsize,
    /// Entries popped so far; bumped after the entry left `entries`.
    popped: AtomicUsize,
}

impl<T> LoomQueue<T> {
    pub(crate) fn new() -> Self {
        LoomQueue {
            entries: Mutex::new(VecDeque::new()),
            pushed: AtomicUsize::new(0),
            popped: AtomicUsize::new(0),
        }
    }

    pub(crate) fn push(&self, value: T) {
        self.entries.lock().unwrap().push_back(value);
        self.pushed.fetch_add(1, Release);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let value = self.entries.lock().unwrap().pop_front()?;
        self.popped.fetch_add(1, Release);
        Some(value)
    }

    /// Whether the queue looks empty: a pop may run ahead of the count of the push it took, so
    /// `popped` can exceed `pushed` for a moment.
    pub(crate) fn is_empty(&self) -> bool {
        self.popped.load(Acquire) >= self.pushed.load(Acquire)
    }

    pub(crate) fn len(&self) -> usize {
        self.pushed
            .load(Acquire)
            .saturating_sub(self.popped.load(Acquire))
    }
}
