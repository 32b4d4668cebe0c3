//! The file workloads on this project's runtime: under io_uring they are ring submissions; under
//! epoll every operation goes to the blocking pool (files are never "ready" to epoll).

use std::future::Future;
use std::io;
use std::time::Duration;

use runtime::{Backend, Runtime};

use crate::{Case, Work};

pub use runtime::fs::{File, OpenOptions};

#[path = "owned.rs"]
mod owned;

/// Spawns `future`; the returned future gives its output.
pub fn spawn<F>(future: F) -> impl Future<Output = F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let handle = runtime::spawn(future);
    async move { handle.await.expect("task failed") }
}

/// Builds a runtime on `backend` and times `case` on it.
pub fn run(backend: Backend, case: Case, work: &Work) -> Result<Duration, String> {
    let rt = Runtime::builder()
        .backend(backend)
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(owned::timed(case, work))
        .map_err(|e: io::Error| e.to_string())
}
