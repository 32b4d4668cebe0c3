//! The echo server on tokio's `multi_thread` runtime with `n` workers, the way tokio is usually
//! run: one listener, an accept loop spawning one task per connection, and tokio's work-stealing
//! scheduler spreading the tasks over the workers. Workers are pinned to cores 0, 1, ... in the
//! order they start, like the other servers' threads.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::echo_server::{collect, count_accept, Accepted, Assignment, Listening};
use super::threads::gettid;
use super::work::Work;
use crate::common::sys;

/// Serves on a tokio `multi_thread` runtime of `workers` workers until told to stop.
pub fn serve(workers: usize, job: Assignment) -> Result<(), String> {
    let (started, tids) = mpsc::channel();
    let next = AtomicUsize::new(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .on_thread_start(move || {
            let i = next.fetch_add(1, Relaxed);
            sys::pin_to_core(i % sys::online_cpus());
            let _ = started.send(gettid());
        })
        .enable_all()
        .build()
        .map_err(|e| job.failed(e))?;
    let workers = collect(workers, &tids).map_err(|e| job.failed(e))?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| job.failed(e))?;
    let addr = listener.local_addr().map_err(|e| job.failed(e))?;
    let listener = {
        let _entered = rt.enter();
        TcpListener::from_std(listener).map_err(|e| job.failed(e))?
    };
    rt.spawn(accept_loop(listener, job.accepted, job.work));
    let _ = job.ready.send(Ok(Listening { addr, workers }));
    rt.block_on(job.stop);
    rt.shutdown_timeout(Duration::from_secs(5));
    Ok(())
}

async fn accept_loop(listener: TcpListener, accepted: Accepted, work: Work) {
    while let Ok((stream, _)) = listener.accept().await {
        count_accept(&accepted, 0);
        tokio::spawn(echo(stream, work));
    }
}

async fn echo(mut stream: TcpStream, work: Work) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; super::BUFFER];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        work.on(&buf[..n]);
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}
