//! The runtimes compared by the executor and echo benchmarks.

use runtime::Backend;

/// One runtime configuration under test. Every one runs its work on a single thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// This project's runtime on the given backend.
    Runtime(Backend),
    /// tokio's `current_thread` runtime: the baseline every ratio is taken against.
    TokioCurrentThread,
    /// tokio's `multi_thread` runtime with one worker (the work runs on the worker thread).
    TokioMultiThread1,
    /// monoio on its io_uring driver.
    MonoioIoUring,
    /// monoio on its epoll ("legacy") driver.
    MonoioLegacy,
}

impl Contender {
    /// Every contender, in table order.
    pub const ALL: [Contender; 6] = [
        Contender::Runtime(Backend::Epoll),
        Contender::Runtime(Backend::IoUring),
        Contender::TokioCurrentThread,
        Contender::TokioMultiThread1,
        Contender::MonoioIoUring,
        Contender::MonoioLegacy,
    ];

    /// The contenders `settings` asks for (`BENCH_CONTENDERS`), in table order.
    pub fn selected(settings: &crate::common::Settings) -> Vec<Contender> {
        Contender::ALL
            .into_iter()
            .filter(|c| settings.includes(c.label()))
            .collect()
    }

    /// The name in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Contender::Runtime(Backend::IoUring) => "runtime (io_uring)",
            Contender::Runtime(_) => "runtime (epoll)",
            Contender::TokioCurrentThread => "tokio current_thread",
            Contender::TokioMultiThread1 => "tokio multi_thread(1)",
            Contender::MonoioIoUring => "monoio (io_uring)",
            Contender::MonoioLegacy => "monoio (legacy/epoll)",
        }
    }

    /// Whether ratios are taken against this one.
    pub fn is_baseline(self) -> bool {
        self == Contender::TokioCurrentThread
    }
}
