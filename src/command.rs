//! Commands a process returns, and the wakes that answer them.
//!
//! A process's [`step`](crate::Process::step) returns one [`Command`]; the simulation carries
//! it out and later calls `step` again with a [`Wake`] that says exactly what happened. Every
//! command except [`Command::Done`] is a *wait*, and every wait is an interrupt point unless it
//! is [masked](Command::masked): the code between two commands is a critical region.
//!
//! Every wait has one spelling, whether it is the whole command, a branch of a
//! [`Command::FirstOf`] or [`Command::AllOf`], or masked:
//!
//! ```
//! # use stepsim::{Reason, Command, Interrupt, Outcome, Priority};
//! # let (q, r) = { let mut sim = stepsim::Simulation::<stepsim::Boxed<u32>>::new(0);
//! #   (sim.queue(stepsim::Capacity::Unbounded).unwrap(), sim.priority_resource(1).unwrap()) };
//! let alone: Command<u32> = Command::Get(q);
//! let reneging: Command<u32> = Command::first_of([Command::Get(q), Command::Sleep(5.0)]);
//! let critical: Command<u32> = Command::Sleep(0.5).masked();
//! let urgent: Command<u32> = Command::AcquireWith(r, Priority::new(1.0));
//! # let _ = (alone, reneging, critical, urgent);
//! ```
//!
//! A wake is one of four things, so a `match` on it needs no catch-all arm that could swallow
//! an interrupt: [`Wake::Started`], [`Wake::Completed`] with the [`Outcome`] of a single wait
//! or an `AllOf`, [`Wake::First`] for a `FirstOf`, and [`Wake::Interrupted`] — by the model,
//! a preemption or an activity's summons ([`Reason`]).
//!
//! | command | completes with | withdrawn by an interrupt |
//! |---|---|---|
//! | `Sleep(dt)` / `Yield` | `Slept` | timer cancelled; `Interrupt::waited` says how long it slept |
//! | `Get(q)` / `GetWhere(q, filter)` | `Got(item)` | leaves the getter list; consumes nothing |
//! | `Put(q, item)` | `Put` | leaves the putter list; the item comes back in `Interrupt::request` |
//! | `Acquire(r)` / `AcquireWith(r, priority)` | `Acquired(r)` | leaves the wait list; no slot is taken |
//! | `Join(pid)` | `Joined(pid, exit)` | stops waiting for `pid` |
//! | `GetAmount(c, n)` / `PutAmount(c, n)` | `GotAmount` / `PutAmount` | leaves the wait list; the level is untouched |
//! | `Signal(s)` | `Signaled(s, value)` | stops waiting |
//! | `Arrive(b)` | `Released(b)` | the arrival is taken back |
//! | `FirstOf(branches)` | [`Wake::First`] | every branch withdrawn as above |
//! | `AllOf(branches)` | `All(outcomes)` | unsatisfied branches withdrawn; what satisfied ones took is handed back in `Interrupt::taken` |
//! | `wait.masked()` | as `wait` | never: interrupts queue up until it completes |
//! | `Attend(activity)` | `ActivityOver(activity)` | never (held until the activity ends) |
//!
//! # Carry on, or start again
//! An interrupt hands the withdrawn wait back in [`Interrupt::request`], exactly as issued:
//! returning it *starts again* (a sleep of its whole duration, a request at the back of its
//! line). [`Interrupt::resume`] *carries on*: a sleep for the time that was left, each request
//! in the place in line it had.

use crate::error::Error;
use crate::handle::{ActivityId, BarrierId, ContainerId, Pid, QueueId, ResourceId, SignalId};
use smallvec::SmallVec;
use std::fmt;
use std::sync::Arc;

/// The most branches a [`Command::FirstOf`] or [`Command::AllOf`] (or an `AllOf` branch of a
/// `FirstOf`) may have; a command with more is rejected with
/// [`Error::TooManyBranches`].
pub const MAX_BRANCHES: usize = u16::MAX as usize;

/// The priority of a request to a priority or preemptive resource.
///
/// Requests are served by `(level, request time, preempting first)`, FIFO among equals, as
/// in SimPy. On a preemptive resource, a request with `preempt` evicts the worst current
/// holder if that holder's key is worse than the request's.
#[derive(Copy, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Priority {
    /// Lower is better. Must not be NaN. Levels compare as numbers (`-0.0 == 0.0`, as in
    /// SimPy).
    pub level: f64,
    /// Whether the request may evict a worse holder (only on a preemptive resource).
    pub preempt: bool,
}

impl Priority {
    /// A request at `level` that preempts (on a preemptive resource): `Priority::new(1)`,
    /// `Priority::new(0.5)`.
    ///
    /// ```
    /// use stepsim::Priority;
    /// let urgent = Priority::new(0);
    /// let routine = Priority::without_preempting(5);
    /// assert!(urgent.level < routine.level && urgent.preempt && !routine.preempt);
    /// ```
    pub fn new(level: impl Into<f64>) -> Self {
        Priority {
            level: level.into(),
            preempt: true,
        }
    }

    /// A request at `level` that waits instead of preempting.
    pub fn without_preempting(level: impl Into<f64>) -> Self {
        Priority {
            level: level.into(),
            preempt: false,
        }
    }
}

/// A predicate choosing which item a [`Command::GetWhere`] takes.
///
/// ```
/// use stepsim::Filter;
/// let big = Filter::new(|size: &u32| *size > 10);
/// assert!(big.matches(&11) && !big.matches(&3));
/// ```
///
/// A filter is a closure, which cannot be written to a file: a simulation that is to be
/// saved ([`crate::save`]) names its filters with [`Filter::named`], and the restoring
/// program gives each again by that name ([`Restore::filter`](crate::save::Restore::filter)).
pub struct Filter<T>(Arc<FilterFn<T>>);

/// A filter's predicate and name, behind one thin pointer (a [`Command`] stays small).
struct FilterFn<T> {
    predicate: Box<dyn Fn(&T) -> bool + Send + Sync>,
    name: Option<Box<str>>,
}

impl<T> Filter<T> {
    /// Wraps a predicate.
    pub fn new(predicate: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        Filter(Arc::new(FilterFn {
            predicate: Box::new(predicate),
            name: None,
        }))
    }

    /// Wraps a predicate under a name, by which a saved simulation refers to it.
    ///
    /// ```
    /// use stepsim::Filter;
    /// let big = Filter::named("big", |size: &u32| *size > 10);
    /// assert_eq!(big.name(), Some("big"));
    /// assert!(big.matches(&11));
    /// ```
    pub fn named(name: &str, predicate: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        Filter(Arc::new(FilterFn {
            predicate: Box::new(predicate),
            name: Some(name.into()),
        }))
    }

    /// Its name, if it was made with [`Filter::named`].
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// Whether `item` matches.
    pub fn matches(&self, item: &T) -> bool {
        (self.0.predicate)(item)
    }
}

impl<T> Clone for Filter<T> {
    fn clone(&self) -> Self {
        Filter(Arc::clone(&self.0))
    }
}

impl<T> PartialEq for Filter<T> {
    /// Two filters are equal when they are clones of one predicate.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> fmt::Debug for Filter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Filter({name:?})"),
            None => f.write_str("Filter(..)"),
        }
    }
}

/// What a process asks the simulation to do next: a wait, or [`Command::Done`].
///
/// ```
/// use stepsim::Command;
/// # let q = { let mut sim = stepsim::Simulation::<stepsim::Boxed<u32>>::new(0);
/// #           sim.queue(stepsim::Capacity::Unbounded).unwrap() };
/// // Take a job, but give up after 5 time units.
/// let cmd: Command<u32> = Command::first_of([Command::Get(q), Command::Sleep(5.0)]);
/// // Finish a piece of work that no interrupt may cut short.
/// let critical: Command<u32> = Command::Sleep(0.5).masked();
/// # let _ = (cmd, critical);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub enum Command<T> {
    /// Wait `dt` units of simulated time (finite, ≥ 0); completes with [`Outcome::Slept`].
    Sleep(f64),
    /// Let every process already scheduled for this instant run first, then continue; the
    /// same as `Sleep(0.0)`, and completes with [`Outcome::Slept`].
    Yield,
    /// Take the head item of a queue, waiting while it is empty; completes with
    /// [`Outcome::Got`].
    Get(QueueId),
    /// Take the first item of a filter queue that the filter accepts, waiting until one
    /// does; completes with [`Outcome::Got`].
    GetWhere(QueueId, Filter<T>),
    /// Put an item into a queue, waiting while it is full; completes with [`Outcome::Put`].
    Put(QueueId, T),
    /// Take one slot of a resource, waiting in line while all are in use (at priority level
    /// 0 on a priority resource); completes with [`Outcome::Acquired`]. Give it back with
    /// [`Context::release`](crate::Context::release).
    Acquire(ResourceId),
    /// Take a slot of a priority or preemptive resource with a priority (lower first);
    /// completes with [`Outcome::Acquired`].
    AcquireWith(ResourceId, Priority),
    /// Wait until a process has finished (at once if it already has); completes with
    /// [`Outcome::Joined`].
    Join(Pid),
    /// Take an amount (> 0) from a container, waiting until its level allows; completes
    /// with [`Outcome::GotAmount`].
    GetAmount(ContainerId, f64),
    /// Add an amount (> 0) to a container, waiting until there is room; completes with
    /// [`Outcome::PutAmount`].
    PutAmount(ContainerId, f64),
    /// Wait until a signal fires (at once if it already has); completes with
    /// [`Outcome::Signaled`].
    Signal(SignalId),
    /// Arrive at a barrier and wait until it releases; completes with
    /// [`Outcome::Released`].
    Arrive(BarrierId),
    /// Wait for whichever branch completes first; wakes with [`Wake::First`]. Make it with
    /// [`Command::first_of`].
    ///
    /// Branches are checked in order when the command is issued: the first one that can
    /// complete at once wins and the others are never started. Otherwise the first to
    /// complete wins and every other branch is withdrawn in the same instant: no item taken
    /// from a losing queue, a losing `Put`'s item handed back in [`First::others`], no stale
    /// timer, no resource slot held. A branch may be any wait, or an `AllOf`. Up to four
    /// branches are stored inline, and at most [`MAX_BRANCHES`] are allowed.
    FirstOf(Branches<T>),
    /// Wait until every branch is satisfied; completes with [`Outcome::All`], the outcomes
    /// in branch order. An interrupt withdraws the branches still pending and hands back
    /// what the satisfied ones took in [`Interrupt::taken`]. Make it with
    /// [`Command::all_of`].
    AllOf(Branches<T>),
    /// A wait with interrupts masked; make it with [`Command::masked`].
    Masked(Masked<T>),
    /// Take part in the activity this process was just summoned to (the only valid answer
    /// to a [`Reason::Summoned`] interrupt); held, with interrupts queued, until it ends,
    /// then completes with [`Outcome::ActivityOver`]. See [`crate::activity`].
    Attend(ActivityId),
    /// Carry on with a wait an interrupt withdrew; made by [`Interrupt::resume`].
    Resume(Resume<T>),
    /// The process has finished. Joiners wake, and resource slots it still holds are
    /// released (as SimPy's `with resource.request()` block would).
    Done,
}

impl<T> Command<T> {
    /// A [`Command::FirstOf`] over the given branches (waits, or `AllOf`s).
    pub fn first_of(branches: impl IntoIterator<Item = Command<T>>) -> Self {
        Command::FirstOf(branches.into_iter().collect())
    }

    /// A [`Command::AllOf`] over the given waits.
    pub fn all_of(branches: impl IntoIterator<Item = Command<T>>) -> Self {
        Command::AllOf(branches.into_iter().collect())
    }

    /// The same wait with interrupts masked: interrupts that arrive meanwhile queue up and
    /// are delivered, in arrival order, at the process's next interruptible wait. Only a
    /// single wait can be masked (not a `FirstOf`, an `AllOf` or `Done`: issuing one is an
    /// error).
    ///
    /// ```
    /// use stepsim::Command;
    /// let critical: Command<()> = Command::Sleep(2.0).masked();
    /// assert_eq!(critical.clone().unmasked(), Command::Sleep(2.0));
    /// assert!(!critical.is_interruptible());
    /// ```
    pub fn masked(self) -> Self {
        match self {
            masked @ Command::Masked(_) => masked,
            other => Command::Masked(Masked(Wait::from_command(other))),
        }
    }

    /// A masked command's wait as a plain (interruptible) command; any other command as it
    /// is.
    pub fn unmasked(self) -> Self {
        match self {
            Command::Masked(Masked(wait)) => wait.into_command(),
            other => other,
        }
    }

    /// Whether this command is an interrupt point (every wait but a masked one and
    /// `Attend`; not `Done`).
    pub fn is_interruptible(&self) -> bool {
        !matches!(
            self,
            Command::Masked(_) | Command::Attend(_) | Command::Done
        )
    }
}

/// A masked wait: see [`Command::masked`].
#[derive(Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub struct Masked<T>(pub(crate) Wait<T>);

impl<T: fmt::Debug> fmt::Debug for Masked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Masked").field(&self.0).finish()
    }
}

/// One wait as the engine stores it: a single command, a branch of a `FirstOf` or `AllOf`,
/// or the wait inside a masked command. [`Command`] is the public spelling of each.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub(crate) enum Wait<T> {
    Sleep(f64),
    Yield,
    Get(QueueId),
    GetWhere(QueueId, Filter<T>),
    Put(QueueId, T),
    Acquire(ResourceId),
    AcquireWith(ResourceId, Priority),
    Join(Pid),
    GetAmount(ContainerId, f64),
    PutAmount(ContainerId, f64),
    Signal(SignalId),
    Arrive(BarrierId),
    /// Only as a branch of a `FirstOf`.
    AllOf(Box<Branches<T>>),
    /// A command that is not a wait where one was needed: rejected when issued, with this
    /// command kept to be named (and handed back) as it was.
    Invalid(Box<Command<T>>),
}

impl<T> Wait<T> {
    /// The wait a command stands for, as a branch or inside a masked command.
    pub(crate) fn from_command(command: Command<T>) -> Self {
        Self::from_command_inline(command)
    }

    /// [`Wait::from_command`], inline: where branches are collected the caller's commands
    /// are often known (`Command::first_of([Command::Acquire(r), ..])`), and the match
    /// folds away.
    #[inline(always)]
    fn from_command_inline(command: Command<T>) -> Self {
        // The waits that own nothing are copied out and the command forgotten: moving out
        // of it by value leaves drop glue to run on what is left.
        let plain = match &command {
            Command::Sleep(dt) => Wait::Sleep(*dt),
            Command::Yield => Wait::Yield,
            Command::Get(q) => Wait::Get(*q),
            Command::Acquire(r) => Wait::Acquire(*r),
            Command::AcquireWith(r, p) => Wait::AcquireWith(*r, *p),
            Command::Join(p) => Wait::Join(*p),
            Command::GetAmount(c, n) => Wait::GetAmount(*c, *n),
            Command::PutAmount(c, n) => Wait::PutAmount(*c, *n),
            Command::Signal(s) => Wait::Signal(*s),
            Command::Arrive(b) => Wait::Arrive(*b),
            _ => return Self::from_owning_command(command),
        };
        std::mem::forget(command);
        plain
    }

    /// [`Wait::from_command`] for the commands that may own something.
    fn from_owning_command(command: Command<T>) -> Self {
        match command {
            Command::Sleep(dt) => Wait::Sleep(dt),
            Command::Yield => Wait::Yield,
            Command::Get(q) => Wait::Get(q),
            Command::GetWhere(q, f) => Wait::GetWhere(q, f),
            Command::Put(q, item) => Wait::Put(q, item),
            Command::Acquire(r) => Wait::Acquire(r),
            Command::AcquireWith(r, p) => Wait::AcquireWith(r, p),
            Command::Join(p) => Wait::Join(p),
            Command::GetAmount(c, n) => Wait::GetAmount(c, n),
            Command::PutAmount(c, n) => Wait::PutAmount(c, n),
            Command::Signal(s) => Wait::Signal(s),
            Command::Arrive(b) => Wait::Arrive(b),
            Command::AllOf(branches) => Wait::AllOf(Box::new(branches)),
            other @ (Command::FirstOf(_)
            | Command::Masked(_)
            | Command::Attend(_)
            | Command::Resume(_)
            | Command::Done) => Wait::Invalid(Box::new(other)),
        }
    }

    /// The command this wait was issued as.
    pub(crate) fn into_command(self) -> Command<T> {
        match self {
            Wait::Sleep(dt) => Command::Sleep(dt),
            Wait::Yield => Command::Yield,
            Wait::Get(q) => Command::Get(q),
            Wait::GetWhere(q, f) => Command::GetWhere(q, f),
            Wait::Put(q, item) => Command::Put(q, item),
            Wait::Acquire(r) => Command::Acquire(r),
            Wait::AcquireWith(r, p) => Command::AcquireWith(r, p),
            Wait::Join(p) => Command::Join(p),
            Wait::GetAmount(c, n) => Command::GetAmount(c, n),
            Wait::PutAmount(c, n) => Command::PutAmount(c, n),
            Wait::Signal(s) => Command::Signal(s),
            Wait::Arrive(b) => Command::Arrive(b),
            Wait::AllOf(branches) => Command::AllOf(*branches),
            Wait::Invalid(command) => *command,
        }
    }
}

/// The branches of a [`Command::FirstOf`] or [`Command::AllOf`], in order; up to four are
/// stored without allocating. Made from commands ([`Command::first_of`],
/// [`Command::all_of`], `collect`), and handed back as commands.
///
/// ```
/// use stepsim::{Boxed, Capacity, Reason, Command, Context, Interrupt, Outcome, Process, QueueId, Simulation, Wake};
///
/// /// Needs a bolt *and* a nut before it can assemble.
/// struct Assembler { bolts: QueueId, nuts: QueueId }
/// impl Process<Boxed<&'static str>> for Assembler {
///     fn step(&mut self, cx: &mut Context<'_, Boxed<&'static str>>, wake: Wake<&'static str>)
///         -> Command<&'static str> {
///         match wake {
///             Wake::Started => Command::all_of([Command::Get(self.bolts), Command::Get(self.nuts)]),
///             Wake::Completed(Outcome::All(parts)) => {
///                 assert_eq!(parts, vec![Outcome::Got("bolt"), Outcome::Got("nut")]);
///                 assert_eq!(cx.now(), 2.0); // when the last one arrived
///                 Command::Done
///             }
///             other => unreachable!("{other:?}"),
///         }
///     }
/// }
/// struct Supplier { to: QueueId, part: &'static str, at: f64 }
/// impl Process<Boxed<&'static str>> for Supplier {
///     fn step(&mut self, _: &mut Context<'_, Boxed<&'static str>>, wake: Wake<&'static str>)
///         -> Command<&'static str> {
///         match wake {
///             Wake::Started => Command::Sleep(self.at),
///             Wake::Completed(Outcome::Slept) => Command::Put(self.to, self.part),
///             _ => Command::Done,
///         }
///     }
/// }
/// let mut sim = Simulation::<Boxed<&'static str>>::new(0);
/// let (bolts, nuts) = (sim.queue(Capacity::Unbounded)?, sim.queue(Capacity::Unbounded)?);
/// sim.spawn(Box::new(Assembler { bolts, nuts }));
/// sim.spawn(Box::new(Supplier { to: nuts, part: "nut", at: 2.0 }));
/// sim.spawn(Box::new(Supplier { to: bolts, part: "bolt", at: 1.0 }));
/// sim.run()?;
/// # Ok::<(), stepsim::Error>(())
/// ```
#[derive(Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub struct Branches<T>(pub(crate) SmallVec<[Wait<T>; 4]>);

impl<T> Branches<T> {
    /// No branches yet.
    pub fn new() -> Self {
        Branches(SmallVec::new())
    }

    /// Adds a branch at the end.
    pub fn push(&mut self, branch: Command<T>) {
        self.0.push(Wait::from_command(branch));
    }

    /// Number of branches.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no branches.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The branches as commands, in order (cloned).
    pub fn to_vec(&self) -> Vec<Command<T>>
    where
        T: Clone,
    {
        self.0.iter().cloned().map(Wait::into_command).collect()
    }

    pub(crate) fn as_slice(&self) -> &[Wait<T>] {
        &self.0
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

impl<T> FromIterator<Command<T>> for Branches<T> {
    fn from_iter<I: IntoIterator<Item = Command<T>>>(iter: I) -> Self {
        // A plain loop, not `map` and `collect`: with the conversion inline, an adapter's
        // `next` is left out of line, a call per branch.
        let iter = iter.into_iter();
        let mut waits = SmallVec::new();
        let (least, _) = iter.size_hint();
        if least > 4 {
            waits.reserve(least);
        }
        for command in iter {
            waits.push(Wait::from_command_inline(command));
        }
        Branches(waits)
    }
}

impl<T> IntoIterator for Branches<T> {
    type Item = Command<T>;
    type IntoIter = BranchesIntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        BranchesIntoIter(self.0.into_iter())
    }
}

/// The branches of a [`Branches`], as commands, in order.
pub struct BranchesIntoIter<T>(smallvec::IntoIter<[Wait<T>; 4]>);

impl<T> Iterator for BranchesIntoIter<T> {
    type Item = Command<T>;
    fn next(&mut self) -> Option<Command<T>> {
        self.0.next().map(Wait::into_command)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<T, const N: usize> From<[Command<T>; N]> for Branches<T> {
    fn from(branches: [Command<T>; N]) -> Self {
        branches.into_iter().collect()
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[Command<T>; N]> for Branches<T> {
    /// Whether these are the branches given, in order.
    fn eq(&self, other: &[Command<T>; N]) -> bool {
        self.0.len() == N
            && self.0.iter().zip(other).all(|(w, c)| match (w, c) {
                (Wait::AllOf(all), Command::AllOf(other)) => **all == *other,
                (Wait::Invalid(bad), c) => **bad == *c,
                (w, c) => Wait::ref_eq(w, c),
            })
    }
}

impl<T: PartialEq> Wait<T> {
    /// Whether this is the wait `command` stands for.
    fn ref_eq(&self, command: &Command<T>) -> bool {
        match (self, command) {
            (Wait::Sleep(a), Command::Sleep(b)) => a == b,
            (Wait::Yield, Command::Yield) => true,
            (Wait::Get(a), Command::Get(b)) => a == b,
            (Wait::GetWhere(a, f), Command::GetWhere(b, g)) => a == b && f == g,
            (Wait::Put(a, x), Command::Put(b, y)) => a == b && x == y,
            (Wait::Acquire(a), Command::Acquire(b)) => a == b,
            (Wait::AcquireWith(a, p), Command::AcquireWith(b, q)) => a == b && p == q,
            (Wait::Join(a), Command::Join(b)) => a == b,
            (Wait::GetAmount(a, n), Command::GetAmount(b, m)) => a == b && n == m,
            (Wait::PutAmount(a, n), Command::PutAmount(b, m)) => a == b && n == m,
            (Wait::Signal(a), Command::Signal(b)) => a == b,
            (Wait::Arrive(a), Command::Arrive(b)) => a == b,
            _ => false,
        }
    }
}

/// Why a process is being stepped: one of four things, so that a `match` needs no
/// catch-all that could swallow an interrupt.
///
/// `I` is the model's interrupt cause type ([`Model::Cause`](crate::Model::Cause)).
///
/// ```
/// use stepsim::{Boxed, Reason, Command, Context, Interrupt, Outcome, Process, Wake};
///
/// /// Works 10 units at a time; an interrupt makes it carry on with what was left.
/// struct Worker { done: u32 }
/// impl Process<Boxed<(), &'static str>> for Worker {
///     fn step(&mut self, _: &mut Context<'_, Boxed<(), &'static str>>, wake: Wake<(), &'static str>)
///         -> Command<()> {
///         match wake {
///             Wake::Started => Command::Sleep(10.0),
///             Wake::Completed(_) => { self.done += 1; Command::Sleep(10.0) }
///             Wake::First(_) => unreachable!("it issues no FirstOf"),
///             Wake::Interrupted(i) => match i.cause {
///                 Reason::Interrupt(_why) => i.resume(),
///                 Reason::Preempted(_) | Reason::Summoned(_) => Command::Done,
///             },
///         }
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        deserialize = "T: serde::Deserialize<'de> + 'static, I: serde::Deserialize<'de>"
    ))
)]
#[repr(u8)]
pub enum Wake<T, I = ()> {
    /// The first step of a newly spawned process.
    Started,
    /// A single wait or an `AllOf` completed, with this outcome.
    Completed(Outcome<T>),
    /// A `FirstOf` completed.
    First(First<T>),
    /// The current wait was withdrawn (handed back in [`Interrupt::request`]) because of an
    /// interrupt from the model, a preemption, or an activity's summons ([`Reason`]).
    Interrupted(Interrupt<T, I>),
}

/// Why a wait was withdrawn: the cause of a [`Wake::Interrupted`].
///
/// ```
/// use stepsim::{Command, Interrupt, Reason};
/// /// What an interrupted process does, by why it was interrupted.
/// fn on_interrupt(i: Interrupt<(), &'static str>) -> Command<()> {
///     match i.cause {
///         Reason::Interrupt("urgent") => Command::Sleep(1.0), // do the urgent thing
///         Reason::Interrupt(_) => i.resume(),                  // ignore it, carry on
///         Reason::Preempted(_) => i.request,                   // ask again for the slot
///         Reason::Summoned(activity) => Command::Attend(activity),
///     }
/// }
/// let i = Interrupt::new("fyi", Command::Sleep(5.0), 2.0);
/// assert_eq!(on_interrupt(i), Command::Sleep(3.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Reason<I> {
    /// An interrupt from the model ([`Context::interrupt`](crate::Context::interrupt)),
    /// with its cause.
    Interrupt(I),
    /// The process lost a slot of a preemptive resource to a better request. The slot is
    /// already gone (releasing it is a no-op).
    Preempted(Preempted),
    /// The process was pulled into an activity that started: answer
    /// [`Command::Attend`] with it.
    Summoned(ActivityId),
}

/// What a signal fires with: a value (or none), or a failure reason.
pub type SignalValue<T> = Result<Option<T>, Arc<str>>;

/// How a joined process ended.
///
/// ```
/// use stepsim::{Exit, Outcome, Wake};
/// fn describe(wake: Wake<u32>) -> String {
///     match wake {
///         Wake::Completed(Outcome::Joined(_, Exit::Returned(Some(v)))) => format!("returned {v}"),
///         Wake::Completed(Outcome::Joined(_, Exit::Failed(e))) => format!("failed: {e}"),
///         Wake::Completed(Outcome::Joined(..)) => "finished".into(),
///         _ => "something else".into(),
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Exit<T> {
    /// It returned `Done`, leaving this value (see
    /// [`Context::exit_value`](crate::Context::exit_value)), or none.
    Returned(Option<T>),
    /// It failed with this error.
    Failed(Box<Error>),
    /// It had finished before the join was issued and was not kept (see
    /// [`Simulation::keep_finished`](crate::Simulation::keep_finished)).
    Gone,
}

/// The cause of a [`Reason::Preempted`] interrupt.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Preempted {
    /// The process whose request evicted this one.
    pub by: Pid,
    /// When the evicted process had got the slot.
    pub since: f64,
    /// The resource.
    pub resource: ResourceId,
}

impl<T, I> Wake<T, I> {
    /// A short name of the wake's kind, as written in traces.
    pub fn kind(&self) -> WakeKind {
        match self {
            Wake::Started => WakeKind::Started,
            Wake::Completed(outcome) => outcome.kind(),
            Wake::First(f) => WakeKind::First(f.index as u32),
            Wake::Interrupted(i) => match i.cause {
                Reason::Interrupt(_) => WakeKind::Interrupted,
                Reason::Preempted(_) => WakeKind::Preempted,
                Reason::Summoned(_) => WakeKind::Summoned,
            },
        }
    }
}

/// The kind of a [`Wake`], without its payload (what the trace records).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WakeKind {
    /// [`Wake::Started`].
    Started,
    /// [`Outcome::Slept`].
    Slept,
    /// [`Outcome::Got`].
    Got,
    /// [`Outcome::Put`].
    Put,
    /// [`Outcome::Acquired`].
    Acquired,
    /// [`Outcome::Joined`].
    Joined,
    /// [`Outcome::GotAmount`].
    GotAmount,
    /// [`Outcome::PutAmount`].
    PutAmount,
    /// [`Outcome::Signaled`].
    Signaled,
    /// [`Outcome::Released`].
    Released,
    /// [`Wake::First`], with the winning branch's index.
    First(u32),
    /// [`Outcome::All`].
    All,
    /// [`Reason::Interrupt`].
    Interrupted,
    /// [`Reason::Preempted`].
    Preempted,
    /// [`Reason::Summoned`].
    Summoned,
    /// [`Outcome::ActivityOver`].
    ActivityOver,
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
            WakeKind::GotAmount => f.write_str("got-amount"),
            WakeKind::PutAmount => f.write_str("put-amount"),
            WakeKind::Signaled => f.write_str("signaled"),
            WakeKind::Released => f.write_str("released"),
            WakeKind::First(i) => write!(f, "first:{i}"),
            WakeKind::All => f.write_str("all"),
            WakeKind::Interrupted => f.write_str("interrupted"),
            WakeKind::Preempted => f.write_str("preempted"),
            WakeKind::Summoned => f.write_str("summoned"),
            WakeKind::ActivityOver => f.write_str("activity-over"),
        }
    }
}

/// What a completed wait produced: in [`Wake::Completed`], and for the winning branch of a
/// `FirstOf` in [`First::outcome`].
///
/// ```
/// use stepsim::{Command, Outcome, QueueId, Wake};
/// /// A packer: every completed wait leads to the next command.
/// fn next(wake: Wake<u32>, belt: QueueId) -> Command<u32> {
///     match wake {
///         Wake::Completed(Outcome::Got(size)) => Command::Sleep(size as f64), // pack it
///         Wake::Completed(Outcome::Slept) | Wake::Started => Command::Get(belt),
///         // It issues only gets and sleeps (and `Outcome` may grow new kinds of waits).
///         other => unreachable!("{other:?}"),
///     }
/// }
/// # let belt = { let mut sim = stepsim::Simulation::<stepsim::Boxed<u32>>::new(0);
/// #     sim.queue(stepsim::Capacity::Unbounded).unwrap() };
/// assert_eq!(next(Wake::Completed(Outcome::Got(3)), belt), Command::Sleep(3.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Outcome<T> {
    /// A `Sleep` or `Yield` elapsed.
    Slept,
    /// A `Get` or `GetWhere` took this item.
    Got(T),
    /// A `Put` placed its item.
    Put,
    /// An `Acquire` got a slot; the process now holds it.
    Acquired(ResourceId),
    /// A `GetAmount` took this amount.
    GotAmount(ContainerId, f64),
    /// A `PutAmount` added this amount.
    PutAmount(ContainerId, f64),
    /// A barrier released.
    Released(BarrierId),
    /// The activity this process attended has ended.
    ActivityOver(ActivityId),
    // The variants that can own heap memory come last, so that the drop glue tells them
    // apart from the rest with one comparison.
    /// The joined process finished, with its exit.
    Joined(Pid, Exit<T>),
    /// A signal fired with this value.
    Signaled(SignalId, SignalValue<T>),
    /// An `AllOf` completed: every one of its waits' outcomes, in order.
    All(Vec<Outcome<T>>),
}

impl<T> Outcome<T> {
    /// Its kind, as written in traces.
    pub fn kind(&self) -> WakeKind {
        match self {
            Outcome::Slept => WakeKind::Slept,
            Outcome::Got(_) => WakeKind::Got,
            Outcome::Put => WakeKind::Put,
            Outcome::Acquired(_) => WakeKind::Acquired,
            Outcome::Joined(..) => WakeKind::Joined,
            Outcome::GotAmount(..) => WakeKind::GotAmount,
            Outcome::PutAmount(..) => WakeKind::PutAmount,
            Outcome::Signaled(..) => WakeKind::Signaled,
            Outcome::Released(_) => WakeKind::Released,
            Outcome::All(_) => WakeKind::All,
            Outcome::ActivityOver(_) => WakeKind::ActivityOver,
        }
    }
}

impl<T, I> From<Outcome<T>> for Wake<T, I> {
    fn from(outcome: Outcome<T>) -> Self {
        Wake::Completed(outcome)
    }
}

/// How a [`Command::FirstOf`] completed.
///
/// ```
/// use stepsim::{Command, First, Outcome, Wake};
/// /// Waits for a job or a timeout; says which happened.
/// fn on_wake(wake: Wake<&'static str>) -> &'static str {
///     match wake {
///         Wake::First(First { index: 0, outcome: Outcome::Got(job), .. }) => job,
///         Wake::First(First { index: 1, .. }) => "timed out",
///         _ => "other",
///     }
/// }
/// let timed_out = Wake::First(First::new(1, Outcome::Slept, Default::default()));
/// assert_eq!(on_wake(timed_out), "timed out");
/// ```
#[derive(Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub struct First<T> {
    /// Index of the winning branch.
    pub index: usize,
    /// What the winning branch produced.
    pub outcome: Outcome<T>,
    /// The losing branches, in their original order, handed back: a losing `Put` returns
    /// its item here. A losing `AllOf` branch comes back holding only its unsatisfied waits.
    pub others: Branches<T>,
    /// What satisfied waits of losing `AllOf` branches had already taken (items, slots now
    /// held, amounts), in branch order; empty unless a losing branch was an `AllOf`.
    pub taken: Vec<Outcome<T>>,
    /// Keeps the glue of `Wake` small: see [`OutOfLine`]. (It also means a `First` is made
    /// with [`First::new`], not a struct expression.)
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) out_of_line: OutOfLine<First<T>>,
}

impl<T: fmt::Debug> fmt::Debug for First<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("First")
            .field("index", &self.index)
            .field("outcome", &self.outcome)
            .field("others", &self.others)
            .field("taken", &self.taken)
            .finish()
    }
}

/// Never set: it only makes the drop glue of the struct that holds it ([`First`]; an
/// [`Interrupt`] has [`StoredPlaces::OutOfLine`] instead) call itself. LLVM never inlines a
/// recursive function, so the glue of [`Wake`] calls theirs instead of taking in their
/// fields' drops: it stays a jump on the tag with a tail call per payload, needs no saved
/// registers, and is small enough to be inlined where a step drops its wake, free in the
/// arms where the kind is known (`Wake::Started`, `Wake::Completed(..)`). Without it, both
/// payloads' glue was inlined into `Wake`'s, which then saved three registers on every call
/// and was never inlined itself (callgrind: −2.3% on W2, see docs/performance.md).
pub(crate) struct OutOfLine<S>(#[allow(dead_code)] Option<Box<S>>);

impl<S> OutOfLine<S> {
    pub(crate) const NONE: Self = OutOfLine(None);
}

impl<S> Default for OutOfLine<S> {
    fn default() -> Self {
        Self::NONE
    }
}

impl<S> Clone for OutOfLine<S> {
    fn clone(&self) -> Self {
        Self::NONE
    }
}

impl<S> PartialEq for OutOfLine<S> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<S> fmt::Debug for OutOfLine<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OutOfLine")
    }
}

impl<T> First<T> {
    /// A completed `FirstOf` with nothing taken (what unit tests feed to `step`).
    pub fn new(index: usize, outcome: Outcome<T>, others: Branches<T>) -> Self {
        First {
            index,
            outcome,
            others,
            taken: Vec::new(),
            out_of_line: OutOfLine::NONE,
        }
    }
}

/// A withdrawn wait, delivered at an interruptible wait: see [`Wake::Interrupted`].
///
/// Two interrupts are equal when a process sees the same: cause, request, waited and taken.
///
/// ```
/// use stepsim::{Command, Interrupt, Reason};
/// // What a process sees when a sleep of 10 is interrupted after 4:
/// let interrupt: Interrupt<(), &str> = Interrupt::new("phone", Command::Sleep(10.0), 4.0);
/// assert_eq!(interrupt.cause, Reason::Interrupt("phone"));
/// assert_eq!(interrupt.remaining_sleep(), Some(6.0));
/// assert_eq!(interrupt.request, Command::Sleep(10.0)); // start again ...
/// assert_eq!(interrupt.resume(), Command::Sleep(6.0)); // ... or carry on
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        deserialize = "T: serde::Deserialize<'de> + 'static, I: serde::Deserialize<'de>"
    ))
)]
pub struct Interrupt<T, I> {
    /// Why: the model's interrupt cause, a preemption, or a summons.
    pub cause: Reason<I>,
    /// The withdrawn wait, handed back exactly as it was issued (a `Put` with its item, a
    /// `FirstOf` with all its branches). Returning it from `step` starts it again;
    /// [`Interrupt::resume`] carries on with it.
    pub request: Command<T>,
    /// How long the process had been waiting when the interrupt landed (for a `Sleep`,
    /// how long it slept). Zero when interrupts were already queued as the wait was issued.
    pub waited: f64,
    /// What satisfied waits of a withdrawn `AllOf` had already taken (items, slots now held,
    /// amounts), in branch order; `request` then holds only the unsatisfied waits. Empty for
    /// every other wait.
    pub taken: Vec<Outcome<T>>,
    /// Where each withdrawn request stood in its line, for `resume`.
    pub(crate) places: StoredPlaces<Interrupt<T, I>>,
}

impl<T: PartialEq, I: PartialEq> PartialEq for Interrupt<T, I> {
    fn eq(&self, other: &Self) -> bool {
        self.cause == other.cause
            && self.request == other.request
            && self.waited == other.waited
            && self.taken == other.taken
    }
}

/// Where withdrawn requests stood in their lines: by branch, the request's ticket (its
/// order among requests) and when it was made.
pub(crate) type Places = SmallVec<[Place; 1]>;

/// An interrupt's [`Places`], in 24 bytes instead of 32 (a single place's fields share a
/// word with the tag), with a variant that makes the interrupt's drop glue recursive (what
/// [`OutOfLine`] does for a [`First`]) at no cost in size: an `OutOfLine` field here made
/// `Wake` 232 bytes instead of 224, and its moves calls of `memcpy` (+3% on `pipeline`).
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(from = "Places", into = "Places")
)]
pub(crate) enum StoredPlaces<S> {
    None,
    One {
        branch: u32,
        ticket: u64,
        since: f64,
    },
    Many(Box<[Place]>),
    /// Never made: like [`OutOfLine`], it makes the drop glue of the interrupt that holds
    /// it recursive, so that it is never inlined into `Wake`'s.
    #[allow(dead_code)]
    OutOfLine(Box<S>),
}

impl<S> StoredPlaces<S> {
    /// The places as the engine keeps them.
    pub(crate) fn into_places(self) -> Places {
        match self {
            // The list moves; the other cases own nothing.
            StoredPlaces::Many(places) => Places::from_vec(places.into_vec()),
            other => other.to_places(),
        }
    }

    fn to_places(&self) -> Places {
        match self {
            StoredPlaces::None | StoredPlaces::OutOfLine(_) => Places::new(),
            &StoredPlaces::One {
                branch,
                ticket,
                since,
            } => smallvec::smallvec![Place {
                branch,
                ticket,
                since
            }],
            StoredPlaces::Many(places) => Places::from_slice(places),
        }
    }
}

impl<S> From<Places> for StoredPlaces<S> {
    fn from(places: Places) -> Self {
        match places.len() {
            0 => StoredPlaces::None,
            1 => {
                let Place {
                    branch,
                    ticket,
                    since,
                } = places[0];
                StoredPlaces::One {
                    branch,
                    ticket,
                    since,
                }
            }
            _ => StoredPlaces::Many(places.into_vec().into_boxed_slice()),
        }
    }
}

impl<S> From<StoredPlaces<S>> for Places {
    fn from(places: StoredPlaces<S>) -> Self {
        places.into_places()
    }
}

impl<S> fmt::Debug for StoredPlaces<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As the places were printed before they were stored this way: a list.
        fmt::Debug::fmt(&self.to_places(), f)
    }
}

impl<S> Clone for StoredPlaces<S> {
    fn clone(&self) -> Self {
        self.to_places().into()
    }
}

/// Where one withdrawn request stood.
#[derive(Copy, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Place {
    /// Its branch in the command as handed back.
    pub branch: u32,
    /// Its order among every request made (earlier is ahead in a FIFO line).
    pub ticket: u64,
    /// When it was made (a priority request's place among equals).
    pub since: f64,
}

impl<T, I> Interrupt<T, I> {
    /// An interrupt from the model with nothing taken (what unit tests feed to `step`).
    pub fn new(cause: I, request: Command<T>, waited: f64) -> Self {
        Self::with_cause(Reason::Interrupt(cause), request, waited)
    }

    /// An interrupt of any cause with nothing taken (what unit tests feed to `step`).
    pub fn with_cause(cause: Reason<I>, request: Command<T>, waited: f64) -> Self {
        Interrupt {
            cause,
            request,
            waited,
            taken: Vec::new(),
            places: StoredPlaces::None,
        }
    }

    /// The activity, for a [`Reason::Summoned`] interrupt.
    pub fn activity(&self) -> Option<ActivityId> {
        match self.cause {
            Reason::Summoned(a) => Some(a),
            _ => None,
        }
    }

    /// Who took the slot and when it had been granted, for a [`Reason::Preempted`] interrupt.
    pub fn preempted(&self) -> Option<&Preempted> {
        match &self.cause {
            Reason::Preempted(p) => Some(p),
            _ => None,
        }
    }

    /// For an interrupted `Sleep(dt)`, the time that was left (`dt - waited`, at least 0);
    /// `None` for other waits.
    pub fn remaining_sleep(&self) -> Option<f64> {
        match self.request {
            Command::Yield => Some(0.0),
            Command::Sleep(dt) => Some((dt - self.waited).max(0.0)),
            _ => None,
        }
    }

    /// Carry on with the withdrawn wait, as if it had not been interrupted: a sleep (or a
    /// `FirstOf`/`AllOf` branch that sleeps) for the time that was left, and each request
    /// (get, put, acquire, container amount) back in the place in its line that it had —
    /// ahead of every request still waiting that joined the line after it. (What was handed
    /// out while it was withdrawn, between the interrupt and the resume, is not taken back.)
    /// Returning `request` instead starts again: a whole sleep, at the back of the line.
    ///
    /// ```
    /// use stepsim::{Reason, Command, Interrupt, Outcome};
    /// let i: Interrupt<(), ()> = Interrupt::new((), Command::Sleep(10.0), 4.0);
    /// assert_eq!(i.resume(), Command::Sleep(6.0));
    /// ```
    pub fn resume(self) -> Command<T> {
        let waited = self.waited;
        let shorten = |dt: f64| (dt - waited).max(0.0);
        let command = match self.request {
            Command::Sleep(dt) => Command::Sleep(shorten(dt)),
            Command::FirstOf(branches) => Command::FirstOf(shorten_sleeps(branches, &shorten)),
            Command::AllOf(branches) => Command::AllOf(shorten_sleeps(branches, &shorten)),
            other => other,
        };
        let places = self.places.into_places();
        if places.is_empty() {
            command
        } else {
            Command::Resume(Resume {
                command: Box::new(command),
                places,
            })
        }
    }
}

fn shorten_sleeps<T>(branches: Branches<T>, shorten: &impl Fn(f64) -> f64) -> Branches<T> {
    Branches(
        branches
            .0
            .into_iter()
            .map(|w| match w {
                Wait::Sleep(dt) => Wait::Sleep(shorten(dt)),
                Wait::AllOf(all) => Wait::AllOf(Box::new(shorten_sleeps(*all, shorten))),
                other => other,
            })
            .collect(),
    )
}

/// A withdrawn wait to carry on with, each request in its old place: see
/// [`Interrupt::resume`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub struct Resume<T> {
    pub(crate) command: Box<Command<T>>,
    pub(crate) places: Places,
}

impl<T> Resume<T> {
    /// The wait it carries on with.
    pub fn command(&self) -> &Command<T> {
        &self.command
    }
}
