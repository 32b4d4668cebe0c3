//! `accept`: take one connection off a listening socket.

use std::io;
use std::os::fd::OwnedFd;

use crate::driver::op::{Direction, Operation};
use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

/// The new connection is non-blocking and close-on-exec from birth.
const FLAGS: libc::c_int = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;

pub(crate) struct Accept {
    fd: SharedFd,
    /// Boxed: under io_uring the kernel writes the peer address here when the accept completes.
    addr: Box<SockAddr>,
}

impl Accept {
    pub(crate) fn new(fd: &SharedFd) -> Accept {
        Accept {
            fd: fd.clone(),
            addr: Box::new(SockAddr::empty()),
        }
    }
}

impl Operation for Accept {
    type Output = io::Result<(OwnedFd, SockAddr)>;

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Read)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let addr = &mut *self.addr;
        // SAFETY: `addr.storage` is writable for `addr.len` bytes, and the kernel updates `len`.
        let fd = syscall!(accept, unsafe {
            libc::accept4(self.fd.raw(), addr.as_mut_ptr(), &mut addr.len, FLAGS)
        })?;
        Ok(fd as usize)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        let addr = &mut *self.addr;
        opcode::Accept::new(types::Fd(self.fd.raw()), addr.as_mut_ptr(), &mut addr.len)
            .flags(FLAGS)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        Ok((super::owned_fd(result?), *self.addr))
    }

    fn orphaned(self, result: io::Result<usize>) {
        // Nobody waits for this connection any more: close it rather than leak the descriptor.
        drop(self.complete(result));
    }
}
