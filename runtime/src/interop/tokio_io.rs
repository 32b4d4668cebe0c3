//! `tokio::io::{AsyncRead, AsyncWrite}` for the streams (feature `tokio-io`).

macro_rules! tokio_read {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> ::tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut ::tokio::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                // SAFETY: the read only writes into the unfilled part, and `assume_init` below
                // covers exactly the bytes it wrote.
                let unfilled = unsafe { buf.unfilled_mut() };
                let n = ::std::task::ready!(self.get_mut().poll_read_uninit(cx, unfilled))?;
                // SAFETY: the kernel initialised these `n` bytes.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                ::std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

macro_rules! tokio_write {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> ::tokio::io::AsyncWrite for $ty {
            super::write_methods!(poll_shutdown);

            fn is_write_vectored(&self) -> bool {
                true
            }
        }
    };
}

super::for_each_stream!(tokio_read, tokio_write);
