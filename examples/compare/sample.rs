//! One measured run turned into per-message numbers, and the median of several runs.

use std::time::Duration;

use runtime::{Backend, Stats};

use crate::file_reads::FileRun;
use crate::server::EchoWindow;
use crate::window::Window;

/// The syscall kinds the table shows, in column order. `other` is everything else the runtime
/// counts: `epoll_ctl`, `accept4`, `connect`, `close`, `shutdown`, ...
pub const KINDS: [&str; 6] = [
    "read",
    "write",
    "epoll_wait",
    "uring_enter",
    "eventfd",
    "other",
];

/// A run's syscalls by kind, in [`KINDS`] order.
fn by_kind(stats: &Stats) -> [u64; 6] {
    let named = [
        stats.read,
        stats.write,
        stats.epoll_wait,
        stats.uring_enter,
        stats.eventfd,
    ];
    // Whatever `syscalls()` counts beyond the named kinds is "other", so a kind added to the
    // runtime later still shows up in the total.
    let other = stats.syscalls() - named.iter().sum::<u64>();
    [named[0], named[1], named[2], named[3], named[4], other]
}

/// What one run (or the median of several) measured. "Message" means one echoed message, or in
/// the file scenario one read.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Messages per second, as the load generator (or the file readers) saw them.
    pub rate: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile latency, µs.
    pub p99_us: f64,
    /// The server thread's syscalls per message, by kind ([`KINDS`] order).
    pub syscalls: [f64; 6],
    /// Server user CPU per message, µs.
    pub user_us: f64,
    /// Server system CPU per message, µs.
    pub sys_us: f64,
    /// Reads that brought data, per message (echo only; the other reads found nothing yet).
    pub receives: f64,
    /// Share of the measured time the server thread spent on the CPU (0..1).
    pub server_busy: f64,
    /// Share of its run time the load generator's thread spent on the CPU (echo only).
    pub client_busy: f64,
    /// Messages in the server's measured window (the divisor of the per-message numbers).
    pub messages: u64,
    /// Messages that went wrong (wrong bytes, closed connections, failed reads).
    pub errors: u64,
}

impl Sample {
    /// One echo run: the load generator's report for rate and latency, the server's window for
    /// everything per message.
    pub fn from_echo(report: &loadgen::Report, echo: &EchoWindow, payload: usize) -> Sample {
        let messages = echo.bytes / payload as u64;
        let base = Sample::per_message(&echo.window, echo.window.thread_cpu, messages);
        let client_cpu = report.client_user_cpu + report.client_sys_cpu;
        Sample {
            rate: report.messages_per_sec(),
            p50_us: micros(report.p50),
            p99_us: micros(report.p99),
            receives: if messages > 0 {
                echo.receives as f64 / messages as f64
            } else {
                0.0
            },
            client_busy: share(client_cpu, report.elapsed),
            errors: report.errors,
            ..base
        }
    }

    /// One file run. Its CPU is the whole process's: under epoll, pool threads do the reading.
    pub fn from_file(run: &FileRun) -> Sample {
        let seconds = run.window.elapsed.as_secs_f64();
        Sample {
            rate: if seconds > 0.0 {
                run.reads as f64 / seconds
            } else {
                0.0
            },
            p50_us: micros(run.p50),
            p99_us: micros(run.p99),
            errors: run.errors,
            ..Sample::per_message(&run.window, run.window.process_cpu, run.reads)
        }
    }

    fn per_message(window: &Window, cpu: crate::cpu::CpuTime, messages: u64) -> Sample {
        let per = |n: f64| {
            if messages > 0 {
                n / messages as f64
            } else {
                0.0
            }
        };
        Sample {
            syscalls: by_kind(&window.stats).map(|n| per(n as f64)),
            user_us: per(micros(cpu.user)),
            sys_us: per(micros(cpu.system)),
            server_busy: share(
                window.thread_cpu.user + window.thread_cpu.system,
                window.elapsed,
            ),
            messages,
            ..Sample::default()
        }
    }

    /// All syscalls per message.
    pub fn total_syscalls(&self) -> f64 {
        self.syscalls.iter().sum()
    }

    /// Server CPU (user + system) per message, µs.
    pub fn cpu_us(&self) -> f64 {
        self.user_us + self.sys_us
    }

    /// Syscalls per message of one kind, by its name in [`KINDS`].
    pub fn kind(&self, name: &str) -> f64 {
        KINDS
            .iter()
            .position(|k| *k == name)
            .map_or(0.0, |i| self.syscalls[i])
    }

    /// The median of every number, each on its own (so the result need not be one of the runs).
    pub fn median(runs: &[Sample]) -> Sample {
        let of = |field: fn(&Sample) -> f64| median(runs.iter().map(field).collect());
        let mut syscalls = [0.0; 6];
        for (i, slot) in syscalls.iter_mut().enumerate() {
            *slot = median(runs.iter().map(|r| r.syscalls[i]).collect());
        }
        Sample {
            rate: of(|r| r.rate),
            p50_us: of(|r| r.p50_us),
            p99_us: of(|r| r.p99_us),
            syscalls,
            user_us: of(|r| r.user_us),
            sys_us: of(|r| r.sys_us),
            receives: of(|r| r.receives),
            server_busy: of(|r| r.server_busy),
            client_busy: of(|r| r.client_busy),
            messages: of(|r| r.messages as f64) as u64,
            errors: runs.iter().map(|r| r.errors).sum(),
        }
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `part / whole` as a fraction, 0 for an empty `whole`.
fn share(part: Duration, whole: Duration) -> f64 {
    if whole.is_zero() {
        0.0
    } else {
        part.as_secs_f64() / whole.as_secs_f64()
    }
}

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Everything measured for one scenario on one backend.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The backend.
    pub backend: Backend,
    /// Each run, in order, then their median — or why there is nothing.
    pub result: Result<Runs, String>,
}

/// The runs of one scenario on one backend, and their median.
#[derive(Debug, Clone)]
pub struct Runs {
    /// Every measured run, in order.
    pub each: Vec<Sample>,
    /// Their median, which the table shows.
    pub median: Sample,
}

/// One scenario's results: one [`Measured`] per backend that ran.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The scenario.
    pub scenario: crate::scenarios::Scenario,
    /// Per backend, epoll first.
    pub measured: Vec<Measured>,
}

impl Outcome {
    /// The median for `backend`, if it ran and succeeded.
    pub fn median(&self, backend: Backend) -> Option<&Sample> {
        self.measured
            .iter()
            .find(|m| m.backend == backend)
            .and_then(|m| m.result.as_ref().ok())
            .map(|runs| &runs.median)
    }

    /// Both medians, when both backends succeeded: (epoll, io_uring).
    pub fn pair(&self) -> Option<(&Sample, &Sample)> {
        Some((self.median(Backend::Epoll)?, self.median(Backend::IoUring)?))
    }
}

/// `new / old` as a ratio, or `None` when it means nothing (zero or tiny denominators).
pub fn ratio(new: f64, old: f64) -> Option<f64> {
    (old > 1e-12 && new.is_finite()).then(|| new / old)
}
