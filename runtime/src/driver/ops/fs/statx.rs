//! `statx`: a file's metadata, by open descriptor or by path.

use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;

use super::FileFd;
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

/// What we ask for: the classic `stat` fields plus the creation time.
const MASK: libc::c_uint = libc::STATX_BASIC_STATS | libc::STATX_BTIME;

pub(crate) struct Statx {
    /// The open file, or `None` for a path relative to the current directory.
    file: Option<FileFd>,
    /// Empty (with `AT_EMPTY_PATH`) when `file` is the target. On the heap, like `buf`.
    path: CString,
    flags: libc::c_int,
    /// Boxed: under io_uring the kernel writes here when the operation completes.
    buf: Box<libc::statx>,
}

impl Statx {
    /// The metadata of an open file.
    pub(crate) fn fd(fd: &FileFd) -> Statx {
        Statx::new(Some(fd.clone()), CString::default(), libc::AT_EMPTY_PATH)
    }

    /// The metadata of what `path` names, following symbolic links.
    pub(crate) fn path(path: CString) -> Statx {
        Statx::new(None, path, 0)
    }

    fn new(file: Option<FileFd>, path: CString, flags: libc::c_int) -> Statx {
        Statx {
            file,
            path,
            flags,
            // SAFETY: `statx` is a plain C struct of integers, for which all zeroes is valid.
            buf: Box::new(unsafe { std::mem::zeroed() }),
        }
    }

    fn dirfd(&self) -> libc::c_int {
        self.file
            .as_ref()
            .map_or(libc::AT_FDCWD, |fd| fd.as_raw_fd())
    }
}

impl Operation for Statx {
    type Output = io::Result<libc::statx>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let (dirfd, path, flags) = (self.dirfd(), self.path.as_ptr(), self.flags);
        let buf: *mut libc::statx = &mut *self.buf;
        // SAFETY: `path` is NUL-terminated and `buf` is a valid, writable statx, both alive for the
        // duration of the call.
        syscall!(other_syscalls, unsafe {
            libc::statx(dirfd, path, flags, MASK, buf)
        })
        .map(|_| 0)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        let buf: *mut libc::statx = &mut *self.buf;
        let dirfd = types::Fd(self.dirfd());
        opcode::Statx::new(dirfd, self.path.as_ptr(), buf.cast::<types::statx>())
            .flags(self.flags)
            .mask(MASK)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        result.map(|_| *self.buf)
    }
}
