//! A trace file (Chrome trace-event JSON, as `runtime::trace` and `recorder.rs` write it) read
//! back as what the drawing needs: lanes, slices, marks and arrows, times in microseconds.

use std::collections::HashMap;

use serde_json::Value;

/// One trace, ready to draw.
#[derive(Debug, Default)]
pub struct Timeline {
    /// The process's name (`runtime (epoll)`, `three blocking threads`, …).
    pub process: String,
    pub lanes: Vec<Lane>,
    pub slices: Vec<Slice>,
    pub marks: Vec<Mark>,
    pub arrows: Vec<Arrow>,
    /// The first and last timestamps of any event (µs).
    pub start: f64,
    pub end: f64,
}

/// One row: a worker, a pool thread, or a thread of a traced std program.
#[derive(Debug)]
pub struct Lane {
    pub tid: u64,
    pub name: String,
}

/// Something that lasted: a poll, a park, a blocking job, a blocking syscall.
#[derive(Debug)]
pub struct Slice {
    pub lane: usize,
    pub begin: f64,
    pub end: f64,
    pub name: String,
    /// `poll`, `park`, `job`, `syscall`, …
    pub cat: String,
    /// The begin's and the end's `args`, merged.
    pub args: Value,
}

/// Something that happened at one moment.
#[derive(Debug)]
pub struct Mark {
    pub lane: usize,
    pub at: f64,
    pub name: String,
    pub cat: String,
    pub args: Value,
}

/// A flow from one moment of one lane to another: a wake and the poll it caused, an operation's
/// submit and its completion.
#[derive(Debug)]
pub struct Arrow {
    /// `wake` or `op`.
    pub cat: String,
    pub name: String,
    pub from: (usize, f64),
    pub to: (usize, f64),
}

impl Timeline {
    /// Parses a trace file's text.
    pub fn parse(text: &str) -> Result<Timeline, String> {
        let json: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let events = json["traceEvents"]
            .as_array()
            .ok_or("no \"traceEvents\" array: not a Chrome trace")?;
        let mut timeline = Timeline {
            start: f64::MAX,
            end: f64::MIN,
            ..Timeline::default()
        };
        let mut lane_of: HashMap<u64, usize> = HashMap::new();
        let mut sort: HashMap<u64, i64> = HashMap::new();
        let mut open: HashMap<u64, Vec<(f64, &Value)>> = HashMap::new();
        let mut flows: HashMap<(String, u64), (usize, f64)> = HashMap::new();
        for event in events {
            let ph = event["ph"].as_str().unwrap_or("");
            let tid = event["tid"].as_u64().unwrap_or(0);
            let name = event["name"].as_str().unwrap_or("").to_string();
            let cat = event["cat"].as_str().unwrap_or("").to_string();
            if ph == "M" {
                match name.as_str() {
                    "process_name" => timeline.process = text_arg(event, "name"),
                    "thread_name" => {
                        let lane = timeline.lane(&mut lane_of, tid);
                        timeline.lanes[lane].name = text_arg(event, "name");
                    }
                    "thread_sort_index" => {
                        sort.insert(tid, event["args"]["sort_index"].as_i64().unwrap_or(0));
                    }
                    _ => {}
                }
                continue;
            }
            let Some(ts) = event["ts"].as_f64() else {
                continue;
            };
            timeline.start = timeline.start.min(ts);
            timeline.end = timeline.end.max(ts);
            let lane = timeline.lane(&mut lane_of, tid);
            match ph {
                "B" => open.entry(tid).or_default().push((ts, event)),
                "E" => {
                    let Some((begin, begun)) = open.get_mut(&tid).and_then(Vec::pop) else {
                        continue;
                    };
                    let mut args = begun["args"].clone();
                    if let (Some(into), Some(more)) =
                        (args.as_object_mut(), event["args"].as_object())
                    {
                        into.extend(more.clone());
                    }
                    timeline.slices.push(Slice {
                        lane,
                        begin,
                        end: ts,
                        name: begun["name"].as_str().unwrap_or("").to_string(),
                        cat: begun["cat"].as_str().unwrap_or("").to_string(),
                        args,
                    });
                }
                "X" => timeline.slices.push(Slice {
                    lane,
                    begin: ts,
                    end: ts + event["dur"].as_f64().unwrap_or(0.0),
                    name,
                    cat,
                    args: event["args"].clone(),
                }),
                "i" | "I" => timeline.marks.push(Mark {
                    lane,
                    at: ts,
                    name,
                    cat,
                    args: event["args"].clone(),
                }),
                "s" => {
                    let id = event["id"].as_u64().unwrap_or(0);
                    flows.insert((cat, id), (lane, ts));
                }
                "f" => {
                    let id = event["id"].as_u64().unwrap_or(0);
                    if let Some(from) = flows.remove(&(cat.clone(), id)) {
                        timeline.arrows.push(Arrow {
                            cat,
                            name,
                            from,
                            to: (lane, ts),
                        });
                    }
                }
                _ => {}
            }
        }
        if timeline.lanes.is_empty() {
            return Err("the trace has no events".to_string());
        }
        timeline.sort_lanes(&sort);
        Ok(timeline)
    }

    /// The lane of `tid`, added on first sight.
    fn lane(&mut self, lane_of: &mut HashMap<u64, usize>, tid: u64) -> usize {
        *lane_of.entry(tid).or_insert_with(|| {
            self.lanes.push(Lane {
                tid,
                name: format!("thread {tid}"),
            });
            self.lanes.len() - 1
        })
    }

    /// Orders lanes by their sort index, then tid, and renumbers everything that names one.
    fn sort_lanes(&mut self, sort: &HashMap<u64, i64>) {
        let mut order: Vec<usize> = (0..self.lanes.len()).collect();
        order.sort_by_key(|&i| {
            let tid = self.lanes[i].tid;
            (sort.get(&tid).copied().unwrap_or(tid as i64), tid)
        });
        let mut new_index = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let mut lanes: Vec<Option<Lane>> = std::mem::take(&mut self.lanes)
            .into_iter()
            .map(Some)
            .collect();
        self.lanes = order
            .iter()
            .map(|&old| lanes[old].take().expect("once"))
            .collect();
        for slice in &mut self.slices {
            slice.lane = new_index[slice.lane];
        }
        for mark in &mut self.marks {
            mark.lane = new_index[mark.lane];
        }
        for arrow in &mut self.arrows {
            arrow.from.0 = new_index[arrow.from.0];
            arrow.to.0 = new_index[arrow.to.0];
        }
    }
}

/// `event.args[key]` as text.
fn text_arg(event: &Value, key: &str) -> String {
    event["args"][key].as_str().unwrap_or("").to_string()
}
