//! The server under test: the echo server on one backend, on its own (pinned) thread, taking
//! orders through a [`Mailbox`] and measuring itself.
//!
//! # How a measured window is found
//!
//! The load generator connects all its connections, then sends; at the end it drains the echoes
//! still in flight, then closes. Only the middle part should count, so the server marks it itself:
//!
//! 1. [`Server::arm`] tells it how many connections the next run opens (and waits until the
//!    server has taken note, so no connection of the run can slip in before);
//! 2. the window starts at the first byte that arrives once that many connections were accepted
//!    — connection setup (accept, registration) stays outside;
//! 3. it ends at the first end of stream of those connections, when the load generator has
//!    finished and starts closing — teardown stays outside.
//!
//! Connections are tagged with the arming they were accepted under, so a late close from the
//! previous run (the warm-up) cannot end the new window early.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use runtime::net::TcpListener;
use runtime::{Backend, Runtime};

use crate::cpu;
use crate::echo_server::{self, Watcher};
use crate::file_reads::{self, FileJob, FileRun};
use crate::mailbox::Mailbox;
use crate::window::{Snapshot, Window};

/// What the main thread asks of a server thread.
enum Command {
    /// Measure the next echo run (see the module docs). `armed` confirms; `done` gets the result.
    Arm {
        connections: usize,
        armed: Sender<()>,
        done: Sender<EchoWindow>,
    },
    /// Run the file-read scenario on this runtime and send back what it measured.
    ReadFile {
        job: FileJob,
        done: Sender<io::Result<FileRun>>,
    },
    /// Leave `block_on`; the thread ends.
    Stop,
}

/// What the server measured during one echo run.
#[derive(Debug, Clone, Copy)]
pub struct EchoWindow {
    /// Syscalls, CPU and time of the server thread.
    pub window: Window,
    /// Bytes echoed.
    pub bytes: u64,
    /// Reads that brought data (the others found nothing yet).
    pub receives: u64,
}

/// A running server thread.
pub struct Server {
    /// Where it listens (127.0.0.1, an ephemeral port).
    pub addr: SocketAddr,
    mailbox: Arc<Mailbox<Command>>,
    thread: Option<JoinHandle<()>>,
}

/// How long to wait for a server thread's answer before calling it stuck.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

impl Server {
    /// Starts the echo server on `backend`, pinned to `cpu` if given.
    ///
    /// # Errors
    /// The reason, in words, when the backend cannot run here (for io_uring: not compiled in,
    /// refused by the kernel, or blocked by a sandbox) or the listener cannot be bound.
    pub fn start(backend: Backend, cpu: Option<usize>) -> Result<Server, String> {
        let mailbox = Arc::new(Mailbox::new());
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_mailbox = mailbox.clone();
        let thread = thread::Builder::new()
            .name(format!("server-{backend}"))
            .spawn(move || server_thread(backend, cpu, ready_tx, thread_mailbox))
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let ready = ready_rx
            .recv_timeout(ANSWER_TIMEOUT)
            .unwrap_or_else(|_| Err("the server thread did not start".into()));
        match ready {
            Ok(addr) => Ok(Server {
                addr,
                mailbox,
                thread: Some(thread),
            }),
            Err(reason) => {
                let _ = thread.join();
                Err(reason)
            }
        }
    }

    /// Arms the measured window for a run of `connections` connections (see the module docs).
    /// Returns once the server has taken note; the receiver gets the window when it closes.
    pub fn arm(&self, connections: usize) -> io::Result<Receiver<EchoWindow>> {
        let (armed, armed_rx) = mpsc::channel();
        let (done, done_rx) = mpsc::channel();
        self.mailbox.send(Command::Arm {
            connections,
            armed,
            done,
        });
        armed_rx
            .recv_timeout(ANSWER_TIMEOUT)
            .map_err(|_| stuck("arm the measurement"))?;
        Ok(done_rx)
    }

    /// Runs the file-read scenario on the server's runtime and waits for its result.
    pub fn read_file(&self, job: FileJob) -> io::Result<FileRun> {
        let wait = ANSWER_TIMEOUT + job.warmup + job.measure;
        let (done, done_rx) = mpsc::channel();
        self.mailbox.send(Command::ReadFile { job, done });
        done_rx
            .recv_timeout(wait)
            .map_err(|_| stuck("finish the file reads"))?
    }
}

fn stuck(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("the server thread did not {what} in time"),
    )
}

impl Drop for Server {
    fn drop(&mut self) {
        self.mailbox.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The body of a server thread: pin, build the runtime, listen, report the address, then obey.
fn server_thread(
    backend: Backend,
    cpu: Option<usize>,
    ready: Sender<Result<SocketAddr, String>>,
    mailbox: Arc<Mailbox<Command>>,
) {
    if let Some(cpu) = cpu {
        if let Err(e) = cpu::pin_current_thread(cpu) {
            eprintln!("compare: could not pin the {backend} server to CPU {cpu}: {e}");
        }
    }
    let rt = match Runtime::builder().backend(backend).build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    rt.block_on(async move {
        let listener = match TcpListener::bind("127.0.0.1:0") {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(format!("cannot listen on 127.0.0.1: {e}")));
                return;
            }
        };
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let meter = Rc::new(Meter::default());
        let accepting = meter.clone();
        runtime::spawn(echo_server::accept_loop(listener, false, accepting));
        let _ = ready.send(Ok(addr));
        loop {
            match mailbox.recv().await {
                Command::Arm {
                    connections,
                    armed,
                    done,
                } => {
                    meter.arm(connections, done);
                    let _ = armed.send(());
                }
                Command::ReadFile { job, done } => {
                    let _ = done.send(file_reads::run(&job).await);
                }
                Command::Stop => return,
            }
        }
    });
}

/// Where the measured window of the current run stands.
#[derive(Default)]
enum Phase {
    /// Nothing to measure.
    #[default]
    Idle,
    /// Waiting for `needed` connections of this arming, then for their first byte.
    Armed { needed: usize, accepted: usize },
    /// Inside the window: counting bytes and the reads that brought them since `start`.
    Measuring {
        // Boxed: a snapshot is much bigger than the other variants.
        start: Box<Snapshot>,
        bytes: u64,
        receives: u64,
    },
}

/// The echo server's [`Watcher`]: finds the measured window and measures it.
#[derive(Default)]
struct Meter {
    /// Bumped by each arming; every connection is tagged with the value at its accept.
    generation: Cell<u64>,
    phase: RefCell<Phase>,
    done: RefCell<Option<Sender<EchoWindow>>>,
}

impl Meter {
    fn arm(&self, connections: usize, done: Sender<EchoWindow>) {
        self.generation.set(self.generation.get() + 1);
        *self.phase.borrow_mut() = Phase::Armed {
            needed: connections,
            accepted: 0,
        };
        *self.done.borrow_mut() = Some(done);
    }

    fn is_current(&self, tag: u64) -> bool {
        tag == self.generation.get()
    }
}

impl Watcher for Meter {
    fn accepted(&self) -> u64 {
        if let Phase::Armed { accepted, .. } = &mut *self.phase.borrow_mut() {
            *accepted += 1;
        }
        self.generation.get()
    }

    fn received(&self, tag: u64, bytes: usize) {
        if !self.is_current(tag) {
            return;
        }
        let mut phase = self.phase.borrow_mut();
        match &mut *phase {
            Phase::Armed { needed, accepted } if *accepted >= *needed => {
                // The snapshot follows the read that brought these bytes, so that read is outside
                // the window while their echo is inside: one syscall in a whole run, either way.
                *phase = Phase::Measuring {
                    start: Box::new(Snapshot::take()),
                    bytes: bytes as u64,
                    receives: 1,
                };
            }
            Phase::Measuring {
                bytes: total,
                receives,
                ..
            } => {
                *total += bytes as u64;
                *receives += 1;
            }
            _ => {}
        }
    }

    fn closed(&self, tag: u64) {
        if !self.is_current(tag) {
            return;
        }
        let mut phase = self.phase.borrow_mut();
        if let Phase::Measuring {
            start,
            bytes,
            receives,
        } = &*phase
        {
            let result = EchoWindow {
                window: Snapshot::take().since(start),
                bytes: *bytes,
                receives: *receives,
            };
            if let Some(done) = self.done.borrow_mut().take() {
                let _ = done.send(result);
            }
            *phase = Phase::Idle;
        }
    }
}
