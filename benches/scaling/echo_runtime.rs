//! The echo server on this project's runtime with `n` workers: one `SO_REUSEPORT` listener per
//! worker, started with `Handle::spawn_on_each` (the pattern of `examples/common/serve.rs`), one
//! task per connection on the worker that accepted it.

use std::sync::Mutex;

use runtime::net::{TcpListener, TcpStream};
use runtime::{Backend, Runtime};

use super::echo_server::{count_accept, echo_owned, Accepted, Assignment, Listening};
use super::threads::gettid;
use super::work::Work;
use crate::common::channel::mpsc;
use crate::common::sys;

/// Serves on a runtime of `workers` workers on `backend`, the calling thread being worker 0,
/// until told to stop.
pub fn serve(backend: Backend, workers: usize, job: Assignment) -> Result<(), String> {
    // Each worker pins itself (below) rather than through `Builder::pin_workers`, which pins
    // every worker to CPU 0 when worker 0 pins itself first (see docs/scaling.md).
    let rt = Runtime::builder()
        .backend(backend)
        .workers(workers)
        .build()
        .map_err(|e| job.failed(e))?;
    let handle = rt.handle();
    rt.block_on(async move {
        let listening = listen_on_every_worker(&handle, job.work, job.accepted).await;
        let started = listening.is_ok();
        let _ = job.ready.send(listening);
        if started {
            job.stop.await;
        }
    });
    Ok(())
}

/// Binds the first listener here, then one per worker on its port, and waits until each worker
/// has bound its own.
async fn listen_on_every_worker(
    handle: &runtime::Handle,
    work: Work,
    accepted: Accepted,
) -> Result<Listening, String> {
    let first = TcpListener::bind_reuseport("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = first.local_addr().map_err(|e| e.to_string())?;
    let first = Mutex::new(Some(first.into_std().map_err(|e| e.to_string())?));
    let (bound, mut reports) = mpsc::channel::<Result<i32, String>>();
    handle.spawn_on_each(move |worker| {
        sys::pin_to_core(worker % sys::online_cpus());
        let listener = match worker {
            0 => TcpListener::from_std(first.lock().unwrap().take().expect("worker 0 runs once")),
            _ => TcpListener::bind_reuseport(addr),
        };
        bound.send(
            listener
                .as_ref()
                .map(|_| gettid())
                .map_err(|e| e.to_string()),
        );
        let accepted = accepted.clone();
        async move {
            if let Ok(listener) = listener {
                accept_loop(listener, worker, accepted, work).await;
            }
        }
    });
    let mut workers = Vec::with_capacity(handle.workers());
    for _ in 0..handle.workers() {
        let report = reports.recv().await.ok_or("a worker stopped")?;
        workers.push(report?);
    }
    Ok(Listening { addr, workers })
}

async fn accept_loop(listener: TcpListener, worker: usize, accepted: Accepted, work: Work) {
    while let Ok((stream, _)) = listener.accept().await {
        count_accept(&accepted, worker);
        runtime::spawn(echo(stream, work));
    }
}

async fn echo(stream: TcpStream, work: Work) {
    echo_owned!(stream, work);
}
