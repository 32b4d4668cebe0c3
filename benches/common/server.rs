//! A benchmark server on its own thread, pinned to one core: where it listens, and what it
//! measured once it is done.
//!
//! The echo and HTTP benchmarks' servers share this life: the thread binds, reports [`Listening`]
//! through its [`Ready`] (or why it cannot start), accepts exactly the connections it is told to
//! expect, serves them until the client closes them, and returns its measure `T`. The bench waits
//! for that measure with a time limit ([`Server::finish`]), or, after a failed load run, unblocks
//! the accept loop and lets it go ([`Server::abandon`]).

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{catching, sys};

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

/// A running server that will accept `conns` connections, serve them until they close, then stop
/// and return its measure `T`.
pub struct Server<T> {
    pub at: Listening,
    conns: usize,
    thread: JoinHandle<Result<T, String>>,
}

/// Starts `serve` on a thread called `{bench}-server`, pinned to `core`, for `conns` connections;
/// returns once it listens (or with the reason it could not start).
pub fn start<T: Send + 'static>(
    bench: &str,
    core: usize,
    conns: usize,
    serve: impl FnOnce(Ready) -> Result<T, String> + Send + 'static,
) -> Result<Server<T>, String> {
    let (tx, rx) = mpsc::channel();
    let name = bench.to_string();
    let thread = std::thread::Builder::new()
        .name(format!("{bench}-server"))
        .spawn(move || {
            if !sys::pin_to_core(core) {
                eprintln!("{name}: could not pin the server to core {core}");
            }
            catching(|| serve(Ready(tx)))
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

impl<T> Server<T> {
    /// Waits for the server to finish (all its connections closed) and returns its measure.
    ///
    /// Gives up after `limit`, leaving the thread behind, so that a hung server cannot hang the
    /// whole benchmark.
    pub fn finish(self, limit: Duration) -> Result<T, String> {
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

fn join<T>(thread: JoinHandle<Result<T, String>>) -> Result<T, String> {
    thread
        .join()
        .unwrap_or_else(|_| Err("server thread panicked".into()))
}
