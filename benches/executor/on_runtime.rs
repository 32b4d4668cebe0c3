//! The executor workloads on this project's runtime (either backend).

use std::future::Future;
use std::time::Duration;

use runtime::{Backend, Runtime};

use crate::Case;

pub use runtime::task::yield_now;
pub use runtime::time::sleep;

#[path = "workloads.rs"]
mod workloads;

/// Spawns `future` and returns a future of its output (dropping it detaches the task).
pub fn spawn<F>(future: F) -> impl Future<Output = F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let handle = runtime::spawn(future);
    async move { handle.await.expect("task failed") }
}

/// Runs `f` on the blocking pool and returns a future of its result.
pub fn spawn_blocking<F, R>(f: F) -> impl Future<Output = R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let handle = runtime::task::spawn_blocking(f);
    async move { handle.await.expect("blocking task failed") }
}

/// Builds a runtime on `backend` and times `case` on it.
pub fn run(backend: Backend, case: Case, n: usize) -> Result<Duration, String> {
    let rt = Runtime::builder()
        .backend(backend)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(rt.block_on(workloads::timed(case, n)))
}
