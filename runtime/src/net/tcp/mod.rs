//! TCP: [`TcpListener`], [`TcpStream`], and [`TcpSocket`] to configure either before it exists.

mod listener;
mod socket;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use stream::TcpStream;
