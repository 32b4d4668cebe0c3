//! End-to-end tests: the load generator against tiny thread-per-connection servers on
//! 127.0.0.1, some honest, some broken on purpose.

use loadgen::{Config, Limit, Report};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How one server-side connection behaves; gets the stream and its accept number.
type Behaviour = fn(TcpStream, usize);

/// A server that accepts exactly `connections` connections, runs `behaviour` on each in
/// its own thread, and finishes when they all have.
struct Server {
    addr: SocketAddr,
    thread: JoinHandle<()>,
}

impl Server {
    fn start(connections: usize, behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let thread = thread::spawn(move || {
            let workers: Vec<_> = (0..connections)
                .map(|index| {
                    let (stream, _) = listener.accept().unwrap();
                    thread::spawn(move || behaviour(stream, index))
                })
                .collect();
            for worker in workers {
                worker.join().unwrap();
            }
        });
        Server { addr, thread }
    }

    /// Waits for every connection thread: they end when the load generator closes.
    fn finish(self) {
        self.thread.join().unwrap();
    }
}

/// Echoes every byte; `change` may alter each chunk (given its stream offset) first.
fn echo_with(mut stream: TcpStream, mut change: impl FnMut(u64, &mut Vec<u8>)) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut offset = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut chunk = buf[..n].to_vec();
        change(offset, &mut chunk);
        offset += n as u64;
        if stream.write_all(&chunk).is_err() {
            return;
        }
    }
}

fn echo(stream: TcpStream, _: usize) {
    echo_with(stream, |_, _| {});
}

/// Flips one bit of every 5000th byte of the stream.
fn corrupt(stream: TcpStream, _: usize) {
    echo_with(stream, |offset, chunk| {
        for (i, byte) in chunk.iter_mut().enumerate() {
            if (offset + i as u64) % 5000 == 1234 {
                *byte ^= 0x10;
            }
        }
    });
}

/// Echoes correctly but in pieces of 1 to 3 bytes, each its own write.
fn dribble(mut stream: TcpStream, _: usize) {
    stream.set_nodelay(true).unwrap();
    let mut buf = [0u8; 64];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for piece in buf[..n].chunks(1 + n % 3) {
            if stream.write_all(piece).is_err() {
                return;
            }
        }
    }
}

/// Connection 0 hangs up after echoing 150 bytes (with messages of 100 bytes and depth
/// 2, that is mid-message, with unread bytes left); the others echo faithfully.
fn first_hangs_up(mut stream: TcpStream, index: usize) {
    if index != 0 {
        return echo(stream, index);
    }
    let mut buf = [0u8; 150];
    if stream.read_exact(&mut buf).is_ok() {
        let _ = stream.write_all(&buf);
    }
}

/// Reads everything, answers nothing.
fn silent(mut stream: TcpStream, _: usize) {
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// Echoes, but appends one extra byte to the first answer.
fn one_byte_too_many(stream: TcpStream, _: usize) {
    echo_with(stream, |offset, chunk| {
        if offset == 0 {
            chunk.push(0);
        }
    });
}

/// Closes at once.
fn hang_up(_: TcpStream, _: usize) {}

fn config(
    addr: SocketAddr,
    connections: usize,
    payload: usize,
    depth: usize,
    limit: Limit,
) -> Config {
    Config {
        addr,
        connections,
        payload,
        depth,
        limit,
    }
}

/// Runs `cfg` against a fresh server with `behaviour`, and waits for the server to end.
fn run_against(
    behaviour: Behaviour,
    connections: usize,
    payload: usize,
    depth: usize,
    limit: Limit,
) -> Report {
    let server = Server::start(connections, behaviour);
    let cfg = config(server.addr, connections, payload, depth, limit);
    let report = loadgen::run(&cfg).unwrap();
    server.finish();
    report
}

#[test]
fn every_message_is_echoed_and_verified() {
    let report = run_against(echo, 4, 100, 3, Limit::Messages(1_000));
    assert_eq!(report.messages, 1_000);
    assert_eq!(report.bytes, 100_000);
    assert_eq!(report.errors, 0, "{report}");
    assert_eq!(
        report.verified_bytes, 100_000,
        "every byte checked, none extra sent"
    );
    assert!(report.p50 > Duration::ZERO);
    assert!(report.p50 <= report.p99 && report.p99 <= report.p999 && report.p999 <= report.max);
    assert!(report.messages_per_sec() > 0.0);
}

#[test]
fn duration_limit_stops_on_time() {
    let limit = Duration::from_millis(200);
    let report = run_against(echo, 2, 32, 2, Limit::Duration(limit));
    assert!(report.messages > 0);
    assert_eq!(report.errors, 0, "{report}");
    assert!(report.elapsed >= limit, "{:?}", report.elapsed);
    assert!(
        report.elapsed < limit + Duration::from_secs(2),
        "{:?}",
        report.elapsed
    );
}

#[test]
fn large_messages_survive_partial_writes_and_reads() {
    // 1 MiB messages do not fit in one socket buffer: every send comes up short.
    let report = run_against(echo, 2, 1 << 20, 2, Limit::Messages(8));
    assert_eq!(report.messages, 8);
    assert_eq!(report.errors, 0, "{report}");
    assert_eq!(report.verified_bytes, 8 << 20);
}

#[test]
fn echoes_in_tiny_pieces_are_reassembled() {
    let report = run_against(dribble, 2, 10, 4, Limit::Messages(200));
    assert_eq!(report.messages, 200);
    assert_eq!(report.errors, 0, "{report}");
}

#[test]
fn corrupted_echoes_are_caught() {
    let report = run_against(corrupt, 2, 100, 2, Limit::Messages(1_000));
    assert_eq!(report.messages, 1_000);
    assert_eq!(report.connection_errors, 0);
    // 100,000 bytes over two connections, one flip per 5,000 bytes of each stream (how
    // the messages split between the connections varies, so the count does too).
    assert!((18..=22).contains(&report.mismatched_messages), "{report}");
    assert_eq!(report.errors, report.mismatched_messages);
    // Messages are shorter than the flip spacing: each bad message has one bad byte.
    assert_eq!(report.verified_bytes, 100_000 - report.mismatched_messages);
}

#[test]
fn a_dropped_connection_is_counted_and_the_others_finish_the_job() {
    let report = run_against(first_hangs_up, 3, 100, 2, Limit::Messages(600));
    assert_eq!(report.connection_errors, 1, "{report}");
    assert_eq!(report.mismatched_messages, 0);
    assert_eq!(
        report.messages, 600,
        "the lost messages were sent again elsewhere"
    );
}

#[test]
fn extra_bytes_are_an_error() {
    let report = run_against(one_byte_too_many, 2, 50, 1, Limit::Messages(100));
    assert!(report.errors > 0, "{report}");
}

#[test]
fn the_run_ends_when_every_connection_is_gone() {
    let report = run_against(hang_up, 3, 100, 1, Limit::Duration(Duration::from_secs(30)));
    assert_eq!(report.connection_errors, 3);
    assert_eq!(report.messages, 0);
    assert!(report.elapsed < Duration::from_secs(10));
}

#[test]
fn a_silent_server_times_out() {
    let server = Server::start(2, silent);
    let cfg = config(server.addr, 2, 64, 1, Limit::Messages(10));
    let err = loadgen::run_with_idle_timeout(&cfg, Duration::from_millis(200)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    server.finish();
}

#[test]
fn nonsense_configurations_are_refused() {
    let addr = "127.0.0.1:9".parse().unwrap();
    let limit = Limit::Messages(1);
    for cfg in [
        config(addr, 0, 64, 1, limit),
        config(addr, 1, 0, 1, limit),
        config(addr, 1, 64, 0, limit),
    ] {
        assert_eq!(
            loadgen::run(&cfg).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
