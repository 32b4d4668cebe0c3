//! The file workloads on tokio (`current_thread` runtime), two ways:
//!
//! - **tokio::fs** — the API tokio offers: a `File` with a cursor, so a positional read is a
//!   `seek` then a `read_exact`, each carried out on the blocking pool. Concurrent reads need one
//!   `File` per task (a tokio `File` runs one operation at a time).
//! - **spawn_blocking + pread** — what a tokio user writes to read at offsets: one trip to the
//!   blocking pool per operation, with `std`'s positional `read_at`/`write_at`.

use std::io::{self, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::{Case, Offsets, Work, BLOCK};

/// How the workloads reach the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `tokio::fs::File`.
    TokioFs,
    /// `spawn_blocking` around `std::fs::File`'s positional calls.
    SpawnBlockingPread,
}

/// Builds a `current_thread` runtime and times `case` with `api`.
pub fn run(api: Api, case: Case, work: &Work) -> Result<Duration, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let result = rt.block_on(async {
        match (api, case) {
            (Api::TokioFs, Case::Random4kQd1) => fs_random(&work.data, work, 1).await,
            (Api::TokioFs, Case::Random4kQd64) => fs_random(&work.data, work, 64).await,
            (Api::TokioFs, Case::Sequential1m) => fs_sequential(&work.data, work).await,
            (Api::TokioFs, Case::WriteSync) => fs_write_sync(&work.scratch, work).await,
            (Api::SpawnBlockingPread, Case::Random4kQd1) => pread_random(&work.data, work, 1).await,
            (Api::SpawnBlockingPread, Case::Random4kQd64) => {
                pread_random(&work.data, work, 64).await
            }
            (Api::SpawnBlockingPread, Case::Sequential1m) => {
                pread_sequential(&work.data, work).await
            }
            (Api::SpawnBlockingPread, Case::WriteSync) => pwrite_sync(&work.scratch, work).await,
        }
    });
    result.map_err(|e| e.to_string())
}

fn joined<T>(r: Result<io::Result<T>, tokio::task::JoinError>) -> io::Result<T> {
    r.map_err(io::Error::other)?
}

/// One `File` per task (a tokio `File` runs one operation at a time). A first, untimed round of
/// one read per task starts the blocking pool's threads.
async fn fs_random(path: &Path, work: &Work, depth: usize) -> io::Result<Duration> {
    let mut files = Vec::with_capacity(depth);
    for _ in 0..depth {
        files.push(tokio::fs::File::open(path).await?);
    }
    let files = fs_read_concurrently(files, work, 1).await?;
    let start = Instant::now();
    fs_read_concurrently(files, work, work.random_reads / depth).await?;
    Ok(start.elapsed())
}

/// A task per file, each reading `per_task` random blocks; gives the files back.
async fn fs_read_concurrently(
    files: Vec<tokio::fs::File>,
    work: &Work,
    per_task: usize,
) -> io::Result<Vec<tokio::fs::File>> {
    let blocks = work.data_len / BLOCK as u64;
    let tasks: Vec<_> = files
        .into_iter()
        .enumerate()
        .map(|(t, mut file)| {
            tokio::spawn(async move {
                let mut buf = vec![0u8; BLOCK];
                for offset in Offsets::new(t as u64, blocks).take(per_task) {
                    file.seek(SeekFrom::Start(offset)).await?;
                    file.read_exact(&mut buf).await?;
                }
                Ok::<_, io::Error>(file)
            })
        })
        .collect();
    let mut files = Vec::with_capacity(tasks.len());
    for task in tasks {
        files.push(joined(task.await)?);
    }
    Ok(files)
}

async fn fs_sequential(path: &Path, work: &Work) -> io::Result<Duration> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut buf = vec![0u8; work.sequential_chunk];
    let start = Instant::now();
    let mut offset = 0;
    while offset < work.data_len {
        match file.read(&mut buf).await? {
            0 => return Err(io::Error::other("file ended early")),
            n => offset += n as u64,
        }
    }
    Ok(start.elapsed())
}

async fn fs_write_sync(path: &Path, work: &Work) -> io::Result<Duration> {
    let mut file = tokio::fs::OpenOptions::new().write(true).open(path).await?;
    let buf = vec![0xA5u8; BLOCK];
    let start = Instant::now();
    for i in 0..work.syncs {
        file.seek(SeekFrom::Start((i % 1024 * BLOCK) as u64))
            .await?;
        file.write_all(&buf).await?;
        file.sync_data().await?;
    }
    Ok(start.elapsed())
}

/// As [`fs_random`], with one shared `std` file and a pool trip per read.
async fn pread_random(path: &Path, work: &Work, depth: usize) -> io::Result<Duration> {
    let file = Arc::new(std::fs::File::open(path)?);
    pread_concurrently(&file, work, depth, 1).await?;
    let start = Instant::now();
    pread_concurrently(&file, work, depth, work.random_reads / depth).await?;
    Ok(start.elapsed())
}

/// `depth` tasks, each reading `per_task` random blocks through `spawn_blocking`.
async fn pread_concurrently(
    file: &Arc<std::fs::File>,
    work: &Work,
    depth: usize,
    per_task: usize,
) -> io::Result<()> {
    let blocks = work.data_len / BLOCK as u64;
    let tasks: Vec<_> = (0..depth)
        .map(|t| {
            let file = file.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; BLOCK];
                for offset in Offsets::new(t as u64, blocks).take(per_task) {
                    let f = file.clone();
                    buf = joined(
                        tokio::task::spawn_blocking(move || {
                            f.read_exact_at(&mut buf, offset).map(|()| buf)
                        })
                        .await,
                    )?;
                }
                Ok::<(), io::Error>(())
            })
        })
        .collect();
    for task in tasks {
        joined(task.await)?;
    }
    Ok(())
}

async fn pread_sequential(path: &Path, work: &Work) -> io::Result<Duration> {
    let file = Arc::new(std::fs::File::open(path)?);
    let mut buf = vec![0u8; work.sequential_chunk];
    let start = Instant::now();
    let mut offset = 0;
    while offset < work.data_len {
        let f = file.clone();
        let (n, b) = joined(
            tokio::task::spawn_blocking(move || f.read_at(&mut buf, offset).map(|n| (n, buf)))
                .await,
        )?;
        if n == 0 {
            return Err(io::Error::other("file ended early"));
        }
        offset += n as u64;
        buf = b;
    }
    Ok(start.elapsed())
}

async fn pwrite_sync(path: &Path, work: &Work) -> io::Result<Duration> {
    let file = Arc::new(std::fs::OpenOptions::new().write(true).open(path)?);
    let mut buf = vec![0xA5u8; BLOCK];
    let start = Instant::now();
    for i in 0..work.syncs {
        let f = file.clone();
        let offset = (i % 1024 * BLOCK) as u64;
        buf = joined(
            tokio::task::spawn_blocking(move || f.write_all_at(&buf, offset).map(|()| buf)).await,
        )?;
        let f = file.clone();
        joined(tokio::task::spawn_blocking(move || f.sync_data()).await)?;
    }
    Ok(start.elapsed())
}
