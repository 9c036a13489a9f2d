//! # Priority queues: the most urgent job first, first-come first-served among equals
//!
//! A print server takes jobs from a priority queue, one at a time, 2 time units each.
//! Priority 1 is the most urgent. Five jobs are queued before the run starts (with a
//! non-blocking `try_put` through `sim.context()`), and a submitter process adds three more
//! while the server is busy.
//!
//! - `sim.priority_queue_by(capacity, name, order)` orders items with a plain function — here by
//!   the `priority` field only, so jobs need not implement `Ord`. `Get` takes the smallest
//!   item; among *equal* items the queue is FIFO: jobs of the same priority are served in the
//!   order they were submitted (`report`, `invoice`, `slides` are all priority 2).
//! - `sim.priority_queue(capacity)` uses the item's own `Ord` instead; the second part of the
//!   output uses it with `std::cmp::Reverse` to take the *largest* number first.
//!
//! The log prints the queue after every submission, in the order `Get` will take the items
//! (`queue_view(q).iter()`). The final check: no job was ever served while a more urgent one
//! waited, and jobs of equal priority were served in submission order.
//!
//! Run it with `cargo run --example priority_queue`.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::rc::Rc;
use stepsim::{Boxed, Capacity, Command, Context, Outcome, Process, QueueId, Simulation, Wake};

/// A print job.
#[derive(Clone, Debug)]
struct Job {
    name: &'static str,
    /// 1 is the most urgent.
    priority: u8,
    /// Submission number: 1, 2, … (to check FIFO among equals).
    seq: u32,
}

type M = Boxed<Job>;

/// `name(p2)` for every job in the queue, in the order `Get` will take them.
fn show(cx: &Context<'_, M>, q: QueueId) -> String {
    let view = cx.queue_view(q).expect("our queue");
    let jobs: Vec<String> = view
        .iter()
        .map(|j| format!("{}(p{})", j.name, j.priority))
        .collect();
    format!("[{}]", jobs.join(", "))
}

/// Takes jobs forever, 2 time units each, and records the order it served them in.
struct Server {
    q: QueueId,
    served: Rc<RefCell<Vec<Job>>>,
}

impl Process<M> for Server {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<Job>) -> Command<Job> {
        let t = cx.now();
        match wake {
            Wake::Started | Wake::Completed(Outcome::Slept) => Command::Get(self.q),
            Wake::Completed(Outcome::Got(job)) => {
                println!(
                    "t={t:4.1}  server prints {}(p{}), still queued {}",
                    job.name,
                    job.priority,
                    show(cx, self.q)
                );
                // The invariant of a priority queue: nothing more urgent is left waiting.
                let view = cx.queue_view(self.q).expect("our queue");
                assert!(view.iter().all(|j| j.priority >= job.priority));
                self.served.borrow_mut().push(job);
                Command::Sleep(2.0)
            }
            other => unreachable!("the server never gets {other:?}"),
        }
    }
}

/// Submits its jobs at fixed times.
struct Submitter {
    q: QueueId,
    /// (time, job), in time order.
    plan: Vec<(f64, Job)>,
    next: usize,
}

impl Process<M> for Submitter {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<Job>) -> Command<Job> {
        let t = cx.now();
        match wake {
            Wake::Started | Wake::Completed(Outcome::Put) => {
                if matches!(wake, Wake::Completed(Outcome::Put)) {
                    println!("t={t:4.1}  queue now {}", show(cx, self.q));
                }
                match self.plan.get(self.next) {
                    Some((at, _)) => Command::Sleep(at - t),
                    None => Command::Done,
                }
            }
            Wake::Completed(Outcome::Slept) => {
                let job = self.plan[self.next].1.clone();
                self.next += 1;
                println!("t={t:4.1}  submit {}(p{})", job.name, job.priority);
                Command::Put(self.q, job)
            }
            other => unreachable!("the submitter never gets {other:?}"),
        }
    }
}

fn main() -> Result<(), stepsim::Error> {
    let mut sim = Simulation::<M>::new(3);
    // Smallest `priority` first; FIFO among jobs of equal priority.
    let q = sim.priority_queue_by(Capacity::Unbounded, "by priority", |a: &Job, b: &Job| {
        a.priority.cmp(&b.priority)
    })?;

    let mut seq = 0;
    let mut job = |name, priority| {
        seq += 1;
        Job {
            name,
            priority,
            seq,
        }
    };
    let batch = [
        job("report", 2),
        job("backup", 3),
        job("invoice", 2),
        job("alert", 1),
        job("logs", 3),
    ];
    let plan = vec![
        (1.0, job("outage", 1)),
        (3.0, job("slides", 2)),
        (5.0, job("archive", 3)),
    ];

    // Queue the batch before the run, from outside any process.
    let mut cx = sim.context();
    for j in batch {
        println!("t= 0.0  submit {}(p{})", j.name, j.priority);
        cx.try_put(q, j).expect("an unbounded queue has room");
    }
    println!("t= 0.0  queue now {}", show(&cx, q));

    let served = Rc::new(RefCell::new(Vec::new()));
    sim.spawn_named(
        "server",
        Box::new(Server {
            q,
            served: served.clone(),
        }),
    );
    sim.spawn_named("submitter", Box::new(Submitter { q, plan, next: 0 }));
    sim.run()?;

    // ----- summary and self-check -----
    let served = served.borrow();
    let order: Vec<String> = served
        .iter()
        .map(|j| format!("{}(p{})", j.name, j.priority))
        .collect();
    println!();
    println!("served in order: {}", order.join(", "));
    assert_eq!(served.len(), 8, "every job was served");
    for (i, a) in served.iter().enumerate() {
        for b in &served[i + 1..] {
            if a.priority == b.priority {
                assert!(
                    a.seq < b.seq,
                    "FIFO among equals: {} before {}",
                    a.name,
                    b.name
                );
            }
        }
    }
    assert!(sim.queue_view(q)?.is_empty());
    println!("ok: most urgent first, and first-come first-served among equal priorities");

    // ----- part 2: `priority_queue` orders by the item's own `Ord` -----
    // `Reverse` turns "smallest first" into "largest first". No processes needed: the
    // non-blocking `try_put`/`try_get` of a context work from outside a run too.
    println!();
    let mut sim = Simulation::<Boxed<Reverse<u32>>>::new(0);
    let q = sim.priority_queue(Capacity::Bounded(8))?;
    let mut cx = sim.context();
    for n in [5, 1, 9, 3, 7] {
        cx.try_put(q, Reverse(n)).expect("room");
    }
    let mut drained = Vec::new();
    while let Some(Reverse(n)) = cx.try_get(q) {
        drained.push(n);
    }
    println!("priority_queue of Reverse(n) drains largest first: {drained:?}");
    assert_eq!(drained, vec![9, 7, 5, 3, 1]);
    Ok(())
}
