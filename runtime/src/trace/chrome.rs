//! Writes the lanes' records in the Chrome trace-event JSON format, which Perfetto
//! (<https://ui.perfetto.dev>) and `chrome://tracing` open.
//!
//! One process (this one), one thread per lane (`tid` 1, 2, … for workers 0, 1, …; 1001, 1002, …
//! for blocking-pool threads). Polls, parks and blocking jobs become slices (`B`/`E` pairs);
//! everything else is an instant (`i`); a wake and the poll it causes, and an operation's submit
//! and its completion, are joined by flow arrows (`s`/`f`).
//!
//! The writer repairs what the ring buffers cut: an end whose begin was overwritten is left out,
//! and a begin without an end (the ring is flushed in the middle of a poll, or a panic went
//! through a park) is closed where the next slice of its kind begins, or at the flush, with
//! `"unfinished": true`. So every `B` has its `E`, on the same thread, properly nested.
//!
//! Tasks are renumbered in spawn order (1, 2, …; 0 is the `block_on` future): a header address
//! is reused once its task is freed, a number is not.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::sync::Arc;

use super::event::{Doing, Event, Outcome, TaskId, NOT_AN_OS_ERROR};
use super::json::Object;
use super::lane::{Owner, Snapshot};

/// Everything one flush writes.
#[derive(Debug)]
pub(super) struct Trace {
    pub(super) backend: &'static str,
    /// Records kept per lane.
    pub(super) capacity: usize,
    /// When the flush happened (nanoseconds since the trace began): unfinished slices end here.
    pub(super) end: u64,
    pub(super) lanes: Vec<Snapshot>,
}

/// Writes `trace` to `out`.
pub(super) fn write(trace: &Trace, out: &mut impl Write) -> io::Result<()> {
    let tasks = Tasks::number(&trace.lanes);
    let mut actions: Vec<Action> = (0..trace.lanes.len())
        .flat_map(|lane| slices(lane, &trace.lanes[lane], trace.end))
        .collect();
    actions.sort_by_key(|a| (a.at, a.lane, a.seq));
    let mut writer = Writer {
        trace,
        tasks,
        out,
        first: true,
        pid: std::process::id(),
        ends: actions
            .iter()
            .filter_map(|a| match a.step {
                Step::End { begin, end } => Some(((a.lane, begin), end)),
                _ => None,
            })
            .collect(),
        polling: vec![None; trace.lanes.len()],
        pending_wakes: HashMap::new(),
        ops: HashMap::new(),
        op_keys: HashMap::new(),
        next_flow: 1,
    };
    writer.out.write_all(b"{\"traceEvents\":[\n")?;
    writer.metadata()?;
    for action in &actions {
        writer.action(action)?;
    }
    let summary = writer.summary();
    write!(
        writer.out,
        "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{summary}}}\n"
    )
}

/// The `tid` of a lane.
fn tid(owner: Owner) -> usize {
    match owner {
        Owner::Worker(id) => id + 1,
        Owner::Pool(n) => 1000 + n,
    }
}

/// The name of a lane.
fn lane_name(owner: Owner) -> String {
    match owner {
        Owner::Worker(id) => format!("worker {id}"),
        Owner::Pool(n) => format!("blocking {n}"),
    }
}

/// Task numbers, in spawn order across all lanes, and their names.
struct Tasks {
    /// Per lane, per record: the number of the record's task (0 when it names none).
    numbers: Vec<Vec<u64>>,
    /// Indexed by number.
    names: Vec<Option<Arc<str>>>,
}

impl Tasks {
    fn number(lanes: &[Snapshot]) -> Tasks {
        let mut order: Vec<(u64, usize, usize)> = lanes
            .iter()
            .enumerate()
            .flat_map(|(l, lane)| {
                lane.records
                    .iter()
                    .enumerate()
                    .map(move |(i, r)| (r.at, l, i))
            })
            .collect();
        order.sort_unstable();
        let mut tasks = Tasks {
            numbers: lanes.iter().map(|l| vec![0; l.records.len()]).collect(),
            names: vec![None],
        };
        let mut live: HashMap<TaskId, u64> = HashMap::new();
        for (_, l, i) in order {
            let event = &lanes[l].records[i].event;
            let (task, spawned) = match event {
                Event::Spawn { task, name } => (*task, Some(name.clone())),
                Event::PollBegin { task }
                | Event::PollEnd { task }
                | Event::Wake { task, .. }
                | Event::WakeArrived { task } => (*task, None),
                _ => continue,
            };
            if task == TaskId::BLOCK_ON {
                continue;
            }
            let number = match spawned {
                Some(name) => tasks.fresh(&mut live, task, name),
                None => match live.get(&task) {
                    Some(&n) => n,
                    // Spawned before the oldest record kept.
                    None => tasks.fresh(&mut live, task, None),
                },
            };
            tasks.numbers[l][i] = number;
        }
        tasks
    }

    fn fresh(
        &mut self,
        live: &mut HashMap<TaskId, u64>,
        task: TaskId,
        name: Option<Arc<str>>,
    ) -> u64 {
        let number = self.names.len() as u64;
        self.names.push(name);
        live.insert(task, number);
        number
    }

    /// "task 3 (name)", "task 3", or "block_on" for task 0.
    fn label(&self, number: u64) -> String {
        if number == 0 {
            return "block_on".to_string();
        }
        match self.names.get(number as usize) {
            Some(Some(name)) => format!("task {number} ({name})"),
            _ => format!("task {number}"),
        }
    }
}

/// The kinds of slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slice {
    Poll,
    Park,
    Job,
}

/// Whether `event` begins (`true`) or ends (`false`) a slice, and which.
fn slice_of(event: &Event) -> Option<(Slice, bool)> {
    match event {
        Event::PollBegin { .. } => Some((Slice::Poll, true)),
        Event::PollEnd { .. } => Some((Slice::Poll, false)),
        Event::ParkBegin { .. } => Some((Slice::Park, true)),
        Event::ParkEnd { .. } => Some((Slice::Park, false)),
        Event::JobBegin => Some((Slice::Job, true)),
        Event::JobEnd => Some((Slice::Job, false)),
        _ => None,
    }
}

/// What to write for one record (or for a slice the writer must close).
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Record `.0` begins a slice.
    Begin(usize),
    /// The slice begun by record `begin` ends: at record `end`, or (`None`) cut short.
    End { begin: usize, end: Option<usize> },
    /// Record `.0` is an instant.
    Instant(usize),
}

#[derive(Debug, Clone, Copy)]
struct Action {
    at: u64,
    lane: usize,
    /// Order within the lane (several actions may share a timestamp).
    seq: usize,
    step: Step,
}

/// One lane's records as properly nested slices and instants (see the module docs).
fn slices(lane: usize, snapshot: &Snapshot, end_of_trace: u64) -> Vec<Action> {
    let mut steps: Vec<(u64, Step)> = Vec::new();
    let mut open: Vec<(Slice, usize)> = Vec::new();
    let close_from = |open: &mut Vec<(Slice, usize)>, from: usize, at, steps: &mut Vec<_>| {
        while open.len() > from {
            let (_, begin) = open.pop().expect("non-empty");
            steps.push((at, Step::End { begin, end: None }));
        }
    };
    for (i, record) in snapshot.records.iter().enumerate() {
        match slice_of(&record.event) {
            Some((kind, true)) => {
                if let Some(pos) = open.iter().position(|&(k, _)| k == kind) {
                    close_from(&mut open, pos, record.at, &mut steps);
                }
                steps.push((record.at, Step::Begin(i)));
                open.push((kind, i));
            }
            Some((kind, false)) => {
                let Some(pos) = open.iter().rposition(|&(k, _)| k == kind) else {
                    continue; // its begin was overwritten
                };
                close_from(&mut open, pos + 1, record.at, &mut steps);
                let (_, begin) = open.pop().expect("found above");
                steps.push((
                    record.at,
                    Step::End {
                        begin,
                        end: Some(i),
                    },
                ));
            }
            None => steps.push((record.at, Step::Instant(i))),
        }
    }
    let last = snapshot.records.last().map_or(0, |r| r.at);
    close_from(&mut open, 0, end_of_trace.max(last), &mut steps);
    steps
        .into_iter()
        .enumerate()
        .map(|(seq, (at, step))| Action {
            at,
            lane,
            seq,
            step,
        })
        .collect()
}

/// `runtime::driver::ops::fs::read::Read<alloc::vec::Vec<u8>>` → `Read`.
fn short_kind(type_name: &str) -> &str {
    let without_generics = type_name.split('<').next().unwrap_or(type_name);
    without_generics
        .rsplit("::")
        .next()
        .unwrap_or(without_generics)
}

/// An `epoll_event`'s bits, by name.
fn epoll_bits(events: u32) -> String {
    let names = [
        (libc::EPOLLIN, "IN"),
        (libc::EPOLLOUT, "OUT"),
        (libc::EPOLLRDHUP, "RDHUP"),
        (libc::EPOLLPRI, "PRI"),
        (libc::EPOLLERR, "ERR"),
        (libc::EPOLLHUP, "HUP"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|&&(bit, _)| events & bit as u32 != 0)
        .map(|&(_, name)| name)
        .collect();
    set.join("|")
}

/// `result` (and, when it is an error, `error`) fields for an outcome.
fn with_outcome(args: Object, outcome: Outcome) -> Object {
    match outcome {
        n if n >= 0 => args.num("result", n),
        NOT_AN_OS_ERROR => args
            .num("result", -1)
            .str("error", "an error without an errno"),
        errno => args.num("result", errno).str(
            "error",
            &io::Error::from_raw_os_error((-errno) as i32).to_string(),
        ),
    }
}

/// `1234567` ns → `1234.567` (microseconds, the format's unit).
fn micros(at: u64) -> String {
    format!("{}.{:03}", at / 1000, at % 1000)
}

struct Writer<'a, W: Write> {
    trace: &'a Trace,
    tasks: Tasks,
    out: &'a mut W,
    first: bool,
    pid: u32,
    /// (lane, begin record) → the record that ended the slice, if one did.
    ends: HashMap<(usize, usize), Option<usize>>,
    /// Per lane: the task being polled.
    polling: Vec<Option<u64>>,
    /// Task number → the flow of the wake that scheduled it, until its next poll.
    pending_wakes: HashMap<u64, u64>,
    /// (lane, task, op kind, fd) → flows of operations submitted and not yet complete.
    ops: HashMap<(usize, u64, &'static str, i32), VecDeque<u64>>,
    /// (lane, io_uring user_data) → op kind, to label completions.
    op_keys: HashMap<(usize, u64), &'static str>,
    next_flow: u64,
}

impl<W: Write> Writer<'_, W> {
    fn emit(&mut self, event: Object) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        self.out.write_all(event.finish().as_bytes())
    }

    /// The fields every event has.
    fn base(&self, name: &str, cat: &str, ph: &str, at: u64, lane: usize) -> Object {
        Object::new()
            .str("name", name)
            .str("cat", cat)
            .str("ph", ph)
            .num("ts", micros(at))
            .num("pid", self.pid)
            .num("tid", tid(self.trace.lanes[lane].owner))
    }

    fn instant(
        &mut self,
        name: &str,
        cat: &str,
        at: u64,
        lane: usize,
        args: Object,
    ) -> io::Result<()> {
        let event = self
            .base(name, cat, "i", at, lane)
            .str("s", "t")
            .obj("args", args);
        self.emit(event)
    }

    /// A flow arrow's start (`s`) or finish (`f`, bound to the slice around it).
    fn flow(
        &mut self,
        ph: &str,
        name: &str,
        cat: &str,
        id: u64,
        at: u64,
        lane: usize,
    ) -> io::Result<()> {
        let mut event = self.base(name, cat, ph, at, lane).num("id", id);
        if ph == "f" {
            event = event.str("bp", "e");
        }
        self.emit(event)
    }

    fn metadata(&mut self) -> io::Result<()> {
        let process = Object::new()
            .str("name", "process_name")
            .str("ph", "M")
            .num("pid", self.pid)
            .obj(
                "args",
                Object::new().str("name", &format!("runtime ({})", self.trace.backend)),
            );
        self.emit(process)?;
        for lane in 0..self.trace.lanes.len() {
            let owner = self.trace.lanes[lane].owner;
            for (what, args) in [
                ("thread_name", Object::new().str("name", &lane_name(owner))),
                (
                    "thread_sort_index",
                    Object::new().num("sort_index", tid(owner)),
                ),
            ] {
                let event = Object::new()
                    .str("name", what)
                    .str("ph", "M")
                    .num("pid", self.pid)
                    .num("tid", tid(owner))
                    .obj("args", args);
                self.emit(event)?;
            }
            let snapshot = &self.trace.lanes[lane];
            if snapshot.dropped > 0 {
                let at = snapshot.records.first().map_or(0, |r| r.at);
                let name = format!("{} older events dropped", snapshot.dropped);
                let args = Object::new().num("dropped", snapshot.dropped);
                self.instant(&name, "trace", at, lane, args)?;
            }
        }
        Ok(())
    }

    /// `otherData`: the backend, the buffer size and what each lane kept and dropped.
    fn summary(&self) -> String {
        let lanes = self
            .trace
            .lanes
            .iter()
            .map(|l| {
                Object::new()
                    .str("name", &lane_name(l.owner))
                    .num("tid", tid(l.owner))
                    .num("events", l.records.len())
                    .num("dropped", l.dropped)
            })
            .collect();
        Object::new()
            .str("format", "runtime trace, version 1")
            .str("backend", self.trace.backend)
            .num("buffer_per_thread", self.trace.capacity)
            .list("threads", lanes)
            .finish()
    }

    fn action(&mut self, action: &Action) -> io::Result<()> {
        let lane = action.lane;
        match action.step {
            Step::Begin(i) => self.begin(lane, i),
            Step::End { begin, end } => self.end(lane, begin, end, action.at),
            Step::Instant(i) => self.point(lane, i),
        }
    }

    /// The name and category of the slice begun by record `begin` of `lane`.
    fn slice_name(&self, lane: usize, begin: usize) -> (String, &'static str) {
        let records = &self.trace.lanes[lane].records;
        match &records[begin].event {
            Event::PollBegin { .. } => {
                let number = self.tasks.numbers[lane][begin];
                (format!("poll {}", self.tasks.label(number)), "poll")
            }
            Event::ParkBegin { .. } => match self.ends.get(&(lane, begin)) {
                Some(Some(end)) => match records[*end].event {
                    Event::ParkEnd { syscall, .. } => (format!("park: {syscall}"), "park"),
                    _ => unreachable!("a park ends with ParkEnd"),
                },
                _ => ("park".to_string(), "park"),
            },
            _ => ("blocking job".to_string(), "job"),
        }
    }

    fn begin(&mut self, lane: usize, i: usize) -> io::Result<()> {
        let record = &self.trace.lanes[lane].records[i];
        let (name, cat) = self.slice_name(lane, i);
        let mut args = Object::new();
        match &record.event {
            Event::PollBegin { .. } => {
                let number = self.tasks.numbers[lane][i];
                args = args.num("task", number);
                if let Some(Some(task_name)) = self.tasks.names.get(number as usize) {
                    args = args.str("task_name", task_name);
                }
            }
            Event::ParkBegin { timeout } => {
                args = match timeout {
                    Some(t) => args.num("timeout_us", micros(t.as_nanos() as u64)),
                    None => args.str("timeout", "none (wait until something happens)"),
                };
                if let Some(Some(end)) = self.ends.get(&(lane, i)) {
                    if let Event::ParkEnd {
                        syscall,
                        syscalls,
                        events,
                    } = self.trace.lanes[lane].records[*end].event
                    {
                        args = args
                            .str("syscall", syscall)
                            .num("syscalls", syscalls)
                            .num("events", events);
                    }
                }
            }
            _ => {}
        }
        let event = self
            .base(&name, cat, "B", record.at, lane)
            .obj("args", args);
        self.emit(event)?;
        if let Event::PollBegin { .. } = record.event {
            let number = self.tasks.numbers[lane][i];
            self.polling[lane] = Some(number);
            if let Some(flow) = self.pending_wakes.remove(&number) {
                self.flow("f", "wake", "wake", flow, record.at, lane)?;
            }
        }
        Ok(())
    }

    fn end(&mut self, lane: usize, begin: usize, end: Option<usize>, at: u64) -> io::Result<()> {
        let (name, cat) = self.slice_name(lane, begin);
        let args = match end {
            Some(_) => Object::new(),
            None => Object::new().num("unfinished", true),
        };
        let event = self.base(&name, cat, "E", at, lane).obj("args", args);
        if cat == "poll" {
            self.polling[lane] = None;
        }
        self.emit(event)
    }

    /// Who woke a task, in words: what `lane` was doing.
    fn waker(&self, lane: usize, by: Doing) -> String {
        match by {
            Doing::Polling => match self.polling[lane] {
                Some(number) => self.tasks.label(number),
                None => "a task".to_string(),
            },
            Doing::Parked => "the driver (an IO event)".to_string(),
            Doing::FiringTimers => "a timer".to_string(),
            Doing::RunningJob => "a blocking job".to_string(),
            Doing::Other => "the run loop".to_string(),
        }
    }

    fn point(&mut self, lane: usize, i: usize) -> io::Result<()> {
        let record = &self.trace.lanes[lane].records[i];
        let at = record.at;
        let number = self.tasks.numbers[lane][i];
        let backend = self.trace.backend;
        match &record.event {
            Event::Spawn { .. } => {
                let name = format!("spawn {}", self.tasks.label(number));
                self.instant(&name, "task", at, lane, Object::new().num("task", number))
            }
            Event::Wake {
                owner, local, by, ..
            } => {
                let mut args = Object::new()
                    .num("task", number)
                    .str("wake", if *local { "local" } else { "remote" })
                    .str("by", &self.waker(lane, *by));
                if !*local {
                    let to = self.trace.lanes.iter().find(|l| l.executor == *owner);
                    let to = to.map_or("another runtime".to_string(), |l| lane_name(l.owner));
                    args = args.str("to", &to);
                }
                let name = format!("wake {}", self.tasks.label(number));
                self.instant(&name, "wake", at, lane, args)?;
                let flow = self.next_flow;
                self.next_flow += 1;
                self.pending_wakes.insert(number, flow);
                self.flow("s", "wake", "wake", flow, at, lane)
            }
            Event::WakeArrived { .. } => {
                let name = format!("remote wake arrived: {}", self.tasks.label(number));
                self.instant(&name, "wake", at, lane, Object::new().num("task", number))
            }
            Event::OpSubmit { op, key } => {
                let kind = short_kind(op.kind);
                let mut args = Object::new()
                    .str("op", kind)
                    .num("fd", op.fd)
                    .str("backend", backend);
                if let Some(key) = key {
                    args = args.num("user_data", key);
                    self.op_keys.insert((lane, *key), op.kind);
                }
                self.instant(&format!("submit {kind}"), "op", at, lane, args)?;
                let flow = self.next_flow;
                self.next_flow += 1;
                let task = self.polling[lane].unwrap_or(0);
                self.ops
                    .entry((lane, task, op.kind, op.fd))
                    .or_default()
                    .push_back(flow);
                self.flow("s", kind, "op", flow, at, lane)
            }
            Event::OpComplete { op, result } => {
                let kind = short_kind(op.kind);
                let args = Object::new()
                    .str("op", kind)
                    .num("fd", op.fd)
                    .str("backend", backend);
                let args = with_outcome(args, *result);
                self.instant(&format!("complete {kind}"), "op", at, lane, args)?;
                let task = self.polling[lane].unwrap_or(0);
                let flow = self
                    .ops
                    .get_mut(&(lane, task, op.kind, op.fd))
                    .and_then(VecDeque::pop_front);
                match flow {
                    Some(flow) => self.flow("f", kind, "op", flow, at, lane),
                    None => Ok(()),
                }
            }
            Event::Attempt { op, result } => {
                let kind = short_kind(op.kind);
                let args = Object::new().str("op", kind).num("fd", op.fd);
                let args = with_outcome(args, *result);
                self.instant(&format!("attempt {kind}"), "epoll", at, lane, args)
            }
            Event::Readiness { token, events } => {
                let args = Object::new()
                    .num("token", token)
                    .str("events", &epoll_bits(*events));
                self.instant("readiness event", "epoll", at, lane, args)
            }
            Event::Sqe { opcode, key } => {
                let args = Object::new().num("opcode", opcode).num("user_data", key);
                self.instant("SQE", "io_uring", at, lane, args)
            }
            Event::Cqe { key, result, flags } => {
                let mut args = Object::new().num("user_data", key).num("flags", flags);
                if let Some(kind) = self.op_keys.get(&(lane, *key)) {
                    args = args.str("op", short_kind(kind));
                }
                let args = with_outcome(args, Outcome::from(*result));
                self.instant("CQE", "io_uring", at, lane, args)
            }
            Event::TimerFired => self.instant("timer fired", "timer", at, lane, Object::new()),
            Event::PollBegin { .. }
            | Event::PollEnd { .. }
            | Event::ParkBegin { .. }
            | Event::ParkEnd { .. }
            | Event::JobBegin
            | Event::JobEnd => unreachable!("slices are written by begin and end"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::event::Record;

    fn lane(records: Vec<(u64, Event)>) -> Snapshot {
        Snapshot {
            owner: Owner::Worker(0),
            executor: 1,
            records: records
                .into_iter()
                .map(|(at, event)| Record { at, event })
                .collect(),
            dropped: 0,
        }
    }

    fn steps(snapshot: &Snapshot) -> Vec<String> {
        slices(0, snapshot, 100)
            .into_iter()
            .map(|a| match a.step {
                Step::Begin(i) => format!("B{i}@{}", a.at),
                Step::End {
                    begin,
                    end: Some(e),
                } => format!("E{begin}/{e}@{}", a.at),
                Step::End { begin, end: None } => format!("E{begin}/cut@{}", a.at),
                Step::Instant(i) => format!("i{i}@{}", a.at),
            })
            .collect()
    }

    const T: TaskId = TaskId(8);

    #[test]
    fn an_end_without_its_begin_is_left_out() {
        let snapshot = lane(vec![
            (1, Event::PollEnd { task: T }),
            (2, Event::TimerFired),
            (3, Event::PollBegin { task: T }),
            (4, Event::PollEnd { task: T }),
        ]);
        assert_eq!(steps(&snapshot), ["i1@2", "B2@3", "E2/3@4"]);
    }

    #[test]
    fn a_begin_without_its_end_is_closed() {
        let snapshot = lane(vec![
            (1, Event::ParkBegin { timeout: None }),
            (2, Event::PollBegin { task: T }),
            (3, Event::ParkBegin { timeout: None }),
        ]);
        // The first park is cut where the next one begins (the poll inside it with it); the last
        // one at the end of the trace.
        assert_eq!(
            steps(&snapshot),
            ["B0@1", "B1@2", "E1/cut@3", "E0/cut@3", "B2@3", "E2/cut@100"]
        );
    }

    #[test]
    fn kinds_are_shortened() {
        assert_eq!(short_kind("runtime::driver::ops::recv::Recv"), "Recv");
        assert_eq!(
            short_kind("runtime::driver::ops::fs::read::Read<alloc::vec::Vec<u8>>"),
            "Read"
        );
    }

    #[test]
    fn tasks_are_numbered_in_spawn_order_and_reused_addresses_get_new_numbers() {
        let first = Event::Spawn {
            task: T,
            name: Some("first".into()),
        };
        let again = Event::Spawn {
            task: T,
            name: None,
        };
        let snapshot = lane(vec![
            (1, first),
            (2, Event::PollBegin { task: T }),
            (3, again),
            (4, Event::PollBegin { task: T }),
            (
                5,
                Event::PollBegin {
                    task: TaskId::BLOCK_ON,
                },
            ),
        ]);
        let tasks = Tasks::number(&[snapshot]);
        assert_eq!(tasks.numbers[0], [1, 1, 2, 2, 0]);
        assert_eq!(tasks.label(1), "task 1 (first)");
        assert_eq!(tasks.label(2), "task 2");
        assert_eq!(tasks.label(0), "block_on");
    }
}
