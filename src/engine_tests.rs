//! State-transition tests of the engine, written as scripts: a process issues a fixed list
//! of commands and the test asserts on the wakes it received and when.

use super::*;
use crate::command::{Branches, Exit, First, Reason, WakeKind};
use crate::handle::{ContainerId, QueueId, SignalId};
use crate::process::Boxed;
use crate::trace::{TraceEvent, TraceKind, TraceLog};
use std::cell::RefCell;
use std::rc::Rc;

type M = Boxed<u32, &'static str>;
type Log = Rc<RefCell<Vec<(f64, Wake<u32, &'static str>)>>>;

/// Issues its commands in order, logging every wake; `Done` when the list runs out.
struct Script {
    commands: VecDeque<Command<u32>>,
    log: Log,
}

impl Process<M> for Script {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
        self.log.borrow_mut().push((cx.now(), wake));
        self.commands.pop_front().unwrap_or(Command::Done)
    }
}

fn script(sim: &mut Simulation<M>, name: &str, commands: Vec<Command<u32>>) -> (Pid, Log) {
    let log = Log::default();
    let pid = sim.spawn_named(
        name,
        Box::new(Script {
            commands: commands.into(),
            log: log.clone(),
        }),
    );
    (pid, log)
}

/// When a process first acquired a slot.
fn first_acquired(log: &Log) -> f64 {
    log.borrow()
        .iter()
        .find(|(_, w)| matches!(w, Wake::Completed(Outcome::Acquired(_))))
        .expect("acquired once")
        .0
}

fn wakes(log: &Log) -> Vec<(f64, Wake<u32, &'static str>)> {
    log.borrow().clone()
}

#[test]
fn sleep_wakes_at_the_right_time() {
    let mut sim = Simulation::<M>::new(0);
    let (_, log) = script(
        &mut sim,
        "s",
        vec![Command::Sleep(1.5), Command::Yield, Command::Sleep(2.0)],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&log),
        vec![
            (0.0, Wake::Started),
            (1.5, Wake::Completed(Outcome::Slept)),
            (1.5, Wake::Completed(Outcome::Slept)),
            (3.5, Wake::Completed(Outcome::Slept))
        ]
    );
    assert_eq!(sim.now(), 3.5);
    assert_eq!(sim.live_processes(), 0);
}

#[test]
fn get_waits_for_put_and_nothing_is_lost() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let (_, getter) = script(&mut sim, "g", vec![Command::Get(q), Command::Get(q)]);
    let (_, _putter) = script(
        &mut sim,
        "p",
        vec![Command::Sleep(1.0), Command::Put(q, 7), Command::Put(q, 8)],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&getter),
        vec![
            (0.0, Wake::Started),
            (1.0, Wake::Completed(Outcome::Got(7))),
            (1.0, Wake::Completed(Outcome::Got(8)))
        ]
    );
    assert!(sim.queue_view(q).unwrap().is_empty());
}

#[test]
fn bounded_put_blocks_until_a_get() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Bounded(1)).unwrap();
    let (_, putter) = script(&mut sim, "p", vec![Command::Put(q, 1), Command::Put(q, 2)]);
    let (_, _) = script(&mut sim, "g", vec![Command::Sleep(5.0), Command::Get(q)]);
    sim.run().unwrap();
    assert_eq!(
        wakes(&putter),
        vec![
            (0.0, Wake::Started),
            (0.0, Wake::Completed(Outcome::Put)),
            (5.0, Wake::Completed(Outcome::Put))
        ]
    );
    let view = sim.queue_view(q).unwrap();
    assert_eq!(view.iter().copied().collect::<Vec<_>>(), vec![2]);
}

#[test]
fn priority_queue_is_fifo_among_equals() {
    let mut sim = Simulation::<Boxed<(u8, char)>>::new(0);
    let q = sim
        .priority_queue_by(Capacity::Unbounded, "by number", |a, b| a.0.cmp(&b.0))
        .unwrap();
    let mut cx = sim.context();
    for item in [(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (0, 'e')] {
        cx.try_put(q, item).unwrap();
    }
    let order: Vec<char> = sim.queue_view(q).unwrap().iter().map(|x| x.1).collect();
    assert_eq!(order, vec!['e', 'b', 'd', 'a', 'c']);
}

#[test]
fn resource_serves_fifo_and_never_exceeds_capacity() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.resource(1).unwrap();
    let mut logs = Vec::new();
    for i in 0..3 {
        struct User {
            r: ResourceId,
            log: Log,
        }
        impl Process<M> for User {
            fn step(
                &mut self,
                cx: &mut Context<'_, M>,
                wake: Wake<u32, &'static str>,
            ) -> Command<u32> {
                let cmd = match &wake {
                    Wake::Started => Command::Acquire(self.r),
                    Wake::Completed(Outcome::Acquired(_)) => {
                        assert!(cx.resource_view(self.r).unwrap().in_use() <= 1);
                        Command::Sleep(2.0)
                    }
                    _ => {
                        cx.release(self.r);
                        Command::Done
                    }
                };
                self.log.borrow_mut().push((cx.now(), wake));
                cmd
            }
        }
        let log = Log::default();
        sim.spawn_named(
            format!("u{i}"),
            Box::new(User {
                r,
                log: log.clone(),
            }),
        );
        logs.push(log);
    }
    sim.run().unwrap();
    let acquired: Vec<f64> = logs.iter().map(first_acquired).collect();
    assert_eq!(acquired, vec![0.0, 2.0, 4.0]);
    let view = sim.resource_view(r).unwrap();
    assert_eq!((view.in_use(), view.queue_len()), (0, 0));
}

#[test]
fn interrupted_sleep_reports_elapsed_time() {
    let mut sim = Simulation::<M>::new(0);
    let (worker, log) = script(
        &mut sim,
        "w",
        vec![Command::Sleep(10.0), Command::Sleep(1.0)],
    );
    sim.run_until(4.0).unwrap();
    sim.interrupt(worker, "ring").unwrap();
    sim.run().unwrap();
    let w = wakes(&log);
    assert_eq!(
        w[1],
        (
            4.0,
            Wake::Interrupted(Interrupt::new("ring", Command::Sleep(10.0), 4.0))
        )
    );
    // The withdrawn timer never fires: the next wake is the new 1.0 sleep.
    assert_eq!(w[2], (5.0, Wake::Completed(Outcome::Slept)));
    assert_eq!(w.len(), 3);
}

#[test]
fn interrupted_get_consumes_nothing_and_leaves_no_orphan() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let (worker, log) = script(&mut sim, "w", vec![Command::Get(q), Command::Sleep(100.0)]);
    sim.run_until(1.0).unwrap();
    assert_eq!(sim.queue_view(q).unwrap().getters_waiting(), 1);
    sim.interrupt(worker, "stop").unwrap();
    sim.run_until(2.0).unwrap();
    assert_eq!(sim.queue_view(q).unwrap().getters_waiting(), 0);
    sim.context().try_put(q, 9).unwrap();
    sim.run().unwrap();
    assert_eq!(
        sim.queue_view(q)
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![9]
    );
    assert!(matches!(
        wakes(&log)[1].1,
        Wake::Interrupted(Interrupt {
            request: Command::Get(_),
            ..
        })
    ));
}

#[test]
fn interrupted_put_hands_the_item_back() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Bounded(1)).unwrap();
    sim.context().try_put(q, 1).unwrap();
    let (worker, log) = script(&mut sim, "w", vec![Command::Put(q, 2)]);
    sim.run_until(1.0).unwrap();
    sim.interrupt(worker, "x").unwrap();
    sim.run().unwrap();
    assert_eq!(
        wakes(&log)[1],
        (
            1.0,
            Wake::Interrupted(Interrupt::new("x", Command::Put(q, 2), 1.0))
        )
    );
    assert_eq!(sim.queue_view(q).unwrap().putters_waiting(), 0);
}

#[test]
fn interrupted_acquire_takes_no_slot() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.resource(1).unwrap();
    let (_holder, _) = script(
        &mut sim,
        "h",
        vec![Command::Acquire(r), Command::Sleep(5.0)],
    );
    let (waiter, log) = script(&mut sim, "w", vec![Command::Acquire(r)]);
    sim.run_until(1.0).unwrap();
    assert_eq!(sim.resource_view(r).unwrap().queue_len(), 1);
    sim.interrupt(waiter, "give up").unwrap();
    sim.run().unwrap();
    assert!(matches!(wakes(&log)[1].1, Wake::Interrupted(_)));
    let view = sim.resource_view(r).unwrap();
    // The holder finished without releasing: its slot went back automatically.
    assert_eq!((view.in_use(), view.queue_len()), (0, 0));
}

#[test]
fn masked_wait_defers_interrupts_in_arrival_order() {
    let mut sim = Simulation::<M>::new(0);
    let (worker, log) = script(
        &mut sim,
        "w",
        vec![
            Command::Sleep(3.0).masked(),
            Command::Sleep(10.0),
            Command::Sleep(10.0),
            Command::Sleep(1.0),
        ],
    );
    sim.run_until(1.0).unwrap();
    sim.interrupt(worker, "first").unwrap();
    sim.interrupt(worker, "second").unwrap();
    sim.run().unwrap();
    let w = wakes(&log);
    assert_eq!(
        w[1],
        (3.0, Wake::Completed(Outcome::Slept)),
        "the masked sleep completes"
    );
    assert_eq!(
        w[2],
        (
            3.0,
            Wake::Interrupted(Interrupt::new("first", Command::Sleep(10.0), 0.0))
        )
    );
    assert_eq!(
        w[3],
        (
            3.0,
            Wake::Interrupted(Interrupt::new("second", Command::Sleep(10.0), 0.0))
        )
    );
    assert_eq!(w[4], (4.0, Wake::Completed(Outcome::Slept)));
}

#[test]
fn satisfied_wait_completes_before_the_interrupt() {
    // The item is handed over at t=1 (wake scheduled); an interrupt in the same instant
    // must not lose it: the get completes and the interrupt lands at the next wait.
    struct Putter {
        q: QueueId,
        target: Pid,
    }
    impl Process<M> for Putter {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
            match wake {
                Wake::Started => Command::Sleep(1.0),
                Wake::Completed(Outcome::Slept) => Command::Put(self.q, 5),
                Wake::Completed(Outcome::Put) => {
                    // The getter's wake is now scheduled; interrupt it at the same instant.
                    assert!(cx.interrupt(self.target, "late"));
                    Command::Done
                }
                _ => Command::Done,
            }
        }
    }
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let (getter, log) = script(&mut sim, "g", vec![Command::Get(q), Command::Sleep(50.0)]);
    sim.spawn(Box::new(Putter { q, target: getter }));
    sim.run().unwrap();
    let w = wakes(&log);
    assert_eq!(w[1], (1.0, Wake::Completed(Outcome::Got(5))));
    assert_eq!(
        w[2],
        (
            1.0,
            Wake::Interrupted(Interrupt::new("late", Command::Sleep(50.0), 0.0))
        )
    );
}

#[test]
fn first_of_timeout_wins_and_withdraws_the_get() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let (_, log) = script(
        &mut sim,
        "c",
        vec![Command::first_of([Command::Get(q), Command::Sleep(2.0)])],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&log)[1],
        (
            2.0,
            Wake::First(First::new(1, Outcome::Slept, [Command::Get(q)].into()))
        )
    );
    assert_eq!(sim.queue_view(q).unwrap().getters_waiting(), 0);
}

#[test]
fn first_of_get_wins_and_the_timer_never_fires() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let (_, log) = script(
        &mut sim,
        "c",
        vec![
            Command::first_of([Command::Get(q), Command::Sleep(2.0)]),
            Command::Sleep(5.0),
        ],
    );
    script(&mut sim, "p", vec![Command::Sleep(1.0), Command::Put(q, 3)]);
    sim.run().unwrap();
    let w = wakes(&log);
    assert_eq!(
        w[1],
        (
            1.0,
            Wake::First(First::new(0, Outcome::Got(3), [Command::Sleep(2.0)].into()))
        )
    );
    assert_eq!(w[2], (6.0, Wake::Completed(Outcome::Slept)));
    assert_eq!(w.len(), 3);
}

#[test]
fn first_of_checks_branches_in_order_when_issued() {
    let mut sim = Simulation::<M>::new(0);
    let a = sim.queue(Capacity::Unbounded).unwrap();
    let b = sim.queue(Capacity::Unbounded).unwrap();
    let mut cx = sim.context();
    cx.try_put(a, 1).unwrap();
    cx.try_put(b, 2).unwrap();
    let (_, log) = script(
        &mut sim,
        "c",
        vec![Command::first_of([Command::Get(b), Command::Get(a)])],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&log)[1],
        (
            0.0,
            Wake::First(First::new(0, Outcome::Got(2), [Command::Get(a)].into()))
        )
    );
    // The losing queue was not touched.
    assert_eq!(sim.queue_view(a).unwrap().len(), 1);
}

#[test]
fn losing_put_branch_hands_its_item_back() {
    let mut sim = Simulation::<M>::new(0);
    let full = sim.queue(Capacity::Bounded(1)).unwrap();
    sim.context().try_put(full, 0).unwrap();
    let (_, log) = script(
        &mut sim,
        "c",
        vec![Command::first_of([
            Command::Put(full, 42),
            Command::Sleep(1.0),
        ])],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&log)[1],
        (
            1.0,
            Wake::First(First::new(
                1,
                Outcome::Slept,
                [Command::Put(full, 42)].into()
            ))
        )
    );
    assert_eq!(
        sim.queue_view(full)
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![0]
    );
}

#[test]
fn interrupting_a_first_of_withdraws_every_branch() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let r = sim.resource(1).unwrap();
    script(
        &mut sim,
        "holder",
        vec![Command::Acquire(r), Command::Sleep(10.0)],
    );
    let (w, log) = script(
        &mut sim,
        "w",
        vec![Command::first_of([
            Command::Get(q),
            Command::Acquire(r),
            Command::Sleep(5.0),
        ])],
    );
    sim.run_until(1.0).unwrap();
    sim.interrupt(w, "now").unwrap();
    sim.run().unwrap();
    let expected: Branches<u32> =
        [Command::Get(q), Command::Acquire(r), Command::Sleep(5.0)].into();
    assert_eq!(
        wakes(&log)[1],
        (
            1.0,
            Wake::Interrupted(Interrupt::new("now", Command::FirstOf(expected), 1.0))
        )
    );
    assert_eq!(wakes(&log).len(), 2);
    assert_eq!(sim.resource_view(r).unwrap().queue_len(), 0);
    assert_eq!(sim.queue_view(q).unwrap().getters_waiting(), 0);
}

#[test]
fn join_wakes_when_the_target_finishes() {
    let mut sim = Simulation::<M>::new(0);
    let (child, _) = script(&mut sim, "child", vec![Command::Sleep(3.0)]);
    let (_, log) = script(
        &mut sim,
        "parent",
        vec![Command::Join(child), Command::Join(child)],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&log),
        vec![
            (0.0, Wake::Started),
            (
                3.0,
                Wake::Completed(Outcome::Joined(child, Exit::Returned(None)))
            ),
            (
                3.0,
                Wake::Completed(Outcome::Joined(child, Exit::Returned(None)))
            )
        ]
    );
}

#[test]
fn interrupt_before_start_lands_at_the_first_wait() {
    let mut sim = Simulation::<M>::new(0);
    let (w, log) = script(
        &mut sim,
        "w",
        vec![Command::Sleep(4.0), Command::Sleep(1.0)],
    );
    sim.interrupt(w, "early").unwrap();
    sim.run().unwrap();
    let w = wakes(&log);
    assert_eq!(w[0], (0.0, Wake::Started));
    assert_eq!(
        w[1],
        (
            0.0,
            Wake::Interrupted(Interrupt::new("early", Command::Sleep(4.0), 0.0))
        )
    );
    assert_eq!(w[2], (1.0, Wake::Completed(Outcome::Slept)));
}

#[test]
fn errors_name_the_process_and_the_time() {
    let mut sim = Simulation::<M>::new(0);
    script(
        &mut sim,
        "bad",
        vec![Command::Sleep(2.0), Command::Sleep(-1.0)],
    );
    let err = sim.run().unwrap_err();
    assert_eq!(
        err.to_string(),
        "at t=2, process #0 \"bad\": invalid delay -1 (delays must be finite and >= 0)"
    );
    assert!(matches!(err, Error::InvalidDelay { delay, .. } if delay == -1.0));
}

#[test]
fn nonsense_commands_are_rejected() {
    let mut other = Simulation::<M>::new(0);
    let foreign_q = other.queue(Capacity::Unbounded).unwrap();
    type Check = fn(&Error) -> bool;
    let cases: Vec<(Command<u32>, Check)> = vec![
        (Command::Sleep(f64::NAN), |e| {
            matches!(e, Error::InvalidDelay { .. })
        }),
        (Command::Sleep(f64::INFINITY), |e| {
            matches!(e, Error::InvalidDelay { .. })
        }),
        (Command::Get(foreign_q), |e| {
            matches!(e, Error::ForeignHandle { .. })
        }),
        (Command::FirstOf(Branches::new()), |e| {
            matches!(e, Error::EmptyBranches { .. })
        }),
        (
            Command::first_of([Command::Sleep(1.0), Command::Sleep(-2.0)]),
            |e| matches!(e, Error::InvalidDelay { .. }),
        ),
    ];
    for (cmd, check) in cases {
        let mut sim = Simulation::<M>::new(0);
        script(&mut sim, "p", vec![cmd]);
        let err = sim.run().unwrap_err();
        assert!(check(&err), "{err}");
        // The failing process is finished; the simulation stays usable.
        assert_eq!(sim.live_processes(), 0);
        sim.run().unwrap();
    }
}

#[test]
fn handles_are_checked() {
    let mut sim = Simulation::<M>::new(0);
    let mut other = Simulation::<M>::new(0);
    assert!(matches!(
        sim.queue(Capacity::Bounded(0)),
        Err(Error::ZeroCapacity { .. })
    ));
    assert!(matches!(sim.resource(0), Err(Error::ZeroCapacity { .. })));
    let (p, _) = script(&mut other, "p", vec![]);
    assert!(matches!(
        sim.interrupt(p, "x"),
        Err(Error::ForeignHandle { .. })
    ));
    let (mine, _) = script(&mut sim, "mine", vec![]);
    sim.run().unwrap();
    assert!(matches!(
        sim.interrupt(mine, "x"),
        Err(Error::Finished { .. })
    ));
    assert!(sim.is_finished(mine).unwrap());
    // A new process reuses the slot, but the old handle does not alias it.
    let (newer, _) = script(&mut sim, "newer", vec![Command::Sleep(1.0)]);
    assert_eq!(newer.index(), mine.index());
    assert_ne!(newer, mine);
    assert!(matches!(
        sim.interrupt(mine, "x"),
        Err(Error::Finished { .. })
    ));
    assert!(matches!(
        sim.run_until(-1.0),
        Err(Error::InvalidTime { .. })
    ));
}

#[test]
fn run_until_does_not_process_events_at_the_boundary() {
    let mut sim = Simulation::<M>::new(0);
    let (_, log) = script(&mut sim, "s", vec![Command::Sleep(5.0)]);
    sim.run_until(5.0).unwrap();
    assert_eq!(wakes(&log).len(), 1);
    assert_eq!(sim.now(), 5.0);
    assert_eq!(sim.peek(), Some(5.0));
    assert!(sim.step().unwrap());
    assert_eq!(wakes(&log).len(), 2);
}

#[test]
fn trace_records_every_wake() {
    let mut sim = Simulation::<M>::new(0);
    let log = TraceLog::new();
    sim.observe(log.clone());
    let q = sim.queue(Capacity::Unbounded).unwrap();
    script(&mut sim, "a", vec![Command::Put(q, 1)]);
    script(&mut sim, "b", vec![Command::Get(q)]);
    sim.run().unwrap();
    assert_eq!(
        log.to_csv(),
        "time,pid,name,event\n0,0,a,started\n0,1,b,started\n0,0,a,put\n0,0,a,done\n0,1,b,got\n0,1,b,done\n"
    );
}

/// The model of the wait-event tests: sleep, get, first-of, masked sleep with a deferred
/// interrupt, a held command, an interrupted sleep. Returns the CSV of the log.
fn waits_model(log: TraceLog) -> String {
    let mut sim = Simulation::<M>::new(0);
    sim.observe(log.clone());
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let (a, _) = script(
        &mut sim,
        "a",
        vec![
            Command::Sleep(1.0),
            Command::Get(q),
            Command::first_of([Command::Get(q), Command::Sleep(5.0)]),
            Command::Sleep(2.0).masked(),
            // Held at 9 (the interrupt of 8 is queued), handed back unstarted.
            Command::Sleep(10.0),
            Command::Sleep(10.0),
        ],
    );
    script(&mut sim, "b", vec![Command::Sleep(2.0), Command::Put(q, 7)]);
    sim.run_until(8.0).unwrap();
    sim.interrupt(a, "deferred").unwrap();
    sim.run_until(12.0).unwrap();
    sim.interrupt(a, "stop").unwrap();
    sim.run().unwrap();
    log.to_csv()
}

#[test]
fn trace_with_waits_records_each_wait_as_it_starts() {
    assert_eq!(
        waits_model(TraceLog::with_waits()),
        "time,pid,name,event
0,0,a,started
0,0,a,wait:sleep
0,1,b,started
0,1,b,wait:sleep
1,0,a,slept
1,0,a,wait:get:q0
2,1,b,slept
2,1,b,wait:put:q0
2,1,b,put
2,1,b,done
2,0,a,got
2,0,a,wait:first-of:2
7,0,a,first:1
7,0,a,wait:masked:sleep
9,0,a,slept
9,0,a,interrupted
9,0,a,wait:sleep
12,0,a,interrupted
12,0,a,done
"
    );
}

#[test]
fn a_plain_trace_has_no_wait_events() {
    let plain = waits_model(TraceLog::new());
    let with_waits = waits_model(TraceLog::with_waits());
    let without: String = with_waits
        .lines()
        .filter(|l| !l.contains(",wait:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(plain, without);
    assert!(!plain.contains("wait:"));
    // A closure observer does not want waits either.
    let mut sim = Simulation::<M>::new(0);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    sim.observe(move |e: &TraceEvent<'_>| sink.lock().unwrap().push(e.kind));
    script(&mut sim, "s", vec![Command::Sleep(1.0), Command::Yield]);
    sim.run().unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            TraceKind::Wake(WakeKind::Started),
            TraceKind::Wake(WakeKind::Slept),
            TraceKind::Wake(WakeKind::Slept),
            TraceKind::Done
        ]
    );
}

#[test]
fn wait_events_name_every_kind_of_wait() {
    let mut sim = Simulation::<M>::new(0);
    let log = TraceLog::with_waits();
    sim.observe(log.clone());
    let q = sim.filter_queue(Capacity::Bounded(1)).unwrap();
    let r = sim.priority_resource(1).unwrap();
    let c = sim.container(10.0, 0.0).unwrap();
    let s = sim.signal();
    let b = sim.barrier(1).unwrap();
    let (other, _) = script(&mut sim, "other", vec![Command::Sleep(1.0)]);
    script(
        &mut sim,
        "all",
        vec![
            Command::Yield,
            Command::Put(q, 1),
            Command::GetWhere(q, Filter::new(|_: &u32| true)),
            Command::AcquireWith(r, Priority::new(0.0)),
            Command::Join(other),
            Command::PutAmount(c, 2.0),
            Command::GetAmount(c, 2.0),
            Command::Arrive(b),
            Command::AllOf(
                [
                    Command::Sleep(1.0),
                    Command::Sleep(2.0),
                    Command::Sleep(0.5),
                ]
                .into(),
            ),
            Command::first_of([Command::Signal(s), Command::Sleep(1.0)]),
        ],
    );
    sim.run().unwrap();
    let waits: Vec<String> = log
        .records()
        .iter()
        .filter(|r| r.name == "all" && matches!(r.kind, TraceKind::Wait(_)))
        .map(|r| r.kind.to_string())
        .collect();
    assert_eq!(
        waits,
        [
            "wait:yield",
            "wait:put:q0",
            "wait:get-where:q0",
            "wait:acquire:r0",
            "wait:join:#0",
            "wait:put-amount:c0",
            "wait:get-amount:c0",
            "wait:arrive:b0",
            "wait:all-of:3",
            "wait:first-of:2",
        ]
    );
}

// ----- priority resources, containers, filter queues, signals, barriers, all-of, joins -----

use crate::command::{Filter, Outcome as O, Priority};

#[test]
fn priority_resource_serves_by_level_then_fifo() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.priority_resource(1).unwrap();
    script(
        &mut sim,
        "holder",
        vec![Command::Acquire(r), Command::Sleep(5.0)],
    );
    let mut logs = Vec::new();
    for (i, level) in [3.0, 1.0, 3.0, 2.0].into_iter().enumerate() {
        let (_, log) = script(
            &mut sim,
            &format!("p{i}"),
            vec![
                Command::Sleep(1.0 + i as f64 * 0.1),
                Command::AcquireWith(r, Priority::new(level)),
                Command::Sleep(1.0),
            ],
        );
        logs.push(log);
    }
    sim.run().unwrap();
    // Each finishes holding (auto-release at Done); grants at 5, 6, 7, 8 in order of level,
    // then request time: p1 (1), p3 (2), p0 (3, earlier), p2 (3).
    let got: Vec<f64> = logs.iter().map(first_acquired).collect();
    assert_eq!(got, vec![7.0, 5.0, 8.0, 6.0]);
}

#[test]
fn preemption_evicts_the_worst_holder_and_withdraws_its_wait() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.preemptive_resource(2).unwrap();
    let (low, low_log) = script(
        &mut sim,
        "low",
        vec![
            Command::AcquireWith(r, Priority::new(5.0)),
            Command::Sleep(10.0),
        ],
    );
    let (_, mid_log) = script(
        &mut sim,
        "mid",
        vec![
            Command::AcquireWith(r, Priority::new(3.0)),
            Command::Sleep(10.0),
        ],
    );
    let (high, _) = script(
        &mut sim,
        "high",
        vec![
            Command::Sleep(4.0),
            Command::AcquireWith(r, Priority::new(1.0)),
            Command::Sleep(1.0),
        ],
    );
    // A request that may not preempt just waits.
    let (_, polite_log) = script(
        &mut sim,
        "polite",
        vec![
            Command::Sleep(4.5),
            Command::AcquireWith(r, Priority::without_preempting(0.0)),
        ],
    );
    sim.run().unwrap();
    let w = wakes(&low_log);
    match &w[2] {
        (
            t,
            Wake::Interrupted(
                p @ Interrupt {
                    cause: Reason::Preempted(_),
                    ..
                },
            ),
        ) => {
            assert_eq!(*t, 4.0);
            assert_eq!(p.preempted().expect("a preemption").by, high);
            assert_eq!(p.preempted().expect("a preemption").since, 0.0);
            assert_eq!(p.request, Command::Sleep(10.0));
            assert_eq!(p.waited, 4.0);
        }
        other => panic!("expected a preemption, got {other:?}"),
    }
    assert_eq!(w.len(), 3, "low finished right after its preemption");
    assert!(wakes(&mid_log).iter().all(|(_, w)| !matches!(
        w,
        Wake::Interrupted(Interrupt {
            cause: Reason::Preempted(_),
            ..
        })
    )));
    // polite waits for high to finish (t=5), not preempting mid.
    let polite = wakes(&polite_log);
    assert_eq!(polite[2].0, 5.0);
    assert!(matches!(polite[2].1, Wake::Completed(Outcome::Acquired(_))));
    let _ = low;
}

#[test]
fn container_get_waits_for_level_head_of_line() {
    let mut sim = Simulation::<M>::new(0);
    let c = sim.container(10.0, 2.0).unwrap();
    let (_, big) = script(&mut sim, "big", vec![Command::GetAmount(c, 5.0)]);
    let (_, small) = script(&mut sim, "small", vec![Command::GetAmount(c, 1.0)]);
    script(
        &mut sim,
        "filler",
        vec![Command::Sleep(1.0), Command::PutAmount(c, 4.0)],
    );
    sim.run().unwrap();
    // small waits behind big although 2 >= 1 (head-of-line), then both go at t=1.
    assert_eq!(
        wakes(&big)[1],
        (1.0, Wake::Completed(Outcome::GotAmount(c, 5.0)))
    );
    assert_eq!(
        wakes(&small)[1],
        (1.0, Wake::Completed(Outcome::GotAmount(c, 1.0)))
    );
    assert_eq!(sim.container_view(c).unwrap().level(), 0.0);
}

#[test]
fn container_put_waits_for_room_and_interrupt_leaves_level_untouched() {
    let mut sim = Simulation::<M>::new(0);
    let c = sim.container(5.0, 4.0).unwrap();
    let (p, log) = script(&mut sim, "p", vec![Command::PutAmount(c, 3.0)]);
    sim.run_until(1.0).unwrap();
    sim.interrupt(p, "stop").unwrap();
    sim.run().unwrap();
    assert!(matches!(
        &wakes(&log)[1].1,
        Wake::Interrupted(i) if i.request == Command::PutAmount(c, 3.0)
    ));
    let view = sim.container_view(c).unwrap();
    assert_eq!((view.level(), view.putters_waiting()), (4.0, 0));
}

#[test]
fn container_rejects_bad_amounts() {
    let mut sim = Simulation::<M>::new(0);
    assert!(matches!(
        sim.container(0.0, 0.0),
        Err(Error::InvalidAmount { .. })
    ));
    assert!(matches!(
        sim.container(5.0, 6.0),
        Err(Error::InvalidAmount { .. })
    ));
    let c = sim.container(5.0, 0.0).unwrap();
    for amount in [-1.0, 0.0, f64::NAN, 6.0] {
        let mut sim2 = Simulation::<M>::new(0);
        let c2 = sim2.container(5.0, 0.0).unwrap();
        script(&mut sim2, "p", vec![Command::GetAmount(c2, amount)]);
        let err = sim2.run().unwrap_err();
        assert!(matches!(err, Error::InvalidAmount { .. }), "{err}");
        assert!(err.to_string().contains("process #0 \"p\""), "{err}");
    }
    let _ = c;
}

#[test]
fn filter_queue_serves_matching_getters_without_head_of_line_blocking() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.filter_queue(Capacity::Unbounded).unwrap();
    let even = Filter::new(|x: &u32| x.is_multiple_of(2));
    let (_, evens) = script(&mut sim, "even", vec![Command::GetWhere(q, even.clone())]);
    let (_, any) = script(&mut sim, "any", vec![Command::Get(q)]);
    script(
        &mut sim,
        "p",
        vec![Command::Sleep(1.0), Command::Put(q, 3), Command::Put(q, 4)],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&any)[1],
        (1.0, Wake::Completed(Outcome::Got(3))),
        "the odd item skips the even-only getter"
    );
    assert_eq!(wakes(&evens)[1], (1.0, Wake::Completed(Outcome::Got(4))));
    // GetWhere on a plain queue is a clear error.
    let mut sim = Simulation::<M>::new(0);
    let plain = sim.queue(Capacity::Unbounded).unwrap();
    script(&mut sim, "p", vec![Command::GetWhere(plain, even)]);
    assert!(matches!(sim.run(), Err(Error::WrongKind { .. })));
}

#[test]
fn signal_wakes_every_waiter_and_late_waiters_at_once() {
    struct Firer {
        s: SignalId,
    }
    impl Process<M> for Firer {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
            match wake {
                Wake::Started => Command::Sleep(2.0),
                _ => {
                    cx.succeed(self.s, 7);
                    Command::Done
                }
            }
        }
    }
    let mut sim = Simulation::<M>::new(0);
    let s = sim.signal();
    let (_, a) = script(&mut sim, "a", vec![Command::Signal(s)]);
    let (_, b) = script(
        &mut sim,
        "b",
        vec![Command::first_of([
            Command::Signal(s),
            Command::Sleep(10.0),
        ])],
    );
    let (_, late) = script(
        &mut sim,
        "late",
        vec![Command::Sleep(3.0), Command::Signal(s)],
    );
    sim.spawn(Box::new(Firer { s }));
    sim.run().unwrap();
    assert_eq!(
        wakes(&a)[1],
        (2.0, Wake::Completed(Outcome::Signaled(s, Ok(Some(7)))))
    );
    assert!(matches!(&wakes(&b)[1], (2.0, Wake::First(f)) if f.index == 0));
    assert_eq!(
        wakes(&late)[2],
        (3.0, Wake::Completed(Outcome::Signaled(s, Ok(Some(7)))))
    );
    assert!(sim.signal_view(s).unwrap().has_fired());
    // Firing twice is an error; a reset makes it pending again.
    let mut cx = sim.context();
    cx.trigger(s);
    assert!(matches!(cx.take_error(), Some(Error::AlreadyFired { .. })));
    cx.reset_signal(s);
    cx.fail_signal(s, "broken");
    assert!(cx.take_error().is_none());
    sim.run().unwrap();
    assert!(sim.signal_view(s).unwrap().has_failed());
}

#[test]
fn barrier_releases_all_parties_together_and_interrupt_takes_an_arrival_back() {
    let mut sim = Simulation::<M>::new(0);
    let b = sim.barrier(3).unwrap();
    let (quitter, q) = script(&mut sim, "quitter", vec![Command::Arrive(b)]);
    let mut logs = Vec::new();
    for (i, t) in [1.0, 2.0, 3.0].into_iter().enumerate() {
        let (_, log) = script(
            &mut sim,
            &format!("h{i}"),
            vec![Command::Sleep(t), Command::Arrive(b)],
        );
        logs.push(log);
    }
    sim.run_until(0.5).unwrap();
    sim.interrupt(quitter, "leave").unwrap();
    sim.run().unwrap();
    assert!(matches!(wakes(&q)[1].1, Wake::Interrupted(_)));
    for log in &logs {
        assert_eq!(wakes(log)[2], (3.0, Wake::Completed(Outcome::Released(b))));
    }
    assert_eq!(sim.barrier_view(b).unwrap().releases(), 1);
}

#[test]
fn all_of_waits_for_every_branch_in_order() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let r = sim.resource(1).unwrap();
    let (_, log) = script(
        &mut sim,
        "w",
        vec![Command::AllOf(
            [Command::Get(q), Command::Acquire(r), Command::Sleep(2.0)].into(),
        )],
    );
    script(&mut sim, "p", vec![Command::Sleep(3.0), Command::Put(q, 9)]);
    sim.run().unwrap();
    assert_eq!(
        wakes(&log)[1],
        (
            3.0,
            Wake::Completed(Outcome::All(vec![O::Got(9), O::Acquired(r), O::Slept]))
        )
    );
}

#[test]
fn interrupted_all_of_hands_back_what_it_took() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let empty = sim.queue(Capacity::Unbounded).unwrap();
    sim.context().try_put(q, 5).unwrap();
    let (w, log) = script(
        &mut sim,
        "w",
        vec![Command::AllOf(
            [Command::Get(q), Command::Get(empty)].into(),
        )],
    );
    sim.run_until(1.0).unwrap();
    sim.interrupt(w, "now").unwrap();
    sim.run().unwrap();
    match &wakes(&log)[1].1 {
        Wake::Interrupted(i) => {
            assert_eq!(
                i.taken,
                vec![O::Got(5)],
                "the item already taken comes back"
            );
            assert_eq!(i.request, Command::AllOf([Command::Get(empty)].into()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.queue_view(empty).unwrap().getters_waiting(), 0);
}

#[test]
fn losing_all_of_branch_in_first_of_hands_back_partial_results() {
    let mut sim = Simulation::<M>::new(0);
    let q = sim.queue(Capacity::Unbounded).unwrap();
    let empty = sim.queue(Capacity::Unbounded).unwrap();
    sim.context().try_put(q, 1).unwrap();
    let all = Command::all_of([Command::Get(q), Command::Get(empty)]);
    let (_, log) = script(
        &mut sim,
        "w",
        vec![Command::first_of([all, Command::Sleep(4.0)])],
    );
    sim.run().unwrap();
    match &wakes(&log)[1] {
        (4.0, Wake::First(f)) => {
            assert_eq!(f.index, 1);
            assert_eq!(f.taken, vec![O::Got(1)]);
            assert_eq!(f.others.to_vec(), &[Command::all_of([Command::Get(empty)])]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn joiners_receive_the_exit_value_or_the_failure() {
    struct Child;
    impl Process<M> for Child {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
            match wake {
                Wake::Started => Command::Sleep(1.0),
                _ => {
                    cx.exit_value(42);
                    Command::Done
                }
            }
        }
    }
    let mut sim = Simulation::<M>::new(0);
    let child = sim.spawn(Box::new(Child));
    let (_, a) = script(&mut sim, "a", vec![Command::Join(child)]);
    let (bad, _) = script(
        &mut sim,
        "bad",
        vec![Command::Sleep(2.0), Command::Sleep(-1.0)],
    );
    let (_, b) = script(&mut sim, "b", vec![Command::Join(bad)]);
    assert!(sim.run().is_err());
    sim.run().unwrap();
    assert_eq!(
        wakes(&a)[1],
        (
            1.0,
            Wake::Completed(Outcome::Joined(child, Exit::Returned(Some(42))))
        )
    );
    assert!(matches!(
        &wakes(&b)[1],
        (2.0, Wake::Completed(Outcome::Joined(_, Exit::Failed(e)))) if matches!(**e, Error::InvalidDelay { .. })
    ));
}

#[test]
fn try_acquire_and_container_try_ops() {
    struct Trier {
        r: ResourceId,
        c: ContainerId,
    }
    impl Process<M> for Trier {
        fn step(&mut self, cx: &mut Context<'_, M>, _: Wake<u32, &'static str>) -> Command<u32> {
            assert!(cx.try_acquire(self.r));
            assert!(!cx.try_acquire(self.r), "capacity 1");
            assert!(cx.try_get_amount(self.c, 2.0));
            assert!(!cx.try_get_amount(self.c, 2.0), "level 1 left");
            assert!(cx.try_put_amount(self.c, 1.0));
            cx.release(self.r);
            Command::Done
        }
    }
    let mut sim = Simulation::<M>::new(0);
    let r = sim.resource(1).unwrap();
    let c = sim.container(3.0, 3.0).unwrap();
    sim.spawn(Box::new(Trier { r, c }));
    sim.run().unwrap();
    assert_eq!(sim.container_view(c).unwrap().level(), 2.0);
    assert_eq!(sim.resource_view(r).unwrap().in_use(), 0);
}

#[test]
fn a_sleeping_process_costs_little_memory() {
    // The engine's share of a live sleeping process: its slot without the process's own
    // state, the per-index bookkeeping and one queued event. The budget is 128 bytes.
    // The process here is 32 bytes with no spare bit pattern (like a PCG stream), so the
    // slot pays for its `Option` tag too.
    struct Plain;
    struct Fat([u64; 4]);
    impl Model for Plain {
        type Item = ();
        type Cause = ();
        type Proc = Fat;
    }
    impl Process<Plain> for Fat {
        fn step(&mut self, _: &mut Context<'_, Plain>, _: Wake<()>) -> Command<()> {
            self.0[0] += 1;
            Command::Sleep(1.0)
        }
    }
    // The branch list keeps its tag in a niche of its inline branch (what leaves room in
    // the slot for the key of the process's random stream).
    assert_eq!(std::mem::size_of::<super::BranchList>(), 24);
    // The slot table holds the slots themselves (a free slot is marked by its phase).
    let slot = std::mem::size_of::<super::Slot<Plain>>() - std::mem::size_of::<Fat>();
    let node = super::Calendar::<super::Event>::NODE_BYTES;
    let fixed = slot + std::mem::size_of::<super::Meta>() + node;
    // Plus the calendar's buckets (a head and a tail, 4 bytes each): a calendar that grew to
    // n events has fewer than n buckets.
    for n in [100, 1000, 1500, 4095] {
        let mut sim = Simulation::<Plain>::new(1);
        for _ in 0..n {
            sim.spawn(Fat([0; 4]));
        }
        for _ in 0..n {
            sim.step().unwrap();
        }
        let buckets = sim.queue.buckets();
        assert!(buckets < n, "{buckets} buckets for {n} events");
        let total = fixed as f64 + 8.0 * buckets as f64 / n as f64;
        assert!(total <= 128.0, "{total} bytes per sleeping process");
    }
}

// ----- activities -----

use crate::activity::Activity;
use crate::handle::ActivityId;

/// Works in pieces of `piece`, saving partial work when summoned, attending, then resuming
/// the rest; declares itself available while idle between pieces (sleeps `idle` between).
struct Member {
    piece: f64,
    left: f64,
    idle: f64,
    resting: bool,
    log: Log,
}

impl Process<M> for Member {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
        self.log.borrow_mut().push((cx.now(), wake.clone()));
        match wake {
            Wake::Interrupted(
                s @ Interrupt {
                    cause: Reason::Summoned(_),
                    ..
                },
            ) => {
                if !self.resting {
                    self.left -= s.waited;
                }
                return Command::Attend(s.activity().expect("a summons"));
            }
            Wake::Interrupted(_) => return Command::Sleep(1.0),
            Wake::Completed(Outcome::Slept) if self.resting => {
                self.resting = false;
                cx.set_available(false);
            }
            Wake::Completed(Outcome::Slept) => {
                self.left = self.piece;
                if self.idle > 0.0 {
                    self.resting = true;
                    cx.set_available(true);
                    return Command::Sleep(self.idle);
                }
            }
            _ => {}
        }
        if cx.now() >= 30.0 {
            return Command::Done;
        }
        if self.resting {
            return Command::Sleep(self.idle);
        }
        Command::Sleep(self.left)
    }
}

fn member(sim: &mut Simulation<M>, name: &str, piece: f64, idle: f64) -> (Pid, Log) {
    let log = Log::default();
    let pid = sim.spawn_named(
        name,
        Box::new(Member {
            piece,
            left: piece,
            idle,
            resting: false,
            log: log.clone(),
        }),
    );
    (pid, log)
}

#[test]
fn scheduled_activity_pulls_busy_participants_in_and_releases_them_together() {
    let mut sim = Simulation::<M>::new(0);
    let (a, alog) = member(&mut sim, "a", 10.0, 0.0);
    let (b, blog) = member(&mut sim, "b", 4.0, 0.0);
    let standup = sim
        .plan(Activity::new(2.0).at(3.0).with_all([a, b]))
        .unwrap();
    sim.run().unwrap();
    let aw = wakes(&alog);
    match &aw[1] {
        (
            3.0,
            Wake::Interrupted(
                s @ Interrupt {
                    cause: Reason::Summoned(_),
                    ..
                },
            ),
        ) => {
            assert_eq!(s.activity().expect("a summons"), standup);
            assert_eq!(s.request, Command::Sleep(10.0));
            assert_eq!(s.waited, 3.0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        aw[2],
        (5.0, Wake::Completed(Outcome::ActivityOver(standup)))
    );
    // a resumes its remaining 7 units of work after the meeting.
    assert_eq!(aw[3], (12.0, Wake::Completed(Outcome::Slept)));
    assert_eq!(
        wakes(&blog)[2],
        (5.0, Wake::Completed(Outcome::ActivityOver(standup)))
    );
    let rec = sim.activity_view(standup).unwrap();
    assert_eq!(
        (rec.planned_start(), rec.started_at(), rec.ended_at()),
        (3.0, Some(3.0), Some(5.0))
    );
    assert_eq!((rec.lateness(a), rec.time_spent(a)), (Some(0.0), Some(2.0)));
    assert_eq!(rec.participants().len(), 2);
}

#[test]
fn a_participant_in_a_masked_wait_joins_late() {
    /// A critical piece of work (masked), then attends whatever it is summoned to.
    struct Critical(Log);
    impl Process<M> for Critical {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
            self.0.borrow_mut().push((cx.now(), wake.clone()));
            match wake {
                Wake::Started => Command::Sleep(4.0).masked(),
                Wake::Completed(Outcome::Slept) => Command::Sleep(1.0),
                Wake::Interrupted(Interrupt {
                    cause: Reason::Summoned(a),
                    ..
                }) => Command::Attend(a),
                _ => Command::Done,
            }
        }
    }
    let mut sim = Simulation::<M>::new(0);
    let log = Log::default();
    let busy = sim.spawn(Box::new(Critical(log.clone())));
    let (free, _) = member(&mut sim, "free", 10.0, 0.0);
    let meeting = sim
        .plan(Activity::new(3.0).at(2.0).with(busy).with(free))
        .unwrap();
    sim.run().unwrap();
    let w = wakes(&log);
    assert_eq!(
        w[1],
        (4.0, Wake::Completed(Outcome::Slept)),
        "the masked wait completes first"
    );
    assert!(
        matches!(&w[2], (4.0, Wake::Interrupted(s @ Interrupt { cause: Reason::Summoned(_), .. })) if s.activity().expect("a summons") == meeting && s.waited == 0.0)
    );
    assert_eq!(w[3], (5.0, Wake::Completed(Outcome::ActivityOver(meeting))));
    let rec = sim.activity_view(meeting).unwrap();
    assert_eq!(
        (rec.lateness(busy), rec.time_spent(busy)),
        (Some(2.0), Some(1.0))
    );
    assert_eq!(
        (rec.lateness(free), rec.time_spent(free)),
        (Some(0.0), Some(3.0))
    );

    // Answering a summons with anything but Attend (or Done) is a clear error.
    let mut sim = Simulation::<M>::new(0);
    let (rude, _) = script(
        &mut sim,
        "rude",
        vec![Command::Sleep(5.0), Command::Sleep(1.0)],
    );
    sim.plan(Activity::new(1.0).at(1.0).with(rude)).unwrap();
    let err = sim.run().unwrap_err();
    assert!(
        err.to_string().contains("must answer Command::Attend"),
        "{err}"
    );
}

#[test]
fn pair_work_starts_when_a_partner_is_available_pulling_the_author_in() {
    let mut sim = Simulation::<M>::new(0);
    let (author, alog) = member(&mut sim, "author", 100.0, 0.0);
    // p1 rests (available) from t=6 to t=8; p2 is never available.
    let (p1, _) = member(&mut sim, "p1", 6.0, 2.0);
    let (p2, _) = member(&mut sim, "p2", 50.0, 0.0);
    let pair = sim
        .plan(
            Activity::new(3.0)
                .with(author)
                .with_available_from([p2, p1], 1),
        )
        .unwrap();
    sim.run().unwrap();
    let rec = sim.activity_view(pair).unwrap();
    assert_eq!(rec.started_at(), Some(6.0));
    let who: Vec<Pid> = rec.participants().iter().map(|p| p.pid).collect();
    assert_eq!(who, vec![author, p1]);
    assert!(
        matches!(&wakes(&alog)[1], (6.0, Wake::Interrupted(s @ Interrupt { cause: Reason::Summoned(_), .. })) if s.waited == 6.0)
    );
    assert_eq!(rec.ended_at(), Some(9.0));
}

#[test]
fn a_deadline_starts_without_waiting_for_availability() {
    let mut sim = Simulation::<M>::new(0);
    let (x, _) = member(&mut sim, "x", 50.0, 0.0);
    let a = sim
        .plan(Activity::new(1.0).with_available(x).deadline(5.0))
        .unwrap();
    sim.run().unwrap();
    assert_eq!(sim.activity_view(a).unwrap().started_at(), Some(5.0));
}

#[test]
fn overlapping_activities_are_joined_in_order_and_interrupts_wait_for_the_end() {
    let mut sim = Simulation::<M>::new(0);
    let (w, log) = member(&mut sim, "w", 20.0, 0.0);
    let first = sim.plan(Activity::new(2.0).at(1.0).with(w)).unwrap();
    let second = sim.plan(Activity::new(2.0).at(2.0).with(w)).unwrap();
    sim.run_until(1.5).unwrap();
    sim.interrupt(w, "ping").unwrap();
    sim.run().unwrap();
    let kinds: Vec<(f64, WakeKind)> = wakes(&log).iter().map(|(t, w)| (*t, w.kind())).collect();
    assert_eq!(
        kinds[..6],
        [
            (0.0, WakeKind::Started),
            (1.0, WakeKind::Summoned),
            (3.0, WakeKind::ActivityOver),
            // Both waited for the first meeting to end, and land in arrival order: the
            // interrupt (t=1.5), then the second meeting (started at 2).
            (3.0, WakeKind::Interrupted),
            (3.0, WakeKind::Summoned),
            (4.0, WakeKind::ActivityOver),
        ]
    );
    let rec = sim.activity_view(second).unwrap();
    assert_eq!(
        (rec.started_at(), rec.lateness(w), rec.time_spent(w)),
        (Some(2.0), Some(1.0), Some(1.0))
    );
    let _ = first;
}

#[test]
fn finished_participants_are_an_error_to_plan_and_skipped_once_started() {
    let mut sim = Simulation::<M>::new(0);
    let (gone, _) = script(&mut sim, "gone", vec![]);
    sim.run().unwrap();
    assert!(matches!(
        sim.plan(Activity::new(1.0).with(gone)),
        Err(Error::Finished { .. })
    ));
    // A participant that finishes in a masked wait never joins; the others are released.
    let mut sim = Simulation::<M>::new(0);
    let (leaver, _) = script(&mut sim, "leaver", vec![Command::Sleep(2.0).masked()]);
    let (stayer, slog) = member(&mut sim, "stayer", 10.0, 0.0);
    let a = sim
        .plan(Activity::new(3.0).at(1.0).with(leaver).with(stayer))
        .unwrap();
    sim.run().unwrap();
    let rec = sim.activity_view(a).unwrap();
    assert_eq!(rec.participants()[0].joined_at, None);
    assert_eq!(rec.lateness(stayer), Some(0.0));
    assert!(
        wakes(&slog)
            .iter()
            .any(|(t, w)| *t == 4.0 && *w == Wake::Completed(Outcome::ActivityOver(a)))
    );
    assert!(matches!(
        sim.plan(Activity::new(f64::NAN).with(stayer)),
        Err(Error::InvalidDelay { .. })
    ));
    let _: ActivityId = a;
}

#[test]
fn context_of_acts_as_a_live_process() {
    let mut sim = Simulation::<M>::new(0);
    let r = sim.resource(1).unwrap();
    let (p, _) = script(
        &mut sim,
        "p",
        vec![Command::Acquire(r), Command::Sleep(5.0)],
    );
    sim.run_until(1.0).unwrap();
    let mut cx = sim.context_of(p).unwrap();
    cx.release(r);
    cx.set_available(true);
    assert!(cx.take_error().is_none());
    assert_eq!(sim.resource_view(r).unwrap().in_use(), 0);
    sim.run().unwrap();
    assert!(matches!(sim.context_of(p), Err(Error::Finished { .. })));
}

#[test]
fn a_panic_in_step_poisons_the_simulation() {
    struct Bomb;
    impl Process<M> for Bomb {
        fn step(&mut self, _: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
            match wake {
                Wake::Started => Command::Sleep(1.0),
                _ => panic!("boom"),
            }
        }
    }
    let mut sim = Simulation::<M>::new(0);
    sim.spawn_named("bomb", Box::new(Bomb));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.run()));
    assert!(caught.is_err(), "the panic unwinds out of run");
    let err = sim.run().unwrap_err();
    assert!(matches!(err, Error::Poisoned { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "at t=1, process #0 \"bomb\": a panic inside step unwound out of the simulation; \
         it cannot continue"
    );
    assert!(matches!(sim.step(), Err(Error::Poisoned { .. })));
}

// ----- the fast path of plain `FirstOf`s -----

type Seen = Vec<Vec<(f64, Wake<u32, &'static str>)>>;

/// Runs `model` twice: once as it is (plain `FirstOf`s take the fast path) and once with an
/// observer that wants waits (every command goes the general way), and checks that both
/// runs saw the same (handles compared by index: the two simulations differ in id).
/// Returns the wakes of every process in the first run, its error, and `end` of it.
fn with_and_without_fast_path<R: std::fmt::Debug>(
    model: impl Fn(&mut Simulation<M>) -> Vec<Log>,
    end: impl Fn(&Simulation<M>) -> R,
) -> (Seen, Option<String>, R) {
    let run = |general: bool| {
        let mut sim = Simulation::<M>::new(0);
        if general {
            sim.observe(TraceLog::with_waits());
        }
        let logs = model(&mut sim);
        let err = sim.run().err().map(|e| e.to_string());
        let seen: Seen = logs.iter().map(wakes).collect();
        let end = end(&sim);
        let shown =
            format!("{seen:?} {err:?} {end:?}").replace(&format!("sim: {}", sim.id), "sim: _");
        (seen, err, end, shown)
    };
    let (seen, err, end, fast) = run(false);
    let (.., general) = run(true);
    assert_eq!(fast, general, "the fast path differs from the general one");
    (seen, err, end)
}

/// The index, number of losing branches and time of a process's `i`th wake, a `First`.
fn first_at(seen: &Seen, p: usize, i: usize) -> (f64, usize, usize) {
    match &seen[p][i] {
        (t, Wake::First(f)) => (*t, f.index, f.others.len()),
        other => panic!("expected a first-of wake, got {other:?}"),
    }
}

#[test]
fn plain_first_ofs_behave_as_on_the_general_path() {
    let (seen, err, end) = with_and_without_fast_path(
        |sim| {
            let r = sim.resource(1).unwrap();
            let free = sim.resource(1).unwrap();
            let pr = sim.preemptive_resource(1).unwrap();
            let q = sim.queue(Capacity::Unbounded).unwrap();
            let full = sim.queue(Capacity::Bounded(1)).unwrap();
            let own = sim.queue(Capacity::Unbounded).unwrap();
            sim.context().try_put(full, 0).unwrap();
            let mut logs = vec![];
            let mut add = |sim: &mut Simulation<M>, name, commands| {
                logs.push(script(sim, name, commands).1);
            };
            add(
                sim,
                "holder",
                vec![Command::Acquire(r), Command::Sleep(3.0)],
            );
            // Served at 3 (the holder is done), then holds for 1.
            add(
                sim,
                "patient",
                vec![
                    Command::first_of([Command::Acquire(r), Command::Sleep(5.0)]),
                    Command::Sleep(1.0),
                ],
            );
            // Reneges at 2, leaving the line.
            add(
                sim,
                "impatient",
                vec![Command::first_of([
                    Command::Acquire(r),
                    Command::Sleep(2.0),
                ])],
            );
            // The get wins at 1; the put's item comes back.
            add(
                sim,
                "getter",
                vec![Command::first_of([
                    Command::Get(q),
                    Command::Put(full, 7),
                    Command::Sleep(4.0),
                ])],
            );
            add(
                sim,
                "producer",
                vec![Command::Sleep(1.0), Command::Put(q, 3)],
            );
            // Wins at once: a free slot, a put with room, a get of that item.
            add(
                sim,
                "lucky",
                vec![
                    Command::first_of([Command::Sleep(1.0), Command::Acquire(free)]),
                    Command::first_of([Command::Sleep(1.0), Command::Put(own, 9)]),
                    Command::first_of([Command::Sleep(0.5), Command::Get(own)]),
                ],
            );
            // A request that preempts while registering: the later branches are never
            // started and come back as they were.
            add(
                sim,
                "low",
                vec![
                    Command::AcquireWith(pr, Priority::new(5.0)),
                    Command::Sleep(10.0),
                ],
            );
            add(
                sim,
                "preemptor",
                vec![
                    Command::Sleep(0.5),
                    Command::first_of([Command::Acquire(pr), Command::Get(q), Command::Sleep(1.0)]),
                    Command::first_of([Command::Get(full), Command::Sleep(1.0)]),
                ],
            );
            logs
        },
        |sim| {
            let queue = |i| {
                let q = QueueId {
                    sim: sim.id,
                    idx: i,
                };
                sim.queue_view(q)
                    .unwrap()
                    .iter()
                    .copied()
                    .collect::<Vec<u32>>()
            };
            (queue(0), queue(1), queue(2), sim.live_processes())
        },
    );
    assert_eq!(err, None);
    assert_eq!(first_at(&seen, 1, 1), (3.0, 0, 1));
    assert_eq!(first_at(&seen, 2, 1), (2.0, 1, 1));
    // The put won at 0.5, when the preemptor took the bounded queue's item.
    assert_eq!(first_at(&seen, 3, 1), (0.5, 1, 2));
    match &seen[3][1].1 {
        Wake::First(f) => assert!(matches!(
            f.others.to_vec()[..],
            [Command::Get(_), Command::Sleep(4.0)]
        )),
        _ => unreachable!(),
    }
    assert_eq!(first_at(&seen, 5, 1), (0.0, 1, 1));
    assert_eq!(first_at(&seen, 5, 2), (0.0, 1, 1));
    assert_eq!(first_at(&seen, 5, 3), (0.0, 1, 1));
    assert!(matches!(
        &seen[6][2],
        (0.5, Wake::Interrupted(i)) if matches!(i.cause, Reason::Preempted(_))
    ));
    assert_eq!(first_at(&seen, 7, 2), (0.5, 0, 2));
    // The preemptor got the bounded queue's item; nothing is left waiting.
    assert_eq!(first_at(&seen, 7, 3), (0.5, 0, 1));
    assert_eq!(end, (vec![3], vec![7], vec![], 0));
}

#[test]
fn plain_first_ofs_fail_as_on_the_general_path() {
    let mut other = Simulation::<M>::new(0);
    let foreign = other.resource(1).unwrap();
    /// A command from a resource of the simulation and one of another.
    type Make = fn(ResourceId, ResourceId) -> Command<u32>;
    let cases: Vec<(Make, &str)> = vec![
        (
            |_, foreign| Command::first_of([Command::Acquire(foreign), Command::Sleep(1.0)]),
            "resource 0",
        ),
        (
            |r, _| Command::first_of([Command::Acquire(r), Command::Sleep(-1.0)]),
            "delays must be finite",
        ),
        (
            |r, _| Command::first_of([Command::Acquire(r), Command::Sleep(f64::INFINITY)]),
            "delays must be finite",
        ),
        (
            |r, _| Command::first_of([Command::Sleep(f64::MAX), Command::Acquire(r)]),
            "past the largest finite time",
        ),
    ];
    for (command, message) in cases {
        let (seen, err, ()) = with_and_without_fast_path(
            |sim| {
                let r = sim.resource(1).unwrap();
                // From a late time, so that a huge sleep ends past the largest finite time.
                let late = Command::Sleep(1e300);
                vec![script(sim, "p", vec![late, command(r, foreign)]).1]
            },
            |sim| assert_eq!(sim.live_processes(), 0),
        );
        let err = err.expect("an error");
        assert!(err.contains(message), "{err}");
        assert_eq!(seen[0].len(), 2);
    }
}

#[test]
fn a_plain_first_of_with_an_interrupt_queued_is_held() {
    let (seen, err, ()) = with_and_without_fast_path(
        |sim| {
            let r = sim.resource(1).unwrap();
            let (p, log) = script(
                sim,
                "p",
                vec![
                    Command::first_of([Command::Acquire(r), Command::Sleep(2.0)]),
                    Command::first_of([Command::Acquire(r), Command::Sleep(2.0)]),
                ],
            );
            // Queued before its first step: its first command is held, then handed back.
            sim.interrupt(p, "early").unwrap();
            vec![log]
        },
        |_| (),
    );
    assert_eq!(err, None);
    match &seen[0][1] {
        (0.0, Wake::Interrupted(i)) => {
            assert_eq!(i.cause, Reason::Interrupt("early"));
            assert_eq!(i.waited, 0.0);
            assert!(matches!(
                i.request.clone(),
                Command::FirstOf(b) if b.to_vec().len() == 2
            ));
        }
        other => panic!("expected the interrupt, got {other:?}"),
    }
    // The second one took the free slot at once.
    assert_eq!(first_at(&seen, 0, 2), (0.0, 0, 1));
}

#[test]
fn a_summoned_process_answering_a_plain_first_of_fails() {
    let (seen, err, ()) = with_and_without_fast_path(
        |sim| {
            let r = sim.resource(1).unwrap();
            let (rude, log) = script(
                sim,
                "rude",
                vec![
                    Command::Sleep(5.0),
                    Command::first_of([Command::Acquire(r), Command::Sleep(1.0)]),
                ],
            );
            sim.plan(Activity::new(1.0).at(1.0).with(rude)).unwrap();
            vec![log]
        },
        |_| (),
    );
    let err = err.expect("an error");
    assert!(err.contains("must answer Command::Attend"), "{err}");
    assert_eq!(seen[0].len(), 2);
}

#[test]
fn a_grant_in_flight_to_a_plain_first_of_is_spared_from_preemption() {
    // A FirstOf whose loser is a sleep parks its completion as records; one whose loser
    // waits on a signal (that never fires) parks a whole wake. Both must be seen the same:
    // the slot granted at 2 is in flight when the better request comes, so the holder is
    // spared until its wake is delivered, and preempted at its next wait.
    let run = |sleeping_loser: bool| {
        let mut sim = Simulation::<M>::new(0);
        let pr = sim.preemptive_resource(1).unwrap();
        let never = sim.signal();
        let loser = if sleeping_loser {
            Command::Sleep(100.0)
        } else {
            Command::Signal(never)
        };
        let logs = [
            script(
                &mut sim,
                "h",
                vec![Command::Acquire(pr), Command::Sleep(2.0)],
            )
            .1,
            script(
                &mut sim,
                "c",
                vec![
                    Command::first_of([Command::Acquire(pr), loser]),
                    Command::Sleep(1.0),
                    Command::Sleep(1.0),
                ],
            )
            .1,
            script(
                &mut sim,
                "p",
                // It asks after the holder's exit has granted the slot (its timer at 2 comes
                // after the holder's, then it yields behind that exit).
                vec![
                    Command::Sleep(1.0),
                    Command::Sleep(1.0),
                    Command::Yield,
                    Command::AcquireWith(pr, Priority::new(-1.0)),
                    Command::Sleep(5.0),
                ],
            )
            .1,
        ];
        sim.run().unwrap();
        let seen: Vec<Vec<String>> = logs
            .iter()
            .map(|log| {
                wakes(log)
                    .into_iter()
                    .map(|(t, w)| match w {
                        Wake::First(f) => format!("{t} first {} {:?}", f.index, f.outcome.kind()),
                        Wake::Interrupted(i) => {
                            let preempted = matches!(i.cause, Reason::Preempted(_));
                            format!("{t} interrupted {preempted} {}", i.waited)
                        }
                        w => format!("{t} {:?}", w.kind()),
                    })
                    .collect()
            })
            .collect();
        seen
    };
    let records = run(true);
    assert_eq!(records, run(false));
    assert_eq!(records[1][1], "2 first 0 Acquired");
    assert_eq!(records[1][2], "2 interrupted true 0");
    assert_eq!(records[2][4], "2 Acquired");
}

// ----- events carried out in place inside a run -----

type Lines = Rc<RefCell<Vec<String>>>;

/// What a customer does when its grant arrives.
#[derive(Clone, Copy)]
enum OnGrant {
    Serve,
    /// Spawns a helper first (which takes the first free slot of the slot table).
    Spawn,
    /// Fails (through its context).
    Fail,
    /// Panics.
    Panic,
}

/// Acquires, is served, releases; logs every wake and every pid it spawns.
struct Customer {
    r: ResourceId,
    service: f64,
    /// Reneges after this long (a `FirstOf` of the request and a sleep).
    patience: Option<f64>,
    on_grant: OnGrant,
    log: Lines,
}

impl Process<M> for Customer {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
        let what = match &wake {
            // Not the whole handle: it names its simulation, which differs between runs.
            Wake::Completed(Outcome::Acquired(r)) => format!("acquired {}", r.idx),
            Wake::First(first) => format!("first {}", first.index),
            other => format!("{other:?}"),
        };
        let line = format!("{} {:?} {what}", cx.now(), cx.pid());
        self.log.borrow_mut().push(line);
        match wake {
            Wake::Started => match self.patience {
                Some(p) => Command::first_of([Command::Acquire(self.r), Command::Sleep(p)]),
                None => Command::Acquire(self.r),
            },
            Wake::First(First { index: 1, .. }) => Command::Done, // reneged
            Wake::Completed(Outcome::Acquired(_)) | Wake::First(_) => {
                match self.on_grant {
                    OnGrant::Serve => {}
                    OnGrant::Spawn => {
                        let helper = cx.spawn(Box::new(Script {
                            commands: vec![Command::Sleep(0.25)].into(),
                            log: Log::default(),
                        }));
                        self.log.borrow_mut().push(format!("spawned {helper:?}"));
                    }
                    OnGrant::Fail => cx.fail("refuses the slot"),
                    OnGrant::Panic => panic!("refuses the slot"),
                }
                Command::Sleep(self.service)
            }
            _ => {
                cx.release(self.r);
                Command::Done
            }
        }
    }
}

/// Spawns a customer after each gap (some zero, so that several arrive at one instant).
struct Arrivals {
    r: ResourceId,
    gaps: VecDeque<(f64, f64, Option<f64>, OnGrant)>,
    log: Lines,
}

impl Process<M> for Arrivals {
    fn step(&mut self, cx: &mut Context<'_, M>, _: Wake<u32, &'static str>) -> Command<u32> {
        let Some((gap, service, patience, on_grant)) = self.gaps.pop_front() else {
            return Command::Done;
        };
        let pid = cx.spawn(Box::new(Customer {
            r: self.r,
            service,
            patience,
            on_grant,
            log: self.log.clone(),
        }));
        self.log.borrow_mut().push(format!("arrived {pid:?}"));
        Command::Sleep(gap)
    }
}

/// A queue at a one-slot resource (and a two-slot one), with ties, customers who renege
/// (their wakes go one hop later), a joined customer, and one customer whose grant step is
/// `special`.
fn queueing(sim: &mut Simulation<M>, special: OnGrant) -> Lines {
    let log = Lines::default();
    let one = sim.resource(1).unwrap();
    let two = sim.resource(2).unwrap();
    let mut gaps = VecDeque::new();
    for i in 0..12 {
        let gap = [0.0, 0.5, 0.0, 1.5, 0.0, 0.0][i % 6];
        let service = [1.0, 0.5, 2.0, 1.0][i % 4];
        let patience = [None, None, Some(0.75), None, Some(3.0)][i % 5];
        let (patience, on_grant) = if i == 7 {
            (None, special)
        } else {
            (patience, OnGrant::Serve)
        };
        gaps.push_back((gap, service, patience, on_grant));
    }
    sim.spawn(Box::new(Arrivals {
        r: one,
        gaps: gaps.clone(),
        log: log.clone(),
    }));
    sim.spawn(Box::new(Arrivals {
        r: two,
        gaps,
        log: log.clone(),
    }));
    // A joiner of the first customer (spawned right after it): its exit is a real event.
    let first = Pid {
        sim: sim.id,
        idx: 3,
        generation: 0,
    };
    script(
        sim,
        "joiner",
        vec![Command::Sleep(0.1), Command::Join(first)],
    );
    log
}

/// Runs a fresh `queueing` model one `step` at a time or with `run`; returns the log, the
/// event count, the clock, the sequence number reached, the error, and the trace.
fn run_queueing(
    special: OnGrant,
    one_at_a_time: bool,
    observed: bool,
) -> (Vec<String>, u64, f64, u64, Option<String>, Option<String>) {
    let mut sim = Simulation::<M>::new(7);
    let log = queueing(&mut sim, special);
    let trace = TraceLog::new();
    if observed {
        sim.observe(trace.clone());
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if one_at_a_time {
            loop {
                match sim.step() {
                    Ok(true) => {}
                    Ok(false) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        } else {
            // In pieces: a run's events in place must stop at its limit as the queue does.
            sim.run_until(1.0)?;
            sim.run_until(2.5)?;
            sim.run().map(|_| ())
        }
    }));
    let error = match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(sim.run().unwrap_err().to_string()),
    };
    let trace = observed.then(|| trace.to_csv());
    let lines = log.borrow().clone();
    (lines, sim.events(), sim.now(), sim.seq, error, trace)
}

#[test]
fn grants_in_place_change_nothing_but_the_queue_traffic() {
    for special in [
        OnGrant::Serve,
        OnGrant::Spawn,
        OnGrant::Fail,
        OnGrant::Panic,
    ] {
        let stepped = run_queueing(special, true, false);
        let ran = run_queueing(special, false, false);
        assert_eq!(
            stepped.0, ran.0,
            "the same wakes, at the same times, to the same pids"
        );
        assert_eq!(stepped.1, ran.1, "the same event count");
        assert_eq!(stepped.2, ran.2);
        assert_eq!(stepped.4, ran.4, "the same error");
        // Grants carried out in place skip the sequence numbers of their events.
        assert!(ran.3 < stepped.3, "grants were carried out in place");
        // An observer sees the same trace either way (and changes nothing).
        let traced_steps = run_queueing(special, true, true);
        let traced_run = run_queueing(special, false, true);
        assert_eq!(traced_steps.5, traced_run.5);
        assert_eq!(traced_steps.0, stepped.0);
        assert_eq!(traced_run.0, stepped.0);
        assert_eq!(traced_run.1, stepped.1);
        assert_eq!(traced_run.4, stepped.4);
        assert!(traced_run.3 < traced_steps.3, "observed, still in place");
    }
    // The helper spawned in a grant's step carried out in place takes the slot of the
    // customer whose release made the grant (freed by its exit just before): a reused slot.
    let (log, ..) = run_queueing(OnGrant::Spawn, false, false);
    let spawned: Vec<_> = log.iter().filter(|l| l.starts_with("spawned")).collect();
    assert!(!spawned.is_empty(), "{log:?}");
    assert!(spawned.iter().all(|l| !l.ends_with(".0)")), "{spawned:?}");
}

#[test]
fn a_process_spawned_in_a_grant_carried_out_in_place_gets_the_releasers_slot() {
    // One slot: `a` holds it from 0 to 1, `b` waits from 0.5; at 1 `a` releases and
    // finishes, and nothing else happens at 1, so `b`'s grant is carried out in place, after
    // `a`'s exit. The helper `b` spawns there takes `a`'s freed slot, as it does one step at
    // a time.
    // Both wait plainly, or in a `FirstOf` with a sleep (their wakes go one hop later; `a`
    // finds the slot free).
    let spawn = |one_at_a_time: bool, patience: Option<f64>| {
        let mut sim = Simulation::<M>::new(0);
        let r = sim.resource(1).unwrap();
        let log = Lines::default();
        let gaps = [
            (0.5, 1.0, patience, OnGrant::Serve),
            (10.0, 1.0, patience, OnGrant::Spawn),
        ];
        sim.spawn(Box::new(Arrivals {
            r,
            gaps: gaps.into(),
            log: log.clone(),
        }));
        if one_at_a_time {
            while sim.step().unwrap() {}
        } else {
            sim.run().unwrap();
        }
        let log = log.borrow().clone();
        let pid = |prefix: &str| {
            log.iter()
                .find_map(|l| l.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("{prefix} in {log:?}"))
                .to_owned()
        };
        (pid("arrived "), pid("spawned "), sim.events(), sim.seq, log)
    };
    for patience in [None, Some(5.0)] {
        let (a, helper, events, seq, log) = spawn(false, patience);
        assert_eq!((a.as_str(), helper.as_str()), ("Pid(#1.0)", "Pid(#1.1)"));
        let stepped = spawn(true, patience);
        assert_eq!(
            (a, helper, events, log),
            (stepped.0, stepped.1, stepped.2, stepped.4)
        );
        assert!(seq < stepped.3, "the grant was carried out in place");
    }
}

#[test]
fn first_of_hops_carried_out_in_place_keep_the_order_of_one_step_at_a_time() {
    // `h` holds `r` and `s` from 0 to 1 and finishes there, releasing both (two grant
    // events, then its exit). `b` waits for `r` in a `FirstOf` with a sleep (or plainly),
    // `c` for `s` plainly; `d` reneges alone at 0.5 (its timer's hop, carried out in
    // place). At 1, `b`'s completion is queued behind `c`'s grant and after `h`'s exit:
    // when its event is carried out in place, the exit comes first, and the helper `b`
    // spawns in its step takes `h`'s freed slot, as one step at a time.
    let go = |one_at_a_time: bool, patience: Option<f64>| {
        let mut sim = Simulation::<M>::new(0);
        let r = sim.resource(1).unwrap();
        let s = sim.resource(1).unwrap();
        let log = Lines::default();
        script(
            &mut sim,
            "h",
            vec![
                Command::Acquire(r),
                Command::Acquire(s),
                Command::Sleep(1.0),
            ],
        );
        let customer = |r, patience, on_grant| Customer {
            r,
            service: 1.0,
            patience,
            on_grant,
            log: log.clone(),
        };
        sim.spawn(Box::new(customer(r, patience, OnGrant::Spawn)));
        sim.spawn(Box::new(customer(s, None, OnGrant::Serve)));
        sim.spawn(Box::new(customer(r, Some(0.5), OnGrant::Serve)));
        if one_at_a_time {
            while sim.step().unwrap() {}
        } else {
            sim.run().unwrap();
        }
        let log = log.borrow().clone();
        (log, sim.events(), sim.now(), sim.seq)
    };
    for patience in [None, Some(5.0)] {
        let (log, events, now, seq) = go(false, patience);
        assert!(log.contains(&"0.5 Pid(#3.0) first 1".to_owned()), "{log:?}");
        assert!(log.contains(&"spawned Pid(#0.1)".to_owned()), "{log:?}");
        let stepped = go(true, patience);
        assert_eq!((log, events, now), (stepped.0, stepped.1, stepped.2));
        assert!(seq < stepped.3, "events were carried out in place");
    }
}

/// Sleeps 0.5 twice, then waits for `r` (plainly or in a `FirstOf` with a sleep), spawns a
/// helper when it is granted, and logs the helper's pid.
struct LateSpawner {
    r: ResourceId,
    first_of: bool,
    naps: u32,
    log: Lines,
}

impl Process<M> for LateSpawner {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32, &'static str>) -> Command<u32> {
        match wake {
            Wake::Started | Wake::Completed(Outcome::Slept) if self.naps < 2 => {
                self.naps += 1;
                Command::Sleep(0.5)
            }
            Wake::Completed(Outcome::Slept) if self.first_of => {
                Command::first_of([Command::Acquire(self.r), Command::Sleep(5.0)])
            }
            Wake::Completed(Outcome::Slept) => Command::Acquire(self.r),
            _ => {
                let helper = cx.spawn(Box::new(Script {
                    commands: vec![Command::Sleep(0.25)].into(),
                    log: Log::default(),
                }));
                let what = match wake {
                    Wake::First(first) => format!("first {}", first.index),
                    Wake::Completed(Outcome::Acquired(r)) => format!("acquired {}", r.idx),
                    other => format!("{other:?}"),
                };
                let line = format!("{} spawned {helper:?} after {what}", cx.now());
                self.log.borrow_mut().push(line);
                Command::Done
            }
        }
    }
}

#[test]
fn a_wake_after_an_exit_carried_out_in_place_comes_after_the_exit() {
    // `h` holds `r` from 0 to 1 and finishes there (nobody waits: no grant event; its exit
    // is pending). Then `x` (whose timer was queued before that exit) finds `r` free: its
    // wake's event comes after the exit, and is carried out in place after it, so the helper
    // `x` spawns takes `h`'s freed slot, as one step at a time.
    let go = |one_at_a_time: bool, first_of: bool| {
        let mut sim = Simulation::<M>::new(0);
        let r = sim.resource(1).unwrap();
        let log = Lines::default();
        script(
            &mut sim,
            "h",
            vec![Command::Acquire(r), Command::Sleep(1.0)],
        );
        sim.spawn(Box::new(LateSpawner {
            r,
            first_of,
            naps: 0,
            log: log.clone(),
        }));
        if one_at_a_time {
            while sim.step().unwrap() {}
        } else {
            sim.run().unwrap();
        }
        let log = log.borrow().clone();
        (log, sim.events(), sim.now(), sim.seq)
    };
    for first_of in [false, true] {
        let (log, events, now, seq) = go(false, first_of);
        assert!(log[0].starts_with("1 spawned Pid(#0.1)"), "{log:?}");
        let stepped = go(true, first_of);
        assert_eq!((log, events, now), (stepped.0, stepped.1, stepped.2));
        // The plain grant's event is taken from the queue's register; the hop is not queued.
        assert_eq!(
            seq < stepped.3,
            first_of,
            "the hop was carried out in place"
        );
    }
}

/// A queue model where gets and puts often complete the moment they are issued (an item
/// there, room there, nobody ahead), and often wait: bounded queue, producers and consumers
/// at random tempos, a reneging consumer. Every process logs its wakes into one log, so
/// that it shows their order across processes.
fn busy_queue_model(sim: &mut Simulation<M>) -> Vec<Log> {
    let q = sim.queue(2).unwrap();
    let mut draws = <crate::rng::Stream as rand::SeedableRng>::seed_from_u64(3);
    let mut delay = move || rand::RngExt::random_range(&mut draws, 0..4) as f64 * 0.5;
    let log = Log::default();
    let add = |sim: &mut Simulation<M>, commands: Vec<Command<u32>>| {
        sim.spawn(Box::new(Script {
            commands: commands.into(),
            log: log.clone(),
        }));
    };
    for p in 0..3u32 {
        let mut commands = Vec::new();
        for i in 0..20 {
            commands.push(Command::Put(q, p * 100 + i));
            commands.push(Command::Sleep(delay()));
        }
        add(sim, commands);
    }
    for _ in 0..2 {
        let mut commands = Vec::new();
        for _ in 0..25 {
            commands.push(Command::Get(q));
            commands.push(Command::Sleep(delay()));
        }
        add(sim, commands);
    }
    let mut commands = Vec::new();
    for _ in 0..10 {
        commands.push(Command::first_of([Command::Get(q), Command::Sleep(0.7)]));
        commands.push(Command::Sleep(delay()));
    }
    add(sim, commands);
    vec![log]
}

#[test]
fn a_get_or_put_that_completes_at_once_is_what_the_general_path_does() {
    // Without an observer of waits a get or put that completes at once skips the line;
    // with one, every command goes the general way. Same wakes, same times, same order,
    // same event count.
    let (seen, err, _events) = with_and_without_fast_path(busy_queue_model, |sim| sim.events());
    assert_eq!(err, None);
    // Both kinds occurred: gets and puts done at once and after waiting.
    let woke = |kind: WakeKind| seen[0].iter().filter(|(_, w)| w.kind() == kind).count();
    assert_eq!(woke(WakeKind::Put), 60);
    let got = woke(WakeKind::Got);
    assert!(got >= 50, "{got} gets");
}
