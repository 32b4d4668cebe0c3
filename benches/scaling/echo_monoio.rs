//! The echo server on monoio (io_uring driver), thread-per-core the monoio way: one runtime per
//! thread, each with its own `SO_REUSEPORT` listener on the shared port, each thread pinned to
//! its core.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;

use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{ListenerOpts, TcpListener, TcpStream};
use monoio::{IoUringDriver, RuntimeBuilder};

use super::echo_server::{count_accept, echo_owned, Accepted, Assignment, Listening};
use super::threads::gettid;
use super::work::Work;
use crate::common::channel::oneshot;
use crate::common::sys;

/// Thread `index` of the server: binds `addr` (port 0 for the first thread) and serves until
/// told to stop.
pub fn serve(index: usize, addr: SocketAddr, job: Assignment) -> Result<(), String> {
    sys::pin_to_core(index % sys::online_cpus());
    let mut rt = RuntimeBuilder::<IoUringDriver>::new()
        .build()
        .map_err(|e| job.failed(e))?;
    rt.block_on(async move {
        let opts = ListenerOpts::new().reuse_port(true);
        let listener = TcpListener::bind_with_config(addr, &opts).map_err(|e| job.failed(e))?;
        let addr = listener.local_addr().map_err(|e| job.failed(e))?;
        let workers = vec![gettid()];
        let _ = job.ready.send(Ok(Listening { addr, workers }));
        let serving = accept_loop(listener, index, job.accepted, job.work);
        until(job.stop, serving).await;
        Ok(())
    })
}

/// Runs `work` until `stop` arrives.
async fn until(stop: oneshot::Receiver<()>, work: impl Future<Output = ()>) {
    futures::future::select(pin!(stop), pin!(work)).await;
}

async fn accept_loop(listener: TcpListener, index: usize, accepted: Accepted, work: Work) {
    while let Ok((stream, _)) = listener.accept().await {
        count_accept(&accepted, index);
        monoio::spawn(echo(stream, work));
    }
}

async fn echo(mut stream: TcpStream, work: Work) {
    echo_owned!(stream, work);
}
