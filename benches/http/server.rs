//! Starting an HTTP server on its own thread, pinned to core 0, and collecting what it measured.
//!
//! Every server accepts exactly the connections it is told to expect, serves each on its own task
//! until the client closes it, and then returns its [`ServerMeasure`]: the same life as the echo
//! benchmark's servers, so the same meter (`benches/echo/meter.rs`) measures it, counting requests
//! where the echo servers count bytes.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::contender::Contender;
use crate::common::{catching, sys};
use crate::meter::ServerMeasure;
use crate::{on_runtime, on_tokio, responder};

/// The server thread's core.
pub const SERVER_CORE: usize = 0;

/// The server thread's name, as `perf` shows it.
pub const THREAD_NAME: &str = "http-server";

/// Where a server listens, and its thread's id (for `perf record -t`).
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    pub addr: SocketAddr,
    pub tid: i32,
}

/// How a server thread tells the bench its address, or why it could not start.
pub struct Ready(mpsc::Sender<Result<Listening, String>>);

impl Ready {
    /// Listening on `addr`.
    pub fn listening(&self, addr: SocketAddr) {
        // SAFETY: gettid takes no arguments and cannot fail.
        let tid = unsafe { libc::gettid() };
        let _ = self.0.send(Ok(Listening { addr, tid }));
    }

    /// Could not start; returns the reason, for the server to return too.
    pub fn failed(&self, reason: impl ToString) -> String {
        let reason = reason.to_string();
        let _ = self.0.send(Err(reason.clone()));
        reason
    }
}

/// A running server that will accept `conns` connections, serve them until they close, then stop.
pub struct Server {
    pub at: Listening,
    conns: usize,
    thread: JoinHandle<Result<ServerMeasure, String>>,
}

/// Starts `contender`'s server for `conns` connections.
pub fn start(contender: Contender, conns: usize) -> Result<Server, String> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            if !sys::pin_to_core(SERVER_CORE) {
                eprintln!("http: could not pin the server to core {SERVER_CORE}");
            }
            let ready = Ready(tx);
            catching(|| match contender {
                Contender::Hyper(backend) => on_runtime::serve(backend, conns, ready),
                Contender::TokioHyper => on_tokio::serve(conns, ready),
                Contender::Responder(backend, io) => responder::serve(backend, io, conns, ready),
            })
        })
        .map_err(|e| e.to_string())?;
    match rx.recv() {
        Ok(Ok(at)) => Ok(Server { at, conns, thread }),
        Ok(Err(reason)) => {
            let _ = thread.join();
            Err(reason)
        }
        // The thread ended (panicked) before saying anything.
        Err(_) => Err(join(thread).err().unwrap_or_else(|| "server exited".into())),
    }
}

impl Server {
    /// Waits for the server to finish (all its connections closed) and returns its measure.
    ///
    /// Gives up after `limit`, leaving the thread behind, so that a hung server cannot hang the
    /// whole benchmark.
    pub fn finish(self, limit: Duration) -> Result<ServerMeasure, String> {
        let deadline = Instant::now() + limit;
        while !self.thread.is_finished() {
            if Instant::now() > deadline {
                return Err(format!("server did not finish within {limit:?}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        join(self.thread)
    }

    /// After a failed load run: connects and drops as many connections as the server still waits
    /// for (at most all of them), so that its accept loop ends; then collects it.
    pub fn abandon(self) {
        for _ in 0..self.conns {
            if self.thread.is_finished() {
                break;
            }
            drop(std::net::TcpStream::connect(self.at.addr));
        }
        let _ = self.finish(Duration::from_secs(10));
    }
}

fn join(thread: JoinHandle<Result<ServerMeasure, String>>) -> Result<ServerMeasure, String> {
    thread
        .join()
        .unwrap_or_else(|_| Err("server thread panicked".into()))
}
