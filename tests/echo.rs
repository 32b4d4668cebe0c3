//! Echo behaviour over TCP, UDP and Unix-domain sockets, on every compiled backend.
//!
//! Servers and clients are tasks on the same runtime, talking over loopback (127.0.0.1, ephemeral
//! ports). Payloads come from a tiny deterministic generator, so a client can check every byte it
//! gets back against what it sent without keeping a copy.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use runtime::io::{AsyncReadOwned, AsyncWriteOwned};
use runtime::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use runtime::time::timeout;
use runtime::JoinHandle;

/// Upper bound for a whole test body: a hang becomes a failure instead of a stuck `cargo test`.
const LIMIT: Duration = Duration::from_secs(60);

/// Clients in the concurrency test.
const CLIENTS: usize = 500;

/// Largest payload a client sends (sizes are uniform in 1 B..=256 KiB: about 64 MB in all, each way).
const MAX_PAYLOAD: usize = 256 * 1024;

// --- deterministic payloads ------------------------------------------------------------------

/// xorshift64: a tiny, fast, deterministic pseudo-random generator (never seeded with 0).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `1..=max`.
    fn between_1_and(&mut self, max: usize) -> usize {
        1 + (self.next() % max as u64) as usize
    }
}

/// Payload bytes `offset..offset + out.len()` of the stream identified by `seed`: byte `p` is byte
/// `p % 8` of a hash of `(seed, p / 8)`, so any stretch can be produced on its own.
fn fill_payload(seed: u64, offset: usize, out: &mut [u8]) {
    let mut pos = offset;
    let mut i = 0;
    while i < out.len() {
        let word = mix(seed ^ ((pos / 8) as u64).wrapping_mul(0xff51_afd7_ed55_8ccd)).to_le_bytes();
        let start = pos % 8;
        let take = (8 - start).min(out.len() - i);
        out[i..i + take].copy_from_slice(&word[start..start + take]);
        i += take;
        pos += take;
    }
}

/// The splitmix64 finaliser: scrambles the bits of `x`.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `len` payload bytes of stream `seed`, from its start.
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0; len];
    fill_payload(seed, 0, &mut v);
    v
}

// --- helpers -----------------------------------------------------------------------------------

/// Echoes everything until end of stream or an error (the server side of most tests).
async fn echo(mut stream: impl AsyncReadOwned + AsyncWriteOwned) -> io::Result<u64> {
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut total = 0;
    loop {
        let (res, data) = stream.read(buf).await;
        if res? == 0 {
            return Ok(total);
        }
        let (res, data) = stream.write_all(data).await;
        res?;
        total += data.len() as u64;
        buf = data;
    }
}

/// Reads until end of stream.
async fn read_to_end(mut stream: impl AsyncReadOwned) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = Vec::with_capacity(4096);
    loop {
        let (res, data) = stream.read(buf).await;
        if res? == 0 {
            return Ok(all);
        }
        all.extend_from_slice(&data);
        buf = data;
    }
}

/// A listener on an ephemeral loopback port, and its address.
fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Accepts `count` connections and echoes each in its own task.
async fn echo_server(listener: TcpListener, count: usize) -> io::Result<()> {
    for _ in 0..count {
        let (stream, _) = listener.accept().await?;
        runtime::spawn(echo(stream));
    }
    Ok(())
}

/// Sends `len` payload bytes of stream `seed` from one task while reading the echo in another,
/// checking every byte, then half-closes and expects end of stream after exactly `len` bytes.
async fn checked_echo_client(addr: SocketAddr, seed: u64, len: usize) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let (reader, writer) = stream.into_split();

    // Write in random-sized chunks; dropping the write half at the end sends FIN.
    let sender = runtime::spawn(async move {
        let mut rng = Rng::new(seed ^ 0x5eed);
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut sent = 0;
        while sent < len {
            let n = rng.between_1_and(64 * 1024).min(len - sent);
            buf.resize(n, 0);
            fill_payload(seed, sent, &mut buf);
            let (res, b) = writer.write_all(buf).await;
            res?;
            buf = b;
            sent += n;
        }
        drop(writer);
        io::Result::Ok(())
    });

    let mut expected = vec![0; 32 * 1024];
    let mut buf = Vec::with_capacity(32 * 1024);
    let mut received = 0;
    loop {
        let (res, data) = reader.read(buf).await;
        let n = res?;
        if n == 0 {
            break;
        }
        assert!(
            received + n <= len,
            "client {seed}: more bytes came back than were sent"
        );
        fill_payload(seed, received, &mut expected[..n]);
        if data[..n] != expected[..n] {
            let at = (0..n).find(|&i| data[i] != expected[i]).unwrap();
            panic!("client {seed}: byte {} of {len} differs", received + at);
        }
        received += n;
        buf = data;
    }
    assert_eq!(received, len, "client {seed}: echo ended early");
    sender.await??;
    Ok(())
}

/// Sets `SO_LINGER` to zero seconds: closing the socket then sends a reset instead of a FIN.
fn set_linger_zero(fd: &impl AsRawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `linger` is a valid `struct linger` that outlives the call, and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt(SO_LINGER): {}",
        io::Error::last_os_error()
    );
}

/// One small echo round trip on an open connection.
async fn round_trip(stream: &TcpStream, message: &'static [u8]) {
    let (res, _) = stream.write_all(message).await;
    res.unwrap();
    let (res, back) = stream.read_exact(vec![0; message.len()]).await;
    res.unwrap();
    assert_eq!(back, message);
}

// --- TCP -----------------------------------------------------------------------------------------

/// Makes sure this process may open `needed` descriptors, raising the soft `RLIMIT_NOFILE` up to
/// the hard limit if it is lower (some systems default to 1024).
fn ensure_fd_limit(needed: libc::rlim_t) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for the kernel to fill in.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", io::Error::last_os_error());
    if limit.rlim_cur >= needed {
        return;
    }
    assert!(
        limit.rlim_max >= needed,
        "this test needs {needed} descriptors; the hard limit is {}",
        limit.rlim_max
    );
    limit.rlim_cur = needed;
    // SAFETY: `limit` is a valid rlimit that outlives the call.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", io::Error::last_os_error());
}

#[runtime::test]
async fn five_hundred_clients_get_every_byte_back() {
    // Two descriptors per client (both ends are in this process), with room for the other tests
    // of this file, which run at the same time.
    ensure_fd_limit(2 * CLIENTS as libc::rlim_t + 512);
    let started = Instant::now();
    timeout(LIMIT, async {
        let (listener, addr) = listen();
        let server = runtime::spawn(echo_server(listener, CLIENTS));
        let mut rng = Rng::new(2024);
        let clients: Vec<_> = (0..CLIENTS as u64)
            .map(|seed| {
                let len = rng.between_1_and(MAX_PAYLOAD);
                (len, runtime::spawn(checked_echo_client(addr, seed, len)))
            })
            .collect();
        let mut total = 0;
        for (seed, (len, client)) in clients.into_iter().enumerate() {
            client
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("client {seed}: {e}"));
            total += len;
        }
        server.await.unwrap().unwrap();
        println!(
            "{CLIENTS} clients echoed {total} bytes in {:?}",
            started.elapsed()
        );
    })
    .await
    .expect("the echo test did not finish in time");
}

#[runtime::test]
async fn half_close_lets_the_server_reply_after_eof() {
    let (listener, addr) = listen();
    let server = runtime::spawn(async move {
        let (stream, _) = listener.accept().await?;
        // Read the whole request: it ends when the client shuts its write side down.
        let request = read_to_end(&stream).await?;
        // The connection is half-open: this side can still write.
        let reply = format!("got {} bytes", request.len());
        let (res, _) = stream.write_all(reply).await;
        res?;
        io::Result::Ok(request)
    });

    let client = TcpStream::connect(addr).await.unwrap();
    let (res, _) = client.write_all(payload(1, 100_000)).await;
    res.unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let reply = read_to_end(&client).await.unwrap();
    assert_eq!(reply, b"got 100000 bytes");
    assert_eq!(server.await.unwrap().unwrap(), payload(1, 100_000));
}

/// Accepts one connection on `listener` and hands it to `serve`, in a new task.
fn accept_one<F, Fut>(listener: &Rc<TcpListener>, serve: F) -> JoinHandle<io::Result<Fut::Output>>
where
    F: FnOnce(TcpStream) -> Fut + 'static,
    Fut: Future + 'static,
{
    let listener = listener.clone();
    runtime::spawn(async move {
        let (stream, _) = listener.accept().await?;
        Ok(serve(stream).await)
    })
}

#[runtime::test]
async fn a_reset_peer_fails_only_its_own_connection() {
    timeout(LIMIT, async {
        let (listener, addr) = listen();
        let listener = Rc::new(listener);
        // Each connection is accepted before the next one is made, so it is clear which server
        // task serves which connection.

        // A healthy connection, open throughout.
        let healthy_server = accept_one(&listener, echo);
        let healthy = TcpStream::connect(addr).await.unwrap();
        round_trip(&healthy, b"before").await;

        // Victim 1: the server writes to it without end; the client resets it mid-stream.
        let writer = accept_one(&listener, |stream| async move {
            let mut chunk = vec![7u8; 64 * 1024];
            // Bounded: ~6 GB would have to fit in the socket buffers to get to the end.
            for _ in 0..100_000 {
                let (res, c) = stream.write(chunk).await;
                chunk = c;
                res?;
            }
            io::Result::Ok(())
        });
        let victim = TcpStream::connect(addr).await.unwrap();
        // One byte read proves the server is writing; then reset while it still is.
        let (res, _) = victim.read_exact(vec![0; 1]).await;
        res.unwrap();
        set_linger_zero(&victim);
        drop(victim);
        let err = writer
            .await
            .unwrap()
            .unwrap()
            .expect_err("writing to a reset peer must fail");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "unexpected error for a reset peer: {err}"
        );

        // Victim 2: the server is reading when the client resets it.
        let reader = accept_one(&listener, |stream| async move {
            let (res, _) = stream.write_all(b"ready".as_slice()).await;
            res?;
            let (res, _) = stream.read(Vec::with_capacity(64)).await;
            res
        });
        let victim = TcpStream::connect(addr).await.unwrap();
        let (res, _) = victim.read_exact(vec![0; 5]).await;
        res.unwrap();
        set_linger_zero(&victim);
        drop(victim);
        let err = reader
            .await
            .unwrap()
            .unwrap()
            .expect_err("reading from a reset peer must fail");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");

        // The healthy connection still works, and so does a new one.
        round_trip(&healthy, b"after").await;
        let new_server = accept_one(&listener, echo);
        let new = TcpStream::connect(addr).await.unwrap();
        round_trip(&new, b"new").await;
        drop((healthy, new));
        assert_eq!(healthy_server.await.unwrap().unwrap().unwrap(), 11);
        assert_eq!(new_server.await.unwrap().unwrap().unwrap(), 3);
    })
    .await
    .expect("the reset test did not finish in time");
}

#[runtime::test]
async fn split_halves_work_from_two_tasks() {
    let (listener, addr) = listen();
    let server = runtime::spawn(echo_server(listener, 1));
    let len = 1024 * 1024;
    checked_echo_client(addr, 77, len).await.unwrap();
    server.await.unwrap().unwrap();
}

#[runtime::test]
async fn split_halves_reunite() {
    let (listener, addr) = listen();
    let server = runtime::spawn(echo_server(listener, 2));
    let a = TcpStream::connect(addr).await.unwrap();
    let b = TcpStream::connect(addr).await.unwrap();
    let (a_read, a_write) = a.into_split();
    let (b_read, b_write) = b.into_split();
    // Halves of different streams stay apart...
    let (a_read, b_write) = a_read
        .reunite(b_write)
        .expect_err("halves of different streams");
    // ...matching ones give the stream back, still open (no shutdown happened).
    let a = a_read.reunite(a_write).unwrap();
    let b = b_read.reunite(b_write).unwrap();
    round_trip(&a, b"reunited").await;
    round_trip(&b, b"too").await;
    server.await.unwrap().unwrap();
}

// --- UDP -----------------------------------------------------------------------------------------

#[runtime::test]
async fn udp_send_to_and_recv_from() {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    // One datagram in flight at a time: loopback does not lose them unless a buffer overflows.
    for i in 0..20u64 {
        let len = 1 + (i as usize * 997) % 8000;
        let (res, _) = a.send_to(payload(i, len), b_addr).await;
        assert_eq!(res.unwrap(), len);

        let (res, got) = b.recv_from(Vec::with_capacity(9000)).await;
        let (n, from) = res.unwrap();
        assert_eq!((n, from), (len, a_addr));
        assert_eq!(got, payload(i, len));

        // Echo it back to where it came from.
        let (res, _) = b.send_to(got, from).await;
        assert_eq!(res.unwrap(), len);
        let (res, back) = a.recv_from(Vec::with_capacity(9000)).await;
        assert_eq!(res.unwrap(), (len, b_addr));
        assert_eq!(back, payload(i, len));
    }
}

#[runtime::test]
async fn udp_truncates_a_datagram_larger_than_the_buffer() {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b_addr = b.local_addr().unwrap();
    let (res, _) = a.send_to(payload(5, 100), b_addr).await;
    res.unwrap();
    let (res, _) = a.send_to(b"next".as_slice(), b_addr).await;
    res.unwrap();
    let (res, got) = b.recv_from(Vec::with_capacity(10)).await;
    assert_eq!(res.unwrap().0, 10);
    assert_eq!(got, payload(5, 10));
    // The rest of the first datagram is gone; the next one arrives whole.
    let (res, got) = b.recv_from(Vec::with_capacity(64)).await;
    res.unwrap();
    assert_eq!(got, b"next");
}

#[runtime::test]
async fn udp_connected_send_and_recv() {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.connect(b_addr).unwrap();
    b.connect(a_addr).unwrap();
    assert_eq!(a.peer_addr().unwrap(), b_addr);
    for i in 0..10u64 {
        let (res, _) = a.send(payload(i, 512)).await;
        assert_eq!(res.unwrap(), 512);
        let (res, got) = b.recv(Vec::with_capacity(1024)).await;
        assert_eq!(res.unwrap(), 512);
        let (res, _) = b.send(got).await;
        res.unwrap();
        let (res, back) = a.recv(Vec::with_capacity(1024)).await;
        assert_eq!(res.unwrap(), 512);
        assert_eq!(back, payload(i, 512));
    }
}

// --- Unix-domain sockets -------------------------------------------------------------------------

/// A socket path unique to this process and call, removed when dropped.
struct TempSocketPath(std::path::PathBuf);

impl TempSocketPath {
    fn new() -> TempSocketPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("runtime-echo-test-{}-{n}.sock", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        TempSocketPath(path)
    }
}

impl Drop for TempSocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[runtime::test]
async fn unix_listener_and_stream_echo() {
    let path = TempSocketPath::new();
    let listener = UnixListener::bind(&path.0).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.0.as_path())
    );
    let server = runtime::spawn(async move {
        let (stream, peer) = listener.accept().await?;
        assert!(peer.is_unnamed(), "the client did not bind a path");
        echo(stream).await
    });
    let client = UnixStream::connect(&path.0).await.unwrap();
    let data = payload(9, 300_000);
    let (client_read, client_write) = client.into_split();
    let sender = runtime::spawn(async move {
        let (res, _) = client_write.write_all(payload(9, 300_000)).await;
        res
        // dropping the write half shuts it down: the server sees end of stream
    });
    let back = read_to_end(client_read).await.unwrap();
    sender.await.unwrap().unwrap();
    assert!(back == data, "the Unix echo differs");
    assert_eq!(server.await.unwrap().unwrap(), 300_000);
}

#[runtime::test]
async fn unix_pair_talks_both_ways() {
    let (left, right) = UnixStream::pair().unwrap();
    let (res, _) = left.write_all(b"ping".as_slice()).await;
    res.unwrap();
    let (res, got) = right.read_exact(vec![0; 4]).await;
    res.unwrap();
    assert_eq!(got, b"ping");
    let (res, _) = right.write_all(b"pong".as_slice()).await;
    res.unwrap();
    let (res, got) = left.read_exact(vec![0; 4]).await;
    res.unwrap();
    assert_eq!(got, b"pong");

    // Shutting one direction down is end of stream for the other side only.
    left.shutdown(Shutdown::Write).unwrap();
    let (res, _) = right.read(Vec::with_capacity(8)).await;
    assert_eq!(res.unwrap(), 0);
    let (res, _) = right.write_all(b"still open".as_slice()).await;
    res.unwrap();
    let (res, got) = left.read_exact(vec![0; 10]).await;
    res.unwrap();
    assert_eq!(got, b"still open");

    // A pair also works across tasks.
    let counter = Rc::new(Cell::new(0));
    let seen = counter.clone();
    let reader = runtime::spawn(async move {
        let all = read_to_end(&left).await.unwrap();
        seen.set(all.len());
    });
    let (res, _) = right.write_all(payload(3, 50_000)).await;
    res.unwrap();
    drop(right);
    reader.await.unwrap();
    assert_eq!(counter.get(), 50_000);
}
