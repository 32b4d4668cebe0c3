//! hyper on the runtime, on every compiled backend: a hyper server and a hyper client talking over
//! loopback (bodies of every size, sized and chunked, every byte checked), a client that stops
//! reading, a client that sends garbage, 500 idle keep-alive connections closed by the server's
//! shutdown, and `curl` against `examples/http` when `curl` is installed.

use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Method, Request, StatusCode};
use runtime::net::{TcpListener, TcpStream};
use runtime::time::timeout;
use runtime::{Backend, Runtime};

#[path = "../examples/common/http_service.rs"]
mod http_service;

const LIMIT: Duration = Duration::from_secs(120);

/// A server on the current runtime; returns its address.
fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    runtime::spawn(http_service::accept_loop(listener));
    addr
}

type Sender = hyper::client::conn::http1::SendRequest<http_service::Body>;

/// A hyper client connection on the runtime.
async fn connect(addr: SocketAddr) -> Sender {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    runtime::spawn(async move {
        let _ = conn.await;
    });
    sender
}

/// Byte `i` of body `seed`.
fn byte(seed: u64, i: u64) -> u8 {
    ((seed ^ i).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
}

fn body_bytes(seed: u64, len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| byte(seed, i)).collect()
}

/// A request body: sized (`Content-Length`) or streamed in uneven frames (chunked).
fn body(seed: u64, len: usize, chunked: bool) -> http_service::Body {
    let data = body_bytes(seed, len);
    if !chunked {
        return Full::new(Bytes::from(data))
            .map_err(|never: Infallible| match never {})
            .boxed();
    }
    let mut frames = Vec::new();
    let mut rest = &data[..];
    let mut size = 1;
    while !rest.is_empty() {
        let take = size.min(rest.len());
        frames.push(Ok(Frame::data(Bytes::copy_from_slice(&rest[..take]))));
        rest = &rest[take..];
        size = size * 3 + 7;
    }
    StreamBody::new(futures::stream::iter(frames)).boxed()
}

/// Sends one request and checks the answer.
async fn exchange(sender: &mut Sender, seed: u64, len: usize, chunked: bool) {
    sender.ready().await.unwrap();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/echo")
        .body(body(seed, len, chunked))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let got = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(got.len(), len, "body of {len} bytes (chunked: {chunked})");
    assert!(
        got.iter()
            .enumerate()
            .all(|(i, &b)| b == byte(seed, i as u64)),
        "every byte comes back"
    );
}

async fn get(sender: &mut Sender, path: &str) -> (StatusCode, Bytes) {
    sender.ready().await.unwrap();
    let request = Request::get(path)
        .body(http_body_util::Empty::new().map_err(|n| match n {}).boxed())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

/// Body sizes from 0 B to 1 MiB, mostly small (a debug build must get through 2000 of them).
fn size_of_request(i: u64) -> usize {
    match i % 50 {
        0 => 1 << 20,
        1..=4 => 64 * 1024,
        5..=14 => 4096,
        15..=19 => 0,
        n => (n as usize * 37) % 1500 + 1,
    }
}

#[runtime::test]
async fn two_thousand_requests_over_32_connections() {
    let addr = start_server();
    let clients: Vec<_> = (0..32u64)
        .map(|c| {
            runtime::spawn(async move {
                let mut sender = connect(addr).await;
                let (status, body) = get(&mut sender, "/").await;
                assert_eq!((status, &body[..]), (StatusCode::OK, &b"Hello, world!"[..]));
                let (status, _) = get(&mut sender, "/nowhere").await;
                assert_eq!(status, StatusCode::NOT_FOUND);
                // 2000 requests in all: 62 or 63 per connection, on one keep-alive connection.
                for i in (c..2000).step_by(32) {
                    exchange(&mut sender, i, size_of_request(i), i % 2 == 0).await;
                }
            })
        })
        .collect();
    timeout(LIMIT, async {
        for client in clients {
            client.await.unwrap();
        }
    })
    .await
    .expect("all requests answered in time");
}

/// A client that sends a large body and never reads the answer stalls only itself.
#[runtime::test]
async fn a_client_that_stops_reading_stalls_only_itself() {
    let addr = start_server();
    let stalled = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
        8 << 20
    );
    let (res, _) = stalled.write_all(head.into_bytes()).await;
    res.unwrap();
    let writer = runtime::spawn(async move {
        // Fills the socket buffers both ways, then waits for ever: nobody reads the echo.
        let _ = stalled.write_all(vec![b'x'; 8 << 20]).await;
    });
    for _ in 0..3 {
        runtime::task::yield_now().await;
    }
    let mut sender = connect(addr).await;
    let (status, body) = timeout(LIMIT, get(&mut sender, "/"))
        .await
        .expect("others are still served");
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"Hello, world!"[..]));
    writer.abort();
}

/// Garbage gets a `400` or a closed connection, and the server goes on serving.
#[runtime::test]
async fn garbage_gets_400_or_a_closed_connection() {
    let addr = start_server();
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"\x00\xff\x13\r\n\r\n",
    ] {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (res, _) = stream.write_all(garbage).await;
        res.unwrap();
        let mut answer = Vec::new();
        loop {
            let (res, buf) = timeout(LIMIT, stream.read(Vec::with_capacity(1024)))
                .await
                .expect("the server answers or closes");
            match res {
                Ok(0) | Err(_) => break,
                Ok(_) => answer.extend_from_slice(&buf),
            }
        }
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 400"),
            "answer to {garbage:?}: {text}"
        );
    }
    let mut sender = connect(addr).await;
    assert_eq!(get(&mut sender, "/").await.0, StatusCode::OK);
}

/// How many of this process's descriptors are TCP sockets bound to local `port` (the listener
/// and the connections it accepted). Other tests run in the same process meanwhile, so a plain
/// count of descriptors would not do.
fn sockets_on_port(port: u16) -> usize {
    let mut inodes = std::collections::HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols[1].rsplit(':').next().unwrap();
            if u16::from_str_radix(local_port, 16) == Ok(port) {
                inodes.insert(cols[9].to_string());
            }
        }
    }
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .filter(|inode| inodes.contains(inode))
        .count()
}

/// 500 idle keep-alive connections are closed when the server's runtime shuts down, and no
/// descriptor is left behind. The server runs on its own thread and runtime; the clients are
/// plain blocking sockets.
#[test]
fn shutdown_closes_idle_keep_alive_connections() {
    raise_fd_limit(2048);
    for &backend in Backend::compiled() {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let rt = match Runtime::builder().backend(backend).build() {
                Ok(rt) => rt,
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    eprintln!("skipped on {backend}: {e}");
                    addr_tx.send(None).unwrap();
                    return;
                }
                Err(e) => panic!("{e}"),
            };
            rt.block_on(async move {
                addr_tx.send(Some(start_server())).unwrap();
                let _ = runtime::task::spawn_blocking(move || stop_rx.recv()).await;
            });
            drop(rt); // every connection task is dropped, every socket closed
        });
        let Some(addr) = addr_rx.recv().unwrap() else {
            server.join().unwrap();
            continue;
        };
        let mut clients = Vec::new();
        for _ in 0..500 {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
            clients.push(c);
        }
        for c in &mut clients {
            let mut answer = [0u8; 256];
            let n = c.read(&mut answer).unwrap();
            assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
        }
        assert_eq!(
            sockets_on_port(addr.port()),
            501,
            "the listener and 500 connections"
        );
        stop_tx.send(()).unwrap();
        server.join().unwrap();
        for c in &mut clients {
            c.set_read_timeout(Some(LIMIT)).unwrap(); // a hang guard, not synchronisation
            assert_eq!(c.read(&mut [0; 16]).unwrap(), 0, "closed by the server");
        }
        assert_eq!(
            sockets_on_port(addr.port()),
            0,
            "no descriptor left on {backend}"
        );
    }
}

/// `curl` against `examples/http` on each backend (skipped when curl is missing).
#[test]
fn curl_against_the_http_example() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl_against_the_http_example: skipped: curl is not installed");
        return;
    }
    for &backend in Backend::compiled() {
        let mut server = Command::new(example_path("http"))
            .args(["--addr", "127.0.0.1:0"])
            .env("RUNTIME_BACKEND", backend.name())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(server.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = server.kill();
            let _ = server.wait();
            eprintln!("skipped on {backend}: the example said {line:?}");
            continue;
        };
        let curl = |args: &[&str]| {
            let out = Command::new("curl")
                .args(["-s", "--max-time", "30"])
                .args(args)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert_eq!(curl(&[&format!("http://{addr}/")]), "Hello, world!");
        assert_eq!(
            curl(&["--data-binary", "ping", &format!("http://{addr}/echo")]),
            "ping"
        );
        assert_eq!(
            curl(&[
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &format!("http://{addr}/x")
            ]),
            "404"
        );
        // SAFETY: kill takes no pointers; the pid is our child's.
        unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
        let status = server.wait().unwrap();
        assert!(status.success(), "SIGTERM stops it cleanly: {status}");
    }
}

/// Where cargo put an example binary: `target/<profile>/examples/<name>`.
fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap();
    profile_dir.join("examples").join(name)
}

/// Raises the soft descriptor limit to `needed` (up to the hard limit).
fn raise_fd_limit(needed: libc::rlim_t) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for the kernel to fill in.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    if limit.rlim_cur < needed {
        limit.rlim_cur = needed.min(limit.rlim_max);
        // SAFETY: `limit` is a valid rlimit that outlives the call.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
}
