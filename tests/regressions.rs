//! Regression tests: each defect found by a random campaign against the public API, as the
//! minimal reproducer it was reported with, and one test for each rule decided with them
//! (README "Semantics").

mod common;

use common::f;
use std::cell::RefCell;
use std::rc::Rc;
use stepsim::{
    Activity, Boxed, Capacity, Command, Error, Filter, Interrupt, Outcome, Priority, Process,
    Reason, Simulation, TraceEvent, Wake,
};

type M = Boxed<u64, u64>;
type W = Wake<u64, u64>;

/// A process that issues `command` when started and records every wake it gets, then is
/// done.
fn recorder(command: Command<u64>, log: &Rc<RefCell<Vec<(f64, W)>>>) -> Box<dyn Process<M>> {
    let log = Rc::clone(log);
    let mut first = Some(command);
    f(move |cx, w| {
        if !matches!(w, Wake::Started) {
            log.borrow_mut().push((cx.now(), w));
        }
        first.take().unwrap_or(Command::Done)
    })
}

fn clocks_after_each_step(sim: &mut Simulation<M>) -> Vec<f64> {
    let mut clocks = Vec::new();
    while sim.step().expect("no error") {
        clocks.push(sim.now());
    }
    clocks
}

// ----- 1. the clock never runs backwards -----

#[test]
fn the_clock_never_runs_backwards_after_a_stale_timer_and_an_outside_call() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    sim.spawn(f(move |_, w| match w {
        Wake::Started => Command::first_of([Command::Get(q), Command::Sleep(2.0)]),
        _ => Command::Done,
    }));
    sim.spawn(f(move |_, w| match w {
        Wake::Started => Command::Put(q, 1),
        _ => Command::Done,
    }));
    sim.run().unwrap(); // the losing timeout at t=2 is the last thing in the queue
    sim.spawn(f(|_, w| match w {
        Wake::Started => Command::Sleep(1.0),
        _ => Command::Done,
    }));
    sim.plan(Activity::new(1.0).at(2.0)).unwrap();
    // The start at 0; the sleep's end and the exit at 1; the activity's start at 2 and its
    // end at 3 (the old engine gave [0, 2, 1, 1, 3]: the activity ran before the sleep).
    assert_eq!(clocks_after_each_step(&mut sim), [0.0, 1.0, 1.0, 2.0, 3.0]);
}

#[test]
fn waited_is_never_negative_after_a_stale_timer() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    sim.spawn(f(move |_, w| match w {
        Wake::Started => Command::first_of([Command::Get(q), Command::Sleep(5.0)]),
        _ => Command::Done,
    }));
    sim.context().try_put(q, 1).unwrap();
    sim.run().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let p = sim.spawn(recorder(Command::Sleep(10.0), &log));
    sim.run_until(1.0).unwrap();
    sim.interrupt(p, 7).unwrap();
    sim.run().unwrap();
    let log = log.borrow();
    match &log[..] {
        [(t, Wake::Interrupted(i))] => {
            assert_eq!(*t, 1.0);
            assert_eq!(i.waited, 1.0);
        }
        other => panic!("{other:?}"),
    }
}

// ----- 2. a handed-back request is the request issued -----

#[test]
fn two_requests_to_one_priority_resource_come_back_as_issued_from_a_first_of() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(1).unwrap();
    // Someone holds the slot, so both requests wait.
    sim.spawn(common::holder(r, 10.0));
    let branches = [
        Command::Acquire(r),
        Command::AcquireWith(r, Priority::without_preempting(-1.0)),
        Command::Sleep(1.0),
    ];
    let log = Rc::new(RefCell::new(Vec::new()));
    sim.spawn(recorder(Command::first_of(branches.clone()), &log));
    sim.run().unwrap();
    let log = log.borrow();
    match &log[0] {
        (1.0, Wake::First(first)) => {
            assert_eq!(first.index, 2);
            assert_eq!(first.others.to_vec(), &branches[..2]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn two_requests_to_one_priority_resource_come_back_as_issued_from_an_interrupt() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.priority_resource(1).unwrap();
    sim.spawn(common::holder(r, 10.0));
    let all = Command::AllOf(
        [
            Command::AcquireWith(r, Priority::new(3.0)),
            Command::AcquireWith(r, Priority::without_preempting(1.0)),
        ]
        .into(),
    );
    let log = Rc::new(RefCell::new(Vec::new()));
    let p = sim.spawn(recorder(all.clone(), &log));
    sim.run_until(2.0).unwrap();
    sim.interrupt(p, 9).unwrap();
    sim.run().unwrap();
    let log = log.borrow();
    match &log[0] {
        (2.0, Wake::Interrupted(i)) => assert_eq!(i.request, all),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_losing_non_preempting_request_never_comes_back_preempting() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(1).unwrap();
    sim.spawn(common::holder(r, 10.0));
    let log = Rc::new(RefCell::new(Vec::new()));
    sim.spawn(recorder(
        Command::first_of([
            Command::Acquire(r),
            Command::AcquireWith(r, Priority::without_preempting(-1.0)),
            Command::Sleep(1.0),
        ]),
        &log,
    ));
    sim.run().unwrap();
    let log = log.borrow();
    let Wake::First(first) = &log[0].1 else {
        panic!("{log:?}")
    };
    assert!(first.others.to_vec().contains(&Command::AcquireWith(
        r,
        Priority {
            level: -1.0,
            preempt: false
        }
    )));
}

#[test]
fn a_wait_issued_as_command_wait_comes_back_as_command_wait() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let p = sim.spawn(recorder(Command::Get(q), &log));
    let p2 = sim.spawn(recorder(Command::Get(q), &log));
    sim.run_until(1.0).unwrap();
    sim.interrupt(p, 1).unwrap();
    sim.interrupt(p2, 2).unwrap();
    sim.run().unwrap();
    let requests: Vec<_> = log
        .borrow()
        .iter()
        .map(|(_, w)| match w {
            Wake::Interrupted(i) => i.request.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        requests,
        [Command::Get(q), Command::Get(q)],
        "each exactly as issued"
    );
}

// ----- 3. no panic from an outside call between steps -----

#[test]
fn releasing_a_barrier_from_outside_while_its_timer_is_due_does_not_panic() {
    let mut sim = Simulation::<M>::new(0);
    let b = sim.barrier(2).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    sim.spawn(recorder(
        Command::first_of([Command::Arrive(b), Command::Sleep(5.0)]),
        &log,
    ));
    sim.run_until(5.0).unwrap();
    sim.context().release_barrier(b);
    sim.run().unwrap();
    let log = log.borrow();
    match &log[..] {
        [(t, Wake::First(first))] => {
            assert_eq!(*t, 5.0);
            assert_eq!(first.index, 0, "the release won; the timer was withdrawn");
            assert_eq!(first.outcome, Outcome::Released(b));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_outside_interrupt_while_a_timer_is_due_wins_cleanly() {
    let mut sim = Simulation::<M>::new(0);
    let log = Rc::new(RefCell::new(Vec::new()));
    let p = sim.spawn(recorder(
        Command::first_of([Command::Sleep(5.0), Command::Sleep(6.0)]),
        &log,
    ));
    sim.run_until(5.0).unwrap();
    sim.interrupt(p, 3).unwrap();
    sim.run().unwrap();
    let log = log.borrow();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(matches!(log[0], (5.0, Wake::Interrupted(_))), "{log:?}");
}

// ----- 4. an activity never stalls -----

#[test]
fn an_activity_waiting_for_a_participant_starts_once_an_earlier_summons_is_withdrawn() {
    let mut sim = Simulation::<M>::new(0);
    let p = sim.spawn(f(|cx, w| match w {
        Wake::Started => {
            cx.set_available(true);
            Command::Sleep(3.0).masked()
        }
        Wake::Interrupted(Interrupt {
            cause: Reason::Summoned(a),
            ..
        }) => Command::Attend(a),
        Wake::Completed(Outcome::ActivityOver(_)) => Command::Done,
        _ => Command::Sleep(100.0),
    }));
    // Ends at 2 without p, who is masked until 3.
    let first = sim.plan(Activity::new(1.0).at(1.0).with(p)).unwrap();
    sim.run_until(1.5).unwrap();
    let second = sim.plan(Activity::new(1.0).with_available(p)).unwrap();
    sim.run_until(20.0).unwrap();
    let first = sim.activity_view(first).unwrap();
    assert_eq!(first.participants()[0].joined_at, None);
    let second = sim.activity_view(second).unwrap();
    assert_eq!(second.started_at(), Some(2.0));
    assert_eq!(
        second.lateness(p),
        Some(1.0),
        "p joins when its masked sleep ends"
    );
    assert_eq!(second.ended_at(), Some(3.0));
}

// ----- 5. branch counts are not truncated -----

#[test]
fn an_all_of_with_more_branches_than_supported_is_an_error() {
    let mut sim = Simulation::<M>::new(0);
    sim.spawn_named(
        "many",
        f(|_, w| match w {
            Wake::Started => Command::AllOf((0..65_536).map(|_| Command::Sleep(1.0)).collect()),
            _ => Command::Done,
        }),
    );
    let err = sim.run().unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooManyBranches {
                branches: 65_536,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("\"many\"") && msg.contains("65536"), "{msg}");
}

#[test]
fn a_first_of_with_more_branches_than_supported_is_an_error() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    sim.spawn(f(move |_, w| match w {
        Wake::Started => {
            let mut branches = vec![Command::Get(q)];
            branches.extend((0..65_535).map(|_| Command::Sleep(100.0)));
            branches.push(Command::Sleep(1.0));
            Command::first_of(branches)
        }
        _ => Command::Done,
    }));
    let err = sim.run().unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooManyBranches {
                branches: 65_537,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_largest_supported_first_of_works() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut branches = vec![Command::Get(q)];
    branches.extend((0..65_533).map(|_| Command::Sleep(100.0)));
    branches.push(Command::Sleep(1.0));
    assert_eq!(branches.len(), 65_535);
    sim.spawn(recorder(Command::first_of(branches), &log));
    sim.run().unwrap();
    sim.context().try_put(q, 5).unwrap();
    sim.run().unwrap();
    let log = log.borrow();
    let Wake::First(first) = &log[0].1 else {
        panic!()
    };
    assert_eq!(first.index, 65_534);
    assert_eq!(
        sim.queue_view(q).unwrap().len(),
        1,
        "the losing Get took nothing"
    );
}

// ----- 6. a panic in any user callback poisons the simulation -----

fn assert_poisoned(sim: &mut Simulation<M>, what: &str) {
    let err = sim.run().unwrap_err();
    assert!(matches!(err, Error::Poisoned { .. }), "{err}");
    assert!(err.to_string().contains(what), "{err}");
    assert!(matches!(sim.step(), Err(Error::Poisoned { .. })));
    assert!(matches!(sim.run_until(100.0), Err(Error::Poisoned { .. })));
}

#[test]
fn a_panicking_filter_poisons_the_simulation() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.filter_queue(Capacity::Unbounded).unwrap();
    sim.spawn_named(
        "picky",
        f(move |_, w| match w {
            Wake::Started => Command::GetWhere(
                q,
                Filter::new(|x: &u64| if *x == 2 { panic!("bad item") } else { false }),
            ),
            _ => Command::Done,
        }),
    );
    sim.spawn(f(move |_, w| match w {
        Wake::Started => Command::Put(q, 2),
        _ => Command::Done,
    }));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.run()));
    assert!(caught.is_err());
    assert_poisoned(&mut sim, "filter");
}

#[test]
fn a_panicking_filter_called_from_outside_poisons_the_simulation() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.filter_queue(Capacity::Unbounded).unwrap();
    sim.context().try_put(q, 1).unwrap();
    let bad = Filter::new(|_: &u64| -> bool { panic!("bad filter") });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sim.context().try_get_where(q, &bad)
    }));
    assert!(caught.is_err());
    assert_poisoned(&mut sim, "filter");
}

#[test]
fn a_panicking_priority_order_poisons_the_simulation() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim
        .priority_queue_by(Capacity::Unbounded, "unlucky", |a, b| {
            if *a == 13 || *b == 13 {
                panic!("unlucky")
            }
            a.cmp(b)
        })
        .unwrap();
    sim.context().try_put(q, 1).unwrap();
    sim.spawn(f(move |_, w| match w {
        Wake::Started => Command::Put(q, 13),
        _ => Command::Done,
    }));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.run()));
    assert!(caught.is_err());
    assert_poisoned(&mut sim, "order");
}

#[test]
fn a_panicking_observer_poisons_the_simulation() {
    let mut sim = Simulation::<M>::new(0);
    sim.observe(|e: &TraceEvent<'_>| {
        if e.time > 1.0 {
            panic!("observer broke")
        }
    });
    sim.spawn(f(|_, w| match w {
        Wake::Started => Command::Sleep(2.0),
        _ => Command::Done,
    }));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.run()));
    assert!(caught.is_err());
    assert_poisoned(&mut sim, "observer");
}

// ----- rules decided with them -----

#[test]
fn negative_zero_priority_equals_zero_and_does_not_preempt() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(1).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let holder = {
        let log = Rc::clone(&log);
        f(move |cx, w| {
            log.borrow_mut().push((cx.now(), w.clone()));
            match w {
                Wake::Started => Command::AcquireWith(r, Priority::new(0.0)),
                Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(5.0),
                _ => Command::Done,
            }
        })
    };
    sim.spawn(holder);
    sim.spawn(f(move |_, w| match w {
        Wake::Started => Command::Sleep(1.0),
        Wake::Completed(Outcome::Slept) => Command::AcquireWith(r, Priority::new(-0.0)),
        _ => Command::Done,
    }));
    sim.run().unwrap();
    assert!(
        log.borrow().iter().all(|(_, w)| !matches!(
            w,
            Wake::Interrupted(Interrupt {
                cause: Reason::Preempted(_),
                ..
            })
        )),
        "-0.0 == 0.0: an equal priority never preempts"
    );
    assert_eq!(sim.now(), 5.0);
}

#[test]
fn a_sleep_past_the_largest_time_is_an_error() {
    let mut sim = Simulation::<M>::new(0);
    sim.spawn_named(
        "far",
        f(|_, w| match w {
            Wake::Started | Wake::Completed(Outcome::Slept) => Command::Sleep(f64::MAX),
            _ => Command::Done,
        }),
    );
    let err = sim.run().unwrap_err();
    assert!(
        matches!(err, Error::InvalidDelay { delay, .. } if delay == f64::MAX),
        "{err}"
    );
    assert_eq!(sim.now(), f64::MAX, "the first sleep was fine");
    assert!(err.to_string().contains("\"far\""), "{err}");
    assert!(
        err.to_string().contains("past the largest finite time"),
        "{err}"
    );
}

#[test]
fn a_sleep_past_the_largest_time_inside_a_first_of_is_an_error() {
    let mut sim = Simulation::<M>::new(0);
    sim.spawn(f(|_, w| match w {
        Wake::Started => Command::Sleep(f64::MAX),
        Wake::Completed(Outcome::Slept) => {
            Command::first_of([Command::Sleep(1.0), Command::Sleep(f64::MAX)])
        }
        _ => Command::Done,
    }));
    assert!(matches!(sim.run(), Err(Error::InvalidDelay { .. })));
}

#[test]
fn an_activity_lasting_past_the_largest_time_is_an_error() {
    let mut sim = Simulation::<M>::new(0);
    sim.spawn(f(|_, w| match w {
        Wake::Started => Command::Sleep(f64::MAX),
        _ => Command::Done,
    }));
    sim.run().unwrap();
    let err = sim.plan(Activity::new(f64::MAX)).unwrap_err();
    assert!(matches!(err, Error::InvalidDelay { .. }), "{err}");
}

#[test]
fn a_masked_holder_is_not_preempted_until_its_masked_wait_ends() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(1).unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let holder = {
        let log = Rc::clone(&log);
        f(move |cx, w| {
            log.borrow_mut().push((cx.now(), w.clone()));
            match w {
                Wake::Started => Command::AcquireWith(r, Priority::new(5.0)),
                // Critical work: must not be cut short, and the slot must stay ours.
                Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(4.0).masked(),
                Wake::Completed(Outcome::Slept) if cx.now() == 4.0 => Command::Sleep(10.0),
                _ => {
                    cx.release(r); // after a preemption: a no-op, not an error
                    Command::Done
                }
            }
        })
    };
    let holder = sim.spawn(holder);
    let in_use_at_preemption = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&in_use_at_preemption);
    let urgent = sim.spawn(f(move |cx, w| match w {
        Wake::Started => Command::Sleep(1.0),
        Wake::Completed(Outcome::Slept) => Command::AcquireWith(r, Priority::new(1.0)),
        Wake::Completed(Outcome::Acquired(_)) => {
            let view = cx.resource_view(r).unwrap();
            seen.borrow_mut().push((cx.now(), view.in_use()));
            Command::Sleep(2.0)
        }
        _ => {
            cx.release(r);
            Command::Done
        }
    }));
    sim.run().unwrap();
    // The urgent request got the slot when the masked wait ended, not before.
    assert_eq!(*in_use_at_preemption.borrow(), [(4.0, 1)]);
    let log = log.borrow();
    let preempted: Vec<_> = log
        .iter()
        .filter_map(|(t, w)| match w {
            Wake::Interrupted(
                p @ Interrupt {
                    cause: Reason::Preempted(_),
                    ..
                },
            ) => Some((
                *t,
                p.preempted().expect("a preemption").by,
                p.request.clone(),
                p.waited,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(preempted, [(4.0, urgent, Command::Sleep(10.0), 0.0)]);
    assert!(sim.is_finished(holder).unwrap());
}

#[test]
fn releasing_after_a_preemption_is_a_no_op() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(1).unwrap();
    let released = Rc::new(RefCell::new(None));
    let seen = Rc::clone(&released);
    sim.spawn(f(move |cx, w| match w {
        Wake::Started => Command::AcquireWith(r, Priority::new(2.0)),
        Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(10.0),
        _ => {
            // SimPy's `with res.request() as req:` habit: release on every way out.
            cx.release(r);
            *seen.borrow_mut() = Some(cx.error().cloned());
            Command::Done
        }
    }));
    sim.spawn(f(move |cx, w| match w {
        Wake::Started => Command::Sleep(1.0),
        Wake::Completed(Outcome::Slept) if cx.now() == 1.0 => {
            Command::AcquireWith(r, Priority::new(1.0))
        }
        Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(1.0),
        _ => {
            cx.release(r);
            Command::Done
        }
    }));
    sim.run().unwrap();
    assert_eq!(*released.borrow(), Some(None), "no NotHolder error");
    assert_eq!(sim.resource_view(r).unwrap().in_use(), 0);
}

#[test]
fn releasing_twice_after_a_preemption_is_still_an_error() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(1).unwrap();
    sim.spawn_named(
        "twice",
        f(move |cx, w| match w {
            Wake::Started => Command::AcquireWith(r, Priority::new(2.0)),
            Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(10.0),
            _ => {
                cx.release(r);
                cx.release(r);
                Command::Done
            }
        }),
    );
    sim.spawn(f(move |_, w| match w {
        Wake::Started => Command::Sleep(1.0),
        Wake::Completed(Outcome::Slept) => Command::AcquireWith(r, Priority::new(1.0)),
        _ => Command::Done,
    }));
    let err = sim.run().unwrap_err();
    assert!(matches!(err, Error::NotHolder { .. }), "{err}");
}

#[test]
fn error_messages_name_what_was_wrong() {
    let mut sim = Simulation::<M>::new(0);
    sim.spawn(f(|_, w| match w {
        Wake::Started => Command::AllOf(Default::default()),
        _ => Command::Done,
    }));
    let err = sim.run().unwrap_err();
    assert!(
        err.to_string().contains("AllOf needs at least one branch"),
        "{err}"
    );

    let mut sim = Simulation::<M>::new(0);
    sim.spawn(f(|_, w| match w {
        Wake::Started => Command::first_of([]),
        _ => Command::Done,
    }));
    let err = sim.run().unwrap_err();
    assert!(
        err.to_string()
            .contains("FirstOf needs at least one branch"),
        "{err}"
    );

    let mut sim = Simulation::<M>::new(0);
    let err = sim.run_until(f64::INFINITY).unwrap_err();
    assert!(err.to_string().contains("not finite"), "{err}");
    let err = sim.run_until(f64::NAN).unwrap_err();
    assert!(err.to_string().contains("NaN"), "{err}");
    sim.run_until(3.0).unwrap();
    let err = sim.run_until(2.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at t=3: invalid time 2 for run_until: it is before now"
    );
    let err = sim.plan(Activity::new(1.0).at(f64::INFINITY)).unwrap_err();
    assert!(err.to_string().contains("not finite"), "{err}");
    let err = sim
        .plan(Activity::new(1.0).not_before(5.0).deadline(4.0))
        .unwrap_err();
    assert!(err.to_string().contains("before its not_before"), "{err}");
}

#[test]
fn an_interrupt_hands_back_a_masked_wait_as_issued() {
    // A masked wait is never withdrawn; the interrupt arrives at the next wait, unstarted.
    let mut sim = Simulation::<M>::new(0);
    let log = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&log);
    let p = sim.spawn(f(move |cx, w| {
        seen.borrow_mut().push((cx.now(), w.clone()));
        match w {
            Wake::Started => Command::Sleep(2.0).masked(),
            Wake::Completed(Outcome::Slept) => Command::Sleep(3.0),
            _ => Command::Done,
        }
    }));
    sim.run_until(1.0).unwrap();
    sim.interrupt(p, 4).unwrap();
    sim.run().unwrap();
    let log = log.borrow();
    assert_eq!(
        log[2],
        (
            2.0,
            Wake::Interrupted(Interrupt::new(4, Command::Sleep(3.0), 0.0))
        )
    );
}
