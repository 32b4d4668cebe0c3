//! `recv`: read from a connected socket into an owned buffer.
//!
//! Cancellation (io_uring): a read whose future is dropped may still complete with bytes — the
//! kernel had already copied them into the buffer. [`orphaned`](Operation::orphaned) moves them to
//! the descriptor's stash, and every read takes from the stash before asking the kernel, so the
//! next read on the stream returns them: no byte is lost by a timeout. In the rare case where a
//! later read was submitted before the cancelled one's bytes were stashed, [`complete`] puts its
//! own bytes behind the stashed ones, keeping the stream in order.
//!
//! With multishot receive on, the op has no SQE of its own: it waits for the descriptor's stash,
//! which the multishot request fills (see the completion driver's `feed`).
//!
//! **Datagrams keep their boundaries.** The same op reads a connected datagram socket (UDP), and
//! there each read takes exactly one datagram, so what holds for a byte stream does not:
//! - a short read does not mean the socket is empty (the next datagram may be queued already), so
//!   under epoll a datagram read never clears the cached readiness: only `EAGAIN` does;
//! - bytes are never merged: a cancelled read's datagram is stashed whole, as one datagram, and
//!   the multishot byte feed (which would concatenate datagrams) never serves a datagram socket.
//!
//! [`complete`]: Operation::complete

use std::io;
#[cfg(feature = "io-uring")]
use std::task::Poll;

use crate::buf::{BufResult, IoBufMut};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::{raw, syscall};
use crate::driver::SharedFd;

pub(crate) struct Recv<B> {
    fd: SharedFd,
    buf: B,
    /// The socket carries datagrams (one read, one message), not a byte stream.
    datagram: bool,
    /// The kernel was asked to fill `buf` (as opposed to the stash or the readiness path).
    #[cfg(feature = "io-uring")]
    submitted: bool,
}

impl<B: IoBufMut> Recv<B> {
    /// A read from a byte stream (TCP, Unix stream).
    pub(crate) fn new(fd: &SharedFd, buf: B) -> Recv<B> {
        Recv {
            fd: fd.clone(),
            buf,
            datagram: false,
            #[cfg(feature = "io-uring")]
            submitted: false,
        }
    }

    /// A read of one datagram from a connected datagram socket (UDP).
    pub(crate) fn datagram(fd: &SharedFd, buf: B) -> Recv<B> {
        Recv {
            datagram: true,
            ..Recv::new(fd, buf)
        }
    }
}

#[cfg(feature = "io-uring")]
impl<B: IoBufMut> Recv<B> {
    /// When older bytes (of a cancelled read) were stashed while this read was in flight, they
    /// come first: this read's bytes (or datagram) go behind them, and the buffer is refilled
    /// from the front. (An end of stream, `Ok(0)`, also waits behind them: the kernel reports it
    /// again.)
    fn behind_stashed(&mut self, result: io::Result<usize>) -> io::Result<usize> {
        match result {
            Ok(n) if self.submitted && self.fd.has_stashed() => {
                // SAFETY: the kernel initialised the first `n` bytes of the buffer.
                let fresh = unsafe { std::slice::from_raw_parts(self.buf.stable_ptr(), n) };
                if self.datagram {
                    self.fd.stash_datagram(fresh, None);
                } else {
                    self.fd.stash_bytes(fresh);
                }
                self.take_stashed().unwrap_or(Ok(0))
            }
            other => other,
        }
    }

    /// Moves stashed bytes (or the oldest stashed datagram) into the buffer, if there are any.
    fn take_stashed(&mut self) -> Option<io::Result<usize>> {
        let (ptr, len) = (self.buf.stable_mut_ptr(), self.buf.bytes_total());
        if self.datagram {
            // SAFETY: the buffer is valid for writes of `bytes_total` bytes (IoBufMut contract).
            unsafe { self.fd.take_datagram(ptr, len) }.map(|(n, _)| Ok(n))
        } else {
            // SAFETY: as above.
            unsafe { self.fd.take_bytes(ptr, len) }
        }
    }
}

impl<B: IoBufMut> Operation for Recv<B> {
    type Output = BufResult<usize, B>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Read)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        let (ptr, len) = (self.buf.stable_mut_ptr(), self.buf.bytes_total());
        // SAFETY: the buffer is valid for writes of `bytes_total` bytes (IoBufMut contract).
        let n = syscall!(read, unsafe {
            raw::recv(self.fd.raw(), ptr.cast(), len, 0)
        })?;
        Ok(n as usize)
    }

    /// A stream read that filled less than the buffer emptied the socket's receive queue. A
    /// datagram read proves nothing: the next datagram may be queued already.
    fn drained(&self, n: usize) -> bool {
        !self.datagram && n > 0 && n < self.buf.bytes_total()
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        self.submitted = true;
        let len = self.buf.bytes_total().min(u32::MAX as usize) as u32;
        opcode::Recv::new(types::Fd(self.fd.raw()), self.buf.stable_mut_ptr(), len).build()
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

    #[cfg(feature = "io-uring")]
    fn feed(&self) -> Option<(&SharedFd, crate::driver::op::FeedKind)> {
        // The multishot feed concatenates what it receives: streams only.
        (!self.datagram).then_some((&self.fd, crate::driver::op::FeedKind::Recv))
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        #[cfg(feature = "io-uring")]
        let result = self.behind_stashed(result);
        if let Ok(n) = result {
            // SAFETY: the first `n` bytes were initialised (by the kernel or from the stash).
            unsafe { self.buf.set_init(n) };
        }
        (result, self.buf)
    }

    /// The future was dropped but the kernel read `n` bytes: keep them for the next read (a
    /// datagram whole, even an empty one).
    #[cfg(feature = "io-uring")]
    fn orphaned(self, result: io::Result<usize>) {
        match result {
            Ok(n) if self.datagram => {
                // SAFETY: the kernel initialised the first `n` bytes of the buffer.
                let datagram = unsafe { std::slice::from_raw_parts(self.buf.stable_ptr(), n) };
                self.fd.stash_datagram(datagram, None);
            }
            Ok(n @ 1..) => {
                // SAFETY: as above.
                let bytes = unsafe { std::slice::from_raw_parts(self.buf.stable_ptr(), n) };
                self.fd.stash_bytes(bytes);
            }
            _ => {}
        }
        self.fd.orphan_done();
    }
}
