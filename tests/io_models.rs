//! Echo-integrity tests for the IO-model servers in `examples/io_models/`.
//!
//! Each test starts one example binary as a child process on `127.0.0.1:0`, reads the
//! `listening on <addr>` line, runs 50 concurrent clients that send random payloads
//! (1 B to 64 KiB) and check every echoed byte, then stops the server with SIGINT and
//! checks that it printed its statistics. `cargo test` builds the examples first.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// Upper bound for anything a test waits for (a line, an echo, an exit).
const TIMEOUT: Duration = Duration::from_secs(20);
const CLIENTS: usize = 50;
const ROUNDS: usize = 3;
const MAX_PAYLOAD: usize = 64 * 1024;

/// The servers are run one at a time: the busy-polling one would otherwise take a whole
/// core from the others, on machines that may only have two.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running example server.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// Everything the server writes to stderr, delivered once it closes stderr (exits).
    stderr: Receiver<String>,
}

/// Where cargo put the example binary: `target/<profile>/examples/<name>`, next to the
/// `deps/` folder that holds this test binary.
fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} not found: build the examples first (`cargo test` does, `cargo test --test io_models` alone does not)",
        path.display()
    );
    path
}

/// Starts an example server; on failure returns its first line and stderr.
fn start(name: &str, args: &[&str]) -> Result<Server, String> {
    let mut child = Command::new(example_path(name))
        .arg("127.0.0.1:0")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example server");

    // Collect stderr in the background so the server never blocks writing to it.
    let (stderr_tx, stderr) = mpsc::channel();
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        let _ = stderr_tx.send(text);
    });

    // Read the first stdout line in the background too, so that waiting for it is bounded.
    let (line_tx, line_rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = line_tx.send(line);
    });
    let line = line_rx.recv_timeout(TIMEOUT).unwrap_or_default();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|addr| addr.parse().ok());
    match addr {
        Some(addr) => Ok(Server {
            child,
            addr,
            stderr,
        }),
        None => {
            let mut server = Server {
                child,
                addr: "127.0.0.1:0".parse().unwrap(),
                stderr,
            };
            let text = server.stop_with(libc::SIGKILL);
            Err(format!("first line {line:?}; stderr: {text}"))
        }
    }
}

impl Server {
    /// Sends `signal` to the server by PID, waits (bounded) for it to exit and returns
    /// what it wrote to stderr.
    fn stop_with(&mut self, signal: libc::c_int) -> String {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: `pid` is our own child, which has not been reaped yet.
        unsafe { libc::kill(pid, signal) };
        // stderr reaches end-of-file when the process is gone.
        let text = match self.stderr.recv_timeout(TIMEOUT) {
            Ok(text) => text,
            Err(_) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("server did not exit within {TIMEOUT:?} after signal {signal}");
            }
        };
        let _ = self.child.wait();
        text
    }

    /// Stops the server with SIGINT and checks that it reported its statistics.
    fn stop_and_check_stats(mut self) {
        let stderr = self.stop_with(libc::SIGINT);
        let messages: u64 = stderr
            .lines()
            .find_map(|line| line.trim().strip_prefix("reads with data: "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no statistics on stderr: {stderr}"));
        assert!(messages > 0, "server served no message: {stderr}");
        for field in ["syscalls: ", "cpu time: ", "syscalls per message: "] {
            assert!(stderr.contains(field), "missing {field:?} in: {stderr}");
        }
    }
}

/// A small deterministic pseudo-random generator (xorshift64*), enough for payloads.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// One client: a few random payloads, each sent by one thread while another reads the
/// echo back, so that neither side can block the other however large the payload.
fn client(addr: SocketAddr, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    for round in 0..ROUNDS {
        let len = 1 + (rng.next() as usize % MAX_PAYLOAD);
        let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let mut writer = stream.try_clone().unwrap();
        let mut echoed = vec![0u8; len];
        thread::scope(|scope| {
            let sent = scope.spawn(|| writer.write_all(&payload));
            let received = (&stream).read_exact(&mut echoed);
            let sent = sent.join().expect("writer thread");
            sent.map_err(|e| format!("round {round}: write {len} B: {e}"))?;
            received.map_err(|e| format!("round {round}: read {len} B: {e}"))
        })?;
        if echoed != payload {
            let at = echoed.iter().zip(&payload).position(|(a, b)| a != b);
            return Err(format!(
                "round {round}: {len} B echoed wrongly, first at {at:?}"
            ));
        }
    }
    Ok(())
}

/// Runs `CLIENTS` concurrent clients against `addr`; panics with every failure.
fn echo_check(addr: SocketAddr) {
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| thread::spawn(move || client(addr, i as u64 + 1)))
        .collect();
    let failures: Vec<String> = clients
        .into_iter()
        .enumerate()
        .filter_map(|(i, handle)| match handle.join() {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(format!("client {i}: {error}")),
            Err(_) => Some(format!("client {i}: panicked")),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "echo failures:\n{}",
        failures.join("\n")
    );
}

/// Starts `name`, checks echo integrity, stops it and checks the statistics.
fn check_server(name: &str, args: &[&str]) {
    let _serial = serial();
    let server = match start(name, args) {
        Ok(server) => server,
        Err(why) => panic!("{name} did not start: {why}"),
    };
    echo_check(server.addr);
    server.stop_and_check_stats();
}

#[test]
fn blocking_thread_per_connection_echoes() {
    check_server("io_blocking", &[]);
}

#[test]
fn blocking_small_pool_serves_everyone_in_turn() {
    // 8 workers for 50 clients: the others wait in the queue until a worker is free.
    check_server("io_blocking", &["--pool", "8"]);
}

#[test]
fn nonblocking_busy_loop_echoes() {
    check_server("io_nonblocking", &[]);
}

#[test]
fn select_echoes() {
    check_server("io_select", &[]);
}

#[test]
fn poll_echoes() {
    check_server("io_poll", &[]);
}

#[test]
fn epoll_level_triggered_echoes() {
    check_server("io_epoll", &[]);
}

#[test]
fn epoll_edge_triggered_echoes() {
    check_server("io_epoll", &["--edge"]);
}

#[test]
fn signal_driven_echoes() {
    check_server("io_signal_driven", &[]);
}

#[test]
fn uring_raw_echoes() {
    let _serial = serial();
    let server = match start("io_uring_raw", &[]) {
        Ok(server) => server,
        Err(why) if why.contains("io_uring setup failed") => {
            println!("skipping io_uring_raw: io_uring is not available here ({why})");
            return;
        }
        Err(why) => panic!("io_uring_raw did not start: {why}"),
    };
    echo_check(server.addr);
    server.stop_and_check_stats();
}

/// Raises this process's soft descriptor limit (children inherit it); returns the limit.
fn raise_fd_limit(wanted: u64) -> u64 {
    // SAFETY: `rlimit` is plain data; getrlimit fills it in.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `limit` is a valid, writable `rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    limit.rlim_cur = limit.rlim_cur.max(wanted.min(limit.rlim_max));
    // SAFETY: `limit` is initialised and never above the hard limit.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    limit.rlim_cur
}

#[test]
fn select_refuses_descriptors_beyond_fd_setsize_and_keeps_serving() {
    const CONNECTIONS: usize = libc::FD_SETSIZE + 8;
    let _serial = serial();
    let limit = raise_fd_limit(4096);
    if limit < CONNECTIONS as u64 + 200 {
        println!("skipping: RLIMIT_NOFILE is {limit}, too low to open {CONNECTIONS} sockets");
        return;
    }
    let server = match start("io_select", &[]) {
        Ok(server) => server,
        Err(why) => panic!("io_select did not start: {why}"),
    };
    let conns: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    // The server has fewer than FD_SETSIZE descriptors for connections, so the last one
    // must be refused: it is closed without being echoed.
    let mut last = &conns[CONNECTIONS - 1];
    last.set_read_timeout(Some(TIMEOUT)).unwrap();
    let _ = last.write_all(b"x");
    let mut byte = [0u8; 1];
    match last.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("connection beyond FD_SETSIZE was not refused: {other:?}"),
    }
    // The first connection is still served.
    let mut first = &conns[0];
    first.set_read_timeout(Some(TIMEOUT)).unwrap();
    first.write_all(b"still here").unwrap();
    let mut echoed = [0u8; 10];
    first.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"still here");
    drop(conns);

    let mut server = server;
    let stderr = server.stop_with(libc::SIGINT);
    assert!(
        stderr.contains("FD_SETSIZE"),
        "no refusal message: {stderr}"
    );
}
