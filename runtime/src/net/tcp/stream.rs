//! [`TcpStream`].

use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};

use crate::driver::ops::Connect;
use crate::driver::sockaddr::SockAddr;
use crate::driver::{Op, SharedFd};
use crate::net::poll_io::{poll_io, PollIo};
use crate::net::socket;
use crate::net::split::{self, ReadHalf, WriteHalf};
use crate::net::stream_io::stream_io;

/// A TCP connection, with owned-buffer reads and writes.
///
/// Methods take `&self`, so the stream can be shared by reference; for two tasks, use
/// [`into_split`](Self::into_split).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let stream = runtime::net::TcpStream::connect("127.0.0.1:8080").await?;
/// let (res, _) = stream.write_all(b"hello\n".as_slice()).await;
/// res?;
/// let (res, buf) = stream.read(Vec::with_capacity(64)).await;
/// println!("{} bytes: {:?}", res?, buf);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TcpStream {
    fd: SharedFd,
    /// The pending waits of `poll_read`/`poll_write`.
    poll: PollIo,
}

impl TcpStream {
    pub(crate) fn from_fd(fd: SharedFd) -> TcpStream {
        TcpStream {
            fd,
            poll: PollIo::default(),
        }
    }

    fn fd(&self) -> &SharedFd {
        &self.fd
    }

    /// Connects to `addr`, trying each resolved address in turn.
    ///
    /// Name resolution (for names other than literal addresses) uses the system resolver and may
    /// block this thread briefly.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match Self::connect_one(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no addresses to connect to")
        }))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let fd = SharedFd::new(socket::new_socket(
            socket::domain_of(&addr),
            libc::SOCK_STREAM,
        )?);
        Op::new(Connect::new(&fd, SockAddr::from_std(addr))).await?;
        Ok(TcpStream::from_fd(fd))
    }

    /// Wraps a connected `std` stream (made non-blocking here).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::from_fd(SharedFd::new(socket::from_std(stream)?)))
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        socket::peer_addr(self.fd.raw())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket::local_addr(self.fd.raw())
    }

    /// Turns Nagle's algorithm off (`true`): small writes go out at once.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        socket::set_int_option(
            self.fd.raw(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            nodelay as i32,
        )
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(socket::get_int_option(self.fd.raw(), libc::IPPROTO_TCP, libc::TCP_NODELAY)? != 0)
    }

    /// Shuts down one or both directions. `Shutdown::Write` sends FIN: the peer reads end of
    /// stream, while this side can still read what the peer sends.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        socket::shutdown(self.fd.raw(), how)
    }

    /// Splits the stream into a read half and a write half, usable from two tasks.
    pub fn into_split(self) -> (ReadHalf<TcpStream>, WriteHalf<TcpStream>) {
        let fd = self.fd.clone();
        split::split(self, &fd)
    }
}

stream_io!(read, [] TcpStream);
stream_io!(write, [] TcpStream);
poll_io!(read, [] TcpStream);
poll_io!(write, [] TcpStream);

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.raw()
    }
}
