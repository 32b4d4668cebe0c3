//! The accept loop of every measured server, whatever its runtime: accept exactly the expected
//! connections, each onto its own task, start the meter once the last one is in, then wait for
//! every task to end (the client closing its connection).

use std::future::Future;
use std::io;
use std::sync::Arc;

use super::meter::Meter;

/// What awaiting a spawned task gives: nothing (monoio), or a result whose error is the task's
/// failure (this runtime, tokio).
pub trait TaskEnd {
    /// `Err` with the failure's text if the task failed.
    fn into_result(self) -> Result<(), String>;
}

impl TaskEnd for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: ToString> TaskEnd for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// Accepts `conns` connections with `accept`, hands each to `spawn` with the meter, starts the
/// meter after the last accept, and waits for all the tasks.
pub async fn serve_each<C, A, H>(
    conns: usize,
    meter: &Arc<Meter>,
    mut accept: impl FnMut() -> A,
    mut spawn: impl FnMut(C, Arc<Meter>) -> H,
) -> Result<(), String>
where
    A: Future<Output = io::Result<C>>,
    H: Future,
    H::Output: TaskEnd,
{
    let mut tasks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let conn = accept().await.map_err(|e| e.to_string())?;
        tasks.push(spawn(conn, meter.clone()));
    }
    meter.start();
    for task in tasks {
        task.await.into_result()?;
    }
    Ok(())
}
