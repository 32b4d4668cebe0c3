//! The threads of the blocking pool and their queue.
//!
//! One `Mutex<State>` guards the queue and every count; one `Condvar` wakes idle threads. This is
//! the slow path by design (each job makes at least one blocking syscall), so a lock is cheaper to
//! reason about than anything clever.
//!
//! **Who runs a new job:**
//! 1. the spinning thread, if there is one (see *Spinning* below), else an idle thread, if there is
//!    one: `spawn` *claims* it (`Spinner::Claimed`, or moves it from `idle` to `notified`) so two
//!    jobs queued back to back do not both count on the same thread;
//! 2. else a new thread, while fewer than `max_threads` exist;
//! 3. else nobody right now: every thread is busy, and the first one to finish takes it from the
//!    queue.
//!
//! **Waiting region invariant:** every thread blocked in `Condvar::wait` is counted either in
//! `idle` or, once claimed, in `notified`. A thread leaving the wait takes a claim if there is one,
//! else removes itself from `idle`, so the counts never drift (spurious wake-ups included).
//!
//! **Spinning** ([`Builder::spin_before_park`](crate::Builder::spin_before_park)): a thread that
//! finished a job and found the queue empty spins briefly for the next job before it waits on the
//! `Condvar`, unless another thread of the pool spins already. The spinner is counted in `spinner`
//! (neither in `idle` nor in `notified`) and spins outside the lock, watching `spinner_called`.
//! `spawn` hands a job to the spinner first: it claims it (`Spinner::Claimed`) and raises
//! `spinner_called`. The spinner, called or out of time, takes the lock, stops being the spinner
//! (which takes up the claim, if there is one) and goes back to the queue, where it finds the job —
//! or not, if a thread that finished its own job took it first, as can happen to a claimed idle
//! thread. After a spin that found nothing it waits as an idle thread: a pool thread spins at most
//! once per job it ran.
//!
//! **Keep-alive:** an idle thread that is not claimed within `keep_alive` exits; the next job
//! starts a new one.
//!
//! **Shutdown** (the runtime is dropped): jobs that have not started are dropped (their awaiters
//! are gone already), idle threads are told to exit and the drop waits — briefly, at most
//! [`SHUTDOWN_GRACE`] — for them to leave. Threads in the middle of a job are *not* waited for:
//! they finish it in the background, drop its result (nobody awaits it) and exit.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::trace::Tracer;

/// A closure queued for a pool thread. Jobs never unwind: `spawn_blocking` wraps the user's closure
/// in `catch_unwind` and sends the panic to the awaiter.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// The name pool threads carry (visible in `top -H`, debuggers and panic messages).
const THREAD_NAME: &str = "runtime-blocking";

/// The longest a runtime's drop waits for its idle pool threads to exit (they normally take
/// microseconds; the bound only keeps a bug from hanging the drop).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

thread_local! {
    /// Whether this thread is a blocking-pool thread (of any runtime).
    static ON_POOL_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is a blocking-pool thread.
pub(crate) fn on_pool_thread() -> bool {
    ON_POOL_THREAD.get()
}

/// A runtime's blocking pool. Starts no thread until the first job.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    /// A job was queued since [`take_spawned`](Pool::take_spawned) last looked.
    spawned: Cell<bool>,
}

/// What the pool and its threads share.
struct Shared {
    state: Mutex<State>,
    /// Signalled for each claimed idle thread, and for all at shutdown.
    work_ready: Condvar,
    /// Signalled when a thread exits (the pool's drop waits on it).
    exited: Condvar,
    /// Raised when the spinning thread should take the lock: a job was handed to it, or the
    /// pool is dropped. Only a hint (the state behind the lock decides); cleared by the spinner.
    spinner_called: AtomicBool,
    max_threads: usize,
    keep_alive: Duration,
    /// How long a thread spins for the next job after one (zero: never).
    spin: Duration,
    /// The runtime's trace: each pool thread records into a lane of its own.
    trace: Tracer,
}

struct State {
    queue: VecDeque<Job>,
    /// Threads started and not yet exited.
    threads: usize,
    /// Threads running a job.
    busy: usize,
    /// Threads waiting for work and not claimed by any `spawn`.
    idle: usize,
    /// Claims made by `spawn` that no waiting thread has taken up yet.
    notified: usize,
    /// The thread spinning for the next job, if any.
    spinner: Spinner,
    shutdown: bool,
}

/// Whether a pool thread spins for the next job (at most one does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spinner {
    None,
    /// A thread spins, and no job counts on it yet.
    Spinning,
    /// A thread spins, and `spawn` queued a job for it.
    Claimed,
}

impl Pool {
    /// A pool of at most `max_threads` threads (at least one), each exiting after `keep_alive`
    /// without work and spinning up to `spin` for the next job after each one, recording into
    /// `trace`.
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        spin: Duration,
        trace: Tracer,
    ) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    busy: 0,
                    idle: 0,
                    notified: 0,
                    spinner: Spinner::None,
                    shutdown: false,
                }),
                work_ready: Condvar::new(),
                exited: Condvar::new(),
                spinner_called: AtomicBool::new(false),
                max_threads: max_threads.max(1),
                keep_alive,
                spin,
                trace,
            }),
            spawned: Cell::new(false),
        }
    }

    /// Whether a job was queued since the last call (the worker then expects its answer soon).
    pub(crate) fn take_spawned(&self) -> bool {
        self.spawned.replace(false)
    }

    /// Queues `job` and makes sure a thread will run it (see the module docs).
    ///
    /// If the OS refuses to start a thread and no pool thread exists to take the job later, the job
    /// runs right here, blocking the caller: late is better than lost.
    pub(crate) fn spawn(&self, job: Job) {
        self.spawned.set(true);
        let mut state = self.shared.lock();
        state.queue.push_back(job);
        if state.spinner == Spinner::Spinning {
            state.spinner = Spinner::Claimed;
            self.shared.spinner_called.store(true, Relaxed);
            return;
        }
        if state.idle > 0 {
            state.idle -= 1;
            state.notified += 1;
            self.shared.work_ready.notify_one();
            return;
        }
        if state.threads >= self.shared.max_threads {
            return;
        }
        state.threads += 1;
        drop(state);

        let shared = self.shared.clone();
        let started = thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                crate::signal::block_async_signals();
                ON_POOL_THREAD.set(true);
                let _lane = shared.trace.enter_pool_thread();
                shared.work()
            });
        if started.is_err() {
            let mut state = self.shared.lock();
            state.threads -= 1;
            if state.threads == 0 {
                let orphans = std::mem::take(&mut state.queue);
                drop(state);
                orphans.into_iter().for_each(|job| job());
            }
            // else: the existing threads drain the queue.
        }
    }

    /// Threads alive right now.
    #[cfg(test)]
    fn threads(&self) -> usize {
        self.shared.lock().threads
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock and never unwind, so a poisoned lock still holds consistent
        // counts.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The life of one pool thread: run jobs while there are any, then spin for the next one (if
    /// no other thread spins), then wait (at most `keep_alive`) to be claimed for the next one.
    fn work(&self) {
        let mut state = self.lock();
        'life: loop {
            let mut ran = false;
            while let Some(job) = state.queue.pop_front() {
                state.busy += 1;
                drop(state);
                crate::trace::blocking_job(job);
                ran = true;
                state = self.lock();
                state.busy -= 1;
            }
            if state.shutdown {
                break 'life;
            }
            if ran && !self.spin.is_zero() && state.spinner == Spinner::None {
                state.spinner = Spinner::Spinning;
                drop(state);
                let deadline = Instant::now() + self.spin;
                crate::runtime::spin_until(deadline, || self.spinner_called.load(Relaxed));
                state = self.lock();
                // Called or not, this thread is no longer the spinner; a job claimed for it is in
                // the queue it goes back to.
                state.spinner = Spinner::None;
                self.spinner_called.store(false, Relaxed);
                continue 'life;
            }
            state.idle += 1;
            // `None`: a keep-alive too long to represent (e.g. `Duration::MAX`) means "forever".
            let deadline = Instant::now().checked_add(self.keep_alive);
            loop {
                state = match deadline {
                    Some(deadline) => {
                        let timeout = deadline.saturating_duration_since(Instant::now());
                        let waited = self.work_ready.wait_timeout(state, timeout);
                        waited.unwrap_or_else(PoisonError::into_inner).0
                    }
                    None => self
                        .work_ready
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner),
                };
                if state.notified > 0 {
                    state.notified -= 1;
                    continue 'life;
                }
                let expired = deadline.is_some_and(|deadline| Instant::now() >= deadline);
                if state.shutdown || expired {
                    state.idle -= 1;
                    break 'life;
                }
                // A spurious wake-up: still idle, keep waiting.
            }
        }
        state.threads -= 1;
        drop(state);
        self.exited.notify_all();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.shutdown = true;
        let unstarted = std::mem::take(&mut state.queue);
        self.shared.work_ready.notify_all();
        self.shared.spinner_called.store(true, Relaxed);
        // Wait until every thread left is one that is running a job.
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while state.threads > state.busy {
            let timeout = deadline.saturating_duration_since(Instant::now());
            if timeout.is_zero() {
                break;
            }
            state = self
                .shared
                .exited
                .wait_timeout(state, timeout)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(state);
        // Outside the lock: dropping a closure runs arbitrary destructors.
        drop(unstarted);
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Pool")
            .field("threads", &state.threads)
            .field("busy", &state.busy)
            .field("queued", &state.queue.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    const DEADLINE: Duration = Duration::from_secs(10);

    /// Polls `cond` until it holds, failing the test after [`DEADLINE`].
    fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::yield_now();
        }
    }

    #[test]
    fn no_thread_before_the_first_job() {
        let pool = Pool::new(
            4,
            Duration::from_secs(10),
            Duration::ZERO,
            Tracer::default(),
        );
        assert_eq!(pool.threads(), 0);
    }

    #[test]
    fn jobs_beyond_the_maximum_wait_for_a_thread() {
        let pool = Pool::new(
            2,
            Duration::from_secs(10),
            Duration::ZERO,
            Tracer::default(),
        );
        let (tx, rx) = mpsc::channel();
        for i in 0..20 {
            let tx = tx.clone();
            pool.spawn(Box::new(move || tx.send(i).unwrap()));
            assert!(pool.threads() <= 2);
        }
        let mut got: Vec<i32> = (0..20)
            .map(|_| rx.recv_timeout(DEADLINE).unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn idle_threads_exit_after_keep_alive() {
        let pool = Pool::new(
            4,
            Duration::from_millis(20),
            Duration::ZERO,
            Tracer::default(),
        );
        let (tx, rx) = mpsc::channel();
        pool.spawn(Box::new(move || tx.send(()).unwrap()));
        rx.recv_timeout(DEADLINE).unwrap();
        eventually("the idle thread to exit", || pool.threads() == 0);
        // And the pool starts a fresh one for the next job.
        let (tx, rx) = mpsc::channel();
        pool.spawn(Box::new(move || tx.send(()).unwrap()));
        rx.recv_timeout(DEADLINE).unwrap();
    }

    #[test]
    fn an_endless_keep_alive_is_fine() {
        let pool = Pool::new(1, Duration::MAX, Duration::ZERO, Tracer::default());
        let (tx, rx) = mpsc::channel();
        pool.spawn(Box::new(move || tx.send(()).unwrap()));
        rx.recv_timeout(DEADLINE).unwrap();
        let shared = pool.shared.clone();
        drop(pool);
        eventually("the idle thread to exit", || shared.lock().threads == 0);
    }

    #[test]
    fn a_spinning_thread_takes_the_next_job() {
        // A spin far longer than the test: the thread is still spinning when the second job
        // comes, and the drop has to cut its spin short.
        let pool = Pool::new(4, Duration::from_secs(60), DEADLINE, Tracer::default());
        let (tx, rx) = mpsc::channel();
        let first = tx.clone();
        pool.spawn(Box::new(move || {
            first.send(thread::current().id()).unwrap()
        }));
        let first = rx.recv_timeout(DEADLINE).unwrap();
        eventually("the thread to spin", || {
            pool.shared.lock().spinner == Spinner::Spinning
        });
        pool.spawn(Box::new(move || tx.send(thread::current().id()).unwrap()));
        assert_eq!(rx.recv_timeout(DEADLINE).unwrap(), first);
        {
            let state = pool.shared.lock();
            assert_eq!((state.threads, state.idle, state.notified), (1, 0, 0));
        }
        assert!(pool.take_spawned());
        assert!(!pool.take_spawned());
        let shared = pool.shared.clone();
        let before = Instant::now();
        drop(pool);
        eventually("the spinning thread to exit", || shared.lock().threads == 0);
        assert!(
            before.elapsed() < SHUTDOWN_GRACE,
            "the spin was not cut short"
        );
    }

    #[test]
    fn one_thread_spins_at_a_time() {
        let pool = Pool::new(2, Duration::from_secs(60), DEADLINE, Tracer::default());
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let (done_tx, done_rx) = mpsc::channel();
        for _ in 0..2 {
            let (release_rx, done_tx) = (release_rx.clone(), done_tx.clone());
            pool.spawn(Box::new(move || {
                let _ = release_rx.lock().unwrap().recv_timeout(DEADLINE);
                done_tx.send(()).unwrap();
            }));
        }
        release_tx.send(()).unwrap();
        release_tx.send(()).unwrap();
        done_rx.recv_timeout(DEADLINE).unwrap();
        done_rx.recv_timeout(DEADLINE).unwrap();
        // One thread spins, the other waits on the condvar.
        eventually("one spinner and one idle thread", || {
            let state = pool.shared.lock();
            state.spinner == Spinner::Spinning && state.idle == 1
        });
    }

    #[test]
    fn drop_tells_idle_threads_to_exit_and_skips_unstarted_jobs() {
        let pool = Pool::new(
            1,
            Duration::from_secs(60),
            Duration::ZERO,
            Tracer::default(),
        );
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        pool.spawn(Box::new(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(DEADLINE);
        }));
        started_rx.recv_timeout(DEADLINE).unwrap();
        // Queued behind the busy thread: never started, so dropped by the pool's drop.
        let (ran_tx, ran_rx) = mpsc::channel::<()>();
        pool.spawn(Box::new(move || ran_tx.send(()).unwrap()));
        let shared = pool.shared.clone();
        let before = Instant::now();
        drop(pool); // must not wait for the busy thread
        assert!(before.elapsed() < SHUTDOWN_GRACE);
        assert!(ran_rx.recv_timeout(DEADLINE).is_err(), "unstarted job ran");
        release_tx.send(()).unwrap();
        eventually("the busy thread to exit", || shared.lock().threads == 0);
    }
}
