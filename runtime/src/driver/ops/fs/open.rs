//! `openat`: open (or create) a file by path.

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct OpenAt {
    /// On the heap: under io_uring the kernel reads it after submission.
    path: CString,
    flags: libc::c_int,
    mode: libc::mode_t,
}

impl OpenAt {
    /// `flags` are `open(2)` flags (the caller adds `O_CLOEXEC`); `mode` applies when creating.
    pub(crate) fn new(path: CString, flags: libc::c_int, mode: libc::mode_t) -> OpenAt {
        OpenAt { path, flags, mode }
    }
}

impl Operation for OpenAt {
    type Output = io::Result<OwnedFd>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        // SAFETY: `path` is a NUL-terminated string that outlives the call.
        let fd = syscall!(other_syscalls, unsafe {
            libc::openat(
                libc::AT_FDCWD,
                self.path.as_ptr(),
                self.flags,
                self.mode as libc::c_uint,
            )
        })?;
        Ok(fd as usize)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        io_uring::opcode::OpenAt::new(super::CWD, self.path.as_ptr())
            .flags(self.flags)
            .mode(self.mode)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        let fd = result?;
        // SAFETY: a successful openat returned a new descriptor that nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    fn orphaned(self, result: io::Result<usize>) {
        // Nobody waits for this file any more: close it rather than leak the descriptor.
        drop(self.complete(result));
    }
}
