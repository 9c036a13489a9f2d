//! Forking a running simulation (`Simulation: Clone`): a fork cut at any event goes on
//! exactly as the original does, and changing a fork changes only the fork.
//!
//! The models are random: queues (FIFO, priority, bounded), plain, priority and preemptive
//! resources, a container, and actors that draw every decision from their own stream
//! (`cx.rng()`, part of the simulation's state): sleeps, gets, puts, acquires with
//! priorities, releases, `FirstOf`, `AllOf`, masked sleeps, amounts, interrupts of each
//! other, activities, and carrying on after an interrupt (`Interrupt::resume`). Each actor
//! logs every wake it sees (with its payload) in its own state, so two runs agree only if
//! every actor saw the same wakes at the same times; the event traces (with waits) are
//! compared too.

mod common;

use common::config;
use proptest::prelude::*;
use stepsim::rand::RngExt;
use stepsim::{
    Activity, Capacity, Command, ContainerId, Context, Model, Outcome, Pid, Priority, Process,
    QueueId, Reason, ResourceId, Simulation, TraceLog, Wake,
};

struct Forked;

impl Model for Forked {
    type Item = u32;
    type Cause = u32;
    type Proc = Actor;
}

type Cmd = Command<u32>;

/// The handles an actor may use.
#[derive(Clone, Debug, PartialEq)]
struct World {
    queues: Vec<QueueId>,
    resources: Vec<ResourceId>,
    container: ContainerId,
}

#[derive(Clone, Debug, PartialEq)]
struct Actor {
    world: World,
    /// The other actors (set once all are spawned).
    peers: Vec<Pid>,
    /// Commands left before it finishes.
    budget: u32,
    /// Items it made (distinct per actor: `id * 1000 + n`).
    id: u32,
    made: u32,
    /// Every wake seen, with its time.
    log: Vec<String>,
    /// The interrupt it was summoned with, to carry on after the activity.
    saved: Option<stepsim::Interrupt<u32, u32>>,
}

impl Actor {
    fn new(id: u32, world: World, budget: u32) -> Self {
        Actor {
            world,
            peers: Vec::new(),
            budget,
            id,
            made: 0,
            log: Vec::new(),
            saved: None,
        }
    }

    fn delay(cx: &mut Context<'_, Forked>) -> f64 {
        // Half-unit grid, so that events tie and same-instant order matters.
        f64::from(cx.rng().random_range(0..5u32)) * 0.5
    }

    fn leaf(&mut self, cx: &mut Context<'_, Forked>) -> Cmd {
        let w = &self.world;
        let q = w.queues[cx.rng().random_range(0..w.queues.len())];
        let r = w.resources[cx.rng().random_range(0..w.resources.len())];
        match cx.rng().random_range(0..6u32) {
            0 => Command::Sleep(Self::delay(cx)),
            1 => Command::Get(q),
            2 => {
                self.made += 1;
                Command::Put(q, self.id * 1000 + self.made)
            }
            3 => Command::Acquire(r),
            4 => {
                // A priority or preemptive resource (AcquireWith on a plain one is an error).
                let r = w.resources[cx.rng().random_range(1..w.resources.len())];
                Command::AcquireWith(r, Priority::new(f64::from(cx.rng().random_range(0..3u32))))
            }
            _ => Command::GetAmount(self.world.container, 1.0),
        }
    }

    fn fresh(&mut self, cx: &mut Context<'_, Forked>) -> Cmd {
        if self.budget == 0 {
            return Command::Done;
        }
        self.budget -= 1;
        match cx.rng().random_range(0..12u32) {
            0..=3 => self.leaf(cx),
            4 => {
                let r = self.world.resources[cx.rng().random_range(0..self.world.resources.len())];
                cx.release(r);
                cx.take_error(); // not a holder: fine
                Command::Sleep(Self::delay(cx))
            }
            5 => {
                let a = self.leaf(cx);
                Command::first_of([a, Command::Sleep(Self::delay(cx))])
            }
            6 => {
                let (a, b) = (self.leaf(cx), self.leaf(cx));
                Command::first_of([a, b])
            }
            7 => {
                let a = self.leaf(cx);
                Command::all_of([a, Command::Sleep(Self::delay(cx))])
            }
            8 => Command::Sleep(Self::delay(cx)).masked(),
            9 if !self.peers.is_empty() => {
                let peer = self.peers[cx.rng().random_range(0..self.peers.len())];
                let cause = cx.rng().random_range(0..100u32);
                cx.interrupt(peer, cause);
                Command::Yield
            }
            10 if self.peers.len() >= 2 => {
                let a = self.peers[cx.rng().random_range(0..self.peers.len())];
                let b = self.peers[cx.rng().random_range(0..self.peers.len())];
                let start = cx.now() + Self::delay(cx);
                let duration = Self::delay(cx) + 0.5;
                // Planning with a finished participant is an error.
                if a != b && !cx.is_finished(a).unwrap() && !cx.is_finished(b).unwrap() {
                    cx.plan(Activity::new(duration).at(start).with_all([a, b]));
                }
                Command::Sleep(Self::delay(cx))
            }
            _ => {
                cx.try_put_amount(self.world.container, 1.0);
                Command::PutAmount(self.world.container, 1.0)
            }
        }
    }
}

impl Process<Forked> for Actor {
    fn step(&mut self, cx: &mut Context<'_, Forked>, wake: Wake<u32, u32>) -> Cmd {
        self.log.push(format!("{} {:?}", cx.now(), wake));
        match wake {
            Wake::Interrupted(i) => match i.cause {
                Reason::Summoned(a) => {
                    self.saved = Some(i);
                    Command::Attend(a)
                }
                _ if cx.rng().random_bool(0.5) => i.resume(),
                _ => self.fresh(cx),
            },
            Wake::Completed(Outcome::ActivityOver(_)) => match self.saved.take() {
                Some(i) if cx.rng().random_bool(0.7) => i.resume(),
                _ => self.fresh(cx),
            },
            _ => self.fresh(cx),
        }
    }
}

/// A random model's recipe.
#[derive(Clone, Debug)]
struct Plan {
    seed: u64,
    actors: u32,
    budget: u32,
}

fn plan() -> impl Strategy<Value = Plan> {
    (any::<u64>(), 2u32..7, 5u32..40).prop_map(|(seed, actors, budget)| Plan {
        seed,
        actors,
        budget,
    })
}

fn build(plan: &Plan) -> Simulation<Forked> {
    let mut sim = Simulation::<Forked>::new(plan.seed);
    let queues = vec![
        sim.queue(Capacity::Unbounded).unwrap(),
        sim.queue(1).unwrap(),
        sim.priority_queue(2).unwrap(),
    ];
    let resources = vec![
        sim.resource(1).unwrap(),
        sim.priority_resource(2).unwrap(),
        sim.preemptive_resource(1).unwrap(),
    ];
    let container = sim.container(3.0, 1.0).unwrap();
    let world = World {
        queues,
        resources,
        container,
    };
    let pids: Vec<Pid> = (0..plan.actors)
        .map(|id| sim.spawn(Actor::new(id, world.clone(), plan.budget)))
        .collect();
    for &p in &pids {
        let peers = pids.iter().copied().filter(|&q| q != p).collect();
        sim.process_mut(p).unwrap().peers = peers;
    }
    sim.keep_finished(true);
    sim
}

/// Everything a run's end shows: each actor's final state (its log of wakes included), the
/// clock and the event count. Handles print the number of their simulation (`sim: 3`),
/// which differs between two simulations built alike: it is left out.
fn outcome(sim: &Simulation<Forked>) -> String {
    let mut out = format!("t={} events={}\n", sim.now(), sim.events());
    for (p, actor) in sim.clone().into_processes() {
        out += &format!("{p:?}: {actor:?}\n");
    }
    without_sim_ids(&out)
}

fn without_sim_ids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("sim: ") {
        out.push_str(&rest[..at]);
        rest = rest[at + 5..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// The trace as CSV lines (time, process index, name, event): no simulation numbers.
fn lines(records: &[stepsim::Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| format!("{},{},{},{}", r.time, r.pid.index(), r.name, r.kind))
        .collect()
}

fn pids(sim: &Simulation<Forked>) -> Vec<Pid> {
    sim.clone()
        .into_processes()
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// Runs to the end (a blocked end is fine), with a trace of events and waits.
fn finish(sim: &mut Simulation<Forked>) -> Result<Vec<stepsim::Record>, TestCaseError> {
    let log = TraceLog::with_waits();
    sim.observe(log.clone());
    sim.run().map_err(|e| TestCaseError::fail(e.to_string()))?;
    sim.stop_observing();
    Ok(log.records())
}

fn cut_and_fork(plan: &Plan, cut: u64) -> Result<(), TestCaseError> {
    let mut uncut = build(plan);
    let uncut_trace = finish(&mut uncut)?;

    let mut original = build(plan);
    let before = TraceLog::with_waits();
    original.observe(before.clone());
    for _ in 0..cut {
        if !original
            .step()
            .map_err(|e| TestCaseError::fail(e.to_string()))?
        {
            break;
        }
    }
    original.stop_observing();
    let mut fork = original.clone();
    let fork_trace = finish(&mut fork)?;
    let original_trace = finish(&mut original)?;

    let uncut_trace = lines(&uncut_trace);
    let mut joined = lines(&before.records());
    joined.extend(lines(&fork_trace));
    prop_assert!(
        joined == uncut_trace,
        "the fork's trace differs from the uncut run's"
    );
    let mut joined = lines(&before.records());
    joined.extend(lines(&original_trace));
    prop_assert!(joined == uncut_trace, "forking changed the original");
    prop_assert_eq!(outcome(&fork), outcome(&uncut));
    prop_assert_eq!(outcome(&original), outcome(&uncut));
    Ok(())
}

proptest! {
    #![proptest_config(config(200))]

    /// Cut at a random event, fork: the fork and the original both go on as the uncut run.
    #[test]
    fn a_fork_goes_on_exactly_as_the_original(plan in plan(), cut in 0u64..400) {
        cut_and_fork(&plan, cut)?;
    }
}

/// The random models reach the races the property is about (so it is not vacuous).
#[test]
fn the_models_reach_interrupts_preemptions_and_activities() {
    let (mut interrupts, mut preemptions, mut summons, mut resumes_seen) = (0, 0, 0, 0);
    for seed in 0..40 {
        let mut sim = build(&Plan {
            seed,
            actors: 5,
            budget: 30,
        });
        let all = pids(&sim);
        sim.run().unwrap();
        for p in all {
            for line in &sim.process(p).unwrap().log {
                interrupts += usize::from(line.contains("Interrupted"));
                preemptions += usize::from(line.contains("Preempted"));
                summons += usize::from(line.contains("Summoned"));
                resumes_seen += usize::from(line.contains("Resume("));
            }
        }
    }
    assert!(interrupts > 50, "{interrupts} interrupts");
    assert!(preemptions > 5, "{preemptions} preemptions");
    assert!(summons > 5, "{summons} summons");
    assert!(
        resumes_seen > 5,
        "{resumes_seen} resumed requests interrupted again"
    );
}

/// What-if branches: a change to a fork changes the fork only.
#[test]
fn changing_a_fork_leaves_the_original_alone() {
    let plan = Plan {
        seed: 11,
        actors: 4,
        budget: 25,
    };
    let mut sim = build(&plan);
    let all = pids(&sim);
    for _ in 0..60 {
        sim.step().unwrap();
    }
    let mut reference = sim.clone();
    finish(&mut reference).unwrap();

    // A fork with more work for one actor, and one with a new actor.
    let mut busier = sim.clone();
    busier.process_mut(all[0]).unwrap().budget += 20;
    let mut bigger = sim.clone();
    let world = sim.process(all[0]).unwrap().world.clone();
    bigger.spawn(Actor::new(9, world, 10));
    finish(&mut busier).unwrap();
    finish(&mut bigger).unwrap();
    finish(&mut sim).unwrap();

    assert_eq!(outcome(&sim), outcome(&reference));
    assert_ne!(outcome(&busier), outcome(&reference));
    assert_ne!(outcome(&bigger), outcome(&reference));
}

/// A fork starts unobserved: the original's observer keeps seeing only the original.
#[test]
fn a_fork_does_not_share_the_observer() {
    let mut sim = build(&Plan {
        seed: 3,
        actors: 3,
        budget: 10,
    });
    let log = TraceLog::new();
    sim.observe(log.clone());
    sim.step().unwrap();
    let seen = log.len();
    let mut fork = sim.clone();
    fork.run().unwrap();
    assert_eq!(log.len(), seen);
    sim.run().unwrap();
    assert!(log.len() > seen);
}
