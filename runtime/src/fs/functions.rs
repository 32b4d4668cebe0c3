//! One-call helpers over paths: read or write a whole file, rename, remove, create a directory.

use std::io;
use std::path::Path;

use super::{c_path, File, Metadata};
use crate::buf::IoBuf;
use crate::driver::file_op;
use crate::driver::ops::fs::{MkDirAt, RenameAt, Statx, UnlinkAt};

/// Reads a whole file, from its start to its end, with plain reads (as `std::fs::read` does: no
/// offsets, so this also works on files that refuse them, such as those of `/proc`).
///
/// # Errors
/// From opening the file (e.g. `NotFound`) or reading it.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let bytes = runtime::fs::read("/etc/hostname").await?;
/// # Ok(()) }
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let file = File::open(path).await?;
    // The size is a hint (the file may change meanwhile); one spare byte lets the read that finds
    // the end of the file happen without growing the buffer.
    let hint = file.metadata().await.map_or(0, |m| m.len() as usize);
    let mut buf = Vec::with_capacity(hint.saturating_add(1));
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity().max(8 * 1024));
        }
        let len = buf.len();
        let (res, slice) = file.read_sequential(buf.slice(len..)).await;
        buf = slice.into_inner();
        match res {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    file.close().await?;
    Ok(buf)
}

/// Writes `contents` as the whole content of a file, creating it or replacing what it held.
///
/// `contents` is any owned buffer: `Vec<u8>`, `String`, `&'static str`, `&'static [u8]`, ...
/// It goes out with plain writes (as with `std::fs::write`: no offsets, so this also works on
/// files that refuse them, such as `/proc/self/comm`).
///
/// # Errors
/// From creating the file (e.g. `NotFound` for a missing directory), writing or closing it.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// runtime::fs::write("hello.txt", "Hello, world!\n").await?;
/// # Ok(()) }
/// ```
pub async fn write<B: IoBuf + Send>(path: impl AsRef<Path>, contents: B) -> io::Result<()> {
    let file = File::create(path).await?;
    let (res, _contents) = file.write_all_sequential(contents).await;
    res?;
    file.close().await
}

/// The metadata of what `path` names, following symbolic links.
///
/// # Errors
/// What `statx(2)` says, e.g. `NotFound`.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let stat = file_op::run(Statx::path(c_path(path.as_ref())?)).await?;
    Ok(Metadata::from_statx(stat))
}

/// Renames `from` to `to`, replacing `to` if it exists (within one file system).
///
/// # Errors
/// What `rename(2)` says, e.g. `NotFound`, or `CrossesDevices`-like errors across file systems.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (c_path(from.as_ref())?, c_path(to.as_ref())?);
    file_op::run(RenameAt::new(from, to)).await
}

/// Removes a file (not a directory).
///
/// # Errors
/// What `unlink(2)` says, e.g. `NotFound`.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    file_op::run(UnlinkAt::file(c_path(path.as_ref())?)).await
}

/// Removes an empty directory.
///
/// # Errors
/// What `rmdir(2)` says, e.g. `NotFound`, or `DirectoryNotEmpty`.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    file_op::run(UnlinkAt::dir(c_path(path.as_ref())?)).await
}

/// Creates a directory (its parent must exist), with permissions `0o777` minus the umask.
///
/// # Errors
/// What `mkdir(2)` says, e.g. `AlreadyExists`, or `NotFound` for a missing parent.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    file_op::run(MkDirAt::new(c_path(path.as_ref())?, 0o777)).await
}
