//! File IO benchmark: random 4 KiB reads at queue depth 1 and 64, sequential 1 MiB reads, and
//! 4 KiB writes each followed by `sync_data`.
//!
//! ```text
//! cargo bench --bench fs                   # 256 MiB file, 5 interleaved repetitions
//! BENCH_QUICK=1 cargo bench --bench fs     # 32 MiB file, fewer operations, 3 repetitions
//! BENCH_FS_MIB=64 cargo bench --bench fs   # choose the file size
//! cargo bench --bench fs -- qd64           # one case
//! ```
//!
//! Contenders: this runtime on io_uring (ring submissions) and on epoll (blocking pool),
//! `tokio::fs`, tokio with `spawn_blocking` around `pread`, plain `std::fs` (64 threads for depth
//! 64) and monoio on io_uring. The file is written once in the temp directory (so reads come from
//! the page cache: this measures the cost of *asking*, not the disk) and removed at the end.
//! Ratios are throughput relative to `tokio::fs` — above 1.00× is faster.

// `fs/owned.rs` is compiled once per owned-buffer runtime, on purpose (see that file).
#![allow(clippy::duplicate_mod)]

mod common;

#[path = "fs/on_monoio.rs"]
mod on_monoio;
#[path = "fs/on_runtime.rs"]
mod on_runtime;
#[path = "fs/on_std.rs"]
mod on_std;
#[path = "fs/on_tokio.rs"]
mod on_tokio;

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use common::{catching, env_number, interleave, seconds, Settings, Spread, Table};
use runtime::Backend;

/// The size of a random read and of each synced write.
pub const BLOCK: usize = 4096;

/// One workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Random 4 KiB reads, one at a time.
    Random4kQd1,
    /// Random 4 KiB reads, 64 in flight.
    Random4kQd64,
    /// The whole file in 1 MiB reads.
    Sequential1m,
    /// 4 KiB `write_at` then `sync_data`, repeated.
    WriteSync,
}

impl Case {
    const ALL: [Case; 4] = [
        Case::Random4kQd1,
        Case::Random4kQd64,
        Case::Sequential1m,
        Case::WriteSync,
    ];

    fn name(self) -> &'static str {
        match self {
            Case::Random4kQd1 => "random 4 KiB reads, qd1",
            Case::Random4kQd64 => "random 4 KiB reads, qd64",
            Case::Sequential1m => "sequential 1 MiB reads",
            Case::WriteSync => "4 KiB write_at + sync_data",
        }
    }

    /// Operations per run, and bytes each moves.
    fn ops(self, work: &Work) -> (usize, usize) {
        match self {
            Case::Random4kQd1 | Case::Random4kQd64 => (work.random_reads, BLOCK),
            Case::Sequential1m => (
                (work.data_len as usize).div_ceil(work.sequential_chunk),
                work.sequential_chunk,
            ),
            Case::WriteSync => (work.syncs, BLOCK),
        }
    }
}

/// The files and sizes every contender works on.
#[derive(Debug)]
pub struct Work {
    /// The file read by the read cases.
    pub data: PathBuf,
    /// Its length (a multiple of 1 MiB).
    pub data_len: u64,
    /// The file written by the write case (4 MiB, already allocated).
    pub scratch: PathBuf,
    /// Random reads per run (split over the tasks or threads).
    pub random_reads: usize,
    /// Bytes per sequential read.
    pub sequential_chunk: usize,
    /// Write + sync pairs per run.
    pub syncs: usize,
}

/// A pseudo-random sequence of block-aligned offsets below `blocks` blocks (xorshift64*): the same
/// sequence for a given `seed` whoever runs it, so every contender reads the same blocks.
pub struct Offsets {
    state: u64,
    blocks: u64,
}

impl Offsets {
    /// The sequence for reader number `seed`.
    pub fn new(seed: u64, blocks: u64) -> Offsets {
        Offsets {
            state: (seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            blocks: blocks.max(1),
        }
    }
}

impl Iterator for Offsets {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let r = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        Some((r % self.blocks) * BLOCK as u64)
    }
}

/// The ways of doing file IO compared here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    Runtime(Backend),
    Tokio(on_tokio::Api),
    Std,
    MonoioIoUring,
}

const CONTENDERS: [Contender; 6] = [
    Contender::Runtime(Backend::Epoll),
    Contender::Runtime(Backend::IoUring),
    Contender::Tokio(on_tokio::Api::TokioFs),
    Contender::Tokio(on_tokio::Api::SpawnBlockingPread),
    Contender::Std,
    Contender::MonoioIoUring,
];

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Contender::Runtime(Backend::IoUring) => "runtime (io_uring)",
            Contender::Runtime(_) => "runtime (epoll: blocking pool)",
            Contender::Tokio(on_tokio::Api::TokioFs) => "tokio::fs",
            Contender::Tokio(on_tokio::Api::SpawnBlockingPread) => "tokio spawn_blocking + pread",
            Contender::Std => "std::fs (threads at qd64)",
            Contender::MonoioIoUring => "monoio (io_uring)",
        }
    }

    /// Ratios are taken against `tokio::fs`.
    fn is_baseline(self) -> bool {
        self == Contender::Tokio(on_tokio::Api::TokioFs)
    }

    fn measure(self, case: Case, work: &Work) -> Result<Duration, String> {
        catching(|| match self {
            Contender::Runtime(backend) => on_runtime::run(backend, case, work),
            Contender::Tokio(api) => on_tokio::run(api, case, work),
            Contender::Std => on_std::run(case, work),
            Contender::MonoioIoUring => on_monoio::run(case, work),
        })
    }
}

/// Removes the benchmark's directory when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the data file (pseudo-random bytes) and the scratch file, and syncs both, so that no
/// write-back of their pages runs during the measurements.
fn prepare(dir: &std::path::Path, data_mib: u64) -> io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let data = dir.join("data.bin");
    let mut file = std::fs::File::create(&data)?;
    let mut chunk = vec![0u8; 1 << 20];
    let mut x = 0x1234_5678_9ABC_DEF0u64;
    for _ in 0..data_mib {
        for byte in chunk.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = x as u8;
        }
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    let scratch = dir.join("scratch.bin");
    let mut file = std::fs::File::create(&scratch)?;
    file.write_all(&vec![0u8; 1024 * BLOCK])?;
    file.sync_all()?;
    Ok((data, scratch))
}

fn main() -> io::Result<()> {
    let settings = Settings::from_env(5);
    let data_mib = env_number("BENCH_FS_MIB", settings.pick(256, 32)).max(1);
    let dir =
        TempDir(std::env::temp_dir().join(format!("runtime-bench-fs-{}", std::process::id())));
    let (data, scratch) = prepare(&dir.0, data_mib)?;
    let work = Work {
        data,
        data_len: data_mib << 20,
        scratch,
        random_reads: settings.pick(32_000, 3_200),
        sequential_chunk: 1 << 20,
        syncs: settings.pick(200, 20),
    };
    println!("## Files\n\n{}", settings.describe());
    println!(
        "{data_mib} MiB file in {} (page cache warm), {} random reads per run, {} syncs per run\n",
        std::env::temp_dir().display(),
        work.random_reads,
        work.syncs,
    );

    let contenders: Vec<Contender> = CONTENDERS
        .into_iter()
        .filter(|c| settings.includes(c.label()))
        .collect();
    let baseline_index = contenders.iter().position(|c| c.is_baseline());
    // Throughput relative to tokio::fs in the qd64 case, for the targets.
    let mut qd64: Vec<(Contender, f64)> = Vec::new();
    for case in Case::ALL {
        if !settings.wants(case.name()) {
            continue;
        }
        let (ops, bytes) = case.ops(&work);
        let outcomes = interleave(&contenders, settings.reps, |c| {
            c.measure(case, &work).map(|d| d.as_secs_f64())
        });
        let spreads: Vec<Result<Spread, String>> = outcomes
            .into_iter()
            .map(|o| o.map(|s| Spread::of(s).expect("at least one sample")))
            .collect();
        let baseline = baseline_index.and_then(|i| spreads[i].as_ref().ok().map(|s| s.median));
        println!("### {} ({ops} operations)\n", case.name());
        let mut table = Table::new(&[
            "contender",
            "time median (min–max)",
            "per op",
            "throughput",
            "vs tokio::fs (higher is better)",
        ]);
        for (c, spread) in contenders.iter().zip(&spreads) {
            match spread {
                Ok(s) => {
                    let mib_per_sec = (ops * bytes) as f64 / s.median / (1 << 20) as f64;
                    table.row(vec![
                        c.label().to_string(),
                        s.show(seconds),
                        seconds(s.median / ops as f64),
                        format!("{:.0} ops/s, {mib_per_sec:.0} MiB/s", ops as f64 / s.median),
                        baseline.map_or("–".into(), |b| format!("{:.2}×", b / s.median)),
                    ]);
                    if let (Case::Random4kQd64, Some(b)) = (case, baseline) {
                        qd64.push((*c, b / s.median));
                    }
                }
                Err(reason) => table.unavailable(c.label(), reason),
            }
        }
        println!("{}", table.render());
    }

    if settings.wants(Case::Random4kQd64.name()) {
        println!("### Targets\n");
        let mut table = Table::new(&["target", "measured", "met"]);
        for (who, what, limit) in [
            (
                Backend::IoUring,
                "qd64 random 4 KiB: io_uring ≥ 3× tokio::fs",
                3.0,
            ),
            (
                Backend::Epoll,
                "qd64 random 4 KiB: epoll (blocking pool) ≥ 1× tokio::fs",
                1.0,
            ),
        ] {
            let measured = qd64.iter().find(|(c, _)| *c == Contender::Runtime(who));
            let (text, met) = match measured {
                Some(&(_, r)) => (format!("{r:.2}×"), if r >= limit { "yes" } else { "no" }),
                None => ("n/a".into(), "n/a"),
            };
            table.row(vec![what.into(), text, met.into()]);
        }
        println!("{}", table.render());
    }
    Ok(())
}
