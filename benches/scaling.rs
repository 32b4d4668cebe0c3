//! Every core: how the runtime scales with workers, and what crossing between workers costs.
//!
//! ```text
//! cargo bench --bench scaling               # every section, about 3 minutes
//! BENCH_QUICK=1 cargo bench --bench scaling # a smoke run of a few seconds
//! cargo bench --bench scaling -- echo       # only the sections whose name contains "echo"
//! ```
//!
//! Sections: `echo` (1 and 2 workers with the server as the bottleneck).

mod common;

#[path = "scaling/cross_worker.rs"]
mod cross_worker;
#[path = "scaling/echo.rs"]
mod echo;
#[path = "scaling/echo_monoio.rs"]
mod echo_monoio;
#[path = "scaling/echo_runtime.rs"]
mod echo_runtime;
#[path = "scaling/echo_server.rs"]
mod echo_server;
#[path = "scaling/echo_tokio.rs"]
mod echo_tokio;
#[path = "scaling/memory.rs"]
mod memory;
#[path = "scaling/sharding.rs"]
mod sharding;
#[path = "scaling/threads.rs"]
mod threads;
#[path = "scaling/wake.rs"]
mod wake;
#[path = "scaling/work.rs"]
mod work;

use std::time::Duration;

use common::{sys, Settings};

/// Every echo server's read buffer.
pub const BUFFER: usize = 16 * 1024;

fn main() {
    if let Ok(spec) = std::env::var(memory::CHILD) {
        return memory::child(&spec);
    }
    let settings = Settings::from_env(5);
    sys::raise_fd_limit();
    let work = work::Work::calibrate(Duration::from_micros(20));
    println!(
        "## Every core: scaling with workers\n\n{}\n",
        settings.describe()
    );
    if settings.wants("echo") {
        echo::run(&settings, work);
    }
    if settings.wants("sharding") {
        sharding::run(&settings);
    }
    if settings.wants("cross") {
        cross_worker::run(&settings);
    }
    if settings.wants("wake") {
        wake::run(&settings);
    }
    if settings.wants("memory") {
        memory::run(&settings);
    }
}
