//! The baseline: the same routes and hyper on tokio's `current_thread` runtime, the stream wrapped
//! in hyper-util's `TokioIo` and hyper's timer in hyper-util's `TokioTimer` (the runtime's servers
//! give hyper their own timer too, so both arm the same header-read timeout).

use std::sync::Arc;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};

use super::server::Ready;
use crate::http_service;
use crate::meter::{Meter, ServerMeasure};

/// Serves `conns` connections on a tokio `current_thread` runtime on the calling thread.
pub fn serve(conns: usize, ready: Ready) -> Result<ServerMeasure, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ready.failed(e))?;
    let meter = Meter::new(|| None);
    rt.block_on(accept_and_serve(conns, ready, meter.clone()))?;
    meter.finish().ok_or_else(|| "no load arrived".to_string())
}

async fn accept_and_serve(conns: usize, ready: Ready, meter: Arc<Meter>) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| ready.failed(e))?;
    ready.listening(listener.local_addr().map_err(|e| ready.failed(e))?);
    let mut tasks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        tasks.push(tokio::spawn(connection(stream, meter.clone())));
    }
    meter.start();
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn connection(stream: TcpStream, meter: Arc<Meter>) {
    let counted = {
        let meter = meter.clone();
        hyper::service::service_fn(move |req| {
            meter.echoed(1);
            http_service::route(req)
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), counted);
    let _ = conn.await;
    meter.stop();
}
