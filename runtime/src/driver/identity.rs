//! Whose is it? Every driver has an identity, and whatever it hands the kernel carries it.
//!
//! Two runtimes can be alive on one thread (a second `Runtime` built inside a test, a future
//! polled once under one `block_on` and then moved into another). Slab keys and epoll tokens start
//! at 0 in every driver, so a key alone cannot say whose it is: an in-flight operation taken to
//! another driver would read that driver's slot, and a descriptor closed there would free that
//! driver's registration. So:
//!
//! - every driver gets a [`DriverId`], unique in the process;
//! - an in-flight operation's stage records the id of the driver that submitted it, and a socket
//!   records the id of the driver that first ran an operation on it;
//! - a driver that meets a foreign id never completes and never frees what belongs to another
//!   driver. An in-flight operation polled under the wrong runtime panics with a message that says
//!   so (it cannot be answered without handing back a buffer the kernel may still write); a socket
//!   used under the wrong runtime fails with an error;
//! - what is *dropped* away from its driver (an in-flight operation's future, a registered socket)
//!   is posted to that driver's [`Mailbox`], found through the thread's list of live drivers
//!   (`context`), and the driver handles it the next time it runs: the operation is cancelled and
//!   its buffer kept until the kernel answers, exactly as if it had been dropped at home. When the
//!   owner is gone (dropped, or on another thread), the operation is leaked rather than freed: its
//!   driver may have given up waiting for the kernel.

use std::cell::RefCell;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A driver's identity: unique among all drivers a process ever creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DriverId(NonZeroU64);

/// Source of [`DriverId`]s.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl DriverId {
    /// A fresh identity.
    pub(crate) fn next() -> DriverId {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        DriverId(NonZeroU64::new(id).expect("2^64 drivers"))
    }
}

impl std::fmt::Display for DriverId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What reaches a driver from outside its own turns: things of its own that were dropped while
/// another runtime (or none) was entered on its thread. Read by the driver whenever it is entered
/// again (`Driver::collect_mail`).
#[derive(Default)]
pub(crate) struct Mailbox {
    /// In-flight operations whose futures were dropped elsewhere: `(slot key, operation)`.
    #[cfg(feature = "io-uring")]
    pub(crate) orphans: RefCell<Vec<(u64, Box<dyn super::completion::Orphan>)>>,
    /// Readiness registrations of sockets closed elsewhere.
    #[cfg(feature = "epoll")]
    pub(crate) closed_tokens: RefCell<Vec<u64>>,
}

impl Mailbox {
    /// Whether anything was posted (one borrow per list; no allocation).
    pub(crate) fn is_empty(&self) -> bool {
        let mut empty = true;
        #[cfg(feature = "io-uring")]
        {
            empty &= self.orphans.borrow().is_empty();
        }
        #[cfg(feature = "epoll")]
        {
            empty &= self.closed_tokens.borrow().is_empty();
        }
        empty
    }
}

/// The message for an in-flight operation polled under a driver that did not submit it.
pub(crate) fn foreign_op_panic(owner: DriverId, here: DriverId) -> ! {
    panic!(
        "an IO operation submitted by runtime driver {owner} was polled under driver {here}: an \
         operation in flight belongs to the runtime that started it (its buffer is still in that \
         runtime's kernel queue); await it inside that runtime's `block_on`"
    )
}

/// The error for a socket used under a driver that did not register it.
pub(crate) fn foreign_fd_error(owner: DriverId, here: DriverId) -> std::io::Error {
    std::io::Error::other(format!(
        "this socket belongs to runtime driver {owner} (the first to run IO on it) and cannot be \
         used under driver {here}: use each socket inside one runtime only"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let (a, b) = (DriverId::next(), DriverId::next());
        assert_ne!(a, b);
    }

    #[test]
    fn a_new_mailbox_is_empty() {
        assert!(Mailbox::default().is_empty());
    }
}
