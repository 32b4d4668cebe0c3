//! A [`Timeline`] drawn as a self-contained SVG: one row per lane, polls as bars, parks as
//! dashed gaps named by their syscall, blocking syscalls as hatched bars, operations as arcs from
//! submit to completion, wakes as arrows between lanes; where data is copied is marked, by the
//! program (epoll's `recv`) or by the kernel (an io_uring completion).
//!
//! A figure has one or more panels, each a window of time over the same lanes (a whole run, then
//! a close-up). Every element carries a `<title>`, shown on hover in a browser.

use std::fmt::Write;

use serde_json::Value;

use crate::model::{Arrow, Mark, Slice, Timeline};

/// Where the plot starts (the lane names are on its left).
const LEFT: f64 = 112.0;
const RIGHT: f64 = 18.0;
/// A lane's row: operation arcs above the bars, wake arcs and small marks below them.
const ROW: f64 = 48.0;
/// Where bars start within a row, and how tall they are.
const BAR_TOP: f64 = 15.0;
const BAR: f64 = 18.0;
/// Below the bars.
const BAR_BOTTOM: f64 = BAR_TOP + BAR;
const HEADING: f64 = 22.0;
const AXIS: f64 = 26.0;
const GAP: f64 = 14.0;
const LEGEND: f64 = 70.0;

const PARK_FILL: &str = "#eef3f9";
const PARK_STROKE: &str = "#7d93ad";
const BLOCKED: &str = "#c0392b";
const PROGRAM_COPY: &str = "#e67e22";
const KERNEL_COPY: &str = "#1e8449";
const READINESS: &str = "#2471a3";
const WAKE: &str = "#8e44ad";
const OP: &str = "#566573";
const JOB: &str = "#7d3c98";
/// A white outline behind a label, so that lines crossing it do not hide it.
const HALO: &str = "stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\"";

/// A window of time to draw.
#[derive(Debug, Clone)]
pub struct Panel {
    pub heading: String,
    /// Microseconds, in the trace's clock.
    pub from: f64,
    pub to: f64,
}

/// What to draw.
#[derive(Debug)]
pub struct Figure<'a> {
    /// Prefixes the SVG's element ids, so that several figures can share one HTML page.
    pub id: &'a str,
    pub title: &'a str,
    pub timeline: &'a Timeline,
    pub panels: Vec<Panel>,
    pub width: f64,
    /// Microseconds shown as `0` on the axes (the start of the run, usually).
    pub origin: f64,
}

/// The SVG document of `figure`.
pub fn render(figure: &Figure) -> String {
    let lanes = figure.timeline.lanes.len() as f64;
    let panel_height = HEADING + lanes * ROW + AXIS + GAP;
    let height = 34.0 + panel_height * figure.panels.len() as f64 + LEGEND;
    let mut svg = Svg::default();
    svg.raw(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{w}\" \
         height=\"{height}\" viewBox=\"0 0 {w} {height}\" font-family=\"sans-serif\" \
         font-size=\"11\">",
        w = figure.width
    ));
    svg.defs(figure.id);
    svg.raw(&format!(
        "<rect width=\"{}\" height=\"{height}\" fill=\"white\"/>",
        figure.width
    ));
    svg.text(
        12.0,
        22.0,
        "font-size=\"15\" font-weight=\"bold\"",
        figure.title,
    );
    let mut top = 34.0;
    for (n, panel) in figure.panels.iter().enumerate() {
        PanelDrawing::new(figure, panel, n, top).draw(&mut svg);
        top += panel_height;
    }
    legend(&mut svg, top + 6.0, figure.width, figure.timeline);
    svg.raw("</svg>");
    svg.out
}

/// An SVG being written.
#[derive(Default)]
struct Svg {
    out: String,
}

impl Svg {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn text(&mut self, x: f64, y: f64, attrs: &str, text: &str) {
        let _ = writeln!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" {attrs}>{}</text>",
            escape(text)
        );
    }

    /// An element with a hover title.
    fn titled(&mut self, element: &str, attrs: &str, title: &str) {
        let _ = writeln!(
            self.out,
            "<{element} {attrs}><title>{}</title></{element}>",
            escape(title)
        );
    }

    /// The arrowheads and the hatching, with ids under `id`.
    fn defs(&mut self, id: &str) {
        self.raw("<defs>");
        for (name, colour) in [("op", OP), ("wake", WAKE)] {
            self.raw(&format!(
                "<marker id=\"{id}-{name}\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" \
                 markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\">\
                 <path d=\"M0,0 L8,4 L0,8 z\" fill=\"{colour}\"/></marker>"
            ));
        }
        self.raw(&format!(
            "<pattern id=\"{id}-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
             patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f5b7b1\"/>\
             <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{BLOCKED}\" stroke-width=\"2\"/>\
             </pattern>"
        ));
        self.raw("</defs>");
    }
}

/// `&`, `<`, `>` and `"` escaped for SVG text and attributes.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A duration in words: `850 µs`, `12.4 ms`.
pub fn duration(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 10.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.1} µs")
    }
}

/// One panel being drawn.
struct PanelDrawing<'a> {
    figure: &'a Figure<'a>,
    panel: &'a Panel,
    n: usize,
    /// Top of the first lane.
    lanes_top: f64,
    scale: f64,
}

impl<'a> PanelDrawing<'a> {
    fn new(figure: &'a Figure, panel: &'a Panel, n: usize, top: f64) -> PanelDrawing<'a> {
        let span = (panel.to - panel.from).max(1.0);
        PanelDrawing {
            figure,
            panel,
            n,
            lanes_top: top + HEADING,
            scale: (figure.width - LEFT - RIGHT) / span,
        }
    }

    fn x(&self, at: f64) -> f64 {
        LEFT + (at - self.panel.from) * self.scale
    }

    fn row_top(&self, lane: usize) -> f64 {
        self.lanes_top + lane as f64 * ROW
    }

    fn visible(&self, from: f64, to: f64) -> bool {
        to >= self.panel.from && from <= self.panel.to
    }

    fn draw(&self, svg: &mut Svg) {
        let timeline = self.figure.timeline;
        let right = self.figure.width - RIGHT;
        let clip = format!("{}-clip{}", self.figure.id, self.n);
        let lanes_height = timeline.lanes.len() as f64 * ROW;
        svg.text(
            LEFT,
            self.lanes_top - 7.0,
            "font-size=\"12\" font-weight=\"bold\" fill=\"#333\"",
            &self.panel.heading,
        );
        svg.raw(&format!(
            "<clipPath id=\"{clip}\"><rect x=\"{LEFT}\" y=\"{}\" width=\"{}\" height=\"{lanes_height}\"/></clipPath>",
            self.lanes_top,
            right - LEFT
        ));
        // Rows and slices first, arrows over them, marks and their labels on top.
        let mut labels: Vec<Labels> = timeline.lanes.iter().map(|_| Labels::default()).collect();
        for (i, lane) in timeline.lanes.iter().enumerate() {
            let top = self.row_top(i);
            svg.raw(&format!(
                "<g class=\"lane\" data-lane=\"{}\">",
                escape(&lane.name)
            ));
            let shade = if i % 2 == 0 { "#fafafa" } else { "#f2f2f2" };
            svg.raw(&format!(
                "<rect class=\"lane-row\" x=\"{LEFT}\" y=\"{top}\" width=\"{}\" height=\"{ROW}\" fill=\"{shade}\"/>",
                right - LEFT
            ));
            svg.text(
                8.0,
                top + BAR_TOP + BAR / 2.0 + 4.0,
                "fill=\"#222\"",
                &lane.name,
            );
            svg.raw(&format!("<g clip-path=\"url(#{clip})\">"));
            for slice in timeline.slices.iter().filter(|s| s.lane == i) {
                if self.visible(slice.begin, slice.end) {
                    self.slice(svg, slice, &mut labels[i]);
                }
            }
            svg.raw("</g></g>");
        }
        svg.raw(&format!("<g class=\"arrows\" clip-path=\"url(#{clip})\">"));
        for arrow in &timeline.arrows {
            let (from, to) = (arrow.from.1.min(arrow.to.1), arrow.from.1.max(arrow.to.1));
            // A close-up leaves out arrows that only pass through it.
            let passing = self.detailed() && !self.visible(from, from) && !self.visible(to, to);
            if self.visible(from, to) && !passing {
                self.arrow(svg, arrow);
            }
        }
        svg.raw("</g>");
        svg.raw(&format!("<g class=\"marks\" clip-path=\"url(#{clip})\">"));
        for mark in &timeline.marks {
            if self.visible(mark.at, mark.at) {
                self.mark(svg, mark, &mut labels[mark.lane]);
            }
        }
        svg.raw("</g>");
        self.axis(svg, self.lanes_top + lanes_height);
    }

    /// Whether the panel is zoomed in far enough to name every mark.
    fn detailed(&self) -> bool {
        self.scale >= 2.0
    }

    fn slice(&self, svg: &mut Svg, slice: &Slice, labels: &mut Labels) {
        let top = self.row_top(slice.lane);
        let x = self.x(slice.begin);
        let width = ((slice.end - slice.begin) * self.scale).max(2.0);
        let length = duration(slice.end - slice.begin);
        let title = format!(
            "{}\n{} at {}\n{}",
            slice.name,
            length,
            self.when(slice.begin),
            args_text(&slice.args)
        );
        let bar = |fill: &str, class: &str| {
            format!(
                "x=\"{x:.2}\" y=\"{:.1}\" width=\"{width:.2}\" height=\"{BAR}\" fill=\"{fill}\" class=\"{class}\"",
                top + BAR_TOP
            )
        };
        let (attrs, names) = match slice.cat.as_str() {
            "park" => {
                let syscall = slice.args["syscall"].as_str().unwrap_or("park");
                let attrs = format!(
                    "x=\"{x:.2}\" y=\"{:.1}\" width=\"{width:.2}\" height=\"{:.1}\" fill=\"{PARK_FILL}\" \
                     stroke=\"{PARK_STROKE}\" stroke-dasharray=\"4 3\" class=\"park\"",
                    top + BAR_TOP - 3.0,
                    BAR + 6.0
                );
                let long = format!("park: {syscall}, the thread sleeps · {length}");
                (
                    attrs,
                    vec![long, format!("{syscall} · {length}"), syscall.to_string()],
                )
            }
            "syscall" => {
                let attrs = bar(&format!("url(#{}-hatch)", self.figure.id), "blocked")
                    + &format!(" stroke=\"{BLOCKED}\"");
                let name = &slice.name;
                let long = if name.starts_with("read") {
                    format!("{name} blocked: waits for the data, then copies · {length}")
                } else {
                    format!("{name} blocked · {length}")
                };
                (
                    attrs,
                    vec![long, format!("{name} · {length}"), name.clone()],
                )
            }
            "job" => (bar(JOB, "job"), vec![slice.name.clone()]),
            cat => {
                let fill = task_colour(slice.args["task"].as_u64().unwrap_or(0));
                let task = slice.args["task_name"].as_str().map(str::to_string);
                let names = [
                    Some(slice.name.clone()),
                    Some(slice.name.replace("poll ", "")),
                    task,
                ];
                (bar(&fill, cat), names.into_iter().flatten().collect())
            }
        };
        svg.titled("rect", &attrs, &title);
        // The label goes where the slice is visible.
        let (from, to) = (x.max(LEFT), (x + width).min(self.figure.width - RIGHT));
        let fits = names
            .into_iter()
            .find(|name| to - from - 8.0 >= 6.2 * name.chars().count() as f64);
        if let Some(name) = fits {
            let end = from + 8.0 + 6.2 * name.chars().count() as f64;
            if labels.take(from, end, None) {
                let colour = if slice.cat == "park" {
                    "#34495e"
                } else {
                    "#111"
                };
                let y = top + BAR_TOP + BAR / 2.0 + 4.0;
                svg.text(from + 4.0, y, &format!("fill=\"{colour}\""), &name);
            }
        }
    }

    fn mark(&self, svg: &mut Svg, mark: &Mark, labels: &mut Labels) {
        let top = self.row_top(mark.lane);
        let x = self.x(mark.at);
        let title = format!(
            "{}\nat {}\n{}",
            mark.name,
            self.when(mark.at),
            args_text(&mark.args)
        );
        let result = mark.args["result"].as_i64().unwrap_or(-1);
        let copied = result > 0 && is_read(mark.args["op"].as_str().unwrap_or(""));
        let detailed = self.detailed();
        let above = top + BAR_TOP;
        let below = top + BAR_BOTTOM;
        let (element, attrs, label) = match (mark.cat.as_str(), mark.name.as_str()) {
            ("epoll", "readiness event") => (
                "path",
                format!("d=\"M{x:.2},{above:.1} l-5,-8 h10 z\" fill=\"{READINESS}\""),
                detailed.then(|| Label::before("epoll_wait returned: readable", READINESS, true)),
            ),
            ("epoll", _) => (
                "rect",
                format!(
                    "x=\"{:.2}\" y=\"{:.1}\" width=\"3\" height=\"{:.1}\" fill=\"{PROGRAM_COPY}\"",
                    x - 1.5,
                    above - 4.0,
                    BAR + 8.0
                ),
                copied.then(|| {
                    let (long, short) = ("recv(): the task copies", "copy: recv");
                    Label::copy(detailed, long, short, result, PROGRAM_COPY)
                }),
            ),
            ("io_uring", "CQE") => (
                "path",
                format!("d=\"M{x:.2},{:.1} l5,5 l-5,5 l-5,-5 z\" fill=\"{KERNEL_COPY}\"", above - 11.0),
                copied.then(|| {
                    let (long, short) = ("CQE: the kernel has copied", "kernel copied");
                    Label::copy(detailed, long, short, result, KERNEL_COPY)
                }),
            ),
            ("io_uring", _) => (
                "rect",
                format!("x=\"{:.2}\" y=\"{:.1}\" width=\"3\" height=\"6\" fill=\"{KERNEL_COPY}\"", x - 1.5, below + 1.0),
                (detailed && mark.name == "SQE").then(|| Label::after("SQE", KERNEL_COPY, false)),
            ),
            ("timer", _) => (
                "circle",
                format!("cx=\"{x:.2}\" cy=\"{:.1}\" r=\"3.5\" fill=\"white\" stroke=\"#b7950b\" stroke-width=\"1.5\"", below + 6.0),
                None,
            ),
            ("wake", _) => (
                "circle",
                format!("cx=\"{x:.2}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{WAKE}\"", below + 2.0),
                detailed.then(|| Label::before("wake", WAKE, false)),
            ),
            ("op", _) => {
                // Drawn as the ends of their arc; a completion is named in a close-up.
                if detailed && mark.name.starts_with("complete") {
                    let op = mark.args["op"].as_str().unwrap_or("");
                    let text = format!("{op} complete ({})", bytes(result));
                    Label::after(text, OP, false).draw(svg, labels, x, top);
                }
                return;
            }
            _ => (
                "circle",
                format!("cx=\"{x:.2}\" cy=\"{:.1}\" r=\"2.5\" fill=\"white\" stroke=\"#777\"", below + 6.0),
                None,
            ),
        };
        svg.titled(element, &attrs, &title);
        if let Some(label) = label {
            label.draw(svg, labels, x, top);
        }
    }

    fn arrow(&self, svg: &mut Svg, arrow: &Arrow) {
        let (x1, x2) = (self.x(arrow.from.1), self.x(arrow.to.1));
        let (colour, marker) = if arrow.cat == "wake" {
            (WAKE, "wake")
        } else {
            (OP, "op")
        };
        let path = if arrow.from.0 == arrow.to.0 {
            // Within one lane: an arc above the bars (operations) or below them (wakes).
            let top = self.row_top(arrow.from.0);
            if arrow.cat == "wake" {
                let y = top + BAR_BOTTOM;
                let dip = y + 12.0;
                format!("M{x1:.2},{y:.1} C{x1:.2},{dip:.1} {x2:.2},{dip:.1} {x2:.2},{y:.1}")
            } else {
                let y = top + BAR_TOP;
                let lift = top + 1.0;
                format!("M{x1:.2},{y:.1} C{x1:.2},{lift:.1} {x2:.2},{lift:.1} {x2:.2},{y:.1}")
            }
        } else {
            let y1 = self.row_top(arrow.from.0) + BAR_TOP + BAR / 2.0;
            let y2 = self.row_top(arrow.to.0) + BAR_TOP + BAR / 2.0;
            let mid = (y1 + y2) / 2.0;
            format!("M{x1:.2},{y1:.1} C{x1:.2},{mid:.1} {x2:.2},{mid:.1} {x2:.2},{y2:.1}")
        };
        let dash = if arrow.cat == "wake" {
            " stroke-dasharray=\"3 2\""
        } else {
            ""
        };
        let title = format!(
            "{} {}: {} → {}",
            arrow.cat,
            arrow.name,
            self.when(arrow.from.1),
            self.when(arrow.to.1)
        );
        svg.titled(
            "path",
            &format!(
                "class=\"arrow-{marker}\" d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.2\"{dash} \
                 marker-end=\"url(#{}-{marker})\"",
                self.figure.id
            ),
            &title,
        );
    }

    /// A moment in words, from the figure's origin.
    fn when(&self, at: f64) -> String {
        duration(at - self.figure.origin)
    }

    fn axis(&self, svg: &mut Svg, y: f64) {
        let right = self.figure.width - RIGHT;
        svg.raw(&format!(
            "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{right}\" y2=\"{y}\" stroke=\"#555\"/>"
        ));
        let step = tick_step(self.panel.to - self.panel.from);
        let origin = self.figure.origin;
        let mut tick = ((self.panel.from - origin) / step).ceil() * step;
        while origin + tick <= self.panel.to {
            let x = self.x(origin + tick);
            svg.raw(&format!(
                "<line x1=\"{x:.2}\" y1=\"{y}\" x2=\"{x:.2}\" y2=\"{}\" stroke=\"#555\"/>",
                y + 4.0
            ));
            let label = if tick.abs() < 1000.0 && step < 1000.0 {
                format!("{tick:.0} µs")
            } else {
                // As many decimals as the step needs.
                let decimals = (3.0 - step.log10().floor()).clamp(0.0, 3.0) as usize;
                format!("{:.*} ms", decimals, tick / 1000.0)
            };
            svg.text(x - 12.0, y + 16.0, "fill=\"#444\"", &label);
            tick += step;
        }
    }
}

/// The name of a mark, written beside it.
struct Label {
    text: String,
    colour: &'static str,
    /// Above the bars, else below them.
    above: bool,
    /// Ending at the mark, else starting there.
    before: bool,
}

impl Label {
    fn after(text: impl Into<String>, colour: &'static str, above: bool) -> Label {
        Label {
            text: text.into(),
            colour,
            above,
            before: false,
        }
    }

    fn before(text: impl Into<String>, colour: &'static str, above: bool) -> Label {
        Label {
            before: true,
            ..Label::after(text, colour, above)
        }
    }

    /// Where `n` bytes were copied, above the bars: the `long` text in a close-up, else the `short`.
    fn copy(detailed: bool, long: &str, short: &str, n: i64, colour: &'static str) -> Label {
        let text = if detailed { long } else { short };
        Label::after(format!("{text} {}", bytes(n)), colour, true)
    }

    /// Writes the label for the mark at `x` in the row at `top`, unless another label is there.
    fn draw(self, svg: &mut Svg, labels: &mut Labels, x: f64, top: f64) {
        let width = 5.8 * self.text.chars().count() as f64;
        let (at, from, anchor) = if self.before {
            (x - 5.0, x - 5.0 - width, "end")
        } else {
            (x + 5.0, x + 5.0, "start")
        };
        if !labels.take(from, from + width, Some(self.above)) {
            return;
        }
        let y = if self.above {
            top + 9.0
        } else {
            top + BAR_BOTTOM + 11.0
        };
        let attrs = format!(
            "fill=\"{}\" font-weight=\"bold\" font-size=\"10\" text-anchor=\"{anchor}\" {HALO}",
            self.colour
        );
        svg.text(at, y, &attrs, &self.text);
    }
}

/// Remembers where labels were put on a lane (above the bars, on them, below them), so that
/// they do not overlap.
#[derive(Default)]
struct Labels {
    above: Vec<(f64, f64)>,
    on: Vec<(f64, f64)>,
    below: Vec<(f64, f64)>,
}

impl Labels {
    /// Takes `[from, to]` in its band — `Some(true)` above the bars, `Some(false)` below them,
    /// `None` on them — if nothing there is taken yet.
    fn take(&mut self, from: f64, to: f64, band: Option<bool>) -> bool {
        let taken = match band {
            Some(true) => &mut self.above,
            Some(false) => &mut self.below,
            None => &mut self.on,
        };
        if taken.iter().any(|&(a, b)| from < b + 4.0 && a < to + 4.0) {
            return false;
        }
        taken.push((from, to));
        true
    }
}

/// A round tick step (1, 2 or 5 × a power of ten µs) giving about eight ticks over `span`.
fn tick_step(span: f64) -> f64 {
    let rough = (span / 8.0).max(1.0);
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&s| s >= rough)
        .unwrap_or(10.0 * power)
}

/// A colour per task: distinct hues, 0 (the `block_on` future) grey.
fn task_colour(task: u64) -> String {
    if task == 0 {
        return "#95a5a6".to_string();
    }
    format!("hsl({}, 62%, 58%)", (task * 67 + 200) % 360)
}

/// Whether an operation of this kind reads data.
fn is_read(op: &str) -> bool {
    matches!(
        op,
        "Recv" | "ReadV" | "RecvFrom" | "Read" | "Peek" | "PollRecv"
    )
}

/// `4096` → `4 KiB`; smaller counts in bytes.
fn bytes(n: i64) -> String {
    if n >= 1024 && n % 1024 == 0 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} B")
    }
}

/// An event's arguments, one `key: value` per line.
fn args_text(args: &Value) -> String {
    let Some(map) = args.as_object() else {
        return String::new();
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}: {s}"),
            v => format!("{k}: {v}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The key to the symbols, in rows.
fn legend(svg: &mut Svg, y: f64, width: f64, timeline: &Timeline) {
    let has_slice = |cat: &str| timeline.slices.iter().any(|s| s.cat == cat);
    let has_mark = |cat: &str, name: &str| {
        timeline
            .marks
            .iter()
            .any(|m| m.cat == cat && m.name.starts_with(name))
    };
    let has_arrow = |cat: &str| timeline.arrows.iter().any(|a| a.cat == cat);
    let items: [(bool, String, &str); 8] = [
        (
            has_slice("poll"),
            "<rect width=\"14\" height=\"10\" fill=\"hsl(267, 62%, 58%)\"/>".to_string(),
            "poll (a task runs)",
        ),
        (
            has_slice("park"),
            format!(
                "<rect width=\"14\" height=\"10\" fill=\"{PARK_FILL}\" stroke=\"{PARK_STROKE}\" \
                 stroke-dasharray=\"4 3\"/>"
            ),
            "park: the thread sleeps in a syscall",
        ),
        (
            has_slice("syscall"),
            format!("<rect width=\"14\" height=\"10\" fill=\"#f5b7b1\" stroke=\"{BLOCKED}\"/>"),
            "blocked in a syscall",
        ),
        (
            has_mark("epoll", "attempt"),
            format!("<rect x=\"5\" width=\"3\" height=\"10\" fill=\"{PROGRAM_COPY}\"/>"),
            "attempt: the program's syscall (copies)",
        ),
        (
            has_mark("epoll", "readiness"),
            format!("<path d=\"M7,8 l-4,-6 h8 z\" fill=\"{READINESS}\"/>"),
            "readiness event",
        ),
        (
            has_mark("io_uring", "CQE"),
            format!("<path d=\"M7,0 l5,5 l-5,5 l-5,-5 z\" fill=\"{KERNEL_COPY}\"/>"),
            "completion (kernel copied)",
        ),
        (
            has_arrow("op"),
            format!("<path d=\"M0,9 C0,1 14,1 14,9\" fill=\"none\" stroke=\"{OP}\"/>"),
            "operation: submit → complete",
        ),
        (
            has_arrow("wake"),
            format!(
                "<path d=\"M0,1 C0,9 14,9 14,1\" fill=\"none\" stroke=\"{WAKE}\" \
                 stroke-dasharray=\"3 2\"/>"
            ),
            "wake → poll",
        ),
    ];
    let mut x = 12.0;
    let mut row = y;
    for (_, symbol, text) in items.iter().filter(|item| item.0) {
        let needed = 22.0 + 6.0 * text.chars().count() as f64 + 16.0;
        if x + needed > width {
            x = 12.0;
            row += 18.0;
        }
        svg.raw(&format!(
            "<g transform=\"translate({x:.1},{:.1})\">{symbol}</g>",
            row - 9.0
        ));
        svg.text(x + 20.0, row, "fill=\"#333\"", text);
        x += needed;
    }
}
