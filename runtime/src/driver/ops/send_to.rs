//! `sendto`: send one datagram to an address. The completion face uses `sendmsg` (see
//! [`MsgParts`]).

use std::io;
use std::net::SocketAddr;

use super::recv_from::MsgParts;
use crate::buf::{BufResult, IoBuf};
use crate::driver::op::{Direction, Operation};
use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

pub(crate) struct SendTo<B> {
    fd: SharedFd,
    buf: B,
    msg: Box<MsgParts>,
}

impl<B: IoBuf> SendTo<B> {
    pub(crate) fn new(fd: &SharedFd, buf: B, to: SocketAddr) -> SendTo<B> {
        let msg = MsgParts::new(
            SockAddr::from_std(to),
            buf.stable_ptr() as *mut u8,
            buf.bytes_init(),
        );
        SendTo {
            fd: fd.clone(),
            buf,
            msg,
        }
    }
}

impl<B: IoBuf> Operation for SendTo<B> {
    type Output = BufResult<usize, B>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Write)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let addr = &self.msg.addr;
        // SAFETY: the buffer holds `bytes_init` initialised bytes; the address is valid.
        let n = syscall!(write, unsafe {
            libc::sendto(
                self.fd.raw(),
                self.buf.stable_ptr().cast(),
                self.buf.bytes_init(),
                libc::MSG_NOSIGNAL,
                addr.as_ptr(),
                addr.len,
            )
        })?;
        Ok(n as usize)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        opcode::SendMsg::new(types::Fd(self.fd.raw()), &self.msg.hdr)
            .flags(libc::MSG_NOSIGNAL as u32)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        (result, self.buf)
    }
}
