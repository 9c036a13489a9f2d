//! The engine: the simulation clock, the event queue and the interpreter of commands.
//!
//! # Ordering
//! Events are processed in order of `(time, priority, sequence)`, as in SimPy 4: process
//! starts and interrupt deliveries are *urgent*, everything else is *normal*, and among equals
//! the event scheduled first runs first. A request satisfied at once (an item already in the
//! queue, a free slot) still wakes its process through the event queue at the current instant,
//! so it never jumps ahead of work already scheduled for that instant.
//!
//! # Interrupts
//! [`Simulation::interrupt`] and [`Context::interrupt`] schedule an urgent delivery at the
//! current instant. When it is processed:
//! - if the target waits in an interruptible wait that is not yet satisfied, the wait is
//!   withdrawn atomically (see [`crate::command`]) and the target is stepped with
//!   [`Wake::Interrupted`], which hands the withdrawn request back;
//! - otherwise (a masked wait, a wait already satisfied whose wake is on its way, a process
//!   not yet started) the interrupt queues up; queued interrupts are delivered, in arrival
//!   order, at the next interruptible command the process issues, *instead of* starting that
//!   command (which is handed back unstarted, with `waited == 0`).
//!
//! Interrupts still queued when a process finishes are dropped (the trace records
//! `interrupt-dropped`); interrupting a process that has finished is an error.
//!
//! # Panics in processes
//! A panic inside [`Process::step`] is not caught: it unwinds out of `run`/`step`. If the
//! caller catches it, the simulation is poisoned and every later `run`, `run_until` or `step`
//! returns [`Error::Poisoned`].

use crate::command::{Branches, Command, First, Interrupt, Outcome, Wait, Wake};
use crate::context::Context;
use crate::error::{Error, Origin, ProcessRef};
use crate::handle::{Handle, Pid, QueueId, ResourceId, next_sim_id};
use crate::process::{Model, Process};
use crate::queue::{Capacity, Order, QueueState, QueueView, Waiter};
use crate::resource::{ResourceState, ResourceView};
use crate::rng::{Stream, derive_stream, name_key};
use crate::trace::{Observer, TraceEvent, TraceKind};
use slab::Slab;
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

const URGENT: u64 = 0;
const NORMAL: u64 = 1 << 63;

/// Work to do on a primitive when an event is processed (SimPy's trigger callbacks).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Hook {
    None,
    /// Offer the queue's head item to its head getter.
    Gets(u32),
    /// Offer a free place in the queue to its head putter.
    Puts(u32),
    /// Offer a free slot of the resource to its head waiter.
    Grants(u32),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// First step of a process (`tag` is its generation).
    Start,
    /// A sleep branch elapsed (`tag` is the wait's epoch).
    Timer(u32),
    /// A satisfied request's event: run its hook, then wake the process (or, for a
    /// `FirstOf`, schedule the wake one hop later, as SimPy's condition events do).
    Ready(Hook),
    /// Wake the process with its stored wake.
    Resume,
    /// Deliver a queued interrupt if the target's wait allows (`tag` is its generation).
    Interrupt,
    /// A finished process's exit: wake its joiners, free its slot (`tag`: generation).
    Exit,
    /// A hook with no process to wake (a release, a non-blocking put or get).
    Hook(Hook),
}

/// One scheduled event. Its order is `(time, priority, sequence)` packed into one `u128`:
/// times are never negative, and the bit patterns of non-negative `f64`s sort like the
/// numbers, so a single integer comparison orders the heap.
struct Entry {
    order: u128,
    idx: u32,
    tag: u32,
    kind: Kind,
}

impl Entry {
    fn time(&self) -> f64 {
        f64::from_bits((self.order >> 64) as u64)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.order == other.order
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest entry.
    fn cmp(&self, other: &Self) -> Ordering {
        other.order.cmp(&self.order)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Spawned; its start event is pending.
    Starting,
    /// Inside `step`.
    Running,
    /// Waiting on `branches`.
    Waiting,
    /// The wait completed; its wake (in `ready`) is on its way.
    Satisfied,
    /// Holding an unstarted command while a queued interrupt is delivered.
    Held,
    /// Returned `Done` (or failed); its exit event is pending.
    Finishing,
}

/// One registered wait, compact: items of blocked puts live in the queue's putter list.
#[derive(Copy, Clone, Debug)]
enum Branch {
    Sleep(f64),
    Get(u32),
    Put(u32),
    Acquire(u32),
    Join(Pid),
}

struct Slot<M: Model> {
    body: Option<M::Proc>,
    name: Option<Box<str>>,
    phase: Phase,
    masked: bool,
    first_of: bool,
    since: f64,
    branches: SmallVec<[Branch; 1]>,
    ready: usize,
    held: Option<Box<Command<M::Item>>>,
    interrupts: VecDeque<M::Cause>,
    inflight: u32,
    joiners: Vec<Waiter>,
    holds: u32,
}

/// Per slot index, kept across reuse so that old handles and old timers never alias.
#[derive(Copy, Clone, Default)]
struct Meta {
    generation: u32,
    epoch: u32,
}

/// A discrete-event simulation of the processes of one [`Model`].
///
/// ```
/// use stepsim::{Boxed, Capacity, Command, Context, Process, Simulation, Wake};
///
/// // A customer arrives, takes the clerk for 3 time units, and leaves.
/// struct Customer { clerk: stepsim::ResourceId }
/// impl Process<Boxed<()>> for Customer {
///     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         match wake {
///             Wake::Started => Command::Acquire(self.clerk),
///             Wake::Acquired(_) => Command::Sleep(3.0),
///             _ => { cx.release(self.clerk); Command::Done }
///         }
///     }
/// }
///
/// let mut sim = Simulation::<Boxed<()>>::new(42);
/// let clerk = sim.resource(1)?;
/// for _ in 0..2 {
///     sim.spawn(Box::new(Customer { clerk }));
/// }
/// sim.run()?;
/// assert_eq!(sim.now(), 6.0); // the second customer waited for the first
/// # Ok::<(), stepsim::Error>(())
/// ```
pub struct Simulation<M: Model> {
    pub(crate) id: u32,
    seed: u64,
    pub(crate) now: f64,
    seq: u64,
    events: u64,
    heap: BinaryHeap<Entry>,
    procs: Slab<Slot<M>>,
    meta: Vec<Meta>,
    pub(crate) queues: Vec<QueueState<M::Item>>,
    pub(crate) resources: Vec<ResourceState>,
    wakes: Slab<Wake<M::Item, M::Cause>>,
    observer: Option<Box<dyn Observer>>,
    /// Set while a process runs; still set after a panic escaped `step`.
    in_step: Option<Pid>,
}

impl<M: Model> Simulation<M> {
    /// A new simulation at time 0. `seed` is the master seed of every random stream handed
    /// out by [`Simulation::stream`].
    pub fn new(seed: u64) -> Self {
        Simulation {
            id: next_sim_id(),
            seed,
            now: 0.0,
            seq: 0,
            events: 0,
            heap: BinaryHeap::new(),
            procs: Slab::new(),
            meta: Vec::new(),
            queues: Vec::new(),
            resources: Vec::new(),
            wakes: Slab::new(),
            observer: None,
            in_step: None,
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// The master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of events processed so far (process wakes, exits and primitive hooks).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Time of the next event, or `None` if nothing is scheduled.
    pub fn peek(&self) -> Option<f64> {
        self.heap.peek().map(Entry::time)
    }

    /// Number of processes that have been spawned and have not finished.
    pub fn live_processes(&self) -> usize {
        self.procs
            .iter()
            .filter(|(_, s)| s.phase != Phase::Finishing)
            .count()
    }

    /// An independent random stream derived from the master seed and `key`.
    ///
    /// The same `(seed, key)` always gives the same stream, whatever else the model does, so
    /// giving each process or purpose its own key keeps scenarios comparable (common random
    /// numbers): adding a process does not change the draws of the others.
    pub fn stream(&self, key: u64) -> Stream {
        derive_stream(self.seed, key)
    }

    /// [`Simulation::stream`] keyed by a name (hashed with FNV-1a, stable across platforms).
    pub fn stream_named(&self, name: &str) -> Stream {
        derive_stream(self.seed, name_key(name))
    }

    /// Installs an observer that sees every event from now on (replacing any other).
    pub fn observe(&mut self, observer: impl Observer + 'static) {
        self.observer = Some(Box::new(observer));
    }

    /// Removes the observer.
    pub fn stop_observing(&mut self) {
        self.observer = None;
    }

    /// Adds a process; its first step runs at the current instant (urgently, after the
    /// starts and interrupts already scheduled for it).
    pub fn spawn(&mut self, process: M::Proc) -> Pid {
        self.spawn_inner(process, None)
    }

    /// [`Simulation::spawn`] with a name, used in traces and error messages.
    pub fn spawn_named(&mut self, name: impl Into<String>, process: M::Proc) -> Pid {
        self.spawn_inner(process, Some(name.into().into_boxed_str()))
    }

    /// A FIFO queue.
    pub fn queue(&mut self, capacity: Capacity) -> Result<QueueId, Error> {
        self.add_queue(capacity, None)
    }

    /// A priority queue: `Get` takes the smallest item by `Ord`, FIFO among equals.
    pub fn priority_queue(&mut self, capacity: Capacity) -> Result<QueueId, Error>
    where
        M::Item: Ord,
    {
        self.add_queue(capacity, Some(<M::Item as Ord>::cmp))
    }

    /// A priority queue ordered by `order` (smallest first), FIFO among equals.
    pub fn priority_queue_by(
        &mut self,
        capacity: Capacity,
        order: fn(&M::Item, &M::Item) -> Ordering,
    ) -> Result<QueueId, Error> {
        self.add_queue(capacity, Some(order))
    }

    /// A resource with `capacity` slots (at least 1).
    pub fn resource(&mut self, capacity: usize) -> Result<ResourceId, Error> {
        if capacity == 0 {
            return Err(Error::ZeroCapacity {
                origin: self.origin(None),
                what: "resource",
            });
        }
        self.resources.push(ResourceState::new(capacity));
        Ok(ResourceId {
            sim: self.id,
            idx: (self.resources.len() - 1) as u32,
        })
    }

    /// A read-only look at a queue.
    pub fn queue_view(&self, q: QueueId) -> Result<QueueView<'_, M::Item>, Error> {
        let i = self.check_queue(q, None)?;
        Ok(QueueView {
            state: &self.queues[i],
        })
    }

    /// A read-only look at a resource.
    pub fn resource_view(&self, r: ResourceId) -> Result<ResourceView<'_>, Error> {
        let i = self.check_resource(r, None)?;
        Ok(ResourceView {
            state: &self.resources[i],
        })
    }

    /// Whether `pid` has finished (returned `Done` or failed).
    pub fn is_finished(&self, pid: Pid) -> Result<bool, Error> {
        if pid.sim != self.id {
            return Err(self.foreign(Handle::Process(pid), None));
        }
        Ok(self
            .live(pid)
            .is_none_or(|i| self.procs[i].phase == Phase::Finishing))
    }

    /// The name `pid` was spawned with, while it lives.
    pub fn name(&self, pid: Pid) -> Option<&str> {
        if pid.sim != self.id {
            return None;
        }
        self.live(pid).and_then(|i| self.procs[i].name.as_deref())
    }

    /// Interrupts `target` with `cause` (see the module docs for when it lands).
    pub fn interrupt(&mut self, target: Pid, cause: M::Cause) -> Result<(), Error> {
        self.interrupt_from(None, target, cause)
    }

    /// A context acting from outside any process: for non-blocking queue operations before
    /// or between runs, and for unit tests that call [`Process::step`] by hand.
    pub fn context(&mut self) -> Context<'_, M> {
        Context {
            sim: self,
            me: None,
            error: None,
        }
    }

    /// Runs until nothing is scheduled.
    pub fn run(&mut self) -> Result<(), Error> {
        self.check_poison()?;
        while self.process_next()? {}
        Ok(())
    }

    /// Runs every event *before* `until` (events at exactly `until` are not processed, as in
    /// SimPy), then sets the clock to `until`.
    pub fn run_until(&mut self, until: f64) -> Result<(), Error> {
        self.check_poison()?;
        if !until.is_finite() || until < self.now {
            return Err(Error::InvalidTime {
                origin: self.origin(None),
                until,
            });
        }
        while self.peek().is_some_and(|t| t < until) {
            self.process_next()?;
        }
        self.now = until;
        Ok(())
    }

    /// Processes exactly one event; `false` if nothing was scheduled.
    pub fn step(&mut self) -> Result<bool, Error> {
        self.check_poison()?;
        self.process_next()
    }

    // ----- internals: bookkeeping -----

    fn spawn_inner(&mut self, process: M::Proc, name: Option<Box<str>>) -> Pid {
        let idx = self.procs.insert(Slot {
            body: Some(process),
            name,
            phase: Phase::Starting,
            masked: false,
            first_of: false,
            since: self.now,
            branches: SmallVec::new(),
            ready: usize::MAX,
            held: None,
            interrupts: VecDeque::new(),
            inflight: 0,
            joiners: Vec::new(),
            holds: 0,
        });
        if self.meta.len() <= idx {
            self.meta.resize(idx + 1, Meta::default());
        }
        let generation = self.meta[idx].generation;
        self.schedule(self.now, URGENT, idx as u32, generation, Kind::Start);
        Pid {
            sim: self.id,
            idx: idx as u32,
            generation,
        }
    }

    fn add_queue(
        &mut self,
        capacity: Capacity,
        order: Option<Order<M::Item>>,
    ) -> Result<QueueId, Error> {
        let cap = match capacity {
            Capacity::Unbounded => usize::MAX,
            Capacity::Bounded(0) => {
                return Err(Error::ZeroCapacity {
                    origin: self.origin(None),
                    what: "queue",
                });
            }
            Capacity::Bounded(n) => n,
        };
        self.queues.push(QueueState::new(cap, order));
        Ok(QueueId {
            sim: self.id,
            idx: (self.queues.len() - 1) as u32,
        })
    }

    fn schedule(&mut self, time: f64, priority: u64, idx: u32, tag: u32, kind: Kind) {
        debug_assert!(time >= 0.0, "times are never negative");
        self.seq += 1;
        // `+ 0.0` turns a -0.0 into 0.0, whose bits sort first.
        let bits = (time + 0.0).to_bits() as u128;
        self.heap.push(Entry {
            order: (bits << 64) | (priority | self.seq) as u128,
            idx,
            tag,
            kind,
        });
    }

    fn pid_of(&self, idx: usize) -> Pid {
        Pid {
            sim: self.id,
            idx: idx as u32,
            generation: self.meta[idx].generation,
        }
    }

    /// The slot of a live (spawned, slot not yet freed) process.
    pub(crate) fn live(&self, pid: Pid) -> Option<usize> {
        let i = pid.idx as usize;
        (self.procs.contains(i) && self.meta[i].generation == pid.generation).then_some(i)
    }

    pub(crate) fn process_ref(&self, pid: Pid) -> ProcessRef {
        let name = self
            .live(pid)
            .and_then(|i| self.procs[i].name.as_deref())
            .map(str::to_owned);
        ProcessRef { pid, name }
    }

    pub(crate) fn origin(&self, process: Option<Pid>) -> Origin {
        Origin {
            at: self.now,
            process: process.map(|p| self.process_ref(p)),
        }
    }

    pub(crate) fn foreign(&self, handle: Handle, me: Option<Pid>) -> Error {
        Error::ForeignHandle {
            origin: self.origin(me),
            handle,
        }
    }

    pub(crate) fn check_queue(&self, q: QueueId, me: Option<Pid>) -> Result<usize, Error> {
        if q.sim != self.id || q.idx as usize >= self.queues.len() {
            return Err(self.foreign(Handle::Queue(q), me));
        }
        Ok(q.idx as usize)
    }

    pub(crate) fn check_resource(&self, r: ResourceId, me: Option<Pid>) -> Result<usize, Error> {
        if r.sim != self.id || r.idx as usize >= self.resources.len() {
            return Err(self.foreign(Handle::Resource(r), me));
        }
        Ok(r.idx as usize)
    }

    fn check_poison(&self) -> Result<(), Error> {
        match self.in_step {
            Some(pid) => Err(Error::Poisoned {
                process: self.process_ref(pid),
            }),
            None => Ok(()),
        }
    }

    fn emit(&mut self, idx: usize, kind: TraceKind) {
        if let Some(obs) = self.observer.as_mut() {
            let slot = &self.procs[idx];
            let event = TraceEvent {
                time: self.now,
                pid: Pid {
                    sim: self.id,
                    idx: idx as u32,
                    generation: self.meta[idx].generation,
                },
                name: slot.name.as_deref().unwrap_or(""),
                kind,
            };
            obs.on_event(&event);
        }
    }

    // ----- internals: the event loop -----

    fn process_next(&mut self) -> Result<bool, Error> {
        self.prune();
        let Some(e) = self.heap.pop() else {
            return Ok(false);
        };
        self.now = e.time();
        self.events += 1;
        let result = self.dispatch_entry(e);
        self.prune();
        result.map(|()| true)
    }

    /// Drops withdrawn timers from the top of the heap, so `peek` is always a real event.
    fn prune(&mut self) {
        while self.heap.peek().is_some_and(|e| self.is_stale(e)) {
            self.heap.pop();
        }
    }

    /// A timer of a wait that was withdrawn or completed by another branch.
    fn is_stale(&self, e: &Entry) -> bool {
        match e.kind {
            Kind::Timer(_) => {
                let i = e.idx as usize;
                !(self.procs.get(i).is_some_and(|s| s.phase == Phase::Waiting)
                    && self.meta[i].epoch == e.tag)
            }
            _ => false,
        }
    }

    fn dispatch_entry(&mut self, e: Entry) -> Result<(), Error> {
        let idx = e.idx as usize;
        match e.kind {
            Kind::Start => self.resume(idx, Wake::Started),
            Kind::Timer(branch) => {
                let wake = self.complete(idx, branch as usize, Outcome::Slept);
                self.wake_or_hop(idx, wake)
            }
            Kind::Ready(hook) => {
                self.run_hook(hook);
                if self.procs[idx].first_of {
                    self.schedule(self.now, NORMAL, e.idx, 0, Kind::Resume);
                    Ok(())
                } else {
                    let wake = self.wakes.remove(self.procs[idx].ready);
                    self.resume(idx, wake)
                }
            }
            Kind::Resume => {
                let wake = self.wakes.remove(self.procs[idx].ready);
                self.resume(idx, wake)
            }
            Kind::Interrupt => {
                if self.procs.contains(idx) && self.meta[idx].generation == e.tag {
                    let slot = &mut self.procs[idx];
                    slot.inflight -= 1;
                    let deliverable = match slot.phase {
                        Phase::Waiting => !slot.masked,
                        Phase::Held => true,
                        _ => false,
                    };
                    if deliverable && !slot.interrupts.is_empty() {
                        return self.deliver_interrupt(idx);
                    }
                }
                Ok(())
            }
            Kind::Exit => self.exit(idx),
            Kind::Hook(hook) => {
                self.run_hook(hook);
                Ok(())
            }
        }
    }

    /// Wakes a process whose wait just completed inside its own event: at once for a single
    /// wait, one hop later for a `FirstOf` (SimPy's condition event).
    fn wake_or_hop(&mut self, idx: usize, wake: Wake<M::Item, M::Cause>) -> Result<(), Error> {
        if self.procs[idx].first_of {
            self.park(idx, wake, Kind::Resume);
            Ok(())
        } else {
            self.resume(idx, wake)
        }
    }

    /// Stores a wake and schedules the event that will deliver it.
    fn park(&mut self, idx: usize, wake: Wake<M::Item, M::Cause>, kind: Kind) {
        self.procs[idx].ready = self.wakes.insert(wake);
        self.schedule(self.now, NORMAL, idx as u32, 0, kind);
    }

    fn run_hook(&mut self, hook: Hook) {
        match hook {
            Hook::None => {}
            Hook::Gets(q) => self.trigger_gets(q),
            Hook::Puts(q) => self.trigger_puts(q),
            Hook::Grants(r) => self.trigger_grants(r),
        }
    }

    fn deliver_interrupt(&mut self, idx: usize) -> Result<(), Error> {
        let slot = &mut self.procs[idx];
        let cause = slot.interrupts.pop_front().expect("checked non-empty");
        let (request, waited) = if slot.phase == Phase::Held {
            (*slot.held.take().expect("held command"), 0.0)
        } else {
            let waited = self.now - slot.since;
            (self.withdraw_all(idx), waited)
        };
        self.resume(
            idx,
            Wake::Interrupted(Interrupt {
                cause,
                request,
                waited,
            }),
        )
    }

    /// Steps a process and carries out the command it returns.
    fn resume(&mut self, idx: usize, wake: Wake<M::Item, M::Cause>) -> Result<(), Error> {
        self.emit(idx, TraceKind::Wake(wake.kind()));
        let pid = self.pid_of(idx);
        let slot = &mut self.procs[idx];
        slot.phase = Phase::Running;
        let mut body = slot.body.take().expect("a waiting process has its body");
        self.in_step = Some(pid);
        let (command, error) = {
            let mut cx = Context {
                sim: self,
                me: Some(pid),
                error: None,
            };
            let command = body.step(&mut cx, wake);
            (command, cx.error)
        };
        self.in_step = None;
        self.procs[idx].body = Some(body);
        let result = match error {
            Some(err) => Err(err),
            None => self.issue(idx, pid, command),
        };
        if result.is_err() {
            self.finish(idx, TraceKind::Failed);
        }
        result
    }

    // ----- internals: commands -----

    #[inline]
    fn validate_wait(&self, pid: Pid, wait: &Wait<M::Item>) -> Result<(), Error> {
        let me = Some(pid);
        match *wait {
            Wait::Sleep(dt) => {
                if !(dt.is_finite() && dt >= 0.0) {
                    return Err(self.invalid_delay(pid, dt));
                }
            }
            Wait::Get(q) | Wait::Put(q, _) => {
                self.check_queue(q, me)?;
            }
            Wait::Acquire(r) => {
                self.check_resource(r, me)?;
            }
            Wait::Join(p) => {
                if p.sim != self.id || p.idx as usize >= self.meta.len() {
                    return Err(self.foreign(Handle::Process(p), me));
                }
                if p == pid {
                    return Err(Error::SelfReference {
                        origin: self.origin(me),
                        what: "join",
                    });
                }
            }
        }
        Ok(())
    }

    #[cold]
    fn invalid_delay(&self, pid: Pid, delay: f64) -> Error {
        Error::InvalidDelay {
            origin: self.origin(Some(pid)),
            delay,
        }
    }

    #[inline]
    fn validate(&self, pid: Pid, command: &Command<M::Item>) -> Result<(), Error> {
        match command {
            Command::Sleep(dt) => self.validate_wait(pid, &Wait::Sleep(*dt)),
            Command::Get(q) => self.validate_wait(pid, &Wait::Get(*q)),
            Command::Put(q, _) => self.check_queue(*q, Some(pid)).map(drop),
            Command::Acquire(r) => self.validate_wait(pid, &Wait::Acquire(*r)),
            Command::Join(p) => self.validate_wait(pid, &Wait::Join(*p)),
            Command::Masked(w) => self.validate_wait(pid, w),
            Command::FirstOf(branches) => {
                if branches.is_empty() {
                    return Err(Error::EmptyFirstOf {
                        origin: self.origin(Some(pid)),
                    });
                }
                branches
                    .as_slice()
                    .iter()
                    .try_for_each(|w| self.validate_wait(pid, w))
            }
            Command::Yield | Command::Done => Ok(()),
        }
    }

    fn issue(&mut self, idx: usize, pid: Pid, command: Command<M::Item>) -> Result<(), Error> {
        if let Command::Done = command {
            self.finish(idx, TraceKind::Done);
            return Ok(());
        }
        self.validate(pid, &command)?;
        let slot = &mut self.procs[idx];
        if command.is_interruptible() && !slot.interrupts.is_empty() {
            slot.phase = Phase::Held;
            slot.held = Some(Box::new(command));
            if slot.inflight == 0 {
                slot.inflight += 1;
                self.schedule(
                    self.now,
                    URGENT,
                    idx as u32,
                    pid.generation,
                    Kind::Interrupt,
                );
            }
            return Ok(());
        }
        let epoch = self.meta[idx].epoch.wrapping_add(1);
        self.meta[idx].epoch = epoch;
        slot.phase = Phase::Waiting;
        slot.since = self.now;
        slot.masked = false;
        slot.first_of = false;
        slot.branches.clear();
        match command {
            Command::Sleep(dt) => self.register(idx, epoch, Wait::Sleep(dt)),
            Command::Yield => self.register(idx, epoch, Wait::Sleep(0.0)),
            Command::Get(q) => self.register(idx, epoch, Wait::Get(q)),
            Command::Put(q, item) => self.register(idx, epoch, Wait::Put(q, item)),
            Command::Acquire(r) => self.register(idx, epoch, Wait::Acquire(r)),
            Command::Join(p) => self.register(idx, epoch, Wait::Join(p)),
            Command::Masked(w) => {
                self.procs[idx].masked = true;
                self.register(idx, epoch, w);
            }
            Command::FirstOf(branches) => {
                self.procs[idx].first_of = true;
                self.issue_first_of(idx, epoch, branches);
            }
            Command::Done => unreachable!("handled above"),
        }
        Ok(())
    }

    /// Whether a wait would complete the moment it is registered.
    fn completes_at_once(&self, wait: &Wait<M::Item>) -> bool {
        match wait {
            Wait::Sleep(_) => false,
            Wait::Get(q) => {
                let q = &self.queues[q.idx as usize];
                q.getters.is_empty() && !q.items.is_empty()
            }
            Wait::Put(q, _) => {
                let q = &self.queues[q.idx as usize];
                q.putters.is_empty() && q.has_room()
            }
            Wait::Acquire(r) => {
                let r = &self.resources[r.idx as usize];
                r.waiting.is_empty() && r.holders.len() < r.capacity
            }
            Wait::Join(p) => self.joined_at_once(*p),
        }
    }

    fn joined_at_once(&self, target: Pid) -> bool {
        self.live(target)
            .is_none_or(|i| self.procs[i].phase == Phase::Finishing)
    }

    fn issue_first_of(&mut self, idx: usize, epoch: u32, branches: Branches<M::Item>) {
        let winner = branches
            .as_slice()
            .iter()
            .position(|w| self.completes_at_once(w));
        match winner {
            Some(index) => {
                // The first branch that can complete now wins; the others are never started.
                let mut others = branches.0;
                let wait = others.remove(index);
                let (outcome, hook) = self.take_at_once(idx, wait);
                let wake = Wake::First(First {
                    index,
                    outcome,
                    others: Branches(others),
                });
                self.procs[idx].phase = Phase::Satisfied;
                self.park(idx, wake, Kind::Ready(hook));
            }
            None => {
                for wait in branches {
                    self.register(idx, epoch, wait);
                }
            }
        }
    }

    /// Completes a wait that [`Self::completes_at_once`] approved.
    fn take_at_once(&mut self, idx: usize, wait: Wait<M::Item>) -> (Outcome<M::Item>, Hook) {
        match wait {
            Wait::Get(q) => {
                let item = self.queues[q.idx as usize].pop_item().expect("approved");
                (Outcome::Got(item), Hook::Puts(q.idx))
            }
            Wait::Put(q, item) => {
                self.queues[q.idx as usize].push_item(item);
                (Outcome::Put, Hook::Gets(q.idx))
            }
            Wait::Acquire(r) => {
                let pid = self.pid_of(idx);
                self.resources[r.idx as usize].holders.push(pid);
                self.procs[idx].holds += 1;
                (Outcome::Acquired(r), Hook::None)
            }
            Wait::Join(p) => (Outcome::Joined(p), Hook::None),
            Wait::Sleep(_) => unreachable!("a sleep never completes at once"),
        }
    }

    /// Registers one wait as branch number `branches.len()`, then runs the primitive's
    /// trigger as SimPy does when a request is created.
    fn register(&mut self, idx: usize, epoch: u32, wait: Wait<M::Item>) {
        let branch = self.procs[idx].branches.len() as u32;
        let waiter = Waiter {
            idx: idx as u32,
            epoch,
            branch,
        };
        let compact = match wait {
            Wait::Sleep(dt) => {
                self.schedule(
                    self.now + dt,
                    NORMAL,
                    idx as u32,
                    epoch,
                    Kind::Timer(branch),
                );
                Branch::Sleep(dt)
            }
            Wait::Get(q) => {
                self.queues[q.idx as usize].getters.push_back(waiter);
                Branch::Get(q.idx)
            }
            Wait::Put(q, item) => {
                self.queues[q.idx as usize]
                    .putters
                    .push_back((waiter, item));
                Branch::Put(q.idx)
            }
            Wait::Acquire(r) => {
                self.resources[r.idx as usize].waiting.push_back(waiter);
                Branch::Acquire(r.idx)
            }
            Wait::Join(p) => {
                if !self.joined_at_once(p) {
                    let t = self.live(p).expect("live");
                    self.procs[t].joiners.push(waiter);
                }
                Branch::Join(p)
            }
        };
        self.procs[idx].branches.push(compact);
        match compact {
            Branch::Sleep(_) => {}
            Branch::Get(q) => self.trigger_gets(q),
            Branch::Put(q) => self.trigger_puts(q),
            Branch::Acquire(r) => self.trigger_grants(r),
            Branch::Join(p) => {
                if self.joined_at_once(p) {
                    let wake = self.complete(idx, branch as usize, Outcome::Joined(p));
                    self.park(idx, wake, Kind::Ready(Hook::None));
                }
            }
        }
    }

    /// Marks a wait satisfied by `branch`; for a `FirstOf`, withdraws every other branch.
    fn complete(
        &mut self,
        idx: usize,
        branch: usize,
        outcome: Outcome<M::Item>,
    ) -> Wake<M::Item, M::Cause> {
        let slot = &mut self.procs[idx];
        slot.phase = Phase::Satisfied;
        if !slot.first_of {
            slot.branches.clear();
            return outcome.into();
        }
        let mut others = SmallVec::new();
        for b in 0..self.procs[idx].branches.len() {
            if b != branch {
                others.push(self.withdraw(idx, b));
            }
        }
        self.procs[idx].branches.clear();
        Wake::First(First {
            index: branch,
            outcome,
            others: Branches(others),
        })
    }

    /// Withdraws every branch of an interrupted wait and hands the request back.
    fn withdraw_all(&mut self, idx: usize) -> Command<M::Item> {
        let n = self.procs[idx].branches.len();
        let command = if self.procs[idx].first_of {
            Command::FirstOf((0..n).map(|b| self.withdraw(idx, b)).collect())
        } else {
            self.withdraw(idx, 0).into()
        };
        self.procs[idx].branches.clear();
        command
    }

    /// Takes one unsatisfied branch off its primitive's waiting list, returning the wait as
    /// it was issued (with a put's item).
    fn withdraw(&mut self, idx: usize, branch: usize) -> Wait<M::Item> {
        let epoch = self.meta[idx].epoch;
        let (i, sim) = (idx as u32, self.id);
        match self.procs[idx].branches[branch] {
            Branch::Sleep(dt) => Wait::Sleep(dt),
            Branch::Get(q) => {
                self.queues[q as usize].remove_getter(i, epoch);
                Wait::Get(QueueId { sim, idx: q })
            }
            Branch::Put(q) => {
                let item = self.queues[q as usize]
                    .remove_putter(i, epoch)
                    .expect("an unsatisfied put still holds its item");
                Wait::Put(QueueId { sim, idx: q }, item)
            }
            Branch::Acquire(r) => {
                self.resources[r as usize].remove_waiter(i, epoch);
                Wait::Acquire(ResourceId { sim, idx: r })
            }
            Branch::Join(p) => {
                if let Some(t) = self.live(p) {
                    let joiners = &mut self.procs[t].joiners;
                    if let Some(at) = joiners.iter().position(|w| w.idx == i && w.epoch == epoch) {
                        joiners.remove(at);
                    }
                }
                Wait::Join(p)
            }
        }
    }

    // ----- internals: primitive triggers (head of line only, as in SimPy) -----

    fn trigger_gets(&mut self, q: u32) {
        let queue = &mut self.queues[q as usize];
        if queue.items.is_empty() {
            return;
        }
        let Some(w) = queue.getters.pop_front() else {
            return;
        };
        let item = queue.pop_item().expect("non-empty");
        let wake = self.complete(w.idx as usize, w.branch as usize, Outcome::Got(item));
        self.park(w.idx as usize, wake, Kind::Ready(Hook::Puts(q)));
    }

    fn trigger_puts(&mut self, q: u32) {
        let queue = &mut self.queues[q as usize];
        if !queue.has_room() {
            return;
        }
        let Some((w, item)) = queue.putters.pop_front() else {
            return;
        };
        queue.push_item(item);
        let wake = self.complete(w.idx as usize, w.branch as usize, Outcome::Put);
        self.park(w.idx as usize, wake, Kind::Ready(Hook::Gets(q)));
    }

    fn trigger_grants(&mut self, r: u32) {
        let res = &mut self.resources[r as usize];
        if res.holders.len() >= res.capacity {
            return;
        }
        let Some(w) = res.waiting.pop_front() else {
            return;
        };
        let pid = self.pid_of(w.idx as usize);
        self.resources[r as usize].holders.push(pid);
        self.procs[w.idx as usize].holds += 1;
        let rid = ResourceId {
            sim: self.id,
            idx: r,
        };
        let wake = self.complete(w.idx as usize, w.branch as usize, Outcome::Acquired(rid));
        self.park(w.idx as usize, wake, Kind::Ready(Hook::None));
    }

    // ----- internals: operations shared with Context -----

    pub(crate) fn spawn_from(&mut self, process: M::Proc, name: Option<Box<str>>) -> Pid {
        self.spawn_inner(process, name)
    }

    pub(crate) fn interrupt_from(
        &mut self,
        me: Option<Pid>,
        target: Pid,
        cause: M::Cause,
    ) -> Result<(), Error> {
        if target.sim != self.id || target.idx as usize >= self.meta.len() {
            return Err(self.foreign(Handle::Process(target), me));
        }
        if me == Some(target) {
            return Err(Error::SelfReference {
                origin: self.origin(me),
                what: "interrupt",
            });
        }
        let idx = match self.live(target) {
            Some(i) if self.procs[i].phase != Phase::Finishing => i,
            _ => {
                return Err(Error::Finished {
                    origin: self.origin(me),
                    target,
                });
            }
        };
        let slot = &mut self.procs[idx];
        slot.interrupts.push_back(cause);
        slot.inflight += 1;
        self.schedule(
            self.now,
            URGENT,
            idx as u32,
            target.generation,
            Kind::Interrupt,
        );
        Ok(())
    }

    pub(crate) fn release_from(&mut self, me: Option<Pid>, r: ResourceId) -> Result<(), Error> {
        let ri = self.check_resource(r, me)?;
        let holder = me.and_then(|pid| {
            let at = self.resources[ri].holders.iter().position(|h| *h == pid)?;
            Some((pid, at))
        });
        let Some((pid, at)) = holder else {
            return Err(Error::NotHolder {
                origin: self.origin(me),
                resource: r,
            });
        };
        self.resources[ri].holders.remove(at);
        if let Some(i) = self.live(pid) {
            self.procs[i].holds -= 1;
        }
        self.schedule(self.now, NORMAL, 0, 0, Kind::Hook(Hook::Grants(r.idx)));
        Ok(())
    }

    pub(crate) fn try_get_from(
        &mut self,
        me: Option<Pid>,
        q: QueueId,
    ) -> Result<Option<M::Item>, Error> {
        let qi = self.check_queue(q, me)?;
        let queue = &mut self.queues[qi];
        if !queue.getters.is_empty() {
            return Ok(None);
        }
        let item = queue.pop_item();
        if item.is_some() {
            self.schedule(self.now, NORMAL, 0, 0, Kind::Hook(Hook::Puts(q.idx)));
        }
        Ok(item)
    }

    pub(crate) fn try_put_from(
        &mut self,
        me: Option<Pid>,
        q: QueueId,
        item: M::Item,
    ) -> Result<Result<(), M::Item>, Error> {
        let qi = self.check_queue(q, me)?;
        let queue = &mut self.queues[qi];
        if !queue.putters.is_empty() || !queue.has_room() {
            return Ok(Err(item));
        }
        queue.push_item(item);
        self.schedule(self.now, NORMAL, 0, 0, Kind::Hook(Hook::Gets(q.idx)));
        Ok(Ok(()))
    }

    // ----- internals: finishing -----

    /// A process returned `Done` or failed: release what it holds, drop queued interrupts,
    /// and schedule its exit (which wakes joiners).
    fn finish(&mut self, idx: usize, how: TraceKind) {
        let pid = self.pid_of(idx);
        let slot = &mut self.procs[idx];
        slot.phase = Phase::Finishing;
        slot.body = None;
        slot.held = None;
        let dropped = slot.interrupts.len();
        slot.interrupts.clear();
        if slot.holds > 0 {
            slot.holds = 0;
            for r in 0..self.resources.len() {
                while let Some(at) = self.resources[r].holders.iter().position(|h| *h == pid) {
                    self.resources[r].holders.remove(at);
                    self.schedule(self.now, NORMAL, 0, 0, Kind::Hook(Hook::Grants(r as u32)));
                }
            }
        }
        for _ in 0..dropped {
            self.emit(idx, TraceKind::InterruptDropped);
        }
        self.emit(idx, how);
        self.schedule(self.now, NORMAL, idx as u32, pid.generation, Kind::Exit);
    }

    fn exit(&mut self, idx: usize) -> Result<(), Error> {
        let pid = self.pid_of(idx);
        let joiners = std::mem::take(&mut self.procs[idx].joiners);
        // The slot stays until every joiner is woken: a joiner stepped here may join the
        // finishing process again, and must see it finished, not a new occupant.
        let mut result = Ok(());
        for w in joiners {
            let j = w.idx as usize;
            let wake = self.complete(j, w.branch as usize, Outcome::Joined(pid));
            if result.is_ok() {
                result = self.wake_or_hop(j, wake);
            } else {
                self.park(j, wake, Kind::Resume);
            }
        }
        self.procs.remove(idx);
        self.meta[idx].generation = self.meta[idx].generation.wrapping_add(1);
        result
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
