//! Figures and tables the echo and HTTP load benchmarks print alike: CPU time in microseconds,
//! this runtime's counters pooled over the repetitions and shown per unit of work, and the
//! cells of a target check.

use super::{ratio, seconds, Spread, Table};

/// Seconds as microseconds, two decimals.
pub fn micros(s: f64) -> String {
    format!("{:.2}", s * 1e6)
}

/// `a + b`, counter by counter (`Stats` offers only subtraction, which wraps: `a - (0 - b)`).
pub fn add_stats(a: runtime::Stats, b: runtime::Stats) -> runtime::Stats {
    a - (runtime::Stats::default() - b)
}

/// Every repetition's counters summed, with the units of work (messages, requests) they cover;
/// `None` if a repetition has no counters (not this runtime).
pub fn pool_stats(
    samples: impl IntoIterator<Item = (Option<runtime::Stats>, f64)>,
) -> Option<(runtime::Stats, f64)> {
    samples.into_iter().try_fold(
        (runtime::Stats::default(), 0.0),
        |(total, n), (stats, k)| Some((add_stats(total, stats?), n + k)),
    )
}

/// Prints a table of each counter per unit of work, one row per contender that has counters (none
/// if no contender has any): `what` heads the second column, and only the counters whose
/// per-unit figure `keep` accepts show.
pub fn print_stats_mix<'a>(
    what: &str,
    totals: impl IntoIterator<Item = (&'a str, Option<&'a (runtime::Stats, f64)>)>,
    keep: impl Fn(f64) -> bool,
) {
    let mut mix = Table::new(&["server", what]);
    for (label, (stats, n)) in totals
        .into_iter()
        .filter_map(|(label, totals)| Some((label, totals?)))
    {
        let parts: Vec<String> = stats
            .fields()
            .into_iter()
            .filter(|&(_, v)| keep(v as f64 / n))
            .map(|(name, v)| format!("{name} {:.3}", v as f64 / n))
            .collect();
        mix.row(vec![label.to_string(), parts.join(", ")]);
    }
    if !mix.is_empty() {
        println!("{}", mix.render());
    }
}

/// The first cells of a contender's row: its name, its rate as median (min–max), that median
/// against the baseline's, and its p99 latency.
pub fn rate_cells(label: &str, rate: &Spread, base: Option<&Spread>, p99: f64) -> Vec<String> {
    vec![
        label.to_string(),
        rate.show(super::rate),
        ratio(rate.median, base.map(|b| b.median)),
        seconds(p99),
    ]
}

/// The "measured" and "met" cells of a target: the verdict, or `n/a` twice without one.
pub fn target_cells(verdict: Option<(String, &str)>) -> [String; 2] {
    let (measured, met) = verdict.unwrap_or_else(|| ("n/a".into(), "n/a"));
    [measured, met.to_string()]
}
