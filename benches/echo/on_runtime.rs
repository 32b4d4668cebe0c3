//! The echo server on this project's runtime (either backend): one task per connection, owned
//! buffers, the same loop as `examples/echo.rs`.

use std::sync::Arc;

use runtime::net::{TcpListener, TcpStream};
use runtime::{Backend, Runtime};

use super::accept::serve_each;
use super::meter::{Meter, ServerMeasure};
use super::server::Ready;
use super::BUFFER;

/// Serves `conns` connections on a runtime with `backend`, on the calling thread.
pub fn serve(backend: Backend, conns: usize, ready: Ready) -> Result<ServerMeasure, String> {
    let rt = Runtime::builder()
        .backend(backend)
        .build()
        .map_err(|e| ready.failed(e))?;
    let meter = Meter::new(|| Some(runtime::stats()));
    rt.block_on(accept_and_echo(conns, ready, meter.clone()))?;
    meter.finish().ok_or_else(|| "no load arrived".to_string())
}

async fn accept_and_echo(conns: usize, ready: Ready, meter: Arc<Meter>) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| ready.failed(e))?;
    meter.attach(); // before the load starts: perf is slow to start
    ready.listening(listener.local_addr().map_err(|e| ready.failed(e))?);
    serve_each(
        conns,
        &meter,
        || listener.accept(),
        |(stream, _), meter| runtime::spawn(echo(stream, meter)),
    )
    .await
}

async fn echo(stream: TcpStream, meter: Arc<Meter>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(BUFFER);
    loop {
        let (res, data) = stream.read(buf).await;
        let n = match res {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let (res, data) = stream.write_all(data).await;
        if res.is_err() {
            break;
        }
        meter.echoed(n);
        buf = data;
    }
    meter.stop();
}
