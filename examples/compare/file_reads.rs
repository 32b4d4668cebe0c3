//! The file scenario: random 4 KiB reads at a fixed queue depth from one big file, run on the
//! server's runtime.
//!
//! `depth` tasks each loop "pick a random block, `read_at` it, record how long it took" until the
//! deadline, so `depth` reads are always in flight. Under io_uring each read is a submission the
//! kernel completes by itself; under epoll each read goes to the blocking pool, whose thread makes
//! the `pread` and wakes the task through the eventfd — the readiness model has no way to wait
//! for a file (see `runtime::fs`).
//!
//! CPU is taken for the whole process here, not the worker thread alone: under epoll the reading
//! is done by pool threads, and leaving them out would hide the cost.

use std::cell::RefCell;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use loadgen::histogram::Histogram;
use runtime::fs::File;

use crate::window::{Snapshot, Window};

/// One file-read run: what to read, how hard, for how long.
#[derive(Debug, Clone)]
pub struct FileJob {
    /// The file to read (already filled).
    pub path: PathBuf,
    /// Its size in bytes.
    pub file_size: u64,
    /// Bytes per read, also the alignment of every offset.
    pub block: usize,
    /// Reads in flight at once (one task each).
    pub depth: usize,
    /// Unmeasured reading first: pool threads started, page tables and caches warm.
    pub warmup: Duration,
    /// The measured part.
    pub measure: Duration,
}

/// What the measured part of a [`FileJob`] did.
#[derive(Debug, Clone)]
pub struct FileRun {
    /// The server thread's window: syscalls by kind, thread and process CPU, elapsed time.
    pub window: Window,
    /// Reads that returned a whole block.
    pub reads: u64,
    /// Reads that failed or came back short.
    pub errors: u64,
    /// Median read latency: `read_at` called to `read_at` returned.
    pub p50: Duration,
    /// 99th percentile read latency.
    pub p99: Duration,
}

/// Reads for `job.warmup` unmeasured, then for `job.measure` measured. Runs inside the runtime.
pub async fn run(job: &FileJob) -> io::Result<FileRun> {
    let file = Rc::new(File::open(&job.path).await?);
    read_for(&file, job, job.warmup).await?;
    let start = Snapshot::take();
    let tally = read_for(&file, job, job.measure).await?;
    let window = Snapshot::take().since(&start);
    Ok(FileRun {
        window,
        reads: tally.histogram.count(),
        errors: tally.errors,
        p50: Duration::from_nanos(tally.histogram.percentile(0.50)),
        p99: Duration::from_nanos(tally.histogram.percentile(0.99)),
    })
}

/// What the reader tasks found, shared by all of them (they run on one thread).
struct Tally {
    histogram: Histogram,
    errors: u64,
}

/// Keeps `job.depth` reads in flight for `duration`.
async fn read_for(file: &Rc<File>, job: &FileJob, duration: Duration) -> io::Result<Tally> {
    let deadline = Instant::now() + duration;
    let tally = Rc::new(RefCell::new(Tally {
        histogram: Histogram::new(),
        errors: 0,
    }));
    let blocks = (job.file_size / job.block as u64).max(1);
    let readers: Vec<_> = (0..job.depth)
        .map(|i| {
            let reader = Reader {
                file: file.clone(),
                block: job.block,
                blocks,
                rng: Rng::new(i as u64 + 1),
                tally: tally.clone(),
            };
            runtime::spawn(reader.run_until(deadline))
        })
        .collect();
    for reader in readers {
        reader
            .await
            .map_err(|e| io::Error::other(format!("a reader task failed: {e}")))?;
    }
    let tally = Rc::try_unwrap(tally)
        .ok()
        .expect("every reader has finished")
        .into_inner();
    Ok(tally)
}

/// One reader task: one read in flight at a time, at random aligned offsets.
struct Reader {
    file: Rc<File>,
    block: usize,
    blocks: u64,
    rng: Rng,
    tally: Rc<RefCell<Tally>>,
}

impl Reader {
    async fn run_until(mut self, deadline: Instant) {
        let mut buf = Vec::with_capacity(self.block);
        // `Instant::now()` is read from the vDSO: checking the clock makes no syscall.
        while Instant::now() < deadline {
            let pos = self.rng.below(self.blocks) * self.block as u64;
            let started = Instant::now();
            let (res, returned) = self.file.read_at(buf, pos).await;
            buf = returned;
            let mut tally = self.tally.borrow_mut();
            match res {
                Ok(n) if n == self.block => {
                    tally.histogram.record(started.elapsed().as_nanos() as u64)
                }
                _ => tally.errors += 1,
            }
        }
    }
}

/// A small, fast pseudo-random generator (xorshift64*): good enough to scatter offsets.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Spread small seeds out; the state must never be zero.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..n` (`n > 0`; the slight modulo bias does not matter here).
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}
