//! The file workloads with plain blocking `std::fs` calls: one thread for queue depth 1, 64
//! threads (each with its share of the reads) for queue depth 64. No runtime at all — the floor
//! that any async file API adds its overhead to.

use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::{Case, Offsets, Work, BLOCK};

/// Times `case` with blocking calls.
pub fn run(case: Case, work: &Work) -> Result<Duration, String> {
    match case {
        Case::Random4kQd1 => random_reads(&work.data, work, 1),
        Case::Random4kQd64 => random_reads(&work.data, work, 64),
        Case::Sequential1m => sequential_reads(&work.data, work),
        Case::WriteSync => write_sync(&work.scratch, work),
    }
    .map_err(|e| e.to_string())
}

fn random_reads(path: &Path, work: &Work, threads: usize) -> io::Result<Duration> {
    let file = Arc::new(std::fs::File::open(path)?);
    let per_thread = work.random_reads / threads;
    let blocks = work.data_len / BLOCK as u64;
    // All threads are started before the clock; the barrier releases them together.
    let go = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (file, go) = (file.clone(), go.clone());
            std::thread::spawn(move || -> io::Result<()> {
                let mut buf = vec![0u8; BLOCK];
                go.wait();
                for offset in Offsets::new(t as u64, blocks).take(per_thread) {
                    file.read_exact_at(&mut buf, offset)?;
                }
                Ok(())
            })
        })
        .collect();
    go.wait();
    let start = Instant::now();
    for h in handles {
        h.join()
            .map_err(|_| io::Error::other("reader panicked"))??;
    }
    Ok(start.elapsed())
}

fn sequential_reads(path: &Path, work: &Work) -> io::Result<Duration> {
    let file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; work.sequential_chunk];
    let start = Instant::now();
    let mut offset = 0;
    while offset < work.data_len {
        match file.read_at(&mut buf, offset)? {
            0 => return Err(io::Error::other("file ended early")),
            n => offset += n as u64,
        }
    }
    Ok(start.elapsed())
}

fn write_sync(path: &Path, work: &Work) -> io::Result<Duration> {
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    let buf = vec![0xA5u8; BLOCK];
    let start = Instant::now();
    for i in 0..work.syncs {
        file.write_all_at(&buf, (i % 1024 * BLOCK) as u64)?;
        file.sync_data()?;
    }
    Ok(start.elapsed())
}
