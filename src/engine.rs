//! The engine: the simulation clock, the event queue and the interpreter of commands.
//!
//! # Ordering
//! Events are processed in order of `(time, priority, sequence)`, as in SimPy 4: process
//! starts and interrupt deliveries are *urgent*, everything else is *normal*, and among equals
//! the event scheduled first runs first. A request satisfied at once (an item already in the
//! queue, a free slot) still wakes its process through the event queue at the current instant,
//! so it never jumps ahead of work already scheduled for that instant.
//!
//! The event queue is a calendar queue (R. Brown, 1988): O(1) work per event where a binary
//! heap does O(log n), with events for the current instant in a FIFO beside it. It gives
//! events back in exactly the order above, so it changes how fast a model runs, never what
//! it does.
//!
//! # Interrupts
//! [`Simulation::interrupt`] and [`Context::interrupt`] schedule an urgent delivery at the
//! current instant. When it is processed:
//! - if the target waits in an interruptible wait that is not yet satisfied, the wait is
//!   withdrawn atomically (see [`crate::command`]) and the target is stepped with
//!   [`Wake::Interrupted`], which hands the withdrawn request back;
//! - otherwise (a masked wait, a wait already satisfied whose wake is on its way, a process
//!   not yet started) the interrupt queues up; queued interrupts are delivered, in arrival
//!   order, at the next interruptible command the process issues, *instead of* starting that
//!   command (which is handed back unstarted, with `waited == 0`).
//!
//! Interrupts still queued when a process finishes are dropped (the trace records
//! `interrupt-dropped`); interrupting a process that has finished is an error.
//!
//! # Panics in user code
//! A panic inside [`Process::step`], a queue's [`Filter`](crate::Filter) or order, an
//! [`Observer`], or anything else run for an event is not caught: it unwinds out of
//! `run`/`step` (or out of the `try_put`/`try_get_where` that ran it). If the caller catches
//! it, the simulation is poisoned and every later `run`, `run_until` or `step` returns
//! [`Error::Poisoned`], naming the time, the process and what panicked.
//!
//! # Calls between steps
//! Everything a [`Context`] from [`Simulation::context`] does (interrupts, `try_put`,
//! `release_barrier`, …), and [`Simulation::spawn`], [`Simulation::plan`] and
//! [`Simulation::interrupt`], acts at [`Simulation::now`]. Timers of waits withdrawn
//! meanwhile are dropped where the event loop meets them, so they never move the clock.

use crate::activity::{Activity, ActivityState, ActivityView};
use crate::barrier::{BarrierState, BarrierView};
use crate::command::{Command, Exit, Interrupt, Outcome, Places, Reason, Wake};
use crate::container::{ContainerState, ContainerView};
use crate::context::Context;
use crate::error::{Error, Origin, ProcessRef};
use crate::handle::{
    ActivityId, BarrierId, ContainerId, Handle, Pid, QueueId, ResourceId, SignalId, next_sim_id,
};
use crate::monitor::Statistics;
use crate::process::{Model, Process};
use crate::queue::{Capacity, QueueOrder, QueueState, QueueView, Waiter};
use crate::resource::{ResourceKind, ResourceState, ResourceView};
use crate::rng::{self, Stream, derive_stream, name_key};
use crate::signal::{SignalState, SignalView};
use crate::trace::{Observer, TraceEvent, TraceKind, Waiting};
use slab::Slab;
use std::any::Any;
use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

mod activities;
mod calendar;
mod fork;
#[cfg(feature = "serde")]
mod persist;
mod slots;
mod waits;

use calendar::Calendar;
use slots::Slots;

use waits::{BranchList, Shape, valid_delay_at};

/// How a value is copied for each receiver, captured where `T: Clone` was known.
pub(crate) type CloneFn<T> = fn(&T) -> T;

/// The wake type of a model: what its processes' `step` receives.
pub type WakeOf<M> = Wake<<M as Model>::Item, <M as Model>::Cause>;

/// The command type of a model: what its processes' `step` returns.
pub type CommandOf<M> = Command<<M as Model>::Item>;

/// A process's `step`, as the engine calls it.
type StepFn<M> = fn(&mut <M as Model>::Proc, &mut Context<'_, M>, WakeOf<M>) -> CommandOf<M>;

pub(crate) const URGENT: u64 = 0;
pub(crate) const NORMAL: u64 = 1 << 63;

/// Work to do on a primitive when an event is processed (SimPy's trigger callbacks).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Hook {
    None,
    /// Offer the queue's items to its waiting getters.
    Gets(u32),
    /// Offer a free place in the queue to its head putter.
    Puts(u32),
    /// Offer a free slot of the resource to its head waiter.
    Grants(u32),
    /// Serve the container's waiting gets, in order, while they fit.
    Draws(u32),
    /// Serve the container's waiting puts, in order, while they fit.
    Fills(u32),
    /// Process a signal's firing: wake everyone waiting on it.
    Fire(u32),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Kind {
    /// First step of a process (`tag` is its generation).
    Start,
    /// A sleep branch elapsed (`tag` is the wait's epoch).
    Timer(u32),
    /// A satisfied request's event: run its hook, then wake the process (or, for a
    /// `FirstOf`/`AllOf`, schedule the wake one hop later, as SimPy's condition events do).
    Ready(Hook),
    /// Wake the process with its stored wake.
    Resume,
    /// Deliver a queued interrupt if the target's wait allows (`tag` is its generation).
    Interrupt,
    /// A finished process's exit: wake its joiners, free its slot (`tag`: generation).
    Exit,
    /// A hook with no process to wake (a release, a non-blocking put or get, a firing).
    Hook(Hook),
    /// See whether a planned activity can start (`idx` is the activity; at its `not_before`
    /// or `deadline` time).
    ActivityCheck,
    /// A started activity ends (`idx` is the activity).
    ActivityEnd,
}

/// What a scheduled event does, to whom. Its order in the queue, `(time, priority,
/// sequence)`, is two integers kept beside it: times are never negative, and the bit patterns
/// of non-negative `f64`s sort like the numbers; the priority is the top bit of the sequence
/// word.
#[derive(Copy, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Event {
    idx: u32,
    tag: u32,
    kind: Kind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Phase {
    /// Spawned; its start event is pending.
    Starting,
    /// Inside `step`.
    Running,
    /// Waiting on `branches`.
    Waiting,
    /// The wait completed; its wake (in `ready`) is on its way.
    Satisfied,
    /// Holding an unstarted command while a queued interrupt is delivered.
    Held,
    /// Returned `Done` (or failed); its exit event is pending.
    Finishing,
    /// Its exit event is being processed; the slot is freed when its joiners are woken.
    Exited,
    /// No process: the slot is free (see [`slots`]).
    Free,
}

impl Phase {
    /// Whether the process has finished (returned `Done` or failed).
    pub fn is_over(self) -> bool {
        matches!(self, Phase::Finishing | Phase::Exited)
    }
}

/// Where a satisfied process's completion waits for its event (`Slot::ready` says which).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Parked {
    /// A whole `Wake` in `wakes` (a `FirstOf`, an `AllOf`, or nothing parked).
    Wake,
    /// An `Outcome` in `outcomes` (a single wait).
    Outcome,
    /// A slot of resource `ready` granted to a single `Acquire` (no payload to store).
    Slot,
    /// A single `Put` completed (no payload to store).
    Put,
    /// A `FirstOf` whose losers are sleeps, plain requests and plain gets (and whose winner
    /// is one of those or a put): every branch still in `branches`, the winner marked done,
    /// the losers withdrawn; a winning get's item in `outcomes` at `ready`. The
    /// `Wake::First` is built from them when it is delivered.
    First,
}

/// An interrupt waiting for delivery.
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Pending<I> {
    User(I),
    /// Pulled into an activity (its index).
    Summons(u32),
}

/// Parts of a process's state that most processes never use, kept out of line so that a
/// sleeping process costs little memory. Allocated on first use, kept for the process's life.
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "M::Item: serde::Serialize, M::Cause: serde::Serialize",
        deserialize = "M::Item: serde::Deserialize<'de>, M::Cause: serde::Deserialize<'de>"
    ))
)]
pub(crate) struct Rare<M: Model> {
    /// Interrupts not yet delivered, in arrival order.
    pub interrupts: VecDeque<Pending<M::Cause>>,
    /// Delivery events of interrupts still in the queue.
    pub inflight: u32,
    /// Processes waiting for this one to finish.
    pub joiners: Vec<Waiter>,
    /// The unstarted command of a `Held` process.
    pub held: Option<Command<M::Item>>,
    /// Outcomes of satisfied branches of `AllOf` groups, by branch index.
    pub partial: Vec<(u32, Outcome<M::Item>)>,
    /// The exit value set with `Context::exit_value`, and how to copy it for each joiner.
    #[cfg_attr(feature = "serde", serde(with = "crate::save::exit_value"))]
    pub exit_value: Option<(M::Item, CloneFn<M::Item>)>,
    /// Why the process failed.
    pub failure: Option<Error>,
    /// The activity it was summoned to and must answer with `Attend`.
    pub summoned: Option<u32>,
    /// The name it was spawned with.
    pub name: Option<Box<str>>,
    /// Resources of which it lost a slot to preemption, and has not released nor acquired
    /// since: releasing such a slot is a no-op (SimPy's `with resource.request()` habit).
    pub lost: Vec<u32>,
    /// Its own random stream ([`Context::rng`]), made on first use.
    pub stream: Option<Stream>,
    /// Processes it spawned without a name so far: the spawn count in their stream keys.
    pub spawned: u64,
}

impl<M: Model> Default for Rare<M> {
    fn default() -> Self {
        Rare {
            interrupts: VecDeque::new(),
            inflight: 0,
            joiners: Vec::new(),
            held: None,
            partial: Vec::new(),
            exit_value: None,
            failure: None,
            summoned: None,
            name: None,
            lost: Vec::new(),
            stream: None,
            spawned: 0,
        }
    }
}

#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "M::Proc: serde::Serialize, M::Item: serde::Serialize, M::Cause: serde::Serialize",
        deserialize = "M::Proc: serde::Deserialize<'de>, M::Item: serde::Deserialize<'de>, M::Cause: serde::Deserialize<'de>"
    ))
)]
pub(crate) struct Slot<M: Model> {
    pub body: Option<M::Proc>,
    pub phase: Phase,
    pub masked: bool,
    /// Declared between tasks, for activities waiting for available participants.
    pub available: bool,
    /// Where its parked completion is, while `Satisfied`.
    pub parked: Parked,
    /// A better request spared it from preemption because it could not be told (see
    /// [`Simulation::can_be_told`]): its preemptive resources look again when it starts an
    /// interruptible wait.
    pub spared: bool,
    pub shape: Shape,
    pub since: f64,
    pub branches: BranchList,
    pub ready: u32,
    pub holds: u32,
    /// The key of its own random stream, fixed at spawn (see [`crate::rng`]).
    pub key: u64,
    pub rare: Option<Box<Rare<M>>>,
}

impl<M: Model> Slot<M> {
    /// Whether its wait is a `FirstOf` of single waits (no `AllOf` branch: each branch is
    /// its own group), whose completion takes the short path (`first_done`).
    #[inline(always)]
    pub fn is_plain_first_of(&self) -> bool {
        self.shape == Shape::FirstOf && self.branches.iter().all(|b| b.all_len == 0)
    }

    pub fn rare(&mut self) -> &mut Rare<M> {
        self.rare.get_or_insert_with(Default::default)
    }

    /// The name it was spawned with.
    pub fn name(&self) -> Option<&str> {
        self.rare.as_ref().and_then(|r| r.name.as_deref())
    }

    /// Whether its wait has a timer pending (a sleep, or a sleeping branch).
    pub fn has_timer(&self) -> bool {
        self.branches.iter().any(|b| {
            !b.done
                && matches!(
                    b.wait,
                    waits::BranchWait::Sleep(_) | waits::BranchWait::Yield
                )
        })
    }

    /// Whether interrupts wait for delivery.
    pub fn has_interrupts(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| !r.interrupts.is_empty())
    }
}

/// What was running when a panic unwound out of the simulation.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Busy {
    // No time: the clock never moves while user code runs, nor after a panic poisoned the
    // simulation, so the time is `now` (kept small: every event and every step marks and
    // restores one, 16 bytes).
    /// The process's slot index (its `Pid` is of this simulation), or [`Busy::NOBODY`].
    idx: u32,
    /// The process's generation.
    generation: u32,
    /// What ran (a reference to the text, to keep the mark small).
    inside: &'static &'static str,
}

impl Busy {
    /// The index of no process (no slab of processes reaches it).
    const NOBODY: u32 = u32::MAX;

    fn new(process: Option<Pid>, inside: &'static &'static str) -> Self {
        let (idx, generation) = process.map_or((Self::NOBODY, 0), |p| (p.idx, p.generation));
        Busy {
            idx,
            generation,
            inside,
        }
    }

    /// The process that ran, in simulation `sim`.
    pub(crate) fn process(self, sim: u32) -> Option<Pid> {
        (self.idx != Self::NOBODY).then_some(Pid {
            sim,
            idx: self.idx,
            generation: self.generation,
        })
    }
}

/// Why [`Simulation::run`] returned.
///
/// ```
/// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
/// struct Nap;
/// impl Process<Boxed<()>> for Nap {
///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         if let Wake::Started = wake { Command::Sleep(2.0) } else { Command::Done }
///     }
/// }
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// sim.spawn(Box::new(Nap));
/// assert_eq!(sim.run()?, stepsim::Ended::Finished);
/// # Ok::<(), stepsim::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Ended {
    /// Nothing is scheduled and no process waits: every process has finished.
    Finished,
    /// Nothing is scheduled, but these processes wait for something nothing will bring.
    Blocked(Vec<Blocked>),
}

/// A process waiting for something other than time; see [`Simulation::blocked`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Blocked {
    /// The process.
    pub process: ProcessRef,
    /// What it waits on.
    pub waiting: Waiting,
    /// Since when.
    pub since: f64,
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} waits on {} since t={}",
            self.process, self.waiting, self.since
        )
    }
}

/// A finished process kept by [`Simulation::keep_finished`].
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "M::Proc: serde::Serialize, M::Item: serde::Serialize",
        deserialize = "M::Proc: serde::Deserialize<'de>, M::Item: serde::Deserialize<'de>"
    ))
)]
pub(crate) struct Kept<M: Model> {
    body: Option<M::Proc>,
    #[cfg_attr(feature = "serde", serde(with = "crate::save::exit_value"))]
    value: Option<(M::Item, CloneFn<M::Item>)>,
    failure: Option<Error>,
    name: Option<Box<str>>,
}

/// Per slot index, kept across reuse so that old handles and old timers never alias.
#[derive(Copy, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Meta {
    pub generation: u32,
    pub epoch: u32,
}

/// A discrete-event simulation of the processes of one [`Model`].
///
/// A simulation is [`Clone`] when its model's processes, items and interrupt causes are: a
/// clone is a *fork* of the running simulation that goes on independently, exactly as the
/// original would (warm a model up once, then try what-ifs on forks; see the `Clone` impl
/// below).
///
/// A simulation is [`Send`] when its model's processes, items and interrupt causes are
/// (`M::Proc`, `M::Item`, `M::Cause`): build it on one thread, run it on another (one
/// replication per thread) and send back the simulation or its results. The observer is
/// `Send` too (see [`Simulation::observe`]). [`Boxed`](crate::Boxed)'s processes are
/// `Box<dyn Process<_>>`, which is not `Send`; a model meant to move across threads stores
/// one enum of its process kinds, or boxes them as `Box<dyn Process<M> + Send>`:
///
/// ```
/// use stepsim::{Command, Context, Model, Process, Simulation, Wake};
///
/// struct Shop;
/// impl Model for Shop {
///     type Item = u32;
///     type Cause = ();
///     type Proc = Box<dyn Process<Shop> + Send>;
/// }
///
/// struct Clock;
/// impl Process<Shop> for Clock {
///     fn step(&mut self, cx: &mut Context<'_, Shop>, _: Wake<u32>) -> Command<u32> {
///         if cx.now() < 10.0 { Command::Sleep(2.5) } else { Command::Done }
///     }
/// }
///
/// let mut sim = Simulation::<Shop>::new(7);
/// sim.spawn(Box::new(Clock));
/// let end = std::thread::spawn(move || {
///     sim.run().map(|_| sim.now())
/// });
/// assert_eq!(end.join().unwrap()?, 10.0);
/// # Ok::<(), stepsim::Error>(())
/// ```
///
/// ```
/// use stepsim::{Boxed, Capacity, Reason, Command, Context, Interrupt, Outcome, Process, Simulation, Wake};
///
/// // A customer arrives, takes the clerk for 3 time units, and leaves.
/// struct Customer { clerk: stepsim::ResourceId }
/// impl Process<Boxed<()>> for Customer {
///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         match wake {
///             Wake::Started => Command::Acquire(self.clerk),
///             Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(3.0),
///             _ => { cx.release(self.clerk); Command::Done }
///         }
///     }
/// }
///
/// let mut sim = Simulation::<Boxed<()>>::new(42);
/// let clerk = sim.resource(1)?;
/// for _ in 0..2 {
///     sim.spawn(Box::new(Customer { clerk }));
/// }
/// sim.run()?;
/// assert_eq!(sim.now(), 6.0); // the second customer waited for the first
/// # Ok::<(), stepsim::Error>(())
/// ```
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "M::Proc: serde::Serialize, M::Item: serde::Serialize, M::Cause: serde::Serialize",
        deserialize = "M::Proc: serde::Deserialize<'de>, M::Item: serde::Deserialize<'de>, M::Cause: serde::Deserialize<'de>"
    ))
)]
pub struct Simulation<M: Model> {
    pub(crate) id: u32,
    seed: u64,
    pub(crate) now: f64,
    seq: u64,
    events: u64,
    queue: Calendar<Event>,
    /// The earliest scheduled event, when it was scheduled earlier than everything in
    /// `queue` (an event for the current instant, most often): it skips the calendar. Every
    /// key in `queue` is greater than its key.
    next: Option<(u64, u64, Event)>,
    /// Exits with nothing to do, not queued: a process that finished with no joiner gets
    /// the key its exit event would have had, `(time, priority and sequence)`, and its slot
    /// is freed where that event would have been processed. A join that registers meanwhile
    /// queues the real exit event under that key. In key order.
    exits: VecDeque<(u64, u64, u32)>,
    /// A start, a hook, a request's own event (`Kind::Ready`) or a parked wake's hop was
    /// scheduled since the last event: a run looks whether it waits in `next`, to carry it
    /// out in place (a hint only: it is checked then).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) in_place_hint: bool,
    pub(crate) procs: Slots<M>,
    pub(crate) meta: Vec<Meta>,
    pub(crate) queues: Vec<QueueState<M::Item>>,
    pub(crate) resources: Vec<ResourceState>,
    pub(crate) containers: Vec<ContainerState>,
    pub(crate) signals: Vec<SignalState<M::Item>>,
    pub(crate) barriers: Vec<BarrierState>,
    pub(crate) activities: Vec<ActivityState>,
    /// Activities planned and not started yet, in plan order.
    pub(crate) unstarted: Vec<u32>,
    pub(crate) wakes: Slab<Wake<M::Item, M::Cause>>,
    /// Outcomes of completed single waits, until delivered: far smaller than a `Wake`, and
    /// the common case.
    pub(crate) outcomes: Slab<Outcome<M::Item>>,
    #[cfg_attr(feature = "serde", serde(skip))]
    observer: Option<Box<dyn Observer + Send>>,
    /// The observer wants [`TraceKind::Wait`] events (asked once, when it was installed).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) trace_waits: bool,
    /// The process whose command is registering now, if any.
    pub(crate) registering: Option<usize>,
    /// Requests made so far: each request's ticket, its place in its line.
    pub(crate) tickets: u64,
    /// Where the requests of a resumed wait stood, while it registers.
    pub(crate) places: Places,
    /// Where the requests just withdrawn stood (filled by a withdrawal, taken by an
    /// interrupt).
    pub(crate) withdrawn: Places,
    /// An error made through an outside context and not taken: the next run returns it.
    pub(crate) outside_error: Option<Error>,
    /// Whether a run that ends blocked is an error.
    fail_when_blocked: bool,
    /// Whether finished processes are kept (see [`Simulation::keep_finished`]).
    keep_finished: bool,
    /// The finished processes kept.
    #[cfg_attr(feature = "serde", serde(with = "crate::save::sorted_pairs"))]
    finished: HashMap<Pid, Kept<M>>,
    /// What runs now: set while an event is processed (and while an outside call runs user
    /// code), cleared when it returns; still set after a panic unwound out of it.
    #[cfg_attr(feature = "serde", serde(skip))]
    busy: Option<Busy>,
    /// Processes spawned without a name from outside any process (the root spawner's count).
    root_spawned: u64,
    /// Processes spawned so far with each name (by the name's hash), for their stream keys.
    #[cfg_attr(feature = "serde", serde(with = "crate::save::sorted_pairs"))]
    named: HashMap<u64, u64>,
    /// The stream of [`Simulation::rng`] (and of `rng` on a context outside any process).
    outside: Option<Stream>,
}

impl<M: Model> Simulation<M> {
    /// A new simulation at time 0. `seed` is the master seed of every random stream: the
    /// processes' own ([`Context::rng`]) and those made with [`Simulation::new_stream`].
    ///
    /// ```
    /// use stepsim::{Boxed, Simulation};
    /// let sim = Simulation::<Boxed<()>>::new(42);
    /// assert_eq!((sim.now(), sim.seed()), (0.0, 42));
    /// ```
    pub fn new(seed: u64) -> Self {
        Simulation {
            id: next_sim_id(),
            seed,
            now: 0.0,
            seq: 0,
            events: 0,
            queue: Calendar::new(),
            next: None,
            exits: VecDeque::new(),
            in_place_hint: false,
            procs: Slots::new(),
            meta: Vec::new(),
            queues: Vec::new(),
            resources: Vec::new(),
            containers: Vec::new(),
            signals: Vec::new(),
            barriers: Vec::new(),
            activities: Vec::new(),
            unstarted: Vec::new(),
            wakes: Slab::new(),
            outcomes: Slab::new(),
            observer: None,
            trace_waits: false,
            outside_error: None,
            fail_when_blocked: false,
            keep_finished: false,
            finished: HashMap::new(),
            registering: None,
            tickets: 0,
            places: Places::new(),
            withdrawn: Places::new(),
            busy: None,
            root_spawned: 0,
            named: HashMap::new(),
            outside: None,
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// The master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of events processed so far (process wakes, exits and primitive hooks).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Time of the next event, or `None` if nothing is scheduled. Timers of withdrawn waits
    /// (a losing `FirstOf` branch, an interrupted sleep) are not events: they are dropped
    /// from the front of the queue first, which is why this takes `&mut self`.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Nap;
    /// impl Process<Boxed<()>> for Nap {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
    ///         if let Wake::Started = wake { Command::Sleep(2.5) } else { Command::Done }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// sim.spawn(Box::new(Nap));
    /// assert_eq!(sim.peek(), Some(0.0)); // the start
    /// sim.run_until(1.0)?;
    /// assert_eq!(sim.peek(), Some(2.5)); // the wake-up
    /// sim.run()?;
    /// assert_eq!(sim.peek(), None); // nothing left
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn peek(&mut self) -> Option<f64> {
        self.prune();
        let head = self.head_key();
        let exit = self.exits.front().map(|&(t, k, _)| (t, k));
        match (head, exit) {
            (Some(h), Some(x)) => Some(h.min(x).0),
            (h, x) => h.or(x).map(|(t, _)| t),
        }
        .map(f64::from_bits)
    }

    /// From now on, keep each process that finishes — its final state and its exit — so that
    /// [`Simulation::process`], [`Simulation::process_as`], [`Simulation::exit`],
    /// [`Simulation::into_processes`] and a late [`Command::Join`] still see it (SimPy's
    /// `yield proc` of a finished process returns its value). Off by default: a finished
    /// process is then dropped once its joiners have been woken, so memory stays bounded in
    /// long runs that spawn a process per customer; with it on, memory grows with every
    /// finished process until the simulation is dropped or taken apart.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Exit, Process, Simulation, Wake};
    ///
    /// struct Counter { count: u32 }
    /// impl Process<Boxed<u32>> for Counter {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<u32>>, _: Wake<u32>) -> Command<u32> {
    ///         self.count += 1;
    ///         if self.count < 3 { return Command::Sleep(1.0); }
    ///         cx.exit_value(self.count * 10);
    ///         Command::Done
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<u32>>::new(0);
    /// sim.keep_finished(true);
    /// let p = sim.spawn(Box::new(Counter { count: 0 }));
    /// sim.run()?;
    /// assert_eq!(sim.process_as::<Counter>(p).map(|c| c.count), Some(3));
    /// assert_eq!(sim.exit(p), Some(Exit::Returned(Some(30))));
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn keep_finished(&mut self, keep: bool) {
        self.keep_finished = keep;
    }

    /// The process `pid`, while it lives (not while its own `step` runs), or after it
    /// finished if [kept](Simulation::keep_finished). For a boxed model this is the box; use
    /// [`Simulation::process_as`] to reach the type inside.
    pub fn process(&self, pid: Pid) -> Option<&M::Proc> {
        if pid.sim != self.id {
            return None;
        }
        match self.live(pid) {
            Some(i) => self.procs[i].body.as_ref(),
            None => self.finished.get(&pid).and_then(|k| k.body.as_ref()),
        }
    }

    /// [`Simulation::process`], mutably: to adjust a process between steps.
    pub fn process_mut(&mut self, pid: Pid) -> Option<&mut M::Proc> {
        if pid.sim != self.id {
            return None;
        }
        match self.live(pid) {
            Some(i) => self.procs[i].body.as_mut(),
            None => self.finished.get_mut(&pid).and_then(|k| k.body.as_mut()),
        }
    }

    /// Every live process, in slot order, mutably: to adjust them all between steps — for
    /// one, to give back what a [restored](crate::save) simulation's processes share
    /// outside the simulation.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    ///
    /// struct Napper { naps: u32 }
    /// impl Process<Boxed<()>> for Napper {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
    ///         self.naps += 1;
    ///         Command::Sleep(1.0)
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// sim.spawn(Box::new(Napper { naps: 0 }));
    /// sim.spawn(Box::new(Napper { naps: 10 }));
    /// sim.run_until(2.5)?;
    /// let naps: Vec<u32> = sim
    ///     .processes_mut()
    ///     .filter_map(|(_, p)| p.as_process_any_mut().downcast_mut::<Napper>())
    ///     .map(|n| n.naps)
    ///     .collect();
    /// assert_eq!(naps, [3, 13]);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn processes_mut(&mut self) -> impl Iterator<Item = (Pid, &mut M::Proc)> {
        let (sim, meta) = (self.id, &self.meta);
        self.procs.iter_mut().filter_map(move |(i, slot)| {
            let pid = Pid {
                sim,
                idx: i as u32,
                generation: meta[i].generation,
            };
            slot.body.as_mut().map(|body| (pid, body))
        })
    }

    /// The process `pid` as a `T` — the type inside a boxed process, or the model's own
    /// process enum — if it is one (see [`Simulation::process`] for when it is there).
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Counter { steps: u32 }
    /// impl Process<Boxed<()>> for Counter {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
    ///         self.steps += 1;
    ///         if self.steps == 3 { Command::Done } else { Command::Yield }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// sim.keep_finished(true); // or read it before it finishes
    /// let pid = sim.spawn(Box::new(Counter { steps: 0 }));
    /// sim.run()?;
    /// assert_eq!(sim.process_as::<Counter>(pid).map(|c| c.steps), Some(3));
    /// assert!(sim.process_as::<String>(pid).is_none()); // not that type
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn process_as<T: Any>(&self, pid: Pid) -> Option<&T> {
        self.process(pid)?.as_process_any().downcast_ref()
    }

    /// [`Simulation::process_as`], mutably.
    pub fn process_as_mut<T: Any>(&mut self, pid: Pid) -> Option<&mut T> {
        self.process_mut(pid)?.as_process_any_mut().downcast_mut()
    }

    /// How `pid` ended: `None` while it has not finished; [`Exit::Gone`] once it has been
    /// dropped (finished processes are not kept unless [`Simulation::keep_finished`]).
    pub fn exit(&self, pid: Pid) -> Option<Exit<M::Item>> {
        if pid.sim != self.id {
            return None;
        }
        match self.live(pid) {
            Some(i) if self.procs[i].phase.is_over() => Some(self.exit_of(i)),
            Some(_) => None,
            None => Some(self.kept_exit(pid)),
        }
    }

    /// Takes the simulation apart: every process that is still there (live, or finished and
    /// [kept](Simulation::keep_finished)), with its handle, in spawn-slot order and then
    /// finishing order.
    pub fn into_processes(mut self) -> Vec<(Pid, M::Proc)> {
        let mut out: Vec<(Pid, M::Proc)> = Vec::new();
        let live: Vec<usize> = self.procs.iter().map(|(i, _)| i).collect();
        for i in live {
            let pid = self.pid_of(i);
            if let Some(body) = self.procs[i].body.take() {
                out.push((pid, body));
            }
        }
        let mut kept: Vec<(Pid, Kept<M>)> = self.finished.drain().collect();
        kept.sort_by_key(|(pid, _)| (pid.idx, pid.generation));
        out.extend(
            kept.into_iter()
                .filter_map(|(pid, k)| k.body.map(|b| (pid, b))),
        );
        out
    }

    /// The exit of a finished process whose slot is gone: kept, or [`Exit::Gone`].
    pub(crate) fn kept_exit(&self, pid: Pid) -> Exit<M::Item> {
        match self.finished.get(&pid) {
            Some(Kept {
                failure: Some(err), ..
            }) => Exit::Failed(Box::new(err.clone())),
            Some(Kept {
                value: Some((value, clone)),
                ..
            }) => Exit::Returned(Some(clone(value))),
            Some(_) => Exit::Returned(None),
            None => Exit::Gone,
        }
    }

    /// Number of processes that have been spawned and have not finished.
    pub fn live_processes(&self) -> usize {
        self.procs
            .iter()
            .filter(|(_, s)| !s.phase.is_over())
            .count()
    }

    /// Makes a new random stream from the master seed and `key`: a fresh generator at every
    /// call, starting from the beginning.
    ///
    /// The same `(seed, key)` always gives the same sequence, whatever else the model does:
    /// calling it twice with one key gives two generators that draw *the same* numbers. Make
    /// a purpose's stream once and keep it (in the process, or in the model), and give each
    /// purpose its own key; for a process's own draws, [`Context::rng`] keeps one for it.
    pub fn new_stream(&self, key: u64) -> Stream {
        derive_stream(self.seed, key)
    }

    /// [`Simulation::new_stream`] keyed by a name (hashed with FNV-1a, stable across
    /// platforms): a fresh generator at every call.
    ///
    /// ```
    /// use stepsim::rand_distr::{Distribution, Exp};
    /// use stepsim::{Boxed, Simulation};
    /// let sim = Simulation::<Boxed<()>>::new(42);
    /// let mut arrivals = sim.new_stream_named("arrivals"); // make it once, keep it
    /// let gap = Exp::new(0.5).unwrap().sample(&mut arrivals);
    /// // The same seed and name give the same draws, whatever else the model does.
    /// let mut again = Simulation::<Boxed<()>>::new(42).new_stream_named("arrivals");
    /// assert_eq!(gap, Exp::new(0.5).unwrap().sample(&mut again));
    /// ```
    pub fn new_stream_named(&self, name: &str) -> Stream {
        derive_stream(self.seed, name_key(name))
    }

    /// The simulation's own stream, for draws made outside any process (setting a model
    /// up, between runs): made on first use and kept, so each call carries on where the last
    /// one stopped. It is what [`Context::rng`] gives on a context from
    /// [`Simulation::context`], and it is independent of every process's stream.
    pub fn rng(&mut self) -> &mut Stream {
        let seed = self.seed;
        self.outside
            .get_or_insert_with(|| derive_stream(seed, rng::OUTSIDE_KEY))
    }

    /// Installs an observer that sees every event from now on (replacing any other). If its
    /// [`Observer::wants_waits`] says so (asked here, once), it also sees every wait a
    /// process starts.
    ///
    /// The observer must be `Send`, so that the simulation can move to another thread: a
    /// closure that records into an `Arc<Mutex<..>>` (or a [`TraceLog`](crate::TraceLog)),
    /// not an `Rc<RefCell<..>>`.
    pub fn observe(&mut self, observer: impl Observer + Send + 'static) {
        self.trace_waits = observer.wants_waits();
        self.observer = Some(Box::new(observer));
    }

    /// Removes the observer.
    pub fn stop_observing(&mut self) {
        self.observer = None;
        self.trace_waits = false;
    }

    /// Adds a process; its first step runs at the current instant (urgently, after the
    /// starts and interrupts already scheduled for it).
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Hello;
    /// impl Process<Boxed<()>> for Hello {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
    ///         println!("hello at t={}", cx.now());
    ///         Command::Done
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// let pid = sim.spawn(Box::new(Hello));
    /// sim.run()?;
    /// assert!(sim.is_finished(pid)?);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn spawn(&mut self, process: M::Proc) -> Pid {
        self.spawn_inner(process, None, None)
    }

    /// [`Simulation::spawn`] with a name, used in traces and error messages, and in the key
    /// of the process's own random stream (see [`crate::rng`]).
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Idle;
    /// impl Process<Boxed<()>> for Idle {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
    ///         Command::Done
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// let pid = sim.spawn_named("coder-1", Box::new(Idle));
    /// assert_eq!(sim.name(pid), Some("coder-1"));
    /// ```
    pub fn spawn_named(&mut self, name: impl Into<String>, process: M::Proc) -> Pid {
        self.spawn_inner(process, Some(name.into().into_boxed_str()), None)
    }

    /// A FIFO queue.
    ///
    /// ```
    /// use stepsim::{Boxed, Capacity, Simulation};
    /// let mut sim = Simulation::<Boxed<u32>>::new(0);
    /// let inbox = sim.queue(Capacity::Unbounded)?;
    /// let belt = sim.queue(3)?; // at most 3 items: `Put` waits while it is full
    /// assert_eq!(sim.queue_view(belt)?.capacity(), Capacity::Bounded(3));
    /// assert!(sim.queue(0).is_err()); // a zero capacity
    /// # let _ = inbox;
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn queue(&mut self, capacity: impl Into<Capacity>) -> Result<QueueId, Error> {
        self.add_queue(capacity.into(), None, false)
    }

    /// A priority queue: `Get` takes the smallest item by `Ord`, FIFO among equals.
    pub fn priority_queue(&mut self, capacity: impl Into<Capacity>) -> Result<QueueId, Error>
    where
        M::Item: Ord,
    {
        let order = QueueOrder {
            cmp: <M::Item as Ord>::cmp,
            name: None,
        };
        self.add_queue(capacity.into(), Some(order), false)
    }

    /// A priority queue ordered by `order` (smallest first), FIFO among equals. `name`
    /// names the order: a saved simulation refers to it by name, and
    /// [`Restore::order`](crate::save::Restore::order) gives the function again.
    ///
    /// ```
    /// use stepsim::{Boxed, Capacity, Simulation};
    ///
    /// let mut sim = Simulation::<Boxed<(u32, &str)>>::new(0);
    /// let urgent_first = sim.priority_queue_by(Capacity::Unbounded, "urgency", |a, b| a.0.cmp(&b.0))?;
    /// sim.context().try_put(urgent_first, (2, "report")).unwrap();
    /// sim.context().try_put(urgent_first, (0, "outage")).unwrap();
    /// assert_eq!(sim.context().try_get(urgent_first), Some((0, "outage")));
    /// assert_eq!(sim.queue_view(urgent_first)?.order_name(), Some("urgency"));
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn priority_queue_by(
        &mut self,
        capacity: impl Into<Capacity>,
        name: &str,
        order: fn(&M::Item, &M::Item) -> Ordering,
    ) -> Result<QueueId, Error> {
        let order = QueueOrder {
            cmp: order,
            name: Some(name.into()),
        };
        self.add_queue(capacity.into(), Some(order), false)
    }

    /// A filter queue (SimPy's `FilterStore`): FIFO, and a
    /// [`Command::GetWhere`] takes the first item its filter accepts,
    /// waiting until one arrives. Every waiting getter is tried in order, so a getter whose
    /// filter matches nothing does not block the others.
    pub fn filter_queue(&mut self, capacity: impl Into<Capacity>) -> Result<QueueId, Error> {
        self.add_queue(capacity.into(), None, true)
    }

    /// A resource with `capacity` slots (at least 1), served FIFO.
    ///
    /// ```
    /// use stepsim::{Boxed, Simulation};
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// let pumps = sim.resource(2)?;
    /// let view = sim.resource_view(pumps)?;
    /// assert_eq!((view.capacity(), view.in_use(), view.available()), (2, 0, 2));
    /// assert!(sim.resource(0).is_err()); // at least one slot
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn resource(&mut self, capacity: usize) -> Result<ResourceId, Error> {
        self.add_resource(ResourceKind::Plain, capacity)
    }

    /// A resource whose waiting requests are served by priority; see [`crate::resource`].
    pub fn priority_resource(&mut self, capacity: usize) -> Result<ResourceId, Error> {
        self.add_resource(ResourceKind::Priority, capacity)
    }

    /// A priority resource whose better requests evict worse holders; see
    /// [`crate::resource`].
    pub fn preemptive_resource(&mut self, capacity: usize) -> Result<ResourceId, Error> {
        self.add_resource(ResourceKind::Preemptive, capacity)
    }

    /// A container holding `level` out of `capacity` (use `f64::INFINITY` for no limit).
    ///
    /// ```
    /// use stepsim::{Boxed, Simulation};
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// let tank = sim.container(100.0, 40.0)?; // 40 litres in a 100-litre tank
    /// let mut cx = sim.context();
    /// assert!(cx.try_get_amount(tank, 15.0));
    /// assert!(!cx.try_put_amount(tank, 80.0)); // no room for 80
    /// assert_eq!(sim.container_view(tank)?.level(), 25.0);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn container(&mut self, capacity: f64, level: f64) -> Result<ContainerId, Error> {
        let bad = if capacity.is_nan() || capacity <= 0.0 {
            Some((capacity, "a container's capacity must be > 0"))
        } else if !level.is_finite() || level < 0.0 || level > capacity {
            Some((
                level,
                "the initial level must be finite and within 0..=capacity",
            ))
        } else {
            None
        };
        if let Some((amount, why)) = bad {
            return Err(Error::InvalidAmount {
                origin: self.origin(None),
                amount,
                why,
            });
        }
        self.containers.push(ContainerState::new(capacity, level));
        Ok(ContainerId {
            sim: self.id,
            idx: (self.containers.len() - 1) as u32,
        })
    }

    /// Starts keeping statistics on a queue, resource or container (see [`crate::monitor`]),
    /// under `name` in tables and CSV. Usually called right after making it; monitoring
    /// from later on counts from now. Monitoring one twice is an error.
    ///
    /// ```
    /// use stepsim::{Boxed, Capacity, Reason, Interrupt, Outcome, Simulation};
    /// let mut sim = Simulation::<Boxed<u32>>::new(0);
    /// let jobs = sim.queue(Capacity::Unbounded)?;
    /// sim.monitor(jobs, "jobs")?;
    /// sim.context().try_put(jobs, 7).unwrap();
    /// sim.run_until(4.0)?;
    /// let view = sim.queue_view(jobs)?;
    /// assert_eq!(view.monitor().unwrap().mean_length(4.0), Some(1.0));
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn monitor(
        &mut self,
        primitive: impl crate::monitor::Monitorable,
        name: impl Into<String>,
    ) -> Result<(), Error> {
        primitive.start_monitor(self, name.into())
    }

    /// A snapshot of every monitor at this instant, in creation order; it prints as a
    /// table and writes long-format CSV (see [`crate::monitor`]).
    pub fn statistics(&self) -> Statistics {
        Statistics::new(
            self.now,
            self.queues
                .iter()
                .filter_map(|q| q.monitor.as_deref().cloned())
                .collect(),
            self.resources
                .iter()
                .filter_map(|r| r.monitor.as_deref().cloned())
                .collect(),
            self.containers
                .iter()
                .filter_map(|c| c.monitor.as_deref().cloned())
                .collect(),
        )
    }

    /// Restarts every monitor at this instant: call it at the end of the warm-up, so that
    /// the statistics describe the steady state (time-weighted levels keep their current
    /// value; tallies and counts start again from nothing).
    pub fn reset_monitors(&mut self) {
        let now = self.now;
        for m in self.queues.iter_mut().filter_map(|q| q.monitor.as_mut()) {
            m.reset(now);
        }
        for m in self.resources.iter_mut().filter_map(|r| r.monitor.as_mut()) {
            m.reset(now);
        }
        for m in self
            .containers
            .iter_mut()
            .filter_map(|c| c.monitor.as_mut())
        {
            m.reset(now);
        }
    }

    pub(crate) fn already_monitored(&self) -> Error {
        Error::Unsupported {
            origin: self.origin(None),
            what: "monitoring a primitive that is already monitored \
                   (reset_monitors restarts every monitor)",
        }
    }

    /// A pending signal; see [`crate::signal`].
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Outcome, Process, SignalId, Simulation, Wake};
    /// struct Waiter { go: SignalId, woke: Option<f64> }
    /// impl Process<Boxed<&'static str>> for Waiter {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<&'static str>>, wake: Wake<&'static str>)
    ///         -> Command<&'static str> {
    ///         match wake {
    ///             Wake::Started => Command::Signal(self.go),
    ///             Wake::Completed(Outcome::Signaled(_, value)) => {
    ///                 assert_eq!(value, Ok(Some("green")));
    ///                 self.woke = Some(cx.now());
    ///                 Command::Done
    ///             }
    ///             other => unreachable!("{other:?}"),
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<&'static str>>::new(0);
    /// sim.keep_finished(true);
    /// let go = sim.signal();
    /// let waiter = sim.spawn(Box::new(Waiter { go, woke: None }));
    /// sim.run_until(3.0)?;
    /// sim.context().succeed(go, "green"); // fires at t=3, with a value
    /// sim.run()?;
    /// assert_eq!(sim.process_as::<Waiter>(waiter).unwrap().woke, Some(3.0));
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn signal(&mut self) -> SignalId {
        self.signals.push(SignalState::new());
        SignalId {
            sim: self.id,
            idx: (self.signals.len() - 1) as u32,
        }
    }

    /// A barrier that releases when `parties` (at least 1) have arrived; see
    /// [`crate::barrier`].
    ///
    /// ```
    /// use stepsim::{BarrierId, Boxed, Command, Context, Outcome, Process, Simulation, Wake};
    /// struct Hiker { meet: BarrierId, walk: f64 }
    /// impl Process<Boxed<()>> for Hiker {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
    ///         match wake {
    ///             Wake::Started => Command::Sleep(self.walk),
    ///             Wake::Completed(Outcome::Slept) => Command::Arrive(self.meet),
    ///             _ => Command::Done, // released: everyone is there
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// let summit = sim.barrier(3)?;
    /// for walk in [2.0, 5.0, 3.0] {
    ///     sim.spawn(Box::new(Hiker { meet: summit, walk }));
    /// }
    /// sim.run()?;
    /// assert_eq!(sim.now(), 5.0); // released when the slowest arrived
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn barrier(&mut self, parties: usize) -> Result<BarrierId, Error> {
        if parties == 0 {
            return Err(Error::ZeroCapacity {
                origin: self.origin(None),
                what: "barrier",
            });
        }
        self.barriers.push(BarrierState {
            parties,
            waiting: Vec::new(),
            releases: 0,
        });
        Ok(BarrierId {
            sim: self.id,
            idx: (self.barriers.len() - 1) as u32,
        })
    }

    /// Plans an activity; see [`crate::activity`]. It starts as soon as its rule allows
    /// (possibly at once, pulling its participants in at this instant).
    pub fn plan(&mut self, activity: Activity) -> Result<ActivityId, Error> {
        self.plan_from(None, activity)
    }

    /// The record of an activity: planned and actual start, lateness, time spent.
    pub fn activity_view(&self, a: ActivityId) -> Result<ActivityView<'_>, Error> {
        let i = self.check_activity(a, None)?;
        Ok(ActivityView {
            state: &self.activities[i],
        })
    }

    /// A read-only look at a queue.
    pub fn queue_view(&self, q: QueueId) -> Result<QueueView<'_, M::Item>, Error> {
        let i = self.check_queue(q, None)?;
        Ok(QueueView {
            state: &self.queues[i],
        })
    }

    /// A read-only look at a resource.
    pub fn resource_view(&self, r: ResourceId) -> Result<ResourceView<'_>, Error> {
        let i = self.check_resource(r, None)?;
        Ok(ResourceView {
            state: &self.resources[i],
        })
    }

    /// A read-only look at a container.
    pub fn container_view(&self, c: ContainerId) -> Result<ContainerView<'_>, Error> {
        let i = self.check_container(c, None)?;
        Ok(ContainerView {
            state: &self.containers[i],
        })
    }

    /// A read-only look at a signal.
    pub fn signal_view(&self, s: SignalId) -> Result<SignalView<'_, M::Item>, Error> {
        let i = self.check_signal(s, None)?;
        Ok(SignalView {
            state: &self.signals[i],
        })
    }

    /// A read-only look at a barrier.
    pub fn barrier_view(&self, b: BarrierId) -> Result<BarrierView<'_>, Error> {
        let i = self.check_barrier(b, None)?;
        Ok(BarrierView {
            state: &self.barriers[i],
        })
    }

    /// Whether `pid` has finished (returned `Done` or failed).
    pub fn is_finished(&self, pid: Pid) -> Result<bool, Error> {
        if pid.sim != self.id {
            return Err(self.foreign(Handle::Process(pid), None));
        }
        Ok(self.live(pid).is_none_or(|i| self.procs[i].phase.is_over()))
    }

    /// The name `pid` was spawned with, while it lives (or after it finished, if
    /// [kept](Simulation::keep_finished)).
    pub fn name(&self, pid: Pid) -> Option<&str> {
        if pid.sim != self.id {
            return None;
        }
        match self.live(pid) {
            Some(i) => self.procs[i].name(),
            None => self.finished.get(&pid).and_then(|k| k.name.as_deref()),
        }
    }

    /// Interrupts `target` with `cause` (see the module docs for when it lands).
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Reason, Simulation, Wake};
    /// type M = Boxed<(), &'static str>;
    /// struct Sleeper { woken_by: Option<&'static str> }
    /// impl Process<M> for Sleeper {
    ///     fn step(&mut self, _: &mut Context<'_, M>, wake: Wake<(), &'static str>) -> Command<()> {
    ///         match wake {
    ///             Wake::Started => Command::Sleep(100.0),
    ///             Wake::Interrupted(i) => {
    ///                 if let Reason::Interrupt(why) = i.cause { self.woken_by = Some(why); }
    ///                 Command::Done
    ///             }
    ///             _ => Command::Done,
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<M>::new(0);
    /// sim.keep_finished(true);
    /// let pid = sim.spawn(Box::new(Sleeper { woken_by: None }));
    /// sim.run_until(1.0)?;
    /// sim.interrupt(pid, "alarm")?; // lands at t=1
    /// sim.run()?;
    /// assert_eq!(sim.process_as::<Sleeper>(pid).unwrap().woken_by, Some("alarm"));
    /// assert!(sim.interrupt(pid, "again").is_err()); // Error::Finished
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn interrupt(&mut self, target: Pid, cause: M::Cause) -> Result<(), Error> {
        self.interrupt_from(None, target, cause)
    }

    /// A context acting from outside any process: for non-blocking operations before or
    /// between runs, and for unit tests that call [`Process::step`] by hand.
    ///
    /// ```
    /// use stepsim::{Boxed, Capacity, Simulation};
    /// let mut sim = Simulation::<Boxed<&'static str>>::new(0);
    /// let jobs = sim.queue(Capacity::Unbounded)?;
    /// let mut cx = sim.context();
    /// assert!(cx.is_outside());
    /// cx.try_put(jobs, "first job").unwrap(); // seed the model before the run
    /// assert_eq!(sim.queue_view(jobs)?.len(), 1);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn context(&mut self) -> Context<'_, M> {
        Context {
            sim: self,
            me: None,
            error: None,
        }
    }

    /// A context acting as process `pid` (which must be live), for unit tests that step a
    /// state machine by hand while it needs a process identity: releasing slots it holds,
    /// declaring itself available, leaving an exit value.
    pub fn context_of(&mut self, pid: Pid) -> Result<Context<'_, M>, Error> {
        if pid.sim != self.id || pid.idx as usize >= self.meta.len() {
            return Err(self.foreign(Handle::Process(pid), None));
        }
        if self.live(pid).is_none() {
            return Err(Error::Finished {
                origin: self.origin(None),
                target: pid,
            });
        }
        Ok(Context {
            sim: self,
            me: Some(pid),
            error: None,
        })
    }

    /// Runs until nothing is scheduled.
    ///
    /// Says why it ended: [`Ended::Finished`] when no process waits any more, or
    /// [`Ended::Blocked`] with every process still waiting for something nothing will bring
    /// (a get from a queue nobody fills, a slot nobody releases) — a model that is stuck.
    /// With [`Simulation::fail_when_blocked`] the second is [`Error::Blocked`] instead.
    ///
    /// ```
    /// use stepsim::{Boxed, Capacity, Command, Context, Ended, Process, Simulation, Wake};
    ///
    /// /// Waits for a job that never comes.
    /// struct Idle { jobs: stepsim::QueueId }
    /// impl Process<Boxed<u32>> for Idle {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<u32>>, _: Wake<u32>) -> Command<u32> {
    ///         Command::Get(self.jobs)
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<u32>>::new(0);
    /// let jobs = sim.queue(Capacity::Unbounded)?;
    /// sim.spawn_named("idle", Box::new(Idle { jobs }));
    /// match sim.run()? {
    ///     Ended::Blocked(waiting) => {
    ///         assert_eq!(waiting.len(), 1);
    ///         assert_eq!(waiting[0].to_string(), "process #0 \"idle\" waits on get:q0 since t=0");
    ///     }
    ///     other => unreachable!("{other:?}"), // `Ended` is non-exhaustive
    /// }
    /// sim.fail_when_blocked(true);
    /// assert!(sim.run().is_err()); // Error::Blocked, naming the process
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn run(&mut self) -> Result<Ended, Error> {
        self.check_poison()?;
        while self.process_next::<true>(u64::MAX)? {}
        let blocked = self.blocked();
        if blocked.is_empty() {
            Ok(Ended::Finished)
        } else if self.fail_when_blocked {
            Err(Error::Blocked {
                origin: self.origin(None),
                waiting: blocked,
            })
        } else {
            Ok(Ended::Blocked(blocked))
        }
    }

    /// Makes a [`Simulation::run`] that ends with processes still waiting an error
    /// ([`Error::Blocked`]) rather than [`Ended::Blocked`].
    pub fn fail_when_blocked(&mut self, fail: bool) {
        self.fail_when_blocked = fail;
    }

    /// What `pid` waits on now: `None` unless it is in a wait (it may be starting, its wake
    /// on its way, finished, or not of this simulation).
    pub fn waiting(&self, pid: Pid) -> Option<Waiting> {
        if pid.sim != self.id {
            return None;
        }
        let i = self.live(pid)?;
        (self.procs[i].phase == Phase::Waiting).then(|| self.waiting_of(i))
    }

    /// Every live process that waits for something other than time (a get, a put, a
    /// request, a join, a signal, a barrier, an activity, or a `FirstOf`/`AllOf` without a
    /// timer), in slot order, with what it waits on and since when. Once nothing is
    /// scheduled, these wait forever.
    pub fn blocked(&self) -> Vec<Blocked> {
        self.procs
            .iter()
            .filter(|(_, s)| s.phase == Phase::Waiting && !s.has_timer())
            .map(|(i, s)| Blocked {
                process: self.process_ref(self.pid_of(i)),
                waiting: self.waiting_of(i),
                since: s.since,
            })
            .collect()
    }

    /// Runs every event *before* `until` (events at exactly `until` are not processed, as in
    /// SimPy), then sets the clock to `until`.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Ticker { ticks: u32 }
    /// impl Process<Boxed<()>> for Ticker {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
    ///         if !matches!(wake, Wake::Started) { self.ticks += 1; }
    ///         Command::Sleep(1.0) // forever
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// let t = sim.spawn(Box::new(Ticker { ticks: 0 }));
    /// sim.run_until(10.0)?;
    /// assert_eq!(sim.now(), 10.0);
    /// assert_eq!(sim.process_as::<Ticker>(t).unwrap().ticks, 9); // the tick at 10 is not run yet
    /// sim.run_until(20.0)?; // carry on
    /// assert_eq!(sim.process_as::<Ticker>(t).unwrap().ticks, 19);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn run_until(&mut self, until: f64) -> Result<(), Error> {
        self.check_poison()?;
        self.check_time(until, "run_until", None)?;
        let limit = (until + 0.0).to_bits();
        while self.process_next::<true>(limit)? {}
        self.now = until;
        Ok(())
    }

    /// Processes exactly one event; `false` if nothing was scheduled.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Twice { left: u32 }
    /// impl Process<Boxed<()>> for Twice {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
    ///         if self.left == 0 { return Command::Done; }
    ///         self.left -= 1;
    ///         Command::Sleep(1.5)
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// sim.spawn(Box::new(Twice { left: 2 }));
    /// let mut times = Vec::new();
    /// while sim.step()? {
    ///     times.push(sim.now()); // the clock after each event
    /// }
    /// assert_eq!(times.first(), Some(&0.0));
    /// assert!(times.contains(&1.5));
    /// assert_eq!(sim.now(), 3.0);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn step(&mut self) -> Result<bool, Error> {
        self.check_poison()?;
        // One event exactly: the user may act before the next one, so none is carried out
        // in place.
        self.process_next::<false>(u64::MAX)
    }

    // ----- internals: bookkeeping -----

    fn spawn_inner(
        &mut self,
        process: M::Proc,
        name: Option<Box<str>>,
        spawner: Option<Pid>,
    ) -> Pid {
        let key = self.spawn_key(name.as_deref(), spawner);
        let rare = name.map(|name| {
            Box::new(Rare {
                name: Some(name),
                ..Rare::default()
            })
        });
        // A free slot is filled in place, and keeps the branch list that grew for a
        // `FirstOf` there, so that models spawning a process per customer do not allocate
        // one per customer.
        let idx = self.procs.insert(process, self.now, key, rare);
        if self.meta.len() <= idx {
            self.meta.resize(idx + 1, Meta::default());
        }
        let generation = self.meta[idx].generation;
        self.in_place_hint = true;
        self.schedule(self.now, URGENT, idx as u32, generation, Kind::Start);
        Pid {
            sim: self.id,
            idx: idx as u32,
            generation,
        }
    }

    /// The stream key of a process being spawned (the rules are in [`crate::rng`]): from its
    /// name and how many were spawned with that name before; or else from its spawner's key
    /// and how many processes that spawner spawned without a name before.
    fn spawn_key(&mut self, name: Option<&str>, spawner: Option<Pid>) -> u64 {
        if let Some(name) = name {
            let hash = name_key(name);
            let count = self.named.entry(hash).or_insert(0);
            let n = *count;
            *count += 1;
            return rng::named_key(hash, n);
        }
        match spawner.and_then(|p| self.live(p)) {
            Some(i) => {
                let slot = &mut self.procs[i];
                let parent = slot.key;
                let rare = slot.rare();
                let n = rare.spawned;
                rare.spawned += 1;
                rng::child_key(parent, n)
            }
            None => {
                let n = self.root_spawned;
                self.root_spawned += 1;
                rng::child_key(rng::ROOT_KEY, n)
            }
        }
    }

    /// The running process's own stream (its slot's), made on first use.
    pub(crate) fn process_rng(&mut self, me: Option<Pid>) -> &mut Stream {
        match me.and_then(|p| self.live(p)) {
            Some(i) => {
                let seed = self.seed;
                let slot = &mut self.procs[i];
                let key = slot.key;
                slot.rare()
                    .stream
                    .get_or_insert_with(|| derive_stream(seed, key))
            }
            None => self.rng(),
        }
    }

    fn add_queue(
        &mut self,
        capacity: Capacity,
        order: Option<QueueOrder<M::Item>>,
        filtered: bool,
    ) -> Result<QueueId, Error> {
        let cap = match capacity {
            Capacity::Unbounded => usize::MAX,
            Capacity::Bounded(0) => {
                return Err(Error::ZeroCapacity {
                    origin: self.origin(None),
                    what: "queue",
                });
            }
            Capacity::Bounded(n) => n,
        };
        self.queues.push(QueueState::new(cap, order, filtered));
        Ok(QueueId {
            sim: self.id,
            idx: (self.queues.len() - 1) as u32,
        })
    }

    fn add_resource(&mut self, kind: ResourceKind, capacity: usize) -> Result<ResourceId, Error> {
        if capacity == 0 {
            return Err(Error::ZeroCapacity {
                origin: self.origin(None),
                what: "resource",
            });
        }
        self.resources.push(ResourceState::new(kind, capacity));
        Ok(ResourceId {
            sim: self.id,
            idx: (self.resources.len() - 1) as u32,
        })
    }

    pub(crate) fn schedule(&mut self, time: f64, priority: u64, idx: u32, tag: u32, kind: Kind) {
        self.schedule_searching(time, priority, Event { idx, tag, kind }, None);
    }

    /// [`Simulation::schedule`]; `at_now`, when the caller knows it, says whether `time` is
    /// the current instant (see `enqueue_searching`), else it is told by comparing times.
    #[inline(always)]
    fn schedule_searching(&mut self, time: f64, priority: u64, e: Event, at_now: Option<bool>) {
        debug_assert!(time >= 0.0, "times are never negative");
        self.seq += 1;
        // `+ 0.0` turns a -0.0 into 0.0, whose bits sort first.
        let t = (time + 0.0).to_bits();
        let search = at_now.unwrap_or_else(|| t == (self.now + 0.0).to_bits());
        self.enqueue_searching(t, priority | self.seq, e, search);
    }

    /// Queues an event under its key: in the `next` register if it comes before everything
    /// queued, else in the calendar.
    #[inline(always)]
    fn enqueue(&mut self, t: u64, k: u64, e: Event) {
        let search = t == (self.now + 0.0).to_bits();
        self.enqueue_searching(t, k, e, search);
    }

    /// [`Simulation::enqueue`], told whether to search the calendar for its head when it is
    /// not known: for the current instant, where the head will be searched for next anyway,
    /// search now; for a later time, only if the head is known. (A question of cost only:
    /// the order is the same. A plain sleep says `dt == 0` instead of comparing times, so a
    /// delay too small to move the clock counts as later.)
    #[inline(always)]
    fn enqueue_searching(&mut self, t: u64, k: u64, e: Event, search: bool) {
        match self.next {
            Some((nt, nk, ne)) => {
                if (t, k) < (nt, nk) {
                    self.queue.push(nt, nk, ne);
                    self.next = Some((t, k, e));
                } else {
                    self.queue.push(t, k, e);
                }
            }
            None => {
                if self.queue.before_all(t, k, search) {
                    self.next = Some((t, k, e));
                } else {
                    self.queue.push(t, k, e);
                }
            }
        }
    }

    /// The key of the earliest queued event (the register's, or the calendar's).
    #[inline]
    fn head_key(&self) -> Option<(u64, u64)> {
        match self.next {
            Some((t, k, _)) => Some((t, k)),
            None => self.queue.first_key(),
        }
    }

    /// Takes the earliest queued event if its time is before `limit` (bits). Inlined into
    /// the run loop: out of line, its result goes through memory and it pays a prologue;
    /// the calendar's head search stays out of line.
    #[inline(always)]
    fn dequeue_before(&mut self, limit: u64) -> Option<(u64, u64, Event)> {
        match self.next {
            Some(n) if n.0 < limit => {
                self.next = None;
                self.queue.advance(n.0);
                Some(n)
            }
            Some(_) => None,
            None => self.queue.pop_before(limit),
        }
    }

    /// Whether every queued event is later than `now` (an event about to be scheduled at
    /// `now` with a new sequence number would be the next one, after the pending exits).
    #[inline]
    pub(crate) fn nothing_queued_now(&self) -> bool {
        let now = (self.now + 0.0).to_bits();
        self.head_key().is_none_or(|(t, _)| t > now)
    }

    /// Whether a pending exit comes before every queued event.
    #[inline]
    fn exit_due(&self) -> bool {
        match self.exits.front() {
            None => false,
            Some(&(t, k, _)) => self.head_key().is_none_or(|h| (t, k) < h),
        }
    }

    pub(crate) fn pid_of(&self, idx: usize) -> Pid {
        Pid {
            sim: self.id,
            idx: idx as u32,
            generation: self.meta[idx].generation,
        }
    }

    /// The slot of a live (spawned, slot not yet freed) process.
    pub(crate) fn live(&self, pid: Pid) -> Option<usize> {
        let i = pid.idx as usize;
        (self.procs.contains(i) && self.meta[i].generation == pid.generation).then_some(i)
    }

    pub(crate) fn process_ref(&self, pid: Pid) -> ProcessRef {
        let name = self
            .live(pid)
            .and_then(|i| self.procs[i].name())
            .map(str::to_owned);
        ProcessRef { pid, name }
    }

    pub(crate) fn origin(&self, process: Option<Pid>) -> Origin {
        Origin {
            at: self.now,
            process: process.map(|p| self.process_ref(p)),
        }
    }

    pub(crate) fn foreign(&self, handle: Handle, me: Option<Pid>) -> Error {
        Error::ForeignHandle {
            origin: self.origin(me),
            handle,
        }
    }

    /// The index of a primitive handle, if it belongs to this simulation.
    fn check_index(
        &self,
        (sim, idx): (u32, u32),
        len: usize,
        handle: Handle,
        me: Option<Pid>,
    ) -> Result<usize, Error> {
        if sim != self.id || idx as usize >= len {
            return Err(self.foreign(handle, me));
        }
        Ok(idx as usize)
    }

    pub(crate) fn check_queue(&self, q: QueueId, me: Option<Pid>) -> Result<usize, Error> {
        self.check_index((q.sim, q.idx), self.queues.len(), Handle::Queue(q), me)
    }

    pub(crate) fn check_resource(&self, r: ResourceId, me: Option<Pid>) -> Result<usize, Error> {
        self.check_index(
            (r.sim, r.idx),
            self.resources.len(),
            Handle::Resource(r),
            me,
        )
    }

    pub(crate) fn check_container(&self, c: ContainerId, me: Option<Pid>) -> Result<usize, Error> {
        self.check_index(
            (c.sim, c.idx),
            self.containers.len(),
            Handle::Container(c),
            me,
        )
    }

    pub(crate) fn check_signal(&self, s: SignalId, me: Option<Pid>) -> Result<usize, Error> {
        self.check_index((s.sim, s.idx), self.signals.len(), Handle::Signal(s), me)
    }

    pub(crate) fn check_barrier(&self, b: BarrierId, me: Option<Pid>) -> Result<usize, Error> {
        self.check_index((b.sim, b.idx), self.barriers.len(), Handle::Barrier(b), me)
    }

    pub(crate) fn check_activity(&self, a: ActivityId, me: Option<Pid>) -> Result<usize, Error> {
        self.check_index(
            (a.sim, a.idx),
            self.activities.len(),
            Handle::Activity(a),
            me,
        )
    }

    /// Checks a time given for `what`: finite, and not before now.
    pub(crate) fn check_time(
        &self,
        time: f64,
        what: &'static str,
        me: Option<Pid>,
    ) -> Result<(), Error> {
        let why = if time.is_nan() {
            "it is NaN"
        } else if time.is_infinite() {
            "it is not finite"
        } else if time < self.now {
            "it is before now"
        } else {
            return Ok(());
        };
        Err(Error::InvalidTime {
            origin: self.origin(me),
            time,
            what,
            why,
        })
    }

    /// Before a run: a poisoned simulation refuses, and an error made from outside since the
    /// last run is returned now.
    fn check_poison(&mut self) -> Result<(), Error> {
        if self.busy.is_none()
            && let Some(e) = self.outside_error.take()
        {
            return Err(e);
        }
        self.check_poisoned()
    }

    fn check_poisoned(&self) -> Result<(), Error> {
        match self.busy {
            Some(busy) => Err(Error::Poisoned {
                origin: Origin {
                    at: self.now,
                    process: busy.process(self.id).map(|p| self.process_ref(p)),
                },
                inside: busy.inside,
            }),
            None => Ok(()),
        }
    }

    /// Marks the start of user code (`inside` names it, for [`Error::Poisoned`]); returns
    /// what ran before, to hand to [`Simulation::leave`] when it returns. A panic skips the
    /// `leave`, and the mark poisons the simulation.
    #[inline]
    pub(crate) fn enter(
        &mut self,
        process: Option<Pid>,
        inside: &'static &'static str,
    ) -> Option<Busy> {
        self.busy.replace(Busy::new(process, inside))
    }

    /// The user code marked by [`Simulation::enter`] returned.
    #[inline]
    pub(crate) fn leave(&mut self, before: Option<Busy>) {
        self.busy = before;
    }

    #[inline]
    pub(crate) fn emit(&mut self, idx: usize, kind: TraceKind) {
        if self.observer.is_some() {
            self.emit_to_observer(idx, kind);
        }
    }

    #[cold]
    #[inline(never)]
    fn emit_to_observer(&mut self, idx: usize, kind: TraceKind) {
        let before = self.enter(Some(self.pid_of(idx)), &"an observer");
        let obs = self.observer.as_mut().expect("checked");
        let slot = &self.procs[idx];
        let event = TraceEvent {
            time: self.now,
            pid: Pid {
                sim: self.id,
                idx: idx as u32,
                generation: self.meta[idx].generation,
            },
            name: slot.name().unwrap_or(""),
            kind,
        };
        obs.on_event(&event);
        self.leave(before);
    }

    // ----- internals: the event loop -----

    /// Processes the next event if its time is before `limit` (the bits of a time;
    /// `u64::MAX`: any); `false` if there is none. Withdrawn timers at the front of the
    /// queue are dropped either way. With `IN_PLACE` (inside a run), an event that would
    /// certainly be the very next one may be carried out at once, without being queued or
    /// taken back (see [`Simulation::grants_in_place`] and
    /// [`Simulation::take_next_in_place`]); it still counts as an event.
    #[inline(always)]
    fn process_next<const IN_PLACE: bool>(&mut self, limit: u64) -> Result<bool, Error> {
        // Timers of withdrawn waits are dropped where they are met. They never move the
        // clock: a withdrawn timer may lie after every real event, and calls made between
        // steps schedule at `now`.
        // A plain sleep elapsed (`dispatch_event`'s first arm, the most common event) is
        // taken up where its timer is checked for staleness: its slot is looked up once.
        let mut slept = false;
        let (event, process) = loop {
            if !self.exits.is_empty() && self.exit_due() {
                if self.exits[0].0 >= limit {
                    return Ok(false);
                }
                let (t, _, idx) = self.exits.pop_front().expect("checked");
                self.now = f64::from_bits(t);
                self.elided_exit(idx);
                return Ok(true);
            }
            let Some((time_bits, _, event)) = self.dequeue_before(limit) else {
                self.prune();
                return Ok(false);
            };
            let process = match event.kind {
                Kind::Timer(_) => {
                    // `is_stale`, with the slot at hand.
                    let i = event.idx as usize;
                    // (A waiting slot is taken. Not a look-up returning an `Option`: the test
                    // of the `Option` would stay.)
                    if !self.procs.in_phase(i, Phase::Waiting) {
                        continue;
                    }
                    // The generation read with the epoch: after the slot's stores below it
                    // would be looked up (and its index checked) again.
                    let meta = self.meta[i];
                    if meta.epoch != event.tag {
                        continue;
                    }
                    let slot = &mut self.procs[i];
                    if slot.shape == Shape::Single {
                        slot.phase = Phase::Satisfied;
                        slot.branches.clear();
                        slept = true;
                    }
                    Some(Pid {
                        sim: self.id,
                        idx: event.idx,
                        generation: meta.generation,
                    })
                }
                Kind::Hook(_) | Kind::ActivityCheck | Kind::ActivityEnd => None,
                _ => Some(self.pid_of(event.idx as usize)),
            };
            self.now = f64::from_bits(time_bits);
            break (event, process);
        };
        self.events += 1;
        let before = self.enter(process, &"an event");
        let result = if slept {
            self.resume(event.idx as usize, Wake::Completed(Outcome::Slept))
        } else {
            self.dispatch_event::<IN_PLACE>(event)
        };
        self.leave(before);
        result?;
        while IN_PLACE && self.in_place_hint {
            self.in_place_hint = false;
            self.take_next_in_place(limit)?;
        }
        Ok(true)
    }

    /// After an event inside a run that scheduled a start, a hook, a request's own event or
    /// a hop: the event in the register (the head of the queue, at `now`) is carried out at
    /// once if it is one of those, after the exits that come before it — what the
    /// next `process_next` would do, without its search for the next event and its
    /// dispatch. The caller repeats while the hint is set again. (An observer sees the same
    /// trace: it is told of steps, waits and finishes, which keep their order and time.)
    #[inline(always)]
    fn take_next_in_place(&mut self, limit: u64) -> Result<(), Error> {
        let Some((t, k, e)) = self.next else {
            return Ok(());
        };
        match e.kind {
            // A start; a hook (a release's, a `try_put`'s...); a request's own event (its
            // hook, then the wake parked for it: a single wait's, or a `FirstOf`/`AllOf`'s,
            // whose hop is carried out in place too if it is next); a `FirstOf`/`AllOf`'s
            // wake one hop later (SimPy's condition event), or any other wake parked behind
            // a `Kind::Resume`.
            Kind::Start | Kind::Hook(_) | Kind::Ready(_) | Kind::Resume => {}
            _ => return Ok(()),
        }
        // All are scheduled at `now`, which is before the run's `limit`: the event just
        // processed was.
        debug_assert!(t == (self.now + 0.0).to_bits() && t < limit);
        if self
            .exits
            .front()
            .is_some_and(|&(xt, xk, _)| (xt, xk) < (t, k))
        {
            // The pending exits before it (all at `now`) come first, as in `process_next`
            // (they free slots, nothing is queued).
            self.exits_before(t, k);
        }
        self.next = None;
        self.queue.advance(t);
        self.events += 1;
        let idx = e.idx as usize;
        let process = match e.kind {
            Kind::Hook(_) => None,
            _ => Some(self.pid_of(idx)),
        };
        let before = self.enter(process, &"an event");
        let result = match e.kind {
            Kind::Start => self.resume(idx, Wake::Started),
            Kind::Hook(Hook::Grants(r)) => self.grants_in_place(r),
            Kind::Hook(hook) => self.run_hook(hook),
            Kind::Resume => self.resume_parked(idx),
            Kind::Ready(hook) => self.ready::<true>(idx, hook),
            _ => unreachable!("checked above"),
        };
        self.leave(before);
        result
    }

    /// A `Hook::Grants(r)` event inside a run (under the event's poison mark): offers the
    /// freed slot, and if the grant's wake would be the next event (nothing else queued at
    /// `now`), processes the pending exits ahead of it as their events would, then wakes the
    /// waiter as its `Kind::Ready` event would: counted as an event, under its own mark.
    #[inline(never)]
    fn grants_in_place(&mut self, r: u32) -> Result<(), Error> {
        let Some((pid, single, preemptive)) = self.trigger_grants_in_place(r) else {
            return Ok(());
        };
        let idx = pid.idx as usize;
        if !single {
            // A plain `FirstOf` completed, parked as its records: its `Kind::Ready` event
            // and the hop.
            return self.first_hop_in_place(idx, 2);
        }
        if !self.exits.is_empty() {
            // Every pending exit is at `now` (an exit is due before the clock moves on),
            // and its key is earlier than the wake's.
            self.all_exits_now();
        }
        self.events += 1;
        let before = self.enter(Some(pid), &"an event");
        let rid = ResourceId {
            sim: self.id,
            idx: r,
        };
        if preemptive {
            self.recheck_taken_slot(rid);
        }
        let result = self.resume(idx, Wake::Completed(Outcome::Acquired(rid)));
        self.leave(before);
        result
    }

    /// The `Kind::Ready` event of a completed `FirstOf`/`AllOf` inside a run (under the
    /// event's mark): `dispatch_event`'s arm schedules its hop (SimPy's condition event),
    /// a `Kind::Resume` at `now`, which is carried out in place instead when nothing is
    /// queued at `now`.
    #[inline(never)]
    fn hop_in_place(&mut self, idx: usize) -> Result<(), Error> {
        if self.nothing_queued_now() {
            return self.first_hop_in_place(idx, 1);
        }
        self.in_place_hint = true;
        self.schedule(self.now, NORMAL, idx as u32, 0, Kind::Resume);
        Ok(())
    }

    /// Inside a run, the next `events` events (nothing is queued at `now`) are the ones that
    /// would deliver the parked wake of a `FirstOf`/`AllOf` (its `Kind::Ready` and the hop,
    /// or the hop alone): the pending exits, whose keys are earlier, are processed first,
    /// as `process_next` would, then the wake goes to the process, counted and under its own
    /// mark, as the hop's event would.
    #[inline(never)]
    fn first_hop_in_place(&mut self, idx: usize, events: u64) -> Result<(), Error> {
        if !self.exits.is_empty() {
            // All at `now`, their keys earlier.
            self.all_exits_now();
        }
        self.events += events;
        let before = self.enter(Some(self.pid_of(idx)), &"an event");
        let result = self.resume_parked(idx);
        self.leave(before);
        result
    }

    /// Processes every pending exit (all at `now`, before an event carried out in place), as
    /// `process_next` would: outside any mark (dropping what a process leaves may run user
    /// code).
    #[inline(always)]
    fn all_exits_now(&mut self) {
        let mark = self.busy.take();
        while let Some((t, _, i)) = self.exits.pop_front() {
            debug_assert_eq!(t, (self.now + 0.0).to_bits());
            self.elided_exit(i);
        }
        self.busy = mark;
    }

    /// Processes the pending exits whose keys are before `(t, k)` (all at `now`), as
    /// `process_next` would: outside any mark (dropping what a process leaves may run user
    /// code).
    #[inline(never)]
    fn exits_before(&mut self, t: u64, k: u64) {
        let mark = self.busy.take();
        while let Some(&(xt, xk, i)) = self.exits.front()
            && (xt, xk) < (t, k)
        {
            debug_assert_eq!(xt, (self.now + 0.0).to_bits());
            self.exits.pop_front();
            self.elided_exit(i);
        }
        self.busy = mark;
    }

    /// The exit of process `idx` that was not queued (see `exits`), taken from `exits` at
    /// its key: counted as the event it stands for, and its slot freed.
    #[inline(always)]
    fn elided_exit(&mut self, idx: u32) {
        self.events += 1;
        self.procs[idx as usize].phase = Phase::Exited;
        self.free_slot(idx as usize);
    }

    /// Wakes a process parked with a slot granted to its single `Acquire` (`Parked::Slot`:
    /// `ready` is the resource).
    #[inline(always)]
    fn resume_granted(&mut self, idx: usize) -> Result<(), Error> {
        let slot = &mut self.procs[idx];
        slot.parked = Parked::Wake;
        let r = ResourceId {
            sim: self.id,
            idx: slot.ready,
        };
        self.recheck_taken_slot(r);
        self.resume(idx, Wake::Completed(Outcome::Acquired(r)))
    }

    /// Drops withdrawn timers from the front of the queue, so that `peek` sees a real event.
    fn prune(&mut self) {
        if self.next.is_some_and(|(_, _, e)| self.is_stale(&e)) {
            self.next = None;
        }
        if self.next.is_none() {
            while self.queue.peek().is_some_and(|(_, _, e)| self.is_stale(e)) {
                self.queue.pop();
            }
        }
    }

    /// A timer of a wait that was withdrawn or completed by another branch.
    fn is_stale(&self, e: &Event) -> bool {
        match e.kind {
            Kind::Timer(_) => {
                let i = e.idx as usize;
                !(self.procs.get(i).is_some_and(|s| s.phase == Phase::Waiting)
                    && self.meta[i].epoch == e.tag)
            }
            _ => false,
        }
    }

    fn dispatch_event<const IN_PLACE: bool>(&mut self, e: Event) -> Result<(), Error> {
        let idx = e.idx as usize;
        match e.kind {
            Kind::Start => self.resume(idx, Wake::Started),
            Kind::Timer(branch) => {
                // A plain sleep's timer is taken up by `process_next` where it is checked.
                let slot = &self.procs[idx];
                debug_assert!(slot.shape != Shape::Single, "a sleep's timer is taken up");
                if IN_PLACE && slot.is_plain_first_of() {
                    // `branch_done_in_event`'s path for a plain `FirstOf`, its hop carried
                    // out in place if it is the next event.
                    if self.first_done(idx, branch as usize, Outcome::Slept, Kind::Resume, true) {
                        return self.first_hop_in_place(idx, 1);
                    }
                    Ok(())
                } else {
                    self.branch_done_in_event(idx, branch as usize, Outcome::Slept)
                }
            }
            Kind::Ready(hook) => self.ready::<IN_PLACE>(idx, hook),
            Kind::Resume => self.resume_parked(idx),
            Kind::Interrupt => {
                if self.procs.contains(idx) && self.meta[idx].generation == e.tag {
                    let slot = &mut self.procs[idx];
                    slot.rare().inflight -= 1;
                    let deliverable = match slot.phase {
                        Phase::Waiting => !slot.masked,
                        Phase::Held => true,
                        _ => false,
                    };
                    if deliverable && slot.has_interrupts() {
                        return self.deliver_interrupt(idx);
                    }
                    if slot.phase == Phase::Held && !slot.has_interrupts() {
                        // Every queued interrupt went away (summons to activities that
                        // ended): carry out the held command after all.
                        let held = slot.rare().held.take().expect("held command");
                        let pid = self.pid_of(idx);
                        return match self.issue(idx, pid, held) {
                            Ok(None) => Ok(()),
                            Ok(Some(wake)) => self.resume(idx, wake),
                            Err(err) => {
                                self.fail(idx, &err);
                                Err(err)
                            }
                        };
                    }
                }
                Ok(())
            }
            Kind::Exit => self.process_exit(idx),
            Kind::Hook(Hook::Grants(r)) if IN_PLACE => self.grants_in_place(r),
            Kind::Hook(hook) => self.run_hook(hook),
            Kind::ActivityCheck => {
                self.try_start_activities();
                Ok(())
            }
            Kind::ActivityEnd => self.end_activity(idx),
        }
    }

    /// A `Kind::Ready(hook)` event: the request's own event (SimPy's get, put or request
    /// event processed) runs the primitive's hook, then delivers the wake parked for it: at
    /// once for a single wait, one hop later for a `FirstOf`/`AllOf` (SimPy's condition
    /// event; carried out in place inside a run when it is the next event).
    #[inline(always)]
    fn ready<const IN_PLACE: bool>(&mut self, idx: usize, hook: Hook) -> Result<(), Error> {
        // The common hooks without a call: none (a slot granted at once, a `FirstOf`), and
        // a queue's, whose check whether there is anything to do is inlined.
        match hook {
            Hook::None => {}
            Hook::Gets(q) => self.trigger_gets(q),
            Hook::Puts(q) => self.trigger_puts(q),
            _ => self.run_hook(hook)?,
        }
        let slot = &mut self.procs[idx];
        if slot.parked == Parked::Slot {
            self.resume_granted(idx)
        } else if slot.parked == Parked::Put {
            slot.parked = Parked::Wake;
            self.resume(idx, Wake::Completed(Outcome::Put))
        } else if slot.parked == Parked::Outcome {
            slot.parked = Parked::Wake;
            let outcome = self.outcomes.remove(slot.ready as usize);
            if let Outcome::Acquired(r) = outcome {
                self.recheck_taken_slot(r);
            }
            self.resume(idx, outcome.into())
        } else if slot.shape != Shape::Single {
            if IN_PLACE {
                return self.hop_in_place(idx);
            }
            self.schedule(self.now, NORMAL, idx as u32, 0, Kind::Resume);
            Ok(())
        } else {
            let wake = self.wakes.remove(slot.ready as usize);
            self.recheck_preemption(&wake);
            self.resume(idx, wake)
        }
    }

    /// A `Kind::Resume` event: delivers the wake parked for it.
    #[inline(always)]
    fn resume_parked(&mut self, idx: usize) -> Result<(), Error> {
        if self.procs[idx].parked == Parked::First {
            let wake = self.first_wake(idx);
            return self.resume(idx, wake);
        }
        let wake = self.wakes.remove(self.procs[idx].ready as usize);
        self.recheck_preemption(&wake);
        self.resume(idx, wake)
    }

    /// Wakes a process whose wait just completed inside its own event: at once for a single
    /// wait, one hop later for a `FirstOf`/`AllOf` (SimPy's condition event).
    fn wake_or_hop(&mut self, idx: usize, wake: Wake<M::Item, M::Cause>) -> Result<(), Error> {
        if self.procs[idx].shape != Shape::Single {
            self.park(idx, wake, Kind::Resume);
            Ok(())
        } else {
            self.resume(idx, wake)
        }
    }

    /// Stores a wake and schedules the event that will deliver it.
    pub(crate) fn park(&mut self, idx: usize, wake: Wake<M::Item, M::Cause>, kind: Kind) {
        // Its event may be the next one: a run carries it out in place.
        self.in_place_hint = true;
        self.procs[idx].ready = self.wakes.insert(wake) as u32;
        self.schedule(self.now, NORMAL, idx as u32, 0, kind);
    }

    /// Runs a primitive's hook (SimPy's `_trigger_get`, `_trigger_put`... callback).
    #[inline]
    fn run_hook(&mut self, hook: Hook) -> Result<(), Error> {
        match hook {
            Hook::None => {}
            Hook::Gets(q) => self.trigger_gets(q),
            Hook::Puts(q) => self.trigger_puts(q),
            Hook::Grants(r) => self.trigger_grants(r),
            Hook::Draws(c) => self.trigger_draws(c),
            Hook::Fills(c) => self.trigger_fills(c),
            Hook::Fire(s) => return self.fire(s),
        }
        Ok(())
    }

    fn deliver_interrupt(&mut self, idx: usize) -> Result<(), Error> {
        let slot = &mut self.procs[idx];
        let cause = slot
            .rare()
            .interrupts
            .pop_front()
            .expect("checked non-empty");
        let (request, waited, taken, places) = if slot.phase == Phase::Held {
            let held = slot.rare().held.take().expect("held command");
            (held, 0.0, Vec::new(), Places::new())
        } else {
            let waited = self.now - slot.since;
            let (request, taken, places) = self.withdraw_all(idx);
            (request, waited, taken, places)
        };
        self.recheck_taken_slots(&taken);
        let cause = match cause {
            Pending::User(cause) => Reason::Interrupt(cause),
            Pending::Summons(a) => {
                let slot = &mut self.procs[idx];
                slot.available = false;
                slot.rare().summoned = Some(a);
                let pid = self.pid_of(idx);
                let now = self.now;
                if let Some(p) = self.activities[a as usize]
                    .participants
                    .iter_mut()
                    .find(|p| p.pid == pid)
                {
                    p.joined_at = Some(now);
                }
                Reason::Summoned(ActivityId {
                    sim: self.id,
                    idx: a,
                })
            }
        };
        let wake = Wake::Interrupted(Interrupt {
            cause,
            request,
            waited,
            taken,
            places: places.into(),
        });
        self.resume(idx, wake)
    }

    /// Steps a process and carries out the command it returns; a command that completes
    /// within the same event (joining a process that has exited, waiting on a signal that
    /// has fired, as SimPy continues past an already-processed event) steps it again.
    fn resume(&mut self, idx: usize, wake: Wake<M::Item, M::Cause>) -> Result<(), Error> {
        // The wake goes to `step` where it lies, not copied into a loop variable first (a
        // `Wake` is large): the rare command that continues at once loops elsewhere.
        match self.step_once(idx, wake, Self::step_of)? {
            None => Ok(()),
            Some(next) => self.resume_again(idx, next),
        }
    }

    /// [`Simulation::resume`]'s loop, for a command that completed within the same event.
    #[cold]
    #[inline(never)]
    fn resume_again(&mut self, idx: usize, mut wake: Wake<M::Item, M::Cause>) -> Result<(), Error> {
        while let Some(next) = self.step_once_outlined(idx, wake)? {
            wake = next;
        }
        Ok(())
    }

    /// [`Simulation::step_once`], not inlined: the hot call site of `step` stays the only
    /// inlined one.
    #[inline(never)]
    fn step_once_outlined(
        &mut self,
        idx: usize,
        wake: Wake<M::Item, M::Cause>,
    ) -> Result<Option<WakeOf<M>>, Error> {
        // Through an opaque pointer: a second direct call of `step` would keep it from being
        // inlined at the hot one.
        self.step_once(idx, wake, std::hint::black_box(Self::step_of))
    }

    /// The process's `step`, as a function to hand to [`Simulation::step_once`].
    #[inline(always)]
    fn step_of(body: &mut M::Proc, cx: &mut Context<'_, M>, wake: WakeOf<M>) -> CommandOf<M> {
        body.step(cx, wake)
    }

    #[inline(always)]
    fn step_once(
        &mut self,
        idx: usize,
        wake: Wake<M::Item, M::Cause>,
        step: StepFn<M>,
    ) -> Result<Option<WakeOf<M>>, Error> {
        if self.observer.is_some() {
            self.emit_to_observer(idx, TraceKind::Wake(wake.kind()));
        }
        let pid = self.pid_of(idx);
        let slot = &mut self.procs[idx];
        slot.phase = Phase::Running;
        let mut body = slot.body.take().expect("a waiting process has its body");
        let before = self.enter(Some(pid), &"step");
        let mut cx = Context {
            sim: self,
            me: Some(pid),
            error: None,
        };
        let mut command = step(&mut body, &mut cx, wake);
        // The rest goes through the context's reference, so that its error is looked at
        // where it lies (an `Option<Error>` is large: moving it out costs every step).
        let sim = &mut *cx.sim;
        sim.leave(before);
        // One look at the slot: the body goes back, and the fast paths below look at
        // whether the process is ordinary (`Simulation::is_ordinary`) through the same
        // reference (it borrows only `procs`: their other checks read other fields).
        let slot = &mut sim.procs[idx];
        slot.body = Some(body);
        if cx.error.is_none() {
            // The common commands are carried out here, so that they are not moved into
            // `issue`; they own nothing, so their (out-of-line) drop glue is skipped.
            // The clock read once: the slot's stores below would make it be read again.
            let now = sim.now;
            if let Command::Sleep(dt) = command
                && valid_delay_at(now, dt)
                && Self::slot_is_ordinary(slot)
            {
                std::mem::forget(command);
                if sim.trace_waits {
                    sim.sleep(idx, dt);
                    return Ok(None);
                }
                // `Simulation::sleep`, through the slot at hand: `start_wait`'s writes by
                // hand (through `start_wait` itself W2, mmc and firstof run 1% more
                // instructions: measured).
                let meta = &mut sim.meta[idx];
                let epoch = meta.epoch.wrapping_add(1);
                meta.epoch = epoch;
                slot.phase = Phase::Waiting;
                slot.since = now;
                slot.masked = false;
                slot.shape = Shape::Single;
                slot.branches.set_one(Self::sleep_branch(dt));
                if slot.spared {
                    sim.recheck_spared(idx);
                }
                let timer = Event {
                    idx: idx as u32,
                    tag: epoch,
                    kind: Kind::Timer(0),
                };
                sim.schedule_searching(now + dt, NORMAL, timer, Some(dt == 0.0));
                return Ok(None);
            }
            match command {
                Command::Done => {
                    std::mem::forget(command);
                    // `Simulation::finish`, through the slot at hand.
                    let owning = Self::close_slot(slot, sim.keep_finished);
                    sim.finish_rest(idx, TraceKind::Done, owning);
                    return Ok(None);
                }
                Command::Acquire(r)
                    if Self::slot_is_ordinary(slot)
                        && Self::plain_target(
                            sim.trace_waits,
                            sim.id,
                            sim.resources.len(),
                            r.sim,
                            r.idx,
                        ) =>
                {
                    std::mem::forget(command);
                    sim.acquire(idx, r);
                    return Ok(None);
                }
                Command::Get(q) | Command::Put(q, _)
                    if Self::slot_is_ordinary(slot)
                        && Self::plain_target(
                            sim.trace_waits,
                            sim.id,
                            sim.queues.len(),
                            q.sim,
                            q.idx,
                        ) =>
                {
                    sim.queue_op_inline(idx, command);
                    return Ok(None);
                }
                // Not a guard: `first_of` registers the branches where they lie (`&mut`).
                #[allow(clippy::collapsible_match)]
                Command::FirstOf(ref mut branches) => {
                    if sim.first_of(idx, branches) {
                        // What `first_of` leaves owns nothing: only a list on the heap needs
                        // freeing.
                        if branches.0.spilled() {
                            drop(command);
                        } else {
                            std::mem::forget(command);
                        }
                        return Ok(None);
                    }
                }
                _ => {}
            }
        }
        let result = match cx.error.take() {
            Some(err) => Err(err),
            // The pid as the context holds it: not kept aside through the step.
            None => sim.issue(idx, cx.me.expect("a step has its process"), command),
        };
        result.inspect_err(|err| sim.fail(idx, err))
    }

    // ----- internals: operations shared with Context -----

    pub(crate) fn spawn_from(
        &mut self,
        process: M::Proc,
        name: Option<Box<str>>,
        spawner: Option<Pid>,
    ) -> Pid {
        self.spawn_inner(process, name, spawner)
    }

    pub(crate) fn interrupt_from(
        &mut self,
        me: Option<Pid>,
        target: Pid,
        cause: M::Cause,
    ) -> Result<(), Error> {
        if target.sim != self.id || target.idx as usize >= self.meta.len() {
            return Err(self.foreign(Handle::Process(target), me));
        }
        if me == Some(target) {
            return Err(Error::SelfReference {
                origin: self.origin(me),
                what: "interrupt",
            });
        }
        let idx = match self.live(target) {
            Some(i) if !self.procs[i].phase.is_over() => i,
            _ => {
                return Err(Error::Finished {
                    origin: self.origin(me),
                    target,
                });
            }
        };
        self.post_interrupt(idx, Pending::User(cause));
        Ok(())
    }

    /// Queues an interrupt and schedules its urgent delivery at this instant.
    pub(crate) fn post_interrupt(&mut self, idx: usize, cause: Pending<M::Cause>) {
        let slot = &mut self.procs[idx];
        let rare = slot.rare();
        rare.interrupts.push_back(cause);
        rare.inflight += 1;
        let generation = self.meta[idx].generation;
        self.schedule(self.now, URGENT, idx as u32, generation, Kind::Interrupt);
    }

    pub(crate) fn release_from(&mut self, me: Option<Pid>, r: ResourceId) -> Result<(), Error> {
        let ri = self.check_resource(r, me)?;
        let holder = me.and_then(|pid| Some((pid, self.resources[ri].holder_at(pid)?)));
        let Some((pid, at)) = holder else {
            // A slot lost to preemption: releasing it is a no-op, once.
            let lost = me
                .and_then(|pid| self.live(pid))
                .and_then(|i| self.procs[i].rare.as_mut())
                .and_then(|rare| {
                    let at = rare.lost.iter().position(|&x| x == r.idx)?;
                    rare.lost.swap_remove(at);
                    Some(())
                });
            return match lost {
                Some(()) => Ok(()),
                None => Err(Error::NotHolder {
                    origin: self.origin(me),
                    resource: r,
                }),
            };
        };
        self.resources[ri].release_at(at, self.now);
        // A holder is live: a finishing process gives back all it holds.
        debug_assert!(self.live(pid).is_some(), "holders are live");
        self.procs[pid.idx as usize].holds -= 1;
        self.schedule_grants(ri as u32);
        Ok(())
    }

    /// Schedules the hook that offers a freed slot of resource `r` to its head waiter —
    /// unless it is certain to do nothing: nobody waits on a resource that cannot preempt.
    /// Every request that registers from now on runs the same offer itself (it gets the
    /// free slot at once), so with nobody waiting now the hook would find nobody waiting, or
    /// a head that was refused for want of room. A preemptive resource's hook also looks at
    /// holders (who can be preempted may change meanwhile), so it is always scheduled.
    #[inline(always)]
    pub(crate) fn schedule_grants(&mut self, r: u32) {
        let res = &self.resources[r as usize];
        if res.waiting.is_empty() && res.kind != ResourceKind::Preemptive {
            return;
        }
        self.schedule_grants_hook(r);
    }

    /// Schedules the hook that offers a slot of resource `r` to its head waiter (kept out of
    /// line, so that the callers that usually decide not to pay nothing for it). A run may
    /// carry it out in place (see `in_place_hint`).
    #[inline(never)]
    pub(crate) fn schedule_grants_hook(&mut self, r: u32) {
        self.schedule_hook(Hook::Grants(r));
    }

    /// Schedules a hook as its own event at this instant. A run may carry it out in place
    /// (see `in_place_hint`).
    pub(crate) fn schedule_hook(&mut self, hook: Hook) {
        self.in_place_hint = true;
        self.schedule(self.now, NORMAL, 0, 0, Kind::Hook(hook));
    }

    // ----- internals: finishing -----

    fn fail(&mut self, idx: usize, err: &Error) {
        self.procs[idx].rare().failure = Some(err.clone());
        self.finish(idx, TraceKind::Failed);
    }

    /// A process returned `Done` or failed: release what it holds, drop queued interrupts,
    /// and schedule its exit (which wakes joiners).
    /// (`step_once` does the same for `Done`, through the slot it holds.)
    pub(crate) fn finish(&mut self, idx: usize, how: TraceKind) {
        let owning = Self::close_slot(&mut self.procs[idx], self.keep_finished);
        self.finish_rest(idx, how, owning);
    }

    /// What finishing writes on a slot at hand: `Finishing`, and its body dropped unless
    /// finished processes are kept. Returns whether it holds or owns anything more.
    #[inline(always)]
    fn close_slot(slot: &mut Slot<M>, keep: bool) -> bool {
        slot.phase = Phase::Finishing;
        if !keep {
            slot.body = None;
        }
        slot.holds > 0 || slot.rare.is_some()
    }

    /// The rest of [`Simulation::finish`] after [`Simulation::close_slot`]. Most processes
    /// hold nothing and have no rare state (no summons, no queued interrupts, no joiners):
    /// their exit is only to be taken.
    #[inline(always)]
    fn finish_rest(&mut self, idx: usize, how: TraceKind, owning: bool) {
        if owning {
            self.finish_owning(idx, how);
        } else {
            self.emit(idx, how);
            self.elide_exit(idx);
        }
    }

    /// The rest of [`Simulation::finish`] for a process that holds resources or has rare
    /// state.
    #[inline(never)]
    fn finish_owning(&mut self, idx: usize, how: TraceKind) {
        let pid = self.pid_of(idx);
        let slot = &mut self.procs[idx];
        let holds = std::mem::take(&mut slot.holds);
        // One look at what most processes lack: a summons, queued interrupts, joiners.
        let (summoned, dropped, joined) = match slot.rare.as_deref_mut() {
            None => (None, 0, false),
            Some(rare) => {
                rare.held = None;
                let dropped = rare.interrupts.len();
                rare.interrupts.clear();
                (rare.summoned.take(), dropped, !rare.joiners.is_empty())
            }
        };
        if let Some(a) = summoned {
            // Summoned, and finished instead of attending: it leaves at once.
            let now = self.now;
            if let Some(p) = self.activities[a as usize]
                .participants
                .iter_mut()
                .find(|p| p.pid == pid)
            {
                p.left_at = Some(now);
            }
        }
        if holds > 0 {
            for r in 0..self.resources.len() {
                while let Some(at) = self.resources[r].holder_at(pid) {
                    self.resources[r].release_at(at, self.now);
                    self.schedule_grants(r as u32);
                }
            }
        }
        for _ in 0..dropped {
            self.emit(idx, TraceKind::InterruptDropped);
        }
        self.emit(idx, how);
        if joined {
            self.schedule(self.now, NORMAL, idx as u32, pid.generation, Kind::Exit);
        } else {
            self.elide_exit(idx);
        }
    }

    /// The exit of a finished process nobody joins: nothing to do but free the slot, so no
    /// event (see `exits`).
    #[inline(always)]
    fn elide_exit(&mut self, idx: usize) {
        self.seq += 1;
        self.exits
            .push_back(((self.now + 0.0).to_bits(), NORMAL | self.seq, idx as u32));
    }

    /// A join registers on a finishing process whose exit was not queued: queue it now,
    /// under the key it was given.
    pub(crate) fn queue_exit(&mut self, idx: usize) {
        if let Some(at) = self.exits.iter().position(|&(_, _, i)| i as usize == idx) {
            let (t, k, _) = self.exits.remove(at).expect("found");
            let e = Event {
                idx: idx as u32,
                tag: self.meta[idx].generation,
                kind: Kind::Exit,
            };
            self.enqueue(t, k, e);
        }
    }

    /// How a finishing process ended, for one joiner.
    pub(crate) fn exit_of(&self, idx: usize) -> Exit<M::Item> {
        match self.procs[idx].rare.as_deref() {
            Some(Rare {
                failure: Some(err), ..
            }) => Exit::Failed(Box::new(err.clone())),
            Some(Rare {
                exit_value: Some((value, clone)),
                ..
            }) => Exit::Returned(Some(clone(value))),
            _ => Exit::Returned(None),
        }
    }

    fn process_exit(&mut self, idx: usize) -> Result<(), Error> {
        let pid = self.pid_of(idx);
        self.procs[idx].phase = Phase::Exited;
        let joiners = match self.procs[idx].rare.as_mut() {
            Some(rare) => std::mem::take(&mut rare.joiners),
            None => Vec::new(),
        };
        // The slot stays until every joiner is woken: a joiner stepped here may join the
        // exited process again, and must see it exited (and its exit), not a new occupant.
        let result = self.wake_waiters(&joiners, |sim| Outcome::Joined(pid, sim.exit_of(idx)));
        self.free_slot(idx);
        result
    }

    /// The last of an exit: drops (or keeps) the finished process and frees its slot.
    #[inline(always)]
    fn free_slot(&mut self, idx: usize) {
        // The slot stays in the table, free, for the next process (see `slots`): what the
        // finished process owned is dropped there, or moved out if it is kept.
        if self.keep_finished {
            self.keep(idx);
        }
        self.procs.free(idx);
        self.meta[idx].generation = self.meta[idx].generation.wrapping_add(1);
    }

    /// Moves a finished process out of its slot into `finished` (see
    /// [`Simulation::keep_finished`]).
    #[cold]
    #[inline(never)]
    fn keep(&mut self, idx: usize) {
        let pid = self.pid_of(idx);
        let slot = &mut self.procs[idx];
        let rare = slot.rare.take().map(|r| *r);
        let (value, failure, name) = match rare {
            Some(r) => (r.exit_value, r.failure, r.name),
            None => (None, None, None),
        };
        self.finished.insert(
            pid,
            Kept {
                body: slot.body.take(),
                value,
                failure,
                name,
            },
        );
    }

    /// Completes the branches of `waiters` inside the current event, in order (joiners of an
    /// exit, waiters of a signal). After an error the remaining ones are still woken, through
    /// later events.
    fn wake_waiters(
        &mut self,
        waiters: &[Waiter],
        mut outcome: impl FnMut(&Self) -> Outcome<M::Item>,
    ) -> Result<(), Error> {
        let mut result = Ok(());
        for w in waiters {
            if !self.waiter_is_current(w) {
                continue;
            }
            let o = outcome(self);
            let idx = w.idx as usize;
            if let Some(wake) = self.branch_done(idx, w.branch as usize, o) {
                if result.is_ok() {
                    result = self.wake_or_hop(idx, wake);
                } else {
                    self.park(idx, wake, Kind::Resume);
                }
            }
        }
        result
    }

    /// Whether a registered waiter still names a pending branch of its process's wait.
    pub(crate) fn waiter_is_current(&self, w: &Waiter) -> bool {
        let i = w.idx as usize;
        self.procs.get(i).is_some_and(|s| {
            s.phase == Phase::Waiting
                && self.meta[i].epoch == w.epoch
                && s.branches.get(w.branch as usize).is_some_and(|b| !b.done)
        })
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
