//! Tracing off costs no allocation: a workload that passes every hook on the hot path — polls,
//! local wakes, IO operations (submit and completion), parks, timers — allocates nothing once
//! warm, on either backend. A counting global allocator (this test binary's alone) checks it; the
//! same workload traced does allocate (the trace buffer grows), which shows the count works.

mod trace_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::time::Duration;

use runtime::net::UnixStream;
use runtime::{Backend, Runtime};

/// Counts this thread's allocations, then lets the system allocator do them.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only a
// const-initialised thread-local without a destructor, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded from the caller.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded from the caller.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded from the caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARM_UP: usize = 100;
const ROUNDS: usize = 300;

/// One round: a yield (a local wake and a poll), a message there and back over a socket pair (IO
/// operations, parks, wakes from the driver) and a timer.
async fn round(a: &UnixStream, b: &UnixStream, buf: Vec<u8>, timer: bool) -> io::Result<Vec<u8>> {
    runtime::task::yield_now().await;
    let (res, buf) = a.write_all(buf).await;
    res?;
    let (res, buf) = b.read_exact(buf).await;
    res?;
    if timer {
        runtime::time::sleep(Duration::from_micros(10)).await;
    }
    Ok(buf)
}

/// Allocations made by [`ROUNDS`] warm rounds in a task on `rt` (this thread).
fn allocations_of_rounds(rt: &Runtime) -> u64 {
    rt.block_on(async {
        let task = runtime::spawn(async {
            let (a, b) = UnixStream::pair()?;
            let mut buf = vec![7u8; 64];
            for i in 0..WARM_UP {
                buf = round(&a, &b, buf, i % 10 == 0).await?;
            }
            let before = allocations();
            for i in 0..ROUNDS {
                buf = round(&a, &b, buf, i % 10 == 0).await?;
            }
            io::Result::Ok(allocations() - before)
        });
        task.await.unwrap().unwrap()
    })
}

/// A runtime on `backend` (traced to `trace` when given), or `None` when the kernel refuses it.
fn runtime(backend: Backend, trace: Option<&std::path::Path>) -> Option<Runtime> {
    let mut builder = Runtime::builder().backend(backend);
    if let Some(path) = trace {
        builder = builder.trace(path);
    }
    match builder.build() {
        Ok(rt) => Some(rt),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            eprintln!("skipped on {backend}: {e}");
            None
        }
        Err(e) => panic!("{backend}: {e}"),
    }
}

#[test]
fn tracing_off_allocates_nothing() {
    if std::env::var_os("RUNTIME_TRACE").is_some_and(|v| !v.is_empty()) {
        eprintln!("skipped: RUNTIME_TRACE is set, so tracing is on");
        return;
    }
    for &backend in Backend::compiled() {
        let Some(rt) = runtime(backend, None) else {
            continue;
        };
        assert_eq!(
            allocations_of_rounds(&rt),
            0,
            "{backend}: {ROUNDS} rounds allocated with tracing off"
        );
        // The same rounds traced record into a buffer that grows: the counter sees it.
        let path = trace_common::temp_path(&format!("alloc-{backend}"));
        let traced = runtime(backend, Some(&path)).expect("the same backend just worked");
        assert!(
            allocations_of_rounds(&traced) > 0,
            "{backend}: the counter counts"
        );
        drop(traced);
        let _ = std::fs::remove_file(&path);
    }
}
