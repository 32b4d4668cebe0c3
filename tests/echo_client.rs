//! The `echo` and `echo_client` examples, run as users run them: the server on an ephemeral
//! loopback port, the client fed lines on its stdin.
//!
//! `cargo test` builds the examples before running this file (`cargo test --test echo_client` alone
//! does not: build them first with `cargo build --examples`).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Upper bound for anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// `target/<profile>/examples/<name>`, next to the `deps/` folder holding this test binary.
fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} not found: build the examples first (`cargo build --examples`)",
        path.display()
    );
    path
}

/// A child process that is killed (by its PID) and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `echo` (with `extra` arguments) and returns it with the address it printed.
fn start_server(backend: &str, extra: &[&str]) -> (Killed, String) {
    let mut server = Killed(
        Command::new(example_path("echo"))
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .env("RUNTIME_BACKEND", backend)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = server.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(PATIENCE)
        .expect("the server printed nothing");
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
        .trim()
        .to_string();
    (server, addr)
}

/// Runs `echo_client --addr addr` with `input` on its stdin and waits (at most [`PATIENCE`]) for
/// it to exit.
fn run_client(addr: &str, input: &str) -> Output {
    let mut client = Command::new(example_path("echo_client"))
        .args(["--addr", addr])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = client.id();
    let mut stdin = client.stdin.take().unwrap();
    let input = input.to_string();
    // Fed from a thread, so a client that does not read cannot block the test.
    thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
        // dropping stdin closes it: end of input for the client
    });
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(client.wait_with_output());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            // SAFETY: plain kill(2) on the PID of the child started above (not yet reaped: its
            // waiting thread is still blocked in wait).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("echo_client did not exit");
        }
    }
}

fn backends() -> Vec<&'static str> {
    runtime::Backend::compiled()
        .iter()
        .filter(|b| {
            // The server runs on each backend the kernel accepts.
            runtime::Runtime::builder().backend(**b).build().is_ok()
        })
        .map(|b| b.name())
        .collect()
}

#[test]
fn the_client_prints_the_echo_of_each_line() {
    for backend in backends() {
        let (_server, addr) = start_server(backend, &["--upper"]);
        let input: String = (0..200).map(|i| format!("line number {i}\n")).collect();
        let output = run_client(&addr, &input);
        assert!(output.status.success(), "{backend}: {output:?}");
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            input.to_uppercase(),
            "{backend}: the client's output is not the server's echo"
        );
    }
}

#[test]
fn the_client_exits_when_the_server_goes_away() {
    for backend in backends() {
        let (server, addr) = start_server(backend, &[]);
        let mut client = Killed(
            Command::new(example_path("echo_client"))
                .args(["--addr", &addr])
                .stdin(Stdio::piped()) // kept open: the client would wait for input forever
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut stdin = client.0.stdin.take().unwrap();
        stdin.write_all(b"hi\n").unwrap();
        // Once "hi" has come back, the client is connected and waiting for more input.
        let mut stdout = client.0.stdout.take().unwrap();
        let mut echoed = [0; 3];
        stdout.read_exact(&mut echoed).unwrap();
        assert_eq!(&echoed, b"hi\n");

        drop(server); // killed: the kernel closes its sockets
        let pid = client.0.id();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut client = client;
            let _ = tx.send(client.0.wait());
        });
        let Ok(status) = rx.recv_timeout(PATIENCE) else {
            // SAFETY: plain kill(2) on the PID of the child started above (not yet reaped: its
            // waiting thread is still blocked in wait).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("{backend}: echo_client kept running after the server went away");
        };
        let status = status.unwrap();
        assert!(status.success(), "{backend}: {status}");
        drop(stdin);
    }
}
