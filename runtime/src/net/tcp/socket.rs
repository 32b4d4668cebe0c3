//! [`TcpSocket`]: a TCP socket configured before it becomes a listener or a connection.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use super::{TcpListener, TcpStream};
use crate::driver::ops::Connect;
use crate::driver::sockaddr::SockAddr;
use crate::driver::{Op, SharedFd};
use crate::net::socket;

/// A TCP socket not yet listening or connected, for the options that must be set before `bind`,
/// `listen` or `connect` (as tokio's `TcpSocket`): address and port reuse, buffer sizes,
/// `TCP_NODELAY`, lingering. [`listen`](Self::listen) turns it into a [`TcpListener`],
/// [`connect`](Self::connect) into a [`TcpStream`].
///
/// Creating, configuring, binding and listening never wait, so they need no runtime; only
/// `connect` is `async`.
///
/// ```
/// use runtime::net::TcpSocket;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let socket = TcpSocket::new_v4()?;
/// socket.set_reuseaddr(true)?;
/// socket.bind("127.0.0.1:0".parse().unwrap())?;
/// let listener = socket.listen(128)?;
///
/// let client = TcpSocket::new_v4()?;
/// client.set_nodelay(true)?;
/// client.set_recv_buffer_size(64 * 1024)?;
/// let stream = client.connect(listener.local_addr()?).await?;
/// assert!(stream.nodelay()?);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpSocket {
    fd: OwnedFd,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    pub fn new_v4() -> io::Result<TcpSocket> {
        Self::new(libc::AF_INET)
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    pub fn new_v6() -> io::Result<TcpSocket> {
        Self::new(libc::AF_INET6)
    }

    /// A new socket of the family of `addr`.
    pub(crate) fn new_for(addr: &SocketAddr) -> io::Result<TcpSocket> {
        Self::new(socket::domain_of(addr))
    }

    fn new(domain: libc::c_int) -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            fd: socket::new_socket(domain, libc::SOCK_STREAM)?,
        })
    }

    /// `SO_REUSEADDR`: bind to an address that connections of an earlier process are still
    /// leaving (`TIME_WAIT`), so a restarted server can bind again at once.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        socket::set_flag(self.raw(), libc::SOL_SOCKET, libc::SO_REUSEADDR, reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        socket::flag(self.raw(), libc::SOL_SOCKET, libc::SO_REUSEADDR)
    }

    /// `SO_REUSEPORT`: several sockets (of the same user), each with this set, may bind the same
    /// address and port; the kernel spreads incoming connections over those listening — one
    /// listener per worker thread, for instance.
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        socket::set_flag(self.raw(), libc::SOL_SOCKET, libc::SO_REUSEPORT, reuseport)
    }

    /// Whether `SO_REUSEPORT` is set.
    pub fn reuseport(&self) -> io::Result<bool> {
        socket::flag(self.raw(), libc::SOL_SOCKET, libc::SO_REUSEPORT)
    }

    /// `SO_SNDBUF`: the size of the kernel's send buffer. Linux doubles the value (for its own
    /// bookkeeping) and caps it at `net.core.wmem_max`; [`send_buffer_size`](Self::send_buffer_size)
    /// reports what it chose.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        socket::set_int_option(self.raw(), libc::SOL_SOCKET, libc::SO_SNDBUF, clamp(size))
    }

    /// The size of the kernel's send buffer.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        socket::get_int_option(self.raw(), libc::SOL_SOCKET, libc::SO_SNDBUF).map(|n| n as u32)
    }

    /// `SO_RCVBUF`: the size of the kernel's receive buffer (doubled and capped at
    /// `net.core.rmem_max`, as for [`set_send_buffer_size`](Self::set_send_buffer_size)). Set it
    /// before `connect` or `listen` for it to shape the TCP window.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        socket::set_int_option(self.raw(), libc::SOL_SOCKET, libc::SO_RCVBUF, clamp(size))
    }

    /// The size of the kernel's receive buffer.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        socket::get_int_option(self.raw(), libc::SOL_SOCKET, libc::SO_RCVBUF).map(|n| n as u32)
    }

    /// `TCP_NODELAY`: turns Nagle's algorithm off (`true`), so small writes go out at once. The
    /// connection (or the connections accepted) keep it.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        socket::set_flag(self.raw(), libc::IPPROTO_TCP, libc::TCP_NODELAY, nodelay)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        socket::flag(self.raw(), libc::IPPROTO_TCP, libc::TCP_NODELAY)
    }

    /// `SO_LINGER`; see [`TcpStream::set_linger`].
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        socket::set_linger(self.raw(), linger)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        socket::linger(self.raw())
    }

    /// Binds the socket to `addr` (port 0 picks a free port: see
    /// [`local_addr`](Self::local_addr)).
    ///
    /// # Errors
    /// What `bind(2)` says, e.g. `AddrInUse`, or `InvalidInput` for an address of the other
    /// family.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        socket::bind(self.raw(), &SockAddr::from_std(addr))
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket::local_addr(self.raw())
    }

    /// Starts listening, with at most `backlog` connections waiting for `accept` (the kernel also
    /// caps it at `net.core.somaxconn`). An unbound socket gets a free port.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = backlog.min(i32::MAX as u32) as i32;
        socket::listen(self.raw(), backlog)?;
        Ok(TcpListener::from_fd(SharedFd::new(self.fd)))
    }

    /// Connects to `addr` and waits for the handshake to end.
    ///
    /// # Errors
    /// What `connect(2)` says, e.g. `ConnectionRefused`.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let fd = SharedFd::new(self.fd);
        Op::new(Connect::new(&fd, SockAddr::from_std(addr))).await?;
        Ok(TcpStream::from_fd(fd))
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A buffer size as the `int` the kernel takes.
fn clamp(size: u32) -> libc::c_int {
    size.min(libc::c_int::MAX as u32) as libc::c_int
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
