//! Thin, safe wrappers over the few Linux calls the load generator makes.
//!
//! Each wrapper turns a `-1` return into an [`io::Error`] and keeps the `unsafe` in one
//! place, so the event loop itself contains no `unsafe` code.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Converts a libc return value (`-1` means "see errno") into a `Result`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Same as [`check`] for calls returning a byte count.
fn check_size(ret: libc::ssize_t) -> io::Result<usize> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// An epoll instance; closed when dropped.
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    /// Creates a new epoll instance (close-on-exec).
    pub fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 takes no pointers; EPOLL_CLOEXEC is a valid flag.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd })
    }

    /// Watches `fd` for `events`; `token` comes back in [`libc::epoll_event::u64`].
    pub fn add(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: both descriptors are open and `event` is a valid, initialised struct
        // that the kernel only reads during the call.
        check(unsafe {
            libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event)
        })?;
        Ok(())
    }

    /// Waits up to `timeout` for events and stores them at the front of `events`;
    /// returns how many were stored. An interrupted wait returns `Ok(0)`.
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout: Duration) -> io::Result<usize> {
        // Round up so a wait for 0.3 ms does not become a busy `timeout = 0` poll.
        let millis = timeout.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        let max = events.len().min(i32::MAX as usize) as i32;
        // SAFETY: `events` is valid writable memory for `max` entries, and the kernel
        // writes at most `max` of them.
        let ret =
            unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, millis) };
        match check(ret) {
            Ok(n) => Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// An all-zero event array entry, for sizing the buffer handed to [`Epoll::wait`].
pub fn empty_event() -> libc::epoll_event {
    libc::epoll_event { events: 0, u64: 0 }
}

/// One `read(2)` into `buf`.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid writable memory of `buf.len()` bytes for the whole call.
    check_size(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

/// One `send(2)` of `buf`. `MSG_NOSIGNAL` turns "peer has gone" into an `EPIPE` error
/// instead of a `SIGPIPE` that would kill the whole process.
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid readable memory of `buf.len()` bytes for the whole call.
    check_size(unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) })
}

/// Makes sure this process may open at least `wanted` descriptors, raising the soft
/// `RLIMIT_NOFILE` limit up to the hard limit if needed. Failing to raise it is not an
/// error here: connecting will report `EMFILE` clearly enough.
pub fn ensure_fd_limit(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit struct for the kernel to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    if limit.rlim_cur >= wanted as libc::rlim_t || limit.rlim_cur == limit.rlim_max {
        return;
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: `limit` is a valid, initialised rlimit; raising the soft limit up to the
    // hard one is always permitted.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
}

/// CPU time spent by the calling thread so far: `(user, system)`.
pub fn thread_cpu_time() -> io::Result<(Duration, Duration)> {
    // SAFETY: an all-zero `rusage` is a valid value (it only holds integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage struct for the kernel to fill in.
    check(unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) })?;
    let to_duration = |tv: libc::timeval| {
        Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
    };
    Ok((to_duration(usage.ru_utime), to_duration(usage.ru_stime)))
}
