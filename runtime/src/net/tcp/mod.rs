//! TCP: [`TcpListener`] and [`TcpStream`].

mod listener;
mod stream;

pub use listener::TcpListener;
pub use stream::TcpStream;
