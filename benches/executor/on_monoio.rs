//! The executor workloads on monoio, with its io_uring or its epoll ("legacy") driver.

use std::future::Future;
use std::time::Duration;

use monoio::blocking::DefaultThreadPool;
use monoio::{IoUringDriver, LegacyDriver, RuntimeBuilder};

use crate::Case;

pub use crate::common::yield_once as yield_now;
pub use monoio::time::sleep;

#[path = "workloads.rs"]
mod workloads;

/// Which monoio driver.
#[derive(Debug, Clone, Copy)]
pub enum Driver {
    /// io_uring.
    IoUring,
    /// epoll, through mio.
    Legacy,
}

/// Spawns `future` and returns a future of its output (dropping it detaches the task).
pub fn spawn<F>(future: F) -> impl Future<Output = F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    monoio::spawn(future)
}

/// Runs `f` on the thread pool attached to the runtime and returns a future of its result.
pub fn spawn_blocking<F, R>(f: F) -> impl Future<Output = R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let handle = monoio::spawn_blocking(f);
    async move { handle.await.expect("blocking task failed") }
}

/// Builds a monoio runtime (timers on, a one-thread blocking pool) and times `case` on it.
pub fn run(driver: Driver, case: Case, n: usize) -> Result<Duration, String> {
    // One pool thread is enough: the blocking round trips are sequential.
    let pool = || Box::new(DefaultThreadPool::new(1));
    match driver {
        Driver::IoUring => {
            let mut rt = RuntimeBuilder::<IoUringDriver>::new()
                .attach_thread_pool(pool())
                .enable_timer()
                .build()
                .map_err(|e| e.to_string())?;
            Ok(rt.block_on(workloads::timed(case, n)))
        }
        Driver::Legacy => {
            let mut rt = RuntimeBuilder::<LegacyDriver>::new()
                .attach_thread_pool(pool())
                .enable_timer()
                .build()
                .map_err(|e| e.to_string())?;
            Ok(rt.block_on(workloads::timed(case, n)))
        }
    }
}
