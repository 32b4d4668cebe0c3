//! Stopping a server on SIGINT / SIGTERM without doing unsafe work in a signal handler.
//!
//! A signal handler may interrupt the program anywhere, even inside `malloc` or while
//! stderr is locked, so it may only do "async-signal-safe" things. Printing the statistics
//! is not one of them. Two safe ways are used by the servers:
//!
//! * Block the signals and receive them as data instead, through a *signalfd* (or
//!   `sigwait`): the signal then becomes one more thing the event loop waits for.
//! * Let a tiny handler only store `true` into an atomic flag that the loop checks
//!   (used by the busy-polling server, which never blocks anyway).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::stats::{self, Sys};

/// The signals that ask a server to stop.
pub const SHUTDOWN: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

/// Builds a signal set from a list of signal numbers.
pub fn set_of(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: `sigset_t` is plain data; `sigemptyset` initialises it right below.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable `sigset_t`, and every number comes from libc's
    // list of signals, so neither call can fail.
    unsafe {
        libc::sigemptyset(&mut set);
        for &signal in signals {
            libc::sigaddset(&mut set, signal);
        }
    }
    set
}

/// Blocks `signals` in the calling thread, so they stay pending until someone takes them
/// (with a signalfd, `sigwait` or `sigwaitinfo`) instead of running a handler.
///
/// Call it before starting any thread: new threads inherit the blocked set. Otherwise the
/// kernel could deliver the signal to a thread that has not blocked it, and kill the process.
pub fn block(signals: &[libc::c_int]) -> io::Result<libc::sigset_t> {
    let set = set_of(signals);
    stats::count(Sys::Other);
    // SAFETY: `set` is initialised; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(set)
}

/// Blocks SIGINT and SIGTERM and returns a non-blocking signalfd that becomes readable when
/// one of them arrives. Event loops watch it like any socket.
pub fn shutdown_fd() -> io::Result<OwnedFd> {
    let set = block(&SHUTDOWN)?;
    signal_fd(&set, libc::SFD_NONBLOCK)
}

/// Creates a signalfd for the (already blocked) signals in `set`.
pub fn signal_fd(set: &libc::sigset_t, flags: libc::c_int) -> io::Result<OwnedFd> {
    stats::count(Sys::Other);
    // SAFETY: `set` is an initialised signal set; -1 asks for a new descriptor.
    let fd = unsafe { libc::signalfd(-1, set, flags | libc::SFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this descriptor; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Waits (blocking the calling thread) until one of the signals in `set` arrives, and
/// returns its number. The signals must already be blocked.
pub fn wait(set: &libc::sigset_t) -> libc::c_int {
    let mut signal = 0;
    stats::count(Sys::Other);
    // SAFETY: `set` is initialised and `signal` is a valid place for the result.
    unsafe { libc::sigwait(set, &mut signal) };
    signal
}

static STOP: AtomicBool = AtomicBool::new(false);

/// The whole signal handler: one atomic store, which is async-signal-safe.
extern "C" fn on_shutdown_signal(_signal: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Installs a handler for SIGINT and SIGTERM that only sets a flag, and returns the flag.
pub fn stop_flag() -> io::Result<&'static AtomicBool> {
    for signal in SHUTDOWN {
        // SAFETY: `sigaction` is plain data; zero means "no flags, empty mask".
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_shutdown_signal as extern "C" fn(libc::c_int) as usize;
        stats::count(Sys::Other);
        // SAFETY: `action` is initialised and its handler only does an atomic store.
        if unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(&STOP)
}
