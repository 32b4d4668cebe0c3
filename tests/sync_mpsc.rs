//! `sync::mpsc`: wake-ups survive cancelled senders, waiting costs no memory per poll, dropping
//! the receiver may drop values that touch the channel, and cancelled sends and receives lose no
//! slot and no value.

mod sync_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::task::Poll;
use std::time::Duration;

use runtime::sync::mpsc;
use runtime::task::yield_now;
use runtime::time::timeout;
use sync_common::{join_all, maybe_cancel, spawn_each, stress, XorShift};

/// Counts the bytes this thread holds, so a test can see what polling costs.
struct CountingAllocator;

thread_local! {
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with` fails only while the thread is being torn down; those bytes do not matter.
    let _ = LIVE_BYTES.try_with(|live| live.set(live.get() + delta));
}

// SAFETY: every call is forwarded to `System` unchanged; the counter only observes the sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    /// # Safety
    /// As for [`GlobalAlloc::alloc`].
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    /// # Safety
    /// As for [`GlobalAlloc::dealloc`]: `ptr` came from this allocator with `layout`.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: `ptr` came from `System.alloc` with this layout (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn live_bytes() -> isize {
    LIVE_BYTES.with(Cell::get)
}

const LONG: Duration = Duration::from_secs(10);

#[runtime::test]
async fn a_cancelled_send_does_not_steal_the_next_senders_wake_up() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    // A send that gives up while the channel is full.
    assert!(timeout(Duration::from_millis(1), tx.send(1)).await.is_err());
    // A second sender starts waiting for room...
    let second = tx.clone();
    let waiting = runtime::spawn(async move { second.send(2).await.is_ok() });
    yield_now().await;
    // ...and the slot freed by `recv` must go to it, not to the one that gave up.
    assert_eq!(rx.recv().await, Some(0));
    let sent = timeout(LONG, waiting).await;
    assert!(
        matches!(sent, Ok(Ok(true))),
        "the waiting sender was never woken"
    );
    assert_eq!(rx.recv().await, Some(2));
}

/// Polls `future` `times` times in one go, checking it stays pending.
async fn poll_pending<F: Future>(mut future: std::pin::Pin<&mut F>, times: usize) {
    poll_fn(|cx| {
        for _ in 0..times {
            assert!(future.as_mut().poll(cx).is_pending());
        }
        Poll::Ready(())
    })
    .await
}

#[runtime::test]
async fn polling_a_waiting_send_again_does_not_grow_memory() {
    let (tx, _rx) = mpsc::channel(1);
    tx.send(0).await.unwrap();
    let mut send = std::pin::pin!(tx.send(1));
    poll_pending(send.as_mut(), 10).await;
    let before = live_bytes();
    poll_pending(send.as_mut(), 100_000).await;
    let grown = live_bytes() - before;
    assert!(
        grown < 16 * 1024,
        "100k polls of one waiting send kept {grown} more bytes"
    );
}

/// A message that holds a sender of its own channel.
#[derive(Debug)]
struct CarriesSender {
    _sender: mpsc::Sender<CarriesSender>,
}

#[runtime::test]
async fn dropping_the_receiver_may_drop_values_that_hold_senders() {
    let (tx, rx) = mpsc::channel(4);
    tx.send(CarriesSender {
        _sender: tx.clone(),
    })
    .await
    .unwrap();
    tx.send(CarriesSender {
        _sender: tx.clone(),
    })
    .await
    .unwrap();
    drop(tx);
    // The queued values drop their senders, which touch the channel: that must not panic.
    drop(rx);
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
async fn bounded_cancel_stress_loses_no_slot_and_no_value() {
    const CAPACITY: usize = 2;
    stress(0x3b5c_0001, |mut rng| async move {
        let (tx, mut rx) = mpsc::channel(CAPACITY);
        let senders = spawn_each(0..3u32, &mut rng, |_, s, mut rng| {
            let tx = tx.clone();
            async move {
                let mut sent = 0;
                for i in 0..4 {
                    // A cancelled send sends nothing.
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
        // Every slot came back.
        assert_eq!(tx.capacity(), CAPACITY);
    })
    .await;
}

#[runtime::test]
async fn unbounded_cancel_stress_loses_no_value() {
    stress(0x3b5c_0002, |mut rng| async move {
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
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, None);
}

#[runtime::test]
async fn dropping_an_unbounded_receiver_may_drop_values_that_hold_senders() {
    #[derive(Debug)]
    struct Carries {
        _sender: mpsc::UnboundedSender<Carries>,
    }
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(Carries {
        _sender: tx.clone(),
    })
    .unwrap();
    drop(tx);
    drop(rx);
}
