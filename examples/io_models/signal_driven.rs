//! Model 4: signal-driven IO (`O_ASYNC` + `F_SETSIG`), one thread.
//!
//! ```text
//! cargo run --release --example io_signal_driven -- 127.0.0.1:8080
//! ```
//!
//! We ask the kernel to *tell us* when a socket changes: `fcntl(F_SETOWN)` names who gets
//! told, `fcntl(F_SETSIG)` picks a real-time signal (which is queued, one per event, and
//! carries the descriptor in its `siginfo`), and `O_ASYNC` switches it on. Phase 1 ("wait
//! for data") is now the kernel's job; phase 2 ("copy data") is still a `read` that blocks
//! us while the kernel copies, like in every model but the asynchronous one.
//!
//! We never run a signal handler: all signals are *blocked* and read as data from a
//! signalfd. Reading that signalfd is where this server waits.
//!
//! Why it is rarely used for TCP servers: on a TCP socket the signal is raised for many
//! kinds of events (data arrived, room to write, connection set up, peer shut down, error,
//! even ACKs that free send-buffer space), and one signal does not say how much changed.
//! So on every signal we still have to *try* the socket until `EAGAIN`, often finding
//! nothing left because an earlier signal already made us drain it. Each event costs a
//! queued signal plus a try; and the queue of real-time signals is bounded: when it
//! overflows, the kernel falls back to a plain SIGIO that names no descriptor, and the
//! only safe reaction is to try every socket we have. (For UDP, where a signal means
//! "a datagram arrived", it fits much better.)

#[allow(dead_code)] // each server uses a different part of the shared code
#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use common::args::Args;
use common::conn::{Conn, Status};
use common::stats::{self, Sys};
use common::{net, signals};

const NAME: &str = "io_signal_driven";

/// `fcntl` command to choose the signal sent for IO events. Linux-only, and not exported by
/// the `libc` crate for glibc targets; its value is fixed by the kernel ABI.
const F_SETSIG: libc::c_int = 10;

/// Siginfos read from the signalfd per `read`.
const BATCH: usize = 64;

fn main() {
    let result = run(Args::parse());
    stats::report(NAME);
    if let Err(error) = result {
        eprintln!("{NAME}: {error}");
        std::process::exit(1);
    }
}

/// The server's state: the listener, its connections by descriptor, and the IO signal.
struct Server {
    listener: TcpListener,
    conns: HashMap<RawFd, Conn>,
    io_signal: libc::c_int,
}

fn run(args: Args) -> io::Result<()> {
    // The first real-time signal glibc leaves free for applications.
    let io_signal = libc::SIGRTMIN();
    // Block every signal we expect *before* any can be raised, and read them as data.
    // The signalfd stays blocking: reading it is how this server sleeps.
    let expected = [libc::SIGINT, libc::SIGTERM, libc::SIGIO, io_signal];
    let blocked = signals::block(&expected)?;
    let signal_fd = signals::signal_fd(&blocked, 0)?;

    let listener = net::listen(args.addr)?;
    enable_async(listener.as_raw_fd(), io_signal)?;
    let mut server = Server {
        listener,
        conns: HashMap::new(),
        io_signal,
    };
    // A client may have connected before O_ASYNC was on: no signal would tell us.
    server.accept_all();

    // SAFETY: `signalfd_siginfo` is plain data, for which all-zero bytes are valid.
    let mut infos: [libc::signalfd_siginfo; BATCH] = unsafe { std::mem::zeroed() };
    loop {
        let received = wait_for_signals(&signal_fd, &mut infos)?;
        for info in &infos[..received] {
            match info.ssi_signo as libc::c_int {
                // "Something happened on descriptor ssi_fd".
                signo if signo == io_signal => server.on_io_event(info.ssi_fd),
                // The real-time queue overflowed: events were lost, so try everything.
                libc::SIGIO => {
                    eprintln!("{NAME}: signal queue overflowed; scanning all sockets");
                    server.accept_all();
                    server.drain_all();
                }
                _ => return Ok(()), // SIGINT or SIGTERM
            }
        }
    }
}

impl Server {
    /// Reacts to one queued IO signal for `fd`.
    fn on_io_event(&mut self, fd: RawFd) {
        if fd == self.listener.as_raw_fd() {
            self.accept_all();
        } else if let Some(conn) = self.conns.get_mut(&fd) {
            // A signal is sent per change, like an edge: drain until EAGAIN.
            if conn.drain() == Status::Closed {
                self.conns.remove(&fd);
            }
        }
        // Else: a stale signal for a socket already closed. Nothing to do.
    }

    /// Accepts until `EAGAIN`, switching every new socket to signal-driven mode.
    fn accept_all(&mut self) {
        loop {
            stats::count(Sys::Accept);
            let stream = match self.listener.accept() {
                Ok((stream, _peer)) => stream,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) => {
                    eprintln!("{NAME}: accept failed: {error}");
                    return;
                }
            };
            // Accepted sockets do not inherit O_ASYNC / O_NONBLOCK: set them up one by one.
            if net::prepare(&stream, false).is_err()
                || enable_async(stream.as_raw_fd(), self.io_signal).is_err()
            {
                continue;
            }
            let mut conn = Conn::new(stream);
            // Bytes that arrived before O_ASYNC was on raised no signal: look now.
            if conn.drain() == Status::Open {
                self.conns.insert(conn.fd(), conn);
            }
        }
    }

    /// Tries every connection (after signals were lost).
    fn drain_all(&mut self) {
        self.conns.retain(|_, conn| conn.drain() == Status::Open);
    }
}

/// Makes `fd` non-blocking and asks for `signal`, carrying `fd`, on each IO event.
fn enable_async(fd: RawFd, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    // Owner first, then signal, then O_ASYNC: the first event already goes to the right
    // place with the right signal.
    let steps = [
        (libc::F_SETOWN, me),
        (F_SETSIG, signal),
        (libc::F_SETFL, libc::O_NONBLOCK | libc::O_ASYNC),
    ];
    for (command, argument) in steps {
        stats::count(Sys::Other);
        // SAFETY: these commands take an integer argument and touch no memory of ours.
        if unsafe { libc::fcntl(fd, command, argument) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Blocks until at least one signal is pending; fills `infos` and returns how many.
fn wait_for_signals(
    signal_fd: &OwnedFd,
    infos: &mut [libc::signalfd_siginfo],
) -> io::Result<usize> {
    loop {
        stats::count(Sys::Wait);
        // SAFETY: `infos` is a live, writable buffer of exactly the size passed.
        let n = unsafe {
            libc::read(
                signal_fd.as_raw_fd(),
                infos.as_mut_ptr().cast(),
                std::mem::size_of_val(infos),
            )
        };
        if n >= 0 {
            // The kernel only ever returns whole siginfos.
            return Ok(n as usize / std::mem::size_of::<libc::signalfd_siginfo>());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
