//! `sync::shared` on one runtime and on plain threads: the same behaviour as the local
//! primitives (order, fairness, lagging, permits, values that hold their own channel), no waker
//! left behind by a dropped future, cancel-safety under 10k rounds of random drops, and the
//! blocking methods. Two runtimes on two threads are in `sync_shared_threads.rs`.

mod sync_common;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use runtime::sync::shared::{broadcast, mpsc, oneshot, Notified, Notify};
use runtime::task::yield_now;
use runtime::time::timeout;
use sync_common::{join_all, maybe_cancel, poll_once, spawn_each, stress, XorShift};

const LONG: Duration = Duration::from_secs(10);

#[test]
fn every_handle_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<mpsc::Sender<u8>>();
    check::<mpsc::UnboundedSender<u8>>();
    check::<mpsc::Receiver<u8>>();
    check::<oneshot::Sender<u8>>();
    check::<oneshot::Receiver<u8>>();
    check::<broadcast::Sender<u8>>();
    check::<broadcast::Receiver<u8>>();
    check::<Notify>();
    check::<Notified<'static>>();
}

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Polls `future` once with a counting waker, checks it is pending, drops it, runs `then`, and
/// returns how many times the dropped future's waker was woken.
fn wakes_after_drop<F: Future>(future: F, then: impl FnOnce()) -> usize {
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    {
        let mut future = pin!(future);
        let pending = future.as_mut().poll(&mut Context::from_waker(&waker));
        assert!(pending.is_pending());
    }
    then();
    counter.0.load(SeqCst)
}

#[test]
fn a_dropped_future_leaves_no_waker_behind() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    assert_eq!(wakes_after_drop(rx.recv(), || tx.send(1).unwrap()), 0);
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    assert_eq!(
        wakes_after_drop(tx.send(1), || {
            let _ = rx.try_recv();
        }),
        0
    );
    let (tx, mut rx) = broadcast::channel(1);
    assert_eq!(
        wakes_after_drop(rx.recv(), || tx.send(1).map(drop).unwrap()),
        0
    );
    let notify = Notify::new();
    assert_eq!(
        wakes_after_drop(notify.notified(), || notify.notify_waiters()),
        0
    );
    // The permit a dropped `notify_one` waiter would have had is stored instead.
    assert_eq!(
        wakes_after_drop(notify.notified(), || notify.notify_one()),
        0
    );
}

#[runtime::test]
async fn a_cancelled_send_does_not_steal_the_next_senders_wake_up() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    assert!(timeout(Duration::from_millis(1), tx.send(1)).await.is_err());
    let second = tx.clone();
    let waiting = runtime::spawn(async move { second.send(2).await.is_ok() });
    yield_now().await;
    // The slot freed by `recv` goes to the waiting sender, not to the one that gave up.
    assert_eq!(rx.recv().await, Some(0));
    assert!(matches!(timeout(LONG, waiting).await, Ok(Ok(true))));
    assert_eq!(rx.recv().await, Some(2));
}

#[runtime::test]
async fn try_send_does_not_overtake_a_waiting_sender() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    let waiting = {
        let tx = tx.clone();
        runtime::spawn(async move { tx.send(1).await.unwrap() })
    };
    yield_now().await;
    // The slot freed here is handed to the waiting sender: none is free for `try_send`.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(tx.try_send(2), Err(mpsc::TrySendError::Full(2)));
    timeout(LONG, waiting).await.unwrap().unwrap();
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(tx.capacity(), 1);
}

#[runtime::test]
async fn a_closed_receiver_still_drains_but_senders_fail() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(1).await.unwrap();
    let waiting = {
        let tx = tx.clone();
        runtime::spawn(async move { tx.send(2).await })
    };
    yield_now().await;
    rx.close();
    assert_eq!(waiting.await.unwrap(), Err(mpsc::SendError(2)));
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(3), Err(mpsc::TrySendError::Closed(3)));
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, None);
}

/// A message that holds a sender of its own channel.
struct CarriesSender {
    _sender: mpsc::UnboundedSender<CarriesSender>,
}

#[test]
fn dropping_a_receiver_may_drop_values_that_hold_senders() {
    let (tx, rx) = mpsc::unbounded_channel();
    let carry = || CarriesSender {
        _sender: tx.clone(),
    };
    tx.send(carry()).unwrap();
    tx.send(carry()).unwrap();
    drop(tx);
    drop(rx);
}

/// A value holding a sender of its own broadcast channel.
#[derive(Clone)]
struct HoldsBroadcastSender {
    _sender: broadcast::Sender<HoldsBroadcastSender>,
}

#[test]
fn broadcast_drops_values_that_hold_its_senders_outside_its_lock() {
    let (tx, rx) = broadcast::channel(1);
    let hold = || HoldsBroadcastSender {
        _sender: tx.clone(),
    };
    tx.send(hold()).unwrap();
    tx.send(hold()).unwrap(); // overwrites the first
    drop(rx); // drops the second, unread
}

#[runtime::test]
async fn broadcast_lagging_and_closing_match_the_local_channel() {
    let (tx, mut slow) = broadcast::channel(4);
    let mut fast = tx.subscribe();
    for i in 0..10 {
        assert_eq!(tx.send(i), Ok(2));
        assert_eq!(fast.recv().await, Ok(i));
    }
    assert_eq!(slow.len(), 4);
    assert_eq!(slow.recv().await, Err(broadcast::RecvError::Lagged(6)));
    for i in 6..10 {
        assert_eq!(slow.recv().await, Ok(i));
    }
    assert_eq!(slow.try_recv(), Err(broadcast::TryRecvError::Empty));
    assert!(tx.is_empty(), "values every receiver read are dropped");
    drop(tx);
    assert_eq!(slow.recv().await, Err(broadcast::RecvError::Closed));
    assert_eq!(fast.recv().await, Err(broadcast::RecvError::Closed));
}

#[runtime::test]
async fn notify_one_before_waiting_leaves_one_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one(); // permits do not add up
    notify.notified().await;
    assert!(poll_once(pin!(notify.notified())).await.is_pending());
}

#[runtime::test]
async fn a_notification_given_to_a_dropped_waiter_goes_to_the_next() {
    let notify = Arc::new(Notify::new());
    let mut first = Box::pin(notify.notified());
    assert!(poll_once(first.as_mut()).await.is_pending());
    let second = {
        let notify = notify.clone();
        runtime::spawn(async move { notify.notified().await })
    };
    yield_now().await;
    notify.notify_one(); // chosen: `first`, the oldest waiter...
    drop(first); // ...which is given up before it saw it
    timeout(LONG, second)
        .await
        .expect("the notification was lost with the dropped waiter")
        .unwrap();
}

#[runtime::test]
async fn blocking_methods_refuse_to_stop_a_runtime() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let refused = |f: &mut dyn FnMut()| catch_unwind(AssertUnwindSafe(f)).is_err();
    assert!(refused(&mut || {
        let _ = rx.blocking_recv();
    }));
    assert!(refused(&mut || {
        let _ = tx.blocking_send(1);
    }));
    // Nothing was sent by the refused call.
    assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
}

#[test]
fn plain_threads_talk_through_the_blocking_methods() {
    const VALUES: u32 = 10_000;
    let (tx, mut rx) = mpsc::channel(4);
    let producer = std::thread::spawn(move || {
        for i in 0..VALUES {
            tx.blocking_send(i).unwrap();
        }
    });
    let (done_tx, done_rx) = oneshot::channel();
    let (news_tx, mut news_rx) = broadcast::channel(1);
    let consumer = std::thread::spawn(move || {
        let mut next = 0;
        while let Some(i) = rx.blocking_recv() {
            assert_eq!(i, next);
            next += 1;
        }
        done_tx.send(next).unwrap();
        news_rx.blocking_recv()
    });
    producer.join().unwrap();
    assert_eq!(done_rx.blocking_recv(), Ok(VALUES));
    news_tx.send("done").unwrap();
    assert_eq!(consumer.join().unwrap(), Ok("done"));
}

/// Marks the end of a stress round's values.
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

/// Checks that `got` holds each sender's values (sender `s` sends `s * 100 + i`) in order.
fn assert_in_order_per_sender(got: &[u32], sent: usize) {
    assert_eq!(got.len(), sent, "values lost or duplicated");
    for s in 0..3 {
        let from_s: Vec<u32> = got.iter().copied().filter(|v| v / 100 == s).collect();
        assert!(
            from_s.windows(2).all(|w| w[0] < w[1]),
            "out of order: {from_s:?}"
        );
    }
}

#[runtime::test]
async fn mpsc_bounded_cancel_stress_loses_no_slot_and_no_value() {
    const CAPACITY: usize = 2;
    stress(0x5a3e_0001, |mut rng| async move {
        let (tx, mut rx) = mpsc::channel(CAPACITY);
        let senders = spawn_each(0..3u32, &mut rng, |_, s, mut rng| {
            let tx = tx.clone();
            async move {
                let mut sent = 0;
                for i in 0..4 {
                    if let Some(result) = maybe_cancel(tx.send(s * 100 + i), &mut rng).await {
                        result.unwrap();
                        sent += 1;
                    }
                }
                sent
            }
        });
        let mut receiver_rng = rng.fork();
        let receiver =
            runtime::spawn(
                async move { (receive_until_end(&mut rx, &mut receiver_rng).await, rx) },
            );
        let sent = join_all(senders).await.into_iter().sum();
        tx.send(END).await.unwrap();
        let (got, _rx) = receiver.await.unwrap();
        assert_in_order_per_sender(&got, sent);
        assert_eq!(tx.capacity(), CAPACITY, "a slot was lost");
    })
    .await;
}

#[runtime::test]
async fn mpsc_unbounded_cancel_stress_loses_no_value() {
    stress(0x5a3e_0002, |mut rng| async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut receiver_rng = rng.fork();
        let receiver =
            runtime::spawn(async move { receive_until_end(&mut rx, &mut receiver_rng).await });
        for i in 0..6 {
            tx.send((i % 3) * 100 + i).unwrap();
            rng.yield_some().await;
        }
        tx.send(END).unwrap();
        assert_in_order_per_sender(&receiver.await.unwrap(), 6);
    })
    .await;
}

#[runtime::test]
async fn notify_one_cancel_stress_loses_no_notification() {
    const NOTIFICATIONS: u32 = 4;
    stress(0x5a3e_0003, |mut rng| async move {
        let notify = Arc::new(Notify::new());
        let received = Arc::new(AtomicU32::new(0));
        let done = Arc::new(AtomicU32::new(0));
        let waiters = spawn_each(0..3, &mut rng, |_, _, mut rng| {
            let (notify, received, done) = (notify.clone(), received.clone(), done.clone());
            async move {
                while done.load(SeqCst) == 0 {
                    let woken = maybe_cancel(notify.notified(), &mut rng).await.is_some();
                    if woken && done.load(SeqCst) == 0 {
                        received.fetch_add(1, SeqCst);
                    }
                }
            }
        });
        // One notification at a time, each sent once the previous one arrived: a lost one
        // stops the round, a duplicate shows in the count.
        for sent in 1..=NOTIFICATIONS {
            rng.yield_some().await;
            notify.notify_one();
            while received.load(SeqCst) < sent {
                yield_now().await;
            }
        }
        done.store(1, SeqCst);
        notify.notify_waiters();
        join_all(waiters).await;
        assert_eq!(received.load(SeqCst), NOTIFICATIONS);
        assert!(poll_once(pin!(notify.notified())).await.is_pending());
    })
    .await;
}

#[runtime::test]
async fn notify_waiters_cancel_stress_wakes_every_waiter() {
    stress(0x5a3e_0004, |mut rng| async move {
        let notify = Arc::new(Notify::new());
        let started = Arc::new(AtomicU32::new(0));
        let waiters = spawn_each(0..3, &mut rng, |_, _, mut rng| {
            let (notify, started) = (notify.clone(), started.clone());
            async move {
                // Created before `notify_waiters`, so it must complete if it is kept.
                let notified = notify.notified();
                started.fetch_add(1, SeqCst);
                maybe_cancel(notified, &mut rng).await;
            }
        });
        while started.load(SeqCst) < 3 {
            yield_now().await;
        }
        rng.yield_some().await;
        notify.notify_waiters();
        join_all(waiters).await;
        assert!(poll_once(pin!(notify.notified())).await.is_pending());
    })
    .await;
}

#[runtime::test]
async fn broadcast_cancel_stress_loses_nothing_unaccounted() {
    const VALUES: u32 = 6;
    stress(0x5a3e_0005, |mut rng| async move {
        let (tx, rx) = broadcast::channel(2);
        let progress = Arc::new([AtomicU32::new(0), AtomicU32::new(0)]);
        let receivers = spawn_each([rx, tx.subscribe()], &mut rng, |me, mut rx, mut rng| {
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
        for got in join_all(receivers).await {
            assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
            assert_eq!(got.last(), Some(&(VALUES - 1)), "{got:?}");
        }
    })
    .await;
}

/// Counts its drops.
struct CountsDrops(Arc<AtomicU32>);

impl Drop for CountsDrops {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[runtime::test]
async fn oneshot_cancel_stress_drops_the_value_exactly_once() {
    stress(0x5a3e_0006, |mut rng| async move {
        let drops = Arc::new(AtomicU32::new(0));
        let (tx, rx) = oneshot::channel();
        let mut receiver_rng = rng.fork();
        let receiver = runtime::spawn(async move {
            // Dropping the receiver is how a oneshot receive is cancelled.
            maybe_cancel(rx, &mut receiver_rng).await.map(|r| r.is_ok())
        });
        rng.yield_some().await;
        let sent = tx.send(CountsDrops(drops.clone())).is_ok();
        if let Some(received) = receiver.await.unwrap() {
            assert_eq!(received, sent);
        }
        assert_eq!(drops.load(SeqCst), 1);
    })
    .await;
}
