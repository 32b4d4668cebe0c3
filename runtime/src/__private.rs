//! Support for the macros of `runtime-macros`. Not a public API.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::Poll;

use crate::net::UnixStream;
use crate::{Backend, Runtime};

/// What a `#[runtime::test]` body may return.
pub trait TestOutput {
    /// Panics (failing the test) on an error.
    fn check(self);
}

impl TestOutput for () {
    fn check(self) {}
}

impl<E: Debug> TestOutput for Result<(), E> {
    fn check(self) {
        if let Err(e) = self {
            panic!("test returned an error: {e:?}");
        }
    }
}

/// Runs a test body once per compiled backend (or once on `backend`), each on a fresh runtime.
/// io_uring is skipped, with a printed reason, where the kernel refuses it; a pinned backend that
/// is not compiled in is skipped the same way.
///
/// Every body runs while a second runtime of the same backend is alive on the thread (a
/// [`Bystander`]) with a read in flight, so the two drivers' slot keys and registration tokens
/// coincide: an operation or a socket confused between drivers would fail the test.
pub fn run_test<F, Fut>(backend: Option<Backend>, name: &'static str, test: F)
where
    F: Fn() -> Fut,
    Fut: Future,
    Fut::Output: TestOutput,
{
    let backends: Vec<Backend> = match backend {
        Some(b) if b != Backend::Auto && !Backend::compiled().contains(&b) => {
            eprintln!("{name}: skipped: the {b} backend is not compiled in");
            return;
        }
        Some(b) => vec![b],
        None => Backend::compiled().to_vec(),
    };
    for backend in backends {
        let rt = match Runtime::builder().backend(backend).build() {
            Ok(rt) => rt,
            Err(e) if e.kind() == io::ErrorKind::Unsupported && backend == Backend::IoUring => {
                eprintln!("{name}: skipped on io_uring: {e}");
                continue;
            }
            Err(e) => panic!("{name}: cannot start a runtime on {backend}: {e}"),
        };
        let bystander = Bystander::new(backend);
        rt.block_on(test()).check();
        drop(bystander);
    }
}

/// A second runtime with a read in flight on a socket that never receives anything.
struct Bystander {
    /// Dropped first, outside any runtime: under io_uring the in-flight read then travels to its
    /// driver's mailbox, which is read when the runtime below is dropped.
    _read: Pin<Box<dyn Future<Output = ()>>>,
    _runtime: Runtime,
}

impl Bystander {
    fn new(backend: Backend) -> Bystander {
        let runtime = Runtime::builder()
            .backend(backend)
            .build()
            .expect("the same backend just worked");
        let (socket, peer) = UnixStream::pair().expect("a socket pair");
        let mut read: Pin<Box<dyn Future<Output = ()>>> = Box::pin(async move {
            let _peer = peer; // kept open: the read never ends
            let _ = socket.read(vec![0u8; 16]).await;
        });
        runtime.block_on(std::future::poll_fn(|cx| {
            assert!(read.as_mut().poll(cx).is_pending(), "nothing is ever sent");
            Poll::Ready(())
        }));
        Bystander {
            _read: read,
            _runtime: runtime,
        }
    }
}
