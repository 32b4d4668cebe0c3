//! [`timeout`]: run a future with a deadline.
//!
//! `Timeout` is a future and a [`Sleep`] side by side: each poll polls the
//! inner future first, then the sleep. The future therefore wins a tie (a
//! result that is ready is never thrown away because the deadline also
//! passed), and when the future completes first, dropping the `Timeout` drops
//! the sleep, which cancels its timer.

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::sleep::{deadline_after, sleep_until, Sleep};

/// Requires `future` to complete within `duration`.
///
/// Resolves to `Ok(output)` if it does, or to `Err(Elapsed)` once the duration
/// has passed, in which case the inner future is dropped (cancelled) along
/// with the `Timeout`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use runtime::time::{sleep, timeout};
///
/// async fn too_slow() {
///     let result = timeout(Duration::from_millis(10), sleep(Duration::from_secs(5))).await;
///     assert!(result.is_err());
/// }
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), deadline_after(duration))
}

/// Requires `future` to complete before `deadline`; see [`timeout`]. One
/// deadline can bound several steps:
///
/// ```
/// use std::time::Duration;
/// use runtime::time::{sleep, timeout_at, Instant};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let deadline = Instant::now() + Duration::from_millis(30);
/// // The first step fits…
/// assert_eq!(timeout_at(deadline, async { 1 }).await, Ok(1));
/// // …the second does not, and gives up at the same deadline.
/// let slow = timeout_at(deadline, sleep(Duration::from_secs(10))).await;
/// assert!(slow.is_err() && Instant::now() >= deadline);
/// # });
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), deadline)
}

pin_project! {
    /// Future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    fn new(future: F, deadline: Instant) -> Self {
        Timeout {
            future,
            sleep: sleep_until(deadline),
        }
    }

    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The wrapped future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Gives up the deadline and returns the wrapped future.
    pub fn into_inner(self) -> F {
        self.future
    }

    /// The instant at which the timeout elapses.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Error returned by [`Timeout`] when the deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    /// An [`std::io::ErrorKind::TimedOut`] error, so IO code can use `?`.
    fn from(elapsed: Elapsed) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, elapsed)
    }
}
