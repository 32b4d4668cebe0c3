//! `pread`/`read`: read from a file, at an offset or at its position, into an owned buffer.

use std::io;
use std::os::fd::AsRawFd;

use super::{FileFd, Offset};
use crate::buf::{BufResult, IoBufMut};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct ReadAt<B> {
    fd: FileFd,
    buf: B,
    /// An `At` offset must fit in an `off_t`: `u64::MAX` would mean "the current position" to
    /// io_uring (the caller checks).
    offset: Offset,
}

impl<B: IoBufMut> ReadAt<B> {
    pub(crate) fn new(fd: &FileFd, buf: B, offset: Offset) -> ReadAt<B> {
        ReadAt {
            fd: fd.clone(),
            buf,
            offset,
        }
    }
}

impl<B: IoBufMut> Operation for ReadAt<B> {
    type Output = BufResult<usize, B>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let fd = self.fd.as_raw_fd();
        let (ptr, len) = (self.buf.stable_mut_ptr(), self.buf.bytes_total());
        let positioned = |pos| {
            // SAFETY: the buffer is valid for writes of `bytes_total` bytes (IoBufMut contract).
            let n = syscall!(read, unsafe { libc::pread(fd, ptr.cast(), len, pos) })?;
            Ok(n as usize)
        };
        let sequential = || {
            // SAFETY: as above.
            let n = syscall!(read, unsafe { libc::read(fd, ptr.cast(), len) })?;
            Ok(n as usize)
        };
        self.offset.attempt(fd, positioned, sequential)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        let len = self.buf.bytes_total().min(u32::MAX as usize) as u32;
        let fd = types::Fd(self.fd.as_raw_fd());
        opcode::Read::new(fd, self.buf.stable_mut_ptr(), len)
            .offset(self.offset.sqe_offset())
            .build()
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        if let Ok(n) = result {
            // SAFETY: the kernel initialised the first `n` bytes.
            unsafe { self.buf.set_init(n) };
        }
        (result, self.buf)
    }
}
