//! [`ScheduledIo`]: what the epoll driver remembers about one registered descriptor — its cached
//! readiness and who waits for it.
//!
//! epoll is used edge-triggered: the kernel reports a change *once*, so the readiness is cached here
//! until an attempt proves it stale (`EAGAIN`, or a short read/write). Each event bumps `tick`; a
//! clear carries the tick its attempt started from and is ignored if an event arrived in between, so
//! a stale `EAGAIN` can never erase a newer edge. Readers and writers wait separately, so one task
//! may read while another writes the same socket.

use std::task::{Context, Poll, Waker};

use crate::driver::op::Direction;

/// Readiness bits.
pub(crate) const READABLE: u8 = 1 << 0;
pub(crate) const WRITABLE: u8 = 1 << 1;
pub(crate) const READ_CLOSED: u8 = 1 << 2;
pub(crate) const WRITE_CLOSED: u8 = 1 << 3;
pub(crate) const ERROR: u8 = 1 << 4;

/// Translates an epoll event mask into readiness bits.
pub(crate) fn from_epoll(events: u32) -> u8 {
    let mut ready = 0;
    if events & (libc::EPOLLIN | libc::EPOLLPRI) as u32 != 0 {
        ready |= READABLE;
    }
    if events & libc::EPOLLOUT as u32 != 0 {
        ready |= WRITABLE;
    }
    if events & libc::EPOLLRDHUP as u32 != 0 {
        ready |= READ_CLOSED;
    }
    if events & libc::EPOLLHUP as u32 != 0 {
        ready |= READ_CLOSED | WRITE_CLOSED;
    }
    if events & libc::EPOLLERR as u32 != 0 {
        ready |= ERROR;
    }
    ready
}

/// The bits that let an attempt in `dir` make progress (data, or an end/error to report).
fn mask(dir: Direction) -> u8 {
    match dir {
        Direction::Read => READABLE | READ_CLOSED | ERROR,
        Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
    }
}

/// Readiness observed at a given tick: what an attempt started from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadyEvent {
    tick: u32,
    ready: u8,
}

#[derive(Debug, Default)]
pub(crate) struct ScheduledIo {
    readiness: u8,
    tick: u32,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl ScheduledIo {
    /// Ready now in `dir`, or remember the waker and wait for the next event.
    pub(crate) fn poll_ready(&mut self, dir: Direction, cx: &mut Context<'_>) -> Poll<ReadyEvent> {
        let ready = self.readiness & mask(dir);
        if ready != 0 {
            return Poll::Ready(ReadyEvent {
                tick: self.tick,
                ready,
            });
        }
        let slot = match dir {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        };
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The attempt that started from `event` found nothing to do: forget that readiness, unless a
    /// newer event arrived meanwhile. End-of-stream and error bits are never cleared.
    pub(crate) fn clear(&mut self, event: ReadyEvent) {
        if self.tick == event.tick {
            self.readiness &= !(event.ready & (READABLE | WRITABLE));
        }
    }

    /// An event arrived: record it and wake the waiters it concerns.
    pub(crate) fn on_event(&mut self, ready: u8) {
        self.readiness |= ready;
        self.tick = self.tick.wrapping_add(1);
        if ready & mask(Direction::Read) != 0 {
            if let Some(w) = self.reader.take() {
                w.wake();
            }
        }
        if ready & mask(Direction::Write) != 0 {
            if let Some(w) = self.writer.take() {
                w.wake();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn stale_clear_does_not_erase_newer_event() {
        let mut io = ScheduledIo::default();
        io.on_event(READABLE);
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx()) else {
            panic!("should be ready")
        };
        io.on_event(READABLE); // new data arrives while the attempt runs
        io.clear(seen); // the attempt's EAGAIN is stale
        assert!(io.poll_ready(Direction::Read, &mut cx()).is_ready());
    }

    #[test]
    fn clear_then_wait() {
        let mut io = ScheduledIo::default();
        io.on_event(READABLE | WRITABLE);
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx()) else {
            panic!()
        };
        io.clear(seen);
        assert!(io.poll_ready(Direction::Read, &mut cx()).is_pending());
        assert!(io.poll_ready(Direction::Write, &mut cx()).is_ready());
    }

    #[test]
    fn hangup_stays() {
        let mut io = ScheduledIo::default();
        io.on_event(from_epoll((libc::EPOLLIN | libc::EPOLLRDHUP) as u32));
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx()) else {
            panic!()
        };
        io.clear(seen);
        assert!(io.poll_ready(Direction::Read, &mut cx()).is_ready());
    }
}
