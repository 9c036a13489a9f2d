//! # The tester: where jobs come back
//!
//! | state | its wait | wake | then |
//! |---|---|---|---|
//! | `Idle` | `Get(test)` | `Got(job)` | `Testing(job)` |
//! | `Testing(job)` | `Sleep(job.duration)` | `Slept` | verdict, then `Idle` |
//!
//! The verdict: with probability `p_rework` the job goes back to be coded again for its full
//! duration (rework=same: into its author's own queue; rework=any: to the back of the shared
//! queue); otherwise it is complete. Testers are never interrupted. Each tester draws its
//! verdicts from its own stream (`tester-J`).

use super::model::{Cx, Interruption, Job, Office, OfficeRef, Tally, Team};
use super::params::{Params, Rework};
use std::mem;
use std::rc::Rc;
use stepsim::rand::RngExt;
use stepsim::{Command, Outcome, Process, Simulation, Stream, Wake};

/// A tester; see the [module docs](self).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tester {
    /// Where this tester reports the job in its hands.
    desk: usize,
    p_rework: f64,
    rework: Rework,
    verdicts: Stream,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(super) office: OfficeRef,
    state: State,
}

#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum State {
    Idle,
    Testing(Job),
}

impl Tester {
    pub fn new(
        index: usize,
        desk: usize,
        sim: &Simulation<Team>,
        params: &Params,
        office: Rc<Office>,
    ) -> Self {
        Tester {
            desk,
            p_rework: params.p_rework,
            rework: params.rework,
            verdicts: sim.new_stream_named(&format!("tester-{index}")),
            office: OfficeRef::from(office),
            state: State::Idle,
        }
    }

    fn verdict(&mut self, cx: &mut Cx<'_>, job: Job) {
        if self.verdicts.random::<f64>() >= self.p_rework {
            self.office.complete(cx, job);
            return;
        }
        let mut ledger = self.office.ledger.borrow_mut();
        ledger.reworks += 1;
        ledger.jobs[job.id as usize].reworks += 1;
        drop(ledger);
        let queue = match (self.rework, job.author) {
            (Rework::Same, Some(author)) => self.office.own[author],
            (Rework::Same, None) => {
                cx.fail(format!("job {} reached testing without an author", job.id));
                return;
            }
            (Rework::Any, _) => self.office.shared,
        };
        self.office.put(cx, queue, job);
    }
}

impl Process<Team> for Tester {
    fn step(&mut self, cx: &mut Cx<'_>, wake: Wake<Job, Interruption>) -> Command<Job> {
        let test = self
            .office
            .test
            .expect("testers only exist with a test queue");
        let command = match (mem::replace(&mut self.state, State::Idle), wake) {
            (State::Idle, Wake::Started) => Command::Get(test),
            (State::Idle, Wake::Completed(Outcome::Got(job))) => {
                let duration = job.duration;
                self.state = State::Testing(job);
                Command::Sleep(duration)
            }
            (State::Testing(job), Wake::Completed(Outcome::Slept)) => {
                self.office.ledger.borrow_mut().tester_busy += job.duration;
                self.verdict(cx, job);
                Command::Get(test)
            }
            (_, other) => unreachable!("a tester never waits for {other:?}"),
        };
        let mut hands = Tally::default();
        if let State::Testing(job) = &self.state {
            hands.add(job.kind);
        }
        self.office.report_hands(self.desk, hands);
        command
    }
}
