//! Containers: a level of some continuous or discrete amount, with a capacity.
//!
//! `Command::GetAmount(c, n)` takes `n` and waits while the level is below `n`;
//! `Command::PutAmount(c, n)` adds `n` and waits while it would overflow the capacity. Waiting
//! requests are served strictly in arrival order, each list on its own (SimPy's `Container`
//! rule, *head-of-line*: a large get at the head makes smaller gets behind it wait too).
//! Amounts are `f64`; whole numbers are exact, so discrete stock works as well.
//!
//! ```
//! use stepsim::{Boxed, Command, Context, Outcome, Process, Simulation, Wake};
//!
//! /// Fills a tank by 5 every time unit, three times.
//! struct Pump { tank: stepsim::ContainerId, left: u32 }
//! impl Process<Boxed<()>> for Pump {
//!     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started | Wake::Completed(Outcome::PutAmount(..)) if self.left > 0 => Command::Sleep(1.0),
//!             Wake::Completed(Outcome::Slept) => { self.left -= 1; Command::PutAmount(self.tank, 5.0) }
//!             _ => Command::Done,
//!         }
//!     }
//! }
//! /// Needs 12 at once.
//! struct Truck { tank: stepsim::ContainerId }
//! impl Process<Boxed<()>> for Truck {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started => Command::GetAmount(self.tank, 12.0),
//!             _ => { assert_eq!(cx.now(), 3.0); Command::Done }
//!         }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! let tank = sim.container(100.0, 0.0)?;
//! sim.spawn(Box::new(Pump { tank, left: 3 }));
//! sim.spawn(Box::new(Truck { tank }));
//! sim.run()?;
//! assert_eq!(sim.container_view(tank)?.level(), 3.0);
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::monitor::ContainerMonitor;
use crate::queue::Waiter;
use std::collections::VecDeque;

#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct ContainerState {
    pub level: f64,
    pub capacity: f64,
    pub getters: VecDeque<(Waiter, f64)>,
    pub putters: VecDeque<(Waiter, f64)>,
    /// Statistics, if monitored.
    pub monitor: Option<Box<ContainerMonitor>>,
}

impl ContainerState {
    pub fn new(capacity: f64, level: f64) -> Self {
        ContainerState {
            level,
            capacity,
            getters: VecDeque::new(),
            putters: VecDeque::new(),
            monitor: None,
        }
    }

    /// Changes the level by `delta` at time `now`.
    pub fn change(&mut self, delta: f64, now: f64) {
        self.level += delta;
        if let Some(m) = &mut self.monitor {
            m.changed(now, self.level);
        }
    }

    pub fn can_get(&self, amount: f64) -> bool {
        self.level >= amount
    }

    pub fn can_put(&self, amount: f64) -> bool {
        self.capacity - self.level >= amount
    }

    /// Removes a pending request, returning where it stood, its waiter and its amount.
    pub fn remove(list: &mut VecDeque<(Waiter, f64)>, me: Waiter) -> (usize, Waiter, f64) {
        let at = list
            .iter()
            .position(|(w, _)| *w == me)
            .expect("a pending request is in its wait list");
        let (w, amount) = list.remove(at).expect("in range");
        (at, w, amount)
    }
}

/// A read-only look at a container.
pub struct ContainerView<'a> {
    pub(crate) state: &'a ContainerState,
}

impl<'a> ContainerView<'a> {
    /// Its statistics, if it is monitored (see [`crate::monitor`]).
    pub fn monitor(&self) -> Option<&'a ContainerMonitor> {
        self.state.monitor.as_deref()
    }

    /// The current level.
    pub fn level(&self) -> f64 {
        self.state.level
    }

    /// The capacity (may be infinite).
    pub fn capacity(&self) -> f64 {
        self.state.capacity
    }

    /// Number of processes waiting in `GetAmount`.
    pub fn getters_waiting(&self) -> usize {
        self.state.getters.len()
    }

    /// Number of processes waiting in `PutAmount`.
    pub fn putters_waiting(&self) -> usize {
        self.state.putters.len()
    }
}
