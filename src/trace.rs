//! Tracing: an optional observer that sees every event of a run.
//!
//! Install one with [`Simulation::observe`](crate::Simulation::observe). Without an observer
//! the engine only tests an `Option` per event. The built-in [`TraceLog`] keeps the events in
//! memory: tests assert on it, and it writes them as CSV. Any `FnMut(&TraceEvent)` is an
//! observer too, for streaming or filtering.
//!
//! ```
//! use stepsim::{Boxed, Command, Context, Process, Simulation, TraceLog, Wake};
//!
//! struct Tick;
//! impl Process<Boxed<()>> for Tick {
//!     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake { Wake::Started => Command::Sleep(2.5), _ => Command::Done }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! let log = TraceLog::new();
//! sim.observe(log.clone());
//! sim.spawn_named("tick", Box::new(Tick));
//! sim.run()?;
//! assert_eq!(log.to_csv(), "time,pid,name,event\n0,0,tick,started\n2.5,0,tick,slept\n2.5,0,tick,done\n");
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! Times are written with Rust's shortest round-trip formatting (`2.5`, `3`, `0.1`).

use crate::command::WakeKind;
use crate::handle::Pid;
use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io;
use std::rc::Rc;

/// What happened in one traced event.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TraceKind {
    /// The process was stepped with a wake of this kind.
    Wake(WakeKind),
    /// The process returned [`Command::Done`](crate::Command::Done).
    Done,
    /// The process's command was rejected with an error; it is finished.
    Failed,
    /// An interrupt could not be delivered because its target finished first.
    InterruptDropped,
}

impl fmt::Display for TraceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceKind::Wake(w) => w.fmt(f),
            TraceKind::Done => f.write_str("done"),
            TraceKind::Failed => f.write_str("failed"),
            TraceKind::InterruptDropped => f.write_str("interrupt-dropped"),
        }
    }
}

/// One event as an observer sees it.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct TraceEvent<'a> {
    /// Simulated time.
    pub time: f64,
    /// The process concerned.
    pub pid: Pid,
    /// Its name (empty if it was spawned without one).
    pub name: &'a str,
    /// What happened.
    pub kind: TraceKind,
}

impl fmt::Display for TraceEvent<'_> {
    /// One CSV line (without the newline): `time,pid,name,event`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{},{}",
            self.time,
            self.pid.index(),
            self.name,
            self.kind
        )
    }
}

/// The header line of the CSV trace format.
pub const CSV_HEADER: &str = "time,pid,name,event";

/// Sees every event of a run.
pub trait Observer {
    /// Called once per event, in order.
    fn on_event(&mut self, event: &TraceEvent<'_>);
}

impl<F: FnMut(&TraceEvent<'_>)> Observer for F {
    fn on_event(&mut self, event: &TraceEvent<'_>) {
        self(event)
    }
}

/// An owned copy of a [`TraceEvent`].
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Simulated time.
    pub time: f64,
    /// The process concerned.
    pub pid: Pid,
    /// Its name (empty if none).
    pub name: String,
    /// What happened.
    pub kind: TraceKind,
}

/// An in-memory trace; clones share the same log, so keep one and give one to
/// [`Simulation::observe`](crate::Simulation::observe).
#[derive(Clone, Default)]
pub struct TraceLog {
    records: Rc<RefCell<Vec<Record>>>,
}

impl TraceLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every record so far.
    pub fn records(&self) -> Vec<Record> {
        self.records.borrow().clone()
    }

    /// Number of records so far.
    pub fn len(&self) -> usize {
        self.records.borrow().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.records.borrow().is_empty()
    }

    /// Writes the log as CSV, header included, to any writer (a file, stdout).
    pub fn write_csv<W: io::Write>(&self, mut out: W) -> io::Result<()> {
        out.write_all(self.to_csv().as_bytes())
    }

    /// The log as CSV text, header included.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        out.push('\n');
        for r in self.records.borrow().iter() {
            let e = TraceEvent {
                time: r.time,
                pid: r.pid,
                name: &r.name,
                kind: r.kind,
            };
            let _ = writeln!(out, "{e}");
        }
        out
    }
}

impl Observer for TraceLog {
    fn on_event(&mut self, e: &TraceEvent<'_>) {
        self.records.borrow_mut().push(Record {
            time: e.time,
            pid: e.pid,
            name: e.name.to_owned(),
            kind: e.kind,
        });
    }
}
