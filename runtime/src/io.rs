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

    /// Reads into several buffers at once, filling them in order, each from its start up to its
    /// `bytes_total()`; returns the total count. `Ok(0)` means end of stream (or no room in any
    /// buffer). On success every buffer's initialised length becomes what it received: a `Vec`'s
    /// length, 0 for the buffers after the last byte read.
    ///
    /// Streams do this in one call (`recvmsg`); the default reads into the first buffer with room
    /// only, which is allowed: like any read, a vectored read may return fewer bytes than fit.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// use runtime::net::UnixStream;
    ///
    /// let (a, b) = UnixStream::pair()?;
    /// let (res, _) = a.write_all(b"headerbody".to_vec()).await;
    /// res?;
    /// let bufs = vec![Vec::with_capacity(6), Vec::with_capacity(64)];
    /// let (res, bufs) = b.read_vectored(bufs).await;
    /// assert_eq!(res?, 10);
    /// assert_eq!(bufs, [b"header".to_vec(), b"body".to_vec()]);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn read_vectored<B: IoBufMut>(
        &mut self,
        bufs: Vec<B>,
    ) -> impl Future<Output = BufResult<usize, Vec<B>>> {
        async move {
            let mut bufs = bufs;
            let Some(i) = bufs.iter().position(|buf| buf.bytes_total() > 0) else {
                return (Ok(0), bufs);
            };
            let (res, buf) = self.read(bufs.remove(i)).await;
            bufs.insert(i, buf);
            if res.is_ok() {
                for later in &mut bufs[i + 1..] {
                    // SAFETY: the first 0 bytes of any buffer are initialised.
                    unsafe { later.set_init(0) };
                }
            }
            (res, bufs)
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

    /// Writes some of the buffers' initialised bytes, in order, as one write; returns how many
    /// (which may end inside any buffer).
    ///
    /// Streams do this in one call (`sendmsg`); the default writes from the first buffer with
    /// bytes only.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// use runtime::net::UnixStream;
    ///
    /// let (a, b) = UnixStream::pair()?;
    /// let (res, bufs) = a.write_vectored(vec![b"GET ".to_vec(), b"/".to_vec()]).await;
    /// assert_eq!(res?, 5, "a small write to an empty socket is whole");
    /// assert_eq!(bufs.len(), 2, "the buffers come back");
    /// let (res, got) = b.read_exact(vec![0; 5]).await;
    /// res?;
    /// assert_eq!(got, b"GET /");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn write_vectored<B: IoBuf>(
        &mut self,
        bufs: Vec<B>,
    ) -> impl Future<Output = BufResult<usize, Vec<B>>> {
        async move {
            let mut bufs = bufs;
            let Some(i) = bufs.iter().position(|buf| buf.bytes_init() > 0) else {
                return (Ok(0), bufs);
            };
            let (res, buf) = self.write(bufs.remove(i)).await;
            bufs.insert(i, buf);
            (res, bufs)
        }
    }

    /// Writes all the buffers' initialised bytes, in order. On error, the count written so far is
    /// lost to the caller, as with [`write_all`](AsyncWriteOwned::write_all).
    ///
    /// Streams loop over vectored writes, each one starting where the last one stopped (inside a
    /// buffer or not); the default writes each buffer with `write_all`.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// use runtime::net::UnixStream;
    ///
    /// let (a, b) = UnixStream::pair()?;
    /// let header = b"length: 5\n".to_vec();
    /// let (res, _) = a.write_all_vectored(vec![header, b"hello".to_vec()]).await;
    /// res?;
    /// let (res, got) = b.read_exact(vec![0; 15]).await;
    /// res?;
    /// assert_eq!(got, b"length: 5\nhello");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    fn write_all_vectored<B: IoBuf>(
        &mut self,
        bufs: Vec<B>,
    ) -> impl Future<Output = BufResult<(), Vec<B>>> {
        async move {
            let mut done = Vec::with_capacity(bufs.len());
            let mut rest = bufs.into_iter();
            while let Some(buf) = rest.next() {
                let (res, buf) = self.write_all(buf).await;
                done.push(buf);
                if let Err(e) = res {
                    done.extend(rest);
                    return (Err(e), done);
                }
            }
            (Ok(()), done)
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

    /// Reads from a byte string, at most 4 bytes a call; writes into a `Vec`, at most 3 bytes a
    /// call: only the required methods, so the vectored ones are the defaults.
    struct Trickle {
        input: &'static [u8],
        output: Vec<u8>,
    }

    impl AsyncReadOwned for Trickle {
        async fn read<B: IoBufMut>(&mut self, mut buf: B) -> BufResult<usize, B> {
            let n = self.input.len().min(buf.bytes_total()).min(4);
            // SAFETY: `buf` is writable for `bytes_total >= n` bytes, which are then initialised.
            unsafe {
                buf.stable_mut_ptr().copy_from(self.input.as_ptr(), n);
                buf.set_init(n);
            }
            self.input = &self.input[n..];
            (Ok(n), buf)
        }
    }

    impl AsyncWriteOwned for Trickle {
        async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
            let n = buf.bytes_init().min(3);
            // SAFETY: `buf` holds `bytes_init >= n` initialised bytes.
            let bytes = unsafe { std::slice::from_raw_parts(buf.stable_ptr(), n) };
            self.output.extend_from_slice(bytes);
            (Ok(n), buf)
        }

        async fn shutdown(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn default_vectored_methods_use_the_plain_ones() {
        let mut t = Trickle {
            input: b"abcdef",
            output: Vec::new(),
        };
        crate::Runtime::new().unwrap().block_on(async {
            let bufs = vec![Vec::new(), Vec::with_capacity(8), b"old".to_vec()];
            let (res, bufs) = t.read_vectored(bufs).await;
            assert_eq!(res.unwrap(), 4, "one read, into the first buffer with room");
            assert_eq!(bufs, [b"".to_vec(), b"abcd".to_vec(), b"".to_vec()]);

            let (res, bufs) = t.write_vectored(vec![b"".to_vec(), b"wxyz".to_vec()]).await;
            assert_eq!(res.unwrap(), 3);
            assert_eq!(bufs.len(), 2);
            let parts: Vec<&'static [u8]> = vec![b"12345", b"", b"67"];
            let (res, _) = t.write_all_vectored(parts).await;
            res.unwrap();
            assert_eq!(t.output, b"wxy1234567");
        });
    }

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
