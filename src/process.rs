//! Processes: state machines that the simulation steps.
//!
//! A [`Model`] names the types a simulation works with: the items its queues carry, the
//! causes its interrupts carry, and the process type it stores. A process is any value that
//! implements [`Process`]; the simulation calls [`Process::step`] with a [`Wake`] and carries
//! out the [`Command`] it returns.
//!
//! Two ways to store processes:
//! - **Boxed**: `type Proc = Box<dyn Process<Self>>` (or the ready-made [`Boxed`] model):
//!   any mix of process types, one allocation per spawn.
//! - **One enum**: `type Proc = Actor` where `enum Actor { Coder(Coder), Manager(Manager) }`
//!   implements `Process` by forwarding to its variants: static dispatch, no `Box`.
//!
//! A [`Simulation`](crate::Simulation) can move to another thread (it is `Send`) when its
//! processes, items and causes are `Send`: an enum of `Send` processes is, and so is
//! `type Proc = Box<dyn Process<Self> + Send>`; [`Boxed`]'s plain `Box<dyn Process<_>>` is
//! not (see the [`Simulation`](crate::Simulation) docs for an example).
//!
//! # Unit-testing a state machine
//! `step` is an ordinary method: make a simulation, take a [`Context`] from
//! [`Simulation::context`](crate::Simulation::context), and feed wakes by hand.
//!
//! ```
//! use stepsim::{Boxed, Command, Context, Outcome, Process, Simulation, Wake};
//!
//! /// Sleeps 2, then 3, then finishes.
//! enum Napper { Fresh, Once, Twice }
//! impl Process<Boxed<()>> for Napper {
//!     fn step(&mut self, _cx: &mut Context<'_, Boxed<()>>, _wake: Wake<()>) -> Command<()> {
//!         match self {
//!             Napper::Fresh => { *self = Napper::Once; Command::Sleep(2.0) }
//!             Napper::Once => { *self = Napper::Twice; Command::Sleep(3.0) }
//!             Napper::Twice => Command::Done,
//!         }
//!     }
//! }
//!
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! let mut cx = sim.context();
//! let mut p = Napper::Fresh;
//! assert_eq!(p.step(&mut cx, Wake::Started), Command::Sleep(2.0));
//! assert_eq!(p.step(&mut cx, Wake::Completed(Outcome::Slept)), Command::Sleep(3.0));
//! assert_eq!(p.step(&mut cx, Wake::Completed(Outcome::Slept)), Command::Done);
//! ```

use crate::command::{Command, Wake};
use crate::context::Context;
use std::any::Any;
use std::marker::PhantomData;

/// The types one simulation works with.
///
/// ```
/// use stepsim::{Command, Context, Model, Outcome, Process, Wake};
///
/// struct Job { duration: f64 }
/// enum Cause { Urgent(f64) }
///
/// struct Team;
/// impl Model for Team {
///     type Item = Job;
///     type Cause = Cause;
///     type Proc = Box<dyn Process<Team>>;
/// }
/// ```
pub trait Model: Sized + 'static {
    /// What queues carry (`Get` returns it, `Put` takes it).
    type Item;
    /// What an interrupt carries to the interrupted process.
    type Cause;
    /// How the simulation stores processes: `Box<dyn Process<Self>>`, or one enum over all
    /// process kinds for static dispatch.
    type Proc: Process<Self>;
}

/// A simulated process: a state machine stepped by the simulation.
///
/// `step` is called with what woke the process and returns what it does next. Everything
/// between two commands happens at one instant and cannot be interrupted.
///
/// A process is an ordinary value, so the simulation can hand it back: read its state during
/// or after a run with [`Simulation::process_as`](crate::Simulation::process_as) (boxed or
/// enum processes alike), or take every process out at the end with
/// [`Simulation::into_processes`](crate::Simulation::into_processes).
///
/// ```
/// use stepsim::{Boxed, Command, Context, Outcome, Process, Simulation, Wake};
/// /// Counts down from `n`, one unit of time per step.
/// struct Countdown { n: u32 }
/// impl Process<Boxed<()>> for Countdown {
///     fn step(&mut self, _cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         match wake {
///             Wake::Started | Wake::Completed(Outcome::Slept) if self.n > 0 => {
///                 self.n -= 1;
///                 Command::Sleep(1.0)
///             }
///             _ => Command::Done,
///         }
///     }
/// }
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// sim.spawn(Box::new(Countdown { n: 3 }));
/// sim.run()?;
/// assert_eq!(sim.now(), 3.0);
/// # Ok::<(), stepsim::Error>(())
/// ```
pub trait Process<M: Model>: AsAny {
    /// Advances the state machine.
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<M::Item, M::Cause>) -> Command<M::Item>;

    /// The process as [`Any`], for downcasting: a boxed process answers with what it boxes.
    /// (Provided; there is no need to implement it.)
    fn as_process_any(&self) -> &dyn Any {
        self.as_any()
    }

    /// [`Process::as_process_any`], mutably. (Provided.)
    fn as_process_any_mut(&mut self) -> &mut dyn Any {
        self.as_any_mut()
    }
}

/// Any `'static` value as [`Any`]; a supertrait of [`Process`] with a blanket
/// implementation, so that a boxed process can be downcast to what it boxes.
pub trait AsAny: Any {
    /// `self` as `&dyn Any`.
    fn as_any(&self) -> &dyn Any;
    /// `self` as `&mut dyn Any`.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl<M: Model, P: Process<M> + ?Sized> Process<M> for Box<P> {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<M::Item, M::Cause>) -> Command<M::Item> {
        (**self).step(cx, wake)
    }

    fn as_process_any(&self) -> &dyn Any {
        (**self).as_process_any()
    }

    fn as_process_any_mut(&mut self) -> &mut dyn Any {
        (**self).as_process_any_mut()
    }
}

/// A ready-made [`Model`] with boxed processes: queues carry `T`, interrupts carry `I`.
///
/// Its processes are `Box<dyn Process<_>>`, not `Send`, so its simulations stay on the
/// thread that made them; for one that moves, see [`Simulation`](crate::Simulation).
///
/// ```
/// use stepsim::{Boxed, Command, Context, Outcome, Process, Simulation, Wake};
///
/// struct Hello;
/// impl Process<Boxed<()>> for Hello {
///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         match wake {
///             Wake::Started => Command::Sleep(1.5),
///             _ => { assert_eq!(cx.now(), 1.5); Command::Done }
///         }
///     }
/// }
/// let mut sim = Simulation::<Boxed<()>>::new(7);
/// sim.spawn(Box::new(Hello));
/// sim.run()?;
/// assert_eq!(sim.now(), 1.5);
/// # Ok::<(), stepsim::Error>(())
/// ```
///
/// ```
/// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
/// /// A model whose queues carry `String`s and whose interrupts carry a `u8`.
/// type Shop = Boxed<String, u8>;
/// struct Clerk;
/// impl Process<Shop> for Clerk {
///     fn step(&mut self, _: &mut Context<'_, Shop>, _: Wake<String, u8>) -> Command<String> {
///         Command::Done
///     }
/// }
/// let mut sim = Simulation::<Shop>::new(0);
/// sim.spawn(Box::new(Clerk));
/// sim.run()?;
/// # Ok::<(), stepsim::Error>(())
/// ```
pub struct Boxed<T, I = ()>(PhantomData<fn() -> (T, I)>);

impl<T: 'static, I: 'static> Model for Boxed<T, I> {
    type Item = T;
    type Cause = I;
    type Proc = Box<dyn Process<Boxed<T, I>>>;
}
