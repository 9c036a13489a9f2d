//! # The facilitator: where stand-ups come from
//!
//! One state, one wait: at t = 0, t_standup_interval, 2·t_standup_interval, … plan a stand-up
//! of every coder that starts at once and lasts `t_standup_duration`,
//!
//! ```text
//! Activity::new(t_standup_duration).at(now).with_all(coders).named("stand-up")
//! ```
//!
//! then sleep until the next multiple of the interval (computed as k·interval, so the times
//! do not drift by rounding). It exists only when both parameters are > 0.
//!
//! The engine pulls every coder in from whatever it is doing, as an interrupt would (see the
//! [coder](super::coder) for what a coder does about it). A coder that is already in an
//! activity — pair work, or a stand-up that overruns the interval — joins when that one is
//! over, and the stand-up's record says how late it was; a coder that only got free after the
//! stand-up ended never joins it.

use super::model::{Cx, Interruption, Job, Office, OfficeRef, Purpose, Team};
use super::params::Params;
use std::rc::Rc;
use stepsim::{Activity, Command, Outcome, Process, Wake};

/// The facilitator; see the [module docs](self).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Facilitator {
    interval: f64,
    duration: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(super) office: OfficeRef,
    /// Stand-ups planned so far.
    planned: u32,
}

impl Facilitator {
    pub fn new(params: &Params, office: Rc<Office>) -> Self {
        Facilitator {
            interval: params.t_standup_interval,
            duration: params.t_standup_duration,
            office: OfficeRef::from(office),
            planned: 0,
        }
    }
}

impl Process<Team> for Facilitator {
    fn step(&mut self, cx: &mut Cx<'_>, wake: Wake<Job, Interruption>) -> Command<Job> {
        debug_assert!(matches!(
            wake,
            Wake::Started | Wake::Completed(Outcome::Slept)
        ));
        let coders = self.office.coders().to_vec();
        let standup = Activity::new(self.duration).at(cx.now()).with_all(coders);
        self.office.plan(cx, Purpose::StandUp, standup);
        self.planned += 1;
        Command::Sleep((f64::from(self.planned) * self.interval - cx.now()).max(0.0))
    }
}
