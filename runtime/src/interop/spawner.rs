//! [`Spawner`]: the runtime as a `futures` spawner (`futures_task::LocalSpawn` and `Spawn`), for
//! libraries that take one instead of calling a runtime's `spawn` themselves.

use std::sync::Arc;

use futures_task::{FutureObj, LocalFutureObj, LocalSpawn, Spawn, SpawnError};

use crate::executor::Shared;

/// A handle that spawns tasks on the runtime it was taken from. `Send + Sync + Clone`; spawning
/// works on that runtime's thread (tasks never migrate), and answers
/// [`SpawnError::shutdown`] elsewhere or once the runtime is gone.
///
/// ```
/// use futures_task::LocalSpawn;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let spawner = runtime::interop::spawner();
/// let (tx, rx) = runtime::sync::oneshot::channel();
/// let task = async move { tx.send(42).unwrap() };
/// spawner.spawn_local_obj(Box::pin(task).into()).unwrap();
/// assert_eq!(rx.await.unwrap(), 42);
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Spawner {
    owner: Arc<Shared>,
}

/// A [`Spawner`] for the current runtime.
///
/// # Panics
/// Outside a runtime.
pub fn spawner() -> Spawner {
    Spawner {
        owner: crate::context::with_executor(|e| e.shared().clone()),
    }
}

impl Spawner {
    fn check(&self) -> Result<(), SpawnError> {
        if self.owner.is_closed() || !crate::context::is_current(&self.owner) {
            return Err(SpawnError::shutdown());
        }
        Ok(())
    }
}

impl LocalSpawn for Spawner {
    fn spawn_local_obj(&self, future: LocalFutureObj<'static, ()>) -> Result<(), SpawnError> {
        self.check()?;
        drop(crate::spawn(future));
        Ok(())
    }

    fn status_local(&self) -> Result<(), SpawnError> {
        self.check()
    }
}

impl Spawn for Spawner {
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        self.spawn_local_obj(future.into())
    }

    fn status(&self) -> Result<(), SpawnError> {
        self.check()
    }
}
