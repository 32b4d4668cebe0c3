//! Feeds: multishot requests that serve every operation of one kind on a descriptor.
//!
//! - **Multishot accept** (`IORING_ACCEPT_MULTISHOT`, 5.19+): one SQE per listener, one CQE per
//!   connection, for as long as the listener lives.
//! - **Multishot receive** (`IORING_RECV_MULTISHOT`, 6.0+) into the provided-buffer ring: one SQE
//!   per stream, one CQE per chunk received.
//!
//! A feed delivers into the descriptor's [`Stash`](crate::driver::fd::Stash) and wakes the tasks
//! waiting there; operations served by a feed never have an SQE of their own, so dropping their
//! future is trivially safe (nothing of theirs is in flight, and what was received stays stashed).
//!
//! **Closing.** The feed holds its descriptor weakly, but the kernel holds the socket itself for as
//! long as the request lives: closing the descriptor alone would leave a listener listening (its
//! address taken, connections accepted for nobody) and a stream's peer waiting for the end of the
//! stream. So a descriptor that closes cancels its feed at once ([`cancel_feed_now`]: the cancel is
//! submitted and the feed's last CQE reaped before the descriptor is closed). When its driver is
//! out of reach (no runtime entered, or the driver busy reaping), the socket is shut down instead,
//! which stops it at once too, and the driver cancels the feed as soon as it runs again.
//!
//! A feed ends (a CQE without `IORING_CQE_F_MORE`) on cancellation, on an error, on end of stream,
//! or when the buffer ring ran dry (`ENOBUFS`): the next operation that waits arms a new one. A
//! kernel that does not know the multishot flag answers `EINVAL`: the driver then turns the feature
//! off and every operation falls back to its own SQE.
//!
//! **Back-pressure.** What a feed delivers waits in the stash until the application takes it, so a
//! lagging application would make the stash grow without bound. A feed is therefore paused
//! (cancelled) once its stash is full — [`STASH_LIMIT`] bytes for a receive feed,
//! [`ACCEPT_LIMIT`] connections for an accept feed — and the next operation that finds the stash
//! empty arms a new one. While an accept feed is paused, new connections wait in the kernel's
//! backlog, not in the process's descriptor table, and a full backlog pushes back on clients as it
//! does without multishot. The bound is the limit plus one burst: when woken, the kernel accepts
//! everything pending at once, before the pause can take effect.
//!
//! Each CQE is handled in full — stash, feed state, buffer recycled — before the waiters are
//! woken (a waker may panic, see `ring`).

use std::os::fd::{FromRawFd, OwnedFd};
use std::task::Context;

use io_uring::{cqueue, opcode, types};

use super::bufring;
use super::lifecycle::Lifecycle;
use super::Driver;
use crate::driver::fd::{wake_all, FeedHandle, SharedFd, WeakFd};
use crate::driver::op::FeedKind;
use crate::driver::{DriverId, Engine};

/// Stashed bytes above which a stream's receive feed is paused.
const STASH_LIMIT: usize = 256 * 1024;

/// Accepted connections waiting unclaimed at which a listener's accept feed is paused.
const ACCEPT_LIMIT: usize = 64;

/// Flags of the connections a multishot accept creates (as for the single-shot accept).
const ACCEPT_FLAGS: i32 = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;

impl Driver {
    pub(super) fn feed_enabled(&self, kind: FeedKind) -> bool {
        match kind {
            FeedKind::Accept => self.multishot_accept,
            FeedKind::Recv => self.multishot_recv,
        }
    }

    /// Waits on `fd`'s stash, arming its feed first if none is armed.
    pub(super) fn wait_feed(&mut self, fd: &SharedFd, kind: FeedKind, cx: &mut Context<'_>) {
        let armed = fd.with_stash(|stash| {
            if !stash.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                stash.waiters.push(cx.waker().clone());
            }
            stash.feed.is_some()
        });
        if armed {
            return;
        }
        let key = self.ops.insert(Lifecycle::Feed {
            fd: fd.downgrade(),
            kind,
        });
        let target = types::Fd(fd.raw());
        let sqe = match kind {
            FeedKind::Accept => opcode::AcceptMulti::new(target).flags(ACCEPT_FLAGS).build(),
            FeedKind::Recv => opcode::RecvMulti::new(target, bufring::GROUP).build(),
        };
        self.push(sqe.user_data(key));
        self.in_flight += 1;
        let closed = self.closed_feeds.clone();
        fd.with_stash(|stash| stash.feed = Some(FeedHandle { key, closed }));
    }

    /// One CQE of feed `key` (`more`: the feed stays armed).
    pub(super) fn on_feed_cqe(
        &mut self,
        key: u64,
        fd: &WeakFd,
        kind: FeedKind,
        result: i32,
        flags: u32,
        more: bool,
    ) {
        crate::context::count(|c| c.uring_feed_cqes.inc());
        let fd = fd.upgrade();
        match kind {
            FeedKind::Accept => self.on_accepted(fd.as_ref(), result),
            FeedKind::Recv => self.on_received(fd.as_ref(), result, flags),
        }
        let Some(fd) = fd else { return };
        let paused = more && over_limit(&fd, key, kind);
        if paused {
            self.cancel(key);
        }
        let waiters = fd.with_stash(|stash| {
            if (!more || paused) && stash.feed.as_ref().is_some_and(|f| f.key == key) {
                stash.feed = None;
            }
            std::mem::take(&mut stash.waiters)
        });
        // Woken tasks take what is stashed, or arm a new feed.
        wake_all(waiters);
    }

    fn on_accepted(&mut self, fd: Option<&SharedFd>, result: i32) {
        if result >= 0 {
            // SAFETY: a successful accept CQE carries a new descriptor that nobody else owns.
            let conn = unsafe { OwnedFd::from_raw_fd(result) };
            match fd {
                Some(listener) => {
                    listener.with_stash(|stash| stash.accepted.push_back((conn, None)))
                }
                None => drop(conn), // the listener is gone: nobody will ever take it
            }
            return;
        }
        match -result {
            libc::ECANCELED => {}
            libc::EINVAL => self.multishot_accept = false, // kernel without multishot accept
            errno => {
                if let Some(listener) = fd {
                    let err = std::io::Error::from_raw_os_error(errno);
                    listener.with_stash(|stash| stash.end = Some(Err(err)));
                }
            }
        }
    }

    fn on_received(&mut self, fd: Option<&SharedFd>, result: i32, flags: u32) {
        if let Some(bid) = cqueue::buffer_select(flags) {
            let bufring = self
                .bufring
                .as_mut()
                .expect("a receive feed implies a bufring");
            let len = usize::try_from(result).unwrap_or(0);
            bufring.consume(bid, len, |bytes| {
                if let Some(fd) = fd {
                    fd.with_stash(|stash| stash.bytes.extend(bytes));
                }
            });
        }
        let Some(fd) = fd else { return };
        match result {
            0 => fd.with_stash(|stash| stash.end = Some(Ok(0))),
            1.. => {}
            _ => match -result {
                // Cancelled (closing or pausing) or out of buffers: nothing to report, the next
                // read re-arms.
                libc::ECANCELED | libc::ENOBUFS => {}
                libc::EINVAL => self.multishot_recv = false,
                errno => {
                    let err = std::io::Error::from_raw_os_error(errno);
                    fd.with_stash(|stash| stash.end = Some(Err(err)));
                }
            },
        }
    }
}

/// Whether `fd`'s stash is too full for its (still current) feed `key` to keep delivering.
fn over_limit(fd: &SharedFd, key: u64, kind: FeedKind) -> bool {
    fd.with_stash(|stash| {
        stash.feed.as_ref().is_some_and(|f| f.key == key)
            && match kind {
                FeedKind::Accept => stash.accepted.len() >= ACCEPT_LIMIT,
                FeedKind::Recv => stash.bytes.len() > STASH_LIMIT,
            }
    })
}

/// Cancels feed `key` of a descriptor that is closing, and reaps its end, at once — if `owner`,
/// the descriptor's driver, is the one entered on this thread and is not busy. Returns whether it
/// did (if not, the caller shuts the socket down and leaves the key on the driver's list).
pub(crate) fn cancel_feed_now(owner: DriverId, key: u64) -> bool {
    crate::context::try_with_driver(|driver| {
        if driver.id() != owner {
            return false;
        }
        #[allow(irrefutable_let_patterns)] // without the epoll feature there is one variant
        let Engine::IoUring(uring) = &mut driver.engine
        else {
            return false;
        };
        uring.cancel(key);
        uring.flush();
        true
    })
    .unwrap_or(false)
}
