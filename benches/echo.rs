//! TCP echo benchmark: one echo server per runtime, and two hand-written loops with no runtime
//! as the floor, driven by the `loadgen` crate.
//!
//! ```text
//! cargo bench --bench echo                  # 4 scenarios × 8 servers, 5 interleaved repetitions
//! BENCH_QUICK=1 cargo bench --bench echo    # short runs, 3 repetitions
//! cargo bench --bench echo -- "64 B × 100"  # one scenario
//! ECHO_SECS=2 cargo bench --bench echo      # longer runs (default 0.5 s, quick 0.15 s)
//! BENCH_CONTENDERS=hand-written cargo bench --bench echo   # only the floor
//! ECHO_PERF=0 cargo bench --bench echo      # no perf sampling: CPU split from getrusage only
//! ```
//!
//! Servers, each accepting `C` connections and echoing until they all close:
//! - `runtime (epoll|io_uring)`: this project's runtime, a task per connection (`echo/on_runtime.rs`);
//! - `tokio current_thread` (**the baseline of every "vs tokio ct" ratio**) and
//!   `tokio multi_thread(1)`, a task per connection (`echo/on_tokio.rs`);
//! - `monoio (io_uring|legacy/epoll)`, a task per connection (`echo/on_monoio.rs`);
//! - `hand-written epoll loop` and `hand-written io_uring loop`: no runtime at all, one loop over
//!   raw `epoll_wait` or `io_uring_enter` (`echo/on_raw_epoll.rs`, `echo/on_raw_uring.rs`). They
//!   are the floor: what the kernel costs for the same echo, so what a runtime adds is the gap.
//!
//! Set-up, the same for every server:
//! - the server runs on one thread pinned to core 0 (tokio `multi_thread(1)`: its one worker);
//! - the load generator (one thread, raw epoll, every byte verified) runs pinned to core 1, with
//!   `C` connections each keeping one message of `S` bytes in flight (ping-pong), for a fixed time;
//! - the server measures itself over the steady part of the run, from its last accept to the first
//!   end of stream (see `echo/meter.rs`).
//!
//! Columns, per (scenario, server):
//! - msgs/s, median (min–max) of the repetitions, and p99 latency (median of the repetitions): as
//!   the load generator saw them over its whole run;
//! - user µs/msg (perf): the server thread's user-space CPU time per echoed message in the window,
//!   from `perf record -e cpu-clock -F 4000` on that thread (`echo/perf_sampler.rs`): the samples
//!   with a user-space instruction pointer, each standing for its period (250 µs of CPU time);
//!   CPU µs/msg (perf) adds the kernel-space samples. Where perf is missing or cannot attach, the
//!   user column falls back to `getrusage` and a warning above the tables says so;
//! - rusage µs/msg user+sys: `getrusage(RUSAGE_THREAD)` over the same window. Its total is exact
//!   but its user/system split is decided at timer ticks, too coarse for sub-µs user costs;
//! - syscalls/msg and io_uring_enter/msg: `runtime::stats()` over the window (this runtime only);
//! - client CPU µs/msg: the load generator's own CPU (if it nears the server's, the client is the
//!   bottleneck).
//!
//! Per-message costs pool all repetitions: total CPU time (or samples, or counts) over all of them
//! divided by all their messages (see [`Row`]). Ratios divide by tokio `current_thread`'s figure.

mod common;

#[path = "echo/accept.rs"]
mod accept;
#[path = "echo/meter.rs"]
mod meter;
#[path = "echo/on_monoio.rs"]
mod on_monoio;
#[path = "echo/on_raw_epoll.rs"]
mod on_raw_epoll;
#[path = "echo/on_raw_uring.rs"]
mod on_raw_uring;
#[path = "echo/on_runtime.rs"]
mod on_runtime;
#[path = "echo/on_tokio.rs"]
mod on_tokio;
#[path = "echo/perf_sampler.rs"]
mod perf_sampler;
#[path = "echo/raw_conn.rs"]
mod raw_conn;
#[path = "echo/server.rs"]
mod server;

use std::time::Duration;

use common::contender::Contender;
use common::load::{self, Rows};
use common::report::{micros, pool_stats, print_stats_mix, rate_cells, target_cells};
use common::{ratio, sys, Settings, Spread, Table};
use perf_sampler::Sampled;
use runtime::Backend;
use server::SERVER_CORE;

/// Every server's read buffer: room for the largest message.
pub const BUFFER: usize = 16 * 1024;

/// The load generator's core.
const CLIENT_CORE: usize = 1;

/// `payload` bytes per message, `conns` connections, one message in flight on each.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    payload: usize,
    conns: usize,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        payload: 64,
        conns: 1,
    },
    Scenario {
        payload: 64,
        conns: 100,
    },
    Scenario {
        payload: 1024,
        conns: 1000,
    },
    Scenario {
        payload: 16 * 1024,
        conns: 50,
    },
];

impl Scenario {
    fn name(self) -> String {
        let size = if self.payload >= 1024 {
            format!("{} KiB", self.payload / 1024)
        } else {
            format!("{} B", self.payload)
        };
        format!("{size} × {}", self.conns)
    }
}

/// One repetition of one (scenario, server) pair.
#[derive(Debug, Clone, Copy)]
struct Sample {
    msgs_per_sec: f64,
    /// Seconds.
    p99: f64,
    /// Server thread CPU seconds in its window, and the messages it echoed in that window.
    server_user: f64,
    server_sys: f64,
    server_msgs: f64,
    /// This project's runtime only: its counters over the same window.
    stats: Option<runtime::Stats>,
    /// The window's CPU time as perf sampled it (when perf works here).
    sampled: Option<Sampled>,
    /// Load generator CPU seconds (user + system) and the messages of its run.
    client_cpu: f64,
    client_msgs: f64,
}

fn measure(contender: Contender, scenario: Scenario, run_for: Duration) -> Result<Sample, String> {
    let server = server::start(contender, scenario.conns)?;
    let config = loadgen::Config {
        addr: server.at.addr,
        connections: scenario.conns,
        payload: scenario.payload,
        depth: 1,
        limit: loadgen::Limit::Duration(run_for),
    };
    let report = match loadgen::run(&config) {
        Ok(report) => report,
        Err(e) => {
            server.abandon();
            return Err(format!("load generator: {e}"));
        }
    };
    let measured = server.finish(Duration::from_secs(30))?;
    if report.errors > 0 {
        return Err(format!("{} echo errors", report.errors));
    }
    let server_msgs = measured.bytes as f64 / scenario.payload as f64;
    if server_msgs < 1.0 {
        return Err("no message echoed during the measured window".into());
    }
    Ok(Sample {
        msgs_per_sec: report.messages_per_sec(),
        p99: report.p99.as_secs_f64(),
        server_user: measured.cpu.user.as_secs_f64(),
        server_sys: measured.cpu.sys.as_secs_f64(),
        server_msgs,
        stats: measured.stats,
        sampled: measured.sampled,
        client_cpu: (report.client_user_cpu + report.client_sys_cpu).as_secs_f64(),
        client_msgs: report.messages as f64,
    })
}

/// One server's results in one scenario.
///
/// Rates and latencies are medians of the repetitions. Per-message costs are *pooled*: the total
/// over all repetitions divided by all their messages. The kernel splits a thread's CPU time into
/// user and system by sampling at each timer tick, so a single half-second run holds too few ticks
/// for a stable split; pooling the repetitions multiplies the ticks. perf samples 4000 times per
/// second of CPU time, and pooling its samples likewise steadies the figure.
#[derive(Debug, Clone)]
struct Row {
    rate: Spread,
    p99: f64,
    /// Server CPU seconds per message, user and system, from `getrusage`.
    user: f64,
    sys: f64,
    /// Server CPU seconds per message from perf's samples, user and kernel, pooled over the
    /// repetitions that have samples.
    sampled: Option<(f64, f64)>,
    /// Load generator CPU seconds per message.
    client: f64,
    /// Every counter summed over the repetitions, and the messages they cover.
    totals: Option<(runtime::Stats, f64)>,
}

impl Row {
    fn of(samples: &[Sample]) -> Row {
        let sum = |f: &dyn Fn(&Sample) -> f64| samples.iter().map(f).sum::<f64>();
        let server_msgs = sum(&|s| s.server_msgs);
        let totals = pool_stats(samples.iter().map(|s| (s.stats, s.server_msgs)));
        let with_samples = samples
            .iter()
            .filter_map(|s| Some((s.sampled?, s.server_msgs)));
        let (user_ns, kernel_ns, msgs) = with_samples.fold((0, 0, 0.0), |(u, k, m), (s, n)| {
            (u + s.user_ns, k + s.kernel_ns, m + n)
        });
        Row {
            sampled: (msgs > 0.0)
                .then(|| (user_ns as f64 * 1e-9 / msgs, kernel_ns as f64 * 1e-9 / msgs)),
            rate: Spread::of(samples.iter().map(|s| s.msgs_per_sec)).expect("at least one sample"),
            p99: Spread::of(samples.iter().map(|s| s.p99)).map_or(f64::NAN, |s| s.median),
            user: sum(&|s| s.server_user) / server_msgs,
            sys: sum(&|s| s.server_sys) / server_msgs,
            client: sum(&|s| s.client_cpu) / sum(&|s| s.client_msgs),
            totals,
        }
    }

    /// A counter (or sum of counters) per echoed message, for this project's runtime.
    fn per_msg(&self, pick: impl Fn(&runtime::Stats) -> u64) -> Option<f64> {
        self.totals
            .as_ref()
            .map(|(stats, msgs)| pick(stats) as f64 / msgs)
    }

    /// User CPU seconds per message: perf's samples when perf works here, else `getrusage`'s.
    fn user_cpu(&self) -> Option<f64> {
        if perf_sampler::enabled() {
            self.sampled.map(|(user, _)| user)
        } else {
            Some(self.user)
        }
    }

    /// User + kernel CPU seconds per message from perf's samples; `None` without kernel samples
    /// (perf not allowed to sample the kernel: the total would be the user part only).
    fn sampled_cpu(&self) -> Option<f64> {
        self.sampled
            .filter(|&(_, kernel)| kernel > 0.0)
            .map(|(user, kernel)| user + kernel)
    }

    fn syscalls(&self) -> Option<f64> {
        self.per_msg(|s| s.syscalls())
    }

    fn enters(&self) -> Option<f64> {
        self.per_msg(|s| s.uring_enter)
    }
}

fn micros_or_dash(s: Option<f64>) -> String {
    s.map_or("–".to_string(), micros)
}

/// Where the user CPU figures come from, for the column titles.
fn user_source() -> &'static str {
    if perf_sampler::enabled() {
        "perf"
    } else {
        "rusage"
    }
}

fn per_msg(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |v| format!("{v:.3}"))
}

fn main() {
    let settings = Settings::from_env(5);
    let run_for = load::run_length(&settings, "ECHO_SECS", 0.5, 0.15);
    sys::raise_fd_limit();
    // Before pinning: perf's trial start should not crowd the load generator's core.
    let perf = perf_sampler::probe();
    let pinned = sys::pin_to_core(CLIENT_CORE);
    println!("## Echo\n");
    if let Err(why) = perf {
        println!(
            "> warning: no perf sampling ({why}): the user CPU columns come from getrusage ticks\n"
        );
    }
    println!("{}", settings.describe());
    println!(
        "{}",
        load::setup_line(SERVER_CORE, CLIENT_CORE, pinned, run_for, "depth 1")
    );

    let contenders = Contender::selected(
        &[&Contender::RUNTIMES[..], &Contender::FLOOR[..]].concat(),
        &settings,
    );
    let results = load::run_scenarios(
        &settings,
        &SCENARIOS,
        Scenario::name,
        &contenders,
        |c, scenario| measure(c, scenario, run_for),
        Row::of,
        |scenario, rows| print_scenario(scenario, &contenders, rows),
    );
    print_targets(&contenders, &results);
}

fn baseline<'a>(contenders: &[Contender], rows: &'a [Result<Row, String>]) -> Option<&'a Row> {
    load::row_of(contenders, rows, Contender::is_baseline)
}

fn print_scenario(scenario: Scenario, contenders: &[Contender], rows: &[Result<Row, String>]) {
    let base = baseline(contenders, rows);
    println!("### {}\n", scenario.name());
    let user_title = format!("user µs/msg ({})", user_source());
    let mut table = Table::new(&[
        "server",
        "msgs/s median (min–max)",
        "vs tokio ct",
        "p99",
        &user_title,
        "user vs tokio ct",
        "CPU µs/msg (perf)",
        "rusage µs/msg user+sys",
        "syscalls/msg",
        "io_uring_enter/msg",
        "client CPU µs/msg",
    ]);
    for (c, row) in contenders.iter().zip(rows) {
        match row {
            Ok(r) => {
                let mut cells = rate_cells(c.label(), &r.rate, base.map(|b| &b.rate), r.p99);
                cells.extend([
                    micros_or_dash(r.user_cpu()),
                    ratio(
                        r.user_cpu().unwrap_or(f64::NAN),
                        base.and_then(Row::user_cpu),
                    ),
                    micros_or_dash(r.sampled_cpu()),
                    format!("{}+{}", micros(r.user), micros(r.sys)),
                    per_msg(r.syscalls()),
                    per_msg(r.enters()),
                    micros(r.client),
                ]);
                table.row(cells);
            }
            Err(reason) => table.unavailable(c.label(), reason),
        }
    }
    println!("{}", table.render());

    // Where this project's syscalls go, counter by counter.
    let totals = contenders.iter().zip(rows).map(|(c, row)| {
        let totals = row.as_ref().ok().and_then(|r| r.totals.as_ref());
        (c.label(), totals)
    });
    print_stats_mix("per echoed message (all repetitions)", totals, |v| v > 0.0);
}

/// The issue's targets, checked against this run.
fn print_targets(contenders: &[Contender], results: &[(Scenario, Rows<Row>)]) {
    let find = |c: Contender, rows: &[Result<Row, String>]| -> Option<Row> {
        load::row_of(contenders, rows, |x| x == c).cloned()
    };
    let epoll = Contender::Runtime(Backend::Epoll);
    let uring = Contender::Runtime(Backend::IoUring);
    println!("### Targets\n");
    let mut table = Table::new(&["target", "measured", "met"]);
    let mut check = |what: String, measured: Option<f64>, limit: f64, at_most: bool| {
        let verdict = measured.filter(|v| v.is_finite()).map(|v| {
            let met = (at_most && v <= limit) || (!at_most && v >= limit);
            (format!("{v:.3}×"), if met { "yes" } else { "no" })
        });
        let [measured, met] = target_cells(verdict);
        table.row(vec![what, measured, met]);
    };
    // `a / b` of one figure of two rows, when both have it.
    let over = |a: &Option<Row>, b: &Option<Row>, f: fn(&Row) -> Option<f64>| -> Option<f64> {
        Some(f(a.as_ref()?)? / f(b.as_ref()?)?)
    };
    let user = user_source();
    for (scenario, rows) in results {
        let base = baseline(contenders, rows).cloned();
        if is_headline(*scenario) {
            let e = find(epoll, rows);
            let u = find(uring, rows);
            let monoio = find(Contender::MonoioIoUring, rows);
            let floor = find(Contender::RawUring, rows);
            let rate = |r: &Row| Some(r.rate.median);
            let p99 = |r: &Row| Some(r.p99);
            check(
                format!("64 B × 100, epoll: user CPU/msg ({user}) ≤ 0.7× tokio ct"),
                over(&e, &base, Row::user_cpu),
                0.7,
                true,
            );
            check(
                format!("64 B × 100, io_uring: user CPU/msg ({user}) ≤ 0.7× monoio (io_uring)"),
                over(&u, &monoio, Row::user_cpu),
                0.7,
                true,
            );
            check(
                "64 B × 100, io_uring: msgs/s ≥ 0.95× hand-written io_uring loop (medians)".into(),
                over(&u, &floor, rate),
                0.95,
                false,
            );
            check(
                "64 B × 100, io_uring: msgs/s ≥ runtime (epoll) (medians)".into(),
                over(&u, &e, rate),
                1.0,
                false,
            );
            check(
                "64 B × 100, io_uring: p99 ≤ tokio ct p99".into(),
                over(&u, &base, p99),
                1.0,
                true,
            );
            check(
                "64 B × 100, epoll: p99 ≤ tokio ct p99".into(),
                over(&e, &base, p99),
                1.0,
                true,
            );
        }
        for c in [epoll, uring] {
            // "Never below tokio beyond noise": the best repetition must reach tokio's median.
            check(
                format!(
                    "{}, {}: best msgs/s ≥ tokio ct median (median ratio in the table)",
                    scenario.name(),
                    c.label()
                ),
                find(c, rows)
                    .zip(base.as_ref())
                    .map(|(r, b)| r.rate.max / b.rate.median),
                1.0,
                false,
            );
        }
    }
    println!("{}", table.render());

    // For information: each backend next to the hand-written loop of the same IO model.
    let Some((_, rows)) = results.iter().find(|(s, _)| is_headline(*s)) else {
        return;
    };
    let mut floor = Table::new(&[
        "64 B × 100",
        &format!("user µs/msg ({user})"),
        "floor user µs/msg",
        "user vs floor",
        "CPU µs/msg (perf)",
        "floor CPU µs/msg",
        "CPU vs floor",
    ]);
    for (runtime, raw) in [(epoll, Contender::RawEpoll), (uring, Contender::RawUring)] {
        let (Some(r), Some(f)) = (find(runtime, rows), find(raw, rows)) else {
            continue;
        };
        let vs = |a: Option<f64>, b: Option<f64>| a.map_or("–".to_string(), |a| ratio(a, b));
        floor.row(vec![
            format!("{} vs {}", runtime.label(), raw.label()),
            micros_or_dash(r.user_cpu()),
            micros_or_dash(f.user_cpu()),
            vs(r.user_cpu(), f.user_cpu()),
            micros_or_dash(r.sampled_cpu()),
            micros_or_dash(f.sampled_cpu()),
            vs(r.sampled_cpu(), f.sampled_cpu()),
        ]);
    }
    if !floor.is_empty() {
        println!("Next to the floor (information):\n\n{}", floor.render());
    }
}

/// The scenario the per-message targets are set on: 64 B × 100.
fn is_headline(scenario: Scenario) -> bool {
    scenario.payload == 64 && scenario.conns == 100
}
