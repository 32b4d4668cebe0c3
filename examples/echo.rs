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

use runtime::net::{TcpListener, TcpStream};

struct Options {
    addr: String,
    upper: bool,
    /// Print the runtime's counters (per-second deltas) to stderr.
    stats: bool,
}

fn parse_args() -> Options {
    let mut opts = Options {
        addr: "127.0.0.1:8080".into(),
        upper: false,
        stats: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => opts.addr = args.next().expect("--addr needs a value"),
            "--upper" => opts.upper = true,
            "--stats" => opts.stats = true,
            "-h" | "--help" => {
                println!("usage: echo [--addr HOST:PORT] [--upper] [--stats]");
                std::process::exit(0);
            }
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
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                runtime::spawn(serve(stream, opts.upper));
            }
            Err(e) if is_out_of_descriptors(&e) => {
                eprintln!("echo: accept: {e}; waiting for descriptors to free up");
                runtime::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => eprintln!("echo: accept: {e}"),
        }
    }
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

fn is_out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Echoes one connection until the peer closes it or it fails.
async fn serve(stream: TcpStream, upper: bool) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let (res, mut data) = stream.read(buf).await;
        match res {
            Ok(0) => return, // end of stream
            Ok(_) => {}
            Err(e) => {
                if e.kind() != io::ErrorKind::ConnectionReset {
                    eprintln!("echo: read: {e}");
                }
                return;
            }
        }
        if upper {
            data.make_ascii_uppercase();
        }
        let (res, data) = stream.write_all(data).await;
        if let Err(e) = res {
            if !matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ) {
                eprintln!("echo: write: {e}");
            }
            return;
        }
        buf = data;
    }
}
