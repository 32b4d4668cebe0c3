//! File-system operations: the same two-faced [`Operation`](crate::driver::op::Operation)s as the
//! socket ones, with one face missing.
//!
//! - **Completion face** (io_uring): an SQE like any other (`openat`, `read`, `write`, `fsync`,
//!   `statx`, `close`, `unlinkat`, `renameat`, `mkdirat`); the kernel does the whole job, waiting
//!   for the disk included, while the worker thread runs other tasks.
//! - **No readiness face**: a regular file is always "ready" — epoll refuses to even register one —
//!   yet a read may still wait milliseconds for the disk. There is nothing to wait *for*, so under
//!   epoll [`file_op::run`](crate::driver::file_op::run) calls [`attempt`] — here a plain
//!   *blocking* syscall — on the blocking pool, then [`complete`] there too. `interest` is never
//!   asked for (see [`no_readiness`]).
//!
//! Because they may run on a pool thread, these ops are `Send`: the file is an `Arc<OwnedFd>` (not
//! the `Rc`-based `SharedFd` of sockets), paths are owned `CString`s, buffers must be `Send`. As
//! for sockets, every op holds its own reference to the descriptor, so the file stays open while
//! the kernel (or a pool thread) still uses it. Paths are resolved relative to the current
//! directory (`AT_FDCWD`), as `std::fs` does.
//!
//! **The same answer from both faces.** io_uring's read and write do not make every check that
//! `pread` and `pwrite` make: given an offset, they ignore it on a file that has no position (a
//! pipe) and do not ask whether the file accepts positioned writes (`/proc` seq files refuse them).
//! [`Offset`] and [`has_position`] settle each case one way for both faces.
//!
//! [`attempt`]: crate::driver::op::Operation::attempt
//! [`complete`]: crate::driver::op::Operation::complete

mod close;
mod fsync;
mod mkdir;
mod open;
mod read;
mod rename;
mod statx;
mod unlink;
mod write;

use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::Arc;

use crate::driver::syscall::syscall;

pub(crate) use close::Close;
pub(crate) use fsync::Fsync;
pub(crate) use mkdir::MkDirAt;
pub(crate) use open::OpenAt;
pub(crate) use read::ReadAt;
pub(crate) use rename::RenameAt;
pub(crate) use statx::Statx;
pub(crate) use unlink::UnlinkAt;
pub(crate) use write::WriteAt;

/// An open file, shared by its `File` and by the operations in flight on it. `Arc`, not `Rc`: a
/// clone travels to the blocking pool with each operation under epoll.
pub(crate) type FileFd = Arc<OwnedFd>;

/// Where in the file a read or write happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offset {
    /// At this offset (at most `i64::MAX`), leaving the file's position alone: `pread`/`pwrite`.
    At(u64),
    /// At the file's position, which moves past the bytes: `read`/`write`. What the whole-file
    /// helpers use, as `std::fs::read`/`write` do, so that they also work on files that refuse
    /// offsets (`/proc` files that cannot `pwrite`, pipes).
    Current,
}

impl Offset {
    /// The SQE's offset field: io_uring reads `-1` as "the file's position".
    #[cfg(feature = "io-uring")]
    fn sqe_offset(self) -> u64 {
        match self {
            Offset::At(pos) => pos,
            Offset::Current => u64::MAX,
        }
    }

    /// Readiness face of a read or write: `positioned` (`pread`/`pwrite` at the offset) for `At`,
    /// `sequential` (`read`/`write`) for `Current`.
    ///
    /// A file may have a position yet refuse positioned IO: a seq file of `/proc` (`status`,
    /// `comm`, ...) answers `pwrite` with `ESPIPE`. io_uring does not ask, and performs the file's
    /// own write at the offset. So that both backends behave the same, such a file is seeked to
    /// the offset and `sequential` runs there. A file with no position at all (a pipe) fails that
    /// seek with `ESPIPE` too, which is the answer.
    fn attempt(
        self,
        fd: RawFd,
        positioned: impl FnOnce(libc::off_t) -> io::Result<usize>,
        sequential: impl FnOnce() -> io::Result<usize>,
    ) -> io::Result<usize> {
        let pos = match self {
            Offset::Current => return sequential(),
            // The caller checked that it fits.
            Offset::At(pos) => pos as libc::off_t,
        };
        match positioned(pos) {
            Err(e) if e.raw_os_error() == Some(libc::ESPIPE) => {
                // SAFETY: no pointers.
                syscall!(other_syscalls, unsafe {
                    libc::lseek(fd, pos, libc::SEEK_SET)
                })?;
                sequential()
            }
            other => other,
        }
    }
}

/// Whether `fd` has a position — pipes, FIFOs, sockets and terminals have none — so that reads and
/// writes at an offset mean something. io_uring would ignore the offset on a file without one
/// where `pread`/`pwrite` fail with `ESPIPE`, so callers ask this first (once per file) and
/// answer `ESPIPE` themselves.
pub(crate) fn has_position(fd: RawFd) -> bool {
    // SAFETY: no pointers; moving by 0 from the current position changes nothing.
    let at = syscall!(other_syscalls, unsafe {
        libc::lseek(fd, 0, libc::SEEK_CUR)
    });
    !matches!(at, Err(e) if e.raw_os_error() == Some(libc::ESPIPE))
}

/// The body of every file op's `interest`: the readiness driver never sees a file op, because
/// `driver::file_op::run` sends them to the blocking pool under epoll.
#[cfg_attr(not(feature = "epoll"), allow(dead_code))]
fn no_readiness() -> ! {
    unreachable!(
        "file operations have no readiness face: under epoll, driver::file_op::run performs them \
         on the blocking pool instead of waiting for readiness"
    )
}

/// The `(dirfd, path)` pair meaning "this path, relative to the current directory".
#[cfg(feature = "io-uring")]
const CWD: io_uring::types::Fd = io_uring::types::Fd(libc::AT_FDCWD);
