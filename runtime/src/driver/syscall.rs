//! The [`syscall!`] macro: make one counted syscall and turn `-1` into `io::Error::last_os_error()`.

/// Evaluates a libc call (the caller writes the `unsafe` block and its `SAFETY` comment), bumps the
/// named counter of [`Stats`](crate::Stats), and maps the C convention (`-1` + `errno`) to
/// `io::Result`.
///
/// ```ignore
/// // SAFETY: `buf` is valid for writes of `len` bytes for the duration of the call.
/// let n = syscall!(read, unsafe { libc::recv(fd, buf, len, 0) })?;
/// ```
macro_rules! syscall {
    ($counter:ident, $call:expr) => {{
        $crate::context::count(|c| c.$counter.inc());
        let res = $call;
        if res == -1 {
            Err(::std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

pub(crate) use syscall;

/// The socket calls of the hot path, made as raw syscalls.
///
/// libc's `recv`, `send` and `sendmsg` are *cancellation points*: around each syscall glibc checks
/// and flips the thread's `pthread_cancel` state, which profiles showed as a visible share of an
/// echo server's user time. The runtime never cancels threads and its sockets never block, so it
/// enters the kernel directly through `syscall(2)`; the results and `errno` are the same.
pub(crate) mod raw {
    use libc::{c_int, c_long, c_void, msghdr, size_t, ssize_t};

    /// `recv(fd, buf, len, flags)`.
    ///
    /// # Safety
    /// As `recv(2)`: `buf` must be valid for writes of `len` bytes.
    pub(crate) unsafe fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t {
        // SAFETY: recvfrom with null address arguments is recv; the caller vouches for `buf`.
        unsafe {
            libc::syscall(
                libc::SYS_recvfrom,
                fd as c_long,
                buf,
                len,
                flags as c_long,
                std::ptr::null_mut::<c_void>(),
                std::ptr::null_mut::<c_void>(),
            ) as ssize_t
        }
    }

    /// `send(fd, buf, len, flags)`.
    ///
    /// # Safety
    /// As `send(2)`: `buf` must be valid for reads of `len` bytes.
    pub(crate) unsafe fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
        // SAFETY: sendto with a null address is send; the caller vouches for `buf`.
        unsafe {
            libc::syscall(
                libc::SYS_sendto,
                fd as c_long,
                buf,
                len,
                flags as c_long,
                std::ptr::null::<c_void>(),
                0 as c_long,
            ) as ssize_t
        }
    }

    /// `sendmsg(fd, msg, flags)`.
    ///
    /// # Safety
    /// As `sendmsg(2)`: `msg` and everything it points to must be valid for reads.
    pub(crate) unsafe fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
        // SAFETY: the caller vouches for `msg`.
        unsafe { libc::syscall(libc::SYS_sendmsg, fd as c_long, msg, flags as c_long) as ssize_t }
    }
}
