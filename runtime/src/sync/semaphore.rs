//! [`Semaphore`]: a count of permits that tasks take and give back, handed out first come, first
//! served.
//!
//! It is the base of `Mutex` (one permit), `RwLock` (one permit per reader, all of them for a
//! writer) and the bounded `mpsc` channel (one permit per free slot).
//!
//! **Fairness.** Waiters are served in the order they started waiting, and a released permit goes
//! straight to the oldest waiter (its entry is marked [`Notification::One`]) instead of back to
//! the count, so a newcomer cannot take it first. A large request at the front holds back smaller
//! ones behind it: it is never starved by them.
//!
//! **Cancellation.** A dropped `acquire` leaves the list. If it had already been handed its
//! permits, it gives them back, and they go on to the next waiter; if it was the front waiter,
//! the ones behind it are looked at again, since its request no longer holds them back.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{Notification, Polled, WaitKey, WaitList, WakeList};

/// A count of permits, shared by the tasks of one thread.
///
/// ```
/// use std::rc::Rc;
/// use runtime::sync::Semaphore;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// // At most two downloads at a time.
/// let slots = Rc::new(Semaphore::new(2));
/// let mut tasks = Vec::new();
/// for i in 0..5 {
///     let slots = slots.clone();
///     tasks.push(runtime::spawn(async move {
///         let _permit = slots.acquire().await.unwrap();
///         assert!(slots.available_permits() < 2);
///         i // ... download number i while holding the permit ...
///     }));
/// }
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(slots.available_permits(), 2);
/// # });
/// ```
pub struct Semaphore {
    state: RefCell<State>,
}

struct State {
    /// Permits nobody holds and no waiter has been handed.
    permits: usize,
    closed: bool,
    /// Waiters with the number of permits each asks for.
    waiters: WaitList<usize>,
}

/// [`Semaphore::acquire`] failed: the semaphore is closed.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let semaphore = runtime::sync::Semaphore::new(1);
/// semaphore.close();
/// assert!(semaphore.acquire().await.is_err());
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

/// Why [`Semaphore::try_acquire`] did not acquire.
///
/// ```
/// use runtime::sync::{Semaphore, TryAcquireError};
///
/// let semaphore = Semaphore::new(1);
/// let _permit = semaphore.try_acquire().unwrap();
/// assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// semaphore.close();
/// assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// Not enough permits are free, or other tasks are waiting for them first.
    NoPermits,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub const fn new(permits: usize) -> Semaphore {
        assert!(permits <= Self::MAX_PERMITS, "too many permits");
        Semaphore {
            state: RefCell::new(State {
                permits,
                closed: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        self.state.borrow().permits
    }

    /// Adds `n` permits; they go to waiters first, oldest first.
    ///
    /// # Panics
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        let woken = self.state.borrow_mut().release(n);
        woken.wake_all();
    }

    /// Waits for one permit. `Err` once the semaphore is closed.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits, taken all at once. `Err` once the semaphore is closed.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let permits = n as usize;
        self.acquire_permits(permits).await?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// One permit if one is free and nobody waits before us.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// `n` permits if they are free and nobody waits before us.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let permits = n as usize;
        self.try_acquire_permits(permits)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Waits for one permit held through an `Rc`, so the permit can move into another task.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use runtime::sync::Semaphore;
    ///
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let semaphore = Rc::new(Semaphore::new(1));
    /// let permit = semaphore.clone().acquire_owned().await.unwrap();
    /// let task = runtime::spawn(async move {
    ///     let _permit = permit; // released when this task ends
    /// });
    /// task.await.unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Rc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Waits for `n` permits held through an `Rc`.
    pub async fn acquire_many_owned(
        self: Rc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permits = n as usize;
        self.acquire_permits(permits).await?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// One permit held through an `Rc`, if one is free and nobody waits before us.
    pub fn try_acquire_owned(self: Rc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_permits(1)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits: 1,
        })
    }

    /// Closes the semaphore: waiting and future `acquire`s fail. Permits already handed to a
    /// waiter stay its own (that `acquire` succeeds), and held permits can still be released.
    pub fn close(&self) {
        let mut woken = WakeList::new();
        {
            let mut state = self.state.borrow_mut();
            state.closed = true;
            state.waiters.notify_all(&mut woken);
        }
        woken.wake_all();
    }

    /// Whether [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// Waits for `permits` permits that no permit object will own (the caller accounts for them
    /// and gives them back with `add_permits`).
    pub(crate) fn acquire_permits(&self, permits: usize) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            permits,
            key: None,
        }
    }

    /// Takes `permits` permits that no permit object will own, if free and nobody waits first.
    pub(crate) fn try_acquire_permits(&self, permits: usize) -> Result<(), TryAcquireError> {
        let mut state = self.state.borrow_mut();
        if state.closed {
            Err(TryAcquireError::Closed)
        } else if state.take_if_first(permits) {
            Ok(())
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }
}

impl State {
    /// Takes `permits` if they are free and nobody waits: the fast path, which must not overtake
    /// a waiter.
    fn take_if_first(&mut self, permits: usize) -> bool {
        let free = self.waiters.is_empty() && self.permits >= permits;
        if free {
            self.permits -= permits;
        }
        free
    }

    /// Returns `n` permits and hands them on.
    fn release(&mut self, n: usize) -> WakeList {
        self.permits = self
            .permits
            .checked_add(n)
            .filter(|&p| p <= Semaphore::MAX_PERMITS)
            .expect("semaphore permits overflow");
        self.hand_out()
    }

    /// Gives free permits to the waiters at the front, oldest first, while the front request
    /// fits.
    fn hand_out(&mut self) -> WakeList {
        let mut woken = WakeList::new();
        while let Some(&wanted) = self.waiters.front() {
            if wanted > self.permits {
                break;
            }
            self.permits -= wanted;
            woken.extend(self.waiters.notify_front());
        }
        woken
    }
}

/// The future of [`Semaphore::acquire_permits`]: `Ok` once the permits are taken.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub(crate) struct Acquire<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
    /// The waiter entry, while waiting.
    key: Option<WaitKey>,
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut state = this.semaphore.state.borrow_mut();
        match this.key.take() {
            None if state.closed => Poll::Ready(Err(AcquireError(()))),
            None if state.take_if_first(this.permits) => Poll::Ready(Ok(())),
            None => {
                this.key = Some(state.waiters.push_back(this.permits, cx.waker()));
                Poll::Pending
            }
            Some(key) => match state.waiters.poll(key, cx.waker()) {
                Polled::Waiting(key) => {
                    this.key = Some(key);
                    Poll::Pending
                }
                // Handed the permits.
                Polled::Notified(Notification::One) => Poll::Ready(Ok(())),
                // Woken by `close`.
                Polled::Notified(Notification::All) => Poll::Ready(Err(AcquireError(()))),
            },
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let woken = {
            let mut state = self.semaphore.state.borrow_mut();
            match state.waiters.remove(key) {
                // Handed permits it will not use: they go to the next waiters.
                Some(Notification::One) => state.release(self.permits),
                // It may have been the front request holding smaller ones back.
                None => state.hand_out(),
                Some(Notification::All) => WakeList::new(),
            }
        };
        woken.wake_all();
    }
}

/// Permits borrowed from a [`Semaphore`], given back when dropped.
///
/// ```
/// let semaphore = runtime::sync::Semaphore::new(3);
/// let permit = semaphore.try_acquire_many(2).unwrap();
/// assert_eq!((permit.num_permits(), semaphore.available_permits()), (2, 1));
/// drop(permit);
/// assert_eq!(semaphore.available_permits(), 3);
/// semaphore.try_acquire().unwrap().forget(); // never given back
/// assert_eq!(semaphore.available_permits(), 2);
/// ```
#[must_use = "the permits are released as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Keeps the permits out of the semaphore for good (they are not given back).
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.semaphore.add_permits(self.permits);
        }
    }
}

/// Permits from a [`Semaphore`] held through an `Rc`, given back when dropped (see
/// [`Semaphore::acquire_owned`]'s example).
#[must_use = "the permits are released as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    semaphore: Rc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Rc<Semaphore> {
        &self.semaphore
    }

    /// Keeps the permits out of the semaphore for good (they are not given back).
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.semaphore.add_permits(self.permits);
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("closed", &state.closed)
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}
