//! [`Builder`]: spawn a task with settings (today, a name).

use std::future::Future;
use std::io;

use super::JoinHandle;

/// Spawns a task with a name, which a [`JoinError`](super::JoinError) for that task carries (a
/// panic reads "task 'name' panicked: ...").
///
/// The name is stored with the task, after its future; a task spawned without one (by
/// [`spawn`](crate::spawn) or by a builder given no name) stores nothing and costs nothing more.
///
/// ```
/// use runtime::task::Builder;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let handle = Builder::new().name("answer").spawn(async { 42 })?;
/// assert_eq!(handle.await.unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name set.
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the task (the name is copied when it is spawned).
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// Spawns `future` on the current thread's runtime, like [`spawn`](crate::spawn). The future
    /// need not be `Send`.
    ///
    /// Returns a `Result`, as tokio's `Builder::spawn` does, so that code written for it carries
    /// over; spawning a task on this runtime does not fail today.
    ///
    /// # Panics
    /// When called outside a runtime.
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Ok(crate::context::with_executor(|executor| match self.name {
            Some(name) => executor.spawn(future, Box::<str>::from(name)),
            None => executor.spawn(future, ()),
        }))
    }
}
