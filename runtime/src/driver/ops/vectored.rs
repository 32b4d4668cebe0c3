//! Vectored reads and writes on a connected byte stream: one read scattered over several owned
//! buffers ([`ReadV`]), one write gathered from several ([`WriteV`]).
//!
//! The buffers come as a `Vec<B>` and go back the same way. The kernel is handed an array of
//! `iovec`s, one per non-empty buffer, and a `msghdr` pointing at that array: both live on the
//! heap, owned by the op ([`IoVecs`]), so the SQE points only at memory the op owns (the
//! invariant of `driver/op.rs`) and stays valid when the op moves into the driver.
//!
//! **Both faces use `recvmsg`/`sendmsg`**, the socket calls that take an iovec array, rather than
//! `readv`/`writev`: `sendmsg` accepts `MSG_NOSIGNAL`, so a write to a reset connection fails with
//! `EPIPE` as [`Send`](super::Send) does, instead of raising `SIGPIPE`; and under io_uring the
//! `RECVMSG`/`SENDMSG` opcodes take the same path as `RECV`/`SEND` on a non-blocking socket
//! (wait for readiness inside the kernel), where a `READV` of an `O_NONBLOCK` descriptor may
//! complete with `EAGAIN` on some kernels.
//!
//! **A read fills the buffers in order**, each from its start up to its `bytes_total()`, and sets
//! every buffer's initialised length to what it received (a `Vec`'s length: 0 for the buffers
//! after the last byte). At most [`MAX_IOVECS`] non-empty buffers take part in one call, the
//! kernel's limit; a write past them is a short write, and a read leaves them empty.
//!
//! **Cancellation (io_uring)** is that of [`Recv`](super::Recv): a read whose future is dropped
//! after the kernel filled its buffers hands the bytes to the descriptor's stash, in order, as a
//! byte stream; every read takes from the stash first (scattering the stashed bytes over its
//! buffers) and waits for a cancelled read still in the kernel; a read that completes while older
//! bytes were stashed puts its own behind them. With multishot receive on, the read is served
//! from the stash the multishot request fills. A dropped write may have been partly sent, as a
//! dropped [`Send`](super::Send) may.

use std::io;
#[cfg(feature = "io-uring")]
use std::task::Poll;

use crate::buf::{BufResult, IoBuf, IoBufMut};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::{raw, syscall};
use crate::driver::SharedFd;

/// The most iovecs one `recvmsg`/`sendmsg` takes (`UIO_MAXIOV`).
pub(crate) const MAX_IOVECS: usize = libc::UIO_MAXIOV as usize;

/// An iovec array and the message header that points at it, both on the heap.
struct IoVecs {
    /// Points at `iovecs` (whose heap storage does not move when the box does).
    hdr: Box<libc::msghdr>,
    /// What `hdr` points at: owned here so that it lives as long as the op (under epoll only
    /// the kernel reads it, through `hdr`).
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    iovecs: Box<[libc::iovec]>,
    /// The sum of the iovecs' lengths.
    total: usize,
}

impl IoVecs {
    /// One iovec per non-empty `(pointer, length)` piece, in order, at most [`MAX_IOVECS`].
    fn new(pieces: impl Iterator<Item = (*mut u8, usize)>) -> IoVecs {
        let iovecs: Box<[libc::iovec]> = pieces
            .filter(|&(_, len)| len > 0)
            .take(MAX_IOVECS)
            .map(|(ptr, len)| libc::iovec {
                iov_base: ptr.cast(),
                iov_len: len,
            })
            .collect();
        // SAFETY: msghdr is plain data; zero is a valid empty header (no address, no control).
        let mut hdr: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
        hdr.msg_iov = iovecs.as_ptr().cast_mut();
        hdr.msg_iovlen = iovecs.len() as _;
        IoVecs {
            hdr,
            total: iovecs.iter().map(|iov| iov.iov_len).sum(),
            iovecs,
        }
    }

    /// The first `n` bytes the iovecs cover, piece by piece.
    ///
    /// # Safety
    /// Those bytes must be initialised (written by the kernel or copied from the stash).
    #[cfg(feature = "io-uring")]
    unsafe fn filled(&self, n: usize) -> impl Iterator<Item = &[u8]> {
        let mut left = n;
        self.iovecs.iter().map_while(move |iov| {
            let len = left.min(iov.iov_len);
            left -= len;
            // SAFETY: the caller promises the first `n` bytes are initialised; each iovec covers
            // live bytes of a buffer the op owns (IoBuf contract).
            (len > 0).then(|| unsafe { std::slice::from_raw_parts(iov.iov_base.cast(), len) })
        })
    }
}

/// A read scattered over `bufs`.
pub(crate) struct ReadV<B> {
    fd: SharedFd,
    bufs: Vec<B>,
    msg: IoVecs,
    /// The kernel was asked to fill the buffers (as opposed to the stash or the readiness path).
    #[cfg(feature = "io-uring")]
    submitted: bool,
}

impl<B: IoBufMut> ReadV<B> {
    pub(crate) fn new(fd: &SharedFd, mut bufs: Vec<B>) -> ReadV<B> {
        let msg = IoVecs::new(
            bufs.iter_mut()
                .map(|buf| (buf.stable_mut_ptr(), buf.bytes_total())),
        );
        ReadV {
            fd: fd.clone(),
            bufs,
            msg,
            #[cfg(feature = "io-uring")]
            submitted: false,
        }
    }
}

#[cfg(feature = "io-uring")]
impl<B: IoBufMut> ReadV<B> {
    /// Older stashed bytes come first (as in [`Recv`](super::Recv)): this read's bytes go behind
    /// them, and the buffers are refilled from the stash.
    fn behind_stashed(&mut self, result: io::Result<usize>) -> io::Result<usize> {
        match result {
            Ok(n) if self.submitted && self.fd.has_stashed() => {
                // SAFETY: the kernel initialised the first `n` bytes the iovecs cover.
                for fresh in unsafe { self.msg.filled(n) } {
                    self.fd.stash_bytes(fresh);
                }
                self.take_stashed().unwrap_or(Ok(0))
            }
            other => other,
        }
    }

    /// Scatters stashed bytes over the iovecs in order, if any are stashed: `None` when nothing
    /// is (ask the kernel), else the count, or the end a multishot receive reported.
    fn take_stashed(&mut self) -> Option<io::Result<usize>> {
        let mut iovecs = self.msg.iovecs.iter();
        let first = iovecs.next()?;
        // SAFETY: each iovec covers `iov_len` writable bytes of a buffer the op owns (IoBufMut
        // contract).
        let mut taken = match unsafe { self.fd.take_bytes(first.iov_base.cast(), first.iov_len) }? {
            Ok(n) if n == first.iov_len => n,
            // Fewer bytes than the first buffer holds (the stash is empty now), or an end.
            other => return Some(other),
        };
        for iov in iovecs {
            // Only bytes continue a read: an end (or error) is left for the next read.
            if !self.fd.with_stash(|stash| !stash.bytes.is_empty()) {
                break;
            }
            // SAFETY: as above.
            let Some(Ok(n)) = (unsafe { self.fd.take_bytes(iov.iov_base.cast(), iov.iov_len) })
            else {
                break;
            };
            taken += n;
            if n < iov.iov_len {
                break;
            }
        }
        Some(Ok(taken))
    }
}

impl<B: IoBufMut> Operation for ReadV<B> {
    type Output = BufResult<usize, Vec<B>>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Read)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        // SAFETY: the header points at iovecs covering writable bytes of buffers the op owns.
        let n = syscall!(read, unsafe {
            libc::recvmsg(self.fd.raw(), &mut *self.msg.hdr, 0)
        })?;
        Ok(n as usize)
    }

    /// A read that filled less than the buffers hold emptied the socket's receive queue.
    fn drained(&self, n: usize) -> bool {
        n > 0 && n < self.msg.total
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        self.submitted = true;
        opcode::RecvMsg::new(types::Fd(self.fd.raw()), &mut *self.msg.hdr).build()
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
        Some((&self.fd, crate::driver::op::FeedKind::Recv))
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        #[cfg(feature = "io-uring")]
        let result = self.behind_stashed(result);
        if let Ok(n) = result {
            let mut left = n;
            for buf in &mut self.bufs {
                let got = left.min(buf.bytes_total());
                // SAFETY: the iovecs cover each non-empty buffer from its start, in order, and
                // were filled in order: this buffer's first `got` bytes are initialised.
                unsafe { buf.set_init(got) };
                left -= got;
            }
        }
        (result, self.bufs)
    }

    /// The future was dropped but the kernel read `n` bytes: keep them, in order, for the next
    /// read.
    #[cfg(feature = "io-uring")]
    fn orphaned(self, result: io::Result<usize>) {
        if let Ok(n) = result {
            // SAFETY: the kernel initialised the first `n` bytes the iovecs cover.
            for bytes in unsafe { self.msg.filled(n) } {
                self.fd.stash_bytes(bytes);
            }
        }
        self.fd.orphan_done();
    }
}

/// A write gathered from `bufs`' initialised bytes, after the first `skip` of them.
pub(crate) struct WriteV<B> {
    fd: SharedFd,
    bufs: Vec<B>,
    msg: IoVecs,
}

impl<B: IoBuf> WriteV<B> {
    /// Writes the initialised bytes of `bufs`, in order, skipping the first `skip` (already
    /// written by an earlier call of a write-all loop).
    pub(crate) fn new(fd: &SharedFd, bufs: Vec<B>, skip: usize) -> WriteV<B> {
        let mut skip = skip;
        let msg = IoVecs::new(bufs.iter().map(|buf| {
            let len = buf.bytes_init();
            let from = skip.min(len);
            skip -= from;
            // SAFETY: `from <= bytes_init`, so the pointer stays within the buffer (or one past).
            let ptr = unsafe { buf.stable_ptr().add(from) };
            (ptr.cast_mut(), len - from)
        }));
        WriteV {
            fd: fd.clone(),
            bufs,
            msg,
        }
    }
}

impl<B: IoBuf> Operation for WriteV<B> {
    type Output = BufResult<usize, Vec<B>>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Write)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        // SAFETY: the header points at iovecs covering initialised bytes of buffers the op owns
        // (the kernel only reads them).
        let n = syscall!(write, unsafe {
            raw::sendmsg(self.fd.raw(), &*self.msg.hdr, libc::MSG_NOSIGNAL)
        })?;
        Ok(n as usize)
    }

    /// A write that took less than offered filled the socket's send buffer.
    fn drained(&self, n: usize) -> bool {
        n < self.msg.total
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        opcode::SendMsg::new(types::Fd(self.fd.raw()), &*self.msg.hdr)
            .flags(libc::MSG_NOSIGNAL as u32)
            .build()
    }

    fn complete(self, result: io::Result<usize>) -> Self::Output {
        (result, self.bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iovecs_skip_empty_pieces_and_keep_the_order() {
        let mut a = [0u8; 3];
        let mut b = [0u8; 5];
        let msg = IoVecs::new(
            [
                (a.as_mut_ptr(), 3),
                (std::ptr::null_mut(), 0),
                (b.as_mut_ptr(), 5),
            ]
            .into_iter(),
        );
        assert_eq!(msg.iovecs.len(), 2);
        assert_eq!(msg.total, 8);
        assert_eq!(msg.hdr.msg_iovlen, 2);
        assert_eq!(msg.hdr.msg_iov.cast_const(), msg.iovecs.as_ptr());
        assert_eq!(msg.iovecs[1].iov_base, b.as_mut_ptr().cast());
    }

    #[test]
    fn iovecs_stop_at_the_kernel_limit() {
        let mut byte = [0u8; 1];
        let ptr = byte.as_mut_ptr();
        let msg = IoVecs::new((0..MAX_IOVECS + 10).map(|_| (ptr, 1)));
        assert_eq!(msg.iovecs.len(), MAX_IOVECS);
        assert_eq!(msg.total, MAX_IOVECS);
    }

    #[test]
    fn a_write_skips_what_was_written() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = SharedFd::new(a.into());
        let bufs = vec![b"abc".to_vec(), Vec::new(), b"defg".to_vec()];
        let op = WriteV::new(&fd, bufs, 4);
        assert_eq!(op.msg.iovecs.len(), 1);
        assert_eq!(op.msg.total, 3);
        // SAFETY: the iovec covers the last 3 initialised bytes of "defg".
        let rest = unsafe { std::slice::from_raw_parts(op.msg.iovecs[0].iov_base.cast::<u8>(), 3) };
        assert_eq!(rest, b"efg");
    }
}
