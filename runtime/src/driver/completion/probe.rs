//! Creating the ring: which setup flags this kernel accepts, whether it offers the features and
//! opcodes the driver needs, and — when it refuses io_uring altogether — a clear error saying why.
//!
//! Setup flags, best first (each is tried and dropped on `EINVAL`, i.e. "this kernel does not know
//! the flag"):
//! 1. `SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG` (6.1+): only this thread uses the ring, so the
//!    kernel may run completion work lazily, when we enter with `GETEVENTS` — no interrupts of the
//!    thread while it runs tasks. `TASKRUN_FLAG` sets `IORING_SQ_TASKRUN` when work is pending, so
//!    a non-blocking park can tell whether it needs a syscall at all.
//! 2. `COOP_TASKRUN | TASKRUN_FLAG` (5.19+): completion work waits for the next kernel entry
//!    instead of interrupting the thread.
//! 3. no flags.
//!
//! Optional features are recorded, not required: `IORING_FEAT_MIN_TIMEOUT` (6.12+) enables batched
//! waits (see `batch`); without it every blocking park waits for one completion.
//!
//! Test hook: `RUNTIME_IO_URING_DISABLED=1` in the environment makes ring creation fail as if the
//! kernel refused it (`EPERM`), so the fallback paths can be tested on any machine.

use std::io;

use io_uring::{opcode, IoUring, Probe};

/// The environment variable that simulates a kernel refusing io_uring (a test hook).
pub(crate) const DISABLED_ENV: &str = "RUNTIME_IO_URING_DISABLED";

/// How the ring was set up (reported by `Debug`, useful when comparing measurements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetupMode {
    SingleIssuerDeferTaskrun,
    CoopTaskrun,
    Plain,
}

/// A ring ready for the driver, and how it was set up.
pub(crate) struct Ring {
    pub(crate) ring: IoUring,
    pub(crate) mode: SetupMode,
    /// `IORING_FEAT_MIN_TIMEOUT` (6.12+): waits may take a `min_wait` (see `batch`). Optional.
    pub(crate) min_timeout: bool,
    /// Every file opcode of `FILE_OPS` is supported (the last one, `MKDIRAT`, came in 5.15);
    /// otherwise file operations take the blocking pool, as under epoll.
    pub(crate) file_ops: bool,
}

/// The opcodes of the file operations (`driver/ops/fs/`). Optional: see [`Ring::file_ops`].
const FILE_OPS: &[u8] = &[
    opcode::OpenAt::CODE,
    opcode::Read::CODE,
    opcode::Write::CODE,
    opcode::Fsync::CODE,
    opcode::Statx::CODE,
    opcode::Close::CODE,
    opcode::UnlinkAt::CODE,
    opcode::RenameAt::CODE,
    opcode::MkDirAt::CODE,
];

/// The opcodes every socket operation and the driver itself need, with their names for errors.
const REQUIRED: &[(u8, &str)] = &[
    (opcode::Accept::CODE, "IORING_OP_ACCEPT"),
    (opcode::Connect::CODE, "IORING_OP_CONNECT"),
    (opcode::Recv::CODE, "IORING_OP_RECV"),
    (opcode::Send::CODE, "IORING_OP_SEND"),
    (opcode::RecvMsg::CODE, "IORING_OP_RECVMSG"),
    (opcode::SendMsg::CODE, "IORING_OP_SENDMSG"),
    (opcode::AsyncCancel::CODE, "IORING_OP_ASYNC_CANCEL"),
    (opcode::Read::CODE, "IORING_OP_READ"),
];

/// Adds one attempt's setup flags to a ring builder.
type Configure = fn(&mut io_uring::Builder);

/// Creates a ring of `entries` submission entries with the best setup flags the kernel accepts.
///
/// # Errors
/// `Unsupported`, naming the cause, when the kernel refuses io_uring or lacks something required.
pub(crate) fn create(entries: u32) -> io::Result<Ring> {
    if simulated_refusal() {
        return Err(refusal(io::Error::from_raw_os_error(libc::EPERM), true));
    }
    let attempts: [(SetupMode, Configure); 3] = [
        (SetupMode::SingleIssuerDeferTaskrun, |b| {
            b.setup_single_issuer()
                .setup_defer_taskrun()
                .setup_taskrun_flag();
        }),
        (SetupMode::CoopTaskrun, |b| {
            b.setup_coop_taskrun().setup_taskrun_flag();
        }),
        (SetupMode::Plain, |_| {}),
    ];
    let mut last = None;
    for (mode, configure) in attempts {
        let mut builder = IoUring::builder();
        // Completions can outnumber submissions (multishot requests): a roomier CQ overflows less.
        builder.setup_cqsize(entries.saturating_mul(4));
        configure(&mut builder);
        match builder.build(entries) {
            Ok(ring) => return finish(ring, mode),
            // EINVAL: a flag this kernel does not know; try with fewer.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last = Some(e),
            Err(e) => return Err(refusal(e, false)),
        }
    }
    Err(refusal(last.expect("at least one attempt"), false))
}

/// Checks the features and opcodes the driver relies on.
fn finish(ring: IoUring, mode: SetupMode) -> io::Result<Ring> {
    let params = ring.params();
    if !params.is_feature_nodrop() {
        return Err(unsupported(
            "the kernel lacks IORING_FEAT_NODROP (5.5+): completions could be lost on overflow",
        ));
    }
    if !params.is_feature_ext_arg() {
        return Err(unsupported(
            "the kernel lacks IORING_FEAT_EXT_ARG (5.11+), needed to wait with a timeout",
        ));
    }
    let mut probe = Probe::new();
    ring.submitter()
        .register_probe(&mut probe)
        .map_err(|e| unsupported(&format!("cannot probe io_uring opcodes: {e}")))?;
    for &(code, name) in REQUIRED {
        if !probe.is_supported(code) {
            return Err(unsupported(&format!(
                "the kernel does not support {name}, which the io_uring driver needs"
            )));
        }
    }
    let min_timeout = params.is_feature_min_timeout();
    let file_ops = FILE_OPS.iter().all(|&code| probe.is_supported(code));
    Ok(Ring {
        ring,
        mode,
        min_timeout,
        file_ops,
    })
}

fn simulated_refusal() -> bool {
    matches!(std::env::var(DISABLED_ENV).as_deref(), Ok(v) if !v.is_empty() && v != "0")
}

fn unsupported(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("io_uring: {msg}"))
}

/// Turns `io_uring_setup`'s error into an `Unsupported` error that says why.
fn refusal(e: io::Error, simulated: bool) -> io::Error {
    let why = match e.raw_os_error() {
        _ if simulated => format!("refused (simulated by {DISABLED_ENV}=1, a test hook): {e}"),
        Some(libc::ENOSYS) => "this kernel has no io_uring (io_uring_setup: ENOSYS)".to_string(),
        Some(libc::EPERM | libc::EACCES) => match sysctl_disabled() {
            Some(2) => {
                format!("disabled for everyone by the sysctl kernel.io_uring_disabled=2 ({e})")
            }
            Some(1) => format!(
                "restricted by the sysctl kernel.io_uring_disabled=1 to privileged processes and \
                 the group kernel.io_uring_group ({e})"
            ),
            _ => format!("denied by a seccomp filter or a security module ({e})"),
        },
        Some(libc::ENOMEM) => {
            format!("not enough locked memory for the ring (RLIMIT_MEMLOCK?): {e}")
        }
        _ => format!("io_uring_setup failed: {e}"),
    };
    unsupported(&why)
}

/// The value of `/proc/sys/kernel/io_uring_disabled` (absent before 6.6).
fn sysctl_disabled() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_their_cause() {
        let e = refusal(io::Error::from_raw_os_error(libc::ENOSYS), false);
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        assert!(e.to_string().contains("ENOSYS"), "{e}");
        let e = refusal(io::Error::from_raw_os_error(libc::EPERM), true);
        assert!(e.to_string().contains(DISABLED_ENV), "{e}");
        let e = refusal(io::Error::from_raw_os_error(libc::EPERM), false);
        assert!(
            e.to_string().contains("io_uring_disabled") || e.to_string().contains("seccomp"),
            "{e}"
        );
    }
}
