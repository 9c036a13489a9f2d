//! # The monitor: what the queues look like over time
//!
//! One state, one wait: at t = 0, t_monitor, 2·t_monitor, … sample every queue (its length
//! and the mean age `now - t_create` of the jobs waiting in it, 0 when empty), then sleep
//! until the next multiple of `t_monitor` (computed as k·t_monitor, so the sample times do
//! not drift by rounding).

use super::model::{Cx, Interruption, Job, Office, OfficeRef, Sample, Team};
use std::rc::Rc;
use stepsim::{Command, Process, Wake};

/// The monitor; see the [module docs](self).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Monitor {
    period: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(super) office: OfficeRef,
    /// Number of samples taken so far.
    taken: u32,
}

impl Monitor {
    pub fn new(period: f64, office: Rc<Office>) -> Self {
        Monitor {
            period,
            office: OfficeRef::from(office),
            taken: 0,
        }
    }
}

impl Process<Team> for Monitor {
    fn step(&mut self, cx: &mut Cx<'_>, _wake: Wake<Job, Interruption>) -> Command<Job> {
        let now = cx.now();
        for &(name, queue) in &self.office.queues {
            let view = cx.queue_view(queue).expect("the office's own queue");
            let total_age: f64 = view.iter().map(|job| now - job.t_create).sum();
            let length = view.len();
            let mean_age = if length == 0 {
                0.0
            } else {
                total_age / length as f64
            };
            self.office.ledger.borrow_mut().samples.push(Sample {
                t: now,
                queue: name,
                length,
                mean_age,
            });
        }
        self.taken += 1;
        Command::Sleep(f64::from(self.taken) * self.period - now)
    }
}
