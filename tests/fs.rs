//! Files and directories (`runtime::fs`) on every compiled backend: under epoll every operation
//! runs on the blocking pool, under io_uring it is a submission; the results must be the same.
//!
//! Each test body works in a fresh directory of its own under the system temp dir, removed at the
//! end (also when the test fails).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use runtime::fs::{self, File, OpenOptions};
use runtime::io::IoBuf;
use runtime::{Backend, Runtime};

/// A directory made for one test run, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "runtime-fs-{test}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir(&path).expect("create the test directory");
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bytes that differ from one position to the next, so a misplaced chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[runtime::test]
async fn write_then_read_whole_files() -> std::io::Result<()> {
    let dir = TempDir::new("whole");
    let path = dir.join("data.bin");
    // Larger than one read's initial buffer growth step, and not a round number.
    let data = pattern(300_001);
    fs::write(&path, data.clone()).await?;
    assert_eq!(fs::read(&path).await?, data);
    assert_eq!(std::fs::read(&path)?, data, "std sees the same bytes");

    fs::write(&path, "short").await?; // replaces, not overwrites in place
    assert_eq!(fs::read(&path).await?, b"short");

    fs::write(dir.join("empty"), Vec::new()).await?;
    assert_eq!(fs::read(dir.join("empty")).await?, b"");
    Ok(())
}

#[runtime::test]
async fn positional_reads_and_writes() -> std::io::Result<()> {
    let dir = TempDir::new("positional");
    let path = dir.join("file");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .await?;

    let (res, _) = file.write_all_at(b"world".as_slice(), 6).await;
    res?;
    let (res, _) = file.write_all_at("hello ", 0).await;
    res?;
    let (res, buf) = file.write_at(vec![b'!'], 11).await;
    assert_eq!(res?, 1);
    assert_eq!(buf, b"!", "the buffer comes back");
    file.sync_data().await?;
    file.sync_all().await?;

    let (res, buf) = file.read_exact_at(Vec::with_capacity(12), 0).await;
    res?;
    assert_eq!(buf, b"hello world!");

    // A read into the middle of a buffer through a slice.
    let (res, slice) = file.read_at(vec![b'-'; 8].slice(2..7), 6).await;
    assert_eq!(res?, 5);
    assert_eq!(slice.into_inner(), b"--world-");

    // At the end of the file, a read returns 0.
    let (res, _) = file.read_at(Vec::with_capacity(4), 12).await;
    assert_eq!(res?, 0);

    let meta = file.metadata().await?;
    assert_eq!(meta.len(), 12);
    assert!(meta.is_file() && !meta.is_dir());
    assert!(meta.modified().is_ok());
    file.close().await?;
    Ok(())
}

#[runtime::test]
async fn read_exact_past_the_end_is_unexpected_eof() -> std::io::Result<()> {
    let dir = TempDir::new("eof");
    let path = dir.join("four");
    fs::write(&path, "1234").await?;
    let file = File::open(&path).await?;
    let (res, buf) = file.read_exact_at(Vec::with_capacity(8), 1).await;
    assert_eq!(res.unwrap_err().kind(), ErrorKind::UnexpectedEof);
    assert_eq!(buf, b"234", "what could be read stays in the buffer");
    Ok(())
}

#[runtime::test]
async fn missing_files_are_not_found() {
    let dir = TempDir::new("missing");
    let missing = dir.join("nope");
    let kind = |r: std::io::Result<()>| r.unwrap_err().kind();
    assert_eq!(
        kind(File::open(&missing).await.map(drop)),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(fs::read(&missing).await.map(drop)),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(fs::metadata(&missing).await.map(drop)),
        ErrorKind::NotFound
    );
    assert_eq!(kind(fs::remove_file(&missing).await), ErrorKind::NotFound);
    assert_eq!(
        kind(fs::rename(&missing, dir.join("other")).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(File::create(dir.join("no-dir/file")).await.map(drop)),
        ErrorKind::NotFound
    );
}

#[runtime::test]
async fn rename_and_remove() -> std::io::Result<()> {
    let dir = TempDir::new("rename");
    let (old, new) = (dir.join("old"), dir.join("new"));
    fs::write(&old, "moving").await?;
    fs::rename(&old, &new).await?;
    assert_eq!(
        fs::metadata(&old).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(fs::read(&new).await?, b"moving");

    // Renaming onto an existing file replaces it.
    fs::write(&old, "replacement").await?;
    fs::rename(&old, &new).await?;
    assert_eq!(fs::read(&new).await?, b"replacement");

    fs::remove_file(&new).await?;
    assert!(!new.exists());
    Ok(())
}

#[runtime::test]
async fn directories() -> std::io::Result<()> {
    let dir = TempDir::new("dirs");
    let sub = dir.join("sub");
    fs::create_dir(&sub).await?;
    let meta = fs::metadata(&sub).await?;
    assert!(meta.is_dir() && !meta.is_file());
    assert_eq!(
        fs::create_dir(&sub).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );

    fs::write(sub.join("inside"), "x").await?;
    assert_eq!(
        fs::remove_dir(&sub).await.unwrap_err().kind(),
        ErrorKind::DirectoryNotEmpty
    );
    fs::remove_file(sub.join("inside")).await?;
    fs::remove_dir(&sub).await?;
    assert!(!sub.exists());
    Ok(())
}

#[runtime::test]
async fn open_options() -> std::io::Result<()> {
    let dir = TempDir::new("options");
    let path = dir.join("log");
    fs::write(&path, "one\n").await?;

    assert_eq!(
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        OpenOptions::new().open(&path).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );

    let log = OpenOptions::new().append(true).open(&path).await?;
    // With O_APPEND, Linux writes at the end whatever offset is named.
    let (res, _) = log.write_all_at("two\n", 0).await;
    res?;
    log.close().await?;
    assert_eq!(fs::read(&path).await?, b"one\ntwo\n");

    // A file opened by `create` cannot be read.
    let file = File::create(&path).await?;
    let (res, _) = file.read_at(Vec::with_capacity(1), 0).await;
    assert!(res.is_err());
    assert_eq!(file.metadata().await?.len(), 0, "create truncated the file");
    Ok(())
}

#[runtime::test]
async fn many_operations_at_once() -> std::io::Result<()> {
    let dir = TempDir::new("concurrent");
    let path = dir.join("blocks");
    const BLOCK: usize = 4096;
    const BLOCKS: usize = 32;
    let file = std::rc::Rc::new(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await?,
    );
    // Every block written by its own task, all in flight together.
    let writers: Vec<_> = (0..BLOCKS)
        .map(|i| {
            let file = file.clone();
            runtime::spawn(async move {
                let (res, _) = file
                    .write_all_at(vec![i as u8; BLOCK], (i * BLOCK) as u64)
                    .await;
                res
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap()?;
    }
    let all = fs::read(&path).await?;
    assert_eq!(all.len(), BLOCK * BLOCKS);
    for (i, block) in all.chunks(BLOCK).enumerate() {
        assert!(block.iter().all(|&b| b == i as u8), "block {i} is wrong");
    }
    Ok(())
}

#[runtime::test]
async fn paths_with_nul_bytes_are_invalid() {
    let err = fs::read("bad\0path").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// Under epoll the syscalls happen on the blocking pool, so they are counted there and not on the
/// worker; under io_uring the worker submits them itself.
#[test]
fn syscalls_are_counted_where_they_happen() {
    for &backend in Backend::compiled() {
        let rt = match Runtime::builder()
            .backend(backend)
            .max_blocking_threads(1) // so the pool's counters are those of one known thread
            .build()
        {
            Ok(rt) => rt,
            Err(e) if e.kind() == ErrorKind::Unsupported => {
                eprintln!("skipped on {backend}: {e}");
                continue;
            }
            Err(e) => panic!("cannot start a runtime on {backend}: {e}"),
        };
        rt.block_on(async {
            let dir = TempDir::new("stats");
            let path = dir.join("f");
            std::fs::write(&path, "abc").unwrap();
            let file = File::open(&path).await.unwrap();

            let pool_before = runtime::task::spawn_blocking(runtime::stats).await.unwrap();
            let worker_before = runtime::stats();
            let (res, _) = file.read_at(Vec::with_capacity(3), 0).await;
            assert_eq!(res.unwrap(), 3);
            let worker = runtime::stats() - worker_before;
            let pool = runtime::task::spawn_blocking(runtime::stats).await.unwrap() - pool_before;

            assert_eq!(worker.read, 0, "the worker never reads a file itself");
            match backend {
                Backend::Epoll => assert_eq!(pool.read, 1, "{backend}: pool counters {pool}"),
                _ => {
                    assert_eq!(pool.read, 0, "{backend}: pool counters {pool}");
                    assert!(worker.sqes_submitted >= 1);
                }
            }
        });
    }
}

#[test]
fn temp_dirs_are_removed() {
    let dir = TempDir::new("cleanup");
    let path: PathBuf = dir.0.clone();
    assert!(Path::new(&path).is_dir());
    drop(dir);
    assert!(!path.exists());
}
