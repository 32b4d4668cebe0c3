//! Support for the macros of `runtime-macros`. Not a public API.

use std::fmt::Debug;
use std::future::Future;
use std::io;

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
        rt.block_on(test()).check();
    }
}
