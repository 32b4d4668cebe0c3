//! Tasks: spawning, joining, aborting, panics, wake-ups from other threads, fairness and shutdown.
//!
//! Every test runs on each compiled backend. Futures report being dropped through [`DropCounter`],
//! and tasks that must wait for one another use [`Signal`] (never a sleep).

use std::cell::Cell;
use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use runtime::net::UnixStream;
use runtime::task::yield_now;
use runtime::{Backend, Runtime};

/// Counts how many of its guards were dropped.
#[derive(Clone, Default)]
struct DropCounter(Rc<Cell<usize>>);

impl DropCounter {
    fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    fn dropped(&self) -> usize {
        self.0.get()
    }
}

/// Bumps its counter when dropped: put one in a future to see when the future is dropped.
struct DropGuard(Rc<Cell<usize>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A one-shot, same-thread "it happened" flag that a task can await.
#[derive(Clone, Default)]
struct Signal(Rc<SignalState>);

#[derive(Default)]
struct SignalState {
    set: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Signal {
    fn set(&self) {
        self.0.set.set(true);
        if let Some(waker) = self.0.waker.take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            if self.0.set.get() {
                Poll::Ready(())
            } else {
                self.0.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("(not a string)")
    }
}

/// A fresh runtime on each compiled backend, skipping io_uring where the kernel refuses it (for the
/// tests that must own and drop the runtime themselves).
fn each_runtime(test: &str, mut body: impl FnMut(Runtime)) {
    for &backend in Backend::compiled() {
        match Runtime::builder().backend(backend).build() {
            Ok(rt) => body(rt),
            Err(e)
                if backend == Backend::IoUring && e.kind() == std::io::ErrorKind::Unsupported =>
            {
                eprintln!("{test}: skipped on io_uring: {e}");
            }
            Err(e) => panic!("{test}: cannot start a runtime on {backend}: {e}"),
        }
    }
}

#[runtime::test]
async fn join_returns_the_output() {
    let handle = runtime::spawn(async { String::from("done") });
    assert_eq!(handle.await.unwrap(), "done");
}

#[runtime::test]
async fn abort_cancels_and_drops_the_future() {
    let drops = DropCounter::default();
    let started = Signal::default();

    let guard = drops.guard();
    let task_started = started.clone();
    let handle = runtime::spawn(async move {
        let _guard = guard;
        task_started.set();
        pending::<()>().await
    });
    started.wait().await; // the task is now parked inside `pending`
    assert_eq!(drops.dropped(), 0);
    handle.abort();
    let err = handle.await.expect_err("an aborted task has no output");
    assert!(err.is_cancelled() && !err.is_panic(), "{err}");
    assert_eq!(drops.dropped(), 1, "abort must drop the task's future");

    // Aborting before the first poll works too: the future is dropped without ever running.
    let ran = Rc::new(Cell::new(false));
    let ran_in_task = ran.clone();
    let guard = drops.guard();
    let handle = runtime::spawn(async move {
        let _guard = guard;
        ran_in_task.set(true);
    });
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert!(!ran.get());
    assert_eq!(drops.dropped(), 2);
}

#[runtime::test]
async fn abort_after_completion_keeps_the_output() {
    let handle = runtime::spawn(async { 5 });
    while !handle.is_finished() {
        yield_now().await;
    }
    handle.abort();
    assert_eq!(handle.await.unwrap(), 5);
}

#[runtime::test]
async fn a_task_can_abort_itself_through_its_handle() {
    let drops = DropCounter::default();
    let slot: Rc<Cell<Option<runtime::JoinHandle<()>>>> = Rc::default();
    let guard = drops.guard();
    let my_slot = slot.clone();
    let watcher = runtime::spawn(async move {
        let _guard = guard;
        yield_now().await;
        let me = my_slot
            .take()
            .expect("the handle was stored before the first yield");
        me.abort();
        my_slot.set(Some(me));
        // The abort takes effect when this poll returns Pending.
        pending::<()>().await
    });
    slot.set(Some(watcher));
    // Wait for the task to put its handle back, then for it to end.
    let mut turns = 0;
    let handle = loop {
        yield_now().await;
        turns += 1;
        assert!(turns < 1000, "the task never aborted itself");
        if let Some(handle) = slot.take() {
            if handle.is_finished() {
                break handle;
            }
            slot.set(Some(handle));
        }
    };
    assert!(handle.await.unwrap_err().is_cancelled());
    assert_eq!(drops.dropped(), 1);
}

#[runtime::test]
async fn a_panicking_task_is_isolated() {
    let calm = runtime::spawn(async {
        yield_now().await;
        1
    });
    let panicking = runtime::spawn(async {
        yield_now().await;
        panic!("deliberate panic in a task");
    });
    let err = panicking.await.expect_err("the task panicked");
    assert!(err.is_panic() && !err.is_cancelled());
    assert!(err.to_string().contains("deliberate panic"), "{err}");
    assert_eq!(
        panic_message(&*err.into_panic()),
        "deliberate panic in a task"
    );
    // The other task and the runtime carry on.
    assert_eq!(calm.await.unwrap(), 1);
    assert_eq!(runtime::spawn(async { 2 }).await.unwrap(), 2);
    runtime::time::sleep(Duration::from_millis(1)).await;
}

/// A future that is completed by a `std::thread`: the thread sets a flag and wakes the waker it was
/// given, from outside the runtime.
async fn completed_by_a_thread() -> u32 {
    struct Shared {
        done: AtomicBool,
        waker: Mutex<Option<Waker>>,
    }
    let shared = Arc::new(Shared {
        done: AtomicBool::new(false),
        waker: Mutex::new(None),
    });
    let mut thread = None;
    poll_fn(|cx| {
        if shared.done.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        *shared.waker.lock().unwrap() = Some(cx.waker().clone());
        if thread.is_none() {
            let shared = shared.clone();
            thread = Some(std::thread::spawn(move || {
                shared.done.store(true, Ordering::Release);
                if let Some(waker) = shared.waker.lock().unwrap().take() {
                    waker.wake();
                }
            }));
        }
        Poll::Pending
    })
    .await;
    thread.expect("started").join().unwrap();
    42
}

#[runtime::test]
async fn a_wake_from_a_std_thread_completes_the_future() {
    // In a spawned task (the waker goes through the remote queue)...
    let mut handles = Vec::new();
    for _ in 0..20 {
        handles.push(runtime::spawn(completed_by_a_thread()));
    }
    for handle in handles {
        assert_eq!(handle.await.unwrap(), 42);
    }
    // ...and in the `block_on` future itself.
    assert_eq!(completed_by_a_thread().await, 42);
}

#[runtime::test]
async fn yield_now_lets_the_others_run() {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut handles = Vec::new();
    for name in ["a", "b", "c"] {
        let log = log.clone();
        handles.push(runtime::spawn(async move {
            for round in 0..3 {
                log.borrow_mut().push(format!("{name}{round}"));
                yield_now().await;
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    // A yielding task goes to the back of the queue: the three tasks take turns.
    assert_eq!(
        log.borrow().join(" "),
        "a0 b0 c0 a1 b1 c1 a2 b2 c2",
        "yield_now did not give the other tasks a turn"
    );
}

#[runtime::test]
async fn dropping_the_handle_detaches_the_task() {
    let done = Signal::default();
    let task_done = done.clone();
    let handle = runtime::spawn(async move {
        yield_now().await;
        runtime::time::sleep(Duration::from_millis(1)).await;
        task_done.set();
    });
    drop(handle);
    // The task keeps running without its handle and finishes.
    done.wait().await;
}

#[runtime::test]
async fn is_finished_tracks_the_task() {
    let go = Signal::default();
    let task_go = go.clone();
    let handle = runtime::spawn(async move {
        task_go.wait().await;
        "finished"
    });
    for _ in 0..10 {
        yield_now().await;
        assert!(!handle.is_finished());
    }
    go.set();
    let mut turns = 0;
    while !handle.is_finished() {
        yield_now().await;
        turns += 1;
        assert!(turns < 1000, "the task never finished");
    }
    assert_eq!(handle.await.unwrap(), "finished");
}

#[runtime::test]
async fn an_always_ready_task_does_not_starve_io_or_timers() {
    let stop = Rc::new(Cell::new(false));
    let spins = Rc::new(Cell::new(0u64));
    let (task_stop, task_spins) = (stop.clone(), spins.clone());
    // Always ready: it yields, so it is always in the run queue. The bound only keeps a broken
    // runtime from hanging the test forever.
    let spinner = runtime::spawn(async move {
        while !task_stop.get() && task_spins.get() < 100_000_000 {
            task_spins.set(task_spins.get() + 1);
            yield_now().await;
        }
    });

    // A timer fires...
    runtime::time::sleep(Duration::from_millis(5)).await;
    // ...and a socket read completes (readiness has to come from the driver).
    let (a, b) = UnixStream::pair().unwrap();
    let reader = runtime::spawn(async move {
        let (res, buf) = b.read(Vec::with_capacity(16)).await;
        assert_eq!(res.unwrap(), 5);
        buf
    });
    yield_now().await;
    let (res, _) = a.write_all(b"hello".as_slice()).await;
    res.unwrap();
    assert_eq!(reader.await.unwrap(), b"hello");

    stop.set(true);
    spinner.await.unwrap();
    assert!(spins.get() > 0, "the spinner never ran");
    assert!(spins.get() < 100_000_000, "IO or a timer was starved");
}

#[runtime::test]
async fn ten_thousand_tasks() {
    let before = runtime::stats();
    let handles: Vec<_> = (0..10_000u64)
        .map(|i| {
            runtime::spawn(async move {
                if i % 2 == 0 {
                    yield_now().await;
                }
                i
            })
        })
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.unwrap();
    }
    assert_eq!(sum, 10_000 * 9_999 / 2);
    assert!((runtime::stats() - before).tasks_spawned >= 10_000);
}

#[test]
fn dropping_the_runtime_drops_unfinished_futures() {
    each_runtime("dropping_the_runtime_drops_unfinished_futures", |rt| {
        let drops = DropCounter::default();
        let (keep_a, _keep_b) = rt.block_on(async { UnixStream::pair() }).unwrap();
        let keep_a = Rc::new(keep_a);
        rt.block_on(async {
            // Tasks parked forever, on nothing, on a timer, and on a socket read.
            for i in 0..30 {
                let guard = drops.guard();
                let stream = keep_a.clone();
                runtime::spawn(async move {
                    let _guard = guard;
                    match i % 3 {
                        0 => pending::<()>().await,
                        1 => runtime::time::sleep(Duration::from_secs(3600)).await,
                        _ => drop(stream.read(Vec::with_capacity(8)).await),
                    }
                });
            }
            // Let each of them reach its await point.
            for _ in 0..3 {
                yield_now().await;
            }
        });
        // Spawned from outside and never polled.
        for _ in 0..5 {
            let guard = drops.guard();
            drop(rt.spawn(async move {
                let _guard = guard;
            }));
        }
        // A handle kept across the drop learns that its task was cancelled.
        let guard = drops.guard();
        let kept = rt.spawn(async move {
            let _guard = guard;
            pending::<()>().await
        });
        assert_eq!(drops.dropped(), 0);
        assert_eq!(rt.live_tasks(), 36);
        drop(rt);
        assert_eq!(drops.dropped(), 36, "every unfinished future is dropped");
        assert!(kept.is_finished());
        // Polling the handle needs no runtime: its task is already complete.
        let result = poll_once(kept).expect("a cancelled task's handle is ready");
        assert!(result.unwrap_err().is_cancelled());
    });
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(mut future: F) -> Option<F::Output> {
    struct NoopWake;
    impl std::task::Wake for NoopWake {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(NoopWake));
    match Pin::new(&mut future).poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

#[runtime::test]
async fn block_on_inside_a_task_panics_clearly() {
    let handle = runtime::spawn(async {
        let inner = Runtime::builder()
            .backend(Backend::compiled()[0])
            .build()
            .unwrap();
        inner.block_on(async { 1 })
    });
    let err = handle
        .await
        .expect_err("block_on inside a runtime must panic");
    assert!(err.is_panic());
    let message = panic_message(&*err.into_panic());
    assert!(
        message.contains("within a runtime") && message.contains("block_on"),
        "unclear message: {message}"
    );
    // The outer runtime is unharmed.
    assert_eq!(runtime::spawn(async { 3 }).await.unwrap(), 3);
}

/// A task can ask which backend runs it, and it is the one the runtime was built with.
#[test]
fn backend_is_visible_inside_tasks() {
    for &backend in runtime::Backend::compiled() {
        let Ok(rt) = runtime::Runtime::builder().backend(backend).build() else {
            eprintln!("skipped {backend}: cannot be set up here");
            continue;
        };
        let seen = rt.block_on(async { runtime::spawn(async { runtime::backend() }).await });
        assert_eq!(seen.unwrap(), backend);
        assert_eq!(rt.backend(), backend);
    }
}

/// Remembers where it was polled and reports, when dropped, whether it is still there.
struct StaysPut {
    polled_at: usize,
    moved: std::rc::Rc<std::cell::Cell<Option<bool>>>,
}

impl std::future::Future for StaysPut {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        self.polled_at = &*self as *const Self as usize;
        std::task::Poll::Pending
    }
}

impl Drop for StaysPut {
    fn drop(&mut self) {
        self.moved
            .set(Some(self.polled_at != self as *const Self as usize));
    }
}

/// A task's future is pinned: abort and shutdown drop it where it lies, never after moving it (a
/// destructor may rely on the address, e.g. to unlink an intrusive waiter entry).
#[runtime::test]
async fn an_aborted_task_is_dropped_where_it_was_pinned() {
    let moved = std::rc::Rc::new(std::cell::Cell::new(None));
    let task = runtime::spawn(StaysPut {
        polled_at: 0,
        moved: moved.clone(),
    });
    runtime::task::yield_now().await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(moved.get(), Some(false), "moved before being dropped");
}

#[test]
fn runtime_shutdown_drops_futures_where_they_were_pinned() {
    let moved = std::rc::Rc::new(std::cell::Cell::new(None));
    let rt = runtime::Runtime::new().unwrap();
    rt.block_on(async {
        runtime::spawn(StaysPut {
            polled_at: 0,
            moved: moved.clone(),
        });
        runtime::task::yield_now().await;
    });
    drop(rt);
    assert_eq!(moved.get(), Some(false), "moved before being dropped");
}
