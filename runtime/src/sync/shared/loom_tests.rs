//! Loom models of the handshakes between a sender and a receiver on two threads, run on the real
//! channel code (its atomics, cells and locks are loom's under `--cfg loom`).
//!
//! Each waiting side runs in [`block_on`], which sleeps on a condition variable until the
//! future's waker is woken. A lost wake-up leaves a thread asleep forever, and loom reports the
//! deadlock.
//!
//! Run with `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p runtime --lib
//! --release loom`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::{Condvar, Mutex};
use loom::thread;

use super::{mpsc, oneshot};

/// A waker's signal to a thread sleeping in [`block_on`]. (Not `thread::park`: a wake-up that
/// comes after the future completed would then reach the thread inside `JoinHandle::join`,
/// which parks too, and confuse loom.)
#[derive(Default)]
struct Signal {
    woken: Mutex<bool>,
    condvar: Condvar,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.condvar.notify_one();
    }
}

/// Polls `future` on this loom thread, sleeping until woken while it is pending.
fn block_on<F: Future>(future: F) -> F::Output {
    let signal = Arc::new(Signal::default());
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        let mut woken = signal.woken.lock().unwrap();
        while !*woken {
            woken = signal.condvar.wait(woken).unwrap();
        }
        *woken = false;
    }
}

/// A receiver that starts waiting while a sender on another thread sends is woken, and gets the
/// value: `register` then look, against push then wake.
#[test]
fn loom_recv_racing_a_send_is_woken() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(block_on(rx.recv()), Some(1));
        // The sender is gone too (dropped at the end of its thread).
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

/// Two senders race each other and the receiver: both values arrive, then the end. The full
/// model takes minutes, so the scheduler may preempt a thread at most three times (how tokio's
/// models are run too): enough for each of the three threads to stop in the middle of a step.
#[test]
fn loom_two_senders_racing_the_receiver() {
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(3);
    model.check(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let other = tx.clone();
        let sender = thread::spawn(move || other.send(2).unwrap());
        tx.send(1).unwrap();
        drop(tx);
        let mut got = [block_on(rx.recv()), block_on(rx.recv())];
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

/// A sender waiting for room in a full bounded channel is woken by the receiver taking a value
/// on another thread: the free-slot count against the waiting sender's mark.
#[test]
fn loom_send_waiting_for_room_is_woken_by_recv() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let receiver = thread::spawn(move || {
            let first = block_on(rx.recv());
            let second = block_on(rx.recv());
            (first, second)
        });
        block_on(tx.send(2)).unwrap();
        drop(tx);
        assert_eq!(receiver.join().unwrap(), (Some(1), Some(2)));
    });
}

/// A receiver that closes the channel while a sender waits for room wakes that sender, which
/// gets its value back.
#[test]
fn loom_close_wakes_a_waiting_sender() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let closer = thread::spawn(move || {
            rx.close();
            rx
        });
        assert!(block_on(tx.send(2)).is_err());
        drop(closer.join().unwrap());
    });
}

/// A send racing `close` either fails or is received: a value counted before the close is
/// waited for, even when its sender has not pushed it yet.
#[test]
fn loom_a_send_racing_close_is_received_or_refused() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || tx.send(1).is_ok());
        rx.close();
        let received = block_on(rx.recv());
        assert_eq!(block_on(rx.recv()), None);
        assert_eq!(received.is_some(), sender.join().unwrap());
    });
}

/// A oneshot receiver waiting while the value is sent on another thread gets it; a value sent
/// while the receiver is dropped comes back or is dropped, never both.
#[test]
fn loom_oneshot_send_racing_the_receiver() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(block_on(rx), Ok(7));
        sender.join().unwrap();
    });
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let value = Arc::new(7);
        let sender = {
            let value = value.clone();
            thread::spawn(move || tx.send(value).is_err())
        };
        drop(rx);
        sender.join().unwrap();
        // Sent and dropped by the receiver, or given back and dropped by the sender: once.
        assert_eq!(Arc::strong_count(&value), 1);
    });
}
