//! Barriers: parties wait until `n` have arrived, then all continue.
//!
//! `Command::Arrive(b)` waits at the barrier. When the `n`-th party arrives, every waiting party
//! is released (each wakes with [`Wake::Completed(Outcome::Released)`](crate::Wake::Completed(Outcome::Released)) at this instant, in
//! arrival order) and the barrier is ready for the next round.
//! [`Context::release_barrier`](crate::Context::release_barrier) releases the parties waiting
//! now without waiting for the rest. An interrupt takes an arrival back.
//!
//! ```
//! use stepsim::{Boxed, Command, Context, Outcome, Process, Simulation, Wake};
//!
//! struct Hiker { gate: stepsim::BarrierId, pace: f64 }
//! impl Process<Boxed<()>> for Hiker {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started => Command::Sleep(self.pace),
//!             Wake::Completed(Outcome::Slept) => Command::Arrive(self.gate),
//!             _ => { assert_eq!(cx.now(), 4.0); Command::Done } // the slowest arrives at 4
//!         }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! let gate = sim.barrier(3)?;
//! for pace in [1.0, 4.0, 2.5] { sim.spawn(Box::new(Hiker { gate, pace })); }
//! sim.run()?;
//! assert_eq!(sim.barrier_view(gate)?.releases(), 1);
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::queue::Waiter;

#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct BarrierState {
    pub parties: usize,
    pub waiting: Vec<Waiter>,
    pub releases: u64,
}

/// A read-only look at a barrier.
pub struct BarrierView<'a> {
    pub(crate) state: &'a BarrierState,
}

impl BarrierView<'_> {
    /// How many parties release it.
    pub fn parties(&self) -> usize {
        self.state.parties
    }

    /// How many are waiting now.
    pub fn waiting(&self) -> usize {
        self.state.waiting.len()
    }

    /// How many times it has released.
    pub fn releases(&self) -> u64 {
        self.state.releases
    }
}
