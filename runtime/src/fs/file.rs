//! [`File`]: an open file, read and written at explicit offsets with owned buffers.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::{Metadata, OpenOptions};
use crate::buf::{BufResult, IoBuf, IoBufMut};
use crate::driver::file_op;
use crate::driver::ops::fs::{self, Close, FileFd, Fsync, Offset, ReadAt, Statx, WriteAt};
use crate::io::progress;

/// An open file. Every read and write names its offset; there is no cursor (see the
/// [module docs](super) for why, and for how the two backends carry these operations out).
///
/// Dropping a `File` closes it right away (a quick, synchronous `close(2)` on this thread); call
/// [`close`](File::close) instead to close it asynchronously and hear about errors.
///
/// ```no_run
/// use runtime::fs::File;
///
/// # async fn demo() -> std::io::Result<()> {
/// let file = File::options().read(true).write(true).create(true).open("numbers.bin").await?;
/// let (res, _buf) = file.write_all_at(vec![1, 2, 3, 4], 0).await;
/// res?;
/// file.sync_all().await?;
///
/// let (res, buf) = file.read_exact_at(Vec::with_capacity(2), 2).await;
/// res?;
/// assert_eq!(buf, [3, 4]);
/// file.close().await?;
/// # Ok(()) }
/// ```
pub struct File {
    fd: FileFd,
    /// Whether the file has a position (see `ops::fs::has_position`), asked at the first read or
    /// write at an offset.
    has_position: OnceLock<bool>,
}

impl File {
    /// Opens an existing file for reading.
    ///
    /// # Errors
    /// What `open(2)` says, e.g. `NotFound` or `PermissionDenied`.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it or emptying it.
    ///
    /// # Errors
    /// What `open(2)` says, e.g. `NotFound` for a missing directory, or `PermissionDenied`.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// The same as [`OpenOptions::new`], for `File::options().read(true).write(true).open(p)`.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    pub(crate) fn from_fd(fd: OwnedFd) -> File {
        File {
            fd: Arc::new(fd),
            has_position: OnceLock::new(),
        }
    }

    /// Reads at most `buf.bytes_total()` bytes from offset `pos` into the start of `buf`, and gives
    /// the buffer back. `Ok(0)` means `pos` is at or past the end of the file. A `Vec`'s length
    /// becomes the count read.
    ///
    /// # Errors
    /// What `pread(2)` says; `InvalidInput` when `pos` is larger than `i64::MAX`; `ESPIPE`
    /// (`NotSeekable`) for a file without a position, such as a pipe.
    pub async fn read_at<B: IoBufMut + Send>(&self, buf: B, pos: u64) -> BufResult<usize, B> {
        self.read(buf, Offset::At(pos)).await
    }

    /// Reads at the file's position, which moves past the bytes read (what `fs::read` does).
    pub(super) async fn read_sequential<B: IoBufMut + Send>(&self, buf: B) -> BufResult<usize, B> {
        self.read(buf, Offset::Current).await
    }

    async fn read<B: IoBufMut + Send>(&self, buf: B, offset: Offset) -> BufResult<usize, B> {
        if let Err(e) = self.check_offset(offset) {
            return (Err(e), buf);
        }
        file_op::run(ReadAt::new(&self.fd, buf, offset)).await
    }

    /// Fills the whole buffer (`bytes_total()` bytes) from offset `pos`, or fails with
    /// `UnexpectedEof` when the file ends first (what was read stays in the buffer).
    pub async fn read_exact_at<B: IoBufMut + Send>(
        &self,
        mut buf: B,
        pos: u64,
    ) -> BufResult<(), B> {
        let total = buf.bytes_total();
        let mut filled = 0;
        while filled < total {
            let (res, slice) = self.read_at(buf.slice(filled..), pos + filled as u64).await;
            buf = slice.into_inner();
            match progress(res, io::ErrorKind::UnexpectedEof) {
                Ok(n) => filled += n,
                Err(e) => return (Err(e), buf),
            }
        }
        (Ok(()), buf)
    }

    /// Writes some of `buf`'s initialised bytes at offset `pos`, and gives the buffer back with the
    /// count written.
    ///
    /// A file that has a position but refuses `pwrite(2)` (a seq file of `/proc`, such as
    /// `/proc/self/comm`) is written at `pos` all the same, on both backends.
    ///
    /// # Errors
    /// What `pwrite(2)` says; `InvalidInput` when `pos` is larger than `i64::MAX`; `ESPIPE`
    /// (`NotSeekable`) for a file without a position, such as a pipe.
    pub async fn write_at<B: IoBuf + Send>(&self, buf: B, pos: u64) -> BufResult<usize, B> {
        self.write(buf, Offset::At(pos)).await
    }

    /// Writes all of `buf`'s initialised bytes, starting at offset `pos`.
    pub async fn write_all_at<B: IoBuf + Send>(&self, buf: B, pos: u64) -> BufResult<(), B> {
        self.write_all(buf, |written| Offset::At(pos + written as u64))
            .await
    }

    /// Writes all of `buf`'s initialised bytes at the file's position, which moves past them
    /// (what `fs::write` does).
    pub(super) async fn write_all_sequential<B: IoBuf + Send>(&self, buf: B) -> BufResult<(), B> {
        self.write_all(buf, |_| Offset::Current).await
    }

    /// Writes all of `buf`'s initialised bytes, the ones from `written` on at `offset(written)`.
    async fn write_all<B: IoBuf + Send>(
        &self,
        mut buf: B,
        offset: impl Fn(usize) -> Offset,
    ) -> BufResult<(), B> {
        let total = buf.bytes_init();
        let mut written = 0;
        while written < total {
            let (res, slice) = self.write(buf.slice(written..total), offset(written)).await;
            buf = slice.into_inner();
            match progress(res, io::ErrorKind::WriteZero) {
                Ok(n) => written += n,
                Err(e) => return (Err(e), buf),
            }
        }
        (Ok(()), buf)
    }

    async fn write<B: IoBuf + Send>(&self, buf: B, offset: Offset) -> BufResult<usize, B> {
        if let Err(e) = self.check_offset(offset) {
            return (Err(e), buf);
        }
        file_op::run(WriteAt::new(&self.fd, buf, offset)).await
    }

    /// Whether `offset` can be read or written: an offset travels as an `off_t` (signed), so
    /// larger ones are invalid (io_uring would even read `u64::MAX` as "the current position");
    /// and a file without a position has no offsets at all. io_uring would ignore the offset
    /// there, so the answer `pread`/`pwrite` give, `ESPIPE`, is given here for both backends.
    fn check_offset(&self, offset: Offset) -> io::Result<()> {
        let Offset::At(pos) = offset else {
            return Ok(());
        };
        if pos > i64::MAX as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("file offset {pos} is larger than i64::MAX"),
            ));
        }
        let has_position = *self
            .has_position
            .get_or_init(|| fs::has_position(self.fd.as_raw_fd()));
        if !has_position {
            return Err(io::Error::from_raw_os_error(libc::ESPIPE));
        }
        Ok(())
    }

    /// Waits until the file's data and metadata are on the device (`fsync`).
    ///
    /// # Errors
    /// What `fsync(2)` says, e.g. `EIO`.
    pub async fn sync_all(&self) -> io::Result<()> {
        file_op::run(Fsync::new(&self.fd, false)).await
    }

    /// Waits until the file's data is on the device, skipping metadata not needed to read it back
    /// (`fdatasync`).
    ///
    /// # Errors
    /// What `fdatasync(2)` says, e.g. `EIO`.
    pub async fn sync_data(&self) -> io::Result<()> {
        file_op::run(Fsync::new(&self.fd, true)).await
    }

    /// The file's metadata (size, type, permissions, times).
    ///
    /// # Errors
    /// What `statx(2)` says.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let stat = file_op::run(Statx::fd(&self.fd)).await?;
        Ok(Metadata::from_statx(stat))
    }

    /// Closes the file and reports whether that worked (some file systems report write errors
    /// only then).
    ///
    /// If an operation whose future was dropped still holds the file (the kernel is finishing
    /// it), the file is closed when that operation ends instead, and this returns `Ok(())`.
    ///
    /// # Errors
    /// What `close(2)` says.
    pub async fn close(self) -> io::Result<()> {
        match Arc::try_unwrap(self.fd) {
            Ok(fd) => file_op::run(Close::new(fd)).await,
            Err(_shared) => Ok(()),
        }
    }
}

impl From<std::fs::File> for File {
    /// Takes over a file opened by `std::fs` (it should not be in non-blocking mode).
    fn from(file: std::fs::File) -> File {
        File::from_fd(file.into())
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}
