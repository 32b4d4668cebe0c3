//! `pwrite`/`write`: write an owned buffer's bytes to a file, at an offset or at its position.

use std::io;
use std::os::fd::AsRawFd;

use super::{FileFd, Offset};
use crate::buf::{BufResult, IoBuf};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct WriteAt<B> {
    fd: FileFd,
    buf: B,
    /// An `At` offset must fit in an `off_t` (see `ReadAt`).
    offset: Offset,
}

impl<B: IoBuf> WriteAt<B> {
    pub(crate) fn new(fd: &FileFd, buf: B, offset: Offset) -> WriteAt<B> {
        WriteAt {
            fd: fd.clone(),
            buf,
            offset,
        }
    }
}

impl<B: IoBuf> Operation for WriteAt<B> {
    type Output = BufResult<usize, B>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let fd = self.fd.as_raw_fd();
        let (ptr, len) = (self.buf.stable_ptr(), self.buf.bytes_init());
        let positioned = |pos| {
            // SAFETY: the buffer holds `bytes_init` initialised bytes (IoBuf contract).
            let n = syscall!(write, unsafe { libc::pwrite(fd, ptr.cast(), len, pos) })?;
            Ok(n as usize)
        };
        let sequential = || {
            // SAFETY: as above.
            let n = syscall!(write, unsafe { libc::write(fd, ptr.cast(), len) })?;
            Ok(n as usize)
        };
        self.offset.attempt(fd, positioned, sequential)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        let len = self.buf.bytes_init().min(u32::MAX as usize) as u32;
        let fd = types::Fd(self.fd.as_raw_fd());
        opcode::Write::new(fd, self.buf.stable_ptr(), len)
            .offset(self.offset.sqe_offset())
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        (result, self.buf)
    }
}
