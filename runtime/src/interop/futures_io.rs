//! `futures_io::{AsyncRead, AsyncWrite}` for the streams (feature `futures-io`).

macro_rules! futures_read {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.get_mut().poll_read(cx, buf)
            }
        }
    };
}

macro_rules! futures_write {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> ::futures_io::AsyncWrite for $ty {
            super::write_methods!(
                /// Shuts the write direction down (the descriptor closes when the stream drops).
                poll_close
            );
        }
    };
}

super::for_each_stream!(futures_read, futures_write);
