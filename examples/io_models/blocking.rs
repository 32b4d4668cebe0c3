//! Model 1: blocking IO, one thread per connection (or a fixed pool with `--pool N`).
//!
//! ```text
//! cargo run --release --example io_blocking -- 127.0.0.1:8080 [--pool N]
//! ```
//!
//! Every call simply waits: `accept` until a client connects, `read` until bytes arrive
//! (phase 1, "wait for data") and while the kernel copies them to us (phase 2, "copy
//! data"), `write` until the kernel took them. The code is as plain as it gets, and the
//! price is a thread for every connection that may be waiting at the same time.
//!
//! With `--pool N` only N threads serve connections. Each one serves a connection until it
//! closes, so connection N+1 sits accepted but unserved in the queue until a worker is
//! free: with blocking IO a thread is "used up" by a single idle client.

#[allow(dead_code)] // each server uses a different part of the shared code
#[path = "common/mod.rs"]
mod common;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;

use common::args::Args;
use common::stats::{self, Sys};
use common::{net, signals};

const NAME: &str = "io_blocking";

/// A thread that only echoes needs little stack; 64 KiB keeps 1000 threads cheap.
const STACK_SIZE: usize = 64 * 1024;

fn main() {
    let args = Args::parse();
    let pool = args.value("--pool").map(|n| match n.parse::<usize>() {
        Ok(n) if n > 0 => n,
        _ => {
            eprintln!("{NAME}: --pool needs a positive number, got {n:?}");
            std::process::exit(2);
        }
    });
    if let Err(error) = run(args, pool) {
        stats::report(NAME);
        eprintln!("{NAME}: {error}");
        std::process::exit(1);
    }
}

fn run(args: Args, pool: Option<usize>) -> io::Result<()> {
    // Blocking style, all the way down: a dedicated thread blocks in `sigwait` until
    // SIGINT/SIGTERM arrives. The signals are blocked first, in this thread, so that every
    // thread started later inherits the mask and only `sigwait` ever receives them.
    let shutdown = signals::block(&signals::SHUTDOWN)?;
    spawn(move || {
        signals::wait(&shutdown);
        stats::report(NAME);
        // Ends every thread, including those blocked in `read`.
        std::process::exit(0);
    })?;

    let listener = net::listen(args.addr)?;
    match pool {
        None => thread_per_connection(&listener),
        Some(workers) => fixed_pool(&listener, workers),
    }
}

/// Accepts forever and gives every connection its own new thread.
fn thread_per_connection(listener: &TcpListener) -> io::Result<()> {
    loop {
        let Some(stream) = accept(listener) else {
            continue;
        };
        if let Err(error) = spawn(move || serve(stream)) {
            eprintln!("{NAME}: cannot start a thread ({error}); connection dropped");
        }
    }
}

/// Accepts forever and hands connections to `workers` threads through a channel.
fn fixed_pool(listener: &TcpListener, workers: usize) -> io::Result<()> {
    let (sender, receiver) = mpsc::channel::<TcpStream>();
    let receiver = Arc::new(Mutex::new(receiver));
    let busy = Arc::new(AtomicUsize::new(0));
    for _ in 0..workers {
        let (receiver, busy) = (Arc::clone(&receiver), Arc::clone(&busy));
        spawn(move || worker(&receiver, &busy))?;
    }
    let mut warned = false;
    loop {
        let Some(stream) = accept(listener) else {
            continue;
        };
        // Show where a pool runs out: this client will wait for a worker to be free.
        if !warned && busy.load(Ordering::Relaxed) >= workers {
            eprintln!("{NAME}: all {workers} workers busy; new connections wait in the queue");
            warned = true;
        }
        // The receiver lives as long as the workers, which never return.
        let _ = sender.send(stream);
    }
}

/// A pool thread: takes one connection at a time and serves it until it closes.
fn worker(queue: &Mutex<Receiver<TcpStream>>, busy: &AtomicUsize) {
    loop {
        // The lock is only held while waiting for the next connection, not while serving.
        let next = queue.lock().map(|receiver| receiver.recv());
        let Ok(Ok(stream)) = next else {
            return;
        };
        busy.fetch_add(1, Ordering::Relaxed);
        serve(stream);
        busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One blocking `accept`; a failure only costs this connection.
fn accept(listener: &TcpListener) -> Option<TcpStream> {
    stats::count(Sys::Accept);
    match listener.accept() {
        Ok((stream, _peer)) => net::prepare(&stream, false).ok().map(|()| stream),
        Err(error) => {
            eprintln!("{NAME}: accept failed: {error}");
            None
        }
    }
}

/// Echoes one connection until the peer closes it or an error happens.
fn serve(stream: TcpStream) {
    echo(stream);
    stats::count(Sys::Other); // close(2), as the stream was dropped by `echo`
}

fn echo(mut stream: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        // Blocks through both phases: waiting for data, then copying it into `buffer`.
        stats::count(Sys::Read);
        let n = match stream.read(&mut buffer) {
            Ok(0) => return, // the peer closed its side
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return, // reset etc.: drop this connection only
        };
        stats::read_with_data();
        // Blocks until the kernel has taken every byte (it may take them in parts).
        let mut sent = 0;
        while sent < n {
            stats::count(Sys::Write);
            match stream.write(&buffer[sent..n]) {
                Ok(0) => return,
                Ok(written) => sent += written,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

/// Starts a counted thread with a small stack.
fn spawn(body: impl FnOnce() + Send + 'static) -> io::Result<()> {
    // clone(2), plus mmap/mprotect for the stack: counted as one.
    stats::count(Sys::Other);
    thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            stats::thread_started();
            body();
            stats::thread_finished();
        })?;
    Ok(())
}
