//! The same echo server on the epoll backend and on the io_uring backend, driven by the same load,
//! measured side by side in one table.
//!
//! ```text
//! cargo run --release --example compare                    # everything, under a minute
//! cargo run --release --example compare -- --quick         # a few seconds (CI)
//! cargo run --release --example compare -- --scenario 64B-x100,file --svg compare.svg
//! cargo run --release --example compare -- --json > results.json
//! ```
//!
//! How it works:
//! - each backend's server runs on its own thread, pinned to one core (when there are two or
//!   more), and counts its own syscalls with `runtime::stats()` and its CPU with
//!   `getrusage(RUSAGE_THREAD)`; it marks the measured window itself, so connecting and closing
//!   are left out (`compare/server.rs`);
//! - the load generator (the `loadgen` crate) runs on this thread, pinned to another core;
//! - each scenario is warmed up, then measured, on epoll, io_uring, epoll, io_uring... and the
//!   median of the runs is reported (`compare/runner.rs`);
//! - the file scenario reads 4 KiB at random offsets from a file, 64 reads in flight: real async
//!   reads under io_uring, the blocking pool under epoll (`compare/file_reads.rs`).
//!
//! Where io_uring cannot run (an old kernel, a sandbox that forbids it, a build without the
//! `io-uring` feature) the table shows epoll alone and says why.

#[path = "compare/args.rs"]
mod args;
#[path = "compare/cpu.rs"]
mod cpu;
#[path = "common/echo_server.rs"]
mod echo_server;
#[path = "compare/file_reads.rs"]
mod file_reads;
#[path = "compare/json.rs"]
mod json;
#[path = "compare/mailbox.rs"]
mod mailbox;
#[path = "compare/reading.rs"]
mod reading;
#[path = "compare/runner.rs"]
mod runner;
#[path = "compare/sample.rs"]
mod sample;
#[path = "compare/scenarios.rs"]
mod scenarios;
#[path = "compare/server.rs"]
mod server;
#[path = "compare/svg.rs"]
mod svg;
#[path = "compare/table.rs"]
mod table;
#[path = "compare/temp_file.rs"]
mod temp_file;
#[path = "compare/window.rs"]
mod window;

use std::process::ExitCode;

use runtime::Backend;

use crate::runner::Contender;
use crate::scenarios::{Plan, Workload};
use crate::server::Server;
use crate::temp_file::TempFile;

/// The conditions of a run, printed with the results so that numbers are never read without them.
#[derive(Debug)]
pub struct Setup {
    /// `uname -r`.
    pub kernel: String,
    /// CPUs this process may use.
    pub cpus: usize,
    /// The 1-minute load average when the run started: other work on the machine shows here.
    pub load: String,
    /// (server CPU, load-generator CPU) when the threads were pinned.
    pub pinned: Option<(usize, usize)>,
    /// Durations and repetitions.
    pub plan: Plan,
    /// Whether `--quick` was given.
    pub quick: bool,
    /// The backends that ran.
    pub ran: Vec<Backend>,
    /// The backends that could not run, and why.
    pub unavailable: Vec<(Backend, String)>,
}

fn main() -> ExitCode {
    let options = args::parse();
    let plan = Plan::new(options.quick);
    let load = load_average();

    // Server threads on the first allowed CPU, the load generator on the second: the server's
    // CPU time is then its own, and the two never fight over one core.
    let allowed = cpu::allowed_cpus();
    let pinned = (allowed.len() >= 2).then(|| (allowed[0], allowed[1]));

    let mut contenders = Vec::new();
    let mut unavailable = Vec::new();
    for backend in [Backend::Epoll, Backend::IoUring] {
        match Server::start(backend, pinned.map(|(server, _)| server)) {
            Ok(server) => contenders.push(Contender { backend, server }),
            Err(reason) => {
                eprintln!("compare: {backend} cannot run here: {reason}");
                unavailable.push((backend, reason));
            }
        }
    }
    if contenders.is_empty() {
        eprintln!("compare: no backend could start; nothing to measure");
        return ExitCode::FAILURE;
    }
    if contenders.len() == 1 {
        eprintln!("compare: running {} alone", contenders[0].backend);
    }
    if let Some((_, client)) = pinned {
        if let Err(e) = cpu::pin_current_thread(client) {
            eprintln!("compare: could not pin the load generator to CPU {client}: {e}");
        }
    }

    let file = options.scenarios.iter().find_map(|s| match s.workload {
        Workload::FileReads { file_size, .. } => {
            eprintln!(
                "compare: writing a {} file to read",
                scenarios::bytes(file_size)
            );
            Some(TempFile::create(file_size).map_err(|e| format!("cannot create the file: {e}")))
        }
        Workload::Echo { .. } => None,
    });

    let outcomes = runner::run_all(&options.scenarios, &plan, &contenders, file.as_ref());
    let setup = Setup {
        kernel: kernel_release(),
        cpus: allowed.len(),
        load,
        pinned,
        plan,
        quick: options.quick,
        ran: contenders.iter().map(|c| c.backend).collect(),
        unavailable,
    };
    drop(contenders); // stops the servers
    drop(file); // removes the file

    if options.json {
        println!("{}", json::render(&setup, &outcomes));
    } else {
        println!("{}", table::render(&setup, &outcomes));
        println!();
        for line in reading::lines(&setup, &outcomes) {
            println!("{line}");
        }
    }
    if let Some(path) = &options.svg {
        match std::fs::write(path, svg::render(&setup, &outcomes)) {
            Ok(()) => eprintln!("compare: chart written to {}", path.display()),
            Err(e) => {
                eprintln!("compare: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let failed = outcomes
        .iter()
        .flat_map(|o| &o.measured)
        .any(|m| m.result.is_err());
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The 1-minute load average, as `/proc/loadavg` gives it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The running kernel's release, e.g. `6.8.0-45-generic`.
fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
