//! The runtime under the ecosystem's traits, each behind its own cargo feature (all off by
//! default, so the default build depends on the design's five crates only):
//!
//! | feature | gives | costs |
//! |---|---|---|
//! | `tokio-io` | `tokio::io::{AsyncRead, AsyncWrite}` on the streams and halves | the `tokio` crate with no features (its IO traits and `ReadBuf` only: no tokio runtime) |
//! | `futures-io` | `futures_io::{AsyncRead, AsyncWrite}` on the streams and halves | `futures-io`, a crate of two traits |
//! | `hyper` | `hyper::rt::{Read, Write}` on the streams and halves, [`HyperExecutor`], [`HyperTimer`] | `hyper` and its small dependency tree (`http`, `bytes`, …) |
//!
//! Every implementation forwards to the streams' own poll methods (`net/poll_io.rs`): readiness,
//! then a non-blocking syscall into the caller's buffer, on both backends. [`spawner`] (always
//! there: `futures-task` is one of the five) lets libraries that take a `futures` spawner spawn
//! on the runtime.

#[cfg(feature = "futures-io")]
mod futures_io;
#[cfg(feature = "hyper")]
mod hyper;
mod spawner;
#[cfg(feature = "tokio-io")]
mod tokio_io;

#[cfg(feature = "hyper")]
pub use self::hyper::{HyperExecutor, HyperTimer};
pub use spawner::{spawner, Spawner};

/// Stamps an interop trait implementation onto every stream type: `$read!` on the readers
/// (`TcpStream`, `UnixStream`, `ReadHalf<S>`), `$write!` on the writers (`TcpStream`,
/// `UnixStream`, `WriteHalf<S>`).
#[allow(unused_macros)]
macro_rules! for_each_stream {
    ($read:ident, $write:ident) => {
        $read!([] $crate::net::TcpStream);
        $read!([] $crate::net::UnixStream);
        $read!([S: ::std::fmt::Debug] $crate::net::ReadHalf<S>);
        $write!([] $crate::net::TcpStream);
        $write!([] $crate::net::UnixStream);
        $write!([S: ::std::fmt::Debug] $crate::net::WriteHalf<S>);
    };
}
#[allow(unused_imports)]
pub(crate) use for_each_stream;

/// The body of an `AsyncWrite`-style trait implementation, which every family spells the same
/// way: `poll_write`, `poll_write_vectored` and `poll_flush` forward to the stream's methods of
/// those names, and the method named `$shutdown` (with its attributes) to `poll_shutdown`. A
/// family's own extras (`is_write_vectored`) stay in its `impl` next to this invocation.
#[allow(unused_macros)]
macro_rules! write_methods {
    ($(#[$attr:meta])* $shutdown:ident) => {
        fn poll_write(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.get_mut().poll_write(cx, buf)
        }

        fn poll_write_vectored(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.get_mut().poll_write_vectored(cx, bufs)
        }

        fn poll_flush(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.get_mut().poll_flush(cx)
        }

        $(#[$attr])*
        fn $shutdown(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.get_mut().poll_shutdown(cx)
        }
    };
}
#[allow(unused_imports)]
pub(crate) use write_methods;
