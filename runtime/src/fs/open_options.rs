//! [`OpenOptions`]: how to open a file (read, write, create, ...), as in `std::fs`.

use std::io;
use std::path::Path;

use super::File;
use crate::driver::file_op;
use crate::driver::ops::fs::OpenAt;

/// Options for opening a file, set one by one and then used by [`open`](OpenOptions::open).
///
/// ```no_run
/// use runtime::fs::OpenOptions;
///
/// # async fn demo() -> std::io::Result<()> {
/// let log = OpenOptions::new().append(true).create(true).open("app.log").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: libc::mode_t,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// All options off; new files get mode `0o666` (before the umask).
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.read = read;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.write = write;
        self
    }

    /// Open for appending: every write goes to the end of the file. Implies writing. (Linux
    /// appends even when a write names an offset.)
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.append = append;
        self
    }

    /// Empty the file when opening it. Needs writing.
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        self
    }

    /// Create the file if it does not exist. Needs writing or appending.
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists. Needs writing or appending;
    /// `create` and `truncate` are then ignored.
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        self
    }

    /// The permission bits of a file this call creates (default `0o666`, minus the umask).
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = mode as libc::mode_t;
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    /// `InvalidInput` for a contradictory combination (nothing to open for, creating without
    /// writing, truncating while appending); otherwise what `open(2)` says, e.g. `NotFound`,
    /// `PermissionDenied`, `AlreadyExists`.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let flags = self.flags()?;
        let path = super::c_path(path.as_ref())?;
        let fd = file_op::run(OpenAt::new(path, flags, self.mode)).await?;
        Ok(File::from_fd(fd))
    }

    /// The `open(2)` flags, checked the way `std::fs::OpenOptions` checks them.
    fn flags(&self) -> io::Result<libc::c_int> {
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => libc::O_RDONLY,
            (false, true, false) => libc::O_WRONLY,
            (true, true, false) => libc::O_RDWR,
            (false, _, true) => libc::O_WRONLY | libc::O_APPEND,
            (true, _, true) => libc::O_RDWR | libc::O_APPEND,
            (false, false, false) => return Err(invalid("open for neither reading nor writing")),
        };
        let writes = self.write || self.append;
        if !writes && (self.truncate || self.create || self.create_new) {
            return Err(invalid("create or truncate without write or append"));
        }
        if self.append && self.truncate && !self.create_new {
            return Err(invalid("truncate and append at once"));
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (_, _, true) => libc::O_CREAT | libc::O_EXCL,
            (true, true, false) => libc::O_CREAT | libc::O_TRUNC,
            (true, false, false) => libc::O_CREAT,
            (false, true, false) => libc::O_TRUNC,
            (false, false, false) => 0,
        };
        Ok(access | creation | libc::O_CLOEXEC)
    }
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("invalid open options: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_like_std() {
        let read = OpenOptions::new().read(true).flags().unwrap();
        assert_eq!(read, libc::O_RDONLY | libc::O_CLOEXEC);
        let create = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .flags()
            .unwrap();
        assert_eq!(
            create,
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC
        );
        let new = OpenOptions::new()
            .append(true)
            .create_new(true)
            .flags()
            .unwrap();
        assert_eq!(
            new,
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC
        );
    }

    #[test]
    fn contradictions_are_rejected() {
        let kind = |o: &OpenOptions| o.flags().unwrap_err().kind();
        assert_eq!(kind(&OpenOptions::new()), io::ErrorKind::InvalidInput);
        assert_eq!(
            kind(OpenOptions::new().read(true).create(true)),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(OpenOptions::new().append(true).truncate(true)),
            io::ErrorKind::InvalidInput
        );
    }
}
