//! How evenly `SO_REUSEPORT` spreads connections over a group of listeners — the runtime's only
//! way of sharing accepts between workers — at group sizes this machine cannot run workers for.
//!
//! The kernel picks a listener by hashing the connection's addresses and ports, so the spread is
//! a throw of balls into bins: even on average, lumpy in any one draw. This needs no cores to
//! measure: `L` listeners are bound on one port in this thread, `C` loopback connections are
//! made to it (the kernel completes each handshake into the chosen listener's accept queue), and
//! each listener's queue is then counted by accepting until it is empty. Every repetition uses a
//! fresh port, so fresh hashes.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use crate::common::{Settings, Spread, Table};

/// (listeners, connections) pairs measured.
const CASES: [(usize, usize); 6] = [
    (2, 64),
    (16, 64),
    (64, 64),
    (2, 1024),
    (16, 1024),
    (64, 1024),
];

/// A listening socket with `SO_REUSEPORT` on `addr`, non-blocking, as `std` type (the runtime's
/// `bind_reuseport` sets the socket up; no runtime is needed to accept from it).
fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let listener = runtime::net::TcpListener::bind_reuseport(addr)?.into_std()?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Makes `stream` close with a reset (`SO_LINGER` 0), so that thousands of closed test
/// connections leave no `TIME_WAIT` behind.
fn reset_on_close(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a live socket and a pointer to a live `linger` of the size passed.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
}

/// Connections per listener after `connections` connects to a group of `listeners`.
fn spread(listeners: usize, connections: usize) -> io::Result<Vec<usize>> {
    let first = reuseport_listener(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let addr = first.local_addr()?;
    let mut group = vec![first];
    for _ in 1..listeners {
        group.push(reuseport_listener(addr)?);
    }
    let clients: Vec<TcpStream> = (0..connections)
        .map(|_| {
            let stream = TcpStream::connect(addr)?;
            reset_on_close(&stream);
            Ok(stream)
        })
        .collect::<io::Result<_>>()?;
    let counts = group
        .iter()
        .map(|listener| {
            let mut n = 0;
            loop {
                match listener.accept() {
                    Ok(_) => n += 1,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(n),
                    Err(e) => return Err(e),
                }
            }
        })
        .collect::<io::Result<Vec<usize>>>()?;
    drop(clients);
    Ok(counts)
}

/// Runs the section and prints its table.
pub fn run(settings: &Settings) {
    let reps = settings.pick(20, 3);
    println!("### Accept sharding: how `SO_REUSEPORT` spreads connections\n");
    println!(
        "L listeners on one port, C loopback connections, {reps} draws (fresh port each); \
         busiest = the most connections one listener got, as a multiple of the fair share C/L\n"
    );
    let mut table = Table::new(&[
        "listeners L",
        "connections C",
        "fair share C/L",
        "busiest ÷ fair, median (min–max) of the draws",
        "listeners left without a connection, median (max)",
    ]);
    for (listeners, connections) in CASES {
        let draws: io::Result<Vec<Vec<usize>>> =
            (0..reps).map(|_| spread(listeners, connections)).collect();
        let draws = match draws {
            Ok(draws) => draws,
            Err(e) => {
                table.unavailable(&listeners.to_string(), &e.to_string());
                continue;
            }
        };
        let fair = connections as f64 / listeners as f64;
        let busiest = Spread::of(
            draws
                .iter()
                .map(|d| *d.iter().max().unwrap_or(&0) as f64 / fair),
        )
        .expect("a draw");
        let idle = Spread::of(
            draws
                .iter()
                .map(|d| d.iter().filter(|&&n| n == 0).count() as f64),
        )
        .expect("a draw");
        table.row(vec![
            listeners.to_string(),
            connections.to_string(),
            format!("{fair:.0}"),
            busiest.show(|v| format!("{v:.2}×")),
            format!("{:.0} ({:.0})", idle.median, idle.max),
        ]);
    }
    println!("{}", table.render());
}
