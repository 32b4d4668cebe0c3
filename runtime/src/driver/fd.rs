//! [`SharedFd`]: a descriptor shared by a socket object and the operations in flight on it.
//!
//! Every op holds a clone, so the descriptor cannot be closed (and its number reused) while the
//! kernel may still act on it — under io_uring an op outlives its future until its completion
//! arrives. The last clone closes the descriptor; under epoll it first frees its registration.

use std::cell::Cell;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;

#[derive(Clone, Debug)]
pub(crate) struct SharedFd(Rc<Inner>);

#[derive(Debug)]
struct Inner {
    fd: OwnedFd,
    /// The readiness driver's registration, made on first use (never under io_uring).
    token: Cell<Option<u64>>,
}

impl SharedFd {
    pub(crate) fn new(fd: OwnedFd) -> SharedFd {
        SharedFd(Rc::new(Inner {
            fd,
            token: Cell::new(None),
        }))
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.fd.as_raw_fd()
    }

    pub(crate) fn token(&self) -> Option<u64> {
        self.0.token.get()
    }

    pub(crate) fn set_token(&self, token: u64) {
        self.0.token.set(Some(token));
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(token) = self.token.get() {
            // Outside the runtime (or while it is busy) there is nothing to free: the driver drops
            // its registrations with itself, and closing the fd removes it from the epoll set.
            let _ = crate::context::try_with_driver(|driver| driver.deregister(token));
        }
        // `fd` closes itself.
    }
}
