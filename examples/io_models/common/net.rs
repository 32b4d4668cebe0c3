//! Opening the listening socket and accepting connections, with every syscall counted.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use super::stats::{self, Sys};

/// How many finished handshakes the kernel may queue before we `accept` them. The kernel
/// caps it at `net.core.somaxconn` (4096 by default). std uses 128, too few when a load
/// generator opens 1000 connections at once: the rest would be retried after a second.
const BACKLOG: libc::c_int = 4096;

/// Binds a listening socket and announces it with the line `listening on <addr>`.
///
/// That line is the first thing a server prints to stdout: tests and the table generator
/// read it to learn the real port when the address ends in `:0`.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    // socket + setsockopt(SO_REUSEADDR) + bind + listen.
    for _ in 0..4 {
        stats::count(Sys::Other);
    }
    let listener = TcpListener::bind(addr)?;
    // Calling listen(2) again on a listening socket just updates its backlog.
    stats::count(Sys::Other);
    // SAFETY: the descriptor belongs to `listener`, which is alive.
    if unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    stdout.flush()?;
    Ok(listener)
}

/// What one non-blocking accept attempt gave.
pub enum Accepted {
    /// A new connection, already switched to non-blocking mode.
    Conn(TcpStream),
    /// No connection is waiting (`EAGAIN`).
    WouldBlock,
    /// This attempt failed (e.g. the peer reset before we accepted); the server goes on.
    Failed(io::Error),
}

/// Accepts one connection from a non-blocking listener and makes it non-blocking too.
pub fn accept_nonblocking(listener: &TcpListener) -> Accepted {
    stats::count(Sys::Accept);
    match listener.accept() {
        Ok((stream, _peer)) => match prepare(&stream, true) {
            Ok(()) => Accepted::Conn(stream),
            Err(error) => Accepted::Failed(error),
        },
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Accepted::WouldBlock,
        Err(error) => Accepted::Failed(error),
    }
}

/// Sets the options every server uses on a new connection.
pub fn prepare(stream: &TcpStream, nonblocking: bool) -> io::Result<()> {
    if nonblocking {
        // An accepted socket does not inherit O_NONBLOCK from the listener (on Linux).
        stats::count(Sys::Other);
        stream.set_nonblocking(true)?;
    }
    // Send small echoes at once instead of letting Nagle's algorithm hold them back.
    stats::count(Sys::Other);
    stream.set_nodelay(true)
}
