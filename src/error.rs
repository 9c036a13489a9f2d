//! The error type: every way a model can misuse the simulation.
//!
//! Errors raised while a process runs name the process (its handle and, if it was spawned
//! with one, its name), the simulated time and what was wrong:
//!
//! ```
//! use stepsim::{Boxed, Command, Context, Error, Process, Simulation, Wake};
//!
//! struct Coder;
//! impl Process<Boxed<()>> for Coder {
//!     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started => Command::Sleep(3.5),
//!             _ => Command::Sleep(-1.0), // a bug in the model
//!         }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! sim.spawn_named("coder-1", Box::new(Coder));
//! let err = sim.run().unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "at t=3.5, process #0 \"coder-1\": invalid delay -1 (delays must be finite and >= 0)"
//! );
//! assert!(matches!(err, Error::InvalidDelay { delay, .. } if delay == -1.0));
//! ```

use crate::handle::{Handle, Pid};
use std::fmt;

/// A fixed word of an error message. (An alias, so that deriving `Deserialize` does not take
/// the `'static` as a borrow from the input: restoring reads these with
/// `crate::save::interned`.)
type Word = &'static str;

/// The process an error is about, with the name it was spawned with (if any).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProcessRef {
    /// Its handle.
    pub pid: Pid,
    /// Its name, from [`Simulation::spawn_named`](crate::Simulation::spawn_named).
    pub name: Option<String>,
}

impl fmt::Display for ProcessRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "process {} {:?}", self.pid, name),
            None => write!(f, "process {}", self.pid),
        }
    }
}

/// Where an error happened: the simulated time, and the process that was running (if the
/// call came from a process's step rather than from outside the run).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Origin {
    /// Simulated time.
    pub at: f64,
    /// The running process, if any.
    pub process: Option<ProcessRef>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at t={}", self.at)?;
        if let Some(p) = &self.process {
            write!(f, ", {p}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong.
///
/// ```
/// use stepsim::{Boxed, Command, Context, Error, Process, Simulation, Wake};
/// struct Negative;
/// impl Process<Boxed<()>> for Negative {
///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
///         Command::Sleep(-1.0)
///     }
/// }
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// sim.spawn_named("coder-1", Box::new(Negative));
/// let error = sim.run().unwrap_err();
/// assert!(matches!(error, Error::InvalidDelay { .. }));
/// println!("{error}"); // names the time, the process and what was wrong
/// assert!(sim.run().is_ok()); // the process is finished; the simulation is still usable
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Error {
    /// A delay (of a sleep, or an activity's duration) that is negative, NaN or infinite,
    /// or that would end past the largest finite time.
    InvalidDelay {
        /// Where.
        origin: Origin,
        /// The offending delay.
        delay: f64,
        /// What is wrong with it.
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        why: Word,
    },
    /// A time (for `run_until`, or an activity's start bounds) that is NaN, infinite, or
    /// earlier than allowed.
    InvalidTime {
        /// Where.
        origin: Origin,
        /// The offending time.
        time: f64,
        /// What it was for: `"run_until"`, `"an activity's not_before"`, ….
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        what: Word,
        /// What is wrong with it.
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        why: Word,
    },
    /// A queue or resource created with capacity 0.
    ZeroCapacity {
        /// Where.
        origin: Origin,
        /// What was being created.
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        what: Word,
    },
    /// A handle made by another simulation, or one that does not exist.
    ForeignHandle {
        /// Where.
        origin: Origin,
        /// The handle.
        handle: Handle,
    },
    /// The target process has already finished (interrupting it is an error).
    Finished {
        /// Where.
        origin: Origin,
        /// The finished process.
        target: Pid,
    },
    /// A `FirstOf` or `AllOf` with no branches.
    EmptyBranches {
        /// Where.
        origin: Origin,
        /// `"FirstOf"` or `"AllOf"`.
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        command: Word,
    },
    /// A `FirstOf` or `AllOf` with more branches than the engine supports
    /// ([`MAX_BRANCHES`](crate::command::MAX_BRANCHES)).
    TooManyBranches {
        /// Where.
        origin: Origin,
        /// `"FirstOf"` or `"AllOf"`.
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        command: Word,
        /// How many it had.
        branches: usize,
    },
    /// A process tried to interrupt or join itself.
    SelfReference {
        /// Where.
        origin: Origin,
        /// What it tried: "interrupt" or "join".
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        what: Word,
    },
    /// A release of a resource slot that the process does not hold.
    NotHolder {
        /// Where.
        origin: Origin,
        /// The resource.
        resource: crate::ResourceId,
    },
    /// An amount for a container that is not > 0 and finite, or above its capacity, or a
    /// bad initial level or capacity.
    InvalidAmount {
        /// Where.
        origin: Origin,
        /// The offending amount.
        amount: f64,
        /// What is wrong with it.
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        why: Word,
    },
    /// A NaN priority.
    InvalidPriority {
        /// Where.
        origin: Origin,
        /// The offending level.
        level: f64,
    },
    /// A request that the primitive does not support: a priority request on a plain
    /// resource, a filtered get on a queue that is not a filter queue.
    WrongKind {
        /// Where.
        origin: Origin,
        /// The primitive.
        handle: Handle,
        /// What kind it would need to be.
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        needs: Word,
    },
    /// A command shape that is not supported (an `AllOf` nested in an `AllOf`, an `AllOf`
    /// outside a `FirstOf` branch list, a masked `AllOf`).
    Unsupported {
        /// Where.
        origin: Origin,
        /// What.
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        what: Word,
    },
    /// A signal that was succeeded or failed while already fired or firing.
    AlreadyFired {
        /// Where.
        origin: Origin,
        /// The signal.
        signal: crate::handle::SignalId,
    },
    /// A model's own failure, raised with [`Context::fail`](crate::Context::fail).
    Model {
        /// Where.
        origin: Origin,
        /// The model's message.
        message: String,
    },
    /// [`Simulation::run`](crate::Simulation::run) ended with processes still waiting for
    /// something nothing will bring, and
    /// [`Simulation::fail_when_blocked`](crate::Simulation::fail_when_blocked) is on.
    Blocked {
        /// When.
        origin: Origin,
        /// Who waits on what.
        waiting: Vec<crate::engine::Blocked>,
    },
    /// [`Simulation::save`](crate::Simulation::save) cannot save the simulation whole: it
    /// holds something that cannot be written (a function without a name), or it is
    /// poisoned. Nothing was written.
    Unsaveable {
        /// When.
        origin: Origin,
        /// What cannot be saved.
        what: String,
    },
    /// A strict [`Realtime`](crate::realtime::Realtime) pacer found an event whose
    /// wall-clock time had passed by more than it allows (one `factor`): the model computes
    /// too slowly to keep up with the wall clock. The event (at `origin.at`) was not run.
    TooSlow {
        /// The time of the late event.
        origin: Origin,
        /// How long ago, in wall-clock seconds, it was due.
        behind: f64,
        /// The lag allowed, in seconds (the pacer's factor).
        allowed: f64,
    },
    /// A panic unwound out of the simulation — from a process's `step`, a queue's filter or
    /// order, an observer, or anything else run while an event was processed — and was
    /// caught by the caller. The event it interrupted is half done, so the simulation
    /// cannot go on: every later `run`, `run_until` and `step` returns this error.
    Poisoned {
        /// When, and the process concerned (the one being stepped, or whose event it was),
        /// if any.
        origin: Origin,
        /// What was running: `"step"`, `"a queue's filter"`, `"a priority queue's order"`,
        /// `"an observer"`, or `"an event"` (anything else run for an event).
        #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::save::interned"))]
        inside: Word,
    },
}

impl Error {
    /// Where the error happened: the time, and the process if one was concerned.
    pub fn origin(&self) -> &Origin {
        match self {
            Error::InvalidDelay { origin, .. }
            | Error::InvalidTime { origin, .. }
            | Error::ZeroCapacity { origin, .. }
            | Error::ForeignHandle { origin, .. }
            | Error::Finished { origin, .. }
            | Error::EmptyBranches { origin, .. }
            | Error::TooManyBranches { origin, .. }
            | Error::SelfReference { origin, .. }
            | Error::NotHolder { origin, .. }
            | Error::InvalidAmount { origin, .. }
            | Error::InvalidPriority { origin, .. }
            | Error::WrongKind { origin, .. }
            | Error::Unsupported { origin, .. }
            | Error::AlreadyFired { origin, .. }
            | Error::Model { origin, .. }
            | Error::Blocked { origin, .. }
            | Error::TooSlow { origin, .. }
            | Error::Unsaveable { origin, .. }
            | Error::Poisoned { origin, .. } => origin,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.origin())?;
        match self {
            Error::InvalidDelay { delay, why, .. } => write!(f, "invalid delay {delay} ({why})"),
            Error::InvalidTime {
                time, what, why, ..
            } => write!(f, "invalid time {time} for {what}: {why}"),
            Error::ZeroCapacity { what, .. } => {
                write!(f, "a {what} needs a capacity of at least 1")
            }
            Error::ForeignHandle { handle, .. } => {
                write!(f, "{handle} does not belong to this simulation")
            }
            Error::Finished { target, .. } => write!(f, "process {target} has already finished"),
            Error::EmptyBranches { command, .. } => {
                write!(f, "{command} needs at least one branch")
            }
            Error::TooManyBranches {
                command, branches, ..
            } => write!(
                f,
                "a {command} of {branches} branches: at most {} are supported",
                crate::command::MAX_BRANCHES
            ),
            Error::SelfReference { what, .. } => write!(f, "a process cannot {what} itself"),
            Error::NotHolder { resource, .. } => {
                write!(f, "released {resource}, but holds no slot of it")
            }
            Error::InvalidAmount { amount, why, .. } => write!(f, "invalid amount {amount}: {why}"),
            Error::InvalidPriority { level, .. } => write!(f, "invalid priority {level}"),
            Error::WrongKind { handle, needs, .. } => write!(f, "{handle} is not {needs}"),
            Error::Unsupported { what, .. } => write!(f, "unsupported: {what}"),
            Error::AlreadyFired { signal, .. } => write!(f, "{signal} has already fired"),
            Error::Model { message, .. } => f.write_str(message),
            Error::Blocked { waiting, .. } => {
                write!(f, "the run ended with {} blocked:", waiting.len())?;
                for (k, b) in waiting.iter().enumerate() {
                    write!(f, "{} {b}", if k == 0 { "" } else { ";" })?;
                }
                Ok(())
            }
            Error::Unsaveable { what, .. } => write!(f, "cannot save {what}"),
            Error::TooSlow {
                behind, allowed, ..
            } => write!(
                f,
                "simulation too slow for real time: the event was due {behind:.3} s ago (at most {allowed:.3} s allowed)"
            ),
            Error::Poisoned { inside, .. } => write!(
                f,
                "a panic inside {inside} unwound out of the simulation; it cannot continue"
            ),
        }
    }
}

impl std::error::Error for Error {}
