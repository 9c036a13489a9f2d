//! # Interrupt and resume: a worker with a stack of tasks
//!
//! The showcase of explicit state machines. A worker goes through a to-do list. A boss
//! interrupts it now and then with urgent work; each interrupt *carries* its task
//! (`Interrupt::cause` is an `Urgent { name, work, sent_at }`). When interrupted, the worker
//!
//! 1. saves the progress of the task it was on — the interrupt hands back the withdrawn
//!    request (`Sleep(left)`) and how long it had been waiting (`waited`), and
//!    `remaining_sleep()` is the work still to do;
//! 2. pushes the urgent task on its stack and works on it;
//! 3. when that finishes, pops back to the saved task and resumes it with exactly the work
//!    that was left.
//!
//! Interrupts nest: the fire drill arrives while the worker is handling the phone call, so
//! the stack is two interrupts deep (`report > phone call > fire drill`), and unwinds in
//! order.
//!
//! **Critical regions.** The calibration task must not be cut short, so the worker runs it
//! as `Command::Sleep(..).masked()`. The boss's interrupt at t=18 arrives during it and
//! is *deferred, not lost*: it queues up and is delivered at the worker's next interruptible
//! command (at t=20, the moment the worker starts on its e-mail). The delivered interrupt
//! hands back that unstarted command with `waited == 0`, so the same save-and-push code
//! handles it; the cause's `sent_at` shows how late it was delivered.
//!
//! The worker is never idle, so the run must end at exactly the sum of all task durations,
//! and every task must have received exactly its duration of work: the final check.
//!
//! Run it with `cargo run --example interrupt_resume`.
//!
//! **The picture.** The run is traced with `TraceLog::with_waits()`, which records every wait
//! the processes start, and a `stepsim::Timeline` turns that into each process's waits over
//! time. With the `plot` feature it is drawn as SVG — the picture that shows what an
//! interrupt did: the report's sleep cut short at t=3 and resumed after the phone call, the
//! phone call cut short in turn by the fire drill, and the visitor's interrupt held back by
//! the masked calibration until t=20:
//!
//! ```sh
//! cargo run --example interrupt_resume --features plot -- --svg timeline.svg
//! ```
//!
//! (`docs/timeline_interrupt_resume.svg` is that picture.)

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use stepsim::{
    Boxed, Command, Context, Interrupt, Outcome, Pid, Process, Reason, Simulation, Timeline,
    TraceLog, Wake,
};

/// What an interrupt carries: the urgent task itself.
#[derive(Clone, Debug)]
struct Urgent {
    name: &'static str,
    work: f64,
    /// When the boss sent it (it may be delivered later, after a critical region).
    sent_at: f64,
}

/// The model: no queues (`()` items); interrupts carry `Urgent` tasks.
type M = Boxed<(), Urgent>;
type Cx<'a> = Context<'a, M>;

/// A task on the worker's list or stack.
#[derive(Debug)]
struct Task {
    name: &'static str,
    /// Total work it needs.
    total: f64,
    /// Work still to do.
    left: f64,
    /// Work received so far (the final check: equals `total` when finished).
    worked: f64,
    /// Must not be interrupted (run as a masked sleep).
    critical: bool,
    /// How many times it was interrupted.
    interruptions: u32,
}

impl Task {
    fn new(name: &'static str, work: f64, critical: bool) -> Self {
        Task {
            name,
            total: work,
            left: work,
            worked: 0.0,
            critical,
            interruptions: 0,
        }
    }
}

/// What `main` checks at the end.
#[derive(Default)]
struct Report {
    /// (task, total work, work received, finished at, times interrupted)
    finished: Vec<(&'static str, f64, f64, f64, u32)>,
    deepest_nesting: usize,
    deferred: Vec<(&'static str, f64)>,
}

/// Works through `todo`; interrupts push urgent tasks on `stack`.
struct Worker {
    todo: VecDeque<Task>,
    /// The task being worked on is the top; the ones below were interrupted.
    stack: Vec<Task>,
    report: Rc<RefCell<Report>>,
}

impl Worker {
    /// `report > phone call > fire drill`
    fn show_stack(&self) -> String {
        let names: Vec<&str> = self.stack.iter().map(|t| t.name).collect();
        names.join(" > ")
    }

    /// The command that works on the top task.
    fn work_on_top(&self) -> Command<()> {
        let top = self.stack.last().expect("a task to work on");
        if top.critical {
            // A critical region: interrupts that arrive meanwhile are queued, not delivered.
            Command::Sleep(top.left).masked()
        } else {
            Command::Sleep(top.left)
        }
    }

    /// Resumes the interrupted task below, or starts the next one from the list.
    fn next_task(&mut self, t: f64) -> Command<()> {
        if let Some(top) = self.stack.last() {
            println!(
                "t={t:4.1}  worker: back to {} with {} left  [{}]",
                top.name,
                top.left,
                self.show_stack()
            );
            return self.work_on_top();
        }
        let Some(task) = self.todo.pop_front() else {
            println!("t={t:4.1}  worker: nothing left to do");
            return Command::Done;
        };
        let critical = if task.critical {
            " (critical: interrupts deferred)"
        } else {
            ""
        };
        println!(
            "t={t:4.1}  worker: starts {} ({} of work){critical}",
            task.name, task.left
        );
        self.stack.push(task);
        self.work_on_top()
    }
}

impl Process<M> for Worker {
    fn step(&mut self, cx: &mut Cx<'_>, wake: Wake<(), Urgent>) -> Command<()> {
        let t = cx.now();
        match wake {
            Wake::Started => self.next_task(t),

            // The top task's work is done.
            Wake::Completed(Outcome::Slept) => {
                let mut done = self.stack.pop().expect("was working on a task");
                // The last `Sleep(left)` ran to the end.
                done.worked += done.left;
                done.left = 0.0;
                println!("t={t:4.1}  worker: finishes {}", done.name);
                self.report.borrow_mut().finished.push((
                    done.name,
                    done.total,
                    done.worked,
                    t,
                    done.interruptions,
                ));
                self.next_task(t)
            }

            // Interrupted: save the current task's progress, push the urgent one.
            Wake::Interrupted(interrupt) => {
                // The withdrawn request is the top task's `Sleep(left)`; `remaining_sleep`
                // is what is still to do (`left - waited`).
                let left = interrupt
                    .remaining_sleep()
                    .expect("the worker only ever waits in Sleep");
                let Interrupt {
                    cause: Reason::Interrupt(cause),
                    waited,
                    ..
                } = interrupt
                else {
                    unreachable!("nothing preempts or summons the worker")
                };
                let top = self.stack.last_mut().expect("interrupted while on a task");
                assert_eq!(waited + left, top.left, "work is neither lost nor invented");
                top.worked += waited;
                top.left = left;
                top.interruptions += 1;
                println!(
                    "t={t:4.1}  worker: INTERRUPTED by {} during {}: {waited} done, {left} left, saved",
                    cause.name, top.name
                );
                if cause.sent_at < t {
                    println!(
                        "t={t:4.1}  worker:   ({} was sent at t={}, deferred {} by the critical region)",
                        cause.name,
                        cause.sent_at,
                        t - cause.sent_at
                    );
                    let mut report = self.report.borrow_mut();
                    report.deferred.push((cause.name, t - cause.sent_at));
                }
                self.stack.push(Task::new(cause.name, cause.work, false));
                let nesting = self.stack.len() - 1;
                {
                    let mut report = self.report.borrow_mut();
                    report.deepest_nesting = report.deepest_nesting.max(nesting);
                }
                println!(
                    "t={t:4.1}  worker: works on {} ({} of work)  [{}]  nesting {nesting}",
                    cause.name,
                    cause.work,
                    self.show_stack()
                );
                self.work_on_top()
            }
            other => unreachable!("the worker never gets {other:?}"),
        }
    }
}

/// Sends its urgent tasks to the worker at fixed times.
struct Boss {
    worker: Pid,
    /// (time, task name, work), in time order.
    plan: VecDeque<(f64, &'static str, f64)>,
}

impl Process<M> for Boss {
    fn step(&mut self, cx: &mut Cx<'_>, wake: Wake<(), Urgent>) -> Command<()> {
        let t = cx.now();
        if let Wake::Completed(Outcome::Slept) = wake {
            let (_, name, work) = self.plan.pop_front().expect("planned");
            println!("t={t:4.1}  boss:   interrupts the worker: {name} ({work} of work)");
            let cause = Urgent {
                name,
                work,
                sent_at: t,
            };
            // `false` would mean the worker has already finished.
            assert!(cx.interrupt(self.worker, cause));
        }
        match self.plan.front() {
            Some(&(at, _, _)) => Command::Sleep(at - t),
            None => Command::Done,
        }
    }
}

/// `--svg FILE`, if given.
fn svg_path() -> Option<std::path::PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--svg" {
            return Some(args.next().expect("--svg needs a file name").into());
        }
    }
    None
}

/// Draws the timeline to `path` (with the `plot` feature).
#[cfg(feature = "plot")]
fn write_svg(timeline: &Timeline, path: &std::path::Path) {
    let height = 150 + 60 * timeline.rows().len() as u32;
    timeline
        .write_svg(path, 960, height)
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    eprintln!("wrote the timeline to {}", path.display());
}

fn main() -> Result<(), stepsim::Error> {
    let svg = svg_path();
    if cfg!(not(feature = "plot")) && svg.is_some() {
        eprintln!(
            "--svg needs the plot feature: \
             cargo run --example interrupt_resume --features plot -- --svg FILE"
        );
        std::process::exit(2);
    }
    let mut sim = Simulation::<M>::new(5);
    // Every wake and every wait started: what the timeline is drawn from.
    let trace = TraceLog::with_waits();
    sim.observe(trace.clone());
    let report = Rc::new(RefCell::new(Report::default()));

    let todo = VecDeque::from([
        Task::new("report", 10.0, false),
        Task::new("calibration", 4.0, true),
        Task::new("e-mail", 3.0, false),
    ]);
    let plan = VecDeque::from([
        (3.0, "phone call", 4.0), // interrupts the report
        (5.0, "fire drill", 2.0), // interrupts the phone call: nested
        (18.0, "visitor", 1.0),   // arrives during the critical calibration: deferred
    ]);
    let total_work: f64 = todo.iter().map(|t| t.total).sum::<f64>()
        + plan.iter().map(|&(_, _, work)| work).sum::<f64>();
    let interrupts = plan.len();

    let worker = sim.spawn_named(
        "worker",
        Box::new(Worker {
            todo,
            stack: Vec::new(),
            report: report.clone(),
        }),
    );
    sim.spawn_named("boss", Box::new(Boss { worker, plan }));
    sim.run()?;

    // The worker's waits, as the timeline sees them: the report's sleep is cut short by the
    // phone call at t=3, the calibration is one masked sleep from 16 to 20, and the visitor's
    // interrupt lands at 20, before the e-mail's sleep ever started.
    let timeline = Timeline::from_log(&trace);
    let row = &timeline.rows()[0];
    assert_eq!(row.label, "worker");
    let first = row.intervals[0];
    assert_eq!((first.start, first.end), (0.0, 3.0));
    assert!(first.was_cut());
    let masked: Vec<(f64, f64)> = row
        .intervals
        .iter()
        .filter(|i| i.state.masked)
        .map(|i| (i.start, i.end))
        .collect();
    assert_eq!(masked, [(16.0, 20.0)]);
    #[cfg(feature = "plot")]
    if let Some(path) = svg {
        write_svg(&timeline, &path);
    }

    // ----- summary and self-check -----
    let report = report.borrow();
    println!();
    println!("task         needs  received  finished  interrupted");
    for &(name, total, worked, at, n) in &report.finished {
        println!("{name:11}  {total:5}  {worked:8}  {at:8}  {n:11}");
        assert_eq!(worked, total, "{name} got exactly the work it needed");
    }
    println!(
        "deepest nesting of interrupts: {}; deferred interrupts: {:?}",
        report.deepest_nesting, report.deferred
    );
    assert_eq!(report.finished.len(), 3 + interrupts, "every task finished");
    assert_eq!(
        sim.now(),
        total_work,
        "never idle, no work lost or done twice"
    );
    assert_eq!(
        report.deepest_nesting, 2,
        "an interrupt landed during another"
    );
    assert_eq!(
        report.deferred,
        vec![("visitor", 2.0)],
        "deferred, not lost"
    );
    assert!(sim.is_finished(worker)?);
    println!(
        "ok: all {} units of work done by t={}, none lost to interrupts",
        total_work,
        sim.now()
    );
    Ok(())
}
