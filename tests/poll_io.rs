//! Poll-based IO (`poll_read`, `poll_write`, …) and the interop traits over it, on every compiled
//! backend: partial reads and writes, empty buffers, end of stream, writes after shutdown,
//! half-close, 64 MiB through `tokio::io::copy` and `futures::io::copy` with every byte checked,
//! and no byte lost or reordered by cancelled reads or by mixing poll and owned reads.
//!
//! The streams' own owned-buffer methods (`read`, `write_all`, `shutdown`) are inherent, so they
//! win method resolution; the trait methods are called by path (`AsyncWriteExt::write_all`).

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[allow(dead_code)] // each test file uses some of the helpers
mod net_common;
use net_common::build_or_skip;
use runtime::net::{TcpListener, TcpStream, UnixStream};
use runtime::time::timeout;
use runtime::{Backend, Runtime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(60);

/// Byte `i` of the checked payload.
fn byte(i: u64) -> u8 {
    (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
}

fn payload(from: u64, len: usize) -> Vec<u8> {
    (from..from + len as u64).map(byte).collect()
}

/// A connected TCP pair on loopback.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = runtime::spawn(async move { listener.accept().await.unwrap().0 });
    let client = TcpStream::connect(addr).await.unwrap();
    (client, accept.await.unwrap())
}

async fn read_some(stream: &mut UnixStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    let n = timeout(LIMIT, poll_fn(|cx| stream.poll_read(cx, &mut buf)))
        .await
        .expect("data arrives")
        .unwrap();
    buf.truncate(n);
    buf
}

#[runtime::test]
async fn partial_reads_take_what_fits() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    AsyncWriteExt::write_all(&mut a, b"0123456789")
        .await
        .unwrap();
    assert_eq!(read_some(&mut b, 3).await, b"012");
    assert_eq!(read_some(&mut b, 3).await, b"345");
    assert_eq!(read_some(&mut b, 100).await, b"6789");
}

#[runtime::test]
async fn a_partial_write_reports_what_was_taken() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    // Far more than a socket buffer holds: the first write takes part of it.
    let big = payload(0, 16 << 20);
    let n = poll_fn(|cx| a.poll_write(cx, &big)).await.unwrap();
    assert!(0 < n && n < big.len(), "wrote {n}");
    let mut got = vec![0; n];
    AsyncReadExt::read_exact(&mut b, &mut got).await.unwrap();
    assert_eq!(got, big[..n]);
}

#[runtime::test]
async fn empty_buffers_complete_at_once() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    assert_eq!(poll_fn(|cx| b.poll_read(cx, &mut [])).await.unwrap(), 0);
    assert_eq!(poll_fn(|cx| a.poll_write(cx, &[])).await.unwrap(), 0);
    let empty = [io::IoSlice::new(&[]), io::IoSlice::new(&[])];
    assert_eq!(
        poll_fn(|cx| a.poll_write_vectored(cx, &empty))
            .await
            .unwrap(),
        0
    );
    // Nothing was consumed or sent by them.
    AsyncWriteExt::write_all(&mut a, b"x").await.unwrap();
    assert_eq!(read_some(&mut b, 8).await, b"x");
}

#[runtime::test]
async fn vectored_writes_go_in_order() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let parts = [&b"ab"[..], b"", b"cde", b"f"];
    let slices: Vec<_> = parts.iter().map(|p| io::IoSlice::new(p)).collect();
    let n = poll_fn(|cx| a.poll_write_vectored(cx, &slices))
        .await
        .unwrap();
    assert_eq!(n, 6);
    assert_eq!(read_some(&mut b, 16).await, b"abcdef");
}

#[runtime::test]
async fn end_of_stream_reads_zero() {
    let (mut a, mut b) = tcp_pair().await;
    AsyncWriteExt::write_all(&mut a, b"last").await.unwrap();
    AsyncWriteExt::shutdown(&mut a).await.unwrap();
    let mut all = Vec::new();
    AsyncReadExt::read_to_end(&mut b, &mut all).await.unwrap();
    assert_eq!(all, b"last");
    assert_eq!(
        AsyncReadExt::read(&mut b, &mut [0; 8]).await.unwrap(),
        0,
        "EOF stays"
    );
}

#[runtime::test]
async fn a_write_after_shutdown_fails() {
    let (mut a, _b) = tcp_pair().await;
    AsyncWriteExt::shutdown(&mut a).await.unwrap();
    let err = AsyncWriteExt::write_all(&mut a, b"too late")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
}

#[runtime::test]
async fn half_close_keeps_the_other_direction() {
    let (mut a, mut b) = tcp_pair().await;
    AsyncWriteExt::shutdown(&mut a).await.unwrap();
    assert_eq!(AsyncReadExt::read(&mut b, &mut [0; 8]).await.unwrap(), 0);
    AsyncWriteExt::write_all(&mut b, b"reply").await.unwrap();
    let mut got = [0; 5];
    AsyncReadExt::read_exact(&mut a, &mut got).await.unwrap();
    assert_eq!(&got, b"reply");
}

/// An `AsyncWrite` sink that checks every byte against the payload.
struct Checker {
    pos: u64,
}

impl Checker {
    fn check(&mut self, buf: &[u8]) {
        for &b in buf {
            assert_eq!(b, byte(self.pos), "byte {}", self.pos);
            self.pos += 1;
        }
    }
}

impl tokio::io::AsyncWrite for Checker {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().check(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl futures::io::AsyncWrite for Checker {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().check(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

const BIG: usize = 64 << 20;

/// Writes the payload in uneven chunks, then shuts the stream down.
async fn send_payload(mut w: runtime::net::WriteHalf<TcpStream>) {
    let mut sent = 0;
    let mut chunk = 1;
    while sent < BIG {
        let len = chunk.min(BIG - sent);
        AsyncWriteExt::write_all(&mut w, &payload(sent as u64, len))
            .await
            .unwrap();
        sent += len;
        chunk = (chunk * 7 + 13) % 300_000 + 1;
    }
    AsyncWriteExt::shutdown(&mut w).await.unwrap();
}

#[runtime::test]
async fn sixty_four_mib_through_tokio_copy() {
    let (a, b) = tcp_pair().await;
    let (_, w) = a.into_split();
    let writer = runtime::spawn(send_payload(w));
    let (mut r, _keep) = b.into_split();
    let mut checker = Checker { pos: 0 };
    let copied = timeout(LIMIT, tokio::io::copy(&mut r, &mut checker))
        .await
        .expect("copied in time")
        .unwrap();
    assert_eq!(copied, BIG as u64);
    assert_eq!(checker.pos, BIG as u64);
    writer.await.unwrap();
}

#[runtime::test]
async fn sixty_four_mib_through_futures_copy() {
    let (a, b) = tcp_pair().await;
    let (_, w) = a.into_split();
    let writer = runtime::spawn(send_payload(w));
    let (r, _keep) = b.into_split();
    let mut checker = Checker { pos: 0 };
    let copied = timeout(LIMIT, futures::io::copy(r, &mut checker))
        .await
        .expect("copied in time")
        .unwrap();
    assert_eq!(copied, BIG as u64);
    writer.await.unwrap();
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// A poll read abandoned while waiting loses nothing: the kernel never held its buffer.
#[runtime::test]
async fn an_abandoned_poll_read_loses_nothing() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    {
        let mut buf = [0; 16];
        let mut read = Box::pin(AsyncReadExt::read(&mut b, &mut buf));
        assert!(poll_once(&mut read).is_pending());
    }
    runtime::task::yield_now().await; // the driver turns: under io_uring the wait reaches the ring
    AsyncWriteExt::write_all(&mut a, b"all of it")
        .await
        .unwrap();
    assert_eq!(read_some(&mut b, 64).await, b"all of it");
}

/// Owned reads and poll reads take turns on one stream without losing or reordering a byte —
/// including the bytes of an owned read cancelled after the kernel filled it.
#[runtime::test]
async fn owned_and_poll_reads_keep_the_order() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let mut owned = Box::pin(b.read(Vec::with_capacity(4)));
    assert!(poll_once(&mut owned).is_pending());
    runtime::task::yield_now().await;
    AsyncWriteExt::write_all(&mut a, b"abcdefgh").await.unwrap();
    runtime::task::yield_now().await; // under io_uring the owned read takes "abcd" now
    drop(owned);
    assert_eq!(read_some(&mut b, 2).await, b"ab");
    let (res, mut got) = b.read(Vec::with_capacity(3)).await;
    assert!(res.unwrap() > 0);
    AsyncWriteExt::shutdown(&mut a).await.unwrap();
    let mut rest = Vec::new();
    AsyncReadExt::read_to_end(&mut b, &mut rest).await.unwrap();
    got.extend(rest);
    assert_eq!(got, b"cdefgh");
}

/// With the multishot receive feed on, poll reads are served from it, in order.
#[test]
fn poll_reads_through_the_multishot_feed() {
    for &backend in Backend::compiled() {
        let builder = Runtime::builder().backend(backend).multishot_recv(true);
        let Some(rt) = build_or_skip(builder, &format!("on {backend}")) else {
            continue;
        };
        rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            let data = payload(7, 1 << 20);
            let writer = runtime::spawn(async move {
                AsyncWriteExt::write_all(&mut a, &data).await.unwrap();
                AsyncWriteExt::shutdown(&mut a).await.unwrap();
            });
            let mut got = Vec::new();
            timeout(LIMIT, AsyncReadExt::read_to_end(&mut b, &mut got))
                .await
                .expect("in time")
                .unwrap();
            assert_eq!(got, payload(7, 1 << 20));
            writer.await.unwrap();
        });
    }
}
