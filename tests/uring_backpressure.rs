//! Back-pressure on accepted connections, on either backend.
//!
//! A listener's connections wait in the kernel's backlog until the application accepts them; a
//! full backlog makes new clients wait. io_uring's multishot accept takes connections ahead of the
//! application, each one a descriptor of this process: unbounded, that would move the backlog into
//! the descriptor table and defeat the back-pressure. The runtime pauses the multishot accept when
//! too many connections wait unclaimed.
//!
//! This file holds a single test: it counts the process's open descriptors, which tests running in
//! parallel threads would disturb.

use std::time::Duration;

#[allow(dead_code)] // each test file uses some of the helpers
mod net_common;
use net_common::build_or_skip;
use runtime::net::{TcpListener, TcpStream};
use runtime::time::timeout;
use runtime::{Backend, Runtime};

/// Every test body must end well within this.
const LIMIT: Duration = Duration::from_secs(30);
/// How many connections the runtime lets wait unclaimed before it pauses a multishot accept
/// (`ACCEPT_LIMIT` in `driver/completion/feed.rs`).
const UNCLAIMED: usize = 64;
/// Clients that connect without being accepted: well above the bound.
const CLIENTS: usize = 4 * UNCLAIMED;
/// What the kernel may have accepted in the turn during which the bound was reached.
const SLACK: usize = 8;

/// The number of descriptors open in this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn unclaimed_connections_are_bounded_and_all_accepted() {
    for &backend in Backend::compiled() {
        let builder = Runtime::builder().backend(backend).multishot_accept(true);
        let Some(rt) = build_or_skip(builder, &backend.to_string()) else {
            continue;
        };
        rt.block_on(async {
            timeout(LIMIT, async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                // One accepted connection: under multishot accept the listener's feed is armed.
                let first = runtime::spawn(async move { TcpStream::connect(addr).await.unwrap() });
                let (_server, _) = listener.accept().await.unwrap();
                let _first = first.await.unwrap();
                let before = open_fds();
                // Clients connect one after another, each connect a driver turn, so that an
                // unbounded multishot accept would take every one of them.
                let mut clients = Vec::new();
                for _ in 0..CLIENTS {
                    clients.push(TcpStream::connect(addr).await.unwrap());
                }
                for _ in 0..10 {
                    runtime::task::yield_now().await;
                }
                let unclaimed = open_fds() - before - CLIENTS;
                assert!(
                    unclaimed <= UNCLAIMED + SLACK,
                    "{backend}: {unclaimed} connections accepted ahead of the application"
                );
                // Every client is still served, in order.
                for (i, client) in clients.iter().enumerate() {
                    let (server, peer) = listener.accept().await.unwrap();
                    assert_eq!(peer, client.local_addr().unwrap(), "{backend}: client {i}");
                    drop(server);
                }
            })
            .await
            .expect("test took too long")
        });
    }
}
