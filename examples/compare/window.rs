//! A measured window on the server thread: what its counters and CPU clocks said at the start and
//! at the end, subtracted.
//!
//! Snapshots are taken *on the server thread* because both sources are per thread:
//! `runtime::stats()` reads this thread's counters, and `RUSAGE_THREAD` this thread's CPU time.

use std::time::{Duration, Instant};

use super::cpu::{self, CpuTime};

/// The server thread's counters and clocks at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    stats: runtime::Stats,
    thread_cpu: CpuTime,
    process_cpu: CpuTime,
    at: Instant,
}

impl Snapshot {
    /// Reads everything now. Must run on the server thread (inside its runtime).
    pub fn take() -> Snapshot {
        Snapshot {
            stats: runtime::stats(),
            thread_cpu: cpu::thread_cpu(),
            process_cpu: cpu::process_cpu(),
            at: Instant::now(),
        }
    }

    /// What happened between `start` and this snapshot.
    pub fn since(&self, start: &Snapshot) -> Window {
        Window {
            stats: self.stats - start.stats,
            thread_cpu: self.thread_cpu - start.thread_cpu,
            process_cpu: self.process_cpu - start.process_cpu,
            elapsed: self.at - start.at,
        }
    }
}

/// What the server thread did during a measured stretch.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// The worker thread's syscalls (by kind), polls, wake-ups... during the window.
    pub stats: runtime::Stats,
    /// CPU time of the worker thread alone.
    pub thread_cpu: CpuTime,
    /// CPU time of the whole process, blocking-pool threads included.
    pub process_cpu: CpuTime,
    /// Wall-clock length of the window.
    pub elapsed: Duration,
}
