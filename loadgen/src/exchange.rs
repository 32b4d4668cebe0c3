//! What the event loop needs to know about a protocol: the [`Exchange`] trait.
//!
//! The event loop (`driver`) only moves bytes: it asks a connection's exchange what to send next,
//! tells it what the kernel took, and hands it what arrived. The exchange decides what the bytes
//! mean: for the echo protocol (`conn`) a stream of fixed-size messages that must come back
//! unchanged; for HTTP (`http::conn`) requests and the responses that answer them. Either way a
//! *message* is one unit of work that the report counts and times: an echoed message, or a
//! request with its response.
//!
//! Exchanges hold only counters and small parsing state, no socket, so they can be tested without
//! one.

use crate::histogram::Histogram;

/// What the connections have achieved between them; summed into the report.
#[derive(Debug, Default)]
pub struct Totals {
    /// Messages completed: echoes that came back whole, responses that arrived whole.
    pub messages: u64,
    /// Bytes that arrived and matched what was expected.
    pub verified_bytes: u64,
    /// Completed messages that were wrong in some way (a changed byte, an unexpected status).
    pub mismatched_messages: u64,
    /// Latency of every completed message, in nanoseconds.
    pub latency: Histogram,
}

/// The bytes that arrived on a connection cannot be accounted for (more than was asked for, or
/// not in the protocol's shape): the connection is given up.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken;

/// One connection's protocol state, driven by the event loop. See the module documentation.
///
/// Times are nanoseconds since the run started. `start_times` is the connection's share of the
/// loop's timestamp array: one slot per message that may be in flight at once.
pub trait Exchange {
    /// Fills `out` with the next bytes to send and returns how many; 0 when nothing may be sent
    /// now. At most `may_start` new messages may be begun (the rest of a half-written message is
    /// always allowed). Nothing is marked as sent: that is [`Exchange::sent`]'s job once the kernel
    /// says how much it took, and bytes it refuses are generated again next time.
    fn next_to_send(&self, may_start: u64, out: &mut [u8]) -> usize;

    /// Records that the kernel took `written` bytes at `now`; returns how many messages had their
    /// first byte among them (their start times go into `start_times`).
    fn sent(&mut self, written: usize, now: u64, start_times: &mut [u64]) -> u64;

    /// Checks bytes `data` that arrived at `now` and records every message they complete.
    fn received(
        &mut self,
        data: &[u8],
        now: u64,
        start_times: &[u64],
        totals: &mut Totals,
    ) -> Result<(), Broken>;

    /// Messages begun but not completed.
    fn in_flight(&self) -> u64;

    /// Whether nothing more can arrive for what was sent, so the connection may close cleanly.
    fn settled(&self) -> bool;

    /// After the run: takes bytes `data` without checking or timing them; returns
    /// [`Exchange::settled`] afterwards.
    fn discard(&mut self, data: &[u8]) -> bool;
}
