//! The results as a chart: per scenario, messages per second, syscalls per message stacked by
//! kind, and server CPU per message, epoll and io_uring side by side. Plain SVG written by hand.

use std::fmt::Write;

use runtime::Backend;

use crate::sample::{Outcome, Sample, KINDS};
use crate::table::{per_message, rate};
use crate::Setup;

const WIDTH: f64 = 1200.0;
const TOP: f64 = 96.0;
const ROW: f64 = 76.0;
const BAR: f64 = 18.0;
/// Left panel: where bars start, and their longest length.
const RATE_X: f64 = 100.0;
const RATE_LEN: f64 = 230.0;
/// Middle panel.
const SYS_X: f64 = 470.0;
const SYS_LEN: f64 = 260.0;
/// Right panel.
const CPU_X: f64 = 930.0;
const CPU_LEN: f64 = 180.0;

const BACKEND_COLOR: [(Backend, &str); 2] =
    [(Backend::Epoll, "#4c78a8"), (Backend::IoUring, "#f58518")];
/// One colour per syscall kind, in [`KINDS`] order.
const KIND_COLOR: [&str; 6] = [
    "#4c78a8", "#9ecae9", "#54a24b", "#f58518", "#b279a2", "#9d755d",
];

/// The whole SVG document.
pub fn render(setup: &Setup, outcomes: &[Outcome]) -> String {
    let height = TOP + ROW * outcomes.len() as f64 + 40.0;
    let mut svg = String::new();
    let w = &mut svg;
    line(
        w,
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">"
        ),
    );
    line(
        w,
        format!("<rect width=\"{WIDTH}\" height=\"{height}\" fill=\"white\"/>"),
    );
    let ran: Vec<&str> = setup.ran.iter().map(|b| b.name()).collect();
    text(
        w,
        20.0,
        28.0,
        "font-size=\"18\" font-weight=\"bold\"",
        &format!(
            "The same echo server: {} (Linux {})",
            ran.join(" vs "),
            setup.kernel
        ),
    );
    text(
        w,
        20.0,
        58.0,
        "font-weight=\"bold\"",
        "messages per second (higher is better)",
    );
    text(w, 20.0, 74.0, "fill=\"#666\"", "bars scaled per scenario");
    text(
        w,
        SYS_X - 80.0,
        58.0,
        "font-weight=\"bold\"",
        "syscalls per message, by kind",
    );
    legend(w, SYS_X - 80.0, 70.0);
    text(
        w,
        CPU_X - 60.0,
        58.0,
        "font-weight=\"bold\"",
        "server CPU µs per message",
    );
    text(
        w,
        CPU_X - 60.0,
        74.0,
        "fill=\"#666\"",
        "lower is better; scaled per scenario",
    );

    let max_syscalls = outcomes
        .iter()
        .flat_map(|o| BACKEND_COLOR.iter().filter_map(|(b, _)| o.median(*b)))
        .map(Sample::total_syscalls)
        .fold(0.0, f64::max);
    for (i, outcome) in outcomes.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        text(
            w,
            20.0,
            y + 14.0,
            "font-weight=\"bold\"",
            &outcome.scenario.label,
        );
        let max_of = |f: fn(&Sample) -> f64| {
            BACKEND_COLOR
                .iter()
                .filter_map(|(b, _)| outcome.median(*b))
                .map(f)
                .fold(0.0, f64::max)
        };
        let (max_rate, max_cpu) = (max_of(|s| s.rate), max_of(Sample::cpu_us));
        for (j, (backend, color)) in BACKEND_COLOR.iter().enumerate() {
            let bar_y = y + 22.0 + j as f64 * (BAR + 4.0);
            text(
                w,
                RATE_X - 8.0,
                bar_y + 13.0,
                "text-anchor=\"end\"",
                backend.name(),
            );
            text(
                w,
                SYS_X - 8.0,
                bar_y + 13.0,
                "text-anchor=\"end\"",
                backend.name(),
            );
            text(
                w,
                CPU_X - 8.0,
                bar_y + 13.0,
                "text-anchor=\"end\"",
                backend.name(),
            );
            let Some(sample) = outcome.median(*backend) else {
                let why = if setup.ran.contains(backend) {
                    "failed"
                } else {
                    "did not run"
                };
                for x in [RATE_X, SYS_X, CPU_X] {
                    text(w, x + 4.0, bar_y + 13.0, "fill=\"#999\"", why);
                }
                continue;
            };
            let len = scale(sample.rate, max_rate, RATE_LEN);
            rect(w, RATE_X, bar_y, len, color);
            text(
                w,
                RATE_X + len + 4.0,
                bar_y + 13.0,
                "",
                &format!("{}/s", rate(sample.rate)),
            );
            let mut x = SYS_X;
            for (k, &n) in sample.syscalls.iter().enumerate() {
                let len = scale(n, max_syscalls, SYS_LEN);
                if len > 0.0 {
                    rect(w, x, bar_y, len, KIND_COLOR[k]);
                    x += len;
                }
            }
            text(
                w,
                x + 4.0,
                bar_y + 13.0,
                "",
                &per_message(sample.total_syscalls()),
            );
            let len = scale(sample.cpu_us(), max_cpu, CPU_LEN);
            rect(w, CPU_X, bar_y, len, color);
            text(
                w,
                CPU_X + len + 4.0,
                bar_y + 13.0,
                "",
                &format!("{:.2}", sample.cpu_us()),
            );
        }
    }
    text(
        w,
        20.0,
        height - 14.0,
        "fill=\"#666\"",
        "Syscalls and CPU are the server thread's (runtime::stats, getrusage). File row: one \
         message = one 4 KiB read, CPU of the whole process; under epoll a pool thread adds one \
         pread per read.",
    );
    line(w, "</svg>".to_string());
    svg
}

/// `value` as a length out of `full`, where `max` gets the full length.
fn scale(value: f64, max: f64, full: f64) -> f64 {
    if max > 0.0 && value > 0.0 {
        (value / max * full).max(1.0)
    } else {
        0.0
    }
}

fn legend(w: &mut String, mut x: f64, y: f64) {
    for (kind, color) in KINDS.iter().zip(KIND_COLOR) {
        line(
            w,
            format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/>",
                y - 4.0
            ),
        );
        text(w, x + 14.0, y + 5.0, "", kind);
        x += 22.0 + 7.0 * kind.len() as f64;
    }
}

fn rect(w: &mut String, x: f64, y: f64, len: f64, color: &str) {
    line(
        w,
        format!("<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{BAR}\" fill=\"{color}\"/>"),
    );
}

fn text(w: &mut String, x: f64, y: f64, attributes: &str, content: &str) {
    line(
        w,
        format!(
            "<text x=\"{x:.1}\" y=\"{y:.1}\" {attributes}>{}</text>",
            escape(content)
        ),
    );
}

fn line(w: &mut String, s: String) {
    writeln!(w, "{s}").expect("writing to a String cannot fail");
}

/// Text content with XML's special characters escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
