//! [`UdpSocket`].

use std::io;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};

use crate::buf::{BufResult, IoBuf, IoBufMut};
use crate::driver::ops::{Recv, RecvFrom, Send, SendTo};
use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;
use crate::driver::{Op, SharedFd};
use crate::net::socket;

/// A UDP socket. Each send is one datagram; each receive takes one datagram (the part that does
/// not fit the buffer is discarded, as with any UDP socket).
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// use runtime::net::UdpSocket;
/// let a = UdpSocket::bind("127.0.0.1:0")?;
/// let b = UdpSocket::bind("127.0.0.1:0")?;
/// let (res, _) = a.send_to(b"ping".as_slice(), b.local_addr()?).await;
/// res?;
/// let (res, buf) = b.recv_from(Vec::with_capacity(64)).await;
/// let (n, from) = res?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    fd: SharedFd,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0 picks a free port).
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        socket::each_addr(addr, |addr| {
            let fd = socket::new_socket(socket::domain_of(&addr), libc::SOCK_DGRAM)?;
            socket::bind(fd.as_raw_fd(), &SockAddr::from_std(addr))?;
            Ok(UdpSocket {
                fd: SharedFd::new(fd),
            })
        })
    }

    /// Sets the default destination for [`send`](Self::send) and the only source
    /// [`recv`](Self::recv) accepts. (A UDP connect sends nothing, so it does not wait.)
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        socket::each_addr(addr, |addr| {
            let addr = SockAddr::from_std(addr);
            // SAFETY: `addr` is a valid address of `len` bytes.
            syscall!(connect, unsafe {
                libc::connect(self.fd.raw(), addr.as_ptr(), addr.len)
            })
            .map(drop)
        })
    }

    /// Sends one datagram to `target`.
    pub async fn send_to<B: IoBuf>(&self, buf: B, target: SocketAddr) -> BufResult<usize, B> {
        Op::new(SendTo::new(&self.fd, buf, target)).await
    }

    /// Receives one datagram and the address it came from.
    pub async fn recv_from<B: IoBufMut>(&self, buf: B) -> BufResult<(usize, SocketAddr), B> {
        Op::new(RecvFrom::new(&self.fd, buf)).await
    }

    /// Sends one datagram to the connected address.
    pub async fn send<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        Op::new(Send::new(&self.fd, buf)).await
    }

    /// Receives one datagram from the connected address.
    pub async fn recv<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        Op::new(Recv::datagram(&self.fd, buf)).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket::local_addr(self.fd.raw())
    }

    /// The connected address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        socket::peer_addr(self.fd.raw())
    }

    /// Wraps a `std` socket (made non-blocking here).
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            fd: SharedFd::new(socket::from_std(socket)?),
        })
    }

    /// Hands the socket over to `std`, still in non-blocking mode (as tokio does: call
    /// `set_nonblocking(false)` for blocking use).
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let socket = runtime::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let addr = socket.local_addr()?;
    /// let socket = socket.into_std()?;
    /// assert_eq!(socket.local_addr()?, addr);
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// Under io_uring, when the runtime holds a datagram that a cancelled receive took: receive
    /// it first. Or what duplicating the descriptor says (`EMFILE`).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        socket::into_std(self.fd).map(std::net::UdpSocket::from)
    }

    /// `SO_BROADCAST`: allows sending to a broadcast address (`255.255.255.255`, or a subnet's).
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let socket = runtime::net::UdpSocket::bind("127.0.0.1:0")?;
    /// assert!(!socket.broadcast()?);
    /// socket.set_broadcast(true)?;
    /// assert!(socket.broadcast()?);
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        socket::set_flag(self.fd.raw(), libc::SOL_SOCKET, libc::SO_BROADCAST, on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        socket::flag(self.fd.raw(), libc::SOL_SOCKET, libc::SO_BROADCAST)
    }

    /// `IP_ADD_MEMBERSHIP`: receives the datagrams sent to the IPv4 multicast group `multiaddr`
    /// on the network interface whose address is `interface` (`Ipv4Addr::UNSPECIFIED`: the one
    /// the routing table picks). The socket must be bound to the group's port.
    ///
    /// # Errors
    /// What the kernel says, e.g. `InvalidInput` when `multiaddr` is not a multicast address, or
    /// `ENODEV` when no interface fits.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        let request = membership(multiaddr, interface);
        socket::set_option(
            self.fd.raw(),
            libc::IPPROTO_IP,
            libc::IP_ADD_MEMBERSHIP,
            &request,
        )
    }

    /// `IP_DROP_MEMBERSHIP`: leaves a group joined with
    /// [`join_multicast_v4`](Self::join_multicast_v4).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        let request = membership(multiaddr, interface);
        socket::set_option(
            self.fd.raw(),
            libc::IPPROTO_IP,
            libc::IP_DROP_MEMBERSHIP,
            &request,
        )
    }
}

/// The request of `IP_ADD_MEMBERSHIP` and `IP_DROP_MEMBERSHIP`.
fn membership(multiaddr: Ipv4Addr, interface: Ipv4Addr) -> libc::ip_mreq {
    libc::ip_mreq {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from_ne_bytes(multiaddr.octets()),
        },
        imr_interface: libc::in_addr {
            s_addr: u32::from_ne_bytes(interface.octets()),
        },
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.raw()
    }
}

socket::impl_as_fd!(UdpSocket);
