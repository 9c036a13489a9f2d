//! # Resource contention: customers share two pumps
//!
//! A gas station has two pumps: a resource with capacity 2. Customers arrive one to three
//! time units apart; each one `Acquire`s a pump (waiting in FIFO order while both are in
//! use), fills up for three to six time units, gives the pump back with `cx.release(pump)`,
//! and leaves. The log shows who waits and for how long; the summary lists each
//! customer's waiting time.
//!
//! **Randomness, reproducibly.** Gaps and fill-up times are drawn from random streams
//! derived from the simulation's seed: `sim.new_stream(key)` / `cx.new_stream(key)` make a
//! stream that gives the same draws for the same `(seed, key)`. The arrival process keeps
//! its own stream, and each
//! customer draws its fill-up time from a stream keyed by its number, so adding a customer
//! or changing the arrival pattern would not change anyone else's fill-up time (common
//! random numbers). The draws are whole numbers (`random_range`) to keep the log readable;
//! for continuous distributions use `stepsim::rand_distr`, e.g.
//! `Exp::new(rate).unwrap().sample(&mut rng)` (with its `Distribution` in scope).
//!
//! The final check: the pumps were never over-subscribed, customers got a pump in the
//! order they arrived, everyone was served, and both pumps are free at the end.
//!
//! Run it with `cargo run --example resource_contention`.

use std::cell::RefCell;
use std::rc::Rc;
use stepsim::rand::RngExt;
use stepsim::{Boxed, Command, Context, Outcome, Process, ResourceId, Simulation, Stream, Wake};

type M = Boxed<()>;

const CUSTOMERS: u32 = 8;
const PUMPS: usize = 2;

/// One served customer, as reported in the summary.
struct Visit {
    id: u32,
    arrived: f64,
    got_pump: f64,
    left: f64,
}

/// Everything shared with `main`: the visits, and the most pumps ever in use at once.
#[derive(Default)]
struct Station {
    visits: Vec<Visit>,
    max_in_use: usize,
}

/// "2/2 in use, 1 waiting"
fn pumps(cx: &Context<'_, M>, pump: ResourceId) -> String {
    let view = cx.resource_view(pump).expect("our pump");
    format!(
        "{}/{} in use, {} waiting",
        view.in_use(),
        view.capacity(),
        view.queue_len()
    )
}

/// A customer's life: arrive, wait for a pump, fill up, release the pump, leave.
enum Customer {
    Arriving {
        id: u32,
    },
    Waiting {
        id: u32,
        arrived: f64,
        fill: f64,
    },
    Filling {
        id: u32,
        arrived: f64,
        got_pump: f64,
    },
}

/// The process: a customer plus what it needs to know about the station.
struct Driver {
    pump: ResourceId,
    station: Rc<RefCell<Station>>,
    state: Customer,
}

impl Process<M> for Driver {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let t = cx.now();
        match (&self.state, wake) {
            (&Customer::Arriving { id }, Wake::Started) => {
                // This customer's own stream: its fill-up time depends only on (seed, id).
                let fill = f64::from(cx.new_stream(100 + u64::from(id)).random_range(3..=6u32));
                println!(
                    "t={t:4.1}  customer {id} arrives, needs {fill} ({})",
                    pumps(cx, self.pump)
                );
                self.state = Customer::Waiting {
                    id,
                    arrived: t,
                    fill,
                };
                Command::Acquire(self.pump)
            }
            (&Customer::Waiting { id, arrived, fill }, Wake::Completed(Outcome::Acquired(_))) => {
                let view = cx.resource_view(self.pump).expect("our pump");
                let mut station = self.station.borrow_mut();
                station.max_in_use = station.max_in_use.max(view.in_use());
                println!(
                    "t={t:4.1}  customer {id} gets a pump after waiting {} ({})",
                    t - arrived,
                    pumps(cx, self.pump)
                );
                self.state = Customer::Filling {
                    id,
                    arrived,
                    got_pump: t,
                };
                Command::Sleep(fill)
            }
            (
                &Customer::Filling {
                    id,
                    arrived,
                    got_pump,
                },
                Wake::Completed(Outcome::Slept),
            ) => {
                // Give the pump back; the next waiter gets it at this same instant.
                cx.release(self.pump);
                println!("t={t:4.1}  customer {id} leaves ({})", pumps(cx, self.pump));
                self.station.borrow_mut().visits.push(Visit {
                    id,
                    arrived,
                    got_pump,
                    left: t,
                });
                Command::Done
            }
            (_, other) => unreachable!("unexpected {other:?}"),
        }
    }
}

/// Spawns `CUSTOMERS` customers, 1 to 3 time units apart.
struct Arrivals {
    pump: ResourceId,
    station: Rc<RefCell<Station>>,
    gaps: Stream,
    spawned: u32,
}

impl Process<M> for Arrivals {
    fn step(&mut self, cx: &mut Context<'_, M>, _wake: Wake<()>) -> Command<()> {
        self.spawned += 1;
        let id = self.spawned;
        cx.spawn_named(
            format!("customer {id}"),
            Box::new(Driver {
                pump: self.pump,
                station: self.station.clone(),
                state: Customer::Arriving { id },
            }),
        );
        if self.spawned == CUSTOMERS {
            return Command::Done;
        }
        Command::Sleep(f64::from(self.gaps.random_range(1..=3u32)))
    }
}

fn main() -> Result<(), stepsim::Error> {
    let mut sim = Simulation::<M>::new(2024);
    let pump = sim.resource(PUMPS)?;
    let station = Rc::new(RefCell::new(Station::default()));
    sim.spawn_named(
        "arrivals",
        Box::new(Arrivals {
            pump,
            station: station.clone(),
            gaps: sim.new_stream(1),
            spawned: 0,
        }),
    );
    sim.run()?;

    // ----- summary and self-check -----
    let station = station.borrow();
    let mut visits: Vec<&Visit> = station.visits.iter().collect();
    visits.sort_by_key(|v| v.id);
    println!();
    println!("customer  arrived  got pump  waited  left");
    for v in &visits {
        println!(
            "{:8}  {:7}  {:8}  {:6}  {:4}",
            v.id,
            v.arrived,
            v.got_pump,
            v.got_pump - v.arrived,
            v.left
        );
    }
    let total_wait: f64 = visits.iter().map(|v| v.got_pump - v.arrived).sum();
    let waited = visits.iter().filter(|v| v.got_pump > v.arrived).count();
    println!(
        "{waited} of {} customers waited; mean wait {:.2}; most pumps in use at once: {}",
        visits.len(),
        total_wait / visits.len() as f64,
        station.max_in_use
    );

    assert_eq!(visits.len(), CUSTOMERS as usize, "everyone was served");
    assert!(
        station.max_in_use <= PUMPS,
        "never more than {PUMPS} pumps in use"
    );
    assert!(waited > 0, "there was contention");
    // FIFO: pumps are granted in arrival order.
    for pair in visits.windows(2) {
        assert!(pair[0].arrived <= pair[1].arrived);
        assert!(
            pair[0].got_pump <= pair[1].got_pump,
            "granted in arrival order"
        );
    }
    let view = sim.resource_view(pump)?;
    assert_eq!(
        (view.in_use(), view.queue_len()),
        (0, 0),
        "pumps free at the end"
    );
    println!("ok: never more than {PUMPS} pumps in use, served in arrival order");
    Ok(())
}
