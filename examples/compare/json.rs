//! The results as JSON, written by hand (the shapes are few and fixed, so no serializer is needed).
//!
//! ```text
//! { "kernel": "...", "cpus": 2, "load_average": "0.42",
//!   "pinned": {"server": 0, "client": 1} | null, "quick": false,
//!   "measure_secs": 2.0, "warmup_secs": 0.2, "reps": 2,
//!   "unavailable": [{"backend": "io_uring", "reason": "..."}],
//!   "scenarios": [{ "id": "64B-x100", "label": "64 B × 100", "kind": "echo", ...,
//!                   "results": {"epoll": {"median": SAMPLE, "runs": [SAMPLE, ...]} | {"error": "..."}},
//!                   "ratio_io_uring_to_epoll": {"rate": 1.1, "cpu_us": 0.9, "syscalls": 0.02} | null }] }
//! SAMPLE = { "rate_per_sec", "p50_us", "p99_us", "syscalls_per_message": {"read": .., ..., "total": ..},
//!            "user_us_per_message", "sys_us_per_message", "receives_per_message",
//!            "server_busy", "client_busy" (fractions of the time on the CPU), "messages", "errors" }
//! ```

use std::fmt::Write;

use crate::sample::{ratio, Outcome, Sample, KINDS};
use crate::scenarios::Workload;
use crate::Setup;

/// The whole document, pretty enough to read (one scenario per block).
pub fn render(setup: &Setup, outcomes: &[Outcome]) -> String {
    let pinned = match setup.pinned {
        Some((server, client)) => format!("{{\"server\": {server}, \"client\": {client}}}"),
        None => "null".into(),
    };
    let unavailable: Vec<String> = setup
        .unavailable
        .iter()
        .map(|(backend, reason)| {
            format!(
                "{{\"backend\": {}, \"reason\": {}}}",
                string(backend.name()),
                string(reason)
            )
        })
        .collect();
    let scenarios: Vec<String> = outcomes.iter().map(scenario).collect();
    format!(
        "{{\n  \"kernel\": {},\n  \"cpus\": {},\n  \"load_average\": {},\n  \"pinned\": {pinned},\n  \"quick\": {},\n  \
         \"measure_secs\": {},\n  \"warmup_secs\": {},\n  \"reps\": {},\n  \
         \"unavailable\": [{}],\n  \"scenarios\": [\n    {}\n  ]\n}}",
        string(&setup.kernel),
        setup.cpus,
        string(&setup.load),
        setup.quick,
        number(setup.plan.measure.as_secs_f64()),
        number(setup.plan.warmup.as_secs_f64()),
        setup.plan.reps,
        unavailable.join(", "),
        scenarios.join(",\n    "),
    )
}

fn scenario(o: &Outcome) -> String {
    let mut out = format!(
        "{{\"id\": {}, \"label\": {}, ",
        string(o.scenario.id),
        string(&o.scenario.label)
    );
    match o.scenario.workload {
        Workload::Echo {
            payload,
            connections,
        } => write!(
            out,
            "\"kind\": \"echo\", \"payload\": {payload}, \"connections\": {connections}, \"depth\": 1, "
        ),
        Workload::FileReads {
            block,
            depth,
            file_size,
        } => write!(
            out,
            "\"kind\": \"file\", \"block\": {block}, \"depth\": {depth}, \"file_size\": {file_size}, "
        ),
    }
    .expect("writing to a String cannot fail");
    let results: Vec<String> = o
        .measured
        .iter()
        .map(|m| {
            let body = match &m.result {
                Ok(runs) => {
                    let each: Vec<String> = runs.each.iter().map(sample).collect();
                    format!(
                        "{{\"median\": {}, \"runs\": [{}]}}",
                        sample(&runs.median),
                        each.join(", ")
                    )
                }
                Err(e) => format!("{{\"error\": {}}}", string(e)),
            };
            format!("\n      {}: {body}", string(m.backend.name()))
        })
        .collect();
    let ratios = match o.pair() {
        Some((e, u)) => format!(
            "{{\"rate\": {}, \"cpu_us\": {}, \"syscalls\": {}}}",
            optional(ratio(u.rate, e.rate)),
            optional(ratio(u.cpu_us(), e.cpu_us())),
            optional(ratio(u.total_syscalls(), e.total_syscalls())),
        ),
        None => "null".into(),
    };
    write!(
        out,
        "\"results\": {{{}\n    }},\n     \"ratio_io_uring_to_epoll\": {ratios}}}",
        results.join(",")
    )
    .expect("writing to a String cannot fail");
    out
}

fn sample(s: &Sample) -> String {
    let kinds: Vec<String> = KINDS
        .iter()
        .zip(s.syscalls)
        .map(|(k, n)| format!("\"{k}\": {}", number(n)))
        .collect();
    format!(
        "{{\"rate_per_sec\": {}, \"p50_us\": {}, \"p99_us\": {}, \"syscalls_per_message\": \
         {{{}, \"total\": {}}}, \"user_us_per_message\": {}, \"sys_us_per_message\": {}, \
         \"receives_per_message\": {}, \"server_busy\": {}, \"client_busy\": {}, \
         \"messages\": {}, \"errors\": {}}}",
        number(s.rate),
        number(s.p50_us),
        number(s.p99_us),
        kinds.join(", "),
        number(s.total_syscalls()),
        number(s.user_us),
        number(s.sys_us),
        number(s.receives),
        number(s.server_busy),
        number(s.client_busy),
        s.messages,
        s.errors
    )
}

/// A JSON number; JSON has no NaN or infinity, so those become `null`.
fn number(x: f64) -> String {
    if x.is_finite() {
        // Six significant-ish digits are plenty for measurements, and keep the file readable.
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" {
            "0".into()
        } else {
            s.to_string()
        }
    } else {
        "null".into()
    }
}

fn optional(x: Option<f64>) -> String {
    x.map_or("null".into(), number)
}

/// A JSON string literal, escaped.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                write!(out, "\\u{:04x}", c as u32).expect("writing to a String cannot fail")
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
