//! A tiny "selectors"-style event loop on top of epoll.
//!
//! You `register(fd, interest, callback)`; `run` blocks in `epoll_wait` and calls the
//! callback of every descriptor the kernel reports ready. Unlike select and poll, the
//! interest list lives *in the kernel* (it is changed with `epoll_ctl`), so a wait costs
//! O(ready descriptors), not O(watched descriptors).

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::common::stats::{self, Sys};

/// Interest in "readable" (`EPOLLIN`).
pub const READ: u32 = libc::EPOLLIN as u32;
/// Interest in "writable" (`EPOLLOUT`).
pub const WRITE: u32 = libc::EPOLLOUT as u32;

/// What a callback wants done with its registration after it ran.
pub enum After {
    /// Keep calling me.
    Keep,
    /// Forget me. Dropping the callback drops the socket it owns, which closes it, and
    /// closing the last descriptor of a socket also removes it from the epoll set.
    Drop,
}

/// Called with the selector (to register or modify descriptors) and the ready events.
pub type Callback = Box<dyn FnMut(&mut Selector, u32) -> After>;

/// The registry: an epoll instance plus one callback per registered descriptor.
pub struct Selector {
    epoll: OwnedFd,
    edge_triggered: bool,
    callbacks: HashMap<RawFd, Callback>,
    running: bool,
}

impl Selector {
    /// Creates the epoll instance. With `edge_triggered`, every registration gets `EPOLLET`.
    pub fn new(edge_triggered: bool) -> io::Result<Selector> {
        stats::count(Sys::Other);
        // SAFETY: no pointers involved; the result is checked below.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Selector {
            // SAFETY: the kernel just gave us this descriptor; nobody else owns it.
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
            edge_triggered,
            callbacks: HashMap::new(),
            running: false,
        })
    }

    /// True if events are reported once per change (edge) instead of while true (level).
    pub fn edge_triggered(&self) -> bool {
        self.edge_triggered
    }

    /// Starts watching `fd` for `interest` (`READ`, `WRITE` or both), calling `callback`.
    pub fn register(&mut self, fd: RawFd, interest: u32, callback: Callback) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_ADD, fd, interest)?;
        self.callbacks.insert(fd, callback);
        Ok(())
    }

    /// Changes what `fd` is watched for.
    pub fn modify(&mut self, fd: RawFd, interest: u32) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_MOD, fd, interest)
    }

    /// Makes `run` return after the current batch of events.
    pub fn stop(&mut self) {
        self.running = false;
    }

    /// Waits for events and dispatches them until `stop` is called.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        self.running = true;
        while self.running {
            // Phase 1: sleep until something is ready.
            stats::count(Sys::Wait);
            // SAFETY: `events` is a live buffer of `len()` entries for the kernel to fill.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as libc::c_int,
                    -1,
                )
            };
            if n < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            for event in &events[..n as usize] {
                // We stored the descriptor in the event's user data when registering.
                self.dispatch(event.u64 as RawFd, event.events);
            }
        }
        Ok(())
    }

    /// Runs the callback of `fd`.
    fn dispatch(&mut self, fd: RawFd, ready: u32) {
        // Take the callback out while it runs, so that it can borrow the selector mutably
        // (to register new connections or change its own interest).
        let Some(mut callback) = self.callbacks.remove(&fd) else {
            return; // its socket was closed by an earlier callback of this same batch
        };
        match callback(self, ready) {
            After::Keep => {
                self.callbacks.insert(fd, callback);
            }
            After::Drop => drop(callback),
        }
        // (If a callback closed fd 7 and then a new connection got fd 7 within the same
        // batch, a stale event for the old fd 7 would reach the new callback. That is
        // harmless: the sockets are non-blocking and a spurious try just sees EAGAIN.)
    }

    fn control(&mut self, op: libc::c_int, fd: RawFd, interest: u32) -> io::Result<()> {
        let mut flags = interest;
        if self.edge_triggered {
            flags |= libc::EPOLLET as u32;
        }
        let mut event = libc::epoll_event {
            events: flags,
            u64: fd as u64,
        };
        stats::count(Sys::Other);
        // SAFETY: `event` is a valid `epoll_event` that lives across the call.
        if unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
