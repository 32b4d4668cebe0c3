//! A small hand-written HTTP/1.1 responder, no hyper: what serving the two routes costs on the
//! runtime when nothing but the IO path and a few lines of parsing stand between the socket and the
//! answer.
//!
//! It answers `GET /` with `Hello, world!` and `POST /echo` (a `Content-Length` body) with the
//! body, with the same status line and headers as hyper's answers (`content-length`, then a
//! `date` — a fixed one here, where hyper formats the clock once a second); anything else closes
//! the connection. One request at a time, keep-alive. The same loop runs over two ways of moving
//! bytes ([`Io`]):
//!
//! - **owned**: the runtime's native `read(buf)` / `write_all(buf)`, the buffer handed over and
//!   given back (under io_uring the kernel copies straight into it);
//! - **poll**: `poll_read` / `poll_write` into borrowed slices, the path hyper's `Read`/`Write`
//!   take (readiness — under io_uring a `POLL_ADD` in the ring — then a non-blocking syscall).
//!
//! The two differ only in that, so their gap is the cost of the poll layer itself.

use std::future::poll_fn;
use std::io::{self, Write as _};
use std::sync::Arc;

use runtime::io::IoBuf;
use runtime::net::TcpStream;
use runtime::Backend;

use super::contender::Io;
use super::on_runtime::run_server;
use super::server::Ready;
use crate::meter::{Meter, ServerMeasure};

/// Room for the largest request (a 16 KiB body and its head) and then some.
const BUFFER: usize = 64 * 1024;

/// The whole answer to `GET /`.
const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\
    date: Sun, 06 Dec 2026 20:00:00 GMT\r\n\r\nHello, world!";

/// Serves `conns` connections with the responder on a runtime with `backend`.
pub fn serve(
    backend: Backend,
    io: Io,
    conns: usize,
    ready: Ready,
) -> Result<ServerMeasure, String> {
    match io {
        Io::Owned => run_server(backend, conns, ready, |stream, meter| {
            respond(Owned::new(stream), meter)
        }),
        Io::Poll => run_server(backend, conns, ready, |stream, meter| {
            respond(Polled::new(stream), meter)
        }),
    }
}

/// What the start of the input holds.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// Not a whole request head yet.
    Incomplete,
    /// `GET /`, whose head is this long.
    Get { len: usize },
    /// `POST /echo`: a head of `head` bytes and a body of `body` bytes (maybe not all here yet).
    Echo { head: usize, body: usize },
    /// Anything else.
    Unsupported,
}

fn parse(input: &[u8]) -> Parsed {
    let Some(end) = input.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Parsed::Incomplete;
    };
    let head = &input[..end + 2];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    match lines.next() {
        Some(b"GET / HTTP/1.1") => Parsed::Get { len: end + 4 },
        Some(b"POST /echo HTTP/1.1") => {
            let length = lines.find_map(|line| {
                let (name, value) = line.split_at(line.iter().position(|&b| b == b':')?);
                let value = std::str::from_utf8(&value[1..]).ok()?.trim();
                name.eq_ignore_ascii_case(b"content-length")
                    .then(|| value.parse::<usize>().ok())?
            });
            match length {
                Some(body) if end + 4 + body <= BUFFER => Parsed::Echo {
                    head: end + 4,
                    body,
                },
                _ => Parsed::Unsupported,
            }
        }
        _ => Parsed::Unsupported,
    }
}

/// A connection's bytes in and out, one way or the other (see the module documentation).
trait Transport {
    /// What was read and not consumed yet.
    fn input(&self) -> &[u8];
    /// Drops the first `n` bytes of the input.
    fn consume(&mut self, n: usize);
    /// Reads more input; `Ok(0)` at end of stream (or when the input is full).
    async fn read_more(&mut self) -> io::Result<usize>;
    /// Writes all of `bytes`.
    async fn write_static(&mut self, bytes: &'static [u8]) -> io::Result<()>;
    /// Writes all of `out`, and gives it back.
    async fn write_vec(&mut self, out: Vec<u8>) -> (io::Result<()>, Vec<u8>);
}

/// Serves one connection until the client leaves or asks for something else.
async fn respond(mut conn: impl Transport, meter: Arc<Meter>) {
    let mut out = Vec::with_capacity(BUFFER);
    loop {
        let done = match parse(conn.input()) {
            Parsed::Get { len } => {
                if conn.write_static(HELLO).await.is_err() {
                    break;
                }
                len
            }
            Parsed::Echo { head, body } if conn.input().len() >= head + body => {
                out.clear();
                let _ = write!(
                    out,
                    "HTTP/1.1 200 OK\r\ncontent-length: {body}\r\n\
                     date: Sun, 06 Dec 2026 20:00:00 GMT\r\n\r\n"
                );
                out.extend_from_slice(&conn.input()[head..head + body]);
                let (result, back) = conn.write_vec(out).await;
                out = back;
                if result.is_err() {
                    break;
                }
                head + body
            }
            Parsed::Incomplete | Parsed::Echo { .. } => match conn.read_more().await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            },
            Parsed::Unsupported => break,
        };
        meter.echoed(1);
        conn.consume(done);
    }
    meter.stop();
}

/// Owned-buffer IO: the input `Vec` itself goes to the kernel (its spare capacity is read into).
struct Owned {
    stream: TcpStream,
    input: Vec<u8>,
}

impl Owned {
    fn new(stream: TcpStream) -> Owned {
        Owned {
            stream,
            input: Vec::with_capacity(BUFFER),
        }
    }
}

impl Transport for Owned {
    fn input(&self) -> &[u8] {
        &self.input
    }

    fn consume(&mut self, n: usize) {
        self.input.drain(..n);
    }

    async fn read_more(&mut self) -> io::Result<usize> {
        let input = std::mem::take(&mut self.input);
        if input.len() == input.capacity() {
            self.input = input;
            return Ok(0);
        }
        let spare = input.len()..;
        let (result, buf) = self.stream.read(input.slice(spare)).await;
        self.input = buf.into_inner();
        result
    }

    async fn write_static(&mut self, bytes: &'static [u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await.0
    }

    async fn write_vec(&mut self, out: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        self.stream.write_all(out).await
    }
}

/// Poll-based IO: `poll_read` into a slice of a buffer this connection keeps, `poll_write` from
/// borrowed slices.
struct Polled {
    stream: TcpStream,
    buf: Box<[u8]>,
    filled: usize,
}

impl Polled {
    fn new(stream: TcpStream) -> Polled {
        Polled {
            stream,
            buf: vec![0; BUFFER].into_boxed_slice(),
            filled: 0,
        }
    }

    async fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = poll_fn(|cx| self.stream.poll_write(cx, bytes)).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

impl Transport for Polled {
    fn input(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    async fn read_more(&mut self) -> io::Result<usize> {
        let (stream, spare) = (&mut self.stream, &mut self.buf[self.filled..]);
        let n = poll_fn(|cx| stream.poll_read(cx, spare)).await?;
        self.filled += n;
        Ok(n)
    }

    async fn write_static(&mut self, bytes: &'static [u8]) -> io::Result<()> {
        self.write_all(bytes).await
    }

    async fn write_vec(&mut self, out: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        (self.write_all(&out).await, out)
    }
}
