//! The floor for the readiness model: what the kernel costs with no runtime at all.
//!
//! One hand-written, level-triggered epoll loop: nonblocking sockets, no tasks, no wakers, no
//! timers. A readable socket gets one `read`, then one `write` of what was read. A short write
//! keeps the rest and waits for `EPOLLOUT` (switching the interest with `epoll_ctl`), and the
//! socket is read again only once everything went out. Per echo that is a read, a write and a
//! share of one `epoll_wait`.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::meter::{Meter, ServerMeasure};
use super::raw_conn::{accept_all, Conn};
use super::server::Ready;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 256;

/// Serves `conns` connections on the calling thread until every one has closed.
pub fn serve(conns: usize, ready: Ready) -> Result<ServerMeasure, String> {
    let meter = Meter::new(|| None);
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| ready.failed(e))?;
    // SAFETY: epoll_create1 takes no pointer; a non-negative result is a new descriptor we own.
    let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if epoll < 0 {
        return Err(ready.failed(io::Error::last_os_error()));
    }
    // SAFETY: `epoll` is a fresh descriptor that nothing else owns.
    let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
    meter.attach();
    ready.listening(listener.local_addr().map_err(|e| ready.failed(e))?);

    let mut slots = accept_all(&listener, conns, |id, stream| {
        stream.set_nonblocking(true).map_err(|e| e.to_string())?;
        control(&epoll, libc::EPOLL_CTL_ADD, stream, libc::EPOLLIN, id)
    })?;
    meter.start();

    let mut open = conns;
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; EVENTS];
    while open > 0 {
        // SAFETY: `events` is a writable array of EVENTS entries and we pass that length.
        let n =
            unsafe { libc::epoll_wait(epoll.as_raw_fd(), events.as_mut_ptr(), EVENTS as i32, -1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("epoll_wait: {e}"));
        }
        for event in &events[..n as usize] {
            let id = event.u64 as usize;
            let Some(conn) = slots[id].as_mut() else {
                continue;
            };
            if !echo(conn, &epoll, id, &meter) {
                // Closing the socket also takes it out of the epoll set.
                slots[id] = None;
                open -= 1;
                meter.stop();
            }
        }
    }
    meter.finish().ok_or_else(|| "no load arrived".to_string())
}

/// Handles one readiness report; false when the connection is over (end of stream or an error
/// such as ECONNRESET).
fn echo(conn: &mut Conn, epoll: &OwnedFd, id: usize, meter: &Meter) -> bool {
    let waiting_to_write = conn.start < conn.end;
    if !waiting_to_write {
        match conn.stream.read(&mut conn.buf) {
            Ok(0) => return false,
            Ok(n) => (conn.start, conn.end) = (0, n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    while conn.start < conn.end {
        match conn.stream.write(&conn.buf[conn.start..conn.end]) {
            Ok(n) => conn.start += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // The socket's send buffer is full: wait until it drains.
                return waiting_to_write
                    || control(epoll, libc::EPOLL_CTL_MOD, &conn.stream, libc::EPOLLOUT, id)
                        .is_ok();
            }
            Err(_) => return false,
        }
    }
    meter.echoed(conn.end);
    (conn.start, conn.end) = (0, 0);
    // Written in full after a wait for EPOLLOUT: read again.
    !waiting_to_write
        || control(epoll, libc::EPOLL_CTL_MOD, &conn.stream, libc::EPOLLIN, id).is_ok()
}

/// `epoll_ctl(op)` for `stream`, watching `events`, tagged with the connection's `id`.
fn control(
    epoll: &OwnedFd,
    op: libc::c_int,
    stream: &TcpStream,
    events: libc::c_int,
    id: usize,
) -> Result<(), String> {
    let mut event = libc::epoll_event {
        events: events as u32,
        u64: id as u64,
    };
    // SAFETY: both descriptors are open (borrowed for the call) and `event` is a valid
    // epoll_event that the kernel only reads.
    let rc = unsafe { libc::epoll_ctl(epoll.as_raw_fd(), op, stream.as_raw_fd(), &mut event) };
    if rc < 0 {
        return Err(format!("epoll_ctl: {}", io::Error::last_os_error()));
    }
    Ok(())
}
