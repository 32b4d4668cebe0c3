//! Unix-domain stream sockets: [`UnixListener`] and [`UnixStream`].

use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::driver::ops::{Accept, Connect};
use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;
use crate::driver::{Op, SharedFd};
use crate::net::poll_io::{poll_io, PollIo};
use crate::net::socket;
use crate::net::split::{self, ReadHalf, WriteHalf};
use crate::net::stream_io::stream_io;

/// A Unix-domain socket listening for connections at a path.
#[derive(Debug)]
pub struct UnixListener {
    fd: SharedFd,
}

impl UnixListener {
    /// Binds to `path` (which must not exist yet) and listens.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let fd = socket::new_socket(libc::AF_UNIX, libc::SOCK_STREAM)?;
        socket::bind(fd.as_raw_fd(), &SockAddr::unix(path.as_ref())?)?;
        socket::listen(fd.as_raw_fd(), 1024)?;
        Ok(UnixListener {
            fd: SharedFd::new(fd),
        })
    }

    /// Waits for a connection.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (fd, _) = Op::new(Accept::new(&self.fd)).await?;
        let stream = UnixStream::from_fd(SharedFd::new(fd));
        let addr = stream.peer_addr()?;
        Ok((stream, addr))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        with_std(self.fd.raw(), |s| s.local_addr())
    }

    /// Wraps a listening `std` listener (made non-blocking here).
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            fd: SharedFd::new(socket::from_std(listener)?),
        })
    }

    /// Hands the listener over to `std`, still in non-blocking mode (as tokio does: call
    /// `set_nonblocking(false)` for blocking use).
    ///
    /// # Errors
    /// Under io_uring, when the runtime holds a connection that a cancelled `accept` took: accept
    /// it first. Or what duplicating the descriptor says (`EMFILE`).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        socket::into_std(self.fd).map(std::os::unix::net::UnixListener::from)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.raw()
    }
}

socket::impl_as_fd!(UnixListener);

/// A Unix-domain stream connection, with owned-buffer IO like [`TcpStream`](super::TcpStream).
#[derive(Debug)]
pub struct UnixStream {
    fd: SharedFd,
    /// The pending waits of `poll_read`/`poll_write`.
    poll: PollIo,
}

impl UnixStream {
    fn from_fd(fd: SharedFd) -> UnixStream {
        UnixStream {
            fd,
            poll: PollIo::default(),
        }
    }

    fn fd(&self) -> &SharedFd {
        &self.fd
    }

    /// Connects to the socket at `path`.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = SockAddr::unix(path.as_ref())?;
        let fd = SharedFd::new(socket::new_socket(libc::AF_UNIX, libc::SOCK_STREAM)?);
        Op::new(Connect::new(&fd, addr)).await?;
        Ok(UnixStream::from_fd(fd))
    }

    /// A pair of connected streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let mut fds = [0; 2];
        let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: `fds` has room for the two descriptors the kernel writes.
        syscall!(other_syscalls, unsafe {
            libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr())
        })?;
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok((
            UnixStream::from_fd(SharedFd::new(a)),
            UnixStream::from_fd(SharedFd::new(b)),
        ))
    }

    /// Wraps a connected `std` stream (made non-blocking here).
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream::from_fd(SharedFd::new(socket::from_std(
            stream,
        )?)))
    }

    /// Hands the stream over to `std`, still in non-blocking mode (as tokio does: call
    /// `set_nonblocking(false)` for blocking use).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let (ours, theirs) = runtime::net::UnixStream::pair()?;
    /// let mut ours = ours.into_std()?;
    /// ours.set_nonblocking(false)?;
    /// ours.write_all(b"ping")?;
    /// let (res, buf) = theirs.read_exact(Vec::with_capacity(4)).await;
    /// res?;
    /// assert_eq!(buf, b"ping");
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// Under io_uring, when the runtime holds bytes received for the stream that no read took
    /// yet (those of a cancelled read, or read ahead by multishot receive): `std` would never see
    /// them, so read them first. Or what duplicating the descriptor says (`EMFILE`).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        socket::into_std(self.fd).map(std::os::unix::net::UnixStream::from)
    }

    /// The peer's address (usually unnamed for a client).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        with_std(self.fd.raw(), |s| s.peer_addr())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        with_std(self.fd.raw(), |s| s.local_addr())
    }

    /// Shuts down one or both directions.
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        socket::shutdown(self.fd.raw(), how)
    }

    /// Splits the stream into a read half and a write half, usable from two tasks.
    pub fn into_split(self) -> (ReadHalf<UnixStream>, WriteHalf<UnixStream>) {
        let fd = self.fd.clone();
        split::split(self, &fd)
    }
}

stream_io!(read, [] UnixStream);
stream_io!(write, [] UnixStream);
poll_io!(read, [] UnixStream);
poll_io!(write, [] UnixStream);

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.raw()
    }
}

socket::impl_as_fd!(UnixStream);

/// Lends `fd` to `std`'s Unix socket type, which can build `SocketAddr` values (it has no public
/// constructor for an unnamed address).
fn with_std<T>(
    fd: RawFd,
    f: impl FnOnce(&std::os::unix::net::UnixStream) -> io::Result<T>,
) -> io::Result<T> {
    // SAFETY: `fd` is a live socket owned by the caller; ManuallyDrop keeps std from closing it.
    let lent = ManuallyDrop::new(unsafe { std::os::unix::net::UnixStream::from_raw_fd(fd) });
    f(&lent)
}
