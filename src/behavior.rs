//! Behaviours: reusable pieces of a process, run to completion inside it (SimPy's
//! `yield from`).
//!
//! A [`Behavior`] is a small state machine of its own — "seize a resource, hold it, release
//! it", "get an item within a patience or leave" — that a process runs for a while and that
//! then hands back a result. The process keeps the behaviour in its state and forwards each
//! wake to it; every wait stays an explicit [`Command`], and a behaviour is unit-tested like
//! a process, by calling [`Behavior::step`].
//!
//! ```
//! use stepsim::behavior::{Behavior, Seize, Seized, Step};
//! use stepsim::{Boxed, Command, Context, Process, ResourceId, Simulation, Wake};
//!
//! type M = Boxed<()>;
//!
//! /// Takes the clerk for 3, then leaves: the whole visit is one behaviour.
//! enum Customer { Arriving(ResourceId), Visiting(Seize) }
//! impl Process<M> for Customer {
//!     fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
//!         let step = match self {
//!             Customer::Arriving(clerk) => {
//!                 let mut visit = Seize::new(*clerk, 3.0);
//!                 let step = visit.start(cx);
//!                 *self = Customer::Visiting(visit);
//!                 step
//!             }
//!             Customer::Visiting(visit) => visit.step(cx, wake),
//!         };
//!         match step {
//!             Step::Wait(command) => command,
//!             Step::Done(Ok(Seized { waited, .. })) => {
//!                 println!("t={}: served after waiting {waited}", cx.now());
//!                 Command::Done
//!             }
//!             Step::Done(Err(_)) => Command::Done, // interrupted or gave up
//!         }
//!     }
//! }
//!
//! let mut sim = Simulation::<M>::new(0);
//! let clerk = sim.resource(1)?;
//! for _ in 0..2 {
//!     sim.spawn(Box::new(Customer::Arriving(clerk)));
//! }
//! sim.run()?;
//! assert_eq!(sim.now(), 6.0);
//! assert_eq!(sim.resource_view(clerk)?.in_use(), 0); // released by the behaviour
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::command::{Command, Interrupt, Outcome, Priority, Reason, Wake};
use crate::context::Context;
use crate::handle::{QueueId, ResourceId};
use crate::process::Model;

/// What a behaviour does next: wait, or hand back its result.
#[derive(Clone, Debug, PartialEq)]
pub enum Step<T, O> {
    /// The process waits: return this command from `step`.
    Wait(Command<T>),
    /// The behaviour is over, with this result.
    Done(O),
}

impl<T, O> Step<T, O> {
    /// The command to return if the behaviour waits, or `then(result)` if it is done.
    pub fn or_then(self, then: impl FnOnce(O) -> Command<T>) -> Command<T> {
        match self {
            Step::Wait(command) => command,
            Step::Done(result) => then(result),
        }
    }
}

/// A reusable piece of a process: a state machine that runs inside a process until it hands
/// back its [`Output`](Behavior::Output). See the [module docs](self).
pub trait Behavior<M: Model> {
    /// What it hands back when it is over.
    type Output;

    /// Starts it: its first command (or, if it has nothing to wait for, its result).
    fn start(&mut self, cx: &mut Context<'_, M>) -> Step<M::Item, Self::Output>;

    /// One step, with what woke the process.
    fn step(
        &mut self,
        cx: &mut Context<'_, M>,
        wake: Wake<M::Item, M::Cause>,
    ) -> Step<M::Item, Self::Output>;
}

/// How a [`Seize`] went: how long it waited for the slot in all, and how often it lost it
/// to a better request (and took it up again for what was left).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Seized {
    /// Time spent waiting for the slot, over every attempt.
    pub waited: f64,
    /// Times a better request preempted it.
    pub preemptions: u32,
}

/// Why a [`Seize`] or [`GetWithin`] ended without being served.
#[derive(Clone, Debug, PartialEq)]
pub enum Unserved<T, I> {
    /// Its patience ran out before it got a slot (or an item): it reneged, after waiting
    /// this long.
    Reneged {
        /// How long it had waited.
        waited: f64,
    },
    /// An interrupt withdrew its wait (nothing is held: a slot it had was released).
    Interrupted(Interrupt<T, I>),
}

#[derive(Copy, Clone, Debug, PartialEq)]
enum SeizeState {
    New,
    Waiting { since: f64 },
    Holding { since: f64 },
}

/// Seize a resource, hold it, release it: one behaviour for the most common piece of a
/// queueing model.
///
/// Options: a [priority](Seize::with_priority) (on a priority or preemptive resource), a
/// [patience](Seize::within) after which it gives up waiting (a renege), and what to do when
/// a better request preempts it: by default it carries on, requesting again and holding for
/// the time that was left (SimPy's usual `Preempted` loop), and reports how often in
/// [`Seized::preemptions`].
///
/// It ends with `Ok(Seized)` once the hold is over and the slot released,
/// `Err(Unserved::Reneged { .. })` if its patience ran out, or `Err(Unserved::Interrupted(interrupt))` if the
/// model interrupted it (the slot, if it had one, is released first; the interrupt's
/// `request` and `waited` say what it was doing).
#[derive(Clone, Debug, PartialEq)]
pub struct Seize {
    resource: ResourceId,
    priority: Option<Priority>,
    patience: Option<f64>,
    left: f64,
    waited: f64,
    preemptions: u32,
    state: SeizeState,
}

impl Seize {
    /// Seize `resource` and hold it for `hold`.
    pub fn new(resource: ResourceId, hold: f64) -> Self {
        Seize {
            resource,
            priority: None,
            patience: None,
            left: hold,
            waited: 0.0,
            preemptions: 0,
            state: SeizeState::New,
        }
    }

    /// Requests with this priority (a priority or preemptive resource).
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Gives up after waiting `patience` for a slot (each attempt, after a preemption too).
    pub fn within(mut self, patience: f64) -> Self {
        self.patience = Some(patience);
        self
    }

    /// The hold still to do.
    pub fn left(&self) -> f64 {
        self.left
    }

    fn request<T>(&mut self, now: f64) -> Command<T> {
        self.state = SeizeState::Waiting { since: now };
        let acquire = match self.priority {
            Some(p) => Command::AcquireWith(self.resource, p),
            None => Command::Acquire(self.resource),
        };
        match self.patience {
            Some(patience) => Command::first_of([acquire, Command::Sleep(patience)]),
            None => acquire,
        }
    }

    fn hold<T, O>(&mut self, now: f64, since: f64) -> Step<T, O> {
        self.waited += now - since;
        self.state = SeizeState::Holding { since: now };
        Step::Wait(Command::Sleep(self.left))
    }
}

impl<M: Model> Behavior<M> for Seize {
    type Output = Result<Seized, Unserved<M::Item, M::Cause>>;

    fn start(&mut self, cx: &mut Context<'_, M>) -> Step<M::Item, Self::Output> {
        Step::Wait(self.request(cx.now()))
    }

    fn step(
        &mut self,
        cx: &mut Context<'_, M>,
        wake: Wake<M::Item, M::Cause>,
    ) -> Step<M::Item, Self::Output> {
        let now = cx.now();
        match (self.state, wake) {
            (SeizeState::New, _) => Step::Wait(self.request(now)),
            (SeizeState::Waiting { since }, Wake::Completed(Outcome::Acquired(_))) => {
                self.hold(now, since)
            }
            (SeizeState::Waiting { since }, Wake::First(first)) => {
                if first.index == 0 {
                    self.hold(now, since)
                } else {
                    self.waited += now - since;
                    Step::Done(Err(Unserved::Reneged {
                        waited: self.waited,
                    }))
                }
            }
            (SeizeState::Holding { .. }, Wake::Completed(Outcome::Slept)) => {
                cx.release(self.resource);
                self.left = 0.0;
                Step::Done(Ok(Seized {
                    waited: self.waited,
                    preemptions: self.preemptions,
                }))
            }
            (SeizeState::Holding { .. }, Wake::Interrupted(i)) => {
                self.left = (self.left - i.waited).max(0.0);
                if let Reason::Preempted(_) = i.cause {
                    // The slot is gone: take it up again for what is left.
                    self.preemptions += 1;
                    return Step::Wait(self.request(now));
                }
                cx.release(self.resource);
                Step::Done(Err(Unserved::Interrupted(i)))
            }
            (SeizeState::Waiting { since }, Wake::Interrupted(i)) => {
                self.waited += now - since;
                Step::Done(Err(Unserved::Interrupted(i)))
            }
            (state, wake) => {
                cx.fail(format!(
                    "Seize of {} got {:?} while {state:?}",
                    self.resource,
                    wake.kind()
                ));
                Step::Wait(Command::Done)
            }
        }
    }
}

/// Get an item from a queue within a patience, or leave: `Ok(item)`, `Err(Unserved::Reneged)` when
/// the patience ran out (the get was withdrawn: it took nothing), or `Err(Unserved::Interrupted)` if the
/// model interrupted it.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct GetWithin {
    queue: QueueId,
    patience: f64,
    since: f64,
}

impl GetWithin {
    /// Get from `queue`, waiting at most `patience`.
    pub fn new(queue: QueueId, patience: f64) -> Self {
        GetWithin {
            queue,
            patience,
            since: 0.0,
        }
    }
}

impl<M: Model> Behavior<M> for GetWithin {
    type Output = Result<M::Item, Unserved<M::Item, M::Cause>>;

    fn start(&mut self, cx: &mut Context<'_, M>) -> Step<M::Item, Self::Output> {
        self.since = cx.now();
        Step::Wait(Command::first_of([
            Command::Get(self.queue),
            Command::Sleep(self.patience),
        ]))
    }

    fn step(
        &mut self,
        cx: &mut Context<'_, M>,
        wake: Wake<M::Item, M::Cause>,
    ) -> Step<M::Item, Self::Output> {
        match wake {
            Wake::First(first) => match first.outcome {
                Outcome::Got(item) => Step::Done(Ok(item)),
                _ => Step::Done(Err(Unserved::Reneged {
                    waited: cx.now() - self.since,
                })),
            },
            Wake::Interrupted(i) => Step::Done(Err(Unserved::Interrupted(i))),
            Wake::Started | Wake::Completed(_) => self.start(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Boxed, Capacity, Process, Simulation};

    type M = Boxed<u32, &'static str>;

    /// Runs one behaviour as a whole process and keeps its result.
    struct Runs<B: Behavior<M>> {
        behavior: B,
        started: bool,
        result: std::rc::Rc<std::cell::RefCell<Option<B::Output>>>,
    }

    impl<B: Behavior<M> + 'static> Process<M> for Runs<B> {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
            let step = if self.started {
                self.behavior.step(cx, wake)
            } else {
                self.started = true;
                self.behavior.start(cx)
            };
            step.or_then(|out| {
                *self.result.borrow_mut() = Some(out);
                Command::Done
            })
        }
    }

    fn run<B: Behavior<M> + 'static>(
        sim: &mut Simulation<M>,
        behavior: B,
    ) -> (
        crate::Pid,
        std::rc::Rc<std::cell::RefCell<Option<B::Output>>>,
    ) {
        let result = std::rc::Rc::new(std::cell::RefCell::new(None));
        let pid = sim.spawn(Box::new(Runs {
            behavior,
            started: false,
            result: std::rc::Rc::clone(&result),
        }));
        (pid, result)
    }

    #[test]
    fn a_seize_resumes_after_preemption_and_ends_when_its_hold_is_done() {
        let mut sim = Simulation::<M>::new(0);
        let r = sim.preemptive_resource(1).unwrap();
        let (_, low) = run(
            &mut sim,
            Seize::new(r, 10.0).with_priority(Priority::new(5.0)),
        );
        sim.run_until(3.0).unwrap();
        let (_, high) = run(
            &mut sim,
            Seize::new(r, 2.0).with_priority(Priority::new(1.0)),
        );
        sim.run().unwrap();
        let low = low.borrow().clone().unwrap().unwrap();
        assert_eq!(low.preemptions, 1);
        assert_eq!(low.waited, 2.0, "waited for the high one's 2");
        assert_eq!(high.borrow().clone().unwrap().unwrap().waited, 0.0);
        assert_eq!(sim.now(), 12.0, "10 of work plus 2 preempted");
        assert_eq!(sim.resource_view(r).unwrap().in_use(), 0);
    }

    #[test]
    fn a_seize_gives_up_after_its_patience() {
        let mut sim = Simulation::<M>::new(0);
        let r = sim.resource(1).unwrap();
        run(&mut sim, Seize::new(r, 10.0));
        let (_, impatient) = run(&mut sim, Seize::new(r, 1.0).within(4.0));
        sim.run().unwrap();
        assert_eq!(
            *impatient.borrow(),
            Some(Err(Unserved::Reneged { waited: 4.0 })),
            "reneged at 4"
        );
        assert_eq!(sim.resource_view(r).unwrap().queue_len(), 0);
    }

    #[test]
    fn an_interrupted_seize_releases_its_slot_and_hands_the_interrupt_over() {
        let mut sim = Simulation::<M>::new(0);
        let r = sim.resource(1).unwrap();
        let (p, out) = run(&mut sim, Seize::new(r, 10.0));
        sim.run_until(4.0).unwrap();
        sim.interrupt(p, "stop").unwrap();
        sim.run().unwrap();
        match out.borrow().clone() {
            Some(Err(Unserved::Interrupted(i))) => {
                assert_eq!(i.cause, Reason::Interrupt("stop"));
                assert_eq!(i.waited, 4.0);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sim.resource_view(r).unwrap().in_use(), 0);
    }

    #[test]
    fn get_within_gets_or_gives_up() {
        let mut sim = Simulation::<M>::new(0);
        let q = sim.queue(Capacity::Unbounded).unwrap();
        let (_, first) = run(&mut sim, GetWithin::new(q, 5.0));
        let (_, second) = run(&mut sim, GetWithin::new(q, 5.0));
        sim.run_until(1.0).unwrap();
        sim.context().try_put(q, 7).unwrap();
        sim.run().unwrap();
        assert_eq!(*first.borrow(), Some(Ok(7)));
        assert_eq!(
            *second.borrow(),
            Some(Err(Unserved::Reneged { waited: 5.0 }))
        );
        assert_eq!(sim.queue_view(q).unwrap().len(), 0);
    }

    #[test]
    fn a_behavior_is_unit_tested_by_calling_step() {
        let mut sim = Simulation::<M>::new(0);
        let r = sim.resource(1).unwrap();
        let mut cx = sim.context();
        let mut visit = Seize::new(r, 3.0);
        assert_eq!(
            Behavior::<M>::start(&mut visit, &mut cx),
            Step::Wait(Command::Acquire(r))
        );
        assert_eq!(
            visit.step(&mut cx, Wake::Completed(Outcome::Acquired(r))),
            Step::Wait(Command::Sleep(3.0))
        );
    }
}
