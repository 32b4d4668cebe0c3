//! [`WorkerStats`]: each worker's counters, gathered from their threads.

use crate::blocking::oneshot;
use crate::Stats;

/// One worker's counters and load, from [`Handle::worker_stats`](super::Handle::worker_stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Which worker.
    pub worker: usize,
    /// Its thread's counters (as `runtime::stats()` there).
    pub stats: Stats,
    /// Tasks alive on it now.
    pub live_tasks: usize,
}

impl super::Handle {
    /// Every worker's counters, asked of each worker on its own thread (worker 0 answers while
    /// its thread is in `block_on`). Sum the `stats` fields for a runtime-wide total:
    ///
    /// ```
    /// let rt = runtime::Runtime::builder().workers(2).build()?;
    /// let per_worker = rt.block_on(rt.handle().worker_stats());
    /// assert_eq!(per_worker.len(), 2);
    /// let total: runtime::Stats = per_worker.iter().map(|w| w.stats).sum();
    /// println!("{} polls in all", total.polls);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn worker_stats(&self) -> Vec<WorkerStats> {
        let asks: Vec<_> = (0..self.workers())
            .map(|worker| {
                let (tx, rx) = oneshot::channel();
                self.run_on(worker, move || {
                    tx.send(WorkerStats {
                        worker,
                        stats: crate::stats(),
                        live_tasks: crate::context::with_executor(|e| e.live_tasks()),
                    })
                });
                rx
            })
            .collect();
        let mut out = Vec::with_capacity(asks.len());
        for ask in asks {
            if let Ok(stats) = ask.await {
                out.push(stats);
            }
        }
        out
    }
}
