//! The executor workloads, written once for every runtime.
//!
//! Each `on_*.rs` file declares this file as its own `workloads` module, so the code below is
//! compiled once per runtime and `super::` names *that* runtime's `spawn`, `yield_now`, `sleep`
//! and `spawn_blocking` (thin adapters with the same shape everywhere). The measured code is thus
//! literally the same text for every contender.
//!
//! Everything here is `Send`, so that tokio's multi-thread runtime can run it too.

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::{sleep, spawn, spawn_blocking, yield_now};
use crate::common::channel::{mpsc, oneshot};
use crate::Case;

/// Tasks in `yield_many`; each yields `n / YIELDING_TASKS` times.
const YIELDING_TASKS: usize = 100;

/// Runs `case` with size `n` and returns how long it took (runtime start-up not included).
pub async fn timed(case: Case, n: usize) -> Duration {
    let start = Instant::now();
    match case {
        Case::SpawnMany => spawn_many(n).await,
        Case::YieldMany => yield_many(n).await,
        Case::PingPong => ping_pong(n).await,
        Case::ChainedSpawn => chained_spawn(n).await,
        Case::RemoteWake => remote_wake(n).await,
        Case::Timers => timers(n).await,
        Case::SpawnBlocking => blocking_round_trips(n).await,
    }
    start.elapsed()
}

/// Spawns `n` empty tasks, then joins them all: the cost of a task's whole life.
async fn spawn_many(n: usize) {
    let handles: Vec<_> = (0..n).map(|i| spawn(async move { black_box(i) })).collect();
    for handle in handles {
        black_box(handle.await);
    }
}

/// `YIELDING_TASKS` tasks yield in turn, `n` yields in all: the cost of one trip through the
/// run queue.
async fn yield_many(n: usize) {
    let per_task = n / YIELDING_TASKS;
    let handles: Vec<_> = (0..YIELDING_TASKS)
        .map(|_| {
            spawn(async move {
                for _ in 0..per_task {
                    yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
}

/// Two tasks pass `n` round trips: the pinger sends a reply channel over an mpsc queue, the
/// ponger answers on it. Each trip is two wake-ups on the same thread.
async fn ping_pong(n: usize) {
    let (to_ponger, mut requests) = mpsc::channel::<oneshot::Sender<usize>>();
    let ponger = spawn(async move {
        let mut count = 0;
        while let Some(reply) = requests.recv().await {
            reply.send(count);
            count += 1;
        }
        count
    });
    let pinger = spawn(async move {
        for i in 0..n {
            let (reply, answer) = oneshot::channel();
            to_ponger.send(reply);
            assert_eq!(answer.await, Some(i));
        }
        // Dropping `to_ponger` here ends the ponger's loop.
    });
    pinger.await;
    assert_eq!(ponger.await, n);
}

/// Each task spawns the next, `n` in a chain; the last one says it is done.
async fn chained_spawn(n: usize) {
    fn link(left: usize, done: oneshot::Sender<()>) {
        // Detached: dropping the join future does not cancel the task.
        drop(spawn(async move {
            if left == 0 {
                done.send(());
            } else {
                link(left - 1, done);
            }
        }));
    }
    let (done, finished) = oneshot::channel();
    link(n, done);
    assert_eq!(finished.await, Some(()));
}

/// `n` round trips to a plain OS thread: the task asks, the thread answers by waking the task
/// from outside the runtime (remote queue + unparking the driver).
async fn remote_wake(n: usize) {
    let (to_thread, requests) = std::sync::mpsc::channel::<oneshot::Sender<()>>();
    let thread = std::thread::spawn(move || {
        for reply in requests {
            reply.send(());
        }
    });
    for _ in 0..n {
        let (reply, answer) = oneshot::channel();
        to_thread
            .send(reply)
            .expect("the answering thread is alive");
        assert_eq!(answer.await, Some(()));
    }
    drop(to_thread);
    thread.join().expect("the answering thread ended cleanly");
}

/// `n` timers a minute away are registered (each polled once), then all cancelled (dropped).
async fn timers(n: usize) {
    let mut sleeps: Vec<Pin<Box<_>>> = (0..n)
        .map(|_| Box::pin(sleep(Duration::from_secs(60))))
        .collect();
    poll_fn(|cx| {
        for s in sleeps.iter_mut() {
            assert!(s.as_mut().poll(cx).is_pending());
        }
        Poll::Ready(())
    })
    .await;
    drop(sleeps);
}

/// `n` sequential trips to the blocking pool and back.
async fn blocking_round_trips(n: usize) {
    for i in 0..n {
        assert_eq!(spawn_blocking(move || black_box(i)).await, i);
    }
}
