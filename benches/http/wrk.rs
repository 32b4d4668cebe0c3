//! A cross-check with `wrk` (when installed: `apt-get install -y wrk`): another, independent load
//! generator against the same servers, so that a figure that only `loadgen` sees can be caught.
//!
//! `wrk -t1 -c C -d S --latency http://ADDR/` runs on the bench's main thread's core (a child
//! process inherits the CPU affinity of the thread that starts it: core 1), with one thread and
//! `C` keep-alive connections, `GET /` only.

use std::net::SocketAddr;
use std::process::Command;

/// Why wrk cannot be used here, or `None` when it can.
pub fn unavailable() -> Option<String> {
    match Command::new("wrk").arg("--version").output() {
        // `wrk --version` prints its banner and exits with 1.
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("wrk") => None,
        Ok(_) => Some("`wrk --version` did not answer".into()),
        Err(_) => Some("`wrk` is not installed (Debian: apt-get install -y wrk)".into()),
    }
}

/// What wrk reported.
#[derive(Debug, Clone, Copy)]
pub struct WrkReport {
    pub requests_per_sec: f64,
    /// Seconds.
    pub p99: f64,
    /// Socket errors plus non-2xx answers.
    pub errors: u64,
}

/// Runs wrk against `addr` with `conns` connections for `secs` whole seconds.
pub fn run(addr: SocketAddr, conns: usize, secs: u32) -> Result<WrkReport, String> {
    let out = Command::new("wrk")
        .args(["-t1", "--latency"])
        .arg(format!("-c{conns}"))
        .arg(format!("-d{secs}s"))
        .arg(format!("http://{addr}/"))
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("wrk exited with {}: {}", out.status, text.trim()));
    }
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
    };
    let requests_per_sec = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk's output: {}", text.trim()))?;
    let p99 = field("99%")
        .and_then(duration)
        .ok_or_else(|| format!("no 99% latency in wrk's output: {}", text.trim()))?;
    let socket_errors = field("Socket errors:").map_or(0, |v| {
        v.split(',')
            .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
            .sum()
    });
    let non_2xx = field("Non-2xx or 3xx responses:").map_or(0, |v| v.parse().unwrap_or(0));
    Ok(WrkReport {
        requests_per_sec,
        p99,
        errors: socket_errors + non_2xx,
    })
}

/// `812.00us`, `1.23ms`, `2.00s` → seconds.
fn duration(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        _ => return None,
    };
    Some(number.parse::<f64>().ok()? * scale)
}
