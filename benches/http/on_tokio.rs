//! The baseline: the same routes and hyper on tokio's `current_thread` runtime, the stream wrapped
//! in hyper-util's `TokioIo` and hyper's timer in hyper-util's `TokioTimer` (the runtime's servers
//! give hyper their own timer too, so both arm the same header-read timeout).

use std::sync::Arc;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};

use super::server::Ready;
use crate::accept::serve_each;
use crate::counted;
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
    let listener = &listener;
    let accept = move || async move {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    };
    serve_each(conns, &meter, accept, |stream, meter| {
        tokio::spawn(connection(stream, meter))
    })
    .await
}

async fn connection(stream: TcpStream, meter: Arc<Meter>) {
    counted::serve(TokioIo::new(stream), TokioTimer::new(), meter).await
}
