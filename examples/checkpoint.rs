//! # Checkpoints: warm a model up once, fork what-ifs, save and restore across runs
//!
//! A bank with two tellers and one line (customers arrive every minute on average, service
//! takes 1.8 minutes on average: the tellers are 90% busy). The model is warmed up once, to
//! t = 200 (its statistics are reset there, so the warm-up's empty start does not count),
//! and then *forked*: `Simulation` is `Clone`, and each fork goes on from the same warm
//! state. Four branches run to t = 2,000 and print side by side:
//!
//! - as is;
//! - with one more teller (a process spawned into the fork);
//! - with faster service (every teller's mean service time set to 1.5 minutes);
//! - with other arrivals from t = 200 on (the arrivals drawn from another stream).
//!
//! The warm state can also be saved to a file and restored by another run of the program
//! (`stepsim::save`, the `serde` feature), and the branches then print the same table:
//!
//! ```sh
//! cargo run --example checkpoint --features serde                       # all in one run
//! cargo run --example checkpoint --features serde -- --save warm.json   # warm up, save
//! cargo run --example checkpoint --features serde -- --restore warm.json  # restore, branch
//! ```

use serde::{Deserialize, Serialize};
use stepsim::rand_distr::{Distribution, Exp};
use stepsim::save::Restore;
use stepsim::{
    Capacity, Command, Context, Model, Outcome, Process, QueueId, Simulation, Stream, Tally, Wake,
};

const WARM_UP: f64 = 200.0;
const HORIZON: f64 = 2000.0;

struct Bank;

impl Model for Bank {
    type Item = Customer;
    type Cause = ();
    type Proc = Actor;
}

/// A customer in line: when it came.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Customer {
    arrived: f64,
}

#[derive(Clone, Serialize, Deserialize)]
enum Actor {
    Arrivals(Arrivals),
    Teller(Teller),
}

/// Sends a customer into the line every Exp(1) minutes, drawn from its own stream (which a
/// what-if can replace).
#[derive(Clone, Serialize, Deserialize)]
struct Arrivals {
    line: QueueId,
    stream: Stream,
}

/// Serves the line; keeps the waits of the customers it served.
#[derive(Clone, Serialize, Deserialize)]
struct Teller {
    line: QueueId,
    mean_service: f64,
    waits: Tally,
}

impl Process<Bank> for Actor {
    fn step(&mut self, cx: &mut Context<'_, Bank>, wake: Wake<Customer>) -> Command<Customer> {
        match self {
            Actor::Arrivals(a) => {
                if !matches!(wake, Wake::Started) {
                    let arrived = cx.now();
                    cx.try_put(a.line, Customer { arrived })
                        .expect("the line is unbounded");
                }
                Command::Sleep(Exp::new(1.0).expect("a rate").sample(&mut a.stream))
            }
            Actor::Teller(t) => match wake {
                Wake::Completed(Outcome::Got(customer)) => {
                    t.waits.add(cx.now() - customer.arrived);
                    let rate = 1.0 / t.mean_service;
                    Command::Sleep(Exp::new(rate).expect("a rate").sample(cx.rng()))
                }
                _ => Command::Get(t.line),
            },
        }
    }
}

/// The bank at t = 0: two tellers, the arrivals, a monitored line.
fn open() -> Result<Simulation<Bank>, stepsim::Error> {
    let mut sim = Simulation::<Bank>::new(2024);
    let line = sim.queue(Capacity::Unbounded)?;
    sim.monitor(line, "line")?;
    let stream = sim.new_stream_named("arrivals");
    sim.spawn_named("arrivals", Actor::Arrivals(Arrivals { line, stream }));
    for k in 1..=2 {
        sim.spawn_named(
            format!("teller-{k}"),
            Actor::Teller(Teller {
                line,
                mean_service: 1.8,
                waits: Tally::new(),
            }),
        );
    }
    Ok(sim)
}

/// Runs the warm-up, and starts the statistics afresh at its end.
fn warm_up() -> Result<Simulation<Bank>, stepsim::Error> {
    let mut sim = open()?;
    sim.run_until(WARM_UP)?;
    sim.reset_monitors();
    for (_, actor) in sim.processes_mut() {
        if let Actor::Teller(t) = actor {
            t.waits.reset();
        }
    }
    Ok(sim)
}

fn tellers(sim: &mut Simulation<Bank>) -> impl Iterator<Item = &mut Teller> {
    sim.processes_mut().filter_map(|(_, a)| match a {
        Actor::Teller(t) => Some(t),
        Actor::Arrivals(_) => None,
    })
}

fn line_of(sim: &mut Simulation<Bank>) -> QueueId {
    tellers(sim).next().expect("a teller").line
}

/// The four branches, forked from the warm model, run to the horizon.
fn branches(warm: &Simulation<Bank>) -> Result<Vec<(String, Simulation<Bank>)>, stepsim::Error> {
    let as_is = warm.clone();

    let mut more = warm.clone();
    let line = line_of(&mut more);
    more.spawn_named(
        "teller-3",
        Actor::Teller(Teller {
            line,
            mean_service: 1.8,
            waits: Tally::new(),
        }),
    );

    let mut faster = warm.clone();
    for t in tellers(&mut faster) {
        t.mean_service = 1.5;
    }

    let mut other = warm.clone();
    let stream = other.new_stream(7);
    for (_, actor) in other.processes_mut() {
        if let Actor::Arrivals(a) = actor {
            a.stream = stream.clone();
        }
    }

    let mut runs = vec![
        ("as is".to_owned(), as_is),
        ("one more teller".to_owned(), more),
        ("faster service (1.5)".to_owned(), faster),
        ("other arrivals (stream 7)".to_owned(), other),
    ];
    for (_, sim) in &mut runs {
        sim.run_until(HORIZON)?;
    }
    Ok(runs)
}

/// One branch's line of the table.
fn result(name: &str, sim: &mut Simulation<Bank>) -> String {
    let mut waits = Tally::new();
    for t in tellers(sim) {
        waits.merge(&t.waits).expect("finite waits");
    }
    let now = sim.now();
    let stats = sim.statistics();
    let line = stats.queue("line").expect("the line is monitored");
    format!(
        "{name:<26} {:>7} {:>10.2} {:>13.1} {:>10.2}",
        waits.count(),
        waits.mean().unwrap_or(0.0),
        waits.max().unwrap_or(0.0),
        line.mean_length(now).unwrap_or(0.0),
    )
}

fn table(warm: &Simulation<Bank>) -> Result<String, stepsim::Error> {
    let mut out = format!(
        "what if, from t={WARM_UP} to t={HORIZON} (statistics from t={WARM_UP} on):\n\
         {:<26} {:>7} {:>10} {:>13} {:>10}\n",
        "branch", "served", "mean wait", "longest wait", "mean line"
    );
    for (name, mut sim) in branches(warm)? {
        out += &result(&name, &mut sim);
        out.push('\n');
    }
    Ok(out)
}

/// The functions a restored bank needs again: none (no priority queues, filters or exit
/// values), so an empty `Restore`.
fn restore(json: &[u8]) -> Result<Simulation<Bank>, String> {
    Simulation::restore(
        &mut serde_json::Deserializer::from_slice(json),
        &Restore::new(),
    )
    .map_err(|e| e.to_string())
}

fn save(sim: &mut Simulation<Bank>) -> Result<Vec<u8>, String> {
    let mut json = Vec::new();
    sim.save(&mut serde_json::Serializer::new(&mut json))
        .map_err(|e| e.to_string())?;
    Ok(json)
}

fn describe(sim: &mut Simulation<Bank>) -> Result<String, stepsim::Error> {
    let line = line_of(sim);
    let waiting = sim.queue_view(line)?.len();
    Ok(format!(
        "the warm bank at t={}: 2 tellers, {waiting} customers in line",
        sim.now()
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => {
            let mut warm = warm_up()?;
            println!("{}", describe(&mut warm)?);
            print!("{}", table(&warm)?);
            // The same warm model through a save and a restore: the same table.
            let mut restored = restore(&save(&mut warm)?)?;
            let same = table(&restored)? == table(&warm)?;
            println!(
                "saved and restored ({}), the warm model gives the same table: {}",
                describe(&mut restored)?
                    .split(':')
                    .next()
                    .unwrap_or_default(),
                if same { "yes" } else { "NO" }
            );
            if !same {
                return Err("a restored model went another way".into());
            }
        }
        ["--save", file] => {
            let mut warm = warm_up()?;
            println!("{}", describe(&mut warm)?);
            std::fs::write(file, save(&mut warm)?)?;
            println!("saved to {file}");
        }
        ["--restore", file] => {
            let mut warm = restore(&std::fs::read(file)?)?;
            println!("{}", describe(&mut warm)?);
            print!("{}", table(&warm)?);
        }
        _ => return Err("usage: checkpoint [--save FILE | --restore FILE]".into()),
    }
    Ok(())
}
