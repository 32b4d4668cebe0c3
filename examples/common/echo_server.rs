//! The echo server's serving code, shared by the examples that run one: accept connections, give
//! each its own task, send every byte back.
//!
//! A [`Watcher`] may look on (a benchmark counts bytes and marks the start and end of a measured
//! window with it); `()` is the watcher of a server that only serves.
//!
//! A peer that resets, sends garbage or vanishes ends only its own connection. Running out of
//! descriptors (`EMFILE`) is logged and the accept loop backs off briefly and carries on.

use std::io;
use std::rc::Rc;
use std::time::Duration;

use runtime::net::{TcpListener, TcpStream};

/// What the echo loop reports to whoever watches it. Every method does nothing by default.
///
/// All calls happen on the server's own thread, from its tasks, so a watcher may use `Cell`s.
pub trait Watcher: 'static {
    /// A connection was accepted. The returned tag is handed back with that connection's events,
    /// so a watcher can tell connections accepted before and after some moment apart.
    fn accepted(&self) -> u64 {
        0
    }

    /// `bytes` arrived on the connection tagged `tag` (they are echoed right after this call).
    fn received(&self, tag: u64, bytes: usize) {
        let _ = (tag, bytes);
    }

    /// The peer closed the connection tagged `tag` (end of stream).
    fn closed(&self, tag: u64) {
        let _ = tag;
    }
}

/// Watches nothing: `accept_loop(listener, false, Rc::new(()))`.
impl Watcher for () {}

/// Accepts connections until its task is dropped, echoing each on a task of its own. A failed
/// accept is logged and the loop goes on; running out of descriptors is waited out.
pub async fn accept_loop<W: Watcher>(listener: TcpListener, upper: bool, watcher: Rc<W>) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let tag = watcher.accepted();
                runtime::spawn(serve(stream, upper, watcher.clone(), tag));
            }
            Err(e) if is_out_of_descriptors(&e) => {
                // "EMFILE" spelled out: tests look for it (the error's own text may be localised).
                eprintln!("echo: accept: EMFILE/ENFILE ({e}); waiting for descriptors to free up");
                runtime::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {} // the peer gave up first
            Err(e) => eprintln!("echo: accept: {e}"),
        }
    }
}

fn is_out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Echoes one connection until the peer closes it or it fails (upper-cased with `upper`).
pub async fn serve<W: Watcher>(stream: TcpStream, upper: bool, watcher: Rc<W>, tag: u64) {
    // Echo replies are small and latency-bound: do not let Nagle hold them back.
    let _ = stream.set_nodelay(true);
    // One buffer per connection, handed to each read and given back: no allocation per message.
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let (res, mut data) = stream.read(buf).await;
        match res {
            Ok(0) => {
                watcher.closed(tag);
                return;
            }
            Ok(n) => watcher.received(tag, n),
            Err(e) => {
                if e.kind() != io::ErrorKind::ConnectionReset {
                    eprintln!("echo: read: {e}");
                }
                return;
            }
        }
        if upper {
            data.make_ascii_uppercase();
        }
        let (res, data) = stream.write_all(data).await;
        if let Err(e) = res {
            if !matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ) {
                eprintln!("echo: write: {e}");
            }
            return;
        }
        buf = data;
    }
}
