//! # Hello, stepsim: processes that sleep and wake
//!
//! Three sleepers nap a fixed number of times, each with its own nap length. A process is a
//! plain struct implementing [`Process`]: the simulation calls `step` with a [`Wake`] saying
//! why it runs (`Started` the first time, `Slept` after each nap), and the process answers
//! with the next [`Command`] (`Sleep(dt)` or `Done`).
//!
//! What the output shows:
//! - the clock jumps from event to event (nothing happens "between" naps);
//! - two wakes at the same instant run in the order they were scheduled: at t=6 `alice`
//!   wakes before `bob`, because her nap was scheduled at t=3 and his at t=4;
//! - `Yield` lets everything else scheduled for this instant run first, without moving the
//!   clock: `carol` is spawned first, yields once at t=0, and so starts napping after
//!   `alice` and `bob` have started.
//!
//! The run is checked at the end with a [`TraceLog`], which records every event: each
//! sleeper woke exactly once per nap and the clock stopped at the last wake.
//!
//! Run it with `cargo run --example sleep`.

use stepsim::{
    Boxed, Command, Context, Outcome, Process, Simulation, TraceKind, TraceLog, Wake, WakeKind,
};

/// The model: queues would carry `()` (there are none), interrupts carry `()`.
type M = Boxed<()>;

/// Naps `naps` times, `nap` time units each, then finishes.
struct Sleeper {
    nap: f64,
    naps: u32,
    /// Naps taken so far.
    taken: u32,
    /// Whether to `Yield` once before the first nap.
    polite: bool,
}

impl Process<M> for Sleeper {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
        // `cx.name()` is the name given to `spawn_named`.
        let name = cx.name().unwrap_or("?").to_owned();
        let t = cx.now();
        match wake {
            Wake::Started if self.polite => {
                self.polite = false;
                println!("t={t:4.1}  {name:5} starts, but lets the others go first (Yield)");
                return Command::Yield;
            }
            Wake::Started => println!("t={t:4.1}  {name:5} starts"),
            Wake::Completed(Outcome::Slept) if self.taken == 0 => {
                println!("t={t:4.1}  {name:5} is back from Yield")
            }
            Wake::Completed(Outcome::Slept) => {
                println!("t={t:4.1}  {name:5} wakes up (nap {})", self.taken)
            }
            other => unreachable!("a sleeper only sleeps, got {other:?}"),
        }
        if self.taken == self.naps {
            println!("t={t:4.1}  {name:5} is done");
            return Command::Done;
        }
        self.taken += 1;
        println!("t={t:4.1}  {name:5} naps for {}", self.nap);
        Command::Sleep(self.nap)
    }
}

fn main() -> Result<(), stepsim::Error> {
    let mut sim = Simulation::<M>::new(42);

    // Record every event, to check the run afterwards.
    let trace = TraceLog::new();
    sim.observe(trace.clone());

    // (name, nap length, number of naps, yields first?)
    let sleepers = [
        ("carol", 5.0, 2, true),
        ("alice", 3.0, 3, false),
        ("bob", 2.0, 4, false),
    ];
    for (name, nap, naps, polite) in sleepers {
        let sleeper = Sleeper {
            nap,
            naps,
            taken: 0,
            polite,
        };
        sim.spawn_named(name, Box::new(sleeper));
    }
    sim.run()?;

    // ----- summary and self-check -----
    println!();
    println!("summary:");
    let records = trace.records();
    let mut last_wake = 0.0_f64;
    for (name, nap, naps, polite) in sleepers {
        let slept = records
            .iter()
            .filter(|r| r.name == name && r.kind == TraceKind::Wake(WakeKind::Slept))
            .count();
        let naps_seen = slept - usize::from(polite); // a Yield also wakes with `Slept`
        let end = nap * f64::from(naps);
        println!("  {name:5}: {naps_seen} naps of {nap}, done at t={end}");
        assert_eq!(naps_seen, naps as usize, "{name} woke once per nap");
        last_wake = last_wake.max(end);
    }
    assert!(records.iter().all(|r| r.kind != TraceKind::Failed));
    assert_eq!(sim.now(), last_wake, "the clock stops at the last wake");
    assert_eq!(sim.live_processes(), 0, "every sleeper finished");
    println!("  clock stopped at t={}", sim.now());
    println!("ok: every sleeper woke once per nap");
    Ok(())
}
