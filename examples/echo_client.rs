//! The interactive echo client: sends each line typed on stdin to an echo server and prints what
//! comes back.
//!
//! ```text
//! cargo run --example echo                                   # in one terminal
//! cargo run --example echo_client                            # in another: 127.0.0.1:8080
//! cargo run --example echo_client -- --addr 127.0.0.1:9000
//! printf 'one\ntwo\n' | cargo run --example echo_client      # non-interactive
//! ```
//!
//! It stops at the end of stdin (Ctrl-D), after the server has echoed everything and closed, or as
//! soon as the server closes the connection.
//!
//! Two things happen at once: lines arrive from stdin, and replies arrive from the server. Replies
//! are printed by their own task. Reading stdin *blocks*, and a worker thread must never block (its
//! other tasks would stall), so each line is read on the runtime's blocking pool with
//! `spawn_blocking`, whose handle the main task awaits like any other future.

use std::future::{poll_fn, Future};
use std::io::{self, BufRead, Write};
use std::pin::Pin;
use std::task::Poll;

use runtime::net::{ReadHalf, TcpStream};
use runtime::task::spawn_blocking;

fn parse_args() -> String {
    let mut addr = String::from("127.0.0.1:8080");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().expect("--addr needs a value"),
            "-h" | "--help" => {
                println!("usage: echo_client [--addr HOST:PORT]");
                std::process::exit(0);
            }
            other => {
                eprintln!("echo_client: unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    addr
}

#[runtime::main]
async fn main() -> io::Result<()> {
    let addr = parse_args();
    let stream = TcpStream::connect(&addr).await?;
    stream.set_nodelay(true)?;
    eprintln!(
        "connected to {}; type lines, Ctrl-D to finish",
        stream.peer_addr()?
    );
    let (reader, writer) = stream.into_split();
    let mut printer = runtime::spawn(print_replies(reader));

    loop {
        let mut next_line = spawn_blocking(read_stdin_line);
        match first_of(&mut next_line, &mut printer).await {
            First::Left(line) => match line?? {
                Some(line) => {
                    let (res, _) = writer.write_all(line).await;
                    res?;
                }
                None => break, // end of stdin
            },
            First::Right(printed) => {
                // The server closed first. The pending stdin read stays on its pool thread; it
                // does not keep the process alive once `main` returns.
                printed??;
                eprintln!("echo_client: the server closed the connection");
                return Ok(());
            }
        }
    }

    // End of stdin: shut our sending side down (dropping the write half does that), so the server
    // reads end of stream after the last line; its echo of everything before still comes back, and
    // then it closes too.
    drop(writer);
    printer.await??;
    Ok(())
}

/// One line of stdin, with its newline; `None` at end of input. Blocks: run it on the pool.
fn read_stdin_line() -> io::Result<Option<String>> {
    let mut line = String::new();
    match io::stdin().lock().read_line(&mut line)? {
        0 => Ok(None),
        _ => Ok(Some(line)),
    }
}

/// Prints everything the server sends until it closes the connection.
///
/// Writing to stdout can block in principle (a full pipe); for an interactive tool whose output goes
/// to a terminal that is brief, so it is done right here on the worker thread.
async fn print_replies(reader: ReadHalf<TcpStream>) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let (res, data) = reader.read(buf).await;
        if res? == 0 {
            return Ok(());
        }
        let mut stdout = io::stdout().lock();
        stdout.write_all(&data)?;
        stdout.flush()?;
        buf = data;
    }
}

/// Which of two futures finished first.
enum First<A, B> {
    Left(A),
    Right(B),
}

/// Waits for whichever of `left` and `right` finishes first (`left` wins a tie). The other one is
/// left untouched, so it can be awaited again later.
async fn first_of<L, R>(left: &mut L, right: &mut R) -> First<L::Output, R::Output>
where
    L: Future + Unpin,
    R: Future + Unpin,
{
    poll_fn(|cx| {
        if let Poll::Ready(out) = Pin::new(&mut *left).poll(cx) {
            return Poll::Ready(First::Left(out));
        }
        if let Poll::Ready(out) = Pin::new(&mut *right).poll(cx) {
            return Poll::Ready(First::Right(out));
        }
        Poll::Pending
    })
    .await
}
