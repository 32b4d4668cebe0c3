//! `Notify`: a `notify_one` is never lost — not to a `Notified` that was dropped after it was
//! chosen — and never counted twice; `notify_waiters` reaches every `Notified` created before it.

mod sync_common;

use std::cell::Cell;
use std::rc::Rc;

use runtime::sync::Notify;
use runtime::task::yield_now;
use sync_common::{join_all, maybe_cancel, poll_once, spawn_each, stress};

/// Checks that no `notify_one` permit is stored: a new `Notified` does not complete at once.
async fn assert_no_permit(notify: &Notify) {
    let notified = std::pin::pin!(notify.notified());
    assert!(
        poll_once(notified).await.is_pending(),
        "a permit was stored"
    );
}

#[runtime::test]
async fn notify_one_cancel_stress_loses_no_notification() {
    const NOTIFICATIONS: u32 = 4;
    stress(0x0071_f1ed, |mut rng| async move {
        let notify = Rc::new(Notify::new());
        let received = Rc::new(Cell::new(0u32));
        let done = Rc::new(Cell::new(false));
        let waiters = spawn_each(0..3, &mut rng, |_, _, mut rng| {
            let (notify, received, done) = (notify.clone(), received.clone(), done.clone());
            async move {
                while !done.get() {
                    let woken = maybe_cancel(notify.notified(), &mut rng).await.is_some();
                    if woken && !done.get() {
                        received.set(received.get() + 1);
                    }
                }
            }
        });
        // One notification at a time, each sent once the previous one arrived: a lost one
        // stops the round, a duplicate shows in the count.
        for sent in 1..=NOTIFICATIONS {
            rng.yield_some().await;
            notify.notify_one();
            while received.get() < sent {
                yield_now().await;
            }
        }
        done.set(true);
        notify.notify_waiters();
        join_all(waiters).await;
        assert_eq!(received.get(), NOTIFICATIONS);
        // Nothing was left over as a stored permit either.
        assert_no_permit(&notify).await;
    })
    .await;
}

#[runtime::test]
async fn notify_waiters_cancel_stress_wakes_every_waiter() {
    stress(0x0a11_0a11, |mut rng| async move {
        let notify = Rc::new(Notify::new());
        let started = Rc::new(Cell::new(0u32));
        let waiters = spawn_each(0..3, &mut rng, |_, _, mut rng| {
            let (notify, started) = (notify.clone(), started.clone());
            async move {
                // Created before `notify_waiters`, so it must complete if it is kept.
                let notified = notify.notified();
                started.set(started.get() + 1);
                maybe_cancel(notified, &mut rng).await;
            }
        });
        while started.get() < 3 {
            yield_now().await;
        }
        rng.yield_some().await;
        notify.notify_waiters();
        join_all(waiters).await;
        // `notify_waiters` stores no permit.
        assert_no_permit(&notify).await;
    })
    .await;
}

#[runtime::test]
async fn notify_one_before_waiting_leaves_one_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one(); // permits do not add up
    notify.notified().await;
    assert_no_permit(&notify).await;
}

#[runtime::test]
async fn a_notification_given_to_a_dropped_waiter_goes_to_the_next() {
    let notify = Rc::new(Notify::new());
    let mut first = Box::pin(notify.notified());
    assert!(poll_once(first.as_mut()).await.is_pending());
    let second = {
        let notify = notify.clone();
        runtime::spawn(async move { notify.notified().await })
    };
    yield_now().await;
    notify.notify_one(); // chosen: `first`, the oldest waiter...
    drop(first); // ...which is given up before it saw it
    runtime::time::timeout(std::time::Duration::from_secs(10), second)
        .await
        .expect("the notification was lost with the dropped waiter")
        .unwrap();
}

#[runtime::test]
async fn notify_waiters_reaches_a_notified_not_yet_polled() {
    let notify = Notify::new();
    let notified = notify.notified();
    notify.notify_waiters();
    notified.await;
}
