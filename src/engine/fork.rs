//! Forking: a [`Simulation`] is [`Clone`] when its model's processes, items and interrupt
//! causes are. The impls are written out (a derive would ask the model's marker type to be
//! `Clone` too); every field is copied but the observer. And a short `Debug`.

use super::{Kept, Rare, Simulation, Slot};
use crate::process::Model;
use std::fmt;

impl<M: Model> Clone for Rare<M>
where
    M::Item: Clone,
    M::Cause: Clone,
{
    fn clone(&self) -> Self {
        Rare {
            interrupts: self.interrupts.clone(),
            inflight: self.inflight,
            joiners: self.joiners.clone(),
            held: self.held.clone(),
            partial: self.partial.clone(),
            exit_value: self.exit_value.clone(),
            failure: self.failure.clone(),
            summoned: self.summoned,
            name: self.name.clone(),
            lost: self.lost.clone(),
            stream: self.stream.clone(),
            spawned: self.spawned,
        }
    }
}

impl<M: Model> Clone for Slot<M>
where
    M::Proc: Clone,
    M::Item: Clone,
    M::Cause: Clone,
{
    fn clone(&self) -> Self {
        Slot {
            body: self.body.clone(),
            phase: self.phase,
            masked: self.masked,
            available: self.available,
            parked: self.parked,
            spared: self.spared,
            shape: self.shape,
            since: self.since,
            branches: self.branches.clone(),
            ready: self.ready,
            holds: self.holds,
            key: self.key,
            rare: self.rare.clone(),
        }
    }
}

impl<M: Model> Clone for Kept<M>
where
    M::Proc: Clone,
    M::Item: Clone,
{
    fn clone(&self) -> Self {
        Kept {
            body: self.body.clone(),
            value: self.value.clone(),
            failure: self.failure.clone(),
            name: self.name.clone(),
        }
    }
}

/// A fork: a copy of the whole running simulation — clock, event queue, processes, every
/// primitive with its waiting lists, pending interrupts, activities, random streams and
/// monitors — that goes on independently of the original, and exactly as the original would
/// if nothing is changed in either. Handles ([`Pid`](crate::Pid), [`QueueId`](crate::QueueId),
/// …) of the original name the same things in the fork.
///
/// The one thing not copied is the observer (an observer is a sink the program owns, such
/// as a file or a shared log): a fork starts unobserved; give it its own with
/// [`Simulation::observe`].
///
/// ```
/// use stepsim::{Capacity, Command, Context, Model, Outcome, Process, QueueId, Simulation, Wake};
///
/// struct Shop;
/// impl Model for Shop {
///     type Item = u32;
///     type Cause = ();
///     type Proc = Clerk;
/// }
///
/// /// Serves the queue's customers, `service` time units each.
/// #[derive(Clone)]
/// struct Clerk { line: QueueId, service: f64, served: u32 }
/// impl Process<Shop> for Clerk {
///     fn step(&mut self, _: &mut Context<'_, Shop>, wake: Wake<u32>) -> Command<u32> {
///         match wake {
///             Wake::Completed(Outcome::Got(_)) => Command::Sleep(self.service),
///             Wake::Completed(Outcome::Slept) => { self.served += 1; Command::Get(self.line) }
///             _ => Command::Get(self.line),
///         }
///     }
/// }
///
/// let mut sim = Simulation::<Shop>::new(7);
/// let line = sim.queue(Capacity::Unbounded)?;
/// let clerk = sim.spawn(Clerk { line, service: 2.0, served: 0 });
/// for c in 0..20 {
///     sim.context().try_put(line, c).unwrap();
/// }
/// sim.run_until(5.0)?; // warm up once
///
/// // What if the clerk were faster from now on? And what if a second clerk came in?
/// let mut faster = sim.clone();
/// faster.process_mut(clerk).unwrap().service = 0.5;
/// let mut two = sim.clone();
/// two.spawn(Clerk { line, service: 2.0, served: 0 });
/// let mut same = sim.clone();
///
/// for s in [&mut sim, &mut faster, &mut two, &mut same] {
///     s.run()?;
/// }
/// assert_eq!(sim.now(), 40.0); // 20 customers, 2 each
/// assert_eq!(same.now(), sim.now()); // a fork that changes nothing goes the same way
/// assert_eq!(faster.now(), 14.5); // the one in service ends at 6, then 17 × 0.5
/// assert_eq!(two.now(), 23.0); // from t = 5 on, two clerks share the 17 left
/// # Ok::<(), stepsim::Error>(())
/// ```
impl<M: Model> Clone for Simulation<M>
where
    M::Proc: Clone,
    M::Item: Clone,
    M::Cause: Clone,
{
    fn clone(&self) -> Self {
        Simulation {
            id: self.id,
            seed: self.seed,
            now: self.now,
            seq: self.seq,
            events: self.events,
            queue: self.queue.clone(),
            next: self.next,
            exits: self.exits.clone(),
            in_place_hint: self.in_place_hint,
            procs: self.procs.clone(),
            meta: self.meta.clone(),
            queues: self.queues.clone(),
            resources: self.resources.clone(),
            containers: self.containers.clone(),
            signals: self.signals.clone(),
            barriers: self.barriers.clone(),
            activities: self.activities.clone(),
            unstarted: self.unstarted.clone(),
            wakes: self.wakes.clone(),
            outcomes: self.outcomes.clone(),
            observer: None,
            trace_waits: false,
            registering: self.registering,
            tickets: self.tickets,
            places: self.places.clone(),
            withdrawn: self.withdrawn.clone(),
            outside_error: self.outside_error.clone(),
            fail_when_blocked: self.fail_when_blocked,
            keep_finished: self.keep_finished,
            finished: self.finished.clone(),
            busy: self.busy,
            root_spawned: self.root_spawned,
            named: self.named.clone(),
            outside: self.outside.clone(),
        }
    }
}

/// A summary: the clock, the events processed, the processes alive and the primitives.
///
/// ```
/// let sim = stepsim::Simulation::<stepsim::Boxed<()>>::new(3);
/// assert_eq!(
///     format!("{sim:?}"),
///     "Simulation { seed: 3, now: 0.0, events: 0, live_processes: 0, queues: 0, resources: 0, \
///      containers: 0, signals: 0, barriers: 0, activities: 0 }"
/// );
/// ```
impl<M: Model> fmt::Debug for Simulation<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulation")
            .field("seed", &self.seed)
            .field("now", &self.now)
            .field("events", &self.events)
            .field("live_processes", &self.procs.len())
            .field("queues", &self.queues.len())
            .field("resources", &self.resources.len())
            .field("containers", &self.containers.len())
            .field("signals", &self.signals.len())
            .field("barriers", &self.barriers.len())
            .field("activities", &self.activities.len())
            .finish()
    }
}
