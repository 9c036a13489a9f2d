//! Activities: meetings and pair work that pull busy processes in.
//!
//! An [`Activity`] has a duration and participants. Participants do not idle while it is
//! pending: they keep working. When it starts, each participant is *pulled in* like an
//! interrupt: its current wait is withdrawn (nothing lost; how long it had waited is
//! reported, so partial work can be saved) and it is stepped with
//! [`Wake::Interrupted`](crate::Wake::Interrupted) with [`Reason::Summoned`](crate::Reason::Summoned), to which it answers
//! [`Command::Attend`](crate::Command::Attend). It is then held — interrupts to it queue up as
//! for a masked wait — until the activity ends, when every participant wakes with
//! [`Wake::Completed(Outcome::ActivityOver)`](crate::Wake::Completed(Outcome::ActivityOver)) and resumes its own state machine.
//!
//! A participant inside a masked (critical) wait joins as soon as that wait ends, and the
//! activity records how late it was. A process asked into two activities at once joins them
//! in order. A participant that finishes before it could join is skipped (recorded as never
//! joined), one that answers its summons with `Done` leaves at once (time spent 0), and
//! planning an activity with a participant that has already finished is an error. Answering
//! a summons with any other command is an error.
//!
//! # When an activity starts
//! - [`Activity::at`]: at a scheduled time, with whoever is required (late joiners join late).
//! - [`Activity::with_available`] / [`Activity::with_available_from`]: as soon as those
//!   participants are *available* — a process declares that it is between tasks with
//!   [`Context::set_available`](crate::Context::set_available) — while participants added with
//!   [`Activity::with`] are pulled in whatever they are doing.
//! - [`Activity::not_before`] and [`Activity::deadline`] bound the start: never before the
//!   first, and at the second at the latest, pulling in even participants that are not
//!   available. Without a deadline an activity waiting for availability may never start.
//!
//! Participants pulled in leave the available state; a process declares itself available
//! again when it next is. A process already taken by an activity (attending, or summoned and
//! not yet there) does not count as available for another.
//!
//! ```
//! use stepsim::{Activity, Boxed, Reason, Command, Context, Interrupt, Outcome, Process, Simulation, Wake};
//!
//! /// Works in 10-unit pieces forever, saving progress when pulled into a meeting.
//! struct Worker { left: f64, done: u32 }
//! impl Process<Boxed<()>> for Worker {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Interrupted(s @ Interrupt { cause: Reason::Summoned(_), .. }) => {
//!                 self.left -= s.waited; // the partial work is kept
//!                 return Command::Attend(s.activity().expect("a summons"));
//!             }
//!             Wake::Completed(Outcome::Slept) => { self.done += 1; self.left = 10.0; }
//!             _ => {}
//!         }
//!         if cx.now() >= 40.0 { return Command::Done; }
//!         Command::Sleep(self.left)
//!     }
//! }
//!
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! let a = sim.spawn(Box::new(Worker { left: 10.0, done: 0 }));
//! let b = sim.spawn(Box::new(Worker { left: 10.0, done: 0 }));
//! let standup = sim.plan(Activity::new(2.5).at(4.0).with_all([a, b]))?;
//! sim.run()?;
//! let record = sim.activity_view(standup)?;
//! assert_eq!((record.started_at(), record.ended_at()), (Some(4.0), Some(6.5)));
//! assert_eq!(record.lateness(a), Some(0.0));
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::handle::Pid;

/// How a participant takes part.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Join {
    /// Pulled in when the activity starts, whatever it is doing.
    Pulled,
    /// The start waits until it is available.
    WhenAvailable,
}

/// A plan for an activity, built step by step and handed to
/// [`Simulation::plan`](crate::Simulation::plan) or [`Context::plan`](crate::Context::plan).
///
/// ```
/// use stepsim::{Activity, Boxed, Simulation};
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// # use stepsim::{Command, Context, Process, Wake};
/// # struct Idle;
/// # impl Process<Boxed<()>> for Idle {
/// #     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, w: Wake<()>) -> Command<()> {
/// #         match w { Wake::Interrupted(i) => Command::Attend(i.activity().unwrap()),
/// #                   _ => Command::Sleep(10.0) }
/// #     }
/// # }
/// let (ann, bob) = (sim.spawn(Box::new(Idle)), sim.spawn(Box::new(Idle)));
/// // A half-hour review at t=3 with both.
/// let review = sim.plan(Activity::new(0.5).at(3.0).with(ann).with(bob).named("review"))?;
/// sim.run_until(4.0)?;
/// let record = sim.activity_view(review)?;
/// assert_eq!((record.started_at(), record.ended_at()), (Some(3.0), Some(3.5)));
/// assert_eq!(record.label(), Some("review"));
/// # Ok::<(), stepsim::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Activity {
    pub(crate) duration: f64,
    pub(crate) not_before: Option<f64>,
    pub(crate) deadline: Option<f64>,
    pub(crate) members: Vec<(Pid, Join)>,
    pub(crate) pool: Vec<Pid>,
    pub(crate) from_pool: usize,
    pub(crate) label: Option<String>,
}

impl Activity {
    /// An activity lasting `duration` (finite, ≥ 0) from its start, with no participants yet.
    pub fn new(duration: f64) -> Self {
        Activity {
            duration,
            not_before: None,
            deadline: None,
            members: Vec::new(),
            pool: Vec::new(),
            from_pool: 0,
            label: None,
        }
    }

    /// A name for traces and statistics.
    pub fn named(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// A participant pulled in when the activity starts, whatever it is doing.
    pub fn with(mut self, pid: Pid) -> Self {
        self.members.push((pid, Join::Pulled));
        self
    }

    /// Several participants pulled in when the activity starts.
    pub fn with_all(mut self, pids: impl IntoIterator<Item = Pid>) -> Self {
        self.members
            .extend(pids.into_iter().map(|p| (p, Join::Pulled)));
        self
    }

    /// A participant the start waits for: the activity starts only once it is available
    /// (or at the deadline).
    pub fn with_available(mut self, pid: Pid) -> Self {
        self.members.push((pid, Join::WhenAvailable));
        self
    }

    /// `k` participants from `pool`: the first `k` available, in pool order (at the deadline,
    /// the available ones first, then the others in pool order). A process named twice in
    /// the pool counts once; calling this again replaces the pool.
    pub fn with_available_from(mut self, pool: impl IntoIterator<Item = Pid>, k: usize) -> Self {
        self.pool.clear();
        for pid in pool {
            if !self.pool.contains(&pid) {
                self.pool.push(pid);
            }
        }
        self.from_pool = k;
        self
    }

    /// Not before time `t`.
    pub fn not_before(mut self, t: f64) -> Self {
        self.not_before = Some(t);
        self
    }

    /// At time `t` at the latest, with whoever is required, available or not.
    pub fn deadline(mut self, t: f64) -> Self {
        self.deadline = Some(t);
        self
    }

    /// Exactly at time `t` (a scheduled meeting): `not_before(t).deadline(t)`.
    pub fn at(self, t: f64) -> Self {
        self.not_before(t).deadline(t)
    }
}

/// What happened to one participant of an activity.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Participation {
    /// The participant.
    pub pid: Pid,
    /// When it joined (was stepped with `Summoned`); `None` if it never did (the activity
    /// ended first, or it finished).
    pub joined_at: Option<f64>,
    /// When it left (the end of the activity), if it joined.
    pub left_at: Option<f64>,
}

#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct ActivityState {
    pub plan: Activity,
    pub planned_at: f64,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    /// Chosen when the activity starts, in the order they are pulled in.
    pub participants: Vec<Participation>,
}

/// The record of an activity: planned and actual start, and each participant's lateness and
/// time spent.
pub struct ActivityView<'a> {
    pub(crate) state: &'a ActivityState,
}

impl<'a> ActivityView<'a> {
    /// Its name, if it was given one.
    pub fn label(&self) -> Option<&'a str> {
        self.state.plan.label.as_deref()
    }

    /// When it was planned to start: its `not_before` time, or the time it was planned.
    pub fn planned_start(&self) -> f64 {
        self.state.plan.not_before.unwrap_or(self.state.planned_at)
    }

    /// When it started, if it has.
    pub fn started_at(&self) -> Option<f64> {
        self.state.started_at
    }

    /// When it ended, if it has.
    pub fn ended_at(&self) -> Option<f64> {
        self.state.ended_at
    }

    /// Every participant chosen when it started, in the order they were pulled in.
    pub fn participants(&self) -> &'a [Participation] {
        &self.state.participants
    }

    fn find(&self, pid: Pid) -> Option<&'a Participation> {
        self.state.participants.iter().find(|p| p.pid == pid)
    }

    /// How long after the start `pid` joined (0 for a participant that came at once).
    pub fn lateness(&self, pid: Pid) -> Option<f64> {
        Some(self.find(pid)?.joined_at? - self.state.started_at?)
    }

    /// How long `pid` spent in the activity, once it has ended.
    pub fn time_spent(&self, pid: Pid) -> Option<f64> {
        let p = self.find(pid)?;
        Some(p.left_at? - p.joined_at?)
    }
}
