//! Counting what a server does, and printing it when the server stops.
//!
//! Every server calls [`count`] right before each system call it makes, so the numbers are
//! counted by the program itself (no tracer needed). Calls made behind our back, such as the
//! futex calls inside a `Mutex`, are not counted.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The kinds of system call we count.
#[derive(Clone, Copy, Debug)]
pub enum Sys {
    /// `accept4(2)`.
    Accept = 0,
    /// `read(2)` / `recv(2)` on a connection.
    Read = 1,
    /// `write(2)` / `send(2)` on a connection.
    Write = 2,
    /// The call that waits for readiness or completions: `select`, `poll`, `epoll_wait`,
    /// reading a signalfd in the signal-driven server, `io_uring_enter`.
    Wait = 3,
    /// Everything else: setup, `fcntl`, `setsockopt`, `close`, `epoll_ctl`, thread creation...
    Other = 4,
}

const KINDS: [&str; 5] = ["accept", "read", "write", "wait", "other"];

// Atomics because the blocking server counts from many threads. `Relaxed` is enough: the
// numbers are only read once, at the end, and need not be ordered with anything else.
static SYSCALLS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
static READS_WITH_DATA: AtomicU64 = AtomicU64::new(0);
static LIVE_THREADS: AtomicU64 = AtomicU64::new(1);
static PEAK_THREADS: AtomicU64 = AtomicU64::new(1);

/// Records one system call of the given kind.
pub fn count(kind: Sys) {
    SYSCALLS[kind as usize].fetch_add(1, Relaxed);
}

/// Records one read that returned data: our unit of "a message served".
pub fn read_with_data() {
    READS_WITH_DATA.fetch_add(1, Relaxed);
}

/// Records that a thread started (the main thread is counted from the start).
pub fn thread_started() {
    let live = LIVE_THREADS.fetch_add(1, Relaxed) + 1;
    PEAK_THREADS.fetch_max(live, Relaxed);
}

/// Records that a thread finished.
pub fn thread_finished() {
    LIVE_THREADS.fetch_sub(1, Relaxed);
}

/// Prints the counters and the CPU time used to stderr.
///
/// Call it from normal code (never from a signal handler: it allocates and locks stderr).
pub fn report(server: &str) {
    let counts: Vec<u64> = SYSCALLS.iter().map(|c| c.load(Relaxed)).collect();
    let total: u64 = counts.iter().sum();
    let messages = READS_WITH_DATA.load(Relaxed);
    let (user_us, sys_us) = cpu_time_us();
    let per_message = |x: f64| {
        if messages == 0 {
            0.0
        } else {
            x / messages as f64
        }
    };
    let by_kind: Vec<String> = KINDS
        .iter()
        .zip(&counts)
        .map(|(kind, n)| format!("{kind}={n}"))
        .collect();
    // One `eprint!` so that the block is not interleaved with other output.
    eprint!(
        "{server} stats:\n  \
         reads with data: {messages}\n  \
         syscalls: {} total={total}\n  \
         cpu time: {} us (user {user_us} us, sys {sys_us} us)\n  \
         syscalls per message: {:.2}\n  \
         cpu per message: {:.2} us\n  \
         threads (peak): {}\n",
        by_kind.join(" "),
        user_us + sys_us,
        per_message(total as f64),
        per_message((user_us + sys_us) as f64),
        PEAK_THREADS.load(Relaxed),
    );
}

/// User and system CPU time of the whole process so far, in microseconds.
fn cpu_time_us() -> (u64, u64) {
    // SAFETY: `rusage` is plain data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the kernel to fill in.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return (0, 0);
    }
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    (us(usage.ru_utime), us(usage.ru_stime))
}
