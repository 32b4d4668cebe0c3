//! Starting an echo server on its own thread, pinned to core 0, and collecting what it measured.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::meter::ServerMeasure;
use crate::common::contender::Contender;
use crate::common::{catching, sys};
use crate::{on_monoio, on_raw_epoll, on_raw_uring, on_runtime, on_tokio};

/// The server thread's core.
pub const SERVER_CORE: usize = 0;

/// How a server thread tells the bench its address, or why it could not start.
pub struct Ready(mpsc::Sender<Result<SocketAddr, String>>);

impl Ready {
    /// Listening on `addr`.
    pub fn listening(&self, addr: SocketAddr) {
        let _ = self.0.send(Ok(addr));
    }

    /// Could not start; returns the reason, for the server to return too.
    pub fn failed(&self, reason: impl ToString) -> String {
        let reason = reason.to_string();
        let _ = self.0.send(Err(reason.clone()));
        reason
    }
}

/// A running server that will accept `conns` connections, echo until they close, then stop.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    conns: usize,
    thread: JoinHandle<Result<ServerMeasure, String>>,
}

/// Starts `contender`'s echo server for `conns` connections.
pub fn start(contender: Contender, conns: usize) -> Result<Server, String> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("echo-server".into())
        .spawn(move || {
            if !sys::pin_to_core(SERVER_CORE) {
                eprintln!("echo: could not pin the server to core {SERVER_CORE}");
            }
            let ready = Ready(tx);
            catching(|| match contender {
                Contender::Runtime(backend) => on_runtime::serve(backend, conns, ready),
                Contender::TokioCurrentThread => {
                    on_tokio::serve(on_tokio::Flavour::CurrentThread, conns, ready)
                }
                Contender::TokioMultiThread1 => {
                    on_tokio::serve(on_tokio::Flavour::MultiThread1, conns, ready)
                }
                Contender::MonoioIoUring => {
                    on_monoio::serve(on_monoio::Driver::IoUring, conns, ready)
                }
                Contender::MonoioLegacy => {
                    on_monoio::serve(on_monoio::Driver::Legacy, conns, ready)
                }
                Contender::RawEpoll => on_raw_epoll::serve(conns, ready),
                Contender::RawUring => on_raw_uring::serve(conns, ready),
            })
        })
        .map_err(|e| e.to_string())?;
    match rx.recv() {
        Ok(Ok(addr)) => Ok(Server {
            addr,
            conns,
            thread,
        }),
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
            drop(std::net::TcpStream::connect(self.addr));
        }
        let _ = self.finish(Duration::from_secs(10));
    }
}

fn join(thread: JoinHandle<Result<ServerMeasure, String>>) -> Result<ServerMeasure, String> {
    thread
        .join()
        .unwrap_or_else(|_| Err("server thread panicked".into()))
}
