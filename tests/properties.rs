//! Property tests: random models of producers, consumers, resource users and interrupters.
//!
//! Each case draws a [`Plan`]: a few FIFO or priority queues (unbounded, or bounded to 1..=3
//! items), resources of 1..=3 slots, and a mix of processes:
//! - *producers* put fresh, distinct item ids, plainly or as `FirstOf` over one or two puts
//!   and a timeout (possibly after a non-blocking `try_put`), retrying a few times or giving
//!   up and keeping the items handed back;
//! - *consumers* get, plainly or as `FirstOf` over up to three queues and a timeout (possibly
//!   after a `try_get`), then work on the item;
//! - *resource users* acquire one or two resources (in index order), plainly, masked or with
//!   a timeout, hold them (masked or not) for a while or until an item arrives, and release
//!   them with `Context::release`, or leave them to the automatic release when they finish;
//! - *interrupters* interrupt random processes at random times, in bursts.
//!
//!
//! Delays come from the plan or from each process's seeded stream. Every process checks each
//! wake against the command it answers (the right kind, at the right time, `First::others`
//! and `Interrupt::request` handed back exactly), and records in a shared [`Ledger`] which
//! items it owns, which it received, and which slots it holds.
//!
//! The invariants, checked at the horizon of `run_until`, when the run is quiescent, and
//! after every process has been shut down:
//! 1. conservation: every item created is exactly once received, in a queue, held by a
//!    blocked putter, or owned by its producer;
//! 2. resources: never more slots in use than the capacity (checked in every step), the
//!    engine's holders are exactly the slots the processes believe they hold, and none is
//!    held once every process has finished;
//! 3. quiescence: when no event is left, no request that could be satisfied is still waiting;
//! 4. determinism: the same plan and seed give the same trace, event for event.
//!
//! Engine bugs these properties found are pinned as regression tests at the end.

mod common;

use common::{Delay, config, delay, hit};
use proptest::prelude::*;
use proptest::sample::Index;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::rc::Rc;
use stepsim::{
    Boxed, Branches, Capacity, Command, Context, Outcome, Pid, Process, QueueId, ResourceId,
    Simulation, Stream, TraceLog, Wake,
};

type Item = u64;
type Cause = u32;
type M = Boxed<Item, Cause>;
type W = Wake<Item, Cause>;
type Cmd = Command<Item>;

/// The cause of the interrupts that shut the model down at the end.
const SHUTDOWN: Cause = u32::MAX;

/// The most branches a generated `FirstOf` has (producers: puts and a timeout; consumers:
/// gets and a timeout): the four stored inline.
const MAX_FIRST_OF_BRANCHES: usize = 4;

// ----- plans -----

#[derive(Clone, Copy, Debug, PartialEq)]
enum AcquirePlan {
    Plain,
    Masked,
    Timeout(Delay),
}

#[derive(Clone, Debug)]
enum ActorPlan {
    Producer {
        targets: Vec<Index>,
        rounds: u32,
        gap: Delay,
        timeout: Option<Delay>,
        retries: u32,
        try_first: bool,
        resume_gap: bool,
    },
    Consumer {
        sources: Vec<Index>,
        attempts: u32,
        service: Delay,
        timeout: Option<Delay>,
        try_first: bool,
    },
    User {
        needs: Vec<Index>,
        cycles: u32,
        acquire: AcquirePlan,
        hold: Delay,
        /// Hold the slots until an item arrives from this queue, instead of for `hold`.
        hold_on: Option<Index>,
        masked_hold: bool,
        resume_hold: bool,
        pause: Delay,
        leave_holding: bool,
    },
    Interrupter {
        hits: Vec<(Delay, Index, u32)>,
    },
}

#[derive(Clone, Debug)]
struct Plan {
    seed: u64,
    /// (priority?, capacity: `None` for unbounded).
    queues: Vec<(bool, Option<usize>)>,
    resources: Vec<usize>,
    actors: Vec<ActorPlan>,
    horizon: f64,
}

fn producer() -> impl Strategy<Value = ActorPlan> {
    (
        prop::collection::vec(any::<Index>(), 1..=2),
        1u32..8,
        delay(),
        prop::option::of(delay()),
        0u32..3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(targets, rounds, gap, timeout, retries, try_first, resume_gap)| ActorPlan::Producer {
                targets,
                rounds,
                gap,
                timeout,
                retries,
                try_first,
                resume_gap,
            },
        )
}

fn consumer() -> impl Strategy<Value = ActorPlan> {
    (
        prop::collection::vec(any::<Index>(), 1..=3),
        1u32..12,
        delay(),
        prop::option::of(delay()),
        any::<bool>(),
    )
        .prop_map(
            |(sources, attempts, service, timeout, try_first)| ActorPlan::Consumer {
                sources,
                attempts,
                service,
                timeout,
                try_first,
            },
        )
}

fn user() -> impl Strategy<Value = ActorPlan> {
    let acquire = prop_oneof![
        Just(AcquirePlan::Plain),
        Just(AcquirePlan::Masked),
        delay().prop_map(AcquirePlan::Timeout),
    ];
    (
        prop::collection::vec(any::<Index>(), 1..=2),
        1u32..6,
        acquire,
        delay(),
        prop::option::weighted(0.3, any::<Index>()),
        any::<bool>(),
        any::<bool>(),
        delay(),
        any::<bool>(),
    )
        .prop_map(
            |(
                needs,
                cycles,
                acquire,
                hold,
                hold_on,
                masked_hold,
                resume_hold,
                pause,
                leave_holding,
            )| {
                ActorPlan::User {
                    needs,
                    cycles,
                    acquire,
                    hold,
                    hold_on,
                    masked_hold,
                    resume_hold,
                    pause,
                    leave_holding,
                }
            },
        )
}

fn interrupter() -> impl Strategy<Value = ActorPlan> {
    prop::collection::vec((delay(), any::<Index>(), 1u32..=3), 1..8)
        .prop_map(|hits| ActorPlan::Interrupter { hits })
}

fn plan() -> impl Strategy<Value = Plan> {
    let actor = prop_oneof![
        3 => producer(),
        3 => consumer(),
        3 => user(),
        2 => interrupter(),
    ];
    (
        any::<u64>(),
        prop::collection::vec((any::<bool>(), prop::option::of(1usize..4)), 1..=3),
        prop::collection::vec(1usize..=3, 1..=2),
        prop::collection::vec(actor, 1..=14),
        5u32..40,
    )
        .prop_map(|(seed, queues, resources, actors, horizon)| Plan {
            seed,
            queues,
            resources,
            actors,
            horizon: f64::from(horizon),
        })
}

// ----- the ledger: what the processes believe -----

#[derive(Default)]
struct Ledger {
    next_item: Item,
    created: BTreeSet<Item>,
    /// Item -> the consumer (actor number) that received it.
    received: BTreeMap<Item, usize>,
    /// Item -> the producer (actor number) holding it outside the simulation.
    owned: BTreeMap<Item, usize>,
    /// (resource number, holder): the slots the processes believe they hold.
    holds: BTreeSet<(usize, Pid)>,
    resources: Vec<ResourceId>,
    pids: Vec<Pid>,
    shutdown: bool,
}

impl Ledger {
    fn create(&mut self, producer: usize) -> Item {
        self.next_item += 1;
        let item = self.next_item;
        self.created.insert(item);
        self.owned.insert(item, producer);
        item
    }

    /// An item handed back to its producer.
    fn take_back(&mut self, producer: usize, item: Item) {
        assert!(
            self.created.contains(&item),
            "item {item} was never created"
        );
        let before = self.owned.insert(item, producer);
        assert!(
            before.is_none(),
            "item {item} handed back to #{producer} but already owned by #{before:?}"
        );
    }

    /// An item given to the simulation.
    fn give(&mut self, producer: usize, item: Item) {
        assert_eq!(
            self.owned.remove(&item),
            Some(producer),
            "#{producer} gives item {item} it does not own"
        );
    }

    fn receive(&mut self, consumer: usize, item: Item) {
        assert!(
            self.created.contains(&item),
            "item {item} was never created"
        );
        let before = self.received.insert(item, consumer);
        assert!(
            before.is_none(),
            "item {item} received by #{consumer}, and before by #{before:?}"
        );
    }
}

// ----- processes -----

/// One process of the model: its role, plus the checks common to all.
struct Actor {
    id: usize,
    role: Role,
    /// The command it answered last, and when.
    last: Option<(Cmd, f64)>,
    rng: Stream,
    ledger: Rc<RefCell<Ledger>>,
}

enum Role {
    Producer(Producer),
    Consumer(Consumer),
    User(User),
    Interrupter(Interrupter),
}

impl Process<M> for Actor {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        check_wake(self.id, self.last.as_ref(), &wake, cx.now());
        let mut ledger = self.ledger.borrow_mut();
        check_slots(cx, &ledger);
        let (id, rng) = (self.id, &mut self.rng);
        let command = match &mut self.role {
            Role::Producer(p) => p.step(cx, wake, &mut ledger, rng, id),
            Role::Consumer(c) => c.step(cx, wake, &mut ledger, rng, id),
            Role::User(u) => u.step(cx, wake, &mut ledger, rng, id),
            Role::Interrupter(i) => i.step(cx, wake, &ledger, rng),
        };
        assert!(cx.error().is_none(), "#{id}: {:?}", cx.error());
        check_slots(cx, &ledger);
        self.last = Some((command.clone(), cx.now()));
        command
    }
}

/// A withdrawn request is handed back as it was issued. (A `Yield` comes back as
/// `Sleep(0.0)`: see `interrupted_yield_is_handed_back_as_issued`.)
fn same_request(issued: &Cmd, handed_back: &Cmd) -> bool {
    issued == handed_back || (*issued == Command::Yield && *handed_back == Command::Sleep(0.0))
}

fn outcome_fits(wait: &Cmd, outcome: &Outcome<Item>) -> bool {
    match (wait, outcome) {
        (Command::Sleep(_), Outcome::Slept)
        | (Command::Get(_), Outcome::Got(_))
        | (Command::Put(..), Outcome::Put) => true,
        (Command::Acquire(r), Outcome::Acquired(s)) => r == s,
        (Command::Join(p), Outcome::Joined(q, _)) => p == q,
        _ => false,
    }
}

/// Checks that `wake` answers the command `last` issued at `since`, at time `now`.
fn check_wake(id: usize, last: Option<&(Cmd, f64)>, wake: &W, now: f64) {
    let fail = || panic!("#{id} at t={now}: {wake:?} does not answer {last:?}");
    let Some((command, since)) = last else {
        if *wake != Wake::Started {
            fail();
        }
        return;
    };
    let since = *since;
    assert!(now >= since, "#{id}: time went backwards");
    let command = &command.clone().unmasked();
    match (wake, command) {
        (Wake::Completed(Outcome::Slept), Command::Sleep(dt)) => {
            assert_eq!(now, since + dt, "#{id}: slept {dt} from t={since}");
        }
        (Wake::Completed(Outcome::Slept), Command::Yield) => assert_eq!(now, since),
        (Wake::Completed(Outcome::Got(_)), Command::Get(_))
        | (Wake::Completed(Outcome::Put), Command::Put(..)) => {}
        (Wake::Completed(Outcome::Acquired(r)), Command::Acquire(s)) => {
            assert_eq!(r, s);
        }
        (Wake::First(first), Command::FirstOf(branches)) => {
            let branches = branches.to_vec();
            assert!(first.index < branches.len(), "#{id}: {first:?}");
            let winner = &branches[first.index];
            assert!(
                outcome_fits(winner, &first.outcome),
                "#{id}: {winner:?} won with {:?}",
                first.outcome
            );
            if let Command::Sleep(dt) = winner {
                assert_eq!(now, since + dt, "#{id}: timeout {dt} from t={since}");
            }
            let others: Vec<Cmd> = branches
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != first.index)
                .map(|(_, w)| w.clone())
                .collect();
            assert_eq!(
                first.others.to_vec(),
                &others[..],
                "#{id}: the losers of {branches:?} at t={now}"
            );
        }
        (Wake::Interrupted(interrupt), _) => {
            assert!(
                command.is_interruptible(),
                "#{id}: {command:?} was interrupted"
            );
            assert!(
                same_request(command, &interrupt.request),
                "#{id}: issued {command:?}, handed back {:?}",
                interrupt.request
            );
            assert_eq!(interrupt.waited, now - since, "#{id}: {interrupt:?}");
            hit(if interrupt.waited > 0.0 {
                "an interrupt withdrew a wait"
            } else {
                "an interrupt landed at once (queued, or at a new wait)"
            });
            if let Command::FirstOf(_) = command {
                hit("a first-of interrupted");
            }
        }
        _ => fail(),
    }
}

/// In every step: no resource over capacity, and every slot a process believes it holds is
/// held in the engine.
fn check_slots(cx: &Context<'_, M>, ledger: &Ledger) {
    for (ri, &r) in ledger.resources.iter().enumerate() {
        let view = cx.resource_view(r).unwrap();
        assert!(view.in_use() <= view.capacity(), "{r} over capacity");
        for &(_, pid) in ledger.holds.iter().filter(|h| h.0 == ri) {
            assert!(
                view.is_held_by(pid),
                "{pid:?} believes it holds {r}, but the engine says {:?}",
                view.holders().collect::<Vec<_>>()
            );
        }
    }
}

/// The puts of a withdrawn or losing request, whose items come back.
fn put_items(waits: &[Cmd]) -> impl Iterator<Item = Item> + '_ {
    waits.iter().filter_map(|w| match w {
        Command::Put(_, item) => Some(*item),
        _ => None,
    })
}

fn request_waits(request: &Cmd) -> Vec<Cmd> {
    match request {
        Command::FirstOf(branches) => branches.to_vec(),
        Command::Masked(_) => vec![request.clone().unmasked()],
        Command::Attend(_) | Command::Done | Command::Resume(_) => Vec::new(),
        other => vec![other.clone()],
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Stage {
    /// Sleeping between rounds (or resting, for a resource user).
    Resting,
    /// Waiting to put, get or acquire.
    Waiting,
    /// Working on an item (consumer) or holding its slots (resource user).
    Busy,
}

struct Producer {
    targets: Vec<QueueId>,
    rounds_left: u32,
    gap: Delay,
    timeout: Option<Delay>,
    retries: u32,
    retries_left: u32,
    try_first: bool,
    resume_gap: bool,
    /// Items to offer (owned, in the ledger).
    hand: Vec<Item>,
    stage: Stage,
}

impl Producer {
    fn step(
        &mut self,
        cx: &mut Context<'_, M>,
        wake: W,
        lg: &mut Ledger,
        rng: &mut Stream,
        me: usize,
    ) -> Cmd {
        // Items handed back come back to the hand first.
        match &wake {
            Wake::First(first) => {
                for item in put_items(&first.others.to_vec()) {
                    hit("a losing put's item handed back");
                    lg.take_back(me, item);
                    self.hand.push(item);
                }
            }
            Wake::Interrupted(interrupt) => {
                for item in put_items(&request_waits(&interrupt.request)) {
                    hit("an interrupted put's item handed back");
                    lg.take_back(me, item);
                    self.hand.push(item);
                }
            }
            _ => {}
        }
        if lg.shutdown {
            return Command::Done; // what is in hand stays owned
        }
        match (self.stage, wake) {
            (_, Wake::Started) => self.next_round(cx, lg, rng, me),
            (Stage::Resting, Wake::Completed(Outcome::Slept)) => self.next_round(cx, lg, rng, me),
            (Stage::Resting, Wake::Interrupted(interrupt)) if self.resume_gap => {
                Command::Sleep(interrupt.remaining_sleep().expect("a sleep"))
            }
            (Stage::Resting, Wake::Interrupted(_)) => self.next_round(cx, lg, rng, me),
            (Stage::Waiting, Wake::Completed(Outcome::Put)) => self.rest(rng),
            (Stage::Waiting, Wake::First(first)) => match first.outcome {
                Outcome::Put => {
                    hit("a first-of put won");
                    self.rest(rng)
                }
                Outcome::Slept => self.retry_or_give_up(cx, lg, rng, me),
                other => panic!("#{me}: a producer's first-of won with {other:?}"),
            },
            (Stage::Waiting, Wake::Interrupted(_)) => self.retry_or_give_up(cx, lg, rng, me),
            (stage, wake) => panic!("#{me}: producer {stage:?} woken by {wake:?}"),
        }
    }

    fn rest(&mut self, rng: &mut Stream) -> Cmd {
        self.stage = Stage::Resting;
        Command::Sleep(self.gap.draw(rng))
    }

    fn next_round(
        &mut self,
        cx: &mut Context<'_, M>,
        lg: &mut Ledger,
        rng: &mut Stream,
        me: usize,
    ) -> Cmd {
        if self.rounds_left == 0 {
            return Command::Done;
        }
        self.rounds_left -= 1;
        while self.hand.len() < self.targets.len() {
            self.hand.push(lg.create(me));
        }
        self.retries_left = self.retries;
        self.offer(cx, lg, rng, me)
    }

    fn retry_or_give_up(
        &mut self,
        cx: &mut Context<'_, M>,
        lg: &mut Ledger,
        rng: &mut Stream,
        me: usize,
    ) -> Cmd {
        if self.retries_left > 0 {
            self.retries_left -= 1;
            self.offer(cx, lg, rng, me)
        } else {
            // Give up: the producer keeps these items for good (they stay in the ledger).
            hit("a producer gave up and kept its items");
            self.hand.clear();
            self.rest(rng)
        }
    }

    /// Offers every item in hand, the k-th to the k-th target.
    fn offer(
        &mut self,
        cx: &mut Context<'_, M>,
        lg: &mut Ledger,
        rng: &mut Stream,
        me: usize,
    ) -> Cmd {
        if self.try_first {
            let hand = std::mem::take(&mut self.hand);
            for (k, item) in hand.into_iter().enumerate() {
                lg.give(me, item);
                match cx.try_put(self.targets[k], item) {
                    Ok(()) => hit("try_put placed an item"),
                    Err(item) => {
                        hit("try_put refused an item");
                        lg.take_back(me, item);
                        self.hand.push(item);
                    }
                }
            }
            if self.hand.is_empty() {
                return self.rest(rng);
            }
        }
        let mut puts = Branches::new();
        for (k, item) in self.hand.drain(..).enumerate() {
            lg.give(me, item);
            puts.push(Command::Put(self.targets[k], item));
        }
        self.stage = Stage::Waiting;
        match self.timeout {
            None if puts.len() == 1 => puts.into_iter().next().unwrap(),
            None => Command::FirstOf(puts),
            Some(timeout) => {
                puts.push(Command::Sleep(timeout.draw(rng)));
                Command::FirstOf(puts)
            }
        }
    }
}

struct Consumer {
    sources: Vec<QueueId>,
    attempts_left: u32,
    service: Delay,
    timeout: Option<Delay>,
    try_first: bool,
    stage: Stage,
}

impl Consumer {
    fn step(
        &mut self,
        cx: &mut Context<'_, M>,
        wake: W,
        lg: &mut Ledger,
        rng: &mut Stream,
        me: usize,
    ) -> Cmd {
        let got = match &wake {
            Wake::Completed(Outcome::Got(item)) => Some(*item),
            Wake::First(first) => match first.outcome {
                Outcome::Got(item) => {
                    hit("a first-of get won");
                    Some(item)
                }
                _ => {
                    hit("a get timed out");
                    None
                }
            },
            _ => None,
        };
        if let Some(item) = got {
            assert_eq!(self.stage, Stage::Waiting, "#{me}: got {item} unasked");
            lg.receive(me, item);
        }
        if lg.shutdown {
            return Command::Done;
        }
        match (self.stage, got) {
            (Stage::Waiting, Some(_)) => self.work(rng),
            _ => self.next(cx, lg, rng, me),
        }
    }

    fn work(&mut self, rng: &mut Stream) -> Cmd {
        self.stage = Stage::Busy;
        Command::Sleep(self.service.draw(rng))
    }

    fn next(
        &mut self,
        cx: &mut Context<'_, M>,
        lg: &mut Ledger,
        rng: &mut Stream,
        me: usize,
    ) -> Cmd {
        if self.attempts_left == 0 {
            return Command::Done;
        }
        self.attempts_left -= 1;
        if self.try_first {
            for &q in &self.sources {
                if let Some(item) = cx.try_get(q) {
                    hit("try_get took an item");
                    lg.receive(me, item);
                    return self.work(rng);
                }
            }
        }
        self.stage = Stage::Waiting;
        let mut gets: Branches<Item> = self.sources.iter().map(|&q| Command::Get(q)).collect();
        match self.timeout {
            None if gets.len() == 1 => Command::Get(self.sources[0]),
            None => Command::FirstOf(gets),
            Some(timeout) => {
                gets.push(Command::Sleep(timeout.draw(rng)));
                Command::FirstOf(gets)
            }
        }
    }
}

struct User {
    /// (resource number, resource), in increasing order (no deadlock).
    needs: Vec<(usize, ResourceId)>,
    cycles_left: u32,
    acquire: AcquirePlan,
    hold: Delay,
    /// Hold until an item comes from this queue (a getter that may block forever holding
    /// its slots).
    hold_on: Option<QueueId>,
    masked_hold: bool,
    resume_hold: bool,
    pause: Delay,
    leave_holding: bool,
    held: Vec<(usize, ResourceId)>,
    stage: Stage,
}

impl User {
    fn step(
        &mut self,
        cx: &mut Context<'_, M>,
        wake: W,
        lg: &mut Ledger,
        rng: &mut Stream,
        id: usize,
    ) -> Cmd {
        let me = cx.pid();
        if let Wake::Completed(Outcome::Got(item)) = wake {
            assert!(self.stage == Stage::Busy && self.hold_on.is_some());
            lg.receive(id, item);
        }
        // A withdrawn or losing acquire holds nothing.
        let withdrawn = match &wake {
            Wake::First(first) => first.others.to_vec().to_vec(),
            Wake::Interrupted(interrupt) => request_waits(&interrupt.request),
            _ => Vec::new(),
        };
        for wait in &withdrawn {
            if let Command::Acquire(r) = wait {
                let held = cx.resource_view(*r).unwrap().is_held_by(me);
                assert!(!held, "{me:?}: a withdrawn acquire of {r} holds a slot");
            }
        }
        let acquired = match &wake {
            Wake::Completed(Outcome::Acquired(r)) => Some(*r),
            Wake::First(first) => match first.outcome {
                Outcome::Acquired(r) => Some(r),
                _ => None,
            },
            _ => None,
        };
        if let Some(r) = acquired {
            assert_eq!(self.stage, Stage::Waiting);
            let (ri, want) = self.needs[self.held.len()];
            assert_eq!(r, want, "{me:?} acquired the wrong resource");
            assert!(cx.resource_view(r).unwrap().is_held_by(me));
            assert!(lg.holds.insert((ri, me)), "{me:?} holds {r} twice");
            self.held.push((ri, r));
        }
        if lg.shutdown {
            return self.finish(cx, lg, me);
        }
        match (self.stage, wake) {
            (_, Wake::Started) => self.start_cycle(cx, lg, rng, me),
            (Stage::Waiting, _) if acquired.is_some() => {
                if self.acquire == AcquirePlan::Masked {
                    hit("a masked acquire granted");
                }
                self.acquire_next(rng)
            }
            // A timeout or an interrupt: give up this cycle.
            (Stage::Waiting, wake) => {
                hit(match wake {
                    Wake::Interrupted(_) => "an acquire interrupted",
                    _ => "an acquire timed out",
                });
                self.rest(cx, lg, rng, me)
            }
            (Stage::Busy, Wake::Interrupted(interrupt)) if self.resume_hold => {
                hit("a hold interrupted, then resumed");
                match interrupt.remaining_sleep() {
                    Some(dt) => Command::Sleep(dt),
                    None => interrupt.request, // the get of `hold_on`
                }
            }
            (Stage::Busy, Wake::Interrupted(_)) => {
                hit("a hold cut short by an interrupt");
                self.rest(cx, lg, rng, me)
            }
            (Stage::Busy, _) => self.rest(cx, lg, rng, me),
            (Stage::Resting, _) => self.start_cycle(cx, lg, rng, me),
        }
    }

    fn start_cycle(
        &mut self,
        cx: &mut Context<'_, M>,
        lg: &mut Ledger,
        rng: &mut Stream,
        me: Pid,
    ) -> Cmd {
        if self.cycles_left == 0 {
            return self.finish(cx, lg, me);
        }
        self.cycles_left -= 1;
        self.acquire_next(rng)
    }

    fn acquire_next(&mut self, rng: &mut Stream) -> Cmd {
        if let Some(&(_, r)) = self.needs.get(self.held.len()) {
            self.stage = Stage::Waiting;
            match self.acquire {
                AcquirePlan::Plain => Command::Acquire(r),
                AcquirePlan::Masked => Command::Acquire(r).masked(),
                AcquirePlan::Timeout(d) => {
                    Command::first_of([Command::Acquire(r), Command::Sleep(d.draw(rng))])
                }
            }
        } else {
            self.stage = Stage::Busy;
            if let Some(q) = self.hold_on {
                return Command::Get(q);
            }
            let dt = self.hold.draw(rng);
            if self.masked_hold {
                Command::Sleep(dt).masked()
            } else {
                Command::Sleep(dt)
            }
        }
    }

    fn release_all(&mut self, cx: &mut Context<'_, M>, lg: &mut Ledger, me: Pid) {
        for (ri, r) in self.held.drain(..) {
            cx.release(r);
            assert!(cx.error().is_none(), "{me:?}: {:?}", cx.error());
            assert!(lg.holds.remove(&(ri, me)));
        }
    }

    fn rest(&mut self, cx: &mut Context<'_, M>, lg: &mut Ledger, rng: &mut Stream, me: Pid) -> Cmd {
        self.release_all(cx, lg, me);
        self.stage = Stage::Resting;
        Command::Sleep(self.pause.draw(rng))
    }

    fn finish(&mut self, cx: &mut Context<'_, M>, lg: &mut Ledger, me: Pid) -> Cmd {
        if self.leave_holding {
            if !self.held.is_empty() {
                hit("slots left to the automatic release");
            }
            // The engine releases them as the process finishes.
            for (ri, _) in self.held.drain(..) {
                assert!(lg.holds.remove(&(ri, me)));
            }
        } else {
            self.release_all(cx, lg, me);
        }
        Command::Done
    }
}

struct Interrupter {
    hits: VecDeque<(Delay, Index, u32)>,
    /// The target and burst of the hit being waited for.
    current: Option<(Index, u32)>,
}

impl Interrupter {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W, lg: &Ledger, rng: &mut Stream) -> Cmd {
        if lg.shutdown {
            return Command::Done;
        }
        match wake {
            Wake::Started => self.next(rng),
            Wake::Completed(Outcome::Slept) => {
                let (target, burst) = self.current.take().expect("a hit");
                let target = lg.pids[target.index(lg.pids.len())];
                if target != cx.pid() {
                    for k in 0..burst {
                        let finished = cx.is_finished(target).unwrap();
                        let landed = cx.interrupt(target, k);
                        assert_eq!(landed, !finished, "interrupting {target:?}");
                        if !landed {
                            hit("an interrupt of a finished process refused");
                        }
                    }
                }
                self.next(rng)
            }
            // (`remaining_sleep` is `None` for an interrupted `Yield`.)
            Wake::Interrupted(interrupt) => {
                Command::Sleep(interrupt.remaining_sleep().unwrap_or(0.0))
            }
            other => panic!("interrupter woken by {other:?}"),
        }
    }

    fn next(&mut self, rng: &mut Stream) -> Cmd {
        let Some((delay, target, burst)) = self.hits.pop_front() else {
            return Command::Done;
        };
        self.current = Some((target, burst));
        let dt = delay.draw(rng);
        if dt == 0.0 {
            Command::Yield
        } else {
            Command::Sleep(dt)
        }
    }
}

// ----- running a plan -----

struct Model {
    sim: Simulation<M>,
    log: TraceLog,
    queues: Vec<QueueId>,
    resources: Vec<ResourceId>,
    ledger: Rc<RefCell<Ledger>>,
}

fn build(plan: &Plan) -> Model {
    let mut sim = Simulation::<M>::new(plan.seed);
    let log = TraceLog::new();
    sim.observe(log.clone());
    let queues: Vec<QueueId> = plan
        .queues
        .iter()
        .map(|&(priority, capacity)| {
            let capacity = capacity.map_or(Capacity::Unbounded, Capacity::Bounded);
            if priority {
                sim.priority_queue(capacity).unwrap()
            } else {
                sim.queue(capacity).unwrap()
            }
        })
        .collect();
    let resources: Vec<ResourceId> = plan
        .resources
        .iter()
        .map(|&n| sim.resource(n).unwrap())
        .collect();
    let ledger = Rc::new(RefCell::new(Ledger {
        resources: resources.clone(),
        ..Ledger::default()
    }));
    let queue = |i: &Index| queues[i.index(queues.len())];
    for (id, actor) in plan.actors.iter().enumerate() {
        let (name, role) = match actor.clone() {
            ActorPlan::Producer {
                targets,
                rounds,
                gap,
                timeout,
                retries,
                try_first,
                resume_gap,
            } => (
                "producer",
                Role::Producer(Producer {
                    targets: targets
                        .iter()
                        .take(MAX_FIRST_OF_BRANCHES - usize::from(timeout.is_some()))
                        .map(queue)
                        .collect(),
                    rounds_left: rounds,
                    gap,
                    timeout,
                    retries,
                    retries_left: retries,
                    try_first,
                    resume_gap,
                    hand: Vec::new(),
                    stage: Stage::Resting,
                }),
            ),
            ActorPlan::Consumer {
                sources,
                attempts,
                service,
                timeout,
                try_first,
            } => {
                let sources: Vec<QueueId> = sources
                    .iter()
                    .take(MAX_FIRST_OF_BRANCHES - usize::from(timeout.is_some()))
                    .map(queue)
                    .collect();
                (
                    "consumer",
                    Role::Consumer(Consumer {
                        sources,
                        attempts_left: attempts,
                        service,
                        timeout,
                        try_first,
                        stage: Stage::Resting,
                    }),
                )
            }
            ActorPlan::User {
                needs,
                cycles,
                acquire,
                hold,
                hold_on,
                masked_hold,
                resume_hold,
                pause,
                leave_holding,
            } => {
                let mut needs: Vec<usize> =
                    needs.iter().map(|i| i.index(resources.len())).collect();
                needs.sort_unstable();
                needs.dedup();
                (
                    "user",
                    Role::User(User {
                        needs: needs.into_iter().map(|ri| (ri, resources[ri])).collect(),
                        cycles_left: cycles,
                        acquire,
                        hold,
                        hold_on: hold_on.as_ref().map(queue),
                        masked_hold,
                        resume_hold,
                        pause,
                        leave_holding,
                        held: Vec::new(),
                        stage: Stage::Resting,
                    }),
                )
            }
            ActorPlan::Interrupter { hits } => (
                "interrupter",
                Role::Interrupter(Interrupter {
                    hits: hits.into(),
                    current: None,
                }),
            ),
        };
        let actor = Actor {
            id,
            role,
            last: None,
            rng: sim.new_stream(id as u64),
            ledger: ledger.clone(),
        };
        let pid = sim.spawn_named(format!("{name}-{id}"), Box::new(actor));
        ledger.borrow_mut().pids.push(pid);
    }
    Model {
        sim,
        log,
        queues,
        resources,
        ledger,
    }
}

impl Model {
    /// Invariants 1 and 2, between runs (when no wake is on its way).
    fn check_accounting(&self, when: &str) -> Result<(), TestCaseError> {
        let lg = self.ledger.borrow();
        let mut whereabouts: BTreeMap<Item, Vec<String>> = BTreeMap::new();
        for (&item, &c) in &lg.received {
            whereabouts
                .entry(item)
                .or_default()
                .push(format!("received by #{c}"));
        }
        for (k, &q) in self.queues.iter().enumerate() {
            let view = self.sim.queue_view(q).unwrap();
            for &item in view.iter() {
                whereabouts
                    .entry(item)
                    .or_default()
                    .push(format!("in queue {k}"));
            }
            for &item in view.blocked_items() {
                hit("an item held by a blocked putter");
                whereabouts
                    .entry(item)
                    .or_default()
                    .push(format!("held by a putter blocked on queue {k}"));
            }
        }
        for (&item, &p) in &lg.owned {
            whereabouts
                .entry(item)
                .or_default()
                .push(format!("owned by #{p}"));
        }
        let found: BTreeSet<Item> = whereabouts.keys().copied().collect();
        prop_assert_eq!(&found, &lg.created, "{}: items missing or invented", when);
        for (item, places) in &whereabouts {
            prop_assert!(places.len() == 1, "{}: item {} is {:?}", when, item, places);
        }
        for (ri, &r) in self.resources.iter().enumerate() {
            let view = self.sim.resource_view(r).unwrap();
            prop_assert!(view.in_use() <= view.capacity());
            let mut engine = view.holders().collect::<Vec<_>>();
            engine.sort();
            let believed: Vec<Pid> = lg.holds.iter().filter(|h| h.0 == ri).map(|h| h.1).collect();
            prop_assert_eq!(engine, believed, "{}: holders of resource {}", when, ri);
        }
        Ok(())
    }

    /// Invariant 3: nothing left to do, and no waiting request that could be satisfied.
    fn check_quiescent(&mut self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.sim.peek(), None);
        for (k, &q) in self.queues.iter().enumerate() {
            let view = self.sim.queue_view(q).unwrap();
            if view.getters_waiting() > 0 {
                hit("getters blocked at quiescence");
            }
            if view.putters_waiting() > 0 {
                hit("putters blocked at quiescence");
            }
            prop_assert!(
                view.getters_waiting() == 0 || view.is_empty(),
                "queue {}: {} getters wait beside {} items",
                k,
                view.getters_waiting(),
                view.len()
            );
            prop_assert!(
                view.putters_waiting() == 0 || view.is_full(),
                "queue {}: {} putters wait with room ({} of {:?})",
                k,
                view.putters_waiting(),
                view.len(),
                view.capacity()
            );
        }
        for (ri, &r) in self.resources.iter().enumerate() {
            let view = self.sim.resource_view(r).unwrap();
            if view.queue_len() > 0 {
                hit("acquirers blocked at quiescence");
            }
            prop_assert!(
                view.queue_len() == 0 || view.available() == 0,
                "resource {}: {} wait beside {} free slots",
                ri,
                view.queue_len(),
                view.available()
            );
        }
        Ok(())
    }

    /// Interrupts every live process with the shutdown flag set until all have finished.
    fn shut_down(&mut self) -> Result<(), TestCaseError> {
        self.ledger.borrow_mut().shutdown = true;
        let pids = self.ledger.borrow().pids.clone();
        for _ in 0..=pids.len() {
            if self.sim.live_processes() == 0 {
                break;
            }
            for &pid in &pids {
                if !self.sim.is_finished(pid).unwrap() {
                    self.sim.interrupt(pid, SHUTDOWN).unwrap();
                }
            }
            self.sim.run().map_err(fail)?;
        }
        prop_assert_eq!(self.sim.live_processes(), 0, "processes survive shutdown");
        for (k, &q) in self.queues.iter().enumerate() {
            let view = self.sim.queue_view(q).unwrap();
            prop_assert_eq!(
                (view.getters_waiting(), view.putters_waiting()),
                (0, 0),
                "queue {}",
                k
            );
        }
        for (ri, &r) in self.resources.iter().enumerate() {
            let view = self.sim.resource_view(r).unwrap();
            prop_assert_eq!((view.in_use(), view.queue_len()), (0, 0), "resource {}", ri);
        }
        Ok(())
    }

    /// Everything a run decided, for comparing two runs.
    fn summary(&self) -> String {
        let lg = self.ledger.borrow();
        let mut out = format!(
            "t={} events={} received={:?} owned={:?}",
            self.sim.now(),
            self.sim.events(),
            lg.received,
            lg.owned
        );
        for &q in &self.queues {
            let view = self.sim.queue_view(q).unwrap();
            let _ = write!(out, " {q}={:?}", view.iter().collect::<Vec<_>>());
        }
        out
    }
}

fn fail(e: stepsim::Error) -> TestCaseError {
    TestCaseError::fail(format!("the run failed: {e}"))
}

/// Runs a plan to its horizon, then to quiescence, then shuts it down, checking the
/// invariants at each point; returns the trace and a summary of the outcome.
fn run_plan(plan: &Plan) -> Result<(String, String), TestCaseError> {
    let mut model = build(plan);
    model.sim.run_until(plan.horizon).map_err(fail)?;
    model.check_accounting("at the horizon")?;
    model.sim.run().map_err(fail)?;
    model.check_quiescent()?;
    model.check_accounting("at quiescence")?;
    model.shut_down()?;
    model.check_accounting("after shutdown")?;
    Ok((model.log.to_csv(), model.summary()))
}

proptest! {
    #![proptest_config(config(128))]

    /// Invariants 1–3.
    #[test]
    fn random_models_keep_their_invariants(plan in plan()) {
        run_plan(&plan)?;
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Invariant 4: the same plan and seed give the same trace and the same outcome.
    #[test]
    fn same_seed_same_trace(plan in plan()) {
        common::assert_same_twice(|| run_plan(&plan))?;
    }
}

/// The properties are only as good as the models: over a fixed sample of plans, every
/// situation they are meant to exercise does occur.
#[test]
fn the_generator_exercises_every_situation() {
    let expected = [
        "a losing put's item handed back",
        "an interrupted put's item handed back",
        "a first-of put won",
        "a producer gave up and kept its items",
        "try_put placed an item",
        "try_put refused an item",
        "a first-of get won",
        "a get timed out",
        "try_get took an item",
        "a masked acquire granted",
        "an acquire interrupted",
        "an acquire timed out",
        "a hold interrupted, then resumed",
        "a hold cut short by an interrupt",
        "slots left to the automatic release",
        "an interrupt of a finished process refused",
        "an interrupt withdrew a wait",
        "an interrupt landed at once (queued, or at a new wait)",
        "a first-of interrupted",
        "an item held by a blocked putter",
        "getters blocked at quiescence",
        "putters blocked at quiescence",
        "acquirers blocked at quiescence",
    ];
    common::assert_exercised(&expected, plan(), 64, |plan| {
        run_plan(plan).unwrap();
    });
}

// ----- regression tests for engine bugs the properties found -----

type Log = Rc<RefCell<Vec<(f64, W)>>>;

/// Issues its commands in order, logging every wake with its time; `Done` after the last.
struct Script {
    commands: VecDeque<Cmd>,
    log: Log,
}

impl Process<M> for Script {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        self.log.borrow_mut().push((cx.now(), wake));
        self.commands.pop_front().unwrap_or(Command::Done)
    }
}

fn script(sim: &mut Simulation<M>, commands: Vec<Cmd>) -> (Pid, Log) {
    let log = Log::default();
    let pid = sim.spawn(Box::new(Script {
        commands: commands.into(),
        log: log.clone(),
    }));
    (pid, log)
}

/// `Simulation::issue_first_of` registers the branches of a `FirstOf` one by one, and each
/// `register` runs its primitive's trigger. When the trigger run while registering branch
/// `k` completes this very process (its branch `k`, or an earlier branch on the same
/// primitive), `complete` withdraws the branches registered so far and clears
/// `Slot::branches`, but the loop in `issue_first_of` goes on registering branches `k+1..`
/// on a process that is already satisfied. Those branches are missing from
/// `First::others`, and a later `Get`/`Put`/`Acquire` branch stays in its wait list as a
/// stale waiter: when it is served, `trigger_*` calls `complete` on a process that is
/// waiting for something else (it gets an item in the middle of a `Sleep`), a process that
/// has finished, or one that already has a wake parked (`Kind::Resume` then panics on a
/// removed `wakes` key).
///
/// Here: getter A waits on `FirstOf(Get(q1), Get(q0))`; items are put into q1 and q0 (their
/// hooks pending), and in the same instant B issues `FirstOf(Get(q1), Get(q0), Get(q2))`.
/// Registering B's `Get(q1)` serves A, which withdraws A's getter from q0; registering B's
/// `Get(q0)` then serves B itself; B's `Get(q2)` is registered afterwards anyway.
#[test]
fn first_of_completed_while_registering_keeps_registering() {
    let mut sim = Simulation::<M>::new(0);
    let q0 = sim.queue(Capacity::Unbounded).unwrap();
    let q1 = sim.queue(Capacity::Unbounded).unwrap();
    let q2 = sim.queue(Capacity::Unbounded).unwrap();
    let (_, a) = script(
        &mut sim,
        vec![Command::first_of([Command::Get(q1), Command::Get(q0)])],
    );
    let (_, b) = script(
        &mut sim,
        vec![
            Command::Sleep(1.0),
            Command::first_of([Command::Get(q1), Command::Get(q0), Command::Get(q2)]),
            Command::Sleep(10.0),
        ],
    );
    sim.run_until(1.0).unwrap();
    let mut cx = sim.context();
    cx.try_put(q1, 1).unwrap();
    cx.try_put(q0, 2).unwrap();
    sim.run_until(2.0).unwrap();
    assert_eq!(
        a.borrow()[1],
        (
            1.0,
            Wake::First(stepsim::First::new(
                0,
                Outcome::Got(1),
                [Command::Get(q0)].into()
            ))
        )
    );
    assert_eq!(
        b.borrow()[2],
        (
            1.0,
            Wake::First(stepsim::First::new(
                1,
                Outcome::Got(2),
                [Command::Get(q1), Command::Get(q2)].into(),
            ))
        ),
        "the losing branches"
    );
    // The engine leaves B's Get(q2) behind as a stale getter ...
    assert_eq!(sim.queue_view(q2).unwrap().getters_waiting(), 0);
    // ... which takes the next item put into q2, and wakes B with it in the middle of its
    // Sleep(10.0).
    sim.context().try_put(q2, 3).unwrap();
    sim.run().unwrap();
    assert_eq!(b.borrow()[3], (11.0, Wake::Completed(Outcome::Slept)));
    assert_eq!(
        sim.queue_view(q2)
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![3]
    );
}

/// `Simulation::exit` takes the finished process's whole `joiners` list, then completes
/// each joiner. A joiner whose `FirstOf` joins the same process twice is in that list
/// twice: completing it the first time withdraws its other branch from the (already
/// emptied) list, so the loop completes it a second time, parking a second wake over the
/// first (`Slot::ready` overwritten); its second `Kind::Resume` then removes a `wakes` key
/// that is gone, and `Slab::remove` panics ("invalid key", in `dispatch_entry`).
#[test]
fn first_of_joining_one_process_twice() {
    let mut sim = Simulation::<M>::new(0);
    let (child, _) = script(&mut sim, vec![Command::Sleep(1.0)]);
    let (_, parent) = script(
        &mut sim,
        vec![
            Command::first_of([Command::Join(child), Command::Join(child)]),
            Command::Sleep(3.0),
        ],
    );
    sim.run().unwrap();
    assert_eq!(
        parent.borrow()[1..],
        [
            (
                1.0,
                Wake::First(stepsim::First::new(
                    0,
                    Outcome::Joined(child, stepsim::Exit::Returned(None)),
                    [Command::Join(child)].into(),
                ))
            ),
            (4.0, Wake::Completed(Outcome::Slept)),
        ]
    );
}

/// `Interrupt::request` is documented as "the withdrawn wait, handed back as it was
/// issued", but `Simulation::issue` registers `Yield` as `Command::Sleep(0.0)`, and
/// `withdraw_all` rebuilds the request from the registered branch: an interrupted `Yield`
/// comes back as `Sleep(0.0)` (and `remaining_sleep` differs: `Some(0.0)` instead of the
/// `None` a held `Yield` gets).
#[test]
fn interrupted_yield_is_handed_back_as_issued() {
    struct Interrupter(Pid);
    impl Process<M> for Interrupter {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
            match wake {
                Wake::Started => Command::Sleep(1.0),
                _ => {
                    assert!(cx.interrupt(self.0, 7));
                    Command::Done
                }
            }
        }
    }
    let mut sim = Simulation::<M>::new(0);
    let (worker, log) = script(&mut sim, vec![Command::Sleep(1.0), Command::Yield]);
    sim.spawn(Box::new(Interrupter(worker)));
    sim.run().unwrap();
    assert_eq!(
        log.borrow()[2],
        (
            1.0,
            Wake::Interrupted(stepsim::Interrupt::new(7, Command::Yield, 0.0))
        )
    );
}
