//! Commands a process returns, and the wakes that answer them.
//!
//! A process's [`step`](crate::Process::step) returns one [`Command`]; the simulation carries
//! it out and later calls `step` again with a [`Wake`] that says exactly what happened. Every
//! command except [`Command::Done`] is a *wait*, and every wait is an interrupt point unless it
//! is [`Command::Masked`]: the code between two commands is a critical region.
//!
//! | command | wakes with | withdrawn by an interrupt |
//! |---|---|---|
//! | `Sleep(dt)` / `Yield` | `Slept` | timer cancelled; `Interrupt::waited` says how long it slept |
//! | `Get(q)` | `Got(item)` | leaves the getter list; consumes nothing |
//! | `Put(q, item)` | `Put` | leaves the putter list; the item comes back in `Interrupt::request` |
//! | `Acquire(r)` | `Acquired(r)` | leaves the wait list; no slot is taken |
//! | `Join(pid)` | `Joined(pid)` | stops waiting for `pid` |
//! | `FirstOf(branches)` | `First(..)` | every branch withdrawn as above |
//! | `Masked(wait)` | as `wait` | never: interrupts queue up until it completes |

use crate::handle::{Pid, QueueId, ResourceId};
use smallvec::SmallVec;
use std::fmt;

/// One thing a process can wait for: a single command, a [`Command::FirstOf`] branch, or the
/// wait inside [`Command::Masked`].
#[derive(Clone, Debug, PartialEq)]
pub enum Wait<T> {
    /// Wait `dt` units of simulated time (finite and ≥ 0).
    Sleep(f64),
    /// Take the head item of a queue, waiting while it is empty.
    Get(QueueId),
    /// Put an item into a queue, waiting while it is full.
    Put(QueueId, T),
    /// Take one slot of a resource, waiting in FIFO order while all are in use.
    /// Give it back with [`Context::release`](crate::Context::release).
    Acquire(ResourceId),
    /// Wait until a process has finished (at once if it already has).
    Join(Pid),
}

/// What a process asks the simulation to do next.
///
/// ```
/// use stepsim::{Command, Wait};
/// # let q = { let mut sim = stepsim::Simulation::<stepsim::Boxed<u32>>::new(0);
/// #           sim.queue(stepsim::Capacity::Unbounded).unwrap() };
/// // Take a job, but give up after 5 time units.
/// let cmd: Command<u32> = Command::first_of([Wait::Get(q), Wait::Sleep(5.0)]);
/// // Finish a piece of work that no interrupt may cut short.
/// let critical: Command<u32> = Command::Masked(Wait::Sleep(0.5));
/// # let _ = (cmd, critical);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Command<T> {
    /// Wait `dt` units of simulated time; wakes with [`Wake::Slept`].
    Sleep(f64),
    /// Take the head item of a queue; wakes with [`Wake::Got`].
    Get(QueueId),
    /// Put an item into a queue; wakes with [`Wake::Put`].
    Put(QueueId, T),
    /// Take a resource slot; wakes with [`Wake::Acquired`].
    Acquire(ResourceId),
    /// Wait for a process to finish; wakes with [`Wake::Joined`].
    Join(Pid),
    /// Wait for whichever branch completes first; wakes with [`Wake::First`].
    ///
    /// Branches are checked in order when the command is issued: the first one that can
    /// complete at once wins and the others are never started. Otherwise the first to
    /// complete wins and every other branch is withdrawn in the same instant: no item taken
    /// from a losing queue, a losing `Put`'s item handed back in [`First::others`], no stale
    /// timer, no resource slot held. Up to four branches are stored inline.
    FirstOf(Branches<T>),
    /// Let every process already scheduled for this instant run first, then continue;
    /// the same as `Sleep(0.0)`, and wakes with [`Wake::Slept`].
    Yield,
    /// The same wait with interrupts masked: interrupts that arrive meanwhile queue up and
    /// are delivered, in arrival order, at the process's next interruptible wait.
    Masked(Wait<T>),
    /// The process has finished. Joiners wake, and resource slots it still holds are
    /// released (as SimPy's `with resource.request()` block would).
    Done,
}

impl<T> Command<T> {
    /// A [`Command::FirstOf`] over the given branches.
    pub fn first_of(branches: impl IntoIterator<Item = Wait<T>>) -> Self {
        Command::FirstOf(branches.into_iter().collect())
    }

    /// Whether this command is an interrupt point (every wait but `Masked`; not `Done`).
    pub fn is_interruptible(&self) -> bool {
        !matches!(self, Command::Masked(_) | Command::Done)
    }
}

impl<T> From<Wait<T>> for Command<T> {
    fn from(wait: Wait<T>) -> Self {
        match wait {
            Wait::Sleep(dt) => Command::Sleep(dt),
            Wait::Get(q) => Command::Get(q),
            Wait::Put(q, item) => Command::Put(q, item),
            Wait::Acquire(r) => Command::Acquire(r),
            Wait::Join(p) => Command::Join(p),
        }
    }
}

/// The branches of a [`Command::FirstOf`], in order; up to four are stored without
/// allocating.
#[derive(Clone, PartialEq)]
pub struct Branches<T>(pub(crate) SmallVec<[Wait<T>; 4]>);

impl<T> Branches<T> {
    /// No branches yet.
    pub fn new() -> Self {
        Branches(SmallVec::new())
    }

    /// Adds a branch at the end.
    pub fn push(&mut self, wait: Wait<T>) {
        self.0.push(wait);
    }

    /// The branches, in order.
    pub fn as_slice(&self) -> &[Wait<T>] {
        &self.0
    }

    /// Number of branches.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no branches.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> Default for Branches<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for Branches<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T> FromIterator<Wait<T>> for Branches<T> {
    fn from_iter<I: IntoIterator<Item = Wait<T>>>(iter: I) -> Self {
        Branches(iter.into_iter().collect())
    }
}

impl<T> IntoIterator for Branches<T> {
    type Item = Wait<T>;
    type IntoIter = smallvec::IntoIter<[Wait<T>; 4]>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T, const N: usize> From<[Wait<T>; N]> for Branches<T> {
    fn from(waits: [Wait<T>; N]) -> Self {
        waits.into_iter().collect()
    }
}

/// Why a process is being stepped.
///
/// `I` is the model's interrupt cause type ([`Model::Cause`](crate::Model::Cause)).
#[derive(Clone, Debug, PartialEq)]
pub enum Wake<T, I = ()> {
    /// The first step of a newly spawned process.
    Started,
    /// A `Sleep`, `Yield` or masked sleep has elapsed.
    Slept,
    /// A `Get` took this item.
    Got(T),
    /// A `Put` placed its item in the queue.
    Put,
    /// An `Acquire` got a slot of this resource; the process now holds it.
    Acquired(ResourceId),
    /// The joined process has finished.
    Joined(Pid),
    /// A `FirstOf` completed.
    First(First<T>),
    /// The process was interrupted at an interruptible wait, which was withdrawn.
    Interrupted(Interrupt<T, I>),
}

impl<T, I> Wake<T, I> {
    /// A short name of the wake's kind, as written in traces.
    pub fn kind(&self) -> WakeKind {
        match self {
            Wake::Started => WakeKind::Started,
            Wake::Slept => WakeKind::Slept,
            Wake::Got(_) => WakeKind::Got,
            Wake::Put => WakeKind::Put,
            Wake::Acquired(_) => WakeKind::Acquired,
            Wake::Joined(_) => WakeKind::Joined,
            Wake::First(f) => WakeKind::First(f.index as u32),
            Wake::Interrupted(_) => WakeKind::Interrupted,
        }
    }
}

/// The kind of a [`Wake`], without its payload (what the trace records).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WakeKind {
    /// [`Wake::Started`].
    Started,
    /// [`Wake::Slept`].
    Slept,
    /// [`Wake::Got`].
    Got,
    /// [`Wake::Put`].
    Put,
    /// [`Wake::Acquired`].
    Acquired,
    /// [`Wake::Joined`].
    Joined,
    /// [`Wake::First`], with the winning branch's index.
    First(u32),
    /// [`Wake::Interrupted`].
    Interrupted,
}

impl fmt::Display for WakeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WakeKind::Started => f.write_str("started"),
            WakeKind::Slept => f.write_str("slept"),
            WakeKind::Got => f.write_str("got"),
            WakeKind::Put => f.write_str("put"),
            WakeKind::Acquired => f.write_str("acquired"),
            WakeKind::Joined => f.write_str("joined"),
            WakeKind::First(i) => write!(f, "first:{i}"),
            WakeKind::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// The result of one completed [`Wait`], as reported for a `FirstOf` branch.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<T> {
    /// A `Sleep` elapsed.
    Slept,
    /// A `Get` took this item.
    Got(T),
    /// A `Put` placed its item.
    Put,
    /// An `Acquire` got a slot; the process now holds it.
    Acquired(ResourceId),
    /// The joined process finished.
    Joined(Pid),
}

impl<T, I> From<Outcome<T>> for Wake<T, I> {
    fn from(outcome: Outcome<T>) -> Self {
        match outcome {
            Outcome::Slept => Wake::Slept,
            Outcome::Got(item) => Wake::Got(item),
            Outcome::Put => Wake::Put,
            Outcome::Acquired(r) => Wake::Acquired(r),
            Outcome::Joined(p) => Wake::Joined(p),
        }
    }
}

/// How a [`Command::FirstOf`] completed.
#[derive(Clone, Debug, PartialEq)]
pub struct First<T> {
    /// Index of the winning branch.
    pub index: usize,
    /// What the winning branch produced.
    pub outcome: Outcome<T>,
    /// The losing branches, in their original order, handed back untouched: a losing
    /// `Put` returns its item here.
    pub others: Branches<T>,
}

/// An interrupt, delivered at an interruptible wait.
#[derive(Clone, Debug, PartialEq)]
pub struct Interrupt<T, I> {
    /// The cause given by the interrupter.
    pub cause: I,
    /// The withdrawn wait, handed back as it was issued (a `Put` with its item, a
    /// `FirstOf` with all its branches). Returning it from `step` waits again.
    pub request: Command<T>,
    /// How long the process had been waiting when the interrupt landed (for a `Sleep`,
    /// how long it slept). Zero when interrupts were already queued as the wait was issued.
    pub waited: f64,
}

impl<T, I> Interrupt<T, I> {
    /// For an interrupted `Sleep(dt)`, the time that was left (`dt - waited`, at least 0);
    /// `None` for other waits.
    pub fn remaining_sleep(&self) -> Option<f64> {
        match self.request {
            Command::Sleep(dt) | Command::Masked(Wait::Sleep(dt)) => {
                Some((dt - self.waited).max(0.0))
            }
            _ => None,
        }
    }
}
