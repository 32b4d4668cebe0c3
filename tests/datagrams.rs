//! Datagram sockets keep message boundaries on both backends: no datagram is merged with another,
//! none is lost behind a short read, and several tasks may wait on one socket.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[allow(dead_code)] // each test file uses some of the helpers
mod net_common;
use net_common::build_or_skip;
use runtime::net::UdpSocket;
use runtime::time::timeout;
use runtime::{Backend, Runtime};

const LIMIT: Duration = Duration::from_secs(10);

/// Two UDP sockets on loopback, each connected to the other.
fn connected_pair() -> (UdpSocket, UdpSocket) {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.connect(b.local_addr().unwrap()).unwrap();
    b.connect(a.local_addr().unwrap()).unwrap();
    (a, b)
}

/// Sends `datagrams` from a plain std socket (no runtime involved) to `to`.
fn send_from_std(to: SocketAddr, datagrams: &[&[u8]]) -> SocketAddr {
    let std = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for d in datagrams {
        std.send_to(d, to).unwrap();
    }
    std.local_addr().unwrap()
}

async fn recv_one(socket: &UdpSocket) -> Vec<u8> {
    let (res, buf) = timeout(LIMIT, socket.recv(Vec::with_capacity(64)))
        .await
        .expect("a queued datagram is received");
    res.unwrap();
    buf
}

/// A datagram shorter than the buffer does not hide the next one (epoll used to take a short
/// read for "socket empty").
#[runtime::test]
async fn a_short_datagram_does_not_hide_the_next() {
    let (a, b) = connected_pair();
    for d in [&b"one"[..], b"two", b"three"] {
        let (res, _) = b.send(d).await;
        res.unwrap();
    }
    assert_eq!(recv_one(&a).await, b"one");
    assert_eq!(recv_one(&a).await, b"two");
    assert_eq!(recv_one(&a).await, b"three");
}

/// The same for `recv_from`, which also reports each sender.
#[runtime::test]
async fn recv_from_takes_queued_datagrams_one_by_one() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let from = send_from_std(socket.local_addr().unwrap(), &[b"one", b"two"]);
    for expected in [&b"one"[..], b"two"] {
        let (res, buf) = timeout(LIMIT, socket.recv_from(Vec::with_capacity(64)))
            .await
            .expect("a queued datagram is received");
        let (n, sender) = res.unwrap();
        assert_eq!((&buf[..n], sender), (expected, from));
    }
}

/// Two tasks waiting on one socket each get a datagram (epoll used to keep one waker per
/// direction, so the first task slept on).
#[runtime::test]
async fn two_tasks_receive_from_one_socket() {
    let (a, b) = connected_pair();
    let a = Rc::new(a);
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let a = a.clone();
            runtime::spawn(async move { recv_one(&a).await })
        })
        .collect();
    runtime::task::yield_now().await; // both readers are waiting now
    for d in [&b"x"[..], b"y"] {
        let (res, _) = b.send(d).await;
        res.unwrap();
    }
    let mut got = Vec::new();
    for r in readers {
        got.push(r.await.unwrap());
    }
    got.sort();
    assert_eq!(got, [b"x".to_vec(), b"y".to_vec()]);
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// Datagrams taken by cancelled reads are kept whole: the next reads return them one by one
/// (io_uring used to stash them as bytes, so they came back merged: "onetwo").
#[runtime::test]
async fn datagrams_of_cancelled_reads_stay_whole() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut first = Box::pin(socket.recv_from(Vec::with_capacity(64)));
    let mut second = Box::pin(socket.recv_from(Vec::with_capacity(64)));
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    // Queued before the reads reach the kernel (under io_uring they go at the next park), so the
    // cancelled reads may well take them.
    let from = send_from_std(socket.local_addr().unwrap(), &[b"one", b"two"]);
    drop((first, second));
    for expected in [&b"one"[..], b"two"] {
        let (res, buf) = timeout(LIMIT, socket.recv_from(Vec::with_capacity(64)))
            .await
            .expect("no datagram is lost");
        let (n, sender) = res.unwrap();
        assert_eq!((&buf[..n], sender), (expected, from));
    }
}

/// The same with `recv` on a connected socket. (Here both reads are in the kernel when the
/// datagrams arrive, and which of two waiting reads the kernel serves first is its choice: only
/// whole, separate datagrams are promised, not their order.)
#[runtime::test]
async fn datagrams_of_cancelled_recvs_stay_whole() {
    let (a, b) = connected_pair();
    let mut first = Box::pin(a.recv(Vec::with_capacity(64)));
    let mut second = Box::pin(a.recv(Vec::with_capacity(64)));
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    for d in [&b"one"[..], b"two"] {
        let (res, _) = b.send(d).await;
        res.unwrap();
    }
    drop((first, second));
    let mut got = vec![recv_one(&a).await, recv_one(&a).await];
    got.sort();
    assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
}

/// With multishot receive on, a datagram socket is still read one datagram at a time (the
/// multishot feed, which concatenates, serves byte streams only).
#[test]
fn multishot_receive_keeps_datagrams_apart() {
    for &backend in Backend::compiled() {
        let builder = Runtime::builder().backend(backend).multishot_recv(true);
        let Some(rt) = build_or_skip(builder, &format!("on {backend}")) else {
            continue;
        };
        rt.block_on(async {
            let (a, b) = connected_pair();
            for d in [&b"one"[..], b"two"] {
                let (res, _) = b.send(d).await;
                res.unwrap();
            }
            assert_eq!(recv_one(&a).await, b"one");
            assert_eq!(recv_one(&a).await, b"two");
        });
    }
}
