//! The modeler's traps: for each, the natural code now does the right thing.

mod common;

use common::f;
use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{
    Boxed, Capacity, Command, Context, Interrupt, Outcome, Priority, Process, Reason, Simulation,
    Wake,
};

type M = Boxed<u64, u64>;
type W = Wake<u64, u64>;
type Log = Rc<RefCell<Vec<(f64, &'static str)>>>;

// ----- resuming carries on; returning the request starts again -----

/// Sleeps 10, is interrupted at 4, and either carries on or starts again; logs when done.
fn sleeper(log: &Log, carry_on: bool) -> Box<dyn Process<M>> {
    let log = Rc::clone(log);
    f(move |cx, wake| match wake {
        Wake::Started => Command::Sleep(10.0),
        Wake::Interrupted(i) if carry_on => i.resume(),
        Wake::Interrupted(i) => i.request,
        Wake::Completed(_) | Wake::First(_) => {
            log.borrow_mut().push((cx.now(), "done"));
            Command::Done
        }
    })
}

#[test]
fn a_resumed_sleep_ends_when_it_would_have_and_a_restarted_one_later() {
    for (carry_on, end) in [(true, 10.0), (false, 14.0)] {
        let mut sim = Simulation::<M>::new(0);
        let log = Log::default();
        let p = sim.spawn(sleeper(&log, carry_on));
        sim.run_until(4.0).unwrap();
        sim.interrupt(p, 0).unwrap();
        sim.run().unwrap();
        assert_eq!(*log.borrow(), [(end, "done")], "carry on: {carry_on}");
    }
}

/// Waits for the clerk (interrupted once at 2 while waiting, then carrying on or starting
/// again), holds it 1, logs its name when served.
fn customer(
    clerk: stepsim::ResourceId,
    name: &'static str,
    arrive: f64,
    carry_on: bool,
    log: &Log,
) -> Box<dyn Process<M>> {
    let log = Rc::clone(log);
    f(move |cx, wake| match wake {
        Wake::Started => Command::Sleep(arrive),
        Wake::Completed(Outcome::Slept) if cx.now() == arrive => Command::Acquire(clerk),
        Wake::Completed(Outcome::Acquired(_)) => {
            log.borrow_mut().push((cx.now(), name));
            Command::Sleep(1.0)
        }
        Wake::Interrupted(i) if carry_on => i.resume(),
        Wake::Interrupted(i) => i.request,
        Wake::Completed(_) | Wake::First(_) => {
            cx.release(clerk);
            Command::Done
        }
    })
}

fn served_order(carry_on: bool, priority: bool) -> Vec<(f64, &'static str)> {
    let mut sim = Simulation::<M>::new(0);
    let clerk = if priority {
        sim.priority_resource(1).unwrap()
    } else {
        sim.resource(1).unwrap()
    };
    let log = Log::default();
    // The clerk is busy until 5; a queues at 0.5, b at 1.
    sim.spawn(f(move |cx, wake| match wake {
        Wake::Started => Command::Acquire(clerk),
        Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(5.0),
        _ => {
            cx.release(clerk);
            Command::Done
        }
    }));
    let a = sim.spawn(customer(clerk, "a", 0.5, carry_on, &log));
    sim.spawn(customer(clerk, "b", 1.0, carry_on, &log));
    sim.run_until(2.0).unwrap();
    sim.interrupt(a, 0).unwrap();
    sim.run().unwrap();
    log.take()
}

#[test]
fn a_resumed_request_keeps_its_place_in_line() {
    for priority in [false, true] {
        assert_eq!(
            served_order(true, priority),
            [(5.0, "a"), (6.0, "b")],
            "carrying on keeps a ahead of b (priority resource: {priority})"
        );
        assert_eq!(
            served_order(false, priority),
            [(5.0, "b"), (6.0, "a")],
            "starting again goes to the back (priority resource: {priority})"
        );
    }
}

/// Gets from `q` within 10, carrying on after an interrupt; logs whether it got an item.
fn patient_getter(q: stepsim::QueueId, log: &Log) -> Box<dyn Process<M>> {
    let seen = Rc::clone(log);
    f(move |cx, wake| match wake {
        Wake::Started => Command::first_of([Command::Get(q), Command::Sleep(10.0)]),
        Wake::Interrupted(i) => i.resume(),
        Wake::First(first) => {
            let what = if first.index == 0 {
                "a got"
            } else {
                "a gave up"
            };
            seen.borrow_mut().push((cx.now(), what));
            Command::Done
        }
        Wake::Completed(_) => Command::Done,
    })
}

#[test]
fn a_resumed_first_of_sleeps_what_was_left_and_keeps_its_get_in_line() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let log = Log::default();
    // a: first of a get and a 10-unit patience, interrupted at 3, carries on.
    let a = sim.spawn(patient_getter(q, &log));
    // b: gets from the same queue, from 1 on.
    let seen = Rc::clone(&log);
    sim.spawn(f(move |cx, wake| match wake {
        Wake::Started => Command::Sleep(1.0),
        Wake::Completed(Outcome::Slept) => Command::Get(q),
        _ => {
            seen.borrow_mut().push((cx.now(), "b got"));
            Command::Done
        }
    }));
    sim.run_until(3.0).unwrap();
    sim.interrupt(a, 0).unwrap();
    sim.run_until(4.0).unwrap();
    sim.context().try_put(q, 7).unwrap();
    sim.run().unwrap();
    // a's get is still ahead of b's: a gets the item; b waits on.
    assert_eq!(*log.borrow(), [(4.0, "a got")]);

    // Without an item, a gives up at 10, when its patience would have ended anyway.
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let log = Log::default();
    let a = sim.spawn(patient_getter(q, &log));
    sim.run_until(3.0).unwrap();
    sim.interrupt(a, 0).unwrap();
    sim.run().unwrap();
    assert_eq!(*log.borrow(), [(10.0, "a gave up")]);
}

#[test]
fn an_interrupt_of_a_resumed_wait_can_be_resumed_again() {
    let mut sim = Simulation::<M>::new(0);
    let log = Log::default();
    let p = sim.spawn(sleeper(&log, true));
    for t in [2.0, 5.0, 9.0] {
        sim.run_until(t).unwrap();
        sim.interrupt(p, 0).unwrap();
    }
    sim.run().unwrap();
    assert_eq!(*log.borrow(), [(10.0, "done")]);
}

#[test]
fn resume_of_a_plain_sleep_is_the_rest_of_the_sleep() {
    let i: Interrupt<u64, u64> = Interrupt::new(1, Command::Sleep(10.0), 4.0);
    assert_eq!(i.resume(), Command::Sleep(6.0));
    let i: Interrupt<u64, u64> = Interrupt::new(1, Command::Yield, 0.0);
    assert_eq!(i.resume(), Command::Yield);
}

// ----- SimPy's `with` habit: release on every way out -----

#[test]
fn releasing_on_every_way_out_is_correct_after_a_preemption() {
    let mut sim = Simulation::<M>::new(0);
    let machine = sim.preemptive_resource(1).unwrap();
    let log = Log::default();
    let seen = Rc::clone(&log);
    let low = sim.spawn_named(
        "low",
        f(move |cx, wake| match wake {
            Wake::Started => Command::AcquireWith(machine, Priority::new(5.0)),
            Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(10.0),
            // Done, preempted or interrupted: release, as a `with` block would.
            Wake::Completed(_) | Wake::First(_) | Wake::Interrupted(_) => {
                cx.release(machine);
                seen.borrow_mut().push((cx.now(), "low out"));
                Command::Done
            }
        }),
    );
    sim.spawn(f(move |cx, wake| match wake {
        Wake::Started => Command::Sleep(3.0),
        Wake::Completed(Outcome::Slept) if cx.now() == 3.0 => {
            Command::AcquireWith(machine, Priority::new(1.0))
        }
        Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(1.0),
        _ => {
            cx.release(machine);
            Command::Done
        }
    }));
    sim.run().unwrap();
    assert_eq!(*log.borrow(), [(3.0, "low out")]);
    assert!(sim.is_finished(low).unwrap());
}

// ----- one spelling for every wait -----

#[test]
fn a_wait_is_spelled_the_same_alone_as_a_branch_and_masked() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.priority_resource(1).unwrap();
    let urgent = Command::AcquireWith(r, Priority::new(1.0));
    let alone: Command<u64> = urgent.clone();
    let branch = Command::first_of([urgent.clone(), Command::Sleep(5.0)]);
    let masked = urgent.clone().masked();
    assert_eq!(masked.clone().unmasked(), alone);
    let Command::FirstOf(branches) = branch else {
        panic!()
    };
    assert_eq!(branches.to_vec()[0], alone);
    // Each runs.
    for command in [alone, Command::FirstOf(branches), masked] {
        let mut sim = Simulation::<M>::new(0);
        let r = sim.priority_resource(1).unwrap();
        let command = match command {
            Command::AcquireWith(_, p) => Command::AcquireWith(r, p),
            Command::FirstOf(_) => Command::first_of([
                Command::AcquireWith(r, Priority::new(1.0)),
                Command::Sleep(5.0),
            ]),
            other => {
                assert!(!other.is_interruptible());
                Command::AcquireWith(r, Priority::new(1.0)).masked()
            }
        };
        let mut first = Some(command);
        sim.spawn(f(move |cx, wake| match wake {
            Wake::Started => first.take().unwrap(),
            _ => {
                cx.release(r);
                Command::Done
            }
        }));
        sim.run().unwrap();
        assert_eq!(sim.resource_view(r).unwrap().in_use(), 0);
    }
    let _ = sim;
}

#[test]
fn a_branch_that_is_not_a_wait_is_an_error_naming_the_process() {
    let mut sim = Simulation::<M>::new(0);
    sim.spawn_named(
        "odd",
        f(|_, wake| match wake {
            Wake::Started => Command::first_of([Command::Sleep(1.0), Command::Done]),
            _ => Command::Done,
        }),
    );
    let err = sim.run().unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("\"odd\"") && msg.contains("not a wait"),
        "{msg}"
    );
}

#[test]
fn a_masked_first_of_is_an_error() {
    let mut sim = Simulation::<M>::new(0);
    sim.spawn(f(|_, wake| match wake {
        Wake::Started => Command::first_of([Command::Sleep(1.0)]).masked(),
        _ => Command::Done,
    }));
    let err = sim.run().unwrap_err();
    assert!(err.to_string().contains("masked"), "{err}");
}

// ----- no catch-all that swallows interrupts -----

#[test]
fn a_process_matches_its_wakes_without_a_catch_all() {
    // Four arms, no `_`: the compiler checks that interrupts are handled.
    struct Napper;
    impl Process<M> for Napper {
        fn step(&mut self, _: &mut Context<'_, M>, wake: W) -> Command<u64> {
            match wake {
                Wake::Started => Command::Sleep(1.0),
                Wake::Completed(_) => Command::Done,
                Wake::First(_) => unreachable!("it issues no FirstOf"),
                Wake::Interrupted(Interrupt {
                    cause: Reason::Interrupt(_),
                    ..
                }) => Command::Done,
                Wake::Interrupted(_) => unreachable!("nothing preempts or summons it"),
            }
        }
    }
    let mut sim = Simulation::<M>::new(0);
    sim.spawn(Box::new(Napper));
    sim.run().unwrap();
    assert_eq!(sim.now(), 1.0);
}

// ----- results readable after a run -----

/// Counts its naps.
struct Napper {
    naps: u32,
}

impl Process<M> for Napper {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Command<u64> {
        if let Wake::Completed(_) = wake {
            self.naps += 1;
        }
        if self.naps == 3 {
            cx.exit_value(u64::from(self.naps) * 100);
            return Command::Done;
        }
        Command::Sleep(1.0)
    }
}

#[test]
fn a_process_state_is_readable_during_and_after_a_run() {
    let mut sim = Simulation::<M>::new(0);
    sim.keep_finished(true);
    let p = sim.spawn(Box::new(Napper { naps: 0 }));
    sim.run_until(1.5).unwrap();
    assert_eq!(sim.process_as::<Napper>(p).map(|n| n.naps), Some(1));
    assert!(sim.process_as::<String>(p).is_none(), "not a String");
    sim.process_as_mut::<Napper>(p).unwrap().naps = 2; // adjusted between steps
    sim.run().unwrap();
    assert_eq!(sim.now(), 2.0);
    assert_eq!(sim.process_as::<Napper>(p).map(|n| n.naps), Some(3));
    assert_eq!(sim.exit(p), Some(stepsim::Exit::Returned(Some(300))));
    let all = sim.into_processes();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, p);
}

#[test]
fn without_keeping_a_finished_process_is_gone() {
    let mut sim = Simulation::<M>::new(0);
    let p = sim.spawn(Box::new(Napper { naps: 0 }));
    sim.run().unwrap();
    assert!(sim.process(p).is_none());
    assert_eq!(sim.exit(p), Some(stepsim::Exit::Gone));
}

#[test]
fn joining_a_finished_kept_process_returns_its_value() {
    let mut sim = Simulation::<M>::new(0);
    sim.keep_finished(true);
    let kid = sim.spawn(Box::new(Napper { naps: 0 }));
    let log = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&log);
    sim.spawn(f(move |_, wake| match wake {
        Wake::Started => Command::Sleep(10.0), // long after the kid finished
        Wake::Completed(Outcome::Slept) => Command::Join(kid),
        Wake::Completed(Outcome::Joined(_, exit)) => {
            seen.borrow_mut().push(exit);
            Command::Done
        }
        _ => Command::Done,
    }));
    sim.run().unwrap();
    assert_eq!(*log.borrow(), [stepsim::Exit::Returned(Some(300))]);
}

/// The enum form: the model's process type is one enum, read back as itself.
mod enum_form {
    use stepsim::{Command, Context, Model, Outcome, Process, Simulation, Wake};

    struct Shop;
    enum Actor {
        Clock { ticks: u32 },
    }
    impl Model for Shop {
        type Item = ();
        type Cause = ();
        type Proc = Actor;
    }
    impl Process<Shop> for Actor {
        fn step(&mut self, _: &mut Context<'_, Shop>, wake: Wake<(), ()>) -> Command<()> {
            let Actor::Clock { ticks } = self;
            if let Wake::Completed(Outcome::Slept) = wake {
                *ticks += 1;
            }
            Command::Sleep(1.0)
        }
    }

    #[test]
    fn an_enum_process_is_read_back_as_the_enum() {
        let mut sim = Simulation::<Shop>::new(0);
        let p = sim.spawn(Actor::Clock { ticks: 0 });
        sim.run_until(5.5).unwrap();
        let Some(Actor::Clock { ticks }) = sim.process(p) else {
            panic!()
        };
        assert_eq!(*ticks, 5);
        assert!(sim.process_as::<Actor>(p).is_some());
        let mut all = sim.into_processes();
        let (_, Actor::Clock { ticks }) = all.pop().unwrap();
        assert_eq!(ticks, 5);
    }
}

// ----- no silent endings -----

#[test]
fn a_run_that_ends_stuck_says_who_waits_on_what() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let r = sim.resource(1).unwrap();
    sim.spawn_named(
        "hog",
        f(move |_, wake| match wake {
            Wake::Started => Command::Acquire(r),
            _ => Command::Get(q), // holds r forever, waiting for a job
        }),
    );
    sim.spawn_named(
        "waiter",
        f(move |_, wake| match wake {
            Wake::Started => Command::Sleep(1.0),
            _ => Command::Acquire(r),
        }),
    );
    let ended = sim.run().unwrap();
    let stepsim::Ended::Blocked(waiting) = ended else {
        panic!("{ended:?}")
    };
    let lines: Vec<String> = waiting.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "process #0 \"hog\" waits on get:q0 since t=0",
            "process #1 \"waiter\" waits on acquire:r0 since t=1"
        ]
    );
    sim.fail_when_blocked(true);
    let err = sim.run().unwrap_err();
    assert!(matches!(err, stepsim::Error::Blocked { .. }));
    assert!(err.to_string().contains("2 blocked"), "{err}");
}

#[test]
fn a_run_where_everyone_finishes_says_so() {
    let mut sim = Simulation::<M>::new(0);
    sim.spawn(Box::new(Napper { naps: 0 }));
    assert_eq!(sim.run().unwrap(), stepsim::Ended::Finished);
    assert!(sim.blocked().is_empty());
}

#[test]
fn an_error_made_from_outside_is_returned_by_the_next_run() {
    let mut other = Simulation::<M>::new(0);
    let foreign = other.queue(Capacity::Unbounded).unwrap();
    let mut sim = Simulation::<M>::new(0);
    assert_eq!(sim.context().try_put(foreign, 5), Err(5));
    let err = sim.run().unwrap_err();
    assert!(matches!(err, stepsim::Error::ForeignHandle { .. }), "{err}");
    assert!(sim.run().is_ok(), "reported once");
    // Taken by the caller, it is not reported again.
    let mut cx = sim.context();
    cx.release(other.resource(1).unwrap());
    assert!(cx.take_error().is_some());
    drop(cx);
    assert!(sim.run().is_ok());
}

#[test]
fn inside_a_process_pid_is_its_own() {
    let mut sim = Simulation::<M>::new(0);
    let seen = Rc::new(RefCell::new(None));
    let s = Rc::clone(&seen);
    let p = sim.spawn(f(move |cx, _| {
        *s.borrow_mut() = Some((cx.pid(), cx.is_outside()));
        Command::Done
    }));
    sim.run().unwrap();
    assert_eq!(*seen.borrow(), Some((p, false)));
    assert!(sim.context().is_outside());
}

#[test]
fn whole_numbers_and_counts_read_as_they_are_written() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(10).unwrap();
    assert_eq!(sim.queue_view(q).unwrap().capacity(), Capacity::Bounded(10));
    assert_eq!(Priority::new(1), Priority::new(1.0));
    assert!(!Priority::without_preempting(2).preempt);
}

#[test]
fn a_model_names_its_wake_and_command_types() {
    use stepsim::{CommandOf, WakeOf};
    struct Echo;
    impl Process<M> for Echo {
        fn step(&mut self, _: &mut Context<'_, M>, wake: WakeOf<M>) -> CommandOf<M> {
            match wake {
                Wake::Started => Command::Sleep(1.0),
                _ => Command::Done,
            }
        }
    }
    let mut sim = Simulation::<M>::new(0);
    sim.spawn(Box::new(Echo));
    sim.run().unwrap();
    assert_eq!(sim.now(), 1.0);
}
