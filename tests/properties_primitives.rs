//! Property tests for the issue-3 primitives: containers, priority and preemptive resources,
//! filter queues, signals and barriers, used plainly, masked, in `FirstOf` races with
//! timeouts, and in `AllOf` (as a command, and as a `FirstOf` branch), under random
//! interrupts and preemptions.
//!
//! Each case draws a [`Plan`]: one or two containers (finite or infinite capacity), one to
//! three priority or preemptive resources, one or two filter queues (bounded or not), one or
//! two signals, one or two barriers, and a few *actors*. An actor runs a random script of
//! operations: waits on any primitive (plain, masked, `FirstOf` of up to four branches of
//! which some may be `AllOf` groups, `AllOf`), the non-blocking variants (`try_get_amount`,
//! `try_put_amount`, `try_get_where`, `try_put`, `try_acquire`), releasing slots, firing
//! and resetting signals, releasing barriers by hand, and interrupting other actors. An
//! interrupted (or preempted) actor sometimes re-issues the request it was handed back.
//!
//! Every actor checks each wake against the command it answers: the right kind, the right
//! time for timers, and — for `First::others`, `First::taken`, `Interrupt::request` and
//! `Interrupt::taken` — that every wait it issued is accounted for exactly once, either as
//! satisfied (with a fitting outcome: the amount asked, an item its filter accepts, the
//! resource asked) or as handed back unchanged. What each wait did is written to a shared
//! [`Ledger`]: amounts put and got, items created, given, received and handed back, slots
//! held (and with which request key), every request with the instant it was made and left,
//! every signal firing and reset, every barrier release.
//!
//! The invariants, checked at the horizon of `run_until`, at quiescence, after every actor
//! has been shut down, and over the whole history at the end:
//! 1. conservation: a container's level is its initial level plus what was put minus what
//!    was got (within what pending `AllOf` branches may have moved unbeknownst to their
//!    process; exactly once nothing is pending); every item is exactly once received, in a
//!    queue, held by a blocked putter or owned by an actor;
//! 2. resources: never more slots in use than the capacity, never a negative level or one
//!    above capacity (both checked in every step); the engine's holders are the slots the
//!    actors believe they hold, up to preemptions not yet delivered (preemptive resources
//!    only) and grants to pending `AllOf` branches; no slot is held after shutdown; a
//!    preempted actor is told by whom, since when, and the preemptor's request was better;
//! 3. service order: a request is never served (nor a `try_*` allowed) while a request ahead
//!    of it in the same list (containers: arrival order; resources: level, then request
//!    time; filter queues: arrival order, when the earlier getter's filter accepts the item)
//!    waits on across the instant;
//! 4. quiescence: no event left and nobody waits who could be served: no container head
//!    that fits, no free slot beside a waiting request, no preempting head request better
//!    than a holder, no getter whose filter accepts an item in the queue, no putter beside
//!    room, no waiter on a fired signal, fewer than `n` parties at a barrier;
//! 5. signals: a waiter wakes at the instant of the first firing after it began waiting (at
//!    once if the signal had fired), with that firing's value; a cancelled firing (reset
//!    before it was processed) wakes nobody; barriers: no arrival waits across a release;
//! 6. determinism: the same plan and seed give the same trace, event for event.
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
    BarrierId, Boxed, Branches, Capacity, Command, ContainerId, Context, Filter, Interrupt,
    Outcome, Pid, Priority, Process, QueueId, Reason, ResourceId, SignalId, SignalValue,
    Simulation, Stream, TraceLog, Wake,
};

type Item = u64;
type Cause = u32;
type M = Boxed<Item, Cause>;
type W = Wake<Item, Cause>;
type Cmd = Command<Item>;

/// The cause of the interrupts that shut the model down at the end.
const SHUTDOWN: Cause = u32::MAX;

/// How many times an actor re-issues a request handed back by an interrupt, per operation.
const RESUMES: u32 = 2;

// ----- plans -----

/// One wait, with its primitive chosen by `Index` among those of the model.
#[derive(Clone, Debug)]
enum LeafPlan {
    Sleep(Delay),
    GetAmount(Index, u32),
    PutAmount(Index, u32),
    /// Queue, filter.
    GetWhere(Index, Index),
    Put(Index),
    /// Resource, level, preempt.
    Acquire(Index, u32, bool),
    Signal(Index),
    Arrive(Index),
}

#[derive(Clone, Debug)]
enum BranchPlan {
    Leaf(LeafPlan),
    All(Vec<LeafPlan>),
}

#[derive(Clone, Debug)]
enum OpPlan {
    /// A single wait; `resume`: re-issue the request if interrupted.
    Single(LeafPlan, bool),
    /// A masked wait (a sleep, signal, arrival, or an acquire while holding nothing; other
    /// waits are issued unmasked).
    Masked(LeafPlan),
    FirstOf(Vec<BranchPlan>, Option<Delay>, bool),
    AllOf(Vec<LeafPlan>, bool),
    TryGetAmount(Index, u32),
    TryPutAmount(Index, u32),
    TryGetWhere(Index, Index),
    TryPut(Index),
    TryAcquire(Index),
    Release(Index),
    ReleaseAll,
    /// Signal, how (trigger, succeed, fail), reset in the same step (cancelling it).
    Fire(Index, u32, bool),
    Reset(Index),
    ReleaseBarrier(Index),
    /// Target (any actor), burst.
    Interrupt(Index, u32),
}

#[derive(Clone, Debug)]
struct ActorPlan {
    ops: Vec<OpPlan>,
    leave_holding: bool,
}

#[derive(Clone, Debug)]
struct Plan {
    seed: u64,
    /// (capacity, `None` for infinite; initial level, clamped to the capacity).
    containers: Vec<(Option<u32>, u32)>,
    /// (preemptive?, capacity).
    resources: Vec<(bool, usize)>,
    /// Filter queues: capacity, `None` for unbounded.
    queues: Vec<Option<usize>>,
    signals: usize,
    /// Barrier parties.
    barriers: Vec<usize>,
    actors: Vec<ActorPlan>,
    horizon: f64,
}

fn leaf() -> impl Strategy<Value = LeafPlan> {
    prop_oneof![
        2 => delay().prop_map(LeafPlan::Sleep),
        3 => (any::<Index>(), 1u32..=4).prop_map(|(c, n)| LeafPlan::GetAmount(c, n)),
        3 => (any::<Index>(), 1u32..=4).prop_map(|(c, n)| LeafPlan::PutAmount(c, n)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(q, f)| LeafPlan::GetWhere(q, f)),
        3 => any::<Index>().prop_map(LeafPlan::Put),
        3 => (any::<Index>(), 0u32..4, prop::bool::weighted(0.7))
            .prop_map(|(r, l, p)| LeafPlan::Acquire(r, l, p)),
        3 => any::<Index>().prop_map(LeafPlan::Signal),
        2 => any::<Index>().prop_map(LeafPlan::Arrive),
    ]
}

fn branch() -> impl Strategy<Value = BranchPlan> {
    prop_oneof![
        3 => leaf().prop_map(BranchPlan::Leaf),
        2 => prop::collection::vec(leaf(), 1..=3).prop_map(BranchPlan::All),
    ]
}

/// One operation, or a few that belong together (acquire, hold, release).
fn op() -> impl Strategy<Value = Vec<OpPlan>> {
    let one = prop_oneof![
        5 => (leaf(), any::<bool>()).prop_map(|(l, r)| OpPlan::Single(l, r)),
        2 => leaf().prop_map(OpPlan::Masked),
        5 => (prop::collection::vec(branch(), 1..=3), prop::option::weighted(0.7, delay()), any::<bool>())
            .prop_map(|(b, t, r)| OpPlan::FirstOf(b, t, r)),
        3 => (prop::collection::vec(leaf(), 1..=3), any::<bool>()).prop_map(|(l, r)| OpPlan::AllOf(l, r)),
        1 => (any::<Index>(), 1u32..=4).prop_map(|(c, n)| OpPlan::TryGetAmount(c, n)),
        1 => (any::<Index>(), 1u32..=4).prop_map(|(c, n)| OpPlan::TryPutAmount(c, n)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(q, f)| OpPlan::TryGetWhere(q, f)),
        1 => any::<Index>().prop_map(OpPlan::TryPut),
        1 => any::<Index>().prop_map(OpPlan::TryAcquire),
        1 => any::<Index>().prop_map(OpPlan::Release),
        1 => Just(OpPlan::ReleaseAll),
        3 => (any::<Index>(), 0u32..3, prop::bool::weighted(0.2)).prop_map(|(s, k, c)| OpPlan::Fire(s, k, c)),
        1 => any::<Index>().prop_map(OpPlan::Reset),
        1 => any::<Index>().prop_map(OpPlan::ReleaseBarrier),
        3 => (any::<Index>(), 1u32..=2).prop_map(|(t, b)| OpPlan::Interrupt(t, b)),
    ]
    .prop_map(|op| vec![op]);
    // Take a slot (plainly, masked, or with a timeout), hold it a while, give it back.
    let use_slot = (
        any::<Index>(),
        0u32..4,
        prop::bool::weighted(0.7),
        0u32..3,
        delay(),
        delay(),
        any::<bool>(),
    )
        .prop_map(|(r, level, preempt, how, timeout, hold, masked_hold)| {
            let acquire = LeafPlan::Acquire(r, level, preempt);
            let wait = match how {
                0 => OpPlan::Single(acquire, true),
                1 => OpPlan::Masked(acquire),
                _ => OpPlan::FirstOf(vec![BranchPlan::Leaf(acquire)], Some(timeout), false),
            };
            let hold = if masked_hold {
                OpPlan::Masked(LeafPlan::Sleep(hold))
            } else {
                OpPlan::Single(LeafPlan::Sleep(hold), true)
            };
            vec![wait, hold, OpPlan::Release(r)]
        });
    prop_oneof![5 => one, 2 => use_slot]
}

fn actor() -> impl Strategy<Value = ActorPlan> {
    (prop::collection::vec(op(), 1..=8), any::<bool>()).prop_map(|(ops, leave_holding)| ActorPlan {
        ops: ops.into_iter().flatten().collect(),
        leave_holding,
    })
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        any::<u64>(),
        prop::collection::vec((prop::option::weighted(0.8, 2u32..=8), 0u32..=6), 1..=2),
        prop::collection::vec((any::<bool>(), 1usize..=2), 1..=3),
        prop::collection::vec(prop::option::of(1usize..=3), 1..=2),
        1usize..=2,
        prop::collection::vec(1usize..=3, 1..=2),
        prop::collection::vec(actor(), 2..=7),
        5u32..30,
    )
        .prop_map(
            |(seed, containers, resources, queues, signals, barriers, actors, horizon)| Plan {
                seed,
                containers,
                resources,
                queues,
                signals,
                barriers,
                actors,
                horizon: f64::from(horizon),
            },
        )
}

// ----- the ledger: what the actors believe and did -----

/// A resource request's key, as the engine orders requests: level, request time, whether
/// it may not preempt; `seq` (the order of issue) breaks ties FIFO.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key {
    level: f64,
    time: f64,
    no_preempt: bool,
    seq: u64,
}

impl Key {
    /// The engine's comparison (without `seq`).
    fn cmp_engine(&self, other: &Key) -> std::cmp::Ordering {
        self.level
            .total_cmp(&other.level)
            .then(self.time.total_cmp(&other.time))
            .then(self.no_preempt.cmp(&other.no_preempt))
    }

    /// The position in the wait list.
    fn cmp_list(&self, other: &Key) -> std::cmp::Ordering {
        self.cmp_engine(other).then(self.seq.cmp(&other.seq))
    }
}

/// Which waiting list a request joins.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Prim {
    /// Container, amount.
    Get(usize, f64),
    Put(usize, f64),
    /// Resource, key.
    Acquire(usize, Key),
    /// Queue, filter.
    Where(usize, usize),
    /// A put into a filter queue.
    QPut(usize),
    Signal(usize),
    Arrive(usize),
}

impl Prim {
    /// The waiting list, for comparing requests: (kind, primitive).
    fn list(&self) -> (u8, usize) {
        match *self {
            Prim::Get(c, _) => (0, c),
            Prim::Put(c, _) => (1, c),
            Prim::Acquire(r, _) => (2, r),
            Prim::Where(q, _) => (3, q),
            Prim::QPut(q) => (4, q),
            Prim::Signal(s) => (5, s),
            Prim::Arrive(b) => (6, b),
        }
    }
}

/// One request: a wait (or `AllOf` branch) of one command.
#[derive(Clone, Debug)]
struct Req {
    prim: Prim,
    actor: usize,
    pid: Pid,
    /// The instant it was issued, and the order of issue.
    time: f64,
    seq: u64,
    /// A branch of an `AllOf` group: when it was satisfied is unknown (at the latest when
    /// its process learned of it).
    in_allof: bool,
    /// When it was served or withdrawn (`None`: still pending).
    leave: Option<f64>,
    served: bool,
    item: Option<Item>,
    value: Option<SignalValue<Item>>,
}

impl Req {
    /// Waits on across `t`: issued strictly before and left strictly after (or pending).
    fn waits_across(&self, t: f64) -> bool {
        self.time < t && self.leave.is_none_or(|l| l > t)
    }

    fn list_key(&self) -> Key {
        match self.prim {
            Prim::Acquire(_, k) => k,
            _ => Key {
                level: 0.0,
                time: self.time,
                no_preempt: false,
                seq: self.seq,
            },
        }
    }
}

#[derive(Clone, Debug)]
struct Firing {
    signal: usize,
    time: f64,
    value: SignalValue<Item>,
    /// Reset before its firing was processed: nobody may wake from it.
    cancelled: bool,
}

#[derive(Default)]
struct Ledger {
    containers: Vec<ContainerId>,
    initial: Vec<f64>,
    capacity: Vec<f64>,
    put: Vec<f64>,
    got: Vec<f64>,
    resources: Vec<ResourceId>,
    preemptive: Vec<bool>,
    queues: Vec<QueueId>,
    filters: Vec<Filter<Item>>,
    signals: Vec<SignalId>,
    barriers: Vec<BarrierId>,
    parties: Vec<usize>,
    pids: Vec<Pid>,

    next_item: Item,
    created: BTreeSet<Item>,
    /// Item -> the actor that received it.
    received: BTreeMap<Item, usize>,
    /// Item -> the actor holding it outside the simulation.
    owned: BTreeMap<Item, usize>,

    /// The slots the actors believe they hold, with their request keys.
    holds: BTreeMap<(usize, Pid), Key>,

    seq: u64,
    reqs: Vec<Req>,
    /// Successful non-blocking operations: (the list they bypassed, when).
    tries: Vec<((u8, usize), f64)>,
    firings: Vec<Firing>,
    next_value: Item,
    /// (signal, when) for resets of a fired signal.
    resets: Vec<(usize, f64)>,
    /// (barrier, when) for every instant a barrier released waiting parties.
    releases: Vec<(usize, f64)>,
    shutdown: bool,
}

impl Ledger {
    fn create(&mut self, actor: usize) -> Item {
        self.next_item += 1;
        let item = self.next_item;
        self.created.insert(item);
        self.owned.insert(item, actor);
        item
    }

    fn take_back(&mut self, actor: usize, item: Item) {
        assert!(self.created.contains(&item), "item {item} never created");
        let before = self.owned.insert(item, actor);
        assert!(
            before.is_none(),
            "item {item} handed back to #{actor} but owned by #{before:?}"
        );
    }

    fn give(&mut self, actor: usize, item: Item) {
        assert_eq!(
            self.owned.remove(&item),
            Some(actor),
            "#{actor} gives item {item} it does not own"
        );
    }

    fn receive(&mut self, actor: usize, item: Item) {
        assert!(self.created.contains(&item), "item {item} never created");
        let before = self.received.insert(item, actor);
        assert!(
            before.is_none(),
            "item {item} received by #{actor}, and before by #{before:?}"
        );
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn container(&self, c: ContainerId) -> usize {
        self.containers.iter().position(|&x| x == c).unwrap()
    }
    fn resource(&self, r: ResourceId) -> usize {
        self.resources.iter().position(|&x| x == r).unwrap()
    }
    fn queue(&self, q: QueueId) -> usize {
        self.queues.iter().position(|&x| x == q).unwrap()
    }
    fn filter(&self, f: &Filter<Item>) -> usize {
        self.filters.iter().position(|x| x == f).unwrap()
    }
    fn signal(&self, s: SignalId) -> usize {
        self.signals.iter().position(|&x| x == s).unwrap()
    }
    fn barrier(&self, b: BarrierId) -> usize {
        self.barriers.iter().position(|&x| x == b).unwrap()
    }

    /// Pending requests (oldest first).
    fn pending(&self) -> impl Iterator<Item = &Req> {
        self.reqs.iter().filter(|r| r.leave.is_none())
    }
}

// ----- matching wakes to commands -----

/// The single wait of a non-`FirstOf`, non-`AllOf` command.
fn single_wait(cmd: &Cmd) -> Option<Cmd> {
    match cmd {
        Command::FirstOf(_)
        | Command::AllOf(_)
        | Command::Attend(_)
        | Command::Resume(_)
        | Command::Done => None,
        other => Some(other.clone().unmasked()),
    }
}

/// Every wait of a command, flattened, with whether it is an `AllOf` branch.
fn leaves(cmd: &Cmd) -> Vec<(Cmd, bool)> {
    let mut out = Vec::new();
    match cmd {
        Command::FirstOf(branches) => {
            for b in branches.to_vec() {
                match b {
                    Command::AllOf(all) => out.extend(all.to_vec().into_iter().map(|w| (w, true))),
                    w => out.push((w, false)),
                }
            }
        }
        Command::AllOf(all) => out.extend(all.to_vec().into_iter().map(|w| (w, true))),
        Command::Done => {}
        other => out.push((single_wait(other).unwrap(), false)),
    }
    out
}

fn single_outcome(wake: &W) -> Option<Outcome<Item>> {
    Some(match wake {
        Wake::Completed(Outcome::Slept) => Outcome::Slept,
        Wake::Completed(Outcome::Got(item)) => Outcome::Got(*item),
        Wake::Completed(Outcome::Put) => Outcome::Put,
        Wake::Completed(Outcome::Acquired(r)) => Outcome::Acquired(*r),
        Wake::Completed(Outcome::Joined(p, e)) => Outcome::Joined(*p, e.clone()),
        Wake::Completed(Outcome::GotAmount(c, n)) => Outcome::GotAmount(*c, *n),
        Wake::Completed(Outcome::PutAmount(c, n)) => Outcome::PutAmount(*c, *n),
        Wake::Completed(Outcome::Signaled(s, v)) => Outcome::Signaled(*s, v.clone()),
        Wake::Completed(Outcome::Released(b)) => Outcome::Released(*b),
        _ => return None,
    })
}

/// A satisfied wait: the wait, its outcome, whether it was an `AllOf` branch.
type Completion = (Cmd, Outcome<Item>, bool);

/// A withdrawn wait, handed back: the wait, whether it was an `AllOf` branch.
type Withdrawn = (Cmd, bool);

/// Matches losing (or withdrawn) top-level branches `issued` against what came back:
/// `returned` (each as issued; an `AllOf` group with only its unsatisfied waits) and
/// `taken` (the outcomes of the satisfied waits of those groups, in order).
fn match_losers_exactly(
    issued: &[Cmd],
    returned: &[Cmd],
    taken: &[Outcome<Item>],
    done: &mut Vec<Completion>,
    withdrawn: &mut Vec<Withdrawn>,
) -> Result<(), String> {
    if issued.len() != returned.len() {
        return Err(format!(
            "{} branches issued, {} handed back",
            issued.len(),
            returned.len()
        ));
    }
    let mut taken = taken.iter();
    for (b, o) in issued.iter().zip(returned) {
        match (b, o) {
            (Command::AllOf(all), Command::AllOf(rest)) => {
                // Which waits were withdrawn (in order, `rest`) and which satisfied (in
                // order, the next outcomes of `taken`): try every split.
                let (all, rest) = (all.to_vec(), rest.to_vec());
                let n_taken = all
                    .len()
                    .checked_sub(rest.len())
                    .ok_or("too much handed back")?;
                let outcomes: Vec<&Outcome<Item>> = taken.by_ref().take(n_taken).collect();
                if outcomes.len() != n_taken {
                    return Err(format!("{all:?} neither handed back nor taken"));
                }
                let split = (0u32..1 << all.len()).find(|mask| {
                    let back: Vec<&Cmd> = (0..all.len())
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| &all[i])
                        .collect();
                    let sat: Vec<&Cmd> = (0..all.len())
                        .filter(|i| mask & (1 << i) == 0)
                        .map(|i| &all[i])
                        .collect();
                    back.len() == rest.len()
                        && back.iter().zip(&rest).all(|(a, b)| *a == b)
                        && sat.iter().zip(&outcomes).all(|(w, o)| fits(w, o))
                });
                let Some(mask) = split else {
                    return Err(format!(
                        "{all:?}: {rest:?} handed back and {outcomes:?} taken do not add up"
                    ));
                };
                let mut outcomes = outcomes.into_iter();
                for (i, w) in all.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        withdrawn.push((w.clone(), true));
                    } else {
                        done.push((w.clone(), outcomes.next().unwrap().clone(), true));
                    }
                }
            }
            (w, o) if w == o => withdrawn.push((w.clone(), false)),
            (w, o) => return Err(format!("issued {w:?}, handed back {o:?}")),
        }
    }
    if let Some(extra) = taken.next() {
        return Err(format!("taken {extra:?} from no satisfied wait"));
    }
    Ok(())
}

/// Whether an outcome can be what a wait produced.
fn fits(wait: &Cmd, outcome: &Outcome<Item>) -> bool {
    match (wait, outcome) {
        (Command::Sleep(_), Outcome::Slept) | (Command::Put(..), Outcome::Put) => true,
        (Command::GetAmount(c, n), Outcome::GotAmount(d, m))
        | (Command::PutAmount(c, n), Outcome::PutAmount(d, m)) => c == d && n == m,
        (Command::GetWhere(_, f), Outcome::Got(item)) => f.matches(item),
        (Command::AcquireWith(r, _), Outcome::Acquired(s)) => r == s,
        (Command::Signal(s), Outcome::Signaled(t, _)) => s == t,
        (Command::Arrive(b), Outcome::Released(c)) => b == c,
        _ => false,
    }
}

/// What `wake` says became of every wait of `cmd` (issued at `since`; now `now`).
fn analyze(
    cmd: &Cmd,
    wake: &W,
    since: f64,
    now: f64,
) -> Result<(Vec<Completion>, Vec<Withdrawn>), String> {
    let mut done = Vec::new();
    let mut withdrawn = Vec::new();
    let interrupt = match wake {
        Wake::Interrupted(i) => Some((&i.request, &i.taken, i.waited)),
        _ => None,
    };
    if let Some((request, taken, waited)) = interrupt {
        if !cmd.is_interruptible() {
            return Err("an uninterruptible command was interrupted".into());
        }
        if waited != now - since {
            return Err(format!("waited {waited}, but issued at {since}"));
        }
        match (cmd, request) {
            (Command::FirstOf(issued), Command::FirstOf(back)) => match_losers_exactly(
                &issued.to_vec(),
                &back.to_vec(),
                taken,
                &mut done,
                &mut withdrawn,
            )?,
            (Command::AllOf(issued), Command::AllOf(back)) => match_losers_exactly(
                &[Command::AllOf(issued.clone())],
                &[Command::AllOf(back.clone())],
                taken,
                &mut done,
                &mut withdrawn,
            )?,
            (c, r) if c == r && taken.is_empty() => {
                withdrawn.push((single_wait(c).unwrap(), false))
            }
            (c, r) => return Err(format!("issued {c:?}, handed back {r:?} taken {taken:?}")),
        }
        return Ok((done, withdrawn));
    }
    match (cmd, wake) {
        (Command::FirstOf(branches), Wake::First(first)) => {
            let branches = branches.to_vec();
            let Some(winner) = branches.get(first.index) else {
                return Err(format!("no branch {}", first.index));
            };
            match (winner, &first.outcome) {
                (Command::AllOf(all), Outcome::All(outcomes)) => {
                    if all.len() != outcomes.len() {
                        return Err("an AllOf won with the wrong number of outcomes".into());
                    }
                    for (w, o) in all.to_vec().iter().zip(outcomes) {
                        done.push((w.clone(), o.clone(), true));
                    }
                }
                (w, o) => done.push((w.clone(), o.clone(), false)),
            }
            let losers: Vec<Cmd> = branches
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != first.index)
                .map(|(_, w)| w.clone())
                .collect();
            match_losers_exactly(
                &losers,
                &first.others.to_vec(),
                &first.taken,
                &mut done,
                &mut withdrawn,
            )?;
        }
        (Command::AllOf(all), Wake::Completed(Outcome::All(outcomes))) => {
            if all.len() != outcomes.len() {
                return Err("AllOf completed with the wrong number of outcomes".into());
            }
            for (w, o) in all.to_vec().iter().zip(outcomes) {
                done.push((w.clone(), o.clone(), true));
            }
        }
        (Command::FirstOf(_) | Command::AllOf(_) | Command::Done, _) => {
            return Err("wrong kind of wake".into());
        }
        (cmd, wake) => {
            let (Some(w), Some(o)) = (single_wait(cmd), single_outcome(wake)) else {
                return Err("wrong kind of wake".into());
            };
            done.push((w, o, false));
        }
    }
    Ok((done, withdrawn))
}

// ----- actors -----

/// A slot an actor believes it holds.
#[derive(Clone, Copy, Debug)]
struct Hold {
    /// When it got the slot (unknown for an `AllOf` branch).
    since: Option<f64>,
    key: Key,
}

struct Actor {
    id: usize,
    ops: VecDeque<OpPlan>,
    leave_holding: bool,
    /// The command it answered last, and when it was issued.
    last: Option<(Cmd, f64)>,
    /// The waits of the last command not yet accounted for, with their `Ledger::reqs`
    /// index.
    outstanding: Vec<(Cmd, bool, Option<usize>)>,
    /// Re-issue the current operation's request if interrupted, this many more times.
    resumes_left: u32,
    held: BTreeMap<usize, Hold>,
    /// Slots lost to preemption whose `Wake::Preempted` has not arrived yet.
    preempted: Vec<(usize, Hold)>,
    rng: Stream,
    ledger: Rc<RefCell<Ledger>>,
}

impl Process<M> for Actor {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        let ledger = self.ledger.clone();
        let mut lg = ledger.borrow_mut();
        let now = cx.now();
        let me = cx.pid();
        check_levels(cx, &lg);
        self.reconcile(cx, &mut lg, me);
        let handed_back = match self.last.take() {
            None => {
                assert_eq!(wake, Wake::Started, "#{}: first wake", self.id);
                None
            }
            Some((cmd, since)) => self.settle(cx, &mut lg, me, &cmd, since, &wake),
        };
        let command = if lg.shutdown {
            self.finish(cx, &mut lg, me)
        } else {
            match handed_back {
                Some(request) if self.resumes_left > 0 => {
                    self.resumes_left -= 1;
                    hit("a handed-back request re-issued");
                    request
                }
                _ => self.next(cx, &mut lg, me),
            }
        };
        assert!(cx.error().is_none(), "#{}: {:?}", self.id, cx.error());
        check_levels(cx, &lg);
        self.issued(&mut lg, me, &command, now);
        self.last = Some((command.clone(), now));
        command
    }
}

/// In every step: container levels within `0..=capacity`, resources within capacity.
fn check_levels(cx: &Context<'_, M>, lg: &Ledger) {
    for &c in &lg.containers {
        let v = cx.container_view(c).unwrap();
        assert!(
            v.level() >= 0.0 && v.level() <= v.capacity(),
            "{c}: level {} of {}",
            v.level(),
            v.capacity()
        );
    }
    for &r in &lg.resources {
        let v = cx.resource_view(r).unwrap();
        assert!(v.in_use() <= v.capacity(), "{r} over capacity");
    }
}

impl Actor {
    /// Slots the engine no longer gives this actor were preempted: the wake saying so may
    /// still be on its way (a masked wait, a satisfied wait), but the slot is gone.
    fn reconcile(&mut self, cx: &Context<'_, M>, lg: &mut Ledger, me: Pid) {
        let lost: Vec<usize> = self
            .held
            .keys()
            .copied()
            .filter(|&ri| !cx.resource_view(lg.resources[ri]).unwrap().is_held_by(me))
            .collect();
        for ri in lost {
            assert!(
                lg.preemptive[ri],
                "#{}: lost a slot of non-preemptive resource {ri}",
                self.id
            );
            hit("a slot found preempted before the wake said so");
            let hold = self.held.remove(&ri).unwrap();
            lg.holds.remove(&(ri, me));
            self.preempted.push((ri, hold));
        }
    }

    /// Records a command about to be issued: its requests, and the items its puts give.
    fn issued(&mut self, lg: &mut Ledger, me: Pid, command: &Cmd, now: f64) {
        assert!(self.outstanding.is_empty());
        for (wait, in_allof) in leaves(command) {
            let seq = lg.next_seq();
            let prim = match &wait {
                Command::Sleep(_) => None,
                Command::GetAmount(c, n) => Some(Prim::Get(lg.container(*c), *n)),
                Command::PutAmount(c, n) => Some(Prim::Put(lg.container(*c), *n)),
                Command::GetWhere(q, f) => Some(Prim::Where(lg.queue(*q), lg.filter(f))),
                Command::Put(q, item) => {
                    lg.give(self.id, *item);
                    Some(Prim::QPut(lg.queue(*q)))
                }
                Command::AcquireWith(r, p) => Some(Prim::Acquire(
                    lg.resource(*r),
                    Key {
                        level: p.level,
                        time: now,
                        no_preempt: !p.preempt,
                        seq,
                    },
                )),
                Command::Signal(s) => Some(Prim::Signal(lg.signal(*s))),
                Command::Arrive(b) => Some(Prim::Arrive(lg.barrier(*b))),
                other => panic!("never issued: {other:?}"),
            };
            let index = prim.map(|prim| {
                lg.reqs.push(Req {
                    prim,
                    actor: self.id,
                    pid: me,
                    time: now,
                    seq,
                    in_allof,
                    leave: None,
                    served: false,
                    item: None,
                    value: None,
                });
                lg.reqs.len() - 1
            });
            self.outstanding.push((wait, in_allof, index));
        }
    }

    fn take_outstanding(&mut self, wait: &Cmd, in_allof: bool) -> Option<usize> {
        let at = self
            .outstanding
            .iter()
            .position(|(w, a, _)| w == wait && *a == in_allof)
            .unwrap_or_else(|| panic!("#{}: {wait:?} was not issued", self.id));
        self.outstanding.remove(at).2
    }

    /// Accounts for everything the wake reports; returns the request handed back by an
    /// interrupt or preemption.
    fn settle(
        &mut self,
        cx: &Context<'_, M>,
        lg: &mut Ledger,
        me: Pid,
        cmd: &Cmd,
        since: f64,
        wake: &W,
    ) -> Option<Cmd> {
        let now = cx.now();
        let id = self.id;
        let (done, withdrawn) = analyze(cmd, wake, since, now)
            .unwrap_or_else(|e| panic!("#{id} at t={now}: {wake:?} answers {cmd:?}: {e}"));
        match wake {
            Wake::First(f) if !f.taken.is_empty() => {
                hit("a losing AllOf branch handed back what it took");
            }
            Wake::First(f) if matches!(f.outcome, Outcome::All(_)) => hit("an AllOf branch won"),
            Wake::Completed(Outcome::All(_)) => hit("an AllOf completed"),
            _ => {}
        }
        // The resource a preemption took a slot of: a satisfied `AllOf` branch's slot of it
        // may be reported in `taken`, gone.
        let lost = match wake {
            Wake::Interrupted(
                p @ Interrupt {
                    cause: Reason::Preempted(_),
                    ..
                },
            ) => Some(p.preempted().expect("a preemption").resource),
            _ => None,
        };
        for (wait, outcome, in_allof) in done {
            let req = self.take_outstanding(&wait, in_allof);
            let lost = lost.filter(|_| in_allof);
            self.complete(cx, lg, me, (wait, outcome), in_allof, req, since, lost);
        }
        for (wait, in_allof) in withdrawn {
            let req = self.take_outstanding(&wait, in_allof);
            if let Command::Put(_, item) = wait {
                lg.take_back(id, item);
            }
            if let Some(r) = req {
                lg.reqs[r].leave = Some(now);
            }
        }
        assert!(
            self.outstanding.is_empty(),
            "#{id}: unaccounted {:?}",
            self.outstanding
        );
        if matches!(cmd, Command::Masked(_)) {
            hit("a masked wait completed");
        }
        match wake {
            Wake::Interrupted(
                p @ Interrupt {
                    cause: Reason::Preempted(_),
                    ..
                },
            ) => {
                let ri = lg.resource(p.preempted().expect("a preemption").resource);
                assert!(lg.preemptive[ri], "#{id}: preempted on a priority resource");
                assert_ne!(
                    p.preempted().expect("a preemption").by,
                    me,
                    "#{id}: preempted by itself"
                );
                let at = self
                    .preempted
                    .iter()
                    .position(|(r, h)| {
                        *r == ri
                            && h.since
                                .is_none_or(|s| s == p.preempted().expect("a preemption").since)
                    })
                    .unwrap_or_else(|| {
                        panic!(
                            "#{id} at t={now}: {:?} for no slot it lost ({:?}, holds {:?})",
                            p.cause, self.preempted, self.held
                        )
                    });
                let (_, hold) = self.preempted.remove(at);
                assert!(p.preempted().expect("a preemption").since <= now);
                // The preemptor asked for this resource, preempting, with a better key.
                let better = lg.reqs.iter().any(|r| {
                    r.pid == p.preempted().expect("a preemption").by
                        && r.time <= now
                        && matches!(r.prim, Prim::Acquire(x, k)
                            if x == ri && !k.no_preempt
                            && hold.key.cmp_engine(&k) == std::cmp::Ordering::Greater)
                });
                assert!(
                    better,
                    "#{id} at t={now}: preempted by {:?}, which never made a better request",
                    p.preempted().expect("a preemption").by
                );
                hit(if p.waited > 0.0 {
                    "a preemption withdrew a wait"
                } else {
                    "a preemption delivered at a new wait"
                });
                Some(p.request.clone())
            }
            Wake::Interrupted(i) => {
                hit(if i.waited > 0.0 {
                    "an interrupt withdrew a wait"
                } else {
                    "an interrupt landed at once (queued, or at a new wait)"
                });
                if !i.taken.is_empty() {
                    hit("an interrupted AllOf handed back what it took");
                }
                Some(i.request.clone())
            }
            _ => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        cx: &Context<'_, M>,
        lg: &mut Ledger,
        me: Pid,
        (wait, outcome): (Cmd, Outcome<Item>),
        in_allof: bool,
        req: Option<usize>,
        since: f64,
        lost: Option<ResourceId>,
    ) {
        let now = cx.now();
        let id = self.id;
        let bad = || panic!("#{id} at t={now}: {wait:?} satisfied with {outcome:?}");
        if let Some(r) = req {
            lg.reqs[r].leave = Some(now);
            lg.reqs[r].served = true;
        }
        match (&wait, &outcome) {
            (Command::Sleep(dt), Outcome::Slept) => {
                if in_allof {
                    assert!(since + dt <= now, "#{id}: AllOf slept {dt} from {since}");
                } else {
                    assert_eq!(now, since + dt, "#{id}: slept {dt} from {since}");
                }
            }
            (Command::GetAmount(c, n), Outcome::GotAmount(c2, n2)) if c == c2 && n == n2 => {
                hit("a container get served");
                let ci = lg.container(*c);
                lg.got[ci] += n;
            }
            (Command::PutAmount(c, n), Outcome::PutAmount(c2, n2)) if c == c2 && n == n2 => {
                hit("a container put served");
                let ci = lg.container(*c);
                lg.put[ci] += n;
            }
            (Command::GetWhere(_, f), Outcome::Got(item)) => {
                assert!(
                    f.matches(item),
                    "#{id}: got {item}, which its filter rejects"
                );
                hit("a filtered get served");
                lg.receive(id, *item);
                lg.reqs[req.unwrap()].item = Some(*item);
            }
            (Command::Put(..), Outcome::Put) => {}
            (Command::AcquireWith(r, _), Outcome::Acquired(r2)) if r == r2 => {
                let ri = lg.resource(*r);
                let Prim::Acquire(_, key) = lg.reqs[req.unwrap()].prim else {
                    unreachable!()
                };
                assert!(!self.held.contains_key(&ri), "#{id} holds {r} twice");
                let hold = Hold {
                    since: (!in_allof).then_some(now),
                    key,
                };
                hit(if lg.preemptive[ri] {
                    "a preemptive resource granted a slot"
                } else {
                    "a priority resource granted a slot"
                });
                if cx.resource_view(*r).unwrap().is_held_by(me) {
                    self.held.insert(ri, hold);
                    lg.holds.insert((ri, me), key);
                } else {
                    assert!(
                        lg.preemptive[ri],
                        "#{id}: acquired {r} but does not hold it"
                    );
                    // Preempted after the wake was delivered, before this step looked.
                    assert!(
                        lost == Some(*r),
                        "#{id} at t={now}: {wait:?} satisfied with {outcome:?}, but the slot \
                         is not held"
                    );
                    hit("acquired a slot already preempted");
                    self.preempted.push((ri, hold));
                }
            }
            (Command::Signal(s), Outcome::Signaled(s2, v)) if s == s2 => {
                hit(match v {
                    Ok(None) => "a signal wait triggered",
                    Ok(Some(_)) => "a signal wait succeeded with a value",
                    Err(_) => "a signal wait failed",
                });
                lg.reqs[req.unwrap()].value = Some(v.clone());
            }
            (Command::Arrive(b), Outcome::Released(b2)) if b == b2 => {
                hit("a barrier released a party");
                if !in_allof {
                    let bi = lg.barrier(*b);
                    lg.releases.push((bi, now));
                }
            }
            _ => bad(),
        }
    }

    /// The next operation's command, carrying out the non-blocking ones on the way.
    fn next(&mut self, cx: &mut Context<'_, M>, lg: &mut Ledger, me: Pid) -> Cmd {
        while let Some(op) = self.ops.pop_front() {
            if let Some(cmd) = self.op(cx, lg, me, op) {
                return cmd;
            }
        }
        self.finish(cx, lg, me)
    }

    fn finish(&mut self, cx: &mut Context<'_, M>, lg: &mut Ledger, me: Pid) -> Cmd {
        if !self.preempted.is_empty() {
            hit("finished before a preemption was delivered");
        }
        if self.leave_holding {
            if !self.held.is_empty() {
                hit("slots left to the automatic release");
            }
            for (ri, _) in std::mem::take(&mut self.held) {
                lg.holds.remove(&(ri, me));
            }
        } else {
            self.release_all(cx, lg, me);
        }
        Command::Done
    }

    fn release_all(&mut self, cx: &mut Context<'_, M>, lg: &mut Ledger, me: Pid) {
        for (ri, _) in std::mem::take(&mut self.held) {
            cx.release(lg.resources[ri]);
            assert!(cx.error().is_none(), "#{}: {:?}", self.id, cx.error());
            lg.holds.remove(&(ri, me));
        }
    }

    /// Carries out one operation: `Some(command)` for a wait.
    fn op(&mut self, cx: &mut Context<'_, M>, lg: &mut Ledger, me: Pid, op: OpPlan) -> Option<Cmd> {
        let now = cx.now();
        let id = self.id;
        let mut used = Used::default();
        match op {
            OpPlan::Single(leaf, resume) => {
                let wait = self.wait(lg, &leaf, &mut used)?;
                self.resumes_left = if resume { RESUMES } else { 0 };
                Some(wait)
            }
            OpPlan::Masked(leaf) => {
                let maskable = match leaf {
                    LeafPlan::Sleep(_) | LeafPlan::Signal(_) | LeafPlan::Arrive(_) => true,
                    // Masked acquires only while holding nothing: no deadlock.
                    LeafPlan::Acquire(..) => self.held.is_empty(),
                    _ => false,
                };
                let wait = self.wait(lg, &leaf, &mut used)?;
                self.resumes_left = 0;
                Some(if maskable { wait.masked() } else { wait })
            }
            OpPlan::FirstOf(branches, timeout, resume) => {
                let mut waits = Branches::new();
                for b in &branches {
                    match b {
                        BranchPlan::Leaf(l) => {
                            if let Some(w) = self.wait(lg, l, &mut used) {
                                waits.push(w);
                            }
                        }
                        BranchPlan::All(ls) => {
                            let all: Branches<Item> = ls
                                .iter()
                                .filter_map(|l| self.wait(lg, l, &mut used))
                                .collect();
                            if !all.is_empty() {
                                waits.push(Command::AllOf(all));
                            }
                        }
                    }
                }
                if let Some(t) = timeout {
                    waits.push(Command::Sleep(t.draw(&mut self.rng)));
                }
                if waits.is_empty() {
                    return None;
                }
                self.resumes_left = if resume { RESUMES } else { 0 };
                Some(Command::FirstOf(waits))
            }
            OpPlan::AllOf(ls, resume) => {
                let all: Branches<Item> = ls
                    .iter()
                    .filter_map(|l| self.wait(lg, l, &mut used))
                    .collect();
                if all.is_empty() {
                    return None;
                }
                self.resumes_left = if resume { RESUMES } else { 0 };
                Some(Command::AllOf(all))
            }
            OpPlan::TryGetAmount(c, n) => {
                let ci = c.index(lg.containers.len());
                let amount = f64::from(n).min(lg.capacity[ci]);
                if cx.try_get_amount(lg.containers[ci], amount) {
                    hit("try_get_amount took");
                    lg.got[ci] += amount;
                    lg.tries.push(((0, ci), now));
                }
                None
            }
            OpPlan::TryPutAmount(c, n) => {
                let ci = c.index(lg.containers.len());
                let amount = f64::from(n).min(lg.capacity[ci]);
                if cx.try_put_amount(lg.containers[ci], amount) {
                    hit("try_put_amount put");
                    lg.put[ci] += amount;
                    lg.tries.push(((1, ci), now));
                }
                None
            }
            OpPlan::TryGetWhere(q, f) => {
                let qi = q.index(lg.queues.len());
                let filter = lg.filters[f.index(lg.filters.len())].clone();
                if let Some(item) = cx.try_get_where(lg.queues[qi], &filter) {
                    hit("try_get_where took");
                    assert!(filter.matches(&item));
                    lg.receive(id, item);
                    lg.tries.push(((3, qi), now));
                }
                None
            }
            OpPlan::TryPut(q) => {
                let qi = q.index(lg.queues.len());
                let item = lg.create(id);
                lg.give(id, item);
                match cx.try_put(lg.queues[qi], item) {
                    Ok(()) => {
                        hit("try_put placed");
                        lg.tries.push(((4, qi), now));
                    }
                    Err(back) => {
                        assert_eq!(back, item);
                        lg.take_back(id, item);
                    }
                }
                None
            }
            OpPlan::TryAcquire(r) => {
                let ri = r.index(lg.resources.len());
                if !self.held.contains_key(&ri) && cx.try_acquire(lg.resources[ri]) {
                    hit("try_acquire took a slot");
                    let key = Key {
                        level: 0.0,
                        time: now,
                        no_preempt: false,
                        seq: lg.next_seq(),
                    };
                    self.held.insert(
                        ri,
                        Hold {
                            since: Some(now),
                            key,
                        },
                    );
                    lg.holds.insert((ri, me), key);
                    lg.tries.push(((2, ri), now));
                }
                None
            }
            OpPlan::Release(r) => {
                let ri = r.index(lg.resources.len());
                if self.held.remove(&ri).is_some() {
                    cx.release(lg.resources[ri]);
                    lg.holds.remove(&(ri, me));
                }
                None
            }
            OpPlan::ReleaseAll => {
                self.release_all(cx, lg, me);
                None
            }
            OpPlan::Fire(s, how, cancel) => {
                let si = s.index(lg.signals.len());
                let sid = lg.signals[si];
                if cx.signal_view(sid).unwrap().is_pending() {
                    lg.next_value += 1;
                    let k = lg.next_value;
                    let value: SignalValue<Item> = match how {
                        0 => {
                            cx.trigger(sid);
                            Ok(None)
                        }
                        1 => {
                            cx.succeed(sid, 1_000_000 + k);
                            Ok(Some(1_000_000 + k))
                        }
                        _ => {
                            let reason = format!("failure {k}");
                            cx.fail_signal(sid, reason.as_str());
                            Err(reason.into())
                        }
                    };
                    if cancel {
                        hit("a firing cancelled by a reset");
                        cx.reset_signal(sid);
                    }
                    lg.firings.push(Firing {
                        signal: si,
                        time: now,
                        value,
                        cancelled: cancel,
                    });
                }
                None
            }
            OpPlan::Reset(s) => {
                let si = s.index(lg.signals.len());
                let view = cx.signal_view(lg.signals[si]).unwrap();
                let (pending, fired) = (view.is_pending(), view.has_fired());
                record_reset(lg, si, pending, fired, now);
                cx.reset_signal(lg.signals[si]);
                None
            }
            OpPlan::ReleaseBarrier(b) => {
                let bi = b.index(lg.barriers.len());
                if cx.barrier_view(lg.barriers[bi]).unwrap().waiting() > 0 {
                    hit("a barrier released by hand");
                }
                cx.release_barrier(lg.barriers[bi]);
                lg.releases.push((bi, now));
                None
            }
            OpPlan::Interrupt(target, burst) => {
                let target = lg.pids[target.index(lg.pids.len())];
                if target != me {
                    for k in 0..burst {
                        let finished = cx.is_finished(target).unwrap();
                        let landed = cx.interrupt(target, k);
                        assert_eq!(landed, !finished, "interrupting {target:?}");
                    }
                }
                None
            }
        }
    }

    /// The wait of a leaf, or `None` if this actor may not issue it now (a second request
    /// for a resource it holds or requests in the same command, a second arrival).
    fn wait(&mut self, lg: &mut Ledger, leaf: &LeafPlan, used: &mut Used) -> Option<Cmd> {
        Some(match leaf {
            LeafPlan::Sleep(d) => Command::Sleep(d.draw(&mut self.rng)),
            LeafPlan::GetAmount(c, n) => {
                let ci = c.index(lg.containers.len());
                Command::GetAmount(lg.containers[ci], f64::from(*n).min(lg.capacity[ci]))
            }
            LeafPlan::PutAmount(c, n) => {
                let ci = c.index(lg.containers.len());
                Command::PutAmount(lg.containers[ci], f64::from(*n).min(lg.capacity[ci]))
            }
            LeafPlan::GetWhere(q, f) => Command::GetWhere(
                lg.queues[q.index(lg.queues.len())],
                lg.filters[f.index(lg.filters.len())].clone(),
            ),
            LeafPlan::Put(q) => {
                let item = lg.create(self.id);
                Command::Put(lg.queues[q.index(lg.queues.len())], item)
            }
            LeafPlan::Acquire(r, level, preempt) => {
                let ri = r.index(lg.resources.len());
                if self.held.contains_key(&ri) || !used.resources.insert(ri) {
                    return None;
                }
                let level = f64::from(*level);
                let p = if *preempt {
                    Priority::new(level)
                } else {
                    Priority::without_preempting(level)
                };
                Command::AcquireWith(lg.resources[ri], p)
            }
            LeafPlan::Signal(s) => Command::Signal(lg.signals[s.index(lg.signals.len())]),
            LeafPlan::Arrive(b) => {
                let bi = b.index(lg.barriers.len());
                if !used.barriers.insert(bi) {
                    return None;
                }
                Command::Arrive(lg.barriers[bi])
            }
        })
    }
}

/// Records a reset of signal `si`, as it was just before (pending? fired?).
fn record_reset(lg: &mut Ledger, si: usize, pending: bool, fired: bool, now: f64) {
    match (pending, fired) {
        (true, _) => {}
        (false, true) => {
            hit("a fired signal reset");
            lg.resets.push((si, now));
        }
        (false, false) => {
            hit("a firing cancelled by a later reset");
            let last = lg
                .firings
                .iter_mut()
                .rev()
                .find(|f| f.signal == si)
                .expect("a firing is on its way");
            last.cancelled = true;
        }
    }
}

#[derive(Default)]
struct Used {
    resources: BTreeSet<usize>,
    barriers: BTreeSet<usize>,
}

// ----- running a plan -----

struct Model {
    sim: Simulation<M>,
    log: TraceLog,
    ledger: Rc<RefCell<Ledger>>,
}

/// The filters getters choose from (an item's "colour" is its id modulo 3).
fn filters() -> Vec<Filter<Item>> {
    vec![
        Filter::new(|_: &Item| true),
        Filter::new(|x: &Item| x.is_multiple_of(3)),
        Filter::new(|x: &Item| x % 3 == 1),
        Filter::new(|x: &Item| x % 3 == 2),
        Filter::new(|x: &Item| !x.is_multiple_of(3)),
    ]
}

fn build(plan: &Plan) -> Model {
    let mut sim = Simulation::<M>::new(plan.seed);
    let log = TraceLog::new();
    sim.observe(log.clone());
    let mut lg = Ledger::default();
    for &(capacity, level) in &plan.containers {
        let capacity = capacity.map_or(f64::INFINITY, f64::from);
        let level = f64::from(level).min(capacity);
        lg.containers.push(sim.container(capacity, level).unwrap());
        lg.initial.push(level);
        lg.capacity.push(capacity);
        lg.put.push(0.0);
        lg.got.push(0.0);
    }
    for &(preemptive, n) in &plan.resources {
        lg.resources.push(if preemptive {
            sim.preemptive_resource(n).unwrap()
        } else {
            sim.priority_resource(n).unwrap()
        });
        lg.preemptive.push(preemptive);
    }
    for &capacity in &plan.queues {
        let capacity = capacity.map_or(Capacity::Unbounded, Capacity::Bounded);
        lg.queues.push(sim.filter_queue(capacity).unwrap());
    }
    lg.filters = filters();
    for _ in 0..plan.signals {
        lg.signals.push(sim.signal());
    }
    for &parties in &plan.barriers {
        lg.barriers.push(sim.barrier(parties).unwrap());
        lg.parties.push(parties);
    }
    let ledger = Rc::new(RefCell::new(lg));
    for (id, actor) in plan.actors.iter().enumerate() {
        let actor = Actor {
            id,
            ops: actor.ops.iter().cloned().collect(),
            leave_holding: actor.leave_holding,
            last: None,
            outstanding: Vec::new(),
            resumes_left: 0,
            held: BTreeMap::new(),
            preempted: Vec::new(),
            rng: sim.new_stream(id as u64),
            ledger: ledger.clone(),
        };
        let pid = sim.spawn_named(format!("actor-{id}"), Box::new(actor));
        ledger.borrow_mut().pids.push(pid);
    }
    Model { sim, log, ledger }
}

fn fail(e: stepsim::Error) -> TestCaseError {
    TestCaseError::fail(format!("the run failed: {e}"))
}

impl Model {
    /// Invariants 1 and 2, between runs (when no wake is on its way).
    fn check_accounting(&self, when: &str) -> Result<(), TestCaseError> {
        let lg = self.ledger.borrow();
        // Items.
        let mut whereabouts: BTreeMap<Item, Vec<String>> = BTreeMap::new();
        for (&item, &a) in &lg.received {
            whereabouts
                .entry(item)
                .or_default()
                .push(format!("received by #{a}"));
        }
        for (k, &q) in lg.queues.iter().enumerate() {
            let view = self.sim.queue_view(q).unwrap();
            for &item in view.iter() {
                whereabouts
                    .entry(item)
                    .or_default()
                    .push(format!("in queue {k}"));
            }
            for &item in view.blocked_items() {
                whereabouts
                    .entry(item)
                    .or_default()
                    .push(format!("held by a putter blocked on queue {k}"));
            }
        }
        for (&item, &a) in &lg.owned {
            whereabouts
                .entry(item)
                .or_default()
                .push(format!("owned by #{a}"));
        }
        for (item, places) in &whereabouts {
            prop_assert!(
                lg.created.contains(item),
                "{}: item {} invented",
                when,
                item
            );
            prop_assert!(places.len() == 1, "{}: item {} is {:?}", when, item, places);
        }
        let missing: Vec<Item> = lg
            .created
            .iter()
            .copied()
            .filter(|i| !whereabouts.contains_key(i))
            .collect();
        let in_flight = lg
            .pending()
            .filter(|r| r.in_allof && matches!(r.prim, Prim::Where(..)))
            .count();
        prop_assert!(
            missing.len() <= in_flight,
            "{}: items {:?} lost ({} AllOf gets pending)",
            when,
            missing,
            in_flight
        );
        // Amounts.
        for (ci, &c) in lg.containers.iter().enumerate() {
            let level = self.sim.container_view(c).unwrap().level();
            let expected = lg.initial[ci] + lg.put[ci] - lg.got[ci];
            let (mut slack_get, mut slack_put) = (0.0, 0.0);
            for r in lg.pending().filter(|r| r.in_allof) {
                match r.prim {
                    Prim::Get(x, n) if x == ci => slack_get += n,
                    Prim::Put(x, n) if x == ci => slack_put += n,
                    _ => {}
                }
            }
            prop_assert!(
                level >= expected - slack_get && level <= expected + slack_put,
                "{}: container {} at {}, but {} + {} put - {} got = {} (AllOf pending: -{} +{})",
                when,
                ci,
                level,
                lg.initial[ci],
                lg.put[ci],
                lg.got[ci],
                expected,
                slack_get,
                slack_put
            );
            prop_assert!(level >= 0.0 && level <= lg.capacity[ci]);
        }
        // Slots.
        for (ri, &r) in lg.resources.iter().enumerate() {
            let view = self.sim.resource_view(r).unwrap();
            prop_assert!(view.in_use() <= view.capacity());
            let engine: Vec<Pid> = view.holders().collect();
            let distinct: BTreeSet<Pid> = engine.iter().copied().collect();
            prop_assert_eq!(distinct.len(), engine.len(), "{}: a double holder", when);
            for pid in &engine {
                let believed = lg.holds.contains_key(&(ri, *pid))
                    || lg.pending().any(|q| {
                        q.in_allof
                            && q.pid == *pid
                            && matches!(q.prim, Prim::Acquire(x, _) if x == ri)
                    });
                prop_assert!(
                    believed,
                    "{}: {:?} holds resource {} unbeknownst to it",
                    when,
                    pid,
                    ri
                );
            }
            for &(x, pid) in lg.holds.keys() {
                if x == ri && !distinct.contains(&pid) {
                    prop_assert!(
                        lg.preemptive[ri],
                        "{}: {:?} believes it holds resource {}, which the engine denies",
                        when,
                        pid,
                        ri
                    );
                    hit("a preemption not yet delivered at a check");
                }
            }
        }
        // Signals: nobody waits on a fired signal.
        for (si, &s) in lg.signals.iter().enumerate() {
            let view = self.sim.signal_view(s).unwrap();
            prop_assert!(
                !view.has_fired() || view.waiters() == 0,
                "{}: {} wait on fired signal {}",
                when,
                view.waiters(),
                si
            );
        }
        Ok(())
    }

    /// Invariant 4: nothing left to do, and nobody waiting who could be served.
    fn check_quiescent(&mut self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.sim.peek(), None);
        let lg = self.ledger.borrow();
        let pending = |pred: &dyn Fn(&Prim) -> bool, allof: bool| -> Vec<&Req> {
            lg.pending()
                .filter(|r| r.in_allof == allof && pred(&r.prim))
                .collect()
        };
        for (ci, &c) in lg.containers.iter().enumerate() {
            let view = self.sim.container_view(c).unwrap();
            let room = view.capacity() - view.level();
            for (get, waiting) in [
                (true, view.getters_waiting()),
                (false, view.putters_waiting()),
            ] {
                let mine = |p: &Prim| match *p {
                    Prim::Get(x, _) => get && x == ci,
                    Prim::Put(x, _) => !get && x == ci,
                    _ => false,
                };
                let plain = pending(&mine, false);
                let allof = pending(&mine, true);
                prop_assert!(waiting >= plain.len());
                if waiting > 0 {
                    hit("container requests blocked at quiescence");
                }
                if allof.is_empty() {
                    prop_assert_eq!(waiting, plain.len(), "container {}", ci);
                    if let Some(head) = plain.iter().min_by_key(|r| r.seq) {
                        let (Prim::Get(_, n) | Prim::Put(_, n)) = head.prim else {
                            unreachable!()
                        };
                        let fits = if get { n <= view.level() } else { n <= room };
                        prop_assert!(
                            !fits,
                            "container {} (level {} of {}): the head {} of {} waits ({} waiting)",
                            ci,
                            view.level(),
                            view.capacity(),
                            if get { "get" } else { "put" },
                            n,
                            waiting
                        );
                    }
                }
            }
        }
        for (ri, &r) in lg.resources.iter().enumerate() {
            let view = self.sim.resource_view(r).unwrap();
            let mine = |p: &Prim| matches!(*p, Prim::Acquire(x, _) if x == ri);
            let plain = pending(&mine, false);
            let allof = pending(&mine, true);
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
            prop_assert!(view.queue_len() >= plain.len());
            if !allof.is_empty() {
                continue;
            }
            prop_assert_eq!(view.queue_len(), plain.len(), "resource {}", ri);
            let head = plain
                .iter()
                .map(|r| r.list_key())
                .min_by(|a, b| a.cmp_list(b));
            if let (true, Some(head)) = (lg.preemptive[ri], head) {
                if head.no_preempt {
                    continue;
                }
                for pid in view.holders() {
                    let key = lg.holds.get(&(ri, pid));
                    prop_assert!(key.is_some(), "resource {}: holder {:?} unknown", ri, pid);
                    // A holder that cannot be told at once keeps its slot (README
                    // "Preemption"): in a masked wait, attending, or not in a wait at all.
                    let tellable = self.sim.waiting(pid).is_some_and(|w| {
                        !w.masked && !matches!(w.on, stepsim::WaitKind::Attend(_))
                    });
                    if !tellable {
                        hit("a worse holder spared: it could not be told");
                        continue;
                    }
                    prop_assert!(
                        key.unwrap().cmp_engine(&head) != std::cmp::Ordering::Greater,
                        "preemptive resource {}: the head request {:?} waits while {:?} holds a \
                         slot with the worse key {:?}",
                        ri,
                        head,
                        pid,
                        key.unwrap()
                    );
                }
            }
        }
        for (qi, &q) in lg.queues.iter().enumerate() {
            let view = self.sim.queue_view(q).unwrap();
            let plain = pending(&|p| matches!(*p, Prim::Where(x, _) if x == qi), false);
            prop_assert!(view.getters_waiting() >= plain.len());
            if view.getters_waiting() > 0 && !view.is_empty() {
                hit("a filtered getter waits beside items it rejects");
            }
            for g in plain {
                let Prim::Where(_, fi) = g.prim else {
                    unreachable!()
                };
                let matching: Vec<&Item> =
                    view.iter().filter(|i| lg.filters[fi].matches(i)).collect();
                prop_assert!(
                    matching.is_empty(),
                    "queue {}: #{}'s getter (filter {}) waits beside {:?}",
                    qi,
                    g.actor,
                    fi,
                    matching
                );
            }
            prop_assert!(
                view.putters_waiting() == 0 || view.is_full(),
                "queue {}: putters wait beside room",
                qi
            );
        }
        for (bi, &b) in lg.barriers.iter().enumerate() {
            let view = self.sim.barrier_view(b).unwrap();
            let mine = |p: &Prim| matches!(*p, Prim::Arrive(x) if x == bi);
            let plain = pending(&mine, false);
            let allof = pending(&mine, true);
            prop_assert!(
                view.waiting() < view.parties(),
                "barrier {}: {} of {} waiting",
                bi,
                view.waiting(),
                view.parties()
            );
            prop_assert!(view.waiting() >= plain.len());
            if allof.is_empty() {
                prop_assert_eq!(view.waiting(), plain.len(), "barrier {}", bi);
            }
            if view.waiting() > 0 {
                hit("parties waiting at a barrier at quiescence");
            }
        }
        Ok(())
    }

    /// Interrupts every live actor with the shutdown flag set (firing pending signals and
    /// releasing barriers, for masked waits) until all have finished.
    fn shut_down(&mut self) -> Result<(), TestCaseError> {
        self.ledger.borrow_mut().shutdown = true;
        let pids = self.ledger.borrow().pids.clone();
        for _ in 0..pids.len() + 2 {
            if self.sim.live_processes() == 0 {
                break;
            }
            for &pid in &pids {
                if !self.sim.is_finished(pid).unwrap() {
                    self.sim.interrupt(pid, SHUTDOWN).unwrap();
                }
            }
            {
                let mut lg = self.ledger.borrow_mut();
                let now = self.sim.now();
                for si in 0..lg.signals.len() {
                    let s = lg.signals[si];
                    let view = self.sim.signal_view(s).unwrap();
                    if view.is_pending() && view.waiters() > 0 {
                        let mut cx = self.sim.context();
                        cx.trigger(s);
                        prop_assert!(cx.take_error().is_none());
                        lg.firings.push(Firing {
                            signal: si,
                            time: now,
                            value: Ok(None),
                            cancelled: false,
                        });
                    }
                }
                for bi in 0..lg.barriers.len() {
                    let b = lg.barriers[bi];
                    if self.sim.barrier_view(b).unwrap().waiting() > 0 {
                        self.sim.context().release_barrier(b);
                        lg.releases.push((bi, now));
                    }
                }
            }
            self.sim.run().map_err(fail)?;
        }
        prop_assert_eq!(self.sim.live_processes(), 0, "actors survive shutdown");
        let lg = self.ledger.borrow();
        for (ci, &c) in lg.containers.iter().enumerate() {
            let v = self.sim.container_view(c).unwrap();
            prop_assert_eq!(
                (v.getters_waiting(), v.putters_waiting()),
                (0, 0),
                "container {}",
                ci
            );
        }
        for (ri, &r) in lg.resources.iter().enumerate() {
            let v = self.sim.resource_view(r).unwrap();
            prop_assert_eq!((v.in_use(), v.queue_len()), (0, 0), "resource {}", ri);
        }
        prop_assert!(
            lg.holds.is_empty(),
            "slots still believed held: {:?}",
            lg.holds
        );
        for (qi, &q) in lg.queues.iter().enumerate() {
            let v = self.sim.queue_view(q).unwrap();
            prop_assert_eq!(
                (v.getters_waiting(), v.putters_waiting()),
                (0, 0),
                "queue {}",
                qi
            );
        }
        for &s in &lg.signals {
            prop_assert_eq!(self.sim.signal_view(s).unwrap().waiters(), 0);
        }
        for &b in &lg.barriers {
            prop_assert_eq!(self.sim.barrier_view(b).unwrap().waiting(), 0);
        }
        prop_assert!(lg.pending().next().is_none(), "requests never settled");
        Ok(())
    }

    /// Invariants 3 and 5, over the whole history (once every request has left).
    fn check_history(&self) -> Result<(), TestCaseError> {
        let lg = self.ledger.borrow();
        let reqs = &lg.reqs;
        // Service order.
        for x in reqs.iter().filter(|x| x.served && !x.in_allof) {
            if matches!(x.prim, Prim::Signal(_) | Prim::Arrive(_)) {
                continue;
            }
            let t = x.leave.unwrap();
            for y in reqs {
                if y.in_allof
                    || y.seq == x.seq
                    || y.prim.list() != x.prim.list()
                    || y.list_key().cmp_list(&x.list_key()) != std::cmp::Ordering::Less
                    || !y.waits_across(t)
                {
                    continue;
                }
                if let (Prim::Where(_, fy), Some(item)) = (y.prim, x.item)
                    && !lg.filters[fy].matches(&item)
                {
                    continue;
                }
                prop_assert!(
                    false,
                    "#{}'s {:?} (issued at {}) served at {} while #{}'s {:?} (issued at {}, left \
                     at {:?}) was ahead of it",
                    x.actor,
                    x.prim,
                    x.time,
                    t,
                    y.actor,
                    y.prim,
                    y.time,
                    y.leave
                );
            }
        }
        for &(list, t) in &lg.tries {
            for y in reqs.iter().filter(|y| !y.in_allof && y.prim.list() == list) {
                prop_assert!(
                    !y.waits_across(t),
                    "a try_* on {:?} at {} bypassed #{}'s {:?} (issued at {})",
                    list,
                    t,
                    y.actor,
                    y.prim,
                    y.time
                );
            }
        }
        // Signals.
        for w in reqs {
            let Prim::Signal(si) = w.prim else { continue };
            let (t_i, t_l) = (w.time, w.leave.unwrap());
            let fired: Vec<&Firing> = lg
                .firings
                .iter()
                .filter(|f| f.signal == si && !f.cancelled)
                .collect();
            let resets: Vec<f64> = lg
                .resets
                .iter()
                .filter(|r| r.0 == si)
                .map(|r| r.1)
                .collect();
            if w.in_allof {
                if let Some(v) = &w.value {
                    prop_assert!(
                        fired.iter().any(|f| f.value == *v && f.time <= t_l),
                        "#{}'s AllOf woke with {:?} from signal {}, never fired so",
                        w.actor,
                        v,
                        si
                    );
                }
                continue;
            }
            for g in &fired {
                prop_assert!(
                    !(t_i < g.time && g.time < t_l),
                    "#{} waited on signal {} from {} to {} across its firing at {}",
                    w.actor,
                    si,
                    t_i,
                    t_l,
                    g.time
                );
            }
            let fired_at_issue = fired
                .iter()
                .any(|g| g.time < t_i && !resets.iter().any(|&r| g.time <= r && r <= t_i));
            if fired_at_issue {
                hit("a wait on a fired signal");
                prop_assert_eq!(
                    t_l,
                    t_i,
                    "#{}'s wait on fired signal {} did not complete at once",
                    w.actor,
                    si
                );
            }
            if let Some(v) = &w.value {
                let explained = fired.iter().any(|g| {
                    g.value == *v
                        && ((g.time >= t_i && t_l == g.time)
                            || (g.time <= t_i
                                && t_l == t_i
                                && !resets.iter().any(|&r| g.time < r && r < t_i)))
                });
                prop_assert!(
                    explained,
                    "#{} (waiting on signal {} from {}) woke at {} with {:?}; firings {:?}",
                    w.actor,
                    si,
                    t_i,
                    t_l,
                    v,
                    fired
                );
            }
        }
        // Barriers: no arrival waits across a release.
        for a in reqs.iter().filter(|a| !a.in_allof) {
            let Prim::Arrive(bi) = a.prim else { continue };
            let t_l = a.leave.unwrap();
            for &(b, r) in &lg.releases {
                prop_assert!(
                    !(b == bi && a.time < r && r < t_l),
                    "#{} waited at barrier {} from {} to {} across a release at {}",
                    a.actor,
                    bi,
                    a.time,
                    t_l,
                    r
                );
            }
        }
        Ok(())
    }

    /// Everything a run decided, for comparing two runs.
    fn summary(&self) -> String {
        let lg = self.ledger.borrow();
        let mut out = format!(
            "t={} events={} received={:?} owned={:?} put={:?} got={:?}",
            self.sim.now(),
            self.sim.events(),
            lg.received,
            lg.owned,
            lg.put,
            lg.got
        );
        for &c in &lg.containers {
            let _ = write!(out, " {c}={}", self.sim.container_view(c).unwrap().level());
        }
        for &q in &lg.queues {
            let view = self.sim.queue_view(q).unwrap();
            let _ = write!(out, " {q}={:?}", view.iter().collect::<Vec<_>>());
        }
        for &b in &lg.barriers {
            let _ = write!(out, " {b}={}", self.sim.barrier_view(b).unwrap().releases());
        }
        out
    }
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
    model.check_history()?;
    Ok((model.log.to_csv(), model.summary()))
}

proptest! {
    #![proptest_config(config(128))]

    /// Invariants 1–5.
    #[test]
    fn random_primitive_models_keep_their_invariants(plan in plan()) {
        run_plan(&plan)?;
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Invariant 6: the same plan and seed give the same trace and the same outcome.
    #[test]
    fn same_seed_same_trace_with_primitives(plan in plan()) {
        common::assert_same_twice(|| run_plan(&plan))?;
    }
}

/// The properties are only as good as the models: over a fixed sample of plans, every
/// situation they are meant to exercise does occur.
#[test]
fn the_primitive_generator_exercises_every_situation() {
    let expected = [
        "a container get served",
        "a container put served",
        "try_get_amount took",
        "try_put_amount put",
        "container requests blocked at quiescence",
        "a priority resource granted a slot",
        "a preemptive resource granted a slot",
        "try_acquire took a slot",
        "acquirers blocked at quiescence",
        "a preemption withdrew a wait",
        "a preemption delivered at a new wait",
        "a slot found preempted before the wake said so",
        "slots left to the automatic release",
        "a filtered get served",
        "try_get_where took",
        "try_put placed",
        "a filtered getter waits beside items it rejects",
        "a signal wait triggered",
        "a signal wait succeeded with a value",
        "a signal wait failed",
        "a wait on a fired signal",
        "a fired signal reset",
        "a firing cancelled by a reset",
        "a firing cancelled by a later reset",
        "a barrier released a party",
        "a barrier released by hand",
        "parties waiting at a barrier at quiescence",
        "an AllOf completed",
        "an AllOf branch won",
        "a losing AllOf branch handed back what it took",
        "an interrupted AllOf handed back what it took",
        "an interrupt withdrew a wait",
        "an interrupt landed at once (queued, or at a new wait)",
        "a handed-back request re-issued",
        "a masked wait completed",
    ];
    common::assert_exercised(&expected, plan(), 256, |plan| {
        run_plan(plan).unwrap();
    });
}

// ----- regression tests for engine bugs the properties found -----

type Log = Rc<RefCell<Vec<(f64, W)>>>;

/// Issues its commands in order, logging every wake with its time; `Done` after the last.
/// With `reset`, it resets that signal whenever it wakes from it.
struct Script {
    commands: VecDeque<Cmd>,
    reset: Option<SignalId>,
    log: Log,
}

impl Process<M> for Script {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        if let (Some(s), Wake::Completed(Outcome::Signaled(t, _))) = (self.reset, &wake)
            && s == *t
        {
            cx.reset_signal(s);
        }
        self.log.borrow_mut().push((cx.now(), wake));
        self.commands.pop_front().unwrap_or(Command::Done)
    }
}

fn script_with(sim: &mut Simulation<M>, commands: Vec<Cmd>, reset: Option<SignalId>) -> (Pid, Log) {
    let log = Log::default();
    let pid = sim.spawn(Box::new(Script {
        commands: commands.into(),
        reset,
        log: log.clone(),
    }));
    (pid, log)
}

fn script(sim: &mut Simulation<M>, commands: Vec<Cmd>) -> (Pid, Log) {
    script_with(sim, commands, None)
}

/// `issue_first_of` (src/engine/waits.rs) registers the branches of a `FirstOf` one by one,
/// and each `register` runs its primitive's trigger, which may complete the command through
/// an *earlier* group. When that happens in the middle of an `AllOf` group, `finish_wait` →
/// `withdraw_groups` already hands back the group's registered part as one
/// `Command::AllOf(..)` in `First::others`; `issue_first_of` then pushes the group's
/// unregistered rest as a *second* `Command::AllOf(..)`. One losing branch comes back as two:
/// `others` no longer lines up with the issued branches (re-issuing it changes the command,
/// and an actor matching losers by position miscounts).
///
/// Here the first group's `Put` places an item, then registering the second group's
/// `GetWhere` runs the filter queue's trigger, which serves the first group's `GetWhere`:
/// the first group completes while the second is half registered.
///
/// Fix: when the loop in `issue_first_of` stops inside an `AllOf` group, append the rest
/// to that group's entry (the last one in `First::others`) instead of pushing a new
/// `Command::AllOf`.
#[test]

fn first_of_completed_while_registering_an_all_of_hands_it_back_whole() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.filter_queue(Capacity::Unbounded).unwrap();
    let any = Filter::new(|_: &Item| true);
    let first = Command::all_of([Command::GetWhere(q, any.clone()), Command::Put(q, 1)]);
    let second: Branches<Item> = [Command::GetWhere(q, any.clone()), Command::Sleep(0.0)].into();
    let (_, log) = script(
        &mut sim,
        vec![Command::first_of([first, Command::AllOf(second.clone())])],
    );
    sim.run().unwrap();
    assert_eq!(
        log.borrow()[1],
        (
            0.0,
            Wake::First(stepsim::First::new(
                0,
                Outcome::All(vec![Outcome::Got(1), Outcome::Put]),
                [Command::AllOf(second)].into(),
            ))
        ),
        "the losing AllOf comes back as one branch"
    );
}

/// `Simulation::fire` (src/engine/waits.rs) wakes a signal's waiters through
/// `wake_waiters`, which computes each waiter's outcome *when it gets to it*, by reading
/// `sim.signals[s].value().expect("fired")`; and a waiter whose wait is a single
/// `Command::Signal` is stepped right there (`wake_or_hop` → `resume`). If that waiter resets
/// the signal in its step (`Context::reset_signal`: a resettable gate, closed again by the
/// first one through), the next waiter's outcome reads a `Pending` signal and the engine
/// panics with "fired"; if it resets *and fires it again*, the remaining waiters receive the
/// new firing's value instead of the one they were woken by.
///
/// Fix: in `fire`, copy the fired value once (or each waiter's outcome) before waking
/// anyone, and clone from that copy (with the signal's `clone` fn) in the closure given to
/// `wake_waiters`, instead of re-reading the signal's phase.
#[test]

fn a_waiter_resetting_the_signal_does_not_rob_the_others() {
    let mut sim = Simulation::<M>::new(0);
    let s = sim.signal();
    let (_, first) = script_with(&mut sim, vec![Command::Signal(s)], Some(s));
    let (_, second) = script(&mut sim, vec![Command::Signal(s)]);
    sim.run().unwrap();
    sim.context().succeed(s, 7);
    sim.run().unwrap(); // panics: "fired"
    assert_eq!(
        first.borrow()[1],
        (0.0, Wake::Completed(Outcome::Signaled(s, Ok(Some(7)))))
    );
    assert_eq!(
        second.borrow()[1],
        (0.0, Wake::Completed(Outcome::Signaled(s, Ok(Some(7))))),
        "woken by the same firing, with its value"
    );
    assert!(sim.signal_view(s).unwrap().is_pending());
}

/// Acquires a resource, checking on every `Acquired` wake that it holds the slot, then
/// gives it back at once.
struct Grabber {
    r: ResourceId,
    level: f64,
    start: f64,
    log: Log,
}

impl Process<M> for Grabber {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        self.log.borrow_mut().push((cx.now(), wake.clone()));
        match wake {
            Wake::Started => Command::Sleep(self.start),
            Wake::Completed(Outcome::Slept) if cx.now() == self.start => {
                Command::AcquireWith(self.r, Priority::new(self.level))
            }
            Wake::Completed(Outcome::Acquired(r)) => {
                let me = cx.pid();
                assert!(
                    cx.resource_view(r).unwrap().is_held_by(me),
                    "t={}: woken with Acquired({r}), but the slot is not held",
                    cx.now()
                );
                Command::Sleep(1.0)
            }
            Wake::Completed(Outcome::Slept) => {
                cx.release(self.r);
                Command::Done
            }
            _ => Command::Done, // preempted: the slot is gone
        }
    }
}

/// A slot granted to a request is taken away by a better request in the same instant,
/// before the grant's wake is delivered (`trigger_grants` in src/engine/waits.rs evicts
/// any holder, whatever its phase). The evicted process is then woken with
/// `Wake::Completed(Outcome::Acquired(r))` — documented as "the process now holds it" — for a slot it does
/// not hold, and only at its next interruptible command with `Wake::Preempted`. A model
/// that uses the slot and releases it in that step fails with `NotHolder`. In SimPy the
/// urgent `Interruption` is processed before the granted request's event, so the process
/// sees the preemption at its `yield request`, never the grant. (The same holds for an
/// `AllOf` branch's slot reported in `Wake::Completed(Outcome::All)`, `First::taken` or `Interrupt::taken`.)
///
/// Fix (one way): when `trigger_grants` evicts a holder whose grant has not been delivered
/// yet (its phase is `Satisfied` with `Outcome::Acquired` of this resource parked, or the
/// grant sits in `Rare::partial` of a pending `AllOf`), turn the parked wake into the
/// `Wake::Preempted` (request: the satisfied command, handed back) rather than queueing
/// the preemption behind it; or never pick such a holder as the victim.
#[test]

fn a_grant_preempted_before_its_wake_is_not_reported_as_held() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(1).unwrap();
    let mut logs = Vec::new();
    // The holder (level 5), then at t=1 a better request (3) and, in the same instant
    // after it, a better one still (1).
    for (level, start) in [(5.0, 0.0), (3.0, 1.0), (1.0, 1.0)] {
        let log = Log::default();
        sim.spawn(Box::new(Grabber {
            r,
            level,
            start,
            log: log.clone(),
        }));
        logs.push(log);
    }
    // Each `Grabber` checks that an `Acquired` wake comes with the slot; the middle one
    // is woken with `Acquired` at t=1 although the last one took its slot in that instant.
    sim.run().unwrap();
    assert_eq!(sim.resource_view(r).unwrap().in_use(), 0);
    assert!(
        logs[0].borrow().iter().any(|(t, w)| *t == 1.0
            && matches!(
                w,
                Wake::Interrupted(Interrupt {
                    cause: Reason::Preempted(_),
                    ..
                })
            )),
        "the first holder is preempted at t=1"
    );
}

/// Withdrawing a request (an interrupt, a losing `FirstOf` branch) takes it off its
/// primitive's wait list (`withdraw` in src/engine/waits.rs) but runs no trigger. Where only
/// the head of a list is tried — a container's gets and puts (head-of-line) — the request
/// behind a withdrawn head may now fit, yet nobody serves it until some unrelated put or get
/// runs the trigger again; at quiescence it waits forever beside a level that would serve
/// it. ("Every waiter eventually served when it can be"; SimPy's `cancel()` has the same
/// gap, but there an interrupted request is not even withdrawn.)
///
/// Fix: in `withdraw`, after removing a container getter or putter (or a resource request,
/// see below) that was at the head of its list, schedule the list's hook
/// (`Hook::Draws(c)`, `Hook::Fills(c)`, `Hook::Grants(r)`) with `schedule_hook`.
#[test]

fn withdrawing_the_head_of_a_container_list_serves_the_next() {
    let mut sim = Simulation::<M>::new(0);
    let c = sim.container(f64::INFINITY, 0.0).unwrap();
    let (_, big) = script(
        &mut sim,
        vec![Command::first_of([
            Command::GetAmount(c, 3.0),
            Command::Sleep(1.0),
        ])],
    );
    let (_, small) = script(&mut sim, vec![Command::GetAmount(c, 1.0)]);
    sim.run_until(0.5).unwrap();
    // Level 1: the small get waits behind the big one (head-of-line) ...
    assert!(sim.context().try_put_amount(c, 1.0));
    sim.run().unwrap();
    // ... which gives up at t=1.
    assert!(matches!(&big.borrow()[1], (1.0, Wake::First(f)) if f.index == 1));
    assert_eq!(
        small.borrow().get(1),
        Some(&(1.0, Wake::Completed(Outcome::GotAmount(c, 1.0)))),
        "the small get is served once the big one has left (level {})",
        sim.container_view(c).unwrap().level()
    );
}

/// The same gap on a preemptive resource: only the head request may preempt. A polite
/// request (`without_preempting`) at the head keeps a preempting request behind it from
/// evicting a worse holder; when the polite one is withdrawn, the preempting one heads the
/// list with a better key than the holder, but nothing runs `trigger_grants`, so it waits
/// until the holder leaves of its own accord. Same fix: schedule `Hook::Grants(r)` when
/// `withdraw` removes the head request of a preemptive resource.
#[test]

fn withdrawing_a_polite_head_lets_the_next_request_preempt() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(1).unwrap();
    let (_, holder) = script(
        &mut sim,
        vec![
            Command::AcquireWith(r, Priority::new(5.0)),
            Command::Sleep(10.0),
        ],
    );
    script(
        &mut sim,
        vec![
            Command::Sleep(1.0),
            Command::first_of([
                Command::AcquireWith(r, Priority::without_preempting(0.0)),
                Command::Sleep(1.0),
            ]),
        ],
    );
    let (_, urgent) = script(
        &mut sim,
        vec![
            Command::Sleep(1.5),
            Command::AcquireWith(r, Priority::new(1.0)),
            Command::Sleep(1.0),
        ],
    );
    sim.run().unwrap();
    // At 1.5 the urgent request queues behind the polite one (level 0 first), so it does
    // not preempt; the polite one gives up at 2.
    assert!(
        matches!(
            &holder.borrow()[2],
            (
                2.0,
                Wake::Interrupted(Interrupt {
                    cause: Reason::Preempted(_),
                    ..
                })
            )
        ),
        "the holder is preempted when the polite request leaves: {:?}",
        holder.borrow()
    );
    assert_eq!(
        urgent.borrow()[2],
        (2.0, Wake::Completed(Outcome::Acquired(r)))
    );
}

/// On its wake from a signal, resets it and fires it again with `value`.
struct Refirer {
    s: SignalId,
    value: Item,
    log: Log,
}

impl Process<M> for Refirer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        self.log.borrow_mut().push((cx.now(), wake.clone()));
        match wake {
            Wake::Started => Command::Signal(self.s),
            _ => {
                cx.reset_signal(self.s);
                cx.succeed(self.s, self.value);
                Command::Done
            }
        }
    }
}

/// The silent variant of `a_waiter_resetting_the_signal_does_not_rob_the_others` (same
/// cause, same fix): the first waiter, stepped inside the firing of 7, resets the signal and
/// fires it again with 8; the second waiter, woken by the firing of 7, receives 8.
#[test]

fn waiters_woken_by_one_firing_get_its_value() {
    let mut sim = Simulation::<M>::new(0);
    let s = sim.signal();
    let first = Log::default();
    sim.spawn(Box::new(Refirer {
        s,
        value: 8,
        log: first.clone(),
    }));
    let (_, second) = script(&mut sim, vec![Command::Signal(s)]);
    sim.run().unwrap();
    sim.context().succeed(s, 7);
    sim.run().unwrap();
    assert_eq!(
        first.borrow()[1],
        (0.0, Wake::Completed(Outcome::Signaled(s, Ok(Some(7)))))
    );
    assert_eq!(
        second.borrow()[1],
        (0.0, Wake::Completed(Outcome::Signaled(s, Ok(Some(7))))),
        "woken by the firing of 7"
    );
}
