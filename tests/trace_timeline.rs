//! The timeline renderer of `examples/timeline.rs` on real traces of both backends: every lane
//! is drawn, and the HTML page renders in headless Chromium (skipped, with a message, when no
//! Chromium is installed).

#[path = "../examples/timeline/html.rs"]
mod html;
#[path = "../examples/timeline/model.rs"]
mod model;
#[path = "../examples/timeline/svg.rs"]
mod svg;
mod trace_common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use model::Timeline;
use trace_common::{temp_path, traced_runtimes};

/// A traced run on each backend (two workers, a blocking job, a socket), drawn: (lane names,
/// SVG) per backend. `name` keeps the trace files of concurrent tests apart.
fn drawings(name: &str) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    for (backend, rt, path) in traced_runtimes(name, |b| b.workers(2)) {
        let handle = rt.handle();
        rt.block_on(async {
            let on_1 = handle.spawn_on(1, async { runtime::task::yield_now().await });
            let (a, b) = runtime::net::UnixStream::pair().unwrap();
            let (res, _) = a.write_all(b"ping".to_vec()).await;
            res.unwrap();
            let (res, _) = b.read(Vec::with_capacity(4)).await;
            assert_eq!(res.unwrap(), 4);
            runtime::task::spawn_blocking(|| ()).await.unwrap();
            on_1.await.unwrap();
        });
        drop(rt);
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let timeline = Timeline::parse(&text).unwrap();
        let lanes: Vec<String> = timeline.lanes.iter().map(|l| l.name.clone()).collect();
        assert!(lanes.len() >= 3, "{backend}: {lanes:?}");
        let id = backend.name();
        let drawing = svg::render(&svg::Figure {
            id,
            title: id,
            timeline: &timeline,
            panels: vec![svg::Panel {
                heading: "all".to_string(),
                from: timeline.start,
                to: timeline.end,
            }],
            width: 900.0,
            origin: timeline.start,
        });
        out.push((lanes, drawing));
    }
    out
}

#[test]
fn every_lane_is_drawn() {
    for (lanes, drawing) in drawings("lanes") {
        for lane in &lanes {
            let tag = format!("<g class=\"lane\" data-lane=\"{lane}\">");
            assert_eq!(drawing.matches(&tag).count(), 1, "{lane} in {lanes:?}");
        }
        assert!(drawing.contains("class=\"poll\""), "polls are bars");
        assert!(drawing.contains("class=\"park\""), "parks are gaps");
        assert!(
            drawing.contains("class=\"arrow-op\""),
            "operations are arcs"
        );
        assert!(drawing.contains("class=\"arrow-wake\""), "wakes are arrows");
        assert!(!drawing.contains("<script"), "self-contained");
    }
}

/// The first Chromium found on `PATH`.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// `chromium --headless --dump-dom page`, given at most a minute.
fn dump_dom(chromium: &Path, page: &Path) -> String {
    let mut child = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped");
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let mut dom = String::new();
        let _ = stdout.read_to_string(&mut dom);
        let _ = done.send(dom);
    });
    let dom = result.recv_timeout(Duration::from_secs(60));
    if dom.is_err() {
        // SAFETY: kill takes no pointers; `pid` is our own child, not yet waited for.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }
    let _ = child.wait();
    dom.expect("chromium answered within a minute")
}

#[test]
fn the_page_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!("the_page_renders_in_headless_chromium: skipped: no chromium on PATH");
        return;
    };
    let drawings = drawings("chromium");
    let lanes: Vec<String> = drawings.iter().flat_map(|(l, _)| l.clone()).collect();
    let section = html::Section {
        heading: "both backends".to_string(),
        text: "A test page.".to_string(),
        figures: drawings.into_iter().map(|(_, d)| d).collect(),
    };
    let page = temp_path("page").with_extension("html");
    std::fs::write(&page, html::page("timeline test", "", &[section])).unwrap();
    let dom = dump_dom(&chromium, &page);
    let _ = std::fs::remove_file(&page);
    assert!(
        dom.contains("<svg"),
        "no SVG in the rendered page: {dom:.300}"
    );
    let drawn = dom.matches("class=\"lane\"").count();
    assert_eq!(drawn, lanes.len(), "lanes drawn: {lanes:?}");
    for lane in lanes {
        assert!(dom.contains(&format!("data-lane=\"{lane}\"")), "{lane}");
    }
}
