//! `pwrite`: write an owned buffer's bytes to a file at an offset.

use std::io;
use std::os::fd::AsRawFd;

use super::FileFd;
use crate::buf::{BufResult, IoBuf};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct WriteAt<B> {
    fd: FileFd,
    buf: B,
    /// Must fit in an `off_t` (see `ReadAt`).
    pos: u64,
}

impl<B: IoBuf> WriteAt<B> {
    pub(crate) fn new(fd: &FileFd, buf: B, pos: u64) -> WriteAt<B> {
        WriteAt {
            fd: fd.clone(),
            buf,
            pos,
        }
    }
}

impl<B: IoBuf> Operation for WriteAt<B> {
    type Output = BufResult<usize, B>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let (ptr, len) = (self.buf.stable_ptr(), self.buf.bytes_init());
        // SAFETY: the buffer holds `bytes_init` initialised bytes (IoBuf contract).
        let n = syscall!(write, unsafe {
            libc::pwrite(
                self.fd.as_raw_fd(),
                ptr.cast(),
                len,
                self.pos as libc::off_t,
            )
        })?;
        Ok(n as usize)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        let len = self.buf.bytes_init().min(u32::MAX as usize) as u32;
        let fd = types::Fd(self.fd.as_raw_fd());
        opcode::Write::new(fd, self.buf.stable_ptr(), len)
            .offset(self.pos)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        (result, self.buf)
    }
}
