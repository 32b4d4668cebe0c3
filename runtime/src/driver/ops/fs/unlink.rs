//! `unlinkat`: remove a file, or an empty directory.

use std::ffi::CString;
use std::io;

use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct UnlinkAt {
    /// On the heap: under io_uring the kernel reads it after submission.
    path: CString,
    /// `0` for a file, `AT_REMOVEDIR` for a directory.
    flags: libc::c_int,
}

impl UnlinkAt {
    pub(crate) fn file(path: CString) -> UnlinkAt {
        UnlinkAt { path, flags: 0 }
    }

    pub(crate) fn dir(path: CString) -> UnlinkAt {
        UnlinkAt {
            path,
            flags: libc::AT_REMOVEDIR,
        }
    }
}

impl Operation for UnlinkAt {
    type Output = io::Result<()>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        // SAFETY: `path` is NUL-terminated and outlives the call.
        syscall!(other_syscalls, unsafe {
            libc::unlinkat(libc::AT_FDCWD, self.path.as_ptr(), self.flags)
        })
        .map(|_| 0)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::UnlinkAt::new(super::CWD, self.path.as_ptr())
            .flags(self.flags)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        result.map(drop)
    }
}
