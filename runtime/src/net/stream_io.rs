//! The owned-buffer IO methods every stream type shares (TCP and Unix streams and their halves),
//! written once and stamped onto each type by [`stream_io!`].

/// Adds `read`, `read_exact`, `write`, `write_all` to a type with a `fn fd(&self) -> &SharedFd`,
/// and implements the [`AsyncReadOwned`](crate::io::AsyncReadOwned) /
/// [`AsyncWriteOwned`](crate::io::AsyncWriteOwned) traits for it.
macro_rules! stream_io {
    (read, [$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> $ty {
            /// Reads at most `buf.bytes_total()` bytes into the start of `buf` and gives the
            /// buffer back; `Ok(0)` is end of stream. A `Vec`'s length becomes the count read.
            pub async fn read<B: $crate::buf::IoBufMut>(
                &self,
                buf: B,
            ) -> $crate::buf::BufResult<usize, B> {
                $crate::driver::Op::new($crate::driver::ops::Recv::new(self.fd(), buf)).await
            }

            /// Fills the whole buffer (`bytes_total()` bytes), or fails with `UnexpectedEof`.
            pub async fn read_exact<B: $crate::buf::IoBufMut>(
                &self,
                buf: B,
            ) -> $crate::buf::BufResult<(), B> {
                let mut this = self;
                $crate::io::AsyncReadOwned::read_exact(&mut this, buf).await
            }
        }

        impl<$($gen)*> $crate::io::AsyncReadOwned for $ty {
            fn read<B: $crate::buf::IoBufMut>(
                &mut self,
                buf: B,
            ) -> impl ::std::future::Future<Output = $crate::buf::BufResult<usize, B>> {
                <$ty>::read(self, buf)
            }
        }

        impl<$($gen)*> $crate::io::AsyncReadOwned for &$ty {
            fn read<B: $crate::buf::IoBufMut>(
                &mut self,
                buf: B,
            ) -> impl ::std::future::Future<Output = $crate::buf::BufResult<usize, B>> {
                <$ty>::read(self, buf)
            }
        }
    };
    (write, [$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> $ty {
            /// Writes some of `buf`'s bytes and gives the buffer back with the count written.
            pub async fn write<B: $crate::buf::IoBuf>(
                &self,
                buf: B,
            ) -> $crate::buf::BufResult<usize, B> {
                $crate::driver::Op::new($crate::driver::ops::Send::new(self.fd(), buf)).await
            }

            /// Writes all of `buf`'s bytes.
            pub async fn write_all<B: $crate::buf::IoBuf>(
                &self,
                buf: B,
            ) -> $crate::buf::BufResult<(), B> {
                let mut this = self;
                $crate::io::AsyncWriteOwned::write_all(&mut this, buf).await
            }
        }

        impl<$($gen)*> $crate::io::AsyncWriteOwned for $ty {
            fn write<B: $crate::buf::IoBuf>(
                &mut self,
                buf: B,
            ) -> impl ::std::future::Future<Output = $crate::buf::BufResult<usize, B>> {
                <$ty>::write(self, buf)
            }

            async fn shutdown(&mut self) -> ::std::io::Result<()> {
                $crate::net::socket::shutdown(self.fd().raw(), ::std::net::Shutdown::Write)
            }
        }

        impl<$($gen)*> $crate::io::AsyncWriteOwned for &$ty {
            fn write<B: $crate::buf::IoBuf>(
                &mut self,
                buf: B,
            ) -> impl ::std::future::Future<Output = $crate::buf::BufResult<usize, B>> {
                <$ty>::write(self, buf)
            }

            async fn shutdown(&mut self) -> ::std::io::Result<()> {
                $crate::net::socket::shutdown(self.fd().raw(), ::std::net::Shutdown::Write)
            }
        }
    };
}

pub(crate) use stream_io;
