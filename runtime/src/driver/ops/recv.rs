//! `recv`: read from a connected socket into an owned buffer.

use std::io;

use crate::buf::{BufResult, IoBufMut};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct Recv<B> {
    fd: SharedFd,
    buf: B,
}

impl<B: IoBufMut> Recv<B> {
    pub(crate) fn new(fd: &SharedFd, buf: B) -> Recv<B> {
        Recv {
            fd: fd.clone(),
            buf,
        }
    }
}

impl<B: IoBufMut> Operation for Recv<B> {
    type Output = BufResult<usize, B>;

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Read)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let (ptr, len) = (self.buf.stable_mut_ptr(), self.buf.bytes_total());
        // SAFETY: the buffer is valid for writes of `bytes_total` bytes (IoBufMut contract).
        let n = syscall!(read, unsafe { libc::recv(self.fd.raw(), ptr.cast(), len, 0) })?;
        Ok(n as usize)
    }

    /// A read that filled less than the buffer emptied the socket's receive queue.
    fn drained(&self, n: usize) -> bool {
        n > 0 && n < self.buf.bytes_total()
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        let len = self.buf.bytes_total().min(u32::MAX as usize) as u32;
        opcode::Recv::new(types::Fd(self.fd.raw()), self.buf.stable_mut_ptr(), len).build()
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        if let Ok(n) = result {
            // SAFETY: the kernel initialised the first `n` bytes.
            unsafe { self.buf.set_init(n) };
        }
        (result, self.buf)
    }
}
