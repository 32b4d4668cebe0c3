//! [`Builder`] and [`Backend`]: how a runtime is configured before it starts.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::trace::Tracer;
use crate::Runtime;

/// [`Builder::batch_wait`]'s default.
const DEFAULT_BATCH_WAIT: Duration = Duration::from_micros(10);

/// [`Builder::spin_before_park`]'s default.
const DEFAULT_SPIN_BEFORE_PARK: Duration = Duration::from_micros(50);

/// Environment override of [`Builder::spin_before_park`], in microseconds (`0` turns it off), for
/// benchmarks.
const SPIN_ENV: &str = "RUNTIME_SPIN_BEFORE_PARK_US";

/// Which IO driver a runtime uses.
///
/// - [`Backend::Epoll`] — the *readiness* model: the kernel says when a descriptor may be read or
///   written, and the runtime then makes the (non-blocking) syscall itself.
/// - [`Backend::IoUring`] — the *completion* model: the runtime hands the kernel the whole operation,
///   buffer included; the kernel waits, copies, and reports the result.
/// - [`Backend::Auto`] — `RUNTIME_BACKEND=epoll|io_uring` if set, else io_uring when the kernel
///   allows it, else epoll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// Choose at run time (see the type's docs).
    #[default]
    Auto,
    /// The epoll reactor (readiness).
    Epoll,
    /// The io_uring driver (completion).
    IoUring,
}

impl Backend {
    /// The name used by `RUNTIME_BACKEND` and `#[runtime::main(backend = "...")]`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Epoll => "epoll",
            Backend::IoUring => "io_uring",
        }
    }

    /// The backends compiled into this build (by the `epoll` and `io-uring` cargo features).
    pub fn compiled() -> &'static [Backend] {
        &[
            #[cfg(feature = "epoll")]
            Backend::Epoll,
            #[cfg(feature = "io-uring")]
            Backend::IoUring,
        ]
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = io::Error;

    fn from_str(s: &str) -> io::Result<Backend> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "epoll" => Ok(Backend::Epoll),
            "io_uring" | "io-uring" | "iouring" | "uring" => Ok(Backend::IoUring),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown backend {other:?}: expected \"epoll\", \"io_uring\" or \"auto\""),
            )),
        }
    }
}

/// Settings for a [`Runtime`].
///
/// ```
/// use runtime::{Backend, Runtime};
/// // Pin the backend; `Backend::compiled()` lists what this build has.
/// let backend = Backend::compiled()[0];
/// let rt = Runtime::builder().backend(backend).build()?;
/// assert_eq!(rt.backend(), backend);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) backend: Backend,
    pub(crate) ring_entries: u32,
    pub(crate) multishot_accept: bool,
    pub(crate) multishot_recv: bool,
    pub(crate) recv_buffers: (u16, usize),
    pub(crate) batch_wait: Duration,
    pub(crate) event_capacity: usize,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
    pub(crate) spin_before_park: Duration,
    /// Worker threads; `None`: one per online CPU (resolved to a number by `validated`).
    pub(crate) workers: Option<usize>,
    pub(crate) pin_workers: bool,
    /// Where to write the trace; `None`: `RUNTIME_TRACE`, if set.
    trace_path: Option<PathBuf>,
    /// Records kept per thread.
    trace_buffer: usize,
    /// The runtime's trace, opened by `build` (off until then).
    pub(crate) tracer: Tracer,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// The limits [`build`](Builder::build) checks.
impl Builder {
    /// The largest [`Self::ring_entries`]: the completion queue is four times the submission queue,
    /// and the kernel allows at most 65536 completion entries.
    pub const MAX_RING_ENTRIES: u32 = 16384;
    /// The largest [`Self::event_capacity`] (the event array is allocated up front, 12 bytes per
    /// event).
    pub const MAX_EVENT_CAPACITY: usize = 65536;
    /// The largest count of [`Self::recv_buffers`] (buffer ids are 16 bits, counts a power of two).
    pub const MAX_RECV_BUFFER_COUNT: u16 = 1 << 15;
    /// The largest size of one buffer of [`Self::recv_buffers`].
    pub const MAX_RECV_BUFFER_SIZE: usize = 1 << 20;
    /// The most memory [`Self::recv_buffers`] may ask for in all (count × size, allocated up front).
    pub const MAX_RECV_BUFFER_MEMORY: usize = 64 << 20;
    /// The longest [`Self::batch_wait`].
    pub const MAX_BATCH_WAIT: Duration = Duration::from_secs(1);
    /// The longest [`Self::spin_before_park`].
    pub const MAX_SPIN_BEFORE_PARK: Duration = Duration::from_millis(1);
    /// The most [`Self::workers`].
    pub const MAX_WORKERS: usize = 1024;
    /// The largest [`Self::trace_buffer`] (about 56 bytes per event, allocated as the buffer
    /// fills).
    pub const MAX_TRACE_BUFFER: usize = 1 << 22;
}

impl Builder {
    /// The defaults: `Backend::Auto`, a 256-entry ring, batched io_uring waits of up to 10 µs, 1024
    /// epoll events per wait, up to 512 blocking threads kept 10 s when idle, spins of up to 50 µs
    /// before parking.
    pub fn new() -> Builder {
        Builder {
            backend: Backend::Auto,
            ring_entries: 256,
            multishot_accept: false,
            multishot_recv: false,
            recv_buffers: (512, 4096),
            batch_wait: DEFAULT_BATCH_WAIT,
            event_capacity: 1024,
            max_blocking_threads: 512,
            blocking_keep_alive: Duration::from_secs(10),
            spin_before_park: DEFAULT_SPIN_BEFORE_PARK,
            workers: Some(1),
            pin_workers: false,
            trace_path: None,
            trace_buffer: 1 << 16,
            tracer: Tracer::default(),
        }
    }

    /// Chooses the IO backend.
    pub fn backend(mut self, backend: Backend) -> Builder {
        self.backend = backend;
        self
    }

    /// io_uring: submission queue size, from 1 to [`MAX_RING_ENTRIES`](Self::MAX_RING_ENTRIES);
    /// below 8 it is raised to 8, and the kernel rounds it up to a power of two. Default 256.
    ///
    /// Like every setting, it is checked by [`build`](Self::build) whatever the backend, so that a
    /// program that starts on one backend starts on the other.
    pub fn ring_entries(mut self, entries: u32) -> Builder {
        self.ring_entries = entries;
        self
    }

    /// io_uring: serve `accept` from one multishot accept request per listener, which queues the
    /// connections it takes. Off by default: it saves one SQE per connection, which did not
    /// measure faster on the echo benchmark (accepts are not its hot path). Ignored by epoll, and
    /// by kernels before 5.19, which fall back to one accept SQE per call.
    /// `RUNTIME_URING_MULTISHOT=accept,recv` (or `none`) overrides both multishot options.
    pub fn multishot_accept(mut self, on: bool) -> Builder {
        self.multishot_accept = on;
        self
    }

    /// io_uring: serve stream reads from one multishot receive per socket into a ring of provided
    /// buffers (see [`recv_buffers`](Self::recv_buffers)); reads then copy from there. It halves
    /// the SQEs of an echo server (one per message instead of two) but not its `io_uring_enter`
    /// calls, and its throughput stayed within the noise of the measurements, so it is off by
    /// default. It also reads ahead of the application (up to 256 KiB per socket plus what one
    /// park reaps), which weakens TCP back-pressure: a server that relies on it to notice slow
    /// peers may behave differently. Ignored by epoll, and by kernels before 6.0, which keep one
    /// receive SQE per read.
    pub fn multishot_recv(mut self, on: bool) -> Builder {
        self.multishot_recv = on;
        self
    }

    /// io_uring: the provided-buffer ring of [`multishot_recv`](Self::multishot_recv): `count`
    /// buffers of `size` bytes each, allocated when the runtime starts. Default 512 × 4 KiB.
    ///
    /// `count` is from 1 to [`MAX_RECV_BUFFER_COUNT`](Self::MAX_RECV_BUFFER_COUNT), rounded up to
    /// a power of two; `size` from 1 to [`MAX_RECV_BUFFER_SIZE`](Self::MAX_RECV_BUFFER_SIZE),
    /// raised to 64 if smaller; and the rounded count × size at most
    /// [`MAX_RECV_BUFFER_MEMORY`](Self::MAX_RECV_BUFFER_MEMORY). Checked by
    /// [`build`](Self::build), also when multishot receive is off.
    pub fn recv_buffers(mut self, count: u16, size: usize) -> Builder {
        self.recv_buffers = (count, size);
        self
    }

    /// io_uring: how much longer than for its first completion a blocking park may wait to gather
    /// more, when the load is high. Default 10 µs; `Duration::ZERO` turns batched waits off.
    ///
    /// Under a steady load of many connections a park that returns at the first completion makes
    /// one `io_uring_enter` per few messages; one that lingers a little collects dozens (echo
    /// benchmark, 64 B × 100 connections: 0.02–0.035 enters per message instead of 0.3–0.45). The
    /// wait is idle time, so the driver only waits when completions already arrive in groups
    /// *and* operations already stay in the kernel at least 20 × this long on average; a
    /// ping-pong on a few connections never waits. A longer wait gathers more but engages only
    /// where operations are that much slower; a shorter one engages sooner. A wake-up from another
    /// thread may be delayed by up to this long while batching. Needs Linux 6.12+
    /// (`IORING_FEAT_MIN_TIMEOUT`); older kernels keep plain waits. Ignored by epoll.
    /// `RUNTIME_URING_BATCH_WAIT_US=N` overrides it (for benchmarks). At most
    /// [`MAX_BATCH_WAIT`](Self::MAX_BATCH_WAIT) (checked by [`build`](Self::build)).
    pub fn batch_wait(mut self, wait: Duration) -> Builder {
        self.batch_wait = wait;
        self
    }

    /// epoll: how many events one `epoll_wait` may return, from 1 to
    /// [`MAX_EVENT_CAPACITY`](Self::MAX_EVENT_CAPACITY); below 16 it is raised to 16. Default 1024.
    /// Checked by [`build`](Self::build).
    pub fn event_capacity(mut self, events: usize) -> Builder {
        self.event_capacity = events;
        self
    }

    /// The most threads the blocking pool starts: at least 1 (checked by [`build`](Self::build)).
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits.
    pub fn blocking_keep_alive(mut self, d: Duration) -> Builder {
        self.blocking_keep_alive = d;
        self
    }

    /// How long a thread that expects work from another thread spins for it before it blocks in
    /// the kernel: a worker before it parks in its driver, a blocking-pool thread before it waits
    /// for its next job. Default 50 µs; `Duration::ZERO` turns spinning off.
    ///
    /// Waking a thread that blocked in the kernel takes a system call on the waking side and a
    /// scheduler wake-up on the other: tens of microseconds on a virtual machine whose idle vCPU
    /// must be woken first. A spinning thread sees the work within a microsecond, and the waker
    /// skips the system call. A worker spins only when it has a reason to expect a wake from
    /// another thread: its last park was ended by one, its last spin was answered, or it sent a job
    /// to the blocking pool since it last looked. A spin that goes unanswered withdraws that
    /// reason, so an idle runtime does not spin at all, and each remote wake or blocking job costs
    /// at most one unanswered spin. A spinning thread yields its CPU between looks (another thread
    /// may be waiting for it), and a worker whose spin was answered from its own CPU (the
    /// answering thread shares it, so spinning cannot help) does not spin for the next 100 ms.
    /// While it spins the worker still polls its driver, without blocking, every 10 µs: IO and
    /// timers are served at most that late. A blocking-pool thread spins once after each job, and
    /// at most one thread of the pool spins at a time.
    /// [`Stats::spins`](crate::Stats::spins) and [`Stats::spin_hits`](crate::Stats::spin_hits)
    /// count the worker's spins.
    ///
    /// `RUNTIME_SPIN_BEFORE_PARK_US=N` overrides it (for benchmarks; capped at the maximum). At
    /// most [`MAX_SPIN_BEFORE_PARK`](Self::MAX_SPIN_BEFORE_PARK) (checked by [`build`](Self::build)).
    pub fn spin_before_park(mut self, spin: Duration) -> Builder {
        self.spin_before_park = spin;
        self
    }

    /// How many workers: threads, each with its own executor, driver (of the same backend) and
    /// timers (default 1). Worker 0 is the thread that calls [`Runtime::block_on`]; the others
    /// are started by `build` and run until the runtime is dropped. Tasks never move between
    /// workers: [`spawn`](crate::spawn) stays on the current one, and a
    /// [`Handle`](crate::Handle) spawns `Send` futures on any.
    ///
    /// ```
    /// let rt = runtime::Runtime::builder().workers(2).build()?;
    /// let handle = rt.handle();
    /// let on_1 = handle.spawn_on(1, async { runtime::worker_id() });
    /// assert_eq!(rt.block_on(on_1).unwrap(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn workers(mut self, n: usize) -> Builder {
        self.workers = Some(n);
        self
    }

    /// One worker per online CPU (`std::thread::available_parallelism`).
    pub fn workers_per_core(mut self) -> Builder {
        self.workers = None;
        self
    }

    /// Pins worker `i` to CPU `i` (modulo the CPUs this process may use), worker 0 — the thread
    /// that builds the runtime — included. Off by default.
    pub fn pin_workers(mut self, on: bool) -> Builder {
        self.pin_workers = on;
        self
    }

    /// Records a trace of the runtime — polls, wakes, IO operations, parks, timers and
    /// blocking jobs of every worker and blocking-pool thread — and writes it to `path` in the
    /// Chrome trace-event format (open it in <https://ui.perfetto.dev>, or draw it with
    /// `cargo run --example timeline -- path`). The file is written when the runtime is dropped
    /// and at each [`trace::flush`](crate::trace::flush). See [`trace`](crate::trace).
    ///
    /// Without this setting, the environment variable `RUNTIME_TRACE=path` turns tracing on;
    /// when several runtimes of one process take their path from it, the second writes
    /// `name.2.json`, the third `name.3.json`, and so on. Off by default: then each place that
    /// would record costs one never-taken branch.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("builder-trace-{}.json", std::process::id()));
    /// let rt = runtime::Runtime::builder().trace(&path).build()?;
    /// rt.block_on(async { runtime::task::yield_now().await });
    /// drop(rt);
    /// assert!(std::fs::metadata(&path)?.len() > 0);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn trace(mut self, path: impl AsRef<Path>) -> Builder {
        self.trace_path = Some(path.as_ref().to_path_buf());
        self
    }

    /// How many events each thread's trace buffer keeps, from 1 to
    /// [`MAX_TRACE_BUFFER`](Self::MAX_TRACE_BUFFER); default 65 536. When a buffer is full, each
    /// new event overwrites the oldest, and the trace says how many were dropped. Checked by
    /// [`build`](Self::build), also when tracing is off.
    pub fn trace_buffer(mut self, events: usize) -> Builder {
        self.trace_buffer = events;
        self
    }

    /// Builds the runtime.
    ///
    /// ```
    /// let err = runtime::Runtime::builder().event_capacity(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("event_capacity"));
    /// ```
    ///
    /// # Errors
    /// `InvalidInput`, naming the setting, when a value is out of its documented range (whatever
    /// the backend); `Unsupported` when the requested backend is not compiled in or the kernel
    /// refuses it (the message names the cause); any error from creating the driver's descriptors.
    pub fn build(self) -> io::Result<Runtime> {
        let mut builder = self.validated()?;
        builder.tracer = Tracer::open(builder.trace_path.as_deref(), builder.trace_buffer);
        Runtime::from_builder(&builder)
    }

    /// Checks every setting against its documented range and applies the documented roundings, so
    /// that the drivers get values they can use as they are.
    fn validated(mut self) -> io::Result<Builder> {
        let (count, size) = self.recv_buffers;
        check(
            "ring_entries",
            self.ring_entries,
            1..=Self::MAX_RING_ENTRIES,
        )?;
        check(
            "event_capacity",
            self.event_capacity,
            1..=Self::MAX_EVENT_CAPACITY,
        )?;
        check("recv_buffers count", count, 1..=Self::MAX_RECV_BUFFER_COUNT)?;
        check("recv_buffers size", size, 1..=Self::MAX_RECV_BUFFER_SIZE)?;
        check(
            "batch_wait",
            self.batch_wait,
            Duration::ZERO..=Self::MAX_BATCH_WAIT,
        )?;
        if let Some(us) = std::env::var(SPIN_ENV)
            .ok()
            .and_then(|us| us.trim().parse::<u64>().ok())
        {
            self.spin_before_park = Duration::from_micros(us).min(Self::MAX_SPIN_BEFORE_PARK);
        }
        check(
            "spin_before_park",
            self.spin_before_park,
            Duration::ZERO..=Self::MAX_SPIN_BEFORE_PARK,
        )?;
        check(
            "trace_buffer",
            self.trace_buffer,
            1..=Self::MAX_TRACE_BUFFER,
        )?;
        check(
            "max_blocking_threads",
            self.max_blocking_threads,
            1..=usize::MAX,
        )?;
        let workers = self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(Self::MAX_WORKERS))
        });
        check("workers", workers, 1..=Self::MAX_WORKERS)?;
        self.workers = Some(workers);
        let (count, size) = (count.next_power_of_two(), size.max(64));
        let memory = usize::from(count) * size;
        if memory > Self::MAX_RECV_BUFFER_MEMORY {
            return Err(invalid(format!(
                "recv_buffers({count}, {size}) would take {memory} bytes, more than the {} allowed",
                Self::MAX_RECV_BUFFER_MEMORY
            )));
        }
        self.recv_buffers = (count, size);
        self.ring_entries = self.ring_entries.max(8);
        self.event_capacity = self.event_capacity.max(16);
        Ok(self)
    }
}

/// `InvalidInput` unless `value` of the setting `name` lies in `range`.
fn check<T: PartialOrd + fmt::Debug>(
    name: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> io::Result<()> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(invalid(format!(
        "{name} of {value:?} is out of range: it must be from {:?} to {:?}",
        range.start(),
        range.end()
    )))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("invalid runtime setting: {message}"),
    )
}
