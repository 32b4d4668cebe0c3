//! The event loop: one thread, one epoll instance, every connection non-blocking.
//!
//! Sockets are registered once, edge-triggered, for both reading and writing, so the
//! loop never calls `epoll_ctl` again. Edge-triggered means "tell me when something
//! changes", so after each event the socket is used until it says "no more for now":
//!
//! * a read that returns fewer bytes than asked for has emptied the receive queue, and
//!   any later arrival raises a new edge, so we stop there without a final `EAGAIN` read;
//! * a write that the kernel accepts only partly has filled the send buffer, so we mark
//!   the connection not writable and wait for the next `EPOLLOUT` edge.
//!
//! That keeps the cost to roughly one `read` and one `send` per batch of messages, plus
//! one `epoll_wait` per batch of connections.
//!
//! The loop does not know what the bytes mean: each connection's [`Exchange`] (echo or HTTP)
//! says what to send and checks what arrives.

use crate::exchange::{Exchange, Totals};
use crate::report::Report;
use crate::sys::{self, Epoll};
use crate::Limit;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Bytes handed to one `send` or `read` at most.
const SCRATCH: usize = 64 * 1024;
/// Events taken from the kernel per `epoll_wait`.
const MAX_EVENTS: usize = 1024;
/// How long, after the run, to wait for echoes of messages still in flight (see [`Driver::drain`]).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// What to run, whatever the protocol.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The server.
    pub addr: SocketAddr,
    /// Connections, all opened before the run starts.
    pub connections: usize,
    /// Messages in flight per connection at most (the exchanges enforce it; the loop keeps
    /// one start time per message that may be in flight).
    pub depth: usize,
    /// Payload bytes one completed message stands for ([`Report::bytes`]).
    pub payload: usize,
    /// When to stop.
    pub limit: Limit,
}

/// One connection as the loop sees it: its socket and its protocol state.
struct Link<E> {
    /// The socket; `None` once the connection is closed.
    fd: Option<OwnedFd>,
    /// Whether the socket may accept more data (cleared when a write comes up short).
    writable: bool,
    exchange: E,
}

/// Everything the event loop owns. All buffers are allocated in [`Driver::connect`];
/// nothing is allocated while messages flow.
pub(crate) struct Driver<E> {
    epoll: Epoll,
    conns: Vec<Link<E>>,
    /// Connections not yet closed.
    open: usize,
    /// `depth` slots per connection: when each in-flight message was first written.
    start_times: Vec<u64>,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
    events: Vec<libc::epoll_event>,
    payload: usize,
    depth: usize,
    limit: Limit,
    /// `Some(n)` when the run ends after `n` echoed messages.
    message_limit: Option<u64>,
    /// Messages that may still be started (only shrinks in message-limited runs).
    budget: u64,
    /// Set when a failed connection handed messages back to `budget`.
    budget_returned: bool,
    totals: Totals,
    connection_errors: u64,
    /// Time zero of the run; all `u64` times are nanoseconds since then.
    clock: Instant,
    /// When the last echoed byte arrived.
    last_progress: u64,
}

impl<E: Exchange> Driver<E> {
    /// Opens and registers all connections, each with the exchange `make(connection number)`.
    /// Nothing is sent yet.
    pub(crate) fn connect(cfg: &Plan, mut make: impl FnMut(u64) -> E) -> io::Result<Self> {
        sys::ensure_fd_limit(cfg.connections as u64 + 64);
        let epoll = Epoll::new()?;
        let interest = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
        let mut conns = Vec::with_capacity(cfg.connections);
        for id in 0..cfg.connections {
            let stream = TcpStream::connect(cfg.addr).map_err(|e| {
                let what = format!(
                    "connection {} of {} to {}",
                    id + 1,
                    cfg.connections,
                    cfg.addr
                );
                io::Error::new(e.kind(), format!("{what}: {e}"))
            })?;
            stream.set_nodelay(true)?;
            stream.set_nonblocking(true)?;
            let fd = OwnedFd::from(stream);
            epoll.add(fd.as_raw_fd(), interest, id as u64)?;
            conns.push(Link {
                fd: Some(fd),
                writable: true,
                exchange: make(id as u64),
            });
        }
        let message_limit = match cfg.limit {
            Limit::Messages(n) => Some(n),
            Limit::Duration(_) => None,
        };
        Ok(Self {
            epoll,
            open: conns.len(),
            conns,
            start_times: vec![0; cfg.connections * cfg.depth],
            send_buf: vec![0; SCRATCH],
            recv_buf: vec![0; SCRATCH],
            events: vec![sys::empty_event(); MAX_EVENTS.min(cfg.connections)],
            payload: cfg.payload,
            depth: cfg.depth,
            limit: cfg.limit,
            message_limit,
            budget: message_limit.unwrap_or(u64::MAX),
            budget_returned: false,
            totals: Totals::default(),
            connection_errors: 0,
            clock: Instant::now(),
            last_progress: 0,
        })
    }

    /// Nanoseconds since the run started.
    fn now(&self) -> u64 {
        self.clock.elapsed().as_nanos() as u64
    }

    /// Runs until the limit is reached, then drains and closes every connection.
    pub(crate) fn run(mut self, idle_timeout: Duration) -> io::Result<Report> {
        let (user_before, sys_before) = sys::thread_cpu_time()?;
        self.clock = Instant::now();
        let deadline = match self.limit {
            Limit::Duration(d) => d.as_nanos().min(u64::MAX as u128) as u64,
            Limit::Messages(_) => u64::MAX,
        };
        let idle = idle_timeout.as_nanos().min(u64::MAX as u128) as u64;
        let target = self.message_limit.unwrap_or(u64::MAX);

        for i in 0..self.conns.len() {
            self.pump_write(i);
        }
        self.offer_returned_budget();
        let mut now = self.now();
        while self.totals.messages < target && self.open > 0 && now < deadline {
            let idle_end = self.last_progress.saturating_add(idle);
            if now >= idle_end {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "no answer for {idle_timeout:?} ({} of the messages done, {} connections open)",
                        self.totals.messages, self.open
                    ),
                ));
            }
            let wait = Duration::from_nanos(deadline.min(idle_end) - now);
            let ready = self.epoll.wait(&mut self.events, wait)?;
            for k in 0..ready {
                let event = self.events[k]; // a copy: the struct is packed on some targets
                self.handle(event.u64 as usize, event.events);
                if self.totals.messages >= target {
                    break;
                }
            }
            self.offer_returned_budget();
            now = self.now();
        }
        let elapsed = Duration::from_nanos(now);
        let (user_after, sys_after) = sys::thread_cpu_time()?;
        self.drain();

        let latency = &self.totals.latency;
        let percentile = |q| Duration::from_nanos(latency.percentile(q));
        Ok(Report {
            messages: self.totals.messages,
            bytes: self.totals.messages * self.payload as u64,
            elapsed,
            p50: percentile(0.5),
            p99: percentile(0.99),
            p999: percentile(0.999),
            max: Duration::from_nanos(latency.max()),
            errors: self.connection_errors + self.totals.mismatched_messages,
            connection_errors: self.connection_errors,
            mismatched_messages: self.totals.mismatched_messages,
            verified_bytes: self.totals.verified_bytes,
            client_user_cpu: user_after.saturating_sub(user_before),
            client_sys_cpu: sys_after.saturating_sub(sys_before),
        })
    }

    /// Reacts to one epoll event for connection `i`.
    fn handle(&mut self, i: usize, events: u32) {
        if self.conns[i].fd.is_none() {
            return; // closed earlier in this batch
        }
        let readable = (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLERR | libc::EPOLLHUP) as u32;
        if events & readable != 0 {
            // Errors and hang-ups surface as a failed or empty read.
            self.pump_read(i);
        }
        if events & libc::EPOLLOUT as u32 != 0 {
            self.conns[i].writable = true;
        }
        // Also after a read alone: echoes that came back open the depth window again.
        self.pump_write(i);
    }

    /// Reads and checks answers on connection `i` until its receive queue is empty.
    fn pump_read(&mut self, i: usize) {
        let depth = self.depth;
        loop {
            let Some(fd) = self.conns[i].fd.as_ref().map(|fd| fd.as_raw_fd()) else {
                return;
            };
            match sys::read(fd, &mut self.recv_buf) {
                Ok(0) => return self.fail(i), // the server closed the connection
                Ok(n) => {
                    let now = self.now();
                    self.last_progress = now;
                    let times = &self.start_times[i * depth..(i + 1) * depth];
                    let data = &self.recv_buf[..n];
                    let checked =
                        self.conns[i]
                            .exchange
                            .received(data, now, times, &mut self.totals);
                    if checked.is_err() {
                        return self.fail(i); // bytes that answer nothing that was sent
                    }
                    if n < self.recv_buf.len() {
                        return; // queue emptied; the next arrival raises a new edge
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return self.fail(i),
            }
        }
    }

    /// Writes whatever connection `i` may send until the socket is full or the depth
    /// window (or message budget) is used up.
    fn pump_write(&mut self, i: usize) {
        let depth = self.depth;
        loop {
            let conn = &mut self.conns[i];
            let Some(fd) = conn.fd.as_ref().map(|fd| fd.as_raw_fd()) else {
                return;
            };
            if !conn.writable {
                return;
            }
            let len = conn.exchange.next_to_send(self.budget, &mut self.send_buf);
            if len == 0 {
                return;
            }
            let now = self.clock.elapsed().as_nanos() as u64;
            match sys::send(fd, &self.send_buf[..len]) {
                Ok(n) => {
                    let times = &mut self.start_times[i * depth..(i + 1) * depth];
                    self.budget -= conn.exchange.sent(n, now, times);
                    if n < len {
                        conn.writable = false; // send buffer full; wait for EPOLLOUT
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    conn.writable = false;
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return self.fail(i),
            }
        }
    }

    /// Closes connection `i` after an error and counts it.
    fn fail(&mut self, i: usize) {
        let conn = &mut self.conns[i];
        conn.fd = None; // closing also removes it from the epoll set
        self.open -= 1;
        self.connection_errors += 1;
        let in_flight = conn.exchange.in_flight();
        if self.message_limit.is_some() && in_flight > 0 {
            // Its unfinished messages will never be answered: let the others send them, so
            // the run still reaches its total.
            self.budget += in_flight;
            self.budget_returned = true;
        }
    }

    /// Lets every connection start messages a failed one gave back. Needed because a
    /// connection that ran out of budget is idle: no event would ever wake it.
    fn offer_returned_budget(&mut self) {
        // A write may fail and return more budget: repeat until things settle.
        while std::mem::take(&mut self.budget_returned) {
            for i in 0..self.conns.len() {
                self.pump_write(i);
            }
        }
    }

    /// Waits (briefly) for the answers to messages still in flight, then closes everything.
    ///
    /// Closing a socket whose receive queue still holds data makes the kernel send a
    /// reset instead of an orderly FIN, and the server under test would log errors it did
    /// not cause. So each connection is closed only once all it sent has come back, or
    /// when [`DRAIN_TIMEOUT`] runs out. None of this is part of the measured run.
    fn drain(&mut self) {
        let end = self.now().saturating_add(DRAIN_TIMEOUT.as_nanos() as u64);
        // Edges that arrived while the run was stopping were not handled: look at all.
        for i in 0..self.conns.len() {
            self.drain_one(i);
        }
        loop {
            let now = self.now();
            if self.open == 0 || now >= end {
                break;
            }
            let Ok(ready) = self
                .epoll
                .wait(&mut self.events, Duration::from_nanos(end - now))
            else {
                break;
            };
            for k in 0..ready {
                let event = self.events[k];
                self.drain_one(event.u64 as usize);
            }
        }
        self.conns.clear(); // closes whatever is still open
    }

    /// Reads and discards answers on connection `i`; closes it when nothing is owed.
    fn drain_one(&mut self, i: usize) {
        loop {
            let conn = &mut self.conns[i];
            let Some(fd) = conn.fd.as_ref().map(|fd| fd.as_raw_fd()) else {
                return;
            };
            if conn.exchange.settled() {
                break;
            }
            match sys::read(fd, &mut self.recv_buf) {
                Ok(0) => break,
                Ok(n) => {
                    conn.exchange.discard(&self.recv_buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => break,
            }
        }
        self.conns[i].fd = None;
        self.open -= 1;
    }
}
