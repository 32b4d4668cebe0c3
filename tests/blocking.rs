//! The blocking pool (`runtime::task::spawn_blocking`): results, panics, more jobs than threads,
//! wake-ups from pool threads, and the life and death of pool threads.
//!
//! Pool threads are observed through their kernel thread ids: a job reports `gettid()`, and
//! `/proc/self/task/<tid>` exists exactly as long as that thread does. Waiting for a thread to go
//! is a bounded polling loop, never a sleep.

use std::future::Future;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use runtime::task::spawn_blocking;
use runtime::{Backend, Builder, Runtime};

/// Upper bound for anything a test waits for.
const DEADLINE: Duration = Duration::from_secs(20);

fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

fn thread_exists(tid: i32) -> bool {
    std::path::Path::new(&format!("/proc/self/task/{tid}")).exists()
}

/// Polls until the thread `tid` has exited, failing the test after [`DEADLINE`].
fn wait_for_exit(tid: i32, what: &str) {
    let deadline = Instant::now() + DEADLINE;
    while thread_exists(tid) {
        assert!(
            Instant::now() < deadline,
            "{what}: thread {tid} is still alive"
        );
        std::thread::yield_now();
    }
}

/// One runtime per compiled backend, made by `configure` (io_uring skipped where unavailable).
fn runtimes(configure: impl Fn(Builder) -> Builder) -> Vec<Runtime> {
    Backend::compiled()
        .iter()
        .filter_map(
            |&backend| match configure(Runtime::builder().backend(backend)).build() {
                Ok(rt) => Some(rt),
                Err(e) if e.kind() == ErrorKind::Unsupported => {
                    eprintln!("skipped on {backend}: {e}");
                    None
                }
                Err(e) => panic!("cannot start a runtime on {backend}: {e}"),
            },
        )
        .collect()
}

#[runtime::test]
async fn returns_the_value_from_another_thread() {
    let worker = gettid();
    let (value, pool_thread) = spawn_blocking(|| (6 * 7, gettid())).await.unwrap();
    assert_eq!(value, 42);
    assert_ne!(pool_thread, worker, "the closure ran on the worker thread");
}

#[runtime::test]
async fn a_panic_becomes_a_join_error() {
    let err = spawn_blocking(|| -> u32 { panic!("boom in the pool") })
        .await
        .unwrap_err();
    assert!(err.is_panic() && !err.is_cancelled());
    assert!(err.to_string().contains("boom in the pool"), "{err}");
    // The pool survives it.
    assert_eq!(spawn_blocking(|| 1).await.unwrap(), 1);
}

#[runtime::test]
async fn the_worker_keeps_running_while_a_job_blocks() {
    let (tx, rx) = mpsc::channel::<()>();
    let job = spawn_blocking(move || rx.recv_timeout(DEADLINE).is_ok());
    // The worker is free: a task runs (and unblocks the job) while the job waits.
    runtime::spawn(async move { tx.send(()).unwrap() })
        .await
        .unwrap();
    assert!(job.await.unwrap(), "the job was not released");
}

#[test]
fn more_jobs_than_threads_all_complete() {
    const MAX: usize = 3;
    const JOBS: usize = 60;
    for rt in runtimes(|b| b.max_blocking_threads(MAX)) {
        rt.block_on(async {
            let handles: Vec<_> = (0..JOBS)
                .map(|i| spawn_blocking(move || (i * 2, gettid())))
                .collect();
            let mut threads = Vec::new();
            for (i, handle) in handles.into_iter().enumerate() {
                let (value, tid) = handle.await.unwrap();
                assert_eq!(value, i * 2);
                threads.push(tid);
            }
            threads.sort_unstable();
            threads.dedup();
            assert!(
                threads.len() <= MAX,
                "{} pool threads for a maximum of {MAX}",
                threads.len()
            );
        });
    }
}

#[test]
fn jobs_up_to_the_maximum_run_at_the_same_time() {
    for rt in runtimes(|b| b.max_blocking_threads(2)) {
        rt.block_on(async {
            // Each job waits for the other: they only finish if both run at once.
            let (a_tx, a_rx) = mpsc::channel::<()>();
            let (b_tx, b_rx) = mpsc::channel::<()>();
            let a = spawn_blocking(move || {
                a_tx.send(()).unwrap();
                b_rx.recv_timeout(DEADLINE).is_ok()
            });
            let b = spawn_blocking(move || {
                b_tx.send(()).unwrap();
                a_rx.recv_timeout(DEADLINE).is_ok()
            });
            assert!(a.await.unwrap() && b.await.unwrap());
        });
    }
}

/// A minimal one-shot channel whose receiver is a future: the test's own, so that the wake-up
/// under test comes from a plain `Waker::wake` on a pool thread.
#[derive(Default)]
struct Slot {
    value: Option<u32>,
    waker: Option<Waker>,
}

struct Recv(Arc<Mutex<Slot>>);

impl Future for Recv {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let mut slot = self.0.lock().unwrap();
        match slot.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[runtime::test]
async fn a_wake_from_a_pool_thread_wakes_the_runtime() {
    let slot = Arc::new(Mutex::new(Slot::default()));
    let waiter = runtime::spawn(Recv(slot.clone()));
    // Let the waiter register its waker before the job starts.
    for _ in 0..100 {
        if slot.lock().unwrap().waker.is_some() {
            break;
        }
        runtime::task::yield_now().await;
    }
    assert!(slot.lock().unwrap().waker.is_some(), "the waiter never ran");

    let before = runtime::stats();
    let job = spawn_blocking(move || {
        let waker = {
            let mut slot = slot.lock().unwrap();
            slot.value = Some(7);
            slot.waker.take()
        };
        waker.expect("the waiter registered").wake();
    });
    // Only the waiter's output is awaited; the runtime must be woken (the worker parks meanwhile).
    assert_eq!(waiter.await.unwrap(), 7);
    job.await.unwrap();
    let delta = runtime::stats() - before;
    assert!(delta.remote_wakes >= 1, "{delta}");
}

/// A worker spins before it parks only when it expects a wake from another thread (see
/// `Builder::spin_before_park`): never while it just waits for a timer.
#[test]
fn an_idle_runtime_does_not_spin() {
    for rt in runtimes(|b| b.spin_before_park(Builder::MAX_SPIN_BEFORE_PARK)) {
        let spins = rt.block_on(async {
            let before = runtime::stats();
            runtime::time::sleep(Duration::from_millis(100)).await;
            (runtime::stats() - before).spins
        });
        assert_eq!(spins, 0, "{:?}", rt.backend());
    }
}

/// After a blocking job a worker spins at most twice (for the job's answer, then once more,
/// unanswered), and not at all once that spin went unanswered or with spinning turned off.
#[test]
fn after_a_blocking_job_the_runtime_spins_at_most_twice() {
    for (spin, most) in [(Builder::MAX_SPIN_BEFORE_PARK, 2), (Duration::ZERO, 0)] {
        for rt in runtimes(|b| b.spin_before_park(spin)) {
            rt.block_on(async {
                let before = runtime::stats();
                assert_eq!(spawn_blocking(|| 7).await.unwrap(), 7);
                runtime::time::sleep(Duration::from_millis(20)).await;
                let delta = runtime::stats() - before;
                assert!(delta.spins <= most, "{delta}");
                assert!(delta.spin_hits <= delta.spins, "{delta}");
                let before = runtime::stats();
                runtime::time::sleep(Duration::from_millis(100)).await;
                let delta = runtime::stats() - before;
                assert_eq!(delta.spins, 0, "{delta}");
            });
        }
    }
}

/// A worker that spins still gets every wake from other threads, whichever side of a spin they
/// land on.
#[test]
fn wakes_from_other_threads_arrive_while_the_runtime_spins() {
    for rt in runtimes(|b| b.spin_before_park(Builder::MAX_SPIN_BEFORE_PARK)) {
        rt.block_on(async {
            for i in 0..700u32 {
                // Answers after 0 to ~2 ms: before, during and after the worker's spin.
                let delay = Duration::from_micros(u64::from(i % 7).pow(4));
                let answer = spawn_blocking(move || {
                    std::thread::sleep(delay);
                    i
                });
                assert_eq!(answer.await.unwrap(), i);
            }
        });
    }
}

#[test]
fn idle_threads_are_reused_then_exit_after_keep_alive() {
    // A long keep-alive first: the second job finds the first one's thread idle (or still
    // finishing the first job: with one thread at most, it takes the second job either way).
    for rt in runtimes(|b| b.max_blocking_threads(1).blocking_keep_alive(DEADLINE)) {
        rt.block_on(async {
            let first = spawn_blocking(gettid).await.unwrap();
            let second = spawn_blocking(gettid).await.unwrap();
            assert_eq!(first, second, "an idle thread was not reused");
        });
    }
    // A short one: the thread goes by itself, while the runtime lives on.
    for rt in runtimes(|b| b.blocking_keep_alive(Duration::from_millis(20))) {
        let tid = rt.block_on(async { spawn_blocking(gettid).await.unwrap() });
        wait_for_exit(tid, "after the keep-alive");
        // A new job starts a new thread.
        let next = rt.block_on(async { spawn_blocking(gettid).await.unwrap() });
        assert_ne!(next, tid);
    }
}

#[test]
fn dropping_the_runtime_stops_idle_threads() {
    for rt in runtimes(|b| b.blocking_keep_alive(Duration::from_secs(3600))) {
        let tid = rt.block_on(async { spawn_blocking(gettid).await.unwrap() });
        assert!(thread_exists(tid));
        drop(rt);
        wait_for_exit(tid, "after the runtime was dropped");
    }
}

#[test]
fn dropping_the_runtime_does_not_wait_for_running_jobs() {
    for rt in runtimes(|b| b) {
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let tid = rt.block_on(async move {
            // Detached: its handle is dropped, the job keeps running.
            drop(spawn_blocking(move || {
                started_tx.send(gettid()).unwrap();
                let _ = release_rx.recv_timeout(DEADLINE);
            }));
            started_rx.recv_timeout(DEADLINE).unwrap()
        });
        let before = Instant::now();
        drop(rt);
        assert!(
            before.elapsed() < DEADLINE / 2,
            "the drop waited for the running job"
        );
        release_tx.send(()).unwrap();
        wait_for_exit(tid, "after its job ended");
    }
}

#[test]
#[should_panic(expected = "no runtime")]
fn spawn_blocking_outside_a_runtime_panics() {
    drop(spawn_blocking(|| ()));
}
