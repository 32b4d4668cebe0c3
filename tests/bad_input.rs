//! Bad input: values at the edges of what each API accepts (huge durations, huge counts, ranges
//! ending at `usize::MAX`, paths with NUL bytes, files that have no position). Each must get a
//! clear error or a clear panic — the same one on every backend — never an overflow, an abort or
//! a silently wrong answer.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::task::Poll;
use std::time::Duration;

use runtime::io::{IoBuf, Slice};
use runtime::time::{interval, timeout};

/// `interval`'s schedule saturates at a far future instead of overflowing `Instant`.
#[runtime::test]
async fn interval_with_a_huge_period_never_overflows() {
    for period in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        let mut ticks = interval(period);
        ticks.tick().await; // the first tick completes at once
                            // The second tick is computed (this overflowed) and is far away.
        let second = timeout(Duration::from_millis(5), ticks.tick()).await;
        assert!(second.is_err(), "{period:?}: the second tick came early");
        ticks.reset();
        let pending = poll_fn(|cx| Poll::Ready(ticks.poll_tick(cx).is_pending())).await;
        assert!(pending, "{period:?}: a tick was due right after reset");
    }
}

/// A path unique to this process and call, in the temp directory.
fn temp_path(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let unique = format!(
        "runtime-bad-input-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    std::env::temp_dir().join(unique)
}

/// A Unix socket path with a NUL byte is refused (as `std` does), not cut short at the NUL.
#[runtime::test]
async fn unix_socket_paths_with_a_nul_byte_are_invalid_input() {
    use std::os::unix::ffi::OsStrExt;
    let truncated = temp_path("nul");
    let mut with_nul = truncated.as_os_str().as_bytes().to_vec();
    with_nul.extend_from_slice(b"\0tail");
    let with_nul = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&with_nul));
    let std_kind = std::os::unix::net::UnixListener::bind(&with_nul)
        .unwrap_err()
        .kind();
    assert_eq!(std_kind, ErrorKind::InvalidInput);

    let bound = runtime::net::UnixListener::bind(&with_nul);
    let exists = truncated.exists();
    let _ = std::fs::remove_file(&truncated);
    assert_eq!(bound.map(drop).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!(!exists, "a socket was bound at the path cut at the NUL");

    // Connecting to it: also refused before anything is tried (a listener at the truncated path
    // must not be reached).
    let listener = runtime::net::UnixListener::bind(&truncated).unwrap();
    let connected = timeout(
        Duration::from_secs(5),
        runtime::net::UnixStream::connect(&with_nul),
    )
    .await
    .expect("connect finished");
    drop(listener);
    let _ = std::fs::remove_file(&truncated);
    assert_eq!(
        connected.map(drop).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

/// Builder values out of range are an `InvalidInput` error from `build()` naming the setting, on
/// every backend (even one that ignores the setting), instead of a crash: a capacity overflow
/// panic, an aborted allocation, or a ring the kernel refuses with an unrelated error.
#[test]
fn builder_values_out_of_range_are_invalid_input() {
    use runtime::{Backend, Builder};
    type Configure = fn(Builder) -> Builder;
    let cases: [(&str, Configure); 12] = [
        ("event_capacity", |b| b.event_capacity(usize::MAX)),
        ("event_capacity", |b| b.event_capacity(1 << 40)),
        ("event_capacity", |b| b.event_capacity(0)),
        ("recv_buffers", |b| {
            b.multishot_recv(true).recv_buffers(32768, 1 << 20)
        }),
        ("recv_buffers", |b| b.recv_buffers(0, 4096)),
        ("recv_buffers", |b| b.recv_buffers(16, usize::MAX)),
        ("ring_entries", |b| b.ring_entries(u32::MAX)),
        ("ring_entries", |b| b.ring_entries(0)),
        ("batch_wait", |b| b.batch_wait(Duration::MAX)),
        ("max_blocking_threads", |b| b.max_blocking_threads(0)),
        ("spin_before_park", |b| {
            b.spin_before_park(Builder::MAX_SPIN_BEFORE_PARK + Duration::from_nanos(1))
        }),
        ("ring_entries", |b| {
            b.ring_entries(1 << 20).event_capacity(0)
        }),
    ];
    for &backend in Backend::compiled() {
        for (setting, configure) in cases {
            let builder = configure(Builder::new().backend(backend));
            let described = format!("{backend}: {builder:?}");
            let err = builder.build().map(drop).expect_err(&described);
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{described}: {err}");
            assert!(err.to_string().contains(setting), "{described}: {err}");
        }
    }
}

/// The largest documented values are accepted.
#[test]
fn builder_values_at_the_limits_build() {
    use runtime::{Backend, Builder};
    for &backend in Backend::compiled() {
        let built = Builder::new()
            .backend(backend)
            .event_capacity(65536)
            .ring_entries(16384)
            .recv_buffers(32768, 64)
            .batch_wait(Duration::from_secs(1))
            .max_blocking_threads(usize::MAX)
            .blocking_keep_alive(Duration::MAX)
            .spin_before_park(Builder::MAX_SPIN_BEFORE_PARK)
            .build();
        match built {
            Ok(rt) => assert_eq!(rt.block_on(async { 1 + 1 }), 2),
            Err(e) if e.kind() == ErrorKind::Unsupported => {
                eprintln!("{backend}: skipped: {e}")
            }
            Err(e) => panic!("{backend}: {e}"),
        }
    }
}

/// Every range form slices an owned buffer as `std` slices a slice.
#[test]
fn slice_ranges_behave_like_std_slicing() {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    let buf = || b"abcd".to_vec();
    let bytes = |s: Slice<Vec<u8>>| {
        let (begin, end) = (s.begin(), s.end());
        s.into_inner()[begin..end].to_vec()
    };
    assert_eq!(bytes(buf().slice(..)), b"abcd");
    assert_eq!(bytes(buf().slice(1..3)), b"bc");
    assert_eq!(bytes(buf().slice(1..=3)), b"bcd");
    assert_eq!(bytes(buf().slice(..=0)), b"a");
    assert_eq!(bytes(buf().slice(4..)), b"");
    assert_eq!(bytes(buf().slice((Excluded(0), Included(1)))), b"b");
    assert_eq!(bytes(buf().slice((Excluded(1), Unbounded))), b"cd");
}

#[test]
#[should_panic(expected = "attempted to index slice up to maximum usize")]
fn slice_up_to_and_including_usize_max_panics_clearly() {
    let _ = b"abcd".to_vec().slice(..=usize::MAX);
}

#[test]
#[should_panic(expected = "attempted to index slice from after maximum usize")]
fn slice_from_after_usize_max_panics_clearly() {
    use std::ops::Bound::{Excluded, Unbounded};
    let _ = b"abcd".to_vec().slice((Excluded(usize::MAX), Unbounded));
}

#[test]
#[should_panic(expected = "range end index 5 out of range for buffer of length 4")]
fn slice_past_the_end_panics_clearly() {
    let _ = b"abcd".to_vec().slice(..5);
}

#[test]
#[should_panic(expected = "slice index starts at 3 but ends at 2")]
fn slice_ending_before_its_start_panics_clearly() {
    let (begin, end) = (3, 2); // a range clippy would reject as written
    let _ = b"abcd".to_vec().slice(begin..end);
}

/// The raw OS error of a failed result, for comparing what two backends (or `std`) answered.
fn os_error<T>(result: std::io::Result<T>) -> Option<i32> {
    result.err().map(|e| e.raw_os_error().expect("an OS error"))
}

/// This thread's `comm` file (its name), and the name it holds: writing the name back changes
/// nothing, so the file can be written safely.
fn own_comm() -> (String, Vec<u8>) {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    let path = format!("/proc/{}/task/{tid}/comm", std::process::id());
    let mut name = std::fs::read(&path).expect("read comm");
    assert_eq!(name.pop(), Some(b'\n'));
    (path, name)
}

/// `fs::write` writes the way `std::fs::write` does, from the start of the file without naming
/// offsets, so pseudo-files that refuse positioned writes behave as under `std` on both backends:
/// `/proc/self/status` refuses writing at all (was `ESPIPE` under epoll, `EINVAL` under
/// io_uring), `comm` takes the new name (was `ESPIPE` under epoll).
#[runtime::test]
async fn whole_file_helpers_on_pseudo_files_answer_as_std() {
    let std_answer = os_error(std::fs::write("/proc/self/status", "x"));
    assert_eq!(std_answer, Some(libc::EINVAL));
    let ours = os_error(runtime::fs::write("/proc/self/status", "x").await);
    assert_eq!(ours, std_answer, "{}", runtime::backend());

    let (comm, name) = own_comm();
    let written = runtime::fs::write(&comm, name.clone()).await;
    assert_eq!(os_error(written), None, "{}", runtime::backend());
    let read = runtime::fs::read(&comm).await.unwrap();
    assert_eq!(read, [&name[..], b"\n"].concat());
}

/// A file without a position (a pipe) cannot be read or written at an offset: `ESPIPE` on both
/// backends, as `pread`/`pwrite` answer (io_uring used to ignore the offset and succeed).
#[runtime::test]
async fn positioned_io_on_a_pipe_is_espipe() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let reader = runtime::fs::File::from(std::fs::File::from(read_end));
    let writer = runtime::fs::File::from(std::fs::File::from(write_end));
    for pos in [0, 7] {
        let (res, _) = writer.write_at("hello", pos).await;
        assert_eq!(os_error(res), Some(libc::ESPIPE), "write at {pos}");
        let (res, _) = reader.read_at(Vec::with_capacity(4), pos).await;
        assert_eq!(os_error(res), Some(libc::ESPIPE), "read at {pos}");
    }
}

/// Pseudo-files that have a position but refuse `pwrite` (seq files such as `comm` or
/// `status`): a positioned write behaves on both backends as io_uring's does — the file's own
/// write, at that offset. `comm` takes the name (was `ESPIPE` under epoll); `status`, opened
/// read-only, answers `EBADF` as a read-only file does (was `ESPIPE` under epoll).
#[runtime::test]
async fn positioned_writes_to_seq_files_agree() {
    let (comm, name) = own_comm();
    let file = runtime::fs::OpenOptions::new()
        .write(true)
        .open(&comm)
        .await
        .unwrap();
    let (res, _) = file.write_at(name.clone(), 0).await;
    assert_eq!(res.ok(), Some(name.len()), "{}", runtime::backend());

    let status = runtime::fs::File::open("/proc/self/status").await.unwrap();
    let (res, _) = status.write_at("x", 0).await;
    assert_eq!(os_error(res), Some(libc::EBADF), "{}", runtime::backend());
    let (res, buf) = status.read_at(Vec::with_capacity(5), 0).await;
    assert_eq!((res.ok(), &buf[..]), (Some(5), &b"Name:"[..]));
}

/// A `WriteHalf` shuts its own direction down (no trait import needed, as with tokio's
/// `write_half.shutdown().await`): the peer reads end of stream, the read half still reads.
#[runtime::test]
async fn write_half_shuts_down_its_direction() -> std::io::Result<()> {
    use runtime::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    let (read, write) = client.into_split();
    write.shutdown().await?;
    let (res, _) = timeout(Duration::from_secs(5), server.read(Vec::with_capacity(8))).await?;
    assert_eq!(res?, 0, "the peer reads end of stream");
    let (res, _) = write.write("late").await;
    assert_eq!(res.unwrap_err().kind(), ErrorKind::BrokenPipe);
    let (res, _) = server.write_all("still open").await;
    res?;
    let (res, buf) = timeout(Duration::from_secs(5), read.read_exact(vec![0; 10])).await?;
    res?;
    assert_eq!(buf, b"still open");
    Ok(())
}
