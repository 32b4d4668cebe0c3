//! Model 3b: IO multiplexing with poll(2).
//!
//! ```text
//! cargo run --release --example io_poll -- 127.0.0.1:8080
//! ```
//!
//! The same two phases as select (block in `poll` until something is ready, then block in
//! `read`/`write` while data is copied), with a better interface: an array of `pollfd`
//! entries, one per descriptor, with separate `events` (what we ask) and `revents` (what the
//! kernel answers) fields. So there is no FD_SETSIZE limit and no set to rebuild. The cost
//! that remains: the whole array is passed to the kernel and scanned on every call, so each
//! turn costs O(connections) even when only one of them is ready.

#[allow(dead_code)] // each server uses a different part of the shared code
#[path = "common/mod.rs"]
mod common;

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};

use common::args::Args;
use common::conn::{Conn, Status};
use common::net::{self, Accepted};
use common::signals;
use common::stats::{self, Sys};

const NAME: &str = "io_poll";

/// `pollfds[0]` is the shutdown signalfd, `pollfds[1]` the listener; from index 2 on,
/// `pollfds[i]` belongs to `conns[i - 2]`.
const FIRST_CONN: usize = 2;

fn main() {
    let result = run(Args::parse());
    stats::report(NAME);
    if let Err(error) = result {
        eprintln!("{NAME}: {error}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> io::Result<()> {
    let shutdown = signals::shutdown_fd()?;
    let listener = net::listen(args.addr)?;
    stats::count(Sys::Other);
    listener.set_nonblocking(true)?;

    let mut pollfds = vec![pollfd(shutdown.as_raw_fd()), pollfd(listener.as_raw_fd())];
    let mut conns: Vec<Conn> = Vec::new();
    loop {
        // Phase 1: sleep until at least one descriptor is ready.
        stats::count(Sys::Wait);
        // SAFETY: `pollfds` is a live, initialised array of exactly `len()` entries.
        let ready = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as _, -1) };
        if ready < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        if pollfds[0].revents != 0 {
            return Ok(());
        }

        // Phase 2 for every ready connection. Walk backwards so that `swap_remove` only
        // moves entries we have already visited.
        for i in (FIRST_CONN..pollfds.len()).rev() {
            if pollfds[i].revents == 0 {
                continue;
            }
            // POLLHUP/POLLERR also land here: the read or write then reports the problem.
            let conn = &mut conns[i - FIRST_CONN];
            if conn.on_ready() == Status::Closed {
                pollfds.swap_remove(i);
                conns.swap_remove(i - FIRST_CONN); // dropping the Conn closes the socket
            } else {
                // Ask for "writable" while output is queued, otherwise for "readable".
                pollfds[i].events = interest(conn);
            }
        }

        if pollfds[1].revents != 0 {
            accept_all(&listener, &mut pollfds, &mut conns);
        }
    }
}

/// Accepts every waiting connection and appends it to both arrays.
fn accept_all(listener: &TcpListener, pollfds: &mut Vec<libc::pollfd>, conns: &mut Vec<Conn>) {
    loop {
        match net::accept_nonblocking(listener) {
            Accepted::Conn(stream) => {
                pollfds.push(pollfd(stream.as_raw_fd()));
                conns.push(Conn::new(stream));
            }
            Accepted::WouldBlock => return,
            Accepted::Failed(error) => {
                eprintln!("{NAME}: accept failed: {error}");
                return;
            }
        }
    }
}

/// A `pollfd` asking for "readable".
fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn interest(conn: &Conn) -> libc::c_short {
    if conn.wants_write() {
        libc::POLLOUT
    } else {
        libc::POLLIN
    }
}
