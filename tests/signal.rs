//! `runtime::signal` on every compiled backend, with real process-directed signals (`kill` on our
//! own pid). This test has its own `main` (`harness = false` in Cargo.toml): the process has one
//! thread, so a signal sent to the process can only reach the runtime's thread — with the test
//! harness's threads around, a process-directed `SIGINT` could land on one of them and end the run.

use std::io;
use std::time::Duration;

use runtime::signal::{ctrl_c, signal, SignalKind};
use runtime::time::timeout;
use runtime::{Backend, Runtime};

const LIMIT: Duration = Duration::from_secs(10);

fn raise(kind: SignalKind) {
    // SAFETY: kill takes no pointers; the target is this very process.
    let rc = unsafe { libc::kill(libc::getpid(), kind.as_raw_value()) };
    assert_eq!(rc, 0, "kill: {}", io::Error::last_os_error());
}

/// Two tasks waiting for the same signal are both woken by one delivery, and again by the next.
async fn two_waiters_see_each_delivery() {
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            runtime::spawn(async move {
                for _ in 0..2 {
                    timeout(LIMIT, usr1.recv()).await.expect("delivered");
                }
            })
        })
        .collect();
    let mut probe = signal(SignalKind::user_defined1()).unwrap();
    for _ in 0..2 {
        runtime::task::yield_now().await; // the waiters wait now
        raise(SignalKind::user_defined1());
        timeout(LIMIT, probe.recv()).await.expect("delivered");
    }
    for w in waiters {
        w.await.unwrap();
    }
}

/// `ctrl_c()` resolves on SIGINT (instead of the process ending).
async fn ctrl_c_resolves_on_sigint() {
    let waiter = runtime::spawn(async { timeout(LIMIT, ctrl_c()).await });
    runtime::task::yield_now().await; // ctrl_c has subscribed
    raise(SignalKind::interrupt());
    waiter.await.unwrap().expect("delivered").unwrap();
}

/// Signals that cannot be waited for are refused with `InvalidInput`.
async fn forbidden_signals_are_refused() {
    for kind in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, 1000] {
        let err = signal(SignalKind::from_raw(kind)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {kind}");
    }
}

fn main() {
    let mut passed = 0;
    for &backend in Backend::compiled() {
        let rt = match Runtime::builder().backend(backend).build() {
            Ok(rt) => rt,
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                eprintln!("signal: skipped on {backend}: {e}");
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        rt.block_on(two_waiters_see_each_delivery());
        rt.block_on(ctrl_c_resolves_on_sigint());
        rt.block_on(forbidden_signals_are_refused());
        println!("signal on {backend}: ok");
        passed += 3;
    }
    println!("signal: {passed} passed, 0 failed");
}
