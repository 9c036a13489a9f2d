//! State-transition tests of the engine, written as scripts: a process issues a fixed list
//! of commands and the test asserts on the wakes it received and when.

use super::*;
use crate::command::{Branches, Exit, First, Wait};
use crate::handle::QueueId;
use crate::process::Boxed;
use crate::trace::TraceLog;
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
            (1.5, Wake::Slept),
            (1.5, Wake::Slept),
            (3.5, Wake::Slept)
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
            (1.0, Wake::Got(7)),
            (1.0, Wake::Got(8))
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
        vec![(0.0, Wake::Started), (0.0, Wake::Put), (5.0, Wake::Put)]
    );
    let view = sim.queue_view(q).unwrap();
    assert_eq!(view.iter().copied().collect::<Vec<_>>(), vec![2]);
}

#[test]
fn priority_queue_is_fifo_among_equals() {
    let mut sim = Simulation::<Boxed<(u8, char)>>::new(0);
    let q = sim
        .priority_queue_by(Capacity::Unbounded, |a, b| a.0.cmp(&b.0))
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
                    Wake::Acquired(_) => {
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
    let acquired: Vec<f64> = logs
        .iter()
        .map(|l| {
            l.borrow()
                .iter()
                .find(|(_, w)| matches!(w, Wake::Acquired(_)))
                .unwrap()
                .0
        })
        .collect();
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
            Wake::Interrupted(Interrupt {
                cause: "ring",
                request: Command::Sleep(10.0),
                waited: 4.0,
                taken: vec![]
            })
        )
    );
    // The withdrawn timer never fires: the next wake is the new 1.0 sleep.
    assert_eq!(w[2], (5.0, Wake::Slept));
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
            Wake::Interrupted(Interrupt {
                cause: "x",
                request: Command::Put(q, 2),
                waited: 1.0,
                taken: vec![]
            })
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
            Command::Masked(Wait::Sleep(3.0)),
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
    assert_eq!(w[1], (3.0, Wake::Slept), "the masked sleep completes");
    assert_eq!(
        w[2],
        (
            3.0,
            Wake::Interrupted(Interrupt {
                cause: "first",
                request: Command::Sleep(10.0),
                waited: 0.0,
                taken: vec![]
            })
        )
    );
    assert_eq!(
        w[3],
        (
            3.0,
            Wake::Interrupted(Interrupt {
                cause: "second",
                request: Command::Sleep(10.0),
                waited: 0.0,
                taken: vec![]
            })
        )
    );
    assert_eq!(w[4], (4.0, Wake::Slept));
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
                Wake::Slept => Command::Put(self.q, 5),
                Wake::Put => {
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
    assert_eq!(w[1], (1.0, Wake::Got(5)));
    assert_eq!(
        w[2],
        (
            1.0,
            Wake::Interrupted(Interrupt {
                cause: "late",
                request: Command::Sleep(50.0),
                waited: 0.0,
                taken: vec![]
            })
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
        vec![Command::first_of([Wait::Get(q), Wait::Sleep(2.0)])],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&log)[1],
        (
            2.0,
            Wake::First(First {
                index: 1,
                outcome: Outcome::Slept,
                others: [Wait::Get(q)].into(),
                taken: vec![]
            })
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
            Command::first_of([Wait::Get(q), Wait::Sleep(2.0)]),
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
            Wake::First(First {
                index: 0,
                outcome: Outcome::Got(3),
                others: [Wait::Sleep(2.0)].into(),
                taken: vec![]
            })
        )
    );
    assert_eq!(w[2], (6.0, Wake::Slept));
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
        vec![Command::first_of([Wait::Get(b), Wait::Get(a)])],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&log)[1],
        (
            0.0,
            Wake::First(First {
                index: 0,
                outcome: Outcome::Got(2),
                others: [Wait::Get(a)].into(),
                taken: vec![]
            })
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
        vec![Command::first_of([Wait::Put(full, 42), Wait::Sleep(1.0)])],
    );
    sim.run().unwrap();
    assert_eq!(
        wakes(&log)[1],
        (
            1.0,
            Wake::First(First {
                index: 1,
                outcome: Outcome::Slept,
                others: [Wait::Put(full, 42)].into(),
                taken: vec![]
            })
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
            Wait::Get(q),
            Wait::Acquire(r),
            Wait::Sleep(5.0),
        ])],
    );
    sim.run_until(1.0).unwrap();
    sim.interrupt(w, "now").unwrap();
    sim.run().unwrap();
    let expected: Branches<u32> = [Wait::Get(q), Wait::Acquire(r), Wait::Sleep(5.0)].into();
    assert_eq!(
        wakes(&log)[1],
        (
            1.0,
            Wake::Interrupted(Interrupt {
                cause: "now",
                request: Command::FirstOf(expected),
                waited: 1.0,
                taken: vec![]
            })
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
            (3.0, Wake::Joined(child, Exit::Returned(None))),
            (3.0, Wake::Joined(child, Exit::Returned(None)))
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
            Wake::Interrupted(Interrupt {
                cause: "early",
                request: Command::Sleep(4.0),
                waited: 0.0,
                taken: vec![]
            })
        )
    );
    assert_eq!(w[2], (1.0, Wake::Slept));
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
            matches!(e, Error::EmptyFirstOf { .. })
        }),
        (
            Command::first_of([Wait::Sleep(1.0), Wait::Sleep(-2.0)]),
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
