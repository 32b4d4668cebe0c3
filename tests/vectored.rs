//! Vectored IO: `read_vectored`, `write_vectored` and `write_all_vectored` on TCP and Unix streams
//! and their halves. Every byte is checked; buffers come in counts of 1, 2 and 64, empty ones
//! among them. Under io_uring, a cancelled vectored read loses nothing: its bytes go to the
//! stream's stash and the next read returns them.

use std::net::Shutdown;
use std::time::Duration;

#[allow(dead_code)] // each test file uses some of the helpers
mod net_common;

use net_common::{build_or_skip, on_io_uring, pair, poll_then_drop, wait_readable};
use runtime::io::{AsyncReadOwned, AsyncWriteOwned};
use runtime::net::UnixStream;
use runtime::time::timeout;
use runtime::{Backend, Runtime};

/// Every test body must end well within this.
const LIMIT: Duration = Duration::from_secs(30);

/// The byte at `offset` of a test stream.
fn pattern(offset: usize) -> u8 {
    (offset.wrapping_mul(7) % 251) as u8
}

/// `count` buffer sizes from a small deterministic generator; every third one is empty.
fn sizes(count: usize, seed: usize) -> Vec<usize> {
    (0..count)
        .map(|i| match (i + seed) % 3 {
            0 => 0,
            _ => 1 + (i * 7919 + seed * 104_729) % 3000,
        })
        .collect()
}

/// Buffers of the given sizes holding the test stream from `start` on.
fn pattern_bufs(sizes: &[usize], start: usize) -> Vec<Vec<u8>> {
    let mut offset = start;
    sizes
        .iter()
        .map(|&len| {
            let buf = (offset..offset + len).map(pattern).collect();
            offset += len;
            buf
        })
        .collect()
}

/// Reads `total` bytes with `read_vectored` into buffers of the capacities given, checking that
/// each read filled the buffers in order and that every byte is the test stream's; then checks
/// that the stream ends (the peer shut it down) and that end of stream empties the buffers.
async fn receive_checking(mut reader: impl AsyncReadOwned, caps: &[usize], total: usize) {
    let mut got = 0;
    while got < total {
        let bufs: Vec<Vec<u8>> = caps.iter().map(|&cap| Vec::with_capacity(cap)).collect();
        let (res, bufs) = reader.read_vectored(bufs).await;
        let n = res.unwrap();
        assert!(n > 0, "end of stream after {got} of {total} bytes");
        assert_eq!(bufs.len(), caps.len(), "every buffer comes back");
        let lens: Vec<usize> = bufs.iter().map(Vec::len).collect();
        assert_eq!(lens.iter().sum::<usize>(), n);
        // In order: every buffer before the last one that got bytes is full.
        let last = lens.iter().rposition(|&len| len > 0).unwrap();
        for (i, buf) in bufs.iter().enumerate().take(last) {
            assert_eq!(buf.len(), buf.capacity(), "buffer {i} of {lens:?} not full");
        }
        for byte in bufs.iter().flatten() {
            assert_eq!(*byte, pattern(got), "offset {got}");
            got += 1;
        }
    }
    assert_eq!(got, total);
    let leftovers = vec![vec![1u8, 2, 3], Vec::with_capacity(8)];
    let (res, bufs) = reader.read_vectored(leftovers).await;
    assert_eq!(res.unwrap(), 0, "the stream ends after {total} bytes");
    assert!(
        bufs.iter().all(Vec::is_empty),
        "end of stream sets every length to 0"
    );
}

/// Sends the test stream in buffers of `sizes` with one `write_all_vectored`, then shuts down.
async fn send_all(mut writer: impl AsyncWriteOwned, sizes: &[usize]) {
    let bufs = pattern_bufs(sizes, 0);
    let (res, back) = writer.write_all_vectored(bufs).await;
    res.unwrap();
    assert_eq!(back.len(), sizes.len(), "every buffer comes back");
    writer.shutdown().await.unwrap();
}

/// Writer and reader buffer counts: 1, 2 and 64, alike and mixed.
const SHAPES: [(usize, usize); 6] = [(1, 1), (2, 2), (64, 64), (1, 64), (64, 2), (2, 1)];

#[runtime::test]
async fn tcp_vectored_round_trips_check_every_byte() {
    timeout(LIMIT, async {
        for (seed, (writes, reads)) in SHAPES.into_iter().enumerate() {
            let write_sizes = sizes(writes, seed + 1);
            let total = write_sizes.iter().sum();
            let mut caps = sizes(reads, seed + 2);
            if caps.iter().all(|&cap| cap == 0) {
                caps.push(100);
            }
            let (a, b) = pair().await;
            let writer = runtime::spawn(async move { send_all(&b, &write_sizes).await });
            receive_checking(&a, &caps, total).await;
            writer.await.unwrap();
        }
    })
    .await
    .unwrap();
}

#[runtime::test]
async fn unix_stream_and_halves_do_vectored_io() {
    timeout(LIMIT, async {
        let write_sizes = sizes(64, 5);
        let total = write_sizes.iter().sum();
        let (a, b) = UnixStream::pair().unwrap();
        let (read_half, _a_write) = a.into_split();
        let (_b_read, write_half) = b.into_split();
        let writer = runtime::spawn(async move { send_all(&write_half, &write_sizes).await });
        receive_checking(&read_half, &[0, 700, 1, 0, 4096], total).await;
        writer.await.unwrap();

        // The whole streams, and TCP halves.
        let (a, b) = UnixStream::pair().unwrap();
        let writer = runtime::spawn(async move { send_all(&b, &[5, 0, 9]).await });
        receive_checking(&a, &[3, 3], 14).await;
        writer.await.unwrap();
        let (a, b) = pair().await;
        let (read_half, _a_write) = a.into_split();
        let (_b_read, write_half) = b.into_split();
        let writer = runtime::spawn(async move { send_all(&write_half, &[2, 2000]).await });
        receive_checking(&read_half, &[64, 64], 2002).await;
        writer.await.unwrap();
    })
    .await
    .unwrap();
}

#[runtime::test]
async fn other_buffer_types_work_too() {
    let (a, b) = UnixStream::pair().unwrap();
    let parts: Vec<&'static [u8]> = vec![b"Content-Length: 4\r\n", b"", b"\r\n", b"body"];
    let (res, _) = b.write_all_vectored(parts).await;
    res.unwrap();
    let boxes: Vec<Box<[u8]>> = vec![vec![0; 19].into(), vec![0; 2].into(), vec![0; 10].into()];
    let (res, boxes) = a.read_vectored(boxes).await;
    assert_eq!(res.unwrap(), 25);
    assert_eq!(&*boxes[0], b"Content-Length: 4\r\n");
    assert_eq!(&*boxes[1], b"\r\n");
    assert_eq!(&boxes[2][..4], b"body");
}

#[runtime::test]
async fn buffers_without_room_or_bytes_return_at_once() {
    let (a, b) = pair().await;
    // Nothing was sent: a read with room would wait, one without room does not.
    let (res, bufs) = a.read_vectored(vec![Vec::<u8>::new(), Vec::new()]).await;
    assert_eq!(res.unwrap(), 0);
    assert_eq!(bufs.len(), 2);
    let (res, _) = a.read_vectored(Vec::<Vec<u8>>::new()).await;
    assert_eq!(res.unwrap(), 0);
    let (res, _) = b.write_vectored(vec![Vec::<u8>::new()]).await;
    assert_eq!(res.unwrap(), 0);
    let (res, _) = b.write_all_vectored(Vec::<Vec<u8>>::new()).await;
    res.unwrap();
}

#[runtime::test]
async fn a_vectored_write_to_a_full_socket_is_partial() {
    timeout(LIMIT, async {
        // 16 MiB offered at once, and nobody reads yet: the socket takes only part of it.
        let big = vec![256 * 1024; 64];
        let total: usize = big.iter().sum();
        let (a, b) = pair().await;
        let (res, bufs) = b.write_vectored(pattern_bufs(&big, 0)).await;
        let n = res.unwrap();
        assert!(n > 0 && n < total, "wrote {n} of {total}");
        assert_eq!(bufs.len(), 64);
        // Exactly those `n` bytes arrive, then the end of the stream.
        b.shutdown(Shutdown::Write).unwrap();
        receive_checking(&a, &[4096, 0, 65536, 3], n).await;
    })
    .await
    .unwrap();
}

#[runtime::test]
async fn write_all_vectored_resumes_inside_a_buffer() {
    timeout(LIMIT, async {
        // Far more than a socket holds, in buffers of odd sizes: the writes stop and resume at
        // arbitrary points, inside buffers and between them.
        let big: Vec<usize> = (0..64).map(|i| 100_003 + i * 17 * (i % 3)).collect();
        let total = big.iter().sum();
        let (a, b) = pair().await;
        let writer = runtime::spawn(async move { send_all(&b, &big).await });
        receive_checking(&a, &[1, 65536, 0, 1000, 7], total).await;
        writer.await.unwrap();
    })
    .await
    .unwrap();
}

#[runtime::test]
async fn eof_is_zero_on_the_first_vectored_read() {
    let (a, b) = pair().await;
    b.shutdown(Shutdown::Write).unwrap();
    let bufs = vec![b"stale".to_vec(), Vec::with_capacity(16)];
    let (res, bufs) = timeout(LIMIT, a.read_vectored(bufs)).await.unwrap();
    assert_eq!(res.unwrap(), 0);
    assert!(bufs.iter().all(Vec::is_empty));
}

// --- cancellation ---------------------------------------------------------------------------------

/// A vectored read dropped after one poll, before any byte was sent: the bytes sent afterwards
/// all reach the next plain read.
async fn dropped_before_the_bytes() {
    let (a, b) = pair().await;
    let bufs = vec![Vec::with_capacity(4), Vec::with_capacity(64)];
    assert!(poll_then_drop(a.read_vectored(bufs), 1).await.is_none());
    let (res, _) = b.write_all(b"after the drop".to_vec()).await;
    res.unwrap();
    let (res, got) = a.read_exact(vec![0; 14]).await;
    res.unwrap();
    assert_eq!(got, b"after the drop");
}

/// The bytes are queued when a zero timeout cancels the vectored read: under io_uring the read
/// completes in the kernel anyway, and its bytes must reach the next plain reads, in order.
async fn bytes_of_a_cancelled_vectored_read_go_to_the_next_reads() {
    let (a, b) = pair().await;
    let (res, _) = b.write_all(b"scattered, then stashed".to_vec()).await;
    res.unwrap();
    wait_readable(&a);
    let before = runtime::stats();
    let bufs = vec![Vec::with_capacity(5), Vec::new(), Vec::with_capacity(64)];
    let cancelled = timeout(Duration::ZERO, a.read_vectored(bufs)).await;
    assert!(cancelled.is_err(), "a zero timeout fires at its first poll");
    let mut got = Vec::new();
    while got.len() < 23 {
        let (res, buf) = a.read(Vec::with_capacity(6)).await;
        assert!(res.unwrap() > 0);
        got.extend_from_slice(&buf);
    }
    assert_eq!(got, b"scattered, then stashed");
    if on_io_uring(before) {
        let delta = runtime::stats() - before;
        assert!(
            delta.uring_stash_hits >= 1,
            "the stash served the next read: {delta:?}"
        );
    }
}

/// Bytes stashed by a cancelled plain read are scattered over the next vectored read's buffers.
async fn stashed_bytes_are_scattered_over_the_buffers() {
    let (a, b) = pair().await;
    let (res, _) = b.write_all(b"0123456789abcdefghij".to_vec()).await;
    res.unwrap();
    wait_readable(&a);
    let cancelled = timeout(Duration::ZERO, a.read(Vec::with_capacity(64))).await;
    assert!(cancelled.is_err());
    let bufs = vec![
        Vec::with_capacity(3),
        Vec::new(),
        Vec::with_capacity(5),
        Vec::with_capacity(64),
    ];
    let (res, bufs) = a.read_vectored(bufs).await;
    assert_eq!(res.unwrap(), 20);
    assert_eq!(bufs[0], b"012");
    assert!(bufs[1].is_empty());
    assert_eq!(bufs[2], b"34567");
    assert_eq!(bufs[3], b"89abcdefghij");
}

/// A reader mixes plain and vectored reads and drops them at random points while the peer keeps
/// sending: every byte arrives once, in order.
async fn vectored_read_storm() {
    const TOTAL: usize = 64 * 1024;
    let (a, b) = pair().await;
    let writer = runtime::spawn(async move {
        let mut sent = 0;
        let mut chunk = 1;
        while sent < TOTAL {
            let len = (chunk * 997 % 3000 + 1).min(TOTAL - sent);
            let (res, _) = b
                .write_all((sent..sent + len).map(pattern).collect::<Vec<_>>())
                .await;
            res.unwrap();
            sent += len;
            chunk += 1;
            runtime::task::yield_now().await;
        }
        b.shutdown(Shutdown::Write).unwrap();
        b // kept open until the reader is done
    });
    let mut got = 0;
    for round in 0..10_000_000usize {
        // 0..=2 polls then dropped; 3 = awaited to the end.
        let polls = match round % 7 {
            0 | 4 => 0,
            1 => 1,
            5 => 2,
            _ => u64::MAX,
        };
        let bufs: Vec<Vec<u8>> = sizes(1 + round % 5, round)
            .into_iter()
            .map(|cap| Vec::with_capacity(cap % 700))
            .collect();
        let received = if round % 4 == 0 {
            poll_then_drop(a.read(Vec::with_capacity(1 + round % 500)), polls)
                .await
                .map(|(res, buf)| (res, vec![buf]))
        } else {
            poll_then_drop(a.read_vectored(bufs), polls).await
        };
        let Some((res, bufs)) = received else {
            continue;
        };
        let n = res.unwrap();
        if n == 0 && bufs.iter().any(|buf| buf.capacity() > 0) {
            break;
        }
        for byte in bufs.iter().flatten() {
            assert_eq!(*byte, pattern(got), "offset {got}");
            got += 1;
        }
    }
    assert_eq!(got, TOTAL, "bytes were lost");
    drop(writer.await.unwrap());
}

#[runtime::test]
async fn a_cancelled_vectored_read_loses_nothing() {
    timeout(LIMIT, async {
        dropped_before_the_bytes().await;
        bytes_of_a_cancelled_vectored_read_go_to_the_next_reads().await;
        stashed_bytes_are_scattered_over_the_buffers().await;
        vectored_read_storm().await;
    })
    .await
    .unwrap();
}

/// The same with io_uring's multishot receive on: vectored reads are served from the stash the
/// multishot request fills.
#[test]
fn multishot_vectored_reads_lose_nothing() {
    let builder = Runtime::builder()
        .backend(Backend::IoUring)
        .multishot_recv(true);
    let Some(rt) = build_or_skip(builder, "multishot") else {
        return;
    };
    rt.block_on(async {
        let before = runtime::stats();
        timeout(LIMIT, async {
            dropped_before_the_bytes().await;
            stashed_bytes_are_scattered_over_the_buffers().await;
            vectored_read_storm().await;
            let (a, b) = pair().await;
            let writer = runtime::spawn(async move { send_all(&b, &sizes(64, 9)).await });
            receive_checking(&a, &[10, 0, 3000, 1], sizes(64, 9).iter().sum()).await;
            writer.await.unwrap();
        })
        .await
        .unwrap();
        let delta = runtime::stats() - before;
        assert!(delta.uring_feed_cqes > 0, "the feed ran: {delta:?}");
    });
}
