//! Forking a running simulation (`Simulation: Clone`) and, with the `serde` feature, saving
//! and restoring it (`stepsim::save`): a fork, or a restored save, cut at any event goes on
//! exactly as the original does, and changing a fork changes only the fork. (The save tests
//! run under `cargo test --all-features --test fork`, which `.ci/run` calls.)
//!
//! The models are random: queues (FIFO, bounded, priority by the items' order and by a
//! named order, a filter queue with `GetWhere` by a named filter), plain, priority and preemptive
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
    Activity, Capacity, Command, ContainerId, Context, Filter, Model, Outcome, Pid, Priority,
    Process, QueueId, Reason, ResourceId, Simulation, TraceLog, Wake,
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct World {
    queues: Vec<QueueId>,
    /// A filter queue.
    picky: QueueId,
    resources: Vec<ResourceId>,
    container: ContainerId,
}

fn even() -> Filter<u32> {
    Filter::named("even", |x: &u32| x.is_multiple_of(2))
}

fn reverse(a: &u32, b: &u32) -> std::cmp::Ordering {
    b.cmp(a)
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
        match cx.rng().random_range(0..7u32) {
            0 => Command::Sleep(Self::delay(cx)),
            6 => Command::GetWhere(self.world.picky, even()),
            1 => Command::Get(q),
            2 => {
                self.made += 1;
                Command::Put(q, self.id.wrapping_mul(1000).wrapping_add(self.made))
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
        match cx.rng().random_range(0..13u32) {
            0..=3 => self.leaf(cx),
            12 => {
                // A short-lived helper: process slots are freed and reused.
                self.made += 1;
                let mut child = Actor::new(
                    self.id.wrapping_mul(100).wrapping_add(self.made),
                    self.world.clone(),
                    3,
                );
                child.peers = self.peers.clone();
                cx.spawn(child);
                Command::Sleep(Self::delay(cx))
            }
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
    let picky = sim.filter_queue(Capacity::Unbounded).unwrap();
    let queues = vec![
        sim.queue(Capacity::Unbounded).unwrap(),
        sim.queue(1).unwrap(),
        sim.priority_queue(2).unwrap(),
        sim.priority_queue_by(Capacity::Unbounded, "reverse", reverse)
            .unwrap(),
        picky,
    ];
    let resources = vec![
        sim.resource(1).unwrap(),
        sim.priority_resource(2).unwrap(),
        sim.preemptive_resource(1).unwrap(),
    ];
    let container = sim.container(3.0, 1.0).unwrap();
    sim.monitor(queues[0], "fifo").unwrap();
    sim.monitor(queues[3], "reverse").unwrap();
    sim.monitor(resources[2], "preemptive").unwrap();
    sim.monitor(container, "tank").unwrap();
    let world = World {
        queues,
        picky,
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
    let mut out = format!(
        "t={} events={}\n{}\n",
        sim.now(),
        sim.events(),
        sim.statistics()
    );
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

/// Runs `plan` uncut; then again, cut after `cut` events, where `carry_on` makes the
/// simulation that goes on (a fork, or a restored save); and checks that both the original
/// and the one that went on end exactly as the uncut run.
fn cut_and_carry_on(
    plan: &Plan,
    cut: u64,
    carry_on: impl FnOnce(&mut Simulation<Forked>) -> Result<Simulation<Forked>, TestCaseError>,
) -> Result<(), TestCaseError> {
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
    let mut other = carry_on(&mut original)?;
    let other_trace = finish(&mut other)?;
    let original_trace = finish(&mut original)?;

    let uncut_trace = lines(&uncut_trace);
    let mut joined = lines(&before.records());
    joined.extend(lines(&other_trace));
    prop_assert!(
        joined == uncut_trace,
        "the trace after the cut differs from the uncut run's"
    );
    let mut joined = lines(&before.records());
    joined.extend(lines(&original_trace));
    prop_assert!(joined == uncut_trace, "cutting changed the original");
    prop_assert_eq!(outcome(&other), outcome(&uncut));
    prop_assert_eq!(outcome(&original), outcome(&uncut));
    Ok(())
}

proptest! {
    #![proptest_config(config(200))]

    /// Cut at a random event, fork: the fork and the original both go on as the uncut run.
    #[test]
    fn a_fork_goes_on_exactly_as_the_original(plan in plan(), cut in 0u64..400) {
        cut_and_carry_on(&plan, cut, |sim| Ok(sim.clone()))?;
    }
}

/// The random models reach the races the property is about (so it is not vacuous).
#[test]
fn the_models_reach_interrupts_preemptions_and_activities() {
    let (mut interrupts, mut preemptions, mut summons, mut resumes_seen) = (0, 0, 0, 0);
    for seed in 0..200 {
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

#[cfg(feature = "serde")]
mod save {
    use super::*;
    use stepsim::Error;
    use stepsim::save::Restore;

    fn restore_with() -> Restore<Forked> {
        Restore::new()
            .natural_order()
            .order("reverse", reverse)
            .filter(even())
    }

    fn save(sim: &mut Simulation<Forked>) -> Vec<u8> {
        let mut json = Vec::new();
        sim.save(&mut serde_json::Serializer::new(&mut json))
            .expect("the model saves");
        json
    }

    fn restore(
        json: &[u8],
        with: &Restore<Forked>,
    ) -> Result<Simulation<Forked>, serde_json::Error> {
        Simulation::restore(&mut serde_json::Deserializer::from_slice(json), with)
    }

    proptest! {
        #![proptest_config(config(150))]

        /// Cut at a random event, save to JSON, restore into a fresh simulation: it goes on
        /// as the uncut run, and saving left the original as it was.
        #[test]
        fn a_restored_save_goes_on_exactly_as_the_original(plan in plan(), cut in 0u64..400) {
            cut_and_carry_on(&plan, cut, |sim| {
                let json = save(sim);
                restore(&json, &restore_with()).map_err(|e| TestCaseError::fail(e.to_string()))
            })?;
        }
    }

    /// A restore of a restore: saving the restored simulation at once gives the same file.
    #[test]
    fn a_restored_simulation_saves_the_same() {
        let mut sim = build(&Plan {
            seed: 5,
            actors: 5,
            budget: 30,
        });
        for _ in 0..80 {
            sim.step().unwrap();
        }
        let json = save(&mut sim);
        let mut again = restore(&json, &restore_with()).unwrap();
        // The map of finished processes is written in hash order: compare as values.
        let a: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&save(&mut again)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_file_of_another_format_is_refused_naming_both() {
        let mut sim = build(&Plan {
            seed: 1,
            actors: 2,
            budget: 5,
        });
        let json = String::from_utf8(save(&mut sim)).unwrap();
        let other = json.replacen(stepsim::save::FORMAT, "stepsim-save/0", 1);
        let err = restore(other.as_bytes(), &restore_with())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"stepsim-save/0\"") && err.contains(stepsim::save::FORMAT),
            "{err}"
        );
    }

    #[test]
    fn a_save_with_a_clock_before_zero_is_refused() {
        let mut sim = build(&Plan {
            seed: 1,
            actors: 2,
            budget: 5,
        });
        for _ in 0..10 {
            sim.step().unwrap();
        }
        let json = String::from_utf8(save(&mut sim)).unwrap();
        // The simulation's own clock: the first field named `now`, a number.
        let at = json.find("\"now\":").expect("the clock is saved") + "\"now\":".len();
        let end = at + json[at..].find([',', '}']).unwrap();
        assert!(json[at..end].parse::<f64>().unwrap() >= 0.0);
        let bad = format!("{}-1.0{}", &json[..at], &json[end..]);
        let err = restore(bad.as_bytes(), &restore_with())
            .unwrap_err()
            .to_string();
        assert!(err.contains("the saved clock is -1"), "{err}");
    }

    #[test]
    fn a_restore_without_the_functions_names_what_is_missing() {
        let mut sim = build(&Plan {
            seed: 1,
            actors: 2,
            budget: 5,
        });
        let json = save(&mut sim);
        let cases: [(Restore<Forked>, &str); 2] = [
            (
                Restore::new().order("reverse", reverse),
                "Restore::natural_order",
            ),
            (
                Restore::new().natural_order(),
                "\"reverse\": give it with Restore::order",
            ),
        ];
        for (with, says) in cases {
            let err = restore(&json, &with).unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
    }

    /// A process that waits in one `GetWhere` with the filter it was given.
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    struct Getter {
        q: QueueId,
        filter: Filter<u32>,
        got: Option<u32>,
    }

    struct Getters;

    impl Model for Getters {
        type Item = u32;
        type Cause = ();
        type Proc = Getter;
    }

    impl Process<Getters> for Getter {
        fn step(&mut self, _: &mut Context<'_, Getters>, wake: Wake<u32>) -> Command<u32> {
            match wake {
                Wake::Completed(Outcome::Got(x)) => {
                    self.got = Some(x);
                    Command::Done
                }
                _ => Command::GetWhere(self.q, self.filter.clone()),
            }
        }
    }

    fn waiting_with(filter: Filter<u32>) -> (Simulation<Getters>, QueueId, Pid) {
        let mut sim = Simulation::<Getters>::new(0);
        let q = sim.filter_queue(Capacity::Unbounded).unwrap();
        sim.keep_finished(true);
        let p = sim.spawn(Getter {
            q,
            filter,
            got: None,
        });
        sim.run().unwrap(); // it waits: nothing matches
        (sim, q, p)
    }

    fn big() -> Filter<u32> {
        Filter::named("big", |x: &u32| *x > 10)
    }

    #[test]
    fn a_waiting_filter_without_a_name_cannot_be_saved() {
        let (sim, ..) = waiting_with(Filter::new(|x: &u32| *x > 10));
        let err = sim.check_saveable().unwrap_err();
        assert_eq!(
            err.to_string(),
            "at t=0: cannot save a GetWhere waiting on q0 has a filter without a name (make it with Filter::named)"
        );
        let mut out = Vec::new();
        let err = sim
            .save(&mut serde_json::Serializer::new(&mut out))
            .unwrap_err();
        assert!(err.to_string().contains("Filter::named"), "{err}");
        assert!(out.is_empty(), "nothing written");
    }

    #[test]
    fn a_named_filter_is_given_again_by_name() {
        let (sim, q, p) = waiting_with(big());
        let mut json = Vec::new();
        sim.save(&mut serde_json::Serializer::new(&mut json))
            .unwrap();

        let missing = Simulation::<Getters>::restore(
            &mut serde_json::Deserializer::from_slice(&json),
            &Restore::new(),
        )
        .unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("the filter \"big\": give it with Restore::filter"),
            "{missing}"
        );

        let mut again = Simulation::<Getters>::restore(
            &mut serde_json::Deserializer::from_slice(&json),
            &Restore::new().filter(big()),
        )
        .unwrap();
        // The restored wait filters with the predicate given: 3 is passed over, 12 taken.
        for x in [3, 12] {
            again.context().try_put(q, x).unwrap();
        }
        again.run().unwrap();
        assert_eq!(again.process(p).unwrap().got, Some(12));
        assert_eq!(
            again
                .queue_view(q)
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            vec![3]
        );
    }

    /// Leaves its number as its exit value after a while; or joins another.
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    enum Leaver {
        Leaves(u32),
        Joins(Pid, Option<u32>),
    }

    struct Leavers;

    impl Model for Leavers {
        type Item = u32;
        type Cause = ();
        type Proc = Leaver;
    }

    impl Process<Leavers> for Leaver {
        fn step(&mut self, cx: &mut Context<'_, Leavers>, wake: Wake<u32>) -> Command<u32> {
            match (self, wake) {
                (Leaver::Leaves(_), Wake::Started) => Command::Sleep(5.0),
                (Leaver::Leaves(n), _) => {
                    cx.exit_value(*n);
                    Command::Done
                }
                (Leaver::Joins(p, _), Wake::Started) => Command::Join(*p),
                (Leaver::Joins(_, got), Wake::Completed(Outcome::Joined(_, exit))) => {
                    *got = match exit {
                        stepsim::Exit::Returned(v) => v,
                        _ => None,
                    };
                    Command::Done
                }
                _ => Command::Done,
            }
        }
    }

    #[test]
    fn exit_values_need_the_items_clone_again() {
        let mut sim = Simulation::<Leavers>::new(0);
        sim.keep_finished(true);
        let leaver = sim.spawn(Leaver::Leaves(42));
        let joiners: Vec<Pid> = (0..2)
            .map(|_| sim.spawn(Leaver::Joins(leaver, None)))
            .collect();
        // Cut at the instant the exit value is left, before the joiners are woken.
        sim.run_until(5.0).unwrap();
        while sim
            .process(joiners[0])
            .is_some_and(|_| !sim.is_finished(leaver).unwrap())
        {
            sim.step().unwrap();
        }
        let mut json = Vec::new();
        sim.save(&mut serde_json::Serializer::new(&mut json))
            .unwrap();
        let read = |with: &Restore<Leavers>| {
            Simulation::<Leavers>::restore(&mut serde_json::Deserializer::from_slice(&json), with)
        };
        let err = read(&Restore::new()).unwrap_err().to_string();
        assert!(err.contains("Restore::clone_values"), "{err}");
        let mut again = read(&Restore::new().clone_values()).unwrap();
        again.run().unwrap();
        for p in joiners {
            assert!(
                matches!(again.process(p), Some(Leaver::Joins(_, Some(42)))),
                "{:?}",
                again.process(p)
            );
        }
    }

    #[test]
    fn a_poisoned_simulation_cannot_be_saved() {
        #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
        struct Bomb;
        struct Bombs;
        impl Model for Bombs {
            type Item = u32;
            type Cause = ();
            type Proc = Bomb;
        }
        impl Process<Bombs> for Bomb {
            fn step(&mut self, _: &mut Context<'_, Bombs>, _: Wake<u32>) -> Command<u32> {
                panic!("boom")
            }
        }
        let mut sim = Simulation::<Bombs>::new(0);
        sim.spawn(Bomb);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.run()));
        assert!(run.is_err());
        let err = sim.check_saveable().unwrap_err();
        assert!(matches!(err, Error::Unsaveable { .. }), "{err:?}");
        assert!(err.to_string().contains("poisoned"), "{err}");
        let mut out = Vec::new();
        assert!(
            sim.save(&mut serde_json::Serializer::new(&mut out))
                .is_err()
        );
        assert!(out.is_empty(), "nothing written");
    }
}
