//! Signals: one-shot (or resettable) gates that wake every waiter with a value.
//!
//! A process waits with `Command::Signal(s)`; any process fires it with
//! [`Context::trigger`](crate::Context::trigger) (no value),
//! [`Context::succeed`](crate::Context::succeed) (a value, cloned for each waiter) or
//! [`Context::fail_signal`](crate::Context::fail_signal) (a reason). The firing is an event of
//! its own at the current instant (SimPy's `event.succeed()`): processes that start waiting
//! before it is processed are woken by it, in the order they began waiting; waiting on a
//! signal that has already fired completes at once. [`Context::reset_signal`] makes a fired
//! signal pending again (a reusable gate).
//!
//! [`Context::reset_signal`]: crate::Context::reset_signal
//!
//! ```
//! use stepsim::{Boxed, Command, Context, Outcome, Process, Simulation, Wake};
//!
//! struct Runner { start: stepsim::SignalId }
//! impl Process<Boxed<&'static str>> for Runner {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<&'static str>>, wake: Wake<&'static str>)
//!         -> Command<&'static str> {
//!         match wake {
//!             Wake::Started => Command::Signal(self.start),
//!             Wake::Completed(Outcome::Signaled(_, value)) => {
//!                 assert_eq!((cx.now(), value), (5.0, Ok(Some("go"))));
//!                 Command::Done
//!             }
//!             _ => unreachable!(),
//!         }
//!     }
//! }
//! struct Starter { start: stepsim::SignalId }
//! impl Process<Boxed<&'static str>> for Starter {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<&'static str>>, wake: Wake<&'static str>)
//!         -> Command<&'static str> {
//!         match wake {
//!             Wake::Started => Command::Sleep(5.0),
//!             _ => { cx.succeed(self.start, "go"); Command::Done }
//!         }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<&'static str>>::new(0);
//! let start = sim.signal();
//! for _ in 0..3 { sim.spawn(Box::new(Runner { start })); }
//! sim.spawn(Box::new(Starter { start }));
//! sim.run()?;
//! assert!(sim.signal_view(start)?.has_fired());
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::command::SignalValue;
use crate::engine::CloneFn;
use crate::queue::Waiter;

#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum SignalPhase<T> {
    Pending,
    /// Fired by a process; the firing event is on its way.
    Firing(SignalValue<T>),
    Fired(SignalValue<T>),
}

#[derive(Clone)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub(crate) struct SignalState<T> {
    pub phase: SignalPhase<T>,
    pub waiters: Vec<Waiter>,
    /// How to copy the value for each waiter, captured where `T: Clone` was known.
    #[cfg_attr(feature = "serde", serde(with = "crate::save::clone_fn"))]
    pub clone: Option<CloneFn<T>>,
}

impl<T> SignalState<T> {
    pub fn new() -> Self {
        SignalState {
            phase: SignalPhase::Pending,
            waiters: Vec::new(),
            clone: None,
        }
    }

    /// A copy of the fired value for one waiter.
    pub fn value(&self) -> Option<SignalValue<T>> {
        match &self.phase {
            SignalPhase::Fired(v) | SignalPhase::Firing(v) => Some(copy_value(v, self.clone)),
            SignalPhase::Pending => None,
        }
    }
}

/// A copy of a signal's value (`clone` copies the item, if there is one).
pub(crate) fn copy_value<T>(value: &SignalValue<T>, clone: Option<CloneFn<T>>) -> SignalValue<T> {
    match value {
        Ok(Some(item)) => Ok(Some((clone.expect("set with the value"))(item))),
        Ok(None) => Ok(None),
        Err(reason) => Err(reason.clone()),
    }
}

/// A read-only look at a signal.
pub struct SignalView<'a, T> {
    pub(crate) state: &'a SignalState<T>,
}

impl<T> SignalView<'_, T> {
    /// Whether it has not been fired (or was reset).
    pub fn is_pending(&self) -> bool {
        matches!(self.state.phase, SignalPhase::Pending)
    }

    /// Whether its firing has been processed (waiting on it now completes at once).
    pub fn has_fired(&self) -> bool {
        matches!(self.state.phase, SignalPhase::Fired(_))
    }

    /// Whether it was (or is being) fired as a failure.
    pub fn has_failed(&self) -> bool {
        matches!(
            self.state.phase,
            SignalPhase::Fired(Err(_)) | SignalPhase::Firing(Err(_))
        )
    }

    /// Number of processes waiting on it.
    pub fn waiters(&self) -> usize {
        self.state.waiters.len()
    }
}
