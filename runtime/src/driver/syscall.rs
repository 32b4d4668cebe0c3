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
