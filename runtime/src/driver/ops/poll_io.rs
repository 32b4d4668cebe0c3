//! `PollRecv` and `PollSend`: the operations behind poll-based IO (`poll_read`, `poll_write`), which
//! read into and write from *borrowed* memory — the caller's slice, valid only during one poll.
//!
//! Owned-buffer ops hand their buffer to the kernel; these cannot, since the slice is gone when the
//! poll returns. So on both backends the kernel is only asked to *wait*, and the copy is a
//! non-blocking syscall made while the caller's poll is running:
//! - **readiness face** (epoll): wait for the direction, then `recv`/`send` — exactly the
//!   owned-buffer path;
//! - **completion face** (io_uring): a one-shot `POLL_ADD` in the ring — readiness *through the
//!   ring*, batched with every other SQE — and, once it reports the socket ready, `recv`/`send`
//!   in [`complete`](Operation::complete). Before that, a read takes what the socket's stash holds
//!   (bytes of a cancelled owned read, or of the multishot receive feed, which then serves these
//!   reads too with no syscall at all) and waits for cancelled reads still in the kernel, so poll
//!   reads and owned reads on one stream never reorder bytes; a write first tries `send` at once,
//!   since a socket is nearly always writable.
//!
//! Nothing the kernel holds points at the caller's memory, so a dropped or abandoned poll loses
//! nothing and frees nothing early: a cancelled `POLL_ADD` consumed no byte.
//!
//! # Invariant
//! `target` is set by the caller right before every poll of the op ([`PollRecv::target`],
//! [`PollSend::target`]) and read only during that poll: by `attempt`, which the readiness driver
//! calls inside the poll, and by `complete`/`take_ready`, which `Op::poll` and the completion
//! driver call inside the poll. No SQE and no orphan ever uses it.

use std::io;
#[cfg(feature = "io-uring")]
use std::task::{Context, Poll};

use crate::driver::op::{Direction, Operation};
use crate::driver::syscall::{raw, syscall};
use crate::driver::SharedFd;

/// At most this many slices per `sendmsg` (Linux's `IOV_MAX`).
const IOV_MAX: usize = 1024;

/// Reads into the caller's slice once the socket is readable.
pub(crate) struct PollRecv {
    fd: SharedFd,
    /// Where to read to, and how much (see the module invariant).
    ptr: *mut u8,
    len: usize,
    /// The ring reported readiness: the read is still to be made.
    #[cfg(feature = "io-uring")]
    polled: bool,
}

/// Writes the caller's slices once the socket is writable.
pub(crate) struct PollSend {
    fd: SharedFd,
    /// What to write: an array of `iovec`s (see the module invariant).
    iov: *const libc::iovec,
    iov_count: usize,
    #[cfg(feature = "io-uring")]
    polled: bool,
}

impl PollRecv {
    pub(crate) fn new(fd: &SharedFd) -> PollRecv {
        PollRecv {
            fd: fd.clone(),
            ptr: std::ptr::null_mut(),
            len: 0,
            #[cfg(feature = "io-uring")]
            polled: false,
        }
    }

    /// Aims the next poll at `len` bytes at `ptr`.
    ///
    /// # Safety
    /// `ptr` must be valid for writes of `len` bytes until the next poll of this op returns.
    pub(crate) unsafe fn target(&mut self, ptr: *mut u8, len: usize) {
        self.ptr = ptr;
        self.len = len;
    }
}

impl PollSend {
    pub(crate) fn new(fd: &SharedFd) -> PollSend {
        PollSend {
            fd: fd.clone(),
            iov: std::ptr::null(),
            iov_count: 0,
            #[cfg(feature = "io-uring")]
            polled: false,
        }
    }

    /// Aims the next poll at the `count` slices described by the `iovec`s at `iov`.
    ///
    /// # Safety
    /// `iov` must point to `count` `iovec`s, each describing readable memory, all valid until the
    /// next poll of this op returns.
    pub(crate) unsafe fn target(&mut self, iov: *const libc::iovec, count: usize) {
        self.iov = iov;
        self.iov_count = count.min(IOV_MAX);
    }
}

impl Operation for PollRecv {
    type Output = io::Result<usize>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Read)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        // SAFETY: the target is writable for `len` bytes during this poll (module invariant).
        let n = syscall!(read, unsafe {
            raw::recv(self.fd.raw(), self.ptr.cast(), self.len, 0)
        })?;
        Ok(n as usize)
    }

    /// A read that filled less than asked emptied the receive queue.
    fn drained(&self, n: usize) -> bool {
        n > 0 && n < self.len
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        self.polled = true;
        poll_add(&self.fd, libc::POLLIN)
    }

    #[cfg(feature = "io-uring")]
    fn take_ready(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<usize>>> {
        // SAFETY: the target is writable for `len` bytes during this poll (module invariant).
        let stashed = unsafe { self.fd.take_bytes(self.ptr, self.len) };
        self.fd.stashed_first(stashed, cx)
    }

    #[cfg(feature = "io-uring")]
    fn feed(&self) -> Option<(&SharedFd, crate::driver::op::FeedKind)> {
        Some((&self.fd, crate::driver::op::FeedKind::Recv))
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<usize> {
        #[cfg(feature = "io-uring")]
        if self.polled && result.is_ok() {
            // The ring reported the socket readable (a poll mask): read now.
            let mut this = self;
            return this.attempt();
        }
        result
    }
}

impl Operation for PollSend {
    type Output = io::Result<usize>;

    fn socket(&self) -> Option<&SharedFd> {
        Some(&self.fd)
    }

    fn interest(&self) -> (&SharedFd, Direction) {
        (&self.fd, Direction::Write)
    }

    fn attempt(&mut self) -> io::Result<usize> {
        // SAFETY: a zeroed msghdr is a valid empty header; it then points at the caller's iovecs,
        // readable during this poll (module invariant). MSG_NOSIGNAL: a reset peer gives EPIPE,
        // not SIGPIPE.
        let n = syscall!(write, unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = self.iov.cast_mut();
            msg.msg_iovlen = self.iov_count;
            raw::sendmsg(self.fd.raw(), &msg, libc::MSG_NOSIGNAL)
        })?;
        Ok(n as usize)
    }

    /// A write that took less than offered filled the send buffer.
    fn drained(&self, n: usize) -> bool {
        // SAFETY: the iovecs are readable during this poll (module invariant).
        let offered: usize = unsafe { std::slice::from_raw_parts(self.iov, self.iov_count) }
            .iter()
            .map(|v| v.iov_len)
            .sum();
        n < offered
    }

    #[cfg(feature = "io-uring")]
    fn sqe(&mut self) -> io_uring::squeue::Entry {
        self.polled = true;
        poll_add(&self.fd, libc::POLLOUT)
    }

    /// A socket is nearly always writable: try at once, and wait in the ring only on `EAGAIN`.
    #[cfg(feature = "io-uring")]
    fn take_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Option<io::Result<usize>>> {
        match self.attempt() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Ready(None),
            result => Poll::Ready(Some(result)),
        }
    }

    fn complete(self, result: io::Result<usize>) -> io::Result<usize> {
        #[cfg(feature = "io-uring")]
        if self.polled && result.is_ok() {
            // The ring reported the socket writable: write now.
            let mut this = self;
            return this.attempt();
        }
        result
    }
}

/// A one-shot `POLL_ADD` for `events` on `fd`.
#[cfg(feature = "io-uring")]
fn poll_add(fd: &SharedFd, events: libc::c_short) -> io_uring::squeue::Entry {
    use io_uring::{opcode, types};
    opcode::PollAdd::new(types::Fd(fd.raw()), events as u32).build()
}
