//! Measures the IO-model servers of `examples/io_models/` and prints a markdown table.
//!
//! ```text
//! cargo build --release --examples
//! cargo run --release --example io_models_table [-- --seconds 2]
//! ```
//!
//! For every model and for 1, 100 and 1000 connections it starts the server as a child
//! process on `127.0.0.1:0`, drives it with the `loadgen` crate (64-byte messages, one in
//! flight per connection), stops it with SIGINT and reads the statistics the server prints
//! to stderr: its CPU time, how many syscalls it made, how many threads it ran at most.
//! The load generator runs in this process, on its own thread, so on a small machine the
//! server and the generator share the CPUs: compare rows with each other, not with other
//! machines.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

/// Connection counts every model is driven at.
const CONNECTIONS: [usize; 3] = [1, 100, 1000];
const PAYLOAD: usize = 64;
const DEPTH: usize = 1;
/// Bound on waiting for a server to announce itself or to exit.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Descriptors a server holds besides its connections (stdio, listener, signalfd...).
const SERVER_SPARE_FDS: usize = 8;

/// One row group of the table: a server binary and its flags.
struct Model {
    label: &'static str,
    binary: &'static str,
    args: &'static [&'static str],
    /// Environment for the server (the runtime's echo picks its backend this way).
    env: &'static [(&'static str, &'static str)],
    /// Most connections this model can serve at all, if it has a hard limit.
    max_connections: Option<(usize, &'static str)>,
}

const MODELS: [Model; 10] = [
    Model {
        label: "blocking (thread per connection)",
        binary: "io_blocking",
        args: &[],
        env: &[],
        max_connections: None,
    },
    Model {
        label: "non-blocking (busy loop)",
        binary: "io_nonblocking",
        args: &[],
        env: &[],
        max_connections: None,
    },
    Model {
        label: "select",
        binary: "io_select",
        args: &[],
        env: &[],
        max_connections: Some((libc::FD_SETSIZE - SERVER_SPARE_FDS, "FD_SETSIZE")),
    },
    Model {
        label: "poll",
        binary: "io_poll",
        args: &[],
        env: &[],
        max_connections: None,
    },
    Model {
        label: "epoll, level-triggered",
        binary: "io_epoll",
        args: &[],
        env: &[],
        max_connections: None,
    },
    Model {
        label: "epoll, edge-triggered",
        binary: "io_epoll",
        args: &["--edge"],
        env: &[],
        max_connections: None,
    },
    Model {
        label: "signal-driven (F_SETSIG)",
        binary: "io_signal_driven",
        args: &[],
        env: &[],
        max_connections: None,
    },
    Model {
        label: "io_uring (raw completion loop)",
        binary: "io_uring_raw",
        args: &[],
        env: &[],
        max_connections: None,
    },
    Model {
        label: "runtime echo, epoll backend",
        binary: "echo",
        args: &[],
        env: &[("RUNTIME_BACKEND", "epoll")],
        max_connections: None,
    },
    Model {
        label: "runtime echo, io_uring backend",
        binary: "echo",
        args: &[],
        env: &[("RUNTIME_BACKEND", "io_uring")],
        max_connections: None,
    },
];

/// What the server said about itself on stderr when it stopped.
#[derive(Default)]
struct ServerStats {
    syscalls: u64,
    cpu_us: u64,
    threads: u64,
}

/// One measured (or skipped) cell of the table.
enum Outcome {
    Measured {
        messages_per_sec: f64,
        cpu_us_per_message: f64,
        syscalls_per_message: f64,
        threads: u64,
        errors: u64,
    },
    Skipped(String),
}

fn main() {
    let seconds = parse_seconds();
    let fd_limit = raise_fd_limit(8192);
    let dir = binaries_dir();
    eprintln!(
        "measuring {} models x {CONNECTIONS:?} connections, {seconds} s each",
        MODELS.len()
    );

    let mut rows = Vec::new();
    for model in &MODELS {
        for connections in CONNECTIONS {
            eprintln!("  {} at {connections} connections...", model.label);
            let outcome = measure(&dir, model, connections, seconds, fd_limit);
            if let Outcome::Skipped(why) = &outcome {
                eprintln!("    skipped: {why}");
            }
            rows.push((model.label, connections, outcome));
        }
    }
    print_table(&rows, seconds);
}

/// `--seconds N` (default 2): how long each cell is measured.
fn parse_seconds() -> u64 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().position(|a| a == "--seconds") {
        Some(at) => args
            .get(at + 1)
            .and_then(|s| s.parse().ok())
            .filter(|&s| s > 0)
            .unwrap_or_else(|| {
                eprintln!("usage: io_models_table [--seconds N]");
                std::process::exit(2);
            }),
        None => 2,
    }
}

/// The server binaries are built next to this one, in `target/<profile>/examples/`.
fn binaries_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of this program");
    exe.parent().expect("a directory").to_path_buf()
}

fn measure(
    dir: &Path,
    model: &Model,
    connections: usize,
    seconds: u64,
    fd_limit: usize,
) -> Outcome {
    if let Some((max, reason)) = model.max_connections {
        if connections > max {
            return Outcome::Skipped(format!("{reason}: at most {max} connections"));
        }
    }
    if connections + SERVER_SPARE_FDS + 64 > fd_limit {
        return Outcome::Skipped(format!("RLIMIT_NOFILE is only {fd_limit}"));
    }
    let binary = dir.join(model.binary);
    if !binary.exists() {
        return Outcome::Skipped(format!(
            "{} not built (run `cargo build --release --examples`)",
            binary.display()
        ));
    }
    let server = match Server::start(&binary, model.args, model.env) {
        Ok(server) => server,
        Err(why) => return Outcome::Skipped(why),
    };
    let report = loadgen::run(&loadgen::Config {
        addr: server.addr,
        connections,
        payload: PAYLOAD,
        depth: DEPTH,
        limit: loadgen::Limit::Duration(Duration::from_secs(seconds)),
    });
    let stats = server.stop();
    let report = match report {
        Ok(report) => report,
        Err(error) => return Outcome::Skipped(format!("load generator failed: {error}")),
    };
    let Some(stats) = stats else {
        return Outcome::Skipped("server printed no statistics".to_string());
    };
    let per_message = |x: u64| {
        if report.messages == 0 {
            0.0
        } else {
            x as f64 / report.messages as f64
        }
    };
    Outcome::Measured {
        messages_per_sec: report.messages_per_sec(),
        cpu_us_per_message: per_message(stats.cpu_us),
        syscalls_per_message: per_message(stats.syscalls),
        threads: stats.threads,
        errors: report.errors,
    }
}

/// A running server child process.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: Receiver<String>,
}

impl Server {
    /// Starts `binary` on an ephemeral port and waits (bounded) for its address line.
    fn start(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
        let mut child = Command::new(binary)
            .arg("127.0.0.1:0")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stderr = collect(child.stderr.take().expect("piped stderr"));
        let (line_tx, line_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let line = line_rx.recv_timeout(TIMEOUT).unwrap_or_default();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok());
        let mut server = Server {
            child,
            addr: addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
            stderr,
        };
        if addr.is_none() {
            let said = server.signal_and_wait(libc::SIGKILL).unwrap_or_default();
            return Err(format!("did not start: {}", said.trim()));
        }
        Ok(server)
    }

    /// Stops the server with SIGINT and parses the statistics it prints.
    fn stop(mut self) -> Option<ServerStats> {
        let text = self.signal_and_wait(libc::SIGINT)?;
        parse_stats(&text)
    }

    /// Signals the child by PID and waits (bounded) for it to exit; returns its stderr.
    fn signal_and_wait(&mut self, signal: libc::c_int) -> Option<String> {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: `pid` is our own child, not reaped yet, so it cannot be another process.
        unsafe { libc::kill(pid, signal) };
        let text = self.stderr.recv_timeout(TIMEOUT).ok();
        if text.is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        text
    }
}

/// Reads a pipe to its end on a background thread.
fn collect(mut pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

/// Picks the numbers out of the block printed by `common/stats.rs`.
fn parse_stats(text: &str) -> Option<ServerStats> {
    let mut stats = ServerStats::default();
    let mut seen = 0;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("syscalls: ") {
            let total = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("total="));
            stats.syscalls = total?.parse().ok()?;
            seen += 1;
        } else if let Some(rest) = line.strip_prefix("cpu time: ") {
            stats.cpu_us = rest.split_whitespace().next()?.parse().ok()?;
            seen += 1;
        } else if let Some(rest) = line.strip_prefix("threads (peak): ") {
            stats.threads = rest.parse().ok()?;
            seen += 1;
        }
    }
    (seen == 3).then_some(stats)
}

fn print_table(rows: &[(&str, usize, Outcome)], seconds: u64) {
    println!(
        "Echo, {PAYLOAD} B messages, {DEPTH} in flight per connection, {seconds} s per cell, \
         server and load generator on the same machine.\n"
    );
    println!("| model | connections | messages/s | server CPU µs/msg | syscalls/msg | threads |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (label, connections, outcome) in rows {
        match outcome {
            Outcome::Measured {
                messages_per_sec,
                cpu_us_per_message,
                syscalls_per_message,
                threads,
                errors,
            } => {
                let warning = if *errors > 0 {
                    format!(" ({errors} errors!)")
                } else {
                    String::new()
                };
                println!(
                    "| {label} | {connections} | {messages_per_sec:.0}{warning} | \
                     {cpu_us_per_message:.2} | {syscalls_per_message:.2} | {threads} |"
                );
            }
            Outcome::Skipped(why) => {
                println!("| {label} | {connections} | skipped: {why} | | | |");
            }
        }
    }
}

/// Raises the soft limit on open descriptors (children inherit it); returns the limit.
fn raise_fd_limit(wanted: u64) -> usize {
    // SAFETY: `rlimit` is plain data; getrlimit fills it in.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `limit` is a valid, writable `rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    limit.rlim_cur = limit.rlim_cur.max(wanted.min(limit.rlim_max));
    // SAFETY: `limit` is initialised and never above the hard limit.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    limit.rlim_cur as usize
}
