//! Lanes: one per worker thread and per blocking-pool thread, each with its own ring of records.
//!
//! A thread records into the lane its [`LaneGuard`] installed in the thread-local `CURRENT`; a
//! thread with no lane installed records nothing, and that check — one load of a thread-local
//! pointer and a compare with null — is all a hook costs when tracing is off.
//!
//! A lane's records sit behind a `Mutex` that only its own thread takes while recording, so the
//! lock is always free then (one atomic exchange to take it, one to release it); the flush takes
//! it from another thread for as long as it copies the records out.
//!
//! # Invariant
//! `CURRENT` is null, or points to the lane held (through an `Arc`) by the [`LaneGuard`] that
//! stored it. The guard lives on this thread's stack and restores the previous pointer when
//! dropped (also when unwinding), so a non-null pointer is valid while any frame above the guard
//! runs — in particular during every hook call.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::event::{Doing, Event, Record};
use super::ring::Ring;
use crate::Stats;

thread_local! {
    /// The lane this thread records into, or null.
    static CURRENT: Cell<*const Lane> = const { Cell::new(ptr::null()) };
}

/// The lane of this thread, if it records. The one branch of every hook.
#[inline(always)]
pub(super) fn current<'a>() -> Option<&'a Lane> {
    let lane = CURRENT.with(Cell::get);
    if lane.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer points to a lane kept alive by the guard that installed it,
    // which outlives the hook that called us (module invariant); hooks drop the reference before
    // they return.
    Some(unsafe { &*lane })
}

/// Whose lane it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    /// Worker `id` of the runtime.
    Worker(usize),
    /// The `n`-th blocking-pool thread slot (from 1).
    Pool(usize),
}

/// One thread's records.
#[derive(Debug)]
pub(crate) struct Lane {
    pub(super) owner: Owner,
    /// The address of the executor a worker runs (remote wakes name it); 0 for a pool lane.
    pub(super) executor: usize,
    /// When the trace began: records are stamped relative to it.
    start: Instant,
    /// A pool lane is used by one pool thread at a time; a thread that exits frees it for the
    /// next one (so pool lanes are as many as pool threads alive at once, not ever started).
    taken: AtomicBool,
    state: Mutex<State>,
}

/// What the owner thread changes as it records.
#[derive(Debug)]
struct State {
    ring: Ring<Record>,
    doing: Doing,
    /// This thread's counters when the current park began (they tell which syscall it made).
    park_start: Stats,
    /// Readiness events or completions handed out since the current park began.
    park_events: u32,
}

/// A copy of a lane's records, taken by the flush.
#[derive(Debug)]
pub(super) struct Snapshot {
    pub(super) owner: Owner,
    pub(super) executor: usize,
    pub(super) records: Vec<Record>,
    pub(super) dropped: u64,
}

impl Lane {
    pub(super) fn new(owner: Owner, executor: usize, start: Instant, capacity: usize) -> Lane {
        Lane {
            owner,
            executor,
            start,
            taken: AtomicBool::new(false),
            state: Mutex::new(State {
                ring: Ring::new(capacity),
                doing: Doing::Other,
                park_start: Stats::default(),
                park_events: 0,
            }),
        }
    }

    /// Takes this pool lane for the calling thread; false when another thread has it.
    pub(super) fn try_take(&self) -> bool {
        !self.taken.swap(true, Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Recording never panics while holding the lock; a poisoned lock still holds records.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Records `event` as it is, now.
    #[cold]
    #[inline(never)]
    pub(super) fn record(&self, event: Event) {
        let at = self.now();
        self.lock().ring.push(Record { at, event });
    }

    /// Records `event`, then sets what the thread is doing from now on.
    #[cold]
    #[inline(never)]
    pub(super) fn record_and_do(&self, event: Event, doing: Doing) {
        let at = self.now();
        let mut state = self.lock();
        state.ring.push(Record { at, event });
        state.doing = doing;
    }

    /// Records the event `make(what the thread is doing)`.
    #[cold]
    #[inline(never)]
    pub(super) fn record_by(&self, make: impl FnOnce(Doing) -> Event) {
        let at = self.now();
        let mut state = self.lock();
        let event = make(state.doing);
        state.ring.push(Record { at, event });
    }

    /// A readiness event or a completion: counted towards the current park.
    #[cold]
    #[inline(never)]
    pub(super) fn record_park_event(&self, event: Event) {
        let at = self.now();
        let mut state = self.lock();
        state.ring.push(Record { at, event });
        if state.doing == Doing::Parked {
            state.park_events += 1;
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn park_begin(&self, timeout: Option<Duration>) {
        let counters = crate::stats();
        let at = self.now();
        let mut state = self.lock();
        state.ring.push(Record {
            at,
            event: Event::ParkBegin { timeout },
        });
        state.doing = Doing::Parked;
        state.park_start = counters;
        state.park_events = 0;
    }

    /// The park ended: which waiting syscall it made, and how many, comes from this thread's
    /// counters (`stats.rs`), which every syscall bumps anyway.
    #[cold]
    #[inline(never)]
    pub(super) fn park_end(&self) {
        let counters = crate::stats();
        let at = self.now();
        let mut state = self.lock();
        let made = counters - state.park_start;
        let (syscall, syscalls) = if made.epoll_wait > 0 {
            ("epoll_wait", made.epoll_wait)
        } else if made.uring_enter > 0 {
            ("io_uring_enter", made.uring_enter)
        } else {
            ("no syscall", 0)
        };
        let events = state.park_events;
        state.ring.push(Record {
            at,
            event: Event::ParkEnd {
                syscall,
                syscalls,
                events,
            },
        });
        state.doing = Doing::Other;
    }

    /// What the thread is doing (to restore it after a nested stretch).
    pub(super) fn doing(&self) -> Doing {
        self.lock().doing
    }

    /// Sets what the thread is doing, without recording anything.
    pub(super) fn set_doing(&self, doing: Doing) {
        self.lock().doing = doing;
    }

    /// A copy of the records, for the flush.
    pub(super) fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        Snapshot {
            owner: self.owner,
            executor: self.executor,
            records: state.ring.iter().cloned().collect(),
            dropped: state.ring.dropped(),
        }
    }
}

/// Makes the current thread record into a lane until dropped.
#[derive(Debug)]
pub(crate) struct LaneGuard {
    /// `None`: tracing is off, the guard does nothing.
    lane: Option<Arc<Lane>>,
    previous: *const Lane,
}

impl LaneGuard {
    /// A guard that installs nothing.
    pub(super) fn none() -> LaneGuard {
        LaneGuard {
            lane: None,
            previous: ptr::null(),
        }
    }

    /// Installs `lane` on this thread.
    pub(super) fn enter(lane: Arc<Lane>) -> LaneGuard {
        let previous = CURRENT.with(|c| c.replace(Arc::as_ptr(&lane)));
        LaneGuard {
            lane: Some(lane),
            previous,
        }
    }
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        if let Some(lane) = &self.lane {
            CURRENT.with(|c| c.set(self.previous));
            lane.taken.store(false, Ordering::Release);
        }
    }
}
