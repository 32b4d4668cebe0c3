//! Poll-based IO on streams: `poll_read`, `poll_write`, `poll_write_vectored`, `poll_flush`,
//! `poll_shutdown` — the shape every `AsyncRead`/`AsyncWrite` trait of the ecosystem has (tokio,
//! futures, hyper; their implementations are in `interop/`, behind cargo features).
//!
//! The caller lends a slice for one poll only, so the kernel may never keep a pointer to it: each
//! stream keeps, per direction, one pending [`PollRecv`]/[`PollSend`] operation that waits for
//! readiness (under io_uring, through a `POLL_ADD` in the ring) and copies with a non-blocking
//! syscall during the poll that finds the socket ready (see `driver/ops/poll_io.rs`). The pending
//! operation lives in the stream, not in a future: a poll that is never repeated leaves nothing
//! behind, and dropping the stream cancels the wait. Poll reads and owned-buffer reads share the
//! socket's stash, so mixing them one after the other keeps every byte in order.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::{fmt, future::Future};

use crate::driver::ops::{PollRecv, PollSend};
use crate::driver::{Op, SharedFd};

/// One stream's pending poll operations, boxed on first use: a stream used only with owned
/// buffers pays one null pointer for them.
#[derive(Default)]
pub(crate) struct PollIo(Option<Box<Pending>>);

/// The pending operation of each direction.
#[derive(Default)]
struct Pending {
    read: Option<Op<PollRecv>>,
    write: Option<Op<PollSend>>,
}

impl PollIo {
    fn pending(&mut self) -> &mut Pending {
        self.0.get_or_insert_with(Box::default)
    }

    /// Reads into `len` bytes at `ptr` (which need not be initialised), or waits for data.
    ///
    /// # Safety
    /// `ptr` must be valid for writes of `len` bytes for the duration of the call.
    pub(crate) unsafe fn poll_read(
        &mut self,
        fd: &SharedFd,
        cx: &mut Context<'_>,
        ptr: *mut u8,
        len: usize,
    ) -> Poll<io::Result<usize>> {
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let pending = self.pending();
        loop {
            let op = pending
                .read
                .get_or_insert_with(|| Op::new(PollRecv::new(fd)));
            let recv = op
                .operation_mut()
                .expect("a pending op holds its operation");
            // SAFETY: the caller's promise, for this call, which is the op's next poll.
            unsafe { recv.target(ptr, len) };
            let result = std::task::ready!(Pin::new(op).poll(cx));
            pending.read = None;
            match result {
                // The ring said readable, but another reader was faster: wait again.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    /// Writes from `bufs` (at most 1024 of them at once), or waits for room.
    pub(crate) fn poll_write_vectored(
        &mut self,
        fd: &SharedFd,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        let pending = self.pending();
        loop {
            let op = pending
                .write
                .get_or_insert_with(|| Op::new(PollSend::new(fd)));
            let send = op
                .operation_mut()
                .expect("a pending op holds its operation");
            // SAFETY: on Unix `IoSlice` is ABI-compatible with `iovec` (std guarantees it), and
            // the slices are borrowed for this call, which is the op's next poll.
            unsafe { send.target(bufs.as_ptr().cast(), bufs.len()) };
            let result = std::task::ready!(Pin::new(op).poll(cx));
            pending.write = None;
            match result {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

impl fmt::Debug for PollIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.0.as_deref();
        f.debug_struct("PollIo")
            .field("read_pending", &pending.is_some_and(|p| p.read.is_some()))
            .field("write_pending", &pending.is_some_and(|p| p.write.is_some()))
            .finish()
    }
}

/// Adds the poll-based methods of one direction to a stream type with `fd: SharedFd` and
/// `poll: PollIo` fields: `poll_io!(read, [generics] Type)` or `poll_io!(write, [generics] Type)`.
macro_rules! poll_io {
    (read, [$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> $ty {
            /// Reads what is there into `buf` (`Ok(0)`: end of stream, or `buf` is empty), or
            /// arranges for the task to be woken when there is something.
            ///
            /// Poll-based reading, for code written against `AsyncRead`-style traits; the
            /// owned-buffer [`read`](Self::read) is the native way. The two may be mixed one after
            /// the other without losing or reordering bytes. Dropping the caller's future between
            /// polls loses nothing: the kernel never holds `buf`.
            pub fn poll_read(
                &mut self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let (ptr, len) = (buf.as_mut_ptr(), buf.len());
                // SAFETY: `buf` is writable for `len` bytes for this whole call.
                unsafe { self.poll.poll_read(&self.fd, cx, ptr, len) }
            }

            /// [`poll_read`](Self::poll_read) into memory that need not be initialised (for the
            /// interop traits' read buffers); returns how many bytes were written.
            #[allow(dead_code)] // used by the interop features
            pub(crate) fn poll_read_uninit(
                &mut self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [::std::mem::MaybeUninit<u8>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let (ptr, len) = (buf.as_mut_ptr().cast::<u8>(), buf.len());
                // SAFETY: `buf` is writable for `len` bytes for this whole call; the kernel only
                // writes into it.
                unsafe { self.poll.poll_read(&self.fd, cx, ptr, len) }
            }
        }
    };

    (write, [$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> $ty {
            /// Writes what fits of `buf` now, or arranges for the task to be woken when there is
            /// room. Poll-based writing, for code written against `AsyncWrite`-style traits.
            pub fn poll_write(
                &mut self,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.poll_write_vectored(cx, &[::std::io::IoSlice::new(buf)])
            }

            /// Writes what fits of `bufs`, in order, with one `sendmsg`.
            pub fn poll_write_vectored(
                &mut self,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.poll.poll_write_vectored(&self.fd, cx, bufs)
            }

            /// Always ready: writes are not buffered, each one reaches the socket before
            /// `poll_write` returns.
            pub fn poll_flush(
                &mut self,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts the write direction down (the peer reads end of stream).
            pub fn poll_shutdown(
                &mut self,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready($crate::net::socket::shutdown(
                    self.fd.raw(),
                    ::std::net::Shutdown::Write,
                ))
            }
        }
    };
}

pub(crate) use poll_io;
