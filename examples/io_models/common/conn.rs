//! One echo connection on a non-blocking socket, shared by the event-loop servers.
//!
//! The connection owns a small buffer. Bytes read into it are written back before the next
//! read, so the buffer doubles as the connection's output queue: while it holds unsent
//! bytes the connection wants to *write*, otherwise it wants to *read*. Not reading while
//! output is queued is also our back-pressure: a client that sends but never reads cannot
//! make the server buffer without limit.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};

use super::stats::{self, Sys};

/// Bytes read per `read` call.
const BUFFER_SIZE: usize = 16 * 1024;

/// Whether a connection is still usable after some work on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Keep watching it.
    Open,
    /// The peer closed or an error happened: drop the connection (which closes the socket).
    Closed,
}

/// The result of one `read` or `write` attempt.
enum Step {
    /// Bytes moved; try again.
    Progress,
    /// The kernel said `EAGAIN`: nothing to do until the socket is ready again.
    WouldBlock,
    /// End of stream or error.
    Closed,
}

/// A non-blocking echo connection.
pub struct Conn {
    stream: TcpStream,
    buffer: Box<[u8]>,
    /// `buffer[start..end]` are bytes read but not yet written back.
    start: usize,
    end: usize,
}

impl Conn {
    /// Wraps a non-blocking stream.
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buffer: vec![0; BUFFER_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// The socket's descriptor, to register it with select/poll/epoll.
    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// True while echoed bytes wait to be written: watch for *writable*, not *readable*.
    pub fn wants_write(&self) -> bool {
        self.start < self.end
    }

    /// Level-triggered style: at most one `read` and one `write`, then back to the loop.
    ///
    /// Call it when the socket was reported ready (or, in the busy loop, just anyway).
    /// Bytes left unread are not lost: level-triggered readiness reports them again.
    pub fn on_ready(&mut self) -> Status {
        if !self.wants_write() {
            match self.read_some() {
                Step::WouldBlock => return Status::Open,
                Step::Closed => return Status::Closed,
                // Write at once: most of the time the socket can take the bytes, which
                // saves a trip through the wait call just to learn it is writable.
                Step::Progress => {}
            }
        }
        match self.write_some() {
            Step::Closed => Status::Closed,
            Step::Progress | Step::WouldBlock => Status::Open,
        }
    }

    /// Edge-triggered style: read and write until the kernel says `EAGAIN`.
    ///
    /// An edge (or a signal) is reported once per change, so whatever we leave unread now
    /// would not be reported again: we must go on until the socket is drained or full.
    pub fn drain(&mut self) -> Status {
        loop {
            let step = if self.wants_write() {
                self.write_some()
            } else {
                self.read_some()
            };
            match step {
                Step::Progress => continue,
                // Nothing to read, or no room to write: a new event will tell us when.
                Step::WouldBlock => return Status::Open,
                Step::Closed => return Status::Closed,
            }
        }
    }

    /// One `read` into the empty buffer: phase 2 ("copy data") of an input operation.
    fn read_some(&mut self) -> Step {
        stats::count(Sys::Read);
        match self.stream.read(&mut self.buffer) {
            Ok(0) => Step::Closed,
            Ok(n) => {
                stats::read_with_data();
                (self.start, self.end) = (0, n);
                Step::Progress
            }
            Err(error) => Self::failed(error),
        }
    }

    /// One `write` of the queued bytes.
    fn write_some(&mut self) -> Step {
        stats::count(Sys::Write);
        match self.stream.write(&self.buffer[self.start..self.end]) {
            Ok(0) => Step::Closed,
            Ok(n) => {
                self.start += n;
                Step::Progress
            }
            Err(error) => Self::failed(error),
        }
    }

    fn failed(error: io::Error) -> Step {
        match error.kind() {
            io::ErrorKind::WouldBlock => Step::WouldBlock,
            // A signal interrupted the call before it moved any byte: just retry.
            io::ErrorKind::Interrupted => Step::Progress,
            // Reset, broken pipe...: this connection is over, the server is not.
            _ => Step::Closed,
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The stream closes its socket right after this: count that close(2).
        stats::count(Sys::Other);
    }
}
