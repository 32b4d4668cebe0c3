//! Command-line front end: `loadgen --addr 127.0.0.1:8080 --connections 100 --size 64
//! --depth 1 (--duration 5 | --messages 100000)` for an echo server, with `--http get` or
//! `--http post` for an HTTP/1.1 server (`GET /`, or `POST /echo` with `--size` bytes of body).
//!
//! Prints the report in plain words. Exits with 0 on a clean run, 1 if the server
//! answered wrongly or dropped connections, 2 if the run could not be done at all.

use loadgen::http::Request;
use loadgen::{Config, Limit};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: loadgen --addr HOST:PORT [--http get|post] [--connections C] [--size S] [--depth D]
               [--duration SECONDS | --messages N] [--idle-timeout SECONDS]

  --addr          server to load (required): an echo server, or with --http an HTTP/1.1 one
  --http          get: GET / (expects Hello, world!); post: POST /echo with --size bytes
                  of body (expects them back); keep-alive, one request in flight per connection
  --connections   connections opened before the run starts   (default 100)
  --size          bytes per message (echo) or request body (--http post)  (default 64)
  --depth         messages in flight per connection, echo only (default 1)
  --duration      run for this many seconds, may be decimal  (default 5)
  --messages      instead, stop after N echoed messages (answered requests) in total
  --idle-timeout  give up after this long without any echo   (default 10)";

/// Everything the command line can set.
struct Args {
    config: Config,
    /// `Some` with `--http`: the HTTP request to send instead of echo messages.
    http: Option<Request>,
    idle_timeout: Duration,
}

/// Parses `value` for `flag`, with an error message naming the flag.
fn parse<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: cannot understand {value:?}"))
}

/// Parses seconds such as `5` or `0.25` into a duration.
fn seconds(flag: &str, value: Option<String>) -> Result<Duration, String> {
    let secs: f64 = parse(flag, value)?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{flag}: {secs} is not a duration"))
}

/// Reads the command line; `Err("")` means help was asked for.
fn parse_args() -> Result<Args, String> {
    let mut addr = None;
    let mut connections = 100;
    let mut payload = 64;
    let mut depth = 1;
    let mut limit = Limit::Duration(Duration::from_secs(5));
    let mut idle_timeout = loadgen::DEFAULT_IDLE_TIMEOUT;
    let mut http = None;

    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--addr" => addr = Some(parse(&flag, args.next())?),
            "--http" => http = Some(args.next().ok_or("--http needs get or post")?),
            "--connections" => connections = parse(&flag, args.next())?,
            "--size" => payload = parse(&flag, args.next())?,
            "--depth" => depth = parse(&flag, args.next())?,
            "--duration" => limit = Limit::Duration(seconds(&flag, args.next())?),
            "--messages" => limit = Limit::Messages(parse(&flag, args.next())?),
            "--idle-timeout" => idle_timeout = seconds(&flag, args.next())?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let addr = addr.ok_or("--addr is required")?;
    let http = match http.as_deref() {
        None => None,
        Some(_) if depth != 1 => {
            return Err("--http sends one request at a time: no --depth".into())
        }
        Some("get") => Some(Request::Get),
        Some("post") => Some(Request::Post { body: payload }),
        Some(other) => return Err(format!("--http: {other:?} is neither get nor post")),
    };
    Ok(Args {
        config: Config {
            addr,
            connections,
            payload,
            depth,
            limit,
        },
        http,
        idle_timeout,
    })
}

/// Runs the load once and prints the report.
fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("{problem}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let cfg = &args.config;
    let until = match cfg.limit {
        Limit::Duration(d) => format!("for {:.3} s", d.as_secs_f64()),
        Limit::Messages(n) => format!("until {n} messages"),
    };
    let outcome = match args.http {
        None => {
            println!(
                "loading {} with {} connections, {} byte messages, depth {}, {until}",
                cfg.addr, cfg.connections, cfg.payload, cfg.depth
            );
            loadgen::run_with_idle_timeout(cfg, args.idle_timeout)
        }
        Some(request) => {
            let what = match request {
                Request::Get => "GET /".to_string(),
                Request::Post { body } => format!("POST /echo of {body} bytes"),
            };
            println!(
                "loading {} with {} keep-alive connections, {what}, one request in flight on each, {until}",
                cfg.addr, cfg.connections
            );
            let http = loadgen::http::Config {
                addr: cfg.addr,
                connections: cfg.connections,
                request,
                limit: cfg.limit,
            };
            loadgen::http::run_with_idle_timeout(&http, args.idle_timeout)
        }
    };
    match outcome {
        Ok(report) => {
            println!("{report}");
            if report.errors == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!("the server under test answered wrongly or dropped connections");
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("run failed: {e}");
            ExitCode::from(2)
        }
    }
}
