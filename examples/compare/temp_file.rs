//! The file the file scenario reads: created once in the temp directory, filled with non-zero
//! bytes, and removed at exit — when dropped, and on Ctrl-C (best effort) too.

use std::ffi::CString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The path the Ctrl-C handler removes. Set once, before the handler is installed.
static PATH_FOR_SIGNAL: OnceLock<CString> = OnceLock::new();

/// A file that exists as long as this value does.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// Creates `size` bytes of data in `std::env::temp_dir()`.
    ///
    /// The bytes are non-zero and varied: an all-zero file could be stored sparse, and its reads
    /// would then cost less than reads of real data.
    pub fn create(size: u64) -> io::Result<TempFile> {
        let path = std::env::temp_dir().join(format!("runtime-compare-{}.dat", std::process::id()));
        let file = TempFile { path };
        file.remove_on_ctrl_c();
        let mut out = io::BufWriter::new(fs::File::create(&file.path)?);
        let mut chunk = vec![0u8; 1 << 20];
        let mut state = 0x0123_4567_89AB_CDEFu64;
        let mut written = 0;
        while written < size {
            for byte in chunk.iter_mut() {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                *byte = (state >> 56) as u8 | 1;
            }
            let n = (size - written).min(chunk.len() as u64) as usize;
            out.write_all(&chunk[..n])?;
            written += n as u64;
        }
        out.flush()?;
        Ok(file)
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Installs a SIGINT handler that removes the file and exits, so that an interrupted run
    /// does not leave hundreds of MiB behind.
    fn remove_on_ctrl_c(&self) {
        let Ok(c_path) = CString::new(self.path.as_os_str().as_bytes()) else {
            return;
        };
        if PATH_FOR_SIGNAL.set(c_path).is_err() {
            return; // a handler is already installed for an earlier file
        }
        let handler = on_sigint as extern "C" fn(libc::c_int);
        // SAFETY: `on_sigint` only makes async-signal-safe calls (`unlink`, `_exit`) and reads a
        // `OnceLock` that was fully set above, before the handler could run.
        unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
    }
}

extern "C" fn on_sigint(_signal: libc::c_int) {
    if let Some(path) = PATH_FOR_SIGNAL.get() {
        // SAFETY: `path` is a valid NUL-terminated string that lives for the whole program.
        unsafe { libc::unlink(path.as_ptr()) };
    }
    // SAFETY: `_exit` ends the process at once; it is async-signal-safe (unlike `exit`).
    unsafe { libc::_exit(130) };
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
