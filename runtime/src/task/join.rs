//! [`JoinHandle`]: the spawner's side of a task, a future of the task's output.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::raw::Header;
use super::AbortHandle;

/// An owned permission to await a spawned task's output, or to abort it.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] when the task panicked or was aborted.
/// Dropping it detaches the task: the task keeps running and its output is dropped when it ends.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let handle = runtime::spawn(async { 6 * 7 });
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    // The handle is tied to the spawning thread (the output may not be `Send`).
    _marker: PhantomData<(T, *const ())>,
}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` must be a task whose output type is `T`, and the handle takes over the join reference.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> Self {
        JoinHandle {
            raw,
            _marker: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle owns a reference, so the header is alive.
        unsafe { self.raw.as_ref() }
    }

    /// Asks the task to stop. Its future is dropped the next time the executor reaches it, and
    /// awaiting this handle then yields a [`JoinError`] for which `is_cancelled()` is true. A task that
    /// already finished keeps its output.
    pub fn abort(&self) {
        super::abort::abort(self.header(), self.raw);
    }

    /// A handle that can abort the task from any thread, without awaiting it.
    pub fn abort_handle(&self) -> AbortHandle {
        self.header().state.ref_inc();
        // SAFETY: the reference just taken is the new handle's.
        unsafe { AbortHandle::from_raw(self.raw) }
    }

    /// Whether the task has ended (finished, panicked or was aborted).
    pub fn is_finished(&self) -> bool {
        self.header().state.is_complete()
    }
}

// The handle holds a pointer to the task, never the output itself: moving the handle moves nothing
// that could be pinned, so it is `Unpin` whatever `T` is (and can be polled with `Pin::new`).
impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.header();
        if !header.state.is_complete() {
            // Completion happens on this same thread, so there is no race between this check and
            // storing the waker.
            header.join_waker.set(Some(cx.waker().clone()));
            return Poll::Pending;
        }
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: the task is complete, its output type is T (from_raw's contract), and we are on
        // the owner thread (the handle is !Send).
        unsafe { (header.vtable.read_output)(self.raw, &mut out as *mut _ as *mut ()) };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.header();
        if header.state.drop_join_interest() {
            // The task is done and its output is ours to drop (on this, the owner thread).
            // SAFETY: owner thread, no other borrow of the stage.
            unsafe { (header.vtable.drop_stage)(self.raw) };
        }
        header.join_waker.set(None);
        // SAFETY: the handle owned one reference, released exactly once.
        unsafe { super::drop_ref(self.raw) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why a task produced no output: it panicked, or it was aborted (or its runtime shut down).
///
/// Its message names the task when it has a name (see [`Builder`](super::Builder)):
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let handle = runtime::task::Builder::new()
///     .name("parser")
///     .spawn(async { panic!("bad input") })
///     .unwrap();
/// let err = handle.await.unwrap_err();
/// assert_eq!(err.to_string(), "task 'parser' panicked: bad input");
/// assert_eq!(err.task_name(), Some("parser"));
/// # });
/// ```
pub struct JoinError {
    repr: Repr,
    /// The name of the task, if it had one.
    task_name: Option<Box<str>>,
}

enum Repr {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
            task_name: None,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(payload),
            task_name: None,
        }
    }

    /// The error, naming the task `name` (when it has one).
    pub(crate) fn in_task(mut self, name: Option<&str>) -> JoinError {
        self.task_name = name.map(Box::from);
        self
    }

    /// The name of the task, when it was spawned with one.
    pub fn task_name(&self) -> Option<&str> {
        self.task_name.as_deref()
    }

    /// The task was aborted, or dropped when its runtime shut down.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the error is not a panic.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.repr {
            Repr::Panic(p) => p,
            Repr::Cancelled => panic!("JoinError::into_panic on a cancelled task"),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task")?;
        if let Some(name) = self.task_name() {
            write!(f, " '{name}'")?;
        }
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str(" was cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, " panicked: {msg}"),
            (Repr::Panic(_), None) => f.write_str(" panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> Self {
        std::io::Error::other(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::JoinHandle;

    /// Compiles only if the handle is `Unpin` for an output that is not.
    #[test]
    fn join_handle_is_unpin_whatever_the_output() {
        fn assert_unpin<T: Unpin>() {}
        assert_unpin::<JoinHandle<std::marker::PhantomPinned>>();
    }
}
