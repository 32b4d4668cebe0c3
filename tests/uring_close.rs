//! Closing is immediate, on either backend.
//!
//! Under io_uring a request in the kernel holds its own reference to the socket it works on: a
//! multishot accept keeps a listener listening, a receive (or a cancelled one not yet finished)
//! keeps a stream open, even after the program closed its descriptor. Dropping the listener or the
//! stream must still close it at once, as it does under epoll: the address can be bound again and
//! the peer sees the end of the stream, without waiting for the runtime to turn again.
//!
//! Also here: a waker that panics while the driver hands out completions costs no other operation
//! its completion.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use runtime::net::{TcpListener, TcpStream};
use runtime::time::timeout;
use runtime::Builder;
use runtime::{Backend, Runtime};

/// Every test body must end well within this.
const LIMIT: Duration = Duration::from_secs(30);
/// How long a blocking peer read may wait: a safety net so that a failure is an assertion, not a
/// hang. The tests never rely on it passing.
const SAFETY_NET: Duration = Duration::from_secs(10);

/// One runtime per compiled backend, each configured by `configure` (io_uring is skipped, with a
/// message, where the kernel refuses it).
fn runtimes(configure: impl Fn(Builder) -> Builder) -> Vec<Runtime> {
    let mut all = Vec::new();
    for &backend in Backend::compiled() {
        match configure(Runtime::builder().backend(backend)).build() {
            Ok(rt) => all.push(rt),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => eprintln!("skipped {backend}: {e}"),
            Err(e) => panic!("{backend}: {e}"),
        }
    }
    all
}

/// The configurations under test: the defaults, and io_uring's multishot requests.
fn configurations() -> [fn(Builder) -> Builder; 2] {
    [|b| b, |b| b.multishot_accept(true).multishot_recv(true)]
}

/// A runtime listener and a std (blocking) client connected to it, accepted.
async fn accepted_pair(listener: &TcpListener) -> (TcpStream, std::net::TcpStream) {
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    peer.set_read_timeout(Some(SAFETY_NET)).unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    (stream, peer)
}

/// Reads from a blocking peer whose other end was closed: end of stream, or a reset when the
/// connection was closed before it was accepted.
fn assert_closed(peer: &mut std::net::TcpStream, what: &str) {
    let mut byte = [0u8; 1];
    match peer.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
        other => panic!("{what}: the peer should see the connection closed, got {other:?}"),
    }
}

// --- a dropped listener --------------------------------------------------------------------------

#[test]
fn a_dropped_listener_frees_its_address_at_once() {
    for (config, configure) in configurations().into_iter().enumerate() {
        for rt in runtimes(configure) {
            let backend = format!("{} (configuration {config})", rt.backend());
            // Dropped inside the runtime, right after an accept.
            let addr = rt.block_on(async {
                timeout(LIMIT, async {
                    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                    let addr = listener.local_addr().unwrap();
                    let (_stream, _peer) = accepted_pair(&listener).await;
                    // Two more connect; nobody accepts them.
                    let mut waiting = [0, 1].map(|_| std::net::TcpStream::connect(addr).unwrap());
                    // One more accept: under multishot accept the others are now accepted by
                    // the kernel, waiting in the listener's queue.
                    let (_second, _) = listener.accept().await.unwrap();
                    drop(listener);
                    // No await from here on: the runtime does not turn.
                    let again = TcpListener::bind(addr)
                        .unwrap_or_else(|e| panic!("{backend}: rebinding {addr}: {e}"));
                    drop(again);
                    for peer in &mut waiting {
                        peer.set_read_timeout(Some(SAFETY_NET)).unwrap();
                    }
                    // The connection accepted first is served by `_second`; the last one was
                    // accepted for nobody and must be closed with the listener.
                    let mut last = waiting.into_iter().last().unwrap();
                    assert_closed(&mut last, "an unclaimed connection");
                    addr
                })
                .await
                .expect("test took too long")
            });
            // Dropped outside any runtime: nobody can reach the driver now.
            let listener = rt.block_on(async {
                let listener = TcpListener::bind(addr).unwrap();
                let (_stream, _peer) = accepted_pair(&listener).await;
                listener
            });
            drop(listener);
            TcpListener::bind(addr)
                .unwrap_or_else(|e| panic!("{backend}: rebinding {addr} outside the runtime: {e}"));
        }
    }
}

// --- a dropped stream ----------------------------------------------------------------------------

#[test]
fn a_stream_dropped_after_a_cancelled_read_closes_at_once() {
    for (config, configure) in configurations().into_iter().enumerate() {
        for rt in runtimes(configure) {
            let backend = format!("{} (configuration {config})", rt.backend());
            rt.block_on(async {
                timeout(LIMIT, async {
                    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                    let (stream, mut peer) = accepted_pair(&listener).await;
                    // The read waits in the kernel (or on the multishot receive) until the timer
                    // fires and drops it.
                    let cancelled = timeout(
                        Duration::from_millis(10),
                        stream.read(Vec::with_capacity(64)),
                    )
                    .await;
                    assert!(cancelled.is_err(), "nothing was sent");
                    drop(stream);
                    // No await from here on: the runtime does not turn.
                    assert_closed(&mut peer, &format!("{backend}: a dropped stream"));
                })
                .await
                .expect("test took too long")
            });
        }
    }
}

/// Dropping a runtime with a stream whose read was cancelled closes the stream too (the cancelled
/// read, kept by the driver, releases it).
#[test]
fn a_cancelled_read_does_not_outlive_its_runtime() {
    for configure in configurations() {
        for rt in runtimes(configure) {
            let mut peer = rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let (stream, peer) = accepted_pair(&listener).await;
                let cancelled = timeout(
                    Duration::from_millis(10),
                    stream.read(Vec::with_capacity(64)),
                )
                .await;
                assert!(cancelled.is_err(), "nothing was sent");
                peer
            });
            drop(rt);
            assert_closed(&mut peer, "a stream of a dropped runtime");
        }
    }
}

// --- a panicking waker ---------------------------------------------------------------------------

/// A waker that panics when woken.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics on purpose");
    }
}

/// A waker that records that it was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls `fut` once with `waker`.
fn poll_once<F: Future + ?Sized>(fut: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Two reads complete in the same driver turn (one batch of io_uring completions, or of epoll
/// events); the first one's waker panics. The panic reaches the caller, and the second read still
/// completes (its waker is woken, its bytes are there): both drivers deliver the whole batch.
#[test]
fn a_panicking_waker_costs_no_other_completion() {
    for rt in runtimes(|b| b) {
        let backend = rt.backend();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let ((first, mut first_peer), (second, mut second_peer)) = rt.block_on(async {
            (
                accepted_pair(&listener).await,
                accepted_pair(&listener).await,
            )
        });
        let mut first_read = pin!(first.read(Vec::with_capacity(8)));
        let mut second_read = pin!(second.read(Vec::with_capacity(8)));
        let panicking = Waker::from(Arc::new(PanickingWaker));
        let flag = Arc::new(Flag::default());
        let flagged = Waker::from(flag.clone());
        // Both reads wait (under io_uring: both requests are queued, the first one first).
        rt.block_on(async {
            assert!(poll_once(first_read.as_mut(), &panicking).is_pending());
            assert!(poll_once(second_read.as_mut(), &flagged).is_pending());
        });
        first_peer.write_all(b"one").unwrap();
        second_peer.write_all(b"two").unwrap();
        // One driver turn: both completions arrive together, the first waker panics.
        let turned = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async {
                for _ in 0..10 {
                    runtime::task::yield_now().await;
                }
            })
        }));
        let panic = turned.expect_err("the waker's panic reaches the caller");
        let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.contains("on purpose"), "{backend}: {message:?}");
        assert!(
            flag.0.load(Ordering::SeqCst),
            "{backend}: the other read's waker was woken"
        );
        rt.block_on(async {
            let Poll::Ready((res, buf)) = poll_once(second_read.as_mut(), Waker::noop()) else {
                panic!("{backend}: the other read completed");
            };
            assert_eq!(res.unwrap(), 3);
            assert_eq!(buf, b"two");
            // The first read completed as well; only its waker failed.
            let Poll::Ready((res, buf)) = poll_once(first_read.as_mut(), Waker::noop()) else {
                panic!("{backend}: the first read completed");
            };
            assert_eq!(res.unwrap(), 3);
            assert_eq!(buf, b"one");
            // And the runtime goes on working.
            let stream = TcpStream::connect(addr).await.unwrap();
            let (res, _) = stream.write_all(b"ok".to_vec()).await;
            res.unwrap();
        });
    }
}
