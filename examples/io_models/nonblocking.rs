//! Model 2: non-blocking IO, one thread, busy polling.
//!
//! ```text
//! cargo run --release --example io_nonblocking -- 127.0.0.1:8080
//! ```
//!
//! Every socket is non-blocking, so `accept`/`read` return `EAGAIN` ("would block") at once
//! instead of waiting. Phase 1 ("wait for data") becomes *our* job: we ask every socket
//! again and again, in a loop that never sleeps. Phase 2 ("copy data") still happens
//! inside `read`, which blocks us while the kernel copies.
//!
//! It works, with one thread, and it is fast to react, but it burns a whole CPU core even
//! when no client sends anything, and each turn costs one syscall per connection whether
//! it has data or not. Compare the "cpu time" and "syscalls per message" lines it prints
//! on Ctrl-C with those of the other servers.

#[allow(dead_code)] // each server uses a different part of the shared code
#[path = "common/mod.rs"]
mod common;

use std::io;
use std::sync::atomic::Ordering;

use common::args::Args;
use common::conn::{Conn, Status};
use common::net::{self, Accepted};
use common::signals;
use common::stats::{self, Sys};

const NAME: &str = "io_nonblocking";

fn main() {
    let result = run(Args::parse());
    stats::report(NAME);
    if let Err(error) = result {
        eprintln!("{NAME}: {error}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> io::Result<()> {
    // This loop never blocks, so a signal handler that only sets a flag is enough: we will
    // see the flag within one turn.
    let stop = signals::stop_flag()?;
    let listener = net::listen(args.addr)?;
    stats::count(Sys::Other);
    listener.set_nonblocking(true)?;

    let mut conns: Vec<Conn> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        // Anyone new? Usually the answer is EAGAIN, and we pay a syscall to hear it.
        match net::accept_nonblocking(&listener) {
            Accepted::Conn(stream) => conns.push(Conn::new(stream)),
            Accepted::WouldBlock => {}
            Accepted::Failed(error) => eprintln!("{NAME}: accept failed: {error}"),
        }
        // Ask every connection, ready or not: one read (or write) attempt each.
        conns.retain_mut(|conn| conn.on_ready() == Status::Open);
    }
    Ok(())
}
