//! Creating and configuring sockets: the synchronous syscalls that never block (`socket`, `bind`,
//! `listen`, `setsockopt`, `getsockname`, `shutdown`), and handing descriptors to and from `std`.
//! The syscalls that wait are operations (`crate::driver::ops`).

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;
use crate::driver::SharedFd;

/// A new non-blocking, close-on-exec socket.
pub(crate) fn new_socket(domain: libc::c_int, ty: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: no pointers; flags are valid constants.
    let fd = syscall!(other_syscalls, unsafe {
        libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0)
    })?;
    // SAFETY: `fd` was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn domain_of(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

/// `setsockopt` with a value of type `T` (an `int`, a `linger`, an `ip_mreq`, ...).
pub(crate) fn set_option<T>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is a live `T` of the size we pass.
    syscall!(other_syscalls, unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockopt` of a value of type `T`, which must be plain data (any bit pattern valid).
pub(crate) fn get_option<T: Copy>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<T> {
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` and `len` are writable and sized as we say.
    syscall!(other_syscalls, unsafe {
        libc::getsockopt(fd, level, name, value.as_mut_ptr().cast(), &mut len)
    })?;
    // SAFETY: zeroed, then (partly) written by the kernel: callers use plain C structs and
    // integers, for which every bit pattern is a value.
    Ok(unsafe { value.assume_init() })
}

pub(crate) fn set_int_option(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    set_option(fd, level, name, &value)
}

pub(crate) fn get_int_option(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    get_option(fd, level, name)
}

/// A yes/no option (`SO_REUSEADDR`, `TCP_NODELAY`, ...).
pub(crate) fn set_flag(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    on: bool,
) -> io::Result<()> {
    set_int_option(fd, level, name, libc::c_int::from(on))
}

pub(crate) fn flag(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<bool> {
    Ok(get_int_option(fd, level, name)? != 0)
}

/// `SO_LINGER`: with `Some(t)`, closing the socket waits up to `t` (whole seconds) for unsent
/// data to go out, and `Some(ZERO)` resets the connection on close; `None` closes in the
/// background (the default).
pub(crate) fn set_linger(fd: RawFd, linger: Option<std::time::Duration>) -> io::Result<()> {
    let value = libc::linger {
        l_onoff: libc::c_int::from(linger.is_some()),
        l_linger: linger.map_or(0, |t| {
            t.as_secs().min(libc::c_int::MAX as u64) as libc::c_int
        }),
    };
    set_option(fd, libc::SOL_SOCKET, libc::SO_LINGER, &value)
}

pub(crate) fn linger(fd: RawFd) -> io::Result<Option<std::time::Duration>> {
    let value: libc::linger = get_option(fd, libc::SOL_SOCKET, libc::SO_LINGER)?;
    Ok((value.l_onoff != 0).then(|| std::time::Duration::from_secs(value.l_linger as u64)))
}

pub(crate) fn bind(fd: RawFd, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: `addr` is a valid address of `len` bytes.
    syscall!(other_syscalls, unsafe {
        libc::bind(fd, addr.as_ptr(), addr.len)
    })?;
    Ok(())
}

pub(crate) fn listen(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: no pointers.
    syscall!(other_syscalls, unsafe { libc::listen(fd, backlog) })?;
    Ok(())
}

pub(crate) fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    let mut addr = SockAddr::empty();
    // SAFETY: `addr` is writable for `len` bytes, which the kernel updates.
    syscall!(other_syscalls, unsafe {
        libc::getsockname(fd, addr.as_mut_ptr(), &mut addr.len)
    })?;
    addr.as_std()
}

pub(crate) fn peer_addr(fd: RawFd) -> io::Result<SocketAddr> {
    let mut addr = SockAddr::empty();
    // SAFETY: as in local_addr.
    syscall!(other_syscalls, unsafe {
        libc::getpeername(fd, addr.as_mut_ptr(), &mut addr.len)
    })?;
    addr.as_std()
}

pub(crate) fn shutdown(fd: RawFd, how: std::net::Shutdown) -> io::Result<()> {
    let how = match how {
        std::net::Shutdown::Read => libc::SHUT_RD,
        std::net::Shutdown::Write => libc::SHUT_WR,
        std::net::Shutdown::Both => libc::SHUT_RDWR,
    };
    // SAFETY: no pointers.
    syscall!(other_syscalls, unsafe { libc::shutdown(fd, how) })?;
    Ok(())
}

/// Resolves `addr` and tries `f` on each address in turn; the last error if none works.
pub(crate) fn each_addr<T>(
    addr: impl ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match f(a) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to try")))
}

/// Sets a std socket non-blocking and takes its descriptor.
pub(crate) fn from_std(fd: impl Into<OwnedFd>) -> io::Result<OwnedFd> {
    let fd: OwnedFd = fd.into();
    // SAFETY: no pointers; F_GETFL/F_SETFL on a descriptor we own.
    let flags = syscall!(other_syscalls, unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_GETFL)
    })?;
    // SAFETY: as above.
    syscall!(other_syscalls, unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK)
    })?;
    Ok(fd)
}

/// The descriptor of a socket leaving the runtime, for a `std` type to own (`into_std`).
///
/// A [`SharedFd`] cannot simply give its descriptor away: an operation cancelled under io_uring
/// keeps a clone until its completion arrives, and the drivers release their registration when the
/// last clone goes. So the `std` value gets a duplicate (`F_DUPFD_CLOEXEC`) of the same open socket
/// — same connection, same options, still non-blocking, as tokio's `into_std` leaves it — and
/// `fd` is released as usual. Under epoll the socket is first taken out of the epoll set
/// (`SharedFd::detach`): the kernel keys registrations by open socket, so the duplicate would
/// otherwise keep waking the runtime's wait with events for a freed token.
///
/// # Errors
/// When the runtime holds what the kernel already delivered for the socket and nobody took yet
/// (io_uring: the bytes of a cancelled read or of a multishot receive's read-ahead, the
/// connection of a cancelled accept): the `std` value would never see it. Read or accept it
/// first.
pub(crate) fn into_std(fd: SharedFd) -> io::Result<OwnedFd> {
    if holds_delivered(&fd) {
        return Err(io::Error::other(
            "the runtime holds data already received for this socket (from a cancelled read or \
             accept, or read ahead): read or accept it before calling into_std",
        ));
    }
    fd.detach();
    // SAFETY: no pointers; duplicating a descriptor `fd` keeps open.
    let dup = syscall!(other_syscalls, unsafe {
        libc::fcntl(fd.raw(), libc::F_DUPFD_CLOEXEC, 0)
    })?;
    // SAFETY: `dup` was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}

/// Whether the descriptor's stash holds anything (io_uring only has one).
#[cfg(feature = "io-uring")]
fn holds_delivered(fd: &SharedFd) -> bool {
    fd.has_stashed()
}

#[cfg(not(feature = "io-uring"))]
fn holds_delivered(_: &SharedFd) -> bool {
    false
}

/// Implements `AsFd` for a socket type whose descriptor is its `fd: SharedFd` field.
macro_rules! impl_as_fd {
    ($ty:ty) => {
        impl ::std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                // SAFETY: `self.fd` keeps the descriptor open at least as long as `self` is
                // borrowed.
                unsafe { ::std::os::fd::BorrowedFd::borrow_raw(self.fd.raw()) }
            }
        }
    };
}

pub(crate) use impl_as_fd;
