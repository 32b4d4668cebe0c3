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
//! gets `400` or a closed connection. SIGINT or SIGTERM stops it cleanly: it prints its counters
//! and exits, closing every connection.

use std::future::poll_fn;
use std::io::{self, Write};
use std::task::Poll;

use runtime::net::TcpListener;
use runtime::signal::{signal, SignalKind};

#[path = "common/http_service.rs"]
mod http_service;

fn parse_addr() -> String {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().expect("--addr needs HOST:PORT"),
            "-h" | "--help" => {
                println!("usage: http [--addr HOST:PORT]");
                std::process::exit(0);
            }
            other => {
                eprintln!("http: unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    addr
}

#[runtime::main]
async fn main() -> io::Result<()> {
    let addr = parse_addr();
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind(&addr)?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    runtime::spawn(http_service::accept_loop(listener));
    poll_fn(
        |cx| match interrupt.poll_recv(cx).is_ready() || terminate.poll_recv(cx).is_ready() {
            true => Poll::Ready(()),
            false => Poll::Pending,
        },
    )
    .await;
    let s = runtime::stats();
    eprintln!(
        "http: stopping on {}: {} tasks spawned, {} polls, {} syscalls",
        runtime::backend(),
        s.tasks_spawned,
        s.polls,
        s.syscalls()
    );
    Ok(())
}
