//! Several workers, on every compiled backend: spawning on each, from other threads, per-core
//! servers on `SO_REUSEPORT` listeners, cross-worker wake storms, a panic that stays on its
//! worker, shutdown with reads in flight everywhere.

use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use runtime::net::{TcpListener, TcpStream};
use runtime::time::timeout;
use runtime::{Backend, Runtime};

const LIMIT: Duration = Duration::from_secs(60);

/// A runtime with `workers` workers on each compiled backend the kernel allows.
fn runtimes(workers: usize) -> Vec<Runtime> {
    Backend::compiled()
        .iter()
        .filter_map(
            |&backend| match Runtime::builder().backend(backend).workers(workers).build() {
                Ok(rt) => Some(rt),
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    eprintln!("skipped on {backend}: {e}");
                    None
                }
                Err(e) => panic!("{backend}: {e}"),
            },
        )
        .collect()
}

#[test]
fn spawn_on_reaches_every_worker() {
    for rt in runtimes(3) {
        assert_eq!(rt.workers(), 3);
        let handle = rt.handle();
        rt.block_on(async {
            for worker in 0..3 {
                let seen =
                    handle.spawn_on(worker, async { (runtime::worker_id(), runtime::workers()) });
                assert_eq!(seen.await.unwrap(), (worker, 3));
            }
        });
    }
}

#[test]
fn handles_spawn_from_plain_threads() {
    for rt in runtimes(2) {
        let handle = rt.handle();
        let tasks: Vec<_> = std::thread::spawn(move || {
            (0..100u64)
                .map(|i| handle.spawn(async move { i * 2 }))
                .collect()
        })
        .join()
        .unwrap();
        rt.block_on(async {
            for (i, task) in tasks.into_iter().enumerate() {
                assert_eq!(task.await.unwrap(), i as u64 * 2);
            }
        });
    }
}

/// The factory runs on each worker and makes a future that is not `Send` there.
#[test]
fn spawn_on_each_makes_local_futures() {
    for rt in runtimes(2) {
        let tasks = rt.spawn_on_each(|worker| {
            let local = Rc::new(worker); // !Send: made and used on the worker
            async move { (*local, runtime::worker_id()) }
        });
        rt.block_on(async {
            for (worker, task) in tasks.into_iter().enumerate() {
                assert_eq!(task.await.unwrap(), (worker, worker));
            }
        });
    }
}

/// Each worker accepts on its own `SO_REUSEPORT` listener; the kernel spreads the connections
/// over both.
#[test]
fn reuseport_listeners_on_two_workers_both_accept() {
    for rt in runtimes(2) {
        let first = TcpListener::bind_reuseport("127.0.0.1:0").unwrap();
        let addr = first.local_addr().unwrap();
        let accepted: Arc<[AtomicUsize; 2]> = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let counts = accepted.clone();
        drop(first); // each worker binds its own below (the port stays reserved by them)
        let servers = rt.spawn_on_each(move |worker| {
            let counts = counts.clone();
            async move {
                let listener = TcpListener::bind_reuseport(addr).unwrap();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    counts[worker].fetch_add(1, Ordering::SeqCst);
                    let (res, _) = stream.write_all(&b"hi"[..]).await;
                    res.unwrap();
                }
            }
        });
        rt.block_on(async {
            // Let both listeners bind before connecting.
            let ready = rt_ready_probe(2).await;
            assert_eq!(ready, 2);
            for _ in 0..64 {
                let stream = timeout(LIMIT, TcpStream::connect(addr))
                    .await
                    .unwrap()
                    .unwrap();
                let (res, _) = stream.read(Vec::with_capacity(2)).await;
                assert_eq!(res.unwrap(), 2);
            }
        });
        let (a, b) = (
            accepted[0].load(Ordering::SeqCst),
            accepted[1].load(Ordering::SeqCst),
        );
        assert_eq!(a + b, 64);
        assert!(a > 0 && b > 0, "both workers accepted: {a} and {b}");
        servers.iter().for_each(|s| s.abort());
    }
}

/// Waits until every worker has run a task (so that the tasks spawned on them before did start).
async fn rt_ready_probe(workers: usize) -> usize {
    let handle = runtime::Handle::current();
    let mut ready = 0;
    for worker in 0..workers {
        handle.spawn_on(worker, async {}).await.unwrap();
        ready += 1;
    }
    ready
}

/// 20 000 round trips through other workers: every one comes back (no lost wake-up).
#[test]
fn wake_storm_across_workers() {
    for rt in runtimes(3) {
        let handle = rt.handle();
        rt.block_on(async {
            let total = timeout(LIMIT, async {
                let mut total = 0u64;
                for i in 0..20_000u64 {
                    let worker = 1 + (i as usize % 2);
                    total += handle.spawn_on(worker, async move { i }).await.unwrap();
                }
                total
            })
            .await
            .expect("no wake-up lost");
            assert_eq!(total, (0..20_000).sum::<u64>());
        });
    }
}

/// A task that panics on one worker fails alone; every worker goes on serving.
#[test]
fn a_panic_stays_on_its_worker() {
    for rt in runtimes(2) {
        let handle = rt.handle();
        rt.block_on(async {
            let err = handle
                .spawn_on(1, async { panic!("on purpose") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert_eq!(handle.spawn_on(1, async { 1 }).await.unwrap(), 1);
            assert_eq!(handle.spawn_on(0, async { 0 }).await.unwrap(), 0);
        });
    }
}

/// Dropping the runtime with a read in flight on every worker cancels them all and returns.
#[test]
fn shutdown_with_reads_in_flight_on_every_worker() {
    for rt in runtimes(3) {
        let started = Arc::new(AtomicUsize::new(0));
        let counter = started.clone();
        let readers = rt.spawn_on_each(move |_| {
            let counter = counter.clone();
            async move {
                let (socket, _peer) = runtime::net::UnixStream::pair().unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = socket.read(vec![0u8; 64]).await; // never completes
            }
        });
        rt.block_on(async {
            while started.load(Ordering::SeqCst) < 3 {
                runtime::task::yield_now().await;
            }
            rt_ready_probe(3).await;
        });
        rt.shutdown_timeout(LIMIT);
        let outcomes: Vec<_> = readers
            .into_iter()
            .map(|r| Runtime::new().unwrap().block_on(r))
            .collect();
        assert!(outcomes
            .iter()
            .all(|o| o.as_ref().unwrap_err().is_cancelled()));
    }
}

#[test]
fn worker_stats_cover_every_worker() {
    for rt in runtimes(2) {
        let handle = rt.handle();
        rt.block_on(async {
            handle.spawn_on(1, async {}).await.unwrap();
            let stats = handle.worker_stats().await;
            assert_eq!(stats.iter().map(|w| w.worker).collect::<Vec<_>>(), [0, 1]);
            assert!(stats[1].stats.tasks_spawned >= 1);
            let total: runtime::Stats = stats.iter().map(|w| w.stats).sum();
            assert!(total.polls >= stats[1].stats.polls);
        });
    }
}

/// `pin_workers(true)` gives each worker its own CPU (worker `i` on the `i`-th allowed CPU).
#[test]
fn pinned_workers_each_get_their_own_cpu() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 {
        eprintln!("pinned_workers_each_get_their_own_cpu: skipped: one CPU");
        return;
    }
    // A thread of its own: pinning worker 0 pins the thread that builds the runtime.
    std::thread::spawn(|| {
        let rt = Runtime::builder()
            .workers(2)
            .pin_workers(true)
            .build()
            .unwrap();
        let handle = rt.handle();
        let on = rt.block_on(async move {
            let mut on = Vec::new();
            for worker in 0..2 {
                // SAFETY: sched_getcpu takes no arguments.
                let cpu = handle
                    .spawn_on(worker, async { unsafe { libc::sched_getcpu() } })
                    .await
                    .unwrap();
                on.push(cpu);
            }
            on
        });
        assert_ne!(on[0], on[1], "both workers on CPU {}", on[0]);
    })
    .join()
    .unwrap();
}
