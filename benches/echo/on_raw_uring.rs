//! The floor for the completion model: what the kernel costs with no runtime at all.
//!
//! One hand-written io_uring loop, no tasks, no wakers, no timers. Every connection always has
//! exactly one operation in flight: a recv into its buffer, or a send of what that recv brought. A
//! recv completion queues the send of its bytes; a send completion queues the rest of a short send,
//! or the next recv. Each turn is one `io_uring_enter` (`submit_and_wait(1)`): it submits what the
//! previous turn queued and sleeps until something completes. The sockets stay blocking, so the
//! kernel waits for data itself (on an `O_NONBLOCK` socket a recv would complete with `EAGAIN`).

use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::fd::AsRawFd;

use io_uring::{opcode, types, IoUring};

use super::meter::{Meter, ServerMeasure};
use super::raw_conn::{accept_all, Conn};
use super::server::Ready;

/// The operation in the low bit of `user_data`; the connection's index is in the others.
const RECV: u64 = 0;
const SEND: u64 = 1;

/// Serves `conns` connections on the calling thread until every one has closed.
pub fn serve(conns: usize, ready: Ready) -> Result<ServerMeasure, String> {
    let meter = Meter::new(|| None);
    // With one operation in flight per connection, a turn reaps at most `conns` completions and
    // queues at most one entry for each: `conns` submission entries (and twice as many completion
    // entries, the default) never overflow. `queue` still copes with a full submission queue.
    let entries = conns.next_power_of_two().clamp(8, 4096) as u32;
    let mut ring = IoUring::new(entries).map_err(|e| ready.failed(e))?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| ready.failed(e))?;
    meter.attach();
    ready.listening(listener.local_addr().map_err(|e| ready.failed(e))?);

    let mut slots = accept_all(&listener, conns, |_, _| Ok(()))?;
    let result = run(&mut ring, &mut slots, &meter);
    if result.is_err() {
        // Operations may still be in flight into the buffers: never free memory the kernel may
        // still write to.
        std::mem::forget(slots);
    }
    result?;
    meter.finish().ok_or_else(|| "no load arrived".to_string())
}

/// Echoes until every connection has closed.
fn run(ring: &mut IoUring, slots: &mut [Option<Conn>], meter: &Meter) -> Result<(), String> {
    for (id, slot) in slots.iter_mut().enumerate() {
        if let Some(conn) = slot {
            queue(ring, conn, id, RECV)?;
        }
    }
    meter.start();
    let mut open = slots.len();
    let mut done: Vec<(u64, i32)> = Vec::with_capacity(slots.len());
    while open > 0 {
        match ring.submit_and_wait(1) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // Completions piled up (cannot happen with the sizes above): reap, then go on.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            Err(e) => return Err(format!("io_uring_enter: {e}")),
        }
        // Copy the completions out first: handling them pushes entries onto the same ring.
        done.clear();
        done.extend(ring.completion().map(|c| (c.user_data(), c.result())));
        for &(data, result) in &done {
            let id = (data >> 1) as usize;
            let Some(conn) = slots[id].as_mut() else {
                continue;
            };
            // result: bytes moved, 0 at end of stream, or -errno (ECONNRESET, ...).
            let next = match (data & 1, result) {
                (_, ..=0) => None,
                (RECV, n) => {
                    (conn.start, conn.end) = (0, n as usize);
                    Some(SEND)
                }
                (_, n) => {
                    conn.start += n as usize;
                    if conn.start < conn.end {
                        Some(SEND) // a short send: send the rest
                    } else {
                        meter.echoed(conn.end);
                        Some(RECV)
                    }
                }
            };
            match next {
                Some(op) => queue(ring, conn, id, op)?,
                None => {
                    // No operation is in flight for it: closing is safe.
                    slots[id] = None;
                    open -= 1;
                    meter.stop();
                }
            }
        }
    }
    Ok(())
}

/// Queues connection `id`'s next operation; it reaches the kernel with the next turn.
fn queue(ring: &mut IoUring, conn: &mut Conn, id: usize, op: u64) -> Result<(), String> {
    let fd = types::Fd(conn.stream.as_raw_fd());
    let entry = if op == RECV {
        opcode::Recv::new(fd, conn.buf.as_mut_ptr(), conn.buf.len() as u32).build()
    } else {
        let rest = &conn.buf[conn.start..conn.end];
        opcode::Send::new(fd, rest.as_ptr(), rest.len() as u32)
            .flags(libc::MSG_NOSIGNAL)
            .build()
    };
    let entry = entry.user_data(((id as u64) << 1) | op);
    loop {
        // SAFETY: the entry points into `conn.buf`, a boxed slice whose memory never moves, and
        // uses `conn.stream`'s descriptor. Both live until the connection is dropped, which
        // happens only once this operation has completed (a connection has one operation in
        // flight), or never when the loop fails (`serve` leaks the connections).
        if unsafe { ring.submission().push(&entry) }.is_ok() {
            return Ok(());
        }
        // The submission queue is full: hand its entries to the kernel now.
        ring.submit().map_err(|e| format!("io_uring_enter: {e}"))?;
    }
}
