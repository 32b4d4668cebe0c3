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

use std::io::{self, Write};
use std::time::Duration;

use runtime::net::TcpListener;

#[path = "common/echo_server.rs"]
mod echo_server;

struct Options {
    addr: String,
    upper: bool,
    /// Print the runtime's counters (per-second deltas) to stderr.
    stats: bool,
    /// On SIGINT/SIGTERM, print totals (syscalls, CPU, threads) like the IO-model servers, and exit.
    exit_stats: bool,
}

fn parse_args() -> Options {
    let mut opts = Options {
        addr: "127.0.0.1:8080".into(),
        upper: false,
        stats: false,
        exit_stats: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => opts.addr = args.next().expect("--addr needs a value"),
            "--upper" => opts.upper = true,
            "--stats" => opts.stats = true,
            "--exit-stats" => opts.exit_stats = true,
            "-h" | "--help" => {
                println!("usage: echo [[--addr] HOST:PORT] [--upper] [--stats] [--exit-stats]");
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

#[runtime::main]
async fn main() -> io::Result<()> {
    let opts = parse_args();
    let listener = TcpListener::bind(&opts.addr)?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    if opts.stats {
        runtime::spawn(print_stats());
    }
    if opts.exit_stats {
        runtime::spawn(report_on_signal());
    }
    echo_server::accept_loop(listener, opts.upper, std::rc::Rc::new(())).await;
    Ok(())
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

/// Waits for SIGINT or SIGTERM, then prints this server's totals in the format of the IO-model
/// servers (`examples/io_models/common/stats.rs`), so `io_models_table` can put the runtime in the
/// same table, and exits.
async fn report_on_signal() {
    let mut signals = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset and pthread_sigmask read the initialised
    // set. Blocking the signals in this (the runtime's) thread is inherited by the blocking-pool
    // thread started below, where `sigwait` takes them.
    let set = unsafe {
        libc::sigemptyset(signals.as_mut_ptr());
        libc::sigaddset(signals.as_mut_ptr(), libc::SIGINT);
        libc::sigaddset(signals.as_mut_ptr(), libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, signals.as_ptr(), std::ptr::null_mut());
        signals.assume_init()
    };
    let _ = runtime::task::spawn_blocking(move || {
        let mut signal = 0;
        // SAFETY: `set` is initialised and `signal` is a valid place to write the number.
        unsafe { libc::sigwait(&set, &mut signal) };
    })
    .await;
    // Back on the runtime's thread: its counters are the server's.
    let s = runtime::stats();
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
    std::process::exit(0);
}
