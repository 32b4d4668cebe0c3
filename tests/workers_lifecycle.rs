//! A runtime with 4 workers built and dropped 100 times leaves no descriptor and no thread
//! behind. Alone in its own test binary: it counts the whole process's descriptors and threads.

use runtime::{Backend, Runtime};

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn four_workers_built_and_dropped_a_hundred_times_leak_nothing() {
    for &backend in Backend::compiled() {
        let (fds, threads) = (count("/proc/self/fd"), count("/proc/self/task"));
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
        assert_eq!(count("/proc/self/task"), threads, "threads on {backend}");
    }
}
