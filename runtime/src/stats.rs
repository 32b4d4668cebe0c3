//! Counters of what this worker thread did: tasks, polls, wake-ups, driver turns and every syscall by
//! kind, so that a benchmark can *prove* where the time goes (e.g. "2.0 syscalls per echoed message").
//!
//! They are plain `Cell<u64>`s in the thread's context: always on, no atomics, no locks. Counting is
//! per thread, so a syscall made on a blocking-pool thread or by a remote waker is counted there.

use std::cell::Cell;
use std::fmt;
use std::ops::Sub;

/// One counter (owner thread only).
#[derive(Debug)]
pub(crate) struct Counter(Cell<u64>);

impl Counter {
    pub(crate) const fn new() -> Counter {
        Counter(Cell::new(0))
    }

    #[inline]
    pub(crate) fn inc(&self) {
        self.0.set(self.0.get() + 1);
    }

    #[inline]
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    pub(crate) fn add(&self, n: u64) {
        self.0.set(self.0.get() + n);
    }

    fn get(&self) -> u64 {
        self.0.get()
    }
}

macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// The live counters of one thread.
        #[derive(Debug)]
        pub(crate) struct Counters {
            $( pub(crate) $name: Counter, )*
        }

        impl Counters {
            pub(crate) const fn new() -> Counters {
                Counters { $( $name: Counter::new(), )* }
            }

            pub(crate) fn snapshot(&self) -> Stats {
                Stats { $( $name: self.$name.get(), )* }
            }
        }

        /// A snapshot of this worker thread's counters, returned by [`stats()`](crate::stats()).
        ///
        /// Subtract two snapshots to measure a stretch of work:
        ///
        /// ```
        /// # runtime::Runtime::new().unwrap().block_on(async {
        /// let before = runtime::stats();
        /// runtime::spawn(async {}).await.unwrap();
        /// let delta = runtime::stats() - before;
        /// assert_eq!(delta.tasks_spawned, 1);
        /// # });
        /// ```
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Stats {
            $( $(#[$doc])* pub $name: u64, )*
        }

        impl Sub for Stats {
            type Output = Stats;
            fn sub(self, earlier: Stats) -> Stats {
                Stats { $( $name: self.$name.wrapping_sub(earlier.$name), )* }
            }
        }

        impl std::ops::Add for Stats {
            type Output = Stats;
            fn add(self, other: Stats) -> Stats {
                Stats { $( $name: self.$name.wrapping_add(other.$name), )* }
            }
        }

        /// The sum of several workers' counters (a runtime-wide total).
        impl std::iter::Sum for Stats {
            fn sum<I: Iterator<Item = Stats>>(iter: I) -> Stats {
                iter.fold(Stats::default(), |a, b| a + b)
            }
        }

        impl Stats {
            /// Every counter as (name, value), in declaration order.
            pub fn fields(&self) -> Vec<(&'static str, u64)> {
                vec![ $( (stringify!($name), self.$name), )* ]
            }
        }
    };
}

counters! {
    /// Tasks spawned.
    tasks_spawned,
    /// Task polls.
    polls,
    /// Wakes from this thread (straight onto the local run queue).
    local_wakes,
    /// Tasks that arrived through the remote queue (woken from another thread).
    remote_wakes,
    /// Times the run loop went to the driver (blocking or not).
    driver_turns,
    /// Times the run loop spun for work from another thread instead of parking at once (see
    /// [`Builder::spin_before_park`](crate::Builder::spin_before_park)).
    spins,
    /// Spins that work from another thread ended (the others ran out and parked).
    spin_hits,
    /// `epoll_wait` calls.
    epoll_wait,
    /// `epoll_ctl` calls.
    epoll_ctl,
    /// `accept4` calls (readiness backend).
    accept,
    /// `connect` calls (readiness backend).
    connect,
    /// `read`/`recv`/`recvfrom`/`readv`/`pread` calls (readiness backend and blocking pool).
    read,
    /// `write`/`send`/`sendto`/`writev`/`pwrite` calls (readiness backend and blocking pool).
    write,
    /// `eventfd` reads and writes (waking a parked driver).
    eventfd,
    /// Other syscalls made on the IO path (`getsockopt`, `shutdown`, `close`, `fsync`, ...).
    other_syscalls,
    /// `io_uring_enter` calls.
    uring_enter,
    /// Submission queue entries handed to the kernel.
    sqes_submitted,
    /// Completion queue entries reaped.
    cqes_reaped,
    /// Cancellations requested (`AsyncCancel` SQEs for dropped operations).
    cancels,
    /// io_uring: receive SQEs (`recv`, `recvmsg`, multishot receives).
    uring_recv_sqes,
    /// io_uring: send SQEs (`send`, `sendmsg`).
    uring_send_sqes,
    /// io_uring: accept SQEs (single-shot and multishot).
    uring_accept_sqes,
    /// io_uring: every other SQE (connect, cancels, the wake-up read, file operations, ...).
    uring_other_sqes,
    /// io_uring: CQEs of multishot requests (each one a connection or a chunk of bytes).
    uring_feed_cqes,
    /// io_uring: operations answered without a request to the ring: from their descriptor's
    /// stash (what a cancelled operation or a multishot request had received), or, for a poll
    /// write, by a `send` that went through at once.
    uring_stash_hits,
    /// io_uring: times the submission queue was full and had to be submitted early.
    uring_sq_full,
    /// io_uring: times the completion queue had overflowed and was flushed.
    uring_cq_overflows,
    /// io_uring: requests the kernel had not finished when a dropped driver stopped waiting for
    /// them; the memory they use is leaked (never freed under the kernel). Zero unless the kernel
    /// ignores cancellations.
    uring_leaked,
}

impl Stats {
    /// All syscalls counted: the readiness ones plus `io_uring_enter`.
    pub fn syscalls(&self) -> u64 {
        self.epoll_wait
            + self.epoll_ctl
            + self.accept
            + self.connect
            + self.read
            + self.write
            + self.eventfd
            + self.other_syscalls
            + self.uring_enter
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.fields() {
            if value != 0 {
                writeln!(f, "{name:>16}: {value}")?;
            }
        }
        writeln!(f, "{:>16}: {}", "syscalls (all)", self.syscalls())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_and_delta() {
        let c = Counters::new();
        c.polls.inc();
        let a = c.snapshot();
        c.polls.add(2);
        c.read.inc();
        let d = c.snapshot() - a;
        assert_eq!(d.polls, 2);
        assert_eq!(d.read, 1);
        assert_eq!(d.syscalls(), 1);
    }
}
