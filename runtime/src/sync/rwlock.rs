//! [`RwLock`]: many readers or one writer, served first come, first served.
//!
//! It is a [`Semaphore`] with `MAX_READS` permits beside the value in a `RefCell`: a reader takes
//! one permit (and a shared borrow), a writer takes them all (and the exclusive borrow). Because the
//! semaphore serves requests in order, the lock is fair: a waiting writer holds back the readers
//! that come after it (so a stream of readers cannot starve it), and readers queued behind a
//! writer get in together once it is done.

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};

use super::{Semaphore, SemaphorePermit, TryLockError};

/// How many readers may hold an [`RwLock`] at once (its semaphore's permits).
const MAX_READS: u32 = u32::MAX >> 3;

/// A lock for many readers or one writer, which may be held across `.await`s.
///
/// ```
/// use std::rc::Rc;
/// use runtime::sync::RwLock;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let config = Rc::new(RwLock::new(String::from("v1")));
/// {
///     let a = config.read().await;
///     let b = config.read().await; // readers share the lock
///     assert_eq!(*a, *b);
///     assert!(config.try_write().is_err());
/// }
/// config.write().await.push_str("-patched");
/// assert_eq!(*config.read().await, "v1-patched");
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    semaphore: Semaphore,
    value: RefCell<T>,
}

/// Shared access to the value of an [`RwLock`]; released when dropped.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let lock = runtime::sync::RwLock::new(5);
/// let guard = lock.read().await;
/// assert_eq!(*guard, 5);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    // Declared first, so the borrow ends before the permit wakes the next holder.
    value: Ref<'a, T>,
    _permit: SemaphorePermit<'a>,
}

/// Exclusive access to the value of an [`RwLock`]; released when dropped.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let lock = runtime::sync::RwLock::new(5);
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    value: RefMut<'a, T>,
    _permit: SemaphorePermit<'a>,
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            semaphore: Semaphore::new(MAX_READS as usize),
            value: RefCell::new(value),
        }
    }

    /// The value, giving up the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access (behind any writer that asked first).
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        let permit = self.semaphore.acquire().await;
        self.read_guard(permit.expect("an RwLock's semaphore is never closed"))
    }

    /// Waits for exclusive access.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        let permit = self.semaphore.acquire_many(MAX_READS).await;
        self.write_guard(permit.expect("an RwLock's semaphore is never closed"))
    }

    /// Shared access if no writer holds or waits for the lock.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        match self.semaphore.try_acquire() {
            Ok(permit) => Ok(self.read_guard(permit)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Exclusive access if nobody holds or waits for the lock.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        match self.semaphore.try_acquire_many(MAX_READS) {
            Ok(permit) => Ok(self.write_guard(permit)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The value, through an exclusive reference (which proves nobody holds the lock).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    fn read_guard<'a>(&'a self, permit: SemaphorePermit<'a>) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            value: self.value.borrow(),
            _permit: permit,
        }
    }

    fn write_guard<'a>(&'a self, permit: SemaphorePermit<'a>) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard {
            value: self.value.borrow_mut(),
            _permit: permit,
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::mutex::debug_lock(f, "RwLock", &self.value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
