//! Socket addresses in the kernel's format (`sockaddr_storage` + length), and back to `std`'s.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// A socket address as the kernel reads or writes it.
#[derive(Clone, Copy)]
pub(crate) struct SockAddr {
    pub(crate) storage: libc::sockaddr_storage,
    pub(crate) len: libc::socklen_t,
}

impl std::fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_std() {
            Ok(a) => write!(f, "{a}"),
            Err(_) => write!(f, "SockAddr(family {})", self.storage.ss_family),
        }
    }
}

impl SockAddr {
    /// Room for the kernel to write any address into.
    pub(crate) fn empty() -> SockAddr {
        SockAddr {
            // SAFETY: sockaddr_storage is plain data; all-zero is a valid (AF_UNSPEC) value.
            storage: unsafe { mem::zeroed() },
            len: mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t,
        }
    }

    pub(crate) fn as_ptr(&self) -> *const libc::sockaddr {
        &self.storage as *const _ as *const libc::sockaddr
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        &mut self.storage as *mut _ as *mut libc::sockaddr
    }

    pub(crate) fn from_std(addr: SocketAddr) -> SockAddr {
        let mut out = SockAddr::empty();
        match addr {
            SocketAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr type.
                unsafe { *(out.as_mut_ptr() as *mut libc::sockaddr_in) = sin };
                out.len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            SocketAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.ip().octets(),
                    },
                    sin6_scope_id: a.scope_id(),
                };
                // SAFETY: as above.
                unsafe { *(out.as_mut_ptr() as *mut libc::sockaddr_in6) = sin6 };
                out.len = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            }
        }
        out
    }

    /// The address as `std`'s type; `InvalidInput` for families other than IPv4 and IPv6.
    pub(crate) fn as_std(&self) -> io::Result<SocketAddr> {
        match self.storage.ss_family as libc::c_int {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let sin = unsafe { &*(self.as_ptr() as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Ok(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let sin6 = unsafe { &*(self.as_ptr() as *const libc::sockaddr_in6) };
                Ok(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            family => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not an IP socket address (family {family})"),
            )),
        }
    }
}

impl SockAddr {
    /// A Unix-domain address for `path`, as `std` builds it: `InvalidInput` when the path holds a
    /// NUL byte (the kernel would read only up to it: another path) or is too long. The empty
    /// path is the bare family, which `bind` answers with an address of the kernel's choosing.
    pub(crate) fn unix(path: &std::path::Path) -> io::Result<SockAddr> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        if bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("Unix socket path contains a NUL byte: {path:?}"),
            ));
        }
        let mut out = SockAddr::empty();
        // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_un.
        let sun = unsafe { &mut *(out.as_mut_ptr() as *mut libc::sockaddr_un) };
        if bytes.len() >= sun.sun_path.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Unix socket path is longer than the kernel allows (108 bytes)",
            ));
        }
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (dst, src) in sun.sun_path.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        let base = std::mem::offset_of!(libc::sockaddr_un, sun_path);
        // The terminating NUL counts, except for the empty path.
        let terminator = usize::from(!bytes.is_empty());
        out.len = (base + bytes.len() + terminator) as libc::socklen_t;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for a in ["127.0.0.1:8080", "[::1]:9"] {
            let addr: SocketAddr = a.parse().unwrap();
            assert_eq!(SockAddr::from_std(addr).as_std().unwrap(), addr);
        }
    }

    #[test]
    fn unix_paths_like_std() {
        use std::path::Path;
        let base = std::mem::offset_of!(libc::sockaddr_un, sun_path);
        let addr = SockAddr::unix(Path::new("/tmp/sock")).unwrap();
        assert_eq!(addr.len as usize, base + "/tmp/sock".len() + 1);
        assert_eq!(SockAddr::unix(Path::new("")).unwrap().len as usize, base);
        for bad in ["/tmp/a\0b", "\0abstract", "/tmp/end\0"] {
            let err = SockAddr::unix(Path::new(bad)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        let long = "x".repeat(108);
        assert!(SockAddr::unix(Path::new(&long)).is_err());
        assert!(SockAddr::unix(Path::new(&long[1..])).is_ok());
    }
}
