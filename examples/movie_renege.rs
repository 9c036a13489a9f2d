//! # Movie renege — SimPy's `movie_renege.py`, ported line by line
//!
//! SimPy 4.1.2 ships this model in `docs/examples/code/movie_renege.py` together with the
//! output it prints (`movie_renege.out`). This port prints exactly the same bytes
//! (`tests/expected/movie_renege.txt`, checked by `tests/examples.rs`).
//!
//! A movie theatre has one ticket counter selling tickets for three movies (next show
//! only). Moviegoers arrive every 0.5 minutes on average, each wanting 1 to 6 tickets for
//! one movie, and queue at the counter. When a movie sells out (fewer than 2 tickets left),
//! everyone queueing for it leaves at once ("reneges"). A moviegoer who reaches the counter
//! but finds too few tickets left argues for half a minute and leaves. The run stops at
//! t = 120 and reports when each movie sold out and how many people left the queue.
//!
//! ## From SimPy to stepsim
//!
//! | `movie_renege.py` | here |
//! |---|---|
//! | `counter=simpy.Resource(env, capacity=1)` | `sim.resource(1)` |
//! | `sold_out={movie: env.event() ..}` | one signal per movie: `sim.signal()` |
//! | `with theater.counter.request() as my_turn:` … `result = yield my_turn \| theater.sold_out[movie]` | [`Moviegoer`]: `Command::first_of([Command::Acquire(counter), Command::Signal(sold_out)])` |
//! | `if my_turn not in result:` (sold out while queueing) | `Wake::First(First { index: 1, .. })`; the losing `Acquire` was already withdrawn from the counter's queue |
//! | otherwise: our turn | `Wake::First(First { index: 0, .. })`: the moviegoer now holds the counter |
//! | `theater.sold_out[movie].succeed()` | `cx.trigger(sold_out)` |
//! | `yield env.timeout(0.5)` / `yield env.timeout(1)`, then leaving the `with` block | `Command::Sleep(..)`, then `cx.release(counter)` |
//! | `customer_arrivals()`: `timeout(expovariate(1 / 0.5))`, `choice(movies)`, `randint(1, 6)`, `env.process(moviegoer(..))` | [`Arrivals`] |
//! | the `Theater` named tuple, shared by every process | [`Theater`] in an `Rc<RefCell<_>>` |
//! | `random.seed(42)` and the module-level `random` functions | one [`PyRandom`] (only the arrival process draws) |
//! | `env.run(until=SIM_TIME)` | `sim.run_until(SIM_TIME)` |
//!
//! The Python program tests `if theater.sold_out[movie]:` before printing a movie's line; a
//! SimPy event has no truth value of its own, so that test always passes (and all three
//! movies do sell out). The port asks what the program means: whether the signal fired.
//!
//! ## Why the output matches to the byte
//!
//! Only the arrival process draws random numbers, so the draws line up as long as it runs
//! at the same times — but *whether* a moviegoer is created depends on the tickets left,
//! which depends on who got the counter when. Same-instant order matters here: when a
//! moviegoer triggers the sold-out signal, its firing is an event of its own (SimPy's
//! `succeed()` schedules the event), every moviegoer waiting for that movie wakes through
//! it, in the order they started waiting, and their `FirstOf`s resume one event later, as
//! SimPy's condition events do.
//!
//! Run it with `cargo run --release --example movie_renege`.

#[path = "support/pyrandom.rs"]
mod pyrandom;

use pyrandom::PyRandom;
use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{
    Boxed, Command, Context, First, Outcome, Process, ResourceId, SignalId, Simulation, Wake,
};

/// No queues and no interrupts in this model: a resource, signals and timers.
type M = Boxed<()>;

const RANDOM_SEED: u128 = 42;
/// Number of tickets per movie.
const TICKETS: i64 = 50;
/// Fewer tickets than this is a sellout.
const SELLOUT_THRESHOLD: i64 = 2;
/// Simulate until.
const SIM_TIME: f64 = 120.0;

const MOVIES: [&str; 3] = ["Python Unchained", "Kill Process", "Pulp Implementation"];

/// `Theater(NamedTuple)`: the state every process shares. Movies are indices into
/// [`MOVIES`] (Python's dictionaries are keyed by the titles).
struct Theater {
    counter: ResourceId,
    available: [i64; 3],
    sold_out: [SignalId; 3],
    when_sold_out: [Option<f64>; 3],
    num_renegers: [u32; 3],
}

type Shared = Rc<RefCell<Theater>>;

/// `moviegoer(env, movie, num_tickets, theater)`: tries to buy `num_tickets` tickets for
/// `movie`, unless the movie sells out while she is queueing.
struct Moviegoer {
    movie: usize,
    num_tickets: i64,
    theater: Shared,
    state: State,
}

/// The `yield`s of `moviegoer()`, as states.
enum State {
    /// Not started yet.
    Arriving,
    /// `result = yield my_turn | theater.sold_out[movie]`
    Queueing,
    /// At the counter, too few tickets left: `yield env.timeout(0.5)`.
    Arguing,
    /// At the counter, tickets bought: `yield env.timeout(1)`.
    Buying,
}

impl Process<M> for Moviegoer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let movie = self.movie;
        let mut theater = self.theater.borrow_mut();
        match (&self.state, wake) {
            (State::Arriving, Wake::Started) => {
                self.state = State::Queueing;
                // Wait until it's our turn or until the movie is sold out.
                Command::first_of([
                    Command::Acquire(theater.counter),
                    Command::Signal(theater.sold_out[movie]),
                ])
            }
            (State::Queueing, Wake::First(First { index: 1, .. })) => {
                // Sold out while queueing: leave. The counter request was withdrawn when
                // the signal won, so there is nothing to cancel.
                theater.num_renegers[movie] += 1;
                Command::Done
            }
            (State::Queueing, Wake::First(First { index: 0, .. })) => {
                // Our turn. Check if enough tickets are left.
                if theater.available[movie] < self.num_tickets {
                    // The moviegoer leaves after some discussion.
                    self.state = State::Arguing;
                    return Command::Sleep(0.5);
                }
                // Buy tickets.
                theater.available[movie] -= self.num_tickets;
                if theater.available[movie] < SELLOUT_THRESHOLD {
                    // Trigger the "sold out" signal for the movie.
                    cx.trigger(theater.sold_out[movie]);
                    theater.when_sold_out[movie] = Some(cx.now());
                    theater.available[movie] = 0;
                }
                self.state = State::Buying;
                Command::Sleep(1.0)
            }
            (State::Arguing | State::Buying, Wake::Completed(Outcome::Slept)) => {
                // The end of the `with theater.counter.request()` block.
                cx.release(theater.counter);
                Command::Done
            }
            (_, other) => unreachable!("moviegoer: unexpected {other:?}"),
        }
    }
}

/// `customer_arrivals(env, theater)`: creates new moviegoers until the simulation stops.
struct Arrivals {
    theater: Shared,
    rng: PyRandom,
}

impl Process<M> for Arrivals {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        if let Wake::Completed(Outcome::Slept) = wake {
            // `random.choice(theater.movies)`, as an index into `MOVIES`.
            let movie = *self.rng.choice(&[0, 1, 2]);
            let num_tickets = self.rng.randint(1, 6);
            if self.theater.borrow().available[movie] != 0 {
                cx.spawn(Box::new(Moviegoer {
                    movie,
                    num_tickets,
                    theater: self.theater.clone(),
                    state: State::Arriving,
                }));
            }
        }
        Command::Sleep(self.rng.expovariate(1.0 / 0.5))
    }
}

fn main() -> Result<(), stepsim::Error> {
    println!("Movie renege");
    let rng = PyRandom::new(RANDOM_SEED);
    let mut sim = Simulation::<M>::new(0);

    // Create movie theater.
    let theater = Rc::new(RefCell::new(Theater {
        counter: sim.resource(1)?,
        available: [TICKETS; 3],
        sold_out: [sim.signal(), sim.signal(), sim.signal()],
        when_sold_out: [None; 3],
        num_renegers: [0; 3],
    }));

    // Start process and run.
    sim.spawn_named(
        "customer_arrivals",
        Box::new(Arrivals {
            theater: theater.clone(),
            rng,
        }),
    );
    sim.run_until(SIM_TIME)?;

    // Analysis/results.
    let theater = theater.borrow();
    for (movie, title) in MOVIES.iter().enumerate() {
        if sim.signal_view(theater.sold_out[movie])?.has_fired() {
            let sellout_time = theater.when_sold_out[movie].expect("set when it fired");
            let num_renegers = theater.num_renegers[movie];
            println!(
                "Movie \"{title}\" sold out {sellout_time:.1} minutes after ticket counter opening."
            );
            println!("  Number of people leaving queue when film sold out: {num_renegers}");
        }
    }
    Ok(())
}
