//! Time: sleeping, timeouts and intervals.
//!
//! ```
//! use std::time::Duration;
//! use runtime::time::{interval, sleep, sleep_until, timeout, Instant};
//!
//! # runtime::Runtime::new().unwrap().block_on(async {
//! sleep(Duration::from_millis(5)).await;
//! sleep_until(Instant::now() + Duration::from_millis(5)).await;
//!
//! match timeout(Duration::from_millis(50), sleep(Duration::from_secs(1))).await {
//!     Ok(()) => println!("finished in time"),
//!     Err(elapsed) => println!("gave up: {elapsed}"),
//! }
//!
//! let mut ticks = interval(Duration::from_millis(10));
//! ticks.tick().await; // the first tick completes immediately
//! ticks.tick().await; // 10 ms later
//! # });
//! ```
//!
//! All times are [`Instant`]s (`std`'s own, re-exported); the timers have a
//! resolution of one millisecond. A timer never completes before its deadline,
//! and normally within a millisecond after it (later only if the worker is
//! busy).
//!
//! # How timers work
//!
//! Every worker thread has its own timer state (`Timers`, in `timers.rs`).
//! A [`Sleep`] registers its deadline and its task's waker there the first
//! time it is polled, and remembers only a small key. The worker's run loop
//! uses the timers twice per turn:
//!
//! 1. Before blocking in the IO driver (`epoll_wait` or the io_uring wait), it
//!    asks for the time until the next timer needs attention and uses that as
//!    the driver's timeout. With no timers pending, the driver may block until
//!    IO arrives.
//! 2. After the driver returns, it fires every timer whose deadline has
//!    passed, which wakes their tasks so the next turn polls them.
//!
//! When a `Sleep` is polled again it looks up its key: gone from the wheel
//! means it fired. Dropping a `Sleep` removes its entry, so a timeout that was
//! not needed costs one insert and one removal, both O(1).
//!
//! # The timing wheel
//!
//! Keeping timers in a sorted structure (a heap or a tree) makes every insert
//! and cancel O(log n). Servers set and cancel a timer for nearly every
//! request and almost never let one fire, so the runtime uses a *hierarchical
//! timing wheel* instead, the structure used by operating-system kernels for
//! the same job (`wheel.rs`).
//!
//! Picture a clock with 64 slots, one per millisecond: a timer due in 5 ms
//! goes in the slot 5 places ahead of the hand, and each millisecond the hand
//! moves one slot and fires what is there. That covers only 64 ms, so there
//! is a second wheel whose slots are 64 ms wide, a third with 4096 ms slots,
//! and so on: six wheels ("levels") of 64 slots reach 64^6 ms, about two
//! years. A timer goes on the lowest level whose range still reaches its
//! deadline. When the hand of a higher level reaches a slot, the timers in it
//! are close enough to be spread over the finer levels below ("cascading");
//! each timer cascades at most once per level.
//!
//! What makes this fast:
//!
//! - Insert and cancel are O(1): the slot is computed from the deadline with a
//!   few bit operations, and each slot is a doubly-linked list.
//! - Finding the next timer is O(levels): each level keeps a 64-bit mask of its
//!   non-empty slots, so the next one is a single `trailing_zeros`. The run
//!   loop never scans empty slots, however long it slept.
//! - No allocation per timer: entries live in one growable slab and are
//!   linked by index; freed entries are reused. A key holds the entry's index
//!   and a generation number that changes whenever the entry is freed, so the
//!   key of a fired or cancelled timer can never affect a newer timer that
//!   happens to reuse the same entry.
//!
//! Deadlines beyond the top level's range wait on an overflow list attached
//! to the top level and are placed again each time the top level wraps
//! around. Deadlines in the past fire at the next opportunity.
//!
//! # Intervals
//!
//! [`Interval`] ticks first immediately, then every period. If the task falls
//! behind, the default [`MissedTickBehavior::Burst`] completes the missed
//! ticks back to back to catch up (as `tokio` does);
//! [`Delay`](MissedTickBehavior::Delay) and [`Skip`](MissedTickBehavior::Skip)
//! are available through [`Interval::set_missed_tick_behavior`].

mod interval;
mod sleep;
mod timeout;
mod timers;
mod wheel;

/// A point in time: `std::time::Instant` itself, re-exported so that code reads
/// as with tokio (`use runtime::time::{sleep_until, Instant}`).
///
/// tokio has an `Instant` of its own so that tests can pause its clock; this
/// runtime has no paused clock, so its timers take `std`'s `Instant` directly
/// and a type of its own would only add conversions.
///
/// ```
/// use std::time::Duration;
/// use runtime::time::{sleep_until, Instant};
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let deadline = Instant::now() + Duration::from_millis(5);
/// sleep_until(deadline).await;
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
pub use std::time::Instant;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
pub(crate) use timers::Timers;

#[cfg(test)]
mod tests;
