//! Waking another thread's parked io_uring: an eventfd write, or `IORING_OP_MSG_RING`?
//!
//! Two threads on two cores, each with its own ring (set up like the runtime's: `SINGLE_ISSUER |
//! DEFER_TASKRUN` where the kernel has them), each parked in `io_uring_enter` waiting for one
//! completion. Thread A wakes B; B wakes A back; `n` round trips.
//!
//! - **eventfd** (what the runtime does): each ring keeps an 8-byte `READ` of its own (blocking)
//!   eventfd armed. The waker `write`s 1 to the other's eventfd; the woken thread reaps the read
//!   and re-arms it (the new SQE goes in with its next `io_uring_enter`). Per wake: one `write`
//!   by the waker, one `io_uring_enter` by the woken (which also submits the re-armed read).
//! - **MSG_RING**: the waker puts a `MSG_RING` SQE in *its own* ring, aimed at the other ring's
//!   descriptor, with `CQE_SKIP_SUCCESS` (no completion for the sender); the kernel posts a CQE
//!   straight into the target ring. The sender's `io_uring_enter` that submits the message is
//!   also the one that waits for the answer, so a wake costs no syscall of its own. The price:
//!   the waker must own a ring (a plain thread — a blocking-pool thread, a foreign thread holding
//!   a waker — has none).
//!
//! Nothing here uses the runtime: it measures the kernel mechanism alone.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use io_uring::{opcode, squeue, types, IoUring};

use super::threads::ThreadClock;
use crate::common::{catching, interleave, seconds, sys, Settings, Spread, Table};

/// `user_data` of a wake-up: the eventfd read's completion, or the message MSG_RING posts.
const WAKE: u64 = 1;
/// `user_data` of a MSG_RING request in the sender's ring (seen only if it fails).
const SENT: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    EventFd,
    MsgRing,
}

impl Mechanism {
    fn label(self) -> &'static str {
        match self {
            Mechanism::EventFd => "eventfd write + READ armed in the ring (the runtime's)",
            Mechanism::MsgRing => "IORING_OP_MSG_RING from the waker's ring",
        }
    }
}

/// One thread's side: its ring, its eventfd, and where the eventfd read lands.
struct Side {
    ring: IoUring,
    eventfd: OwnedFd,
    /// The eventfd read's target (boxed: the kernel holds its address while the read is armed).
    counter: Box<u64>,
    /// Syscalls made by this side.
    syscalls: u64,
}

/// What one side tells the other: the descriptors to wake it through.
#[derive(Debug, Clone, Copy)]
struct Address {
    ring: RawFd,
    eventfd: RawFd,
}

impl Side {
    /// A ring set up as the runtime's (`driver/completion/probe.rs`), and a blocking eventfd
    /// (io_uring honours `O_NONBLOCK` on reads). Returns the setup flags used.
    fn new() -> io::Result<(Side, &'static str)> {
        type Setup = fn(&mut io_uring::Builder);
        let attempts: [(&str, Setup); 3] = [
            ("SINGLE_ISSUER+DEFER_TASKRUN+TASKRUN_FLAG", |b| {
                b.setup_single_issuer()
                    .setup_defer_taskrun()
                    .setup_taskrun_flag();
            }),
            ("COOP_TASKRUN+TASKRUN_FLAG", |b| {
                b.setup_coop_taskrun().setup_taskrun_flag();
            }),
            ("none", |_| {}),
        ];
        let mut last = None;
        for (flags, setup) in attempts {
            let mut builder = IoUring::builder();
            setup(&mut builder);
            match builder.build(64) {
                Ok(ring) => {
                    // SAFETY: eventfd takes no pointers; the flags are valid constants.
                    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
                    if fd < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    let side = Side {
                        ring,
                        // SAFETY: `fd` was just returned by eventfd and is owned by nobody else.
                        eventfd: unsafe { OwnedFd::from_raw_fd(fd) },
                        counter: Box::new(0),
                        syscalls: 0,
                    };
                    return Ok((side, flags));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no ring")))
    }

    fn address(&self) -> Address {
        Address {
            ring: self.ring.as_raw_fd(),
            eventfd: self.eventfd.as_raw_fd(),
        }
    }

    /// Queues the read of this side's eventfd (submitted with the next `io_uring_enter`).
    fn arm_read(&mut self) -> io::Result<()> {
        let target: *mut u64 = &mut *self.counter;
        let read = opcode::Read::new(types::Fd(self.eventfd.as_raw_fd()), target.cast(), 8)
            .build()
            .user_data(WAKE);
        self.push(read)
    }

    /// Queues a MSG_RING posting a wake-up into `to`'s ring.
    fn queue_message(&mut self, to: Address) -> io::Result<()> {
        let message = opcode::MsgRingData::new(types::Fd(to.ring), 0, WAKE, None)
            .build()
            .flags(squeue::Flags::SKIP_SUCCESS)
            .user_data(SENT);
        self.push(message)
    }

    fn push(&mut self, entry: squeue::Entry) -> io::Result<()> {
        // SAFETY: the entry points only at `self.counter` (a heap allocation that lives as long
        // as the ring, and no read is left armed when the side is dropped: see `run_side`) or at
        // no memory at all (MSG_RING).
        unsafe { self.ring.submission().push(&entry) }
            .map_err(|_| io::Error::other("submission queue full"))
    }

    /// Adds 1 to `to`'s eventfd: wakes its ring's armed read.
    fn write_eventfd(&mut self, to: Address) -> io::Result<()> {
        let one: u64 = 1;
        self.syscalls += 1;
        // SAFETY: writes 8 bytes from a live u64 to a descriptor the other side keeps open
        // until both sides have passed the final barrier.
        let n = unsafe { libc::write(to.eventfd, (&one as *const u64).cast(), 8) };
        if n == 8 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Submits what is queued and sleeps in `io_uring_enter` until a wake-up arrives.
    fn wait_for_wake(&mut self) -> io::Result<()> {
        loop {
            self.syscalls += 1;
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
            let mut woken = false;
            for cqe in self.ring.completion() {
                match cqe.user_data() {
                    WAKE if cqe.result() >= 0 => woken = true,
                    _ => return Err(io::Error::from_raw_os_error(-cqe.result())),
                }
            }
            if woken {
                return Ok(());
            }
        }
    }
}

/// One thread's measure: CPU time and syscalls over its `n` wakes.
#[derive(Debug, Clone, Copy)]
struct Measured {
    elapsed: Duration,
    cpu: Duration,
    syscalls: u64,
    flags: &'static str,
}

/// Runs one side on core `core`: A (`first`) wakes first and times the round trips.
fn run_side(
    mechanism: Mechanism,
    n: usize,
    first: bool,
    mine: mpsc::Sender<Address>,
    theirs: mpsc::Receiver<Address>,
    barrier: Arc<Barrier>,
) -> Result<Measured, String> {
    sys::pin_to_core(usize::from(!first) % sys::online_cpus());
    let (mut side, flags) = Side::new().map_err(|e| format!("io_uring setup: {e}"))?;
    let _ = mine.send(side.address());
    let peer = theirs.recv().map_err(|_| "the other side did not start")?;
    let eventfd = mechanism == Mechanism::EventFd;
    if eventfd {
        side.arm_read().map_err(|e| e.to_string())?;
    }
    barrier.wait();
    let clock = ThreadClock::current();
    let cpu = clock.read();
    let start = Instant::now();
    let mut outcome = Ok(());
    for i in 0..n {
        let last = i + 1 == n;
        let step = if first {
            // Wake B, then sleep until B answers.
            let woke = match mechanism {
                Mechanism::EventFd => side.write_eventfd(peer),
                Mechanism::MsgRing => side.queue_message(peer),
            };
            woke.and_then(|()| side.wait_for_wake()).and_then(|()| {
                if eventfd && !last {
                    side.arm_read()
                } else {
                    Ok(())
                }
            })
        } else {
            // Sleep until A wakes us, then answer.
            side.wait_for_wake()
                .and_then(|()| {
                    if eventfd && !last {
                        side.arm_read()
                    } else {
                        Ok(())
                    }
                })
                .and_then(|()| match mechanism {
                    Mechanism::EventFd => side.write_eventfd(peer),
                    Mechanism::MsgRing => side.queue_message(peer),
                })
        };
        if let Err(e) = step {
            outcome = Err(e.to_string());
            break;
        }
    }
    if !first && mechanism == Mechanism::MsgRing && outcome.is_ok() {
        // The last answer is still queued: submit it.
        side.syscalls += 1;
        outcome = side.ring.submit().map(drop).map_err(|e| e.to_string());
    }
    let measured = Measured {
        elapsed: start.elapsed(),
        cpu: clock.read() - cpu,
        syscalls: side.syscalls,
        flags,
    };
    // Neither ring nor eventfd may close while the other side may still use it. On success no
    // eventfd read is left armed (the last wake does not re-arm); after a failure one may be,
    // so that side's memory is leaked rather than freed under the kernel.
    barrier.wait();
    if outcome.is_err() {
        std::mem::forget(side);
    }
    outcome.map(|()| measured)
}

/// A round of `n` round trips: (A's measure, B's measure).
fn measure(mechanism: Mechanism, n: usize) -> Result<(Measured, Measured), String> {
    let (to_a, from_b) = mpsc::channel();
    let (to_b, from_a) = mpsc::channel();
    let barrier = Arc::new(Barrier::new(2));
    // Both sides on threads of their own: pinning must not stick to the bench's main thread.
    let side = |first: bool, mine, theirs, barrier| {
        std::thread::spawn(move || {
            catching(|| run_side(mechanism, n, first, mine, theirs, barrier))
        })
    };
    let b = side(false, to_a, from_a, barrier.clone());
    let a = side(true, to_b, from_b, barrier);
    let join = |t: std::thread::JoinHandle<Result<Measured, String>>| {
        t.join().unwrap_or_else(|_| Err("a side panicked".into()))
    };
    let (a, b) = (join(a), join(b));
    Ok((a?, b?))
}

/// Runs the section and prints its table.
pub fn run(settings: &Settings) {
    let n = settings.pick(10_000, 500);
    println!("### Waking a parked ring: eventfd or MSG_RING\n");
    println!(
        "two threads on cores 0 and 1, each parked in `io_uring_enter` on its own ring; \
         {n} round trips (2 wakes each) per run\n"
    );
    let mechanisms = [Mechanism::EventFd, Mechanism::MsgRing];
    let outcomes = interleave(&mechanisms, settings.reps, |&m| measure(m, n));
    let mut table = Table::new(&[
        "mechanism",
        "round trip median (min–max)",
        "CPU µs per wake (both threads, median run)",
        "syscalls per wake",
        "ring setup",
    ]);
    let mut medians = Vec::new();
    for (m, outcome) in mechanisms.iter().zip(&outcomes) {
        let samples = match outcome {
            Ok(samples) => samples,
            Err(reason) => {
                table.unavailable(m.label(), reason);
                continue;
            }
        };
        let wakes = (2 * n * samples.len()) as f64;
        let trip = Spread::of(
            samples
                .iter()
                .map(|(a, _)| a.elapsed.as_secs_f64() / n as f64),
        )
        .expect("a sample");
        // The median run's CPU: one run disturbed by other work must not weigh on the figure.
        let cpu = Spread::of(
            samples
                .iter()
                .map(|(a, b)| (a.cpu + b.cpu).as_secs_f64() / (2 * n) as f64),
        )
        .expect("a sample")
        .median;
        let syscalls: u64 = samples.iter().map(|(a, b)| a.syscalls + b.syscalls).sum();
        medians.push((*m, trip.median, cpu));
        table.row(vec![
            m.label().to_string(),
            trip.show(seconds),
            format!("{:.2}", cpu * 1e6),
            format!("{:.2}", syscalls as f64 / wakes),
            samples[0].0.flags.to_string(),
        ]);
    }
    println!("{}", table.render());
    if let [(_, fd_trip, fd_cpu), (_, msg_trip, msg_cpu)] = medians[..] {
        // Round trips on this kind of machine swing with the other load; CPU per wake is
        // steadier. Both must improve by 15% to call it clear.
        let clearly = msg_trip <= 0.85 * fd_trip && msg_cpu <= 0.85 * fd_cpu;
        println!(
            "MSG_RING ÷ eventfd: round trip {:.2}×, CPU per wake {:.2}× → {}\n",
            msg_trip / fd_trip,
            msg_cpu / fd_cpu,
            if clearly {
                "MSG_RING is clearly faster here (round trip and CPU per wake both ≥ 15% lower)"
            } else {
                "not clearly faster: keep the eventfd (it also serves wakers that own no ring)"
            }
        );
    }
}
