//! `recvfrom`: receive one datagram and the address it came from.
//!
//! The completion face uses `recvmsg`, whose `msghdr` (with the iovec and the address it points
//! to) lives in one box: the kernel reads and writes it after this value has moved.
//!
//! Cancellation (io_uring): a datagram received by a `recv_from` whose future was dropped is kept
//! whole, with its sender, in the socket's stash, and the next `recv_from` (or `recv`) returns it
//! first — as one datagram, never merged with another (see `recv.rs`). A datagram kept by a
//! cancelled `recv`, which does not learn the sender, is reported as coming from the connected
//! peer (`getpeername`), the only sender a connected socket accepts.

use std::io;
use std::net::SocketAddr;
#[cfg(feature = "io-uring")]
use std::task::Poll;

use crate::buf::{BufResult, IoBufMut};
use crate::driver::op::{Direction, Operation};
use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct RecvFrom<B> {
    fd: SharedFd,
    buf: B,
    msg: Box<MsgParts>,
    /// The kernel was asked to fill `buf` (as opposed to the stash or the readiness path).
    #[cfg(feature = "io-uring")]
    submitted: bool,
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
            #[cfg(feature = "io-uring")]
            submitted: false,
        }
    }

    /// The sender's address as the kernel reported it (`recvmsg` reports its length in the
    /// header, `recvfrom` in `addr.len`).
    fn sender(&mut self) -> SockAddr {
        if self.msg.hdr.msg_namelen < self.msg.addr.len {
            self.msg.addr.len = self.msg.hdr.msg_namelen;
        }
        self.msg.addr
    }
}

#[cfg(feature = "io-uring")]
impl<B: IoBufMut> RecvFrom<B> {
    /// Moves the oldest stashed datagram and its sender into place, if one is stashed.
    fn take_stashed(&mut self) -> Option<io::Result<usize>> {
        let (ptr, len) = (self.buf.stable_mut_ptr(), self.buf.bytes_total());
        // SAFETY: the buffer is valid for writes of `bytes_total` bytes (IoBufMut contract).
        let (n, from) = unsafe { self.fd.take_datagram(ptr, len) }?;
        let from = match from {
            Some(addr) => addr,
            None => match super::peer_of(self.fd.raw()) {
                Ok(addr) => addr,
                Err(e) => return Some(Err(e)),
            },
        };
        self.msg.addr = from;
        self.msg.hdr.msg_namelen = from.len;
        Some(Ok(n))
    }
}

impl<B: IoBufMut> Operation for RecvFrom<B> {
    type Output = BufResult<(usize, SocketAddr), B>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

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
        self.submitted = true;
        opcode::RecvMsg::new(types::Fd(self.fd.raw()), &mut self.msg.hdr).build()
    }

    #[cfg(feature = "io-uring")]
    fn take_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Option<io::Result<usize>>> {
        let stashed = self.take_stashed();
        self.fd.stashed_first(stashed, cx)
    }

    #[cfg(feature = "io-uring")]
    fn abandoned(&mut self) {
        self.fd.add_orphan();
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        #[cfg(feature = "io-uring")]
        let result = match result {
            // An older datagram (of a cancelled read) was stashed while this one was in flight:
            // it comes first, and this one waits in the stash behind it.
            Ok(n) if self.submitted && self.fd.has_stashed() => {
                let from = self.sender();
                // SAFETY: the kernel initialised the first `n` bytes of the buffer.
                let fresh = unsafe { std::slice::from_raw_parts(self.buf.stable_ptr(), n) };
                self.fd.stash_datagram(fresh, Some(from));
                self.take_stashed().expect("a datagram was just stashed")
            }
            other => other,
        };
        let result = result.and_then(|n| {
            let from = self.sender();
            // SAFETY: the first `n` bytes were initialised (by the kernel or from the stash).
            unsafe { self.buf.set_init(n) };
            Ok((n, from.as_std()?))
        });
        (result, self.buf)
    }

    /// The future was dropped but the kernel received a datagram: keep it, whole and with its
    /// sender, for the next read.
    #[cfg(feature = "io-uring")]
    fn orphaned(mut self, result: io::Result<usize>) {
        if let Ok(n) = result {
            let from = self.sender();
            // SAFETY: the kernel initialised the first `n` bytes of the buffer.
            let datagram = unsafe { std::slice::from_raw_parts(self.buf.stable_ptr(), n) };
            self.fd.stash_datagram(datagram, Some(from));
        }
        self.fd.orphan_done();
    }
}
