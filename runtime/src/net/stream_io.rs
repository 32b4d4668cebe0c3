//! The owned-buffer IO methods every stream type shares (TCP and Unix streams and their halves),
//! written once and stamped onto each type by [`stream_io!`], with the helpers they call.

use std::io;

use crate::buf::{BufResult, IoBuf, IoBufMut};
use crate::driver::ops::{ReadV, WriteV};
use crate::driver::{Op, SharedFd};

/// Adds `read`, `read_exact`, `read_vectored`, `write`, `write_all`, `write_vectored`,
/// `write_all_vectored` to a type with a `fn fd(&self) -> &SharedFd`, and implements the
/// [`AsyncReadOwned`](crate::io::AsyncReadOwned) / [`AsyncWriteOwned`](crate::io::AsyncWriteOwned)
/// traits for it.
macro_rules! stream_io {
    (read, [$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> $ty {
            /// Reads at most `buf.bytes_total()` bytes into the start of `buf` and gives the
            /// buffer back; `Ok(0)` is end of stream. A `Vec`'s length becomes the count read.
            ///
            /// (The future is the operation itself, not an `async fn` around it: one state
            /// machine less to step through on every read.)
            pub fn read<B: $crate::buf::IoBufMut>(
                &self,
                buf: B,
            ) -> impl ::std::future::Future<Output = $crate::buf::BufResult<usize, B>> {
                $crate::driver::Op::new($crate::driver::ops::Recv::new(self.fd(), buf))
            }

            /// Fills the whole buffer (`bytes_total()` bytes), or fails with `UnexpectedEof`.
            pub async fn read_exact<B: $crate::buf::IoBufMut>(
                &self,
                buf: B,
            ) -> $crate::buf::BufResult<(), B> {
                let mut this = self;
                $crate::io::AsyncReadOwned::read_exact(&mut this, buf).await
            }

            /// Reads into several buffers with one call, filling them in order, each from its
            /// start; gives them back. Every buffer's initialised length becomes what it received
            /// (a `Vec`'s length, 0 after the last byte). See
            /// [`AsyncReadOwned::read_vectored`]($crate::io::AsyncReadOwned::read_vectored).
            pub async fn read_vectored<B: $crate::buf::IoBufMut>(
                &self,
                bufs: ::std::vec::Vec<B>,
            ) -> $crate::buf::BufResult<usize, ::std::vec::Vec<B>> {
                $crate::net::stream_io::read_vectored(self.fd(), bufs).await
            }
        }

        $crate::net::stream_io::stream_io!(@read_trait [$($gen)*] $ty => $ty);
        $crate::net::stream_io::stream_io!(@read_trait [$($gen)*] &$ty => $ty);
    };

    // The read trait for `$for` (the type or a shared reference to it), calling `$ty`'s methods.
    (@read_trait [$($gen:tt)*] $for:ty => $ty:ty) => {
        impl<$($gen)*> $crate::io::AsyncReadOwned for $for {
            fn read<B: $crate::buf::IoBufMut>(
                &mut self,
                buf: B,
            ) -> impl ::std::future::Future<Output = $crate::buf::BufResult<usize, B>> {
                <$ty>::read(self, buf)
            }

            fn read_vectored<B: $crate::buf::IoBufMut>(
                &mut self,
                bufs: ::std::vec::Vec<B>,
            ) -> impl ::std::future::Future<
                Output = $crate::buf::BufResult<usize, ::std::vec::Vec<B>>,
            > {
                <$ty>::read_vectored(self, bufs)
            }
        }
    };

    (write, [$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> $ty {
            /// Writes some of `buf`'s bytes and gives the buffer back with the count written.
            pub fn write<B: $crate::buf::IoBuf>(
                &self,
                buf: B,
            ) -> impl ::std::future::Future<Output = $crate::buf::BufResult<usize, B>> {
                $crate::driver::Op::new($crate::driver::ops::Send::new(self.fd(), buf))
            }

            /// Writes all of `buf`'s bytes. On error, the count written so far is lost to the
            /// caller, as with `std::io::Write::write_all`.
            pub async fn write_all<B: $crate::buf::IoBuf>(
                &self,
                buf: B,
            ) -> $crate::buf::BufResult<(), B> {
                // The same loop as `AsyncWriteOwned::write_all`, over the operation directly.
                let total = $crate::buf::IoBuf::bytes_init(&buf);
                let mut written = 0;
                let mut buf = buf;
                while written < total {
                    let (res, slice) = self.write($crate::buf::IoBuf::slice(buf, written..total)).await;
                    buf = slice.into_inner();
                    match $crate::io::progress(res, ::std::io::ErrorKind::WriteZero) {
                        Ok(n) => written += n,
                        Err(e) => return (Err(e), buf),
                    }
                }
                (Ok(()), buf)
            }

            /// Writes some of the buffers' initialised bytes, in order, with one call; gives them
            /// back with the count written. See
            /// [`AsyncWriteOwned::write_vectored`]($crate::io::AsyncWriteOwned::write_vectored).
            pub async fn write_vectored<B: $crate::buf::IoBuf>(
                &self,
                bufs: ::std::vec::Vec<B>,
            ) -> $crate::buf::BufResult<usize, ::std::vec::Vec<B>> {
                $crate::net::stream_io::write_vectored(self.fd(), bufs, 0).await
            }

            /// Writes all the buffers' initialised bytes, in order, each call starting where the
            /// last one stopped. See
            /// [`AsyncWriteOwned::write_all_vectored`]($crate::io::AsyncWriteOwned::write_all_vectored).
            pub async fn write_all_vectored<B: $crate::buf::IoBuf>(
                &self,
                bufs: ::std::vec::Vec<B>,
            ) -> $crate::buf::BufResult<(), ::std::vec::Vec<B>> {
                $crate::net::stream_io::write_all_vectored(self.fd(), bufs).await
            }
        }

        $crate::net::stream_io::stream_io!(@write_trait [$($gen)*] $ty => $ty);
        $crate::net::stream_io::stream_io!(@write_trait [$($gen)*] &$ty => $ty);
    };

    // The write trait for `$for` (the type or a shared reference to it), calling `$ty`'s methods.
    (@write_trait [$($gen:tt)*] $for:ty => $ty:ty) => {
        impl<$($gen)*> $crate::io::AsyncWriteOwned for $for {
            fn write<B: $crate::buf::IoBuf>(
                &mut self,
                buf: B,
            ) -> impl ::std::future::Future<Output = $crate::buf::BufResult<usize, B>> {
                <$ty>::write(self, buf)
            }

            fn write_vectored<B: $crate::buf::IoBuf>(
                &mut self,
                bufs: ::std::vec::Vec<B>,
            ) -> impl ::std::future::Future<
                Output = $crate::buf::BufResult<usize, ::std::vec::Vec<B>>,
            > {
                <$ty>::write_vectored(self, bufs)
            }

            fn write_all_vectored<B: $crate::buf::IoBuf>(
                &mut self,
                bufs: ::std::vec::Vec<B>,
            ) -> impl ::std::future::Future<
                Output = $crate::buf::BufResult<(), ::std::vec::Vec<B>>,
            > {
                <$ty>::write_all_vectored(self, bufs)
            }

            async fn shutdown(&mut self) -> ::std::io::Result<()> {
                $crate::net::socket::shutdown(self.fd().raw(), ::std::net::Shutdown::Write)
            }
        }
    };
}

pub(crate) use stream_io;

/// A vectored read of the stream `fd`. Buffers with no room at all make it `Ok(0)` at once, on
/// both backends (no call is made: there is nothing to wait for).
pub(crate) async fn read_vectored<B: IoBufMut>(
    fd: &SharedFd,
    bufs: Vec<B>,
) -> BufResult<usize, Vec<B>> {
    if bufs.iter().all(|buf| buf.bytes_total() == 0) {
        return (Ok(0), bufs);
    }
    Op::new(ReadV::new(fd, bufs)).await
}

/// A vectored write of the stream `fd`, of the buffers' bytes after the first `skip`. Nothing to
/// write makes it `Ok(0)` at once.
pub(crate) async fn write_vectored<B: IoBuf>(
    fd: &SharedFd,
    bufs: Vec<B>,
    skip: usize,
) -> BufResult<usize, Vec<B>> {
    if bufs.iter().map(IoBuf::bytes_init).sum::<usize>() <= skip {
        return (Ok(0), bufs);
    }
    Op::new(WriteV::new(fd, bufs, skip)).await
}

/// Vectored writes of the stream `fd` until every initialised byte of `bufs` is written.
pub(crate) async fn write_all_vectored<B: IoBuf>(
    fd: &SharedFd,
    bufs: Vec<B>,
) -> BufResult<(), Vec<B>> {
    let total: usize = bufs.iter().map(IoBuf::bytes_init).sum();
    let mut written = 0;
    let mut bufs = bufs;
    while written < total {
        let (res, back) = write_vectored(fd, bufs, written).await;
        bufs = back;
        match crate::io::progress(res, io::ErrorKind::WriteZero) {
            Ok(n) => written += n,
            Err(e) => return (Err(e), bufs),
        }
    }
    (Ok(()), bufs)
}
