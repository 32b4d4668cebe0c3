//! What an echo server measures about itself: its thread's CPU time, the bytes it echoed and (for
//! this project's runtime) its syscall counters, over a *window* of steady load.
//!
//! The window opens when the last expected connection has been accepted and closes when the first
//! connection reaches end-of-stream (the load generator has stopped and is closing up). So accepts
//! and the final closes are left out, and the CPU time and the bytes cover the same stretch; the
//! per-message figures divide one by the other.
//!
//! All marks are taken *inside* the server thread (`getrusage(RUSAGE_THREAD)` and `runtime::stats()`
//! count the calling thread only). Counters are atomics rather than cells only because tokio's
//! multi-thread runtime wants `Send` tasks; nobody contends them.
//!
//! When perf works here (see `perf_sampler.rs`), the server also calls [`Meter::attach`] before it
//! listens, and the window's CPU time is sampled by perf as well: switched on just before the start
//! mark, off just after the end mark.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use super::perf_sampler::{self, Sampled, Sampler};
use crate::common::sys::ThreadCpu;

/// A snapshot of the server thread at one instant.
#[derive(Debug, Clone, Copy)]
struct Mark {
    cpu: ThreadCpu,
    echoed: u64,
    stats: Option<runtime::Stats>,
}

/// Shared by the accept loop and every connection task of one server.
pub struct Meter {
    echoed: AtomicU64,
    /// (window start, window end).
    window: Mutex<(Option<Mark>, Option<Mark>)>,
    /// `runtime::stats` for this project's runtime, `None` for the others.
    stats: fn() -> Option<runtime::Stats>,
    /// perf attached to the server thread, if [`Meter::attach`] could start it.
    sampler: Mutex<Option<Sampler>>,
}

/// What the server did during the window.
#[derive(Debug, Clone, Copy)]
pub struct ServerMeasure {
    /// CPU time of the server thread.
    pub cpu: ThreadCpu,
    /// Bytes echoed.
    pub bytes: u64,
    /// The runtime's counters (syscalls by kind, ...), for this project's runtime.
    pub stats: Option<runtime::Stats>,
    /// The CPU time perf sampled, split into user and kernel (when perf works here).
    pub sampled: Option<Sampled>,
}

impl Meter {
    /// A meter; `stats` reads the runtime's counters, if it has any.
    pub fn new(stats: fn() -> Option<runtime::Stats>) -> Arc<Meter> {
        Arc::new(Meter {
            echoed: AtomicU64::new(0),
            window: Mutex::new((None, None)),
            stats,
            sampler: Mutex::new(None),
        })
    }

    /// Attaches perf (events off) to the calling thread, which must be the one that will serve;
    /// call it before listening, as perf takes a while to start. Does nothing when perf does not
    /// work here; if it fails this time, says so on stderr and the measure has no samples.
    pub fn attach(&self) {
        if !perf_sampler::enabled() {
            return;
        }
        match Sampler::launch(perf_sampler::current_tid()) {
            Ok(sampler) => *self.sampler.lock().unwrap() = Some(sampler),
            Err(e) => eprintln!("echo: {e}"),
        }
    }

    /// Runs `f` on the attached sampler; a failure detaches it (the measure then has no samples).
    fn sampling(&self, f: fn(&mut Sampler) -> Result<(), String>) {
        let mut slot = self.sampler.lock().unwrap();
        if let Some(Err(e)) = slot.as_mut().map(f) {
            eprintln!("echo: {e}");
            *slot = None;
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            cpu: ThreadCpu::now(),
            echoed: self.echoed.load(Relaxed),
            stats: (self.stats)(),
        }
    }

    /// Opens the window (called after the last accept).
    pub fn start(&self) {
        self.sampling(Sampler::enable);
        let mark = self.mark();
        self.window.lock().unwrap().0 = Some(mark);
    }

    /// Counts `n` echoed bytes.
    pub fn echoed(&self, n: usize) {
        self.echoed.fetch_add(n as u64, Relaxed);
    }

    /// A connection ended: closes the window if it is open and not closed yet.
    pub fn stop(&self) {
        let mut window = self.window.lock().unwrap();
        if window.0.is_some() && window.1.is_none() {
            window.1 = Some(self.mark());
            self.sampling(Sampler::disable);
        }
    }

    /// The window's totals; `None` if it never opened.
    pub fn finish(&self) -> Option<ServerMeasure> {
        let (start, end) = *self.window.lock().unwrap();
        let (start, end) = (start?, end.unwrap_or_else(|| self.mark()));
        let sampler = self.sampler.lock().unwrap().take();
        let sampled = sampler.and_then(|s| s.finish().map_err(|e| eprintln!("echo: {e}")).ok());
        Some(ServerMeasure {
            cpu: end.cpu.since(start.cpu),
            bytes: end.echoed - start.echoed,
            stats: match (start.stats, end.stats) {
                (Some(a), Some(b)) => Some(b - a),
                _ => None,
            },
            sampled,
        })
    }
}
