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
//! | `AllOf(branches)` | `All(outcomes)` | unsatisfied branches withdrawn; what satisfied ones took is handed back in `Interrupt::taken` |
//! | `Wait(AcquireWith(r, priority))` | `Acquired(r)` | leaves the wait list |
//! | `Wait(GetWhere(q, filter))` | `Got(item)` | leaves the getter list |
//! | `Wait(GetAmount(c, n))` / `Wait(PutAmount(c, n))` | `GotAmount` / `PutAmount` | leaves the wait list; the level is untouched |
//! | `Wait(Signal(s))` | `Signaled(s, value)` | stops waiting |
//! | `Wait(Arrive(b))` | `Released(b)` | the arrival is taken back |
//! | `Masked(wait)` | as `wait` | never: interrupts queue up until it completes |

use crate::error::Error;
use crate::handle::{ActivityId, BarrierId, ContainerId, Pid, QueueId, ResourceId, SignalId};
use smallvec::SmallVec;
use std::fmt;
use std::sync::Arc;

/// The most branches a [`Command::FirstOf`] or [`Command::AllOf`] (or an `AllOf` branch of a
/// `FirstOf`) may have; a command with more is rejected with
/// [`Error::TooManyBranches`].
pub const MAX_BRANCHES: usize = u16::MAX as usize;

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
    /// Take a slot of a priority or preemptive resource with a priority (lower first).
    AcquireWith(ResourceId, Priority),
    /// Take the first item of a filter queue that matches the filter, waiting until one
    /// does.
    GetWhere(QueueId, Filter<T>),
    /// Take an amount (> 0) from a container, waiting until its level allows.
    GetAmount(ContainerId, f64),
    /// Add an amount (> 0) to a container, waiting until there is room.
    PutAmount(ContainerId, f64),
    /// Wait until a signal fires (at once if it already has).
    Signal(SignalId),
    /// Arrive at a barrier and wait until it releases.
    Arrive(BarrierId),
    /// Wait until every one of these waits is satisfied; only as a branch of
    /// [`Command::FirstOf`] (use [`Command::AllOf`] on its own). Cannot contain another
    /// `AllOf`.
    AllOf(Box<Branches<T>>),
}

/// The priority of a request to a priority or preemptive resource.
///
/// Requests are served by `(level, request time, preempting first)`, FIFO among equals, as
/// in SimPy. On a preemptive resource, a request with `preempt` evicts the worst current
/// holder if that holder's key is worse than the request's.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Priority {
    /// Lower is better. Must not be NaN. Levels compare as numbers (`-0.0 == 0.0`, as in
    /// SimPy).
    pub level: f64,
    /// Whether the request may evict a worse holder (only on a preemptive resource).
    pub preempt: bool,
}

impl Priority {
    /// A request at `level` that preempts (on a preemptive resource).
    pub fn new(level: f64) -> Self {
        Priority {
            level,
            preempt: true,
        }
    }

    /// A request at `level` that waits instead of preempting.
    pub fn without_preempting(level: f64) -> Self {
        Priority {
            level,
            preempt: false,
        }
    }
}

/// A predicate choosing which item a [`Wait::GetWhere`] takes.
///
/// ```
/// use stepsim::Filter;
/// let big = Filter::new(|size: &u32| *size > 10);
/// assert!(big.matches(&11) && !big.matches(&3));
/// ```
pub struct Filter<T>(Arc<dyn Fn(&T) -> bool + Send + Sync>);

impl<T> Filter<T> {
    /// Wraps a predicate.
    pub fn new(predicate: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        Filter(Arc::new(predicate))
    }

    /// Whether `item` matches.
    pub fn matches(&self, item: &T) -> bool {
        (self.0)(item)
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
        f.write_str("Filter(..)")
    }
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
    /// timer, no resource slot held. Up to four branches are stored inline, and at most
    /// [`MAX_BRANCHES`] are allowed.
    FirstOf(Branches<T>),
    /// Wait until every branch is satisfied; wakes with [`Wake::All`], the outcomes in
    /// branch order. An interrupt withdraws the branches still pending and hands back what
    /// the satisfied ones took in [`Interrupt::taken`].
    AllOf(Branches<T>),
    /// Any other wait: priority requests, filtered gets, containers, signals, barriers.
    Wait(Wait<T>),
    /// Let every process already scheduled for this instant run first, then continue;
    /// the same as `Sleep(0.0)`, and wakes with [`Wake::Slept`].
    Yield,
    /// The same wait with interrupts masked: interrupts that arrive meanwhile queue up and
    /// are delivered, in arrival order, at the process's next interruptible wait.
    Masked(Wait<T>),
    /// Take part in the activity this process was just summoned to (the only valid answer
    /// to [`Wake::Summoned`]); held, with interrupts queued, until it ends, then wakes with
    /// [`Wake::ActivityOver`]. See [`crate::activity`].
    Attend(ActivityId),
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
        !matches!(
            self,
            Command::Masked(_) | Command::Attend(_) | Command::Done
        )
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
            other => Command::Wait(other),
        }
    }
}

/// The branches of a [`Command::FirstOf`] or [`Command::AllOf`], in order; up to four are
/// stored without allocating.
///
/// ```
/// use stepsim::{Boxed, Capacity, Command, Context, Outcome, Process, QueueId, Simulation, Wait, Wake};
///
/// /// Needs a bolt *and* a nut before it can assemble.
/// struct Assembler { bolts: QueueId, nuts: QueueId }
/// impl Process<Boxed<&'static str>> for Assembler {
///     fn step(&mut self, cx: &mut Context<'_, Boxed<&'static str>>, wake: Wake<&'static str>)
///         -> Command<&'static str> {
///         match wake {
///             Wake::Started => Command::AllOf([Wait::Get(self.bolts), Wait::Get(self.nuts)].into()),
///             Wake::All(parts) => {
///                 assert_eq!(parts, vec![Outcome::Got("bolt"), Outcome::Got("nut")]);
///                 assert_eq!(cx.now(), 2.0); // when the last one arrived
///                 Command::Done
///             }
///             _ => unreachable!(),
///         }
///     }
/// }
/// struct Supplier { to: QueueId, part: &'static str, at: f64 }
/// impl Process<Boxed<&'static str>> for Supplier {
///     fn step(&mut self, _: &mut Context<'_, Boxed<&'static str>>, wake: Wake<&'static str>)
///         -> Command<&'static str> {
///         match wake {
///             Wake::Started => Command::Sleep(self.at),
///             Wake::Slept => Command::Put(self.to, self.part),
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
    /// The joined process has finished, with its exit.
    Joined(Pid, Exit<T>),
    /// A `GetAmount` took this amount from the container.
    GotAmount(ContainerId, f64),
    /// A `PutAmount` added this amount to the container.
    PutAmount(ContainerId, f64),
    /// The signal fired with this value.
    Signaled(SignalId, SignalValue<T>),
    /// The barrier released its waiting parties.
    Released(BarrierId),
    /// A `FirstOf` completed.
    First(First<T>),
    /// An `AllOf` completed: every branch's outcome, in branch order.
    All(Vec<Outcome<T>>),
    /// The process was interrupted at an interruptible wait, which was withdrawn.
    Interrupted(Interrupt<T, I>),
    /// The process lost a slot of a preemptive resource to a better request, and its
    /// current wait was withdrawn as for an interrupt. The slot is already gone: do not
    /// release it.
    Preempted(Interrupt<T, Preempted>),
    /// The process was pulled into an activity that started: its current wait was
    /// withdrawn as for an interrupt (`cause` is the activity). Answer
    /// [`Command::Attend`] with it.
    Summoned(Interrupt<T, ActivityId>),
    /// The activity this process attended has ended.
    ActivityOver(ActivityId),
}

/// What a signal fires with: a value (or none), or a failure reason.
pub type SignalValue<T> = Result<Option<T>, Arc<str>>;

/// How a joined process ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Exit<T> {
    /// It returned `Done`, leaving this value (see
    /// [`Context::exit_value`](crate::Context::exit_value)), or none.
    Returned(Option<T>),
    /// It failed with this error.
    Failed(Box<Error>),
    /// It had finished before the join was issued; its exit is no longer kept.
    Gone,
}

/// The cause of a [`Wake::Preempted`].
#[derive(Clone, Debug, PartialEq)]
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
            Wake::Slept => WakeKind::Slept,
            Wake::Got(_) => WakeKind::Got,
            Wake::Put => WakeKind::Put,
            Wake::Acquired(_) => WakeKind::Acquired,
            Wake::Joined(..) => WakeKind::Joined,
            Wake::GotAmount(..) => WakeKind::GotAmount,
            Wake::PutAmount(..) => WakeKind::PutAmount,
            Wake::Signaled(..) => WakeKind::Signaled,
            Wake::Released(_) => WakeKind::Released,
            Wake::First(f) => WakeKind::First(f.index as u32),
            Wake::All(_) => WakeKind::All,
            Wake::Interrupted(_) => WakeKind::Interrupted,
            Wake::Preempted(_) => WakeKind::Preempted,
            Wake::Summoned(_) => WakeKind::Summoned,
            Wake::ActivityOver(_) => WakeKind::ActivityOver,
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
    /// [`Wake::GotAmount`].
    GotAmount,
    /// [`Wake::PutAmount`].
    PutAmount,
    /// [`Wake::Signaled`].
    Signaled,
    /// [`Wake::Released`].
    Released,
    /// [`Wake::First`], with the winning branch's index.
    First(u32),
    /// [`Wake::All`].
    All,
    /// [`Wake::Interrupted`].
    Interrupted,
    /// [`Wake::Preempted`].
    Preempted,
    /// [`Wake::Summoned`].
    Summoned,
    /// [`Wake::ActivityOver`].
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
    Joined(Pid, Exit<T>),
    /// A `GetAmount` took this amount.
    GotAmount(ContainerId, f64),
    /// A `PutAmount` added this amount.
    PutAmount(ContainerId, f64),
    /// A signal fired with this value.
    Signaled(SignalId, SignalValue<T>),
    /// A barrier released.
    Released(BarrierId),
    /// An `AllOf` branch completed: every one of its waits' outcomes, in order.
    All(Vec<Outcome<T>>),
}

impl<T, I> From<Outcome<T>> for Wake<T, I> {
    fn from(outcome: Outcome<T>) -> Self {
        match outcome {
            Outcome::Slept => Wake::Slept,
            Outcome::Got(item) => Wake::Got(item),
            Outcome::Put => Wake::Put,
            Outcome::Acquired(r) => Wake::Acquired(r),
            Outcome::Joined(p, exit) => Wake::Joined(p, exit),
            Outcome::GotAmount(c, n) => Wake::GotAmount(c, n),
            Outcome::PutAmount(c, n) => Wake::PutAmount(c, n),
            Outcome::Signaled(s, v) => Wake::Signaled(s, v),
            Outcome::Released(b) => Wake::Released(b),
            Outcome::All(all) => Wake::All(all),
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
    /// The losing branches, in their original order, handed back: a losing `Put` returns
    /// its item here. A losing `AllOf` branch comes back holding only its unsatisfied waits.
    pub others: Branches<T>,
    /// What satisfied waits of losing `AllOf` branches had already taken (items, slots now
    /// held, amounts), in branch order; empty unless a losing branch was an `AllOf`.
    pub taken: Vec<Outcome<T>>,
}

impl<T> First<T> {
    /// A completed `FirstOf` with nothing taken (what unit tests feed to `step`).
    pub fn new(index: usize, outcome: Outcome<T>, others: Branches<T>) -> Self {
        First {
            index,
            outcome,
            others,
            taken: Vec::new(),
        }
    }
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
    /// What satisfied waits of a withdrawn `AllOf` had already taken (items, slots now held,
    /// amounts), in branch order; `request` then holds only the unsatisfied waits. Empty for
    /// every other wait.
    pub taken: Vec<Outcome<T>>,
}

impl<T, I> Interrupt<T, I> {
    /// An interrupt with nothing taken (what unit tests feed to `step`).
    pub fn new(cause: I, request: Command<T>, waited: f64) -> Self {
        Interrupt {
            cause,
            request,
            waited,
            taken: Vec::new(),
        }
    }

    /// For an interrupted `Sleep(dt)`, the time that was left (`dt - waited`, at least 0);
    /// `None` for other waits.
    pub fn remaining_sleep(&self) -> Option<f64> {
        match self.request {
            Command::Yield => Some(0.0),
            Command::Sleep(dt) | Command::Masked(Wait::Sleep(dt)) => {
                Some((dt - self.waited).max(0.0))
            }
            _ => None,
        }
    }
}
