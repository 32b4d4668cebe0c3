//! [`Lifecycle`]: the state of one slot of the completion driver — one request the kernel knows.
//!
//! ```text
//!              poll (store waker)               CQE (wake)
//!  Submitted ─────────────────────► Waiting ──────────────────► Completed ──► freed by the
//!      │  └────────────────── CQE ─────────────────────────────────▲          future's poll
//!      │ future dropped (orphan)          │ future dropped                  │ future dropped:
//!      ▼                                  ▼                                 ▼ orphaned(result)
//!   Ignored(op) ── CQE: orphaned(result), slot freed                          slot freed
//! ```
//!
//! Invariants:
//! - a slot is freed exactly once, either by the future that reads its `Completed` result, or by
//!   the driver when the final CQE of an `Ignored` op (or a feed) arrives — never while the kernel
//!   may still write into memory the slot's op owns;
//! - the operation (and its buffers) lives in the future until it is dropped, then in `Ignored`
//!   until the CQE: there is always exactly one owner;
//! - a slot never wakes anyone itself: it hands the waker to the driver, which wakes it once its
//!   own state is final (a waker may panic).
//!
//! A `Feed` slot is a multishot request: it produces many CQEs and is freed by the last one (the
//! one without `IORING_CQE_F_MORE`).

use std::io;
use std::task::{Context, Poll, Waker};

use super::super::fd::WeakFd;
use super::super::op::{FeedKind, Operation};

/// An operation whose future is gone, kept until the kernel is done with it.
pub(crate) trait Orphan {
    /// The future is gone but the kernel is not done (see [`Operation::abandoned`]).
    fn abandoned(&mut self);
    /// The kernel finished: hand on whatever it produced (see [`Operation::orphaned`]).
    fn orphaned(self: Box<Self>, result: io::Result<usize>);
}

impl<T: Operation> Orphan for T {
    fn abandoned(&mut self) {
        Operation::abandoned(self)
    }

    fn orphaned(self: Box<Self>, result: io::Result<usize>) {
        Operation::orphaned(*self, result)
    }
}

/// One request's state. See the module docs.
pub(crate) enum Lifecycle {
    /// In the kernel's hands; nobody has asked for the result yet.
    Submitted,
    /// In the kernel's hands; this task wants the result.
    Waiting(Waker),
    /// The kernel answered; the future has not collected the answer yet.
    Completed { result: i32, flags: u32 },
    /// The future was dropped: the driver owns the operation until the CQE.
    Ignored(Box<dyn Orphan>),
    /// A multishot request serving a descriptor (weakly held: it must not keep it open).
    Feed { fd: WeakFd, kind: FeedKind },
}

/// What the driver must do after a CQE reached a slot.
pub(crate) enum Reaped {
    /// The result waits in the slot for its future: wake its task, if one waits (the slot does
    /// not wake it itself, so that the driver finishes its own bookkeeping first).
    Stored(Option<Waker>),
    /// Free the slot and hand the result to the orphaned operation.
    Orphaned(Box<dyn Orphan>),
    /// A feed's CQE: deliver it (the slot stays unless the CQE is the feed's last).
    Feed(WeakFd, FeedKind),
}

/// What the driver must do when a future is dropped while its slot is live.
pub(crate) enum Dropped {
    /// The kernel is still at work: the op now waits in the slot (send a cancel).
    Kept,
    /// The result had already arrived: free the slot, then hand it to the op.
    AlreadyCompleted(Box<dyn Orphan>, i32),
}

impl Lifecycle {
    /// A CQE for this slot arrived.
    pub(crate) fn on_cqe(&mut self, result: i32, flags: u32) -> Reaped {
        match std::mem::replace(self, Lifecycle::Completed { result, flags }) {
            Lifecycle::Submitted => Reaped::Stored(None),
            Lifecycle::Waiting(waker) => Reaped::Stored(Some(waker)),
            Lifecycle::Ignored(op) => Reaped::Orphaned(op),
            Lifecycle::Feed { fd, kind } => {
                *self = Lifecycle::Feed {
                    fd: fd.clone(),
                    kind,
                };
                Reaped::Feed(fd, kind)
            }
            // Single-shot requests get one CQE; a second one would be a driver bug.
            completed @ Lifecycle::Completed { .. } => {
                debug_assert!(false, "second CQE for a single-shot request");
                *self = completed;
                Reaped::Stored(None)
            }
        }
    }

    /// The future polls: the result if it is there, else remember who to wake.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<(i32, u32)> {
        match self {
            Lifecycle::Completed { result, flags } => Poll::Ready((*result, *flags)),
            Lifecycle::Waiting(waker) if waker.will_wake(cx.waker()) => Poll::Pending,
            Lifecycle::Submitted | Lifecycle::Waiting(_) => {
                *self = Lifecycle::Waiting(cx.waker().clone());
                Poll::Pending
            }
            Lifecycle::Ignored(_) | Lifecycle::Feed { .. } => {
                unreachable!("polled a slot that no future owns")
            }
        }
    }

    /// Whether the kernel still holds this request (its final CQE has not arrived).
    pub(crate) fn in_kernel(&self) -> bool {
        !matches!(self, Lifecycle::Completed { .. })
    }

    /// The future was dropped; `op` is its operation.
    pub(crate) fn orphan(&mut self, mut op: Box<dyn Orphan>) -> Dropped {
        match self {
            Lifecycle::Completed { result, .. } => Dropped::AlreadyCompleted(op, *result),
            Lifecycle::Submitted | Lifecycle::Waiting(_) => {
                op.abandoned();
                *self = Lifecycle::Ignored(op);
                Dropped::Kept
            }
            Lifecycle::Ignored(_) | Lifecycle::Feed { .. } => {
                unreachable!("orphaned a slot that no future owns")
            }
        }
    }
}

/// A kernel result (`-errno` or a count) as `io::Result`.
pub(crate) fn to_result(result: i32) -> io::Result<usize> {
    if result < 0 {
        Err(io::Error::from_raw_os_error(-result))
    } else {
        Ok(result as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// Records what it was orphaned with.
    struct Probe(Rc<RefCell<Option<io::Result<usize>>>>);

    impl Orphan for Probe {
        fn abandoned(&mut self) {}

        fn orphaned(self: Box<Self>, result: io::Result<usize>) {
            *self.0.borrow_mut() = Some(result);
        }
    }

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn submit_poll_complete() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let mut slot = Lifecycle::Submitted;
        assert!(slot.poll(&mut cx).is_pending());
        assert!(matches!(slot, Lifecycle::Waiting(_)));
        let Reaped::Stored(Some(waiter)) = slot.on_cqe(5, 0) else {
            panic!("the waiter is handed back to be woken");
        };
        assert_eq!(counter.0.load(Ordering::SeqCst), 0, "not woken by the slot");
        waiter.wake();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(slot.poll(&mut cx), Poll::Ready((5, 0)));
    }

    #[test]
    fn completion_before_first_poll() {
        let mut slot = Lifecycle::Submitted;
        assert!(matches!(
            slot.on_cqe(-libc::ECONNRESET, 0),
            Reaped::Stored(None)
        ));
        let mut cx = Context::from_waker(Waker::noop());
        let (res, _) = match slot.poll(&mut cx) {
            Poll::Ready(r) => r,
            Poll::Pending => panic!("completed"),
        };
        assert_eq!(
            to_result(res).unwrap_err().raw_os_error(),
            Some(libc::ECONNRESET)
        );
    }

    #[test]
    fn orphan_before_completion_waits_for_the_cqe() {
        let seen = Rc::new(RefCell::new(None));
        let mut slot = Lifecycle::Submitted;
        let mut cx = Context::from_waker(Waker::noop());
        let _ = slot.poll(&mut cx);
        assert!(matches!(
            slot.orphan(Box::new(Probe(seen.clone()))),
            Dropped::Kept
        ));
        assert!(seen.borrow().is_none(), "not before the kernel is done");
        match slot.on_cqe(7, 0) {
            Reaped::Orphaned(op) => op.orphaned(to_result(7)),
            _ => panic!("an ignored slot hands its op back"),
        }
        assert_eq!(seen.borrow().as_ref().unwrap().as_ref().unwrap(), &7);
    }

    #[test]
    fn orphan_after_completion_hands_the_result_at_once() {
        let seen = Rc::new(RefCell::new(None));
        let mut slot = Lifecycle::Submitted;
        let _ = slot.on_cqe(3, 0);
        match slot.orphan(Box::new(Probe(seen.clone()))) {
            Dropped::AlreadyCompleted(op, res) => op.orphaned(to_result(res)),
            Dropped::Kept => panic!("already completed"),
        }
        assert_eq!(seen.borrow().as_ref().unwrap().as_ref().unwrap(), &3);
    }

    #[test]
    fn repoll_with_same_waker_keeps_it() {
        let mut slot = Lifecycle::Submitted;
        let mut cx = Context::from_waker(Waker::noop());
        assert!(slot.poll(&mut cx).is_pending());
        assert!(slot.poll(&mut cx).is_pending());
        assert!(matches!(slot, Lifecycle::Waiting(_)));
    }
}
