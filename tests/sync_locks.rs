//! `Semaphore`, `Mutex` and `RwLock`: first come, first served, and cancel-safe — a dropped
//! `acquire`/`lock` never loses a permit nor keeps the lock from the next waiter.

mod sync_common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use runtime::sync::{Mutex, RwLock, Semaphore, TryAcquireError};
use runtime::task::yield_now;
use runtime::time::timeout;
use sync_common::{join_all, maybe_cancel, poll_once, spawn_each, stress};

#[runtime::test]
async fn semaphore_cancel_stress_loses_no_permit() {
    const PERMITS: usize = 3;
    stress(0x5e3a_f0e1, |mut rng| async move {
        let semaphore = Rc::new(Semaphore::new(PERMITS));
        let in_use = Rc::new(Cell::new(0));
        join_all(spawn_each(0..4, &mut rng, |_, _, mut rng| {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            async move {
                for _ in 0..3 {
                    let n = 1 + rng.below(PERMITS as u64) as u32;
                    let acquire = semaphore.acquire_many(n);
                    if let Some(permit) = maybe_cancel(acquire, &mut rng).await {
                        let permit = permit.unwrap();
                        in_use.set(in_use.get() + n as usize);
                        assert!(in_use.get() <= PERMITS, "more permits held than exist");
                        rng.yield_some().await;
                        in_use.set(in_use.get() - n as usize);
                        drop(permit);
                    }
                }
            }
        }))
        .await;
        assert_eq!(semaphore.available_permits(), PERMITS);
    })
    .await;
}

#[runtime::test]
async fn mutex_cancel_stress_keeps_exclusion_and_loses_no_unlock() {
    stress(0x0b5e_55ed, |mut rng| async move {
        let mutex = Rc::new(Mutex::new(0u32));
        let inside = Rc::new(Cell::new(false));
        let locked = Rc::new(Cell::new(0u32));
        join_all(spawn_each(0..3, &mut rng, |_, _, mut rng| {
            let (mutex, inside, locked) = (mutex.clone(), inside.clone(), locked.clone());
            async move {
                for _ in 0..3 {
                    if let Some(mut guard) = maybe_cancel(mutex.lock(), &mut rng).await {
                        assert!(!inside.replace(true), "two tasks hold the lock");
                        *guard += 1;
                        locked.set(locked.get() + 1);
                        rng.yield_some().await;
                        inside.set(false);
                    }
                }
            }
        }))
        .await;
        assert_eq!(*mutex.try_lock().expect("the mutex is free"), locked.get());
    })
    .await;
}

#[runtime::test]
async fn rwlock_cancel_stress_keeps_writers_alone() {
    stress(0x7a11_ab1e, |mut rng| async move {
        let lock = Rc::new(RwLock::new(()));
        let readers = Rc::new(Cell::new(0u32));
        let writer = Rc::new(Cell::new(false));
        join_all(spawn_each(0..4, &mut rng, |_, _, mut rng| {
            let (lock, readers, writer) = (lock.clone(), readers.clone(), writer.clone());
            async move {
                for _ in 0..3 {
                    if rng.below(2) == 0 {
                        if let Some(guard) = maybe_cancel(lock.read(), &mut rng).await {
                            assert!(!writer.get(), "a reader beside a writer");
                            readers.set(readers.get() + 1);
                            rng.yield_some().await;
                            readers.set(readers.get() - 1);
                            drop(guard);
                        }
                    } else if let Some(guard) = maybe_cancel(lock.write(), &mut rng).await {
                        assert!(!writer.replace(true), "two writers");
                        assert_eq!(readers.get(), 0, "a writer beside readers");
                        rng.yield_some().await;
                        writer.set(false);
                        drop(guard);
                    }
                }
            }
        }))
        .await;
        assert!(lock.try_write().is_ok(), "the lock is free");
    })
    .await;
}

/// Starts `count` tasks that each wait for `mutex` and record their number once they hold it.
/// Each task is polled (and so starts waiting) before the next is spawned.
async fn queue_on(mutex: &Rc<Mutex<Vec<usize>>>, count: usize) -> Vec<runtime::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for i in 0..count {
        let mutex = mutex.clone();
        tasks.push(runtime::spawn(async move { mutex.lock().await.push(i) }));
        yield_now().await;
    }
    tasks
}

#[runtime::test]
async fn mutex_is_handed_out_in_fifo_order() {
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let guard = mutex.lock().await;
    let tasks = queue_on(&mutex, 8).await;
    drop(guard);
    // The lock went straight to the first waiter: a newcomer cannot take it first.
    assert!(mutex.try_lock().is_err());
    for task in tasks {
        timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(*mutex.lock().await, (0..8).collect::<Vec<_>>());
}

#[runtime::test]
async fn a_dropped_lock_future_passes_the_lock_on() {
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let guard = mutex.lock().await;
    // A waiter polled once, then forgotten about while the lock is handed to it.
    let mut first = Box::pin(mutex.lock());
    assert!(poll_once(first.as_mut()).await.is_pending());
    let tasks = queue_on(&mutex, 2).await;
    drop(guard); // handed to `first`, which never looks at it again...
    drop(first); // ...and is dropped: the lock must move on to the next waiter.
    for task in tasks {
        timeout(Duration::from_secs(10), task)
            .await
            .expect("the lock was lost with the dropped future")
            .unwrap();
    }
    assert_eq!(*mutex.lock().await, [0, 1]);
}

#[runtime::test]
async fn a_waiting_writer_holds_back_later_readers() {
    let lock = Rc::new(RwLock::new(0));
    let reading = lock.read().await;
    let writer = {
        let lock = lock.clone();
        runtime::spawn(async move { *lock.write().await += 1 })
    };
    yield_now().await; // the writer now waits for the reader
    assert!(lock.try_read().is_err(), "a reader overtook the writer");
    let late_reader = {
        let lock = lock.clone();
        runtime::spawn(async move { *lock.read().await })
    };
    drop(reading);
    writer.await.unwrap();
    assert_eq!(
        late_reader.await.unwrap(),
        1,
        "the reader went after the writer"
    );
}

#[runtime::test]
async fn a_large_request_is_not_starved_by_small_ones() {
    let semaphore = Rc::new(Semaphore::new(2));
    let held = semaphore.acquire().await.unwrap();
    let big = {
        let semaphore = semaphore.clone();
        runtime::spawn(async move { semaphore.acquire_many(2).await.unwrap().num_permits() })
    };
    yield_now().await;
    // One permit is free, but the request of two waits first.
    assert_eq!(semaphore.available_permits(), 1);
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );
    drop(held);
    assert_eq!(big.await.unwrap(), 2);
}

#[runtime::test]
async fn closing_a_semaphore_wakes_its_waiters_with_an_error() {
    let semaphore = Rc::new(Semaphore::new(0));
    let waiter = {
        let semaphore = semaphore.clone();
        runtime::spawn(async move { semaphore.acquire().await.is_err() })
    };
    yield_now().await;
    semaphore.close();
    assert!(waiter.await.unwrap());
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::Closed
    );
}

#[runtime::test]
async fn an_owned_permit_moves_into_another_task() {
    let semaphore = Rc::new(Semaphore::new(1));
    let permit = semaphore.clone().acquire_owned().await.unwrap();
    assert!(semaphore.clone().try_acquire_owned().is_err());
    let task = runtime::spawn(async move {
        yield_now().await;
        drop(permit);
    });
    let again = semaphore.clone().acquire_owned().await.unwrap();
    assert!(task.is_finished());
    assert_eq!(again.num_permits(), 1);
}

#[runtime::test]
async fn a_cancelled_large_request_lets_smaller_ones_through() {
    let semaphore = Rc::new(Semaphore::new(2));
    let _held = semaphore.acquire().await.unwrap();
    // A request of two waits at the front and holds back a request of one behind it.
    let mut big = Box::pin(semaphore.acquire_many(2));
    assert!(poll_once(big.as_mut()).await.is_pending());
    let small = {
        let semaphore = semaphore.clone();
        runtime::spawn(async move { semaphore.acquire().await.unwrap().forget() })
    };
    yield_now().await;
    assert!(!small.is_finished());
    // The big request gives up: the free permit goes to the small one, with nothing released.
    drop(big);
    timeout(Duration::from_secs(10), small)
        .await
        .expect("the small request still waits")
        .unwrap();
}
