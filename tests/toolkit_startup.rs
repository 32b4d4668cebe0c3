//! When `#[runtime::main]` cannot build its runtime (here: io_uring required but refused, which
//! `RUNTIME_IO_URING_DISABLED=1` simulates), the program says why in plain words on stderr and
//! exits with status 1, as a `main` returning `Err` does: no panic message, no `Debug` dump, no
//! backtrace. A helper function under the attribute panics with the same plain message instead
//! (a library function should not end the process).
//!
//! The simulation is an environment variable, so each case runs in a child process: this test
//! binary again, asked for one test.

use std::process::{Command, Output};

/// Set in a child process to the name of the case it must run.
const CHILD_ENV: &str = "TOOLKIT_STARTUP_CHILD";

mod program {
    /// A program's `main`, pinned to io_uring.
    #[runtime::main(backend = "io_uring")]
    pub async fn main() {
        unreachable!("the runtime never starts");
    }

    /// A helper under the same attribute.
    #[runtime::main(backend = "io_uring")]
    pub async fn helper() -> u32 {
        unreachable!("the runtime never starts");
    }
}

/// Runs `case` in a child process where io_uring is refused.
fn run_child(case: &str) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, case)
        .env("RUNTIME_IO_URING_DISABLED", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

/// The reason the runtime gives, in plain words (the simulated refusal names its cause).
fn names_the_reason(stderr: &str) -> bool {
    let compiled = runtime::Backend::compiled().contains(&runtime::Backend::IoUring);
    stderr.contains("cannot start the runtime")
        && (!compiled || stderr.contains("RUNTIME_IO_URING_DISABLED"))
}

#[test]
fn main_that_cannot_start_says_why_and_exits_with_status_1() {
    let output = run_child("main");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(names_the_reason(&stderr), "stderr:\n{stderr}");
    for noise in ["panicked", "backtrace", "Custom {", "kind: "] {
        assert!(!stderr.contains(noise), "{noise:?} in stderr:\n{stderr}");
    }
}

#[test]
fn helper_that_cannot_start_panics_with_the_reason() {
    let output = run_child("helper");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("1 passed"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

/// The cases themselves; does nothing unless started by the tests above.
#[test]
fn child() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("main") => program::main(),
        Ok("helper") => {
            let panic = std::panic::catch_unwind(program::helper).expect_err("no runtime");
            let message = panic.downcast_ref::<String>().expect("a formatted message");
            assert!(names_the_reason(message), "{message}");
            assert!(!message.contains("Custom {"), "{message}");
        }
        _ => {}
    }
}
