//! `connect`: open a stream connection to an address.
//!
//! Readiness face: a non-blocking `connect` returns `EINPROGRESS` at once (that is [`prepare`]);
//! the socket becomes *writable* when the handshake ends, and `SO_ERROR` then says how it ended.
//! The socket is registered with epoll only after `connect` was called: an unconnected TCP socket
//! reports a hang-up, which would look like readiness.
//!
//! [`prepare`]: Operation::prepare

use std::io;

use crate::driver::op::{Direction, Operation};
use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct Connect {
    fd: SharedFd,
    /// Boxed: under io_uring the kernel reads it when the SQE is submitted, after this value moved.
    addr: Box<SockAddr>,
}

impl Connect {
    pub(crate) fn new(fd: &SharedFd, addr: SockAddr) -> Connect {
        Connect {
            fd: fd.clone(),
            addr: Box::new(addr),
        }
    }
}

impl Operation for Connect {
    type Output = io::Result<()>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Write)
    }

    fn prepare(&mut self) -> io::Result<()> {
        // SAFETY: `addr` holds a valid address of `len` bytes.
        match syscall!(connect, unsafe {
            libc::connect(self.fd.raw(), self.addr.as_ptr(), self.addr.len)
        }) {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let mut err: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `err` and `len` are valid for writes of their sizes.
        syscall!(other_syscalls, unsafe {
            libc::getsockopt(
                self.fd.raw(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                &mut err as *mut _ as *mut libc::c_void,
                &mut len,
            )
        })?;
        match err {
            0 => Ok(0),
            // Still in progress (a spurious wake-up): wait for writability again.
            libc::EINPROGRESS | libc::EALREADY => Err(io::ErrorKind::WouldBlock.into()),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        opcode::Connect::new(types::Fd(self.fd.raw()), self.addr.as_ptr(), self.addr.len).build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        result.map(drop)
    }
}
