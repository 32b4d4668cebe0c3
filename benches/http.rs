//! HTTP/1.1 benchmark: hyper on this runtime (both backends) against hyper on tokio, and a
//! hand-written responder that shows what the poll layer and hyper cost.
//!
//! ```text
//! cargo bench --bench http                    # 4 scenarios × 7 servers, 5 interleaved repetitions,
//!                                             # then a perf profile and a wrk cross-check: ~2½ min
//! cargo bench --bench http -- --quick         # smoke run: a few seconds (or BENCH_QUICK=1)
//! cargo bench --bench http -- "GET / × 64"    # one scenario
//! HTTP_SECS=2 cargo bench --bench http        # longer runs (default 0.5 s, quick 0.05 s)
//! ```
//!
//! Servers (`http/contender.rs`), each on one thread pinned to core 0:
//! - `runtime+hyper (epoll|io_uring)`: hyper 1.x serving the routes of
//!   `examples/common/http_service.rs` (`GET /` → `Hello, world!`, `POST /echo` → the body) on
//!   this runtime, through its `hyper::rt::{Read, Write}` (poll-based IO) and `HyperTimer`;
//! - `tokio ct+hyper`: the same routes and the same hyper on tokio's `current_thread` runtime,
//!   through hyper-util's `TokioIo` and `TokioTimer` — **the baseline of every ratio**;
//! - `responder owned|poll (epoll|io_uring)`: no hyper, a few lines that answer the same two
//!   routes with the same headers (`http/responder.rs`), over the runtime's owned-buffer
//!   `read`/`write_all` or over its `poll_read`/`poll_write`.
//!
//! The client is `loadgen`'s HTTP mode on core 1 (one thread, raw epoll, every response parsed and
//! its body checked), with `C` keep-alive connections each keeping one request in flight. The
//! server measures itself over the steady part of the run (`echo/meter.rs`: from the last accept
//! to the first close) with `getrusage(RUSAGE_THREAD)` and, for this runtime, `runtime::stats()`.
//! Requests per second and p99 are the client's medians; CPU and syscalls per request pool all
//! repetitions (total ÷ total).
//!
//! After the timed runs (full mode only): one `GET / × 64` run per server under `perf record`
//! (`http/profile.rs`) for the user/kernel split and the hottest user-space functions, and one
//! under `wrk` (`http/wrk.rs`) as an independent check of the requests per second. Either is
//! skipped, with a line saying why, when the tool is missing.

mod common;

#[path = "echo/accept.rs"]
mod accept;
#[path = "http/contender.rs"]
mod contender;
#[path = "http/counted.rs"]
mod counted;
#[path = "../examples/common/http_service.rs"]
mod http_service;
// The echo bench's meter; its perf sampling (`Meter::attach`) is the echo bench's alone.
#[allow(dead_code)]
#[path = "echo/meter.rs"]
mod meter;
#[path = "http/on_runtime.rs"]
mod on_runtime;
#[path = "http/on_tokio.rs"]
mod on_tokio;
#[allow(dead_code)]
#[path = "echo/perf_sampler.rs"]
mod perf_sampler;
#[path = "http/profile.rs"]
mod profile;
#[path = "http/responder.rs"]
mod responder;
#[path = "http/server.rs"]
mod server;
#[path = "http/wrk.rs"]
mod wrk;

use std::time::Duration;

use common::load::{self, Rows};
use common::report::{micros, pool_stats, print_stats_mix, rate_cells, target_cells};
use common::{rate, ratio, seconds, sys, Settings, Spread, Table};
use contender::{Contender, Io};
use loadgen::http::Request;
use runtime::Backend;
use server::SERVER_CORE;

/// The load generator's core.
const CLIENT_CORE: usize = 1;

/// `request` over `conns` keep-alive connections, one request in flight on each.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    request: Request,
    conns: usize,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        request: Request::Get,
        conns: 1,
    },
    Scenario {
        request: Request::Get,
        conns: 64,
    },
    Scenario {
        request: Request::Get,
        conns: 256,
    },
    Scenario {
        request: Request::Post { body: 16 * 1024 },
        conns: 64,
    },
];

/// The scenario profiled and cross-checked with wrk.
const CHECKED: Scenario = SCENARIOS[1];

impl Scenario {
    fn name(self) -> String {
        match self.request {
            Request::Get => format!("GET / × {}", self.conns),
            Request::Post { body } => format!("POST /echo {} KiB × {}", body / 1024, self.conns),
        }
    }
}

/// One repetition of one (scenario, server) pair.
#[derive(Debug, Clone, Copy)]
struct Sample {
    requests_per_sec: f64,
    /// Seconds.
    p99: f64,
    /// Server thread CPU seconds in its window, and the requests it answered in that window.
    server_user: f64,
    server_sys: f64,
    server_requests: f64,
    /// This project's runtime only: its counters over the same window.
    stats: Option<runtime::Stats>,
    /// Load generator CPU seconds (user + system) and the requests of its run.
    client_cpu: f64,
    client_requests: f64,
}

/// Runs one load against a fresh server; `during` sees the server's thread id while the load
/// runs (to attach a profiler) and its result comes back with the sample.
fn measure<T>(
    contender: Contender,
    scenario: Scenario,
    run_for: Duration,
    during: impl FnOnce(i32) -> T,
) -> Result<(Sample, T), String> {
    let server = server::start(contender, scenario.conns)?;
    let attached = during(server.at.tid);
    let config = loadgen::http::Config {
        addr: server.at.addr,
        connections: scenario.conns,
        request: scenario.request,
        limit: loadgen::Limit::Duration(run_for),
    };
    let report = match loadgen::http::run(&config) {
        Ok(report) => report,
        Err(e) => {
            server.abandon();
            return Err(format!("load generator: {e}"));
        }
    };
    let measured = server.finish(Duration::from_secs(30))?;
    if report.errors > 0 {
        return Err(format!(
            "{} wrong answers, {} connections lost",
            report.mismatched_messages, report.connection_errors
        ));
    }
    // The meter counts requests where the echo servers count bytes.
    let server_requests = measured.bytes as f64;
    if server_requests < 1.0 {
        return Err("no request answered during the measured window".into());
    }
    let sample = Sample {
        requests_per_sec: report.messages_per_sec(),
        p99: report.p99.as_secs_f64(),
        server_user: measured.cpu.user.as_secs_f64(),
        server_sys: measured.cpu.sys.as_secs_f64(),
        server_requests,
        stats: measured.stats,
        client_cpu: (report.client_user_cpu + report.client_sys_cpu).as_secs_f64(),
        client_requests: report.messages as f64,
    };
    Ok((sample, attached))
}

/// One server's results in one scenario: rates and latencies are medians of the repetitions,
/// per-request costs pool them (the kernel's user/system split is sampled at timer ticks, so one
/// short run holds too few for a stable split).
#[derive(Debug, Clone)]
struct Row {
    rate: Spread,
    p99: f64,
    /// Server CPU seconds per request, user and system.
    user: f64,
    sys: f64,
    /// Load generator CPU seconds per request.
    client: f64,
    /// Every counter summed over the repetitions, and the requests they cover.
    totals: Option<(runtime::Stats, f64)>,
}

impl Row {
    fn of(samples: &[Sample]) -> Row {
        let sum = |f: &dyn Fn(&Sample) -> f64| samples.iter().map(f).sum::<f64>();
        let requests = sum(&|s| s.server_requests);
        let totals = pool_stats(samples.iter().map(|s| (s.stats, s.server_requests)));
        Row {
            rate: Spread::of(samples.iter().map(|s| s.requests_per_sec)).expect("a sample"),
            p99: Spread::of(samples.iter().map(|s| s.p99)).map_or(f64::NAN, |s| s.median),
            user: sum(&|s| s.server_user) / requests,
            sys: sum(&|s| s.server_sys) / requests,
            client: sum(&|s| s.client_cpu) / sum(&|s| s.client_requests),
            totals,
        }
    }

    fn cpu(&self) -> f64 {
        self.user + self.sys
    }

    /// A counter per request, for this project's runtime.
    fn per_request(&self, pick: impl Fn(&runtime::Stats) -> u64) -> Option<f64> {
        self.totals
            .as_ref()
            .map(|(stats, n)| pick(stats) as f64 / n)
    }
}

/// Every scenario's rows, in contender order.
type Results = Vec<(Scenario, Rows<Row>)>;

fn main() {
    let mut settings = Settings::from_env(5);
    if std::env::args().any(|a| a == "--quick") {
        settings.quick = true;
    }
    if settings.quick && std::env::var("BENCH_REPS").is_err() {
        settings.reps = 2;
    }
    let run_for = load::run_length(&settings, "HTTP_SECS", 0.5, 0.05);
    sys::raise_fd_limit();
    let pinned = sys::pin_to_core(CLIENT_CORE);
    println!("## HTTP\n\n{}", settings.describe());
    let load = "keep-alive, one request in flight per connection";
    println!(
        "{}",
        load::setup_line(SERVER_CORE, CLIENT_CORE, pinned, run_for, load)
    );

    let contenders = Contender::selected(&settings);
    let results: Results = load::run_scenarios(
        &settings,
        &SCENARIOS,
        Scenario::name,
        &contenders,
        |c, scenario| measure(c, scenario, run_for, |_| ()).map(|(sample, ())| sample),
        Row::of,
        |scenario, rows| print_scenario(scenario, &contenders, rows),
    );
    print_summary(&contenders, &results);
    print_targets(&contenders, &results);

    if settings.wants(&CHECKED.name()) {
        if settings.quick {
            println!("perf profile and wrk cross-check: skipped in quick mode\n");
        } else {
            print_profiles(&contenders);
            print_wrk(&contenders);
        }
    }
}

/// The baseline's row among `rows`.
fn baseline<'a>(contenders: &[Contender], rows: &'a [Result<Row, String>]) -> Option<&'a Row> {
    load::row_of(contenders, rows, Contender::is_baseline)
}

/// The row of `c`, if it ran.
fn find<'a>(
    contenders: &[Contender],
    rows: &'a [Result<Row, String>],
    c: Contender,
) -> Option<&'a Row> {
    load::row_of(contenders, rows, |x| x == c)
}

fn print_scenario(scenario: Scenario, contenders: &[Contender], rows: &[Result<Row, String>]) {
    let base = baseline(contenders, rows);
    println!("### {}\n", scenario.name());
    let mut table = Table::new(&[
        "server",
        "requests/s median (min–max)",
        "vs tokio+hyper",
        "p99",
        "server CPU µs/req user+sys",
        "CPU vs tokio+hyper",
        "syscalls/req",
        "client CPU µs/req",
    ]);
    for (c, row) in contenders.iter().zip(rows) {
        match row {
            Ok(r) => {
                let mut cells = rate_cells(c.label(), &r.rate, base.map(|b| &b.rate), r.p99);
                cells.extend([
                    format!("{}+{}", micros(r.user), micros(r.sys)),
                    ratio(r.cpu(), base.map(Row::cpu)),
                    r.per_request(|s| s.syscalls())
                        .map_or("–".into(), |v| format!("{v:.2}")),
                    micros(r.client),
                ]);
                table.row(cells);
            }
            Err(reason) => table.unavailable(c.label(), reason),
        }
    }
    println!("{}", table.render());

    // Where this runtime's work goes, counter by counter.
    let totals = contenders.iter().zip(rows).map(|(c, row)| {
        let totals = row.as_ref().ok().and_then(|r| r.totals.as_ref());
        (c.label(), totals)
    });
    print_stats_mix("per request (all repetitions)", totals, |v| v >= 0.0005);
}

/// Requests/s and CPU per request against tokio+hyper, every scenario side by side.
fn print_summary(contenders: &[Contender], results: &Results) {
    println!("### Summary: ratios to tokio ct+hyper in the same run\n");
    let mut header = vec!["server".to_string()];
    for (scenario, _) in results {
        header.push(format!("{}: req/s", scenario.name()));
        header.push("CPU/req".to_string());
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(&header);
    for (i, c) in contenders.iter().enumerate() {
        let mut cells = vec![c.label().to_string()];
        for (_, rows) in results {
            let base = baseline(contenders, rows);
            match &rows[i] {
                Ok(r) => {
                    cells.push(ratio(r.rate.median, base.map(|b| b.rate.median)));
                    cells.push(ratio(r.cpu(), base.map(Row::cpu)));
                }
                Err(_) => cells.extend(["–".to_string(), "–".to_string()]),
            }
        }
        table.row(cells);
    }
    println!("{}", table.render());
}

/// The targets, checked against this run.
fn print_targets(contenders: &[Contender], results: &Results) {
    println!("### Targets\n");
    let mut table = Table::new(&["target", "scenario", "measured", "met"]);
    for (scenario, rows) in results {
        let name = scenario.name();
        let base = baseline(contenders, rows);
        for backend in [Backend::Epoll, Backend::IoUring] {
            let hyper = find(contenders, rows, Contender::Hyper(backend));
            // Beyond noise: below tokio's median, and no repetition reached it either.
            let verdict = hyper.zip(base).map(|(r, b)| {
                let met = if r.rate.median >= b.rate.median {
                    "yes"
                } else if r.rate.max >= b.rate.median {
                    "within noise"
                } else {
                    "no"
                };
                (format!("{:.2}×", r.rate.median / b.rate.median), met)
            });
            let label = Contender::Hyper(backend).label();
            push_target(&mut table, format!("{label}: req/s ≥ 1.0×"), &name, verdict);
        }
        let uring = find(contenders, rows, Contender::Hyper(Backend::IoUring));
        let verdict = uring.zip(base).map(|(r, b)| {
            let x = r.cpu() / b.cpu();
            (format!("{x:.2}×"), if x <= 0.9 { "yes" } else { "no" })
        });
        push_target(
            &mut table,
            "runtime+hyper (io_uring): server CPU/req ≤ 0.9×".into(),
            &name,
            verdict,
        );
        for backend in [Backend::Epoll, Backend::IoUring] {
            let owned = find(contenders, rows, Contender::Responder(backend, Io::Owned));
            let poll = find(contenders, rows, Contender::Responder(backend, Io::Poll));
            let verdict = poll.zip(owned).map(|(p, o)| {
                let x = p.cpu() / o.cpu();
                let text = format!(
                    "CPU/req {x:.2}× owned (req/s {:.2}×)",
                    p.rate.median / o.rate.median
                );
                (text, if x <= 1.10 { "yes" } else { "no" })
            });
            push_target(
                &mut table,
                format!("poll layer ({backend:?}): responder poll ≤ 1.10× owned"),
                &name,
                verdict,
            );
        }
    }
    println!("{}", table.render());
}

fn push_target(table: &mut Table, what: String, scenario: &str, verdict: Option<(String, &str)>) {
    let [measured, met] = target_cells(verdict);
    table.row(vec![what, scenario.to_string(), measured, met]);
}

/// One `GET / × 64` run per server under `perf record`.
fn print_profiles(contenders: &[Contender]) {
    println!(
        "### Profile of the server thread: {} (perf, 4 kHz)\n",
        CHECKED.name()
    );
    if let Some(reason) = profile::unavailable() {
        println!("skipped: {reason}; the user/system split above is getrusage's alone\n");
        return;
    }
    let secs = 1.5;
    let mut table = Table::new(&[
        "server",
        "samples",
        "user share",
        "user µs/req",
        "kernel µs/req",
        "hottest user-space functions (share of user samples)",
    ]);
    for &c in contenders {
        let tag = c.label().replace([' ', '(', ')', '+'], "");
        let outcome = measure(c, CHECKED, Duration::from_secs_f64(secs), |tid| {
            profile::start(tid, secs, &tag)
        })
        .and_then(|(sample, recording)| Ok((sample, recording?.finish()?)));
        match outcome {
            Ok((s, p)) => {
                let cpu = (s.server_user + s.server_sys) / s.server_requests;
                let top: Vec<String> = p
                    .top_user
                    .iter()
                    .take(5)
                    .map(|(name, share)| format!("{name} {:.0}%", share * 100.0))
                    .collect();
                table.row(vec![
                    c.label().to_string(),
                    p.samples.to_string(),
                    format!("{:.1}%", p.user_share() * 100.0),
                    micros(cpu * p.user_share()),
                    micros(cpu * (1.0 - p.user_share())),
                    top.join("; "),
                ]);
            }
            Err(reason) => table.unavailable(c.label(), &reason),
        }
    }
    println!("{}", table.render());
    println!(
        "user µs/req and kernel µs/req: the server thread's CPU per request (getrusage, this run) \
         split by perf's share of samples.\n"
    );
}

/// One `GET / × 64` run per server driven by wrk instead of loadgen.
fn print_wrk(contenders: &[Contender]) {
    println!("### Cross-check with wrk: {}\n", CHECKED.name());
    if let Some(reason) = wrk::unavailable() {
        println!("skipped: {reason}\n");
        return;
    }
    let mut table = Table::new(&["server", "requests/s (wrk)", "vs tokio+hyper", "p99 (wrk)"]);
    let outcomes: Vec<Result<wrk::WrkReport, String>> = contenders
        .iter()
        .map(|&c| {
            let server = server::start(c, CHECKED.conns)?;
            let report = wrk::run(server.at.addr, CHECKED.conns, 2);
            if report.is_err() {
                server.abandon();
                return report;
            }
            server.finish(Duration::from_secs(30))?;
            report
        })
        .collect();
    let base = contenders
        .iter()
        .position(|c| c.is_baseline())
        .and_then(|i| outcomes[i].as_ref().ok())
        .map(|r| r.requests_per_sec);
    for (c, outcome) in contenders.iter().zip(&outcomes) {
        match outcome {
            Ok(r) if r.errors == 0 => table.row(vec![
                c.label().to_string(),
                rate(r.requests_per_sec),
                ratio(r.requests_per_sec, base),
                seconds(r.p99),
            ]),
            Ok(r) => table.unavailable(c.label(), &format!("{} errors", r.errors)),
            Err(reason) => table.unavailable(c.label(), reason),
        }
    }
    println!("{}", table.render());
    println!(
        "wrk 1 thread, {} connections, 2 s per server, one run each.\n",
        CHECKED.conns
    );
}
