//! The results as one markdown table (aligned, so it also reads well in a terminal), with a line of
//! conditions above it and the meaning of the columns below.

use runtime::Backend;

use crate::sample::{ratio, Outcome, Sample, KINDS};
use crate::Setup;

/// Column headers; the syscall columns follow [`KINDS`] (with `uring_enter` shortened).
const HEADERS: [&str; 15] = [
    "scenario",
    "backend",
    "msg/s",
    "p50",
    "p99",
    "read",
    "write",
    "epoll_wait",
    "enter",
    "eventfd",
    "other",
    "syscalls",
    "user µs",
    "sys µs",
    "CPU µs",
];

/// The whole text: conditions, table, notes.
pub fn render(setup: &Setup, outcomes: &[Outcome]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for outcome in outcomes {
        let label = outcome.scenario.label.as_str();
        for (i, measured) in outcome.measured.iter().enumerate() {
            let scenario = if i == 0 { label } else { "" };
            let mut row = vec![scenario.to_string(), measured.backend.to_string()];
            match &measured.result {
                Ok(runs) => row.extend(cells(&runs.median)),
                Err(e) => row.push(format!("failed: {e}")),
            }
            rows.push(row);
        }
        if let Some((epoll, uring)) = outcome.pair() {
            rows.push(ratio_row(epoll, uring));
        }
    }
    let mut out = String::new();
    out.push_str(&conditions(setup));
    out.push_str("\n\n");
    out.push_str(&markdown(&rows));
    out.push('\n');
    out.push_str(&notes(setup, outcomes));
    out
}

/// The numbers of one backend's row.
fn cells(s: &Sample) -> Vec<String> {
    let mut cells = vec![rate(s.rate), latency(s.p50_us), latency(s.p99_us)];
    cells.extend(s.syscalls.iter().map(|&n| per_message(n)));
    cells.push(per_message(s.total_syscalls()));
    cells.push(format!("{:.2}", s.user_us));
    cells.push(format!("{:.2}", s.sys_us));
    cells.push(format!("{:.2}", s.cpu_us()));
    cells
}

/// io_uring ÷ epoll for the columns where a ratio means something.
fn ratio_row(epoll: &Sample, uring: &Sample) -> Vec<String> {
    let r = |new: f64, old: f64| ratio(new, old).map_or("—".into(), |r| format!("{r:.2}×"));
    let mut row = vec![
        String::new(),
        "io_uring/epoll".into(),
        r(uring.rate, epoll.rate),
        r(uring.p50_us, epoll.p50_us),
        r(uring.p99_us, epoll.p99_us),
    ];
    row.extend(KINDS.iter().map(|_| String::new()));
    row.push(r(uring.total_syscalls(), epoll.total_syscalls()));
    // No ratio for the user/system split: the kernel samples it at timer ticks (see the notes).
    row.extend([String::new(), String::new()]);
    row.push(r(uring.cpu_us(), epoll.cpu_us()));
    row
}

/// Messages (or reads) per second: `152.3k`, `1.21M`.
pub fn rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.2}M", per_sec / 1e6)
    } else if per_sec >= 1e3 {
        format!("{:.1}k", per_sec / 1e3)
    } else {
        format!("{per_sec:.0}")
    }
}

/// A latency given in µs: `18.2 µs`, `1.31 ms`.
pub fn latency(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

/// Syscalls per message with enough digits to see small numbers: `2.00`, `0.031`, `0`.
pub fn per_message(n: f64) -> String {
    if n == 0.0 {
        "0".into()
    } else if n < 0.1 {
        format!("{n:.3}")
    } else {
        format!("{n:.2}")
    }
}

/// Aligned markdown: text columns left, number columns right.
fn markdown(rows: &[Vec<String>]) -> String {
    // A "failed: why" row has a single long cell after the backend; it is left out of the widths.
    let width = |col: usize| {
        rows.iter()
            .filter(|r| col < 2 || r.len() == HEADERS.len())
            .filter_map(|r| r.get(col))
            .chain(std::iter::once(&HEADERS[col].to_string()))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..HEADERS.len()).map(width).collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = widths.get(i).copied().unwrap_or(0);
                if i < 2 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(HEADERS.iter().map(|h| h.to_string()).collect());
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let dashes = "-".repeat(w.max(3) - 1);
            if i < 2 {
                format!("{dashes}-")
            } else {
                format!("{dashes}:")
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

/// One paragraph saying where and how the numbers were taken.
fn conditions(setup: &Setup) -> String {
    let ran: Vec<String> = setup.ran.iter().map(Backend::to_string).collect();
    let placement = match setup.pinned {
        Some((server, client)) => {
            format!("server thread pinned to CPU {server}, load generator to CPU {client}")
        }
        None => "one CPU: server and load generator share it".into(),
    };
    let mut text = format!(
        "**{}** on Linux {}, {} CPUs (load average {} at the start), {placement}; {} s \
         measured per run after {} s of warm-up, median of {} run{} per backend{}{}.",
        ran.join(" vs "),
        setup.kernel,
        setup.cpus,
        setup.load,
        setup.plan.measure.as_secs_f64(),
        setup.plan.warmup.as_secs_f64(),
        setup.plan.reps,
        if setup.plan.reps == 1 { "" } else { "s" },
        if setup.ran.len() > 1 {
            ", backends taking turns"
        } else {
            ""
        },
        if setup.quick { " (--quick)" } else { "" },
    );
    for (backend, reason) in &setup.unavailable {
        text.push_str(&format!(
            "\n\n**{backend} did not run:** {reason}. The table shows the other backend alone."
        ));
    }
    text
}

/// What the columns mean.
fn notes(setup: &Setup, outcomes: &[Outcome]) -> String {
    let mut notes = vec![
        "msg/s, p50, p99: as the load generator saw them (one message in flight per connection)."
            .to_string(),
        "read … other: the server thread's syscalls per message, by kind (`runtime::stats()`); \
         enter = io_uring_enter; other = epoll_ctl, accept, close, ...; syscalls = all of them."
            .to_string(),
        "user µs, sys µs, CPU µs: the server thread's CPU per message (getrusage RUSAGE_THREAD). \
         The total is exact; its split into user and system time is sampled at timer ticks, so \
         small user numbers are rough."
            .to_string(),
    ];
    if setup.ran.len() == 2 {
        notes.push(
            "io_uring/epoll: the ratio; for msg/s above 1 is better, for the rest below 1 is."
                .to_string(),
        );
    }
    if outcomes.iter().any(|o| o.scenario.is_file()) {
        notes.push(
            "file row: a message is one 4 KiB read; CPU is the whole process's (blocking-pool \
             threads included); under epoll each read also costs one pread on a pool thread, \
             which the server thread's counters do not include."
                .to_string(),
        );
    }
    notes.iter().map(|n| format!("- {n}\n")).collect::<String>()
}
