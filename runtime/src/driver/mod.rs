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
//! plain `match` that forwards to it. Around the backend, [`Driver`] keeps the driver's identity
//! and checks it on everything that crosses runtimes ([`identity`]).

#[cfg(not(any(feature = "epoll", feature = "io-uring")))]
compile_error!("enable at least one backend: the `epoll` or the `io-uring` cargo feature");

#[cfg(feature = "io-uring")]
mod completion;
mod eventfd;
mod fd;
pub(crate) mod file_op;
mod identity;
pub(crate) mod op;
pub(crate) mod ops;
#[cfg(feature = "epoll")]
mod readiness;
mod slab;
pub(crate) mod sockaddr;
pub(crate) mod syscall;

use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

pub(crate) use eventfd::Unparker;
pub(crate) use fd::SharedFd;
pub(crate) use identity::{DriverId, Mailbox};
pub(crate) use op::Op;
use op::{Operation, Stage};

use crate::builder::{Backend, Builder};

/// The environment variable `Backend::Auto` reads.
pub(crate) const BACKEND_ENV: &str = "RUNTIME_BACKEND";

/// One worker's driver: its identity, its mailbox, and the engine that does the work.
pub(crate) struct Driver {
    id: DriverId,
    /// Where what was dropped away from this driver is posted (listed in this thread's context).
    mailbox: Rc<Mailbox>,
    engine: Engine,
}

/// The backend proper.
enum Engine {
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
        let (engine, fallback_reason) = match requested {
            Backend::Epoll => (Self::epoll(builder)?, None),
            Backend::IoUring => (Self::io_uring(builder)?, None),
            Backend::Auto => match Self::io_uring(builder) {
                Ok(engine) => (engine, None),
                Err(why) => match Self::epoll(builder) {
                    Ok(engine) => (engine, Some(why.to_string())),
                    // No fallback compiled in (or it failed too): say why io_uring was refused.
                    Err(also) => {
                        return Err(io::Error::new(why.kind(), format!("{why}; and {also}")))
                    }
                },
            },
        };
        let (id, mailbox) = (DriverId::next(), Rc::new(Mailbox::default()));
        crate::context::register_mailbox(id, mailbox.clone());
        Ok((
            Driver {
                id,
                mailbox,
                engine,
            },
            fallback_reason,
        ))
    }

    #[cfg(feature = "epoll")]
    fn epoll(builder: &Builder) -> io::Result<Engine> {
        readiness::Driver::new(builder).map(Engine::Epoll)
    }

    #[cfg(not(feature = "epoll"))]
    fn epoll(_: &Builder) -> io::Result<Engine> {
        Err(not_compiled("epoll", "epoll"))
    }

    #[cfg(feature = "io-uring")]
    fn io_uring(builder: &Builder) -> io::Result<Engine> {
        completion::Driver::new(builder).map(|d| Engine::IoUring(Box::new(d)))
    }

    #[cfg(not(feature = "io-uring"))]
    fn io_uring(_: &Builder) -> io::Result<Engine> {
        Err(not_compiled("io_uring", "io-uring"))
    }

    /// This driver's identity.
    pub(crate) fn id(&self) -> DriverId {
        self.id
    }

    pub(crate) fn backend(&self) -> Backend {
        match &self.engine {
            #[cfg(feature = "epoll")]
            Engine::Epoll(_) => Backend::Epoll,
            #[cfg(feature = "io-uring")]
            Engine::IoUring(_) => Backend::IoUring,
        }
    }

    /// Whether file operations are completed by the kernel (io_uring with every file opcode), or
    /// must run on the blocking pool (epoll; an io_uring too old for some file opcode).
    pub(crate) fn completes_files(&self) -> bool {
        match &self.engine {
            #[cfg(feature = "epoll")]
            Engine::Epoll(_) => false,
            #[cfg(feature = "io-uring")]
            Engine::IoUring(d) => d.completes_files(),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        match &self.engine {
            #[cfg(feature = "epoll")]
            Engine::Epoll(d) => d.unparker(),
            #[cfg(feature = "io-uring")]
            Engine::IoUring(d) => d.unparker(),
        }
    }

    /// Waits for IO at most `timeout` (`None`: until something happens) and wakes the tasks
    /// concerned. `Some(ZERO)` only collects what is already there.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.collect_mail();
        crate::trace::park_begin(timeout);
        let result = match &mut self.engine {
            #[cfg(feature = "epoll")]
            Engine::Epoll(d) => d.park(timeout),
            #[cfg(feature = "io-uring")]
            Engine::IoUring(d) => d.park(timeout),
        };
        crate::trace::park_end();
        result
    }

    /// Advances `op` as far as it can go now.
    ///
    /// # Panics
    /// When `op` is in flight in another driver (see [`identity`]).
    #[inline(always)]
    pub(crate) fn poll_op<T: Operation>(
        &mut self,
        op: &mut T,
        stage: &mut Stage,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        if let Stage::InFlight { owner, .. } = *stage {
            if owner != self.id {
                identity::foreign_op_panic(owner, self.id);
            }
        } else if let Some(fd) = op.socket() {
            if let Err(e) = fd.claim(self.id) {
                return Poll::Ready(Err(e));
            }
        }
        let submitting = crate::trace::op_polling(stage);
        let result = match &mut self.engine {
            #[cfg(feature = "epoll")]
            Engine::Epoll(d) => d.poll_op(op, stage, cx),
            #[cfg(feature = "io-uring")]
            Engine::IoUring(d) => d.poll_op(self.id, op, stage, cx),
        };
        crate::trace::op_polled(op, submitting, stage, &result);
        result
    }

    /// Handles what was posted to this driver while it was not the one entered: called whenever
    /// its runtime is entered, before any of its tasks runs, so that a cancelled read posted here
    /// is known before a newer read on the same socket is submitted.
    pub(crate) fn collect_mail(&mut self) {
        if self.mailbox.is_empty() {
            return;
        }
        match &mut self.engine {
            #[cfg(feature = "epoll")]
            Engine::Epoll(d) => {
                let tokens = std::mem::take(&mut *self.mailbox.closed_tokens.borrow_mut());
                tokens.into_iter().for_each(|token| d.deregister(token));
            }
            #[cfg(feature = "io-uring")]
            Engine::IoUring(d) => {
                let orphans = std::mem::take(&mut *self.mailbox.orphans.borrow_mut());
                orphans.into_iter().for_each(|(key, op)| d.orphan(key, op));
            }
        }
    }

    /// Forgets a descriptor's readiness registration (it is being closed).
    #[cfg(feature = "epoll")]
    pub(crate) fn deregister(&mut self, token: u64) {
        #[allow(irrefutable_let_patterns)] // without the io-uring feature there is one variant
        if let Engine::Epoll(d) = &mut self.engine {
            d.deregister(token);
        }
    }

    /// A registered socket is handed over to code outside the runtime (its descriptor stays open
    /// there): take it out of the epoll set.
    #[cfg(feature = "epoll")]
    pub(crate) fn detach(&mut self, fd: std::os::fd::RawFd, token: u64) {
        #[allow(irrefutable_let_patterns)] // without the io-uring feature there is one variant
        if let Engine::Epoll(d) = &mut self.engine {
            d.detach(fd, token);
        }
    }

    /// Hands an orphaned operation to the engine (io_uring: it is in flight there).
    #[cfg(feature = "io-uring")]
    fn adopt(&mut self, key: u64, op: Box<dyn completion::Orphan>) {
        #[allow(irrefutable_let_patterns)] // without the epoll feature there is one variant
        if let Engine::IoUring(d) = &mut self.engine {
            d.orphan(key, op);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // What was posted last must still be handled (an orphan is waited for below, in the
        // engine's own drop, like every other request in flight).
        self.collect_mail();
        crate::context::unregister_mailbox(self.id);
    }
}

/// An operation's future was dropped while the kernel still works on it: hand the operation to
/// the driver that submitted it, which keeps it (and its buffer) alive until the completion
/// arrives. That is the entered driver, or else another driver alive on this thread (through its
/// mailbox); with neither, the operation is leaked, never freed under the kernel.
fn orphan<T: Operation>(owner: DriverId, key: u64, op: T) {
    #[cfg(feature = "io-uring")]
    {
        let mut op = Some(Box::new(op));
        let _ = crate::context::try_with_driver(|driver| {
            if driver.id == owner {
                driver.adopt(key, op.take().expect("present"));
            }
        });
        let Some(op) = op else { return };
        match crate::context::mailbox(owner) {
            Some(mailbox) => mailbox.orphans.borrow_mut().push((key, op)),
            // The owner is gone, or lives on another thread: the kernel may still write into
            // the buffer, so leaking it is the only safe choice.
            None => std::mem::forget(op),
        }
    }
    #[cfg(not(feature = "io-uring"))]
    {
        // Only the completion driver puts operations in flight.
        let _ = (owner, key, op);
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
