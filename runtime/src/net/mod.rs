//! Networking: TCP, UDP and Unix-domain sockets with owned-buffer IO.
//!
//! These types know nothing of the backend: each method builds an operation (`crate::driver::ops`)
//! and awaits it; the driver decides whether that means "wait for readiness, then copy" (epoll) or
//! "submit, then collect the completion" (io_uring).

mod poll_io;
pub(crate) mod socket;
mod split;
mod stream_io;
mod tcp;
mod udp;
mod unix;

pub use split::{ReadHalf, WriteHalf};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};
