//! A tiny recorder for programs that do not run on the runtime (the blocking-IO versions of the
//! downloads): it writes the same Chrome trace-event JSON as `runtime::trace`, so that one
//! renderer draws both. Each blocking syscall is a slice of category `syscall`, drawn hatched.

use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};

/// The events of one traced run.
#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    events: Mutex<Vec<Value>>,
}

impl Recorder {
    /// A recorder for the process `name`, starting its clock now.
    pub fn new(name: &str) -> Recorder {
        let recorder = Recorder {
            start: Instant::now(),
            events: Mutex::new(Vec::new()),
        };
        recorder.push(json!({"name": "process_name", "ph": "M", "pid": 1, "args": {"name": name}}));
        recorder
    }

    fn push(&self, event: Value) {
        self.events.lock().unwrap().push(event);
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_nanos() as f64 / 1000.0
    }

    /// Names the lane `tid`.
    pub fn thread(&self, tid: u64, name: &str) {
        for (what, args) in [
            ("thread_name", json!({"name": name})),
            ("thread_sort_index", json!({"sort_index": tid})),
        ] {
            self.push(json!({"name": what, "ph": "M", "pid": 1, "tid": tid, "args": args}));
        }
    }

    /// Runs `call`, a blocking syscall named `name`, on lane `tid`, as a slice; `outcome` describes
    /// what it returned.
    pub fn blocked<T>(
        &self,
        tid: u64,
        name: &str,
        call: impl FnOnce() -> T,
        outcome: impl FnOnce(&T) -> Value,
    ) -> T {
        self.push(json!({"name": name, "cat": "syscall", "ph": "B", "ts": self.now(), "pid": 1, "tid": tid, "args": {}}));
        let result = call();
        let args = outcome(&result);
        self.push(json!({"name": name, "cat": "syscall", "ph": "E", "ts": self.now(), "pid": 1, "tid": tid, "args": args}));
        result
    }

    /// Something that happened at once on lane `tid`.
    pub fn instant(&self, tid: u64, name: &str, args: Value) {
        self.push(json!({"name": name, "cat": "thread", "ph": "i", "s": "t", "ts": self.now(), "pid": 1, "tid": tid, "args": args}));
    }

    /// Writes the trace to `path`.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let events = self.events.lock().unwrap();
        let trace = json!({"traceEvents": *events, "displayTimeUnit": "ns"});
        std::fs::write(path, serde_json::to_string_pretty(&trace)?)
    }
}

/// What an IO call returned, as trace arguments.
pub fn outcome(result: &io::Result<usize>) -> Value {
    match result {
        Ok(n) => json!({"result": n}),
        Err(e) => json!({"error": e.to_string()}),
    }
}
