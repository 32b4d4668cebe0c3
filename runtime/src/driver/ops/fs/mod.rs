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

use std::os::fd::OwnedFd;
use std::sync::Arc;

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
