//! The outcome of a run, and how to print it in plain words.

use std::fmt;
use std::time::Duration;

/// What a run measured. Times cover the measured part only: from the moment every
/// connection is open until the limit is reached (connecting and the final drain are
/// excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Messages whose echo came back completely (verified or not).
    pub messages: u64,
    /// Payload bytes of those messages (`messages * payload`).
    pub bytes: u64,
    /// Wall-clock length of the run.
    pub elapsed: Duration,
    /// Median latency: first byte written to last echoed byte read.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// 99.9th percentile latency.
    pub p999: Duration,
    /// Highest latency seen.
    pub max: Duration,
    /// `connection_errors + mismatched_messages`. Anything but 0 means the server
    /// under test misbehaved (or went away).
    pub errors: u64,
    /// Connections that failed: reset, closed by the server, or sent back more bytes
    /// than they were given.
    pub connection_errors: u64,
    /// Messages whose echo differed from what was sent in at least one byte.
    pub mismatched_messages: u64,
    /// Echoed bytes compared and found equal to what was sent.
    pub verified_bytes: u64,
    /// User CPU time of the load generator's thread during the run.
    pub client_user_cpu: Duration,
    /// System (kernel) CPU time of the load generator's thread during the run.
    pub client_sys_cpu: Duration,
}

impl Report {
    /// Echoed messages per second of run time (0 for an empty run).
    pub fn messages_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.messages as f64 / secs
        } else {
            0.0
        }
    }

    /// Client CPU time (user + system) spent per echoed message: the price of measuring.
    pub fn client_cpu_per_message(&self) -> Duration {
        let total = self.client_user_cpu + self.client_sys_cpu;
        if self.messages == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos((total.as_nanos() / u128::from(self.messages)) as u64)
    }
}

/// Formats a latency with a unit that keeps 3 significant-ish digits.
fn short(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        format!("{nanos} ns")
    } else if nanos < 1_000_000 {
        format!("{:.1} us", nanos as f64 / 1e3)
    } else if nanos < 1_000_000_000 {
        format!("{:.2} ms", nanos as f64 / 1e6)
    } else {
        format!("{:.3} s", nanos as f64 / 1e9)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let mib = self.bytes as f64 / (1024.0 * 1024.0);
        let mib_per_sec = if secs > 0.0 { mib / secs } else { 0.0 };
        writeln!(
            f,
            "messages:   {} echoed in {:.3} s = {:.0} messages/s",
            self.messages,
            secs,
            self.messages_per_sec()
        )?;
        writeln!(
            f,
            "payload:    {mib:.1} MiB echoed = {mib_per_sec:.1} MiB/s"
        )?;
        writeln!(
            f,
            "latency:    p50 {}, p99 {}, p99.9 {}, max {}",
            short(self.p50),
            short(self.p99),
            short(self.p999),
            short(self.max)
        )?;
        writeln!(
            f,
            "errors:     {} ({} connection errors, {} corrupted messages; {} bytes verified)",
            self.errors, self.connection_errors, self.mismatched_messages, self.verified_bytes
        )?;
        write!(
            f,
            "client cpu: user {:.3} s, system {:.3} s = {} per message",
            self.client_user_cpu.as_secs_f64(),
            self.client_sys_cpu.as_secs_f64(),
            short(self.client_cpu_per_message())
        )
    }
}
