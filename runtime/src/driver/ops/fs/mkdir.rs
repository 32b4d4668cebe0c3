//! `mkdirat`: create a directory.

use std::ffi::CString;
use std::io;

use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct MkDirAt {
    /// On the heap: under io_uring the kernel reads it after submission.
    path: CString,
    /// Permission bits, before the process umask.
    mode: libc::mode_t,
}

impl MkDirAt {
    pub(crate) fn new(path: CString, mode: libc::mode_t) -> MkDirAt {
        MkDirAt { path, mode }
    }
}

impl Operation for MkDirAt {
    type Output = io::Result<()>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        // SAFETY: `path` is NUL-terminated and outlives the call.
        syscall!(other_syscalls, unsafe {
            libc::mkdirat(libc::AT_FDCWD, self.path.as_ptr(), self.mode)
        })
        .map(|_| 0)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::MkDirAt::new(super::CWD, self.path.as_ptr())
            .mode(self.mode)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        result.map(drop)
    }
}
