//! The runtimes compared by the executor and echo benchmarks, and the hand-written IO loops the
//! echo benchmark sets beside them.

use runtime::Backend;

/// One configuration under test. Every one runs its work on a single thread.
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
    /// No runtime: a hand-written epoll loop (echo only).
    RawEpoll,
    /// No runtime: a hand-written io_uring completion loop (echo only).
    RawUring,
}

impl Contender {
    /// The runtimes, in table order: what every bench compares.
    pub const RUNTIMES: [Contender; 6] = [
        Contender::Runtime(Backend::Epoll),
        Contender::Runtime(Backend::IoUring),
        Contender::TokioCurrentThread,
        Contender::TokioMultiThread1,
        Contender::MonoioIoUring,
        Contender::MonoioLegacy,
    ];

    /// No runtime at all: the hand-written loops that set the floor of the echo benchmark.
    pub const FLOOR: [Contender; 2] = [Contender::RawEpoll, Contender::RawUring];

    /// The contenders of `list` that `settings` asks for (`BENCH_CONTENDERS`), in list order.
    pub fn selected(list: &[Contender], settings: &crate::common::Settings) -> Vec<Contender> {
        list.iter()
            .copied()
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
            Contender::RawEpoll => "hand-written epoll loop",
            Contender::RawUring => "hand-written io_uring loop",
        }
    }

    /// Whether ratios are taken against this one.
    pub fn is_baseline(self) -> bool {
        self == Contender::TokioCurrentThread
    }
}
