//! The echo server on tokio: `current_thread`, or `multi_thread` with one worker pinned to the
//! server core (the accept loop is spawned onto the worker, so all the work happens there).

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::accept::serve_each;
use super::meter::{Meter, ServerMeasure};
use super::server::{Ready, SERVER_CORE};
use super::BUFFER;
use crate::common::sys;

/// Which tokio scheduler.
#[derive(Debug, Clone, Copy)]
pub enum Flavour {
    /// Everything on the calling thread.
    CurrentThread,
    /// One worker thread.
    MultiThread1,
}

/// Serves `conns` connections on a tokio runtime of the given flavour.
pub fn serve(flavour: Flavour, conns: usize, ready: Ready) -> Result<ServerMeasure, String> {
    let rt = match flavour {
        Flavour::CurrentThread => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Flavour::MultiThread1 => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .on_thread_start(|| {
                sys::pin_to_core(SERVER_CORE);
            })
            .enable_all()
            .build(),
    }
    .map_err(|e| ready.failed(e))?;
    let meter = Meter::new(|| None);
    let work = accept_and_echo(conns, ready, meter.clone());
    match flavour {
        Flavour::CurrentThread => rt.block_on(work)?,
        Flavour::MultiThread1 => rt.block_on(rt.spawn(work)).map_err(|e| e.to_string())??,
    }
    meter.finish().ok_or_else(|| "no load arrived".to_string())
}

async fn accept_and_echo(conns: usize, ready: Ready, meter: Arc<Meter>) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| ready.failed(e))?;
    meter.attach(); // before the load starts: perf is slow to start
    ready.listening(listener.local_addr().map_err(|e| ready.failed(e))?);
    serve_each(
        conns,
        &meter,
        || listener.accept(),
        |(stream, _), meter| tokio::spawn(echo(stream, meter)),
    )
    .await
}

async fn echo(mut stream: TcpStream, meter: Arc<Meter>) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
        meter.echoed(n);
    }
    meter.stop();
}
