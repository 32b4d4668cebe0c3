//! One connection served by hyper with the routes of `examples/common/http_service.rs`, every
//! request counted on the meter: the same for every hyper server, whatever its runtime, which
//! brings only the stream (as hyper IO) and the timer.

use std::sync::Arc;

use hyper::rt::{Read, Timer, Write};

use crate::http_service;
use crate::meter::Meter;

/// Serves `io` with hyper's HTTP/1 builder and `timer` until the client closes it; counts each
/// request, then stops the meter.
pub async fn serve<I, T>(io: I, timer: T, meter: Arc<Meter>)
where
    I: Read + Write + Unpin + 'static,
    T: Timer + Send + Sync + 'static,
{
    let counted = {
        let meter = meter.clone();
        hyper::service::service_fn(move |req| {
            meter.echoed(1);
            http_service::route(req)
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(timer)
        .serve_connection(io, counted);
    let _ = conn.await;
    meter.stop();
}
