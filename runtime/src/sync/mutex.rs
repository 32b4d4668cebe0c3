//! [`Mutex`]: an async lock, handed to waiters first come, first served.
//!
//! It is a [`Semaphore`] with one permit beside the value in a `RefCell`. A guard holds the permit
//! and the `RefCell`'s borrow; the semaphore lets one guard exist at a time, so the borrow never
//! fails. That check is the price of having no `unsafe` here.
//!
//! Fairness and cancellation are the semaphore's: waiters get the lock in the order they asked,
//! an unlock hands it straight to the oldest waiter (a task calling `lock` meanwhile cannot take
//! it first), and a `lock` future dropped after the lock was handed to it passes it on.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};

use super::{Semaphore, SemaphorePermit, TryLockError};

/// A lock whose holder may keep it across `.await`s; others wait (asynchronously) their turn.
///
/// ```
/// use std::rc::Rc;
/// use runtime::sync::Mutex;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let log = Rc::new(Mutex::new(Vec::new()));
/// let mut tasks = Vec::new();
/// for i in 0..3 {
///     let log = log.clone();
///     tasks.push(runtime::spawn(async move {
///         let mut entries = log.lock().await;
///         entries.push(i);
///         runtime::task::yield_now().await; // still ours while we wait
///         entries.push(i);
///     }));
/// }
/// for task in tasks {
///     task.await.unwrap();
/// }
/// // Each task's two entries are side by side, and the tasks went in order.
/// assert_eq!(*log.lock().await, [0, 0, 1, 1, 2, 2]);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    semaphore: Semaphore,
    value: RefCell<T>,
}

/// Access to the value of a locked [`Mutex`]; unlocks when dropped.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let counter = runtime::sync::Mutex::new(0);
/// let mut guard = counter.lock().await;
/// *guard += 1;
/// assert!(counter.try_lock().is_err());
/// drop(guard);
/// assert_eq!(*counter.try_lock().unwrap(), 1);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    // Declared first, so the borrow ends before the permit wakes the next holder.
    value: RefMut<'a, T>,
    _permit: SemaphorePermit<'a>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            semaphore: Semaphore::new(1),
            value: RefCell::new(value),
        }
    }

    /// The value, giving up the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock. Tasks get it in the order they called `lock`.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let permit = self.semaphore.acquire().await;
        self.guard(permit.expect("a mutex's semaphore is never closed"))
    }

    /// The lock if it is free and nobody waits for it.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.semaphore.try_acquire() {
            Ok(permit) => Ok(self.guard(permit)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The value, through an exclusive reference (which proves nobody holds the lock).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    fn guard<'a>(&'a self, permit: SemaphorePermit<'a>) -> MutexGuard<'a, T> {
        MutexGuard {
            value: self.value.borrow_mut(),
            _permit: permit,
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_lock(f, "Mutex", &self.value)
    }
}

/// Formats a lock as `name { value: .. }`, or `<locked>` while a writer holds it.
pub(super) fn debug_lock<T: ?Sized + fmt::Debug>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    value: &RefCell<T>,
) -> fmt::Result {
    let mut d = f.debug_struct(name);
    match value.try_borrow() {
        Ok(value) => d.field("value", &&*value),
        Err(_) => d.field("value", &format_args!("<locked>")),
    };
    d.finish()
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
