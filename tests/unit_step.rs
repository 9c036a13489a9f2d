//! Unit-testing a process by calling `step` directly, without running a simulation.
//!
//! A process is a state machine, and `Process::step` is an ordinary method: take a context
//! from `Simulation::context()`, feed the process the wakes you want to test — including
//! ones that are hard to arrange in a full run, like an interrupt at an exact moment — and
//! assert on the commands it returns and on its state. No clock advances and nothing is
//! scheduled; the test *is* the event sequence.
//!
//! The two processes below are trimmed-down versions of the workers and customers in
//! `examples/interrupt_resume.rs` and `examples/renege.rs`.

use stepsim::{
    Boxed, Command, Context, Error, First, Interrupt, Outcome, Process, Reason, ResourceId,
    Simulation, Wake,
};

// ----- a worker that saves and resumes interrupted work -----

/// Interrupts carry the duration of the urgent task.
type Urgent = Boxed<(), f64>;

/// Works on a stack of task durations: the top is the current task. An interrupt saves the
/// current task's remaining work and pushes its own.
struct StackWorker {
    stack: Vec<f64>,
}

impl Process<Urgent> for StackWorker {
    fn step(&mut self, _cx: &mut Context<'_, Urgent>, wake: Wake<(), f64>) -> Command<()> {
        match wake {
            Wake::Started => {}
            Wake::Completed(Outcome::Slept) => {
                self.stack.pop();
            }
            Wake::Interrupted(interrupt) => {
                let left = interrupt.remaining_sleep().expect("the worker only sleeps");
                *self.stack.last_mut().expect("a current task") = left;
                match interrupt.cause {
                    Reason::Interrupt(work) => self.stack.push(work),
                    other => panic!("nothing preempts or summons it: {other:?}"),
                }
            }
            other => panic!("unexpected {other:?}"),
        }
        match self.stack.last() {
            Some(&work) => Command::Sleep(work),
            None => Command::Done,
        }
    }
}

/// An interrupt of a `Sleep(slept_for)` after `waited`, carrying `work`.
fn interrupt(work: f64, slept_for: f64, waited: f64) -> Wake<(), f64> {
    Wake::Interrupted(Interrupt::new(work, Command::Sleep(slept_for), waited))
}

#[test]
fn worker_saves_nested_interrupts_and_resumes_in_order() {
    let mut sim = Simulation::<Urgent>::new(0);
    let mut cx = sim.context();
    let mut w = StackWorker { stack: vec![10.0] };

    assert_eq!(w.step(&mut cx, Wake::Started), Command::Sleep(10.0));

    // Interrupted 3 units into the 10-unit task, with 4 units of urgent work.
    assert_eq!(
        w.step(&mut cx, interrupt(4.0, 10.0, 3.0)),
        Command::Sleep(4.0)
    );
    assert_eq!(w.stack, [7.0, 4.0]);

    // Interrupted again 1 unit into the urgent task: nested, two deep.
    assert_eq!(
        w.step(&mut cx, interrupt(2.0, 4.0, 1.0)),
        Command::Sleep(2.0)
    );
    assert_eq!(w.stack, [7.0, 3.0, 2.0]);

    // Unwinds in order, each task resumed with exactly what was left.
    assert_eq!(
        w.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Sleep(3.0)
    );
    assert_eq!(
        w.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Sleep(7.0)
    );
    assert_eq!(
        w.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Done
    );
    assert!(w.stack.is_empty());
}

#[test]
fn deferred_interrupt_hands_back_an_unstarted_sleep() {
    // An interrupt queued during a masked wait is delivered at the next interruptible
    // command instead of starting it: `waited` is 0 and no work is lost.
    let mut sim = Simulation::<Urgent>::new(0);
    let mut cx = sim.context();
    let mut w = StackWorker { stack: vec![5.0] };
    assert_eq!(w.step(&mut cx, Wake::Started), Command::Sleep(5.0));
    assert_eq!(
        w.step(&mut cx, interrupt(1.0, 5.0, 0.0)),
        Command::Sleep(1.0)
    );
    assert_eq!(w.stack, [5.0, 1.0]);
}

// ----- a customer who reneges -----

type Plain = Boxed<()>;

/// Waits for the clerk at most `patience`, is served for `service`, then releases the clerk.
enum Customer {
    Arriving,
    Waiting,
    Served,
}

struct Visit {
    clerk: ResourceId,
    patience: f64,
    service: f64,
    state: Customer,
}

impl Process<Plain> for Visit {
    fn step(&mut self, cx: &mut Context<'_, Plain>, wake: Wake<()>) -> Command<()> {
        match (&self.state, wake) {
            (Customer::Arriving, Wake::Started) => {
                self.state = Customer::Waiting;
                Command::first_of([Command::Acquire(self.clerk), Command::Sleep(self.patience)])
            }
            (Customer::Waiting, Wake::First(First { index: 0, .. })) => {
                self.state = Customer::Served;
                Command::Sleep(self.service)
            }
            // Patience ran out: leave without touching the clerk.
            (Customer::Waiting, Wake::First(First { index: 1, .. })) => Command::Done,
            (Customer::Served, Wake::Completed(Outcome::Slept)) => {
                cx.release(self.clerk);
                Command::Done
            }
            (_, other) => panic!("unexpected {other:?}"),
        }
    }
}

fn visit(clerk: ResourceId) -> Visit {
    Visit {
        clerk,
        patience: 5.0,
        service: 2.0,
        state: Customer::Arriving,
    }
}

#[test]
fn customer_who_runs_out_of_patience_leaves_without_releasing() {
    let mut sim = Simulation::<Plain>::new(0);
    let clerk = sim.resource(1).unwrap();
    let mut cx = sim.context();
    let mut c = visit(clerk);

    assert_eq!(
        c.step(&mut cx, Wake::Started),
        Command::first_of([Command::Acquire(clerk), Command::Sleep(5.0)])
    );
    let timeout = Wake::First(First::new(
        1,
        Outcome::Slept,
        [Command::Acquire(clerk)].into(),
    ));
    assert_eq!(c.step(&mut cx, timeout), Command::Done);
    // Nothing was done through the context: in particular, no release.
    assert!(cx.error().is_none());
}

#[test]
fn served_customer_releases_the_clerk() {
    let mut sim = Simulation::<Plain>::new(0);
    let clerk = sim.resource(1).unwrap();
    let mut cx = sim.context();
    let mut c = visit(clerk);

    c.step(&mut cx, Wake::Started);
    let served = Wake::First(First::new(
        0,
        Outcome::Acquired(clerk),
        [Command::Sleep(5.0)].into(),
    ));
    assert_eq!(c.step(&mut cx, served), Command::Sleep(2.0));
    assert_eq!(
        c.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Done
    );
    // The release went through the context. A context from `Simulation::context()` is no
    // process and holds no slot, so the release is reported as an error there instead of
    // freeing anything: exactly the evidence that the process did release.
    assert!(
        matches!(cx.take_error(), Some(Error::NotHolder { resource, .. }) if resource == clerk)
    );
}
