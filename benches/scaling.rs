//! Every core: how the runtime scales with workers, and what crossing between workers costs.
//!
//! ```text
//! cargo bench --bench scaling               # every section: 1½ minutes, more on a busy machine
//! BENCH_QUICK=1 cargo bench --bench scaling # a smoke run of about 5 seconds
//! cargo bench --bench scaling -- echo       # only the sections whose name contains "echo"
//! ```
//!
//! Sections, in order:
//! - `echo`: an echo server with ~20 µs of CPU work per message, 1 and 2 workers, against tokio
//!   `multi_thread` and monoio (`scaling/echo*.rs`);
//! - `sharding`: how `SO_REUSEPORT` spreads connections over up to 64 listeners;
//! - `cross`: `Handle::spawn_on` round trips and a ping-pong between workers, against tokio;
//! - `wake`: waking another thread's parked io_uring with an eventfd or with `MSG_RING`;
//! - `memory`: resident memory of an idle runtime of 1 to 16 workers.
//!
//! Every table is printed as markdown; BENCHMARKS.md explains the method and docs/scaling.md what
//! the figures mean for machines with many more cores.

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
