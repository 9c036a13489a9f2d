//! The context: what a process may do *without* waiting.
//!
//! A [`Context`] is handed to every [`Process::step`](crate::Process::step). Through it a
//! process reads the clock, spawns and interrupts processes, releases resource slots, puts and
//! gets without blocking, inspects queues, and draws random streams. Everything that waits is
//! a [`Command`](crate::Command) instead.
//!
//! Misuse through a context (a handle from another simulation, releasing a slot not held,
//! [`Context::fail`]) is recorded and ends the process's step with that error: the run
//! returns it, naming the process and the time. The first such error wins. Through a
//! context made by [`Simulation::context`] (between runs), the error is also recorded, and
//! the simulation's next `run`, `run_until` or `step` returns it.
//!
//! ```
//! use stepsim::{Boxed, Capacity, Error, Simulation};
//! let mut other = Simulation::<Boxed<u32>>::new(0);
//! let foreign = other.queue(Capacity::Unbounded)?;
//! let mut sim = Simulation::<Boxed<u32>>::new(0);
//! assert_eq!(sim.context().try_put(foreign, 1), Err(1)); // refused, and recorded
//! assert!(matches!(sim.run(), Err(Error::ForeignHandle { .. })));
//! assert!(sim.run().is_ok()); // reported once
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::activity::{Activity, ActivityView};
use crate::barrier::BarrierView;
use crate::command::{Filter, SignalValue};
use crate::container::ContainerView;
use crate::engine::{CloneFn, Hook, Simulation};
use crate::error::{Error, Origin};
use crate::handle::{ActivityId, BarrierId, ContainerId, Pid, QueueId, ResourceId, SignalId};
use crate::process::Model;
use crate::queue::QueueView;
use crate::resource::ResourceView;
use crate::rng::{Stream, derive_stream, name_key};
use crate::signal::{SignalPhase, SignalView};
use std::sync::Arc;

/// Access to the simulation from inside a step; see the [module docs](self).
pub struct Context<'a, M: Model> {
    pub(crate) sim: &'a mut Simulation<M>,
    pub(crate) me: Option<Pid>,
    pub(crate) error: Option<Error>,
}

impl<'a, M: Model> Context<'a, M> {
    /// The current simulated time.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Late;
    /// impl Process<Boxed<()>> for Late {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
    ///         match wake {
    ///             Wake::Started => Command::Sleep(7.0),
    ///             _ => { assert_eq!(cx.now(), 7.0); Command::Done }
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// sim.spawn(Box::new(Late));
    /// sim.run()?;
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn now(&self) -> f64 {
        self.sim.now
    }

    /// The process being stepped. A context made by [`Simulation::context`] acts for no
    /// process: its `pid` names none (interrupting or joining it is an error, releasing for
    /// it holds nothing) — see [`Context::is_outside`].
    pub fn pid(&self) -> Pid {
        self.me.unwrap_or(Pid {
            sim: self.sim.id,
            idx: u32::MAX,
            generation: u32::MAX,
        })
    }

    /// Whether this context acts from outside any process ([`Simulation::context`]).
    pub fn is_outside(&self) -> bool {
        self.me.is_none()
    }

    /// The running process's name, if it was spawned with one.
    pub fn name(&self) -> Option<&str> {
        self.me.and_then(|p| self.sim.name(p))
    }

    /// Spawns a process; it starts at this instant, after the current step.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Child;
    /// impl Process<Boxed<()>> for Child {
    ///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
    ///         Command::Done
    ///     }
    /// }
    /// /// Spawns a child and waits for it to finish.
    /// struct Parent;
    /// impl Process<Boxed<()>> for Parent {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
    ///         match wake {
    ///             Wake::Started => Command::Join(cx.spawn(Box::new(Child))),
    ///             _ => Command::Done, // Outcome::Joined
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// sim.spawn(Box::new(Parent));
    /// sim.run()?;
    /// assert_eq!(sim.live_processes(), 0);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn spawn(&mut self, process: M::Proc) -> Pid {
        self.sim.spawn_from(process, None, self.me)
    }

    /// Spawns a named process (see [`Simulation::spawn_named`]).
    pub fn spawn_named(&mut self, name: impl Into<String>, process: M::Proc) -> Pid {
        let me = self.me;
        self.sim
            .spawn_from(process, Some(name.into().into_boxed_str()), me)
    }

    /// Interrupts `target`; the interrupt lands at this instant, urgently (see
    /// [`crate::engine`] for the rules). Returns `false`, and does nothing, if `target` has
    /// finished. Interrupting itself, or a handle from another simulation, is an error.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Pid, Process, Simulation, Wake};
    /// type M = Boxed<(), u32>; // interrupts carry a number
    /// struct Worker;
    /// impl Process<M> for Worker {
    ///     fn step(&mut self, _: &mut Context<'_, M>, wake: Wake<(), u32>) -> Command<()> {
    ///         match wake {
    ///             Wake::Started => Command::Sleep(10.0),
    ///             _ => Command::Done, // Wake::Interrupted at t=2
    ///         }
    ///     }
    /// }
    /// struct Boss { worker: Pid }
    /// impl Process<M> for Boss {
    ///     fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<(), u32>) -> Command<()> {
    ///         match wake {
    ///             Wake::Started => Command::Sleep(2.0),
    ///             _ => {
    ///                 assert!(cx.interrupt(self.worker, 7)); // delivered
    ///                 Command::Done
    ///             }
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<M>::new(0);
    /// let worker = sim.spawn(Box::new(Worker));
    /// sim.spawn(Box::new(Boss { worker }));
    /// sim.run()?;
    /// assert_eq!(sim.now(), 2.0);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn interrupt(&mut self, target: Pid, cause: M::Cause) -> bool {
        match self.sim.interrupt_from(self.me, target, cause) {
            Ok(()) => true,
            Err(Error::Finished { .. }) => false,
            Err(e) => {
                self.record(e);
                false
            }
        }
    }

    /// Gives back one slot of `r` held by this process. The next waiter gets it at this
    /// instant, after the current step. Releasing a slot not held is an error.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Outcome, Process, ResourceId, Simulation, Wake};
    /// struct User { r: ResourceId }
    /// impl Process<Boxed<()>> for User {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
    ///         match wake {
    ///             Wake::Started => Command::Acquire(self.r),
    ///             Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(4.0),
    ///             _ => {
    ///                 cx.release(self.r); // the next in line gets it at this instant
    ///                 Command::Sleep(1.0) // and this process carries on
    ///             }
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// let r = sim.resource(1)?;
    /// sim.spawn(Box::new(User { r }));
    /// sim.run_until(4.5)?;
    /// assert_eq!(sim.resource_view(r)?.in_use(), 0);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn release(&mut self, r: ResourceId) {
        if let Err(e) = self.sim.release_from(self.me, r) {
            self.record(e);
        }
    }

    /// Takes the head item of `q` if one is there *and* no process is already waiting for
    /// it (a non-blocking get never overtakes a blocked one).
    ///
    /// ```
    /// use stepsim::{Boxed, Capacity, Simulation};
    /// let mut sim = Simulation::<Boxed<u32>>::new(0);
    /// let q = sim.queue(Capacity::Unbounded)?;
    /// let mut cx = sim.context();
    /// assert_eq!(cx.try_get(q), None);
    /// cx.try_put(q, 5).unwrap();
    /// assert_eq!(cx.try_get(q), Some(5));
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn try_get(&mut self, q: QueueId) -> Option<M::Item> {
        self.try_take(q, None)
    }

    /// Takes the first item of `q` that `filter` accepts, if no process is already waiting
    /// to get from `q`.
    pub fn try_get_where(&mut self, q: QueueId, filter: &Filter<M::Item>) -> Option<M::Item> {
        self.try_take(q, Some(filter))
    }

    fn try_take(&mut self, q: QueueId, filter: Option<&Filter<M::Item>>) -> Option<M::Item> {
        let qi = self.check(self.sim.check_queue(q, self.me))?;
        if !self.sim.queues[qi].getters.is_empty() {
            return None;
        }
        let user_code = self.sim.enter_queue_code(q.idx, self.me);
        let at = self.sim.queues[qi].find(filter);
        self.sim.leave_queue_code(user_code);
        let now = self.sim.now;
        let item = self.sim.queues[qi].take_item(at?, now);
        self.sim.schedule_hook(Hook::Puts(q.idx));
        item
    }

    /// Puts `item` into `q` if it has room and no putter is blocked; otherwise hands the
    /// item back as `Err`.
    ///
    /// ```
    /// use stepsim::{Boxed, Simulation};
    /// let mut sim = Simulation::<Boxed<&'static str>>::new(0);
    /// let tray = sim.queue(1)?;
    /// let mut cx = sim.context();
    /// assert_eq!(cx.try_put(tray, "a"), Ok(()));
    /// assert_eq!(cx.try_put(tray, "b"), Err("b")); // full: the item comes back
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn try_put(&mut self, q: QueueId, item: M::Item) -> Result<(), M::Item> {
        let Some(qi) = self.check(self.sim.check_queue(q, self.me)) else {
            return Err(item);
        };
        let queue = &self.sim.queues[qi];
        if !queue.putters.is_empty() || !queue.has_room() {
            return Err(item);
        }
        let user_code = self.sim.enter_queue_code(q.idx, self.me);
        let now = self.sim.now;
        self.sim.queues[qi].push_item(item, now);
        self.sim.leave_queue_code(user_code);
        self.sim.schedule_hook(Hook::Gets(q.idx));
        Ok(())
    }

    /// Takes a slot of `r` if one is free and nobody is waiting for it; the process then
    /// holds it as after `Acquire` (at priority level 0).
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, ResourceId, Simulation, Wake};
    /// /// Uses the printer if it is free, and otherwise gives up at once.
    /// struct Impatient { printer: ResourceId, printed: bool }
    /// impl Process<Boxed<()>> for Impatient {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
    ///         match wake {
    ///             Wake::Started if cx.try_acquire(self.printer) => {
    ///                 self.printed = true;
    ///                 Command::Sleep(1.0) // holds it; finishing releases it
    ///             }
    ///             _ => Command::Done,
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// sim.keep_finished(true);
    /// let printer = sim.resource(1)?;
    /// let a = sim.spawn(Box::new(Impatient { printer, printed: false }));
    /// let b = sim.spawn(Box::new(Impatient { printer, printed: false }));
    /// sim.run()?;
    /// assert!(sim.process_as::<Impatient>(a).unwrap().printed);
    /// assert!(!sim.process_as::<Impatient>(b).unwrap().printed);
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn try_acquire(&mut self, r: ResourceId) -> bool {
        let Some(ri) = self.check(self.sim.check_resource(r, self.me)) else {
            return false;
        };
        let Some(me) = self.me else {
            let origin = self.origin();
            self.record(Error::Unsupported {
                origin,
                what: "try_acquire outside a process (no one could hold the slot)",
            });
            return false;
        };
        let res = &self.sim.resources[ri];
        if !res.waiting.is_empty() || !res.has_room() {
            return false;
        }
        self.sim.grant_now(me, r.idx);
        true
    }

    /// Takes `amount` from `c` if its level allows and no get is waiting.
    pub fn try_get_amount(&mut self, c: ContainerId, amount: f64) -> bool {
        self.try_amount(c, amount, true)
    }

    /// Adds `amount` to `c` if there is room and no put is waiting.
    pub fn try_put_amount(&mut self, c: ContainerId, amount: f64) -> bool {
        self.try_amount(c, amount, false)
    }

    fn try_amount(&mut self, c: ContainerId, amount: f64, get: bool) -> bool {
        let checked = self.sim.check_container(c, self.me).and_then(|ci| {
            let cap = self.sim.containers[ci].capacity;
            if amount.is_finite() && amount > 0.0 && amount <= cap {
                Ok(ci)
            } else {
                Err(Error::InvalidAmount {
                    origin: self.origin(),
                    amount,
                    why: "amounts must be finite, > 0 and at most the capacity",
                })
            }
        });
        let Some(ci) = self.check(checked) else {
            return false;
        };
        let container = &mut self.sim.containers[ci];
        if get {
            if !container.getters.is_empty() || !container.can_get(amount) {
                return false;
            }
            container.change(-amount, self.sim.now);
            self.sim.schedule_hook(Hook::Fills(c.idx));
        } else {
            if !container.putters.is_empty() || !container.can_put(amount) {
                return false;
            }
            container.change(amount, self.sim.now);
            self.sim.schedule_hook(Hook::Draws(c.idx));
        }
        true
    }

    /// Fires a signal without a value; waiters wake with `Ok(None)`.
    pub fn trigger(&mut self, s: SignalId) {
        self.fire(s, Ok(None), None);
    }

    /// Fires a signal with a value; each waiter wakes with its own clone.
    pub fn succeed(&mut self, s: SignalId, value: M::Item)
    where
        M::Item: Clone,
    {
        self.fire(s, Ok(Some(value)), Some(<M::Item as Clone>::clone));
    }

    /// Fires a signal as a failure; waiters wake with `Err(reason)`.
    pub fn fail_signal(&mut self, s: SignalId, reason: impl Into<Arc<str>>) {
        self.fire(s, Err(reason.into()), None);
    }

    fn fire(&mut self, s: SignalId, value: SignalValue<M::Item>, clone: Option<CloneFn<M::Item>>) {
        let Some(si) = self.check(self.sim.check_signal(s, self.me)) else {
            return;
        };
        let signal = &mut self.sim.signals[si];
        if !matches!(signal.phase, SignalPhase::Pending) {
            let origin = self.origin();
            self.record(Error::AlreadyFired { origin, signal: s });
            return;
        }
        signal.phase = SignalPhase::Firing(value);
        signal.clone = clone;
        self.sim.schedule_hook(Hook::Fire(s.idx));
    }

    /// Makes a fired signal pending again, so it can be waited on and fired anew. A firing
    /// not yet processed is cancelled (nobody wakes).
    pub fn reset_signal(&mut self, s: SignalId) {
        if let Some(si) = self.check(self.sim.check_signal(s, self.me)) {
            self.sim.signals[si].phase = SignalPhase::Pending;
        }
    }

    /// Releases every party waiting at `b` now, without waiting for the others.
    pub fn release_barrier(&mut self, b: BarrierId) {
        if self.check(self.sim.check_barrier(b, self.me)).is_some() {
            self.sim.release_barrier_now(b.idx);
        }
    }

    /// Leaves a value for the processes that join this one: each joiner receives a clone in
    /// [`Exit::Returned`](crate::Exit::Returned). Call it before returning `Done`.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Exit, Outcome, Process, Simulation, Wake};
    /// struct Worker;
    /// impl Process<Boxed<u32>> for Worker {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<u32>>, _: Wake<u32>) -> Command<u32> {
    ///         cx.exit_value(42); // what a joiner receives
    ///         Command::Done
    ///     }
    /// }
    /// struct Boss { answer: Option<u32> }
    /// impl Process<Boxed<u32>> for Boss {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<u32>>, wake: Wake<u32>) -> Command<u32> {
    ///         match wake {
    ///             Wake::Started => Command::Join(cx.spawn(Box::new(Worker))),
    ///             Wake::Completed(Outcome::Joined(_, Exit::Returned(value))) => {
    ///                 self.answer = value;
    ///                 Command::Done
    ///             }
    ///             other => unreachable!("{other:?}"),
    ///         }
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<u32>>::new(0);
    /// sim.keep_finished(true);
    /// let boss = sim.spawn(Box::new(Boss { answer: None }));
    /// sim.run()?;
    /// assert_eq!(sim.process_as::<Boss>(boss).unwrap().answer, Some(42));
    /// # Ok::<(), stepsim::Error>(())
    /// ```
    pub fn exit_value(&mut self, value: M::Item)
    where
        M::Item: Clone,
    {
        match self.me.and_then(|p| self.sim.live(p)) {
            Some(idx) => {
                self.sim.rare_of(idx).exit_value = Some((value, <M::Item as Clone>::clone));
            }
            None => {
                let origin = self.origin();
                self.record(Error::Unsupported {
                    origin,
                    what: "exit_value outside a process",
                });
            }
        }
    }

    /// Plans an activity (see [`crate::activity`]); `None`, with the error recorded, if the
    /// plan is invalid (a bad duration or time, a participant that has finished).
    pub fn plan(&mut self, activity: Activity) -> Option<ActivityId> {
        let planned = self.sim.plan_from(self.me, activity);
        self.check(planned)
    }

    /// Declares this process available (between tasks) or not, for activities that wait
    /// for available participants. Being pulled into an activity clears it.
    pub fn set_available(&mut self, available: bool) {
        match self.me {
            Some(me) => self.sim.set_available_from(me, available),
            None => {
                let origin = self.origin();
                self.record(Error::Unsupported {
                    origin,
                    what: "set_available outside a process",
                });
            }
        }
    }

    /// The record of an activity.
    pub fn activity_view(&self, a: ActivityId) -> Result<ActivityView<'_>, Error> {
        self.sim.activity_view(a)
    }

    /// A read-only look at a queue.
    pub fn queue_view(&self, q: QueueId) -> Result<QueueView<'_, M::Item>, Error> {
        self.sim.queue_view(q)
    }

    /// A read-only look at a resource.
    pub fn resource_view(&self, r: ResourceId) -> Result<ResourceView<'_>, Error> {
        self.sim.resource_view(r)
    }

    /// A read-only look at a container.
    pub fn container_view(&self, c: ContainerId) -> Result<ContainerView<'_>, Error> {
        self.sim.container_view(c)
    }

    /// A read-only look at a signal.
    pub fn signal_view(&self, s: SignalId) -> Result<SignalView<'_, M::Item>, Error> {
        self.sim.signal_view(s)
    }

    /// A read-only look at a barrier.
    pub fn barrier_view(&self, b: BarrierId) -> Result<BarrierView<'_>, Error> {
        self.sim.barrier_view(b)
    }

    /// The name another live process was spawned with.
    pub fn name_of(&self, pid: Pid) -> Option<&str> {
        self.sim.name(pid)
    }

    /// Whether `pid` has finished.
    pub fn is_finished(&self, pid: Pid) -> Result<bool, Error> {
        self.sim.is_finished(pid)
    }

    /// The running process's own random stream: made on first use, from the master seed and
    /// the process's key (see [`crate::rng`] for the keys), and kept for the process's life,
    /// so every draw carries on from the last one. A process that never draws pays nothing
    /// for it.
    ///
    /// On a context from [`Simulation::context`], which acts for no process, it is the
    /// simulation's own stream, [`Simulation::rng`]; on one from [`Simulation::context_of`],
    /// that process's stream.
    ///
    /// ```
    /// use stepsim::rand::RngExt;
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Dice { rolls: Vec<u32> }
    /// impl Process<Boxed<()>> for Dice {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
    ///         self.rolls.push(cx.rng().random_range(1..=6));
    ///         if self.rolls.len() == 3 { Command::Done } else { Command::Sleep(1.0) }
    ///     }
    /// }
    /// let rolls = |seed| {
    ///     let mut sim = Simulation::<Boxed<()>>::new(seed);
    ///     sim.keep_finished(true);
    ///     let pid = sim.spawn(Box::new(Dice { rolls: Vec::new() }));
    ///     sim.run().unwrap();
    ///     sim.process_as::<Dice>(pid).unwrap().rolls.clone()
    /// };
    /// assert_eq!(rolls(7), rolls(7)); // the same seed draws the same numbers
    /// ```
    pub fn rng(&mut self) -> &mut Stream {
        self.sim.process_rng(self.me)
    }

    /// Makes a new random stream, a fresh generator at every call; see
    /// [`Simulation::new_stream`].
    pub fn new_stream(&self, key: u64) -> Stream {
        derive_stream(self.sim.seed(), key)
    }

    /// Makes a new random stream keyed by name, a fresh generator at every call; see
    /// [`Simulation::new_stream_named`].
    pub fn new_stream_named(&self, name: &str) -> Stream {
        derive_stream(self.sim.seed(), name_key(name))
    }

    /// Ends this step with a model error: the run returns [`Error::Model`] with `message`,
    /// naming this process and the time. Use it for broken invariants of the model.
    ///
    /// ```
    /// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
    /// struct Strict;
    /// impl Process<Boxed<()>> for Strict {
    ///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
    ///         cx.fail("stock went negative");
    ///         Command::Done
    ///     }
    /// }
    /// let mut sim = Simulation::<Boxed<()>>::new(0);
    /// sim.spawn_named("inventory", Box::new(Strict));
    /// let error = sim.run().unwrap_err();
    /// assert!(error.to_string().contains("stock went negative"), "{error}");
    /// ```
    pub fn fail(&mut self, message: impl Into<String>) {
        let origin = self.origin();
        self.record(Error::Model {
            origin,
            message: message.into(),
        });
    }

    /// The error recorded so far through this context, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Takes the recorded error. (An error recorded through a context made by
    /// [`Simulation::context`], where no step ends to report it, and not taken, is returned
    /// by the simulation's next `run`, `run_until` or `step`: it never vanishes.)
    pub fn take_error(&mut self) -> Option<Error> {
        if self.me.is_none() {
            self.sim.outside_error = None;
        }
        self.error.take()
    }

    /// Records a failed check; `Some` passes the value through.
    fn check<V>(&mut self, checked: Result<V, Error>) -> Option<V> {
        match checked {
            Ok(v) => Some(v),
            Err(e) => {
                self.record(e);
                None
            }
        }
    }

    fn origin(&self) -> Origin {
        self.sim.origin(self.me)
    }

    fn record(&mut self, e: Error) {
        if self.error.is_none() {
            if self.me.is_none() && self.sim.outside_error.is_none() {
                // No step ends to report it: the simulation's next run does.
                self.sim.outside_error = Some(e.clone());
            }
            self.error = Some(e);
        }
    }
}
