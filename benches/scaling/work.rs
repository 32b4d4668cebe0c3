//! The server's CPU work per message: FNV-1a over the 64-byte payload, pass after pass, until
//! about 20 µs have gone by. It makes the *server* the bottleneck, so that adding a worker has
//! something to speed up.
//!
//! The number of passes is calibrated once, at start, on the calling thread's CPU clock (so time
//! lost to other processes does not count), and every contender then runs the same count. Each
//! pass starts from the previous pass's hash, so no pass can be skipped or hoisted by the
//! compiler, and the final hash goes through `black_box`.

use std::hint::black_box;
use std::time::Duration;

use super::threads::ThreadClock;

/// Bytes of one message: the work is done once per `MESSAGE` bytes received.
pub const MESSAGE: usize = 64;

/// How much hashing one message costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// FNV-1a passes over the message.
    pub passes: u32,
}

impl Work {
    /// The number of passes that takes about `target` of CPU time on this machine.
    pub fn calibrate(target: Duration) -> Work {
        let probe = Work { passes: 1000 };
        let message = [0x5au8; MESSAGE];
        // The fastest of several trials: the one least disturbed by interrupts.
        let per_pass = (0..7)
            .map(|_| {
                let clock = ThreadClock::current();
                let start = clock.read();
                for _ in 0..20 {
                    probe.on(&message);
                }
                (clock.read() - start).as_secs_f64() / (20.0 * f64::from(probe.passes))
            })
            .fold(f64::INFINITY, f64::min);
        let passes = (target.as_secs_f64() / per_pass).round().max(1.0) as u32;
        Work { passes }
    }

    /// Does the work for every `MESSAGE` bytes of `received` (a short read counts as a message).
    pub fn on(&self, received: &[u8]) {
        for message in received.chunks(MESSAGE) {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for _ in 0..self.passes {
                for &byte in black_box(message) {
                    hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
                }
            }
            black_box(hash);
        }
    }

    /// CPU time of one message's work, measured now on the calling thread (best of a few).
    pub fn cost(&self) -> Duration {
        let message = [0xa5u8; MESSAGE];
        (0..5)
            .map(|_| {
                let clock = ThreadClock::current();
                let start = clock.read();
                for _ in 0..10 {
                    self.on(&message);
                }
                (clock.read() - start) / 10
            })
            .min()
            .unwrap_or_default()
    }
}
