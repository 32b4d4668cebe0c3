//! Memory per worker: the resident memory an idle runtime of 1, 2, 4, 8 and 16 workers adds to a
//! process, on each backend (and tokio `multi_thread` with as many workers, for scale), and what
//! it is made of.
//!
//! Each figure comes from a fresh child process (this bench binary, run again with
//! `SCALING_MEMORY_CHILD=<runtime>:<workers>`), so that no allocator state carries over: it
//! reads `/proc/self/smaps` before building the runtime and again once every worker has run a
//! job and gone idle, and prints the difference by kind of mapping:
//! - **io_uring rings**: the ring mappings (`anon_inode:[io_uring]`): submission and completion
//!   queues and the SQE array;
//! - **thread stacks**: the mappings that hold a worker's stack (each worker reports the address
//!   of a local variable), and the main thread's `[stack]`;
//! - **malloc arenas**: glibc gives each new thread that allocates an arena of its own, a mapping
//!   aligned to 64 MiB (most of it reserved, not resident);
//! - **other anonymous**: the main heap and large allocations (executors, slabs, the epoll event
//!   array, ...);
//! - **files**: mapped files (the binary and libraries: shared, not per worker).
//!
//! Resident memory is only what the process touches. Kernel memory (socket buffers, the epoll
//! instance, io_uring's own request structures) is not in it.

use std::process::Command;

use runtime::{Backend, Runtime};

use crate::common::{Settings, Spread, Table};

/// The environment variable that makes the bench binary a memory-measuring child.
pub const CHILD: &str = "SCALING_MEMORY_CHILD";

const WORKERS: [usize; 5] = [1, 2, 4, 8, 16];

/// Alignment (and maximum size) of a glibc per-thread malloc heap on 64-bit Linux.
const ARENA_ALIGN: u64 = 64 << 20;

/// Resident KiB by kind of mapping, in the order of [`Resident::KINDS`].
#[derive(Debug, Clone, Copy, Default)]
struct Resident([f64; 5]);

impl Resident {
    const KINDS: [&'static str; 5] = [
        "io_uring rings",
        "thread stacks",
        "malloc arenas",
        "other anonymous",
        "files",
    ];
    const URING: usize = 0;
    const STACKS: usize = 1;
    const ARENAS: usize = 2;
    const ANONYMOUS: usize = 3;
    const FILES: usize = 4;

    fn total(&self) -> f64 {
        self.0.iter().sum()
    }

    fn minus(&self, earlier: &Resident) -> Resident {
        Resident(std::array::from_fn(|i| self.0[i] - earlier.0[i]))
    }

    /// Which kind a mapping is, from its start address and path; `stacks` are addresses inside
    /// the worker threads' stacks.
    fn kind(start: u64, end: u64, path: &str, stacks: &[usize]) -> usize {
        let holds_stack = stacks.iter().any(|&a| (start..end).contains(&(a as u64)));
        if path.contains("io_uring") {
            Self::URING
        } else if holds_stack || path == "[stack]" {
            Self::STACKS
        } else if path.is_empty() && start & (ARENA_ALIGN - 1) == 0 {
            Self::ARENAS
        } else if path.is_empty() || path.starts_with('[') {
            Self::ANONYMOUS
        } else {
            Self::FILES
        }
    }

    /// Reads `/proc/self/smaps`.
    fn now(stacks: &[usize]) -> Resident {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
        let mut resident = Resident::default();
        let mut kind = None;
        for line in smaps.lines() {
            let mut words = line.split_whitespace();
            let first = words.next().unwrap_or("");
            let range = first.split_once('-').and_then(|(s, e)| {
                Some((
                    u64::from_str_radix(s, 16).ok()?,
                    u64::from_str_radix(e, 16).ok()?,
                ))
            });
            if let Some((start, end)) = range {
                // A mapping's header: "start-end perms offset dev inode [path]".
                let path = words.nth(4).unwrap_or("");
                kind = Some(Self::kind(start, end, path, stacks));
            } else if let (Some(kind), "Rss:") = (kind, first) {
                resident.0[kind] += words.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
            }
        }
        resident
    }
}

/// The address of a local variable of the calling thread: a point inside its stack.
fn stack_marker() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// In the child: builds the runtime `spec` names ("epoll:4", "io_uring:4", "tokio:4"), waits
/// until every worker has run, and prints the resident memory it added, by kind.
pub fn child(spec: &str) {
    let (name, workers) = spec.split_once(':').expect("runtime:workers");
    let workers: usize = workers.parse().expect("a worker count");
    let before = Resident::now(&[]);
    let after = match name {
        "tokio" => {
            let (tx, rx) = std::sync::mpsc::channel();
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .on_thread_start(move || {
                    let _ = tx.send(stack_marker());
                })
                .enable_all()
                .build()
                .expect("tokio starts");
            let stacks: Vec<usize> = (0..workers)
                .map(|_| rx.recv().expect("a worker started"))
                .collect();
            // Let each worker run a task, as the runtime's workers run a job below.
            rt.block_on(async {
                for _ in 0..workers {
                    let _ = tokio::spawn(async {}).await;
                }
            });
            Resident::now(&stacks)
        }
        backend => {
            let backend = if backend == "epoll" {
                Backend::Epoll
            } else {
                Backend::IoUring
            };
            let rt = Runtime::builder()
                .backend(backend)
                .workers(workers)
                .build()
                .expect("the runtime starts");
            let stacks = rt.block_on(async {
                let mut stacks = Vec::new();
                for marker in rt.spawn_on_each(|_| {
                    let marker = stack_marker();
                    async move { marker }
                }) {
                    stacks.push(marker.await.expect("the worker ran"));
                }
                stacks
            });
            Resident::now(&stacks)
        }
    };
    let added = after.minus(&before);
    let parts: Vec<String> = added.0.iter().map(|v| format!("{v}")).collect();
    println!("{}", parts.join(" "));
}

/// Runs one child and reads what it printed.
fn measure(name: &str, workers: usize) -> Result<Resident, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .env(CHILD, format!("{name}:{workers}"))
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let values: Vec<f64> = text
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let parts: [f64; 5] = values
        .try_into()
        .map_err(|_| format!("unexpected child output: {text}"))?;
    Ok(Resident(parts))
}

/// Runs the section and prints its tables.
pub fn run(settings: &Settings) {
    let reps = settings.pick(3, 1);
    println!("### Memory per worker (idle)\n");
    println!(
        "resident memory added by building the runtime and letting every worker run once, \
         KiB, median of {reps} fresh processes\n"
    );
    let runtimes = [
        ("epoll", "runtime (epoll)"),
        ("io_uring", "runtime (io_uring)"),
        ("tokio", "tokio multi_thread"),
    ];
    let mut header = vec!["runtime", "workers", "RSS added, KiB"];
    header.extend(Resident::KINDS);
    let mut table = Table::new(&header);
    let mut slopes = Table::new(&{
        let mut h = vec![
            "runtime",
            "per worker, KiB: (16 workers − 1) ÷ 15, all but files",
        ];
        h.extend(Resident::KINDS);
        h.push("× 64 workers, MiB");
        h
    });
    for (name, label) in runtimes {
        if !settings.includes(label) {
            continue;
        }
        let mut by_workers = Vec::new();
        for &workers in settings.pick(&WORKERS[..], &[1, 16]) {
            let runs: Result<Vec<Resident>, String> =
                (0..reps).map(|_| measure(name, workers)).collect();
            let runs = match runs {
                Ok(runs) => runs,
                Err(reason) => {
                    table.unavailable(&format!("{label} × {workers}"), &reason);
                    continue;
                }
            };
            // The run with the median total, whole (its parts add up).
            let median = Spread::of(runs.iter().map(Resident::total))
                .expect("a run")
                .median;
            let pick = runs
                .iter()
                .min_by(|a, b| {
                    (a.total() - median)
                        .abs()
                        .total_cmp(&(b.total() - median).abs())
                })
                .copied()
                .expect("a run");
            let mut row = vec![
                label.to_string(),
                workers.to_string(),
                format!("{:.0}", pick.total()),
            ];
            row.extend(pick.0.iter().map(|v| format!("{v:.0}")));
            table.row(row);
            by_workers.push((workers, pick));
        }
        if let (Some((1, one)), Some((16, many))) = (by_workers.first(), by_workers.last()) {
            let per = Resident(many.minus(one).0.map(|v| v / 15.0));
            // Mapped files are the binary's and libraries' pages, touched once for the process
            // (what differs between runs is which code ran first): not a cost per worker.
            let anonymous = per.total() - per.0[Resident::FILES];
            let mut row = vec![label.to_string(), format!("{anonymous:.0}")];
            row.extend(per.0.iter().map(|v| format!("{v:.1}")));
            row.push(format!("{:.1}", anonymous * 64.0 / 1024.0));
            slopes.row(row);
        }
    }
    println!("{}", table.render());
    println!("{}", slopes.render());
}
