//! `sync::shared` between two runtimes on two threads: wake storms deliver every message once and
//! in order per producer, ping-pong, a receiver asleep in its driver is woken by another thread,
//! broadcast receivers lag across threads, `Notify` across threads. (The cancel-safety stress,
//! with half of every round on another thread, is in `sync_shared_stress.rs`.)

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use runtime::sync::shared::{broadcast, mpsc, oneshot, Notify};
use runtime::task::yield_now;
use runtime::time::timeout;
use runtime::Runtime;

const LONG: Duration = Duration::from_secs(30);

/// Polls `future` once, with a waker that does nothing.
fn poll_now<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// A runtime of the caller's backend, running `body` on a thread of its own.
struct OtherThread<T> {
    output: oneshot::Receiver<T>,
    thread: thread::JoinHandle<()>,
}

fn on_another_thread<F, Fut>(body: F) -> OtherThread<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    let backend = runtime::backend();
    let (output_tx, output) = oneshot::channel();
    let thread = thread::spawn(move || {
        let rt = Runtime::builder()
            .backend(backend)
            .build()
            .expect("a second runtime");
        // The receiver is gone only if the test already failed.
        let _ = output_tx.send(rt.block_on(body()));
    });
    OtherThread { output, thread }
}

impl<T> OtherThread<T> {
    /// What `body` returned. A panic over there is resumed here; a hang is a failure.
    async fn join(self) -> T {
        let output = timeout(LONG, self.output)
            .await
            .expect("the other thread's runtime hung");
        match output {
            Ok(output) => {
                self.thread.join().expect("it returned");
                output
            }
            // The sender was dropped without sending: the body panicked.
            Err(_) => std::panic::resume_unwind(self.thread.join().unwrap_err()),
        }
    }
}

/// Four producers, two on each of two other runtimes, each sending `PER_PRODUCER` numbered
/// messages with `send`: returns the threads.
fn spawn_producers<S, Fut>(send: S) -> Vec<OtherThread<()>>
where
    S: Fn(usize, u32) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    (0..2)
        .map(|thread| {
            let send = send.clone();
            on_another_thread(move || async move {
                let tasks: Vec<_> = (0..2)
                    .map(|task| {
                        let send = send.clone();
                        runtime::spawn(async move {
                            for seq in 0..PER_PRODUCER {
                                send(thread * 2 + task, seq).await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
        .collect()
}

const PRODUCERS: usize = 4;
const PER_PRODUCER: u32 = 25_000;

/// Receives until every producer is gone, checking that each producer's messages come exactly
/// once and in order.
async fn receive_storm(rx: &mut mpsc::Receiver<(usize, u32)>) {
    let mut next = [0; PRODUCERS];
    let all = async {
        while let Some((producer, seq)) = rx.recv().await {
            assert_eq!(
                seq, next[producer],
                "producer {producer}: lost, repeated or reordered"
            );
            next[producer] += 1;
        }
    };
    timeout(LONG, all).await.expect("the storm hung");
    assert_eq!(next, [PER_PRODUCER; PRODUCERS]);
}

#[runtime::test]
async fn bounded_wake_storm_from_two_runtimes_delivers_every_message_once_in_order() {
    // A small capacity: producers wait for room all the time, and the receiver for values.
    let (tx, mut rx) = mpsc::channel(8);
    let producers = spawn_producers(move |producer, seq| {
        let tx = tx.clone();
        async move { tx.send((producer, seq)).await.unwrap() }
    });
    receive_storm(&mut rx).await;
    for producer in producers {
        producer.join().await;
    }
}

#[runtime::test]
async fn unbounded_wake_storm_from_two_runtimes_delivers_every_message_once_in_order() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let producers = spawn_producers(move |producer, seq| {
        tx.send((producer, seq)).unwrap();
        // Now and then let the other producer of the thread in, so the sends interleave.
        let let_others_in = seq % 64 == 0;
        async move {
            if let_others_in {
                yield_now().await;
            }
        }
    });
    receive_storm(&mut rx).await;
    for producer in producers {
        producer.join().await;
    }
}

#[runtime::test]
async fn ping_pong_between_two_threads_runtimes() {
    const ROUNDS: u32 = 10_000;
    // Pings go through an `mpsc`; each carries a `oneshot` for its pong.
    let (ping_tx, mut ping_rx) = mpsc::channel::<(u32, oneshot::Sender<u32>)>(1);
    let ponger = on_another_thread(move || async move {
        let mut pongs = 0;
        while let Some((n, reply)) = ping_rx.recv().await {
            reply.send(n + 1).unwrap();
            pongs += 1;
        }
        pongs
    });
    let rally = async {
        for n in 0..ROUNDS {
            let (reply, pong) = oneshot::channel();
            ping_tx.send((2 * n, reply)).await.unwrap();
            assert_eq!(pong.await, Ok(2 * n + 1));
        }
    };
    timeout(LONG, rally).await.expect("the rally hung");
    drop(ping_tx);
    assert_eq!(ponger.join().await, ROUNDS);
}

/// This thread's id, as the kernel knows it.
fn thread_id() -> libc::pid_t {
    // SAFETY: `gettid` takes no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Waits (bounded) until thread `tid` of this process is asleep in the kernel: state `S` in
/// `/proc/self/task/<tid>/stat`.
fn wait_until_asleep(tid: libc::pid_t) {
    let path = format!("/proc/self/task/{tid}/stat");
    let deadline = Instant::now() + LONG;
    loop {
        let stat = std::fs::read_to_string(&path).expect("the thread is alive");
        // The state follows the command name, which is in parentheses and may hold anything.
        let state = stat[stat.rfind(')').expect("a stat line") + 1..].trim_start();
        if state.starts_with('S') {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "thread {tid} never went to sleep"
        );
        thread::yield_now();
    }
}

#[runtime::test]
async fn a_receiver_asleep_in_its_driver_is_woken_by_a_sender_on_another_thread() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (value_tx, value_rx) = oneshot::channel();
    let receiver = runtime::spawn(async move { (rx.recv().await, value_rx.await) });
    let me = thread_id();
    let before = runtime::stats();
    // A plain thread sends each value only once this thread sleeps in `epoll_wait` or
    // `io_uring_enter`, with nothing else to do.
    let sender = thread::spawn(move || {
        wait_until_asleep(me);
        tx.send("mpsc").unwrap();
        wait_until_asleep(me);
        value_tx.send("oneshot").unwrap();
    });
    let received = timeout(LONG, receiver).await.expect("the wake-up was lost");
    assert_eq!(received.unwrap(), (Some("mpsc"), Ok("oneshot")));
    let woken = runtime::stats() - before;
    assert!(
        woken.remote_wakes >= 2,
        "the task was not woken from the other thread: {woken:?}"
    );
    sender.join().unwrap();
}

#[runtime::test]
async fn a_broadcast_receiver_lagging_behind_another_threads_sender_learns_what_it_missed() {
    let (tx, mut rx) = broadcast::channel(4);
    on_another_thread(move || async move {
        for i in 0..10 {
            tx.send(i).unwrap();
        }
    })
    .join()
    .await;
    assert_eq!(rx.recv().await, Err(broadcast::RecvError::Lagged(6)));
    for i in 6..10 {
        assert_eq!(rx.recv().await, Ok(i));
    }
    assert_eq!(rx.recv().await, Err(broadcast::RecvError::Closed));
}

#[runtime::test]
async fn broadcast_receivers_on_two_threads_get_every_value_or_learn_they_lagged() {
    const VALUES: u32 = 10_000;
    let (tx, _) = broadcast::channel(8);
    let receivers: Vec<_> = (0..2)
        .map(|slow| {
            let mut rx = tx.subscribe();
            on_another_thread(move || async move {
                let (mut got, mut missed) = (0, 0);
                let mut next = 0;
                loop {
                    match rx.recv().await {
                        Ok(value) => {
                            assert!(value >= next, "went back to {value}");
                            next = value + 1;
                            got += 1;
                        }
                        Err(broadcast::RecvError::Lagged(n)) => missed += n as u32,
                        Err(broadcast::RecvError::Closed) => break,
                    }
                    // The second receiver is slower, and lags more.
                    for _ in 0..slow * 2 {
                        yield_now().await;
                    }
                }
                assert_eq!(got + missed, VALUES, "values unaccounted for");
                next
            })
        })
        .collect();
    for i in 0..VALUES {
        tx.send(i).unwrap();
        if i % 128 == 0 {
            yield_now().await;
        }
    }
    drop(tx);
    for receiver in receivers {
        assert_eq!(receiver.join().await, VALUES, "the last value was not read");
    }
}

#[runtime::test]
async fn notify_one_ping_pong_across_threads() {
    const ROUNDS: u32 = 10_000;
    let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let ponger = {
        let (ping, pong) = (ping.clone(), pong.clone());
        on_another_thread(move || async move {
            for _ in 0..ROUNDS {
                ping.notified().await;
                pong.notify_one();
            }
        })
    };
    let rally = async {
        for _ in 0..ROUNDS {
            // Whether the other side waits already or not: a waiter is woken, or a permit kept.
            ping.notify_one();
            pong.notified().await;
        }
    };
    timeout(LONG, rally).await.expect("a notification was lost");
    ponger.join().await;
    assert!(
        poll_now(pin!(ping.notified())).is_pending(),
        "a permit was left"
    );
}

#[runtime::test]
async fn notify_waiters_wakes_waiters_on_two_other_threads() {
    const PER_THREAD: usize = 3;
    let notify = Arc::new(Notify::new());
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let (notify, ready_tx) = (notify.clone(), ready_tx.clone());
            on_another_thread(move || async move {
                let tasks = (0..PER_THREAD).map(|i| {
                    let (notify, ready_tx) = (notify.clone(), ready_tx.clone());
                    runtime::spawn(async move {
                        let notified = notify.notified();
                        ready_tx.send(()).unwrap();
                        // Some wait in the list already, some are first polled afterwards.
                        if i % 2 == 0 {
                            yield_now().await;
                        }
                        notified.await;
                    })
                });
                for task in tasks.collect::<Vec<_>>() {
                    task.await.unwrap();
                }
            })
        })
        .collect();
    drop(ready_tx);
    for _ in 0..2 * PER_THREAD {
        timeout(LONG, ready_rx.recv()).await.unwrap().unwrap();
    }
    notify.notify_waiters();
    for waiters in waiters {
        waiters.join().await;
    }
    assert!(
        poll_now(pin!(notify.notified())).is_pending(),
        "a permit was stored"
    );
}
