//! # An emergency department: triage, priorities, preemption, reneging, handovers
//!
//! A model written as a modeler would write it, with a SimPy twin in
//! `examples/simpy/emergency_department.py` (the same model, parameters, run length and
//! replications) and a committed comparison of the two (`docs/model_comparison.md`, made by
//! `bench/compare_models.sh`). Minutes throughout; `Exp(m)` has mean `m`.
//!
//! - **Arrivals**: one patient every Exp(5). The arrival process draws each patient's
//!   triage time, class and treatment time when it arrives (from its own stream).
//! - **Triage**: one nurse (a FIFO resource), Uniform(2, 4) per patient.
//! - **Classes**: critical, urgent, routine with p = 0.1, 0.3, 0.6; treatment Exp(15),
//!   Exp(10), Exp(7).
//! - **Doctors**: two, a preemptive resource. Requests have priority 1 (critical), 2
//!   (urgent), 3 (routine), lower first; only critical requests preempt (the worst holder:
//!   the lowest class, the latest among equals). A preempted patient asks again at its own
//!   priority (the back of its class's line, as SimPy's usual `Preempted` loop does) and is
//!   then treated for what was left (`Interrupt::remaining_sleep`).
//! - **Reneging**: a routine patient waits for a doctor at most 60 minutes, as
//!   `Command::first_of([Command::AcquireWith(doctors, p), Command::Sleep(60.0)])`
//!   (SimPy: `req | env.timeout(60)`). The patience covers the first wait only: a routine
//!   patient preempted in treatment waits to finish it.
//! - **Handover**: at t = 480, 960, … one process takes both doctors for 10 minutes with
//!   two preempting requests at priority 0, in one `Command::all_of` (SimPy: `a & b`),
//!   preempting whoever they treat; those patients carry on afterwards.
//! - **Run**: 30 days per replication, the first day a warm-up (`sim.reset_monitors()` and
//!   the tallies' `reset` at its end); 100 replications (`--reps N`), seeds 0, 1, ….
//!
//! Printed, each as mean ± 95% CI half-width over the replications (Student t,
//! `Summary::of(..)?.ci(0.95)?`): the wait for a doctor per class (end of triage to the
//! start of treatment, for patients whose treatment starts after the warm-up), reneges
//! (routine patients who left in the 29 measured days: the doctors' monitor counts
//! withdrawn requests, and only reneging patients withdraw one), the nurse's and the
//! doctors' utilization and mean queue length (`nurse queue`, `doctors queue`: the
//! time-weighted number waiting), from `sim.monitor`. SimPy samples its utilizations and
//! queue lengths once a minute: estimates of the same means.
//!
//! Random numbers: the arrivals process draws everything from its own stream, `cx.rng()`.
//!
//! Run it with `cargo run --release --example emergency_department [-- --reps N]`.

use rand::RngExt;
use rand::distr::weighted::WeightedIndex;
use rand_distr::{Distribution, Exp};
use std::cell::RefCell;
use std::rc::Rc;
use stepsim::Wake;
use stepsim::stats::{Summary, Tally};
use stepsim::{Boxed, Command, Context, First, Outcome, Priority, Process, ResourceId, Simulation};

type M = Boxed<()>;
const ARRIVAL_MEAN: f64 = 5.0;
const TRIAGE: std::ops::Range<f64> = 2.0..4.0;
const P_CLASS: [f64; 3] = [0.1, 0.3, 0.6];
const TREATMENT_MEAN: [f64; 3] = [15.0, 10.0, 7.0];
const ROUTINE: usize = 2;
const PATIENCE: f64 = 60.0;
const HANDOVER_EVERY: f64 = 480.0;
const HANDOVER_TAKES: f64 = 10.0;
const DAY: f64 = 1440.0;
const END: f64 = 30.0 * DAY;

/// What every patient shares: the staff and the waits per class.
struct Ed {
    nurse: ResourceId,
    doctors: ResourceId,
    waits: RefCell<[Tally; 3]>,
}

struct Arrivals {
    ed: Rc<Ed>,
}

impl Process<M> for Arrivals {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let rng = cx.rng(); // the arrivals' own stream
        if let Wake::Completed(_) = wake {
            let class = WeightedIndex::new(P_CLASS).unwrap().sample(rng);
            let patient = Patient {
                class,
                triage: rng.random_range(TRIAGE),
                left: Exp::new(1.0 / TREATMENT_MEAN[class]).unwrap().sample(rng),
                stage: Stage::Triage,
                ed: self.ed.clone(),
            };
            cx.spawn(Box::new(patient));
        }
        Command::Sleep(Exp::new(1.0 / ARRIVAL_MEAN).unwrap().sample(cx.rng()))
    }
}

enum Stage {
    Triage,
    Queued { since: f64 },
    Treated,
}

struct Patient {
    class: usize,
    triage: f64,
    /// Treatment still to do.
    left: f64,
    stage: Stage,
    ed: Rc<Ed>,
}

impl Process<M> for Patient {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        // Critical 1, urgent 2, routine 3 (lower first); only critical patients preempt.
        let (ed, level, preempt) = (&self.ed, self.class as f64 + 1.0, self.class == 0);
        let doctor = Command::AcquireWith(ed.doctors, Priority { level, preempt });
        match (&self.stage, wake) {
            (_, Wake::Started) => Command::Acquire(ed.nurse),
            (Stage::Triage, Wake::Completed(Outcome::Acquired(_))) => Command::Sleep(self.triage),
            (Stage::Triage, Wake::Completed(Outcome::Slept)) => {
                cx.release(ed.nurse);
                self.stage = Stage::Queued { since: cx.now() };
                match self.class {
                    ROUTINE => Command::first_of([doctor, Command::Sleep(PATIENCE)]),
                    _ => doctor,
                }
            }
            // Reneged: the doctors' monitor counts the withdrawn request.
            (Stage::Queued { .. }, Wake::First(First { index: 1, .. })) => Command::Done,
            (&Stage::Queued { since }, Wake::Completed(_) | Wake::First(_)) => {
                ed.waits.borrow_mut()[self.class].add(cx.now() - since);
                self.stage = Stage::Treated;
                Command::Sleep(self.left)
            }
            (Stage::Treated, Wake::Completed(Outcome::Acquired(_))) => Command::Sleep(self.left),
            (Stage::Treated, Wake::Interrupted(preempted)) => {
                self.left = preempted.remaining_sleep().unwrap();
                doctor // ask again; the slot is already gone
            }
            (Stage::Treated, Wake::Completed(Outcome::Slept)) => {
                cx.release(ed.doctors);
                Command::Done
            }
            (_, wake) => unreachable!("patient: {wake:?}"),
        }
    }
}

/// At every multiple of `HANDOVER_EVERY`, takes both doctors for `HANDOVER_TAKES`.
struct Handover {
    doctors: ResourceId,
}

impl Process<M> for Handover {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        let take = Command::AcquireWith(self.doctors, Priority::new(0.0));
        match wake {
            Wake::Started => Command::Sleep(HANDOVER_EVERY),
            Wake::Completed(Outcome::Slept) if cx.now() % HANDOVER_EVERY == 0.0 => {
                Command::all_of([take.clone(), take])
            }
            Wake::Completed(Outcome::All(_)) => Command::Sleep(HANDOVER_TAKES),
            // The handover is over (nothing preempts it).
            _ => {
                cx.release(self.doctors);
                cx.release(self.doctors);
                Command::Sleep(HANDOVER_EVERY - cx.now() % HANDOVER_EVERY)
            }
        }
    }
}

fn replication(seed: u64) -> Result<Vec<(&'static str, f64)>, stepsim::Error> {
    let mut sim = Simulation::<M>::new(seed);
    let (nurse, doctors) = (sim.resource(1)?, sim.preemptive_resource(2)?);
    sim.monitor(nurse, "nurse")?;
    sim.monitor(doctors, "doctors")?;
    let waits = RefCell::default();
    let ed = Rc::new(Ed {
        nurse,
        doctors,
        waits,
    });
    sim.spawn(Box::new(Arrivals { ed: ed.clone() }));
    sim.spawn(Box::new(Handover { doctors }));
    sim.run_until(DAY)?; // the warm-up
    sim.reset_monitors();
    ed.waits.borrow_mut().iter_mut().for_each(Tally::reset);
    sim.run_until(END)?;
    let stats = sim.statistics();
    let nurse = stats.resource("nurse").unwrap();
    let doctors = stats.resource("doctors").unwrap();
    let waits = ed.waits.borrow();
    Ok(vec![
        ("wait for a doctor, critical", waits[0].mean().unwrap()),
        ("wait for a doctor, urgent", waits[1].mean().unwrap()),
        ("wait for a doctor, routine", waits[2].mean().unwrap()),
        ("reneged (routine)", doctors.withdrawn().count() as f64),
        ("nurse utilization", nurse.utilization(END).unwrap()),
        ("nurse queue", nurse.queue_length().mean(END).unwrap()),
        ("doctors utilization", doctors.utilization(END).unwrap()),
        ("doctors queue", doctors.queue_length().mean(END).unwrap()),
    ])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps = std::env::args().skip_while(|a| a != "--reps").nth(1);
    let reps: u64 = reps.map_or(Ok(100), |n| n.parse())?;
    let runs = (0..reps).map(replication).collect::<Result<Vec<_>, _>>()?;
    println!("emergency department: {reps} replications of 30 days, 1 day warm-up");
    for (i, (name, _)) in runs[0].iter().enumerate() {
        let values: Vec<f64> = runs.iter().map(|run| run[i].1).collect();
        println!("{name:28}  {}", Summary::of(&values)?.ci(0.95)?);
    }
    Ok(())
}
