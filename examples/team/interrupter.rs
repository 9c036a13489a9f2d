//! # The interrupter: where interrupts come from
//!
//! One state, one wait: `Sleep(Exp(t_interrupt_interval))`, then pick a coder uniformly at
//! random and, by mode:
//! - discard: `cx.interrupt(coder, Interruption::Discard)`;
//! - resume: `cx.interrupt(coder, Interruption::Urgent(job))` with an interrupt job of
//!   duration LN(t_interrupt_mean, t_interrupt_std);
//! - decomp: no process interrupt: the interrupt job goes into the coder's own queue, where
//!   it outranks everything else.
//!
//! Gaps, targets and durations come from three streams of their own, so a sweep over
//! `n_coder` keeps the interrupt times, and one over the mode keeps times and targets.

use super::model::{Cx, ExpMean, Interruption, Job, JobKind, LogNormalOf, Office, OfficeRef, Team};
use super::params::{Interrupts, Params};
use std::rc::Rc;
use stepsim::rand::RngExt;
use stepsim::{Command, Outcome, Pid, Process, Simulation, Stream, Wake};

/// The interrupter; see the [module docs](self).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Interrupter {
    mode: Interrupts,
    /// The coders, in the order of `office.own`.
    coders: Vec<Pid>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(super) office: OfficeRef,
    gap: ExpMean,
    duration: LogNormalOf,
    gaps: Stream,
    targets: Stream,
    durations: Stream,
}

impl Interrupter {
    pub fn new(
        sim: &Simulation<Team>,
        params: &Params,
        coders: Vec<Pid>,
        office: Rc<Office>,
    ) -> Self {
        Interrupter {
            mode: params.interrupts,
            coders,
            office: OfficeRef::from(office),
            gap: ExpMean(params.t_interrupt_interval),
            duration: LogNormalOf(params.t_interrupt_mean, params.t_interrupt_std),
            gaps: sim.new_stream_named("interrupt-gaps"),
            targets: sim.new_stream_named("interrupt-targets"),
            durations: sim.new_stream_named("interrupt-durations"),
        }
    }

    fn interrupt_someone(&mut self, cx: &mut Cx<'_>) {
        let target = self.targets.random_range(0..self.coders.len());
        self.office.ledger.borrow_mut().interrupts += 1;
        let cause = match self.mode {
            Interrupts::Discard => Interruption::Discard,
            Interrupts::Resume => Interruption::Urgent(self.interrupt_job(cx)),
            Interrupts::Decomp => {
                let job = self.interrupt_job(cx);
                self.office.put(cx, self.office.own[target], job);
                return;
            }
            Interrupts::None => unreachable!("no interrupter without interrupts"),
        };
        let carried = match &cause {
            Interruption::Urgent(job) => Some(job.kind),
            Interruption::Discard => None,
        };
        if !cx.interrupt(self.coders[target], cause) {
            cx.fail(format!(
                "coder {target} has finished and cannot be interrupted"
            ));
        }
        // Until it is delivered (later if the coder is in an activity), the job is in transit.
        if let Some(kind) = carried {
            self.office.ledger.borrow_mut().sent.add(kind);
        }
    }

    fn interrupt_job(&mut self, cx: &mut Cx<'_>) -> Job {
        let duration = self.duration.sample(&mut self.durations);
        self.office.new_job(JobKind::Interrupt, duration, cx.now())
    }
}

impl Process<Team> for Interrupter {
    fn step(&mut self, cx: &mut Cx<'_>, wake: Wake<Job, Interruption>) -> Command<Job> {
        match wake {
            Wake::Started => {}
            Wake::Completed(Outcome::Slept) => self.interrupt_someone(cx),
            other => unreachable!("the interrupter never waits for {other:?}"),
        }
        Command::Sleep(self.gap.sample(&mut self.gaps))
    }
}
