//! hyper on the runtime (feature `hyper`): `hyper::rt::{Read, Write}` on the streams, an
//! [`Executor`](hyper::rt::Executor) that spawns local tasks, and a [`Timer`](hyper::rt::Timer).
//!
//! ```no_run
//! use hyper::{body::Incoming, Request, Response};
//! use runtime::interop::{HyperExecutor, HyperTimer};
//!
//! # async fn serve(listener: runtime::net::TcpListener) -> std::io::Result<()> {
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(String::from("Hello, world!")))
//!     });
//!     runtime::spawn(async move {
//!         let conn = hyper::server::conn::http1::Builder::new()
//!             .timer(HyperTimer)
//!             .serve_connection(stream, service);
//!         let _ = conn.await;
//!     });
//! }
//! # }
//! ```
//!
//! **Why the timer is honest.** hyper wants its sleeps `Send + Sync`, and this runtime's timers
//! belong to one worker thread. A [`Sleep`](crate::time::Sleep) holds only its deadline and, once
//! polled, a key into the wheel of the worker that polled it — plain numbers; the waker lives in
//! the wheel. So it *is* `Send + Sync` without pretending: moved to another worker, it sees that
//! the key is not that worker's (keys carry their wheel's id) and registers afresh there.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::time::Sleep;

/// Spawns hyper's background futures (HTTP/2 streams, connection tasks) as local tasks on the
/// current runtime; they need not be `Send`.
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperExecutor;

impl<F> hyper::rt::Executor<F> for HyperExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        drop(crate::spawn(future));
    }
}

/// hyper's timers (header-read timeouts, keep-alive) on the runtime's timer wheel.
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer;

impl hyper::rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep_until(deadline)))
    }

    /// Moves the deadline in place (hyper resets its header-read timer on every request of a
    /// keep-alive connection: the default would box a new sleep each time).
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours.get_mut().0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A [`Sleep`] as hyper's `Sleep` (a local newtype: both the trait and the type are foreign to
/// the place where the trait is implemented otherwise).
struct HyperSleep(Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Sleep>()
};

macro_rules! hyper_read {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> ::hyper::rt::Read for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                mut buf: ::hyper::rt::ReadBufCursor<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                // SAFETY: the read only writes into the cursor's unfilled memory, and `advance`
                // below covers exactly the bytes it wrote.
                let unfilled = unsafe { buf.as_mut() };
                let n = ::std::task::ready!(self.get_mut().poll_read_uninit(cx, unfilled))?;
                // SAFETY: the kernel initialised these `n` bytes.
                unsafe { buf.advance(n) };
                ::std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

macro_rules! hyper_write {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> ::hyper::rt::Write for $ty {
            super::write_methods!(poll_shutdown);

            fn is_write_vectored(&self) -> bool {
                true
            }
        }
    };
}

super::for_each_stream!(hyper_read, hyper_write);
