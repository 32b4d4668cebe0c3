//! The executor workloads on tokio, `current_thread` or `multi_thread` with one worker.

use std::future::Future;
use std::time::Duration;

use crate::Case;

pub use tokio::task::yield_now;
pub use tokio::time::sleep;

#[path = "workloads.rs"]
mod workloads;

/// Which tokio scheduler.
#[derive(Debug, Clone, Copy)]
pub enum Flavour {
    /// Everything on the thread that calls `block_on`.
    CurrentThread,
    /// One worker thread; the workload is spawned onto it so that it runs where its tasks run.
    MultiThread1,
}

/// Spawns `future` and returns a future of its output (dropping it detaches the task).
pub fn spawn<F>(future: F) -> impl Future<Output = F::Output> + Send
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = tokio::spawn(future);
    async move { handle.await.expect("task failed") }
}

/// Runs `f` on tokio's blocking pool and returns a future of its result.
pub fn spawn_blocking<F, R>(f: F) -> impl Future<Output = R> + Send
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let handle = tokio::task::spawn_blocking(f);
    async move { handle.await.expect("blocking task failed") }
}

/// Builds a tokio runtime of the given flavour and times `case` on it.
pub fn run(flavour: Flavour, case: Case, n: usize) -> Result<Duration, String> {
    let rt = match flavour {
        Flavour::CurrentThread => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Flavour::MultiThread1 => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build(),
    }
    .map_err(|e| e.to_string())?;
    Ok(match flavour {
        Flavour::CurrentThread => rt.block_on(workloads::timed(case, n)),
        Flavour::MultiThread1 => rt
            .block_on(rt.spawn(workloads::timed(case, n)))
            .map_err(|e| e.to_string())?,
    })
}
