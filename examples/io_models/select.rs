//! Model 3a: IO multiplexing with select(2).
//!
//! ```text
//! cargo run --release --example io_select -- 127.0.0.1:8080
//! ```
//!
//! One thread blocks in `select` on *all* sockets at once (phase 1, "wait for data"), and
//! only then calls `read`/`write` on the sockets it reported ready (phase 2, "copy data",
//! which still blocks us while the kernel copies). We block twice per message, but never
//! on a socket that has nothing for us.
//!
//! select's limits show in the code:
//! * the interest sets are bitmaps that `select` overwrites with its answer, so they are
//!   rebuilt before every call, and both we and the kernel scan all of them each turn;
//! * a bitmap has `FD_SETSIZE` (1024) bits: a descriptor >= 1024 cannot be watched at all
//!   (`FD_SET` on it would write past the end of the set). Such connections are refused.

#[allow(dead_code)] // each server uses a different part of the shared code
#[path = "common/mod.rs"]
mod common;

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use common::args::Args;
use common::conn::{Conn, Status};
use common::net::{self, Accepted};
use common::signals;
use common::stats::{self, Sys};

const NAME: &str = "io_select";

fn main() {
    let result = run(Args::parse());
    stats::report(NAME);
    if let Err(error) = result {
        eprintln!("{NAME}: {error}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> io::Result<()> {
    // SIGINT/SIGTERM arrive as a readable descriptor, watched like the sockets.
    let shutdown = signals::shutdown_fd()?;
    let listener = net::listen(args.addr)?;
    stats::count(Sys::Other);
    listener.set_nonblocking(true)?;

    // Each connection has its own output queue (inside `Conn`): while it holds bytes, we
    // watch the socket for "writable" instead of "readable".
    let mut conns: Vec<Conn> = Vec::new();
    loop {
        let mut readable = FdSet::new();
        let mut writable = FdSet::new();
        readable.insert(shutdown.as_raw_fd());
        readable.insert(listener.as_raw_fd());
        for conn in &conns {
            // Every connection fd is < FD_SETSIZE: bigger ones were refused below.
            if conn.wants_write() {
                writable.insert(conn.fd());
            } else {
                readable.insert(conn.fd());
            }
        }
        let nfds = readable.max_fd().max(writable.max_fd()) + 1;

        // Phase 1: sleep until at least one socket is ready.
        stats::count(Sys::Wait);
        // SAFETY: both sets are initialised `fd_set`s that live across the call; null
        // exception set and timeout mean "none" and "wait forever".
        let ready = unsafe {
            libc::select(
                nfds,
                readable.as_mut_ptr(),
                writable.as_mut_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if ready < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }

        if readable.contains(shutdown.as_raw_fd()) {
            return Ok(());
        }
        if readable.contains(listener.as_raw_fd()) {
            accept_all(&listener, &mut conns);
        }
        // Phase 2, only for the sockets select reported (still a scan of all of them).
        conns.retain_mut(|conn| {
            let fd = conn.fd();
            if readable.contains(fd) || writable.contains(fd) {
                conn.on_ready() == Status::Open
            } else {
                true
            }
        });
    }
}

/// Accepts every waiting connection, refusing those select could not watch.
fn accept_all(listener: &std::net::TcpListener, conns: &mut Vec<Conn>) {
    loop {
        match net::accept_nonblocking(listener) {
            Accepted::Conn(stream) if FdSet::can_hold(stream.as_raw_fd()) => {
                conns.push(Conn::new(stream));
            }
            Accepted::Conn(stream) => {
                eprintln!(
                    "{NAME}: refusing connection: fd {} >= FD_SETSIZE ({}), select cannot watch it",
                    stream.as_raw_fd(),
                    libc::FD_SETSIZE
                );
                stats::count(Sys::Other); // close(2), as `stream` is dropped here
            }
            Accepted::WouldBlock => return,
            Accepted::Failed(error) => {
                eprintln!("{NAME}: accept failed: {error}");
                return;
            }
        }
    }
}

/// A safe wrapper around `fd_set` that never touches a bit beyond `FD_SETSIZE`.
struct FdSet {
    set: libc::fd_set,
    max_fd: RawFd,
}

impl FdSet {
    fn new() -> FdSet {
        // SAFETY: `fd_set` is plain data; FD_ZERO initialises it right below.
        let mut set: libc::fd_set = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, writable `fd_set`.
        unsafe { libc::FD_ZERO(&mut set) };
        FdSet { set, max_fd: -1 }
    }

    /// True if `fd` has a bit in an `fd_set`.
    fn can_hold(fd: RawFd) -> bool {
        (0..libc::FD_SETSIZE as RawFd).contains(&fd)
    }

    /// Adds `fd`; refuses (returns false) descriptors the set has no bit for.
    fn insert(&mut self, fd: RawFd) -> bool {
        if !Self::can_hold(fd) {
            return false;
        }
        // SAFETY: 0 <= fd < FD_SETSIZE, so the bit lies inside `self.set`.
        unsafe { libc::FD_SET(fd, &mut self.set) };
        self.max_fd = self.max_fd.max(fd);
        true
    }

    fn contains(&self, fd: RawFd) -> bool {
        // SAFETY: the bit is only read after checking that 0 <= fd < FD_SETSIZE.
        Self::can_hold(fd) && unsafe { libc::FD_ISSET(fd, &self.set) }
    }

    fn max_fd(&self) -> RawFd {
        self.max_fd
    }

    fn as_mut_ptr(&mut self) -> *mut libc::fd_set {
        &mut self.set
    }
}
