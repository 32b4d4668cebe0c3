//! Starting an HTTP server on its own thread, pinned to core 0 (`common/server.rs`), with the
//! server of the contender under test.
//!
//! Every server accepts exactly the connections it is told to expect, serves each on its own task
//! until the client closes it, and then returns its [`ServerMeasure`]: the same life as the echo
//! benchmark's servers, so the same meter (`benches/echo/meter.rs`) measures it, counting requests
//! where the echo servers count bytes.

use super::contender::Contender;
use crate::common::server;
use crate::meter::ServerMeasure;
use crate::{on_runtime, on_tokio, responder};

pub use crate::common::server::Ready;

/// The server thread's core.
pub const SERVER_CORE: usize = 0;

/// A running HTTP server.
pub type Server = server::Server<ServerMeasure>;

/// Starts `contender`'s server for `conns` connections, on a thread named `http-server` (the
/// name `profile.sh` filters on).
pub fn start(contender: Contender, conns: usize) -> Result<Server, String> {
    server::start("http", SERVER_CORE, conns, move |ready| match contender {
        Contender::Hyper(backend) => on_runtime::serve(backend, conns, ready),
        Contender::TokioHyper => on_tokio::serve(conns, ready),
        Contender::Responder(backend, io) => responder::serve(backend, io, conns, ready),
    })
}
