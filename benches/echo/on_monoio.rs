//! The echo server on monoio, with its io_uring or its epoll ("legacy") driver: one task per
//! connection, owned buffers, as in monoio's own echo example.

use std::sync::Arc;

use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{TcpListener, TcpStream};
use monoio::{IoUringDriver, LegacyDriver, RuntimeBuilder};

use super::accept::serve_each;
use super::meter::{Meter, ServerMeasure};
use super::server::Ready;
use super::BUFFER;

/// Which monoio driver.
#[derive(Debug, Clone, Copy)]
pub enum Driver {
    /// io_uring.
    IoUring,
    /// epoll, through mio.
    Legacy,
}

/// Serves `conns` connections on a monoio runtime with the given driver.
pub fn serve(driver: Driver, conns: usize, ready: Ready) -> Result<ServerMeasure, String> {
    let meter = Meter::new(|| None);
    let work = accept_and_echo(conns, &ready, meter.clone());
    match driver {
        Driver::IoUring => RuntimeBuilder::<IoUringDriver>::new()
            .build()
            .map_err(|e| ready.failed(e))?
            .block_on(work)?,
        Driver::Legacy => RuntimeBuilder::<LegacyDriver>::new()
            .build()
            .map_err(|e| ready.failed(e))?
            .block_on(work)?,
    }
    meter.finish().ok_or_else(|| "no load arrived".to_string())
}

async fn accept_and_echo(conns: usize, ready: &Ready, meter: Arc<Meter>) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| ready.failed(e))?;
    meter.attach(); // before the load starts: perf is slow to start
    ready.listening(listener.local_addr().map_err(|e| ready.failed(e))?);
    serve_each(
        conns,
        &meter,
        || listener.accept(),
        |(stream, _), meter| monoio::spawn(echo(stream, meter)),
    )
    .await
}

async fn echo(mut stream: TcpStream, meter: Arc<Meter>) {
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
