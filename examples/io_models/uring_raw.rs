//! Model 5: asynchronous IO with io_uring, written raw: no runtime, one completion loop.
//!
//! ```text
//! cargo run --release --example io_uring_raw -- 127.0.0.1:8080
//! ```
//!
//! We do not ask "is this socket ready?". We hand the kernel whole operations ("receive
//! into this buffer", "send these bytes", "accept a connection") as submission queue
//! entries (SQEs), and it reports each one as *done* in the completion queue (CQEs). Both
//! phases of a read, waiting for data *and* copying it into our buffer, happen in the
//! kernel while we are free: when we see a recv completion, the bytes are already in the
//! buffer. That is asynchronous IO in the POSIX sense.
//!
//! Each loop turn makes exactly one system call, `io_uring_enter` (`submit_and_wait`),
//! which submits every SQE queued since the last turn and sleeps until at least one
//! completion is there. Accept, recv, send and close are SQEs, not system calls, so the
//! "accept/read/write" syscall counters of this server stay at zero.
//!
//! Every SQE carries a 64-bit `user_data` that comes back in its CQE; we pack into it
//! which connection the operation belongs to and which operation it was.

#[allow(dead_code)] // each server uses a different part of the shared code
#[path = "common/mod.rs"]
mod common;

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use io_uring::{opcode, squeue, types, IoUring};

use common::args::Args;
use common::stats::{self, Sys};
use common::{net, signals};

const NAME: &str = "io_uring_raw";

/// Submission queue size; the completion queue gets twice as many entries.
const RING_ENTRIES: u32 = 1024;

/// Bytes received per recv operation.
const BUFFER_SIZE: usize = 16 * 1024;

/// Which operation a completion belongs to: the low 8 bits of `user_data`.
#[derive(Clone, Copy)]
enum Op {
    Accept = 1,
    Recv = 2,
    Send = 3,
    Close = 4,
    Signal = 5,
}

/// `user_data` = connection id in the high 56 bits, operation in the low 8 bits.
fn user_data(conn: usize, op: Op) -> u64 {
    ((conn as u64) << 8) | op as u64
}

/// The inverse of [`user_data`].
fn decode(user_data: u64) -> (usize, Option<Op>) {
    let op = match user_data & 0xff {
        1 => Some(Op::Accept),
        2 => Some(Op::Recv),
        3 => Some(Op::Send),
        4 => Some(Op::Close),
        5 => Some(Op::Signal),
        _ => None,
    };
    ((user_data >> 8) as usize, op)
}

/// One connection. It always has exactly one operation in flight (a recv or a send), so
/// its buffer is never touched by us and the kernel at the same time.
struct Conn {
    fd: RawFd,
    buffer: Box<[u8]>,
    /// `buffer[start..end]` still has to be sent back.
    start: usize,
    end: usize,
}

struct Server {
    ring: IoUring,
    listener: TcpListener,
    /// A blocking signalfd for SIGINT/SIGTERM; a pending read on it completes on Ctrl-C.
    shutdown: OwnedFd,
    /// Where that read puts the signal's details. Boxed: the kernel holds its address.
    signal_info: Box<libc::signalfd_siginfo>,
    /// Connections by id (a slab): `None` marks a free slot, listed in `free`.
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    stopping: bool,
}

fn main() {
    let result = run(Args::parse());
    stats::report(NAME);
    if let Err(error) = result {
        eprintln!("{NAME}: {error}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> io::Result<()> {
    // Set the ring up first, so that a kernel without io_uring (or a sandbox forbidding it)
    // is reported before we claim to listen.
    stats::count(Sys::Other);
    let ring = match IoUring::new(RING_ENTRIES) {
        Ok(ring) => ring,
        Err(error) => {
            eprintln!("{NAME}: io_uring setup failed: {error}");
            std::process::exit(3);
        }
    };
    // Blocking descriptors on purpose: on an O_NONBLOCK file io_uring would complete a
    // read with EAGAIN instead of waiting for data on our behalf.
    let blocked = signals::block(&signals::SHUTDOWN)?;
    let shutdown = signals::signal_fd(&blocked, 0)?;
    let listener = net::listen(args.addr)?;

    let mut server = Server {
        ring,
        listener,
        shutdown,
        // SAFETY: `signalfd_siginfo` is plain data, for which all-zero bytes are valid.
        signal_info: Box::new(unsafe { std::mem::zeroed() }),
        conns: Vec::new(),
        free: Vec::new(),
        stopping: false,
    };
    server.submit_accept();
    server.submit_signal_read();
    let result = server.run();
    // Operations may still be in flight, pointing into connection buffers. Never free
    // memory the kernel may still write to: leak the buffers, the process is exiting.
    std::mem::forget(server.conns);
    result
}

impl Server {
    /// The completion loop: one `io_uring_enter` per turn.
    fn run(&mut self) -> io::Result<()> {
        let mut completions: Vec<(u64, i32)> = Vec::new();
        while !self.stopping {
            stats::count(Sys::Wait);
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                // EBUSY: completions piled up past the queue; reap them, then submit again.
                Err(error) if error.raw_os_error() == Some(libc::EBUSY) => {}
                Err(error) => return Err(error),
            }
            // Copy the CQEs out first: handling them pushes new SQEs onto the same ring.
            completions.clear();
            completions.extend(
                self.ring
                    .completion()
                    .map(|cqe| (cqe.user_data(), cqe.result())),
            );
            for &(data, result) in &completions {
                self.complete(data, result);
            }
        }
        Ok(())
    }

    /// Handles one completion. `result` is what the syscall would have returned, or -errno.
    fn complete(&mut self, data: u64, result: i32) {
        let (id, op) = decode(data);
        match op {
            Some(Op::Accept) => self.on_accept(result),
            Some(Op::Recv) => self.on_recv(id, result),
            Some(Op::Send) => self.on_send(id, result),
            Some(Op::Signal) => self.stopping = true,
            Some(Op::Close) | None => {} // a finished close needs nothing more
        }
    }

    fn on_accept(&mut self, result: i32) {
        // Keep exactly one accept in flight.
        self.submit_accept();
        if result < 0 {
            eprintln!(
                "{NAME}: accept failed: {}",
                io::Error::from_raw_os_error(-result)
            );
            return;
        }
        let fd = result;
        set_nodelay(fd);
        let conn = Conn {
            fd,
            buffer: vec![0; BUFFER_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.conns[id] = Some(conn);
                id
            }
            None => {
                self.conns.push(Some(conn));
                self.conns.len() - 1
            }
        };
        self.submit_recv(id);
    }

    fn on_recv(&mut self, id: usize, result: i32) {
        if result <= 0 {
            // 0: the peer closed; < 0: reset or another error. Either way, only this one.
            return self.close(id);
        }
        // The bytes are already in the buffer: both phases are over.
        stats::read_with_data();
        if let Some(conn) = self.conns[id].as_mut() {
            (conn.start, conn.end) = (0, result as usize);
        }
        self.submit_send(id);
    }

    fn on_send(&mut self, id: usize, result: i32) {
        if result <= 0 {
            return self.close(id);
        }
        let Some(conn) = self.conns[id].as_mut() else {
            return;
        };
        conn.start += result as usize;
        if conn.start < conn.end {
            self.submit_send(id); // a short send: send the rest
        } else {
            self.submit_recv(id);
        }
    }

    /// Frees the slot at once and lets the kernel close the socket (no op is in flight).
    fn close(&mut self, id: usize) {
        if let Some(conn) = self.conns[id].take() {
            self.free.push(id);
            let close = opcode::Close::new(types::Fd(conn.fd)).build();
            self.push(close.user_data(user_data(id, Op::Close)));
        }
    }

    fn submit_accept(&mut self) {
        if self.stopping {
            return;
        }
        let fd = types::Fd(self.listener.as_raw_fd());
        let accept = opcode::Accept::new(fd, std::ptr::null_mut(), std::ptr::null_mut())
            .flags(libc::SOCK_CLOEXEC)
            .build();
        self.push(accept.user_data(user_data(0, Op::Accept)));
    }

    fn submit_signal_read(&mut self) {
        let buffer: *mut libc::signalfd_siginfo = &mut *self.signal_info;
        let size = std::mem::size_of::<libc::signalfd_siginfo>() as u32;
        let read = opcode::Read::new(types::Fd(self.shutdown.as_raw_fd()), buffer.cast(), size);
        self.push(read.build().user_data(user_data(0, Op::Signal)));
    }

    fn submit_recv(&mut self, id: usize) {
        let Some(conn) = self.conns[id].as_mut() else {
            return;
        };
        let recv = opcode::Recv::new(
            types::Fd(conn.fd),
            conn.buffer.as_mut_ptr(),
            conn.buffer.len() as u32,
        );
        self.push(recv.build().user_data(user_data(id, Op::Recv)));
    }

    fn submit_send(&mut self, id: usize) {
        let Some(conn) = self.conns[id].as_ref() else {
            return;
        };
        let pending = &conn.buffer[conn.start..conn.end];
        let send = opcode::Send::new(types::Fd(conn.fd), pending.as_ptr(), pending.len() as u32);
        self.push(send.build().user_data(user_data(id, Op::Send)));
    }

    /// Queues an SQE; it reaches the kernel with the next `submit_and_wait`.
    fn push(&mut self, entry: squeue::Entry) {
        loop {
            // SAFETY: each entry's buffer stays valid until its completion: buffers are
            // boxed (never moved), freed only after their one operation completed, leaked
            // if still in flight at exit; the signal buffer lives as long as the server.
            let pushed = unsafe { self.ring.submission().push(&entry) };
            if pushed.is_ok() {
                return;
            }
            // The submission queue is full: hand its entries to the kernel right now.
            stats::count(Sys::Wait);
            if let Err(error) = self.ring.submit() {
                eprintln!("{NAME}: cannot submit: {error}");
                return;
            }
        }
    }
}

/// Sends small echoes at once instead of letting Nagle's algorithm delay them.
fn set_nodelay(fd: RawFd) {
    let on: libc::c_int = 1;
    stats::count(Sys::Other);
    // SAFETY: `on` is a live c_int and the length passed is its size.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}
