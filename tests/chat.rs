//! The chat room example, run as a child process: every line reaches every other client, and a
//! client that stops reading is disconnected without stalling the others.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The chat server as a child process; killed (by PID) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Server {
        let exe = example_path("chat");
        let mut child = Command::new(&exe)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): build the examples first",
                    exe.display()
                )
            });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// target/<profile>/examples/<name>, next to this test's target/<profile>/deps/.
fn example_path(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples").join(name)
}

/// A client whose lines arrive on a channel, read by a thread.
struct Client {
    stream: TcpStream,
    addr: SocketAddr,
    lines: mpsc::Receiver<String>,
}

impl Client {
    fn connect(server: SocketAddr) -> Client {
        let stream = TcpStream::connect(server).unwrap();
        let addr = stream.local_addr().unwrap();
        let (tx, lines) = mpsc::channel();
        let reader = BufReader::new(stream.try_clone().unwrap());
        std::thread::spawn(move || {
            for line in reader.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Client {
            stream,
            addr,
            lines,
        }
    }

    fn say(&mut self, line: &str) {
        writeln!(self.stream, "{line}").unwrap();
    }

    /// Waits (at most 10 s) for a line equal to `want`, skipping others.
    fn expect(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line == want => return,
                Ok(_) => {}
                Err(e) => panic!("{} never got {want:?}: {e}", self.addr),
            }
        }
    }
}

#[test]
fn every_line_reaches_every_other_client() {
    let server = Server::start();
    let mut clients: Vec<Client> = Vec::new();
    for _ in 0..3 {
        let new = Client::connect(server.addr);
        for old in &clients {
            old.expect(&format!("* {} joined", new.addr));
        }
        clients.push(new);
    }
    for i in 0..clients.len() {
        let text = format!("hello number {i}");
        let sender = clients[i].addr;
        clients[i].say(&text);
        for (j, other) in clients.iter().enumerate() {
            if j != i {
                other.expect(&format!("[{sender}] {text}"));
            }
        }
    }
    let leaving = clients.pop().unwrap();
    let gone = leaving.addr;
    // The reader thread holds a clone of the socket: shut it down rather than just drop it.
    leaving.stream.shutdown(std::net::Shutdown::Both).unwrap();
    for c in &clients {
        c.expect(&format!("* {gone} left (closed)"));
    }
}

#[test]
fn a_client_that_stops_reading_is_disconnected_and_the_room_goes_on() {
    let server = Server::start();
    let mut talker = Client::connect(server.addr);
    let listener = Client::connect(server.addr);
    talker.expect(&format!("* {} joined", listener.addr));
    // The slow client connects and never reads a byte.
    let slow = TcpStream::connect(server.addr).unwrap();
    let slow_addr = slow.local_addr().unwrap();
    listener.expect(&format!("* {slow_addr} joined"));

    // The listener keeps reading (on its thread) and flags the notice; the talker floods until then.
    let notice = format!("* {slow_addr} was disconnected: too slow");
    let seen = Arc::new(AtomicBool::new(false));
    let watcher = {
        let seen = seen.clone();
        let lines = listener.lines;
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                match lines.recv_timeout(Duration::from_secs(1)) {
                    Ok(line) if line == notice => {
                        seen.store(true, Ordering::SeqCst);
                        return lines;
                    }
                    Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            panic!("the listener never saw the slow client disconnected");
        })
    };
    let line = "x".repeat(8 * 1024);
    let mut sent = 0;
    while !seen.load(Ordering::SeqCst) && sent < 20_000 {
        talker.say(&line);
        sent += 1;
    }
    let lines = watcher.join().unwrap();
    assert!(
        seen.load(Ordering::SeqCst),
        "still connected after {sent} lines"
    );

    // The room still works for the others.
    talker.say("still here");
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = format!("[{}] still here", talker.addr);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if lines.recv_timeout(left).expect("room stalled") == want {
            break;
        }
    }
    drop(slow);
}
