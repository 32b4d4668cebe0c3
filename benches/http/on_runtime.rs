//! HTTP servers on this project's runtime (either backend): the accept loop every one of them
//! shares, and hyper serving the routes of `examples/common/http_service.rs`.

use std::future::Future;
use std::sync::Arc;

use runtime::interop::HyperTimer;
use runtime::net::{TcpListener, TcpStream};
use runtime::{Backend, Runtime};

use super::server::Ready;
use crate::accept::serve_each;
use crate::counted;
use crate::meter::{Meter, ServerMeasure};

/// Serves `conns` connections with hyper on a runtime with `backend`, on the calling thread.
pub fn serve(backend: Backend, conns: usize, ready: Ready) -> Result<ServerMeasure, String> {
    run_server(backend, conns, ready, hyper_connection)
}

/// Builds a runtime with `backend`, accepts `conns` connections and serves each on its own task
/// with `connection(stream, meter)` until all are closed; measures the steady part.
pub fn run_server<F>(
    backend: Backend,
    conns: usize,
    ready: Ready,
    connection: fn(TcpStream, Arc<Meter>) -> F,
) -> Result<ServerMeasure, String>
where
    F: Future<Output = ()> + 'static,
{
    let rt = Runtime::builder()
        .backend(backend)
        .build()
        .map_err(|e| ready.failed(e))?;
    let meter = Meter::new(|| Some(runtime::stats()));
    let accepting = {
        let meter = meter.clone();
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| ready.failed(e))?;
            ready.listening(listener.local_addr().map_err(|e| ready.failed(e))?);
            let listener = &listener;
            let accept = move || async move {
                let (stream, _) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok(stream)
            };
            serve_each(conns, &meter, accept, |stream, meter| {
                runtime::spawn(connection(stream, meter))
            })
            .await
        }
    };
    rt.block_on(accepting)?;
    meter.finish().ok_or_else(|| "no load arrived".to_string())
}

/// One connection served by hyper exactly as `http_service::serve` does it (same builder, same
/// timer, same routes), with every request counted.
async fn hyper_connection(stream: TcpStream, meter: Arc<Meter>) {
    counted::serve(stream, HyperTimer, meter).await
}
