//! [`TcpListener`].

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};

use super::TcpStream;
use crate::driver::ops::Accept;
use crate::driver::sockaddr::SockAddr;
use crate::driver::{Op, SharedFd};
use crate::net::socket;

/// How many connections the kernel may queue before `accept` takes them.
const BACKLOG: i32 = 4096;

/// A TCP socket listening for connections.
///
/// ```no_run
/// use runtime::net::TcpListener;
///
/// #[runtime::main]
/// async fn main() -> std::io::Result<()> {
///     let listener = TcpListener::bind("127.0.0.1:8080")?;
///     loop {
///         let (stream, peer) = listener.accept().await?;
///         runtime::spawn(async move {
///             println!("{peer} connected");
///             let (res, buf) = stream.read(vec![0u8; 1024]).await;
///             if let Ok(n) = res {
///                 let _ = stream.write_all(buf[..n].to_vec()).await;
///             }
///         });
///     }
/// }
/// ```
#[derive(Debug)]
pub struct TcpListener {
    fd: SharedFd,
}

impl TcpListener {
    /// Binds to `addr` (with `SO_REUSEADDR`, so a restarted server can bind again at once) and
    /// starts listening. Port 0 picks a free port: see [`local_addr`](Self::local_addr).
    ///
    /// Binding is synchronous (it never waits), so this is not `async`; it needs no runtime.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        socket::each_addr(addr, |addr| {
            let fd = socket::new_socket(socket::domain_of(&addr), libc::SOCK_STREAM)?;
            socket::set_int_option(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
            socket::bind(fd.as_raw_fd(), &SockAddr::from_std(addr))?;
            socket::listen(fd.as_raw_fd(), BACKLOG)?;
            Ok(TcpListener {
                fd: SharedFd::new(fd),
            })
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Errors concern this one attempt (e.g. `EMFILE` when the process is out of descriptors); the
    /// listener stays usable.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, addr) = Op::new(Accept::new(&self.fd)).await?;
        Ok((TcpStream::from_fd(SharedFd::new(fd)), addr.as_std()?))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket::local_addr(self.fd.raw())
    }

    /// Wraps a listening `std` listener (made non-blocking here).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            fd: SharedFd::new(socket::from_std(listener)?),
        })
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.raw()
    }
}
