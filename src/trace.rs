//! Tracing: an optional observer that sees every event of a run.
//!
//! Install one with [`Simulation::observe`](crate::Simulation::observe). Without an observer
//! the engine only tests an `Option` per event. The built-in [`TraceLog`] keeps the events in
//! memory: tests assert on it, and it writes them as CSV. Any `FnMut(&TraceEvent)` is an
//! observer too, for streaming or filtering. Observers are `Send` (so is a simulation that
//! has one): a closure that collects records into an `Arc<Mutex<..>>`, not an `Rc`.
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
//!
//! # Wait events (opt-in)
//! By default a trace records what *woke* each process, not what it waited on. An observer
//! whose [`Observer::wants_waits`] is true, such as [`TraceLog::with_waits`], also sees a
//! [`TraceKind::Wait`] each time a process *starts* a wait: what it waits on, and whether
//! the wait is masked. That is what a timeline of the processes' states needs (see
//! [`crate::timeline`]). A command held back because interrupts are queued is not started,
//! so it has no wait event: it comes back in the interrupt. The CSV spelling is `wait:`
//! followed by the [`Waiting`]:
//!
//! | command | event |
//! |---|---|
//! | `Sleep(dt)` / `Yield` | `wait:sleep` / `wait:yield` |
//! | `Get(q)` / `Wait(GetWhere(q, _))` | `wait:get:q0` / `wait:get-where:q0` |
//! | `Put(q, _)` | `wait:put:q0` |
//! | `Acquire(r)` / `Wait(AcquireWith(r, _))` | `wait:acquire:r0` |
//! | `Join(pid)` | `wait:join:#3` (the pid's index) |
//! | `Wait(GetAmount(c, _))` / `Wait(PutAmount(c, _))` | `wait:get-amount:c0` / `wait:put-amount:c0` |
//! | `Wait(Signal(s))` | `wait:signal:s0` |
//! | `Wait(Arrive(b))` | `wait:arrive:b0` |
//! | `FirstOf(branches)` / `AllOf(branches)` | `wait:first-of:2` / `wait:all-of:3` (the branch count) |
//! | `Attend(a)` | `wait:attend:a0` |
//! | `Masked(wait)` | `wait:masked:` and the wait's spelling, e.g. `wait:masked:sleep` |
//!
//! The letter and number name the primitive by kind and [`index`](crate::QueueId::index).
//! Only the observer's opinion at [`Simulation::observe`](crate::Simulation::observe)
//! counts; without it the engine pays one `bool` test per started wait.
//!
//! ```
//! use stepsim::{Boxed, Command, Context, Process, Simulation, TraceLog, Wake};
//!
//! struct Careful;
//! impl Process<Boxed<()>> for Careful {
//!     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started => Command::Sleep(1.0).masked(),
//!             _ => Command::Done,
//!         }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! let log = TraceLog::with_waits();
//! sim.observe(log.clone());
//! sim.spawn_named("careful", Box::new(Careful));
//! sim.run()?;
//! assert_eq!(
//!     log.to_csv(),
//!     "time,pid,name,event\n\
//!      0,0,careful,started\n\
//!      0,0,careful,wait:masked:sleep\n\
//!      1,0,careful,slept\n\
//!      1,0,careful,done\n"
//! );
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::command::{Command, Masked, Wait, WakeKind};
use crate::handle::{ActivityId, BarrierId, ContainerId, Pid, QueueId, ResourceId, SignalId};
use std::fmt::{self, Write as _};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

/// What happened in one traced event.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceKind {
    /// The process was stepped with a wake of this kind.
    Wake(WakeKind),
    /// The process returned [`Command::Done`].
    Done,
    /// The process's command was rejected with an error; it is finished.
    Failed,
    /// An interrupt could not be delivered because its target finished first.
    InterruptDropped,
    /// The process started a wait (recorded only for observers that
    /// [want waits](Observer::wants_waits)); written `wait:` and the [`Waiting`].
    Wait(Waiting),
}

/// What a process waits on, without the wait's parameters (durations, items, amounts):
/// the [`Waiting::on`] of a [`TraceKind::Wait`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum WaitKind {
    /// A `Sleep` (written `sleep`).
    Sleep,
    /// A `Yield` (`yield`).
    Yield,
    /// A `Get` from a queue (`get:q0`).
    Get(QueueId),
    /// A `GetWhere` from a filter queue (`get-where:q0`).
    GetWhere(QueueId),
    /// A `Put` into a queue (`put:q0`).
    Put(QueueId),
    /// An `Acquire` of a resource, or an `AcquireWith` a priority (`acquire:r0`).
    Acquire(ResourceId),
    /// A `Join` of a process (`join:#3`, the pid's [`index`](Pid::index)).
    Join(Pid),
    /// A `GetAmount` from a container (`get-amount:c0`).
    GetAmount(ContainerId),
    /// A `PutAmount` into a container (`put-amount:c0`).
    PutAmount(ContainerId),
    /// A wait for a signal (`signal:s0`).
    Signal(SignalId),
    /// An arrival at a barrier (`arrive:b0`).
    Arrive(BarrierId),
    /// A `FirstOf` with this many branches (`first-of:2`).
    FirstOf {
        /// Number of top-level branches.
        branches: u32,
    },
    /// An `AllOf` (a command, or a `FirstOf` branch) with this many waits (`all-of:3`).
    AllOf {
        /// Number of waits.
        branches: u32,
    },
    /// Taking part in an activity (`attend:a0`); never interruptible.
    Attend(ActivityId),
}

impl WaitKind {
    /// The kind of one wait as the engine stores it.
    pub(crate) fn of_wait<T>(wait: &Wait<T>) -> Self {
        match wait {
            Wait::Sleep(_) => WaitKind::Sleep,
            Wait::Yield => WaitKind::Yield,
            Wait::Get(q) => WaitKind::Get(*q),
            Wait::GetWhere(q, _) => WaitKind::GetWhere(*q),
            Wait::Put(q, _) => WaitKind::Put(*q),
            Wait::Acquire(r) | Wait::AcquireWith(r, _) => WaitKind::Acquire(*r),
            Wait::Join(p) => WaitKind::Join(*p),
            Wait::GetAmount(c, _) => WaitKind::GetAmount(*c),
            Wait::PutAmount(c, _) => WaitKind::PutAmount(*c),
            Wait::Signal(s) => WaitKind::Signal(*s),
            Wait::Arrive(b) => WaitKind::Arrive(*b),
            Wait::AllOf(branches) => WaitKind::AllOf {
                branches: count(branches.len()),
            },
            Wait::Invalid(command) => Waiting::of(command).map_or(WaitKind::Yield, |w| w.on),
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl fmt::Display for WaitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitKind::Sleep => f.write_str("sleep"),
            WaitKind::Yield => f.write_str("yield"),
            WaitKind::Get(q) => write!(f, "get:q{}", q.index()),
            WaitKind::GetWhere(q) => write!(f, "get-where:q{}", q.index()),
            WaitKind::Put(q) => write!(f, "put:q{}", q.index()),
            WaitKind::Acquire(r) => write!(f, "acquire:r{}", r.index()),
            WaitKind::Join(p) => write!(f, "join:#{}", p.index()),
            WaitKind::GetAmount(c) => write!(f, "get-amount:c{}", c.index()),
            WaitKind::PutAmount(c) => write!(f, "put-amount:c{}", c.index()),
            WaitKind::Signal(s) => write!(f, "signal:s{}", s.index()),
            WaitKind::Arrive(b) => write!(f, "arrive:b{}", b.index()),
            WaitKind::FirstOf { branches } => write!(f, "first-of:{branches}"),
            WaitKind::AllOf { branches } => write!(f, "all-of:{branches}"),
            WaitKind::Attend(a) => write!(f, "attend:a{}", a.index()),
        }
    }
}

/// A wait a process started: what it waits on, and whether interrupts are masked meanwhile
/// (it was issued [masked](Command::masked)).
///
/// ```
/// use stepsim::{Command, WaitKind, Waiting};
/// let critical: Command<()> = Command::Sleep(0.5).masked();
/// let waiting = Waiting::of(&critical).unwrap();
/// assert_eq!(waiting, Waiting { on: WaitKind::Sleep, masked: true });
/// assert_eq!(waiting.to_string(), "masked:sleep");
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Waiting {
    /// What it waits on.
    pub on: WaitKind,
    /// Issued [masked](Command::masked): interrupts queue up until it completes. (An
    /// [`Attend`](WaitKind::Attend) is never interruptible either, but is not reported as
    /// masked.)
    pub masked: bool,
}

impl Waiting {
    /// What the trace records when `command` starts; `None` for
    /// [`Command::Done`], which is no wait.
    pub fn of<T>(command: &Command<T>) -> Option<Self> {
        let on = match command {
            Command::FirstOf(branches) => WaitKind::FirstOf {
                branches: count(branches.len()),
            },
            Command::AllOf(branches) => WaitKind::AllOf {
                branches: count(branches.len()),
            },
            Command::Masked(Masked(w)) => {
                return Some(Waiting {
                    on: WaitKind::of_wait(w),
                    masked: true,
                });
            }
            Command::Attend(a) => WaitKind::Attend(*a),
            Command::Resume(r) => return Waiting::of(r.command()),
            Command::Done => return None,
            Command::Sleep(_) => WaitKind::Sleep,
            Command::Yield => WaitKind::Yield,
            Command::Get(q) => WaitKind::Get(*q),
            Command::GetWhere(q, _) => WaitKind::GetWhere(*q),
            Command::Put(q, _) => WaitKind::Put(*q),
            Command::Acquire(r) | Command::AcquireWith(r, _) => WaitKind::Acquire(*r),
            Command::Join(p) => WaitKind::Join(*p),
            Command::GetAmount(c, _) => WaitKind::GetAmount(*c),
            Command::PutAmount(c, _) => WaitKind::PutAmount(*c),
            Command::Signal(s) => WaitKind::Signal(*s),
            Command::Arrive(b) => WaitKind::Arrive(*b),
        };
        Some(Waiting { on, masked: false })
    }
}

impl fmt::Display for Waiting {
    /// `masked:` (if masked) followed by the [`WaitKind`]: `sleep`, `masked:sleep`, `get:q0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.masked {
            f.write_str("masked:")?;
        }
        self.on.fmt(f)
    }
}

impl fmt::Display for TraceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceKind::Wake(w) => w.fmt(f),
            TraceKind::Done => f.write_str("done"),
            TraceKind::Failed => f.write_str("failed"),
            TraceKind::InterruptDropped => f.write_str("interrupt-dropped"),
            TraceKind::Wait(w) => write!(f, "wait:{w}"),
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
///
/// ```
/// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
/// struct Nap;
/// impl Process<Boxed<()>> for Nap {
///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         if let Wake::Started = wake { Command::Sleep(2.0) } else { Command::Done }
///     }
/// }
/// use stepsim::{Observer, TraceEvent};
/// /// Counts the events it sees.
/// struct Count(std::sync::Arc<std::sync::atomic::AtomicUsize>);
/// impl Observer for Count {
///     fn on_event(&mut self, _event: &TraceEvent<'_>) {
///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///     }
/// }
/// let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// sim.observe(Count(seen.clone()));
/// sim.spawn(Box::new(Nap));
/// sim.run()?;
/// assert!(seen.load(std::sync::atomic::Ordering::Relaxed) >= 2); // started, slept, done
/// # Ok::<(), stepsim::Error>(())
/// ```
pub trait Observer {
    /// Called once per event, in order.
    fn on_event(&mut self, event: &TraceEvent<'_>);

    /// Whether to see a [`TraceKind::Wait`] each time a process starts a wait, too (false
    /// unless overridden). Asked once, by [`Simulation::observe`](crate::Simulation::observe).
    fn wants_waits(&self) -> bool {
        false
    }
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
/// [`Simulation::observe`](crate::Simulation::observe). It is `Send` and `Sync` (the records
/// sit behind an `Arc<Mutex<..>>`), so a simulation observed by one can run on another
/// thread while this thread keeps the other clone.
///
/// ```
/// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
/// struct Nap;
/// impl Process<Boxed<()>> for Nap {
///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         if let Wake::Started = wake { Command::Sleep(2.0) } else { Command::Done }
///     }
/// }
/// use stepsim::TraceLog;
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// let log = TraceLog::new(); // a clone shares the records
/// sim.observe(log.clone());
/// sim.spawn_named("napper", Box::new(Nap));
/// sim.run()?;
/// println!("{}", log.to_csv()); // time,pid,name,event
/// assert!(log.to_csv().lines().count() > 2);
/// # Ok::<(), stepsim::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct TraceLog {
    records: Arc<Mutex<Vec<Record>>>,
    waits: bool,
}

impl TraceLog {
    /// An empty log of wakes, exits and dropped interrupts.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty log that also records every wait a process starts ([`TraceKind::Wait`],
    /// see [the module docs](self#wait-events-opt-in)): what a
    /// [`Timeline`](crate::timeline::Timeline) is built from.
    pub fn with_waits() -> Self {
        TraceLog {
            records: Arc::default(),
            waits: true,
        }
    }

    /// The records, locked. A panic while a clone held the lock (only ever inside
    /// `on_event`, whose push cannot be left half done) does not hide them.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<Record>> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A copy of every record so far.
    pub fn records(&self) -> Vec<Record> {
        self.lock().clone()
    }

    /// Number of records so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Writes the log as CSV, header included, to any writer (a file, stdout).
    pub fn write_csv<W: io::Write>(&self, mut out: W) -> io::Result<()> {
        out.write_all(self.to_csv().as_bytes())
    }

    /// The log as CSV text, header included.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        out.push('\n');
        for r in self.lock().iter() {
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
        self.lock().push(Record {
            time: e.time,
            pid: e.pid,
            name: e.name.to_owned(),
            kind: e.kind,
        });
    }

    fn wants_waits(&self) -> bool {
        self.waits
    }
}
