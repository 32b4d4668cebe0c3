//! The trace (`runtime::trace`, `Builder::trace`), on every compiled backend: the file parses and
//! every begin has its end; its event counts agree with `runtime::stats()`; full buffers drop and
//! count; each worker and pool thread has its own lane; `trace::flush` writes while running.

mod trace_common;

use std::io;
use std::time::Duration;

use runtime::net::TcpStream;
use runtime::time::{sleep, timeout};
use runtime::{Backend, Stats};
use trace_common::{traced_runtimes, Trace};

const LIMIT: Duration = Duration::from_secs(60);

/// Messages of the echo in [`workload`].
const MESSAGES: usize = 20;

/// A connected pair of streams, set up with std so that no runtime event precedes the workload.
fn std_pair() -> (std::net::TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

/// A bit of everything: a named task echoing over TCP, yields, a timer, a blocking job.
async fn workload(client: std::net::TcpStream, server: std::net::TcpStream) -> io::Result<()> {
    let client = TcpStream::from_std(client)?;
    let server = TcpStream::from_std(server)?;
    let echo = runtime::task::Builder::new()
        .name("echo")
        .spawn(async move {
            let mut buf = vec![0u8; 64];
            for _ in 0..MESSAGES {
                let (res, b) = server.read_exact(buf).await;
                res?;
                let (res, b) = server.write_all(b).await;
                res?;
                buf = b;
            }
            io::Result::Ok(())
        })?;
    let mut buf = vec![7u8; 64];
    for _ in 0..MESSAGES {
        let (res, b) = client.write_all(buf).await;
        res?;
        let (res, b) = client.read_exact(b).await;
        res?;
        buf = b;
    }
    echo.await.unwrap()?;
    for _ in 0..3 {
        runtime::task::yield_now().await;
    }
    sleep(Duration::from_millis(2)).await;
    let answer = runtime::task::spawn_blocking(|| 6 * 7).await.unwrap();
    assert_eq!(answer, 42);
    Ok(())
}

#[test]
fn the_trace_parses_and_every_begin_has_its_end() {
    for (backend, rt, path) in traced_runtimes("shape", |b| b) {
        let (client, server) = std_pair();
        rt.block_on(async { timeout(LIMIT, workload(client, server)).await })
            .expect("no hang")
            .unwrap();
        drop(rt);
        let trace = Trace::load(&path);
        let slices = trace.check_nesting();
        assert!(slices > 10, "{backend}: only {slices} slices");
        let threads = trace.threads();
        assert_eq!(trace.tid("worker 0"), 1, "{threads:?}");
        trace.tid("blocking 1");
        assert_eq!(trace.other["backend"], backend.name());
        // The echo task has its name; its polls are slices.
        assert_eq!(trace.count("i", "spawn task 1 (echo)"), 1, "{backend}");
        assert!(trace.count("B", "poll task 1 (echo)") >= MESSAGES as u64);
        assert!(trace.count("B", "blocking job") >= 1);
        assert!(trace.count("i", "timer fired") >= 1);
        assert!(trace.count("i", "submit Recv") >= MESSAGES as u64);
        assert_eq!(
            trace.count("i", "submit Recv"),
            trace.count("i", "complete Recv")
        );
        match backend {
            Backend::Epoll => {
                assert!(trace.count("B", "park: epoll_wait") > 0);
                assert!(trace.count("i", "readiness event") > 0);
                assert!(trace.count("i", "attempt Recv") >= MESSAGES as u64);
                assert_eq!(trace.count("i", "SQE"), 0);
            }
            _ => {
                assert!(trace.count("B", "park: io_uring_enter") > 0);
                assert!(trace.count("i", "SQE") >= MESSAGES as u64);
                assert!(trace.count("i", "CQE") >= MESSAGES as u64);
                assert_eq!(trace.count("i", "attempt"), 0);
            }
        }
        // Wakes and operations are joined to what they lead to.
        assert!(trace.count("s", "wake") > 0 && trace.count("f", "wake") > 0);
        assert!(trace.count("s", "Recv") >= MESSAGES as u64);
        assert_eq!(trace.count("s", "Recv"), trace.count("f", "Recv"));
    }
}

/// Events on the thread `tid` of phase `ph` named `prefix...` whose `args[key] == value`.
fn count_where(trace: &Trace, tid: u64, ph: &str, prefix: &str, key: &str, value: &str) -> u64 {
    trace
        .named(ph, prefix)
        .filter(|e| e["tid"] == tid && (key.is_empty() || e["args"][key] == value))
        .count() as u64
}

#[test]
fn event_counts_match_the_stats() {
    for (backend, rt, path) in traced_runtimes("counts", |b| b) {
        let (client, server) = std_pair();
        let stats: Stats = rt
            .block_on(async {
                let before = runtime::stats();
                timeout(LIMIT, workload(client, server)).await??;
                io::Result::Ok(runtime::stats() - before)
            })
            .unwrap();
        drop(rt);
        let trace = Trace::load(&path);
        trace.check_nesting();
        let w0 = trace.tid("worker 0");
        let on_w0 = |ph, prefix| count_where(&trace, w0, ph, prefix, "", "");
        assert_eq!(on_w0("i", "spawn task"), stats.tasks_spawned, "{backend}");
        assert_eq!(on_w0("B", "poll task"), stats.polls, "{backend}");
        let local = count_where(&trace, w0, "i", "wake task", "wake", "local");
        assert_eq!(local, stats.local_wakes, "{backend}");
        assert_eq!(on_w0("i", "remote wake arrived"), stats.remote_wakes);
        assert!(stats.remote_wakes >= 1, "the blocking job's answer");
        assert_eq!(on_w0("B", "park"), stats.driver_turns, "{backend}");
        let park_syscalls: u64 = trace
            .named("B", "park")
            .filter(|e| e["tid"] == w0)
            .map(|e| e["args"]["syscalls"].as_u64().unwrap())
            .sum();
        match backend {
            Backend::Epoll => {
                assert_eq!(park_syscalls, stats.epoll_wait);
                let attempts = on_w0("i", "attempt");
                assert_eq!(attempts, stats.read + stats.write, "{stats}");
            }
            _ => {
                assert_eq!(park_syscalls, stats.uring_enter, "{stats}");
                let sqes = stats.uring_recv_sqes
                    + stats.uring_send_sqes
                    + stats.uring_accept_sqes
                    + stats.uring_other_sqes;
                assert_eq!(on_w0("i", "SQE"), sqes, "{stats}");
                assert_eq!(on_w0("i", "CQE"), stats.cqes_reaped, "{stats}");
            }
        }
    }
}

#[test]
fn a_full_buffer_drops_the_oldest_events_and_counts_them() {
    const BUFFER: u64 = 64;
    for (backend, rt, path) in traced_runtimes("ring", |b| b.trace_buffer(BUFFER as usize)) {
        rt.block_on(async {
            for _ in 0..1000 {
                runtime::task::yield_now().await;
            }
        });
        drop(rt);
        let trace = Trace::load(&path);
        trace.check_nesting();
        let (kept, dropped) = trace.kept_and_dropped("worker 0");
        assert_eq!(kept, BUFFER, "{backend}");
        // 1000 yields of block_on: a poll begin, a poll end, a park begin and end each at least.
        assert!(dropped >= 4000 - BUFFER, "{backend}: dropped {dropped}");
        let told = trace
            .named("i", "")
            .find(|e| e["cat"] == "trace")
            .expect("the drop is reported in the timeline");
        assert_eq!(told["args"]["dropped"], dropped);
        let recorded = trace.events.iter().filter(|e| e["ph"] != "M").count() as u64;
        // Every record is at most one event, plus the report and the close of what was open.
        assert!(
            recorded <= BUFFER + 3,
            "{recorded} events from {BUFFER} records"
        );
    }
}

#[test]
fn each_worker_and_pool_thread_records_in_its_own_lane() {
    for (backend, rt, path) in traced_runtimes("lanes", |b| b.workers(2)) {
        let handle = rt.handle();
        rt.block_on(async {
            // Woken on worker 1 by its timer; its output wakes a task on worker 0 (remote).
            let on_1 = handle.spawn_on(1, async {
                sleep(Duration::from_millis(1)).await;
                runtime::worker_id()
            });
            let waiting = runtime::spawn(async move { on_1.await.unwrap() });
            assert_eq!(timeout(LIMIT, waiting).await.unwrap().unwrap(), 1);
            // The job ends only once the task awaiting it has polled (and left its waker), so
            // that the pool thread is the one to wake it.
            let (go, wait) = std::sync::mpsc::channel::<()>();
            let job = runtime::task::spawn_blocking(move || wait.recv_timeout(LIMIT));
            runtime::task::yield_now().await;
            go.send(()).unwrap();
            job.await.unwrap().unwrap();
        });
        drop(rt);
        let trace = Trace::load(&path);
        trace.check_nesting();
        let (w0, w1) = (trace.tid("worker 0"), trace.tid("worker 1"));
        let blocking = trace.tid("blocking 1");
        assert!(
            count_where(&trace, w1, "B", "poll task", "", "") >= 2,
            "{backend}"
        );
        assert!(count_where(&trace, w1, "i", "timer fired", "", "") >= 1);
        let to_w0 = count_where(&trace, w1, "i", "wake task", "to", "worker 0");
        assert!(to_w0 >= 1, "{backend}: worker 1 woke a task of worker 0");
        assert!(count_where(&trace, w0, "i", "remote wake arrived", "", "") >= 1);
        assert!(count_where(&trace, blocking, "B", "blocking job", "", "") >= 1);
        let from_pool = count_where(&trace, blocking, "i", "wake task", "by", "a blocking job");
        assert!(
            from_pool >= 1,
            "{backend}: the pool thread woke the awaiting task"
        );
        // A wake on one lane is joined to the poll it caused on another.
        let wake_flows_from_1 = trace.named("s", "wake").filter(|e| e["tid"] == w1).count();
        assert!(wake_flows_from_1 >= 1);
    }
}

#[test]
fn flush_writes_the_trace_while_the_runtime_runs() {
    for (backend, rt, path) in traced_runtimes("flush", |b| b) {
        rt.block_on(async {
            runtime::spawn(async {}).await.unwrap();
            runtime::trace::flush().unwrap();
        });
        let trace = Trace::load(&path);
        trace.check_nesting();
        let unfinished = trace
            .named("E", "poll block_on")
            .find(|e| e["args"]["unfinished"] == true);
        assert!(
            unfinished.is_some(),
            "{backend}: the poll that flushed is still open"
        );
        drop(rt);
        // The drop writes it again, the poll now finished.
        let trace = Trace::load(&path);
        assert_eq!(trace.count("B", "poll task 1"), 1);
        assert!(trace
            .named("E", "poll block_on")
            .all(|e| e["args"]["unfinished"].is_null()));
    }
}

#[test]
fn an_untraced_runtime_writes_nothing() {
    let rt = runtime::Runtime::builder().build().unwrap();
    rt.block_on(async { runtime::spawn(async {}).await.unwrap() });
    // Nothing traced here; flushing others' traces (other tests run alongside) is fine.
    runtime::trace::flush().unwrap();
    let err = runtime::Runtime::builder()
        .trace_buffer(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("trace_buffer"), "{err}");
}
