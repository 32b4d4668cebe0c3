//! `renameat`: give a file (or directory) a new name, replacing what the new name pointed to.

use std::ffi::CString;
use std::io;

use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct RenameAt {
    /// Both on the heap: under io_uring the kernel reads them after submission.
    from: CString,
    to: CString,
}

impl RenameAt {
    pub(crate) fn new(from: CString, to: CString) -> RenameAt {
        RenameAt { from, to }
    }
}

impl Operation for RenameAt {
    type Output = io::Result<()>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let (from, to) = (self.from.as_ptr(), self.to.as_ptr());
        // SAFETY: both paths are NUL-terminated and outlive the call.
        syscall!(other_syscalls, unsafe {
            libc::renameat(libc::AT_FDCWD, from, libc::AT_FDCWD, to)
        })
        .map(|_| 0)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        let (from, to) = (self.from.as_ptr(), self.to.as_ptr());
        io_uring::opcode::RenameAt::new(super::CWD, from, super::CWD, to).build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        result.map(drop)
    }
}
