//! `broadcast`, `watch` and `oneshot`: laggards are told how many values they missed, cancelled
//! receives lose no value and no wake-up, and values dropped by the channel may use the channel.

mod sync_common;

use std::cell::Cell;
use std::rc::Rc;

use runtime::sync::{broadcast, oneshot, watch};
use runtime::task::yield_now;
use sync_common::{join_all, maybe_cancel, spawn_each, stress};

#[runtime::test]
async fn a_lagging_broadcast_receiver_learns_how_many_values_it_missed() {
    let (tx, mut slow) = broadcast::channel(4);
    let mut fast = tx.subscribe();
    for i in 0..10 {
        tx.send(i).unwrap();
        assert_eq!(fast.recv().await, Ok(i));
    }
    // The ring kept the last 4 of 10: the slow receiver missed 6, then reads the rest in order.
    assert_eq!(slow.len(), 4);
    assert_eq!(slow.recv().await, Err(broadcast::RecvError::Lagged(6)));
    for i in 6..10 {
        assert_eq!(slow.recv().await, Ok(i));
    }
    assert_eq!(slow.try_recv(), Err(broadcast::TryRecvError::Empty));
    drop(tx);
    assert_eq!(slow.recv().await, Err(broadcast::RecvError::Closed));
    assert_eq!(fast.recv().await, Err(broadcast::RecvError::Closed));
}

#[runtime::test]
async fn broadcast_values_are_dropped_once_everyone_read_them() {
    let drops = Rc::new(Cell::new(0));
    let (tx, mut a) = broadcast::channel(8);
    let mut b = tx.subscribe();
    tx.send(CountsDrops(drops.clone())).unwrap();
    drop(a.recv().await.unwrap());
    assert_eq!((drops.get(), tx.len()), (1, 1), "b has not read it yet");
    drop(b.recv().await.unwrap()); // the last reader takes the value itself
    assert_eq!((drops.get(), tx.len()), (2, 0));
    // A receiver dropped with values unread releases them too.
    tx.send(CountsDrops(drops.clone())).unwrap();
    drop(a.recv().await.unwrap());
    drop(b);
    assert_eq!((drops.get(), tx.len()), (4, 0));
}

#[derive(Clone)]
struct CountsDrops(Rc<Cell<u32>>);

impl Drop for CountsDrops {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// How far each of a round's receivers got, so the sender can wait for them: a lost wake-up then
/// hangs the round instead of being covered up by the next send.
#[derive(Clone, Default)]
struct Progress(Rc<Vec<Cell<u32>>>);

impl Progress {
    fn new(receivers: usize) -> Progress {
        Progress(Rc::new((0..receivers).map(|_| Cell::new(0)).collect()))
    }

    fn set(&self, receiver: usize, value: u32) {
        self.0[receiver].set(value);
    }

    /// Waits until every receiver got to `value`.
    async fn wait_for(&self, value: u32) {
        while self.0.iter().any(|p| p.get() < value) {
            yield_now().await;
        }
    }
}

#[runtime::test]
async fn broadcast_cancel_stress_loses_nothing_unaccounted() {
    const VALUES: u32 = 6;
    stress(0xb0ad_ca57, |mut rng| async move {
        let (tx, rx) = broadcast::channel(2);
        let progress = Progress::new(2);
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
                    progress.set(me, got.len() as u32 + missed);
                }
                got
            }
        });
        for sent in 1..=VALUES {
            tx.send(sent - 1).unwrap();
            // Sometimes let the receivers fall behind (and lag), sometimes wait for them.
            if rng.below(2) == 0 || sent == VALUES {
                progress.wait_for(sent).await;
            }
        }
        for got in join_all(receivers).await {
            assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
            assert_eq!(got.last(), Some(&(VALUES - 1)), "{got:?}");
        }
    })
    .await;
}

/// A value holding a sender of its own broadcast channel.
#[derive(Clone)]
struct HoldsBroadcastSender {
    _sender: broadcast::Sender<HoldsBroadcastSender>,
}

#[runtime::test]
async fn broadcast_may_drop_values_that_hold_its_senders() {
    let (tx, rx) = broadcast::channel(1);
    let hold = || HoldsBroadcastSender {
        _sender: tx.clone(),
    };
    tx.send(hold()).unwrap();
    tx.send(hold()).ok(); // overwrites the first
    drop(rx); // drops the second, unread
    let _rx = tx.subscribe();
    tx.send(hold()).ok();
}

#[runtime::test]
async fn watch_cancel_stress_every_receiver_sees_the_last_value() {
    const LAST: u32 = 5;
    stress(0x3a7c_4ed0, |mut rng| async move {
        let (tx, rx) = watch::channel(0u32);
        let progress = Progress::new(2);
        let receivers = spawn_each([rx.clone(), rx], &mut rng, |me, mut rx, mut rng| {
            let progress = progress.clone();
            async move {
                loop {
                    let value = *rx.borrow_and_update();
                    assert!(value >= progress.0[me].get(), "went back to {value}");
                    progress.set(me, value);
                    if value == LAST {
                        return;
                    }
                    if let Some(result) = maybe_cancel(rx.changed(), &mut rng).await {
                        result.expect("the sender outlives the round");
                    }
                }
            }
        });
        for value in 1..=LAST {
            tx.send(value).unwrap();
            // Sometimes change again at once (changes merge), sometimes wait to be seen.
            if rng.below(2) == 0 || value == LAST {
                progress.wait_for(value).await;
            }
        }
        join_all(receivers).await;
    })
    .await;
}

#[runtime::test]
async fn watch_changed_ends_when_the_sender_is_gone() {
    let (tx, mut rx) = watch::channel(1);
    let waiter = runtime::spawn(async move {
        let first = rx.changed().await;
        let value = *rx.borrow_and_update();
        (first, value, rx.changed().await)
    });
    yield_now().await;
    tx.send(2).unwrap();
    drop(tx);
    let (first, value, then) = waiter.await.unwrap();
    // The change made before the sender left is still seen; then nothing more will come.
    assert_eq!((first.is_ok(), value, then.is_err()), (true, 2, true));
}

/// A value holding a receiver of its own watch channel.
struct HoldsWatchReceiver {
    _receiver: Option<watch::Receiver<HoldsWatchReceiver>>,
}

#[runtime::test]
async fn watch_may_drop_a_replaced_value_that_holds_its_receiver() {
    let (tx, rx) = watch::channel(HoldsWatchReceiver { _receiver: None });
    tx.send_replace(HoldsWatchReceiver {
        _receiver: Some(rx.clone()),
    });
    // The old value holding a receiver is dropped by `send`, whose `Drop` touches the channel.
    tx.send(HoldsWatchReceiver { _receiver: None }).ok();
    drop(rx);
}

#[runtime::test]
async fn oneshot_cancel_stress_drops_the_value_exactly_once() {
    stress(0x0e5a_07ed, |mut rng| async move {
        let drops = Rc::new(Cell::new(0));
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
        assert_eq!(drops.get(), 1);
    })
    .await;
}
