//! Cancelling IO loses nothing, on either backend.
//!
//! Under io_uring a dropped future does not stop the kernel: a read may already have filled its
//! buffer, an accept may already have created the connection. The runtime keeps those results on
//! the descriptor and hands them to the next operation. These tests drop operations at every point
//! of their life (before submission, in flight, completed but not collected) and check that every
//! byte and every connection still arrives, in order.
//!
//! Each `#[runtime::test]` body runs once per backend; the `multishot_*` tests run the same bodies
//! on io_uring with multishot accept and multishot receive turned on.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

#[allow(dead_code)] // each test file uses some of the helpers
mod net_common;

use net_common::{build_or_skip, on_io_uring, pair, poll_then_drop, wait_readable};
use runtime::net::{TcpListener, TcpStream};
use runtime::time::timeout;
use runtime::{Backend, Runtime};

/// Every test body must end well within this.
const LIMIT: Duration = Duration::from_secs(30);

/// A small deterministic generator (xorshift), so a failing storm can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The byte at `offset` of connection `conn`'s test stream.
fn pattern(conn: usize, offset: usize) -> u8 {
    (offset.wrapping_mul(7).wrapping_add(conn * 13) % 251) as u8
}

// --- (a) a read cancelled by a timeout --------------------------------------------------------

/// The peer writes only after the read timed out: the next read gets everything.
async fn read_after_timeout_gets_late_bytes() {
    let (a, b) = pair().await;
    let early = timeout(Duration::from_millis(5), a.read(Vec::with_capacity(64))).await;
    assert!(early.is_err(), "nothing was sent yet");
    let (res, _) = b.write_all(b"late bytes".to_vec()).await;
    res.unwrap();
    let (res, buf) = a.read_exact(vec![0; 10]).await;
    res.unwrap();
    assert_eq!(buf, b"late bytes");
}

/// The bytes are already queued when a zero timeout fires: under io_uring the read is submitted
/// in the same batch as its cancel, completes first (the data is there), and its bytes must be
/// handed to the next reads — split over buffers smaller than what was received.
async fn bytes_received_by_a_cancelled_read_go_to_the_next_reads() {
    let (a, b) = pair().await;
    let (res, _) = b.write_all(b"arrived just in time".to_vec()).await;
    res.unwrap();
    wait_readable(&a);
    let before = runtime::stats();
    let cancelled = timeout(Duration::ZERO, a.read(Vec::with_capacity(64))).await;
    assert!(cancelled.is_err(), "a zero timeout fires at its first poll");
    let mut got = Vec::new();
    while got.len() < 20 {
        let (res, buf) = a.read(Vec::with_capacity(6)).await;
        let n = res.unwrap();
        assert!(n > 0 && n <= 6, "read {n} bytes into a 6-byte buffer");
        got.extend_from_slice(&buf);
    }
    assert_eq!(got, b"arrived just in time");
    if on_io_uring(before) {
        let delta = runtime::stats() - before;
        assert!(
            delta.cancels + delta.uring_feed_cqes >= 1,
            "the read was in flight (or served by a feed): {delta:?}"
        );
        assert!(
            delta.uring_stash_hits >= 1,
            "the stash served the next read: {delta:?}"
        );
    }
}

#[runtime::test]
async fn a_read_cancelled_by_timeout_loses_no_bytes() {
    timeout(LIMIT, async {
        read_after_timeout_gets_late_bytes().await;
        bytes_received_by_a_cancelled_read_go_to_the_next_reads().await;
    })
    .await
    .expect("test took too long");
}

// --- (b) drop storms ----------------------------------------------------------------------------

/// Several streams; each reader drops its reads at random points while the peer keeps sending.
/// Every byte arrives once, in order.
async fn read_storm() {
    const CONNS: usize = 4;
    const TOTAL: usize = 64 * 1024;
    let mut readers = Vec::new();
    for conn in 0..CONNS {
        let (a, b) = pair().await;
        runtime::spawn(async move {
            let mut rng = Rng(conn as u64 * 7919 + 1);
            let mut sent = 0;
            while sent < TOTAL {
                let len = (1 + rng.below(3000) as usize).min(TOTAL - sent);
                let chunk: Vec<u8> = (sent..sent + len).map(|i| pattern(conn, i)).collect();
                let (res, _) = b.write_all(chunk).await;
                res.unwrap();
                sent += len;
                runtime::task::yield_now().await;
            }
            b.shutdown(Shutdown::Write).unwrap();
            // Keep `b` open until the reader is done (it reads end of stream from the FIN).
            let _ = b.read(Vec::with_capacity(1)).await;
        });
        readers.push(runtime::spawn(async move {
            let mut rng = Rng(conn as u64 * 104_729 + 3);
            let mut got = 0;
            for _round in 0..10_000_000u64 {
                let want = 1 + rng.below(4096) as usize;
                // 0..=3 polls then dropped; 4 = awaited to the end.
                let polls = match rng.below(5) {
                    4 => u64::MAX,
                    n => n,
                };
                let Some((res, buf)) =
                    poll_then_drop(a.read(Vec::with_capacity(want)), polls).await
                else {
                    continue;
                };
                let n = res.unwrap();
                if n == 0 {
                    break;
                }
                for (i, &byte) in buf.iter().enumerate() {
                    assert_eq!(
                        byte,
                        pattern(conn, got + i),
                        "conn {conn}, offset {}",
                        got + i
                    );
                }
                got += n;
            }
            assert_eq!(got, TOTAL, "conn {conn} lost bytes");
            a.shutdown(Shutdown::Both).unwrap();
        }));
    }
    for reader in readers {
        reader.await.unwrap();
    }
}

/// Clients connect and send their id; the server drops its accepts at random points. Every client
/// is accepted exactly once.
async fn accept_storm() {
    const CLIENTS: u32 = 40;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let clients = runtime::spawn(async move {
        let mut open = Vec::new();
        for id in 0..CLIENTS {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (res, _) = stream.write_all(id.to_be_bytes().to_vec()).await;
            res.unwrap();
            open.push(stream);
            runtime::task::yield_now().await;
        }
        open // kept open until the server has seen everyone
    });
    let mut seen = vec![false; CLIENTS as usize];
    let mut rng = Rng(42);
    let mut accepted = 0;
    for _round in 0..10_000_000u64 {
        if accepted == CLIENTS {
            break;
        }
        let polls = match rng.below(4) {
            3 => u64::MAX,
            n => n,
        };
        let Some(result) = poll_then_drop(listener.accept(), polls).await else {
            continue;
        };
        let (stream, _peer) = result.unwrap();
        let (res, id) = stream.read_exact(vec![0; 4]).await;
        res.unwrap();
        let id = u32::from_be_bytes(id.try_into().unwrap()) as usize;
        assert!(!seen[id], "client {id} accepted twice");
        seen[id] = true;
        accepted += 1;
    }
    assert_eq!(accepted, CLIENTS, "connections were lost");
    drop(clients.await.unwrap());
}

/// A writer drops its writes at random points. Writes that reported success all arrive; dropped
/// ones arrive whole or not at all (the socket buffer never fills here, so none is cut short); the
/// stream stays in order.
async fn write_storm() {
    const CHUNKS: u32 = 2000;
    const CHUNK: usize = 64;
    let (a, b) = pair().await;
    let reader = runtime::spawn(async move {
        let mut all = Vec::new();
        loop {
            let (res, buf) = b.read(Vec::with_capacity(16 * 1024)).await;
            if res.unwrap() == 0 {
                return all;
            }
            all.extend_from_slice(&buf);
        }
    });
    let mut rng = Rng(7);
    let mut confirmed = Vec::new();
    for seq in 0..CHUNKS {
        let mut chunk = seq.to_be_bytes().to_vec();
        chunk.resize(CHUNK, (seq % 251) as u8);
        let polls = match rng.below(4) {
            3 => u64::MAX,
            n => n,
        };
        if let Some((res, _)) = poll_then_drop(a.write(chunk), polls).await {
            assert_eq!(
                res.unwrap(),
                CHUNK,
                "a small write to a roomy socket is whole"
            );
            confirmed.push(seq);
        }
    }
    // Let the driver reap the last cancelled writes before the FIN goes out.
    runtime::task::yield_now().await;
    a.shutdown(Shutdown::Write).unwrap();
    let all = reader.await.unwrap();
    assert_eq!(all.len() % CHUNK, 0, "no write was cut short");
    let mut received = Vec::new();
    for chunk in all.chunks(CHUNK) {
        let seq = u32::from_be_bytes(chunk[..4].try_into().unwrap());
        assert!(
            chunk[4..].iter().all(|&b| b == (seq % 251) as u8),
            "chunk {seq} intact"
        );
        if let Some(&last) = received.last() {
            assert!(seq > last, "in order: {seq} after {last}");
        }
        received.push(seq);
    }
    for seq in confirmed {
        assert!(
            received.binary_search(&seq).is_ok(),
            "confirmed write {seq} missing"
        );
    }
}

#[runtime::test]
async fn a_drop_storm_loses_nothing() {
    timeout(LIMIT, async {
        read_storm().await;
        accept_storm().await;
        write_storm().await;
    })
    .await
    .expect("test took too long");
}

/// The same storms with io_uring's multishot accept and multishot receive on.
#[test]
fn multishot_drop_storm_loses_nothing() {
    let builder = Runtime::builder()
        .backend(Backend::IoUring)
        .multishot_accept(true)
        .multishot_recv(true);
    let Some(rt) = build_or_skip(builder, "multishot") else {
        return;
    };
    rt.block_on(async {
        let before = runtime::stats();
        timeout(LIMIT, async {
            read_after_timeout_gets_late_bytes().await;
            bytes_received_by_a_cancelled_read_go_to_the_next_reads().await;
            read_storm().await;
            accept_storm().await;
            write_storm().await;
        })
        .await
        .expect("test took too long");
        let delta = runtime::stats() - before;
        assert!(
            delta.uring_feed_cqes > 0,
            "the multishot feeds ran: {delta:?}"
        );
    });
}

// --- dropping the runtime with IO in flight -----------------------------------------------------

/// A runtime dropped while requests of every kind wait in the kernel — single-shot reads and
/// accepts, multishot accepts and receives, the driver's own wake-up read — cancels them, returns
/// promptly and leaks nothing: every request is cancelled by its key (no "cancel any", which
/// kernels before 5.19 lack) and the wake-up read is completed by a write.
#[test]
fn dropping_a_runtime_with_io_in_flight_returns_promptly_and_leaks_nothing() {
    for multishot in [false, true] {
        for &backend in Backend::compiled() {
            let Ok(rt) = Runtime::builder()
                .backend(backend)
                .multishot_accept(multishot)
                .multishot_recv(multishot)
                .build()
            else {
                continue;
            };
            let (peers, _listener) = rt.block_on(async {
                let mut peers = Vec::new();
                for _ in 0..8 {
                    let (a, b) = pair().await;
                    runtime::spawn(async move {
                        let _ = a.read(Vec::with_capacity(1024)).await;
                    });
                    peers.push(b);
                }
                // A listener whose accept (multishot: whose feed) waits while its task is gone.
                let listener = std::rc::Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
                let waiting = listener.clone();
                runtime::spawn(async move {
                    let _ = waiting.accept().await;
                });
                // Let the tasks start and submit, and the driver park with them in the kernel.
                for _ in 0..3 {
                    runtime::task::yield_now().await;
                }
                (peers, listener)
            });
            let before = runtime::stats();
            let started = Instant::now();
            drop(rt);
            let took = started.elapsed();
            // A hang guard, not a measurement: a driver that waited for its full patience (2 s)
            // would cross it.
            assert!(
                took < Duration::from_millis(1500),
                "{backend}, multishot {multishot}: shutdown took {took:?}"
            );
            let delta = runtime::stats() - before;
            assert_eq!(
                delta.uring_leaked, 0,
                "{backend}, multishot {multishot}: requests leaked"
            );
            if backend == Backend::IoUring {
                // At least the listener's accept (or feed) and the wake-up read were in flight.
                assert!(
                    delta.cancels >= 2,
                    "multishot {multishot}: requests were cancelled: {delta:?}"
                );
            }
            drop(peers);
        }
    }
}

// --- (c) io_uring refused ---------------------------------------------------------------------

/// Set in the child process that runs [`refusal_in_child`] with the simulated refusal.
const CHILD_ENV: &str = "URING_CANCEL_REFUSAL_CHILD";

/// Runs the refusal checks in a child process: the simulation is an environment variable, which
/// would disturb the tests running in parallel threads of this process.
#[test]
fn a_refused_io_uring_is_a_clear_error_and_auto_falls_back() {
    if !Backend::compiled().contains(&Backend::IoUring) {
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "refusal_in_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("RUNTIME_IO_URING_DISABLED", "1")
        .env_remove("RUNTIME_BACKEND")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The checks themselves; does nothing unless started by the test above.
#[test]
fn refusal_in_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let err = Runtime::builder()
        .backend(Backend::IoUring)
        .build()
        .expect_err("io_uring was refused");
    assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    let msg = err.to_string();
    assert!(
        msg.contains("RUNTIME_IO_URING_DISABLED"),
        "message names the cause: {msg}"
    );

    if !Backend::compiled().contains(&Backend::Epoll) {
        // Nothing to fall back to: Auto reports the refusal itself.
        let err = Runtime::builder()
            .backend(Backend::Auto)
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("RUNTIME_IO_URING_DISABLED"),
            "{err}"
        );
        return;
    }
    let rt = Runtime::builder().backend(Backend::Auto).build().unwrap();
    assert_eq!(rt.backend(), Backend::Epoll);
    let why = rt.fallback_reason().expect("the fallback is observable");
    assert!(why.contains("RUNTIME_IO_URING_DISABLED"), "{why}");
    // And it works.
    rt.block_on(async {
        let (a, b) = pair().await;
        let (res, _) = b.write_all(b"ok".to_vec()).await;
        res.unwrap();
        let (res, buf) = a.read_exact(vec![0; 2]).await;
        res.unwrap();
        assert_eq!(buf, b"ok");
    });
}
