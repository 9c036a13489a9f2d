//! # The coder: where interrupts and activities land
//!
//! A coder is in one of three states, and each state is exactly one wait:
//!
//! | state | its wait | normal wake | then |
//! |---|---|---|---|
//! | `Idle` | `FirstOf([Get(own), Get(shared)])` | `First(Got(job))` | [`take`](Coder::take) it |
//! | `Working(piece)` | `Sleep(piece.left)` | `Slept` | [`finish`](Coder::finish) it, then [`look_for_work`](Coder::look_for_work) |
//! | `Attending { activity, .. }` | `Attend(activity)`, uninterruptible | `ActivityOver` | [`activity_over`](Coder::activity_over) |
//!
//! Looking for work: resume the piece on top of the stack if any; else take the head of the
//! own queue (`cx.try_get`); else the head of the shared queue; else wait for whichever of
//! the two receives a job first. The own queue is the first branch, so it wins when both are
//! ready at once. A coder is *available* for someone else's pair work exactly when it is
//! `Idle`, and says so (`cx.set_available`) after every step; the engine does not count one
//! already taken by an activity (summoned, and not there yet) as available.
//!
//! A regular job marked for pair work (`p_pair`) is not coded alone: the coder that takes it
//! plans `Activity::new(duration).with(itself).with_available_from(other coders, 1)`, parks
//! the job — it stays in its hands, counted as in progress — and looks for other work. The
//! pair activity starts as soon as another coder is idle, and pulls the author in from
//! whatever it is doing. With three coders or more the author may still be in another
//! activity then (pairing on someone else's job): it joins late, the partner waits for it in
//! the activity, and when the activity ends the author pairs again, with the next free coder,
//! on the part it missed.
//!
//! ## Interrupts and summonses: one match over (state, cause)
//! An interrupt, or a summons into an activity (a stand-up, or pair work), withdraws the wait
//! and hands it back with how long the coder had waited:
//!
//! | state | cause | what the coder does |
//! |---|---|---|
//! | `Idle` | `Discard` | counts it and returns `request`: the same two gets, waiting again |
//! | `Idle` | `Urgent(job)` | works on the interrupt job; the withdrawn gets held no job |
//! | `Idle` | `Summoned(activity)` | attends; when it is over, issues the withdrawn gets again |
//! | `Working(piece)` | `Discard` | credits `waited` as busy time, discards the job, looks for work |
//! | `Working(piece)` | `Urgent(job)` | credits `waited`, pushes the piece with `left - waited` still to do, works on the interrupt job |
//! | `Working(piece)` | `Summoned(activity)` | credits `waited`, pushes the piece with `left - waited` (as for an interrupt), attends; when it is over, looks for work, which resumes the piece |
//! | `Attending` | any | cannot happen: the engine holds interrupts and summonses while a process attends, and delivers them, in order, at its first wait after the activity |
//!
//! An interrupt that arrives during interrupt work is the same `Urgent` row: interrupt jobs
//! stack up like any other piece, and each resumes when the ones above it are done. One that
//! arrives during an activity waits for its end, so a discard interrupt never hits pair work,
//! and resume-mode interrupt work starts after the stand-up. A stand-up that starts while a
//! coder pairs (or is in an earlier stand-up) is joined when that activity is over: late, as
//! its record shows.
//!
//! When an activity is over, pair work — the coder's own or as the partner — counts the time
//! the coder spent in it as busy time (both coders are busy coding the job), a stand-up counts
//! as meeting time (read from the activity records at the end), and if it was the coder's own
//! pair job, the job is coded: to testing, or complete. Then the coder carries on as it was.
//!
//! Decomp mode has no process interrupt at all: a regular job longer than
//! `t_decomposition` is split into fragments (the remainder first) that go into the own
//! queue, where an interrupt job outranks them; the coder keeps the job itself and passes it
//! on when its last fragment is done. Pair jobs are never split into fragments.
//!
//! ## Critical regions are visible in the types
//! Control leaves `step` only through the returned [`Command`]. So the methods that return
//! `Command<Job>` ([`look_for_work`](Coder::look_for_work), [`take`](Coder::take),
//! [`work_on`](Coder::work_on), [`pulled`](Coder::pulled), [`attend`](Coder::attend),
//! [`activity_over`](Coder::activity_over)) end at a wait, and the methods that return `()`
//! ([`finish`](Coder::finish), [`coded`](Coder::coded), [`split`](Coder::split),
//! [`pair_up`](Coder::pair_up), [`put_aside`](Coder::put_aside)) cannot wait and so cannot be
//! interrupted: each is a critical region by its signature.

use super::model::{Cx, Interruption, Job, JobKind, Office, OfficeRef, Purpose, Tally, Team};
use super::params::{Interrupts, Params};
use std::mem;
use std::rc::Rc;
use stepsim::{Activity, ActivityId, Command, First, Interrupt, Outcome, Process, Wake};

/// Relative rounding allowed between the time spent in pair work and the work it was for
/// (`end - start` need not equal the duration exactly in floating point).
const ROUNDING: f64 = 1e-9;

/// A coder; see the [module docs](self).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Coder {
    /// This coder's number: its own queue is `office.own[me]`, its process id
    /// `office.coders()[me]`, and its desk in the ledger is `me`.
    me: usize,
    /// Decomp mode: the fragment size.
    fragment: Option<f64>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(super) office: OfficeRef,
    state: State,
    /// Work put aside by interrupts and activities, the most recent on top.
    stack: Vec<Piece>,
    /// The regular job being worked on as fragments (decomp mode).
    split: Option<Split>,
    /// Pair jobs this coder took, each with the pair work still to do, until the pair
    /// activity that does it is over.
    parked: Vec<(ActivityId, Piece)>,
}

/// What the coder is doing; each state is one wait.
#[derive(Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum State {
    /// Waiting for a job in the own queue or the shared queue.
    Idle,
    /// Working on a piece of work for `piece.left` more ticks.
    Working(Piece),
    /// In a stand-up or in pair work since `since`; `then` says how to carry on after it.
    Attending {
        activity: ActivityId,
        since: f64,
        then: Then,
    },
}

/// How a coder carries on after an activity.
#[derive(Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Then {
    /// Issue this wait again: the gets withdrawn when the coder was summoned while idle
    /// (boxed: a `FirstOf` keeps its branches inline, and coders are stored inline).
    Wait(Box<Command<Job>>),
    /// Look for work: the piece the coder was working on is on top of the stack.
    LookForWork,
}

/// Why a coder's wait was withdrawn: an interrupter's [`Interruption`], or a summons.
#[derive(Debug, PartialEq)]
pub enum Cause {
    /// Discard mode: drop the job in hand.
    Discard,
    /// Resume mode: do this interrupt job now.
    Urgent(Job),
    /// An activity started and pulls the coder in.
    Summoned(ActivityId),
}

impl From<Interruption> for Cause {
    fn from(interruption: Interruption) -> Self {
        match interruption {
            Interruption::Discard => Cause::Discard,
            Interruption::Urgent(job) => Cause::Urgent(job),
        }
    }
}

/// A job and how much of it is still to do.
#[derive(Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Piece {
    pub job: Job,
    pub left: f64,
}

impl Piece {
    fn whole(job: Job) -> Self {
        let left = job.duration;
        Piece { job, left }
    }
}

/// A regular job whose fragments are in the own queue or in progress.
#[derive(Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Split {
    job: Job,
    fragments_left: u32,
}

impl Process<Team> for Coder {
    fn step(&mut self, cx: &mut Cx<'_>, wake: Wake<Job, Interruption>) -> Command<Job> {
        let command = match wake {
            Wake::Started => self.look_for_work(cx),
            // The losing get was withdrawn by the engine: it took no job.
            Wake::First(First {
                outcome: Outcome::Got(job),
                ..
            }) => self.take(cx, job),
            Wake::Completed(Outcome::Slept) => match mem::replace(&mut self.state, State::Idle) {
                State::Working(piece) => {
                    self.finish(cx, piece);
                    self.look_for_work(cx)
                }
                other => unreachable!("only a working coder sleeps, not {other:?}"),
            },
            Wake::Interrupted(Interrupt {
                cause,
                request,
                waited,
                taken,
                ..
            }) => {
                // Only a withdrawn `AllOf` has taken anything; a coder never waits on one.
                debug_assert!(taken.is_empty());
                let cause = match cause {
                    stepsim::Reason::Interrupt(interruption) => {
                        if let Interruption::Urgent(job) = &interruption {
                            self.office.ledger.borrow_mut().delivered.add(job.kind);
                        }
                        interruption.into()
                    }
                    stepsim::Reason::Summoned(activity) => Cause::Summoned(activity),
                    stepsim::Reason::Preempted(_) => unreachable!("coders hold no resource"),
                };
                self.pulled(cx, cause, request, waited)
            }
            Wake::Completed(Outcome::ActivityOver(activity)) => self.activity_over(cx, activity),
            other => unreachable!("a coder never waits for {other:?}"),
        };
        // Available for someone's pair work exactly when idle. (A context made by
        // `Simulation::context`, a test stepping a coder by hand, is no process: skip it.)
        if !cx.is_outside() {
            cx.set_available(self.state == State::Idle);
        }
        // The end-of-run audit counts the jobs each actor holds, as reported here.
        self.office.report_hands(self.me, self.hands());
        command
    }
}

impl Coder {
    pub fn new(me: usize, params: &Params, office: Rc<Office>) -> Self {
        Coder {
            me,
            fragment: (params.interrupts == Interrupts::Decomp).then_some(params.t_decomposition),
            office: OfficeRef::from(office),
            state: State::Idle,
            stack: Vec::new(),
            split: None,
            parked: Vec::new(),
        }
    }

    /// What the coder is doing (tests/team.rs reads it).
    #[allow(dead_code)]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The pieces put aside by interrupts and activities, bottom first (tests/team.rs reads
    /// them).
    #[allow(dead_code)]
    pub fn stack(&self) -> &[Piece] {
        &self.stack
    }

    /// The pair jobs waiting for their pair activity to end (tests/team.rs reads them).
    #[allow(dead_code)]
    pub fn parked(&self) -> &[(ActivityId, Piece)] {
        &self.parked
    }

    /// Saved work first, then the own queue, then the shared queue, else wait for either.
    fn look_for_work(&mut self, cx: &mut Cx<'_>) -> Command<Job> {
        if let Some(piece) = self.stack.pop() {
            return self.work_on(piece);
        }
        let (own, shared) = (self.office.own[self.me], self.office.shared);
        match cx.try_get(own).or_else(|| cx.try_get(shared)) {
            Some(job) => self.take(cx, job),
            None => {
                self.state = State::Idle;
                Command::first_of([Command::Get(own), Command::Get(shared)])
            }
        }
    }

    /// Starts on a job just taken from a queue.
    fn take(&mut self, cx: &mut Cx<'_>, mut job: Job) -> Command<Job> {
        if job.kind == JobKind::Regular {
            job.author = Some(self.me);
            self.office.started(&job, cx.now());
            if job.pair {
                self.pair_up(cx, Piece::whole(job));
                return self.look_for_work(cx);
            }
            if let Some(size) = self.fragment.filter(|&size| job.duration > size) {
                self.split(cx, job, size);
                return self.look_for_work(cx);
            }
        }
        self.work_on(Piece::whole(job))
    }

    fn work_on(&mut self, piece: Piece) -> Command<Job> {
        let left = piece.left;
        self.state = State::Working(piece);
        Command::Sleep(left)
    }

    /// The wait was withdrawn by an interrupt or a summons and comes back as `request`,
    /// after `waited` ticks of it.
    fn pulled(
        &mut self,
        cx: &mut Cx<'_>,
        cause: Cause,
        request: Command<Job>,
        waited: f64,
    ) -> Command<Job> {
        match (mem::replace(&mut self.state, State::Idle), cause) {
            (State::Idle, Cause::Discard) => {
                self.office.ledger.borrow_mut().idle_interrupts += 1;
                // The withdrawn gets held no job; issuing them again waits as before.
                request
            }
            // Dropping `request` loses nothing: withdrawn gets hold no job.
            (State::Idle, Cause::Urgent(job)) => self.work_on(Piece::whole(job)),
            (State::Idle, Cause::Summoned(activity)) => {
                self.attend(cx, activity, Then::Wait(Box::new(request)))
            }
            (State::Working(piece), Cause::Discard) => {
                self.office.ledger.borrow_mut().coder_busy += waited;
                self.office.discard(piece.job, cx.now());
                self.look_for_work(cx)
            }
            (State::Working(piece), Cause::Urgent(job)) => {
                self.put_aside(piece, waited);
                self.work_on(Piece::whole(job))
            }
            (State::Working(piece), Cause::Summoned(activity)) => {
                self.put_aside(piece, waited);
                self.attend(cx, activity, Then::LookForWork)
            }
            (State::Attending { .. }, cause) => {
                unreachable!("the engine holds {cause:?} while a coder attends an activity")
            }
        }
    }

    /// Credits the `waited` ticks worked on `piece` and pushes the rest on the stack.
    fn put_aside(&mut self, mut piece: Piece, waited: f64) {
        self.office.ledger.borrow_mut().coder_busy += waited;
        piece.left = (piece.left - waited).max(0.0);
        self.stack.push(piece);
    }

    /// Takes part in an activity until it is over; `then` says how to carry on.
    fn attend(&mut self, cx: &mut Cx<'_>, activity: ActivityId, then: Then) -> Command<Job> {
        self.state = State::Attending {
            activity,
            since: cx.now(),
            then,
        };
        Command::Attend(activity)
    }

    /// An activity is over: pair work counts as busy time for both coders, and the coder's
    /// own pair job is coded. Then carry on as before the activity.
    fn activity_over(&mut self, cx: &mut Cx<'_>, activity: ActivityId) -> Command<Job> {
        let State::Attending {
            activity: attended,
            since,
            then,
        } = mem::replace(&mut self.state, State::Idle)
        else {
            unreachable!("only an attending coder is told that an activity is over")
        };
        debug_assert_eq!(attended, activity);
        match self.office.purpose(activity) {
            // Meeting time is read from the activity records at the end of the run.
            Some(Purpose::StandUp) => {}
            Some(Purpose::Pair { .. }) => {
                self.office.ledger.borrow_mut().coder_busy += cx.now() - since;
            }
            None => cx.fail(format!("{activity} was not planned through the office")),
        }
        if let Some(at) = self.parked.iter().position(|(a, _)| *a == activity) {
            let (_, mut piece) = self.parked.remove(at);
            piece.left -= cx.now() - since;
            if piece.left > ROUNDING * piece.job.duration {
                // It came late (it was in another activity): pair again on what is left.
                self.pair_up(cx, piece);
            } else {
                self.coded(cx, piece.job);
            }
        }
        match then {
            Then::Wait(request) => *request,
            Then::LookForWork => self.look_for_work(cx),
        }
    }

    /// Plans pair work on `piece` with the first other coder to be idle (starting with the
    /// next coder, so that partners take turns), and parks it until the pairing is over.
    fn pair_up(&mut self, cx: &mut Cx<'_>, piece: Piece) {
        let coders = self.office.coders();
        let others = coders[self.me + 1..].iter().chain(&coders[..self.me]);
        let pairing = Activity::new(piece.left)
            .with(coders[self.me])
            .with_available_from(others.copied(), 1);
        let purpose = Purpose::Pair {
            job: piece.job.id,
            author: self.me,
        };
        // On `None` the engine's error is recorded and ends the run.
        if let Some(activity) = self.office.plan(cx, purpose, pairing) {
            self.parked.push((activity, piece));
        }
    }

    /// A piece of work is done: credit its time and pass the job on.
    fn finish(&mut self, cx: &mut Cx<'_>, piece: Piece) {
        self.office.ledger.borrow_mut().coder_busy += piece.left;
        let job = piece.job;
        match job.kind {
            JobKind::Regular => self.coded(cx, job),
            JobKind::Fragment => {
                self.office.finished(job);
                let split = self
                    .split
                    .as_mut()
                    .expect("a fragment belongs to a split job");
                split.fragments_left -= 1;
                if split.fragments_left == 0 {
                    let parent = self.split.take().expect("just seen").job;
                    self.coded(cx, parent);
                }
            }
            JobKind::Integration | JobKind::Interrupt => self.office.finished(job),
        }
    }

    /// A regular job is coded: to testing if there are testers, else it is complete.
    fn coded(&self, cx: &mut Cx<'_>, job: Job) {
        match self.office.test {
            Some(test) => self.office.put(cx, test, job),
            None => self.office.complete(cx, job),
        }
    }

    /// Decomp mode: queues fragments of `size` (the remainder first) in the own queue and
    /// keeps the job until its last fragment is done.
    fn split(&mut self, cx: &mut Cx<'_>, job: Job, size: f64) {
        if self.split.is_some() {
            // Fragments outrank every other job of the own queue, and the shared queue is
            // tried only when the own queue is empty: a coder splits one job at a time.
            cx.fail("a coder split a second job before finishing the first");
            return;
        }
        let n = (job.duration / size).ceil() as u32;
        let remainder = (job.duration - f64::from(n - 1) * size).max(0.0);
        for k in 0..n {
            let share = if k == 0 { remainder } else { size };
            let fragment = self.office.new_job(JobKind::Fragment, share, job.t_create);
            self.office.put(cx, self.office.own[self.me], fragment);
        }
        self.split = Some(Split {
            job,
            fragments_left: n,
        });
    }

    /// The jobs in this coder's hands: the piece in progress, the stack, a split job, the
    /// parked pair jobs.
    fn hands(&self) -> Tally {
        let mut hands = Tally::default();
        if let State::Working(piece) = &self.state {
            hands.add(piece.job.kind);
        }
        for piece in &self.stack {
            hands.add(piece.job.kind);
        }
        if let Some(split) = &self.split {
            hands.add(split.job.kind);
        }
        for (_, piece) in &self.parked {
            hands.add(piece.job.kind);
        }
        hands
    }
}
