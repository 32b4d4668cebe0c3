//! The echo protocol's state of one connection: where its outgoing and incoming byte streams are.
//!
//! A connection carries an endless stream of fixed-size messages `0, 1, 2, ...` in each
//! direction. Because message contents are a pure function of `(connection, number)` (see
//! [`crate::payload`]), four counters describe everything: how far the send side got
//! (`send_seq`, `send_off`) and how far the echo came back (`recv_seq`, `recv_off`).
//! No buffers are kept per connection; the event loop lends each call one shared
//! scratch buffer.
//!
//! This module holds only the bookkeeping, not the system calls, so it can be tested
//! without sockets.

use crate::exchange::{Broken, Exchange, Totals};
use crate::payload;

/// One connection's echo progress. See the module documentation.
#[derive(Debug)]
pub struct Conn {
    /// Connection number, part of every message's seed.
    id: u64,
    /// Bytes per message.
    size: usize,
    /// Messages that may be in flight at once.
    depth: usize,
    /// The message being written (all earlier ones are fully written).
    send_seq: u64,
    /// Bytes of message `send_seq` already written.
    send_off: usize,
    /// The message being received (all earlier ones are fully echoed).
    recv_seq: u64,
    /// Bytes of message `recv_seq` already received.
    recv_off: usize,
    /// Whether message `recv_seq` has had a wrong byte so far.
    recv_bad: bool,
}

impl Conn {
    /// A fresh connection number `id` with `size`-byte messages, `depth` in flight at most.
    pub fn new(id: u64, size: usize, depth: usize) -> Self {
        Self {
            id,
            size,
            depth,
            send_seq: 0,
            send_off: 0,
            recv_seq: 0,
            recv_off: 0,
            recv_bad: false,
        }
    }

    /// Messages whose first byte has been written.
    fn started(&self) -> u64 {
        self.send_seq + u64::from(self.send_off > 0)
    }

    /// Bytes written but not echoed yet (including parts of unfinished messages).
    pub fn outstanding_bytes(&self) -> u64 {
        let size = self.size as u64;
        let sent = self.send_seq * size + self.send_off as u64;
        let received = self.recv_seq * size + self.recv_off as u64;
        sent - received
    }
}

impl Exchange for Conn {
    /// At most `depth` messages may be in flight.
    fn next_to_send(&self, may_start: u64, out: &mut [u8]) -> usize {
        let window_end = self.recv_seq + self.depth as u64; // first message we may not begin yet
        let (mut seq, mut off) = (self.send_seq, self.send_off);
        let mut started = 0;
        let mut len = 0;
        while len < out.len() && seq < window_end {
            if off == 0 {
                if started == may_start {
                    break;
                }
                started += 1;
            }
            let take = (self.size - off).min(out.len() - len);
            payload::fill(payload::seed(self.id, seq), off, &mut out[len..len + take]);
            len += take;
            off += take;
            if off == self.size {
                seq += 1;
                off = 0;
            }
        }
        len
    }

    /// `start_times` has one slot per allowed in-flight message (`depth` slots): message
    /// `n` uses slot `n % depth`, which is free because message `n - depth` is complete
    /// before `n` may start.
    fn sent(&mut self, mut written: usize, now: u64, start_times: &mut [u64]) -> u64 {
        let mut started = 0;
        while written > 0 {
            if self.send_off == 0 {
                start_times[(self.send_seq % start_times.len() as u64) as usize] = now;
                started += 1;
            }
            let take = (self.size - self.send_off).min(written);
            self.send_off += take;
            written -= take;
            if self.send_off == self.size {
                self.send_seq += 1;
                self.send_off = 0;
            }
        }
        started
    }

    /// Compares the echoed bytes with what was sent. [`Broken`] if the peer sent back more
    /// bytes than it was given, which no amount of checking can untangle.
    fn received(
        &mut self,
        data: &[u8],
        now: u64,
        start_times: &[u64],
        totals: &mut Totals,
    ) -> Result<(), Broken> {
        if data.len() as u64 > self.outstanding_bytes() {
            return Err(Broken);
        }
        let mut pos = 0;
        while pos < data.len() {
            let take = (self.size - self.recv_off).min(data.len() - pos);
            let seed = payload::seed(self.id, self.recv_seq);
            let wrong = payload::count_mismatches(seed, self.recv_off, &data[pos..pos + take]);
            totals.verified_bytes += (take - wrong) as u64;
            self.recv_bad |= wrong > 0;
            self.recv_off += take;
            pos += take;
            if self.recv_off == self.size {
                let slot = (self.recv_seq % start_times.len() as u64) as usize;
                totals.latency.record(now.saturating_sub(start_times[slot]));
                totals.messages += 1;
                totals.mismatched_messages += u64::from(self.recv_bad);
                self.recv_bad = false;
                self.recv_seq += 1;
                self.recv_off = 0;
            }
        }
        Ok(())
    }

    fn in_flight(&self) -> u64 {
        self.started() - self.recv_seq
    }

    /// Everything sent has come back (a half-sent message whose sent part is back counts).
    fn settled(&self) -> bool {
        self.outstanding_bytes() == 0
    }

    fn discard(&mut self, data: &[u8]) -> bool {
        let size = self.size as u64;
        let len = (data.len() as u64).min(self.outstanding_bytes());
        let received = self.recv_seq * size + self.recv_off as u64 + len;
        self.recv_seq = received / size;
        self.recv_off = (received % size) as usize;
        self.settled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: usize = 10;
    const DEPTH: usize = 3;

    /// Sends everything allowed, at most `budget` new messages, through a "socket" that
    /// takes `chunk` bytes per write; returns the bytes.
    fn send_all(conn: &mut Conn, mut budget: u64, chunk: usize, times: &mut [u64]) -> Vec<u8> {
        let mut wire = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..100 {
            let len = conn.next_to_send(budget, &mut buf);
            if len == 0 {
                break;
            }
            let took = len.min(chunk);
            wire.extend_from_slice(&buf[..took]);
            budget -= conn.sent(took, wire.len() as u64, times);
        }
        wire
    }

    #[test]
    fn depth_limits_what_is_in_flight() {
        let mut conn = Conn::new(1, SIZE, DEPTH);
        let mut times = [0; DEPTH];
        let wire = send_all(&mut conn, u64::MAX, 64, &mut times);
        assert_eq!(wire.len(), DEPTH * SIZE);
        assert_eq!(conn.in_flight(), DEPTH as u64);
        assert_eq!(conn.outstanding_bytes(), (DEPTH * SIZE) as u64);
    }

    #[test]
    fn message_budget_limits_new_messages() {
        let mut conn = Conn::new(1, SIZE, DEPTH);
        let mut times = [0; DEPTH];
        let wire = send_all(&mut conn, 2, 64, &mut times);
        assert_eq!(wire.len(), 2 * SIZE);
    }

    #[test]
    fn short_writes_resume_where_they_stopped() {
        let mut whole = Conn::new(7, SIZE, DEPTH);
        let mut pieces = Conn::new(7, SIZE, DEPTH);
        let mut times = [0; DEPTH];
        let expected = send_all(&mut whole, u64::MAX, 64, &mut times);
        let got = send_all(&mut pieces, u64::MAX, 3, &mut times);
        assert_eq!(got, expected, "3-byte writes produce the same stream");
    }

    #[test]
    fn echo_in_odd_pieces_is_verified_and_timed() {
        let mut conn = Conn::new(2, SIZE, DEPTH);
        let mut times = [0; DEPTH];
        let wire = send_all(&mut conn, u64::MAX, 64, &mut times);
        let mut totals = Totals::default();
        for piece in wire.chunks(7) {
            conn.received(piece, 1_000, &times, &mut totals).unwrap();
        }
        assert_eq!(totals.messages, DEPTH as u64);
        assert_eq!(totals.verified_bytes, wire.len() as u64);
        assert_eq!(totals.mismatched_messages, 0);
        assert_eq!(totals.latency.count(), DEPTH as u64);
        assert_eq!(conn.in_flight(), 0);
        // The window is open again: the next messages follow on.
        let more = send_all(&mut conn, 1, 64, &mut times);
        assert_eq!(more.len(), SIZE);
    }

    #[test]
    fn a_flipped_byte_marks_one_message() {
        let mut conn = Conn::new(3, SIZE, DEPTH);
        let mut times = [0; DEPTH];
        let mut wire = send_all(&mut conn, u64::MAX, 64, &mut times);
        wire[SIZE + 4] ^= 0xff; // inside the second message
        let mut totals = Totals::default();
        conn.received(&wire, 0, &times, &mut totals).unwrap();
        assert_eq!(totals.messages, DEPTH as u64);
        assert_eq!(totals.mismatched_messages, 1);
        assert_eq!(totals.verified_bytes, wire.len() as u64 - 1);
    }

    #[test]
    fn more_bytes_than_sent_is_an_overrun() {
        let mut conn = Conn::new(4, SIZE, DEPTH);
        let mut times = [0; DEPTH];
        let mut wire = send_all(&mut conn, 1, 64, &mut times);
        wire.push(0);
        let mut totals = Totals::default();
        let result = conn.received(&wire, 0, &times, &mut totals);
        assert_eq!(result, Err(Broken));
    }

    #[test]
    fn discard_drains_the_outstanding_bytes() {
        let mut conn = Conn::new(5, SIZE, DEPTH);
        let mut times = [0; DEPTH];
        send_all(&mut conn, u64::MAX, 25, &mut times);
        assert!(!conn.discard(&[0; 12]));
        assert!(conn.discard(&[0; 1_000]));
        assert_eq!(conn.in_flight(), 0);
    }
}
