//! `JoinSet`: outputs in completion order, aborts (by hand, on drop, by shutdown), panics, and a
//! large set. Every test runs on each compiled backend; tasks that must finish in a given order
//! wait on oneshot channels, never on sleeps.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use runtime::sync::oneshot;
use runtime::task::{yield_now, JoinSet};
use runtime::time::timeout;

/// Every test body must end well within this.
const LIMIT: Duration = Duration::from_secs(30);

/// Sets its flag when dropped: put one in a future to see when the future is dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// A flag, and a guard that sets it when dropped.
fn drop_flag() -> (Rc<Cell<bool>>, DropFlag) {
    let flag = Rc::new(Cell::new(false));
    (flag.clone(), DropFlag(flag))
}

#[runtime::test]
async fn outputs_come_in_completion_order() {
    let mut set = JoinSet::new();
    let mut senders = Vec::new();
    for i in 0..4 {
        let (tx, rx) = oneshot::channel::<()>();
        senders.push(Some(tx));
        set.spawn(async move {
            rx.await.unwrap();
            i
        });
    }
    assert_eq!(set.len(), 4);
    let mut order = Vec::new();
    for i in [2, 0, 3, 1] {
        senders[i].take().unwrap().send(()).unwrap();
        let joined = timeout(LIMIT, set.join_next()).await.unwrap();
        order.push(joined.unwrap().unwrap());
    }
    assert_eq!(order, [2, 0, 3, 1]);
    assert!(set.is_empty());
    assert!(set.join_next().await.is_none(), "an empty set joins None");
}

#[runtime::test]
async fn tasks_finished_before_the_join_come_in_the_order_they_finished() {
    let mut set = JoinSet::new();
    let (first_tx, first_rx) = oneshot::channel::<()>();
    // Spawned first, finishes last: it waits for the second task.
    set.spawn(async move {
        first_rx.await.unwrap();
        "first spawned"
    });
    set.spawn(async move {
        first_tx.send(()).unwrap();
        "second spawned"
    });
    for _ in 0..3 {
        yield_now().await;
    }
    assert_eq!(set.try_join_next().unwrap().unwrap(), "second spawned");
    assert_eq!(set.try_join_next().unwrap().unwrap(), "first spawned");
    assert!(set.try_join_next().is_none());
}

#[runtime::test]
async fn futures_need_not_be_send() {
    let shared = Rc::new(Cell::new(0));
    let mut set = JoinSet::new();
    for i in 1..=3 {
        let shared = shared.clone();
        set.spawn(async move { shared.set(shared.get() + i) });
    }
    while let Some(res) = set.join_next().await {
        res.unwrap();
    }
    assert_eq!(shared.get(), 6);
}

#[runtime::test]
async fn dropping_the_set_aborts_its_tasks_and_drops_their_futures() {
    let mut set = JoinSet::new();
    let mut flags = Vec::new();
    for _ in 0..3 {
        let (flag, guard) = drop_flag();
        flags.push(flag);
        set.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
    }
    yield_now().await; // every task is now parked in `pending`
    assert!(flags.iter().all(|f| !f.get()));
    drop(set);
    timeout(LIMIT, async {
        while !flags.iter().all(|f| f.get()) {
            yield_now().await;
        }
    })
    .await
    .expect("the aborted futures were never dropped");
}

#[runtime::test]
async fn abort_all_reports_cancelled_and_keeps_finished_outputs() {
    let mut set = JoinSet::new();
    set.spawn(async { Some(1) });
    yield_now().await; // the first task finishes
    let (flag, guard) = drop_flag();
    set.spawn(async move {
        let _guard = guard;
        std::future::pending::<Option<i32>>().await
    });
    set.abort_all();
    assert_eq!(set.len(), 2, "aborted tasks stay in the set until joined");
    let first = set.join_next().await.unwrap();
    assert_eq!(first.unwrap(), Some(1));
    let second = set.join_next().await.unwrap();
    assert!(second.unwrap_err().is_cancelled());
    assert!(flag.get());
}

#[runtime::test]
async fn an_abort_handle_aborts_one_task_from_another_thread() {
    let mut set = JoinSet::new();
    let handle = set.spawn(std::future::pending::<u8>());
    set.spawn(async { 5 });
    std::thread::spawn(move || handle.abort()).join().unwrap();
    let mut outputs = Vec::new();
    while let Some(res) = timeout(LIMIT, set.join_next()).await.unwrap() {
        outputs.push(res.map_err(|e| e.is_cancelled()));
    }
    outputs.sort();
    assert_eq!(outputs, [Ok(5), Err(true)]);
}

#[runtime::test]
async fn shutdown_aborts_and_empties_the_set() {
    let mut set = JoinSet::new();
    let mut flags = Vec::new();
    for _ in 0..5 {
        let (flag, guard) = drop_flag();
        flags.push(flag);
        set.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
    }
    timeout(LIMIT, set.shutdown()).await.unwrap();
    assert!(set.is_empty());
    assert!(
        flags.iter().all(|f| f.get()),
        "shutdown waits for every future"
    );
}

#[runtime::test]
async fn detached_tasks_run_on() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel::<u32>();
    set.spawn(async move {
        rx.await.unwrap();
        done_tx.send(9).unwrap();
    });
    set.detach_all();
    assert!(set.is_empty());
    drop(set); // must not abort the detached task
    tx.send(()).unwrap();
    assert_eq!(timeout(LIMIT, done_rx).await.unwrap().unwrap(), 9);
}

#[runtime::test]
async fn a_set_is_reusable_after_detach_all() {
    let mut set = JoinSet::new();
    set.spawn(async { 1 });
    set.detach_all();
    set.spawn(async { 2 });
    set.spawn(async { 3 });
    let mut outputs = Vec::new();
    while let Some(res) = set.join_next().await {
        outputs.push(res.unwrap());
    }
    outputs.sort();
    assert_eq!(outputs, [2, 3]);
}

#[runtime::test]
async fn a_panicking_task_is_a_join_error() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("boom") });
    set.spawn(async { 1 });
    let mut panics = 0;
    let mut outputs = 0;
    while let Some(res) = set.join_next().await {
        match res {
            Ok(n) => outputs += n,
            Err(e) => {
                assert!(e.is_panic(), "{e}");
                assert!(e.to_string().contains("boom"), "{e}");
                panics += 1;
            }
        }
    }
    assert_eq!((panics, outputs), (1, 1));
}

#[runtime::test]
async fn ten_thousand_tasks_are_joined() {
    const N: u64 = 10_000;
    let mut set = JoinSet::new();
    for i in 0..N {
        set.spawn(async move {
            if i % 2 == 0 {
                yield_now().await;
            }
            i
        });
    }
    assert_eq!(set.len(), N as usize);
    let mut total = 0;
    let mut joined = 0;
    timeout(LIMIT, async {
        while let Some(res) = set.join_next().await {
            total += res.unwrap();
            joined += 1;
        }
    })
    .await
    .unwrap();
    assert_eq!(joined, N);
    assert_eq!(total, N * (N - 1) / 2);
}

#[runtime::test]
async fn join_all_collects_every_output() {
    let set: JoinSet<u32> = (1..=100).map(|i| async move { i }).collect();
    let mut outputs = timeout(LIMIT, set.join_all()).await.unwrap();
    outputs.sort();
    assert_eq!(outputs, (1..=100).collect::<Vec<_>>());
}

#[runtime::test]
async fn join_all_resumes_a_panic() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("inside join_all") });
    set.extend((1..=2).map(|i| async move { i }));
    let outer = runtime::spawn(set.join_all());
    let err = timeout(LIMIT, outer).await.unwrap().unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.to_string(), "task panicked: inside join_all");
}

#[runtime::test]
async fn blocking_jobs_join_in_a_set() {
    let mut set = JoinSet::new();
    for i in 0..4u64 {
        set.spawn_blocking(move || i * 2);
    }
    let mut total = 0;
    while let Some(res) = timeout(LIMIT, set.join_next()).await.unwrap() {
        total += res.unwrap();
    }
    assert_eq!(total, 12);
}
