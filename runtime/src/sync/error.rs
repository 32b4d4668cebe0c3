//! Errors shared by several primitives: a send nobody can receive, a lock that is taken.

use std::fmt;

/// The value could not be sent: the receiving side is gone (or closed). The value comes back.
///
/// ```
/// use runtime::sync::{mpsc, SendError};
///
/// let (tx, rx) = mpsc::unbounded_channel();
/// drop(rx);
/// assert_eq!(tx.send(7), Err(SendError(7)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// [`Mutex::try_lock`](super::Mutex::try_lock) or an `RwLock`'s `try_read`/`try_write` would
/// have had to wait.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let lock = runtime::sync::Mutex::new(0);
/// let _guard = lock.lock().await;
/// assert!(lock.try_lock().is_err());
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(super) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held, or others wait for it first")
    }
}

impl std::error::Error for TryLockError {}
