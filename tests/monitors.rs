//! Monitors on queues, resources and containers: queueing theory, Little's law, and small
//! hand-computed histories.

use stepsim::rand_distr::{Distribution, Exp};
use stepsim::stats::{ConfidenceInterval, Summary};
use stepsim::{
    Boxed, Capacity, Command, Context, Outcome, Process, QueueId, ResourceId, Simulation, Stream,
    Wake,
};

type M = Boxed<f64>;

// ----- M/M/c against Erlang C -----

/// Erlang C: (P(wait), Lq, Wq, L, utilization) of an M/M/c queue.
fn erlang_c(lambda: f64, mu: f64, c: usize) -> (f64, f64, f64, f64, f64) {
    let a = lambda / mu;
    let rho = a / c as f64;
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho); // a^c / (c! (1 - rho))
    let p_wait = last / (sum + last);
    let lq = p_wait * rho / (1.0 - rho);
    let wq = lq / lambda;
    (p_wait, lq, wq, lq + a, rho)
}

/// Arrivals: spawns a customer every Exp(lambda), each with its Exp(mu) service time.
struct Source {
    servers: ResourceId,
    rng: Stream,
    gaps: Exp<f64>,
    services: Exp<f64>,
}

impl Process<M> for Source {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<f64>) -> Command<f64> {
        if let Wake::Completed(Outcome::Slept) = wake {
            let service = self.services.sample(&mut self.rng);
            cx.spawn(Box::new(Customer {
                servers: self.servers,
                service,
            }));
        }
        Command::Sleep(self.gaps.sample(&mut self.rng))
    }
}

/// Takes a server for its service time.
struct Customer {
    servers: ResourceId,
    service: f64,
}

impl Process<M> for Customer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<f64>) -> Command<f64> {
        match wake {
            Wake::Started => Command::Acquire(self.servers),
            Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(self.service),
            _ => {
                cx.release(self.servers);
                Command::Done
            }
        }
    }
}

/// Batch means of an M/M/c run: `batches` batches of `length` after a warm-up of `length`,
/// each read from the monitor and then reset. Per batch: (Lq, Wq, L, utilization,
/// arrival rate of granted customers).
fn mmc_batches(
    seed: u64,
    lambda: f64,
    mu: f64,
    c: usize,
    batches: usize,
    length: f64,
) -> Vec<[f64; 5]> {
    let mut sim = Simulation::<M>::new(seed);
    let servers = sim.resource(c).unwrap();
    sim.monitor(servers, "servers").unwrap();
    sim.spawn(Box::new(Source {
        servers,
        rng: sim.new_stream(1),
        gaps: Exp::new(lambda).unwrap(),
        services: Exp::new(mu).unwrap(),
    }));
    sim.run_until(length).unwrap();
    sim.reset_monitors();
    (1..=batches)
        .map(|b| {
            let end = length * (b + 1) as f64;
            sim.run_until(end).unwrap();
            let stats = sim.statistics();
            let m = stats.resource("servers").unwrap();
            let lq = m.queue_length().mean(end).unwrap();
            let wq = m.wait().mean().unwrap();
            let busy = m.in_use().mean(end).unwrap();
            let rate = m.wait().count() as f64 / length;
            sim.reset_monitors();
            [lq, wq, lq + busy, m.utilization(end).unwrap(), rate]
        })
        .collect()
}

fn ci(batches: &[[f64; 5]], k: usize) -> ConfidenceInterval {
    let values: Vec<f64> = batches.iter().map(|b| b[k]).collect();
    Summary::of(&values).unwrap().ci(0.95).unwrap()
}

fn check_mmc(seed: u64, lambda: f64, mu: f64, c: usize) {
    let (_, lq, wq, l, rho) = erlang_c(lambda, mu, c);
    let batches = mmc_batches(seed, lambda, mu, c, 20, 2_000.0);
    for (k, (what, theory)) in [("Lq", lq), ("Wq", wq), ("L", l), ("utilization", rho)]
        .into_iter()
        .enumerate()
    {
        let ci = ci(&batches, k);
        assert!(
            ci.contains(theory),
            "M/M/{c} λ={lambda} μ={mu}: {what} = {theory}, batch means give {ci}"
        );
        assert!(
            ci.relative_half_width().unwrap() < 0.2,
            "{what}: {ci} is too wide to mean anything"
        );
    }
    // Little's law from the monitors alone, batch by batch: Lq = λ Wq, with λ the rate of
    // granted requests in the batch (customers still waiting at a boundary make the two
    // sides differ a little within a batch, never on average).
    let little: Vec<f64> = batches.iter().map(|b| b[0] - b[4] * b[1]).collect();
    let diff = Summary::of(&little).unwrap().ci(0.95).unwrap();
    assert!(diff.contains(0.0), "Lq - λ·Wq per batch: {diff}");
}

#[test]
fn an_mm1_queue_matches_theory() {
    check_mmc(11, 0.5, 1.0, 1);
}

#[test]
fn an_mm3_queue_matches_erlang_c() {
    check_mmc(12, 2.0, 1.0, 3);
}

#[test]
fn erlang_c_matches_published_values() {
    // M/M/1: P(wait) = ρ, Lq = ρ²/(1 − ρ).
    let (p, lq, wq, l, rho) = erlang_c(0.5, 1.0, 1);
    assert!((p - 0.5).abs() < 1e-12 && (lq - 0.5).abs() < 1e-12 && (wq - 1.0).abs() < 1e-12);
    assert!((l - 1.0).abs() < 1e-12 && (rho - 0.5).abs() < 1e-12);
    // M/M/3 with a = 2: P(wait) = 4/9, Lq = 8/9.
    let (p, lq, ..) = erlang_c(2.0, 1.0, 3);
    assert!((p - 4.0 / 9.0).abs() < 1e-12, "{p}");
    assert!((lq - 8.0 / 9.0).abs() < 1e-12, "{lq}");
}

// ----- queue monitors: Little's law for items -----

/// Puts an item every Exp(1); a consumer takes one every Exp(1/0.8).
struct Producer {
    q: QueueId,
    rng: Stream,
}

impl Process<M> for Producer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<f64>) -> Command<f64> {
        match wake {
            Wake::Completed(Outcome::Slept) => Command::Put(self.q, cx.now()),
            _ => Command::Sleep(Exp::new(1.0).unwrap().sample(&mut self.rng)),
        }
    }
}

struct Consumer {
    q: QueueId,
    rng: Stream,
}

impl Process<M> for Consumer {
    fn step(&mut self, _: &mut Context<'_, M>, wake: Wake<f64>) -> Command<f64> {
        match wake {
            Wake::Completed(Outcome::Got(_)) => {
                Command::Sleep(Exp::new(1.25).unwrap().sample(&mut self.rng))
            }
            _ => Command::Get(self.q),
        }
    }
}

#[test]
fn a_queue_monitor_obeys_littles_law() {
    let mut sim = Simulation::<M>::new(3);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    sim.monitor(q, "buffer").unwrap();
    sim.spawn(Box::new(Producer {
        q,
        rng: sim.new_stream(1),
    }));
    sim.spawn(Box::new(Consumer {
        q,
        rng: sim.new_stream(2),
    }));
    sim.run_until(50_000.0).unwrap();
    let now = sim.now();
    let stats = sim.statistics();
    let m = stats.queue("buffer").unwrap();
    let (l, w) = (m.mean_length(now).unwrap(), m.stay().mean().unwrap());
    let lambda = m.gets() as f64 / now;
    // Items in the buffer only (the consumer's service is outside it): an M/M/1's Lq = 3.2.
    assert!(
        (l - lambda * w).abs() / l < 0.02,
        "L = {l}, λW = {}",
        lambda * w
    );
    assert!((l - 3.2).abs() < 0.6, "Lq = {l}");
    assert!(m.puts() >= m.gets() && m.puts() - m.gets() == sim.queue_view(q).unwrap().len() as u64);
}

// ----- hand-computed histories -----

/// `a` is `b` up to rounding.
#[track_caller]
fn close(a: Option<f64>, b: f64) {
    let a = a.expect("a value");
    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} != {b}");
}

/// A script of commands, each issued after the previous wake.
struct Script(std::vec::IntoIter<Command<f64>>);

impl Process<M> for Script {
    fn step(&mut self, _: &mut Context<'_, M>, _: Wake<f64>) -> Command<f64> {
        self.0.next().unwrap_or(Command::Done)
    }
}

fn script(commands: Vec<Command<f64>>) -> Box<dyn Process<M>> {
    Box::new(Script(commands.into_iter()))
}

#[test]
fn a_container_level_that_changes_at_known_times() {
    let mut sim = Simulation::<M>::new(0);
    let tank = sim.container(100.0, 10.0).unwrap();
    sim.monitor(tank, "tank").unwrap();
    // Level 10 on [0, 2), 4 on [2, 5), 24 on [5, 10).
    sim.spawn(script(vec![
        Command::Sleep(2.0),
        Command::GetAmount(tank, 6.0),
        Command::Sleep(3.0),
        Command::PutAmount(tank, 20.0),
    ]));
    sim.run_until(10.0).unwrap();
    let view = sim.container_view(tank).unwrap();
    let level = view.monitor().unwrap().level();
    close(
        level.mean(10.0),
        (10.0 * 2.0 + 4.0 * 3.0 + 24.0 * 5.0) / 10.0,
    );
    assert_eq!((level.min(), level.max()), (4.0, 24.0));
}

#[test]
fn withdrawn_requests_are_counted_apart_from_grants() {
    let mut sim = Simulation::<M>::new(0);
    let clerk = sim.resource(1).unwrap();
    sim.monitor(clerk, "clerk").unwrap();
    // Holds the clerk from 0 to 10.
    sim.spawn(script(vec![Command::Acquire(clerk), Command::Sleep(10.0)]));
    // Waits 4, then reneges.
    sim.spawn(script(vec![Command::first_of([
        Command::Acquire(clerk),
        Command::Sleep(4.0),
    ])]));
    // Waits from 1 until the clerk is free at 10, holds it to 12.
    sim.spawn(script(vec![
        Command::Sleep(1.0),
        Command::Acquire(clerk),
        Command::Sleep(2.0),
    ]));
    sim.run().unwrap();
    let now = sim.now();
    assert_eq!(now, 12.0);
    let view = sim.resource_view(clerk).unwrap();
    let m = view.monitor().unwrap();
    assert_eq!(m.wait().count(), 2);
    assert_eq!(m.wait().mean(), Some((0.0 + 9.0) / 2.0));
    assert_eq!(m.withdrawn().count(), 1);
    assert_eq!(m.withdrawn().mean(), Some(4.0));
    // Waiting: 1 on [0, 1), 2 on [1, 4), 1 on [4, 10), 0 on [10, 12).
    close(m.queue_length().mean(now), (1.0 + 6.0 + 6.0) / 12.0);
    assert_eq!(m.utilization(now), Some(1.0));
}

#[test]
fn a_warm_up_reset_drops_the_transient() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    sim.monitor(q, "q").unwrap();
    // Five items at 0, taken one per time unit from 1 on.
    for _ in 0..5 {
        sim.context().try_put(q, 0.0).unwrap();
    }
    sim.spawn(script(
        (0..5)
            .flat_map(|_| [Command::Sleep(1.0), Command::Get(q)])
            .collect(),
    ));
    sim.run_until(3.5).unwrap();
    sim.reset_monitors();
    sim.run_until(10.0).unwrap();
    let view = sim.queue_view(q).unwrap();
    let m = view.monitor().unwrap();
    // After the reset at 3.5: length 2 on [3.5, 4), 1 on [4, 5), 0 on [5, 10).
    close(m.mean_length(10.0), (2.0 * 0.5 + 1.0) / 6.5);
    assert_eq!(m.gets(), 2);
    // The items taken at 4 and 5 entered at 0: an item keeps its whole stay.
    assert_eq!(m.stay().mean(), Some(4.5));
}

#[test]
fn monitoring_twice_is_an_error_and_unmonitored_primitives_have_no_monitor() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let r = sim.resource(1).unwrap();
    assert!(sim.queue_view(q).unwrap().monitor().is_none());
    sim.monitor(q, "q").unwrap();
    assert!(sim.monitor(q, "again").is_err());
    assert!(sim.resource_view(r).unwrap().monitor().is_none());
    let other = Simulation::<M>::new(0).resource(1).unwrap();
    assert!(sim.monitor(other, "foreign").is_err());
}

#[test]
fn the_statistics_table_and_csv_name_every_monitor() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let r = sim.resource(2).unwrap();
    let c = sim.container(10.0, 5.0).unwrap();
    sim.monitor(q, "jobs").unwrap();
    sim.monitor(r, "desks").unwrap();
    sim.monitor(c, "paper").unwrap();
    sim.spawn(script(vec![
        Command::Acquire(r),
        Command::Put(q, 1.0),
        Command::Sleep(4.0),
    ]));
    sim.run().unwrap();
    let stats = sim.statistics();
    let table = stats.to_string();
    for name in [
        "jobs: length",
        "jobs: stay",
        "desks: in use",
        "desks: utilization",
        "desks: wait",
        "paper: level",
    ] {
        assert!(table.contains(name), "{name} missing from\n{table}");
    }
    let csv = stats.to_csv();
    assert!(csv.starts_with("name,statistic,value\n"), "{csv}");
    assert!(
        csv.contains("desks: utilization,utilization,0.5\n"),
        "{csv}"
    );
}

#[cfg(feature = "serde")]
#[test]
fn statistics_round_trip_through_json() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.resource(1).unwrap();
    sim.monitor(r, "desk").unwrap();
    sim.spawn(script(vec![Command::Acquire(r), Command::Sleep(3.0)]));
    sim.spawn(script(vec![Command::Acquire(r), Command::Sleep(1.0)]));
    sim.run().unwrap();
    let stats = sim.statistics();
    let json = serde_json::to_string(&stats).unwrap();
    let back: stepsim::Statistics = serde_json::from_str(&json).unwrap();
    assert_eq!(back, stats);
    assert_eq!(back.to_csv(), stats.to_csv());
}
