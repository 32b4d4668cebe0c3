//! The kernel boundary. Nothing outside this module names epoll or io_uring.
//!
//! A driver does three things for the run loop and the IO types:
//! 1. **park** — wait (at most a timeout) until IO progressed or another thread unparked it, and
//!    wake the tasks concerned;
//! 2. **drive an [`Operation`]** — by readiness ([`readiness`]: wait, then make the syscall) or by
//!    completion ([`completion`]: submit, then reap the result);
//! 3. **own what the kernel still uses** — an operation whose future was dropped early stays in the
//!    completion driver until its completion arrives.
//!
//! The backend is chosen once, when the runtime is built ([`Driver::new`]); each method below is a
//! plain `match` that forwards to it.

#[cfg(not(any(feature = "epoll", feature = "io-uring")))]
compile_error!("enable at least one backend: the `epoll` or the `io-uring` cargo feature");

#[cfg(feature = "io-uring")]
mod completion;
mod eventfd;
mod fd;
pub(crate) mod file_op;
pub(crate) mod op;
pub(crate) mod ops;
#[cfg(feature = "epoll")]
mod readiness;
mod slab;
pub(crate) mod sockaddr;
pub(crate) mod syscall;

use std::io;
use std::task::{Context, Poll};
use std::time::Duration;

pub(crate) use eventfd::Unparker;
pub(crate) use fd::SharedFd;
pub(crate) use op::Op;
use op::{Operation, Stage};

use crate::builder::{Backend, Builder};

/// The environment variable `Backend::Auto` reads.
pub(crate) const BACKEND_ENV: &str = "RUNTIME_BACKEND";

pub(crate) enum Driver {
    #[cfg(feature = "epoll")]
    Epoll(readiness::Driver),
    /// Boxed: the ring's state is much larger than the epoll driver's.
    #[cfg(feature = "io-uring")]
    IoUring(Box<completion::Driver>),
}

impl Driver {
    /// Creates the driver the builder asks for. `Auto` takes `RUNTIME_BACKEND` if set, else tries
    /// io_uring and falls back to epoll (the runtime's `backend()` tells which one won).
    ///
    /// Also returns, when `Auto` fell back to epoll, why io_uring was not used (the runtime's
    /// `fallback_reason()`).
    pub(crate) fn new(builder: &Builder) -> io::Result<(Driver, Option<String>)> {
        let requested = match builder.backend {
            Backend::Auto => match std::env::var(BACKEND_ENV) {
                Ok(name) if !name.is_empty() => name
                    .parse::<Backend>()
                    .map_err(|e| io::Error::new(e.kind(), format!("{BACKEND_ENV}: {e}")))?,
                _ => Backend::Auto,
            },
            explicit => explicit,
        };
        match requested {
            Backend::Epoll => Ok((Self::epoll(builder)?, None)),
            Backend::IoUring => Ok((Self::io_uring(builder)?, None)),
            Backend::Auto => match Self::io_uring(builder) {
                Ok(driver) => Ok((driver, None)),
                Err(why) => match Self::epoll(builder) {
                    Ok(driver) => Ok((driver, Some(why.to_string()))),
                    // No fallback compiled in (or it failed too): say why io_uring was refused.
                    Err(also) => Err(io::Error::new(why.kind(), format!("{why}; and {also}"))),
                },
            },
        }
    }

    #[cfg(feature = "epoll")]
    fn epoll(builder: &Builder) -> io::Result<Driver> {
        readiness::Driver::new(builder).map(Driver::Epoll)
    }

    #[cfg(not(feature = "epoll"))]
    fn epoll(_: &Builder) -> io::Result<Driver> {
        Err(not_compiled("epoll", "epoll"))
    }

    #[cfg(feature = "io-uring")]
    fn io_uring(builder: &Builder) -> io::Result<Driver> {
        completion::Driver::new(builder).map(|d| Driver::IoUring(Box::new(d)))
    }

    #[cfg(not(feature = "io-uring"))]
    fn io_uring(_: &Builder) -> io::Result<Driver> {
        Err(not_compiled("io_uring", "io-uring"))
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "epoll")]
            Driver::Epoll(_) => Backend::Epoll,
            #[cfg(feature = "io-uring")]
            Driver::IoUring(_) => Backend::IoUring,
        }
    }

    /// Whether file operations are completed by the kernel (io_uring with every file opcode), or
    /// must run on the blocking pool (epoll; an io_uring too old for some file opcode).
    pub(crate) fn completes_files(&self) -> bool {
        match self {
            #[cfg(feature = "epoll")]
            Driver::Epoll(_) => false,
            #[cfg(feature = "io-uring")]
            Driver::IoUring(d) => d.completes_files(),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        match self {
            #[cfg(feature = "epoll")]
            Driver::Epoll(d) => d.unparker(),
            #[cfg(feature = "io-uring")]
            Driver::IoUring(d) => d.unparker(),
        }
    }

    /// Waits for IO at most `timeout` (`None`: until something happens) and wakes the tasks
    /// concerned. `Some(ZERO)` only collects what is already there.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            #[cfg(feature = "epoll")]
            Driver::Epoll(d) => d.park(timeout),
            #[cfg(feature = "io-uring")]
            Driver::IoUring(d) => d.park(timeout),
        }
    }

    /// Advances `op` as far as it can go now.
    pub(crate) fn poll_op<T: Operation>(
        &mut self,
        op: &mut T,
        stage: &mut Stage,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match self {
            #[cfg(feature = "epoll")]
            Driver::Epoll(d) => d.poll_op(op, stage, cx),
            #[cfg(feature = "io-uring")]
            Driver::IoUring(d) => d.poll_op(op, stage, cx),
        }
    }

    /// Forgets a descriptor's readiness registration (it is being closed).
    pub(crate) fn deregister(&mut self, token: u64) {
        match self {
            #[cfg(feature = "epoll")]
            Driver::Epoll(d) => d.deregister(token),
            #[cfg(feature = "io-uring")]
            Driver::IoUring(_) => {
                let _ = token;
            }
        }
    }
}

/// An operation's future was dropped while the kernel still works on it: hand the operation to
/// the completion driver, which keeps it (and its buffer) alive until the completion arrives.
fn orphan<T: Operation>(key: u64, op: T) {
    #[cfg(feature = "io-uring")]
    {
        let mut op = Some(op);
        let handed = crate::context::try_with_driver(|driver| {
            #[allow(irrefutable_let_patterns)] // without the epoll feature there is one variant
            if let Driver::IoUring(d) = driver {
                d.orphan(key, Box::new(op.take().expect("present")));
            }
        });
        if handed.is_none() {
            // No runtime here (the future outlived it, or was dropped on the wrong thread): the
            // kernel may still write into the buffer, so leaking it is the only safe choice.
            std::mem::forget(op);
        }
    }
    #[cfg(not(feature = "io-uring"))]
    {
        // Only the completion driver puts operations in flight.
        let _ = (key, op);
        unreachable!("an operation can only be in flight under io_uring");
    }
}

#[allow(dead_code)]
fn not_compiled(backend: &str, feature: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("the {backend} backend is not compiled in (enable the `{feature}` cargo feature)"),
    )
}
