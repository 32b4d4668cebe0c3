//! An accept loop that runs out of file descriptors (`EMFILE`) must log, back off, and carry on
//! once descriptors are free again, on every compiled backend.
//!
//! Lowering `RLIMIT_NOFILE` affects the whole process, so the server runs in a child process: the
//! parent test re-runs this very test binary, selecting only [`emfile_server_child`] and switching
//! it on with an environment variable. The child lowers its limit, serves echo like
//! `examples/echo.rs` and prints `listening on ADDR`. The parent then opens more connections than
//! the child has descriptors, waits for the child to report `EMFILE`, closes them all, checks that a
//! fresh connection is echoed, and finally kills the child by its PID.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use runtime::net::TcpListener;
use runtime::{Backend, Runtime};

/// Set (to a backend name) in the child's environment: it tells the child test to run.
/// The accept loop under test is the echo example's own.
#[path = "../examples/common/echo_server.rs"]
mod echo_server;

const CHILD_ENV: &str = "RUNTIME_EMFILE_CHILD_BACKEND";

/// The child's descriptor limit: small, so a handful of connections exhaust it.
const FD_LIMIT: libc::rlim_t = 64;

/// How long the parent waits for any one thing the child should do.
const PATIENCE: Duration = Duration::from_secs(20);

/// How long the child lives at most, should the parent fail to kill it.
const CHILD_LIFETIME: Duration = Duration::from_secs(60);

// --- the child: a server with few descriptors ---------------------------------------------------

/// The server half of [`accept_loop_survives_emfile`]. Does nothing unless started by it.
#[test]
#[ignore = "runs only as the child process of accept_loop_survives_emfile"]
fn emfile_server_child() {
    let Ok(name) = std::env::var(CHILD_ENV) else {
        return;
    };
    let backend: Backend = name.parse().unwrap();
    lower_fd_limit(FD_LIMIT);
    let rt = match Runtime::builder().backend(backend).build() {
        Ok(rt) => rt,
        Err(e) => {
            println!("no runtime: {e}");
            return;
        }
    };
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        println!("listening on {}", listener.local_addr().unwrap());
        io::stdout().flush().unwrap();
        let serving = echo_server::accept_loop(listener, false, Rc::new(()));
        let _ = runtime::time::timeout(CHILD_LIFETIME, serving).await;
    });
}

/// Sets the soft `RLIMIT_NOFILE` of this process to `limit`.
fn lower_fd_limit(limit: libc::rlim_t) {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `current` is a valid rlimit for the kernel to fill in.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut current) };
    assert_eq!(rc, 0, "getrlimit: {}", io::Error::last_os_error());
    let lowered = libc::rlimit {
        rlim_cur: limit.min(current.rlim_max),
        rlim_max: current.rlim_max,
    };
    // SAFETY: `lowered` is a valid rlimit that outlives the call.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) };
    assert_eq!(rc, 0, "setrlimit: {}", io::Error::last_os_error());
}

// --- the parent -----------------------------------------------------------------------------------

/// The child process; killed (by PID) and reaped when dropped, also when the test fails.
struct ChildServer {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl ChildServer {
    fn start(backend: Backend) -> ChildServer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "emfile_server_child", "--ignored", "--nocapture"])
            .env(CHILD_ENV, backend.name())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot re-run the test binary");
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        ChildServer {
            child,
            stdout,
            stderr,
        }
    }

    /// The address from the child's `listening on ADDR` line, or `None` when the child could not
    /// start a runtime on this backend (it then says why and exits).
    fn address(&self) -> Option<SocketAddr> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let line =
                next_line(&self.stdout, deadline).expect("the child never said where it listens");
            if let Some(addr) = line.strip_prefix("listening on ") {
                return Some(addr.trim().parse().unwrap());
            }
            if line.starts_with("no runtime:") {
                eprintln!("accept_loop_survives_emfile: child: {line}");
                return None;
            }
        }
    }

    /// Waits for the child to log an `EMFILE` accept failure.
    fn wait_for_emfile(&self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let line = next_line(&self.stderr, deadline).expect("the child never reported EMFILE");
            if line.contains("EMFILE") {
                return line;
            }
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        // `kill` sends SIGKILL to the child's PID; `wait` reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Hands over the lines of `pipe` through a channel, from a reader thread that ends at EOF.
fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next line, or `None` once `deadline` passes or the pipe closed.
fn next_line(lines: &Receiver<String>, deadline: Instant) -> Option<String> {
    let left = deadline.saturating_duration_since(Instant::now());
    lines.recv_timeout(left).ok()
}

/// A blocking client connection whose reads give up after [`PATIENCE`].
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Sends `message` and expects it back.
fn check_echo(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).unwrap();
    let mut back = vec![0; message.len()];
    stream
        .read_exact(&mut back)
        .expect("no echo from the child server");
    assert_eq!(back, message);
}

#[test]
fn accept_loop_survives_emfile() {
    for &backend in Backend::compiled() {
        let child = ChildServer::start(backend);
        let Some(addr) = child.address() else {
            continue;
        };

        // The first connection is surely accepted: echo works.
        let mut first = connect(addr);
        check_echo(&mut first, b"before");

        // Twice as many connections as the child has descriptors: the kernel completes them all
        // (the listen backlog is large), but the child can accept only some of them.
        let crowd: Vec<TcpStream> = (0..2 * FD_LIMIT).map(|_| connect(addr)).collect();
        let report = child.wait_for_emfile();
        println!("{backend}: the child hit the limit: {report}");

        // Close everything: the child's echo tasks see end of stream and free their descriptors,
        // and the accept loop drains the backlog (those connections are closed too).
        drop(crowd);
        drop(first);

        // A new connection, at the end of the backlog, is accepted and echoed.
        let mut after = connect(addr);
        check_echo(&mut after, b"after the storm");
        println!("{backend}: the child recovered");
        drop(child);
    }
}
