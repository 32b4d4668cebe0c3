//! Unix signals as events a task can await: `ctrl_c().await`, or [`signal`] and then
//! [`Signal::recv`] in a loop. The same on both backends.
//!
//! ```no_run
//! use runtime::signal::{signal, SignalKind};
//!
//! #[runtime::main]
//! async fn main() -> std::io::Result<()> {
//!     let mut hangups = signal(SignalKind::hangup())?;
//!     runtime::spawn(async move {
//!         while hangups.recv().await.is_some() {
//!             println!("SIGHUP: reloading");
//!         }
//!     });
//!     runtime::signal::ctrl_c().await?;
//!     println!("Ctrl-C: bye");
//!     Ok(())
//! }
//! ```
//!
//! # How it works
//! A signal normally interrupts whatever the thread is doing to run a handler, or ends the
//! process. Here it becomes data instead. The signal is *blocked* on the runtime's thread, so it
//! stays pending rather than being acted on, and a `signalfd` — a descriptor that is readable
//! while a signal of its set is pending, and whose `read` takes the signal — is read like any
//! other descriptor: through the readiness face under epoll, through a `POLL_ADD` in the ring
//! under io_uring (`driver/ops/read_ready.rs`). One listener task per runtime, spawned by the
//! first [`signal`] call, reads the `signalfd` and tells every [`Signal`] of the signal's kind
//! ([`registry`]). Several tasks may therefore wait for the same signal: each is woken.
//! Deliveries that arrive before a waiter looks again are merged into one, as the kernel itself
//! merges pending standard signals.
//!
//! # The process signal mask
//! [`signal`] blocks its signal on the calling thread — the runtime's — for the rest of the
//! process's life: its old behaviour (Ctrl-C ending the process, say) is gone, as with tokio,
//! which installs a handler for good. Threads inherit the mask of the thread that starts them, so
//! threads this thread starts later block it too, and the runtime's own threads — its
//! blocking-pool threads and its workers other than worker 0 — block every asynchronous signal
//! from birth. A *process-directed* signal (from `kill`, or Ctrl-C in a
//! terminal) goes to any thread that does not block it: a thread started *before* the first call
//! (by a library, say) may take it, and there its default action runs — for `SIGINT` and
//! `SIGTERM`, the end of the whole process. So subscribe early in `main`, before starting other
//! threads, or block the signals in those threads too.

mod registry;

use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use registry::Deliveries;
pub(crate) use registry::Registry;

/// Blocks every asynchronous signal on the calling thread — a blocking-pool thread, or a worker
/// thread other than worker 0 — so that a process-directed signal (Ctrl-C) is never delivered
/// where nothing may wait for it and its default action would end the process. Such a thread can
/// still read signals through a `signalfd` (which needs them blocked). The synchronous fault signals stay unblocked: a fault must be handled
/// by the thread that caused it.
pub(crate) fn block_async_signals() {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises the whole set; sigdelset and pthread_sigmask read the
    // initialised set; the old mask is not asked for (null).
    unsafe {
        libc::sigfillset(set.as_mut_ptr());
        for fault in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
        ] {
            libc::sigdelset(set.as_mut_ptr(), fault);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
    }
}

/// Which signal to listen for. The names are tokio's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal by number, e.g. `SignalKind::from_raw(libc::SIGWINCH)`.
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> i32 {
        self.0
    }

    /// `SIGINT`: Ctrl-C in a terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite request to stop (`kill`, service managers).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; by convention also "reload your configuration".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: Ctrl-\ in a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`: for the application's own use.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: for the application's own use.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or ended.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGALRM`: a timer set with `alarm` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGPIPE`: a write to a pipe nobody reads (the runtime's sockets never raise it).
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGWINCH`: the terminal changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

/// Receives every delivery of one signal kind from the moment it was created (see the
/// [module docs](self)).
#[derive(Debug)]
pub struct Signal {
    deliveries: Rc<Deliveries>,
    /// Deliveries seen so far by this receiver.
    seen: u64,
}

/// Starts listening for `kind` on the current runtime.
///
/// Blocks the signal on this thread for good (see [the process signal mask](self#the-process-signal-mask)).
///
/// # Errors
/// `InvalidInput` for a signal that cannot be waited for (`SIGKILL`, `SIGSTOP`, the synchronous
/// fault signals `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`, or a number that is no signal); the
/// error of `signalfd` if the kernel refuses one.
///
/// # Panics
/// Outside a runtime.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let deliveries = crate::context::with_signals(|registry| registry.subscribe(kind.0))?;
    Ok(Signal {
        seen: deliveries.count(),
        deliveries,
    })
}

impl Signal {
    /// Waits for the next delivery. Deliveries that arrived since the last call count as one.
    /// Always `Some(())`: the stream ends only with the runtime (kept `Option` for tokio's
    /// signature).
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The polling form of [`recv`](Self::recv), for hand-written futures.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let now = self.deliveries.count();
        if now > self.seen {
            self.seen = now;
            return Poll::Ready(Some(()));
        }
        self.deliveries.wait(cx.waker());
        Poll::Pending
    }
}

/// Waits for Ctrl-C (`SIGINT`). From its first poll on, Ctrl-C no longer ends the process.
///
/// ```no_run
/// # runtime::Runtime::new().unwrap().block_on(async {
/// runtime::signal::ctrl_c().await.expect("signalfd");
/// println!("shutting down");
/// # });
/// ```
///
/// # Errors
/// The error of `signalfd` if the kernel refuses one.
pub async fn ctrl_c() -> io::Result<()> {
    signal(SignalKind::interrupt())?.recv().await;
    Ok(())
}
