//! The echo server: every byte a client sends comes back (in upper case with `--upper`).
//!
//! ```text
//! cargo run --release --example echo                       # 127.0.0.1:8080, backend chosen by Auto
//! cargo run --release --example echo -- --addr 127.0.0.1:9000 --upper
//! cargo run --release --example echo -- --stats           # counters per second on stderr
//! RUNTIME_BACKEND=epoll cargo run --release --example echo # pin a backend
//! nc 127.0.0.1 8080
//! ```
//!
//! Each connection is its own task. A peer that resets, sends garbage or vanishes ends only its own
//! connection; running out of descriptors (`EMFILE`) is logged and the accept loop backs off
//! briefly and carries on. The first line printed is `listening on <addr>` (tests read it).
//!
//! `--workers N` serves on N workers (threads), each accepting on its own `SO_REUSEPORT` listener.
//! Ctrl-C (`SIGINT`) or `SIGTERM` stops it cleanly (`runtime::signal`): it prints its totals
//! (syscalls by kind, CPU, threads) to stderr, in the format of the IO-model servers so that
//! `io_models_table` can put the runtime in the same table, and exits.

use std::io;
use std::time::Duration;

#[path = "common/echo_server.rs"]
mod echo_server;
#[path = "common/serve.rs"]
mod serve;

struct Options {
    addr: String,
    upper: bool,
    /// Print the runtime's counters (per-second deltas) to stderr.
    stats: bool,
    workers: usize,
}

fn parse_args() -> Options {
    let mut opts = Options {
        addr: "127.0.0.1:8080".into(),
        upper: false,
        stats: false,
        workers: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => opts.addr = args.next().expect("--addr needs a value"),
            "--upper" => opts.upper = true,
            "--stats" => opts.stats = true,
            "--workers" => {
                let n = args.next().and_then(|n| n.parse().ok());
                opts.workers = n.expect("--workers needs a number");
            }
            "-h" | "--help" => {
                println!("usage: echo [[--addr] HOST:PORT] [--upper] [--stats] [--workers N]");
                std::process::exit(0);
            }
            addr if !addr.starts_with('-') => opts.addr = addr.to_string(),
            other => {
                eprintln!("echo: unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    opts
}

fn main() -> io::Result<()> {
    let opts = parse_args();
    let rt = serve::runtime(opts.workers);
    rt.block_on(async {
        let upper = opts.upper;
        let addr = serve::listen_on_every_worker(&opts.addr, move |listener| {
            echo_server::accept_loop(listener, upper, std::rc::Rc::new(()))
        })?;
        if opts.stats {
            runtime::spawn(print_stats());
        }
        let (_, totals) = serve::announce_and_wait(addr).await?;
        print_totals(totals);
        Ok(())
    })
}

/// Every second, the counters of the last second on one line of stderr (only non-zero ones).
async fn print_stats() {
    let mut last = runtime::stats();
    loop {
        runtime::time::sleep(Duration::from_secs(1)).await;
        let now = runtime::stats();
        let delta = now - last;
        last = now;
        let fields: Vec<String> = delta
            .fields()
            .into_iter()
            .filter(|&(_, v)| v != 0)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        eprintln!("stats: {} syscalls={}", fields.join(" "), delta.syscalls());
    }
}

/// Prints this server's totals (`s`: every worker's counters summed) in the format of the IO-model
/// servers (`examples/io_models/common/stats.rs`).
fn print_totals(s: runtime::Stats) {
    // SAFETY: getrusage writes into a zeroed rusage we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    let (user, sys) = (micros(usage.ru_utime), micros(usage.ru_stime));
    let threads = std::fs::read_dir("/proc/self/task").map_or(1, |d| d.count());
    eprintln!(
        "echo stats:\n  \
         syscalls: read={} write={} accept={} epoll_wait={} epoll_ctl={} io_uring_enter={} \
         eventfd={} other={} total={}\n  \
         cpu time: {} us (user {user} us, sys {sys} us)\n  \
         threads (peak): {threads}",
        s.read,
        s.write,
        s.accept,
        s.epoll_wait,
        s.epoll_ctl,
        s.uring_enter,
        s.eventfd,
        s.other_syscalls,
        s.syscalls(),
        user + sys,
    );
}
