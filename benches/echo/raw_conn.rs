//! What the two hand-written loops share: one connection's record, and accepting them all.

use std::net::{TcpListener, TcpStream};

use super::BUFFER;

/// One connection: its socket, and the bytes received but not yet sent back.
pub struct Conn {
    pub stream: TcpStream,
    pub buf: Box<[u8]>,
    /// `buf[start..end]` is still to be sent.
    pub start: usize,
    pub end: usize,
}

/// Accepts `conns` connections (Nagle off), handing each to `setup` with its index before it is
/// kept; the slots are `None` once a connection has closed.
pub fn accept_all(
    listener: &TcpListener,
    conns: usize,
    mut setup: impl FnMut(usize, &TcpStream) -> Result<(), String>,
) -> Result<Vec<Option<Conn>>, String> {
    let mut slots = Vec::with_capacity(conns);
    for id in 0..conns {
        let (stream, _) = listener.accept().map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        setup(id, &stream)?;
        slots.push(Some(Conn {
            stream,
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
        }));
    }
    Ok(slots)
}
