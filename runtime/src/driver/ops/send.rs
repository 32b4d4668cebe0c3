//! `send`: write an owned buffer to a connected socket.
//!
//! `MSG_NOSIGNAL`: a peer that reset the connection gives this write an `EPIPE` error instead of
//! killing the whole process with `SIGPIPE`.
//!
//! Cancellation (io_uring): a write whose future is dropped may have been partly or wholly sent
//! by the kernel before the cancel reached it, and the count is reported to nobody. This is the
//! same contract as a dropped `write_all` under any backend: after cancelling a write, the caller
//! does not know how much of the buffer the peer will receive, so the stream's framing is lost and
//! it should be shut down rather than written to again. (Recording the count on the descriptor
//! would not help: the caller cannot tell which dropped write it belonged to.) The buffer itself is
//! kept alive by the driver until the kernel is done with it, then freed.

use std::io;

use crate::buf::{BufResult, IoBuf};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::{raw, syscall};
use crate::driver::SharedFd;

pub(crate) struct Send<B> {
    fd: SharedFd,
    buf: B,
}

impl<B: IoBuf> Send<B> {
    pub(crate) fn new(fd: &SharedFd, buf: B) -> Send<B> {
        Send {
            fd: fd.clone(),
            buf,
        }
    }
}

impl<B: IoBuf> Operation for Send<B> {
    type Output = BufResult<usize, B>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Write)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let (ptr, len) = (self.buf.stable_ptr(), self.buf.bytes_init());
        // SAFETY: the buffer holds `bytes_init` initialised bytes (IoBuf contract).
        let n = syscall!(write, unsafe {
            raw::send(self.fd.raw(), ptr.cast(), len, libc::MSG_NOSIGNAL)
        })?;
        Ok(n as usize)
    }

    /// A write that took less than offered filled the socket's send buffer.
    fn drained(&self, n: usize) -> bool {
        n < self.buf.bytes_init()
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        let len = self.buf.bytes_init().min(u32::MAX as usize) as u32;
        opcode::Send::new(types::Fd(self.fd.raw()), self.buf.stable_ptr(), len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        (result, self.buf)
    }
}
