//! A runtime with 4 workers built and dropped 100 times leaves no descriptor and no thread
//! behind. Alone in its own test binary: it counts the whole process's descriptors and threads.

use runtime::{Backend, Runtime};

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

/// The process's own threads: not the kernel's io_uring workers (`iou-wrk-*`, `iou-sqp-*`), which
/// the kernel starts and ends on its own schedule.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            !comm.starts_with("iou-")
        })
        .count()
}

/// `threads()` once it is back to `expected`, or after a bounded wait: a joined thread is
/// reaped by the kernel a moment after `join` returns (it wakes the joiner before it leaves the
/// thread list).
fn threads_settled(expected: usize) -> usize {
    for _ in 0..200 {
        let now = threads();
        if now == expected {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    threads()
}

#[test]
fn four_workers_built_and_dropped_a_hundred_times_leak_nothing() {
    for &backend in Backend::compiled() {
        let (fds, before) = (count("/proc/self/fd"), threads());
        for round in 0..100 {
            let rt = match Runtime::builder().backend(backend).workers(4).build() {
                Ok(rt) => rt,
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    eprintln!("skipped on {backend}: {e}");
                    break;
                }
                Err(e) => panic!("{backend}: {e}"),
            };
            if round % 10 == 0 {
                let handle = rt.handle();
                rt.block_on(async move {
                    for w in 0..4 {
                        handle.spawn_on(w, async {}).await.unwrap();
                    }
                });
            }
            drop(rt);
        }
        assert_eq!(count("/proc/self/fd"), fds, "descriptors on {backend}");
        assert_eq!(threads_settled(before), before, "threads on {backend}");
    }
}
