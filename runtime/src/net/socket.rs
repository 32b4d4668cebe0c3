//! Creating and configuring sockets: the synchronous syscalls that never block (`socket`, `bind`,
//! `listen`, `setsockopt`, `getsockname`, `shutdown`). The ones that wait are operations
//! (`crate::driver::ops`).

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::driver::sockaddr::SockAddr;
use crate::driver::syscall::syscall;

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

pub(crate) fn set_int_option(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is a live c_int of the size we pass.
    syscall!(other_syscalls, unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

pub(crate) fn get_int_option(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are writable and sized as we say.
    syscall!(other_syscalls, unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            &mut value as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    })?;
    Ok(value)
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
