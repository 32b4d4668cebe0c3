//! What is measured: the scenarios, and how long each one runs.

use std::time::Duration;

/// The load of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Echo: `connections` connections, each with one `payload`-byte message in flight.
    Echo { payload: usize, connections: usize },
    /// Random `block`-byte reads from a `file_size`-byte file, `depth` in flight.
    FileReads {
        block: usize,
        depth: usize,
        file_size: u64,
    },
}

/// One row pair of the table.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The name `--scenario` takes.
    pub id: &'static str,
    /// The name the table shows.
    pub label: String,
    /// What runs.
    pub workload: Workload,
}

impl Scenario {
    /// Whether this is the file scenario, where a "message" is one read.
    pub fn is_file(&self) -> bool {
        matches!(self.workload, Workload::FileReads { .. })
    }
}

/// How long and how often each scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Unmeasured load before each measured run.
    pub warmup: Duration,
    /// The measured run.
    pub measure: Duration,
    /// Measured runs per scenario and backend (their median is reported).
    pub reps: usize,
}

impl Plan {
    /// The default (about 50 s for everything, both backends) or the `--quick` one (a few s).
    pub fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                warmup: Duration::from_millis(50),
                measure: Duration::from_millis(300),
                reps: 1,
            }
        } else {
            Plan {
                warmup: Duration::from_millis(200),
                measure: Duration::from_secs(2),
                reps: 2,
            }
        }
    }
}

const KIB: usize = 1024;
const MIB: u64 = 1024 * 1024;

/// Every scenario, in table order; `quick` shrinks the biggest ones.
pub fn all(quick: bool) -> Vec<Scenario> {
    let many = if quick { 100 } else { 1000 };
    let file_size = if quick { 16 * MIB } else { 256 * MIB };
    let echo = |id, payload: usize, connections: usize| Scenario {
        id,
        label: format!("{} × {connections}", bytes(payload as u64)),
        workload: Workload::Echo {
            payload,
            connections,
        },
    };
    vec![
        echo("64B-x1", 64, 1),
        echo("64B-x100", 64, 100),
        echo("1KiB-x1000", KIB, many),
        echo("16KiB-x50", 16 * KIB, 50),
        Scenario {
            id: "file",
            label: format!("file: 4 KiB rand read, QD 64, {}", bytes(file_size)),
            workload: Workload::FileReads {
                block: 4 * KIB,
                depth: 64,
                file_size,
            },
        },
    ]
}

/// `64 B`, `1 KiB`, `256 MiB`: sizes the way people say them.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= MIB && n % MIB == 0 => format!("{} MiB", n / MIB),
        n if n >= KIB as u64 && n % KIB as u64 == 0 => format!("{} KiB", n / KIB as u64),
        n => format!("{n} B"),
    }
}
