//! The HTTP servers compared by the HTTP benchmark.

use runtime::Backend;

use crate::common::Settings;

/// How the hand-written responder moves its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// The runtime's native owned-buffer `read` / `write_all`.
    Owned,
    /// The poll-based `poll_read` / `poll_write` that hyper goes through.
    Poll,
}

/// One HTTP server under test. Each one runs on a single thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// hyper (the shared `examples/common/http_service.rs` routes) on this runtime.
    Hyper(Backend),
    /// The same routes and hyper on tokio's `current_thread` runtime through hyper-util's
    /// `TokioIo`: the baseline of every ratio.
    TokioHyper,
    /// The hand-written responder (`responder.rs`, no hyper) on this runtime.
    Responder(Backend, Io),
}

impl Contender {
    /// Every contender, in table order.
    pub const ALL: [Contender; 7] = [
        Contender::Hyper(Backend::Epoll),
        Contender::Hyper(Backend::IoUring),
        Contender::TokioHyper,
        Contender::Responder(Backend::Epoll, Io::Owned),
        Contender::Responder(Backend::IoUring, Io::Owned),
        Contender::Responder(Backend::Epoll, Io::Poll),
        Contender::Responder(Backend::IoUring, Io::Poll),
    ];

    /// The contenders `settings` asks for (`BENCH_CONTENDERS`), in table order.
    pub fn selected(settings: &Settings) -> Vec<Contender> {
        Contender::ALL
            .into_iter()
            .filter(|c| settings.includes(c.label()))
            .collect()
    }

    /// The name in the tables.
    pub fn label(self) -> &'static str {
        use {Backend::IoUring, Io::*};
        match self {
            Contender::Hyper(IoUring) => "runtime+hyper (io_uring)",
            Contender::Hyper(_) => "runtime+hyper (epoll)",
            Contender::TokioHyper => "tokio ct+hyper",
            Contender::Responder(IoUring, Owned) => "responder owned (io_uring)",
            Contender::Responder(_, Owned) => "responder owned (epoll)",
            Contender::Responder(IoUring, Poll) => "responder poll (io_uring)",
            Contender::Responder(_, Poll) => "responder poll (epoll)",
        }
    }

    /// Whether ratios are taken against this one.
    pub fn is_baseline(self) -> bool {
        self == Contender::TokioHyper
    }
}
