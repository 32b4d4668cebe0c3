//! [`TcpListener`].

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};

use super::{TcpSocket, TcpStream};
use crate::driver::ops::Accept;
use crate::driver::{Op, SharedFd};
use crate::net::socket;

/// How many connections the kernel may queue before `accept` takes them.
const BACKLOG: u32 = 4096;

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
    pub(crate) fn from_fd(fd: SharedFd) -> TcpListener {
        TcpListener { fd }
    }

    /// Binds to `addr` (with `SO_REUSEADDR`, so a restarted server can bind again at once) and
    /// starts listening. Port 0 picks a free port: see [`local_addr`](Self::local_addr).
    ///
    /// Binding is synchronous (it never waits), so this is not `async`; it needs no runtime. For
    /// other options, configure a [`TcpSocket`] and call its [`listen`](TcpSocket::listen).
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Self::bind_with(addr, false)
    }

    /// Binds to `addr` with `SO_REUSEPORT` as well as `SO_REUSEADDR`, and starts listening:
    /// several listeners (one per worker thread, say) may then share one port, and the kernel
    /// spreads the incoming connections over them.
    ///
    /// ```
    /// use runtime::net::TcpListener;
    ///
    /// let first = TcpListener::bind_reuseport("127.0.0.1:0")?;
    /// let second = TcpListener::bind_reuseport(first.local_addr()?)?;
    /// assert_eq!(first.local_addr()?, second.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_reuseport(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Self::bind_with(addr, true)
    }

    fn bind_with(addr: impl ToSocketAddrs, reuseport: bool) -> io::Result<TcpListener> {
        socket::each_addr(addr, |addr| {
            let socket = TcpSocket::new_for(&addr)?;
            socket.set_reuseaddr(true)?;
            if reuseport {
                socket.set_reuseport(true)?;
            }
            socket.bind(addr)?;
            socket.listen(BACKLOG)
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

    /// Hands the listener over to `std`, still in non-blocking mode (as tokio does: call
    /// `set_nonblocking(false)` for blocking use).
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let listener = runtime::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// let listener = listener.into_std()?;
    /// assert_eq!(listener.local_addr()?, addr);
    /// let listener = runtime::net::TcpListener::from_std(listener)?; // and back
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// Under io_uring, when the runtime holds a connection that a cancelled `accept` took: accept
    /// it first. Or what duplicating the descriptor says (`EMFILE`).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        socket::into_std(self.fd).map(std::net::TcpListener::from)
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.raw()
    }
}

socket::impl_as_fd!(TcpListener);
