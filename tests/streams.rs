//! Random streams: each process's own stream (`cx.rng()`), how its key stays put when other
//! processes are added, streams made per purpose (`new_stream`), and simulations that move
//! to another thread (`Send`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use stepsim::rand::{Rng, RngExt};
use stepsim::rand_distr::{Distribution, Exp};
use stepsim::{
    Boxed, Command, Context, Model, Outcome, Process, Simulation, Stream, TraceLog, Wake,
};

type M = Boxed<()>;
/// Each drawer's draws, by its label.
type Draws = Rc<RefCell<BTreeMap<String, Vec<u64>>>>;

/// Draws one number from its own stream at each of `n` steps, one time unit apart.
struct Drawer {
    label: String,
    left: u32,
    draws: Draws,
}

impl Process<M> for Drawer {
    fn step(&mut self, cx: &mut Context<'_, M>, _: Wake<()>) -> Command<()> {
        if self.left == 0 {
            return Command::Done;
        }
        self.left -= 1;
        let x = cx.rng().next_u64();
        self.draws
            .borrow_mut()
            .entry(self.label.clone())
            .or_default()
            .push(x);
        Command::Sleep(1.0)
    }
}

fn drawer(label: &str, draws: &Draws) -> Box<dyn Process<M>> {
    Box::new(Drawer {
        label: label.to_owned(),
        left: 4,
        draws: draws.clone(),
    })
}

/// What a spawner spawns: a drawer with this label, named (`Some`) or not; a spawner of
/// its own `children` if there are any.
#[derive(Clone)]
struct Child {
    label: &'static str,
    name: Option<&'static str>,
    children: Vec<Child>,
}

fn unnamed(label: &'static str) -> Child {
    Child {
        label,
        name: None,
        children: Vec::new(),
    }
}

fn named(label: &'static str, name: &'static str) -> Child {
    Child {
        label,
        name: Some(name),
        children: Vec::new(),
    }
}

/// Spawns its children at start, one after another, then draws like a drawer itself.
struct Spawner {
    children: Vec<Child>,
    me: Drawer,
}

impl Process<M> for Spawner {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        if let Wake::Started = wake {
            for c in std::mem::take(&mut self.children) {
                let p = if c.children.is_empty() {
                    drawer(c.label, &self.me.draws)
                } else {
                    spawner(c.label, c.children, &self.me.draws)
                };
                match c.name {
                    Some(name) => cx.spawn_named(name, p),
                    None => cx.spawn(p),
                };
            }
        }
        self.me.step(cx, wake)
    }
}

fn spawner(label: &str, children: Vec<Child>, draws: &Draws) -> Box<dyn Process<M>> {
    Box::new(Spawner {
        children,
        me: Drawer {
            label: label.to_owned(),
            left: 4,
            draws: draws.clone(),
        },
    })
}

/// Runs a model built by `build` with `seed`; every drawer's draws by label.
fn run(seed: u64, build: impl FnOnce(&mut Simulation<M>, &Draws)) -> BTreeMap<String, Vec<u64>> {
    let draws = Draws::default();
    let mut sim = Simulation::<M>::new(seed);
    build(&mut sim, &draws);
    sim.run().unwrap();
    draws.take()
}

// ----- the trap: a process's own stream carries on -----

#[test]
fn a_process_draws_new_numbers_at_every_step() {
    let draws = run(5, |sim, d| {
        sim.spawn(drawer("a", d));
    });
    let a = &draws["a"];
    assert_eq!(a.len(), 4);
    for (i, x) in a.iter().enumerate() {
        assert!(!a[i + 1..].contains(x), "draw {i} repeats: {a:?}");
    }
}

#[test]
fn the_same_seed_gives_the_same_draws_and_another_seed_others() {
    let model = |sim: &mut Simulation<M>, d: &Draws| {
        sim.spawn(drawer("a", d));
        sim.spawn(spawner("g", vec![unnamed("c0"), named("n", "n")], d));
    };
    let first = run(11, model);
    assert_eq!(first.len(), 4);
    assert_eq!(run(11, model), first);
    let other = run(12, model);
    for (label, xs) in &first {
        assert_ne!(&other[label], xs, "{label}");
    }
}

#[test]
fn every_process_gets_its_own_stream() {
    let draws = run(3, |sim, d| {
        sim.spawn(drawer("a", d));
        sim.spawn(drawer("b", d));
        sim.spawn_named("n", drawer("n", d));
        sim.spawn(spawner("g", vec![unnamed("c0"), unnamed("c1")], d));
    });
    let firsts: Vec<u64> = draws.values().map(|xs| xs[0]).collect();
    assert_eq!(firsts.len(), 6);
    for (i, x) in firsts.iter().enumerate() {
        assert!(!firsts[i + 1..].contains(x), "{draws:?}");
    }
}

#[test]
fn a_process_draws_exponential_gaps_with_the_reexported_rand_distr() {
    /// Sleeps exponential gaps and remembers them.
    struct Poisson {
        gaps: Rc<RefCell<Vec<f64>>>,
    }
    impl Process<M> for Poisson {
        fn step(&mut self, cx: &mut Context<'_, M>, _: Wake<()>) -> Command<()> {
            let gap = Exp::new(2.0).unwrap().sample(cx.rng());
            self.gaps.borrow_mut().push(gap);
            Command::Sleep(gap)
        }
    }
    let gaps = Rc::new(RefCell::new(Vec::new()));
    let mut sim = Simulation::<M>::new(9);
    sim.spawn(Box::new(Poisson { gaps: gaps.clone() }));
    sim.run_until(500.0).unwrap();
    let gaps = gaps.borrow();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!(gaps.len() > 800, "{} gaps", gaps.len());
    assert!((mean - 0.5).abs() < 0.05, "mean gap {mean}");
}

// ----- stability: adding processes elsewhere changes nobody's draws -----

#[test]
fn adding_a_process_to_another_spawner_changes_no_draws() {
    let base = run(1, |sim, d| {
        sim.spawn(spawner("g", vec![unnamed("g0"), unnamed("g1")], d));
        sim.spawn(drawer("a", d));
        sim.spawn(spawner("h", vec![unnamed("h0")], d));
    });
    // `g` spawns one more, after its others.
    let more = run(1, |sim, d| {
        sim.spawn(spawner(
            "g",
            vec![unnamed("g0"), unnamed("g1"), unnamed("g2")],
            d,
        ));
        sim.spawn(drawer("a", d));
        sim.spawn(spawner("h", vec![unnamed("h0")], d));
    });
    assert_eq!(more.len(), base.len() + 1);
    for (label, xs) in &base {
        assert_eq!(&more[label], xs, "{label}");
    }
    // Grandchildren: spawned by the children of `g` and `h`, they shift nobody either
    // (`g0` and `h0` keep their own draws when they become spawners).
    let deeper = run(1, |sim, d| {
        let mut g0 = unnamed("g0");
        g0.children = vec![unnamed("g00"), named("g01", "g01")];
        sim.spawn(spawner("g", vec![g0, unnamed("g1")], d));
        sim.spawn(drawer("a", d));
        let mut h0 = unnamed("h0");
        h0.children = vec![unnamed("h00")];
        sim.spawn(spawner("h", vec![h0], d));
    });
    assert_eq!(deeper.len(), base.len() + 3);
    for (label, xs) in &base {
        assert_eq!(&deeper[label], xs, "{label}");
    }
    // Whereas a process added to the *same* spawner before the others shifts those after it
    // (their spawn counts change): the documented rule.
    let before = run(1, |sim, d| {
        sim.spawn(spawner(
            "g",
            vec![unnamed("new"), unnamed("g0"), unnamed("g1")],
            d,
        ));
        sim.spawn(drawer("a", d));
        sim.spawn(spawner("h", vec![unnamed("h0")], d));
    });
    assert_eq!(before["a"], base["a"]);
    assert_eq!(before["new"], base["g0"]);
    assert_eq!(before["g0"], base["g1"]);
}

#[test]
fn adding_a_named_process_changes_no_draws() {
    let base = run(2, |sim, d| {
        sim.spawn(drawer("a", d));
        sim.spawn(spawner(
            "g",
            vec![unnamed("g0"), named("t1", "tester-1")],
            d,
        ));
        sim.spawn(drawer("b", d));
    });
    // Named processes added first, at the root and inside `g`, and another name.
    let more = run(2, |sim, d| {
        sim.spawn_named("extra", drawer("x", d));
        sim.spawn(drawer("a", d));
        sim.spawn(spawner(
            "g",
            vec![named("y", "other"), unnamed("g0"), named("t1", "tester-1")],
            d,
        ));
        sim.spawn(drawer("b", d));
    });
    assert_eq!(more.len(), base.len() + 2);
    for (label, xs) in &base {
        assert_eq!(&more[label], xs, "{label}");
    }
}

#[test]
fn a_named_process_keeps_its_draws_whoever_spawns_it() {
    let from_root = run(4, |sim, d| {
        sim.spawn_named("clerk", drawer("clerk", d));
    });
    let from_a_process = run(4, |sim, d| {
        sim.spawn(drawer("a", d));
        sim.spawn(spawner(
            "g",
            vec![unnamed("g0"), named("clerk", "clerk")],
            d,
        ));
    });
    assert_eq!(from_a_process["clerk"], from_root["clerk"]);
}

#[test]
fn processes_with_one_name_get_different_streams_in_spawn_order() {
    let draws = run(6, |sim, d| {
        sim.spawn_named("customer", drawer("first", d));
        sim.spawn_named("customer", drawer("second", d));
    });
    assert_ne!(draws["first"], draws["second"]);
    // The first "customer" is the first whoever else is around.
    let alone = run(6, |sim, d| {
        sim.spawn(drawer("a", d));
        sim.spawn_named("customer", drawer("first", d));
    });
    assert_eq!(alone["first"], draws["first"]);
}

// ----- outside any process -----

#[test]
fn outside_any_process_rng_is_the_simulations_own_stream() {
    let mut sim = Simulation::<M>::new(8);
    let a = sim.rng().next_u64();
    let b = sim.context().rng().next_u64();
    let c = sim.rng().next_u64();
    // One stream, carrying on...
    assert!(a != b && b != c && a != c);
    // ...the same for the same seed...
    let mut again = Simulation::<M>::new(8);
    let mut cx = again.context();
    assert_eq!(
        [
            cx.rng().next_u64(),
            cx.rng().next_u64(),
            cx.rng().next_u64()
        ],
        [a, b, c]
    );
    // ...and apart from the processes' and the purposes' streams.
    let draws = run(8, |sim, d| {
        sim.spawn(drawer("p", d));
    });
    assert_ne!(draws["p"][0], a);
    assert_ne!(sim.new_stream(0).next_u64(), a);
}

#[test]
fn context_of_a_process_gives_its_stream() {
    let draws = run(10, |sim, d| {
        sim.spawn(drawer("p", d));
    });
    let mut sim = Simulation::<M>::new(10);
    let pid = sim.spawn(Box::new(Drawer {
        label: String::new(),
        left: 0,
        draws: Draws::default(),
    }));
    let mut cx = sim.context_of(pid).unwrap();
    let mine: Vec<u64> = (0..4).map(|_| cx.rng().next_u64()).collect();
    assert_eq!(mine, draws["p"]);
}

// ----- streams made per purpose -----

#[test]
fn new_stream_makes_a_fresh_generator_at_every_call() {
    let mut sim = Simulation::<M>::new(2024);
    let take = |mut s: Stream| -> Vec<u64> { (0..5).map(|_| s.next_u64()).collect() };
    // Same key twice: the same numbers (documented: make it once and keep it).
    assert_eq!(take(sim.new_stream(3)), take(sim.new_stream(3)));
    assert_eq!(
        take(sim.new_stream_named("arrivals")),
        take(sim.new_stream_named("arrivals"))
    );
    assert_ne!(take(sim.new_stream(3)), take(sim.new_stream(4)));
    assert_ne!(
        take(sim.new_stream_named("arrivals")),
        take(sim.new_stream_named("service"))
    );
    // A context makes the same streams as the simulation.
    let from_sim = take(sim.new_stream(3));
    let cx = sim.context();
    assert_eq!(take(cx.new_stream(3)), from_sim);
    let named = take(cx.new_stream_named("arrivals"));
    assert_eq!(named, take(sim.new_stream_named("arrivals")));
    // Drawing from the simulation's own stream does not touch them.
    sim.rng().random::<u64>();
    assert_eq!(take(sim.new_stream(3)), from_sim);
}

// ----- Send -----

/// A model whose processes are `Send`: one enum.
struct Shop;

enum Actor {
    Customer {
        left: u32,
        waits: Arc<Mutex<Vec<f64>>>,
    },
    Source {
        customers: u32,
    },
}

impl Model for Shop {
    type Item = u64;
    type Cause = String;
    type Proc = Actor;
}

impl Process<Shop> for Actor {
    fn step(&mut self, cx: &mut Context<'_, Shop>, wake: Wake<u64, String>) -> Command<u64> {
        match self {
            Actor::Source { customers } => {
                if *customers == 0 {
                    return Command::Done;
                }
                *customers -= 1;
                let waits = Arc::new(Mutex::new(Vec::new()));
                cx.spawn(Actor::Customer { left: 3, waits });
                Command::Sleep(Exp::new(1.0).unwrap().sample(cx.rng()))
            }
            Actor::Customer { left, waits } => {
                if let Wake::Completed(Outcome::Slept) = wake {
                    waits.lock().unwrap().push(cx.now());
                }
                if *left == 0 {
                    return Command::Done;
                }
                *left -= 1;
                Command::Sleep(cx.rng().random_range(0.5..1.5))
            }
        }
    }
}

/// A model whose processes are boxed, and `Send`.
struct Boxes;

impl Model for Boxes {
    type Item = ();
    type Cause = ();
    type Proc = Box<dyn Process<Boxes> + Send>;
}

fn assert_send<T: Send>() {}

#[test]
fn a_simulation_of_send_types_is_send() {
    assert_send::<Simulation<Shop>>();
    assert_send::<Simulation<Boxes>>();
    assert_send::<TraceLog>();
}

fn shop(seed: u64, log: &TraceLog) -> Simulation<Shop> {
    let mut sim = Simulation::<Shop>::new(seed);
    sim.observe(log.clone());
    sim.spawn_named("source", Actor::Source { customers: 20 });
    sim
}

#[test]
fn a_simulation_runs_on_another_thread_and_comes_back() {
    let here_log = TraceLog::new();
    let mut here = shop(77, &here_log);
    here.run().unwrap();

    let log = TraceLog::new();
    let sim = shop(77, &log);
    let handle = std::thread::spawn(move || {
        let mut sim = sim;
        sim.run().map(|_| (sim.now(), sim.events(), sim))
    });
    let (now, events, mut sim) = handle.join().unwrap().unwrap();
    assert_eq!(now, here.now());
    assert_eq!(events, here.events());
    // The trace recorded on the other thread is here, the same as the one run here.
    assert!(!log.is_empty());
    assert_eq!(log.to_csv(), here_log.to_csv());
    // And the simulation that came back still works.
    sim.spawn(Actor::Source { customers: 1 });
    sim.run().unwrap();
    assert!(sim.now() >= now);
}

#[test]
fn replications_run_on_threads_and_match_the_sequential_ones() {
    let replicate = |seed: u64| {
        let mut sim = shop(seed, &TraceLog::new());
        sim.run().unwrap();
        sim.now()
    };
    let sequential: Vec<f64> = (0..4).map(replicate).collect();
    let threads: Vec<_> = (0..4)
        .map(|seed| {
            let mut sim = shop(seed, &TraceLog::new());
            std::thread::spawn(move || {
                sim.run().unwrap();
                sim.now()
            })
        })
        .collect();
    let parallel: Vec<f64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(parallel, sequential);
    assert!(sequential.windows(2).all(|w| w[0] != w[1]));
}

#[test]
fn an_observer_closure_records_into_an_arc_mutex() {
    let seen = Arc::new(Mutex::new(0usize));
    let sink = Arc::clone(&seen);
    let mut sim = Simulation::<Boxes>::new(1);
    sim.observe(move |_: &stepsim::TraceEvent<'_>| *sink.lock().unwrap() += 1);
    struct Once;
    impl Process<Boxes> for Once {
        fn step(&mut self, _: &mut Context<'_, Boxes>, wake: Wake<()>) -> Command<()> {
            match wake {
                Wake::Started => Command::Sleep(1.0),
                _ => Command::Done,
            }
        }
    }
    sim.spawn(Box::new(Once));
    let events = std::thread::spawn(move || {
        sim.run().unwrap();
        sim.events()
    })
    .join()
    .unwrap();
    assert_eq!(events, 3);
    assert_eq!(*seen.lock().unwrap(), 3); // started, slept, done
}
