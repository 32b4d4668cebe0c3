//! A chat room: every line a client sends goes to every other client, prefixed with its sender's
//! address; joins and leaves are announced.
//!
//! ```text
//! cargo run --release --example chat -- --addr 127.0.0.1:8081
//! nc 127.0.0.1 8081      # in two or more terminals
//! ```
//!
//! The classic select-based chat server writes to every client in turn, so one client that stops
//! reading stalls the room. Here each client has its own writer task fed by a bounded queue: a
//! broadcast never waits; when a client's queue is full, that client is too slow and is
//! disconnected (the others are told why), and nobody else notices.
//!
//! The first line printed is `listening on <addr>` (tests read it).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::rc::Rc;

use runtime::net::{TcpListener, TcpStream};
use runtime::sync::mpsc::{self, TrySendError};
use runtime::JoinHandle;

/// Lines a client may fall behind by before it counts as too slow.
const QUEUE: usize = 256;
/// Longest line accepted; a longer one disconnects its sender (it could be endless).
const MAX_LINE: usize = 16 * 1024;

type Line = Rc<str>;

/// One connected client, as the room sees it.
struct Member {
    addr: SocketAddr,
    outbox: mpsc::Sender<Line>,
    writer: JoinHandle<()>,
    stream: Rc<TcpStream>,
}

/// Everyone in the room, by connection id.
#[derive(Default)]
struct Room {
    members: RefCell<HashMap<u64, Member>>,
}

impl Room {
    /// Queues `line` for every member but `from`. Members whose queue is full are removed.
    fn broadcast(&self, from: Option<u64>, line: &str) {
        let line: Line = Rc::from(line);
        let mut too_slow = Vec::new();
        for (&id, member) in self.members.borrow().iter() {
            if Some(id) == from {
                continue;
            }
            if let Err(TrySendError::Full(_)) = member.outbox.try_send(line.clone()) {
                too_slow.push(id);
            }
        }
        for id in too_slow {
            if let Some(member) = self.remove(id) {
                eprintln!(
                    "chat: {} disconnected: too slow (queue of {QUEUE} lines full)",
                    member.addr
                );
                let notice = format!("* {} was disconnected: too slow\n", member.addr);
                self.broadcast(None, &notice);
            }
        }
    }

    /// Takes a member out and stops its connection (its reader sees end of stream).
    fn remove(&self, id: u64) -> Option<Member> {
        let member = self.members.borrow_mut().remove(&id)?;
        member.writer.abort();
        let _ = member.stream.shutdown(std::net::Shutdown::Both);
        Some(member)
    }
}

fn parse_addr() -> String {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8081".to_string();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().expect("--addr needs a value"),
            other => {
                eprintln!("chat: unknown argument {other:?} (usage: chat [--addr HOST:PORT])");
                std::process::exit(2);
            }
        }
    }
    addr
}

#[runtime::main]
async fn main() -> io::Result<()> {
    let listener = TcpListener::bind(parse_addr())?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    let room = Rc::new(Room::default());
    let mut next_id = 0u64;
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!("chat: accept: {e}");
                runtime::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        next_id += 1;
        join(&room, next_id, Rc::new(stream), addr);
    }
}

/// Adds a member: its writer task drains its queue, its reader task broadcasts its lines.
fn join(room: &Rc<Room>, id: u64, stream: Rc<TcpStream>, addr: SocketAddr) {
    let (outbox, inbox) = mpsc::channel(QUEUE);
    let writer = runtime::spawn(write_lines(stream.clone(), inbox));
    room.broadcast(None, &format!("* {addr} joined\n"));
    room.members.borrow_mut().insert(
        id,
        Member {
            addr,
            outbox,
            writer,
            stream: stream.clone(),
        },
    );
    let room = room.clone();
    runtime::spawn(async move {
        let reason = read_lines(&room, id, addr, &stream).await;
        if room.remove(id).is_some() {
            room.broadcast(None, &format!("* {addr} left ({reason})\n"));
        }
    });
}

/// Reads the member's lines and broadcasts each one; returns why it stopped.
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
        while let Some(end) = pending.iter().position(|&c| c == b'\n') {
            let line = String::from_utf8_lossy(&pending[..end]);
            room.broadcast(
                Some(id),
                &format!("[{addr}] {}\n", line.trim_end_matches('\r')),
            );
            pending.drain(..=end);
        }
        if pending.len() > MAX_LINE {
            return format!("line longer than {MAX_LINE} bytes");
        }
    }
}

/// Writes queued lines to the member until its queue closes or the connection fails.
async fn write_lines(stream: Rc<TcpStream>, mut inbox: mpsc::Receiver<Line>) {
    while let Some(line) = inbox.recv().await {
        let (res, _) = stream.write_all(line.as_bytes().to_vec()).await;
        if res.is_err() {
            return;
        }
    }
}
