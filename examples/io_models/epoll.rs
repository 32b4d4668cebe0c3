//! Model 3c: IO multiplexing with epoll(7), level- or edge-triggered.
//!
//! ```text
//! cargo run --release --example io_epoll -- 127.0.0.1:8080 [--edge]
//! ```
//!
//! Same two phases as select/poll: block in `epoll_wait` until something is ready, then
//! block in `read`/`write` while data is copied. The difference is scale: the kernel keeps
//! the interest list, so each wait returns only the ready descriptors.
//!
//! The loop is written as a small callback registry (see `epoll/selector.rs`), like
//! Python's `selectors` module: `register(fd, READ, callback)`, then `run()`.
//!
//! * Level-triggered (default): a socket is reported *as long as* it is readable. We do one
//!   read/write per report and switch the interest between READ and WRITE with `epoll_ctl`
//!   whenever output gets queued or drained.
//! * Edge-triggered (`--edge`): a socket is reported *when it becomes* readable/writable.
//!   We register READ|WRITE once and must drain each socket until `EAGAIN` on every report,
//!   or we would never hear about the bytes left behind.

#[allow(dead_code)] // each server uses a different part of the shared code
#[path = "common/mod.rs"]
mod common;
#[path = "epoll/selector.rs"]
mod selector;

use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;

use common::args::Args;
use common::conn::{Conn, Status};
use common::net::{self, Accepted};
use common::signals;
use common::stats::{self, Sys};
use selector::{After, Callback, Selector, READ, WRITE};

const NAME: &str = "io_epoll";

fn main() {
    let result = run(Args::parse());
    stats::report(NAME);
    if let Err(error) = result {
        eprintln!("{NAME}: {error}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> io::Result<()> {
    let mut selector = Selector::new(args.flag("--edge"))?;
    let shutdown = signals::shutdown_fd()?;
    let listener = net::listen(args.addr)?;
    stats::count(Sys::Other);
    listener.set_nonblocking(true)?;

    // Each callback owns what it serves: the closure keeps the descriptor open.
    let shutdown_fd = shutdown.as_raw_fd();
    selector.register(
        shutdown_fd,
        READ,
        Box::new(move |selector, _ready| {
            let _owned = &shutdown;
            selector.stop();
            After::Keep
        }),
    )?;
    let listener_fd = listener.as_raw_fd();
    selector.register(
        listener_fd,
        READ,
        Box::new(move |selector, _ready| {
            accept_all(&listener, selector);
            After::Keep
        }),
    )?;
    selector.run()
}

/// The listener's callback: accept until `EAGAIN` (required when edge-triggered).
fn accept_all(listener: &TcpListener, selector: &mut Selector) {
    loop {
        match net::accept_nonblocking(listener) {
            Accepted::Conn(stream) => {
                let fd = stream.as_raw_fd();
                // Edge-triggered: watch both directions once, never change it again.
                let interest = if selector.edge_triggered() {
                    READ | WRITE
                } else {
                    READ
                };
                // On failure the callback (and with it the connection) is just dropped.
                if let Err(error) = selector.register(fd, interest, echo(Conn::new(stream))) {
                    eprintln!("{NAME}: cannot watch a connection: {error}");
                }
            }
            Accepted::WouldBlock => return,
            Accepted::Failed(error) => {
                eprintln!("{NAME}: accept failed: {error}");
                return;
            }
        }
    }
}

/// The callback of one connection; it owns the connection.
fn echo(mut conn: Conn) -> Callback {
    let mut watching = READ;
    Box::new(move |selector, _ready| {
        if selector.edge_triggered() {
            // Reported once per change: go on until the kernel says EAGAIN.
            return match conn.drain() {
                Status::Open => After::Keep,
                Status::Closed => After::Drop,
            };
        }
        // Level-triggered: one step, then ask for what we need next.
        if conn.on_ready() == Status::Closed {
            return After::Drop;
        }
        let wanted = if conn.wants_write() { WRITE } else { READ };
        if wanted != watching {
            if selector.modify(conn.fd(), wanted).is_err() {
                return After::Drop;
            }
            watching = wanted;
        }
        After::Keep
    })
}
