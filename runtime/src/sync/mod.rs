//! Channels between tasks of the same worker thread.
//!
//! Tasks of one runtime share a thread, so these channels need no atomics or locks: the state is an
//! `Rc<RefCell<..>>` and a waiting side just stores its waker. (They are `!Send`: to talk to another
//! thread, use `std::sync::mpsc` from a blocking-pool job, or any `Send` channel whose receiver
//! wakes through a `Waker` — runtime wakers work from any thread.)

pub mod mpsc;
pub mod oneshot;

use std::fmt;

/// The other side of the channel is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl std::error::Error for Closed {}
