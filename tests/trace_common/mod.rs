//! What the trace tests share: traced runtimes on every backend, and a reader of the trace file
//! that checks its shape (every begin has its end, every flow both ends).

#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use runtime::{Backend, Builder, Runtime};
use serde_json::Value;

/// A path in the temporary directory unique to this process and `name`.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("runtime-trace-{}-{name}.json", std::process::id()))
}

/// A traced runtime (made by `configure` from a builder that traces to a fresh file) on every
/// compiled backend the kernel allows, with the path of its trace.
pub fn traced_runtimes(
    name: &str,
    configure: impl Fn(Builder) -> Builder,
) -> Vec<(Backend, Runtime, PathBuf)> {
    Backend::compiled()
        .iter()
        .filter_map(|&backend| {
            let path = temp_path(&format!("{name}-{backend}"));
            let builder = configure(Runtime::builder().backend(backend).trace(&path));
            match builder.build() {
                Ok(rt) => Some((backend, rt, path)),
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    eprintln!("{name}: skipped on {backend}: {e}");
                    None
                }
                Err(e) => panic!("{name}: {backend}: {e}"),
            }
        })
        .collect()
}

/// A trace file, read back.
pub struct Trace {
    pub events: Vec<Value>,
    pub other: Value,
}

impl Trace {
    /// Reads and parses `path` (and removes it), checking the format's shape: an object with a
    /// `traceEvents` array whose events all have `ph`, `pid` and, but for the process's name, `tid`.
    pub fn load(path: &Path) -> Trace {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let _ = std::fs::remove_file(path);
        let mut json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let events = json["traceEvents"]
            .as_array()
            .expect("a traceEvents array")
            .clone();
        for event in &events {
            let ph = event["ph"].as_str().expect("every event has a phase");
            assert!(event["pid"].is_u64(), "no pid: {event}");
            if event["name"] != "process_name" {
                assert!(event["tid"].is_u64(), "no tid: {event}");
            }
            if ph != "M" {
                assert!(event["ts"].is_number(), "no timestamp: {event}");
            }
        }
        Trace {
            events,
            other: json["otherData"].take(),
        }
    }

    /// Events of phase `ph` whose name starts with `prefix`.
    pub fn named<'a>(&'a self, ph: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a Value> {
        self.events.iter().filter(move |e| {
            e["ph"] == ph && e["name"].as_str().is_some_and(|n| n.starts_with(prefix))
        })
    }

    /// How many events of phase `ph` have a name starting with `prefix`.
    pub fn count(&self, ph: &str, prefix: &str) -> u64 {
        self.named(ph, prefix).count() as u64
    }

    /// The name of each thread (lane), by tid.
    pub fn threads(&self) -> HashMap<u64, String> {
        self.named("M", "thread_name")
            .map(|e| {
                let name = e["args"]["name"].as_str().expect("a thread name");
                (e["tid"].as_u64().expect("a tid"), name.to_string())
            })
            .collect()
    }

    /// The tid of the thread named `name`.
    pub fn tid(&self, name: &str) -> u64 {
        let threads = self.threads();
        let found = threads.iter().find(|(_, n)| n.as_str() == name);
        *found
            .unwrap_or_else(|| panic!("no thread {name:?} in {threads:?}"))
            .0
    }

    /// Checks that on every thread each `E` ends the innermost open `B`, of the same name, no
    /// earlier than it began, and that nothing stays open; and that every flow has one start
    /// and one finish. Returns how many slices there were.
    pub fn check_nesting(&self) -> usize {
        let mut open: HashMap<u64, Vec<(&str, f64)>> = HashMap::new();
        let mut slices = 0;
        let mut flows: HashMap<u64, (u32, u32)> = HashMap::new();
        for event in &self.events {
            let tid = event["tid"].as_u64().unwrap_or(0);
            let ts = event["ts"].as_f64().unwrap_or(0.0);
            let name = event["name"].as_str().unwrap_or("");
            match event["ph"].as_str() {
                Some("B") => open.entry(tid).or_default().push((name, ts)),
                Some("E") => {
                    let (begun, at) = open
                        .get_mut(&tid)
                        .and_then(Vec::pop)
                        .unwrap_or_else(|| panic!("an end with no begin: {event}"));
                    assert_eq!(begun, name, "an end closes another slice: {event}");
                    assert!(ts >= at, "a slice ends before it begins: {event}");
                    slices += 1;
                }
                Some("s") => flows.entry(event["id"].as_u64().unwrap()).or_default().0 += 1,
                Some("f") => flows.entry(event["id"].as_u64().unwrap()).or_default().1 += 1,
                _ => {}
            }
        }
        for (tid, stack) in open {
            assert!(
                stack.is_empty(),
                "thread {tid} has begins without ends: {stack:?}"
            );
        }
        for (id, ends) in flows {
            assert!(
                ends.0 == 1 && ends.1 <= 1,
                "flow {id} has {ends:?} starts/finishes"
            );
        }
        slices
    }

    /// What `otherData` says about the thread named `name`: (events kept, events dropped).
    pub fn kept_and_dropped(&self, name: &str) -> (u64, u64) {
        let threads = self.other["threads"].as_array().expect("a threads list");
        let thread = threads
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no thread {name:?} in otherData"));
        (
            thread["events"].as_u64().unwrap(),
            thread["dropped"].as_u64().unwrap(),
        )
    }
}
