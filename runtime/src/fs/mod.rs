//! Files and directories, with owned buffers: [`File`], [`OpenOptions`], [`Metadata`] and the
//! one-call helpers [`read()`], [`write()`], [`metadata()`], [`rename()`], [`remove_file()`],
//! [`remove_dir()`], [`create_dir()`].
//!
//! ```no_run
//! use runtime::fs::{self, File};
//!
//! # async fn demo() -> std::io::Result<()> {
//! fs::write("greeting.txt", "hello, disk").await?;
//!
//! let file = File::open("greeting.txt").await?;
//! let (res, buf) = file.read_at(Vec::with_capacity(5), 7).await;
//! assert_eq!(&buf[..res?], b"disk");
//! file.close().await?;
//! # Ok(()) }
//! ```
//!
//! # Files under the two backends
//!
//! Files show the difference between the two IO models at its sharpest.
//!
//! **epoll cannot wait for a disk.** Readiness is about *whether data is there*: a socket is
//! readable once bytes have arrived. A regular file always "has" its data — it is only a matter of
//! time before the disk delivers it — so the kernel calls files always ready (`epoll_ctl` even
//! refuses to register one), and a `read` that has to go to the disk simply blocks the calling
//! thread for as long as it takes. Under the epoll backend, every operation in this module is
//! therefore handed to the [blocking pool](crate::task::spawn_blocking): a pool thread makes the
//! blocking syscall, and the task is woken when it returns. The worker thread keeps running other
//! tasks, at the cost of a thread hop (and a wake-up through the eventfd) per operation.
//!
//! **io_uring can.** The completion model hands the kernel the whole operation, buffer included,
//! and the kernel reports when it is *done*, however long the disk takes. Under the io_uring
//! backend these operations are ordinary submissions (`openat`, `read`, `write`, `fsync`, `statx`,
//! `close`, `unlinkat`, `renameat`, `mkdirat`): no pool thread is involved.
//!
//! The API and the results are the same either way; what differs is where the waiting happens,
//! which [`stats()`](crate::stats()) shows: under epoll the `read`/`write`/`other_syscalls`
//! counters of the *pool* threads go up (each thread counts its own syscalls), under io_uring the
//! worker's `sqes_submitted`.
//!
//! # Positional IO
//!
//! A [`File`] has no cursor: every read and write names its offset (`read_at`, `write_at`). Several
//! operations on one file may then be in flight at once without racing over a shared position.
//! Offsets need a file that has a position: on a pipe, a FIFO or a terminal they fail with
//! `ESPIPE` (`NotSeekable`), on both backends. The whole-file helpers [`read()`] and [`write()`]
//! name no offsets (they read or write from the start, as `std::fs::read` and `write` do), so they
//! also work on such files and on `/proc` files that refuse positioned writes.
//!
//! # Cancellation
//!
//! Dropping an operation's future does not undo it: the pool thread or the kernel may still be
//! carrying it out, and a write may still land. Only the result is lost.

mod file;
mod functions;
mod metadata;
mod open_options;

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use file::File;
pub use functions::{create_dir, metadata, read, remove_dir, remove_file, rename, write};
pub use metadata::Metadata;
pub use open_options::OpenOptions;

/// A path in the NUL-terminated form syscalls take.
///
/// # Errors
/// `InvalidInput` when the path contains a NUL byte.
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("path contains a NUL byte: {path:?}"),
        )
    })
}
