//! # Carwash — SimPy's `carwash.py`, ported line by line
//!
//! SimPy 4.1.2 ships this model in `docs/examples/code/carwash.py` together with the output
//! it prints (`carwash.out`). This port prints exactly the same bytes
//! (`tests/expected/carwash.txt`, checked by `tests/examples.rs`).
//!
//! A carwash has two washing machines (a resource with two slots). Four cars are there at
//! opening time and another one arrives every 5 to 9 minutes. A car takes a machine, waits
//! for the washing process to finish, and leaves; the washing process takes 5 minutes and
//! then reports how much dirt it removed (a random 50–99 %). The run stops at t = 20.
//!
//! ## From SimPy to stepsim
//!
//! | `carwash.py` | here |
//! |---|---|
//! | `simpy.Resource(env, num_machines)` | `sim.resource(NUM_MACHINES)` |
//! | `setup()`: 4 × `env.process(car(..))`, then `yield env.timeout(randint(5, 9))` in a loop | [`Setup`]: `cx.spawn_named(..)` four times, then `Command::Sleep` in a loop |
//! | `car()`: `with cw.machine.request() as request: yield request` | [`Car`]: `Command::Acquire(machine)` → `Wake::Completed(Outcome::Acquired)` |
//! | `yield env.process(cw.wash(name))` | `let wash = cx.spawn(..)`, then `Command::Join(wash)` → `Wake::Completed(Outcome::Joined)` |
//! | leaving the `with` block (releases the machine) | `cx.release(machine)` |
//! | `wash()`: `yield env.timeout(washtime)`, then `randint(50, 99)` | [`Wash`]: `Command::Sleep(washtime)` → `Wake::Completed(Outcome::Slept)` |
//! | `random.seed(42)`, `random.randint` | one [`PyRandom`] shared by every process (`Rc<RefCell<_>>`), as Python's module-level generator is |
//! | `env.run(until=SIM_TIME)` | `sim.run_until(SIM_TIME)` |
//!
//! ## Why the output matches to the byte
//!
//! Random numbers are drawn at the same points of the same processes as in Python, and the
//! processes run in the same order at every instant, so the same draw goes to the same car.
//! Look at t = 5: the setup process's timer (set at t = 0, before the washes even started)
//! fires first, so car 4 arrives — and the next arrival gap is drawn — before either wash
//! draws its percentage. Then the washes of cars 0 and 1 finish, in the order they started.
//! A process's exit is an event of its own (SimPy's process event), so both "removed" lines
//! come before the cars wake; each car then releases its machine, and a released machine
//! goes to the next car in line through another event (SimPy's `Release` event), which is
//! why both "leaves" lines come before both "enters" lines.
//!
//! Run it with `cargo run --release --example carwash`.

#[path = "support/pyrandom.rs"]
mod pyrandom;

use pyrandom::PyRandom;
use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{Boxed, Command, Context, Outcome, Process, ResourceId, Simulation, Wake};

/// No queues and no interrupts in this model: only a resource, timers and joins.
type M = Boxed<()>;

const RANDOM_SEED: u128 = 42;
/// Number of machines in the carwash.
const NUM_MACHINES: usize = 2;
/// Minutes it takes to clean a car.
const WASHTIME: f64 = 5.0;
/// Create a car every ~7 minutes.
const T_INTER: i64 = 7;
/// Simulation time in minutes.
const SIM_TIME: f64 = 20.0;

/// What `carwash.py`'s `Carwash` object holds, plus the random generator that Python keeps
/// at module level. Cheap to clone: every process gets its own copy.
#[derive(Clone)]
struct Carwash {
    machine: ResourceId,
    washtime: f64,
    rng: Rc<RefCell<PyRandom>>,
}

/// `Carwash.wash(car)`: takes `washtime` minutes, then reports how much dirt it removed.
struct Wash {
    car: String,
    carwash: Carwash,
}

impl Process<M> for Wash {
    fn step(&mut self, _cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        match wake {
            Wake::Started => Command::Sleep(self.carwash.washtime),
            Wake::Completed(Outcome::Slept) => {
                let pct_dirt = self.carwash.rng.borrow_mut().randint(50, 99);
                println!("Carwash removed {pct_dirt}% of {}'s dirt.", self.car);
                Command::Done
            }
            other => unreachable!("wash: unexpected {other:?}"),
        }
    }
}

/// `car(env, name, cw)`: arrives, takes a machine, waits for its wash, leaves.
struct Car {
    name: String,
    carwash: Carwash,
}

impl Process<M> for Car {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let (name, now) = (&self.name, cx.now());
        match wake {
            Wake::Started => {
                println!("{name} arrives at the carwash at {now:.2}.");
                Command::Acquire(self.carwash.machine)
            }
            Wake::Completed(Outcome::Acquired(_)) => {
                println!("{name} enters the carwash at {now:.2}.");
                let wash = cx.spawn(Box::new(Wash {
                    car: name.clone(),
                    carwash: self.carwash.clone(),
                }));
                Command::Join(wash)
            }
            Wake::Completed(Outcome::Joined(..)) => {
                println!("{name} leaves the carwash at {now:.2}.");
                // The end of Python's `with cw.machine.request()` block.
                cx.release(self.carwash.machine);
                Command::Done
            }
            other => unreachable!("{name}: unexpected {other:?}"),
        }
    }
}

/// `setup(env, ..)`: four cars at opening time, then one every 5 to 9 minutes, for ever.
struct Setup {
    carwash: Carwash,
    /// Python's `itertools.count()`: the next car's number.
    car_count: u32,
}

impl Setup {
    fn new_car(&mut self, cx: &mut Context<'_, M>) {
        let name = format!("Car {}", self.car_count);
        self.car_count += 1;
        let car = Car {
            name: name.clone(),
            carwash: self.carwash.clone(),
        };
        cx.spawn_named(name, Box::new(car));
    }

    /// `yield env.timeout(random.randint(t_inter - 2, t_inter + 2))`
    fn wait_for_next_car(&mut self) -> Command<()> {
        let gap = self
            .carwash
            .rng
            .borrow_mut()
            .randint(T_INTER - 2, T_INTER + 2);
        Command::Sleep(gap as f64)
    }
}

impl Process<M> for Setup {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        match wake {
            Wake::Started => {
                for _ in 0..4 {
                    self.new_car(cx);
                }
                self.wait_for_next_car()
            }
            Wake::Completed(Outcome::Slept) => {
                self.new_car(cx);
                self.wait_for_next_car()
            }
            other => unreachable!("setup: unexpected {other:?}"),
        }
    }
}

fn main() -> Result<(), stepsim::Error> {
    println!("Carwash");
    println!("Check out http://youtu.be/fXXmeP9TvBg while simulating ... ;-)");
    // The seed of the Python program's `random.seed(RANDOM_SEED)`; stepsim's own seed is
    // irrelevant here (this model draws from no stepsim stream).
    let rng = Rc::new(RefCell::new(PyRandom::new(RANDOM_SEED)));

    let mut sim = Simulation::<M>::new(0);
    let carwash = Carwash {
        machine: sim.resource(NUM_MACHINES)?,
        washtime: WASHTIME,
        rng,
    };
    sim.spawn_named(
        "setup",
        Box::new(Setup {
            carwash,
            car_count: 0,
        }),
    );
    sim.run_until(SIM_TIME)
}
