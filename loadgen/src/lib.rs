//! A lean load generator for echo and HTTP/1.1 servers.
//!
//! It opens `C` TCP connections to a server that echoes every byte back, keeps `D`
//! messages of `S` bytes in flight on each, checks every echoed byte, and reports
//! throughput, latency percentiles, errors, and how much CPU the generator itself used.
//! The [`http`] module does the same for an HTTP/1.1 server with keep-alive: one request in
//! flight per connection, every response parsed and checked.
//!
//! ```no_run
//! use loadgen::{Config, Limit};
//! use std::time::Duration;
//!
//! let report = loadgen::run(&Config {
//!     addr: "127.0.0.1:8080".parse().unwrap(),
//!     connections: 100,
//!     payload: 64,
//!     depth: 1,
//!     limit: Limit::Duration(Duration::from_secs(5)),
//! })?;
//! println!("{report}");
//! assert_eq!(report.errors, 0);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Why one thread and raw epoll
//!
//! A benchmark client must be cheaper than the server it measures, or it measures itself.
//! So the generator is a single thread driving one epoll instance over non-blocking
//! sockets through `libc` directly:
//!
//! * no locks, no cross-thread wake-ups, no async runtime of its own whose costs would
//!   mix with the runtime under test;
//! * no allocation per message: every buffer (two 64 KiB scratch buffers, the event
//!   array, one timestamp slot per in-flight message, a fixed histogram) is allocated
//!   before the clock starts;
//! * few system calls: sockets are registered once, edge-triggered, so each batch of
//!   messages costs about one `send`, one `read` and a share of one `epoll_wait`
//!   (details in the `driver` module).
//!
//! The report includes the thread's own user and system CPU time
//! ([`Report::client_user_cpu`], [`Report::client_sys_cpu`]), so a benchmark can show
//! that the client was not the bottleneck.
//!
//! # How echoes are verified without storing them
//!
//! Message `n` on connection `c` consists of bytes computed from `(c, n)` alone by a
//! counter-based generator (SplitMix64): byte `k` can be computed directly, without the
//! bytes before it (see the `payload` module). Each connection therefore needs only four
//! counters: which message and offset it is sending, and which message and offset it is
//! receiving. When echoed bytes arrive, in whatever pieces TCP chose, the expected bytes
//! for exactly that stretch are regenerated into a stack buffer and compared. A wrong byte
//! marks its message as mismatched; bytes that arrive beyond what was sent, or a connection
//! the server closes, count as connection errors. Both add to [`Report::errors`].
//!
//! Likewise, when the kernel accepts only part of a write, nothing is kept: the unsent
//! remainder is regenerated from the counters next time.
//!
//! # What is measured
//!
//! * All connections are opened (with `TCP_NODELAY`) before the clock starts.
//! * Latency of a message runs from the `send` that carried its first byte to the `read`
//!   that delivered its last echoed byte, recorded in a log-linear histogram (about 3%
//!   resolution).
//! * [`Limit::Messages`] stops after exactly that many echoes in total, never starting more
//!   messages than it needs; [`Limit::Duration`] stops when the time is up.
//! * If no echoed byte arrives for [`DEFAULT_IDLE_TIMEOUT`], [`run`] fails with
//!   [`std::io::ErrorKind::TimedOut`] rather than hanging.
//! * At the end, echoes still in flight are awaited (up to a second, unmeasured) so that
//!   every connection closes cleanly.

#![warn(missing_docs)]

mod conn;
mod driver;
mod exchange;
pub mod histogram;
pub mod http;
pub mod payload;
mod report;
mod sys;

pub use report::Report;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// How much load to generate. See the crate documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The echo server.
    pub addr: SocketAddr,
    /// Number of connections (`C`), all opened before the run starts.
    pub connections: usize,
    /// Bytes per message (`S`), at least 1.
    pub payload: usize,
    /// Messages in flight per connection (`D`), at least 1. With 1, each connection
    /// waits for an echo before sending the next message (ping-pong).
    pub depth: usize,
    /// When to stop.
    pub limit: Limit,
}

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// After this much time.
    Duration(Duration),
    /// After this many echoed messages, counted over all connections.
    Messages(u64),
}

/// How long [`run`] waits without receiving any echoed byte before giving up.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects, runs the load until `cfg.limit`, closes every connection and reports.
///
/// Fails if a connection cannot be opened, if the configuration is unusable (zero
/// connections, payload or depth), or with [`io::ErrorKind::TimedOut`] if the server
/// stops answering for [`DEFAULT_IDLE_TIMEOUT`]. A server that answers wrongly, or
/// closes connections, does not make the run fail: it shows in [`Report::errors`].
/// If every connection fails, the run ends early with what it has.
pub fn run(cfg: &Config) -> io::Result<Report> {
    run_with_idle_timeout(cfg, DEFAULT_IDLE_TIMEOUT)
}

/// [`run`] with a chosen idle timeout instead of [`DEFAULT_IDLE_TIMEOUT`].
pub fn run_with_idle_timeout(cfg: &Config, idle_timeout: Duration) -> io::Result<Report> {
    validate(cfg)?;
    let plan = driver::Plan {
        addr: cfg.addr,
        connections: cfg.connections,
        depth: cfg.depth,
        payload: cfg.payload,
        limit: cfg.limit,
    };
    let (size, depth) = (cfg.payload, cfg.depth);
    driver::Driver::connect(&plan, |id| conn::Conn::new(id, size, depth))?.run(idle_timeout)
}

/// Rejects configurations the event loop cannot make sense of.
fn validate(cfg: &Config) -> io::Result<()> {
    let problem = if cfg.connections == 0 {
        "connections must be at least 1"
    } else if cfg.payload == 0 {
        "payload must be at least 1 byte"
    } else if cfg.depth == 0 {
        "depth must be at least 1"
    } else {
        return Ok(());
    };
    Err(io::Error::new(io::ErrorKind::InvalidInput, problem))
}
