//! End-to-end tests of the HTTP mode: the load generator against tiny thread-per-connection
//! HTTP/1.1 servers on 127.0.0.1, some honest (content-length or chunked answers), some not.

use loadgen::http::{Config, Request};
use loadgen::{Limit, Report};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

/// How a server answers one request: gets the method line and the body, returns the bytes.
type Answer = fn(&str, &[u8]) -> Vec<u8>;

/// Reads one request (head, then a `content-length` body); `None` at end of stream.
fn read_request(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).ok().filter(|&n| n > 0)?;
        pending.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(pending[..head_end].to_vec()).unwrap();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    while pending.len() < head_end + length {
        let n = stream.read(&mut buf).ok().filter(|&n| n > 0)?;
        pending.extend_from_slice(&buf[..n]);
    }
    let body = pending[head_end..head_end + length].to_vec();
    pending.drain(..head_end + length);
    let line = head.lines().next().unwrap().to_string();
    Some((line, body))
}

/// Serves `connections` connections, answering every request with `answer`, each connection on
/// its own thread; runs `cfg` against it and returns the report once the server has finished.
fn run_against(answer: Answer, connections: usize, request: Request, limit: Limit) -> Report {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                let (mut stream, _) = listener.accept().unwrap();
                thread::spawn(move || {
                    let mut pending = Vec::new();
                    while let Some((line, body)) = read_request(&mut stream, &mut pending) {
                        if stream.write_all(&answer(&line, &body)).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
    });
    let cfg = Config {
        addr,
        connections,
        request,
        limit,
    };
    let report = loadgen::http::run_with_idle_timeout(&cfg, Duration::from_secs(5)).unwrap();
    server.join().unwrap();
    report
}

/// `examples/http.rs`'s routes, answered with `content-length`.
fn honest(line: &str, body: &[u8]) -> Vec<u8> {
    let body = match line {
        "GET / HTTP/1.1" => b"Hello, world!".as_slice(),
        "POST /echo HTTP/1.1" => body,
        _ => panic!("unexpected request {line}"),
    };
    let mut out = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ndate: now\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The same, chunked in pieces of 1000 bytes, each written separately.
fn chunked(line: &str, body: &[u8]) -> Vec<u8> {
    let whole = honest(line, body);
    let body = &whole[whole.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for part in body.chunks(1000) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Echoes with the last byte of every body changed.
fn corrupt(line: &str, body: &[u8]) -> Vec<u8> {
    let mut out = honest(line, body);
    *out.last_mut().unwrap() ^= 1;
    out
}

/// Answers 404.
fn not_found(_: &str, _: &[u8]) -> Vec<u8> {
    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_vec()
}

/// Answers without any framing: only a close could end the body.
fn unframed(_: &str, _: &[u8]) -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\n\r\nHello, world!".to_vec()
}

#[test]
fn get_requests_are_answered_and_verified() {
    let report = run_against(honest, 4, Request::Get, Limit::Messages(400));
    assert_eq!(report.messages, 400);
    assert_eq!(report.errors, 0, "{report}");
    assert_eq!(report.verified_bytes, 400 * 13);
    assert_eq!(report.bytes, 400 * 13);
    assert!(report.p50 > Duration::ZERO && report.p50 <= report.p99);
}

#[test]
fn post_bodies_come_back_verified() {
    let request = Request::Post { body: 16 * 1024 };
    let report = run_against(honest, 3, request, Limit::Messages(60));
    assert_eq!(report.messages, 60);
    assert_eq!(report.errors, 0, "{report}");
    assert_eq!(report.verified_bytes, 60 * 16 * 1024);
}

#[test]
fn chunked_answers_are_understood() {
    let report = run_against(
        chunked,
        2,
        Request::Post { body: 5000 },
        Limit::Messages(50),
    );
    assert_eq!(report.messages, 50);
    assert_eq!(report.errors, 0, "{report}");
    let report = run_against(chunked, 2, Request::Get, Limit::Messages(50));
    assert_eq!(report.errors, 0, "{report}");
}

#[test]
fn wrong_bodies_and_statuses_are_counted() {
    let report = run_against(corrupt, 2, Request::Post { body: 100 }, Limit::Messages(20));
    assert_eq!(report.messages, 20);
    assert_eq!(report.mismatched_messages, 20, "{report}");
    assert_eq!(report.verified_bytes, 20 * 99);

    let report = run_against(not_found, 2, Request::Get, Limit::Messages(20));
    assert_eq!(report.mismatched_messages, 20, "{report}");
    assert_eq!(report.connection_errors, 0);
}

#[test]
fn unparsable_answers_break_connections() {
    let report = run_against(unframed, 2, Request::Get, Limit::Messages(20));
    assert_eq!(report.messages, 0);
    assert_eq!(report.connection_errors, 2, "{report}");
}
