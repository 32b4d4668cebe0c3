//! Cancel-safety stress for `sync::shared`: 10k rounds per primitive, each under a timeout, with
//! futures dropped at random (but reproducible) moments, so that a dropped future that kept a
//! waker, a slot or a notification hangs its round. Every round is played twice: with both halves
//! on one runtime, and with one half on another runtime on another thread.

mod sync_common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::thread;

use runtime::sync::shared::{broadcast, mpsc, oneshot, Notify};
use runtime::task::yield_now;
use runtime::Runtime;
use sync_common::{join_all, maybe_cancel, poll_once, spawn_each, stress, XorShift};

/// A round's other half, made and run where it runs.
type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// Where a round's other half runs.
#[derive(Clone)]
enum Side {
    /// As a task of this runtime.
    Here,
    /// As a task of the helper thread's runtime.
    OtherThread(mpsc::UnboundedSender<Job>),
}

impl Side {
    /// Starts `half` on this side; its output comes through the receiver.
    fn start<F, Fut>(&self, half: F) -> oneshot::Receiver<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let (output_tx, output) = oneshot::channel();
        let job: Job = Box::new(move || {
            Box::pin(async move {
                // The receiver is gone only if the round already failed.
                let _ = output_tx.send(half().await);
            })
        });
        match self {
            Side::Here => drop(runtime::spawn(job())),
            Side::OtherThread(jobs) => jobs.send(job).expect("the helper thread runs"),
        }
        output
    }

    /// Starts one task per item on this side, each with its index, the item and a random
    /// sequence of its own; their outputs, in order, come through the receiver.
    fn start_each<I, F, Fut>(
        &self,
        items: I,
        mut rng: XorShift,
        task: F,
    ) -> oneshot::Receiver<Vec<Fut::Output>>
    where
        I: IntoIterator + Send + 'static,
        F: Fn(usize, I::Item, XorShift) -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        self.start(move || async move { join_all(spawn_each(items, &mut rng, task)).await })
    }
}

/// Runs `round` [`sync_common::ROUNDS`] times, each under a timeout, with its other half on this
/// runtime or, with `other_thread`, on a helper runtime started on another thread.
async fn stress_on<R, Fut>(seed: u64, other_thread: bool, round: R)
where
    R: Fn(XorShift, Side) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    let helper = other_thread.then(start_helper_thread);
    let side = match &helper {
        Some((jobs, _)) => Side::OtherThread(jobs.clone()),
        None => Side::Here,
    };
    stress(seed, |rng| {
        // This half runs as a task too, scheduled like the other one.
        let half = runtime::spawn(round(rng, side.clone()));
        async { half.await.expect("the round panicked") }
    })
    .await;
    drop(side);
    if let Some((jobs, thread)) = helper {
        drop(jobs);
        thread.join().expect("the helper thread panicked");
    }
}

/// A runtime of this test's backend on another thread, spawning every job it is sent as a task
/// until the sender is dropped.
fn start_helper_thread() -> (mpsc::UnboundedSender<Job>, thread::JoinHandle<()>) {
    let backend = runtime::backend();
    let (jobs, mut incoming) = mpsc::unbounded_channel::<Job>();
    let thread = thread::spawn(move || {
        let rt = Runtime::builder()
            .backend(backend)
            .build()
            .expect("a helper runtime");
        rt.block_on(async move {
            while let Some(job) = incoming.recv().await {
                runtime::spawn(job());
            }
        });
    });
    (jobs, thread)
}

/// Marks the end of a round's values.
const END: u32 = u32::MAX;

/// Receives with random cancellations until [`END`]; returns the values seen before it.
async fn receive_until_end(rx: &mut mpsc::Receiver<u32>, rng: &mut XorShift) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        match maybe_cancel(rx.recv(), rng).await {
            Some(Some(END)) => return got,
            Some(Some(value)) => got.push(value),
            Some(None) => panic!("closed before the end marker"),
            None => {}
        }
    }
}

/// Checks that `got` holds exactly the values `sent`, each sender's (sender `s` sends
/// `s * 100 + i`) in order.
fn assert_all_in_order_per_sender(got: &[u32], mut sent: Vec<u32>) {
    let mut sorted = got.to_vec();
    sorted.sort_unstable();
    sent.sort_unstable();
    assert_eq!(sorted, sent, "values lost or duplicated");
    for s in 0..3 {
        let from_s: Vec<u32> = got.iter().copied().filter(|v| v / 100 == s).collect();
        assert!(
            from_s.windows(2).all(|w| w[0] < w[1]),
            "out of order: {from_s:?}"
        );
    }
}

/// Three senders on `side`, each giving up some of its sends to a channel of two slots; the
/// receiver here gives up some of its receives. No value is lost or repeated, and every slot
/// comes back.
async fn mpsc_bounded_round(mut rng: XorShift, side: Side) {
    const CAPACITY: usize = 2;
    let (tx, mut rx) = mpsc::channel(CAPACITY);
    let mut receiver_rng = rng.fork();
    let receiver =
        runtime::spawn(async move { receive_until_end(&mut rx, &mut receiver_rng).await });
    let senders = side.start_each(0..3u32, rng.fork(), {
        let tx = tx.clone();
        move |_, s, mut rng| {
            let tx = tx.clone();
            async move {
                let mut sent = Vec::new();
                for value in (0..4).map(|i| s * 100 + i) {
                    // A cancelled send sends nothing.
                    if let Some(result) = maybe_cancel(tx.send(value), &mut rng).await {
                        result.unwrap();
                        sent.push(value);
                    }
                }
                sent
            }
        }
    });
    let sent = senders.await.expect("the senders panicked").concat();
    tx.send(END).await.unwrap();
    assert_all_in_order_per_sender(&receiver.await.unwrap(), sent);
    assert_eq!(tx.capacity(), CAPACITY, "a slot was lost");
}

#[runtime::test]
async fn mpsc_bounded_cancel_stress_on_one_runtime() {
    stress_on(0x5a3e_0001, false, mpsc_bounded_round).await;
}

#[runtime::test]
async fn mpsc_bounded_cancel_stress_across_threads() {
    stress_on(0x5a3e_0001, true, mpsc_bounded_round).await;
}

/// A sender on `side` with pauses; the receiver here gives up some of its receives.
async fn mpsc_unbounded_round(mut rng: XorShift, side: Side) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut sender_rng = rng.fork();
    let sender = side.start(move || async move {
        let sent: Vec<u32> = (0..6).map(|i| (i % 3) * 100 + i).collect();
        for &value in &sent {
            tx.send(value).unwrap();
            sender_rng.yield_some().await;
        }
        tx.send(END).unwrap();
        sent
    });
    let got = receive_until_end(&mut rx, &mut rng).await;
    assert_all_in_order_per_sender(&got, sender.await.expect("the sender panicked"));
}

#[runtime::test]
async fn mpsc_unbounded_cancel_stress_on_one_runtime() {
    stress_on(0x5a3e_0002, false, mpsc_unbounded_round).await;
}

#[runtime::test]
async fn mpsc_unbounded_cancel_stress_across_threads() {
    stress_on(0x5a3e_0002, true, mpsc_unbounded_round).await;
}

/// Checks that no `notify_one` permit is stored: a new `Notified` does not complete at once.
async fn assert_no_permit(notify: &Notify) {
    let notified = pin!(notify.notified());
    assert!(
        poll_once(notified).await.is_pending(),
        "a permit was stored"
    );
}

/// Three waiters on `side`, each giving up some of its waits; eight `notify_one`s from here, each
/// once the previous one arrived: a lost one stops the round, a duplicate shows in the count.
async fn notify_one_round(mut rng: XorShift, side: Side) {
    const NOTIFICATIONS: u32 = 8;
    let notify = Arc::new(Notify::new());
    let received = Arc::new(AtomicU32::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let waiters = side.start_each(0..3, rng.fork(), {
        let (notify, received, done) = (notify.clone(), received.clone(), done.clone());
        move |_, _, mut rng| {
            let (notify, received, done) = (notify.clone(), received.clone(), done.clone());
            async move {
                while !done.load(SeqCst) {
                    let woken = maybe_cancel(notify.notified(), &mut rng).await.is_some();
                    if woken && !done.load(SeqCst) {
                        received.fetch_add(1, SeqCst);
                    }
                }
            }
        }
    });
    for sent in 1..=NOTIFICATIONS {
        rng.yield_some().await;
        notify.notify_one();
        while received.load(SeqCst) < sent {
            yield_now().await;
        }
    }
    done.store(true, SeqCst);
    // A waiter on another thread may have checked `done` just before it was set and create its
    // `Notified` just after a `notify_waiters`: that one would wait for the next call. So call it
    // until every waiter is done.
    let mut waiters = pin!(waiters);
    loop {
        notify.notify_waiters();
        if let Poll::Ready(result) = poll_once(waiters.as_mut()).await {
            result.expect("the waiters panicked");
            break;
        }
        yield_now().await;
    }
    assert_eq!(received.load(SeqCst), NOTIFICATIONS);
    assert_no_permit(&notify).await;
}

#[runtime::test]
async fn notify_one_cancel_stress_on_one_runtime() {
    stress_on(0x5a3e_0003, false, notify_one_round).await;
}

#[runtime::test]
async fn notify_one_cancel_stress_across_threads() {
    stress_on(0x5a3e_0003, true, notify_one_round).await;
}

/// Three waiters on `side` create their `Notified` before `notify_waiters` is called here, then
/// wait or give up at random: each one kept completes, and no permit is stored.
async fn notify_waiters_round(mut rng: XorShift, side: Side) {
    let notify = Arc::new(Notify::new());
    let created = Arc::new(AtomicU32::new(0));
    let waiters = side.start_each(0..3, rng.fork(), {
        let (notify, created) = (notify.clone(), created.clone());
        move |_, _, mut rng| {
            let (notify, created) = (notify.clone(), created.clone());
            async move {
                // Created before `notify_waiters`, so it must complete if it is kept.
                let notified = notify.notified();
                created.fetch_add(1, SeqCst);
                maybe_cancel(notified, &mut rng).await;
            }
        }
    });
    while created.load(SeqCst) < 3 {
        yield_now().await;
    }
    rng.yield_some().await;
    notify.notify_waiters();
    waiters.await.expect("the waiters panicked");
    assert_no_permit(&notify).await;
}

#[runtime::test]
async fn notify_waiters_cancel_stress_on_one_runtime() {
    stress_on(0x5a3e_0004, false, notify_waiters_round).await;
}

#[runtime::test]
async fn notify_waiters_cancel_stress_across_threads() {
    stress_on(0x5a3e_0004, true, notify_waiters_round).await;
}

/// Two receivers on `side`, each giving up some of its receives, of six values sent here into a
/// ring of two, sometimes faster than they read: each receiver reads in order, accounts for
/// every value (read, or missed and told so), and reads the last one.
async fn broadcast_round(mut rng: XorShift, side: Side) {
    const VALUES: u32 = 6;
    let (tx, rx) = broadcast::channel(2);
    let progress = Arc::new([AtomicU32::new(0), AtomicU32::new(0)]);
    let receivers = side.start_each([rx, tx.subscribe()], rng.fork(), {
        let progress = progress.clone();
        move |me, mut rx, mut rng| {
            let progress = progress.clone();
            async move {
                let (mut got, mut missed) = (Vec::new(), 0);
                while got.len() as u32 + missed < VALUES {
                    match maybe_cancel(rx.recv(), &mut rng).await {
                        Some(Ok(value)) => got.push(value),
                        Some(Err(broadcast::RecvError::Lagged(n))) => missed += n as u32,
                        Some(Err(broadcast::RecvError::Closed)) => panic!("closed early"),
                        None => {}
                    }
                    progress[me].store(got.len() as u32 + missed, SeqCst);
                }
                got
            }
        }
    });
    for sent in 1..=VALUES {
        tx.send(sent - 1).unwrap();
        // Sometimes let the receivers fall behind (and lag), sometimes wait for them.
        if rng.below(2) == 0 || sent == VALUES {
            while progress.iter().any(|p| p.load(SeqCst) < sent) {
                yield_now().await;
            }
        }
    }
    for got in receivers.await.expect("the receivers panicked") {
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        assert_eq!(got.last(), Some(&(VALUES - 1)), "{got:?}");
    }
}

#[runtime::test]
async fn broadcast_cancel_stress_on_one_runtime() {
    stress_on(0x5a3e_0005, false, broadcast_round).await;
}

#[runtime::test]
async fn broadcast_cancel_stress_across_threads() {
    stress_on(0x5a3e_0005, true, broadcast_round).await;
}

/// Counts its drops.
struct CountsDrops(Arc<AtomicU32>);

impl Drop for CountsDrops {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A receiver on `side` that may give up (drop the receiver) while the value is sent from here:
/// the value is dropped exactly once, and received exactly when the send succeeded.
async fn oneshot_round(mut rng: XorShift, side: Side) {
    let drops = Arc::new(AtomicU32::new(0));
    let (tx, rx) = oneshot::channel();
    let mut receiver_rng = rng.fork();
    let receiver = side
        .start(move || async move { maybe_cancel(rx, &mut receiver_rng).await.map(|r| r.is_ok()) });
    rng.yield_some().await;
    let sent = tx.send(CountsDrops(drops.clone())).is_ok();
    if let Some(received) = receiver.await.expect("the receiver panicked") {
        assert_eq!(received, sent);
    }
    assert_eq!(drops.load(SeqCst), 1);
}

#[runtime::test]
async fn oneshot_cancel_stress_on_one_runtime() {
    stress_on(0x5a3e_0006, false, oneshot_round).await;
}

#[runtime::test]
async fn oneshot_cancel_stress_across_threads() {
    stress_on(0x5a3e_0006, true, oneshot_round).await;
}
