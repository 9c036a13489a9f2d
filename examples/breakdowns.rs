//! # Machine breakdowns: a repairman shared by five machines and his side jobs
//!
//! A model written as a modeler would write it, after SimPy's machine shop example, with a
//! SimPy twin in `examples/simpy/breakdowns.py` (the same model, parameters, run length and
//! replications) and a committed comparison of the two (`docs/model_comparison.md`, made by
//! `bench/compare_models.sh`). Minutes throughout; `Exp(m)` has mean `m`.
//!
//! - **Machines**: five, each making parts one after another, Normal(8, 1.5) minutes per
//!   part, floored at 0.5.
//! - **Breakdowns**: a machine breaks down after Exp(200) minutes of *running* time (the
//!   clock stops while it is broken). Each machine keeps the running time left until its
//!   next breakdown, so it knows whether the part at hand or the breakdown comes first:
//!   it works `min(part left, time to failure)`, and after a breakdown finishes the part.
//!   No interrupt is needed for that (SimPy's example interrupts the machine because its
//!   failures follow the clock, not the running time).
//! - **Repairman**: one, a preemptive resource. A broken machine asks for him at priority
//!   1; the repair takes Uniform(15, 45) and is uninterruptible: a masked sleep
//!   (`Command::Sleep(..).masked()`), and no other request could preempt it anyway (a
//!   later repair request at the same priority ranks behind it; SimPy relies on that
//!   alone). Machines wait for him in the order they broke down.
//! - **Side jobs**: the repairman's other work, an endless supply of 45-minute jobs asked
//!   for at priority 2; a repair preempts a side job, which carries on for what was left
//!   after the repair (`Interrupt::remaining_sleep`), at the back of the line as SimPy's
//!   usual `Preempted` loop does.
//! - **Run**: four weeks (40,320 minutes), no warm-up: the shop starts with every machine
//!   fresh, and what four weeks produce is the question (a terminating simulation, as in
//!   SimPy's example). 100 replications (`--reps N`), seeds 0, 1, ….
//!
//! Printed, each as mean ± 95% CI half-width over the replications (Student t,
//! `Summary::of(..)?.ci(0.95)?`): parts made by each machine; downtime per machine
//! (breakdown to the end of its repair, booked when the repair ends); the repairman's split
//! of time: repairing (booked when a repair starts) and side jobs (booked when a piece of
//! a side job ends or is preempted), as fractions of the four weeks; side jobs done. Tallies
//! (`stepsim::stats::Tally`) keep the sums. The two shares leave out the piece of work in
//! progress at the end (SimPy's twin books them the same way); the repairman is never idle.
//!
//! Random numbers: each machine draws from its own stream, `cx.rng()`.
//!
//! Run it with `cargo run --release --example breakdowns [-- --reps N]`.

use rand::RngExt;
use rand_distr::{Distribution, Exp, Normal};
use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{Boxed, Command, Context, Outcome, Priority, Process, ResourceId, Simulation};
use stepsim::{Stream, Summary, Tally, Wake};

type M = Boxed<()>;
const MACHINES: usize = 5;
const PART_MEAN: f64 = 8.0;
const PART_SD: f64 = 1.5;
const PART_MIN: f64 = 0.5;
const MTTF: f64 = 200.0;
const REPAIR: std::ops::Range<f64> = 15.0..45.0;
const SIDE_JOB: f64 = 45.0;
const END: f64 = 4.0 * 7.0 * 24.0 * 60.0;

#[derive(Default)]
struct Stats {
    parts: [u32; MACHINES],
    downtime: Tally,
    repairs: Tally,
    side_work: Tally,
    side_jobs: u32,
}

struct Shop {
    repairman: ResourceId,
    stats: RefCell<Stats>,
}

struct Machine {
    id: usize,
    /// Running time left until the next breakdown.
    ttf: f64,
    /// Work left on the part at hand.
    left: f64,
    /// When it broke down, while it is broken.
    broke_at: Option<f64>,
    shop: Rc<Shop>,
}

impl Machine {
    /// Works until the part is done or the machine breaks down, whichever comes first.
    fn work(&mut self) -> Command<()> {
        let dt = self.left.min(self.ttf);
        (self.left, self.ttf) = (self.left - dt, self.ttf - dt);
        Command::Sleep(dt)
    }
}

fn part_time(rng: &mut Stream) -> f64 {
    PART_MIN.max(Normal::new(PART_MEAN, PART_SD).unwrap().sample(rng))
}

impl Process<M> for Machine {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let (now, shop) = (cx.now(), self.shop.clone());
        let rng = cx.rng(); // this machine's own stream
        match wake {
            Wake::Started => {
                self.ttf = Exp::new(1.0 / MTTF).unwrap().sample(rng);
                self.left = part_time(rng);
                self.work()
            }
            Wake::Completed(Outcome::Acquired(_)) => {
                let repair = rng.random_range(REPAIR);
                shop.stats.borrow_mut().repairs.add(repair);
                Command::Sleep(repair).masked() // uninterruptible
            }
            Wake::Completed(_) => match self.broke_at.take() {
                Some(broke) => {
                    self.ttf = Exp::new(1.0 / MTTF).unwrap().sample(rng);
                    cx.release(shop.repairman);
                    shop.stats.borrow_mut().downtime.add(now - broke);
                    self.work()
                }
                None if self.ttf == 0.0 => {
                    self.broke_at = Some(now);
                    Command::AcquireWith(shop.repairman, Priority::new(1.0))
                }
                None => {
                    self.left = part_time(rng);
                    shop.stats.borrow_mut().parts[self.id] += 1;
                    self.work()
                }
            },
            Wake::First(_) | Wake::Interrupted(_) => unreachable!("nothing interrupts a machine"),
        }
    }
}

/// The repairman's endless side jobs, each `SIDE_JOB` minutes of work.
struct SideJobs {
    left: f64,
    shop: Rc<Shop>,
}

impl Process<M> for SideJobs {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let mut stats = self.shop.stats.borrow_mut();
        match wake {
            Wake::Started => self.left = SIDE_JOB,
            Wake::Completed(Outcome::Acquired(_)) => return Command::Sleep(self.left),
            Wake::Completed(_) => {
                cx.release(self.shop.repairman);
                stats.side_work.add(self.left);
                stats.side_jobs += 1;
                self.left = SIDE_JOB;
            }
            Wake::Interrupted(preempted) => {
                stats.side_work.add(preempted.waited);
                self.left = preempted.remaining_sleep().unwrap(); // the slot is already gone
            }
            Wake::First(_) => unreachable!("side jobs issue no first-of"),
        }
        Command::AcquireWith(self.shop.repairman, Priority::new(2.0))
    }
}

fn replication(seed: u64) -> Result<Vec<(String, f64)>, stepsim::Error> {
    let mut sim = Simulation::<M>::new(seed);
    let repairman = sim.preemptive_resource(1)?;
    let stats = RefCell::default();
    let shop = Rc::new(Shop { repairman, stats });
    let books = shop.clone(); // to read after the run
    for id in 0..MACHINES {
        let shop = shop.clone();
        sim.spawn(Box::new(Machine {
            id,
            ttf: 0.0,
            left: 0.0,
            broke_at: None,
            shop,
        }));
    }
    sim.spawn(Box::new(SideJobs { left: 0.0, shop }));
    sim.run_until(END)?;
    let stats = books.stats.borrow();
    let parts = |i: usize| (format!("parts, machine {}", i + 1), stats.parts[i] as f64);
    let mut metrics: Vec<(String, f64)> = (0..MACHINES).map(parts).collect();
    let downtime = stats.downtime.sum() / MACHINES as f64;
    metrics.extend([
        ("downtime per machine (min)".into(), downtime),
        ("repairman: repairing".into(), stats.repairs.sum() / END),
        ("repairman: side jobs".into(), stats.side_work.sum() / END),
        ("side jobs done".into(), stats.side_jobs as f64),
    ]);
    Ok(metrics)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps = std::env::args().skip_while(|a| a != "--reps").nth(1);
    let reps: u64 = reps.map_or(Ok(100), |n| n.parse())?;
    let runs = (0..reps).map(replication).collect::<Result<Vec<_>, _>>()?;
    println!("machine breakdowns: {reps} replications of 4 weeks");
    for (i, (name, _)) in runs[0].iter().enumerate() {
        let values: Vec<f64> = runs.iter().map(|run| run[i].1).collect();
        println!("{name:28}  {}", Summary::of(&values)?.ci(0.95)?);
    }
    Ok(())
}
