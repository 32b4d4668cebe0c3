//! [`Registry`]: one runtime's signals — the `signalfd`, the set of signals it takes, and who waits
//! for each.
//!
//! Created empty with the runtime; the first subscription opens the `signalfd` and spawns the
//! listener task, which reads it for as long as the runtime lives and counts each delivery in the
//! [`Deliveries`] of its kind, waking every waiter.

use std::cell::{Cell, RefCell};
use std::io;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{FromRawFd, OwnedFd};
use std::rc::Rc;
use std::task::Waker;

use crate::driver::ops::ReadReady;
use crate::driver::syscall::syscall;
use crate::driver::{Op, SharedFd};

/// Signals that cannot be waited for: `SIGKILL` and `SIGSTOP` cannot be blocked, and the fault
/// signals are sent to the faulting thread, which must handle them at once.
const FORBIDDEN: [libc::c_int; 6] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
];

/// Signals read per `read` of the `signalfd` at most.
const BATCH: usize = 16;

/// One runtime's signal state (lives in its `Core`).
#[derive(Default)]
pub(crate) struct Registry {
    /// Opened by the first subscription.
    listener: RefCell<Option<Rc<Listener>>>,
}

/// The `signalfd`, its set, and the deliveries of each subscribed kind.
struct Listener {
    fd: SharedFd,
    mask: Cell<libc::sigset_t>,
    kinds: RefCell<Vec<Rc<Deliveries>>>,
}

/// The deliveries of one signal kind, shared by every [`Signal`](super::Signal) of that kind.
#[derive(Debug)]
pub(crate) struct Deliveries {
    signum: libc::c_int,
    count: Cell<u64>,
    /// Each distinct waiting task once; all are woken by a delivery.
    waiters: RefCell<Vec<Waker>>,
}

impl Registry {
    /// The deliveries of `signum`, subscribing to it first if needed: the signal is blocked on
    /// this thread and added to the `signalfd`'s set.
    pub(crate) fn subscribe(&self, signum: libc::c_int) -> io::Result<Rc<Deliveries>> {
        if signum <= 0 || signum > libc::SIGRTMAX() || FORBIDDEN.contains(&signum) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signum} cannot be waited for"),
            ));
        }
        let listener = self.listener()?;
        if let Some(known) = listener.kinds.borrow().iter().find(|d| d.signum == signum) {
            return Ok(known.clone());
        }
        listener.add(signum)?;
        let deliveries = Rc::new(Deliveries {
            signum,
            count: Cell::new(0),
            waiters: RefCell::new(Vec::new()),
        });
        listener.kinds.borrow_mut().push(deliveries.clone());
        Ok(deliveries)
    }

    /// The listener, opened (and its task spawned) on first use.
    fn listener(&self) -> io::Result<Rc<Listener>> {
        if let Some(listener) = &*self.listener.borrow() {
            return Ok(listener.clone());
        }
        let mask = empty_set();
        // SAFETY: `mask` is an initialised signal set; -1 asks for a new descriptor, which the
        // kernel hands to us alone.
        let fd = syscall!(other_syscalls, unsafe {
            libc::signalfd(-1, &mask, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
        })?;
        let listener = Rc::new(Listener {
            // SAFETY: `fd` was just created and nobody else owns it.
            fd: SharedFd::new(unsafe { OwnedFd::from_raw_fd(fd) }),
            mask: Cell::new(mask),
            kinds: RefCell::new(Vec::new()),
        });
        crate::spawn(listen(listener.clone()));
        *self.listener.borrow_mut() = Some(listener.clone());
        Ok(listener)
    }
}

impl Listener {
    /// Blocks `signum` on this thread and adds it to the `signalfd`'s set.
    fn add(&self, signum: libc::c_int) -> io::Result<()> {
        let mut one = empty_set();
        let mut mask = self.mask.get();
        // SAFETY: both sets are initialised; `signum` was checked to be a valid signal number.
        unsafe {
            libc::sigaddset(&mut one, signum);
            libc::sigaddset(&mut mask, signum);
        }
        // SAFETY: `one` is an initialised set; the old mask is not asked for (null).
        let blocked = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &one, std::ptr::null_mut()) };
        if blocked != 0 {
            return Err(io::Error::from_raw_os_error(blocked));
        }
        // SAFETY: `mask` is an initialised set; the descriptor is our live signalfd, whose set
        // this call replaces.
        syscall!(other_syscalls, unsafe {
            libc::signalfd(self.fd.raw(), &mask, 0)
        })?;
        self.mask.set(mask);
        Ok(())
    }

    /// A signal was taken from the `signalfd`: count it and wake its waiters.
    fn deliver(&self, signum: u32) {
        let kinds = self.kinds.borrow();
        let Some(deliveries) = kinds.iter().find(|d| d.signum as u32 == signum) else {
            return;
        };
        deliveries.count.set(deliveries.count.get() + 1);
        let waiters = std::mem::take(&mut *deliveries.waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl Deliveries {
    /// Deliveries so far.
    pub(crate) fn count(&self) -> u64 {
        self.count.get()
    }

    /// Wakes `waker` at the next delivery (once per task however often it asks).
    pub(crate) fn wait(&self, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
    }
}

/// The listener task: reads the `signalfd` for as long as the runtime lives.
async fn listen(listener: Rc<Listener>) {
    const INFO: usize = size_of::<libc::signalfd_siginfo>();
    let mut buf = Vec::with_capacity(INFO * BATCH);
    loop {
        let (res, b) = Op::new(ReadReady::new(&listener.fd, buf)).await;
        buf = b;
        match res {
            Ok(n) => {
                // `ssi_signo`, the first field of each record, is the signal's number.
                for info in buf[..n].chunks_exact(INFO) {
                    let signum = u32::from_ne_bytes(info[..4].try_into().expect("4 bytes"));
                    listener.deliver(signum);
                }
            }
            // Woken, but another reader was faster (io_uring's poll, then read): wait again.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                eprintln!("runtime: reading the signalfd failed, signals are no longer seen: {e}");
                return;
            }
        }
        buf.clear();
    }
}

/// An empty signal set.
fn empty_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the whole set.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<_> = self
            .listener
            .borrow()
            .iter()
            .flat_map(|l| {
                l.kinds
                    .borrow()
                    .iter()
                    .map(|d| d.signum)
                    .collect::<Vec<_>>()
            })
            .collect();
        f.debug_struct("signal::Registry")
            .field("signals", &kinds)
            .finish()
    }
}
