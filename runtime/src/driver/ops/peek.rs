//! `peek`: read from a connected socket without taking the bytes (`recv` with `MSG_PEEK`): the
//! next read returns them again.
//!
//! Readiness face: wait until readable, then `recv(MSG_PEEK)`. A peek consumes nothing, so it
//! never proves the socket drained ([`drained`](Operation::drained) stays `false`): the next read
//! tries at once.
//!
//! Completion face: a `Recv` SQE with `MSG_PEEK`. Under io_uring the stream may already have bytes
//! the runtime took from the kernel (the descriptor's stash: a cancelled read's bytes, or what
//! multishot receive read ahead). Those come first in the stream, so a peek looks there first and
//! copies them *without draining* the stash; with multishot receive on, it waits for the stash to
//! fill as reads do. A cancelled peek took nothing, so it leaves nothing to stash.

use std::io;
#[cfg(feature = "io-uring")]
use std::task::{Context, Poll};

use crate::buf::{BufResult, IoBufMut};
use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::{raw, syscall};
use crate::driver::SharedFd;

pub(crate) struct Peek<B> {
    fd: SharedFd,
    buf: B,
    /// The kernel was asked to fill `buf` (as opposed to the stash or the readiness path).
    #[cfg(feature = "io-uring")]
    submitted: bool,
}

impl<B: IoBufMut> Peek<B> {
    pub(crate) fn new(fd: &SharedFd, buf: B) -> Peek<B> {
        Peek {
            fd: fd.clone(),
            buf,
            #[cfg(feature = "io-uring")]
            submitted: false,
        }
    }
}

#[cfg(feature = "io-uring")]
impl<B: IoBufMut> Peek<B> {
    /// Copies the start of the stash into the buffer, leaving the stash as it was: `None` when the
    /// stash holds nothing (ask the kernel). With no bytes but an end recorded, that end: `Ok(0)`,
    /// or a copy of the error (which the next read still reports).
    fn copy_stashed(&mut self) -> Option<io::Result<usize>> {
        if !self.fd.has_stashed() {
            return None;
        }
        let (dst, len) = (self.buf.stable_mut_ptr(), self.buf.bytes_total());
        self.fd.with_stash(|stash| {
            if stash.bytes.is_empty() {
                return match stash.end.as_ref()? {
                    Ok(n) => Some(Ok(*n)),
                    Err(e) => Some(Err(match e.raw_os_error() {
                        Some(code) => io::Error::from_raw_os_error(code),
                        None => io::Error::new(e.kind(), e.to_string()),
                    })),
                };
            }
            let (front, back) = stash.bytes.as_slices();
            let n = len.min(front.len() + back.len());
            let from_front = n.min(front.len());
            // SAFETY: the buffer is valid for writes of `bytes_total >= n` bytes (IoBufMut
            // contract); the sources are live slices of the stash, which cannot overlap it.
            unsafe {
                std::ptr::copy_nonoverlapping(front.as_ptr(), dst, from_front);
                std::ptr::copy_nonoverlapping(back.as_ptr(), dst.add(from_front), n - from_front);
            }
            Some(Ok(n))
        })
    }
}

impl<B: IoBufMut> Operation for Peek<B> {
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
            raw::recv(self.fd.raw(), ptr.cast(), len, libc::MSG_PEEK)
        })?;
        Ok(n as usize)
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        use io_uring::{opcode, types};
        self.submitted = true;
        let len = self.buf.bytes_total().min(u32::MAX as usize) as u32;
        opcode::Recv::new(types::Fd(self.fd.raw()), self.buf.stable_mut_ptr(), len)
            .flags(libc::MSG_PEEK)
            .build()
    }

    #[cfg(feature = "io-uring")]
    fn take_ready(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<usize>>> {
        // A cancelled read still in the kernel may take the bytes this peek would see.
        let stashed = self.copy_stashed();
        self.fd.stashed_first(stashed, cx)
    }

    #[cfg(feature = "io-uring")]
    fn feed(&self) -> Option<(&SharedFd, crate::driver::op::FeedKind)> {
        Some((&self.fd, crate::driver::op::FeedKind::Recv))
    }

    fn complete(mut self, result: io::Result<usize>) -> Self::Output {
        // Bytes stashed while this peek was in the kernel (a read cancelled meanwhile) come before
        // the ones it saw in the socket: show those instead.
        #[cfg(feature = "io-uring")]
        let result = match result {
            Ok(_) if self.submitted => self.copy_stashed().unwrap_or(result),
            other => other,
        };
        if let Ok(n) = result {
            // SAFETY: the first `n` bytes were initialised (by the kernel or from the stash).
            unsafe { self.buf.set_init(n) };
        }
        (result, self.buf)
    }
}
