//! What a replication measures ([`Metrics`]) and the accounting identity ([`Accounting`]).
//! The summaries across replications (mean, sd, 95% confidence interval) are stepsim's:
//! [`Run`] is [`Measured`], by the names of [`Metrics::values`].

use super::model::{
    ActivityRecord, Fate, JobKind, Ledger, Office, Purpose, QueueName, Run, Tally, Team,
};
use super::params::Params;
use serde::{Deserialize, Serialize};
use stepsim::experiment::{self, Measured};
use stepsim::{Simulation, stats};

/// The metrics of one replication (see the table in the example's docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub created: u64,
    pub completed: u64,
    pub discarded: u64,
    pub interrupts: u64,
    pub reworks: u64,
    pub throughput: f64,
    pub utilization: f64,
    /// `None` without testers.
    pub tester_utilization: Option<f64>,
    /// `None` if no regular job started.
    pub mean_delay: Option<f64>,
    /// Mean of t_end − t_create over completed regular jobs; `None` if none completed.
    pub lead_time: Option<f64>,
    pub backlog: f64,
    pub mean_age: f64,
    /// Stand-ups held (ended before t_sim).
    pub standups: u64,
    /// Coder time spent in those stand-ups, summed over coders.
    pub meeting_time: f64,
    /// Pair activities held (ended before t_sim): one per pair job, or more for a job whose
    /// author came late and paired again on what it missed.
    pub pairs: u64,
    /// The second coder's time in those pair activities: coder time pairing costs.
    pub pair_time: f64,
    /// Mean time from planning pair work to its start, over pair activities that started;
    /// `None` if none did.
    pub pair_wait: Option<f64>,
}

impl Metrics {
    pub fn new(params: &Params, ledger: &Ledger, activities: &[ActivityRecord]) -> Self {
        let t_sim = params.t_sim;
        let delays: Vec<f64> = ledger
            .jobs
            .iter()
            .filter_map(|job| job.t_start.map(|start| start - job.t_create))
            .collect();
        let lead_times: Vec<f64> = ledger
            .jobs
            .iter()
            .filter(|job| job.fate == Fate::Completed)
            .filter_map(|job| job.t_end.map(|end| end - job.t_create))
            .collect();
        let standups: Vec<&ActivityRecord> = activities
            .iter()
            .filter(|a| a.purpose == Purpose::StandUp)
            .collect();
        let pairs: Vec<&ActivityRecord> = activities
            .iter()
            .filter(|a| matches!(a.purpose, Purpose::Pair { .. }))
            .collect();
        let pair_waits: Vec<f64> = pairs
            .iter()
            .filter_map(|a| a.started_at.map(|start| start - a.planned_start))
            .collect();
        let last_shared = ledger
            .samples
            .iter()
            .rev()
            .find(|s| s.queue == QueueName::Shared);
        Metrics {
            created: ledger.created.of(JobKind::Regular),
            completed: ledger.finished.of(JobKind::Regular),
            discarded: ledger.discarded.of(JobKind::Regular),
            interrupts: ledger.interrupts,
            reworks: ledger.reworks,
            throughput: ledger.finished.of(JobKind::Regular) as f64 / t_sim,
            utilization: ledger.coder_busy / (params.n_coder as f64 * t_sim),
            tester_utilization: (params.n_tester > 0)
                .then(|| ledger.tester_busy / (params.n_tester as f64 * t_sim)),
            mean_delay: mean(&delays),
            lead_time: mean(&lead_times),
            backlog: last_shared.map_or(0.0, |s| s.length as f64),
            mean_age: last_shared.map_or(0.0, |s| s.mean_age),
            standups: standups.iter().filter(|a| a.ended_at.is_some()).count() as u64,
            meeting_time: standups
                .iter()
                .flat_map(|a| &a.attendance)
                .filter_map(|p| p.time_spent)
                .fold(0.0, |a, b| a + b),
            pairs: pairs.iter().filter(|a| a.ended_at.is_some()).count() as u64,
            pair_time: pairs
                .iter()
                .flat_map(|a| {
                    let Purpose::Pair { author, .. } = a.purpose else {
                        unreachable!("filtered")
                    };
                    a.attendance.iter().filter(move |p| p.coder != author)
                })
                .filter_map(|p| p.time_spent)
                .fold(0.0, |a, b| a + b),
            pair_wait: mean(&pair_waits),
        }
    }

    /// Every metric by name, in the order tables show them (`None`: not defined here).
    pub fn values(&self) -> [(&'static str, Option<f64>); 17] {
        [
            ("created", Some(self.created as f64)),
            ("completed", Some(self.completed as f64)),
            ("discarded", Some(self.discarded as f64)),
            ("interrupts", Some(self.interrupts as f64)),
            ("reworks", Some(self.reworks as f64)),
            ("throughput", Some(self.throughput)),
            ("utilization", Some(self.utilization)),
            ("tester_utilization", self.tester_utilization),
            ("mean_delay", self.mean_delay),
            ("lead_time", self.lead_time),
            ("backlog", Some(self.backlog)),
            ("mean_age", Some(self.mean_age)),
            ("standups", Some(self.standups as f64)),
            ("meeting_time", Some(self.meeting_time)),
            ("pairs", Some(self.pairs as f64)),
            ("pair_time", Some(self.pair_time)),
            ("pair_wait", self.pair_wait),
        ]
    }
}

/// Where the regular jobs are at the end of a replication. The identity
/// `created = completed + discarded + waiting + in_progress` says none was lost.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounting {
    pub created: u64,
    pub completed: u64,
    pub discarded: u64,
    /// In any queue (shared, test, a coder's own), or in an interrupt not yet delivered.
    pub waiting: u64,
    /// Being coded or tested, on a coder's stack, split into fragments, or parked for pair
    /// work.
    pub in_progress: u64,
}

impl Accounting {
    pub fn holds(&self) -> bool {
        self.created == self.completed + self.discarded + self.waiting + self.in_progress
    }

    /// Counts every job where it really is — the queues' contents, the interrupt jobs not yet
    /// delivered, and what each actor reported holding — and checks the identity for every
    /// kind of work, regular jobs (the ones the metrics report) and integration work,
    /// interrupt jobs and fragments alike. Also checks the per-job records against the count.
    pub fn audit(sim: &Simulation<Team>, office: &Office) -> Result<Accounting, String> {
        let mut waiting = Tally::default();
        for &(_, queue) in &office.queues {
            let view = sim.queue_view(queue).map_err(|e| e.to_string())?;
            for job in view.iter() {
                waiting.add(job.kind);
            }
        }
        let ledger = office.ledger.borrow();
        let in_transit = ledger
            .sent
            .minus(ledger.delivered)
            .ok_or("more interrupt jobs delivered than sent")?;
        let waiting = waiting.plus(in_transit);
        let in_hands = ledger
            .hands
            .iter()
            .fold(Tally::default(), |a, &b| a.plus(b));
        let mut regular = None;
        for kind in JobKind::ALL {
            let account = Accounting {
                created: ledger.created.of(kind),
                completed: ledger.finished.of(kind),
                discarded: ledger.discarded.of(kind),
                waiting: waiting.of(kind),
                in_progress: in_hands.of(kind),
            };
            if !account.holds() {
                return Err(format!("{kind:?} work: {account}"));
            }
            if kind == JobKind::Regular {
                regular = Some(account);
            }
        }
        let regular = regular.expect("JobKind::ALL has Regular");
        let open = ledger.jobs.iter().filter(|j| j.fate == Fate::Open).count() as u64;
        if open != regular.waiting + regular.in_progress {
            return Err(format!(
                "{open} job records are open, but {} jobs are waiting or in progress",
                regular.waiting + regular.in_progress
            ));
        }
        Ok(regular)
    }
}

impl std::fmt::Display for Accounting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "created {} {} completed {} + discarded {} + waiting {} + in progress {}",
            self.created,
            if self.holds() { "=" } else { "≠" },
            self.completed,
            self.discarded,
            self.waiting,
            self.in_progress
        )
    }
}

impl Measured for Run {
    fn metrics(&self) -> experiment::Metrics {
        self.metrics.values().into_iter().collect()
    }
}

/// The shared queue's backlog and mean age over time, averaged across replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Series {
    pub t: Vec<f64>,
    pub backlog: Vec<f64>,
    pub mean_age: Vec<f64>,
}

impl Series {
    /// Replications of one scenario sample at the same times, so the k-th samples align.
    pub fn mean_of(runs: &[Run]) -> Series {
        let mut series = Series::default();
        for (r, run) in runs.iter().enumerate() {
            let shared = run.samples.iter().filter(|s| s.queue == QueueName::Shared);
            for (k, sample) in shared.enumerate() {
                if r == 0 {
                    series.t.push(sample.t);
                    series.backlog.push(0.0);
                    series.mean_age.push(0.0);
                }
                if let (Some(b), Some(a)) = (series.backlog.get_mut(k), series.mean_age.get_mut(k))
                {
                    *b += sample.length as f64 / runs.len() as f64;
                    *a += sample.mean_age / runs.len() as f64;
                }
            }
        }
        series
    }
}

/// The mean of `values`, `None` if there are none.
pub fn mean(values: &[f64]) -> Option<f64> {
    stats::Summary::of(values).ok().map(|s| s.mean)
}
