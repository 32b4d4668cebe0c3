//! What every long-running example does around its serving code: listen on every worker of the
//! runtime (one `SO_REUSEPORT` listener per worker, the kernel spreads the connections), and stop
//! on Ctrl-C or `SIGTERM`.

#![allow(dead_code)] // each example takes the parts it needs

use std::future::{poll_fn, Future};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::task::Poll;

use runtime::net::TcpListener;
use runtime::signal::{signal, SignalKind};
use runtime::Runtime;

/// Builds the runtime from the command line's `--workers N` (default 1), or says why it cannot
/// in plain words and exits with status 1.
pub fn runtime(workers: usize) -> Runtime {
    match Runtime::builder().workers(workers).build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    }
}

/// Binds `addr` on worker 0 — with `SO_REUSEPORT` when there are several workers — and starts
/// `serve(listener)` on every worker, each with its own listener on the same port. Returns the
/// address bound (the port is known even when `addr` asked for port 0).
pub fn listen_on_every_worker<S, F>(addr: &str, serve: S) -> io::Result<SocketAddr>
where
    S: Fn(TcpListener) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + 'static,
{
    let sharded = runtime::workers() > 1;
    let first = if sharded {
        TcpListener::bind_reuseport(addr)?
    } else {
        TcpListener::bind(addr)?
    };
    let bound = first.local_addr()?;
    let first = std::sync::Mutex::new(Some(first.into_std()?));
    runtime::Handle::current().spawn_on_each(move |worker| {
        // Worker 0 serves the listener bound above; the others bind their own on its port.
        let listener = match worker {
            0 => TcpListener::from_std(first.lock().unwrap().take().expect("worker 0 runs once")),
            _ => TcpListener::bind_reuseport(bound),
        };
        let serving = listener.map(&serve);
        async move {
            match serving {
                Ok(serving) => serving.await,
                Err(e) => eprintln!("worker {worker}: cannot listen on {bound}: {e}"),
            }
        }
    });
    Ok(bound)
}

/// Prints `listening on ADDR` (the first line of output, which tests and tools read), waits for
/// Ctrl-C or `SIGTERM`, then returns how many workers ran and their counters summed.
pub async fn announce_and_wait(addr: SocketAddr) -> io::Result<(usize, runtime::Stats)> {
    println!("listening on {addr}");
    io::stdout().flush()?;
    stop_signal().await?;
    let workers = runtime::Handle::current().worker_stats().await;
    Ok((workers.len(), workers.iter().map(|w| w.stats).sum()))
}

/// Waits for Ctrl-C (`SIGINT`) or `SIGTERM`.
pub async fn stop_signal() -> io::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    poll_fn(|cx| {
        if interrupt.poll_recv(cx).is_ready() || terminate.poll_recv(cx).is_ready() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await
}
