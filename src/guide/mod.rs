//! The guide: stepsim taught in chapters, each a complete, compiled and tested program.
//!
//! Read them in order the first time; each builds on the one before. Every code block is a
//! doctest, so what you read here runs under `cargo test`.
//!
//! 1. [`first_process`]: a process as a state machine; `Wake` in, `Command` out; running a
//!    simulation.
//! 2. [`queues`]: producers and consumers, bounded, priority and filter queues.
//! 3. [`resources`]: servers with slots, priorities and preemption.
//! 4. [`first_of`]: waiting for whichever comes first, and reneging.
//! 5. [`interrupts`]: interrupting a process, starting again or carrying on.
//! 6. [`masked_waits`]: critical work that an interrupt must not cut short.
//! 7. [`activities`]: meetings and pair work that pull busy processes in.
//! 8. [`statistics`]: monitors, tallies, time-weighted levels, confidence intervals.
//! 9. [`experiments`]: replications on every core, sweeps, sequential stopping, and shards
//!    for batch clusters.
//! 10. [`checkpoints`]: forking a running simulation, saving and restoring it, and running
//!     it against the wall clock with inputs from outside.
//! 11. [`unit_testing`]: testing a process by calling `step` yourself.
//! 12. [`from_simpy`]: translating a SimPy model, construct by construct.
//!
//! And for reference, [`semantics`]: the rules in full (every command and what an interrupt
//! does to it, same-instant ordering, preemption, errors, determinism).
//!
//! The [crate docs](crate) hold the one-page overview, and each module's docs the reference
//! for its part of the API.

#[doc = include_str!("first_process.md")]
pub mod first_process {}

#[doc = include_str!("queues.md")]
pub mod queues {}

#[doc = include_str!("resources.md")]
pub mod resources {}

#[doc = include_str!("first_of.md")]
pub mod first_of {}

#[doc = include_str!("interrupts.md")]
pub mod interrupts {}

#[doc = include_str!("masked_waits.md")]
pub mod masked_waits {}

#[doc = include_str!("activities.md")]
pub mod activities {}

#[doc = include_str!("statistics.md")]
pub mod statistics {}

#[doc = include_str!("experiments.md")]
pub mod experiments {}

#[doc = include_str!("checkpoints.md")]
pub mod checkpoints {}

#[doc = include_str!("unit_testing.md")]
pub mod unit_testing {}

#[doc = include_str!("from_simpy.md")]
pub mod from_simpy {}

#[doc = include_str!("semantics.md")]
pub mod semantics {}
