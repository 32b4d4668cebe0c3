//! The program the figures show: three simulated downloads. Each connects to a local server that
//! answers after a delay (10, 20 and 30 ms) with 16 KiB, and reads the reply. Done four ways:
//!
//! 1. one after another, blocking IO (std), traced by [`Recorder`];
//! 2. a std thread per download, blocking IO, traced likewise;
//! 3. three tasks on the runtime's epoll backend, traced by the runtime (`Builder::trace`);
//! 4. the same three tasks on the io_uring backend.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use runtime::{Backend, Runtime};
use serde_json::json;

use crate::recorder::{outcome, Recorder};

/// How long each server waits before it answers.
pub const DELAYS: [Duration; 3] = [
    Duration::from_millis(10),
    Duration::from_millis(20),
    Duration::from_millis(30),
];

/// The size of each reply.
pub const REPLY: usize = 16 * 1024;

/// Starts one server per delay (a thread each, for the life of the process) and returns their
/// addresses. Each connection is answered on a thread of its own, after the server's delay.
pub fn start_servers() -> io::Result<Vec<SocketAddr>> {
    DELAYS
        .iter()
        .map(|&delay| {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    thread::spawn(move || answer(stream, delay));
                }
            });
            Ok(addr)
        })
        .collect()
}

fn answer(mut stream: TcpStream, delay: Duration) {
    thread::sleep(delay);
    let _ = stream.write_all(&[b'x'; REPLY]);
}

/// One download with blocking calls, recorded on lane `tid`.
fn download_blocking(recorder: &Recorder, tid: u64, addr: SocketAddr) -> io::Result<usize> {
    let connected = recorder.blocked(
        tid,
        "connect()",
        || TcpStream::connect(addr),
        |r| match r {
            Ok(_) => json!({ "result": 0 }),
            Err(e) => json!({ "error": e.to_string() }),
        },
    );
    let mut stream = connected?;
    let mut buf = vec![0u8; REPLY];
    let mut got = 0;
    while got < REPLY {
        let n = recorder.blocked(tid, "read()", || stream.read(&mut buf[got..]), outcome)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

/// 1: the three downloads one after another, on this thread.
pub fn one_thread(addrs: &[SocketAddr], path: &Path) -> io::Result<()> {
    let recorder = Recorder::new("blocking IO, one thread");
    recorder.thread(1, "main thread");
    for &addr in addrs {
        download_blocking(&recorder, 1, addr)?;
    }
    recorder.write(path)
}

/// 2: a thread per download; the main thread waits for them.
pub fn thread_each(addrs: &[SocketAddr], path: &Path) -> io::Result<()> {
    let recorder = Arc::new(Recorder::new("blocking IO, a thread per download"));
    recorder.thread(1, "main thread");
    let threads: Vec<_> = addrs
        .iter()
        .enumerate()
        .map(|(i, &addr)| {
            let tid = 2 + i as u64;
            recorder.instant(1, "spawn thread", json!({ "thread": tid }));
            let recorder = recorder.clone();
            thread::spawn(move || {
                recorder.thread(tid, &format!("thread {}", i + 1));
                download_blocking(&recorder, tid, addr)
            })
        })
        .collect();
    let results = recorder.blocked(
        1,
        "join()",
        || {
            threads
                .into_iter()
                .map(|t| t.join().expect("no panic"))
                .collect::<Vec<_>>()
        },
        |_| json!({}),
    );
    for result in results {
        result?;
    }
    recorder.write(path)
}

/// One download on the runtime.
async fn download(addr: SocketAddr) -> io::Result<usize> {
    let stream = runtime::net::TcpStream::connect(addr).await?;
    let mut buf = Vec::with_capacity(REPLY);
    let mut got = 0;
    while got < REPLY {
        let (result, b) = stream.read(buf).await;
        let n = result?;
        if n == 0 {
            break;
        }
        got += n;
        buf = b;
        buf.clear();
    }
    Ok(got)
}

/// 3 and 4: three tasks on one worker of `backend`, traced to `path`.
pub fn event_driven(backend: Backend, addrs: &[SocketAddr], path: &Path) -> io::Result<()> {
    let rt = Runtime::builder().backend(backend).trace(path).build()?;
    rt.block_on(async {
        let mut tasks = Vec::new();
        for (i, &addr) in addrs.iter().enumerate() {
            let name = format!("download {}", i + 1);
            tasks.push(
                runtime::task::Builder::new()
                    .name(&name)
                    .spawn(download(addr))?,
            );
        }
        for task in tasks {
            task.await.map_err(|e| io::Error::other(e.to_string()))??;
        }
        io::Result::Ok(())
    })?;
    drop(rt); // writes the trace
    Ok(())
}
