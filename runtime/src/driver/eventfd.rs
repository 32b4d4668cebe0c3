//! An eventfd: how another thread interrupts a driver that is blocked in the kernel.
//!
//! Both backends wait on it: epoll has it registered like any socket; io_uring keeps a read of it
//! in flight. A write of `1` from any thread makes that wait return.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use super::syscall::syscall;

#[derive(Debug)]
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    pub(crate) fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd takes no pointers; flags are valid constants.
        let fd = syscall!(other_syscalls, unsafe {
            libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK)
        })?;
        // SAFETY: `fd` was just returned by eventfd and is owned by nobody else.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Adds one to the counter, waking whoever waits on it.
    pub(crate) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64. EAGAIN (counter saturated) means a wake-up is
        // already pending, so the result can be ignored.
        let _ = syscall!(eventfd, unsafe {
            libc::write(self.raw(), &one as *const u64 as *const _, 8)
        });
    }

    /// Resets the counter to zero (after a wake-up was seen).
    #[cfg_attr(not(feature = "epoll"), allow(dead_code))]
    pub(crate) fn drain(&self) {
        let mut value: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64. EAGAIN (nothing pending) is harmless.
        let _ = syscall!(eventfd, unsafe {
            libc::read(self.raw(), &mut value as *mut u64 as *mut _, 8)
        });
    }
}

/// A handle that wakes one driver from any thread.
#[derive(Debug, Clone)]
pub(crate) struct Unparker(Arc<EventFd>);

impl Unparker {
    pub(crate) fn new(eventfd: Arc<EventFd>) -> Unparker {
        Unparker(eventfd)
    }

    pub(crate) fn unpark(&self) {
        self.0.wake();
    }
}
