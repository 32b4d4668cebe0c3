//! [`TcpStream`].

use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use super::TcpSocket;
use crate::buf::{BufResult, IoBufMut};
use crate::driver::ops::peek::Peek;
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
        TcpSocket::new_for(&addr)?.connect(addr).await
    }

    /// Wraps a connected `std` stream (made non-blocking here).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::from_fd(SharedFd::new(socket::from_std(stream)?)))
    }

    /// Hands the stream over to `std`, still in non-blocking mode (as tokio does: call
    /// `set_nonblocking(false)` for blocking use).
    ///
    /// ```
    /// use std::io::Read;
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// # let listener = runtime::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let client = runtime::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (server, _) = listener.accept().await?;
    /// let (res, _) = client.write_all("hi").await;
    /// res?;
    /// let mut server = server.into_std()?;
    /// server.set_nonblocking(false)?;
    /// let mut buf = [0; 2];
    /// server.read_exact(&mut buf)?; // a blocking read
    /// assert_eq!(&buf, b"hi");
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// Under io_uring, when the runtime holds bytes received for the stream that no read took
    /// yet (those of a cancelled read, or read ahead by multishot receive): `std` would never see
    /// them, so read them first. Or what duplicating the descriptor says (`EMFILE`).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        socket::into_std(self.fd).map(std::net::TcpStream::from)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        socket::peer_addr(self.fd.raw())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket::local_addr(self.fd.raw())
    }

    /// Reads what [`read`](Self::read) would read next, without taking it: the next read returns
    /// the same bytes. Waits, as a read does, until there is something to see (or end of stream:
    /// `Ok(0)`). A `Vec`'s length becomes the count seen.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// # let listener = runtime::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let client = runtime::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (stream, _) = listener.accept().await?;
    /// let (res, _) = client.write_all("GET / HTTP/1.1\r\n").await;
    /// res?;
    /// // Look at the first bytes to choose a protocol, then read as usual.
    /// let (res, first) = stream.peek(Vec::with_capacity(3)).await;
    /// assert_eq!(&first[..res?], b"GET");
    /// let (res, line) = stream.read_exact(Vec::with_capacity(16)).await;
    /// res?;
    /// assert_eq!(line, b"GET / HTTP/1.1\r\n");
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn peek<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        Op::new(Peek::new(&self.fd, buf)).await
    }

    /// Turns Nagle's algorithm off (`true`): small writes go out at once.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        socket::set_flag(self.fd.raw(), libc::IPPROTO_TCP, libc::TCP_NODELAY, nodelay)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        socket::flag(self.fd.raw(), libc::IPPROTO_TCP, libc::TCP_NODELAY)
    }

    /// `SO_LINGER`: with `Some(t)`, dropping the stream waits up to `t` (whole seconds) for
    /// unsent data to be sent, and `Some(Duration::ZERO)` resets the connection (the peer sees
    /// `ConnectionReset`) instead of closing it gracefully; `None`, the default, closes in the
    /// background.
    ///
    /// ```
    /// use std::time::Duration;
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// # let listener = runtime::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = runtime::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_linger(Some(Duration::from_secs(2)))?;
    /// assert_eq!(stream.linger()?, Some(Duration::from_secs(2)));
    /// stream.set_ttl(16)?;
    /// assert_eq!(stream.ttl()?, 16);
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        socket::set_linger(self.fd.raw(), linger)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        socket::linger(self.fd.raw())
    }

    /// `IP_TTL`: the time-to-live of the packets this stream sends (the hops they may take).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        let ttl = ttl.min(libc::c_int::MAX as u32) as libc::c_int;
        socket::set_int_option(self.fd.raw(), libc::IPPROTO_IP, libc::IP_TTL, ttl)
    }

    /// The `IP_TTL` setting.
    pub fn ttl(&self) -> io::Result<u32> {
        socket::get_int_option(self.fd.raw(), libc::IPPROTO_IP, libc::IP_TTL).map(|n| n as u32)
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

socket::impl_as_fd!(TcpStream);
