//! The few OS calls the benchmarks need: pin a thread to a core, read a thread's CPU time, raise
//! the descriptor limit, name the kernel.

use std::time::Duration;

/// Pins the calling thread to CPU `core`. Returns false (and leaves the thread free) when the
/// machine has no such core or the kernel refuses.
pub fn pin_to_core(core: usize) -> bool {
    if core >= online_cpus() {
        return false;
    }
    // SAFETY: `cpu_set_t` is a plain bit array; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `core` is below the number of CPUs, far below the set's 1024-bit capacity.
    unsafe { libc::CPU_SET(core, &mut set) };
    // SAFETY: pid 0 means the calling thread; `set` is a valid set of the size passed.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    rc == 0
}

/// CPUs online on the machine. (Not `available_parallelism`, which counts only the CPUs this
/// thread may run on: after pinning, that is 1.)
pub fn online_cpus() -> usize {
    // SAFETY: sysconf only reads a system setting.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// CPU time the calling thread has used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadCpu {
    /// Time spent running the program's own code.
    pub user: Duration,
    /// Time spent in the kernel on the thread's behalf (syscalls, page faults, ...).
    pub sys: Duration,
}

impl ThreadCpu {
    /// `getrusage(RUSAGE_THREAD)`: the calling thread only (not the process, not other workers).
    pub fn now() -> ThreadCpu {
        // SAFETY: an all-zero `rusage` is a valid value (it only holds integers).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid rusage struct for the kernel to fill in.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
        assert_eq!(rc, 0, "getrusage(RUSAGE_THREAD) failed");
        let time = |tv: libc::timeval| {
            Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
        };
        ThreadCpu {
            user: time(usage.ru_utime),
            sys: time(usage.ru_stime),
        }
    }

    /// The CPU time used between `earlier` and `self`.
    pub fn since(self, earlier: ThreadCpu) -> ThreadCpu {
        ThreadCpu {
            user: self.user.saturating_sub(earlier.user),
            sys: self.sys.saturating_sub(earlier.sys),
        }
    }
}

/// Raises the soft limit on open descriptors to the hard limit (a run with 1000 connections holds
/// both ends of each in this one process).
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit struct for the kernel to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: `limit` is valid and initialised; raising the soft limit to the hard one is allowed.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
}

/// The running kernel's release, e.g. `6.8.0-45-generic`.
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The 1-minute load average, as text: above the CPU count means other work competed for the
/// machine while the benchmark ran (the numbers are then noisier).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}
