//! The CPU time of *other* threads of this process, read from outside them.
//!
//! `getrusage(RUSAGE_THREAD)` only measures the calling thread, and a multi-worker server has
//! several. Linux gives every thread a CPU-time clock that any thread of the same process may
//! read: `clock_gettime` on the clock id the kernel derives from the thread id (glibc's
//! `pthread_getcpuclockid` builds the same id). It counts nanoseconds actually spent on a CPU,
//! user and system together, so it is exact where `getrusage`'s user/system split is sampled.

use std::time::Duration;

/// The calling thread's kernel id.
pub fn gettid() -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// A thread's CPU-time clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadClock(libc::clockid_t);

impl ThreadClock {
    /// The clock of thread `tid` of this process (valid while the thread lives).
    pub fn of(tid: i32) -> ThreadClock {
        // The kernel's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): the bitwise complement of the
        // id shifted left by 3, then CPUCLOCK_PERTHREAD_MASK (4) | CPUCLOCK_SCHED (2).
        ThreadClock(((!(tid as u32)) << 3 | 6) as libc::clockid_t)
    }

    /// The calling thread's clock.
    pub fn current() -> ThreadClock {
        ThreadClock(libc::CLOCK_THREAD_CPUTIME_ID)
    }

    /// CPU time the thread has used so far (zero if it has ended).
    pub fn read(self) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a live timespec for the kernel to fill in.
        if unsafe { libc::clock_gettime(self.0, &mut ts) } != 0 {
            return Duration::ZERO;
        }
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }
}

/// The CPU time used so far by all of `clocks`' threads together.
pub fn total(clocks: &[ThreadClock]) -> Duration {
    clocks.iter().map(|c| c.read()).sum()
}
