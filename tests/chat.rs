//! The chat room example, run as a child process: every line reaches every other client, a client
//! that stops reading is disconnected without stalling the others, and clients that do read are
//! never disconnected for a burst (many lines in one packet, a storm of connections). Each test
//! runs the server on every backend the kernel accepts.

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
    /// Starts the server on `backend`, with `args` after its address.
    fn start(backend: &str, args: &[&str]) -> Server {
        let exe = example_path("chat");
        let mut child = Command::new(&exe)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUNTIME_BACKEND", backend)
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

/// The backends compiled in that the kernel accepts.
fn backends() -> Vec<&'static str> {
    runtime::Backend::compiled()
        .iter()
        .filter(|b| runtime::Runtime::builder().backend(**b).build().is_ok())
        .map(|b| b.name())
        .collect()
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
        writeln!(self.stream, "{line}")
            .unwrap_or_else(|e| panic!("{} cannot send (disconnected?): {e}", self.addr));
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
    for backend in backends() {
        let server = Server::start(backend, &[]);
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
}

/// With two workers the clients are spread over both by `SO_REUSEPORT` (eight of them: all on one
/// worker with probability 2⁻⁷), and the room is still one room.
#[test]
fn the_room_spans_every_worker() {
    for backend in backends() {
        let server = Server::start(backend, &["--workers", "2"]);
        let mut clients: Vec<Client> = Vec::new();
        for _ in 0..8 {
            let new = Client::connect(server.addr);
            // In the room (subscribed) before the next one connects: the two may be accepted by
            // different workers, in either order.
            new.expect(&format!("* welcome, you are {}", new.addr));
            for old in &clients {
                old.expect(&format!("* {} joined", new.addr));
            }
            clients.push(new);
        }
        for i in 0..clients.len() {
            let text = format!("hello from {i}");
            let sender = clients[i].addr;
            clients[i].say(&text);
            for (j, other) in clients.iter().enumerate() {
                if j != i {
                    other.expect(&format!("[{sender}] {text}"));
                }
            }
        }
    }
}

#[test]
fn a_client_that_stops_reading_is_disconnected_and_the_room_goes_on() {
    for backend in backends() {
        // Too slow: one write to it has not finished after a second.
        let server = Server::start(backend, &["--slow-after-ms", "1000"]);
        let mut talker = Client::connect(server.addr);
        let listener = Client::connect(server.addr);
        talker.expect(&format!("* {} joined", listener.addr));
        // The slow client connects and never reads a byte.
        let slow = TcpStream::connect(server.addr).unwrap();
        let slow_addr = slow.local_addr().unwrap();
        listener.expect(&format!("* {slow_addr} joined"));

        // The listener keeps reading (on its thread) and flags the notice; the talker floods until
        // then.
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
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.load(Ordering::SeqCst) && Instant::now() < deadline {
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
}

/// Sends `lines` as one write (one packet on loopback, one read for the server).
fn say_all_at_once(client: &mut Client, lines: &[String]) {
    let packet: String = lines.iter().map(|l| format!("{l}\n")).collect();
    client.stream.write_all(packet.as_bytes()).unwrap();
}

#[test]
fn a_packet_of_many_short_lines_reaches_every_reader() {
    for backend in backends() {
        let server = Server::start(backend, &[]);
        let mut talker = Client::connect(server.addr);
        let mut readers = Vec::new();
        for _ in 0..3 {
            let reader = Client::connect(server.addr);
            talker.expect(&format!("* {} joined", reader.addr));
            readers.push(reader);
        }
        // 300 lines in one 600-byte packet: more lines at once than a member's old queue held.
        let lines: Vec<String> = (0..300)
            .map(|i| char::from(b'a' + (i % 26) as u8).to_string())
            .collect();
        say_all_at_once(&mut talker, &lines);
        for reader in &readers {
            for line in &lines {
                reader.expect(&format!("[{}] {line}", talker.addr));
            }
        }
        talker.say("still here");
        for reader in &readers {
            reader.expect(&format!("[{}] still here", talker.addr));
        }
    }
}

#[test]
fn a_storm_of_connections_disconnects_no_reader() {
    for backend in backends() {
        let server = Server::start(backend, &[]);
        let mut talker = Client::connect(server.addr);
        let reader = Client::connect(server.addr);
        talker.expect(&format!("* {} joined", reader.addr));
        // Every connection is announced twice (joined, left) to every member in a few milliseconds.
        for _ in 0..STORM {
            drop(TcpStream::connect(server.addr).unwrap());
        }
        talker.say("after the storm");
        reader.expect(&format!("[{}] after the storm", talker.addr));
        let goodbye = Client::connect(server.addr);
        talker.expect(&format!("* {} joined", goodbye.addr));
    }
}

/// Connections opened and closed at once by the storm test.
const STORM: usize = 2_000;

#[test]
fn a_client_that_falls_behind_is_told_how_many_lines_it_missed() {
    for backend in backends() {
        // Slow, but not for long enough to be disconnected.
        let server = Server::start(backend, &["--slow-after-ms", "60000"]);
        let mut talker = Client::connect(server.addr);
        // This client reads nothing until the talker is done: its writer is stuck, it falls
        // behind the room's backlog.
        let behind = TcpStream::connect(server.addr).unwrap();
        talker.expect(&format!("* {} joined", behind.local_addr().unwrap()));
        let line = "y".repeat(8 * 1024);
        for _ in 0..BEHIND_BY {
            talker.say(&line);
        }
        talker.say("done");

        let from_talker = format!("[{}] {line}", talker.addr);
        let done = format!("[{}] done", talker.addr);
        let (mut received, mut missed) = (0, 0);
        for text in BufReader::new(behind).lines() {
            let text = text.unwrap();
            if text == from_talker {
                received += 1;
            } else if let Some(rest) = text.strip_prefix("* you missed ") {
                missed += rest.split(' ').next().unwrap().parse::<usize>().unwrap();
            } else if text == done {
                break;
            }
        }
        assert!(missed > 0, "{backend}: no line was missed");
        assert_eq!(
            received + missed,
            BEHIND_BY,
            "{backend}: lines unaccounted for"
        );
    }
}

/// Lines of 8 KiB sent to a client that does not read: more than the room's backlog (1024 lines)
/// and the socket buffers (the server's send buffer grows to `tcp_wmem`'s maximum, 4 MiB by
/// default; a receiver that does not read keeps its window small) hold together.
const BEHIND_BY: usize = 6_000;
