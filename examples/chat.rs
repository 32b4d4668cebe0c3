//! A chat room: every line a client sends goes to every other client, prefixed with its sender's
//! address; joins and leaves are announced.
//!
//! ```text
//! cargo run --release --example chat -- --addr 127.0.0.1:8081 [--slow-after-ms 5000] [--workers N]
//! nc 127.0.0.1 8081      # in two or more terminals
//! ```
//!
//! The classic select-based chat server writes to every client in turn, so one client that stops
//! reading stalls the room. Here the room is a `broadcast` channel: a reader task per client puts
//! its lines in, and a writer task per client takes every line out and writes it to its client.
//! Putting a line in never waits, and the channel keeps the last [`BACKLOG`] lines for everyone,
//! so memory does not grow with the number of slow clients.
//!
//! **Slow clients.** A burst — hundreds of lines in one packet, a storm of joins and leaves — is
//! not slowness: the readers yield every [`YIELD_EVERY`] lines so the writers drain the room as it
//! fills, and each writer sends everything waiting for it in one write. A client is *too slow*
//! only when it does not keep up over time, in two degrees:
//! - it falls more than [`BACKLOG`] lines behind (its writer could not even take lines out):
//!   the lines it missed are gone, and it is told how many (`* you missed N lines`);
//! - one write of at most [`MAX_BATCH`] bytes to it has not finished after `--slow-after-ms`
//!   (default 5 s): it is disconnected, and the others are told why.
//!
//! **Several workers.** With `--workers N` each worker accepts on its own `SO_REUSEPORT` listener
//! and keeps its own members; the room's channel is a `Send` broadcast
//! (`runtime::sync::shared::broadcast`), so a line said on one worker reaches the members of every
//! worker — each writer's wake-up crosses workers through the runtime's remote wakes.
//!
//! A new member is greeted with `* welcome, you are <addr>` once it is in the room, that is, once
//! it receives every line said after. (With several workers, two clients that connect one after
//! the other may be accepted by two workers in the other order: the greeting is what tells a
//! client it is in.)
//!
//! The first line printed is `listening on <addr>` (tests read it). Ctrl-C or `SIGTERM` stops it
//! and prints its counters.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use runtime::net::{TcpListener, TcpStream};
use runtime::sync::shared::broadcast::{self, RecvError, TryRecvError};
use runtime::sync::Notify;
use runtime::task::yield_now;
use runtime::time::timeout;

#[path = "common/serve.rs"]
mod serve;

/// Lines the room keeps for members that have not written them out yet.
const BACKLOG: usize = 1024;
/// A reader lets the writers run after broadcasting this many lines.
const YIELD_EVERY: usize = BACKLOG / 4;
/// The most bytes a writer sends in one write.
const MAX_BATCH: usize = 64 * 1024;
/// Longest line accepted; a longer one disconnects its sender (it could be endless).
const MAX_LINE: usize = 16 * 1024;

/// One line of the room, and who said it (`None` for the room's own notices).
struct Line {
    from: Option<u64>,
    text: String,
}

/// One connected client, as the room sees it.
struct Member {
    stream: Rc<TcpStream>,
    /// Tells the member's writer to stop.
    stop: Rc<Notify>,
}

/// The room as one worker sees it: its own members, by connection id, and the channel every line
/// of every worker goes through.
struct Room {
    members: RefCell<HashMap<u64, Member>>,
    lines: broadcast::Sender<Arc<Line>>,
    /// A write that takes longer than this means the client is too slow.
    slow_after: Duration,
}

impl Room {
    /// Sends `text` to every member but `from`.
    fn say(&self, from: Option<u64>, text: String) {
        // An error only means that nobody is listening.
        let _ = self.lines.send(Arc::new(Line { from, text }));
    }

    /// Takes a member out and stops its connection (its reader sees end of stream, its writer
    /// stops). `false` if it had already left.
    fn remove(&self, id: u64) -> bool {
        let Some(member) = self.members.borrow_mut().remove(&id) else {
            return false;
        };
        member.stop.notify_one();
        let _ = member.stream.shutdown(Shutdown::Both);
        true
    }
}

struct Args {
    addr: String,
    slow_after: Duration,
    workers: usize,
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        addr: "127.0.0.1:8081".to_string(),
        slow_after: Duration::from_secs(5),
        workers: 1,
    };
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--addr" => parsed.addr = value(),
            "--slow-after-ms" => {
                let ms = value()
                    .parse()
                    .unwrap_or_else(|e| usage(&format!("{arg}: {e}")));
                parsed.slow_after = Duration::from_millis(ms);
            }
            "--workers" => {
                parsed.workers = value()
                    .parse()
                    .unwrap_or_else(|e| usage(&format!("{arg}: {e}")));
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    parsed
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "chat: {problem} (usage: chat [--addr HOST:PORT] [--slow-after-ms MS] [--workers N])"
    );
    std::process::exit(2);
}

fn main() -> io::Result<()> {
    let args = parse_args();
    let rt = serve::runtime(args.workers);
    rt.block_on(async {
        // Members subscribe as they join; the first receiver is not needed.
        let lines = broadcast::channel(BACKLOG).0;
        let slow_after = args.slow_after;
        let addr = serve::listen_on_every_worker(&args.addr, move |listener| {
            let room = Rc::new(Room {
                members: RefCell::default(),
                lines: lines.clone(),
                slow_after,
            });
            accept_loop(listener, room)
        })?;
        let (workers, s) = serve::announce_and_wait(addr).await?;
        eprintln!(
            "chat: stopping: {} workers, {} tasks spawned, {} syscalls",
            workers,
            s.tasks_spawned,
            s.syscalls()
        );
        Ok(())
    })
}

/// Connection ids, unique across workers (a line carries its sender's id).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Accepts members into this worker's part of the room.
async fn accept_loop(listener: TcpListener, room: Rc<Room>) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                join(&room, id, Rc::new(stream), addr);
            }
            Err(e) => {
                eprintln!("chat: accept: {e}");
                runtime::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Adds a member: its writer task writes the room's lines out, its reader task says its lines.
fn join(room: &Rc<Room>, id: u64, stream: Rc<TcpStream>, addr: SocketAddr) {
    room.say(None, format!("* {addr} joined\n"));
    // Subscribed after the notice: a member is not told of its own arrival.
    let lines = room.lines.subscribe();
    let stop = Rc::new(Notify::new());
    let member = Member {
        stream: stream.clone(),
        stop: stop.clone(),
    };
    room.members.borrow_mut().insert(id, member);

    let writer_room = room.clone();
    let writer_stream = stream.clone();
    runtime::spawn(async move {
        let room = writer_room;
        // From here on the member receives every line: say so (clients may wait for it).
        let welcome = format!("* welcome, you are {addr}\n").into_bytes();
        if let (Err(_), _) = writer_stream.write_all(welcome).await {
            return;
        }
        let end = write_lines(id, lines, &writer_stream, &stop, room.slow_after).await;
        if end == WriterEnd::TooSlow && room.remove(id) {
            eprintln!("chat: {addr} disconnected: too slow");
            room.say(None, format!("* {addr} was disconnected: too slow\n"));
        }
    });

    let room = room.clone();
    runtime::spawn(async move {
        let reason = read_lines(&room, id, addr, &stream).await;
        if room.remove(id) {
            room.say(None, format!("* {addr} left ({reason})\n"));
        }
    });
}

/// Reads the member's lines and says each one; returns why it stopped.
async fn read_lines(room: &Room, id: u64, addr: SocketAddr, stream: &TcpStream) -> String {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = Vec::with_capacity(4096);
    loop {
        let (res, b) = stream.read(buf).await;
        match res {
            Ok(0) => return "closed".into(),
            Ok(_) => pending.extend_from_slice(&b),
            Err(e) => return e.to_string(),
        }
        buf = b;
        let mut said = 0;
        while let Some(end) = pending.iter().position(|&c| c == b'\n') {
            let line = String::from_utf8_lossy(&pending[..end]);
            let text = format!("[{addr}] {}\n", line.trim_end_matches('\r'));
            room.say(Some(id), text);
            pending.drain(..=end);
            said += 1;
            if said % YIELD_EVERY == 0 {
                // Let the writers take these lines out before the room's backlog overflows.
                yield_now().await;
            }
        }
        if pending.len() > MAX_LINE {
            return format!("line longer than {MAX_LINE} bytes");
        }
    }
}

/// Why a writer stopped.
#[derive(Debug, PartialEq, Eq)]
enum WriterEnd {
    /// The member was removed, or the room closed.
    Stopped,
    /// Writing to the connection failed.
    Failed,
    /// One write did not finish within the room's `slow_after`.
    TooSlow,
}

/// Writes the room's lines (except the member's own) to the member, each time everything waiting
/// in one write, until the member is stopped, the connection fails, or a write takes too long.
async fn write_lines(
    me: u64,
    mut lines: broadcast::Receiver<Arc<Line>>,
    stream: &TcpStream,
    stop: &Notify,
    slow_after: Duration,
) -> WriterEnd {
    loop {
        let Some(mut received) = unless_stopped(stop, lines.recv()).await else {
            return WriterEnd::Stopped;
        };
        // Everything else already waiting goes into the same write.
        let mut batch = Vec::new();
        loop {
            match received {
                Ok(line) if line.from == Some(me) => {}
                Ok(line) => batch.extend_from_slice(line.text.as_bytes()),
                Err(RecvError::Lagged(missed)) => batch.extend_from_slice(
                    format!("* you missed {missed} lines (your connection is too slow)\n")
                        .as_bytes(),
                ),
                Err(RecvError::Closed) => return WriterEnd::Stopped,
            }
            if batch.len() >= MAX_BATCH {
                break;
            }
            received = match lines.try_recv() {
                Ok(line) => Ok(line),
                Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
                Err(TryRecvError::Closed) => Err(RecvError::Closed),
                Err(TryRecvError::Empty) => break,
            };
        }
        if batch.is_empty() {
            continue;
        }
        match timeout(slow_after, stream.write_all(batch)).await {
            Ok((Ok(()), _)) => {}
            Ok((Err(_), _)) => return WriterEnd::Failed,
            Err(_) => return WriterEnd::TooSlow,
        }
    }
}

/// Runs `future` until it completes (`Some`) or `stop` is notified (`None`, and `future` is
/// dropped: `recv` is cancel-safe, so no line is lost).
async fn unless_stopped<F: Future>(stop: &Notify, future: F) -> Option<F::Output> {
    let mut stopped = pin!(stop.notified());
    let mut future = pin!(future);
    poll_fn(|cx| {
        if stopped.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        future.as_mut().poll(cx).map(Some)
    })
    .await
}
