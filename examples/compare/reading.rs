//! The table in plain words: a few sentences generated from the numbers, saying which phase each
//! model spends its syscalls on — readiness pays per transfer, completion per batch.

use runtime::Backend;

use crate::sample::{ratio, Outcome, Sample};
use crate::scenarios::Workload;
use crate::Setup;

/// Five to ten lines, each a sentence about the numbers above it.
pub fn lines(setup: &Setup, outcomes: &[Outcome]) -> Vec<String> {
    let mut lines = vec!["Reading the table:".to_string()];
    let echo: Vec<&Outcome> = outcomes.iter().filter(|o| !o.scenario.is_file()).collect();

    // The busiest echo scenario shows each model in its steady state.
    if let Some(busiest) = echo.iter().max_by_key(|o| connections(o)) {
        let label = &busiest.scenario.label;
        if let Some(s) = busiest.median(Backend::Epoll) {
            lines.push(epoll_sentence(label, s));
        }
        if let Some(s) = busiest.median(Backend::IoUring) {
            lines.push(uring_sentence(label, s));
        }
    }
    if let Some(single) = echo.iter().find(|o| connections(o) == 1) {
        if let Some(line) = ping_pong_sentence(single) {
            lines.push(line);
        }
    }
    if let Some(big) = echo.iter().find(|o| payload(o) >= 16 * 1024) {
        if let Some(line) = big_message_sentence(big) {
            lines.push(line);
        }
    }
    if let Some(line) = summary_sentence(&echo) {
        lines.push(line);
    }
    if let Some(file) = outcomes.iter().find(|o| o.scenario.is_file()) {
        lines.extend(file_sentences(file));
    }
    for (backend, reason) in &setup.unavailable {
        lines.push(format!(
            "- {backend} did not run here ({reason}), so there is nothing to compare against."
        ));
    }
    lines.push(format!(
        "- All of this is loopback on a {}-CPU machine: compare the backends with each other, not \
         with numbers from other machines.",
        setup.cpus
    ));
    lines
}

fn connections(o: &Outcome) -> usize {
    match o.scenario.workload {
        Workload::Echo { connections, .. } => connections,
        Workload::FileReads { .. } => 0,
    }
}

fn payload(o: &Outcome) -> usize {
    match o.scenario.workload {
        Workload::Echo { payload, .. } => payload,
        Workload::FileReads { .. } => 0,
    }
}

fn epoll_sentence(label: &str, s: &Sample) -> String {
    let transfers = s.kind("read") + s.kind("write");
    let share = percent(transfers, s.total_syscalls());
    format!(
        "- epoll, {label}: {:.2} syscalls per message — {:.2} read + {:.2} write + {:.3} \
         epoll_wait. Readiness: the kernel only says \"ready\"; the program then moves every \
         message in and out with a syscall of its own, so {share:.0}% of its syscalls are \
         transfers and few are waiting.",
        s.total_syscalls(),
        s.kind("read"),
        s.kind("write"),
        s.kind("epoll_wait"),
    )
}

fn uring_sentence(label: &str, s: &Sample) -> String {
    let enter = s.kind("uring_enter");
    let per_enter = if enter > 0.0 {
        format!(", one enter per {:.0} messages", 1.0 / enter)
    } else {
        String::new()
    };
    format!(
        "- io_uring, {label}: {:.3} syscalls per message, {enter:.3} of them io_uring_enter{per_enter}. \
         Completion: the program hands the kernel its buffers; one enter submits a batch of \
         receives and sends and collects what finished, and the kernel does the copying, so all \
         its syscalls go to submitting and waiting, none to transfers.",
        s.total_syscalls(),
    )
}

fn ping_pong_sentence(o: &Outcome) -> Option<String> {
    let (epoll, uring) = o.pair()?;
    let waits = (epoll.kind("epoll_wait"), uring.kind("uring_enter"));
    let verdict = if waits.0 >= 0.5 && waits.1 >= 0.5 {
        "with one message in flight there is nothing to batch: both models go to sleep and are \
         woken once per message, so the difference is smallest here"
    } else {
        "even one connection leaves a little to batch"
    };
    Some(format!(
        "- {} (ping-pong): {:.2} epoll_wait vs {:.2} io_uring_enter per message; {verdict} \
         (msg/s ratio {}).",
        o.scenario.label,
        waits.0,
        waits.1,
        ratio_text(uring.rate, epoll.rate)
    ))
}

fn big_message_sentence(o: &Outcome) -> Option<String> {
    let epoll = o.median(Backend::Epoll)?;
    let reads = epoll.kind("read");
    if reads < 1.2 {
        return None;
    }
    let uring = o
        .median(Backend::IoUring)
        .map(|u| format!("; io_uring {:.3} enters per message", u.kind("uring_enter")))
        .unwrap_or_default();
    Some(format!(
        "- {}: epoll makes {reads:.2} reads per message: a big message arrives in pieces and \
         each piece is one more syscall{uring}.",
        o.scenario.label
    ))
}

fn summary_sentence(echo: &[&Outcome]) -> Option<String> {
    let pairs: Vec<(&Sample, &Sample)> = echo.iter().filter_map(|o| o.pair()).collect();
    let last = echo.iter().rev().find(|o| o.pair().is_some())?;
    let (e, u) = last.pair()?;
    let range = |f: &dyn Fn(&Sample) -> f64| {
        let ratios: Vec<f64> = pairs.iter().filter_map(|(e, u)| ratio(f(u), f(e))).collect();
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if (hi - lo).abs() < 0.005 {
            format!("{lo:.2}×")
        } else {
            format!("{lo:.2}×–{hi:.2}×")
        }
    };
    let sys_share = |s: &Sample| percent(s.sys_us, s.cpu_us());
    Some(format!(
        "- Over the echo scenarios io_uring served {} epoll's messages/s, at {} its server CPU \
         per message and {} its syscalls per message; in the {} row kernel (system) time is \
         {:.0}% of epoll's server CPU and {:.0}% of io_uring's.",
        range(&|s| s.rate),
        range(&|s| s.cpu_us()),
        range(&|s| s.total_syscalls()),
        last.scenario.label,
        sys_share(e),
        sys_share(u),
    ))
}

fn file_sentences(o: &Outcome) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(e) = o.median(Backend::Epoll) {
        lines.push(format!(
            "- File reads, epoll: a file is always \"ready\", so readiness cannot wait for it and \
             every read goes to the blocking pool — a pool thread makes the pread, and the worker \
             spends {:.2} eventfd + {:.2} epoll_wait syscalls per read being woken; {:.1} µs of \
             CPU per read (whole process).",
            e.kind("eventfd"),
            e.kind("epoll_wait"),
            e.cpu_us()
        ));
    }
    if let Some(u) = o.median(Backend::IoUring) {
        let versus = o
            .median(Backend::Epoll)
            .map(|e| {
                format!(
                    " — {} the reads/s of epoll at {} the CPU per read",
                    ratio_text(u.rate, e.rate),
                    ratio_text(u.cpu_us(), e.cpu_us())
                )
            })
            .unwrap_or_default();
        lines.push(format!(
            "- File reads, io_uring: each read is one more submission, {:.3} io_uring_enter per \
             read and no pool thread; {:.1} µs of CPU per read{versus}. This is the sharpest form \
             of the difference: completion can wait for a file, readiness cannot.",
            u.kind("uring_enter"),
            u.cpu_us()
        ));
    }
    lines
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

fn ratio_text(new: f64, old: f64) -> String {
    ratio(new, old).map_or("—".into(), |r| format!("{r:.2}×"))
}
