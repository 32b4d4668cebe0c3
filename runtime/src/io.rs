//! Owned-buffer read and write traits, so generic code can work over every stream type
//! (`TcpStream`, `UnixStream`, their halves).
//!
//! ```
//! use runtime::io::{AsyncReadOwned, AsyncWriteOwned};
//!
//! /// Copies everything from `from` to `to`, one 16 KiB buffer reused throughout.
//! async fn pipe(mut from: impl AsyncReadOwned, mut to: impl AsyncWriteOwned) -> std::io::Result<u64> {
//!     let mut buf = Vec::with_capacity(16 * 1024);
//!     let mut total = 0;
//!     loop {
//!         let (n, b) = from.read(buf).await;
//!         if n? == 0 {
//!             return Ok(total);
//!         }
//!         let (res, b) = to.write_all(b).await;
//!         res?;
//!         total += b.len() as u64;
//!         buf = b;
//!     }
//! }
//! ```

use std::future::Future;
use std::io;

pub use crate::buf::{BufResult, IoBuf, IoBufMut, Slice};

/// Reading into owned buffers.
pub trait AsyncReadOwned {
    /// Reads at most `buf.bytes_total()` bytes into the start of `buf`. `Ok(0)` means end of stream
    /// (or an empty buffer). A `Vec`'s length is set to the number of bytes read.
    fn read<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>>;

    /// Fills the whole of `buf` (`bytes_total()` bytes), or fails with `UnexpectedEof`.
    fn read_exact<B: IoBufMut>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        async move {
            let total = buf.bytes_total();
            let mut filled = 0;
            let mut buf = buf;
            while filled < total {
                let (res, slice) = self.read(buf.slice(filled..)).await;
                buf = slice.into_inner();
                match progress(res, io::ErrorKind::UnexpectedEof) {
                    Ok(n) => filled += n,
                    Err(e) => return (Err(e), buf),
                }
            }
            (Ok(()), buf)
        }
    }
}

/// Writing from owned buffers.
pub trait AsyncWriteOwned {
    /// Writes some of `buf`'s initialised bytes; returns how many.
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>>;

    /// Writes all of `buf`'s initialised bytes. On error, the count written so far is lost to the
    /// caller, as with `std::io::Write::write_all`.
    fn write_all<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        async move {
            let total = buf.bytes_init();
            let mut written = 0;
            let mut buf = buf;
            while written < total {
                let (res, slice) = self.write(buf.slice(written..total)).await;
                buf = slice.into_inner();
                match progress(res, io::ErrorKind::WriteZero) {
                    Ok(n) => written += n,
                    Err(e) => return (Err(e), buf),
                }
            }
            (Ok(()), buf)
        }
    }

    /// Shuts the write direction down: the peer reads end of stream.
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>>;
}

/// One step of a "fill the whole buffer" or "write all of it" loop: the bytes it moved (0 after
/// an interrupted call, which is simply retried), or the error that ends the loop — `stalled` when
/// the call moved nothing (end of stream for a read, `WriteZero` for a write).
pub(crate) fn progress(result: io::Result<usize>, stalled: io::ErrorKind) -> io::Result<usize> {
    match result {
        Ok(0) => Err(stalled.into()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_retries_interrupts_and_stops_on_stall() {
        assert_eq!(progress(Ok(5), io::ErrorKind::WriteZero).unwrap(), 5);
        let interrupted = Err(io::ErrorKind::Interrupted.into());
        assert_eq!(progress(interrupted, io::ErrorKind::WriteZero).unwrap(), 0);
        let stalled = progress(Ok(0), io::ErrorKind::UnexpectedEof).unwrap_err();
        assert_eq!(stalled.kind(), io::ErrorKind::UnexpectedEof);
        let reset = Err(io::ErrorKind::ConnectionReset.into());
        let err = progress(reset, io::ErrorKind::UnexpectedEof).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }
}
