//! The error type: every way a model can misuse the simulation.
//!
//! Errors raised while a process runs name the process (its handle and, if it was spawned
//! with one, its name) and the simulated time, so a message reads like
//! `at t=3.5, process #2 "coder-1": Sleep with a negative delay (-1)`.

use crate::handle::{Handle, Pid};
use std::fmt;

/// The process an error is about, with the name it was spawned with (if any).
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A delay that is negative, NaN or infinite.
    InvalidDelay {
        /// Where.
        origin: Origin,
        /// The offending delay.
        delay: f64,
    },
    /// `run_until` with a time that is NaN or earlier than now.
    InvalidTime {
        /// Where.
        origin: Origin,
        /// The requested end time.
        until: f64,
    },
    /// A queue or resource created with capacity 0.
    ZeroCapacity {
        /// Where.
        origin: Origin,
        /// What was being created.
        what: &'static str,
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
    /// A `FirstOf` with no branches.
    EmptyFirstOf {
        /// Where.
        origin: Origin,
    },
    /// A process tried to interrupt or join itself.
    SelfReference {
        /// Where.
        origin: Origin,
        /// What it tried: "interrupt" or "join".
        what: &'static str,
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
        why: &'static str,
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
        needs: &'static str,
    },
    /// A command shape that is not supported (an `AllOf` nested in an `AllOf`, an `AllOf`
    /// outside a `FirstOf` branch list, a masked `AllOf`).
    Unsupported {
        /// Where.
        origin: Origin,
        /// What.
        what: &'static str,
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
    /// A process panicked inside `step` and the panic was caught by the caller; the
    /// simulation cannot go on.
    Poisoned {
        /// The process whose step panicked.
        process: ProcessRef,
    },
}

impl Error {
    /// Where the error happened (`None` for [`Error::Poisoned`]).
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Error::InvalidDelay { origin, .. }
            | Error::InvalidTime { origin, .. }
            | Error::ZeroCapacity { origin, .. }
            | Error::ForeignHandle { origin, .. }
            | Error::Finished { origin, .. }
            | Error::EmptyFirstOf { origin }
            | Error::SelfReference { origin, .. }
            | Error::NotHolder { origin, .. }
            | Error::InvalidAmount { origin, .. }
            | Error::InvalidPriority { origin, .. }
            | Error::WrongKind { origin, .. }
            | Error::Unsupported { origin, .. }
            | Error::AlreadyFired { origin, .. }
            | Error::Model { origin, .. } => Some(origin),
            Error::Poisoned { .. } => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = self.origin() {
            write!(f, "{origin}: ")?;
        }
        match self {
            Error::InvalidDelay { delay, .. } => {
                write!(f, "invalid delay {delay} (delays must be finite and >= 0)")
            }
            Error::InvalidTime { until, .. } => {
                write!(f, "cannot run until t={until}: it is NaN or in the past")
            }
            Error::ZeroCapacity { what, .. } => {
                write!(f, "a {what} needs a capacity of at least 1")
            }
            Error::ForeignHandle { handle, .. } => {
                write!(f, "{handle} does not belong to this simulation")
            }
            Error::Finished { target, .. } => write!(f, "process {target} has already finished"),
            Error::EmptyFirstOf { .. } => f.write_str("FirstOf needs at least one branch"),
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
            Error::Poisoned { process } => write!(
                f,
                "{process} panicked inside step; the simulation cannot continue"
            ),
        }
    }
}

impl std::error::Error for Error {}
