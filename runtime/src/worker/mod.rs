//! Several workers: one thread each, each with its own executor, driver (of the same backend) and
//! timers. Thread-per-core: a task stays on the worker that spawned it for its whole life, so it
//! need not be `Send`, and nothing on a worker's hot path is shared with another worker.
//!
//! ```text
//!              Runtime (worker 0: the thread that calls block_on)
//!                 │ Handle (Send + Clone): one Inbox per worker
//!     ┌───────────┼────────────────────────┐
//!  worker 0    worker 1 (thread)   …   worker n-1 (thread)
//!  Core        Core                    Core          executor + driver + timers + blocking pool
//!  Inbox ◄──── jobs from any thread: "spawn this here", "stop"
//! ```
//!
//! Workers meet in three places only, all cross-thread by design: an [`Inbox`] (a job spawns a
//! task on its worker, [`Handle::spawn`]); a task's waker (a wake from another worker goes to the
//! owner's remote queue and eventfd, as from any thread); and `Send` channels built on those
//! wakers (`runtime::sync::shared`). Spreading connections is the kernel's job: each worker binds
//! its own `SO_REUSEPORT` listener ([`TcpListener::bind_reuseport`](crate::net::TcpListener::bind_reuseport)).

mod handle;
mod inbox;
mod stats;

use std::io;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

pub use handle::{Handle, RemoteJoinHandle};
pub(crate) use inbox::Inbox;
pub use stats::WorkerStats;

use crate::builder::Builder;
use crate::runtime::{Core, Runtime};

/// Which worker a core is, and the handle to all of them.
#[derive(Debug, Clone)]
pub(crate) struct WorkerInfo {
    pub(crate) id: usize,
    pub(crate) handle: Handle,
}

/// A worker thread, seen from the runtime that started it.
#[derive(Debug)]
pub(crate) struct WorkerThread {
    thread: JoinHandle<()>,
    /// Disconnects when the thread is about to end (its runtime dropped).
    done: mpsc::Receiver<()>,
}

/// Starts workers `1..builder.workers` (worker 0 is the caller's `core`) and returns the handle
/// to all of them.
pub(crate) fn start(
    builder: &Builder,
    core: &Core,
    cpus: &[usize],
) -> io::Result<(Handle, Vec<WorkerThread>)> {
    let count = builder.workers.expect("resolved by Builder::validated");
    let mut inboxes = vec![core.inbox.clone()];
    let mut threads = Vec::new();
    let mut gos = Vec::new();
    for id in 1..count {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<Handle>();
        let (done_tx, done) = mpsc::channel::<()>();
        let builder = builder.clone();
        let cpus = cpus.to_vec();
        let spawned = std::thread::Builder::new()
            .name(format!("runtime-worker-{id}"))
            .spawn(move || {
                crate::signal::block_async_signals();
                if builder.pin_workers {
                    pin(id, &cpus);
                }
                let core = match Core::new(&builder) {
                    Ok(core) => core,
                    Err(e) => return drop(ready_tx.send(Err(e))),
                };
                let _ = ready_tx.send(Ok(core.inbox.clone()));
                // The handle names every worker, so it exists only once all have started.
                let Ok(handle) = go_rx.recv() else { return };
                let runtime = Runtime::from_core(core, WorkerInfo { id, handle }, Vec::new());
                runtime.run_worker();
                drop(runtime);
                drop(done_tx);
            });
        let started = spawned.and_then(|thread| {
            let inbox = ready_rx
                .recv()
                .map_err(|_| io::Error::other("a worker thread died while starting"))??;
            threads.push(WorkerThread { thread, done });
            Ok(inbox)
        });
        match started {
            Ok(inbox) => {
                inboxes.push(inbox);
                gos.push(go_tx);
            }
            Err(e) => {
                // Dropping the `go` senders ends the workers already started.
                drop(gos);
                threads.into_iter().for_each(|t| drop(t.thread.join()));
                return Err(e);
            }
        }
    }
    let handle = Handle::new(inboxes);
    for go in gos {
        let _ = go.send(handle.clone());
    }
    Ok((handle, threads))
}

/// Stops every worker thread (the handle's inboxes were closed) and waits for each until
/// `deadline`; a thread still running then is left to finish on its own.
pub(crate) fn join(threads: Vec<WorkerThread>, deadline: Option<Instant>) {
    for worker in threads {
        let finished = match deadline {
            None => worker.done.recv().is_err(),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                matches!(
                    worker.done.recv_timeout(left),
                    Err(mpsc::RecvTimeoutError::Disconnected)
                )
            }
        };
        if finished {
            let _ = worker.thread.join();
        }
    }
}

/// The CPUs this process may run on (empty if that cannot be read). Read once, before worker 0
/// pins itself: threads inherit their creator's mask, so a worker started after that would see
/// worker 0's single CPU only.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity fills it with its exact size,
    // and CPU_ISSET reads it.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &allowed))
            .collect()
    }
}

/// Pins the calling thread — worker `worker` — to its CPU among `cpus` (round robin).
pub(crate) fn pin(worker: usize, cpus: &[usize]) {
    let Some(&cpu) = cpus.get(worker % cpus.len().max(1)) else {
        return;
    };
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes one bit of it and
    // sched_setaffinity reads it with its exact size.
    unsafe {
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut one);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one);
    }
}
