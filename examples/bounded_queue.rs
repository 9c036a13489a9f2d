//! # A bounded queue: a fast producer blocks on a slow consumer
//!
//! A producer makes an item every 1 time unit; a consumer needs 3 time units per item. They
//! are connected by a queue that holds at most 3 items (`Capacity::Bounded(3)`). Once the
//! queue is full, the producer's `Put` waits until the consumer's next `Get` makes room:
//! back-pressure, with no polling and no lost items.
//!
//! What the output shows:
//! - the producer looks at the queue with `cx.queue_view(q)` before putting, and reports
//!   when it is about to block (the queue is full) and when its `Put` completes later;
//! - while the producer is blocked, its item is not in the queue yet: a monitor process
//!   samples the queue every 2 time units and sees it separately (`blocked_items`,
//!   `putters_waiting`);
//! - the slot freed by a `Get` goes to the blocked `Put` in the same instant, so by the time
//!   the consumer looks, the producer's item is already in (t=7: the consumer takes item 3
//!   and the queue is full again with 4, 5, 6);
//! - the queue never holds more than its capacity, and items come out in the order they went
//!   in.
//!
//! Run it with `cargo run --example bounded_queue`.

use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{
    Boxed, Capacity, Command, Context, Outcome, Pid, Process, QueueId, QueueView, Simulation, Wake,
};

/// The model: the queue carries item numbers.
type M = Boxed<u32>;

const ITEMS: u32 = 8;
const CAPACITY: usize = 3;

/// Formats a queue as `[1, 2, 3] (3/3)`, plus any items held by blocked putters.
fn show(view: &QueueView<'_, u32>) -> String {
    let items: Vec<String> = view.iter().map(u32::to_string).collect();
    let mut s = format!("[{}] ({}/{CAPACITY})", items.join(", "), view.len());
    if view.putters_waiting() > 0 {
        let blocked: Vec<String> = view.blocked_items().map(u32::to_string).collect();
        s += &format!(", blocked put: {}", blocked.join(", "));
    }
    s
}

/// What the run observed, shared with `main` for the final check.
#[derive(Default)]
struct Stats {
    consumed: Vec<u32>,
    max_len: usize,
    blocks: u32,
    blocked_time: f64,
}

impl Stats {
    fn saw(&mut self, view: &QueueView<'_, u32>) {
        self.max_len = self.max_len.max(view.len());
    }
}

/// Makes item 1, 2, …, `ITEMS`, one per time unit, and puts each into the queue.
struct Producer {
    q: QueueId,
    made: u32,
    /// When the current `Put` was issued, if it found the queue full.
    blocked_since: Option<f64>,
    stats: Rc<RefCell<Stats>>,
}

impl Process<M> for Producer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32>) -> Command<u32> {
        let t = cx.now();
        match wake {
            Wake::Started => Command::Sleep(1.0),
            Wake::Completed(Outcome::Slept) => {
                self.made += 1;
                let view = cx.queue_view(self.q).expect("our queue");
                if view.is_full() {
                    println!(
                        "t={t:4.1}  producer: item {} ready, queue full {} -> BLOCKS",
                        self.made,
                        show(&view)
                    );
                    self.blocked_since = Some(t);
                } else {
                    println!("t={t:4.1}  producer: puts item {}", self.made);
                }
                Command::Put(self.q, self.made)
            }
            Wake::Completed(Outcome::Put) => {
                let view = cx.queue_view(self.q).expect("our queue");
                let mut stats = self.stats.borrow_mut();
                stats.saw(&view);
                if let Some(since) = self.blocked_since.take() {
                    println!(
                        "t={t:4.1}  producer: UNBLOCKED, item {} in after waiting {} -> {}",
                        self.made,
                        t - since,
                        show(&view)
                    );
                    stats.blocks += 1;
                    stats.blocked_time += t - since;
                }
                if self.made == ITEMS {
                    println!("t={t:4.1}  producer: all {ITEMS} items made, stops");
                    Command::Done
                } else {
                    Command::Sleep(1.0)
                }
            }
            other => unreachable!("a producer never gets {other:?}"),
        }
    }
}

/// Takes items forever, 3 time units each.
struct Consumer {
    q: QueueId,
    stats: Rc<RefCell<Stats>>,
}

impl Process<M> for Consumer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32>) -> Command<u32> {
        let t = cx.now();
        match wake {
            Wake::Started | Wake::Completed(Outcome::Slept) => Command::Get(self.q),
            Wake::Completed(Outcome::Got(item)) => {
                let view = cx.queue_view(self.q).expect("our queue");
                println!(
                    "t={t:4.1}  consumer: takes item {item}, queue {}",
                    show(&view)
                );
                let mut stats = self.stats.borrow_mut();
                stats.saw(&view);
                stats.consumed.push(item);
                Command::Sleep(3.0)
            }
            other => unreachable!("a consumer never gets {other:?}"),
        }
    }
}

/// Looks at the queue every 2 time units (at t=0.5, 2.5, …) until the producer has stopped
/// and the queue is empty. It only reads: `queue_view` never changes the queue.
struct Monitor {
    q: QueueId,
    producer: Pid,
}

impl Process<M> for Monitor {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32>) -> Command<u32> {
        let t = cx.now();
        match wake {
            Wake::Started => Command::Sleep(0.5),
            Wake::Completed(Outcome::Slept) => {
                let view = cx.queue_view(self.q).expect("our queue");
                println!("t={t:4.1}    monitor: queue {}", show(&view));
                let empty = view.is_empty();
                if empty && cx.is_finished(self.producer).expect("our producer") {
                    Command::Done
                } else {
                    Command::Sleep(2.0)
                }
            }
            other => unreachable!("a monitor never gets {other:?}"),
        }
    }
}

fn main() -> Result<(), stepsim::Error> {
    let mut sim = Simulation::<M>::new(7);
    let q = sim.queue(Capacity::Bounded(CAPACITY))?;
    let stats = Rc::new(RefCell::new(Stats::default()));
    let producer = sim.spawn_named(
        "producer",
        Box::new(Producer {
            q,
            made: 0,
            blocked_since: None,
            stats: stats.clone(),
        }),
    );
    sim.spawn_named(
        "consumer",
        Box::new(Consumer {
            q,
            stats: stats.clone(),
        }),
    );
    sim.spawn_named("monitor", Box::new(Monitor { q, producer }));
    sim.run()?;

    // ----- summary and self-check -----
    let stats = stats.borrow();
    let view = sim.queue_view(q)?;
    println!();
    println!("summary at t={}:", sim.now());
    println!("  consumed {:?}", stats.consumed);
    println!(
        "  producer blocked {} times, {} time units in all",
        stats.blocks, stats.blocked_time
    );
    println!("  longest queue seen: {} of {CAPACITY}", stats.max_len);
    let expected: Vec<u32> = (1..=ITEMS).collect();
    assert_eq!(stats.consumed, expected, "every item, in order");
    assert!(stats.max_len <= CAPACITY, "the queue never overflowed");
    assert_eq!(stats.max_len, CAPACITY, "the queue did fill up");
    assert!(stats.blocks > 0, "the fast producer had to wait");
    assert!(view.is_empty() && view.putters_waiting() == 0);
    assert_eq!(view.getters_waiting(), 1, "the consumer waits for more");
    println!("ok: all {ITEMS} items consumed in order, queue never above capacity");
    Ok(())
}
