//! What crossing from one worker to another costs, against tokio's ways of doing the same.
//!
//! Three cases, each run from a task on worker 0 (core 0) towards worker 1 (core 1):
//! - **spawn round trip**: `Handle::spawn_on(1, async { x })` and await the result, one at a time
//!   — the latency of a cross-worker spawn and of the wake that brings the result back;
//! - **spawn, 64 in flight**: the same with 64 outstanding — the throughput of the inboxes, where
//!   one wake-up serves many jobs;
//! - **ping-pong**: a task on each worker, passing a message back and forth through a channel
//!   synchronised with a `Mutex` and woken through the tasks' wakers (`benches/common/channel.rs`,
//!   the same channel for every runtime) — two cross-thread task wakes per round trip.
//!
//! Against: tokio with **two runtimes** (a `current_thread` one on core 0 spawning through
//! `Handle::spawn` onto a `multi_thread(1)` one whose worker is on core 1: the same shape, two
//! schedulers, two threads); tokio **`multi_thread(2)`**, `tokio::spawn` from a worker task (the
//! usual tokio way: the task may well run on the same worker, so this need not cross threads at
//! all); and for ping-pong, **monoio** with a runtime on each core (monoio has no cross-thread
//! spawn).
//!
//! Each op's cost is the wall time over `n` ops and the CPU time of the two threads involved; for
//! this runtime also the eventfd syscalls and driver waits per op, summed over both workers.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use runtime::{Backend, Runtime, Stats};

use super::threads::{self, gettid, ThreadClock};
use crate::common::channel::{mpsc, oneshot};
use crate::common::{catching, interleave, rate, ratio, seconds, sys, Settings, Spread, Table};

/// Spawns in flight at once in the throughput case.
const WINDOW: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    RoundTrip,
    Window,
    PingPong,
}

impl Case {
    const ALL: [Case; 3] = [Case::RoundTrip, Case::Window, Case::PingPong];

    fn name(self) -> &'static str {
        match self {
            Case::RoundTrip => "spawn round trip, one at a time",
            Case::Window => "spawn round trips, 64 in flight",
            Case::PingPong => "ping-pong between tasks on two threads",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    Runtime(Backend),
    /// tokio `current_thread` on core 0 → `multi_thread(1)` on core 1.
    TokioTwoRuntimes,
    /// tokio `multi_thread(2)`, workers on cores 0 and 1.
    TokioMultiThread2,
    /// monoio (io_uring), a runtime on each core: ping-pong only.
    MonoioTwoRuntimes,
}

impl Contender {
    const ALL: [Contender; 5] = [
        Contender::Runtime(Backend::Epoll),
        Contender::Runtime(Backend::IoUring),
        Contender::TokioTwoRuntimes,
        Contender::TokioMultiThread2,
        Contender::MonoioTwoRuntimes,
    ];

    fn label(self) -> &'static str {
        match self {
            Contender::Runtime(Backend::IoUring) => "runtime (io_uring), 2 workers",
            Contender::Runtime(_) => "runtime (epoll), 2 workers",
            Contender::TokioTwoRuntimes => "tokio current_thread → multi_thread(1)",
            Contender::TokioMultiThread2 => "tokio multi_thread(2)",
            Contender::MonoioTwoRuntimes => "monoio (io_uring), a runtime per core",
        }
    }
}

/// One run of `n` ops.
#[derive(Debug, Clone, Copy)]
struct Sample {
    elapsed: Duration,
    cpu: Duration,
    /// This runtime only: both workers' counters over the run.
    stats: Option<Stats>,
}

/// Runs `case` on `contender`, on a thread of its own (so that pinning it stays there).
fn measure(contender: Contender, case: Case, n: usize) -> Result<Sample, String> {
    std::thread::spawn(move || {
        catching(|| {
            sys::pin_to_core(0);
            match contender {
                Contender::Runtime(backend) => on_runtime(backend, case, n),
                Contender::TokioTwoRuntimes => on_tokio_two_runtimes(case, n),
                Contender::TokioMultiThread2 => on_tokio_multi_thread(case, n),
                Contender::MonoioTwoRuntimes => on_monoio(case, n),
            }
        })
    })
    .join()
    .unwrap_or_else(|_| Err("panicked".into()))
}

/// Runs `case`'s body on the calling runtime: `spawn_there(x)` runs `async { x }` on the other
/// thread and resolves to its output; `ponger` starts the ping-pong partner over there.
async fn body<S, J>(
    case: Case,
    n: usize,
    spawn_there: S,
    ponger: impl FnOnce(mpsc::Receiver<oneshot::Sender<()>>),
) where
    S: Fn(usize) -> J,
    J: Future<Output = usize>,
{
    match case {
        Case::RoundTrip => {
            for i in 0..n {
                black_box(spawn_there(i).await);
            }
        }
        Case::Window => {
            let mut done = 0;
            while done < n {
                let batch: Vec<J> = (done..n.min(done + WINDOW)).map(&spawn_there).collect();
                done += batch.len();
                for job in batch {
                    black_box(job.await);
                }
            }
        }
        Case::PingPong => {
            let (to_ponger, requests) = mpsc::channel::<oneshot::Sender<()>>();
            ponger(requests);
            for _ in 0..n {
                let (reply, answer) = oneshot::channel();
                to_ponger.send(reply);
                answer.await.expect("the ponger answers");
            }
        }
    }
}

/// Answers every request until the pinger hangs up.
async fn pong(mut requests: mpsc::Receiver<oneshot::Sender<()>>) {
    while let Some(reply) = requests.recv().await {
        reply.send(());
    }
}

/// Times `run` on the calling thread and reads `clocks` around it.
async fn timed(clocks: &[ThreadClock], run: impl Future<Output = ()>) -> (Duration, Duration) {
    let cpu = threads::total(clocks);
    let start = Instant::now();
    run.await;
    (start.elapsed(), threads::total(clocks).saturating_sub(cpu))
}

fn on_runtime(backend: Backend, case: Case, n: usize) -> Result<Sample, String> {
    let rt = Runtime::builder()
        .backend(backend)
        .workers(2)
        .build()
        .map_err(|e| e.to_string())?;
    let handle = rt.handle();
    rt.block_on(async move {
        let mut clocks = Vec::new();
        for tid in handle.spawn_on_each(|worker| {
            sys::pin_to_core(worker);
            let tid = gettid();
            async move { tid }
        }) {
            clocks.push(ThreadClock::of(tid.await.map_err(|e| e.to_string())?));
        }
        let counters = || async { handle.worker_stats().await.iter().map(|w| w.stats).sum() };
        let before: Stats = counters().await;
        let there = handle.clone();
        let run = handle.spawn_on(0, async move {
            let spawn_there = |x: usize| {
                let task = there.spawn_on(1, async move { x });
                async move { task.await.expect("the task ran") }
            };
            let ponger = |requests| drop(there.spawn_on(1, pong(requests)));
            timed(&clocks, body(case, n, spawn_there, ponger)).await
        });
        let (elapsed, cpu) = run.await.map_err(|e| e.to_string())?;
        let stats = counters().await - before;
        Ok(Sample {
            elapsed,
            cpu,
            stats: Some(stats),
        })
    })
}

/// A tokio `multi_thread` runtime whose workers pin themselves to cores `first`, `first + 1`, …
/// and report their thread ids.
fn tokio_pinned(
    workers: usize,
    first: usize,
) -> Result<(tokio::runtime::Runtime, Vec<i32>), String> {
    let (started, tids) = std::sync::mpsc::channel();
    let next = std::sync::atomic::AtomicUsize::new(first);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .on_thread_start(move || {
            let core = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            sys::pin_to_core(core % sys::online_cpus());
            let _ = started.send(gettid());
        })
        .build()
        .map_err(|e| e.to_string())?;
    let tids = super::echo_server::collect(workers, &tids)?;
    Ok((rt, tids))
}

fn on_tokio_two_runtimes(case: Case, n: usize) -> Result<Sample, String> {
    let (remote, tids) = tokio_pinned(1, 1)?;
    let here = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    let clocks = vec![ThreadClock::current(), ThreadClock::of(tids[0])];
    let sample = on_tokio(&here, remote.handle().clone(), clocks, case, n);
    remote.shutdown_timeout(Duration::from_secs(5));
    sample
}

fn on_tokio_multi_thread(case: Case, n: usize) -> Result<Sample, String> {
    let (rt, tids) = tokio_pinned(2, 0)?;
    let clocks = tids.into_iter().map(ThreadClock::of).collect();
    // `Handle::spawn` from a worker of the same runtime is `tokio::spawn`: it queues the task on
    // the spawning worker.
    let sample = on_tokio(&rt, rt.handle().clone(), clocks, case, n);
    rt.shutdown_timeout(Duration::from_secs(5));
    sample
}

/// Runs `case` from a task on `here`, spawning through `there` (another runtime, or `here`).
fn on_tokio(
    here: &tokio::runtime::Runtime,
    there: tokio::runtime::Handle,
    clocks: Vec<ThreadClock>,
    case: Case,
    n: usize,
) -> Result<Sample, String> {
    let run = here.spawn(async move {
        let spawn_there = |x: usize| {
            let task = there.spawn(async move { x });
            async move { task.await.expect("the task ran") }
        };
        let ponger = |requests| drop(there.spawn(pong(requests)));
        timed(&clocks, body(case, n, spawn_there, ponger)).await
    });
    let (elapsed, cpu) = here.block_on(run).map_err(|e| e.to_string())?;
    Ok(Sample {
        elapsed,
        cpu,
        stats: None,
    })
}

fn on_monoio(case: Case, n: usize) -> Result<Sample, String> {
    if case != Case::PingPong {
        return Err("monoio has no cross-thread spawn".into());
    }
    let build = || {
        monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .build()
            .map_err(|e| e.to_string())
    };
    // The partner thread gets the ping-pong channel's receiving end once the body makes it.
    let (hand_over, handed) = std::sync::mpsc::channel::<mpsc::Receiver<oneshot::Sender<()>>>();
    let (started, tid) = std::sync::mpsc::channel();
    let partner = std::thread::spawn(move || {
        sys::pin_to_core(1);
        let mut rt = build()?;
        let _ = started.send(gettid());
        let requests = handed.recv().map_err(|_| "no ping-pong started")?;
        rt.block_on(pong(requests));
        Ok::<(), String>(())
    });
    let tid = tid.recv().map_err(|_| "the partner thread did not start")?;
    let clocks = [ThreadClock::current(), ThreadClock::of(tid)];
    let (elapsed, cpu) = build()?.block_on(async move {
        let ponger = move |requests| drop(hand_over.send(requests));
        monoio::spawn(
            async move { timed(&clocks, body(case, n, std::future::ready, ponger)).await },
        )
        .await
    });
    partner
        .join()
        .unwrap_or_else(|_| Err("the partner thread panicked".into()))?;
    Ok(Sample {
        elapsed,
        cpu,
        stats: None,
    })
}

/// Runs the section and prints one table per case.
pub fn run(settings: &Settings) {
    println!("### Crossing between workers\n");
    println!(
        "from a task on core 0 to core 1; per op: wall time (median of the repetitions), CPU of \
         both threads, and for this runtime the eventfd syscalls and driver waits \
         (`epoll_wait` or `io_uring_enter`) of both workers, per op\n"
    );
    let contenders: Vec<Contender> = Contender::ALL
        .into_iter()
        .filter(|c| settings.includes(c.label()))
        .collect();
    for case in Case::ALL {
        let n = match case {
            Case::RoundTrip | Case::PingPong => settings.pick(10_000, 500),
            Case::Window => settings.pick(100_000, 5_000),
        };
        let outcomes = interleave(&contenders, settings.reps, |&c| measure(c, case, n));
        let baseline = contenders
            .iter()
            .position(|&c| c == Contender::TokioTwoRuntimes)
            .and_then(|i| outcomes[i].as_ref().ok())
            .and_then(|s| Spread::of(s.iter().map(|s| s.elapsed.as_secs_f64())));
        println!("#### {} (n = {n})\n", case.name());
        let mut table = Table::new(&[
            "runtime",
            "per op median (min–max)",
            "ops/s",
            "time vs tokio two runtimes",
            "CPU µs/op (both threads, median run)",
            "eventfd syscalls/op",
            "driver waits/op",
        ]);
        for (c, outcome) in contenders.iter().zip(&outcomes) {
            let samples = match outcome {
                Ok(samples) => samples,
                Err(reason) => {
                    table.unavailable(c.label(), reason);
                    continue;
                }
            };
            let ops = (n * samples.len()) as f64;
            let time = Spread::of(samples.iter().map(|s| s.elapsed.as_secs_f64() / n as f64))
                .expect("a sample");
            // The median run's CPU: one run disturbed by other work must not weigh on it.
            let cpu = Spread::of(samples.iter().map(|s| s.cpu.as_secs_f64() / n as f64))
                .expect("a sample")
                .median;
            let counted = |pick: fn(&Stats) -> u64| -> String {
                let total: Option<u64> = samples.iter().map(|s| s.stats.map(|s| pick(&s))).sum();
                total.map_or("–".into(), |t| format!("{:.3}", t as f64 / ops))
            };
            table.row(vec![
                c.label().to_string(),
                time.show(seconds),
                rate(1.0 / time.median),
                ratio(time.median * n as f64, baseline.map(|b| b.median)),
                format!("{:.2}", cpu * 1e6),
                counted(|s| s.eventfd),
                counted(|s| s.epoll_wait + s.uring_enter),
            ]);
        }
        println!("{}", table.render());
    }
}
