//! Draws traces as timelines, and makes the IO-model figures of `docs/io-models.md`.
//!
//! ```text
//! cargo run --release --example timeline                  # the figures: docs/timeline/*.svg and
//!                                                         # docs/timeline/index.html
//! cargo run --example timeline -- trace.json              # trace.svg and trace.html beside it
//! RUNTIME_TRACE=trace.json cargo run --example echo       # a trace of any program on the runtime
//! ```
//!
//! The figures: the same three simulated downloads (`timeline/downloads.rs`) done with blocking
//! IO on one thread, with a thread each, and as three tasks on the runtime's epoll and io_uring
//! backends; each run traced (the blocking ones by `timeline/recorder.rs`, the others by the
//! runtime itself) and drawn on the same time scale. Open `docs/timeline/index.html` to see them
//! side by side, with a close-up of the moment the first reply arrives: under epoll the task
//! copies it (`recv`, orange), under io_uring the kernel already has (the completion, green).
//!
//! The drawing (`timeline/svg.rs`) needs no script and no font: one row per thread, polls as
//! bars, parks as dashed gaps named by their syscall, operations as arcs from submit to
//! completion, wakes as dashed arrows to the poll they cause. Hover over anything in a browser
//! for its details.

#[path = "timeline/downloads.rs"]
mod downloads;
#[path = "timeline/html.rs"]
mod html;
#[path = "timeline/model.rs"]
mod model;
#[path = "timeline/recorder.rs"]
mod recorder;
#[path = "timeline/svg.rs"]
mod svg;

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use runtime::Backend;

use html::Section;
use model::Timeline;
use svg::{Figure, Panel};

/// How wide the figures are drawn (they scale down in the HTML page).
const WIDTH: f64 = 960.0;

/// How the downloads are done.
enum Way {
    OneThread,
    ThreadEach,
    Runtime(Backend),
}

/// One of the four runs.
struct Run {
    /// File stem under `docs/timeline/`.
    stem: &'static str,
    title: &'static str,
    timeline: Timeline,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => figures(),
        [trace] if !trace.starts_with('-') => render_file(Path::new(trace)),
        _ => Err("usage: timeline [trace.json]".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("timeline: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads and parses the trace at `path`.
fn load(path: &Path) -> Result<Timeline, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Timeline::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Renders one trace file as `name.svg` and `name.html` beside it.
fn render_file(path: &Path) -> Result<(), String> {
    let timeline = load(path)?;
    let title = format!("{} — {}", path.display(), timeline.process);
    let figure = Figure {
        id: "trace",
        title: &title,
        timeline: &timeline,
        panels: vec![Panel {
            heading: format!(
                "The whole trace ({})",
                svg::duration(timeline.end - timeline.start)
            ),
            from: timeline.start,
            to: timeline.end,
        }],
        width: WIDTH * 1.5,
        origin: timeline.start,
    };
    let drawing = svg::render(&figure);
    write(&path.with_extension("svg"), &drawing)?;
    let section = Section {
        heading: timeline.process.clone(),
        text: String::new(),
        figures: vec![drawing],
    };
    write(
        &path.with_extension("html"),
        &html::page(&title, "", &[section]),
    )
}

/// Runs the four downloads, traces and draws them.
fn figures() -> Result<(), String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/timeline");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let addrs = downloads::start_servers().map_err(|e| format!("starting the servers: {e}"))?;
    let trace = |stem: &str| dir.join(format!("{stem}.trace.json"));
    let mut runs = Vec::new();
    let mut missing = Vec::new();
    let plans = [
        (
            "blocking",
            "1. Blocking IO, one thread: the downloads one after another",
            Way::OneThread,
        ),
        (
            "threads",
            "2. Blocking IO, a thread per download",
            Way::ThreadEach,
        ),
        (
            "epoll",
            "3. Three tasks on the epoll backend (readiness)",
            Way::Runtime(Backend::Epoll),
        ),
        (
            "io_uring",
            "4. Three tasks on the io_uring backend (completion)",
            Way::Runtime(Backend::IoUring),
        ),
    ];
    for (stem, title, way) in plans {
        let path: PathBuf = trace(stem);
        let ran = match way {
            Way::OneThread => downloads::one_thread(&addrs, &path),
            Way::ThreadEach => downloads::thread_each(&addrs, &path),
            Way::Runtime(backend) => downloads::event_driven(backend, &addrs, &path),
        };
        match ran {
            Ok(()) => runs.push(Run {
                stem,
                title,
                timeline: load(&path)?,
            }),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                eprintln!("timeline: no {stem} figure: {e}");
                missing.push(stem);
            }
            Err(e) => return Err(format!("{stem}: {e}")),
        }
    }
    // One time scale for all: the longest run.
    let span = runs
        .iter()
        .map(|r| r.timeline.end - r.timeline.start)
        .fold(0.0, f64::max)
        * 1.03;
    let mut drawings = Vec::new();
    for run in &runs {
        let drawing = draw(run, span);
        write(&dir.join(format!("{}.svg", run.stem)), &drawing)?;
        drawings.push((run.stem, drawing));
    }
    let take = |stems: &[&str]| -> Vec<String> {
        drawings
            .iter()
            .filter(|(stem, _)| stems.contains(stem))
            .map(|(_, d)| d.clone())
            .collect()
    };
    let sections = [
        Section {
            heading: "Blocking IO: the thread waits in read()".to_string(),
            text: BLOCKING_TEXT.to_string(),
            figures: take(&["blocking", "threads"]),
        },
        Section {
            heading: "Event-driven: the same program on epoll and on io_uring".to_string(),
            text: EVENT_TEXT.to_string(),
            figures: take(&["epoll", "io_uring"]),
        },
    ];
    let mut intro = INTRO.to_string();
    if !missing.is_empty() {
        intro.push_str(&format!(
            "\n\nNot drawn on this machine: {} (see the message on stderr).",
            missing.join(", ")
        ));
    }
    write(
        &dir.join("index.html"),
        &html::page("Three downloads, four ways", &intro, &sections),
    )
}

/// A run's figure: the whole run on the common scale, and for the runtime's runs a close-up of
/// the first reply's arrival.
fn draw(run: &Run, span: f64) -> String {
    let timeline = &run.timeline;
    let mut panels = vec![Panel {
        heading: format!(
            "The whole run: {}",
            svg::duration(timeline.end - timeline.start)
        ),
        from: timeline.start,
        to: timeline.start + span,
    }];
    if let Some(arrival) = first_arrival(timeline) {
        panels.push(Panel {
            heading: format!(
                "Close-up: the first reply arrives, {} after the start",
                svg::duration(arrival - timeline.start)
            ),
            from: arrival - 30.0,
            to: arrival + 90.0,
        });
    }
    svg::render(&Figure {
        id: run.stem,
        title: run.title,
        timeline,
        panels,
        width: WIDTH,
        origin: timeline.start,
    })
}

/// When the runtime learned that the first reply had arrived: the io_uring completion that
/// carries it (the kernel has copied it already), or the epoll readiness event before the task's
/// first `recv` that got data (which copies it).
fn first_arrival(timeline: &Timeline) -> Option<f64> {
    let got_data = |m: &&model::Mark| m.args["result"].as_i64().is_some_and(|n| n > 0);
    let copy = timeline
        .marks
        .iter()
        .filter(|m| m.name == "attempt Recv" || (m.name == "CQE" && m.args["op"] == "Recv"))
        .find(got_data)?;
    if copy.name == "CQE" {
        return Some(copy.at);
    }
    let readiness = timeline
        .marks
        .iter()
        .rfind(|m| m.name == "readiness event" && m.lane == copy.lane && m.at <= copy.at);
    Some(readiness.map_or(copy.at, |m| m.at))
}

const INTRO: &str = "The same three simulated downloads: each connects to a local server that \
answers after a delay (10, 20 and 30 ms) with 16 KiB, and reads the reply. Every run was traced \
and is drawn on the same time scale; each row is a thread. Hover over anything for its details. \
Regenerate with: cargo run --release --example timeline";

const BLOCKING_TEXT: &str = "A blocking read() holds its thread through both phases: while the \
kernel waits for the data (the hatched bar) and while it copies the data into the buffer (the \
bar's very end). One thread can wait for one thing only: done one after another, the downloads \
take the sum of the delays; with a thread each, the longest delay, at the price of a thread per \
download, each of which spends its life asleep.";

const EVENT_TEXT: &str = "One thread, three tasks, and the thread sleeps in one place: the \
driver's park (dashed). Under epoll the kernel says a socket is readable (the blue triangle); the \
task then makes the recv() that copies the data itself (orange). Under io_uring the task \
submitted the whole read up front; the kernel waits and copies, and the completion (green) \
arrives with the bytes already in the buffer: the poll that follows makes no syscall. The arcs \
join each operation's submission to its completion; dashed arrows join each wake to the poll it \
causes.";
