//! Every IO operation, each in its own file, each with its readiness face and its completion face
//! side by side (see [`Operation`](super::op::Operation)).

mod accept;
mod connect;
pub(crate) mod fs;
pub(crate) mod peek;
mod poll_io;
mod read_ready;
mod recv;
mod recv_from;
mod send;
mod send_to;
mod vectored;

pub(crate) use accept::Accept;
pub(crate) use connect::Connect;
pub(crate) use poll_io::{PollRecv, PollSend};
pub(crate) use read_ready::ReadReady;
pub(crate) use recv::Recv;
pub(crate) use recv_from::RecvFrom;
pub(crate) use send::Send;
pub(crate) use send_to::SendTo;
pub(crate) use vectored::{ReadV, WriteV};

/// Wraps a raw descriptor returned by the kernel.
fn owned_fd(fd: usize) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: callers pass a descriptor the kernel just created for us (accept's result), which
    // nobody else owns.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) }
}

/// The peer address of a connected socket (`getpeername`): an accepted connection taken from the
/// stash, or the sender of a datagram kept by a cancelled `recv`.
#[cfg(feature = "io-uring")]
fn peer_of(fd: std::os::fd::RawFd) -> std::io::Result<crate::driver::sockaddr::SockAddr> {
    let mut addr = crate::driver::sockaddr::SockAddr::empty();
    // SAFETY: `addr` is writable for `len` bytes, which the kernel updates.
    crate::driver::syscall::syscall!(other_syscalls, unsafe {
        libc::getpeername(fd, addr.as_mut_ptr(), &mut addr.len)
    })?;
    Ok(addr)
}
