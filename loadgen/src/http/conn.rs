//! The HTTP protocol's state of one connection: requests `0, 1, 2, ...` sent one at a time
//! (pipelining off), each answered by one response that is parsed and checked as it arrives.
//!
//! A request is a fixed head followed, for `POST /echo`, by a body of `N` bytes that is a pure
//! function of `(connection, request number)` (see [`crate::payload`]), so, as for echoes, the
//! body is generated again wherever a write stopped and the echoed body is checked without a copy.
//! The response must have status 200 and the expected body: `Hello, world!` for `GET /`, the
//! request's own body for `POST /echo`. A response that is wrong in either way counts as a
//! mismatched message; one that cannot be parsed, or bytes that arrive when no request is
//! waiting for an answer, break the connection.

use std::rc::Rc;

use super::response::{ResponseParser, Step};
use crate::exchange::{Broken, Exchange, Totals};
use crate::payload;

/// What every request of a run looks like, shared by its connections.
#[derive(Debug)]
pub(crate) struct Shape {
    /// The request line and headers, with the empty line that ends them.
    pub head: Vec<u8>,
    /// Bytes of generated body after the head (0 for `GET`).
    pub body: usize,
    /// The body every response must carry.
    pub expect: Expect,
}

/// The body a response must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// These bytes.
    Fixed(&'static [u8]),
    /// The request's own body, sent back.
    Echo,
}

impl Shape {
    fn request_len(&self) -> usize {
        self.head.len() + self.body
    }
}

/// One connection's progress. See the module documentation.
#[derive(Debug)]
pub(crate) struct HttpConn {
    /// Connection number, part of every body's seed.
    id: u64,
    shape: Rc<Shape>,
    /// The request being written (all earlier ones are fully written).
    send_seq: u64,
    /// Bytes of request `send_seq` (head, then body) already written.
    send_off: usize,
    /// The request whose response is awaited (all earlier ones are answered).
    recv_seq: u64,
    parser: ResponseParser,
    /// Body bytes of the response under way seen so far.
    body_seen: usize,
    /// Whether the response under way is wrong so far.
    bad: bool,
}

impl HttpConn {
    /// A fresh connection number `id` sending requests of `shape`.
    pub(crate) fn new(id: u64, shape: Rc<Shape>) -> Self {
        Self {
            id,
            shape,
            send_seq: 0,
            send_off: 0,
            recv_seq: 0,
            parser: ResponseParser::new(),
            body_seen: 0,
            bad: false,
        }
    }

    /// Requests whose first byte has been written.
    fn started(&self) -> u64 {
        self.send_seq + u64::from(self.send_off > 0)
    }

    /// Whether the request awaiting its response has been written completely.
    fn awaited_request_is_out(&self) -> bool {
        self.send_seq > self.recv_seq
    }

    /// Checks body bytes `data` of the response under way; returns how many were right.
    fn check_body(&mut self, data: &[u8]) -> usize {
        let expected_len = match self.shape.expect {
            Expect::Fixed(bytes) => bytes.len(),
            Expect::Echo => self.shape.body,
        };
        let within = data.len().min(expected_len.saturating_sub(self.body_seen));
        let (inside, beyond) = data.split_at(within);
        let wrong = match self.shape.expect {
            Expect::Fixed(bytes) => {
                let expected = &bytes[self.body_seen..self.body_seen + within];
                inside.iter().zip(expected).filter(|(a, b)| a != b).count()
            }
            Expect::Echo => {
                let seed = payload::seed(self.id, self.recv_seq);
                payload::count_mismatches(seed, self.body_seen, inside)
            }
        };
        self.bad |= wrong > 0 || !beyond.is_empty();
        self.body_seen += data.len();
        within - wrong
    }

    /// The response under way is complete: was it the whole expected body?
    fn finish_response(&mut self) -> bool {
        let expected_len = match self.shape.expect {
            Expect::Fixed(bytes) => bytes.len(),
            Expect::Echo => self.shape.body,
        };
        let bad = self.bad || self.body_seen != expected_len;
        self.bad = false;
        self.body_seen = 0;
        self.recv_seq += 1;
        bad
    }

    /// Feeds `data` to the parser; `on_step` sees every step but [`Step::NeedMore`].
    fn parse(
        &mut self,
        data: &[u8],
        mut on_step: impl FnMut(&mut Self, Step),
    ) -> Result<(), Broken> {
        let mut rest = data;
        loop {
            if self.in_flight() == 0 && !rest.is_empty() {
                return Err(Broken); // an answer to nothing
            }
            let (used, step) = self.parser.advance(rest).map_err(|_| Broken)?;
            rest = &rest[used..];
            if step == Step::NeedMore {
                return Ok(());
            }
            on_step(self, step);
        }
    }
}

impl Exchange for HttpConn {
    /// One request at a time: the next may begin only once the previous one is answered.
    fn next_to_send(&self, may_start: u64, out: &mut [u8]) -> usize {
        let total = self.shape.request_len();
        if self.send_off == 0 && (self.send_seq > self.recv_seq || may_start == 0) {
            return 0;
        }
        let head = &self.shape.head;
        let mut off = self.send_off;
        let mut len = 0;
        while len < out.len() && off < total {
            let take = if off < head.len() {
                let take = (head.len() - off).min(out.len() - len);
                out[len..len + take].copy_from_slice(&head[off..off + take]);
                take
            } else {
                let at = off - head.len();
                let take = (total - off).min(out.len() - len);
                let seed = payload::seed(self.id, self.send_seq);
                payload::fill(seed, at, &mut out[len..len + take]);
                take
            };
            len += take;
            off += take;
        }
        len
    }

    fn sent(&mut self, written: usize, now: u64, start_times: &mut [u64]) -> u64 {
        let started = self.send_off == 0 && written > 0;
        if started {
            start_times[0] = now;
        }
        self.send_off += written;
        if self.send_off == self.shape.request_len() {
            self.send_seq += 1;
            self.send_off = 0;
        }
        u64::from(started)
    }

    fn received(
        &mut self,
        data: &[u8],
        now: u64,
        start_times: &[u64],
        totals: &mut Totals,
    ) -> Result<(), Broken> {
        self.parse(data, |conn, step| match step {
            Step::Head { status } => conn.bad |= status != 200,
            Step::Body(bytes) => totals.verified_bytes += conn.check_body(bytes) as u64,
            Step::Complete => {
                let bad = conn.finish_response();
                totals.latency.record(now.saturating_sub(start_times[0]));
                totals.messages += 1;
                totals.mismatched_messages += u64::from(bad);
            }
            Step::NeedMore => {}
        })
    }

    fn in_flight(&self) -> u64 {
        self.started() - self.recv_seq
    }

    /// No response is under way and none is owed for a completely written request (a
    /// half-written request will never be answered: closing is fine).
    fn settled(&self) -> bool {
        self.parser.is_idle() && !self.awaited_request_is_out()
    }

    fn discard(&mut self, data: &[u8]) -> bool {
        let parsed = self.parse(data, |conn, step| {
            if step == Step::Complete {
                conn.finish_response();
            }
        });
        parsed.is_err() || self.settled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get() -> Rc<Shape> {
        Rc::new(Shape {
            head: b"GET / HTTP/1.1\r\nhost: t\r\n\r\n".to_vec(),
            body: 0,
            expect: Expect::Fixed(b"Hello, world!"),
        })
    }

    fn post(body: usize) -> Rc<Shape> {
        Rc::new(Shape {
            head: format!("POST /echo HTTP/1.1\r\ncontent-length: {body}\r\n\r\n").into_bytes(),
            body,
            expect: Expect::Echo,
        })
    }

    /// Writes the next request through a "socket" taking `chunk` bytes at a time.
    fn send_request(conn: &mut HttpConn, chunk: usize, times: &mut [u64]) -> Vec<u8> {
        let mut wire = Vec::new();
        let mut buf = [0u8; 256];
        for _ in 0..10_000 {
            let len = conn.next_to_send(1, &mut buf);
            if len == 0 {
                break;
            }
            let took = len.min(chunk);
            wire.extend_from_slice(&buf[..took]);
            conn.sent(took, 1, times);
        }
        wire
    }

    /// A content-length response with `body`.
    fn response(status: u16, body: &[u8]) -> Vec<u8> {
        let mut wire = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        wire.extend_from_slice(body);
        wire
    }

    #[test]
    fn one_request_at_a_time() {
        let mut conn = HttpConn::new(0, get());
        let mut times = [0];
        let wire = send_request(&mut conn, 5, &mut times);
        assert_eq!(wire, get().head);
        assert_eq!(conn.in_flight(), 1);
        assert_eq!(conn.next_to_send(1, &mut [0; 64]), 0, "no pipelining");
        let mut totals = Totals::default();
        conn.received(&response(200, b"Hello, world!"), 10, &times, &mut totals)
            .unwrap();
        assert_eq!((totals.messages, totals.mismatched_messages), (1, 0));
        assert_eq!(totals.verified_bytes, 13);
        assert_eq!(conn.in_flight(), 0);
        assert!(conn.settled());
        assert_eq!(send_request(&mut conn, 64, &mut times), get().head);
    }

    #[test]
    fn post_bodies_are_generated_and_their_echo_checked() {
        let mut conn = HttpConn::new(3, post(1000));
        let mut times = [0];
        let wire = send_request(&mut conn, 77, &mut times);
        let body = &wire[post(1000).head.len()..];
        assert_eq!(body.len(), 1000);
        let mut totals = Totals::default();
        // Chunked this time, in odd pieces.
        let mut answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for part in body.chunks(300) {
            answer.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            answer.extend_from_slice(part);
            answer.extend_from_slice(b"\r\n");
        }
        answer.extend_from_slice(b"0\r\n\r\n");
        for piece in answer.chunks(7) {
            conn.received(piece, 5, &times, &mut totals).unwrap();
        }
        assert_eq!((totals.messages, totals.mismatched_messages), (1, 0));
        assert_eq!(totals.verified_bytes, 1000);
        // The next request carries a different body.
        let next = send_request(&mut conn, 4096, &mut times);
        assert_ne!(&next[post(1000).head.len()..], body);
    }

    #[test]
    fn wrong_answers_are_mismatches() {
        let cases: [&[u8]; 4] = [
            &response(404, b"Hello, world!"),
            &response(200, b"Hello, World!"),
            &response(200, b"Hello"),
            &response(200, b"Hello, world!!"),
        ];
        for answer in cases {
            let mut conn = HttpConn::new(0, get());
            let mut times = [0];
            send_request(&mut conn, 64, &mut times);
            let mut totals = Totals::default();
            conn.received(answer, 1, &times, &mut totals).unwrap();
            assert_eq!(totals.messages, 1);
            assert_eq!(totals.mismatched_messages, 1, "{answer:?}");
        }
    }

    #[test]
    fn unparsable_or_unasked_bytes_break_the_connection() {
        let mut conn = HttpConn::new(0, get());
        let mut totals = Totals::default();
        let answer = response(200, b"Hello, world!");
        assert_eq!(conn.received(&answer, 1, &[0], &mut totals), Err(Broken));

        let mut conn = HttpConn::new(0, get());
        let mut times = [0];
        send_request(&mut conn, 64, &mut times);
        let two = [answer.clone(), answer].concat();
        assert_eq!(conn.received(&two, 1, &times, &mut totals), Err(Broken));

        let mut conn = HttpConn::new(0, get());
        send_request(&mut conn, 64, &mut times);
        assert_eq!(
            conn.received(b"HTTP/1.1 200 OK\r\nbroken\r\n", 1, &times, &mut totals),
            Err(Broken)
        );
    }

    #[test]
    fn discard_waits_for_the_whole_answer() {
        let mut conn = HttpConn::new(0, get());
        let mut times = [0];
        send_request(&mut conn, 64, &mut times);
        assert!(!conn.settled());
        let answer = response(200, b"Hello, world!");
        assert!(!conn.discard(&answer[..20]));
        assert!(conn.discard(&answer[20..]));
    }

    #[test]
    fn a_half_written_request_owes_nothing() {
        let mut conn = HttpConn::new(0, post(100));
        let mut times = [0];
        let mut buf = [0u8; 30];
        let len = conn.next_to_send(1, &mut buf);
        conn.sent(len, 1, &mut times);
        assert_eq!(conn.in_flight(), 1);
        assert!(conn.settled());
    }
}
