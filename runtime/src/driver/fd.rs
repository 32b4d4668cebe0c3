//! [`SharedFd`]: a descriptor shared by a socket object and the operations in flight on it.
//!
//! Every op holds a clone, so the descriptor cannot be closed (and its number reused) while the
//! kernel may still act on it — under io_uring an op outlives its future until its completion
//! arrives. The last clone closes the descriptor; under epoll it first frees its registration.
//!
//! A socket belongs to the driver that first runs an operation on it ([`SharedFd::claim`]): its
//! epoll registration and its stash are that driver's state. Under any other runtime its
//! operations fail with an error, and closing it there posts the registration back to its owner
//! (see `driver/identity.rs`).
//!
//! Under io_uring the descriptor also keeps a [`Stash`]: what the kernel delivered for this
//! descriptor that no operation has taken yet — the bytes of a read whose future was dropped after
//! the kernel had already filled its buffer, the connection of a cancelled accept, or what a
//! multishot request keeps producing. The next operation on the descriptor takes from the stash
//! before it asks the kernel, so nothing the kernel did is lost by cancelling a future.

use std::cell::Cell;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;
#[cfg(feature = "io-uring")]
use std::task::{Context, Poll};
#[cfg(feature = "io-uring")]
use std::{
    cell::RefCell, collections::VecDeque, io, panic::AssertUnwindSafe, rc::Weak, task::Waker,
};

use super::identity::{self, DriverId};
#[cfg(feature = "io-uring")]
use super::sockaddr::SockAddr;
#[cfg(feature = "io-uring")]
use super::syscall::syscall;

#[derive(Clone, Debug)]
pub(crate) struct SharedFd(Rc<Inner>);

/// A reference that does not keep the descriptor open (held by a multishot request, so that the
/// request does not keep alive the socket it serves).
#[cfg(feature = "io-uring")]
#[derive(Clone, Debug)]
pub(crate) struct WeakFd(Weak<Inner>);

#[derive(Debug)]
struct Inner {
    fd: OwnedFd,
    /// The driver this socket belongs to: the first to run an operation on it.
    owner: Cell<Option<DriverId>>,
    /// The owner's readiness registration, made on first wait (never under io_uring).
    #[cfg_attr(not(feature = "epoll"), allow(dead_code))]
    token: Cell<Option<u64>>,
    /// Completion results nobody took yet (allocated on first use: most descriptors never need it).
    #[cfg(feature = "io-uring")]
    stash: RefCell<Option<Box<Stash>>>,
}

/// What the kernel delivered for a descriptor ahead of (or instead of) the operation that asked.
#[cfg(feature = "io-uring")]
#[derive(Debug, Default)]
pub(crate) struct Stash {
    /// Received bytes, oldest first (byte streams only).
    pub(crate) bytes: VecDeque<u8>,
    /// Received datagrams, oldest first, each whole, with its sender when it is known (datagram
    /// sockets only: a datagram is never merged with another, see `ops/recv.rs`).
    pub(crate) datagrams: VecDeque<(Box<[u8]>, Option<SockAddr>)>,
    /// Accepted connections, oldest first, with the peer address when it is known.
    pub(crate) accepted: VecDeque<(OwnedFd, Option<SockAddr>)>,
    /// What a multishot receive ended with, reported once `bytes` is empty: `Ok(0)` (end of
    /// stream, reported to every later read) or an error (reported once).
    pub(crate) end: Option<io::Result<usize>>,
    /// Cancelled operations still in the kernel whose results will come here: later operations
    /// wait for them rather than overtake them.
    pub(crate) orphans: u32,
    /// Tasks waiting for the stash to fill (operations served by a multishot request, or behind
    /// an orphan).
    pub(crate) waiters: Vec<Waker>,
    /// The multishot request armed on this descriptor, if any.
    pub(crate) feed: Option<FeedHandle>,
}

/// The multishot request serving a descriptor: its `user_data`, and the list on which the
/// descriptor leaves that key when it closes out of its driver's reach, so that the driver cancels
/// the request as soon as it runs (the kernel holds its own reference to the socket, which would
/// otherwise stay open).
#[cfg(feature = "io-uring")]
#[derive(Debug)]
pub(crate) struct FeedHandle {
    pub(crate) key: u64,
    pub(crate) closed: Rc<RefCell<Vec<u64>>>,
}

#[cfg(feature = "io-uring")]
impl FeedHandle {
    /// The descriptor `fd`, which belongs to driver `owner`, is about to be closed: its request
    /// must stop now, or the kernel would keep the socket open (a listener listening, a stream's
    /// peer waiting for the end). Cancelled at once when that driver is at hand; otherwise the
    /// socket is shut down — which stops it at once too, though it also affects any duplicate of
    /// the descriptor — and the key left for the driver.
    fn close(self, fd: RawFd, owner: Option<DriverId>) {
        if owner.is_some_and(|owner| super::completion::cancel_feed_now(owner, self.key)) {
            return;
        }
        // SAFETY: shutdown takes no pointers; `fd` is still open (its owner closes it after us).
        // An error (the peer already gone) leaves nothing to stop.
        let _ = syscall!(other_syscalls, unsafe {
            libc::shutdown(fd, libc::SHUT_RDWR)
        });
        self.closed.borrow_mut().push(self.key);
    }
}

/// Wakes every waker in `waiters`, even when one of them panics (a waker is the application's
/// code): the others are still woken, then the first panic goes on.
#[cfg(feature = "io-uring")]
pub(crate) fn wake_all(waiters: Vec<Waker>) {
    let mut panicked = None;
    for waker in waiters {
        // Unwind safety: the waker is consumed by the call; nothing else is borrowed.
        if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| waker.wake())) {
            panicked.get_or_insert(panic);
        }
    }
    if let Some(panic) = panicked {
        std::panic::resume_unwind(panic);
    }
}

impl SharedFd {
    pub(crate) fn new(fd: OwnedFd) -> SharedFd {
        SharedFd(Rc::new(Inner {
            fd,
            owner: Cell::new(None),
            token: Cell::new(None),
            #[cfg(feature = "io-uring")]
            stash: RefCell::new(None),
        }))
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.fd.as_raw_fd()
    }

    /// Makes driver `id` this socket's owner if it has none; fails if another driver owns it.
    pub(crate) fn claim(&self, id: DriverId) -> std::io::Result<()> {
        match self.0.owner.get() {
            Some(owner) if owner == id => Ok(()),
            None => {
                self.0.owner.set(Some(id));
                Ok(())
            }
            Some(owner) => Err(identity::foreign_fd_error(owner, id)),
        }
    }

    /// The socket is being handed to code outside the runtime, with its descriptor duplicated:
    /// the duplicate keeps the open file in the epoll set, so take it out now and forget the
    /// registration (with the owner entered; a socket moved elsewhere keeps it, and its events
    /// are ignored as stale). Nothing to do under io_uring.
    pub(crate) fn detach(&self) {
        #[cfg(feature = "epoll")]
        if let (Some(owner), Some(token)) = (self.0.owner.get(), self.0.token.get()) {
            let detached = crate::context::try_with_driver(|driver| {
                let home = driver.id() == owner;
                if home {
                    driver.detach(self.raw(), token);
                }
                home
            });
            if detached == Some(true) {
                self.0.token.set(None);
            }
        }
    }

    /// The owner's readiness registration; only the owner may ask (see [`claim`](Self::claim)).
    #[cfg(feature = "epoll")]
    pub(crate) fn token(&self) -> Option<u64> {
        self.0.token.get()
    }

    #[cfg(feature = "epoll")]
    pub(crate) fn set_token(&self, token: u64) {
        self.0.token.set(Some(token));
    }
}

/// The stash (completion backend only).
#[cfg(feature = "io-uring")]
impl SharedFd {
    pub(crate) fn downgrade(&self) -> WeakFd {
        WeakFd(Rc::downgrade(&self.0))
    }

    /// Runs `f` on the stash, creating it if needed. `f` must not call back into this descriptor's
    /// stash (it is borrowed meanwhile).
    pub(crate) fn with_stash<R>(&self, f: impl FnOnce(&mut Stash) -> R) -> R {
        let mut stash = self.0.stash.borrow_mut();
        f(stash.get_or_insert_with(Box::default))
    }

    /// Whether anything is stashed (bytes, connections or an end): one borrow, no allocation.
    pub(crate) fn has_stashed(&self) -> bool {
        match &*self.0.stash.borrow() {
            Some(s) => {
                !s.bytes.is_empty()
                    || !s.datagrams.is_empty()
                    || !s.accepted.is_empty()
                    || s.end.is_some()
            }
            None => false,
        }
    }

    /// Moves up to `len` stashed bytes to `dst`: `None` when nothing is stashed (ask the kernel),
    /// else the count — or the end a multishot receive reported, once the bytes are gone.
    ///
    /// # Safety
    /// `dst` must be valid for writes of `len` bytes.
    pub(crate) unsafe fn take_bytes(&self, dst: *mut u8, len: usize) -> Option<io::Result<usize>> {
        let mut guard = self.0.stash.borrow_mut();
        let stash = guard.as_mut()?;
        if stash.bytes.is_empty() {
            return match stash.end.take()? {
                // End of stream stays: every later read sees it too.
                Ok(0) => {
                    stash.end = Some(Ok(0));
                    Some(Ok(0))
                }
                other => Some(other),
            };
        }
        let n = len.min(stash.bytes.len());
        let (front, back) = stash.bytes.as_slices();
        let from_front = n.min(front.len());
        // SAFETY: the caller promises `dst` is writable for `len >= n` bytes; the sources are
        // live slices of the stash, which cannot overlap a caller's buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(front.as_ptr(), dst, from_front);
            std::ptr::copy_nonoverlapping(back.as_ptr(), dst.add(from_front), n - from_front);
        }
        stash.bytes.drain(..n);
        Some(Ok(n))
    }

    /// Moves the oldest stashed datagram to `dst`, cut to `len` bytes as the kernel would cut it:
    /// `None` when no datagram is stashed, else the count and the sender (when known).
    ///
    /// # Safety
    /// `dst` must be valid for writes of `len` bytes.
    pub(crate) unsafe fn take_datagram(
        &self,
        dst: *mut u8,
        len: usize,
    ) -> Option<(usize, Option<SockAddr>)> {
        let (datagram, from) = self.0.stash.borrow_mut().as_mut()?.datagrams.pop_front()?;
        let n = len.min(datagram.len());
        // SAFETY: the caller promises `dst` is writable for `len >= n` bytes; the source is a
        // datagram the stash owned, which cannot overlap a caller's buffer.
        unsafe { std::ptr::copy_nonoverlapping(datagram.as_ptr(), dst, n) };
        Some((n, from))
    }

    /// Appends one received datagram, kept whole, and wakes whoever waits for the stash.
    pub(crate) fn stash_datagram(&self, datagram: &[u8], from: Option<SockAddr>) {
        let waiters = self.with_stash(|s| {
            s.datagrams.push_back((datagram.into(), from));
            std::mem::take(&mut s.waiters)
        });
        wake_all(waiters);
    }

    /// The completion face of every read and accept before it is submitted (its `take_ready`),
    /// given what the stash held for it: that result if there was one; else, when a cancelled
    /// operation still in the kernel has a result that comes first, `Pending` (woken when it
    /// arrives); else `Ready(None)`: ask the kernel.
    pub(crate) fn stashed_first<T>(&self, stashed: Option<T>, cx: &Context<'_>) -> Poll<Option<T>> {
        match stashed {
            Some(result) => Poll::Ready(Some(result)),
            None if self.wait_for_orphans(cx.waker()) => Poll::Pending,
            None => Poll::Ready(None),
        }
    }

    /// Notes a cancelled operation whose result will come to the stash.
    pub(crate) fn add_orphan(&self) {
        self.with_stash(|s| s.orphans += 1);
    }

    /// An orphan's result arrived (and was stashed, if it carried anything): wake the waiters.
    pub(crate) fn orphan_done(&self) {
        let waiters = self.with_stash(|s| {
            s.orphans = s.orphans.saturating_sub(1);
            std::mem::take(&mut s.waiters)
        });
        wake_all(waiters);
    }

    /// Whether an orphan is still in the kernel; if so, `waker` is woken when its result arrives.
    pub(crate) fn wait_for_orphans(&self, waker: &Waker) -> bool {
        let mut guard = self.0.stash.borrow_mut();
        let Some(stash) = guard.as_mut() else {
            return false;
        };
        if stash.orphans == 0 {
            return false;
        }
        if !stash.waiters.iter().any(|w| w.will_wake(waker)) {
            stash.waiters.push(waker.clone());
        }
        true
    }

    /// Appends received bytes to the stash and wakes whoever waits for it.
    pub(crate) fn stash_bytes(&self, bytes: &[u8]) {
        let waiters = self.with_stash(|s| {
            s.bytes.extend(bytes);
            std::mem::take(&mut s.waiters)
        });
        wake_all(waiters);
    }

    /// Queues an accepted connection and wakes whoever waits for one.
    pub(crate) fn stash_accepted(&self, fd: OwnedFd, addr: Option<SockAddr>) {
        let waiters = self.with_stash(|s| {
            s.accepted.push_back((fd, addr));
            std::mem::take(&mut s.waiters)
        });
        wake_all(waiters);
    }
}

#[cfg(feature = "io-uring")]
impl WeakFd {
    pub(crate) fn upgrade(&self) -> Option<SharedFd> {
        self.0.upgrade().map(SharedFd)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        #[cfg(feature = "epoll")]
        if let (Some(owner), Some(token)) = (self.owner.get(), self.token.get()) {
            deregister(owner, token);
        }
        #[cfg(feature = "io-uring")]
        if let Some(feed) = self.stash.get_mut().as_mut().and_then(|s| s.feed.take()) {
            feed.close(self.fd.as_raw_fd(), self.owner.get());
        }
        // `fd` closes itself; accepted connections nobody took close with the stash.
    }
}

/// Frees the registration `token` of a socket being closed, in its owner's driver: at once when
/// that driver is the one entered, else through its mailbox. With no owner alive on this thread
/// there is nothing to free (a driver drops its registrations with itself); closing the descriptor
/// removes it from the epoll set either way.
#[cfg(feature = "epoll")]
fn deregister(owner: DriverId, token: u64) {
    let done = crate::context::try_with_driver(|driver| {
        let home = driver.id() == owner;
        if home {
            driver.deregister(token);
        }
        home
    });
    if done != Some(true) {
        if let Some(mailbox) = crate::context::mailbox(owner) {
            mailbox.closed_tokens.borrow_mut().push(token);
        }
    }
}
