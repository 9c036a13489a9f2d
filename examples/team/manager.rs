//! # The manager: where jobs come from
//!
//! One state, one wait: create a regular job (its duration drawn now, `t_create = now`, and
//! with probability `p_pair` marked as pair work), put it into the shared queue, then
//! `Sleep(Exp(t_job_interval))`. Its first step runs at t = 0, so the first job appears at
//! t = 0.
//!
//! Durations, gaps and the pair draws come from streams of their own (`job-durations`,
//! `job-gaps`, `job-pairs`), so job k has the same duration and arrival time in every scenario
//! of a sweep that keeps the job parameters, and a sweep over `p_pair` pairs a growing set of
//! the same jobs (one uniform draw per job, paired if below `p_pair`): scenarios are compared
//! on common random numbers. With one coder nobody can pair, and no job is marked.

use super::model::{Cx, ExpMean, Interruption, Job, JobKind, LogNormalOf, Office, OfficeRef, Team};
use super::params::Params;
use std::rc::Rc;
use stepsim::rand::RngExt;
use stepsim::{Command, Outcome, Process, Simulation, Stream, Wake};

/// The manager; see the [module docs](self).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Manager {
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(super) office: OfficeRef,
    gap: ExpMean,
    duration: LogNormalOf,
    /// 0 when nobody can pair.
    p_pair: f64,
    gaps: Stream,
    durations: Stream,
    pairs: Stream,
}

impl Manager {
    pub fn new(sim: &Simulation<Team>, params: &Params, office: Rc<Office>) -> Self {
        Manager {
            office: OfficeRef::from(office),
            gap: ExpMean(params.t_job_interval),
            duration: LogNormalOf(params.t_job_mean, params.t_job_std),
            p_pair: if params.pairs() { params.p_pair } else { 0.0 },
            gaps: sim.new_stream_named("job-gaps"),
            durations: sim.new_stream_named("job-durations"),
            pairs: sim.new_stream_named("job-pairs"),
        }
    }
}

impl Process<Team> for Manager {
    fn step(&mut self, cx: &mut Cx<'_>, wake: Wake<Job, Interruption>) -> Command<Job> {
        debug_assert!(matches!(
            wake,
            Wake::Started | Wake::Completed(Outcome::Slept)
        ));
        let duration = self.duration.sample(&mut self.durations);
        let mut job = self.office.new_job(JobKind::Regular, duration, cx.now());
        job.pair = self.pairs.random::<f64>() < self.p_pair;
        self.office.put(cx, self.office.shared, job);
        Command::Sleep(self.gap.sample(&mut self.gaps))
    }
}
