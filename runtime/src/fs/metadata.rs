//! [`Metadata`]: what `statx(2)` says about a file.

use std::fmt;
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Information about a file: its size, type, permissions and times.
///
/// Returned by [`metadata`](super::metadata()) and [`File::metadata`](super::File::metadata). (Its
/// own type rather than `std::fs::Metadata`, which cannot be built from a `statx` result.)
#[derive(Clone)]
pub struct Metadata {
    stat: libc::statx,
}

impl Metadata {
    pub(crate) fn from_statx(stat: libc::statx) -> Metadata {
        Metadata { stat }
    }

    /// The size in bytes.
    #[allow(clippy::len_without_is_empty)] // as std::fs::Metadata: a file's size, not a collection
    pub fn len(&self) -> u64 {
        self.stat.stx_size
    }

    /// Whether this is a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type() == libc::S_IFREG
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == libc::S_IFDIR
    }

    /// Whether this is a symbolic link (only possible for metadata that did not follow links).
    pub fn is_symlink(&self) -> bool {
        self.file_type() == libc::S_IFLNK
    }

    /// The type and permission bits (`st_mode`), e.g. `mode() & 0o777` for the permissions.
    pub fn mode(&self) -> u32 {
        u32::from(self.stat.stx_mode)
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        self.stat.stx_ino
    }

    /// The time of the last change to the contents.
    ///
    /// # Errors
    /// `Unsupported` when the file system does not record it.
    pub fn modified(&self) -> io::Result<SystemTime> {
        self.time(libc::STATX_MTIME, self.stat.stx_mtime, "modification")
    }

    /// The time of the last access.
    ///
    /// # Errors
    /// `Unsupported` when the file system does not record it.
    pub fn accessed(&self) -> io::Result<SystemTime> {
        self.time(libc::STATX_ATIME, self.stat.stx_atime, "access")
    }

    /// The creation ("birth") time.
    ///
    /// # Errors
    /// `Unsupported` when the file system does not record it (many do not).
    pub fn created(&self) -> io::Result<SystemTime> {
        self.time(libc::STATX_BTIME, self.stat.stx_btime, "creation")
    }

    fn file_type(&self) -> libc::mode_t {
        libc::mode_t::from(self.stat.stx_mode) & libc::S_IFMT
    }

    /// A timestamp, if the kernel filled it in (its bit is set in `stx_mask`).
    fn time(
        &self,
        bit: libc::c_uint,
        t: libc::statx_timestamp,
        what: &str,
    ) -> io::Result<SystemTime> {
        if self.stat.stx_mask & bit == 0 {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("the {what} time is not available for this file"),
            ));
        }
        let since_epoch = Duration::from_secs(t.tv_sec.unsigned_abs());
        let nanos = Duration::from_nanos(u64::from(t.tv_nsec));
        Ok(if t.tv_sec >= 0 {
            UNIX_EPOCH + since_epoch + nanos
        } else {
            // Before 1970: the seconds count back, the nanoseconds still count forward.
            UNIX_EPOCH - since_epoch + nanos
        })
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metadata")
            .field("len", &self.len())
            .field("mode", &format_args!("{:o}", self.mode()))
            .field("ino", &self.ino())
            .field("modified", &self.modified().ok())
            .finish_non_exhaustive()
    }
}
