//! Two runtimes alive on one thread: an operation or a socket taken from one to the other is never
//! completed, freed or deregistered by the wrong driver (see `driver/identity.rs`).
//!
//! Each test runs for every pair of compiled backends (`home`, `away`), io_uring skipped with a
//! message where the kernel refuses it. A future escapes `block_on` by being polled once by hand
//! under one runtime and then dropped or polled under the other.

use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use runtime::net::UnixStream;
use runtime::time::timeout;
use runtime::{Backend, Runtime};

const LIMIT: Duration = Duration::from_secs(10);

/// A runtime on `backend`, or `None` (with a message) where the kernel refuses io_uring.
fn runtime_on(backend: Backend) -> Option<Runtime> {
    match Runtime::builder().backend(backend).build() {
        Ok(rt) => Some(rt),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            eprintln!("skipped on {backend}: {e}");
            None
        }
        Err(e) => panic!("cannot build a runtime on {backend}: {e}"),
    }
}

/// Every (home, away) pair of compiled backends that the kernel allows.
fn pairs() -> Vec<(Runtime, Runtime)> {
    let mut out = Vec::new();
    for &home in Backend::compiled() {
        for &away in Backend::compiled() {
            if let (Some(a), Some(b)) = (runtime_on(home), runtime_on(away)) {
                out.push((a, b));
            }
        }
    }
    out
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// A read started under `home` and dropped under `away` is finished by `home`: its bytes reach
/// the next read there, and no buffer is freed while the kernel may still fill it.
#[test]
fn a_read_dropped_under_another_runtime_loses_nothing() {
    for (home, away) in pairs() {
        let (x, y) = UnixStream::pair().unwrap();
        let mut read = Box::pin(x.read(vec![0u8; 64]));
        home.block_on(async {
            assert!(poll_once(&mut read).is_pending(), "nothing was sent yet");
        });
        away.block_on(async { drop(read) });
        home.block_on(async {
            let (res, _) = y.write_all(&b"KERNEL WROTE HERE"[..]).await;
            res.unwrap();
            let (res, buf) = timeout(LIMIT, x.read(Vec::with_capacity(64)))
                .await
                .expect("the bytes of the dropped read reach the next one");
            assert_eq!(res.unwrap(), 17);
            assert_eq!(&buf[..], b"KERNEL WROTE HERE");
        });
    }
}

/// An operation in flight under `home` and polled under `away` panics with a message that says
/// so; `away`'s own operation (which may sit at the same slot key) is untouched, and `home`
/// still delivers the bytes of the read it submitted.
#[test]
fn an_operation_polled_under_another_runtime_panics_and_harms_neither() {
    for (home, away) in pairs() {
        let (x, y) = UnixStream::pair().unwrap();
        let (p, q) = UnixStream::pair().unwrap();
        let mut foreign = Box::pin(x.read(vec![0u8; 64]));
        home.block_on(async { assert!(poll_once(&mut foreign).is_pending()) });
        let mut own = Box::pin(p.read(vec![0u8; 64]));
        away.block_on(async { assert!(poll_once(&mut own).is_pending()) });

        let outcome = catch_unwind(AssertUnwindSafe(|| {
            away.block_on(async { poll_once(&mut foreign).is_pending() })
        }));
        match (home.backend(), outcome) {
            (Backend::IoUring, Err(panic)) => {
                let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                assert!(msg.contains("polled under driver"), "panic message: {msg}");
            }
            // A read that is not in flight (every epoll read; an io_uring read served by a
            // multishot feed) fails under `away` instead: the socket is not `away`'s.
            (_, Ok(pending)) => assert!(!pending, "answered with an error"),
            (backend, outcome) => panic!("unexpected on {backend}: {outcome:?}"),
        }
        drop(foreign);

        away.block_on(async {
            let (res, _) = q.write_all(&b"mine"[..]).await;
            res.unwrap();
            let (res, buf) = timeout(LIMIT, own).await.expect("away's read completes");
            assert_eq!(res.unwrap(), 4);
            assert_eq!(&buf[..4], b"mine");
        });
        home.block_on(async {
            let (res, _) = y.write_all(&b"home"[..]).await;
            res.unwrap();
            let (res, buf) = timeout(LIMIT, x.read(Vec::with_capacity(64)))
                .await
                .expect("home's bytes are not lost");
            assert_eq!(res.unwrap(), 4);
            assert_eq!(&buf[..], b"home");
        });
    }
}

/// A socket that runs IO under `home` fails with an error under `away`; closing it there leaves
/// `away`'s own registrations alone.
#[test]
fn a_socket_is_tied_to_the_runtime_that_first_used_it() {
    for (home, away) in pairs() {
        let (x, y) = UnixStream::pair().unwrap();
        let (p, q) = UnixStream::pair().unwrap();
        home.block_on(async {
            let (res, _) = y.write_all(&b"1"[..]).await;
            res.unwrap();
            let (res, _) = x.read(vec![0u8; 8]).await;
            assert_eq!(res.unwrap(), 1);
        });
        away.block_on(async {
            let mut own = Box::pin(p.read(vec![0u8; 8]));
            assert!(poll_once(&mut own).is_pending());

            let (res, _) = x.read(vec![0u8; 8]).await;
            let err = res.expect_err("x belongs to the home runtime");
            assert!(
                err.to_string().contains("belongs to runtime driver"),
                "{err}"
            );
            drop(x);

            let (res, _) = q.write_all(&b"2"[..]).await;
            res.unwrap();
            let (res, _) = timeout(LIMIT, own).await.expect("p is still registered");
            assert_eq!(res.unwrap(), 1);
        });
    }
}
