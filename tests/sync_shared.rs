//! `sync::shared` on one runtime and on plain threads: the same behaviour as the local
//! primitives (order, fairness, lagging, permits, values that hold their own channel), no waker
//! left behind by a dropped future, and the blocking methods. Two runtimes on two threads are in
//! `sync_shared_threads.rs`, the cancel-safety stress in `sync_shared_stress.rs`.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use runtime::sync::shared::{broadcast, mpsc, oneshot, Notified, Notify};
use runtime::task::yield_now;
use runtime::time::timeout;

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

/// Polls `future` once, with a waker that does nothing.
fn poll_now<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
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
    assert!(poll_now(pin!(notify.notified())).is_pending());
}

#[runtime::test]
async fn a_notification_given_to_a_dropped_waiter_goes_to_the_next() {
    let notify = Arc::new(Notify::new());
    let mut first = Box::pin(notify.notified());
    assert!(poll_now(first.as_mut()).is_pending());
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
