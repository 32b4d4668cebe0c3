//! The file workloads for runtimes with owned-buffer, positional file IO: this project's runtime
//! and monoio. Each `on_*.rs` file declares this file as its `owned` module, so `super::` names
//! that runtime's `File` and `spawn`, and the measured code is the same text for both.
//!
//! Every read or write task gets its own buffer, handed to the kernel and back on each call.

use std::io;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{spawn, File, OpenOptions};
use crate::{Case, Offsets, Work, BLOCK};

/// Runs `case` against the files of `work` and times it (opening the files is not timed).
pub async fn timed(case: Case, work: &Work) -> io::Result<Duration> {
    match case {
        Case::Random4kQd1 => random_reads(&work.data, work, 1).await,
        Case::Random4kQd64 => random_reads(&work.data, work, 64).await,
        Case::Sequential1m => sequential_reads(&work.data, work).await,
        Case::WriteSync => write_sync(&work.scratch, work).await,
    }
}

/// `work.random_reads` reads of 4 KiB at random offsets, `depth` tasks each doing its share.
/// A first, untimed round of one read per task brings pools and rings to their working size.
async fn random_reads(path: &Path, work: &Work, depth: usize) -> io::Result<Duration> {
    let file = Rc::new(File::open(path).await?);
    read_concurrently(&file, work, depth, 1).await?;
    let start = Instant::now();
    read_concurrently(&file, work, depth, work.random_reads / depth).await?;
    Ok(start.elapsed())
}

/// `depth` tasks, each reading `per_task` random blocks of `file`.
async fn read_concurrently(
    file: &Rc<File>,
    work: &Work,
    depth: usize,
    per_task: usize,
) -> io::Result<()> {
    let blocks = work.data_len / BLOCK as u64;
    let tasks: Vec<_> = (0..depth)
        .map(|t| {
            let file = file.clone();
            spawn(async move {
                let mut buf = Vec::with_capacity(BLOCK);
                for offset in Offsets::new(t as u64, blocks).take(per_task) {
                    let (res, b) = file.read_at(buf, offset).await;
                    if res? != BLOCK {
                        return Err(io::Error::other("short read"));
                    }
                    buf = b;
                }
                Ok::<(), io::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await?;
    }
    Ok(())
}

/// The whole file, front to back, 1 MiB per read.
async fn sequential_reads(path: &Path, work: &Work) -> io::Result<Duration> {
    let file = File::open(path).await?;
    let chunk = work.sequential_chunk;
    let start = Instant::now();
    let mut buf = Vec::with_capacity(chunk);
    let mut offset = 0;
    while offset < work.data_len {
        let (res, b) = file.read_at(buf, offset).await;
        match res? {
            0 => return Err(io::Error::other("file ended early")),
            n => offset += n as u64,
        }
        buf = b;
    }
    Ok(start.elapsed())
}

/// `work.syncs` times: write 4 KiB, then `sync_data`.
async fn write_sync(path: &Path, work: &Work) -> io::Result<Duration> {
    let file = OpenOptions::new().write(true).open(path).await?;
    let mut buf = vec![0xA5u8; BLOCK];
    let start = Instant::now();
    for i in 0..work.syncs {
        let (res, b) = file.write_at(buf, (i % 1024 * BLOCK) as u64).await;
        if res? != BLOCK {
            return Err(io::Error::other("short write"));
        }
        buf = b;
        file.sync_data().await?;
    }
    Ok(start.elapsed())
}
