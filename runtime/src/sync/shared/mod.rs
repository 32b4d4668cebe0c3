//! The same channels and `Notify` for tasks on *different* threads: `Send + Sync`, usable from any
//! thread, including plain threads that run no runtime.
//!
//! Tasks never leave the worker thread they were spawned on, and the primitives one level up
//! ([`sync::mpsc`](crate::sync::mpsc), [`sync::oneshot`](crate::sync::oneshot), ...) count on it:
//! their state is a `RefCell` behind an `Rc`, so they are `!Send`. To talk to a task on another
//! runtime, or to a plain thread, use the ones here. The names, methods and errors are the same
//! (the error types are the very same types), so switching is a change of module path:
//!
//! ```
//! use runtime::sync::shared::mpsc; // was: runtime::sync::mpsc
//!
//! let (tx, mut rx) = mpsc::channel::<u64>(16);
//! let other_thread = std::thread::spawn(move || {
//!     runtime::Runtime::new().unwrap().block_on(async move {
//!         let mut sum = 0;
//!         while let Some(n) = rx.recv().await {
//!             sum += n;
//!         }
//!         sum
//!     })
//! });
//! runtime::Runtime::new().unwrap().block_on(async move {
//!     for n in 1..=100 {
//!         tx.send(n).await.unwrap();
//!     }
//! });
//! assert_eq!(other_thread.join().unwrap(), 5050);
//! ```
//!
//! | need | local (one thread) | shared (any thread) |
//! |---|---|---|
//! | many producers, one consumer | [`sync::mpsc`](crate::sync::mpsc) | [`mpsc`] (+ `blocking_send`, `blocking_recv`) |
//! | one value, once | [`sync::oneshot`](crate::sync::oneshot) | [`oneshot`] (+ `blocking_recv`) |
//! | every receiver gets every value | [`sync::broadcast`](crate::sync::broadcast) | [`broadcast`] (+ `blocking_recv`) |
//! | "something happened" | [`sync::Notify`](crate::sync::Notify) | [`Notify`] (`new` is `const`: it may be a `static`) |
//!
//! # Which one, and what it costs
//!
//! Use the local ones whenever both ends live on one runtime: that is the common case in a
//! thread-per-core program, where each worker's tasks talk among themselves. A local send is a
//! `RefCell` borrow and a `VecDeque` push (and a permit taken from a plain counter, for a bounded
//! channel); waking the receiver puts it on the run queue of the thread already running.
//!
//! Use these when the ends are on different threads. Each message then pays for atomic
//! read-modify-writes (about six: counting the value in and out, pushing it onto and popping it
//! off a lock-free queue, claiming the receiver's waker), each costing tens of cycles, and more
//! when the cache line holding the channel last lived on another core, which is the normal case
//! here. Even on one thread, a send and a receive cost about ten times what they cost on the
//! local channel (tens of nanoseconds against a few). A receiver
//! woken from another thread is pushed onto its runtime's remote queue, and, if that runtime is
//! parked, the runtime's driver is woken with an eventfd write: a syscall on the sender's side
//! and a wake-up on the receiver's. Batches amortise it: a burst of sends to a busy receiver
//! costs one wake-up, not one per message.
//!
//! # What takes a lock
//!
//! Hot paths take none where a lock-free design is simple: an `mpsc` send and receive, a
//! `oneshot` send and receive, and `Notify::notify_one` with nobody waiting (or `notified()`
//! taking a stored permit) are atomic operations only. A `std::sync::Mutex` guards the lists of
//! waiting tasks: the senders waiting for room in a bounded `mpsc` (taken only when one must wait
//! or be handed a freed slot), the tasks waiting on a `Notify`, and the whole `broadcast` ring
//! (each send and receive; see [`broadcast`] for why). No waker is ever woken, and no value
//! dropped, with a lock held.
//!
//! # Cancellation
//!
//! As with the local primitives: a future dropped while it waits leaves no waker behind, and one
//! dropped after it was handed something (a bounded channel's slot, `notify_one`'s wake-up)
//! passes it on. A dropped `recv` takes no value.
//!
//! The handshakes between a sender and a waiting receiver are checked with loom
//! (`RUSTFLAGS="--cfg loom" cargo test -p runtime --lib --release loom`).

mod atomic_waker;
mod blocking;
pub mod broadcast;
pub mod mpsc;
mod notify;
pub mod oneshot;
mod primitives;

#[cfg(all(test, loom))]
mod loom_tests;

pub use notify::{Notified, Notify};
