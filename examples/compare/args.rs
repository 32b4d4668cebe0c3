//! The command line.

use std::path::PathBuf;

use crate::scenarios::{self, Scenario};

/// What the user asked for.
#[derive(Debug)]
pub struct Options {
    /// CI-sized runs: shorter, one repetition, fewer connections, a smaller file.
    pub quick: bool,
    /// The scenarios to run, in table order.
    pub scenarios: Vec<Scenario>,
    /// Print JSON instead of the table.
    pub json: bool,
    /// Also write an SVG chart here.
    pub svg: Option<PathBuf>,
}

const USAGE: &str = "\
usage: compare [--quick] [--scenario NAME[,NAME...]]... [--json] [--svg OUT.svg]

Runs the same echo server on the epoll and on the io_uring backend, drives both with the
built-in load generator over the same scenarios, and prints one table.

  --quick            CI-sized: 0.3 s per run, one run each, 100 instead of 1000 connections,
                     a 16 MiB instead of a 256 MiB file
  --scenario NAME    run only these scenarios (repeatable, or comma-separated); names:
                     {names}
  --json             print the results as JSON (progress still goes to stderr)
  --svg OUT.svg      also draw the results as a bar chart into OUT.svg
  -h, --help         this text";

/// Parses `std::env::args()`; prints the usage and exits on `--help` or a mistake.
pub fn parse() -> Options {
    match parse_from(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{}", usage());
            std::process::exit(0);
        }
        Err(message) => {
            eprintln!("compare: {message}\n\n{}", usage());
            std::process::exit(2);
        }
    }
}

fn usage() -> String {
    let names: Vec<_> = scenarios::all(false).iter().map(|s| s.id).collect();
    USAGE.replace("{names}", &names.join(", "))
}

/// `Ok(None)` means "help was asked for".
fn parse_from(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut quick = false;
    let mut json = false;
    let mut svg = None;
    let mut wanted: Vec<String> = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        // Accept both `--svg out.svg` and `--svg=out.svg`.
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline_value
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--quick" => quick = true,
            "--json" => json = true,
            "--svg" => svg = Some(PathBuf::from(value("--svg")?)),
            "--scenario" => {
                let names = value("--scenario")?;
                wanted.extend(names.split(',').map(|n| n.trim().to_ascii_lowercase()));
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let all = scenarios::all(quick);
    for name in &wanted {
        if !all.iter().any(|s| s.id.eq_ignore_ascii_case(name)) {
            return Err(format!("unknown scenario {name:?}"));
        }
    }
    let scenarios = all
        .into_iter()
        .filter(|s| wanted.is_empty() || wanted.iter().any(|w| s.id.eq_ignore_ascii_case(w)))
        .collect();
    Ok(Some(Options {
        quick,
        scenarios,
        json,
        svg,
    }))
}
