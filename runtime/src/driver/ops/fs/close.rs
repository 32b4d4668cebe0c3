//! `close`: close a file and learn whether that failed (`Drop` has no way to say so).

use std::io;
use std::os::fd::{IntoRawFd, OwnedFd};

use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct Close {
    /// The descriptor to close; `None` once a syscall closed it (or the kernel was asked to). If
    /// the op is dropped before that, dropping the `OwnedFd` closes it the ordinary way.
    fd: Option<OwnedFd>,
}

impl Close {
    pub(crate) fn new(fd: OwnedFd) -> Close {
        Close { fd: Some(fd) }
    }

    /// The kernel was asked to close the descriptor and answered `result`.
    fn settle(&mut self, result: &io::Result<usize>) {
        let Some(fd) = self.fd.take() else { return };
        match result {
            // The request was cancelled before the kernel acted: the descriptor is still open, so
            // close it here.
            Err(e) if e.raw_os_error() == Some(libc::ECANCELED) => drop(fd),
            // Any other answer means the kernel is done with it (on Linux a failed close still
            // releases the descriptor): forget it without closing again.
            _ => {
                let _ = fd.into_raw_fd();
            }
        }
    }
}

impl Operation for Close {
    type Output = io::Result<()>;

    fn interest(&self) -> (&SharedFd, Direction) {
        super::no_readiness()
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let fd = self.fd.take().expect("close attempted twice").into_raw_fd();
        // SAFETY: we owned `fd` and gave up that ownership just above, so it is closed once.
        match syscall!(other_syscalls, unsafe { libc::close(fd) }) {
            // On Linux the descriptor is released even when close is interrupted: retrying could
            // close a descriptor someone else just opened.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            res => res.map(|_| 0),
        }
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        use std::os::fd::AsRawFd;
        let fd = self.fd.as_ref().expect("close submitted twice").as_raw_fd();
        opcode::Close::new(types::Fd(fd)).build()
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        self.settle(&result);
        result.map(drop)
    }

    fn orphaned(mut self, result: io::Result<usize>) {
        self.settle(&result);
    }
}
