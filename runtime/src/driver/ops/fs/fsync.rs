//! `fsync` / `fdatasync`: push a file's data (and metadata) to the device.

use std::io;
use std::os::fd::AsRawFd;

use super::FileFd;
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct Fsync {
    fd: FileFd,
    /// `fdatasync`: skip metadata that is not needed to read the data back (e.g. mtime).
    data_only: bool,
}

impl Fsync {
    pub(crate) fn new(fd: &FileFd, data_only: bool) -> Fsync {
        Fsync {
            fd: fd.clone(),
            data_only,
        }
    }
}

impl Operation for Fsync {
    type Output = io::Result<()>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let fd = self.fd.as_raw_fd();
        let res = if self.data_only {
            // SAFETY: plain syscall on a descriptor this op keeps open.
            syscall!(other_syscalls, unsafe { libc::fdatasync(fd) })
        } else {
            // SAFETY: as above.
            syscall!(other_syscalls, unsafe { libc::fsync(fd) })
        };
        res.map(|_| 0)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        let flags = if self.data_only {
            types::FsyncFlags::DATASYNC
        } else {
            types::FsyncFlags::empty()
        };
        opcode::Fsync::new(types::Fd(self.fd.as_raw_fd()))
            .flags(flags)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        result.map(drop)
    }
}
