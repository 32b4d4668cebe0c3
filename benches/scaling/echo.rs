//! Scaling where the server is the bottleneck: an echo server that hashes every 64-byte message
//! for about 20 µs before sending it back, with 1 and 2 workers.
//!
//! Every server's worker threads are pinned, worker `i` to core `i`. The load generator
//! (`loadgen`: one thread, raw epoll, every byte verified) floats: with one worker it has core 1
//! to itself, with two it shares both cores with the workers. It is light next to the server
//! (a few µs of CPU per message against 20+), and its CPU is measured so that its share of the
//! machine is known: on two cores it caps what two workers can reach, and the tables say by
//! how much ("ceiling").
//!
//! Server CPU is the sum of the worker threads' CPU clocks over the load generator's run
//! (connecting and the final drain included: 64 accepts and 64 closes, well under 1% here).

use std::time::Duration;

use runtime::Backend;

use super::echo_server::Running;
use super::work::{Work, MESSAGE};
use super::{echo_monoio, echo_runtime, echo_tokio};
use crate::common::{env_number, interleave, rate, ratio, seconds, sys, Settings, Spread, Table};

/// Connections, each with one message in flight (`SCALING_CONNS` overrides it).
fn connections() -> usize {
    env_number("SCALING_CONNS", 64).max(1) as usize
}

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// This project's runtime, one `SO_REUSEPORT` listener per worker.
    Runtime(Backend),
    /// tokio `multi_thread`, one listener, work stealing.
    Tokio,
    /// monoio (io_uring), a runtime and a `SO_REUSEPORT` listener per thread.
    Monoio,
}

impl Server {
    const ALL: [Server; 4] = [
        Server::Runtime(Backend::Epoll),
        Server::Runtime(Backend::IoUring),
        Server::Tokio,
        Server::Monoio,
    ];

    fn label(self) -> &'static str {
        match self {
            Server::Runtime(Backend::IoUring) => "runtime (io_uring)",
            Server::Runtime(_) => "runtime (epoll)",
            Server::Tokio => "tokio multi_thread",
            Server::Monoio => "monoio (io_uring)",
        }
    }

    fn start(self, workers: usize, work: Work) -> Result<Running, String> {
        let listeners = if self == Server::Tokio { 1 } else { workers };
        let mut running = Running::new(listeners, work);
        match self {
            Server::Runtime(backend) => {
                running.spawn(move |job| echo_runtime::serve(backend, workers, job))?;
            }
            Server::Tokio => {
                running.spawn(move |job| echo_tokio::serve(workers, job))?;
            }
            Server::Monoio => {
                let mut addr = "127.0.0.1:0".parse().expect("a valid address");
                for index in 0..workers {
                    addr = running.spawn(move |job| echo_monoio::serve(index, addr, job))?;
                }
            }
        }
        Ok(running)
    }
}

/// One server with a number of workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Contender {
    server: Server,
    workers: usize,
}

/// One repetition.
#[derive(Debug, Clone)]
struct Sample {
    msgs_per_sec: f64,
    p99: f64,
    /// Seconds of CPU: all server workers, and the load generator.
    server_cpu: f64,
    client_cpu: f64,
    messages: f64,
    elapsed: f64,
    /// Connections accepted by each listener.
    accepted: Vec<usize>,
}

fn measure(c: Contender, work: Work, run_for: Duration) -> Result<Sample, String> {
    let server = c.server.start(c.workers, work)?;
    let config = loadgen::Config {
        addr: server.addr(),
        connections: connections(),
        payload: MESSAGE,
        depth: 1,
        limit: loadgen::Limit::Duration(run_for),
    };
    let before = server.cpu();
    let report = loadgen::run(&config);
    let server_cpu = server.cpu().saturating_sub(before);
    let accepted = server.accepted();
    let stopped = server.stop();
    let report = report.map_err(|e| format!("load generator: {e}"))?;
    stopped?;
    if report.errors > 0 {
        return Err(format!("{} echo errors", report.errors));
    }
    if report.messages == 0 {
        return Err("no message echoed".into());
    }
    Ok(Sample {
        msgs_per_sec: report.messages_per_sec(),
        p99: report.p99.as_secs_f64(),
        server_cpu: server_cpu.as_secs_f64(),
        client_cpu: (report.client_user_cpu + report.client_sys_cpu).as_secs_f64(),
        messages: report.messages as f64,
        elapsed: report.elapsed.as_secs_f64(),
        accepted,
    })
}

/// One contender's results: medians of rates, pooled per-message costs.
#[derive(Debug, Clone)]
struct Row {
    rate: Spread,
    p99: f64,
    /// CPU seconds per message.
    server: f64,
    client: f64,
    /// Cores kept busy by the server's workers, and by them and the load generator (medians).
    server_busy: f64,
    busy: f64,
    /// The most uneven split of connections over the listeners among the repetitions.
    split: Vec<usize>,
}

impl Row {
    fn of(samples: &[Sample]) -> Row {
        let sum = |f: &dyn Fn(&Sample) -> f64| samples.iter().map(f).sum::<f64>();
        let median = |f: &dyn Fn(&Sample) -> f64| {
            Spread::of(samples.iter().map(f)).map_or(f64::NAN, |s| s.median)
        };
        let messages = sum(&|s| s.messages);
        let uneven = |s: &&Sample| {
            let max = s.accepted.iter().max().copied().unwrap_or(0);
            let min = s.accepted.iter().min().copied().unwrap_or(0);
            max - min
        };
        Row {
            rate: Spread::of(samples.iter().map(|s| s.msgs_per_sec)).expect("a sample"),
            p99: median(&|s| s.p99),
            server: sum(&|s| s.server_cpu) / messages,
            client: sum(&|s| s.client_cpu) / messages,
            server_busy: median(&|s| s.server_cpu / s.elapsed),
            busy: median(&|s| (s.server_cpu + s.client_cpu) / s.elapsed),
            split: samples
                .iter()
                .max_by_key(uneven)
                .map(|s| s.accepted.clone())
                .unwrap_or_default(),
        }
    }
}

/// Runs the section and prints its tables.
pub fn run(settings: &Settings, work: Work) {
    let run_for = Duration::from_secs_f64(
        std::env::var("SCALING_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(settings.pick(1.0, 0.1)),
    );
    println!("### Echo with ~20 µs of work per message: 1 and 2 workers\n");
    println!(
        "{} connections × {MESSAGE} B, one message in flight each, {run_for:?} per run; \
         work: {} FNV-1a passes over each message = {} of CPU (calibrated at start); \
         server workers pinned to cores 0 and 1, load generator unpinned\n",
        connections(),
        work.passes,
        seconds(work.cost().as_secs_f64()),
    );
    let contenders: Vec<Contender> = Server::ALL
        .into_iter()
        .filter(|s| settings.includes(s.label()))
        .flat_map(|server| [1, 2].map(|workers| Contender { server, workers }))
        .collect();
    let outcomes = interleave(&contenders, settings.reps, |&c| measure(c, work, run_for));
    let rows: Vec<Result<Row, String>> = outcomes
        .into_iter()
        .map(|o| o.map(|s| Row::of(&s)))
        .collect();
    let find = |server: Server, workers: usize| -> Option<&Row> {
        let i = contenders
            .iter()
            .position(|c| c.server == server && c.workers == workers)?;
        rows[i].as_ref().ok()
    };

    let mut table = Table::new(&[
        "server",
        "workers",
        "msgs/s median (min–max)",
        "vs 1 worker",
        "vs tokio (same workers)",
        "p99",
        "server CPU µs/msg",
        "load gen CPU µs/msg",
        "cores busy (server + load gen)",
        "conns per listener",
    ]);
    for (c, row) in contenders.iter().zip(&rows) {
        let label = c.server.label();
        match row {
            Ok(r) => {
                let one = find(c.server, 1).map(|b| b.rate.median);
                let tokio = find(Server::Tokio, c.workers).map(|b| b.rate.median);
                table.row(vec![
                    label.to_string(),
                    c.workers.to_string(),
                    r.rate.show(rate),
                    ratio(r.rate.median, one),
                    ratio(r.rate.median, tokio),
                    seconds(r.p99),
                    format!("{:.2}", r.server * 1e6),
                    format!("{:.2}", r.client * 1e6),
                    format!("{:.2}", r.busy),
                    r.split
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join("/"),
                ]);
            }
            Err(reason) => table.unavailable(&format!("{label} × {}", c.workers), reason),
        }
    }
    println!("{}", table.render());
    println!(
        "- cores busy: (server CPU + load generator CPU) ÷ wall time; the machine has {}.\n\
         - conns per listener: the most uneven split of the {} connections over the \
         `SO_REUSEPORT` listeners among the repetitions (tokio: one listener).\n",
        sys::online_cpus(),
        connections(),
    );

    // Scaling, and what this machine allows. On two cores the load generator shares the cores
    // with two workers: even with the machine to itself, two workers reach at most
    // cores ÷ (s₂ + c₂) messages per second, against 1 ÷ s₁ for one worker on a core of its own
    // (s: server CPU per message, c: the load generator's).
    let cores = sys::online_cpus() as f64;
    let mut summary = Table::new(&[
        "server",
        "msgs/s, 2 workers ÷ 1",
        "server cores used, 1 → 2 workers",
        "server CPU µs/msg, 1 → 2 workers",
        "ceiling on idle cores: cores·s₁ ÷ (s₂ + c₂)",
    ]);
    for server in Server::ALL {
        let (Some(one), Some(two)) = (find(server, 1), find(server, 2)) else {
            continue;
        };
        summary.row(vec![
            server.label().to_string(),
            format!("{:.2}×", two.rate.median / one.rate.median),
            format!("{:.2} → {:.2}", one.server_busy, two.server_busy),
            format!(
                "{:.2} → {:.2} ({:.2}×)",
                one.server * 1e6,
                two.server * 1e6,
                two.server / one.server
            ),
            format!("{:.2}×", cores * one.server / (two.server + two.client)),
        ]);
    }
    println!("{}", summary.render());

    let mut targets = Table::new(&["target", "measured", "met"]);
    for backend in [Backend::Epoll, Backend::IoUring] {
        let ours = Server::Runtime(backend);
        let label = ours.label();
        if let (Some(one), Some(two)) = (find(ours, 1), find(ours, 2)) {
            let ratio = two.rate.median / one.rate.median;
            targets.row(vec![
                format!("{label}: 2 workers ≥ 1.8× 1 worker"),
                format!("{ratio:.2}×"),
                yes_no(ratio >= 1.8),
            ]);
        }
        if let (Some(two), Some(tokio)) = (find(ours, 2), find(Server::Tokio, 2)) {
            let ratio = two.rate.median / tokio.rate.median;
            let apart = two.rate.min > tokio.rate.max;
            targets.row(vec![
                format!("{label}: 2 workers ≥ tokio multi_thread(2), beyond noise"),
                format!(
                    "{ratio:.2}× (ours {}, tokio {})",
                    two.rate.show(rate),
                    tokio.rate.show(rate)
                ),
                format!(
                    "{}{}",
                    yes_no(ratio >= 1.0),
                    if apart {
                        ", ranges apart"
                    } else {
                        ", ranges overlap"
                    }
                ),
            ]);
        }
    }
    println!("{}", targets.render());
}

fn yes_no(met: bool) -> String {
    if met { "yes" } else { "no" }.to_string()
}
