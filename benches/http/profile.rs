//! Sampling the server thread with `perf` (when the machine has it): how its CPU time splits
//! between user space and the kernel, and which user-space functions take the most.
//!
//! `perf record -e cpu-clock -F 4000 -t TID -- sleep S` samples one thread of this process while
//! the load runs; a sample is only taken while the thread is on a CPU, so the seconds it spends
//! waiting add nothing. `perf script -F ip,sym` then lists one sample per line: an address at or
//! above `0xffff_8000_0000_0000` is the kernel's, anything else user space. The kernel's own split
//! (`getrusage`'s user and system times) is sampled at timer ticks only; this one at 4 kHz.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where kernel addresses start on x86-64 and arm64.
const KERNEL_SPACE: u64 = 0xffff_8000_0000_0000;

/// Why perf cannot be used here, or `None` when it can.
pub fn unavailable() -> Option<String> {
    match Command::new("perf").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        Ok(_) => Some("`perf --version` failed".into()),
        Err(_) => Some("`perf` is not installed (Debian: apt-get install -y linux-perf)".into()),
    }
}

/// A `perf record` of one thread, running.
pub struct Recording {
    child: Child,
    file: PathBuf,
}

/// Starts sampling thread `tid` for `secs` seconds into a file named after `tag`.
pub fn start(tid: i32, secs: f64, tag: &str) -> Result<Recording, String> {
    let file = std::env::temp_dir().join(format!("http-bench-{}-{tag}.perf", std::process::id()));
    let child = Command::new("perf")
        .args(["record", "-q", "-e", "cpu-clock", "-F", "4000", "-t"])
        .arg(tid.to_string())
        .arg("-o")
        .arg(&file)
        .args(["--", "sleep", &format!("{secs:.2}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("perf record: {e}"))?;
    Ok(Recording { child, file })
}

/// What the samples of one recording say.
#[derive(Debug, Clone)]
pub struct Profile {
    /// All samples of the thread.
    pub samples: u64,
    /// Those in user space.
    pub user: u64,
    /// The hottest user-space functions: name and share of the *user* samples.
    pub top_user: Vec<(String, f64)>,
}

impl Profile {
    /// Share of the thread's samples spent in user space.
    pub fn user_share(&self) -> f64 {
        self.user as f64 / self.samples.max(1) as f64
    }
}

impl Recording {
    /// Waits for the recording to end, reads it, and removes the file.
    ///
    /// perf's exit status is not looked at: when the thread it follows ends first, perf stops the
    /// `sleep` and then leaves with the signal it sent, having written its samples all the same.
    pub fn finish(mut self) -> Result<Profile, String> {
        let status = self.child.wait().map_err(|e| e.to_string())?;
        let profile = read(&self.file).map_err(|e| format!("{e} (perf record: {status})"));
        let _ = std::fs::remove_file(&self.file);
        profile
    }
}

fn read(file: &Path) -> Result<Profile, String> {
    let out = Command::new("perf")
        .args(["script", "-F", "ip,sym", "-i"])
        .arg(file)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("perf script: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut samples, mut user) = (0, 0);
    let mut by_symbol: HashMap<String, u64> = HashMap::new();
    for line in text.lines() {
        let mut parts = line.trim().splitn(2, ' ');
        let Some(ip) = parts.next().and_then(|ip| u64::from_str_radix(ip, 16).ok()) else {
            continue;
        };
        samples += 1;
        if ip < KERNEL_SPACE {
            user += 1;
            let symbol = parts.next().unwrap_or("[unknown]").trim();
            *by_symbol.entry(short_name(symbol)).or_default() += 1;
        }
    }
    if samples == 0 {
        return Err("perf recorded no sample of the server thread".into());
    }
    let mut top: Vec<(String, u64)> = by_symbol.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let top_user = top
        .into_iter()
        .take(8)
        .map(|(name, n)| (name, n as f64 / user.max(1) as f64))
        .collect();
    Ok(Profile {
        samples,
        user,
        top_user,
    })
}

/// A symbol without its hash suffix, its offset and its generic arguments (the `<Type as Trait>`
/// that opens a trait method's name is kept, without its own generics), cut to a length a table
/// can hold.
fn short_name(symbol: &str) -> String {
    let symbol = symbol.split("+0x").next().unwrap_or(symbol);
    let symbol = match symbol.rfind("::h") {
        Some(at) if symbol[at + 3..].chars().all(|c| c.is_ascii_hexdigit()) => &symbol[..at],
        _ => symbol,
    };
    let keep = usize::from(symbol.starts_with('<'));
    let mut out = String::new();
    let mut depth = 0;
    for c in symbol.chars() {
        match c {
            '<' => {
                depth += 1;
                if depth <= keep {
                    out.push(c);
                } else if depth == keep + 1 {
                    out.push_str("<…>");
                }
            }
            '>' if depth > 0 => {
                if depth <= keep {
                    out.push(c);
                }
                depth -= 1;
            }
            _ if depth <= keep => out.push(c),
            _ => {}
        }
    }
    let out = shorten_paths(&out);
    if out.chars().count() > 70 {
        return out.chars().take(69).collect::<String>() + "…";
    }
    out
}

/// Keeps the last segment of every path inside `<…>` and the last three of the others:
/// `<hyper::proto::h1::role::Server as hyper::proto::h1::Http1Transaction>::encode` becomes
/// `<Server as Http1Transaction>::encode`.
fn shorten_paths(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut path = String::new();
    let flush = |path: &mut String, out: &mut String, depth: usize| {
        let segments: Vec<&str> = path.split("::").collect();
        let keep = if depth > 0 { 1 } else { 3 };
        out.push_str(&segments[segments.len().saturating_sub(keep)..].join("::"));
        path.clear();
    };
    for c in name.chars() {
        if matches!(c, '<' | '>' | ' ' | ',') {
            flush(&mut path, &mut out, depth);
            out.push(c);
            match c {
                '<' => depth += 1,
                '>' => depth = depth.saturating_sub(1),
                _ => {}
            }
        } else {
            path.push(c);
        }
    }
    flush(&mut path, &mut out, depth);
    out
}
