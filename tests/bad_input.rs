//! Bad input: values at the edges of what each API accepts (huge durations, huge counts, ranges
//! ending at `usize::MAX`, paths with NUL bytes, files that have no position). Each must get a
//! clear error or a clear panic — the same one on every backend — never an overflow, an abort or
//! a silently wrong answer.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::task::Poll;
use std::time::Duration;

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
