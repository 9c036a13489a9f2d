//! # Process communication — SimPy's `process_communication.py`, ported line by line
//!
//! SimPy 4.1.2 ships this model in `docs/examples/code/process_communication.py` together
//! with the output it prints (`process_communication.out`). This port prints exactly the
//! same bytes (`tests/expected/process_communication.txt`, checked by `tests/examples.rs`).
//!
//! Processes talk through queues ("pipes"). A generator sends a time-stamped message every 6
//! to 10 time units; a consumer takes messages one at a time and then works for 4 to 8 time
//! units, so it sometimes comes back to a message that has been waiting: it reports those as
//! LATE. The program runs twice, for 100 time units each:
//! 1. **one-to-one**: one generator, one consumer, one queue;
//! 2. **one-to-many**: a broadcast pipe copies every message into one queue per consumer,
//!    and two consumers read their own copies at their own pace.
//!
//! ## From SimPy to stepsim
//!
//! | `process_communication.py` | here |
//! |---|---|
//! | `simpy.Store(env)` | `sim.queue(Capacity::Unbounded)` carrying [`Message`]s |
//! | `out_pipe.put(msg)` (not yielded: an unbounded store never blocks) | `cx.try_put(pipe, msg)`, which cannot fail on an unbounded queue |
//! | `msg = yield in_pipe.get()` | `Command::Get(pipe)` → `Wake::Completed(Outcome::Got(msg))` |
//! | `BroadcastPipe`: `get_output_conn()` makes a new store; `put()` puts into every one | [`BroadcastPipe`]: `output_conn()` makes a new queue; `put()` puts a copy into every one |
//! | `message_generator()`: `yield env.timeout(randint(6, 10))`, then put | [`Generator`] |
//! | `message_consumer()`: get, print, `yield env.timeout(randint(4, 8))` | [`Consumer`] |
//! | a second `simpy.Environment()` for the second part | a second [`Simulation`]; the random generator carries on (it is not re-seeded) |
//! | `random.seed(42)`, `random.randint` | one [`PyRandom`] shared by the processes (`Rc<RefCell<_>>`) |
//!
//! In Python the broadcast pipe is handed to the generator before the consumers ask it for
//! their outputs; here both outputs are made first and the generator gets the finished pipe.
//! Nothing is scheduled in between, so the runs are the same. Python's `put()` also returns
//! an `AllOf` of the puts, which the generator ignores: it is left out.
//!
//! ## Why the output matches to the byte
//!
//! Every number printed depends on which process draws which random number, so each
//! same-instant tie has to go SimPy's way. The telling ones are at t = 82 and t = 98, where
//! a message is sent at the very instant one consumer finishes its other work while the
//! other consumer is already blocked in `Get`:
//! - the generator's timer was set before the consumer's, so it fires first and puts a copy
//!   into each queue; the consumer whose work ends then issues its `Get`, finds its copy
//!   already there and is served at once: it receives the message "on time" (not LATE);
//! - the consumer that was already blocked is handed its copy only when the put's own event
//!   is processed (SimPy's `StorePut` event triggers the waiting gets), which comes after
//!   the other consumer's wake was scheduled.
//!
//! So the consumer whose work just ended prints first: A at t = 82, B at t = 98 — the one
//! place where B's line comes before A's.
//!
//! Python prints `env.now` of an integer clock (`at time 6`); Rust's `{}` of the `f64` time
//! 6.0 also prints `6`.
//!
//! Run it with `cargo run --release --example process_communication`.

#[path = "support/pyrandom.rs"]
mod pyrandom;

use pyrandom::PyRandom;
use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{Boxed, Capacity, Command, Context, Outcome, Process, QueueId, Simulation, Wake};

/// What the pipes carry: `(env.now, f'{name} says hello at {env.now}')` in Python.
#[derive(Clone, Debug)]
struct Message {
    /// When it was sent, to tell whether the consumer was late getting it.
    sent: f64,
    text: String,
}

/// Queues carry messages; there are no interrupts.
type M = Boxed<Message>;
type Rng = Rc<RefCell<PyRandom>>;

const RANDOM_SEED: u128 = 42;
const SIM_TIME: f64 = 100.0;

/// Where a generator sends: one queue (one-to-one, many-to-one), or a broadcast pipe.
enum Output {
    Pipe(QueueId),
    Broadcast(BroadcastPipe),
}

impl Output {
    fn put(&self, cx: &mut Context<'_, M>, msg: Message) {
        match self {
            Output::Pipe(pipe) => put(cx, *pipe, msg),
            Output::Broadcast(bc_pipe) => bc_pipe.put(cx, msg),
        }
    }
}

/// `store.put(item)` on an unbounded queue, which never has to wait.
fn put(cx: &mut Context<'_, M>, pipe: QueueId, msg: Message) {
    if cx.try_put(pipe, msg).is_err() {
        unreachable!("an unbounded queue always has room");
    }
}

/// A broadcast pipe that allows one process to send messages to many: each receiver has
/// its own queue, so consumers running at different rates each see every message.
struct BroadcastPipe {
    pipes: Vec<QueueId>,
}

impl BroadcastPipe {
    fn new() -> Self {
        BroadcastPipe { pipes: Vec::new() }
    }

    /// Broadcasts `msg` to all receivers, in the order they connected.
    fn put(&self, cx: &mut Context<'_, M>, msg: Message) {
        assert!(!self.pipes.is_empty(), "there are no output pipes");
        for &pipe in &self.pipes {
            put(cx, pipe, msg.clone());
        }
    }

    /// A new output connection: a queue that receives every message put from now on.
    fn output_conn(&mut self, sim: &mut Simulation<M>) -> Result<QueueId, stepsim::Error> {
        let pipe = sim.queue(Capacity::Unbounded)?;
        self.pipes.push(pipe);
        Ok(pipe)
    }
}

/// `message_generator(name, env, out_pipe)`: sends a message every 6 to 10 time units.
struct Generator {
    name: &'static str,
    out_pipe: Output,
    rng: Rng,
}

impl Process<M> for Generator {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<Message>) -> Command<Message> {
        match wake {
            Wake::Started => {}
            Wake::Completed(Outcome::Slept) => {
                // Messages are time stamped to later check if the consumer was late.
                let now = cx.now();
                let msg = Message {
                    sent: now,
                    text: format!("{} says hello at {now}", self.name),
                };
                self.out_pipe.put(cx, msg);
            }
            other => unreachable!("generator: unexpected {other:?}"),
        }
        // Wait for the next transmission.
        Command::Sleep(self.rng.borrow_mut().randint(6, 10) as f64)
    }
}

/// `message_consumer(name, env, in_pipe)`: takes a message, then does other work for 4 to
/// 8 time units (which may make it late for the next one).
struct Consumer {
    name: &'static str,
    in_pipe: QueueId,
    rng: Rng,
}

impl Process<M> for Consumer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<Message>) -> Command<Message> {
        let (name, now) = (self.name, cx.now());
        match wake {
            // Get the next message (at the start, and after the other work).
            Wake::Started | Wake::Completed(Outcome::Slept) => Command::Get(self.in_pipe),
            Wake::Completed(Outcome::Got(msg)) => {
                if msg.sent < now {
                    // The message was already in the pipe: the consumer was late getting it.
                    println!(
                        "LATE Getting Message: at time {now}: {name} received message: {}",
                        msg.text
                    );
                } else {
                    // The consumer is synchronized with the generator.
                    println!("at time {now}: {name} received message: {}.", msg.text);
                }
                // The process does some other work, which may result in missing messages.
                Command::Sleep(self.rng.borrow_mut().randint(4, 8) as f64)
            }
            other => unreachable!("{name}: unexpected {other:?}"),
        }
    }
}

fn main() -> Result<(), stepsim::Error> {
    println!("Process communication");
    let rng = Rc::new(RefCell::new(PyRandom::new(RANDOM_SEED)));

    // For one-to-one or many-to-one type pipes, use a queue.
    let mut sim = Simulation::<M>::new(0);
    let pipe = sim.queue(Capacity::Unbounded)?;
    sim.spawn(Box::new(Generator {
        name: "Generator A",
        out_pipe: Output::Pipe(pipe),
        rng: rng.clone(),
    }));
    sim.spawn(Box::new(Consumer {
        name: "Consumer A",
        in_pipe: pipe,
        rng: rng.clone(),
    }));
    println!("\nOne-to-one pipe communication\n");
    sim.run_until(SIM_TIME)?;

    // For one-to-many use a BroadcastPipe (it could also serve one-to-one, many-to-one or
    // many-to-many).
    let mut sim = Simulation::<M>::new(0);
    let mut bc_pipe = BroadcastPipe::new();
    let in_a = bc_pipe.output_conn(&mut sim)?;
    let in_b = bc_pipe.output_conn(&mut sim)?;
    sim.spawn(Box::new(Generator {
        name: "Generator A",
        out_pipe: Output::Broadcast(bc_pipe),
        rng: rng.clone(),
    }));
    sim.spawn(Box::new(Consumer {
        name: "Consumer A",
        in_pipe: in_a,
        rng: rng.clone(),
    }));
    sim.spawn(Box::new(Consumer {
        name: "Consumer B",
        in_pipe: in_b,
        rng,
    }));
    println!("\nOne-to-many pipe communication\n");
    sim.run_until(SIM_TIME)
}
