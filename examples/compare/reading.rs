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
    if let Some(line) = bottleneck_sentence(&echo) {
        lines.push(line);
    }
    if let Some(file) = outcomes.iter().find(|o| o.scenario.is_file()) {
        lines.extend(file_sentences(file));
    }
    for (backend, reason) in &setup.unavailable {
        lines.push(format!(
            "- {backend} did not run here: {reason}. There is nothing to compare against."
        ));
    }
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
    format!(
        "- epoll, {label}: {:.2} syscalls per message — {:.2} read + {:.2} write + {:.3} \
         epoll_wait. Readiness: the kernel only says \"ready\"; the program then moves every \
         message in and out with a syscall of its own, so {:.0}% of its syscalls are transfers \
         and {:.0}% are waiting.",
        s.total_syscalls(),
        s.kind("read"),
        s.kind("write"),
        s.kind("epoll_wait"),
        percent(transfers, s.total_syscalls()),
        percent(s.kind("epoll_wait"), s.total_syscalls()),
    )
}

fn uring_sentence(label: &str, s: &Sample) -> String {
    let enter = s.kind("uring_enter");
    let per_enter = if enter > 0.0 && enter < 0.5 {
        format!(", one enter per {:.0} messages", 1.0 / enter)
    } else {
        String::new()
    };
    let transfers = s.kind("read") + s.kind("write");
    let phase = if transfers == 0.0 {
        "so all its syscalls go to submitting and waiting, none to transfers".to_string()
    } else {
        format!("and only {transfers:.3} syscalls per message are transfers")
    };
    format!(
        "- io_uring, {label}: {:.3} syscalls per message, {enter:.3} of them \
         io_uring_enter{per_enter}. Completion: the program hands the kernel its buffers; one \
         enter submits a batch of receives and sends and collects what finished, and the kernel \
         does the copying, {phase}.",
        s.total_syscalls(),
    )
}

fn ping_pong_sentence(o: &Outcome) -> Option<String> {
    let (epoll, uring) = o.pair()?;
    let verdict = if uring.total_syscalls() >= 0.9 {
        "with one message in flight there is nothing to batch, so both models pay for every \
         message on its own and come closest here"
    } else {
        "even with one message in flight io_uring batches a little"
    };
    Some(format!(
        "- {} (ping-pong): epoll {:.2} syscalls per message ({:.2} of them epoll_wait), io_uring \
         {:.2} ({:.2} io_uring_enter); {verdict} (msg/s {}, CPU per message {}).",
        o.scenario.label,
        epoll.total_syscalls(),
        epoll.kind("epoll_wait"),
        uring.total_syscalls(),
        uring.kind("uring_enter"),
        ratio_text(uring.rate, epoll.rate),
        ratio_text(uring.cpu_us(), epoll.cpu_us()),
    ))
}

fn big_message_sentence(o: &Outcome) -> Option<String> {
    let epoll = o.median(Backend::Epoll)?;
    let reads = epoll.kind("read");
    let empty = reads - epoll.receives;
    if empty < 0.2 {
        return None;
    }
    Some(format!(
        "- {}: epoll makes {reads:.2} reads per message, {:.2} with data and {empty:.2} that find \
         nothing (EAGAIN): a read that fills the whole buffer cannot tell whether more is \
         waiting, so the program must ask again — a syscall io_uring never makes.",
        o.scenario.label, epoll.receives
    ))
}

/// Who set the pace: when the load generator's core is saturated and the server's is not, the
/// msg/s column measures the client, and the per-message columns are the ones to compare.
fn bottleneck_sentence(echo: &[&Outcome]) -> Option<String> {
    let samples: Vec<&Sample> = echo
        .iter()
        .flat_map(|o| o.measured.iter())
        .filter_map(|m| m.result.as_ref().ok().map(|r| &r.median))
        .collect();
    if samples.is_empty() {
        return None;
    }
    let lo_hi = |f: fn(&Sample) -> f64| {
        let lo = samples.iter().map(|s| f(s)).fold(f64::INFINITY, f64::min);
        let hi = samples
            .iter()
            .map(|s| f(s))
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    let percents = |(lo, hi): (f64, f64)| {
        let (lo, hi) = ((lo * 100.0).round(), (hi * 100.0).round());
        if lo == hi {
            format!("{lo:.0}%")
        } else {
            format!("{lo:.0}–{hi:.0}%")
        }
    };
    let (server, client) = (lo_hi(|s| s.server_busy), lo_hi(|s| s.client_busy));
    let verdict = if client.0 > 0.85 && server.1 < 0.75 {
        "the load generator sets the pace, so msg/s differ little; compare CPU and syscalls per \
         message"
    } else if server.1 > 0.85 {
        "where the server's core is full, msg/s compares the servers"
    } else {
        "neither kept its core busy (they wait on each other through loopback, and share the \
         machine with whatever else runs), so msg/s is noisy; CPU and syscalls per message are \
         the steadier comparison"
    };
    Some(format!(
        "- During the echo runs the server thread was on the CPU {} of the time and the load \
         generator {}: {verdict}.",
        percents(server),
        percents(client),
    ))
}

fn summary_sentence(echo: &[&Outcome]) -> Option<String> {
    let pairs: Vec<(&Sample, &Sample)> = echo.iter().filter_map(|o| o.pair()).collect();
    let last = echo.iter().rev().find(|o| o.pair().is_some())?;
    let (e, u) = last.pair()?;
    let range = |f: &dyn Fn(&Sample) -> f64| {
        let ratios: Vec<f64> = pairs
            .iter()
            .filter_map(|(e, u)| ratio(f(u), f(e)))
            .collect();
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
             every read goes to the blocking pool; the worker thread itself makes only {:.3} \
             syscalls per read, while pool threads make the pread and the wake-up (not in its \
             counts); {:.1} µs of CPU per read, whole process.",
            e.total_syscalls(),
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
