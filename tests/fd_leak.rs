//! Dropping a runtime closes every descriptor it and its tasks opened.
//!
//! The test counts the entries of `/proc/self/fd` before creating a runtime and after dropping it.
//! Descriptors are per process, so this file holds this one test only: `cargo test` runs each test
//! file as its own process, and no other test can open or close descriptors meanwhile.

use std::future::pending;
use std::io;
use std::net::Shutdown;
use std::time::Duration;

use runtime::io::{AsyncReadOwned, AsyncWriteOwned};
use runtime::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use runtime::task::yield_now;
use runtime::{Backend, Runtime};

/// The descriptors this process has open now, as (number, what it points to).
fn open_fds() -> Vec<(String, String)> {
    let mut fds: Vec<(String, String)> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            // The directory handle `read_dir` itself holds shows up too, but its link target
            // cannot be read once the listing is done; both counts include it the same way.
            let target = std::fs::read_link(entry.path())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            Some((entry.file_name().to_string_lossy().into_owned(), target))
        })
        .collect();
    fds.sort();
    fds
}

async fn echo(mut stream: impl AsyncReadOwned + AsyncWriteOwned) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let (res, data) = stream.read(buf).await;
        if res? == 0 {
            return Ok(());
        }
        let (res, data) = stream.write_all(data).await;
        res?;
        buf = data;
    }
}

/// Opens and uses descriptors of every kind, and leaves some of them in tasks that are still
/// running when the runtime is dropped.
async fn busy_body() {
    // A TCP server and 20 clients, each echoing one message.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = runtime::spawn(async move {
        for _ in 0..20 {
            let (stream, _) = listener.accept().await?;
            runtime::spawn(echo(stream));
        }
        // Keep the listener open in a task that never ends.
        io::Result::Ok(listener)
    });
    let mut clients = Vec::new();
    for i in 0..20u8 {
        clients.push(runtime::spawn(async move {
            let stream = TcpStream::connect(addr).await?;
            let (res, _) = stream.write_all(vec![i; 100]).await;
            res?;
            let (res, back) = stream.read_exact(vec![0; 100]).await;
            res?;
            assert_eq!(back, vec![i; 100]);
            // Half of the connections are left open, with the server's echo task waiting on them.
            if i % 2 == 0 {
                stream.shutdown(Shutdown::Write)?;
                io::Result::Ok(None)
            } else {
                Ok(Some(stream))
            }
        }));
    }
    let mut open = Vec::new();
    for client in clients {
        open.extend(client.await.unwrap().unwrap());
    }
    let listener = server.await.unwrap().unwrap();
    runtime::spawn(async move {
        // An accept that never completes, holding the listener.
        let _ = listener.accept().await;
    });
    // Connections parked in never-ending tasks, mid-read.
    for stream in open {
        runtime::spawn(async move {
            let _ = stream.read(Vec::with_capacity(16)).await;
            pending::<()>().await
        });
    }

    // UDP, a Unix pair, and a timer.
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (res, _) = a.send_to(b"x".as_slice(), b.local_addr().unwrap()).await;
    res.unwrap();
    let (res, _) = b.recv_from(Vec::with_capacity(8)).await;
    res.unwrap();
    let (left, right) = UnixStream::pair().unwrap();
    runtime::spawn(async move {
        let _keep = left;
        let _ = right.read(Vec::with_capacity(8)).await;
    });
    runtime::spawn(runtime::time::sleep(Duration::from_secs(3600)));
    for _ in 0..10 {
        yield_now().await;
    }
}

#[test]
fn dropping_the_runtime_closes_every_descriptor() {
    // Warm up what the process opens once and keeps (e.g. std's lazily opened handles), so that
    // only the runtime's own descriptors are compared.
    let _ = open_fds();
    for &backend in Backend::compiled() {
        let before = open_fds();
        let rt = match Runtime::builder().backend(backend).build() {
            Ok(rt) => rt,
            Err(e) if backend == Backend::IoUring && e.kind() == io::ErrorKind::Unsupported => {
                eprintln!("dropping_the_runtime_closes_every_descriptor: skipped on io_uring: {e}");
                continue;
            }
            Err(e) => panic!("cannot start a runtime on {backend}: {e}"),
        };
        rt.block_on(busy_body());
        let during = open_fds().len();
        assert!(
            during > before.len() + 20,
            "{backend}: the body should hold many descriptors open ({during})"
        );
        drop(rt);
        let after = open_fds();
        assert_eq!(
            after, before,
            "{backend}: descriptors left open after dropping the runtime"
        );
        println!(
            "{backend}: {} descriptors before, {during} while running, {} after",
            before.len(),
            after.len()
        );
    }
}
