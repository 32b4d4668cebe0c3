//! [`SharedFd`]: a descriptor shared by a socket object and the operations in flight on it.
//!
//! Every op holds a clone, so the descriptor cannot be closed (and its number reused) while the
//! kernel may still act on it — under io_uring an op outlives its future until its completion
//! arrives. The last clone closes the descriptor; under epoll it first frees its registration.
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
use std::{cell::RefCell, collections::VecDeque, io, rc::Weak, task::Waker};

#[cfg(feature = "io-uring")]
use super::sockaddr::SockAddr;

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
    /// The readiness driver's registration, made on first use (never under io_uring).
    token: Cell<Option<u64>>,
    /// Completion results nobody took yet (allocated on first use: most descriptors never need it).
    #[cfg(feature = "io-uring")]
    stash: RefCell<Option<Box<Stash>>>,
}

/// What the kernel delivered for a descriptor ahead of (or instead of) the operation that asked.
#[cfg(feature = "io-uring")]
#[derive(Debug, Default)]
pub(crate) struct Stash {
    /// Received bytes, oldest first.
    pub(crate) bytes: VecDeque<u8>,
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
/// descriptor leaves that key when it closes, so that the driver cancels the request (the kernel
/// holds its own reference to the socket, which would otherwise stay open).
#[cfg(feature = "io-uring")]
#[derive(Debug)]
pub(crate) struct FeedHandle {
    pub(crate) key: u64,
    pub(crate) closed: Rc<RefCell<Vec<u64>>>,
}

impl SharedFd {
    pub(crate) fn new(fd: OwnedFd) -> SharedFd {
        SharedFd(Rc::new(Inner {
            fd,
            token: Cell::new(None),
            #[cfg(feature = "io-uring")]
            stash: RefCell::new(None),
        }))
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.fd.as_raw_fd()
    }

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
            Some(s) => !s.bytes.is_empty() || !s.accepted.is_empty() || s.end.is_some(),
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
        waiters.into_iter().for_each(Waker::wake);
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
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Queues an accepted connection and wakes whoever waits for one.
    pub(crate) fn stash_accepted(&self, fd: OwnedFd, addr: Option<SockAddr>) {
        let waiters = self.with_stash(|s| {
            s.accepted.push_back((fd, addr));
            std::mem::take(&mut s.waiters)
        });
        waiters.into_iter().for_each(Waker::wake);
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
        if let Some(token) = self.token.get() {
            // Outside the runtime (or while it is busy) there is nothing to free: the driver drops
            // its registrations with itself, and closing the fd removes it from the epoll set.
            let _ = crate::context::try_with_driver(|driver| driver.deregister(token));
        }
        #[cfg(feature = "io-uring")]
        if let Some(feed) = self.stash.get_mut().as_mut().and_then(|s| s.feed.take()) {
            // The driver may be busy (this drop can happen inside it), so leave the key on its
            // list rather than calling it: it cancels the request at its next turn.
            feed.closed.borrow_mut().push(feed.key);
        }
        // `fd` closes itself; accepted connections nobody took close with the stash.
    }
}
