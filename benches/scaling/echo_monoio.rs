//! The echo server on monoio (io_uring driver), thread-per-core the monoio way: one runtime per
//! thread, each with its own `SO_REUSEPORT` listener on the shared port, each thread pinned to
//! its core.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;

use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{ListenerOpts, TcpListener, TcpStream};
use monoio::{IoUringDriver, RuntimeBuilder};

use super::echo_server::{count_accept, failed, Accepted, Listening, Ready};
use super::threads::gettid;
use super::work::Work;
use crate::common::channel::oneshot;
use crate::common::sys;

/// Thread `index` of the server: binds `addr` (port 0 for the first thread) and serves until
/// `stop`.
pub fn serve(
    index: usize,
    addr: SocketAddr,
    work: Work,
    accepted: Accepted,
    ready: Ready,
    stop: oneshot::Receiver<()>,
) -> Result<(), String> {
    sys::pin_to_core(index % sys::online_cpus());
    let mut rt = RuntimeBuilder::<IoUringDriver>::new()
        .build()
        .map_err(|e| failed(&ready, e))?;
    rt.block_on(async move {
        let opts = ListenerOpts::new().reuse_port(true);
        let listener = TcpListener::bind_with_config(addr, &opts).map_err(|e| failed(&ready, e))?;
        let addr = listener.local_addr().map_err(|e| failed(&ready, e))?;
        let workers = vec![gettid()];
        let _ = ready.send(Ok(Listening { addr, workers }));
        until(stop, accept_loop(listener, index, accepted, work)).await;
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
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(super::BUFFER);
    loop {
        let (res, data) = stream.read(buf).await;
        match res {
            Ok(0) | Err(_) => break,
            Ok(_) => work.on(&data),
        }
        let (res, data) = stream.write_all(data).await;
        if res.is_err() {
            break;
        }
        buf = data;
    }
}
