//! # Reneging: wait for a clerk, but only so long
//!
//! A post office has one clerk (a resource with capacity 1). Each customer waits for the
//! clerk *or* for their patience to run out, whichever comes first:
//!
//! ```text
//! Command::first_of([Command::Acquire(clerk), Command::Sleep(patience)])
//! ```
//!
//! The wake says which branch won (`First { index, outcome, others }`):
//! - `index == 0`: the clerk was acquired; the patience timer is cancelled. The customer is
//!   served and gives the clerk back with `cx.release(clerk)`.
//! - `index == 1`: patience ran out; the `Acquire` is withdrawn from the clerk's wait list in
//!   the same instant and handed back untouched in `others`. The customer leaves
//!   ("reneges") **without ever holding the clerk**: the log checks the clerk's holders at
//!   that moment, and the clerk goes straight to the next customer in line.
//!
//! Two moments worth a look:
//! - at t=9 customer 4's patience runs out in the *same instant* customer 3 finishes. Events
//!   at one instant run in the order they were scheduled, and customer 4's timer (set at
//!   t=4) predates customer 3's service timer (set at t=5): customer 4 is out of the line
//!   before the clerk is released (customer 3's line already shows only 1 in line), and the
//!   clerk goes to customer 5. A `FirstOf` wakes its process one hop after the winning
//!   branch completes (as SimPy's condition events do), which is why customer 4's own line
//!   is printed just after customer 3's;
//! - customer 6 finds the clerk free: the first branch completes at once, so a `FirstOf`
//!   costs nothing when there is no wait.
//!
//! Run it with `cargo run --example renege`.

use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{Boxed, Command, Context, First, Outcome, Process, ResourceId, Simulation, Wake};

type M = Boxed<()>;

/// How a customer's visit ended.
#[derive(Debug, PartialEq)]
enum Ending {
    Served { waited: f64 },
    Reneged { waited: f64 },
}

/// A customer: arrives at `arrival`, waits at most `patience`, needs `service` at the clerk.
struct Customer {
    id: u32,
    arrival: f64,
    patience: f64,
    service: f64,
    clerk: ResourceId,
    /// When the customer joined the line, once arrived.
    since: Option<f64>,
    /// Shared with `main`: (customer, patience, how the visit ended).
    log: Rc<RefCell<Vec<(u32, f64, Ending)>>>,
}

/// "clerk busy, 2 in line" / "clerk free, 0 in line"
fn clerk_state(cx: &Context<'_, M>, clerk: ResourceId) -> String {
    let view = cx.resource_view(clerk).expect("our clerk");
    let state = if view.available() == 0 {
        "busy"
    } else {
        "free"
    };
    format!("clerk {state}, {} in line", view.queue_len())
}

impl Process<M> for Customer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let t = cx.now();
        let id = self.id;
        match wake {
            // Walk in at the arrival time.
            Wake::Started => Command::Sleep(self.arrival),
            Wake::Completed(Outcome::Slept) if self.since.is_none() => {
                self.since = Some(t);
                println!(
                    "t={t:4.1}  customer {id} arrives, will wait at most {} ({})",
                    self.patience,
                    clerk_state(cx, self.clerk)
                );
                Command::first_of([Command::Acquire(self.clerk), Command::Sleep(self.patience)])
            }
            // The clerk came first: be served.
            Wake::First(First {
                index: 0,
                outcome: Outcome::Acquired(_),
                ..
            }) => {
                let waited = t - self.since.expect("arrived");
                println!("t={t:4.1}  customer {id} reaches the clerk after waiting {waited}");
                self.log
                    .borrow_mut()
                    .push((id, self.patience, Ending::Served { waited }));
                Command::Sleep(self.service)
            }
            // Patience ran out first: leave.
            Wake::First(First {
                index: 1,
                outcome: Outcome::Slept,
                others,
                ..
            }) => {
                let waited = t - self.since.expect("arrived");
                // The losing `Acquire` was withdrawn, not granted: it comes back untouched,
                // and this customer holds no slot of the clerk.
                assert_eq!(others, [Command::Acquire(self.clerk)]);
                let me = cx.pid();
                let holds = cx
                    .resource_view(self.clerk)
                    .expect("our clerk")
                    .holders()
                    .any(|holder| holder == me);
                assert!(!holds, "a reneging customer never holds the clerk");
                println!(
                    "t={t:4.1}  customer {id} gives up after waiting {waited}, holding no slot ({})",
                    clerk_state(cx, self.clerk)
                );
                self.log
                    .borrow_mut()
                    .push((id, self.patience, Ending::Reneged { waited }));
                Command::Done
            }
            // Service finished: give the clerk back (the next in line gets it now).
            Wake::Completed(Outcome::Slept) => {
                cx.release(self.clerk);
                println!(
                    "t={t:4.1}  customer {id} is done and leaves ({})",
                    clerk_state(cx, self.clerk)
                );
                Command::Done
            }
            other => unreachable!("customer {id}: unexpected {other:?}"),
        }
    }
}

fn main() -> Result<(), stepsim::Error> {
    let mut sim = Simulation::<M>::new(11);
    let clerk = sim.resource(1)?;
    let log = Rc::new(RefCell::new(Vec::new()));

    // (arrival, service, patience)
    let customers = [
        (0.0, 5.0, 10.0),
        (1.0, 3.0, 2.0),
        (2.0, 4.0, 6.0),
        (4.0, 2.0, 5.0),
        (6.0, 2.0, 10.0),
        (12.0, 1.0, 1.0),
    ];
    for (i, &(arrival, service, patience)) in customers.iter().enumerate() {
        let id = i as u32 + 1;
        sim.spawn_named(
            format!("customer {id}"),
            Box::new(Customer {
                id,
                arrival,
                patience,
                service,
                clerk,
                since: None,
                log: log.clone(),
            }),
        );
    }
    sim.run()?;

    // ----- summary and self-check -----
    let mut log = log.borrow_mut();
    log.sort_by_key(|entry| entry.0);
    println!();
    for (id, patience, ending) in log.iter() {
        match ending {
            Ending::Served { waited } => {
                println!("customer {id}: served after {waited} (patience {patience})");
                assert!(waited <= patience, "served within patience");
            }
            Ending::Reneged { waited } => {
                println!("customer {id}: reneged after {waited} (patience {patience})");
                assert_eq!(waited, patience, "left exactly when patience ran out");
            }
        }
    }
    let reneged = log
        .iter()
        .filter(|e| matches!(e.2, Ending::Reneged { .. }))
        .count();
    assert_eq!(
        log.len(),
        customers.len(),
        "every customer was served or left"
    );
    assert_eq!(reneged, 2);
    let view = sim.resource_view(clerk)?;
    assert_eq!(
        (view.in_use(), view.queue_len()),
        (0, 0),
        "the clerk is free"
    );
    println!(
        "ok: {} served, {reneged} reneged without ever holding the clerk",
        log.len() - reneged
    );
    Ok(())
}
