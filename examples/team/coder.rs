//! # The coder: where interrupts land
//!
//! A coder is in one of two states, and each state is exactly one interruptible wait:
//!
//! | state | its wait (the interrupt point) | normal wake | then |
//! |---|---|---|---|
//! | `Idle` | `FirstOf([Get(own), Get(shared)])` | `First(Got(job))` | [`take`](Coder::take) it |
//! | `Working(piece)` | `Sleep(piece.left)` | `Slept` | [`finish`](Coder::finish) it, then [`look_for_work`](Coder::look_for_work) |
//!
//! Looking for work: resume the piece on top of the stack if any; else take the head of the
//! own queue (`cx.try_get`); else the head of the shared queue; else wait for whichever of
//! the two receives a job first. The own queue is the first branch, so it wins when both are
//! ready at once.
//!
//! An interrupt withdraws the wait and hands it back in `Interrupt { cause, request, waited }`:
//!
//! | state | cause | what the coder does |
//! |---|---|---|
//! | `Idle` | `Discard` | counts it and returns `request`: the same two gets, waiting again |
//! | `Idle` | `Urgent(job)` | works on the interrupt job; the withdrawn gets held no job |
//! | `Working(piece)` | `Discard` | credits `waited` as busy time, discards the job, looks for work |
//! | `Working(piece)` | `Urgent(job)` | credits `waited`, pushes the piece with `left - waited` still to do, works on the interrupt job |
//!
//! An interrupt that arrives during interrupt work is the same last row: interrupt jobs stack
//! up like any other piece, and each resumes when the ones above it are done.
//!
//! Decomp mode has no process interrupt at all: a regular job longer than
//! `t_decomposition` is split into fragments (the remainder first) that go into the own
//! queue, where an interrupt job outranks them; the coder keeps the job itself and passes it
//! on when its last fragment is done.
//!
//! ## Critical regions are visible in the types
//! Control leaves `step` only through the returned [`Command`]. So the methods that return
//! `Command<Job>` ([`look_for_work`](Coder::look_for_work), [`take`](Coder::take),
//! [`work_on`](Coder::work_on), [`interrupted`](Coder::interrupted)) end at an interrupt
//! point, and the methods that return `()` ([`finish`](Coder::finish),
//! [`coded`](Coder::coded), [`split`](Coder::split)) cannot wait and so cannot be
//! interrupted: each is a critical region by its signature.

use super::model::{Cx, Interruption, Job, JobKind, Office, Tally, Team};
use super::params::{Interrupts, Params};
use std::mem;
use std::rc::Rc;
use stepsim::{Command, First, Interrupt, Outcome, Process, Wait, Wake};

/// A coder; see the [module docs](self).
pub struct Coder {
    /// This coder's number: its own queue is `office.own[me]` and its desk in the ledger
    /// is `me`.
    me: usize,
    /// Decomp mode: the fragment size.
    fragment: Option<f64>,
    office: Rc<Office>,
    state: State,
    /// Work put aside by interrupts (resume mode), the most recent on top.
    stack: Vec<Piece>,
    /// The regular job being worked on as fragments (decomp mode).
    split: Option<Split>,
}

/// What the coder is doing; each state is one interruptible wait.
#[derive(Debug, PartialEq)]
pub enum State {
    /// Waiting for a job in the own queue or the shared queue.
    Idle,
    /// Working on a piece of work for `piece.left` more ticks.
    Working(Piece),
}

/// A job and how much of it is still to do.
#[derive(Debug, PartialEq)]
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
            Wake::Slept => match mem::replace(&mut self.state, State::Idle) {
                State::Working(piece) => {
                    self.finish(cx, piece);
                    self.look_for_work(cx)
                }
                State::Idle => unreachable!("an idle coder does not sleep"),
            },
            Wake::Interrupted(interrupt) => self.interrupted(cx, interrupt),
            other => unreachable!("a coder never waits for {other:?}"),
        };
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
            office,
            state: State::Idle,
            stack: Vec::new(),
            split: None,
        }
    }

    /// What the coder is doing (tests/team.rs reads it).
    #[allow(dead_code)]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The pieces put aside by interrupts, bottom first (tests/team.rs reads them).
    #[allow(dead_code)]
    pub fn stack(&self) -> &[Piece] {
        &self.stack
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
                Command::first_of([Wait::Get(own), Wait::Get(shared)])
            }
        }
    }

    /// Starts on a job just taken from a queue.
    fn take(&mut self, cx: &mut Cx<'_>, mut job: Job) -> Command<Job> {
        if job.kind == JobKind::Regular {
            job.author = Some(self.me);
            self.office.started(&job, cx.now());
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

    /// The wait was withdrawn by an interrupt and comes back as `request`.
    fn interrupted(
        &mut self,
        cx: &mut Cx<'_>,
        interrupt: Interrupt<Job, Interruption>,
    ) -> Command<Job> {
        let Interrupt {
            cause,
            request,
            waited,
            taken,
        } = interrupt;
        // Only a withdrawn `AllOf` has taken anything; a coder never waits on one.
        debug_assert!(taken.is_empty());
        match (mem::replace(&mut self.state, State::Idle), cause) {
            (State::Idle, Interruption::Discard) => {
                self.office.ledger.borrow_mut().idle_interrupts += 1;
                // The withdrawn gets held no job; issuing them again waits as before.
                request
            }
            // Dropping `request` loses nothing: withdrawn gets hold no job.
            (State::Idle, Interruption::Urgent(job)) => self.work_on(Piece::whole(job)),
            (State::Working(piece), Interruption::Discard) => {
                self.office.ledger.borrow_mut().coder_busy += waited;
                self.office.discard(piece.job, cx.now());
                self.look_for_work(cx)
            }
            (State::Working(mut piece), Interruption::Urgent(job)) => {
                self.office.ledger.borrow_mut().coder_busy += waited;
                piece.left = (piece.left - waited).max(0.0);
                self.stack.push(piece);
                self.work_on(Piece::whole(job))
            }
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

    /// The jobs in this coder's hands: the piece in progress, the stack, a split job.
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
        hands
    }
}
