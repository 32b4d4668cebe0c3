//! A running echo server of any kind, seen from the bench: where it listens, which threads are
//! its workers (to read their CPU clocks), how many connections each listener took, and how to
//! stop it.
//!
//! A server is one or more threads (`Running::spawn` each). A thread reports [`Listening`] once
//! its listener is bound — every listener of a `SO_REUSEPORT` group must be bound before the
//! load generator connects, or the early connections all land on the first one — and then serves
//! until its stop signal arrives (a cross-thread oneshot, awaited inside the server's runtime).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::threads::{self, ThreadClock};
use super::work::Work;
use crate::common::catching;
use crate::common::channel::oneshot;

/// What a server thread reports once it listens.
#[derive(Debug)]
pub struct Listening {
    /// The address it is bound to.
    pub addr: SocketAddr,
    /// The kernel ids of the threads that do the serving (its workers).
    pub workers: Vec<i32>,
}

/// How a server thread reports that it listens, or why it cannot.
pub type Ready = mpsc::Sender<Result<Listening, String>>;

/// Connections accepted, one counter per listener.
pub type Accepted = Arc<Vec<AtomicUsize>>;

/// Counts one accepted connection on listener `listener`.
pub fn count_accept(accepted: &Accepted, listener: usize) {
    accepted[listener].fetch_add(1, Relaxed);
}

/// What a server thread is given: the work to do per message, where to count its accepts, and
/// the two ends of its conversation with the bench.
pub struct Assignment {
    /// The CPU work per message.
    pub work: Work,
    /// Connections accepted, per listener.
    pub accepted: Accepted,
    /// Where to say that it listens (or why it cannot).
    pub ready: Ready,
    /// Completes when the server must stop.
    pub stop: oneshot::Receiver<()>,
}

impl Assignment {
    /// Reports `reason` on `ready` and returns it, for a server that cannot start.
    pub fn failed(&self, reason: impl ToString) -> String {
        let reason = reason.to_string();
        let _ = self.ready.send(Err(reason.clone()));
        reason
    }
}

/// A server's threads, running.
pub struct Running {
    work: Work,
    addr: Option<SocketAddr>,
    clocks: Vec<ThreadClock>,
    accepted: Accepted,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<Result<(), String>>>,
}

impl Running {
    /// A server doing `work` per message, with `listeners` listeners, no thread started yet.
    pub fn new(listeners: usize, work: Work) -> Running {
        Running {
            work,
            addr: None,
            clocks: Vec::new(),
            accepted: Arc::new((0..listeners).map(|_| AtomicUsize::new(0)).collect()),
            stops: Vec::new(),
            threads: Vec::new(),
        }
    }

    /// Starts a server thread running `serve` and waits until it listens; returns its address.
    /// On failure the threads started so far are stopped.
    pub fn spawn(
        &mut self,
        serve: impl FnOnce(Assignment) -> Result<(), String> + Send + 'static,
    ) -> Result<SocketAddr, String> {
        let (ready, listening) = mpsc::channel();
        let (stop, stopped) = oneshot::channel();
        let job = Assignment {
            work: self.work,
            accepted: self.accepted.clone(),
            ready,
            stop: stopped,
        };
        let thread = std::thread::Builder::new()
            .name("scaling-server".into())
            .spawn(move || catching(|| serve(job)))
            .map_err(|e| e.to_string())?;
        self.stops.push(stop);
        self.threads.push(thread);
        let heard = listening
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the server did not start".to_string())
            .and_then(|r| r);
        match heard {
            Ok(Listening { addr, workers }) => {
                self.addr.get_or_insert(addr);
                self.clocks.extend(workers.into_iter().map(ThreadClock::of));
                Ok(addr)
            }
            Err(reason) => {
                let _ = self.take_down();
                Err(reason)
            }
        }
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("a server thread is listening")
    }

    /// CPU time used so far by all the server's workers.
    pub fn cpu(&self) -> Duration {
        threads::total(&self.clocks)
    }

    /// Connections accepted so far, per listener.
    pub fn accepted(&self) -> Vec<usize> {
        self.accepted.iter().map(|a| a.load(Relaxed)).collect()
    }

    /// Stops every thread and waits for them (at most 10 s in all; a thread still running then
    /// is left behind so that one hung server cannot hang the bench).
    pub fn stop(mut self) -> Result<(), String> {
        self.take_down()
    }

    fn take_down(&mut self) -> Result<(), String> {
        self.stops.drain(..).for_each(|stop| stop.send(()));
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut outcome = Ok(());
        for thread in self.threads.drain(..) {
            while !thread.is_finished() {
                if Instant::now() > deadline {
                    return Err("a server thread did not stop within 10 s".into());
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let result = thread
                .join()
                .unwrap_or_else(|_| Err("server thread panicked".into()));
            outcome = outcome.and(result);
        }
        outcome
    }
}

/// Receives `count` values (worker threads' ids, sent as they start), at most 10 s apart.
pub fn collect<T>(count: usize, from: &mpsc::Receiver<T>) -> Result<Vec<T>, String> {
    (0..count)
        .map(|_| {
            from.recv_timeout(Duration::from_secs(10))
                .map_err(|_| "a worker did not report".to_string())
        })
        .collect()
}

/// The owned-buffer echo loop of this runtime and of monoio: read into the buffer, do the work,
/// write it all back, read into the same buffer again, until end-of-stream. The two runtimes
/// spell `read` and `write_all` alike but through different traits, so no generic function
/// serves both; the macro writes the loop once.
macro_rules! echo_owned {
    ($stream:expr, $work:expr) => {{
        let _ = $stream.set_nodelay(true);
        let mut buf = Vec::with_capacity($crate::BUFFER);
        loop {
            let (res, data) = $stream.read(buf).await;
            match res {
                Ok(0) | Err(_) => break,
                Ok(_) => $work.on(&data),
            }
            let (res, data) = $stream.write_all(data).await;
            if res.is_err() {
                break;
            }
            buf = data;
        }
    }};
}
pub(crate) use echo_owned;
