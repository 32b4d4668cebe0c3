//! The readiness backend: an edge-triggered epoll reactor.
//!
//! "Tell me when I may try." Each descriptor is registered once, on its first wait, for input,
//! output and hang-up, edge-triggered; its readiness is cached in a [`ScheduledIo`]. An operation
//! waits until its direction is ready, then makes its non-blocking syscall itself; `EAGAIN` clears
//! the cached readiness (unless a newer event arrived) and it waits again.
//!
//! The life of a read under this backend:
//!
//! ```text
//! task: stream.read(buf).await
//!   Op::poll ─► poll_op: readable cached? ── no ──► store waker, Pending
//!                           │ yes                        ⋮ (other tasks run)
//!                           ▼                     park: epoll_wait ─► event for token
//!                  recv(fd, buf) ◄── re-poll ◄── ScheduledIo::on_event wakes the reader
//!                   │ n > 0: done (short read: clear readable, no EAGAIN round trip)
//!                   │ EAGAIN: clear readable at the tick it started from, wait again
//! ```

mod epoll;
mod scheduled_io;

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::eventfd::{EventFd, Unparker};
use super::op::{Operation, Stage};
use super::slab::Slab;
use crate::builder::Builder;
use epoll::Epoll;
use scheduled_io::{from_epoll, ScheduledIo};

/// The token of the driver's own eventfd (slab keys never reach it: it has a full generation).
const WAKE_TOKEN: u64 = u64::MAX;

/// Every descriptor is registered for both directions and hang-ups, edge-triggered, once.
const INTEREST: u32 =
    (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI | libc::EPOLLET) as u32;

pub(crate) struct Driver {
    epoll: Epoll,
    /// Reused for every wait: no allocation per turn.
    events: Vec<libc::epoll_event>,
    ios: Slab<ScheduledIo>,
    eventfd: Arc<EventFd>,
}

impl Driver {
    pub(crate) fn new(builder: &Builder) -> io::Result<Driver> {
        let epoll = Epoll::new()?;
        let eventfd = Arc::new(EventFd::new()?);
        epoll.add(
            eventfd.raw(),
            WAKE_TOKEN,
            (libc::EPOLLIN | libc::EPOLLET) as u32,
        )?;
        Ok(Driver {
            epoll,
            events: Vec::with_capacity(builder.event_capacity),
            ios: Slab::new(),
            eventfd,
        })
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker::new(self.eventfd.clone())
    }

    /// Waits for events (at most `timeout`) and wakes the tasks they concern.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let n = self.epoll.wait(&mut self.events, timeout)?;
        // A waker is user code and may panic: every event of the batch is still recorded and
        // delivered (edge-triggered epoll would never report a lost one again), and the first
        // panic is passed on afterwards.
        let mut panic = None;
        for i in 0..n {
            // epoll_event is packed on x86_64: copy the fields out rather than borrow them.
            let (token, events) = (self.events[i].u64, self.events[i].events);
            crate::trace::readiness(token, events);
            if token == WAKE_TOKEN {
                self.eventfd.drain();
            } else if let Some(io) = self.ios.get_mut(token) {
                if let Err(payload) = io.on_event(from_epoll(events)) {
                    panic.get_or_insert(payload);
                }
            }
            // else: a stale token (the descriptor was closed and its slot reused): ignore it.
        }
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
        Ok(())
    }

    /// Frees the registration of a descriptor that is being closed. No `epoll_ctl(DEL)` is needed:
    /// closing the descriptor removes it from the interest list.
    pub(crate) fn deregister(&mut self, token: u64) {
        self.ios.remove(token);
    }

    /// Takes a descriptor that will stay open elsewhere (handed to `std`) out of the interest list
    /// and frees its registration, so that its events never reach this driver again.
    pub(crate) fn detach(&mut self, fd: std::os::fd::RawFd, token: u64) {
        let _ = self.epoll.delete(fd);
        self.ios.remove(token);
    }

    /// Drives `op` by readiness: wait for its direction, attempt the syscall, repeat on `EAGAIN`.
    #[inline]
    pub(crate) fn poll_op<T: Operation>(
        &mut self,
        op: &mut T,
        stage: &mut Stage,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        if *stage == Stage::Unsubmitted {
            if let Err(e) = op.prepare() {
                return Poll::Ready(Err(e));
            }
            *stage = Stage::Waiting;
        }
        loop {
            let (fd, dir) = op.interest();
            let token = match fd.token() {
                Some(token) => token,
                None => {
                    let token = self.ios.insert(ScheduledIo::default());
                    if let Err(e) = self.epoll.add(fd.raw(), token, INTEREST) {
                        self.ios.remove(token);
                        return Poll::Ready(Err(e));
                    }
                    fd.set_token(token);
                    token
                }
            };
            let Some(io) = self.ios.get_mut(token) else {
                return Poll::Ready(Err(io::Error::other(
                    "descriptor registration vanished (was it moved to another runtime?)",
                )));
            };
            let event = match io.poll_ready(dir, cx) {
                Poll::Ready(event) => event,
                Poll::Pending => return Poll::Pending,
            };
            match crate::trace::attempt::<T>(fd.raw(), op.attempt()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => io.clear(event),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(n) if op.drained(n) => {
                    io.clear(event);
                    return Poll::Ready(Ok(n));
                }
                result => return Poll::Ready(result),
            }
        }
    }
}
