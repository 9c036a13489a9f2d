//! # Bank renege — SimPy's `bank_renege.py`, ported line by line
//!
//! SimPy 4.1.2 ships this model in `docs/examples/code/bank_renege.py` together with the
//! output it prints (`bank_renege.out`). This port prints exactly the same bytes
//! (`tests/expected/bank_renege.txt`, checked by `tests/examples.rs`).
//!
//! A bank has one counter. Five customers arrive, exponentially distributed 10 seconds apart
//! on average. Each one waits for the counter, but only for a random 1 to 3 seconds of
//! patience: a customer who reaches the counter in time is served for an exponentially
//! distributed time (12 seconds on average); one whose patience runs out first leaves
//! ("reneges").
//!
//! ## From SimPy to stepsim
//!
//! | `bank_renege.py` | here |
//! |---|---|
//! | `simpy.Resource(env, capacity=1)` | `sim.resource(1)` |
//! | `source()`: `env.process(customer(..))`, then `yield env.timeout(expovariate(..))`, five times | [`Source`]: `cx.spawn_named(..)`, then `Command::Sleep(..)` |
//! | `with counter.request() as req:` … `results = yield req \| env.timeout(patience)` | [`Customer`]: `Command::first_of([Command::Acquire(counter), Command::Sleep(patience)])` |
//! | `if req in results:` (we got to the counter) | `Wake::First(First { index: 0, .. })` — the customer now holds the counter |
//! | `else:` (we reneged) | `Wake::First(First { index: 1, .. })` |
//! | leaving the `with` block: a granted request is released, a pending one cancelled | after service: `cx.release(counter)`; after reneging there is nothing to do, because the losing `Acquire` was already withdrawn from the counter's queue when the timer won |
//! | `random.seed(42)`, `random.uniform`, `random.expovariate` | one [`PyRandom`] shared by every process (`Rc<RefCell<_>>`), as Python's module-level generator is |
//!
//! ## Why the output matches to the byte
//!
//! Random numbers are drawn by the same processes in the same order as in Python: the source
//! spawns a customer and draws the next gap *in the same step*, before the new customer's
//! first step (a process start is an event of its own) draws its patience. A `FirstOf` whose
//! first branch is satisfied at once (the counter is free) still resumes the customer
//! through two events — the request's own, then the `FirstOf`'s — as SimPy's request and
//! condition events do. Nothing else happens at those instants here, so it does not show,
//! but it is what keeps busier models in step (see `movie_renege`).
//!
//! Python formats with `f'{x:7.4f}'` and `f'{x:6.3f}'`; Rust's `{x:7.4}` and `{x:6.3}` give
//! the same text (both round the exact binary value correctly, ties to even).
//!
//! Run it with `cargo run --release --example bank_renege`.

#[path = "support/pyrandom.rs"]
mod pyrandom;

use pyrandom::PyRandom;
use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{Boxed, Command, Context, First, Outcome, Process, ResourceId, Simulation, Wake};

/// No queues and no interrupts in this model: a resource and timers.
type M = Boxed<()>;
type Rng = Rc<RefCell<PyRandom>>;

const RANDOM_SEED: u128 = 42;
/// Total number of customers.
const NEW_CUSTOMERS: u32 = 5;
/// Generate new customers roughly every x seconds.
const INTERVAL_CUSTOMERS: f64 = 10.0;
/// Min. customer patience.
const MIN_PATIENCE: f64 = 1.0;
/// Max. customer patience.
const MAX_PATIENCE: f64 = 3.0;

/// `source(env, number, interval, counter)`: generates customers randomly.
struct Source {
    number: u32,
    interval: f64,
    counter: ResourceId,
    rng: Rng,
    /// The loop variable `i`.
    i: u32,
}

impl Process<M> for Source {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        debug_assert!(matches!(
            wake,
            Wake::Started | Wake::Completed(Outcome::Slept)
        ));
        // One turn of `for i in range(number)` per step.
        if self.i == self.number {
            return Command::Done;
        }
        let name = format!("Customer{:02}", self.i);
        self.i += 1;
        let customer = Customer::new(name.clone(), self.counter, 12.0, self.rng.clone());
        cx.spawn_named(name, Box::new(customer));
        let t = self.rng.borrow_mut().expovariate(1.0 / self.interval);
        Command::Sleep(t)
    }
}

/// `customer(env, name, counter, time_in_bank)`: arrives, is served or reneges, leaves.
struct Customer {
    name: String,
    counter: ResourceId,
    time_in_bank: f64,
    rng: Rng,
    /// When the customer arrived (`arrive = env.now`).
    arrive: f64,
    /// Where the generator would be suspended.
    state: State,
}

/// The `yield`s of `customer()`, as states.
enum State {
    /// Not started yet.
    Arriving,
    /// `results = yield req | env.timeout(patience)`
    Waiting,
    /// At the counter: `yield env.timeout(tib)`
    Served,
}

impl Customer {
    fn new(name: String, counter: ResourceId, time_in_bank: f64, rng: Rng) -> Self {
        Customer {
            name,
            counter,
            time_in_bank,
            rng,
            arrive: 0.0,
            state: State::Arriving,
        }
    }
}

impl Process<M> for Customer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let (name, now) = (&self.name, cx.now());
        match (&self.state, wake) {
            (State::Arriving, Wake::Started) => {
                self.arrive = now;
                println!("{now:7.4} {name}: Here I am");
                let patience = self.rng.borrow_mut().uniform(MIN_PATIENCE, MAX_PATIENCE);
                self.state = State::Waiting;
                // Wait for the counter or abort at the end of our tether.
                Command::first_of([Command::Acquire(self.counter), Command::Sleep(patience)])
            }
            (State::Waiting, Wake::First(First { index, .. })) => {
                let wait = now - self.arrive;
                if index == 0 {
                    // We got to the counter.
                    println!("{now:7.4} {name}: Waited {wait:6.3}");
                    let tib = self.rng.borrow_mut().expovariate(1.0 / self.time_in_bank);
                    self.state = State::Served;
                    Command::Sleep(tib)
                } else {
                    // We reneged. The request was withdrawn when the timer won: this
                    // customer never held the counter, and nothing is left to cancel.
                    println!("{now:7.4} {name}: RENEGED after {wait:6.3}");
                    Command::Done
                }
            }
            (State::Served, Wake::Completed(Outcome::Slept)) => {
                println!("{now:7.4} {name}: Finished");
                // The end of the `with counter.request()` block.
                cx.release(self.counter);
                Command::Done
            }
            (_, other) => unreachable!("{name}: unexpected {other:?}"),
        }
    }
}

fn main() -> Result<(), stepsim::Error> {
    println!("Bank renege");
    // The seed of the Python program's `random.seed(RANDOM_SEED)`; stepsim's own seed is
    // irrelevant here (this model draws from no stepsim stream).
    let rng = Rc::new(RefCell::new(PyRandom::new(RANDOM_SEED)));
    let mut sim = Simulation::<M>::new(0);

    let counter = sim.resource(1)?;
    sim.spawn_named(
        "source",
        Box::new(Source {
            number: NEW_CUSTOMERS,
            interval: INTERVAL_CUSTOMERS,
            counter,
            rng,
            i: 0,
        }),
    );
    sim.run()?;
    Ok(())
}
