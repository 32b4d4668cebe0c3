//! Helpers for the socket tests: a runtime built or the test skipped, a connected pair, a bounded
//! wait for bytes, a future dropped after a number of polls, and which backend runs. (Each test
//! file uses some of them.)

use std::future::Future;
use std::os::fd::AsRawFd;
use std::pin::pin;
use std::task::Poll;

use runtime::net::{TcpListener, TcpStream};
use runtime::{Builder, Runtime};

/// The runtime `builder` describes, or `None` after printing why the test is skipped when the
/// machine does not offer what it asks for (`Unsupported`: io_uring refused, a feature the kernel
/// lacks). Any other error fails the test. `what` names the case in the messages.
pub fn build_or_skip(builder: Builder, what: &str) -> Option<Runtime> {
    match builder.build() {
        Ok(rt) => Some(rt),
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            eprintln!("skipped {what}: {e}");
            None
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

/// A connected pair: (accepted side, connecting side).
pub async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = runtime::spawn(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (server, client.await.unwrap())
}

/// Blocks until `stream` has bytes to read (a real wait, bounded, not a sleep).
pub fn wait_readable(stream: &TcpStream) {
    let mut pfd = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is a valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, 5_000) };
    assert_eq!(n, 1, "the peer's bytes never arrived");
}

/// Polls `fut` `polls` times, yielding to the runtime in between (so its SQE is submitted and may
/// complete), then drops it. `None`: it was dropped before finishing.
pub async fn poll_then_drop<F: Future>(fut: F, polls: u64) -> Option<F::Output> {
    let mut fut = pin!(fut);
    for _ in 0..polls {
        let step = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
        if let Poll::Ready(output) = step {
            return Some(output);
        }
        runtime::task::yield_now().await;
    }
    None
}

/// Whether this runtime is io_uring (it counts `io_uring_enter` calls; epoll never does).
pub fn on_io_uring(before: runtime::Stats) -> bool {
    (runtime::stats() - before).uring_enter > 0
}
