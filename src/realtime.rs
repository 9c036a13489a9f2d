//! Real-time pacing: running a simulation against a wall clock, for models embedded in other
//! programs (a server, a game loop, a hardware-in-the-loop rig, a live dashboard).
//!
//! A [`Realtime`] pacer maps simulated time to wall-clock time — `factor` of wall time per
//! unit of simulated time, from a reference point taken at the first paced event (or at
//! [`Realtime::sync`]) — and, before each event, waits until that event's wall-clock time has
//! come. It is SimPy's `RealtimeEnvironment(factor, strict)`: with [`Realtime::strict`], an
//! event whose wall-clock time passed more than one `factor` ago (the model cannot keep up)
//! is an [`Error::TooSlow`] instead of a silently slower run.
//!
//! The pacer does not own the simulation: it is handed `&mut Simulation` at each call, so the
//! host program keeps full access between steps — it can put items, interrupt processes,
//! spawn new ones, read views and statistics, and then let the simulation catch up. Inputs
//! made between steps happen at the simulation's current time ([`Simulation::now`]), like any
//! outside call.
//!
//! ```
//! use std::time::Duration;
//! use stepsim::realtime::{ManualClock, Realtime};
//! use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
//!
//! /// Ticks once per unit of simulated time.
//! struct Ticker;
//! impl Process<Boxed<()>> for Ticker {
//!     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
//!         Command::Sleep(1.0)
//!     }
//! }
//!
//! let mut sim = Simulation::<Boxed<()>>::new(1);
//! sim.spawn(Box::new(Ticker));
//! // 100 ms of wall time per unit of simulated time. A `ManualClock` stands in for the wall
//! // clock here (sleeping on it moves it on at once); `Realtime::new` uses the real one.
//! let clock = ManualClock::new();
//! let mut pacer = Realtime::with_clock(Duration::from_millis(100), clock.clone()).strict(true);
//! pacer.run_until(&mut sim, 5.0)?;
//! assert_eq!(sim.now(), 5.0);
//! assert_eq!(clock.now(), Duration::from_millis(500)); // the pacer waited 5 × 100 ms
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! # Embedding: a host loop
//!
//! A host that gets inputs from outside (network requests, a player, a sensor) runs the model
//! in slices: between two slices it feeds what arrived in through the simulation's outside
//! calls, and each slice runs what is due by the wall clock —
//! [`catch_up`](Realtime::catch_up) for "whatever is due now" (a frame of a game loop), or
//! [`run_until`](Realtime::run_until) to a chosen time:
//!
//! ```
//! use std::time::Duration;
//! use stepsim::realtime::{ManualClock, Realtime};
//! use stepsim::{Boxed, Capacity, Command, Context, Outcome, Process, QueueId, Simulation, Wake};
//!
//! /// Serves the orders that the host puts into `orders`, one time unit each.
//! struct Kitchen { orders: QueueId, served: u32 }
//! impl Process<Boxed<u32>> for Kitchen {
//!     fn step(&mut self, _: &mut Context<'_, Boxed<u32>>, wake: Wake<u32>) -> Command<u32> {
//!         match wake {
//!             Wake::Completed(Outcome::Got(_)) => Command::Sleep(1.0),
//!             Wake::Completed(Outcome::Slept) => { self.served += 1; Command::Get(self.orders) }
//!             _ => Command::Get(self.orders),
//!         }
//!     }
//! }
//!
//! let mut sim = Simulation::<Boxed<u32>>::new(1);
//! let orders = sim.queue(Capacity::Unbounded)?;
//! let kitchen = sim.spawn(Box::new(Kitchen { orders, served: 0 }));
//! let clock = ManualClock::new();
//! let mut pacer = Realtime::with_clock(Duration::from_millis(10), clock.clone());
//! pacer.sync(&sim);
//! for frame in 0..10 {
//!     // The host's own work for the frame: here, an order arrives on every third frame.
//!     if frame % 3 == 0 {
//!         sim.context().try_put(orders, frame).unwrap();
//!     }
//!     clock.advance(Duration::from_millis(16)); // one frame of the host's loop
//!     pacer.catch_up(&mut sim)?; // everything due by now, and the clock set to now
//! }
//! assert_eq!(sim.now(), 16.0); // 160 ms of wall time at 10 ms per unit
//! assert_eq!(sim.process_as::<Kitchen>(kitchen).unwrap().served, 4);
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! `examples/realtime.rs` is a complete host loop on the real clock.

use crate::engine::{Ended, Simulation};
use crate::error::{Error, Origin};
use crate::process::Model;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a [`Realtime`] pacer reads the time from and waits on.
///
/// [`WallClock`] is the real one; [`ManualClock`] is one that tests (and tools that replay a
/// run faster than real time) move on by hand.
pub trait Clock {
    /// The time since a fixed origin of the clock's choosing; it never goes back.
    fn now(&mut self) -> Duration;
    /// Returns once [`now`](Clock::now) is at least `deadline` (at once if it already is).
    fn sleep_until(&mut self, deadline: Duration);
}

/// The wall clock: [`Instant`] and [`std::thread::sleep`].
#[derive(Clone, Debug)]
pub struct WallClock {
    origin: Instant,
}

impl WallClock {
    /// A wall clock whose origin is now.
    pub fn new() -> Self {
        WallClock {
            origin: Instant::now(),
        }
    }
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for WallClock {
    fn now(&mut self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep_until(&mut self, deadline: Duration) {
        // A loop, as SimPy does: a sleep may end early (a signal, a coarse timer).
        loop {
            let now = self.origin.elapsed();
            if now >= deadline {
                return;
            }
            std::thread::sleep(deadline - now);
        }
    }
}

/// A clock that moves only when told: [`advance`](ManualClock::advance) moves it on (the
/// time a host or a model "spends"), and a [`sleep_until`](Clock::sleep_until) moves it
/// straight to the deadline. Clones share one time, so a test can keep a clone, hand the
/// other to a [`Realtime`], and read or move the time from outside — or from inside a
/// process, to play a model that computes too slowly.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The clock's time.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// Moves the clock on by `by` (saturating at `u64::MAX` nanoseconds, about 584 years).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&mut self) -> Duration {
        ManualClock::now(self)
    }

    fn sleep_until(&mut self, deadline: Duration) {
        let deadline = u64::try_from(deadline.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_max(deadline, Ordering::Relaxed);
    }
}

/// Paces a [`Simulation`] against a [`Clock`]: see the [module documentation](self).
///
/// Simulated time `t` is due on the clock at `start + (t - t_start) × factor`, where
/// `(start, t_start)` is the reference point: the clock's time and the simulation's time at
/// the first paced call (or the last [`sync`](Realtime::sync)).
#[derive(Clone, Debug)]
pub struct Realtime<C: Clock = WallClock> {
    factor: Duration,
    strict: bool,
    clock: C,
    /// The reference point: the clock's time and the simulation's time.
    origin: Option<(Duration, f64)>,
}

impl Realtime<WallClock> {
    /// A pacer on the wall clock: `factor` of wall time per unit of simulated time
    /// (`Duration::from_secs(1)`: one second per unit; `Duration::from_millis(1)`: a
    /// thousand units a second). Not strict.
    pub fn new(factor: Duration) -> Self {
        Self::with_clock(factor, WallClock::new())
    }
}

impl<C: Clock> Realtime<C> {
    /// A pacer on `clock` (for tests, a [`ManualClock`]).
    pub fn with_clock(factor: Duration, clock: C) -> Self {
        Realtime {
            factor,
            strict: false,
            clock,
            origin: None,
        }
    }

    /// With `strict` on, an event whose wall-clock time passed more than one `factor` ago
    /// (the computation of the events before it took too long) stops the run with
    /// [`Error::TooSlow`], as SimPy's `strict=True` does; off (the default), the pacer just
    /// runs late events at once and stays behind. With a zero factor every event is due at
    /// once and nothing is ever too slow.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Wall time per unit of simulated time.
    pub fn factor(&self) -> Duration {
        self.factor
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The clock, to change.
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// Takes the reference point again: the simulation's current time is due now. After a
    /// pause (the host stopped pacing for a while), this keeps the pacer from rushing through
    /// the backlog, or, if strict, from failing on it.
    pub fn sync<M: Model>(&mut self, sim: &Simulation<M>) {
        self.origin = Some((self.clock.now(), sim.now()));
    }

    /// The simulated time that is due on the clock now (the simulation's own time if the
    /// pacer has no reference point yet).
    pub fn due<M: Model>(&mut self, sim: &Simulation<M>) -> f64 {
        let (start, t_start) = self.origin(sim);
        if self.factor.is_zero() {
            return f64::MAX;
        }
        // In nanoseconds, so that whole ratios come out exact (35 ms / 10 ms = 3.5).
        let elapsed = self.clock.now().saturating_sub(start).as_nanos() as f64;
        (t_start + elapsed / self.factor.as_nanos() as f64).max(sim.now())
    }

    /// Waits until the next event is due, then processes it (like [`Simulation::step`]);
    /// `false` if nothing was scheduled.
    pub fn step<M: Model>(&mut self, sim: &mut Simulation<M>) -> Result<bool, Error> {
        match sim.peek() {
            Some(t) => {
                self.wait_for(sim, t)?;
                sim.step()
            }
            None => sim.step(),
        }
    }

    /// Like [`Simulation::run_until`], each event processed when it is due: runs the
    /// events before `until`, then waits until `until` is due and sets the clock to it.
    pub fn run_until<M: Model>(
        &mut self,
        sim: &mut Simulation<M>,
        until: f64,
    ) -> Result<(), Error> {
        // Bad input (`until` in the past, NaN) is the simulation's to report.
        if !(until >= sim.now() && until.is_finite()) {
            return sim.run_until(until);
        }
        while let Some(t) = sim.peek().filter(|&t| t < until) {
            self.wait_for(sim, t)?;
            sim.step()?;
        }
        self.wait_for(sim, until)?;
        sim.run_until(until)
    }

    /// Like [`Simulation::run`], each event processed when it is due.
    pub fn run<M: Model>(&mut self, sim: &mut Simulation<M>) -> Result<Ended, Error> {
        while let Some(t) = sim.peek() {
            self.wait_for(sim, t)?;
            sim.step()?;
        }
        sim.run()
    }

    /// Runs, without waiting, every event that is due on the clock now, and sets the
    /// simulation's clock to the time due now ([`due`](Realtime::due)): the step of a host's
    /// loop (a frame, a poll) between its own work. The events run late by design — by up to
    /// the time since the host last called — so [`strict`](Realtime::strict) does not apply
    /// here. With a zero factor it runs the whole simulation.
    pub fn catch_up<M: Model>(&mut self, sim: &mut Simulation<M>) -> Result<(), Error> {
        let due = self.due(sim);
        if due == f64::MAX {
            return sim.run().map(|_| ());
        }
        let strict = std::mem::replace(&mut self.strict, false);
        let ran = self.run_until(sim, due);
        self.strict = strict;
        ran
    }

    fn origin<M: Model>(&mut self, sim: &Simulation<M>) -> (Duration, f64) {
        match self.origin {
            Some(origin) => origin,
            None => {
                self.sync(sim);
                self.origin.expect("just set")
            }
        }
    }

    /// Waits until simulated time `t` (at or after the simulation's time) is due.
    fn wait_for<M: Model>(&mut self, sim: &Simulation<M>, t: f64) -> Result<(), Error> {
        let (start, t_start) = self.origin(sim);
        let offset = (t - t_start) * self.factor.as_secs_f64();
        let Ok(offset) = Duration::try_from_secs_f64(offset) else {
            return Err(Error::InvalidTime {
                origin: Origin {
                    at: sim.now(),
                    process: None,
                },
                time: t,
                what: "real-time pacing",
                why: "its wall-clock time is out of reach",
            });
        };
        let due = start.saturating_add(offset);
        let now = self.clock.now();
        if self.strict && !self.factor.is_zero() && now.saturating_sub(due) > self.factor {
            return Err(Error::TooSlow {
                origin: Origin {
                    at: t,
                    process: None,
                },
                behind: (now - due).as_secs_f64(),
                allowed: self.factor.as_secs_f64(),
            });
        }
        if now < due {
            self.clock.sleep_until(due);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Boxed, Command, Context, Process, Wake};

    /// Sleeps `gap` each step, and moves `clock` on by `work` each step (the model's
    /// computation, on the clock's time).
    struct Busy {
        gap: f64,
        work: Duration,
        clock: ManualClock,
        woken: Vec<(f64, Duration)>,
    }

    impl Process<Boxed<()>> for Busy {
        fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
            self.woken.push((cx.now(), self.clock.now()));
            self.clock.advance(self.work);
            Command::Sleep(self.gap)
        }
    }

    fn busy(
        sim: &mut Simulation<Boxed<()>>,
        gap: f64,
        work: Duration,
        clock: &ManualClock,
    ) -> crate::Pid {
        sim.spawn(Box::new(Busy {
            gap,
            work,
            clock: clock.clone(),
            woken: Vec::new(),
        }))
    }

    fn woken(sim: &Simulation<Boxed<()>>, p: crate::Pid) -> Vec<(f64, Duration)> {
        sim.process_as::<Busy>(p).unwrap().woken.clone()
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn each_event_runs_when_it_is_due() {
        let clock = ManualClock::new();
        let mut sim = Simulation::<Boxed<()>>::new(0);
        let p = busy(&mut sim, 2.5, Duration::ZERO, &clock);
        let mut pacer = Realtime::with_clock(10 * MS, clock.clone()).strict(true);
        pacer.run_until(&mut sim, 6.0).unwrap();
        assert_eq!(
            woken(&sim, p),
            vec![(0.0, Duration::ZERO), (2.5, 25 * MS), (5.0, 50 * MS)]
        );
        assert_eq!(clock.now(), 60 * MS, "until is paced too");
        assert_eq!(sim.now(), 6.0);
    }

    #[test]
    fn the_reference_point_is_the_first_paced_call_or_sync() {
        let clock = ManualClock::new();
        clock.advance(Duration::from_secs(7));
        let mut sim = Simulation::<Boxed<()>>::new(0);
        let p = busy(&mut sim, 1.0, Duration::ZERO, &clock);
        sim.run_until(3.0).unwrap(); // unpaced
        let mut pacer = Realtime::with_clock(MS, clock.clone());
        assert!(pacer.step(&mut sim).unwrap()); // due at once: the reference is (7 s, t=3)
        assert_eq!(woken(&sim, p).last(), Some(&(3.0, Duration::from_secs(7))));
        clock.advance(Duration::from_secs(1)); // a pause of the host
        pacer.sync(&sim);
        assert!(pacer.step(&mut sim).unwrap());
        assert_eq!(
            woken(&sim, p).last(),
            Some(&(4.0, Duration::from_secs(8) + MS)),
            "after sync, t=3 is due at 8 s"
        );
    }

    #[test]
    fn strict_fails_naming_the_event_time_and_the_lag() {
        let clock = ManualClock::new();
        let mut sim = Simulation::<Boxed<()>>::new(0);
        // Each step costs 25 ms of the clock, events are 10 ms apart: 15 ms more behind at
        // each event; strict allows one factor (10 ms) of lag.
        busy(&mut sim, 1.0, 25 * MS, &clock);
        let mut pacer = Realtime::with_clock(10 * MS, clock.clone()).strict(true);
        let err = pacer.run_until(&mut sim, 100.0).unwrap_err();
        // t=0 runs at 0 (ends at 25 ms); t=1 due at 10 ms, 15 ms late: too slow.
        match &err {
            Error::TooSlow {
                origin,
                behind,
                allowed,
            } => {
                assert_eq!(origin.at, 1.0);
                assert!((behind - 0.015).abs() < 1e-9, "{behind}");
                assert_eq!(*allowed, 0.01);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "at t=1: simulation too slow for real time: the event was due 0.015 s ago (at most 0.010 s allowed)"
        );
        assert_eq!(sim.now(), 0.0, "the late event was not run");
    }

    #[test]
    fn lenient_pacing_runs_late_events_at_once() {
        let clock = ManualClock::new();
        let mut sim = Simulation::<Boxed<()>>::new(0);
        let p = busy(&mut sim, 1.0, 25 * MS, &clock);
        let mut pacer = Realtime::with_clock(10 * MS, clock.clone());
        pacer.run_until(&mut sim, 3.0).unwrap();
        let at: Vec<_> = woken(&sim, p).into_iter().map(|(_, w)| w).collect();
        assert_eq!(at, vec![Duration::ZERO, 25 * MS, 50 * MS]);
    }

    #[test]
    fn strict_tolerates_a_lag_of_one_factor() {
        let clock = ManualClock::new();
        let mut sim = Simulation::<Boxed<()>>::new(0);
        // 20 ms of work per 10 ms of events: lag 10 ms at t=1 (allowed), 20 ms at t=2.
        busy(&mut sim, 1.0, 20 * MS, &clock);
        let mut pacer = Realtime::with_clock(10 * MS, clock.clone()).strict(true);
        let err = pacer.run_until(&mut sim, 10.0).unwrap_err();
        assert_eq!(err.origin().at, 2.0);
    }

    #[test]
    fn catch_up_runs_what_is_due_and_sets_the_clock() {
        let clock = ManualClock::new();
        let mut sim = Simulation::<Boxed<()>>::new(0);
        let p = busy(&mut sim, 1.0, Duration::ZERO, &clock);
        let mut pacer = Realtime::with_clock(10 * MS, clock.clone());
        pacer.sync(&sim);
        clock.advance(35 * MS);
        pacer.catch_up(&mut sim).unwrap();
        assert_eq!(sim.now(), 3.5);
        assert_eq!(woken(&sim, p).len(), 4, "t = 0, 1, 2, 3");
        assert_eq!(clock.now(), 35 * MS, "catching up never waits");
    }

    #[test]
    fn catching_up_is_never_too_slow() {
        let clock = ManualClock::new();
        let mut sim = Simulation::<Boxed<()>>::new(0);
        busy(&mut sim, 1.0, Duration::ZERO, &clock);
        let mut pacer = Realtime::with_clock(10 * MS, clock.clone()).strict(true);
        pacer.sync(&sim);
        clock.advance(Duration::from_secs(1)); // the host was busy for 100 units
        pacer.catch_up(&mut sim).unwrap();
        assert_eq!(sim.now(), 100.0);
        // Strict again for paced runs: the event at t=100, 50 ms late, fails.
        clock.advance(50 * MS);
        assert!(matches!(pacer.step(&mut sim), Err(Error::TooSlow { .. })));
    }

    #[test]
    fn run_paces_to_the_end_and_reports_how_it_ended() {
        struct Twice(u32);
        impl Process<Boxed<()>> for Twice {
            fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
                self.0 += 1;
                if self.0 > 2 {
                    Command::Done
                } else {
                    Command::Sleep(4.0)
                }
            }
        }
        let clock = ManualClock::new();
        let mut sim = Simulation::<Boxed<()>>::new(0);
        sim.spawn(Box::new(Twice(0)));
        let mut pacer = Realtime::with_clock(MS, clock.clone());
        assert_eq!(pacer.run(&mut sim).unwrap(), Ended::Finished);
        assert_eq!((sim.now(), clock.now()), (8.0, 8 * MS));
        assert!(!pacer.step(&mut sim).unwrap());
    }

    #[test]
    fn bad_input_is_the_simulations_error() {
        let mut sim = Simulation::<Boxed<()>>::new(0);
        sim.run_until(5.0).unwrap();
        let mut pacer = Realtime::with_clock(MS, ManualClock::new());
        assert!(matches!(
            pacer.run_until(&mut sim, 1.0),
            Err(Error::InvalidTime { time, .. }) if time == 1.0
        ));
        assert!(pacer.run_until(&mut sim, f64::NAN).is_err());
        // A factor so large that the event's wall time cannot be represented.
        let mut sim = Simulation::<Boxed<()>>::new(0);
        busy(&mut sim, 1e300, Duration::ZERO, &ManualClock::new());
        let mut pacer = Realtime::with_clock(Duration::from_secs(1000), ManualClock::new());
        pacer.step(&mut sim).unwrap();
        let err = pacer.step(&mut sim).unwrap_err();
        assert!(err.to_string().contains("real-time pacing"), "{err}");
    }

    #[test]
    fn the_wall_clock_sleeps_until_the_deadline() {
        let mut clock = WallClock::new();
        let deadline = clock.now() + 2 * MS;
        clock.sleep_until(deadline);
        assert!(clock.now() >= deadline);
    }

    #[test]
    fn manual_clocks_share_one_time() {
        let a = ManualClock::new();
        let mut b = a.clone();
        a.advance(5 * MS);
        assert_eq!(Clock::now(&mut b), 5 * MS);
        b.sleep_until(3 * MS); // in the past: no change
        assert_eq!(a.now(), 5 * MS);
        b.sleep_until(9 * MS);
        assert_eq!(a.now(), 9 * MS);
        a.advance(Duration::MAX);
        assert_eq!(a.now(), Duration::from_nanos(u64::MAX));
    }
}
