//! The frame the echo and HTTP load benchmarks share: how long each run lasts, the set-up line
//! under the title, running every scenario over the contenders, and finding a contender's row.
//!
//! Each scenario's outcome is one row per contender, in contender order: `Ok` with what its
//! repetitions pooled into, or `Err` with why it could not run.

use std::time::Duration;

use super::{interleave, Settings};

/// One scenario's rows, in contender order.
pub type Rows<R> = Vec<Result<R, String>>;

/// The length of one run: `var` (seconds) if set, else `full` (or `quick` under `BENCH_QUICK=1`).
pub fn run_length(settings: &Settings, var: &str, full: f64, quick: f64) -> Duration {
    Duration::from_secs_f64(
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(settings.pick(full, quick)),
    )
}

/// The line under the title saying where the server and the load generator run, how long each
/// run lasts, and then `load` (how the load generator drives the connections).
pub fn setup_line(
    server_core: usize,
    client_core: usize,
    pinned: bool,
    run_for: Duration,
    load: &str,
) -> String {
    format!(
        "server on core {server_core}, load generator on core {client_core}{}, {run_for:?} per \
         run, {load}\n",
        if pinned {
            ""
        } else {
            " (pinning failed: threads float)"
        },
    )
}

/// Runs every scenario that `settings` wants: `measure` each contender `settings.reps` times
/// (interleaved), pools each contender's samples with `pool`, and hands the rows to `print`
/// before going on to the next scenario. Returns every scenario run with its rows.
pub fn run_scenarios<S: Copy, C: Copy, T, R>(
    settings: &Settings,
    scenarios: &[S],
    name: impl Fn(S) -> String,
    contenders: &[C],
    mut measure: impl FnMut(C, S) -> Result<T, String>,
    pool: impl Fn(&[T]) -> R,
    mut print: impl FnMut(S, &[Result<R, String>]),
) -> Vec<(S, Rows<R>)> {
    let mut results = Vec::new();
    for &scenario in scenarios {
        if !settings.wants(&name(scenario)) {
            continue;
        }
        let outcomes = interleave(contenders, settings.reps, |&c| measure(c, scenario));
        let rows: Rows<R> = outcomes.into_iter().map(|o| o.map(|s| pool(&s))).collect();
        print(scenario, &rows);
        results.push((scenario, rows));
    }
    results
}

/// The row of the first contender that `pick` accepts, if it ran.
pub fn row_of<'a, C: Copy, R>(
    contenders: &[C],
    rows: &'a [Result<R, String>],
    pick: impl Fn(C) -> bool,
) -> Option<&'a R> {
    let i = contenders.iter().position(|&c| pick(c))?;
    rows[i].as_ref().ok()
}
