//! Executor micro-benchmarks: what a task, a wake-up, a timer and a trip to the blocking pool cost,
//! on this runtime (both backends), tokio (`current_thread` and `multi_thread` with one worker)
//! and monoio (io_uring and epoll drivers).
//!
//! ```text
//! cargo bench --bench executor                 # every case, 7 interleaved repetitions
//! BENCH_QUICK=1 cargo bench --bench executor   # small sizes, 3 repetitions
//! cargo bench --bench executor -- ping_pong    # only the cases whose name contains "ping_pong"
//! ```
//!
//! Every cell is the median of the repetitions (min–max beside it); the ratio column divides the
//! median by tokio `current_thread`'s, so below 1.00× is faster than tokio. Each repetition builds
//! a fresh runtime; the clock runs inside `block_on`, so building it is not measured.

// Each `on_*` module compiles `executor/workloads.rs` for its own runtime: loading one file as
// several modules is the point here, not a mistake.
#![allow(clippy::duplicate_mod)]

mod common;

#[path = "executor/on_monoio.rs"]
mod on_monoio;
#[path = "executor/on_runtime.rs"]
mod on_runtime;
#[path = "executor/on_tokio.rs"]
mod on_tokio;

use std::time::Duration;

use common::contender::Contender;
use common::{catching, interleave, ratio, seconds, Settings, Spread, Table};

/// One workload (see `executor/workloads.rs` for the code of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Spawn `n` empty tasks, then join them.
    SpawnMany,
    /// 100 tasks yielding, `n` yields in all.
    YieldMany,
    /// `n` round trips between two tasks over an mpsc queue and oneshot replies.
    PingPong,
    /// `n` tasks, each spawning the next.
    ChainedSpawn,
    /// `n` round trips to an OS thread that wakes the task from outside.
    RemoteWake,
    /// `n` timers registered, then all cancelled.
    Timers,
    /// `n` sequential `spawn_blocking` round trips.
    SpawnBlocking,
}

impl Case {
    const ALL: [Case; 7] = [
        Case::SpawnMany,
        Case::YieldMany,
        Case::PingPong,
        Case::ChainedSpawn,
        Case::RemoteWake,
        Case::Timers,
        Case::SpawnBlocking,
    ];

    fn name(self) -> &'static str {
        match self {
            Case::SpawnMany => "spawn_many",
            Case::YieldMany => "yield_many",
            Case::PingPong => "ping_pong",
            Case::ChainedSpawn => "chained_spawn",
            Case::RemoteWake => "remote_wake",
            Case::Timers => "timers",
            Case::SpawnBlocking => "spawn_blocking",
        }
    }

    /// `n`, and what one of the `n` is called.
    fn size(self, s: &Settings) -> (usize, &'static str) {
        match self {
            Case::SpawnMany => (s.pick(100_000, 10_000), "task"),
            Case::YieldMany => (s.pick(200_000, 20_000), "yield"),
            Case::PingPong => (s.pick(50_000, 5_000), "round trip"),
            Case::ChainedSpawn => (s.pick(100_000, 10_000), "task"),
            Case::RemoteWake => (s.pick(10_000, 1_000), "round trip"),
            Case::Timers => (s.pick(1_000_000, 100_000), "timer"),
            Case::SpawnBlocking => (s.pick(10_000, 1_000), "round trip"),
        }
    }
}

/// Times `case` once on `contender`; `Err` says why that contender cannot run here.
fn measure(contender: Contender, case: Case, n: usize) -> Result<Duration, String> {
    catching(|| match contender {
        Contender::Runtime(backend) => on_runtime::run(backend, case, n),
        Contender::TokioCurrentThread => on_tokio::run(on_tokio::Flavour::CurrentThread, case, n),
        Contender::TokioMultiThread1 => on_tokio::run(on_tokio::Flavour::MultiThread1, case, n),
        Contender::MonoioIoUring => on_monoio::run(on_monoio::Driver::IoUring, case, n),
        Contender::MonoioLegacy => on_monoio::run(on_monoio::Driver::Legacy, case, n),
        // Not in `Contender::RUNTIMES`: there are no tasks to run without a runtime.
        Contender::RawEpoll | Contender::RawUring => {
            Err("a hand-written IO loop has no executor".into())
        }
    })
}

fn main() {
    let settings = Settings::from_env(7);
    println!("## Executor\n\n{}\n", settings.describe());
    let contenders = Contender::selected(&Contender::RUNTIMES, &settings);
    // case name -> (contender -> median seconds), for the summary at the end.
    let mut summary: Vec<(Case, Vec<Option<f64>>)> = Vec::new();

    for case in Case::ALL {
        if !settings.wants(case.name()) {
            continue;
        }
        let (n, unit) = case.size(&settings);
        let outcomes = interleave(&contenders, settings.reps, |&c| {
            measure(c, case, n).map(|d| d.as_secs_f64())
        });
        let spreads: Vec<Result<Spread, String>> = outcomes
            .into_iter()
            .map(|o| o.map(|samples| Spread::of(samples).expect("at least one sample")))
            .collect();
        let baseline = contenders
            .iter()
            .zip(&spreads)
            .find(|(c, _)| c.is_baseline())
            .and_then(|(_, s)| s.as_ref().ok().map(|s| s.median));

        println!("### {} (n = {n})\n", case.name());
        let per_op = format!("per {unit}");
        let mut table = Table::new(&[
            "runtime",
            "median (min–max)",
            &per_op,
            "vs tokio current_thread",
        ]);
        for (c, spread) in contenders.iter().zip(&spreads) {
            match spread {
                Ok(s) => table.row(vec![
                    c.label().to_string(),
                    s.show(seconds),
                    seconds(s.median / n as f64),
                    ratio(s.median, baseline),
                ]),
                Err(reason) => table.unavailable(c.label(), reason),
            }
        }
        println!("{}", table.render());
        summary.push((
            case,
            spreads
                .iter()
                .map(|s| s.as_ref().ok().map(|s| s.median))
                .collect(),
        ));
    }

    println!("### Summary: median time ÷ tokio current_thread's (lower is better)\n");
    let mut header = vec!["case"];
    header.extend(contenders.iter().map(|c| c.label()));
    let mut table = Table::new(&header);
    for (case, medians) in &summary {
        let baseline = contenders
            .iter()
            .position(|c| c.is_baseline())
            .and_then(|i| medians[i]);
        let mut row = vec![case.name().to_string()];
        row.extend(medians.iter().map(|m| match m {
            Some(m) => ratio(*m, baseline),
            None => "n/a".to_string(),
        }));
        table.row(row);
    }
    println!("{}", table.render());
}
