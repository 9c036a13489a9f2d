//! # A host program that feeds a simulation in real time
//!
//! A coffee bar runs as a simulation embedded in a host program — think of a server that
//! takes orders from the network, or a game loop. The simulation is paced against the wall
//! clock with `stepsim::realtime::Realtime` (here 25 ms of wall time per simulated minute,
//! so the 20 minutes below take half a second), and the host injects what comes from
//! outside **between steps**:
//!
//! - orders arriving (`try_put` into the order queue, at the simulation's current time);
//! - a fire alarm that interrupts the barista, who carries on where it was afterwards
//!   (`Interrupt::resume`: the drink it was making gets exactly the time that was left);
//! - and the host reads the simulation (the queue's length) whenever it likes.
//!
//! The host runs the model up to each input's time with `run_until`, which waits for the
//! wall clock on the way; a game loop would call `catch_up` once a frame instead. The output
//! prints simulated times only, so it is the same on every run; `--strict` makes the pacer
//! stop with `Error::TooSlow` if the model ever falls more than one factor (25 ms) behind.
//!
//! Run it with `cargo run --release --example realtime [-- --strict]`.

use std::time::{Duration, Instant};
use stepsim::realtime::Realtime;
use stepsim::{
    Capacity, Command, Context, Interrupt, Model, Outcome, Process, QueueId, Reason, Simulation,
    Wake,
};

/// The coffee bar's model: orders are drink names; an interrupt's cause is what happened.
struct Bar;

impl Model for Bar {
    type Item = &'static str;
    type Cause = &'static str;
    type Proc = Barista;
}

/// Makes the orders in turn, 3 minutes each.
struct Barista {
    orders: QueueId,
    state: State,
}

enum State {
    Waiting,
    Making(&'static str),
    /// Out of the bar for an alarm; `resume` is the interrupted wait, to carry on with.
    Outside {
        drink: Option<&'static str>,
        resume: Box<Interrupt<&'static str, &'static str>>,
    },
}

impl Process<Bar> for Barista {
    fn step(
        &mut self,
        cx: &mut Context<'_, Bar>,
        wake: Wake<&'static str, &'static str>,
    ) -> Command<&'static str> {
        let now = cx.now();
        match (std::mem::replace(&mut self.state, State::Waiting), wake) {
            (State::Waiting, Wake::Completed(Outcome::Got(drink))) => {
                println!("t={now:>5.2}  barista starts a {drink}");
                self.state = State::Making(drink);
                Command::Sleep(3.0)
            }
            (State::Making(drink), Wake::Completed(Outcome::Slept)) => {
                println!("t={now:>5.2}  barista hands over a {drink}");
                Command::Get(self.orders)
            }
            (State::Outside { drink, resume }, Wake::Completed(Outcome::Slept)) => {
                match drink {
                    Some(drink) => {
                        println!("t={now:>5.2}  barista is back and carries on with the {drink}");
                        self.state = State::Making(drink);
                    }
                    None => println!("t={now:>5.2}  barista is back"),
                }
                resume.resume()
            }
            (State::Outside { drink, resume }, Wake::Interrupted(i)) => {
                // Another alarm while outside: stay out for what was left.
                self.state = State::Outside { drink, resume };
                i.resume()
            }
            (state, Wake::Interrupted(i)) => {
                let drink = match state {
                    State::Making(drink) => Some(drink),
                    _ => None,
                };
                let cause = match &i.cause {
                    Reason::Interrupt(cause) => *cause,
                    _ => "an interruption",
                };
                match (drink, i.remaining_sleep()) {
                    (Some(drink), Some(left)) => println!(
                        "t={now:>5.2}  barista leaves for {cause}, {left:.2} min of the {drink} left"
                    ),
                    _ => println!("t={now:>5.2}  barista leaves for {cause}"),
                }
                self.state = State::Outside {
                    drink,
                    resume: Box::new(i),
                };
                Command::Sleep(2.0)
            }
            // Started (and nothing else is issued): wait for an order.
            (_, _) => Command::Get(self.orders),
        }
    }
}

/// What the host receives from outside, at simulated minutes.
enum Input {
    Order(&'static str),
    Alarm,
}

const INPUTS: [(f64, Input); 6] = [
    (0.5, Input::Order("flat white")),
    (1.0, Input::Order("cortado")),
    (2.0, Input::Order("mocha")),
    (4.5, Input::Alarm),
    (9.0, Input::Order("latte")),
    (16.0, Input::Order("macchiato")),
];

fn main() -> Result<(), stepsim::Error> {
    let strict = std::env::args().any(|a| a == "--strict");
    let mut sim = Simulation::<Bar>::new(1);
    let orders = sim.queue(Capacity::Unbounded)?;
    let barista = sim.spawn_named(
        "barista",
        Barista {
            orders,
            state: State::Waiting,
        },
    );

    let factor = Duration::from_millis(25);
    let mut pacer = Realtime::new(factor).strict(strict);
    let started = Instant::now();
    pacer.sync(&sim);
    for (at, input) in INPUTS {
        // Run the model, at the wall clock's pace, up to the input's time ...
        pacer.run_until(&mut sim, at)?;
        // ... and feed it in, between two steps.
        match input {
            Input::Order(drink) => {
                let waiting = sim.queue_view(orders)?.len();
                println!("t={at:>5.2}  host: order for a {drink} ({waiting} waiting before it)");
                sim.context()
                    .try_put(orders, drink)
                    .expect("the order queue is unbounded");
            }
            Input::Alarm => {
                println!("t={at:>5.2}  host: fire alarm");
                sim.interrupt(barista, "a fire alarm")?;
            }
        }
    }
    pacer.run_until(&mut sim, 20.0)?;
    let wall = started.elapsed();
    println!(
        "t={:>5.2}  closing: {} orders waiting",
        sim.now(),
        sim.queue_view(orders)?.len()
    );
    // The wall clock cannot run ahead of the pacer: 20 minutes at 25 ms each.
    assert!(wall >= 20 * factor, "paced run took only {wall:?}");
    Ok(())
}
