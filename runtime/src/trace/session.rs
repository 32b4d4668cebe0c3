//! [`Session`]: the trace of one runtime — its file, its clock and its lanes — and [`Tracer`], the
//! handle every part of the runtime that starts threads keeps to it.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Instant;

use super::chrome;
use super::lane::{Lane, LaneGuard, Owner};

/// The environment variable that turns tracing on for runtimes whose builder did not.
pub(crate) const TRACE_ENV: &str = "RUNTIME_TRACE";

/// Every session alive in the process, for [`flush`](super::flush).
static SESSIONS: Mutex<Vec<Weak<Session>>> = Mutex::new(Vec::new());

/// Sessions opened through [`TRACE_ENV`] so far (the second one writes `name.2.json`, ...).
static FROM_ENV: AtomicUsize = AtomicUsize::new(0);

/// One runtime's trace.
#[derive(Debug)]
pub(crate) struct Session {
    path: PathBuf,
    /// Records kept per lane.
    capacity: usize,
    start: Instant,
    /// "epoll" or "io_uring", set by the first worker that enters.
    backend: OnceLock<&'static str>,
    lanes: Mutex<Vec<Arc<Lane>>>,
    /// Serialises flushes (two at once would race on the file).
    flushing: Mutex<()>,
}

impl Session {
    /// The lane of worker `id`, made on first use.
    fn worker_lane(&self, id: usize, executor: usize) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lane) = lanes.iter().find(|l| l.owner == Owner::Worker(id)) {
            return lane.clone();
        }
        let lane = Arc::new(Lane::new(
            Owner::Worker(id),
            executor,
            self.start,
            self.capacity,
        ));
        lanes.push(lane.clone());
        lane
    }

    /// A pool lane no live thread uses, made when every one is taken.
    fn free_pool_lane(&self) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        let pool = lanes.iter().filter(|l| matches!(l.owner, Owner::Pool(_)));
        if let Some(lane) = pool.clone().find(|l| l.try_take()) {
            return lane.clone();
        }
        let lane = Arc::new(Lane::new(
            Owner::Pool(pool.count() + 1),
            0,
            self.start,
            self.capacity,
        ));
        lane.try_take();
        lanes.push(lane.clone());
        lane
    }

    /// Writes every lane's records to the file, replacing it (through a temporary file and a
    /// rename, so that a reader never sees half a trace). Returns how many records were dropped.
    fn flush(&self) -> io::Result<u64> {
        let _one_at_a_time = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        let lanes: Vec<Arc<Lane>> = self
            .lanes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let snapshots: Vec<_> = lanes.iter().map(|lane| lane.snapshot()).collect();
        let dropped = snapshots.iter().map(|s| s.dropped).sum();
        let trace = chrome::Trace {
            backend: self.backend.get().copied().unwrap_or("unknown"),
            capacity: self.capacity,
            end: u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX),
            lanes: snapshots,
        };
        let temporary = temporary_path(&self.path);
        let mut out = BufWriter::new(fs::File::create(&temporary)?);
        chrome::write(&trace, &mut out)?;
        out.flush()?;
        drop(out);
        fs::rename(&temporary, &self.path)?;
        Ok(dropped)
    }
}

/// `dir/.name.tmp`: beside the trace, so that the rename stays on one file system.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "trace".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp"))
}

/// The `n`-th file (from 1) of a path given once for several runtimes: `trace.json`,
/// `trace.2.json`, `trace.3.json`, …
fn numbered(path: PathBuf, n: usize) -> PathBuf {
    if n <= 1 {
        return path;
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let name = match (stem, path.extension()) {
        (Some(stem), Some(ext)) => format!("{stem}.{n}.{}", ext.to_string_lossy()),
        (Some(stem), None) => format!("{stem}.{n}"),
        (None, _) => format!("trace.{n}.json"),
    };
    path.with_file_name(name)
}

/// A runtime's handle to its trace: nothing when tracing is off.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracer(Option<Arc<Session>>);

impl Tracer {
    /// The tracer of a new runtime: writing to `path`, else to `RUNTIME_TRACE`'s path if set,
    /// else off; keeping `capacity` records per lane.
    pub(crate) fn open(path: Option<&Path>, capacity: usize) -> Tracer {
        let path = match path {
            Some(path) => path.to_path_buf(),
            None => match std::env::var_os(TRACE_ENV) {
                Some(path) if !path.is_empty() => {
                    numbered(path.into(), FROM_ENV.fetch_add(1, Ordering::Relaxed) + 1)
                }
                _ => return Tracer(None),
            },
        };
        let session = Arc::new(Session {
            path,
            capacity,
            start: Instant::now(),
            backend: OnceLock::new(),
            lanes: Mutex::new(Vec::new()),
            flushing: Mutex::new(()),
        });
        let mut sessions = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|s| s.strong_count() > 0);
        sessions.push(Arc::downgrade(&session));
        Tracer(Some(session))
    }

    /// Makes this thread, worker `id` running the executor at address `executor` on `backend`,
    /// record into its lane until the guard is dropped.
    pub(crate) fn enter_worker(
        &self,
        id: usize,
        executor: usize,
        backend: crate::Backend,
    ) -> LaneGuard {
        let Some(session) = &self.0 else {
            return LaneGuard::none();
        };
        session.backend.get_or_init(|| backend.name());
        LaneGuard::enter(session.worker_lane(id, executor))
    }

    /// Makes this blocking-pool thread record into a free pool lane until the guard is dropped.
    pub(crate) fn enter_pool_thread(&self) -> LaneGuard {
        match &self.0 {
            Some(session) => LaneGuard::enter(session.free_pool_lane()),
            None => LaneGuard::none(),
        }
    }

    /// The runtime is being dropped: write the trace, saying on stderr what could not be
    /// written, or that records were dropped.
    pub(crate) fn flush_at_drop(&self) {
        let Some(session) = &self.0 else { return };
        match session.flush() {
            Ok(0) => {}
            Ok(dropped) => eprintln!(
                "runtime: trace written to {}; {dropped} older events were dropped (each thread \
                 keeps its newest {}: raise Builder::trace_buffer to keep more)",
                session.path.display(),
                session.capacity
            ),
            Err(e) => eprintln!(
                "runtime: could not write the trace to {}: {e}",
                session.path.display()
            ),
        }
    }
}

/// Flushes every live session (see [`super::flush`]); the first error is returned after all
/// were tried.
pub(super) fn flush_all() -> io::Result<()> {
    let sessions: Vec<Arc<Session>> = SESSIONS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    let mut first_error = None;
    for session in sessions {
        if let Err(e) = session.flush() {
            first_error.get_or_insert(io::Error::new(
                e.kind(),
                format!("writing the trace to {}: {e}", session.path.display()),
            ));
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_given_once_for_several_runtimes_are_numbered() {
        let p = PathBuf::from("out/trace.json");
        assert_eq!(numbered(p.clone(), 1), p);
        assert_eq!(numbered(p, 2), PathBuf::from("out/trace.2.json"));
        assert_eq!(numbered("t".into(), 3), PathBuf::from("t.3"));
    }

    #[test]
    fn the_temporary_file_sits_beside_the_trace() {
        assert_eq!(
            temporary_path(Path::new("/tmp/x/trace.json")),
            PathBuf::from("/tmp/x/.trace.json.tmp")
        );
    }
}
