//! An HTTP/1.1 server with keep-alive: hyper 1.x on the runtime, on either backend.
//!
//! ```text
//! cargo run --release --example http -- --addr 127.0.0.1:8080
//! RUNTIME_BACKEND=epoll cargo run --release --example http
//! curl http://127.0.0.1:8080/                     # Hello, world!
//! curl --data-binary @big.file http://127.0.0.1:8080/echo
//! ```
//!
//! The first line printed is `listening on ADDR` (tools rely on it). `GET /` answers `Hello,
//! world!`, `POST /echo` answers with the request body, other paths `404`; a malformed request
//! gets `400` or a closed connection. `--workers N` serves on N workers, each accepting on its own
//! `SO_REUSEPORT` listener. SIGINT or SIGTERM stops it cleanly: it prints its counters and exits,
//! closing every connection.

use std::io::{self};

#[path = "common/http_service.rs"]
mod http_service;
#[path = "common/serve.rs"]
mod serve;

/// `--addr HOST:PORT` and `--workers N`.
fn parse_args() -> (String, usize) {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut workers = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().expect("--addr needs HOST:PORT"),
            "--workers" => {
                let n = args.next().and_then(|n| n.parse().ok());
                workers = n.expect("--workers needs a number");
            }
            "-h" | "--help" => {
                println!("usage: http [--addr HOST:PORT] [--workers N]");
                std::process::exit(0);
            }
            other => {
                eprintln!("http: unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    (addr, workers)
}

fn main() -> io::Result<()> {
    let (addr, workers) = parse_args();
    let rt = serve::runtime(workers);
    rt.block_on(async {
        let addr = serve::listen_on_every_worker(&addr, http_service::accept_loop)?;
        let (workers, s) = serve::announce_and_wait(addr).await?;
        eprintln!(
            "http: stopping on {} with {} workers: {} tasks spawned, {} polls, {} syscalls",
            runtime::backend(),
            workers,
            s.tasks_spawned,
            s.polls,
            s.syscalls()
        );
        Ok(())
    })
}
