//! `read` from a pollable descriptor that is not a socket (a `signalfd`, a pipe): wait until it is
//! readable, then read what is there.
//!
//! The descriptor is non-blocking. io_uring honours `O_NONBLOCK` on plain reads (a `READ` SQE
//! would complete at once with `EAGAIN` instead of waiting), so the completion face does not
//! submit the read itself: it submits a one-shot `POLL_ADD` — *readiness through the ring* — and
//! [`complete`](Operation::complete) makes the non-blocking read once the ring reported the
//! descriptor readable. Two consequences:
//! - a cancelled wait consumed nothing: dropping the future loses no data on either backend (the
//!   kernel copies nothing before the read, which only a live future makes);
//! - under io_uring the read may still find nothing (another reader was faster): the op then
//!   answers `WouldBlock`, and the caller waits again. The readiness face retries by itself.

use std::io;

use crate::buf::{BufResult, IoBufMut};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct ReadReady<B> {
    fd: SharedFd,
    buf: B,
    /// The ring was asked to wait for readiness: the read is still to be made.
    #[cfg(feature = "io-uring")]
    polled: bool,
}

impl<B: IoBufMut> ReadReady<B> {
    pub(crate) fn new(fd: &SharedFd, buf: B) -> ReadReady<B> {
        ReadReady {
            fd: fd.clone(),
            buf,
            #[cfg(feature = "io-uring")]
            polled: false,
        }
    }
}

impl<B: IoBufMut> Operation for ReadReady<B> {
    type Output = BufResult<usize, B>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Read)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let (ptr, len) = (self.buf.stable_mut_ptr(), self.buf.bytes_total());
        // SAFETY: the buffer is valid for writes of `bytes_total` bytes (IoBufMut contract).
        let n = syscall!(read, unsafe { libc::read(self.fd.raw(), ptr.cast(), len) })?;
        Ok(n as usize)
    }

    /// A read that filled less than the buffer emptied the descriptor.
    fn drained(&self, n: usize) -> bool {
        n > 0 && n < self.buf.bytes_total()
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        self.polled = true;
        opcode::PollAdd::new(types::Fd(self.fd.raw()), libc::POLLIN as u32).build()
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        #[cfg(feature = "io-uring")]
        let result = match result {
            // The ring reported readiness (a poll mask): now read.
            Ok(_) if self.polled => self.attempt(),
            other => other,
        };
        if let Ok(n) = result {
            // SAFETY: the read initialised the first `n` bytes.
            unsafe { self.buf.set_init(n) };
        }
        (result, self.buf)
    }
}
