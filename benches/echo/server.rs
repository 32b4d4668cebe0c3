//! Starting an echo server on its own thread, pinned to core 0 (`common/server.rs`), with the
//! server of the contender under test.

use super::meter::ServerMeasure;
use crate::common::contender::Contender;
use crate::common::server;
use crate::{on_monoio, on_raw_epoll, on_raw_uring, on_runtime, on_tokio};

pub use crate::common::server::Ready;

/// The server thread's core.
pub const SERVER_CORE: usize = 0;

/// A running echo server.
pub type Server = server::Server<ServerMeasure>;

/// Starts `contender`'s echo server for `conns` connections, on a thread named `echo-server`.
pub fn start(contender: Contender, conns: usize) -> Result<Server, String> {
    server::start("echo", SERVER_CORE, conns, move |ready| match contender {
        Contender::Runtime(backend) => on_runtime::serve(backend, conns, ready),
        Contender::TokioCurrentThread => {
            on_tokio::serve(on_tokio::Flavour::CurrentThread, conns, ready)
        }
        Contender::TokioMultiThread1 => {
            on_tokio::serve(on_tokio::Flavour::MultiThread1, conns, ready)
        }
        Contender::MonoioIoUring => on_monoio::serve(on_monoio::Driver::IoUring, conns, ready),
        Contender::MonoioLegacy => on_monoio::serve(on_monoio::Driver::Legacy, conns, ready),
        Contender::RawEpoll => on_raw_epoll::serve(conns, ready),
        Contender::RawUring => on_raw_uring::serve(conns, ready),
    })
}
