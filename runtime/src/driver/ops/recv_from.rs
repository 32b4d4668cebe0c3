//! `recvfrom`: receive one datagram and the address it came from.
//!
//! The completion face uses `recvmsg`, whose `msghdr` (with the iovec and the address it points
//! to) lives in one box: the kernel reads and writes it after this value has moved.
//!
//! Cancellation (io_uring): a datagram received by a `recv_from` whose future was dropped is
//! discarded, like a datagram the network lost (UDP promises no delivery); the buffer is freed
//! only after the kernel is done with it.

use std::io;
use std::net::SocketAddr;

use crate::buf::{BufResult, IoBufMut};
use crate::driver::op::{Direction, Operation};
use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct RecvFrom<B> {
    fd: SharedFd,
    buf: B,
    msg: Box<MsgParts>,
}

/// Everything `recvmsg`/`sendmsg` point into, kept together on the heap.
pub(crate) struct MsgParts {
    pub(crate) addr: SockAddr,
    pub(crate) iov: libc::iovec,
    pub(crate) hdr: libc::msghdr,
}

impl MsgParts {
    /// Builds the parts for a buffer at `ptr..ptr + len`; the header's pointers are set by
    /// [`MsgParts::link`] once the box is in place.
    pub(crate) fn new(addr: SockAddr, ptr: *mut u8, len: usize) -> Box<MsgParts> {
        let mut parts = Box::new(MsgParts {
            addr,
            iov: libc::iovec {
                iov_base: ptr.cast(),
                iov_len: len,
            },
            // SAFETY: msghdr is plain data; zero is a valid empty header.
            hdr: unsafe { std::mem::zeroed() },
        });
        parts.link();
        parts
    }

    /// Points the header at the iovec and the address, which now sit at their final addresses.
    fn link(&mut self) {
        self.hdr.msg_name = self.addr.as_mut_ptr().cast();
        self.hdr.msg_namelen = self.addr.len;
        self.hdr.msg_iov = &mut self.iov;
        self.hdr.msg_iovlen = 1;
    }
}

impl<B: IoBufMut> RecvFrom<B> {
    pub(crate) fn new(fd: &SharedFd, mut buf: B) -> RecvFrom<B> {
        let msg = MsgParts::new(SockAddr::empty(), buf.stable_mut_ptr(), buf.bytes_total());
        RecvFrom {
            fd: fd.clone(),
            buf,
            msg,
        }
    }
}

impl<B: IoBufMut> Operation for RecvFrom<B> {
    type Output = BufResult<(usize, SocketAddr), B>;

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Read)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let (ptr, len) = (self.buf.stable_mut_ptr(), self.buf.bytes_total());
        let addr = &mut self.msg.addr;
        // SAFETY: the buffer is writable for `len` bytes; the address storage for `addr.len`.
        let n = syscall!(read, unsafe {
            libc::recvfrom(
                self.fd.raw(),
                ptr.cast(),
                len,
                0,
                addr.as_mut_ptr(),
                &mut addr.len,
            )
        })?;
        Ok(n as usize)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        opcode::RecvMsg::new(types::Fd(self.fd.raw()), &mut self.msg.hdr).build()
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        let result = result.and_then(|n| {
            // recvmsg reports the address length in the header; recvfrom in `addr.len`.
            if self.msg.hdr.msg_namelen < self.msg.addr.len {
                self.msg.addr.len = self.msg.hdr.msg_namelen;
            }
            // SAFETY: the kernel initialised the first `n` bytes.
            unsafe { self.buf.set_init(n) };
            Ok((n, self.msg.addr.as_std()?))
        });
        (result, self.buf)
    }
}
