//! Helpers for the `sync` tests: a deterministic random sequence, a future that is dropped at a
//! random moment, and a runner of many bounded rounds.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use runtime::task::yield_now;
use runtime::time::timeout;
use runtime::JoinHandle;

/// Rounds each cancel-safety stress test runs.
pub const ROUNDS: u32 = 10_000;

/// A round that takes longer than this is stuck: a lost wake-up or a lost permit.
const ROUND_LIMIT: Duration = Duration::from_secs(10);

/// A deterministic pseudo-random sequence (xorshift64).
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A new sequence for another task, derived from this one.
    pub fn fork(&mut self) -> XorShift {
        XorShift::new(self.next_u64())
    }

    /// Yields to the other tasks 0, 1 or 2 times.
    pub async fn yield_some(&mut self) {
        for _ in 0..self.below(3) {
            yield_now().await;
        }
    }
}

/// Awaits `future`, or gives up on it at a random moment: half the time it runs to completion;
/// otherwise it is dropped after 1 to 3 polls, each followed by 0 to 2 yields, so the drop may
/// come before or after another task hands it something. `None` if it was dropped.
pub async fn maybe_cancel<F: Future>(future: F, rng: &mut XorShift) -> Option<F::Output> {
    if rng.below(2) == 0 {
        // Plain `.await`: polled again only when woken, so a lost wake-up hangs the round.
        return Some(future.await);
    }
    let mut future = pin!(future);
    for _ in 0..1 + rng.below(3) {
        if let Poll::Ready(output) = poll_once(future.as_mut()).await {
            return Some(output);
        }
        rng.yield_some().await;
    }
    None
}

/// Polls `future` once, with the current task's waker.
pub async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

/// Runs `round` [`ROUNDS`] times, each with its own random sequence derived from `seed`, each
/// bounded by a timeout (a round that hangs fails the test, naming the round).
pub async fn stress<F, Fut>(seed: u64, mut round: F)
where
    F: FnMut(XorShift) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut seeds = XorShift::new(seed);
    for i in 0..ROUNDS {
        if timeout(ROUND_LIMIT, round(seeds.fork())).await.is_err() {
            panic!("round {i} (seed {seed:#x}) hung: a wake-up or a permit was lost");
        }
    }
}

/// Spawns one task per item; each gets its index, the item and its own random sequence.
pub fn spawn_each<I, F, Fut>(items: I, rng: &mut XorShift, task: F) -> Vec<JoinHandle<Fut::Output>>
where
    I: IntoIterator,
    F: Fn(usize, I::Item, XorShift) -> Fut,
    Fut: Future + 'static,
    Fut::Output: 'static,
{
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| runtime::spawn(task(index, item, rng.fork())))
        .collect()
}

/// Awaits every task; their outputs, in order.
pub async fn join_all<T>(tasks: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut outputs = Vec::with_capacity(tasks.len());
    for task in tasks {
        outputs.push(task.await.expect("the task panicked"));
    }
    outputs
}
