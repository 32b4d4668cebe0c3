//! A thin, counted shim over the three epoll syscalls. Nothing here knows about tasks or wakers.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::driver::syscall::syscall;

#[derive(Debug)]
pub(crate) struct Epoll(OwnedFd);

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: no pointers; a valid flag.
        let fd = syscall!(other_syscalls, unsafe {
            libc::epoll_create1(libc::EPOLL_CLOEXEC)
        })?;
        // SAFETY: `fd` was just returned by epoll_create1 and is owned by nobody else.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Adds `fd` to the interest list with `events`; the kernel hands `token` back with each event.
    pub(crate) fn add(&self, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: `event` is a valid epoll_event for the duration of the call.
        syscall!(epoll_ctl, unsafe {
            libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event)
        })?;
        Ok(())
    }

    /// Removes `fd` from the interest list (needed only when the descriptor stays open elsewhere:
    /// closing it removes it by itself).
    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: EPOLL_CTL_DEL ignores the event argument (null is allowed since Linux 2.6.9).
        syscall!(epoll_ctl, unsafe {
            libc::epoll_ctl(
                self.0.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        })?;
        Ok(())
    }

    /// Waits for events into `events` (its whole capacity), at most `timeout` (`None`: forever).
    /// Returns how many arrived; an interrupted wait returns 0.
    pub(crate) fn wait(
        &self,
        events: &mut Vec<libc::epoll_event>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let timeout_ms = match timeout {
            None => -1,
            // Round up, so a timer due in 0.3 ms does not turn into a busy loop of zero waits.
            Some(d) => d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
        };
        events.clear();
        // SAFETY: the kernel writes at most `capacity` events into the vector's spare capacity.
        let n = syscall!(epoll_wait, unsafe {
            libc::epoll_wait(
                self.0.as_raw_fd(),
                events.as_mut_ptr(),
                events.capacity().min(i32::MAX as usize) as i32,
                timeout_ms,
            )
        });
        match n {
            Ok(n) => {
                // SAFETY: the kernel initialised the first `n` entries.
                unsafe { events.set_len(n as usize) };
                Ok(n as usize)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}
