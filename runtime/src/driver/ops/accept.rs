//! `accept`: take one connection off a listening socket.
//!
//! Cancellation (io_uring): an accept whose future is dropped may still complete with a new
//! connection. [`orphaned`](Operation::orphaned) queues it on the listener's stash, and every
//! accept takes from that queue before asking the kernel: the connection is served by the next
//! accept instead of being closed. With multishot accept on, the op has no SQE of its own: it
//! waits for the queue, which the listener's multishot request fills (the peer address is then
//! read with `getpeername`, as the kernel does not report it per connection).

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

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

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

    #[cfg(feature = "io-uring")]
    fn take_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<io::Result<usize>>> {
        let stashed = self.take_stashed();
        self.fd.stashed_first(stashed, cx)
    }

    #[cfg(feature = "io-uring")]
    fn abandoned(&mut self) {
        self.fd.add_orphan();
    }

    #[cfg(feature = "io-uring")]
    fn feed(&self) -> Option<(&SharedFd, crate::driver::op::FeedKind)> {
        Some((&self.fd, crate::driver::op::FeedKind::Accept))
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        Ok((super::owned_fd(result?), *self.addr))
    }

    /// Nobody waits for this connection any more: queue it for the listener's next accept.
    #[cfg(feature = "io-uring")]
    fn orphaned(self, result: io::Result<usize>) {
        if let Ok(fd) = result {
            self.fd
                .stash_accepted(super::owned_fd(fd), Some(*self.addr));
        }
        self.fd.orphan_done();
    }
}

#[cfg(feature = "io-uring")]
impl Accept {
    /// The oldest stashed connection (or error), if any.
    fn take_stashed(&mut self) -> Option<io::Result<usize>> {
        use std::os::fd::{AsRawFd, IntoRawFd};
        loop {
            let next = self
                .fd
                .with_stash(|stash| match stash.accepted.pop_front() {
                    Some(conn) => Some(Ok(conn)),
                    None => stash.end.take().map(|end| Err(end.err())),
                })?;
            let (conn, addr) = match next {
                Ok(conn) => conn,
                Err(Some(e)) => return Some(Err(e)),
                Err(None) => continue, // only receive feeds report an end of stream
            };
            match addr
                .map(Ok)
                .unwrap_or_else(|| super::peer_of(conn.as_raw_fd()))
            {
                Ok(addr) => {
                    *self.addr = addr;
                    return Some(Ok(conn.into_raw_fd() as usize));
                }
                // The peer left before we looked: that connection is over, take the next.
                Err(_) => continue,
            }
        }
    }
}
