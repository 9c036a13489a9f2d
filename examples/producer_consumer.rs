//! # Producers and consumers over an unbounded queue — with one enum, no `Box`
//!
//! Two machines (`press`, `lathe`) make widgets at fixed intervals and put them on a
//! conveyor belt (an unbounded FIFO queue, so `Put` never waits); two packers take widgets
//! off the belt and spend 4 time units packing each one. The packers are slower than the
//! machines, so widgets pile up on the belt until the machines stop.
//!
//! **Static dispatch.** Instead of the ready-made [`stepsim::Boxed`] model (which stores
//! every process as a `Box<dyn Process<_>>`), this example defines its own [`Model`] whose
//! stored process type is one user enum over all process kinds:
//!
//! ```text
//! impl Model for Factory { type Item = Widget; type Cause = (); type Proc = Actor; }
//! enum Actor { Producer(Producer), Consumer(Consumer) }
//! ```
//!
//! `Actor` implements [`Process`] by forwarding to its variant: no allocation per spawn, no
//! virtual call, and `sim.spawn(Actor::Producer(..))` takes the enum by value.
//!
//! Processes live inside the simulation, so the final check reads a shared [`Ledger`]
//! (`Rc<RefCell<_>>`) that producers and consumers write to: every widget produced was
//! consumed exactly once, and the belt is empty at the end.
//!
//! Run it with `cargo run --example producer_consumer`.

use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{Capacity, Command, Context, Model, Outcome, Process, QueueId, Simulation, Wake};

/// What the belt carries.
#[derive(Debug)]
struct Widget {
    /// Which machine made it.
    maker: &'static str,
    /// Its serial number at that machine (1, 2, …).
    serial: u32,
    /// When it was put on the belt.
    made_at: f64,
}

impl Widget {
    fn label(&self) -> String {
        format!("{}#{}", self.maker, self.serial)
    }
}

/// The model: the belt carries widgets, interrupts carry nothing (there are none), and
/// processes are stored as `Actor` values.
struct Factory;

impl Model for Factory {
    type Item = Widget;
    type Cause = ();
    type Proc = Actor;
}

/// Shorthands for this model's context and wake types.
type Cx<'a> = Context<'a, Factory>;
type W = Wake<Widget>;

/// Every kind of process in the model. The simulation stores these by value.
enum Actor {
    Producer(Producer),
    Consumer(Consumer),
}

impl Process<Factory> for Actor {
    fn step(&mut self, cx: &mut Cx<'_>, wake: W) -> Command<Widget> {
        match self {
            Actor::Producer(p) => p.step(cx, wake),
            Actor::Consumer(c) => c.step(cx, wake),
        }
    }
}

/// What was produced and consumed, shared with `main` for the final check.
#[derive(Default)]
struct Ledger {
    produced: Vec<String>,
    consumed: Vec<String>,
}

/// Makes `count` widgets, one every `every` time units, and puts each on the belt.
struct Producer {
    name: &'static str,
    belt: QueueId,
    every: f64,
    count: u32,
    made: u32,
    ledger: Rc<RefCell<Ledger>>,
}

impl Producer {
    fn step(&mut self, cx: &mut Cx<'_>, wake: W) -> Command<Widget> {
        let t = cx.now();
        match wake {
            Wake::Started => Command::Sleep(self.every),
            Wake::Completed(Outcome::Slept) => {
                // A widget is ready: put it on the belt.
                self.made += 1;
                let widget = Widget {
                    maker: self.name,
                    serial: self.made,
                    made_at: t,
                };
                println!("t={t:4.1}  {:6} puts   {}", self.name, widget.label());
                self.ledger.borrow_mut().produced.push(widget.label());
                Command::Put(self.belt, widget)
            }
            Wake::Completed(Outcome::Put) => {
                // The belt is unbounded, so the put completed at the same instant.
                if self.made == self.count {
                    println!(
                        "t={t:4.1}  {:6} stops after {} widgets",
                        self.name, self.made
                    );
                    Command::Done
                } else {
                    Command::Sleep(self.every)
                }
            }
            other => unreachable!("a producer never gets {other:?}"),
        }
    }
}

/// Takes widgets off the belt forever, spending `work` time units on each.
struct Consumer {
    name: &'static str,
    belt: QueueId,
    work: f64,
    /// The widget being packed, if any.
    packing: Option<Widget>,
    ledger: Rc<RefCell<Ledger>>,
}

impl Consumer {
    fn step(&mut self, cx: &mut Cx<'_>, wake: W) -> Command<Widget> {
        let t = cx.now();
        match wake {
            Wake::Started => {}
            Wake::Completed(Outcome::Got(widget)) => {
                // A read-only look at what is still on the belt, in the order it will be taken.
                let belt = cx.queue_view(self.belt).expect("our belt");
                let left: Vec<String> = belt.iter().map(Widget::label).collect();
                println!(
                    "t={t:4.1}  {:6} takes  {} (it waited {} on the belt; belt now [{}])",
                    self.name,
                    widget.label(),
                    t - widget.made_at,
                    left.join(", ")
                );
                self.packing = Some(widget);
                return Command::Sleep(self.work);
            }
            Wake::Completed(Outcome::Slept) => {
                let widget = self.packing.take().expect("was packing");
                println!("t={t:4.1}  {:6} packed {}", self.name, widget.label());
                self.ledger.borrow_mut().consumed.push(widget.label());
            }
            other => unreachable!("a consumer never gets {other:?}"),
        }
        // Idle: wait for the next widget (forever, once the machines have stopped).
        Command::Get(self.belt)
    }
}

fn main() -> Result<(), stepsim::Error> {
    let mut sim = Simulation::<Factory>::new(1);
    let belt = sim.queue(Capacity::Unbounded)?;
    let ledger = Rc::new(RefCell::new(Ledger::default()));

    for (name, every, count) in [("press", 2.0, 5), ("lathe", 3.0, 4)] {
        sim.spawn(Actor::Producer(Producer {
            name,
            belt,
            every,
            count,
            made: 0,
            ledger: ledger.clone(),
        }));
    }
    for name in ["pack-1", "pack-2"] {
        sim.spawn(Actor::Consumer(Consumer {
            name,
            belt,
            work: 4.0,
            packing: None,
            ledger: ledger.clone(),
        }));
    }

    // Runs until nothing is scheduled: the machines have stopped and both packers wait in
    // `Get` on an empty belt.
    sim.run()?;

    // ----- summary and self-check -----
    let ledger = ledger.borrow();
    let view = sim.queue_view(belt)?;
    println!();
    println!("summary at t={}:", sim.now());
    println!("  produced {} widgets", ledger.produced.len());
    println!("  consumed {} widgets", ledger.consumed.len());
    println!(
        "  belt: {} left, {} packers waiting",
        view.len(),
        view.getters_waiting()
    );
    let mut produced = ledger.produced.clone();
    let mut consumed = ledger.consumed.clone();
    produced.sort();
    consumed.sort();
    assert_eq!(produced.len(), 9);
    assert_eq!(
        produced, consumed,
        "every widget produced was consumed once"
    );
    assert!(view.is_empty(), "nothing left on the belt");
    assert_eq!(view.getters_waiting(), 2, "both packers wait for more");
    assert_eq!(sim.live_processes(), 2, "only the packers are still alive");
    println!("ok: every widget produced was consumed exactly once");
    Ok(())
}
