//! The file workloads on monoio's io_uring driver (its positional file API is the same shape as
//! this project's).

use std::future::Future;
use std::time::Duration;

use monoio::{IoUringDriver, RuntimeBuilder};

use crate::{Case, Work};

pub use monoio::fs::{File, OpenOptions};

#[path = "owned.rs"]
mod owned;

/// Spawns `future`; the returned future gives its output.
pub fn spawn<F>(future: F) -> impl Future<Output = F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    monoio::spawn(future)
}

/// Builds a monoio io_uring runtime and times `case` on it.
pub fn run(case: Case, work: &Work) -> Result<Duration, String> {
    let mut rt = RuntimeBuilder::<IoUringDriver>::new()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(owned::timed(case, work))
        .map_err(|e| e.to_string())
}
