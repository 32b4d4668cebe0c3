//! What the counters of `runtime::stats()` say about an echo over one connection.
//!
//! The numbers are printed (run with `--nocapture` to see them); only structural facts are
//! asserted — every message needs a write and a read on each side, and a connection is registered
//! with the driver once, not per message — never timings or exact counts, which depend on how the
//! kernel batches events.

use std::io;

use runtime::net::{TcpListener, TcpStream};
use runtime::Stats;

/// Bytes per message.
const MESSAGE: usize = 64;

/// Messages in the ping-pong.
const ROUNDS: u64 = 1000;

/// A connected pair of TCP streams over loopback: (client, server side).
async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = runtime::spawn(async move { listener.accept().await });
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = accept.await.unwrap().unwrap();
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    (client, server)
}

/// Echoes `rounds` messages of [`MESSAGE`] bytes.
async fn serve(server: TcpStream, rounds: u64) -> io::Result<()> {
    let mut buf = vec![0; MESSAGE];
    for _ in 0..rounds {
        let (res, b) = server.read_exact(buf).await;
        res?;
        let (res, b) = server.write_all(b).await;
        res?;
        buf = b;
    }
    Ok(())
}

/// Sends `rounds` messages one at a time, each after the previous one came back, and returns the
/// counters of this thread (both ends run here) over the whole exchange.
async fn ping_pong(client: &TcpStream, server: TcpStream, rounds: u64) -> Stats {
    let before = runtime::stats();
    let echo = runtime::spawn(serve(server, rounds));
    let mut buf = vec![0; MESSAGE];
    for i in 0..rounds {
        buf.fill(i as u8);
        let (res, b) = client.write_all(buf).await;
        res.unwrap();
        let (res, b) = client.read_exact(b).await;
        res.unwrap();
        assert!(b.iter().all(|&x| x == i as u8));
        buf = b;
    }
    echo.await.unwrap().unwrap();
    runtime::stats() - before
}

/// The counters divided by `messages`, for printing.
fn per_message(stats: &Stats, messages: u64) -> String {
    stats
        .fields()
        .into_iter()
        .filter(|&(_, value)| value != 0)
        .map(|(name, value)| format!("{name} {:.2}", value as f64 / messages as f64))
        .chain([format!(
            "syscalls {:.2}",
            stats.syscalls() as f64 / messages as f64
        )])
        .collect::<Vec<_>>()
        .join(", ")
}

#[runtime::test(backend = "epoll")]
async fn one_echo_round_trip_under_epoll() {
    let (client, server) = connected_pair().await;
    let stats = ping_pong(&client, server, 1).await;
    println!("epoll, one round trip:\n{stats}");
    // Client write, server read, server write, client read: each a syscall of its own.
    assert!(stats.write >= 2, "{stats}");
    assert!(stats.read >= 2, "{stats}");
    assert!(stats.polls > 0 && stats.tasks_spawned == 1, "{stats}");
    // The readiness backend makes no io_uring calls.
    assert_eq!(stats.uring_enter + stats.sqes_submitted, 0, "{stats}");
}

#[runtime::test(backend = "epoll")]
async fn ping_pong_syscalls_per_message_under_epoll() {
    let (client, server) = connected_pair().await;
    let stats = ping_pong(&client, server, ROUNDS).await;
    println!(
        "epoll, ping-pong of {ROUNDS} x {MESSAGE} B at 1 connection, per message: {}",
        per_message(&stats, ROUNDS)
    );
    // Every message is written and read once by each side, at least.
    assert!(stats.write >= 2 * ROUNDS, "{stats}");
    assert!(stats.read >= 2 * ROUNDS, "{stats}");
    // Descriptors are registered once (edge-triggered), not re-armed per message.
    assert!(stats.epoll_ctl < ROUNDS / 10, "{stats}");
    // Waiting happens in epoll_wait, not by spinning: at most a few waits per message.
    assert!(
        stats.epoll_wait > 0 && stats.epoll_wait <= 4 * ROUNDS,
        "{stats}"
    );
    assert_eq!(stats.uring_enter, 0, "{stats}");
}

#[runtime::test(backend = "io_uring")]
async fn ping_pong_counters_under_io_uring() {
    let (client, server) = connected_pair().await;
    let stats = ping_pong(&client, server, ROUNDS).await;
    println!(
        "io_uring, ping-pong of {ROUNDS} x {MESSAGE} B at 1 connection, per message: {}",
        per_message(&stats, ROUNDS)
    );
    // The completion backend hands every operation to the kernel as an SQE and reaps a CQE for it;
    // it makes no readiness syscalls.
    assert!(stats.sqes_submitted >= 4 * ROUNDS, "{stats}");
    assert!(stats.cqes_reaped >= 4 * ROUNDS, "{stats}");
    assert!(stats.uring_enter > 0, "{stats}");
    assert_eq!(stats.read + stats.write + stats.epoll_wait, 0, "{stats}");
}
