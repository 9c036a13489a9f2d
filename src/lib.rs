//! # stepsim — discrete-event simulation with explicit state machines
//!
//! A *process* is a plain Rust value implementing [`Process`]: the simulation calls its
//! [`step`](Process::step) with a [`Wake`] saying what happened (started, slept, got an item,
//! was interrupted, …) and carries out the [`Command`] it returns (sleep, get, put, acquire,
//! first-of, join, yield, done). No async, no threads: control leaves a process only through
//! a returned command, so every interrupt point is visible in the code, and whether a wait may
//! be interrupted is part of the command ([`Command::masked`]). Events at one instant run in
//! SimPy 4's order.
//!
//! An interrupt or a lost first-of race **withdraws** the wait it cancels: a withdrawn `Get`
//! has taken no item, a withdrawn `Acquire` holds no slot, a withdrawn `Put` hands its item
//! back. The orphaned requests that silently lose items in naive SimPy code cannot happen.
//!
//! **New here? Start with the [guide]**: ten short chapters from a first process to
//! translating a SimPy model, every example compiled and tested.
//!
//! # A complete model
//!
//! Jobs (their durations) wait in a queue; a coder takes each in turn. A manager interrupts
//! the coder once; the coder carries on where it was.
//!
//! ```
//! use stepsim::{
//!     Boxed, Capacity, Command, Context, Outcome, Pid, Process, QueueId, Simulation, Wake,
//! };
//!
//! type M = Boxed<f64, &'static str>; // queues carry f64 durations, interrupts a &str
//! type W = Wake<f64, &'static str>;
//!
//! enum Coder { Idle { jobs: QueueId, done: u32 }, Working { jobs: QueueId, done: u32 } }
//!
//! impl Process<M> for Coder {
//!     fn step(&mut self, _cx: &mut Context<'_, M>, wake: W) -> Command<f64> {
//!         match (&*self, wake) {
//!             (&Coder::Idle { jobs, done }, Wake::Completed(Outcome::Got(duration))) => {
//!                 *self = Coder::Working { jobs, done };
//!                 Command::Sleep(duration)
//!             }
//!             // Interrupted while working: carry on with the time that was left.
//!             (&Coder::Working { .. }, Wake::Interrupted(interrupt)) => interrupt.resume(),
//!             (&Coder::Working { jobs, done }, Wake::Completed(Outcome::Slept)) => {
//!                 *self = Coder::Idle { jobs, done: done + 1 };
//!                 Command::Get(jobs)
//!             }
//!             (&Coder::Idle { jobs, .. }, _) => Command::Get(jobs),
//!             (&Coder::Working { .. }, other) => unreachable!("{other:?}"),
//!         }
//!     }
//! }
//!
//! /// Interrupts the coder at t = 3.
//! struct Manager { coder: Pid }
//! impl Process<M> for Manager {
//!     fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Command<f64> {
//!         if let Wake::Started = wake {
//!             return Command::Sleep(3.0);
//!         }
//!         cx.interrupt(self.coder, "status meeting?");
//!         Command::Done
//!     }
//! }
//!
//! let mut sim = Simulation::<M>::new(42); // the seed of every random stream
//! let jobs = sim.queue(Capacity::Unbounded)?;
//! for d in [2.0, 1.5, 4.0] {
//!     sim.context().try_put(jobs, d).unwrap();
//! }
//! let coder = sim.spawn(Box::new(Coder::Idle { jobs, done: 0 }));
//! sim.spawn(Box::new(Manager { coder }));
//! sim.run_until(480.0)?;
//!
//! assert!(matches!(sim.process_as::<Coder>(coder), Some(Coder::Idle { done: 3, .. })));
//! assert!(sim.queue_view(jobs)?.is_empty());
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! # Commands and wakes
//!
//! A [`Wake`] is one of four things: [`Started`](Wake::Started),
//! [`Completed`](Wake::Completed) with the [`Outcome`] of a single wait,
//! [`First`](Wake::First) for a first-of, and [`Interrupted`](Wake::Interrupted) with an
//! [`Interrupt`] (by the model, a preemption or an activity's summons: [`Reason`]). A `match`
//! on it needs no catch-all that could swallow an interrupt.
//!
//! | command | completes with | if an interrupt withdraws it |
//! |---|---|---|
//! | `Sleep(dt)`, `Yield` | `Slept` | the timer is cancelled; [`Interrupt::waited`] says how long it slept |
//! | `Get(q)`, `GetWhere(q, filter)` | `Got(item)` | leaves the getter list; consumes nothing |
//! | `Put(q, item)` | `Put` | leaves the putter list; the item comes back in [`Interrupt::request`] |
//! | `Acquire(r)`, `AcquireWith(r, priority)` | `Acquired(r)` | leaves the wait list; takes no slot |
//! | `Join(pid)` | `Joined(pid, exit)` | stops waiting |
//! | `GetAmount(c, n)`, `PutAmount(c, n)` | `GotAmount`, `PutAmount` | the container's level is untouched |
//! | `Signal(s)` | `Signaled(s, value)` | stops waiting |
//! | `Arrive(b)` | `Released(b)` | the arrival is taken back |
//! | [`first_of([..])`](Command::first_of) | [`Wake::First`] | every branch withdrawn as above |
//! | [`all_of([..])`](Command::all_of) | `All(outcomes)` | pending waits withdrawn; what satisfied ones took comes back in [`Interrupt::taken`] |
//! | [`wait.masked()`](Command::masked) | as `wait` | never: interrupts queue up until it completes |
//! | `Attend(activity)` | `ActivityOver(activity)` | never |
//! | `Done` | — | — |
//!
//! After an interrupt, returning [`Interrupt::request`] starts the wait again;
//! [`Interrupt::resume`] carries on (a sleep for what was left, a request in its old place
//! in line).
//!
//! # Where to read next
//!
//! - The [guide]: [a first process](guide::first_process), [queues](guide::queues),
//!   [resources and priorities](guide::resources), [first-of and reneging](guide::first_of),
//!   [interrupts](guide::interrupts), [masked waits](guide::masked_waits),
//!   [activities](guide::activities), [statistics](guide::statistics),
//!   [experiments](guide::experiments), [forks, saves and real time](guide::checkpoints),
//!   [unit-testing a process](guide::unit_testing),
//!   [translating a SimPy model](guide::from_simpy), and [the rules in full](guide::semantics).
//! - The reference, by module: [`process`] (the [`Model`] and [`Process`] traits),
//!   [`command`], [`engine`] (the [`Simulation`]), [`context`]; the primitives [`queue`],
//!   [`resource`], [`container`], [`signal`], [`barrier`]; [`behavior`] (reusable pieces of
//!   a process), [`activity`], [`monitor`], [`stats`], [`experiment`] (replications,
//!   sweeps, sequential stopping, shards), [`realtime`] (pacing against the wall clock),
//!   `save` (saving and restoring a running simulation, feature `serde`), [`rng`],
//!   [`trace`], [`timeline`], [`error`], [`handle`].
//! - A [`Simulation`] is `Clone` when its model's types are: a clone is a fork that goes on
//!   on its own ([guide](guide::checkpoints)).
//! - Features: `serde` derives `Serialize`/`Deserialize` for the statistics and experiment
//!   types and saves and restores whole simulations (`stepsim::save`); `plot` draws a
//!   [`Timeline`] as SVG.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod activity;
pub mod barrier;
pub mod behavior;
pub mod command;
pub mod container;
pub mod context;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod guide;
pub mod handle;
pub mod monitor;
pub mod process;
pub mod queue;
pub mod realtime;
pub mod resource;
pub mod rng;
#[cfg(feature = "serde")]
pub mod save;
pub mod signal;
pub mod stats;
pub mod timeline;
pub mod trace;

#[doc(inline)]
pub use activity::{Activity, ActivityView, Participation};
#[doc(inline)]
pub use barrier::BarrierView;
#[doc(inline)]
pub use command::{
    Branches, Command, Exit, Filter, First, Interrupt, MAX_BRANCHES, Masked, Outcome, Preempted,
    Priority, Reason, Resume, SignalValue, Wake, WakeKind,
};
#[doc(inline)]
pub use container::ContainerView;
#[doc(inline)]
pub use context::Context;
#[doc(inline)]
pub use engine::{Blocked, CommandOf, Ended, Simulation, WakeOf};
#[doc(inline)]
pub use error::{Error, Origin, ProcessRef};
#[doc(inline)]
pub use experiment::Experiment;
#[doc(inline)]
pub use handle::{ActivityId, BarrierId, ContainerId, Handle, Pid, QueueId, ResourceId, SignalId};
#[doc(inline)]
pub use monitor::{ContainerMonitor, QueueMonitor, ResourceMonitor, Statistics};
#[doc(inline)]
pub use process::{Boxed, Model, Process};
#[doc(inline)]
pub use queue::{Capacity, QueueView};
#[doc(inline)]
pub use resource::{ResourceKind, ResourceView};
#[doc(inline)]
pub use rng::Stream;

/// The `rand` crate stepsim's streams implement: use `stepsim::rand` (and
/// [`rand_distr`]) so that a model draws with the same version (see [`rng`]).
pub use rand;
/// The `rand_distr` crate (distributions: `Exp`, `Normal`, …) of the version that works
/// with stepsim's streams (see [`rng`]).
pub use rand_distr;
#[doc(inline)]
pub use signal::SignalView;
#[doc(inline)]
pub use stats::{
    ConfidenceInterval, Histogram, StatsError, StatsTable, Summary, Tally, TimeWeighted,
};
#[doc(inline)]
pub use timeline::Timeline;
#[doc(inline)]
pub use trace::{Observer, Record, TraceEvent, TraceKind, TraceLog, WaitKind, Waiting};

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
