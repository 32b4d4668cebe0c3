//! [`ScheduledIo`]: what the epoll driver remembers about one registered descriptor — its cached
//! readiness and who waits for it.
//!
//! epoll is used edge-triggered: the kernel reports a change *once*, so the readiness is cached here
//! until an attempt proves it stale (`EAGAIN`, or a short read/write). Each event bumps `tick`; a
//! clear carries the tick its attempt started from and is ignored if an event arrived in between, so
//! a stale `EAGAIN` can never erase a newer edge. Readers and writers wait separately, so one task
//! may read while another writes the same socket.
//!
//! **Several waiters per direction.** The socket methods take `&self`, so two tasks may read (or
//! write) the same socket at once — two readers of one UDP socket, say. Each direction keeps every
//! distinct waker that waits ([`Waiters`]), and an event wakes them all: the ones that find
//! nothing get `EAGAIN` and wait again. (Keeping only the last waker would leave the first task
//! asleep with a datagram queued for it; io_uring, where each read is its own request, never had
//! that problem, and both backends must run the same program the same way.)

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll, Waker};

use crate::driver::op::Direction;

/// The payload of a waker's panic.
pub(crate) type Panic = Box<dyn Any + Send>;

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
    readers: Waiters,
    writers: Waiters,
}

/// The tasks waiting for one direction: each distinct waker once. The first needs no
/// allocation; further ones go to a vector whose capacity is kept for the next waits.
///
/// The first waker is *kept* after it is woken, only disarmed: the usual waiter is a connection's
/// task that reads, is woken, and reads again, and finding its own waker still there saves a clone
/// (an atomic increment of the task's count) on every wait. A disarmed waker is never called; it
/// is dropped when another task's waker takes its place or when the descriptor is closed.
#[derive(Debug, Default)]
struct Waiters {
    first: Option<Waker>,
    /// Whether `first` waits now (else it is kept from an earlier wait, and not woken).
    armed: bool,
    more: Vec<Waker>,
}

impl Waiters {
    /// Adds `waker` unless it (or a waker for the same task) is already there.
    fn register(&mut self, waker: &Waker) {
        match &self.first {
            Some(w) if w.will_wake(waker) => self.armed = true,
            Some(_) if self.armed => {
                if !self.more.iter().any(|w| w.will_wake(waker)) {
                    self.more.push(waker.clone());
                }
            }
            // Empty, or a disarmed waker of another task: take the place.
            _ => {
                self.first = Some(waker.clone());
                self.armed = true;
            }
        }
    }

    /// Wakes every waiter; the first stays, disarmed, the others are forgotten. Each is woken even
    /// if another's waker panics; the first panic is returned.
    fn wake_all(&mut self) -> Result<(), Panic> {
        let mut result = Ok(());
        let mut note = |outcome: std::thread::Result<()>| {
            if let (Err(payload), true) = (outcome, result.is_ok()) {
                result = Err(payload);
            }
        };
        if std::mem::take(&mut self.armed) {
            if let Some(w) = &self.first {
                note(catch_unwind(AssertUnwindSafe(|| w.wake_by_ref())));
            }
        }
        if !self.more.is_empty() {
            for w in self.more.drain(..) {
                note(catch_unwind(AssertUnwindSafe(|| w.wake())));
            }
        }
        result
    }
}

impl ScheduledIo {
    /// Ready now in `dir`, or remember the waker and wait for the next event.
    #[inline]
    pub(crate) fn poll_ready(&mut self, dir: Direction, cx: &mut Context<'_>) -> Poll<ReadyEvent> {
        let ready = self.readiness & mask(dir);
        if ready != 0 {
            return Poll::Ready(ReadyEvent {
                tick: self.tick,
                ready,
            });
        }
        match dir {
            Direction::Read => self.readers.register(cx.waker()),
            Direction::Write => self.writers.register(cx.waker()),
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

    /// An event arrived: record it and wake the waiters it concerns. Every waiter is woken even
    /// if a waker panics; the first panic is returned for the caller to pass on.
    pub(crate) fn on_event(&mut self, ready: u8) -> Result<(), Panic> {
        self.readiness |= ready;
        self.tick = self.tick.wrapping_add(1);
        let mut result = Ok(());
        if ready & mask(Direction::Read) != 0 {
            result = self.readers.wake_all();
        }
        if ready & mask(Direction::Write) != 0 {
            let writers = self.writers.wake_all();
            result = result.and(writers);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Waker;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn stale_clear_does_not_erase_newer_event() {
        let mut io = ScheduledIo::default();
        io.on_event(READABLE).unwrap();
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx()) else {
            panic!("should be ready")
        };
        io.on_event(READABLE).unwrap(); // new data arrives while the attempt runs
        io.clear(seen); // the attempt's EAGAIN is stale
        assert!(io.poll_ready(Direction::Read, &mut cx()).is_ready());
    }

    #[test]
    fn clear_then_wait() {
        let mut io = ScheduledIo::default();
        io.on_event(READABLE | WRITABLE).unwrap();
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx()) else {
            panic!()
        };
        io.clear(seen);
        assert!(io.poll_ready(Direction::Read, &mut cx()).is_pending());
        assert!(io.poll_ready(Direction::Write, &mut cx()).is_ready());
    }

    #[test]
    fn every_waiting_reader_is_woken() {
        let (a, b) = (
            Arc::new(Count(AtomicUsize::new(0))),
            Arc::new(Count(AtomicUsize::new(0))),
        );
        let (wa, wb) = (Waker::from(a.clone()), Waker::from(b.clone()));
        let mut io = ScheduledIo::default();
        for w in [&wa, &wb, &wa] {
            assert!(io
                .poll_ready(Direction::Read, &mut Context::from_waker(w))
                .is_pending());
        }
        io.on_event(READABLE).unwrap();
        assert_eq!(a.0.load(Ordering::SeqCst), 1, "woken once, registered once");
        assert_eq!(b.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_kept_waker_is_woken_only_while_it_waits() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut io = ScheduledIo::default();
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_ready(Direction::Read, &mut cx).is_pending());
        io.on_event(READABLE).unwrap();
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx) else {
            panic!("should be ready")
        };
        io.clear(seen);
        io.on_event(READABLE).unwrap(); // nobody waits: the kept waker is not called
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx) else {
            panic!("should be ready")
        };
        io.clear(seen);
        assert!(io.poll_ready(Direction::Read, &mut cx).is_pending());
        io.on_event(READABLE).unwrap();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            2,
            "waiting again: woken again"
        );
        drop(io);
        assert_eq!(
            Arc::strong_count(&count),
            2,
            "the kept clone is dropped with the registration"
        );
    }

    #[test]
    fn hangup_stays() {
        let mut io = ScheduledIo::default();
        io.on_event(from_epoll((libc::EPOLLIN | libc::EPOLLRDHUP) as u32))
            .unwrap();
        let Poll::Ready(seen) = io.poll_ready(Direction::Read, &mut cx()) else {
            panic!()
        };
        io.clear(seen);
        assert!(io.poll_ready(Direction::Read, &mut cx()).is_ready());
    }
}
