//! Activities in the engine: planning, the start rule, pulling participants in, and the end.
//!
//! Pulling a participant in reuses the interrupt machinery: a summons is queued like an
//! interrupt and delivered by the same rules (at once at an interruptible wait, after a
//! masked or already-satisfied wait otherwise), so an activity inherits every guarantee of
//! interrupts: the withdrawn wait comes back whole, nothing is lost.

use super::{Kind, NORMAL, Pending, Phase, Simulation};
use crate::activity::{Activity, ActivityState, Join, Participation};
use crate::command::{Outcome, Wake};
use crate::error::Error;
use crate::handle::{ActivityId, Handle, Pid};
use crate::process::Model;

impl<M: Model> Simulation<M> {
    pub(crate) fn plan_from(
        &mut self,
        me: Option<Pid>,
        activity: Activity,
    ) -> Result<ActivityId, Error> {
        let origin = || self.origin(me);
        if let Some(t) = activity.not_before {
            self.check_time(t, "an activity's not_before", me)?;
        }
        if let Some(t) = activity.deadline {
            self.check_time(t, "an activity's deadline", me)?;
        }
        if let (Some(a), Some(b)) = (activity.not_before, activity.deadline)
            && b < a
        {
            return Err(Error::InvalidTime {
                origin: origin(),
                time: b,
                what: "an activity's deadline",
                why: "it is before its not_before",
            });
        }
        let earliest_start = activity.not_before.unwrap_or(self.now).max(self.now);
        let why = if !(activity.duration.is_finite() && activity.duration >= 0.0) {
            Some("durations must be finite and >= 0")
        } else if !(earliest_start + activity.duration).is_finite() {
            Some("it would end past the largest finite time")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(Error::InvalidDelay {
                origin: origin(),
                delay: activity.duration,
                why,
            });
        }
        if activity.from_pool > activity.pool.len() {
            return Err(Error::Unsupported {
                origin: origin(),
                what: "an activity asking for more participants than its pool has",
            });
        }
        let everyone = activity.members.iter().map(|(p, _)| *p);
        for p in everyone.chain(activity.pool.iter().copied()) {
            if p.sim != self.id || p.idx as usize >= self.meta.len() {
                return Err(self.foreign(Handle::Process(p), me));
            }
            if self.is_finished(p)? {
                return Err(Error::Finished {
                    origin: origin(),
                    target: p,
                });
            }
        }
        let idx = self.activities.len() as u32;
        let deadline = activity
            .deadline
            .filter(|&d| Some(d) != activity.not_before);
        for t in [activity.not_before, deadline].into_iter().flatten() {
            if t > self.now {
                self.schedule(t, NORMAL, idx, 0, Kind::ActivityCheck);
            }
        }
        self.unstarted.push(idx);
        self.activities.push(ActivityState {
            plan: activity,
            planned_at: self.now,
            started_at: None,
            ended_at: None,
            participants: Vec::new(),
        });
        self.try_start_activities();
        Ok(ActivityId { sim: self.id, idx })
    }

    /// Whether `pid` is alive, has declared itself available, and is not already taken by an
    /// activity (attending one, or summoned to one and not yet there).
    fn is_available(&self, pid: Pid) -> bool {
        self.live(pid).is_some_and(|i| {
            let slot = &self.procs[i];
            !slot.phase.is_over() && slot.available && !self.engaged(i)
        })
    }

    fn engaged(&self, idx: usize) -> bool {
        let slot = &self.procs[idx];
        let summoned = slot.rare.as_ref().is_some_and(|r| {
            r.summoned.is_some()
                || r.interrupts
                    .iter()
                    .any(|c| matches!(c, Pending::Summons(_)))
        });
        summoned || (slot.phase == Phase::Waiting && self.attends_any(idx))
    }

    pub(crate) fn set_available_from(&mut self, pid: Pid, available: bool) {
        if let Some(i) = self.live(pid) {
            self.procs[i].available = available;
            if available {
                self.try_start_activities();
            }
        }
    }

    /// Starts, in plan order, every pending activity whose start rule is met now.
    pub(crate) fn try_start_activities(&mut self) {
        let mut k = 0;
        while k < self.unstarted.len() {
            let a = self.unstarted[k] as usize;
            match self.ready_to_start(a) {
                Some(chosen) => {
                    self.unstarted.remove(k);
                    self.start_activity(a, chosen);
                }
                None => k += 1,
            }
        }
    }

    /// The participants an activity would start with now, if its rule allows it to start.
    fn ready_to_start(&self, a: usize) -> Option<Vec<Pid>> {
        let plan = &self.activities[a].plan;
        if plan.not_before.is_some_and(|t| self.now < t) {
            return None;
        }
        let forced = plan.deadline.is_some_and(|t| self.now >= t);
        let mut chosen: Vec<Pid> = Vec::new();
        for &(pid, join) in &plan.members {
            if join == Join::WhenAvailable && !forced && !self.is_available(pid) {
                return None;
            }
            if !chosen.contains(&pid) {
                chosen.push(pid);
            }
        }
        let candidates = plan.pool.iter().copied().filter(|p| !chosen.contains(p));
        let mut from_pool: Vec<Pid> = candidates
            .clone()
            .filter(|p| self.is_available(*p))
            .take(plan.from_pool)
            .collect();
        if from_pool.len() < plan.from_pool {
            if !forced {
                return None;
            }
            let rest: Vec<Pid> = candidates
                .filter(|p| !from_pool.contains(p) && !self.is_finished(*p).unwrap_or(true))
                .collect();
            from_pool.extend(rest.into_iter().take(plan.from_pool - from_pool.len()));
        }
        chosen.extend(from_pool);
        Some(chosen)
    }

    fn start_activity(&mut self, a: usize, chosen: Vec<Pid>) {
        let state = &mut self.activities[a];
        state.started_at = Some(self.now);
        state.participants = chosen
            .iter()
            .map(|&pid| Participation {
                pid,
                joined_at: None,
                left_at: None,
            })
            .collect();
        let end = self.now + state.plan.duration;
        for pid in chosen {
            // A participant that finished since the plan is skipped: it never joins.
            // Its availability is cleared when it joins: a summons withdrawn before that (the
            // activity ended while it was in a masked wait) leaves its own declaration.
            if let Some(i) = self.live(pid).filter(|&i| !self.procs[i].phase.is_over()) {
                self.post_interrupt(i, Pending::Summons(a as u32));
            }
        }
        // An activity that started so late that it would end past the largest finite time
        // (validated against its earliest start when planned) never ends.
        if end.is_finite() {
            self.schedule(end, NORMAL, a as u32, 0, Kind::ActivityEnd);
        }
    }

    /// Ends an activity: every participant attending it wakes, in order; summons still
    /// queued (participants held up in masked waits until now) are withdrawn unjoined, and
    /// activities waiting for those participants look again.
    pub(crate) fn end_activity(&mut self, a: usize) -> Result<(), Error> {
        self.activities[a].ended_at = Some(self.now);
        let aid = ActivityId {
            sim: self.id,
            idx: a as u32,
        };
        let mut result = Ok(());
        let mut withdrawn = false;
        for k in 0..self.activities[a].participants.len() {
            let pid = self.activities[a].participants[k].pid;
            let Some(i) = self.live(pid) else { continue };
            if self.activities[a].participants[k].joined_at.is_none() {
                if let Some(rare) = self.procs[i].rare.as_mut() {
                    let before = rare.interrupts.len();
                    rare.interrupts
                        .retain(|c| !matches!(c, Pending::Summons(x) if *x as usize == a));
                    withdrawn |= rare.interrupts.len() < before;
                }
                continue;
            }
            self.activities[a].participants[k].left_at = Some(self.now);
            if self.procs[i].phase == Phase::Waiting && self.attends(i, a) {
                let slot = &mut self.procs[i];
                slot.phase = Phase::Satisfied;
                slot.branches.clear();
                let wake = Wake::Completed(Outcome::ActivityOver(aid));
                if result.is_ok() {
                    result = self.resume(i, wake);
                } else {
                    self.park(i, wake, Kind::Resume);
                }
            }
        }
        if withdrawn {
            // A participant it held up is free for the activities waiting for it.
            self.try_start_activities();
        }
        result
    }
}
