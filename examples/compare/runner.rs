//! Running the scenarios: each one on every backend, the backends taking turns (A-B-A-B), so that
//! a slow drift of the machine (frequency, other load) hits both alike.

use std::io;
use std::time::Duration;

use loadgen::{Config, Limit};
use runtime::Backend;

use crate::file_reads::FileJob;
use crate::sample::{Measured, Outcome, Runs, Sample};
use crate::scenarios::{Plan, Scenario, Workload};
use crate::server::Server;
use crate::temp_file::TempFile;

/// A backend whose server is up.
pub struct Contender {
    /// Which backend.
    pub backend: Backend,
    /// Its running echo server.
    pub server: Server,
}

/// How long to wait, after the load generator finished, for the server's window to close.
const WINDOW_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs every scenario on every contender, `plan.reps` times each, and reports progress on stderr.
pub fn run_all(
    scenarios: &[Scenario],
    plan: &Plan,
    contenders: &[Contender],
    file: Option<&Result<TempFile, String>>,
) -> Vec<Outcome> {
    let total = scenarios.len() * plan.reps * contenders.len();
    let mut done = 0;
    let mut outcomes = Vec::new();
    for scenario in scenarios {
        let mut runs: Vec<Result<Vec<Sample>, String>> = vec![Ok(Vec::new()); contenders.len()];
        for rep in 1..=plan.reps {
            for (contender, runs) in contenders.iter().zip(runs.iter_mut()) {
                done += 1;
                let Ok(samples) = runs else { continue }; // this backend already failed here
                let result = run_once(scenario, plan, &contender.server, file);
                let what = format!(
                    "[{done:>2}/{total}] {} · {} · run {rep}/{}",
                    scenario.label, contender.backend, plan.reps
                );
                match result {
                    Ok(sample) => {
                        eprintln!(
                            "compare: {what}: {:.0} msg/s, {:.3} syscalls/msg, {:.2} µs CPU/msg",
                            sample.rate,
                            sample.total_syscalls(),
                            sample.cpu_us()
                        );
                        samples.push(sample);
                    }
                    Err(e) => {
                        eprintln!("compare: {what}: failed: {e}");
                        *runs = Err(e);
                    }
                }
            }
        }
        let measured = contenders
            .iter()
            .zip(runs)
            .map(|(contender, runs)| Measured {
                backend: contender.backend,
                result: runs.map(|each| Runs {
                    median: Sample::median(&each),
                    each,
                }),
            })
            .collect();
        outcomes.push(Outcome {
            scenario: scenario.clone(),
            measured,
        });
    }
    outcomes
}

/// One measured run (after its warm-up) of `scenario` against `server`.
fn run_once(
    scenario: &Scenario,
    plan: &Plan,
    server: &Server,
    file: Option<&Result<TempFile, String>>,
) -> Result<Sample, String> {
    match scenario.workload {
        Workload::Echo {
            payload,
            connections,
        } => run_echo(server, payload, connections, plan).map_err(|e| e.to_string()),
        Workload::FileReads {
            block,
            depth,
            file_size,
        } => {
            let file = match file {
                Some(Ok(file)) => file,
                Some(Err(e)) => return Err(e.clone()),
                None => return Err("no file was created".into()),
            };
            let job = FileJob {
                path: file.path().to_path_buf(),
                file_size,
                block,
                depth,
                warmup: plan.warmup,
                measure: plan.measure,
            };
            let run = server.read_file(job).map_err(|e| e.to_string())?;
            Ok(Sample::from_file(&run))
        }
    }
}

/// Warm-up run, then the measured run inside a window the server marks itself.
fn run_echo(
    server: &Server,
    payload: usize,
    connections: usize,
    plan: &Plan,
) -> io::Result<Sample> {
    let config = |limit| Config {
        addr: server.addr,
        connections,
        payload,
        depth: 1,
        limit,
    };
    loadgen::run(&config(Limit::Duration(plan.warmup)))?;
    let window = server.arm(connections)?;
    let report = loadgen::run(&config(Limit::Duration(plan.measure)))?;
    let measured = window.recv_timeout(WINDOW_TIMEOUT).map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            "the server saw no complete measured window (did the load generator connect?)",
        )
    })?;
    if report.errors > 0 {
        eprintln!(
            "compare: warning: {} echo errors ({} connection errors, {} corrupted messages)",
            report.errors, report.connection_errors, report.mismatched_messages
        );
    }
    Ok(Sample::from_echo(&report, &measured, payload))
}
