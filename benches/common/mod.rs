//! The small benchmark harness shared by `executor`, `echo` and `fs`.
//!
//! Why not criterion: it would double the build time of `cargo bench` on a 2-core machine, and
//! these benchmarks need something it does not do well — *interleaved* runs of several runtimes,
//! so that a slow minute of the machine (another process, a noisy neighbour on the VM host) lands
//! on every contender instead of on one of them.
//!
//! What is here:
//! - [`Settings`]: `BENCH_QUICK=1` (short runs), `BENCH_REPS=N`, and an optional name filter taken
//!   from the command line (`cargo bench --bench echo -- 64B`);
//! - [`interleave`]: repetition `r` runs every contender once, starting at a different one each
//!   time, so no contender always goes first;
//! - [`Spread`]: min, median and max of the samples — the median is what the tables compare;
//! - [`Table`]: a markdown table printer, so the output can be pasted into BENCHMARKS.md;
//! - for the echo and HTTP load benchmarks: [`server`] (a server on its own pinned thread),
//!   [`load`] (run length, set-up line, the scenario loop) and [`report`] (shared cells and
//!   tables).
//!
//! Each bench compiles this module on its own and uses only part of it, hence the `dead_code`
//! allowance below.

#![allow(dead_code)]

pub mod channel;
pub mod contender;
pub mod load;
pub mod report;
pub mod server;
pub mod sys;

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long and how often to measure, read from the environment and the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `BENCH_QUICK=1`: smaller workloads and fewer repetitions, for a smoke run.
    pub quick: bool,
    /// Repetitions of every (case, contender) pair.
    pub reps: usize,
    /// Only cases whose name contains this text run (first non-flag command-line argument).
    pub filter: Option<String>,
    /// `BENCH_CONTENDERS=epoll,tokio`: only contenders whose label contains one of these.
    pub contenders: Option<Vec<String>>,
}

impl Settings {
    /// Reads `BENCH_QUICK`, `BENCH_REPS` and the filter; `default_reps` applies in full mode.
    pub fn from_env(default_reps: usize) -> Settings {
        let quick = env_flag("BENCH_QUICK");
        let reps = std::env::var("BENCH_REPS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(if quick { 3 } else { default_reps });
        // A contender that panics becomes an "unavailable" row; one line on stderr says where.
        std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
        // `cargo bench` passes `--bench` (and libtest-style flags) to every bench: skip flags.
        let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
        let contenders = std::env::var("BENCH_CONTENDERS").ok().map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        });
        Settings {
            quick,
            reps,
            filter,
            contenders,
        }
    }

    /// `full` normally, `quick` under `BENCH_QUICK=1`.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// Whether the case called `name` passes the command-line filter.
    pub fn wants(&self, name: &str) -> bool {
        match &self.filter {
            Some(f) => name.contains(f.as_str()),
            None => true,
        }
    }

    /// Whether the contender labelled `label` passes `BENCH_CONTENDERS`.
    pub fn includes(&self, label: &str) -> bool {
        match &self.contenders {
            Some(wanted) => wanted.iter().any(|w| label.contains(w.as_str())),
            None => true,
        }
    }

    /// One line saying how this run was configured, printed above the tables.
    pub fn describe(&self) -> String {
        format!(
            "mode: {}, {} interleaved repetitions per cell, {} CPUs, kernel {}, load average {}",
            if self.quick {
                "quick (BENCH_QUICK=1)"
            } else {
                "full"
            },
            self.reps,
            sys::online_cpus(),
            sys::kernel_release(),
            sys::load_average(),
        )
    }
}

/// True when the variable is set to anything but "", "0" or "false".
pub fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// A number from the environment, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `measure(contender)` `reps` times for every contender, interleaved: repetition `r` starts
/// at contender `r % n` and goes round. A contender whose first attempt fails (its runtime cannot
/// be built here, say) is not tried again; its outcome is the error text.
pub fn interleave<C, T>(
    contenders: &[C],
    reps: usize,
    mut measure: impl FnMut(&C) -> Result<T, String>,
) -> Vec<Result<Vec<T>, String>> {
    let n = contenders.len();
    let mut outcomes: Vec<Result<Vec<T>, String>> = (0..n).map(|_| Ok(Vec::new())).collect();
    for rep in 0..reps {
        for k in 0..n {
            let i = (rep + k) % n;
            if let Ok(samples) = &mut outcomes[i] {
                match measure(&contenders[i]) {
                    Ok(sample) => samples.push(sample),
                    Err(reason) => outcomes[i] = Err(reason),
                }
            }
        }
    }
    outcomes
}

/// Min, median and max of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The smallest sample.
    pub min: f64,
    /// The middle sample (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The largest sample.
    pub max: f64,
}

impl Spread {
    /// The spread of `samples`; `None` when there are none.
    pub fn of(samples: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut v: Vec<f64> = samples.into_iter().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Spread {
            min: v[0],
            median,
            max: v[v.len() - 1],
        })
    }

    /// `median (min–max)` with each number formatted by `f`.
    pub fn show(&self, f: impl Fn(f64) -> String) -> String {
        format!("{} ({}–{})", f(self.median), f(self.min), f(self.max))
    }
}

/// `value / baseline` as `0.63×`, or `–` when there is no baseline.
pub fn ratio(value: f64, baseline: Option<f64>) -> String {
    match baseline {
        Some(b) if b > 0.0 && value.is_finite() => format!("{:.2}×", value / b),
        _ => "–".to_string(),
    }
}

/// A duration given in seconds, with a unit that keeps three significant digits.
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.2} µs", s * 1e6)
    } else {
        format!("{:.0} ns", s * 1e9)
    }
}

/// A rate, e.g. messages per second, as `123.4k`.
pub fn rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.2}M", per_sec / 1e6)
    } else if per_sec >= 1e3 {
        format!("{:.1}k", per_sec / 1e3)
    } else {
        format!("{per_sec:.0}")
    }
}

/// Seconds as an `f64`.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// A markdown table, printed with aligned columns.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds a row; missing cells are left empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Adds the row of a contender that could not run: its name, then the reason.
    pub fn unavailable(&mut self, name: &str, reason: &str) {
        self.rows
            .push(vec![name.to_string(), format!("unavailable: {reason}")]);
    }

    /// The table as markdown text.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let cell = |row: &Vec<String>, i: usize| row.get(i).cloned().unwrap_or_default();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, width) in widths.iter_mut().enumerate() {
                // An "unavailable" note spans the row; do not let it widen the second column.
                if !(i == 1 && cell(row, 1).starts_with("unavailable")) {
                    *width = (*width).max(cell(row, i).chars().count());
                }
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: Vec<String>| {
            out.push('|');
            for (i, c) in cells.iter().enumerate() {
                let pad = widths[i].saturating_sub(c.chars().count());
                let _ = write!(out, " {c}{} |", " ".repeat(pad));
            }
            out.push('\n');
        };
        line(&mut out, self.header.clone());
        line(
            &mut out,
            widths.iter().map(|&w| "-".repeat(w.max(3))).collect(),
        );
        for row in &self.rows {
            line(&mut out, (0..columns).map(|i| cell(row, i)).collect());
        }
        out
    }
}

/// Yields once to the executor, whatever the executor is: wakes itself, returns `Pending`, and is
/// ready when polled again. (For runtimes that lack their own `yield_now`.)
pub fn yield_once() -> impl Future<Output = ()> {
    struct YieldOnce(bool);
    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldOnce(false)
}

/// The text of a caught panic, for an "unavailable: panicked: ..." row.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_string()
    }
}

/// Runs `f`, turning a panic into an `Err` so that one broken contender does not end the run.
pub fn catching<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(format!("panicked: {}", panic_message(&*p))))
}
