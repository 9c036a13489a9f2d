//! # stepsim — discrete-event simulation with explicit state machines
//!
//! A *process* is a plain Rust value implementing [`Process`]: the simulation calls its
//! [`step`](Process::step) with a [`Wake`] saying what happened (started, slept, got an item,
//! was interrupted, …) and carries out the [`Command`] it returns (sleep, get, put, acquire,
//! first-of, join, yield, done). No async, no threads: control leaves a process only through
//! a returned command, so every interrupt point is visible in the code, and whether a wait may
//! be interrupted is part of the command's type ([`Command::Masked`]).
//!
//! ```
//! use stepsim::{Boxed, Capacity, Command, Context, Outcome, Process, QueueId, Simulation, Wake};
//!
//! /// Takes jobs (their durations) from a queue and works on each.
//! enum Coder { Idle { jobs: QueueId }, Working { jobs: QueueId } }
//!
//! impl Process<Boxed<f64>> for Coder {
//!     fn step(&mut self, _cx: &mut Context<'_, Boxed<f64>>, wake: Wake<f64>) -> Command<f64> {
//!         match (&*self, wake) {
//!             (&Coder::Idle { jobs }, Wake::Completed(Outcome::Got(duration))) => {
//!                 *self = Coder::Working { jobs };
//!                 Command::Sleep(duration)
//!             }
//!             (&Coder::Idle { jobs } | &Coder::Working { jobs }, _) => {
//!                 *self = Coder::Idle { jobs };
//!                 Command::Get(jobs)
//!             }
//!         }
//!     }
//! }
//!
//! let mut sim = Simulation::<Boxed<f64>>::new(42);
//! let jobs = sim.queue(Capacity::Unbounded)?;
//! for d in [2.0, 1.5, 4.0] {
//!     sim.context().try_put(jobs, d).unwrap();
//! }
//! sim.spawn(Box::new(Coder::Idle { jobs }));
//! sim.run_until(480.0)?;
//! assert_eq!(sim.queue_view(jobs)?.len(), 0);
//! assert_eq!(sim.now(), 480.0);
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! The modules read as the chapters of the manual:
//! - [`process`]: the [`Model`] and [`Process`] traits, and how to unit-test a process;
//! - [`command`]: commands, waits, wakes, first-of and interrupts;
//! - [`engine`]: the [`Simulation`], its ordering rules and interrupt delivery;
//! - [`context`]: what a process may do without waiting;
//! - the waiting primitives: [`queue`] (FIFO, priority and filter queues), [`resource`]
//!   (plain, priority and preemptive), [`container`], [`signal`] and [`barrier`];
//! - [`behavior`]: reusable pieces of a process (seize-hold-release, get within a patience);
//! - [`activity`]: meetings and pair work that pull busy processes in;
//! - [`monitor`]: statistics that queues, resources and containers keep about themselves;
//! - [`rng`]: seeded, independent random streams: each process's own (`cx.rng()`), and
//!   streams made per purpose (`new_stream`); `rand` and `rand_distr` are re-exported;
//! - [`stats`]: tallies, time-weighted levels, confidence intervals (replications, batch
//!   means), statistics tables and CSV;
//! - [`trace`]: observing every event, and CSV traces;
//! - [`timeline`]: each process's waits over time, from a trace (drawn as SVG with the
//!   `plot` feature);
//! - [`error`]: the error type;
//! - [`handle`]: the `Copy` handles of processes, queues and resources.
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
pub mod guide;
pub mod handle;
pub mod monitor;
pub mod process;
pub mod queue;
pub mod resource;
pub mod rng;
pub mod signal;
pub mod stats;
pub mod timeline;
pub mod trace;

pub use activity::{Activity, ActivityView, Participation};
pub use barrier::BarrierView;
pub use command::{
    Branches, Command, Exit, Filter, First, Interrupt, MAX_BRANCHES, Masked, Outcome, Preempted,
    Priority, Reason, Resume, SignalValue, Wake, WakeKind,
};
pub use container::ContainerView;
pub use context::Context;
pub use engine::{Blocked, CommandOf, Ended, Simulation, WakeOf};
pub use error::{Error, Origin, ProcessRef};
pub use handle::{ActivityId, BarrierId, ContainerId, Handle, Pid, QueueId, ResourceId, SignalId};
pub use monitor::{ContainerMonitor, QueueMonitor, ResourceMonitor, Statistics};
pub use process::{Boxed, Model, Process};
pub use queue::{Capacity, QueueView};
pub use resource::{ResourceKind, ResourceView};
pub use rng::Stream;

/// The `rand` crate stepsim's streams implement: use `stepsim::rand` (and
/// [`rand_distr`]) so that a model draws with the same version (see [`rng`]).
pub use rand;
/// The `rand_distr` crate (distributions: `Exp`, `Normal`, …) of the version that works
/// with stepsim's streams (see [`rng`]).
pub use rand_distr;
pub use signal::SignalView;
pub use stats::{
    ConfidenceInterval, Histogram, StatsError, StatsTable, Summary, Tally, TimeWeighted,
};
pub use timeline::Timeline;
pub use trace::{Observer, Record, TraceEvent, TraceKind, TraceLog, WaitKind, Waiting};

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
