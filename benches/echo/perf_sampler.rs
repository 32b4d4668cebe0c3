//! The server thread's CPU time split into user and kernel by sampling it with `perf record`.
//!
//! `getrusage` splits a thread's CPU time into user and system at timer ticks (every 1–4 ms), far
//! too coarse for a user share of a few hundred nanoseconds per message. So while the meter's
//! window is open, `perf record -e cpu-clock -F 4000 -t <tid>` samples the server thread every
//! 250 µs of its CPU time; afterwards `perf script` lists each sample's instruction pointer and the
//! CPU time it stands for (its period, in ns). A sample whose pointer is a kernel address
//! (≥ `0xffff800000000000`, the upper half on x86-64) counts as kernel time, any other as user.
//!
//! `cpu-clock` is a software event: a timer that runs only while the thread is on a CPU. Under
//! steady load (100 connections and more) its samples add up to the thread's exact CPU time from
//! `getrusage` within about 10 %. With one connection, where the thread sleeps between messages,
//! they come to about 0.8× of it, most likely because the event is switched in and out inside the
//! context switch, leaving part of each switch (two per message there) unsampled. `task-clock`
//! gives the same figures.
//!
//! Timing. perf takes 100–200 ms to start, a large share of a run, so it is started *before* the
//! server listens, with no load yet (`Meter::attach`), and with its events disabled (`-D -1`). It
//! is then switched on and off through its control FIFOs (`--control fifo:ctl,ack`):
//! [`Sampler::enable`] just before the window's start mark and [`Sampler::disable`] just after its
//! end mark each write a command and wait for perf's `ack`, so the samples cover the window. The server thread sleeps while it waits
//! for the ack, and `cpu-clock` only counts while the thread runs, so the round trip costs no
//! samples. perf inherits the server thread's core; inside the window it mostly sleeps, waking only
//! to drain its buffer. It is stopped with SIGINT by its PID afterwards, and its files removed.
//!
//! Where perf is missing or cannot attach, [`probe`] says why and the bench falls back to the
//! `getrusage` split. `ECHO_PERF=0` turns sampling off.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Samples per second of the thread's CPU time.
const FREQUENCY: &str = "4000";

/// Addresses from here up are the kernel's (x86-64: the upper canonical half).
const KERNEL_START: u64 = 0xffff_8000_0000_0000;

/// How long perf may take to start, or to answer a command.
const PATIENCE: Duration = Duration::from_secs(10);

/// Whether [`probe`] found perf working.
static WORKS: OnceLock<bool> = OnceLock::new();

/// Checks once that perf can sample a thread of this process (a short trial on the calling
/// thread); afterwards [`enabled`] tells the meters whether to use it. `Err` says why not.
pub fn probe() -> Result<(), String> {
    let off = std::env::var("ECHO_PERF").is_ok_and(|v| matches!(v.as_str(), "0" | "false"));
    let outcome = if off {
        Err("turned off by ECHO_PERF=0".to_string())
    } else {
        trial()
    };
    let _ = WORKS.set(outcome.is_ok());
    outcome
}

/// Whether the meters sample with perf (after a successful [`probe`]).
pub fn enabled() -> bool {
    WORKS.get() == Some(&true)
}

fn trial() -> Result<(), String> {
    let version = Command::new("perf")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !version.is_ok_and(|s| s.success()) {
        return Err("`perf --version` failed".into());
    }
    let mut sampler = Sampler::launch(current_tid())?;
    sampler.enable()?;
    // Some user work and some syscalls, for a few dozen samples.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(30) {
        let _ = std::fs::metadata("/");
    }
    sampler.disable()?;
    let sampled = sampler.finish()?;
    if sampled.user_ns + sampled.kernel_ns == 0 {
        return Err("perf recorded no sample".into());
    }
    Ok(())
}

/// The calling thread's kernel id.
pub fn current_tid() -> i32 {
    // SAFETY: gettid takes no argument and cannot fail.
    unsafe { libc::gettid() }
}

/// The CPU time the samples stand for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sampled {
    /// In the program's own code (and the vDSO).
    pub user_ns: u64,
    /// In the kernel. Zero when perf may sample user code only (`perf_event_paranoid` ≥ 2 without
    /// privileges), so a zero here means "not measured".
    pub kernel_ns: u64,
}

/// A `perf record` process attached (disabled) to one thread.
pub struct Sampler {
    perf: Child,
    /// Whether `perf` has been stopped and reaped.
    reaped: bool,
    /// Our ends of perf's control FIFO (commands) and acknowledgement FIFO.
    ctl: File,
    ack: File,
    /// Holds the FIFOs, perf's data file and its stderr; removed on drop.
    dir: PathBuf,
}

impl Sampler {
    /// Starts perf on thread `tid` with its events off, and waits until it answers.
    pub fn launch(tid: i32) -> Result<Sampler, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "echo-perf-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Relaxed)
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cleanup = |e: String| {
            let _ = std::fs::remove_dir_all(&dir);
            e
        };
        let (ctl, ack) = (dir.join("ctl"), dir.join("ack"));
        let (ctl_end, ack_end) = fifo(&ctl)
            .and_then(|c| Ok((c, fifo(&ack)?)))
            .map_err(cleanup)?;
        let stderr = File::create(dir.join("stderr")).map_err(|e| cleanup(e.to_string()))?;
        let perf = Command::new("perf")
            .args(["record", "-e", "cpu-clock", "-F", FREQUENCY, "--no-inherit"])
            .args(["--quiet", "--no-buildid", "--no-buildid-cache", "-D", "-1"])
            .arg("-t")
            .arg(tid.to_string())
            .arg("-o")
            .arg(dir.join("data"))
            .arg("--control")
            .arg(format!("fifo:{},{}", ctl.display(), ack.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| cleanup(format!("cannot start perf: {e}")))?;
        let mut sampler = Sampler {
            perf,
            reaped: false,
            ctl: ctl_end,
            ack: ack_end,
            dir,
        };
        // perf answers its first command once its events are set up.
        sampler.command("ping")?;
        Ok(sampler)
    }

    /// Starts sampling; returns once perf has switched its events on.
    pub fn enable(&mut self) -> Result<(), String> {
        self.command("enable")
    }

    /// Stops sampling; returns once perf has switched its events off.
    pub fn disable(&mut self) -> Result<(), String> {
        self.command("disable")
    }

    /// Stops perf and adds up its samples.
    pub fn finish(mut self) -> Result<Sampled, String> {
        self.stop();
        let out = Command::new("perf")
            .args(["script", "-F", "period,ip", "-i"])
            .arg(self.dir.join("data"))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run perf script: {e}"))?;
        if !out.status.success() {
            return Err(format!("perf script failed: {}", self.perf_stderr()));
        }
        let mut sampled = Sampled::default();
        // Each line: the period (ns of CPU time, decimal), then the instruction pointer (hex).
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let mut fields = line.split_whitespace();
            let period = fields.next().and_then(|p| p.parse::<u64>().ok());
            let ip = fields
                .next()
                .and_then(|ip| u64::from_str_radix(ip, 16).ok());
            if let (Some(period), Some(ip)) = (period, ip) {
                if ip >= KERNEL_START {
                    sampled.kernel_ns += period;
                } else {
                    sampled.user_ns += period;
                }
            }
        }
        Ok(sampled)
    }

    /// Sends one control command and waits for perf's acknowledgement.
    fn command(&mut self, command: &str) -> Result<(), String> {
        let failed =
            |s: &Sampler, what: String| format!("perf {command}: {what}{}", s.perf_stderr());
        if let Err(e) = self.ctl.write_all(format!("{command}\n").as_bytes()) {
            return Err(failed(self, e.to_string()));
        }
        let mut poll = libc::pollfd {
            fd: self.ack.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as i32;
            // SAFETY: `poll` is one valid pollfd and we pass a count of 1.
            let ready = unsafe { libc::poll(&mut poll, 1, left.min(100)) };
            if ready > 0 {
                break;
            }
            if let Ok(Some(status)) = self.perf.try_wait() {
                self.reaped = true;
                return Err(failed(self, format!("perf exited ({status})")));
            }
            if left <= 0 {
                return Err(failed(self, "no answer".into()));
            }
        }
        let mut answer = [0u8; 16];
        match self.ack.read(&mut answer) {
            Ok(n) if answer[..n].starts_with(b"ack") => Ok(()),
            Ok(n) => Err(failed(self, format!("answered {:?}", &answer[..n]))),
            Err(e) => Err(failed(self, e.to_string())),
        }
    }

    /// SIGINT to perf (by its PID: it then writes its data out and exits), and reaps it.
    fn stop(&mut self) {
        if self.reaped {
            return;
        }
        // SAFETY: kill only sends a signal; the PID is our own unreaped child, so it cannot have
        // been reused by another process.
        unsafe { libc::kill(self.perf.id() as libc::pid_t, libc::SIGINT) };
        let _ = self.perf.wait();
        self.reaped = true;
    }

    /// What perf said on stderr, as "; ..." (empty if nothing).
    fn perf_stderr(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
        match text.lines().find(|l| !l.trim().is_empty()) {
            Some(line) => format!("; perf: {}", line.trim()),
            None => String::new(),
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Makes a FIFO at `path` and opens it read-write (which never blocks, unlike opening one end).
fn fifo(path: &Path) -> Result<File, String> {
    let mut name = path.as_os_str().as_bytes().to_vec();
    name.push(0);
    // SAFETY: `name` is a NUL-terminated path that outlives the call.
    if unsafe { libc::mkfifo(name.as_ptr().cast(), 0o600) } != 0 {
        return Err(format!(
            "mkfifo {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}
