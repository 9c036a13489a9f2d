//! Waits: registering a command's waits with their primitives, completing them, and
//! withdrawing them (interrupts, losing `FirstOf` branches).
//!
//! A command is stored as a flat list of branches, each in a *group*: a single wait is one
//! group of one branch; a `FirstOf` has one group per top-level branch, where an `AllOf`
//! branch is a group of several; a top-level `AllOf` is one group of all its branches. The
//! command completes when every branch of one group is done. Every registration carries the
//! wait's *epoch*, so a leftover of a completed or withdrawn wait (a timer in the queue) can
//! never match a later one.

use super::{Hook, Kind, NORMAL, Parked, Phase, Rare, Simulation, Slot, WakeOf};
use crate::command::Places;
use crate::command::{
    Branches, Command, Exit, Filter, First, Interrupt, MAX_BRANCHES, Masked, Outcome, Place,
    Preempted, Priority, Reason, Wait, Wake,
};
use crate::container::ContainerState;
use crate::error::Error;
use crate::handle::{
    ActivityId, BarrierId, ContainerId, Handle, Pid, QueueId, ResourceId, SignalId,
};
use crate::process::Model;
use crate::queue::{Getter, Waiter};
use crate::resource::{Key, Request, ResourceKind};
use crate::signal::SignalPhase;
use crate::trace::{TraceKind, WaitKind, Waiting};
use smallvec::SmallVec;
use std::collections::VecDeque;

/// How the branches of the current wait combine.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Shape {
    Single,
    FirstOf,
    AllOf,
}

/// One registered wait, compact (16 bytes): items of blocked puts, filters of blocked gets,
/// priorities of blocked requests and amounts live in the primitive's waiting list, and
/// come back from there when the wait is withdrawn.
#[derive(Copy, Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum BranchWait {
    Sleep(f64),
    /// A `Command::Yield` (a zero sleep handed back as `Yield`).
    Yield,
    Get(u32),
    GetWhere(u32),
    Put(u32),
    Acquire(u32),
    AcquireWith(u32),
    GetAmount(u32),
    PutAmount(u32),
    Signal(u32),
    Arrive(u32),
    Join(Pid),
    /// Held in an activity (its index) until it ends.
    Attend(u32),
}

#[derive(Copy, Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Branch {
    pub wait: BranchWait,
    /// Which top-level branch (of a `FirstOf`) this belongs to.
    pub group: u16,
    /// Part of an `AllOf` group of this many waits (0: not in an `AllOf`). Branches of a
    /// group register one by one, and a group completes only when all of them are done.
    pub all_len: u16,
    /// Completed, while the rest of its `AllOf` group is pending.
    pub done: bool,
}

/// The branches of a process's current wait: none, one inline (the common case), or a list
/// on the heap. 24 bytes, where a `SmallVec<[Branch; 1]>` takes 32: the tag lives in a
/// niche of the inline branch. A list that spilled to the heap keeps its allocation when
/// cleared (and stays in its slot for the next process once the slot is freed), so
/// steady-state `FirstOf`s do not allocate.
#[derive(Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum BranchList {
    #[default]
    Empty,
    One(Branch),
    // Boxed on purpose: a `Vec` inline (24 bytes) would make the list 32 bytes again, and a
    // list spills only for `FirstOf`/`AllOf`, keeping its allocation afterwards.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<Branch>>),
}

impl BranchList {
    pub fn as_slice(&self) -> &[Branch] {
        match self {
            BranchList::Empty => &[],
            BranchList::One(b) => std::slice::from_ref(b),
            BranchList::Many(v) => v,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [Branch] {
        match self {
            BranchList::Empty => &mut [],
            BranchList::One(b) => std::slice::from_mut(b),
            BranchList::Many(v) => v,
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Branch> {
        self.as_slice().iter()
    }

    pub fn get(&self, i: usize) -> Option<&Branch> {
        self.as_slice().get(i)
    }

    #[inline]
    pub fn push(&mut self, branch: Branch) {
        if let BranchList::Empty = self {
            *self = BranchList::One(branch);
        } else {
            self.push_more(branch);
        }
    }

    /// `push`, for the branches of a `FirstOf`: a list that spilled once keeps its
    /// allocation, so it is most likely on the heap already.
    #[inline]
    pub fn push_branch(&mut self, branch: Branch) {
        match self {
            BranchList::Many(v) => v.push(branch),
            _ => self.push(branch),
        }
    }

    /// The list's only branch: `clear` then `push`, in one step.
    #[inline]
    pub fn set_one(&mut self, branch: Branch) {
        match self {
            BranchList::Many(v) => {
                v.clear();
                v.push(branch);
            }
            _ => *self = BranchList::One(branch),
        }
    }

    /// `push` onto a list that is not empty (a second branch spills it to the heap).
    #[cold]
    #[inline(never)]
    fn push_more(&mut self, branch: Branch) {
        match self {
            BranchList::Empty => *self = BranchList::One(branch),
            BranchList::One(first) => {
                let mut v = Vec::with_capacity(4);
                v.push(*first);
                v.push(branch);
                *self = BranchList::Many(Box::new(v));
            }
            BranchList::Many(v) => v.push(branch),
        }
    }

    /// Empties the list, keeping a heap allocation for the next wait.
    #[inline]
    pub fn clear(&mut self) {
        match self {
            BranchList::Many(v) => v.clear(),
            _ => *self = BranchList::Empty,
        }
    }
}

impl std::ops::Index<usize> for BranchList {
    type Output = Branch;
    fn index(&self, i: usize) -> &Branch {
        &self.as_slice()[i]
    }
}

impl std::ops::IndexMut<usize> for BranchList {
    fn index_mut(&mut self, i: usize) -> &mut Branch {
        &mut self.as_mut_slice()[i]
    }
}

/// What validating one wait looks at.
#[derive(Copy, Clone)]
enum Check<'a, T> {
    Sleep(f64),
    Yield,
    Queue(QueueId),
    FilterQueue(QueueId),
    Resource(ResourceId),
    PriorityResource(ResourceId, Priority),
    Amount(ContainerId, f64),
    Signal(SignalId),
    Barrier(BarrierId),
    Join(Pid),
    AllOf(&'a Branches<T>),
    NotAWait(&'static str),
}

impl<'a, T> Check<'a, T> {
    fn of_wait(wait: &'a Wait<T>) -> Self {
        match wait {
            Wait::Sleep(dt) => Check::Sleep(*dt),
            Wait::Yield => Check::Yield,
            Wait::Get(q) | Wait::Put(q, _) => Check::Queue(*q),
            Wait::GetWhere(q, _) => Check::FilterQueue(*q),
            Wait::Acquire(r) => Check::Resource(*r),
            Wait::AcquireWith(r, p) => Check::PriorityResource(*r, *p),
            Wait::Join(p) => Check::Join(*p),
            Wait::GetAmount(c, n) | Wait::PutAmount(c, n) => Check::Amount(*c, *n),
            Wait::Signal(s) => Check::Signal(*s),
            Wait::Arrive(b) => Check::Barrier(*b),
            Wait::AllOf(all) => Check::AllOf(all),
            Wait::Invalid(_) => Check::NotAWait("not a wait"),
        }
    }

    /// A single-wait command (not FirstOf, AllOf, Masked, Attend, Resume or Done).
    fn of_command(command: &'a Command<T>) -> Self {
        match command {
            Command::Sleep(dt) => Check::Sleep(*dt),
            Command::Yield => Check::Yield,
            Command::Get(q) | Command::Put(q, _) => Check::Queue(*q),
            Command::GetWhere(q, _) => Check::FilterQueue(*q),
            Command::Acquire(r) => Check::Resource(*r),
            Command::AcquireWith(r, p) => Check::PriorityResource(*r, *p),
            Command::Join(p) => Check::Join(*p),
            Command::GetAmount(c, n) | Command::PutAmount(c, n) => Check::Amount(*c, *n),
            Command::Signal(s) => Check::Signal(*s),
            Command::Arrive(b) => Check::Barrier(*b),
            _ => Check::NotAWait("not a single wait"),
        }
    }
}

/// How an at-once completion reaches its process: through the request's own event (with the
/// primitive's hook), or, for an event that was already processed (an exited process, a
/// fired signal), without one.
enum AtOnce {
    Event(Hook),
    Processed,
}

impl AtOnce {
    /// The event that delivers a `FirstOf`'s completion: the request's own (its hook run
    /// first), or, already processed, the hop.
    fn first_event(self) -> Kind {
        match self {
            AtOnce::Event(hook) => Kind::Ready(hook),
            AtOnce::Processed => Kind::Resume,
        }
    }
}

impl<M: Model> Simulation<M> {
    // ----- validation -----

    #[cold]
    fn invalid_delay(&self, pid: Pid, delay: f64) -> Error {
        let why = if delay.is_finite() && delay >= 0.0 {
            "it would end past the largest finite time"
        } else {
            "delays must be finite and >= 0"
        };
        Error::InvalidDelay {
            origin: self.origin(Some(pid)),
            delay,
            why,
        }
    }

    /// Whether a sleep of `dt` from now is valid: finite, not negative, and ending at a
    /// finite time.
    #[inline]
    pub(crate) fn valid_delay(&self, dt: f64) -> bool {
        valid_delay_at(self.now, dt)
    }

    fn unsupported(&self, pid: Pid, what: &'static str) -> Error {
        Error::Unsupported {
            origin: self.origin(Some(pid)),
            what,
        }
    }

    fn check_amount(&self, pid: Pid, c: ContainerId, amount: f64) -> Result<(), Error> {
        let ci = self.check_container(c, Some(pid))?;
        let why = if !(amount.is_finite() && amount > 0.0) {
            "amounts must be finite and > 0"
        } else if amount > self.containers[ci].capacity {
            "the amount exceeds the container's capacity, so it could never be served"
        } else {
            return Ok(());
        };
        Err(Error::InvalidAmount {
            origin: self.origin(Some(pid)),
            amount,
            why,
        })
    }

    /// Checks one wait (a single command, a branch, a masked wait).
    #[inline]
    fn validate_wait(&self, pid: Pid, wait: Check<'_, M::Item>, nested: bool) -> Result<(), Error> {
        let me = Some(pid);
        match wait {
            Check::Sleep(dt) => {
                if !self.valid_delay(dt) {
                    return Err(self.invalid_delay(pid, dt));
                }
            }
            Check::Queue(q) => {
                self.check_queue(q, me)?;
            }
            Check::FilterQueue(q) => {
                let qi = self.check_queue(q, me)?;
                if !self.queues[qi].filtered {
                    return Err(Error::WrongKind {
                        origin: self.origin(me),
                        handle: Handle::Queue(q),
                        needs: "a filter queue",
                    });
                }
            }
            Check::Resource(r) => {
                self.check_resource(r, me)?;
            }
            Check::PriorityResource(r, p) => {
                let ri = self.check_resource(r, me)?;
                if self.resources[ri].kind == ResourceKind::Plain {
                    return Err(Error::WrongKind {
                        origin: self.origin(me),
                        handle: Handle::Resource(r),
                        needs: "a priority or preemptive resource",
                    });
                }
                if p.level.is_nan() {
                    return Err(Error::InvalidPriority {
                        origin: self.origin(me),
                        level: p.level,
                    });
                }
            }
            Check::Amount(c, n) => self.check_amount(pid, c, n)?,
            Check::Signal(s) => {
                self.check_signal(s, me)?;
            }
            Check::Barrier(b) => {
                self.check_barrier(b, me)?;
            }
            Check::Join(p) => {
                if p.sim != self.id || p.idx as usize >= self.meta.len() {
                    return Err(self.foreign(Handle::Process(p), me));
                }
                if p == pid {
                    return Err(Error::SelfReference {
                        origin: self.origin(me),
                        what: "join",
                    });
                }
            }
            Check::AllOf(branches) => {
                if nested {
                    return Err(self.unsupported(pid, "an AllOf inside an AllOf"));
                }
                self.validate_branches(pid, "AllOf", branches.as_slice(), true)?;
            }
            Check::Yield => {}
            Check::NotAWait(what) => return Err(self.unsupported(pid, what)),
        }
        Ok(())
    }

    fn validate_branches(
        &self,
        pid: Pid,
        command: &'static str,
        branches: &[Wait<M::Item>],
        nested: bool,
    ) -> Result<(), Error> {
        if branches.is_empty() {
            return Err(Error::EmptyBranches {
                origin: self.origin(Some(pid)),
                command,
            });
        }
        if branches.len() > MAX_BRANCHES {
            return Err(Error::TooManyBranches {
                origin: self.origin(Some(pid)),
                command,
                branches: branches.len(),
            });
        }
        branches.iter().try_for_each(|w| {
            let check = match w {
                Wait::Invalid(_) => Check::NotAWait(
                    "a branch that is not a wait (FirstOf, masked, Attend, Resume or Done)",
                ),
                w => Check::of_wait(w),
            };
            self.validate_wait(pid, check, nested)
        })
    }

    /// Whether a branch is a sleep, a plain request or a plain get that validation would
    /// accept: a shortcut for the common `FirstOf`s (anything else goes the full way).
    #[inline]
    fn plainly_valid(&self, wait: &Wait<M::Item>) -> bool {
        match *wait {
            Wait::Sleep(dt) => self.valid_delay(dt),
            Wait::Acquire(r) => r.sim == self.id && (r.idx as usize) < self.resources.len(),
            Wait::Get(q) | Wait::Put(q, _) => {
                q.sim == self.id && (q.idx as usize) < self.queues.len()
            }
            _ => false,
        }
    }

    /// The branch of a `FirstOf` that would win at once, if `branches` may take the fast
    /// path ([`Self::first_of`]): `None` if not (a branch that is not a sleep, a plain
    /// request, a plain get or a put that validation would accept, or a process with
    /// something unusual going on: an interrupt queued, a summons; or somebody watching
    /// waits), `Some((None, _))` if no branch completes at once; with whether a branch is
    /// a put. Validity, the winner and the puts are found in one pass over the branches.
    #[inline(always)]
    fn plain_first_winner(
        &self,
        idx: usize,
        branches: &Branches<M::Item>,
    ) -> Option<(Option<usize>, bool)> {
        let b = branches.as_slice();
        if b.is_empty() || b.len() > MAX_BRANCHES || self.trace_waits || !self.is_ordinary(idx) {
            return None;
        }
        let mut winner = None;
        let mut puts = false;
        for (i, w) in b.iter().enumerate() {
            let at_once = match *w {
                Wait::Sleep(dt) => {
                    if !self.valid_delay(dt) {
                        return None;
                    }
                    false
                }
                Wait::Acquire(r) => {
                    if !(r.sim == self.id && (r.idx as usize) < self.resources.len()) {
                        return None;
                    }
                    self.resources[r.idx as usize].serves_at_once()
                }
                Wait::Get(q) => {
                    if !(q.sim == self.id && (q.idx as usize) < self.queues.len()) {
                        return None;
                    }
                    self.queues[q.idx as usize].gets_at_once()
                }
                Wait::Put(q, _) => {
                    if !(q.sim == self.id && (q.idx as usize) < self.queues.len()) {
                        return None;
                    }
                    puts = true;
                    self.queues[q.idx as usize].puts_at_once()
                }
                _ => return None,
            };
            if at_once && winner.is_none() {
                winner = Some(i);
            }
        }
        Some((winner, puts))
    }

    #[inline]
    fn validate(&self, pid: Pid, command: &Command<M::Item>) -> Result<(), Error> {
        match command {
            Command::FirstOf(branches) => {
                let b = branches.as_slice();
                if !b.is_empty()
                    && b.len() <= MAX_BRANCHES
                    && b.iter().all(|w| self.plainly_valid(w))
                {
                    // The common first-ofs (sleeps, requests, gets): valid as they stand.
                    return Ok(());
                }
                self.validate_branches(pid, "FirstOf", b, false)
            }
            Command::AllOf(branches) => {
                self.validate_branches(pid, "AllOf", branches.as_slice(), true)
            }
            Command::Masked(Masked(w)) => {
                let check = match w {
                    Wait::AllOf(_) => Check::NotAWait("a masked AllOf"),
                    Wait::Invalid(_) => {
                        Check::NotAWait("a masked command that is not a single wait")
                    }
                    w => Check::of_wait(w),
                };
                self.validate_wait(pid, check, false)
            }
            Command::Attend(a) => {
                let ai = self.check_activity(*a, Some(pid))?;
                let summoned = self
                    .live(pid)
                    .and_then(|i| self.procs[i].rare.as_ref().and_then(|r| r.summoned));
                if summoned != Some(ai as u32) {
                    return Err(self.unsupported(
                        pid,
                        "Command::Attend without being summoned to that activity",
                    ));
                }
                Ok(())
            }
            Command::Resume(r) => match &*r.command {
                Command::Resume(_) | Command::Done | Command::Attend(_) => {
                    Err(self.unsupported(pid, "a Resume of something other than a withdrawn wait"))
                }
                inner => self.validate(pid, inner),
            },
            Command::Done => Ok(()),
            single => self.validate_wait(pid, Check::of_command(single), false),
        }
    }

    // ----- issuing -----

    /// Carries out a command. `Ok(Some(wake))`: the command completed within this event
    /// and the process is to be stepped again at once.
    pub(crate) fn issue(
        &mut self,
        idx: usize,
        pid: Pid,
        command: Command<M::Item>,
    ) -> Result<Option<WakeOf<M>>, Error> {
        if let Command::Done = command {
            self.finish(idx, TraceKind::Done);
            return Ok(None);
        }
        if let Some(dt) = self.plain_sleep(idx, &command) {
            self.sleep(idx, dt);
            return Ok(None);
        }
        if let Command::Acquire(r) = command
            && self.plain_acquire(idx, r)
        {
            // The next most common command, from a process with nothing unusual going on
            // (no interrupt queued, no summons, nobody watching waits): valid as it stands.
            self.acquire(idx, r);
            return Ok(None);
        }
        if let Command::Get(q) | Command::Put(q, _) = command
            && self.plain_queue_op(idx, q)
        {
            self.queue_op(idx, command);
            return Ok(None);
        }
        self.validate(pid, &command)?;
        let slot = &mut self.procs[idx];
        if let Some(rare) = slot.rare.as_mut()
            && rare.summoned.take().is_some()
            && !matches!(command, Command::Attend(_))
        {
            return Err(Error::Unsupported {
                origin: self.origin(Some(pid)),
                what: "a summoned process must answer Command::Attend(activity)",
            });
        }
        if command.is_interruptible() && slot.has_interrupts() {
            slot.phase = Phase::Held;
            slot.rare().held = Some(command);
            if slot.rare().inflight == 0 {
                slot.rare().inflight += 1;
                self.schedule(
                    self.now,
                    super::URGENT,
                    idx as u32,
                    pid.generation,
                    Kind::Interrupt,
                );
            }
            return Ok(None);
        }
        if self.trace_waits {
            self.emit_wait(idx, &command);
        }
        let command = match command {
            Command::Resume(resume) => {
                // Its requests go back to their places as they register.
                self.places = resume.places;
                *resume.command
            }
            command => command,
        };
        // While its command registers, the process is not yet told of a preemption (a branch
        // completing later in the registration would step it first); it looks again after.
        self.registering = Some(idx);
        // Matched, not moved whole into the result: the common `None` is no copy of a `Wake`.
        match self.start(idx, command) {
            None => {
                self.after_start(idx);
                Ok(None)
            }
            Some(wake) => {
                self.after_start(idx);
                Ok(Some(wake))
            }
        }
    }

    /// What `issue` does once the command registered.
    #[inline]
    fn after_start(&mut self, idx: usize) {
        self.registering = None;
        self.places.clear();
        let slot = &self.procs[idx];
        if slot.spared && slot.phase == Phase::Waiting && !slot.masked {
            self.recheck_spared(idx);
        }
    }

    /// Starts a validated command as the process's wait.
    fn start(&mut self, idx: usize, command: Command<M::Item>) -> Option<WakeOf<M>> {
        let masked = matches!(command, Command::Masked(_) | Command::Attend(_));
        let epoch = self.begin_wait(idx, masked);
        let single = match command {
            Command::Masked(Masked(w)) => w,
            Command::Attend(a) => {
                self.procs[idx].branches.push(Branch {
                    wait: BranchWait::Attend(a.idx),
                    group: 0,
                    all_len: 0,
                    done: false,
                });
                return None;
            }
            Command::FirstOf(branches) => {
                self.procs[idx].shape = Shape::FirstOf;
                self.issue_first_of(idx, epoch, branches);
                return None;
            }
            Command::AllOf(branches) => {
                self.procs[idx].shape = Shape::AllOf;
                let n = branches.len() as u16;
                for wait in branches.0 {
                    self.register(idx, epoch, wait, 0, n);
                }
                return None;
            }
            Command::Done | Command::Resume(_) => unreachable!("handled by issue"),
            single => Wait::from_command(single),
        };
        // A single wait on an event that was already processed continues at once.
        match single {
            Wait::Join(p) if self.has_exited(p) => {
                self.procs[idx].phase = Phase::Satisfied;
                return Some(Wake::Completed(Outcome::Joined(p, self.late_exit(p))));
            }
            Wait::Signal(s) if self.signal_fired(s) => {
                let value = self.signals[s.idx as usize].value().expect("fired");
                self.procs[idx].phase = Phase::Satisfied;
                return Some(Wake::Completed(Outcome::Signaled(s, value)));
            }
            _ => {}
        }
        self.register(idx, epoch, single, 0, 0);
        None
    }

    /// Whether `p`'s exit event has been processed (joining it continues at once).
    /// Makes the process wait afresh (a single wait until branches say otherwise) under a
    /// new epoch, which it returns: leftovers of earlier waits can never match it.
    fn begin_wait(&mut self, idx: usize, masked: bool) -> u32 {
        self.begin_wait_with(idx, masked, None)
    }

    /// [`Simulation::begin_wait`], with the first branch (if any) set in the same look at
    /// the slot (the spared check does not read the branches). `step_once` repeats it for
    /// a plain sleep, through the slot it holds: a change here belongs there too.
    #[inline(always)]
    fn begin_wait_with(&mut self, idx: usize, masked: bool, first: Option<Branch>) -> u32 {
        let slot = &mut self.procs[idx];
        let epoch = Self::start_wait(slot, &mut self.meta[idx], self.now, masked, first);
        if slot.spared && !masked {
            // It can be told now that it lost a slot: let the better request try again.
            self.recheck_spared(idx);
        }
        epoch
    }

    /// What starting a single wait writes, on a slot at hand (its `meta` beside it): a new
    /// epoch, the wait's fields, its first branch if any. Returns the epoch. (The caller
    /// then looks at `spared`: a process spared a preemption can be told now.)
    #[inline(always)]
    pub(crate) fn start_wait(
        slot: &mut Slot<M>,
        meta: &mut super::Meta,
        now: f64,
        masked: bool,
        first: Option<Branch>,
    ) -> u32 {
        let epoch = meta.epoch.wrapping_add(1);
        meta.epoch = epoch;
        slot.phase = Phase::Waiting;
        slot.since = now;
        slot.masked = masked;
        slot.shape = Shape::Single;
        match first {
            Some(branch) => slot.branches.set_one(branch),
            None => slot.branches.clear(),
        }
        epoch
    }

    /// The first branch of a plain `Sleep(dt)`.
    #[inline(always)]
    pub(crate) fn sleep_branch(dt: f64) -> Branch {
        Branch {
            wait: BranchWait::Sleep(dt),
            group: 0,
            all_len: 0,
            done: false,
        }
    }

    /// Whether a fast path may take a wait on the primitive `(sim, idx)` of a table of
    /// `len`: it is this simulation's, it exists, and nobody watches waits. (Of fields, not
    /// of `&self`: `step_once` asks with a process's slot borrowed.)
    #[inline(always)]
    pub(crate) fn plain_target(trace_waits: bool, id: u32, len: usize, sim: u32, idx: u32) -> bool {
        !trace_waits && sim == id && (idx as usize) < len
    }

    /// The delay of a valid `Sleep`, the most common command, issued by a process with
    /// nothing unusual going on (no interrupt queued, no summons): it may skip the general
    /// path's checks and go to [`Simulation::sleep`].
    #[inline]
    pub(crate) fn plain_sleep(&self, idx: usize, command: &Command<M::Item>) -> Option<f64> {
        match *command {
            Command::Sleep(dt) if self.valid_delay(dt) && self.is_ordinary(idx) => Some(dt),
            _ => None,
        }
    }

    /// Whether the process has nothing unusual going on for the fast paths of `Sleep` and
    /// `Acquire`: no interrupt queued (its command would be held), no summons to answer.
    /// (A process that spawned others has a `Rare` for its spawn count: still ordinary.)
    #[inline]
    pub(crate) fn is_ordinary(&self, idx: usize) -> bool {
        Self::slot_is_ordinary(&self.procs[idx])
    }

    /// [`Simulation::is_ordinary`], of a slot at hand.
    #[inline(always)]
    pub(crate) fn slot_is_ordinary(slot: &Slot<M>) -> bool {
        slot.rare
            .as_deref()
            .is_none_or(|r| r.interrupts.is_empty() && r.summoned.is_none())
    }

    /// Starts a plain `Sleep(dt)` (already validated) as the process's single wait.
    /// (`step_once` does the same inline, through the slot it holds.)
    #[inline]
    pub(crate) fn sleep(&mut self, idx: usize, dt: f64) {
        if self.trace_waits {
            self.emit_wait(idx, &Command::Sleep(dt));
        }
        let epoch = self.begin_wait_with(idx, false, Some(Self::sleep_branch(dt)));
        self.schedule(self.now + dt, NORMAL, idx as u32, epoch, Kind::Timer(0));
    }

    /// Whether `Acquire(r)` may take the fast path: valid as it stands, from a process with
    /// nothing unusual going on (no interrupt queued, no summons), nobody watching waits.
    /// (`step_once` makes the same checks, the process's slot at hand.)
    #[inline]
    pub(crate) fn plain_acquire(&self, idx: usize, r: ResourceId) -> bool {
        self.is_ordinary(idx)
            && Self::plain_target(
                self.trace_waits,
                self.id,
                self.resources.len(),
                r.sim,
                r.idx,
            )
    }

    /// Whether a `Get(q)` or `Put(q, _)` is valid as it stands, from a process with nothing
    /// unusual going on (no interrupt queued, no summons, nobody watching waits): it may go
    /// to [`Simulation::queue_op`]. (`step_once` makes the same checks, the process's slot
    /// at hand.)
    #[inline]
    pub(crate) fn plain_queue_op(&self, idx: usize, q: QueueId) -> bool {
        self.is_ordinary(idx)
            && Self::plain_target(self.trace_waits, self.id, self.queues.len(), q.sim, q.idx)
    }

    /// Starts a `Get` or `Put` that [`Simulation::plain_queue_op`] approved: what the
    /// general path does for it, without the checks that cannot apply; one that completes
    /// at once joins no line.
    pub(crate) fn queue_op(&mut self, idx: usize, command: Command<M::Item>) {
        self.queue_op_inline(idx, command);
    }

    /// [`Simulation::queue_op`], inlined where a step returns.
    #[inline(always)]
    pub(crate) fn queue_op_inline(&mut self, idx: usize, command: Command<M::Item>) {
        self.registering = Some(idx);
        let epoch = self.begin_wait(idx, false);
        if self.queue_op_at_once(&command) {
            self.get_or_put_at_once(idx, epoch, command);
        } else if self.places.is_empty() {
            self.get_or_put_in_line(idx, epoch, command);
        } else {
            self.register(idx, epoch, Wait::from_command(command), 0, 0);
        }
        self.registering = None;
        let slot = &self.procs[idx];
        if slot.spared && slot.phase == Phase::Waiting && !slot.masked {
            self.recheck_spared(idx);
        }
    }

    /// Starts a plain, valid `Acquire(r)` as the process's single wait: what `start` and
    /// `register` do, with a free slot nobody waits for taken at once (no trip through the
    /// wait list) when no monitor records the list's length.
    #[inline]
    pub(crate) fn acquire(&mut self, idx: usize, r: ResourceId) {
        // The branch is set at once (a slot granted at once clears it again in `satisfied`).
        let epoch = self.begin_wait_with(
            idx,
            false,
            Some(Branch {
                wait: BranchWait::Acquire(r.idx),
                group: 0,
                all_len: 0,
                done: false,
            }),
        );
        debug_assert!(self.places.is_empty(), "not a resumed request");
        let waiter = self.new_waiter(idx, epoch, 0);
        let key = self.request_key(None);
        let res = &mut self.resources[r.idx as usize];
        if !(res.serves_at_once() && res.monitor.is_none()) {
            // `register`, for this one case: in line, then the resource's offer — which can
            // only do something with a free slot, or on a resource that can preempt.
            let offer = res.has_room() || res.kind == ResourceKind::Preemptive;
            res.enqueue_new(Request { waiter, key }, self.now);
            if offer {
                self.trigger_grants(r.idx);
            }
            return;
        }
        self.grant(idx, r.idx, key);
        // Its wake may be the next event: `satisfied` sets the hint for a run to look.
        self.satisfied(waiter, Outcome::Acquired(r), AtOnce::Event(Hook::None));
    }

    /// Tells the observer that the process starts the wait of `command` (only for an
    /// observer that wants waits).
    #[cold]
    #[inline(never)]
    fn emit_wait(&mut self, idx: usize, command: &Command<M::Item>) {
        if let Some(waiting) = Waiting::of(command) {
            self.emit(idx, TraceKind::Wait(waiting));
        }
    }

    fn has_exited(&self, p: Pid) -> bool {
        self.live(p)
            .is_none_or(|i| self.procs[i].phase == Phase::Exited)
    }

    /// The exit a joiner of an exited process receives: known while its exit event is
    /// being processed, gone after.
    fn late_exit(&self, p: Pid) -> Exit<M::Item> {
        match self.live(p) {
            Some(i) => self.exit_of(i),
            None => self.kept_exit(p),
        }
    }

    fn signal_fired(&self, s: SignalId) -> bool {
        matches!(self.signals[s.idx as usize].phase, SignalPhase::Fired(_))
    }

    /// Starts a `FirstOf` whose branches are all sleeps, plain requests, plain gets or puts
    /// that validation would accept, from a process with nothing unusual going on (see
    /// [`Self::plain_first_winner`]; `false`, nothing done, otherwise): what `issue`, `start`
    /// and `issue_first_of` do for it, registering each branch where it lies in `branches`
    /// (no command moved whole, no `Wait` built per branch). A put's item moves into the
    /// queue's line (a `Yield` is left in its place), and branches left unregistered (one
    /// completed while registering) move into the wake: what stays in `branches` owns
    /// nothing, so the caller may forget it unless it spilled to the heap.
    pub(crate) fn first_of(&mut self, idx: usize, branches: &mut Branches<M::Item>) -> bool {
        let Some((mut winner, puts)) = self.plain_first_winner(idx, branches) else {
            return false;
        };
        debug_assert!(self.places.is_empty(), "not a resumed request");
        // While its command registers, the process is not yet told of a preemption.
        self.registering = Some(idx);
        let spared = self.procs[idx].spared;
        let epoch = self.begin_wait(idx, false);
        if spared {
            // `begin_wait` let a better request try again: the lines may have changed.
            winner = branches
                .as_slice()
                .iter()
                .position(|w| self.completes_at_once(w));
        }
        self.procs[idx].shape = Shape::FirstOf;
        if let Some(index) = winner {
            // The first branch that can complete now wins; the others are never started.
            if self.park_first_at_once(idx, branches, index, puts) {
                self.after_start(idx);
                return true;
            }
            self.first_won_at_once(idx, std::mem::take(&mut branches.0), index);
        } else {
            let n = branches.0.len();
            for group in 0..n {
                if self.procs[idx].phase != Phase::Waiting {
                    // A branch completed while registering (a preemption made room): the
                    // waits not yet registered go back untouched.
                    let key = self.procs[idx].ready as usize;
                    let rest = branches.0.drain(group..);
                    if let Some(Wake::First(first)) = self.wakes.get_mut(key) {
                        first.others.0.extend(rest);
                    }
                    break;
                }
                let wait = match branches.0[group] {
                    Wait::Sleep(dt) => BranchWait::Sleep(dt),
                    Wait::Acquire(r) => BranchWait::Acquire(r.idx),
                    Wait::Get(q) => BranchWait::Get(q.idx),
                    _ => {
                        let wait = std::mem::replace(&mut branches.0[group], Wait::Yield);
                        self.register(idx, epoch, wait, group as u16, 0);
                        continue;
                    }
                };
                self.register_plain(idx, epoch, wait, group as u16);
            }
        }
        self.after_start(idx);
        true
    }

    /// Branch `index` of a `FirstOf` completes at once, none of the others started: it is
    /// taken, and the others go back in the parked `Wake::First`.
    fn first_won_at_once(
        &mut self,
        idx: usize,
        mut others: SmallVec<[Wait<M::Item>; 4]>,
        index: usize,
    ) {
        let wait = others.remove(index);
        let (outcome, via) = self.take_at_once(idx, wait);
        self.procs[idx].phase = Phase::Satisfied;
        let wake = Wake::First(First::new(index, outcome, Branches(others)));
        self.park(idx, wake, via.first_event());
    }

    /// The branch of a [`Parked::First`] record for a wait, if it can stand for it when
    /// handed back as a losing branch (a sleep, a plain request, a plain get).
    fn compact_loser(wait: &Wait<M::Item>) -> Option<BranchWait> {
        match *wait {
            Wait::Sleep(dt) => Some(BranchWait::Sleep(dt)),
            Wait::Acquire(r) => Some(BranchWait::Acquire(r.idx)),
            Wait::Get(q) => Some(BranchWait::Get(q.idx)),
            _ => None,
        }
    }

    /// Completes the branch `index` of a `FirstOf` at once (none of its branches started),
    /// parked as [`Parked::First`] if every other branch can be handed back from its record
    /// (`false`, nothing done, otherwise: only a put can lack one, and `puts` says whether
    /// there is one). The winner's wait is taken out of `branches` (a `Yield` left in its
    /// place).
    fn park_first_at_once(
        &mut self,
        idx: usize,
        branches: &mut Branches<M::Item>,
        index: usize,
        puts: bool,
    ) -> bool {
        let waits = branches.as_slice();
        // Without a put, every branch has a record (a put has one only as the winner).
        if puts
            && !waits
                .iter()
                .enumerate()
                .all(|(i, w)| i == index || Self::compact_loser(w).is_some())
        {
            return false;
        }
        for (i, w) in waits.iter().enumerate() {
            let wait = match *w {
                // The winner's record says what it won.
                Wait::Put(q, _) if i == index => BranchWait::Put(q.idx),
                ref w => Self::compact_loser(w).expect("a plain branch"),
            };
            self.procs[idx].branches.push_branch(Branch {
                wait,
                group: i as u16,
                all_len: 0,
                done: i == index,
            });
        }
        let (outcome, kind) = match branches.0[index] {
            // The common winner, a free slot nobody waits for: `take_at_once`, inline.
            Wait::Acquire(r) => {
                self.grant(idx, r.idx, self.request_key(None));
                (Outcome::Acquired(r), Kind::Ready(Hook::None))
            }
            _ => {
                let wait = std::mem::replace(&mut branches.0[index], Wait::Yield);
                let (outcome, via) = self.take_at_once(idx, wait);
                (outcome, via.first_event())
            }
        };
        self.procs[idx].phase = Phase::Satisfied;
        self.park_first(idx, outcome, kind);
        true
    }

    /// Parks a [`Parked::First`] completion whose records are in place: only an item
    /// taken is stored (the winner's record says what else it won).
    fn park_first(&mut self, idx: usize, outcome: Outcome<M::Item>, kind: Kind) {
        self.park_first_records(idx, outcome);
        // Its event may be the next one: a run carries it out in place.
        self.in_place_hint = true;
        self.schedule(self.now, NORMAL, idx as u32, 0, kind);
    }

    /// [`Self::park_first`] without its event.
    #[inline(always)]
    fn park_first_records(&mut self, idx: usize, outcome: Outcome<M::Item>) {
        let slot = &mut self.procs[idx];
        slot.parked = Parked::First;
        match outcome {
            o @ (Outcome::Slept | Outcome::Acquired(_) | Outcome::Put) => {
                // Owns nothing: skip its (out-of-line) drop glue.
                std::mem::forget(o);
                slot.ready = u32::MAX;
            }
            o => slot.ready = self.outcomes.insert(o) as u32,
        }
    }

    /// The `Wake::First` of a [`Parked::First`] completion, taken out of its records (its
    /// slot, if it won one, looks again for a holder to preempt, as after any grant).
    pub(crate) fn first_wake(&mut self, idx: usize) -> WakeOf<M> {
        let sim = self.id;
        let slot = &mut self.procs[idx];
        slot.parked = Parked::Wake;
        let records = slot.branches.as_slice();
        let index = records.iter().position(|b| b.done).expect("a branch won");
        let won = (index, records[index].wait);
        let mut others = SmallVec::new();
        others.extend(records.iter().filter(|b| !b.done).map(|b| match b.wait {
            BranchWait::Sleep(dt) => Wait::Sleep(dt),
            BranchWait::Acquire(r) => Wait::Acquire(ResourceId { sim, idx: r }),
            BranchWait::Get(q) => Wait::Get(QueueId { sim, idx: q }),
            _ => unreachable!("only sleeps, plain requests and plain gets are kept"),
        }));
        slot.branches.clear();
        let (index, wait) = won;
        let outcome = match wait {
            BranchWait::Sleep(_) => Outcome::Slept,
            BranchWait::Put(_) => Outcome::Put,
            BranchWait::Acquire(r) => {
                let r = ResourceId { sim, idx: r };
                self.recheck_taken_slot(r);
                Outcome::Acquired(r)
            }
            BranchWait::Get(_) => self.outcomes.remove(slot.ready as usize),
            _ => unreachable!("a plain branch won"),
        };
        Wake::First(First::new(index, outcome, Branches(others)))
    }

    /// The waiter of a new request: branch `branch` of process `idx`'s wait `epoch`, with
    /// the next ticket (its place among all requests).
    #[inline(always)]
    fn new_waiter(&mut self, idx: usize, epoch: u32, branch: u32) -> Waiter {
        self.tickets += 1;
        Waiter {
            idx: idx as u32,
            epoch,
            branch,
            ticket: self.tickets,
        }
    }

    /// [`Self::register`] for a new sleep, plain request or plain get as a `FirstOf` branch.
    #[inline]
    fn register_plain(&mut self, idx: usize, epoch: u32, wait: BranchWait, group: u16) {
        let slot = &mut self.procs[idx];
        let branch = slot.branches.len() as u32;
        slot.branches.push_branch(Branch {
            wait,
            group,
            all_len: 0,
            done: false,
        });
        match wait {
            BranchWait::Sleep(dt) => {
                self.schedule(
                    self.now + dt,
                    NORMAL,
                    idx as u32,
                    epoch,
                    Kind::Timer(branch),
                );
            }
            BranchWait::Acquire(r) => {
                let waiter = self.new_waiter(idx, epoch, branch);
                let key = self.request_key(None);
                let res = &mut self.resources[r as usize];
                // The offer can only do something with a free slot, or by preempting.
                let offer = res.has_room() || res.kind == ResourceKind::Preemptive;
                res.enqueue_new(Request { waiter, key }, self.now);
                if offer {
                    self.trigger_grants(r);
                }
            }
            BranchWait::Get(q) => {
                let waiter = self.new_waiter(idx, epoch, branch);
                self.line_up_getter(q, waiter, None);
                self.trigger_gets(q);
            }
            _ => unreachable!("only sleeps, plain requests and plain gets"),
        }
    }

    fn issue_first_of(&mut self, idx: usize, epoch: u32, branches: Branches<M::Item>) {
        let filters = branches
            .as_slice()
            .iter()
            .find_map(|w| match w {
                Wait::GetWhere(q, _) => Some(q.idx),
                _ => None,
            })
            .and_then(|q| self.enter_queue_code(q, None));
        let winner = branches
            .as_slice()
            .iter()
            .position(|w| self.completes_at_once(w));
        self.leave_queue_code(filters);
        if let Some(index) = winner {
            // The first branch that can complete now wins; the others are never started.
            self.first_won_at_once(idx, branches.0, index);
            return;
        }
        // A branch may complete while registering (a barrier it trips, a filtered get served
        // by the trigger): the waits not yet registered then go back untouched.
        let mut unregistered: SmallVec<[Wait<M::Item>; 4]> = SmallVec::new();
        for (group, wait) in branches.0.into_iter().enumerate() {
            if self.procs[idx].phase != Phase::Waiting {
                unregistered.push(wait);
                continue;
            }
            match wait {
                Wait::AllOf(all) => {
                    let n = all.len() as u16;
                    let mut rest = all.0.into_iter();
                    for w in rest.by_ref() {
                        self.register(idx, epoch, w, group as u16, n);
                        if self.procs[idx].phase != Phase::Waiting {
                            break;
                        }
                    }
                    let rest: Branches<M::Item> = Branches(rest.collect());
                    if !rest.is_empty() {
                        // The registered part of this group was handed back as the last
                        // losing branch: the rest joins it, so the group comes back whole.
                        let key = self.procs[idx].ready as usize;
                        if let Some(Wake::First(first)) = self.wakes.get_mut(key)
                            && let Some(Wait::AllOf(part)) = first.others.0.last_mut()
                        {
                            part.0.extend(rest.0);
                        }
                    }
                }
                w => self.register(idx, epoch, w, group as u16, 0),
            }
        }
        if !unregistered.is_empty() {
            let key = self.procs[idx].ready as usize;
            if let Some(Wake::First(first)) = self.wakes.get_mut(key) {
                first.others.0.extend(unregistered);
            }
        }
    }

    /// Whether a wait would complete the moment it is registered.
    fn completes_at_once(&self, wait: &Wait<M::Item>) -> bool {
        match wait {
            Wait::Sleep(_) | Wait::Yield | Wait::AllOf(_) | Wait::Invalid(_) => false,
            Wait::Get(q) => self.queues[q.idx as usize].gets_at_once(),
            Wait::GetWhere(q, f) => {
                let q = &self.queues[q.idx as usize];
                q.getters.is_empty() && q.find(Some(f)).is_some()
            }
            Wait::Put(q, _) => self.queues[q.idx as usize].puts_at_once(),
            Wait::Acquire(r) | Wait::AcquireWith(r, _) => {
                self.resources[r.idx as usize].serves_at_once()
            }
            Wait::GetAmount(c, n) => {
                let c = &self.containers[c.idx as usize];
                c.getters.is_empty() && c.can_get(*n)
            }
            Wait::PutAmount(c, n) => {
                let c = &self.containers[c.idx as usize];
                c.putters.is_empty() && c.can_put(*n)
            }
            Wait::Signal(s) => self.signal_fired(*s),
            Wait::Arrive(b) => {
                let b = &self.barriers[b.idx as usize];
                b.waiting.len() + 1 >= b.parties
            }
            Wait::Join(p) => self.has_exited(*p),
        }
    }

    /// Completes a wait that [`Self::completes_at_once`] approved.
    fn take_at_once(&mut self, idx: usize, wait: Wait<M::Item>) -> (Outcome<M::Item>, AtOnce) {
        let user_code = match &wait {
            Wait::GetWhere(q, _) | Wait::Put(q, _) => self.enter_queue_code(q.idx, None),
            _ => None,
        };
        let taken = self.take_at_once_inner(idx, wait);
        self.leave_queue_code(user_code);
        taken
    }

    fn take_at_once_inner(
        &mut self,
        idx: usize,
        wait: Wait<M::Item>,
    ) -> (Outcome<M::Item>, AtOnce) {
        match wait {
            Wait::Get(q) => {
                let item = self.queues[q.idx as usize]
                    .take_front(self.now)
                    .expect("approved");
                (Outcome::Got(item), AtOnce::Event(Hook::Puts(q.idx)))
            }
            Wait::GetWhere(q, f) => {
                let queue = &mut self.queues[q.idx as usize];
                let at = queue.find(Some(&f)).expect("approved");
                let item = queue.take_item(at, self.now).expect("in range");
                (Outcome::Got(item), AtOnce::Event(Hook::Puts(q.idx)))
            }
            Wait::Put(q, item) => {
                self.queues[q.idx as usize].push_item(item, self.now);
                (Outcome::Put, AtOnce::Event(Hook::Gets(q.idx)))
            }
            Wait::Acquire(r) => {
                self.grant(idx, r.idx, self.request_key(None));
                (Outcome::Acquired(r), AtOnce::Event(Hook::None))
            }
            Wait::AcquireWith(r, p) => {
                self.grant(idx, r.idx, self.request_key(Some(p)));
                (Outcome::Acquired(r), AtOnce::Event(Hook::None))
            }
            Wait::GetAmount(c, n) => {
                self.containers[c.idx as usize].change(-n, self.now);
                (Outcome::GotAmount(c, n), AtOnce::Event(Hook::Fills(c.idx)))
            }
            Wait::PutAmount(c, n) => {
                self.containers[c.idx as usize].change(n, self.now);
                (Outcome::PutAmount(c, n), AtOnce::Event(Hook::Draws(c.idx)))
            }
            Wait::Signal(s) => {
                let value = self.signals[s.idx as usize].value().expect("fired");
                (Outcome::Signaled(s, value), AtOnce::Processed)
            }
            Wait::Arrive(b) => {
                // This arrival trips the barrier: the others are released too.
                self.release_barrier_now(b.idx);
                (Outcome::Released(b), AtOnce::Event(Hook::None))
            }
            Wait::Join(p) => (Outcome::Joined(p, self.late_exit(p)), AtOnce::Processed),
            Wait::Sleep(_) | Wait::Yield | Wait::AllOf(_) | Wait::Invalid(_) => {
                unreachable!("never completes at once")
            }
        }
    }

    /// SimPy's request key for a request made now (a plain `Acquire` has priority 0 and may
    /// preempt, as SimPy's default request does).
    fn request_key(&self, priority: Option<Priority>) -> Key {
        let p = priority.unwrap_or(Priority::new(0.0));
        Key {
            level: p.level,
            time: self.now,
            no_preempt: !p.preempt,
        }
    }

    #[inline(always)]
    fn grant(&mut self, idx: usize, r: u32, key: Key) -> Pid {
        let pid = self.pid_of(idx);
        self.resources[r as usize].add_holder(pid, key, self.now);
        let slot = &mut self.procs[idx];
        slot.holds += 1;
        if let Some(rare) = slot.rare.as_mut()
            && !rare.lost.is_empty()
        {
            // Holding `r` again: a release is for the new slot, not a lost one.
            rare.lost.retain(|&x| x != r);
        }
        pid
    }

    /// Whether a valid plain `Get` or `Put` on a FIFO queue (no filter, no order: no user
    /// code runs) completes the moment it registers with nobody ahead of it: an item is
    /// there and no getter waits, or there is room and no putter waits.
    #[inline(always)]
    fn queue_op_at_once(&self, command: &Command<M::Item>) -> bool {
        let (Command::Get(q) | Command::Put(q, _)) = command else {
            return false;
        };
        let queue = &self.queues[q.idx as usize];
        if queue.filtered || queue.order.is_some() {
            return false;
        }
        match command {
            Command::Get(_) => queue.gets_at_once(),
            _ => queue.puts_at_once(),
        }
    }

    /// What `register` and the queue's trigger do for a get or put that
    /// [`Self::queue_op_at_once`]: the process joins no line (it would be alone at its
    /// head and leave it at once), the item moves, and the process is satisfied exactly as
    /// `trigger_gets`/`trigger_puts` would satisfy it (same outcome, same hook, same event).
    fn get_or_put_at_once(&mut self, idx: usize, epoch: u32, command: Command<M::Item>) {
        // The ticket it would have drawn: later requests keep theirs.
        let waiter = self.new_waiter(idx, epoch, 0);
        match command {
            Command::Put(q, item) => {
                self.queues[q.idx as usize].push_item(item, self.now);
                self.satisfied(waiter, Outcome::Put, AtOnce::Event(Hook::Gets(q.idx)));
            }
            Command::Get(q) => {
                // Owns nothing: skip its (out-of-line) drop glue.
                std::mem::forget(command);
                let item = self.queues[q.idx as usize]
                    .take_front(self.now)
                    .expect("an item is there");
                self.satisfied(waiter, Outcome::Got(item), AtOnce::Event(Hook::Puts(q.idx)));
            }
            _ => unreachable!("checked by queue_op_at_once"),
        }
    }

    /// What `register` does for a new plain `Get` or `Put` (no resumed place to take back)
    /// as the single wait: the process joins the back of its line (the newest ticket), then
    /// the queue's trigger runs as SimPy's does when a request is created.
    fn get_or_put_in_line(&mut self, idx: usize, epoch: u32, command: Command<M::Item>) {
        let waiter = self.new_waiter(idx, epoch, 0);
        let wait = match command {
            Command::Get(q) => {
                // Owns nothing: skip its (out-of-line) drop glue.
                std::mem::forget(command);
                self.line_up_getter(q.idx, waiter, None);
                BranchWait::Get(q.idx)
            }
            Command::Put(q, item) => {
                self.line_up_putter(q.idx, waiter, item);
                BranchWait::Put(q.idx)
            }
            _ => unreachable!("a get or a put"),
        };
        self.procs[idx].branches.set_one(Branch {
            wait,
            group: 0,
            all_len: 0,
            done: false,
        });
        match wait {
            BranchWait::Get(q) => self.trigger_gets(q),
            BranchWait::Put(q) => self.trigger_puts(q),
            _ => unreachable!("a get or a put"),
        }
    }

    /// `waiter` joins queue `q`'s getters in ticket order (see `in_line`).
    #[inline(always)]
    fn line_up_getter(&mut self, q: u32, waiter: Waiter, filter: Option<Filter<M::Item>>) {
        let getter = Getter { waiter, filter };
        in_line(&mut self.queues[q as usize].getters, getter, |g| {
            g.waiter.ticket
        });
    }

    /// `waiter` joins queue `q`'s putters with its item, in ticket order (see `in_line`).
    #[inline(always)]
    fn line_up_putter(&mut self, q: u32, waiter: Waiter, item: M::Item) {
        in_line(&mut self.queues[q as usize].putters, (waiter, item), |p| {
            p.0.ticket
        });
    }

    /// Registers one wait as the next branch, then runs the primitive's trigger as SimPy
    /// does when a request is created.
    fn register(&mut self, idx: usize, epoch: u32, wait: Wait<M::Item>, group: u16, all_len: u16) {
        let branch = self.procs[idx].branches.len() as u32;
        // A resumed request takes back its place in line (its old ticket, and its old time
        // among equal priorities); a new one goes to the back.
        let place = self.places.iter().find(|p| p.branch == branch).copied();
        let ticket = match place {
            Some(p) => p.ticket,
            None => {
                self.tickets += 1;
                self.tickets
            }
        };
        let waiter = Waiter {
            idx: idx as u32,
            epoch,
            branch,
            ticket,
        };
        let compact = match wait {
            Wait::Sleep(dt) => {
                self.schedule(
                    self.now + dt,
                    NORMAL,
                    idx as u32,
                    epoch,
                    Kind::Timer(branch),
                );
                BranchWait::Sleep(dt)
            }
            Wait::Yield => {
                self.schedule(self.now, NORMAL, idx as u32, epoch, Kind::Timer(branch));
                BranchWait::Yield
            }
            Wait::Get(q) => {
                self.line_up_getter(q.idx, waiter, None);
                BranchWait::Get(q.idx)
            }
            Wait::GetWhere(q, f) => {
                self.line_up_getter(q.idx, waiter, Some(f));
                BranchWait::GetWhere(q.idx)
            }
            Wait::Put(q, item) => {
                self.line_up_putter(q.idx, waiter, item);
                BranchWait::Put(q.idx)
            }
            Wait::Acquire(r) => {
                let mut key = self.request_key(None);
                if let Some(p) = place {
                    key.time = p.since;
                }
                self.resources[r.idx as usize].enqueue(Request { waiter, key }, self.now);
                BranchWait::Acquire(r.idx)
            }
            Wait::AcquireWith(r, p) => {
                // The priority lives on in the request's key.
                let mut key = self.request_key(Some(p));
                if let Some(p) = place {
                    key.time = p.since;
                }
                self.resources[r.idx as usize].enqueue(Request { waiter, key }, self.now);
                BranchWait::AcquireWith(r.idx)
            }
            Wait::GetAmount(c, n) => {
                in_line(
                    &mut self.containers[c.idx as usize].getters,
                    (waiter, n),
                    |g| g.0.ticket,
                );
                BranchWait::GetAmount(c.idx)
            }
            Wait::PutAmount(c, n) => {
                in_line(
                    &mut self.containers[c.idx as usize].putters,
                    (waiter, n),
                    |g| g.0.ticket,
                );
                BranchWait::PutAmount(c.idx)
            }
            Wait::Signal(s) => {
                if !self.signal_fired(s) {
                    self.signals[s.idx as usize].waiters.push(waiter);
                }
                BranchWait::Signal(s.idx)
            }
            Wait::Arrive(b) => {
                self.barriers[b.idx as usize].waiting.push(waiter);
                BranchWait::Arrive(b.idx)
            }
            Wait::Join(p) => {
                if !self.has_exited(p) {
                    // A live or finishing target wakes its joiners from its exit event.
                    let t = self.live(p).expect("not exited");
                    self.procs[t].rare().joiners.push(waiter);
                    if self.procs[t].phase == Phase::Finishing {
                        self.queue_exit(t);
                    }
                }
                BranchWait::Join(p)
            }
            Wait::AllOf(_) => unreachable!("flattened by the caller"),
            Wait::Invalid(_) => unreachable!("rejected by validation"),
        };
        self.procs[idx].branches.push(Branch {
            wait: compact,
            group,
            all_len,
            done: false,
        });
        match compact {
            BranchWait::Sleep(_) | BranchWait::Yield => {}
            BranchWait::Get(q) | BranchWait::GetWhere(q) => self.trigger_gets(q),
            BranchWait::Put(q) => self.trigger_puts(q),
            BranchWait::Acquire(r) | BranchWait::AcquireWith(r) => self.trigger_grants(r),
            BranchWait::GetAmount(c) => self.trigger_draws(c),
            BranchWait::PutAmount(c) => self.trigger_fills(c),
            BranchWait::Arrive(b) => {
                let barrier = &self.barriers[b as usize];
                if barrier.waiting.len() >= barrier.parties {
                    self.release_barrier_now(b);
                }
            }
            BranchWait::Signal(s) => {
                if self.signal_fired(SignalId {
                    sim: self.id,
                    idx: s,
                }) {
                    let value = self.signals[s as usize].value().expect("fired");
                    let sid = SignalId {
                        sim: self.id,
                        idx: s,
                    };
                    self.satisfied(waiter, Outcome::Signaled(sid, value), AtOnce::Processed);
                }
            }
            BranchWait::Attend(_) => unreachable!("issued directly"),
            BranchWait::Join(p) => {
                if self.has_exited(p) {
                    let exit = self.late_exit(p);
                    self.satisfied(waiter, Outcome::Joined(p, exit), AtOnce::Processed);
                }
            }
        }
    }

    // ----- completing -----

    /// A primitive completed a branch: record it and, if that completes the command, park
    /// the wake behind the request's own event.
    #[inline(always)]
    fn satisfied(&mut self, w: Waiter, outcome: Outcome<M::Item>, via: AtOnce) {
        let idx = w.idx as usize;
        let slot = &mut self.procs[idx];
        if slot.shape == Shape::Single {
            // The common case, kept small: park the outcome, not a whole `Wake`.
            slot.phase = Phase::Satisfied;
            slot.branches.clear();
            let hook = match via {
                AtOnce::Event(hook) => hook,
                AtOnce::Processed => Hook::None,
            };
            match outcome {
                Outcome::Acquired(r) if hook == Hook::None => {
                    // Owns nothing: skip its (out-of-line) drop glue.
                    std::mem::forget(outcome);
                    slot.parked = Parked::Slot;
                    slot.ready = r.idx;
                }
                Outcome::Put => {
                    std::mem::forget(outcome);
                    slot.parked = Parked::Put;
                }
                outcome => {
                    slot.parked = Parked::Outcome;
                    slot.ready = self.outcomes.insert(outcome) as u32;
                }
            }
            // Its event may be the next one: a run carries it out in place.
            self.in_place_hint = true;
            self.schedule(self.now, NORMAL, idx as u32, 0, Kind::Ready(hook));
            return;
        }
        if slot.is_plain_first_of() {
            self.first_done(idx, w.branch as usize, outcome, via.first_event(), false);
            return;
        }
        // The wake goes straight to `park` (not through a tuple: a `Wake` is large).
        match self.branch_done(idx, w.branch as usize, outcome) {
            Some(wake) => {
                let kind = match via {
                    AtOnce::Event(hook) => Kind::Ready(hook),
                    AtOnce::Processed if self.procs[idx].shape == Shape::Single => {
                        Kind::Ready(Hook::None)
                    }
                    AtOnce::Processed => Kind::Resume,
                };
                self.park(idx, wake, kind)
            }
            // Part of an AllOf: the request's event still runs its hook.
            None => {
                if let AtOnce::Event(hook) = via
                    && hook != Hook::None
                {
                    self.schedule_hook(hook)
                }
            }
        }
    }

    /// A branch completed inside its own event (a timer).
    pub(crate) fn branch_done_in_event(
        &mut self,
        idx: usize,
        branch: usize,
        outcome: Outcome<M::Item>,
    ) -> Result<(), Error> {
        if self.procs[idx].is_plain_first_of() {
            // Its condition event, one hop later (what `wake_or_hop` does for it).
            self.first_done(idx, branch, outcome, Kind::Resume, false);
            return Ok(());
        }
        match self.branch_done(idx, branch, outcome) {
            Some(wake) => self.wake_or_hop(idx, wake),
            None => Ok(()),
        }
    }

    /// A branch of a `FirstOf` of single waits (no `AllOf` branch: each branch is its own
    /// group) completed: what `branch_done`, `finish_wait` and `park` do for it, the wake
    /// built where it is parked. The losers are withdrawn now (a timer is left stale, to be
    /// dropped where it is met; a request leaves its line).
    /// With `in_place` (inside a run), a completion parked as its records while nothing is
    /// queued at `now` (once the losers are withdrawn) is not scheduled: `true`, for the
    /// caller to carry its event(s) out in place (see [`Simulation::first_hop_in_place`]).
    pub(crate) fn first_done(
        &mut self,
        idx: usize,
        branch: usize,
        outcome: Outcome<M::Item>,
        kind: Kind,
        in_place: bool,
    ) -> bool {
        let registering = self.registering == Some(idx);
        let slot = &mut self.procs[idx];
        slot.phase = Phase::Satisfied;
        if !registering
            && slot.branches.iter().enumerate().all(|(b, x)| {
                // The winner's record must say what it won, the losers' what they were.
                matches!(
                    x.wait,
                    BranchWait::Sleep(_) | BranchWait::Acquire(_) | BranchWait::Get(_)
                ) || (b == branch && matches!(x.wait, BranchWait::Put(_)))
            })
        {
            // Parked as its records (not while registering: branches not yet registered
            // would have to join the wake). The losers are withdrawn now; a timer is left
            // stale, to be dropped where it is met.
            let records = slot.branches.as_mut_slice();
            records[branch].done = true;
            let n = records.len();
            let epoch = self.meta[idx].epoch;
            let me = |b: usize| Waiter {
                idx: idx as u32,
                epoch,
                branch: b as u32,
                ticket: 0,
            };
            for b in 0..n {
                match self.procs[idx].branches.as_slice()[b] {
                    Branch { done: true, .. } => {}
                    Branch {
                        wait: BranchWait::Acquire(r),
                        ..
                    } => {
                        self.withdraw_request(r, me(b));
                    }
                    Branch {
                        wait: BranchWait::Get(q),
                        ..
                    } => {
                        self.queues[q as usize]
                            .remove_getter(me(b))
                            .expect("a pending get is in its list");
                    }
                    _ => {}
                }
            }
            if in_place && self.nothing_queued_now() {
                // Its event(s) would be the next ones.
                self.park_first_records(idx, outcome);
                return true;
            }
            self.park_first(idx, outcome, kind);
            return false;
        }
        // Where withdrawn requests stood is of no use here, but `withdraw` records it.
        self.withdrawn.clear();
        let mut others = SmallVec::new();
        let n = self.procs[idx].branches.len();
        for b in 0..n {
            if b != branch {
                let wait = match self.procs[idx].branches[b].wait {
                    BranchWait::Sleep(dt) => Wait::Sleep(dt),
                    _ => self.withdraw(idx, b, others.len() as u32),
                };
                others.push(wait);
            }
        }
        self.procs[idx].branches.clear();
        let key = self
            .wakes
            .insert(Wake::First(First::new(branch, outcome, Branches(others))));
        self.procs[idx].ready = key as u32;
        self.in_place_hint = true;
        self.schedule(self.now, NORMAL, idx as u32, 0, kind);
        false
    }

    /// Records a completed branch. Returns the wake if the whole command is now complete
    /// (withdrawing every other branch), `None` if its `AllOf` group still waits.
    pub(crate) fn branch_done(
        &mut self,
        idx: usize,
        branch: usize,
        outcome: Outcome<M::Item>,
    ) -> Option<Wake<M::Item, M::Cause>> {
        let b = self.procs[idx].branches[branch];
        let group_outcome = if b.all_len > 0 {
            let slot = &mut self.procs[idx];
            slot.branches[branch].done = true;
            slot.rare().partial.push((branch as u32, outcome));
            let done = slot
                .branches
                .iter()
                .filter(|x| x.group == b.group && x.done)
                .count();
            if done < b.all_len as usize {
                return None;
            }
            Outcome::All(self.take_partial(idx, b.group))
        } else {
            outcome
        };
        Some(self.finish_wait(idx, b.group, group_outcome))
    }

    /// Removes and returns the recorded outcomes of a group, in branch order.
    fn take_partial(&mut self, idx: usize, group: u16) -> Vec<Outcome<M::Item>> {
        let slot = &mut self.procs[idx];
        let branches = &slot.branches;
        let Some(rare) = slot.rare.as_deref_mut() else {
            return Vec::new();
        };
        let mut mine: Vec<(u32, Outcome<M::Item>)> = Vec::new();
        let mut i = 0;
        while i < rare.partial.len() {
            if branches[rare.partial[i].0 as usize].group == group {
                mine.push(rare.partial.swap_remove(i));
            } else {
                i += 1;
            }
        }
        mine.sort_by_key(|(b, _)| *b);
        mine.into_iter().map(|(_, o)| o).collect()
    }

    /// The command completed through `group`: withdraw everything else and build the wake.
    fn finish_wait(
        &mut self,
        idx: usize,
        group: u16,
        outcome: Outcome<M::Item>,
    ) -> Wake<M::Item, M::Cause> {
        self.procs[idx].phase = Phase::Satisfied;
        let wake = match self.procs[idx].shape {
            Shape::Single => outcome.into(),
            Shape::AllOf => match outcome {
                Outcome::All(all) => Wake::Completed(Outcome::All(all)),
                other => Wake::Completed(Outcome::All(vec![other])),
            },
            Shape::FirstOf => {
                let (others, taken) = self.withdraw_groups(idx, Some(group));
                Wake::First(First {
                    taken,
                    ..First::new(group as usize, outcome, others)
                })
            }
        };
        self.procs[idx].branches.clear();
        wake
    }

    // ----- withdrawing -----

    /// Withdraws every group but `except`, handing back each as it was issued (an `AllOf`
    /// group with only its unsatisfied waits) and what satisfied `AllOf` branches took.
    /// Where each withdrawn request stood is left in `self.withdrawn`, by its position in
    /// what is handed back.
    fn withdraw_groups(
        &mut self,
        idx: usize,
        except: Option<u16>,
    ) -> (Branches<M::Item>, Vec<Outcome<M::Item>>) {
        self.withdrawn.clear();
        let mut others = Branches::new();
        let mut taken = Vec::new();
        let n = self.procs[idx].branches.len();
        let mut pos = 0;
        let mut b = 0;
        while b < n {
            let group = self.procs[idx].branches[b].group;
            let mut end = b;
            while end < n && self.procs[idx].branches[end].group == group {
                end += 1;
            }
            if Some(group) != except {
                if self.procs[idx].branches[b].all_len > 0 {
                    let mut waits = Branches::new();
                    for i in b..end {
                        if !self.procs[idx].branches[i].done {
                            waits.0.push(self.withdraw(idx, i, pos));
                            pos += 1;
                        }
                    }
                    taken.extend(self.take_partial(idx, group));
                    others.0.push(Wait::AllOf(Box::new(waits)));
                } else {
                    others.0.push(self.withdraw(idx, b, pos));
                    pos += 1;
                }
            }
            b = end;
        }
        (others, taken)
    }

    /// Withdraws every branch of an interrupted wait, handing the request back exactly as
    /// issued (and what satisfied `AllOf` branches took, and where its requests stood).
    pub(crate) fn withdraw_all(&mut self, idx: usize) -> Withdrawn<M::Item> {
        let (mut others, taken) = self.withdraw_groups(idx, None);
        let command = match self.procs[idx].shape {
            Shape::Single => {
                let wait = others.0.pop().expect("one branch");
                if self.procs[idx].masked {
                    Command::Masked(Masked(wait))
                } else {
                    wait.into_command()
                }
            }
            Shape::FirstOf => Command::FirstOf(others),
            Shape::AllOf => match others.0.pop() {
                Some(Wait::AllOf(rest)) => Command::AllOf(*rest),
                _ => unreachable!("an AllOf is one group"),
            },
        };
        self.procs[idx].branches.clear();
        (command, taken, std::mem::take(&mut self.withdrawn))
    }

    /// Takes one unsatisfied branch off its primitive's waiting list, returning the wait as
    /// it was issued (with a put's item, a get's filter); a request's place in line goes to
    /// `self.withdrawn` under `pos`.
    fn withdraw(&mut self, idx: usize, branch: usize, pos: u32) -> Wait<M::Item> {
        let me = Waiter {
            idx: idx as u32,
            epoch: self.meta[idx].epoch,
            branch: branch as u32,
            ticket: 0,
        };
        let sim = self.id;
        let now = self.now;
        let place = |ticket: u64, since: f64| Place {
            branch: pos,
            ticket,
            since,
        };
        let (wait, stood) = match self.procs[idx].branches[branch].wait {
            BranchWait::Attend(_) => unreachable!("attending is masked: never withdrawn"),
            BranchWait::Sleep(dt) => (Wait::Sleep(dt), None),
            BranchWait::Yield => (Wait::Yield, None),
            BranchWait::Get(q) => {
                let getter = self.queues[q as usize]
                    .remove_getter(me)
                    .expect("a pending get is in its list");
                (
                    Wait::Get(QueueId { sim, idx: q }),
                    Some(place(getter.waiter.ticket, now)),
                )
            }
            BranchWait::GetWhere(q) => {
                let getter = self.queues[q as usize]
                    .remove_getter(me)
                    .expect("a pending get is in its list");
                let filter = getter.filter.expect("a filtered get keeps its filter");
                (
                    Wait::GetWhere(QueueId { sim, idx: q }, filter),
                    Some(place(getter.waiter.ticket, now)),
                )
            }
            BranchWait::Put(q) => {
                let (w, item) = self.queues[q as usize]
                    .remove_putter(me)
                    .expect("an unsatisfied put still holds its item");
                (
                    Wait::Put(QueueId { sim, idx: q }, item),
                    Some(place(w.ticket, now)),
                )
            }
            BranchWait::Acquire(r) => {
                let request = self.withdraw_request(r, me);
                (
                    Wait::Acquire(ResourceId { sim, idx: r }),
                    Some(place(request.waiter.ticket, request.key.time)),
                )
            }
            BranchWait::AcquireWith(r) => {
                let request = self.withdraw_request(r, me);
                let priority = Priority {
                    level: request.key.level,
                    preempt: !request.key.no_preempt,
                };
                (
                    Wait::AcquireWith(ResourceId { sim, idx: r }, priority),
                    Some(place(request.waiter.ticket, request.key.time)),
                )
            }
            BranchWait::GetAmount(c) => {
                let list = &mut self.containers[c as usize].getters;
                let (at, w, n) = ContainerState::remove(list, me);
                if at == 0 {
                    // Head-of-line: the request behind may fit now.
                    self.schedule_hook(Hook::Draws(c));
                }
                (
                    Wait::GetAmount(ContainerId { sim, idx: c }, n),
                    Some(place(w.ticket, now)),
                )
            }
            BranchWait::PutAmount(c) => {
                let list = &mut self.containers[c as usize].putters;
                let (at, w, n) = ContainerState::remove(list, me);
                if at == 0 {
                    self.schedule_hook(Hook::Fills(c));
                }
                (
                    Wait::PutAmount(ContainerId { sim, idx: c }, n),
                    Some(place(w.ticket, now)),
                )
            }
            BranchWait::Signal(s) => {
                let waiters = &mut self.signals[s as usize].waiters;
                waiters.retain(|w| *w != me);
                (Wait::Signal(SignalId { sim, idx: s }), None)
            }
            BranchWait::Arrive(b) => {
                let waiting = &mut self.barriers[b as usize].waiting;
                waiting.retain(|w| *w != me);
                (Wait::Arrive(BarrierId { sim, idx: b }), None)
            }
            BranchWait::Join(p) => {
                if let Some(t) = self.live(p) {
                    let joiners = &mut self.procs[t].rare().joiners;
                    joiners.retain(|w| *w != me);
                }
                (Wait::Join(p), None)
            }
        };
        if let Some(stood) = stood {
            self.withdrawn.push(stood);
        }
        wait
    }

    // ----- primitive triggers (SimPy's rules) -----

    /// Offers items to waiting getters: the head only for FIFO and priority queues; every
    /// getter in order for a filter queue. Nothing happens (no filter or order runs) unless
    /// an item is there and a getter waits: checked here, inlined, as most hooks (a put's
    /// event on a queue nobody waits on) find nothing to do.
    #[inline(always)]
    pub(crate) fn trigger_gets(&mut self, q: u32) {
        let queue = &self.queues[q as usize];
        if queue.items.is_empty() || queue.getters.is_empty() {
            return;
        }
        self.offer_items(q);
    }

    /// [`Simulation::trigger_gets`] with an item there and a getter waiting.
    #[inline(never)]
    fn offer_items(&mut self, q: u32) {
        let queue = &mut self.queues[q as usize];
        if !queue.filtered {
            // FIFO or priority queue: the head getter takes the head item (no filter or
            // order runs: no user code).
            let getter = queue.getters.pop_front().expect("a getter waits");
            let item = queue.take_front(self.now).expect("an item is there");
            self.satisfied(
                getter.waiter,
                Outcome::Got(item),
                AtOnce::Event(Hook::Puts(q)),
            );
            return;
        }
        let before = self.enter_queue_code(q, None);
        self.serve_gets(q);
        self.leave_queue_code(before);
    }

    /// Marks the start of a queue operation that runs a filter (on a filter queue) or an
    /// order (on a priority queue): user code, for [`Error::Poisoned`]. `None` for a plain
    /// FIFO queue, which runs none.
    #[inline]
    pub(crate) fn enter_queue_code(
        &mut self,
        q: u32,
        me: Option<Pid>,
    ) -> Option<Option<super::Busy>> {
        let queue = &self.queues[q as usize];
        let inside: &'static &'static str = if queue.filtered {
            &"a queue's filter"
        } else if queue.order.is_some() {
            &"a priority queue's order"
        } else {
            return None;
        };
        let process = me.or(self.busy.and_then(|b| b.process(self.id)));
        Some(self.enter(process, inside))
    }

    #[inline]
    pub(crate) fn leave_queue_code(&mut self, before: Option<Option<super::Busy>>) {
        if let Some(before) = before {
            self.leave(before);
        }
    }

    fn serve_gets(&mut self, q: u32) {
        loop {
            let queue = &mut self.queues[q as usize];
            if queue.items.is_empty() {
                return;
            }
            let found = if queue.filtered {
                queue.getters.iter().enumerate().find_map(|(g, getter)| {
                    queue.find(getter.filter.as_ref()).map(|item| (g, item))
                })
            } else {
                (!queue.getters.is_empty()).then_some((0, 0))
            };
            let Some((g, at)) = found else { return };
            let getter = queue.getters.remove(g).expect("in range");
            let item = queue.take_item(at, self.now).expect("in range");
            self.satisfied(
                getter.waiter,
                Outcome::Got(item),
                AtOnce::Event(Hook::Puts(q)),
            );
            if !self.queues[q as usize].filtered {
                return;
            }
        }
    }

    /// Offers room to the head putter. Nothing happens unless there is room and a putter
    /// waits: checked here, inlined, as most hooks (a get's event on a queue nobody waits to
    /// put on) find nothing to do.
    #[inline(always)]
    pub(crate) fn trigger_puts(&mut self, q: u32) {
        let queue = &self.queues[q as usize];
        if !queue.has_room() || queue.putters.is_empty() {
            return;
        }
        self.offer_room(q);
    }

    /// [`Simulation::trigger_puts`] with room and a putter waiting.
    #[inline(never)]
    fn offer_room(&mut self, q: u32) {
        let (w, item) = self.queues[q as usize]
            .putters
            .pop_front()
            .expect("a putter waits");
        let queue = &mut self.queues[q as usize];
        if queue.order.is_none() {
            // A FIFO queue: no order runs, so no user code.
            queue.push_item(item, self.now);
        } else {
            let before = self.enter_queue_code(q, None);
            self.queues[q as usize].push_item(item, self.now);
            self.leave_queue_code(before);
        }
        self.satisfied(w, Outcome::Put, AtOnce::Event(Hook::Gets(q)));
    }

    /// Offers a slot to the head request, preempting for it on a preemptive resource.
    #[inline(always)]
    pub(crate) fn trigger_grants(&mut self, r: u32) {
        self.offer_slot::<false>(r);
    }

    /// [`Simulation::trigger_grants`] inside a `Hook::Grants` event of a run: a slot granted
    /// to a single `Acquire` whose wake would be the very next event is not parked, nor is
    /// the completion of a plain `FirstOf` whose event and hop would be the next two (parked
    /// as its records, unscheduled). Returns the waiter's pid, satisfied, for the caller to
    /// wake in place (see [`Simulation::grants_in_place`]), whether its wait was a single one
    /// (else a plain `FirstOf`), and whether the resource can preempt (its head request may
    /// have to look again once the grant is delivered).
    #[inline(always)]
    pub(crate) fn trigger_grants_in_place(&mut self, r: u32) -> Option<(Pid, bool, bool)> {
        self.offer_slot::<true>(r)
    }

    #[inline(always)]
    fn offer_slot<const IN_PLACE: bool>(&mut self, r: u32) -> Option<(Pid, bool, bool)> {
        let res = &self.resources[r as usize];
        if !res.has_room() {
            if res.kind != ResourceKind::Preemptive {
                return None;
            }
            self.preempt_for_head(r);
            if !self.resources[r as usize].has_room() {
                return None;
            }
        }
        // The head request is taken off the line at once: one look at it, no copy kept
        // aside while asking about room.
        let res = &mut self.resources[r as usize];
        let preemptive = res.kind == ResourceKind::Preemptive;
        let Request { waiter: w, key } = res.pop_waiting(self.now)?;
        let idx = w.idx as usize;
        let pid = self.grant(idx, r, key);
        if IN_PLACE && self.procs[idx].shape == Shape::Single && self.nothing_queued_now() {
            // Its wake's key, `(now, NORMAL | a new sequence)`, would come after every event
            // queued at `now` and before every later one: it is the next event.
            let slot = &mut self.procs[idx];
            slot.phase = Phase::Satisfied;
            slot.branches.clear();
            return Some((pid, true, preemptive));
        }
        let rid = ResourceId {
            sim: self.id,
            idx: r,
        };
        if IN_PLACE && self.procs[idx].is_plain_first_of() {
            // `satisfied`'s path for a plain `FirstOf`; its `Kind::Ready` event and the hop
            // it schedules would be the next two events if nothing is queued at `now`.
            let kind = Kind::Ready(Hook::None);
            let now = self.first_done(idx, w.branch as usize, Outcome::Acquired(rid), kind, true);
            return now.then_some((pid, false, preemptive));
        }
        self.satisfied(w, Outcome::Acquired(rid), AtOnce::Event(Hook::None));
        None
    }

    /// A full preemptive resource's head request (if any, and if it may preempt) evicts the
    /// worst holder worse than it, if one can be told; those spared for not being told are
    /// marked (see [`Simulation::offer_slot`]).
    #[inline(never)]
    fn preempt_for_head(&mut self, r: u32) {
        let res = &self.resources[r as usize];
        let Some(head) = res.waiting.front() else {
            return;
        };
        let (w, key) = (head.waiter, head.key);
        if key.no_preempt {
            return;
        }
        let requester = self.pid_of(w.idx as usize);
        let spared = |pid: Pid| self.grant_in_flight(pid, r) || !self.can_be_told(pid);
        let victim = res.victim(&key, requester, spared);
        if victim.is_none() {
            self.mark_spared(r, &key, requester);
        }
        if let Some(v) = victim {
            let victim = self.resources[r as usize].remove_holder(v, self.now);
            let vi = victim.pid.idx as usize;
            self.procs[vi].holds -= 1;
            self.procs[vi].rare().lost.push(r);
            self.tell_preempted(
                vi,
                Preempted {
                    by: requester,
                    since: victim.since,
                    resource: ResourceId {
                        sim: self.id,
                        idx: r,
                    },
                },
            );
        }
    }

    /// Serves a container's waiting gets in order while they fit (head-of-line).
    pub(crate) fn trigger_draws(&mut self, c: u32) {
        loop {
            let container = &mut self.containers[c as usize];
            let Some(&(w, n)) = container.getters.front() else {
                return;
            };
            if !container.can_get(n) {
                return;
            }
            container.getters.pop_front();
            container.change(-n, self.now);
            let cid = ContainerId {
                sim: self.id,
                idx: c,
            };
            self.satisfied(w, Outcome::GotAmount(cid, n), AtOnce::Event(Hook::Fills(c)));
        }
    }

    /// Serves a container's waiting puts in order while they fit (head-of-line).
    pub(crate) fn trigger_fills(&mut self, c: u32) {
        loop {
            let container = &mut self.containers[c as usize];
            let Some(&(w, n)) = container.putters.front() else {
                return;
            };
            if !container.can_put(n) {
                return;
            }
            container.putters.pop_front();
            container.change(n, self.now);
            let cid = ContainerId {
                sim: self.id,
                idx: c,
            };
            self.satisfied(w, Outcome::PutAmount(cid, n), AtOnce::Event(Hook::Draws(c)));
        }
    }

    /// Releases every party waiting at a barrier (each through its own event).
    pub(crate) fn release_barrier_now(&mut self, b: u32) {
        let barrier = &mut self.barriers[b as usize];
        barrier.releases += 1;
        let waiting = std::mem::take(&mut barrier.waiting);
        let bid = BarrierId {
            sim: self.id,
            idx: b,
        };
        for w in waiting {
            if self.waiter_is_current(&w) {
                self.satisfied(w, Outcome::Released(bid), AtOnce::Event(Hook::None));
            }
        }
    }

    /// Processes a signal's firing: everyone waiting on it wakes, in order.
    pub(crate) fn fire(&mut self, s: u32) -> Result<(), Error> {
        let signal = &mut self.signals[s as usize];
        let value = match std::mem::replace(&mut signal.phase, SignalPhase::Pending) {
            SignalPhase::Firing(v) => v,
            other => {
                // Reset before its firing was processed: nothing fires.
                signal.phase = other;
                return Ok(());
            }
        };
        signal.phase = SignalPhase::Fired(value);
        let waiters = std::mem::take(&mut signal.waiters);
        // Every waiter gets a copy of *this* firing's value, even if one of them resets the
        // signal (or fires it anew) while the others are still being woken.
        let fired = signal.value().expect("fired");
        let clone = signal.clone;
        let sid = SignalId {
            sim: self.id,
            idx: s,
        };
        self.wake_waiters(&waiters, |_| {
            Outcome::Signaled(sid, crate::signal::copy_value(&fired, clone))
        })
    }

    /// Takes a pending request off a resource's wait list. When it was the head of a
    /// preemptive resource's list, the next request gets its chance to preempt (SimPy's
    /// `cancel` leaves it waiting).
    fn withdraw_request(&mut self, r: u32, me: Waiter) -> Request {
        let res = &mut self.resources[r as usize];
        let (at, request) = res
            .remove_waiter(me, self.now)
            .expect("a pending request is in the wait list");
        if at == 0 && res.kind == ResourceKind::Preemptive && !res.waiting.is_empty() {
            self.schedule_hook(Hook::Grants(r));
        }
        request
    }

    /// Whether a holder can be told at once that it lost its slot: it waits in an
    /// interruptible wait, fully registered, with no interrupt ahead of the news. Otherwise
    /// (a masked wait, an activity, a wake on its way, interrupts queued, its command still
    /// registering) it would go on working with a slot that already serves another, so it
    /// keeps the slot until it can be told.
    pub(crate) fn can_be_told(&self, pid: Pid) -> bool {
        self.live(pid).is_some_and(|i| {
            let slot = &self.procs[i];
            slot.phase == Phase::Waiting
                && !slot.masked
                && !slot.has_interrupts()
                && self.registering != Some(i)
        })
    }

    /// Tells a holder that could be told at once (see [`Self::can_be_told`]) that it lost its
    /// slot: its wait is withdrawn now, so nothing can complete it before the news arrives,
    /// and the news is its next wake, delivered urgently at this instant as an interrupt
    /// would be.
    fn tell_preempted(&mut self, idx: usize, preempted: Preempted) {
        let waited = self.now - self.procs[idx].since;
        let (request, taken, places) = self.withdraw_all(idx);
        self.recheck_taken_slots(&taken);
        let wake = Wake::Interrupted(Interrupt {
            cause: Reason::Preempted(preempted),
            request,
            waited,
            taken,
            places: places.into(),
        });
        let slot = &mut self.procs[idx];
        slot.phase = Phase::Satisfied;
        slot.parked = Parked::Wake;
        slot.ready = self.wakes.insert(wake) as u32;
        self.schedule(self.now, super::URGENT, idx as u32, 0, Kind::Resume);
    }

    /// No holder of `r` could be preempted for a request with `key`: those spared because
    /// they could not be told are marked, to look again when they can.
    #[cold]
    fn mark_spared(&mut self, r: u32, key: &Key, requester: Pid) {
        for h in 0..self.resources[r as usize].holders.len() {
            let res = &self.resources[r as usize];
            let pid = res.holders[h];
            if pid != requester
                && res.ranks[h].key.cmp(key) == std::cmp::Ordering::Greater
                && !self.grant_in_flight(pid, r)
                && !self.can_be_told(pid)
                && let Some(i) = self.live(pid)
            {
                self.procs[i].spared = true;
            }
        }
    }

    /// A holder spared from preemption starts an interruptible wait: the preemptive
    /// resources it holds, with requests waiting, look again for a holder to preempt.
    #[cold]
    pub(crate) fn recheck_spared(&mut self, idx: usize) {
        self.procs[idx].spared = false;
        let pid = self.pid_of(idx);
        for r in 0..self.resources.len() {
            let res = &self.resources[r];
            if res.kind == ResourceKind::Preemptive
                && !res.waiting.is_empty()
                && res.holders.contains(&pid)
            {
                self.schedule_hook(Hook::Grants(r as u32));
            }
        }
    }

    /// Whether `pid` was granted a slot of `r` whose wake has not been delivered yet (it does
    /// not know it holds the slot, so it cannot be told it lost it).
    fn grant_in_flight(&self, pid: Pid, r: u32) -> bool {
        let Some(i) = self.live(pid) else {
            return false;
        };
        let slot = &self.procs[i];
        let rid = ResourceId {
            sim: self.id,
            idx: r,
        };
        match slot.phase {
            Phase::Satisfied if slot.parked == Parked::Slot => slot.ready == r,
            Phase::Satisfied if slot.parked == Parked::Put => false,
            Phase::Satisfied if slot.parked == Parked::First => slot
                .branches
                .iter()
                .any(|b| b.done && matches!(b.wait, BranchWait::Acquire(x) if x == r)),
            Phase::Satisfied if slot.parked == Parked::Outcome => matches!(
                self.outcomes.get(slot.ready as usize),
                Some(Outcome::Acquired(x)) if *x == rid
            ),
            Phase::Satisfied => self
                .wakes
                .get(slot.ready as usize)
                .is_some_and(|wake| wake_mentions_slot(wake, rid)),
            // A slot taken by a branch of an `AllOf` that still waits.
            Phase::Waiting => slot.rare.as_ref().is_some_and(|rare| {
                rare.partial
                    .iter()
                    .any(|(_, o)| matches!(o, Outcome::Acquired(x) if *x == rid))
            }),
            _ => false,
        }
    }

    /// After a wake that reports slots of preemptive resources is delivered, their head
    /// requests look again for a holder to preempt (grants in flight were spared).
    pub(crate) fn recheck_preemption(&mut self, wake: &WakeOf<M>) {
        let mut check = |r: &ResourceId| {
            let res = &self.resources[r.idx as usize];
            if res.kind == ResourceKind::Preemptive && !res.waiting.is_empty() {
                self.schedule_hook(Hook::Grants(r.idx));
            }
        };
        for_each_slot(wake, &mut check);
    }

    /// After a single `Acquire`'s grant is delivered, its resource's head request looks
    /// again for a holder to preempt (the grant in flight was spared).
    #[inline(always)]
    pub(crate) fn recheck_taken_slot(&mut self, r: ResourceId) {
        let res = &self.resources[r.idx as usize];
        if res.kind == ResourceKind::Preemptive && !res.waiting.is_empty() {
            self.schedule_grants_hook(r.idx);
        }
    }

    /// After an interrupt hands back slots that satisfied `AllOf` branches took (spared from
    /// preemption while in flight), their resources' head requests look again.
    pub(crate) fn recheck_taken_slots(&mut self, taken: &[Outcome<M::Item>]) {
        for o in taken {
            if let Outcome::Acquired(r) = o {
                let res = &self.resources[r.idx as usize];
                if res.kind == ResourceKind::Preemptive && !res.waiting.is_empty() {
                    self.schedule_hook(Hook::Grants(r.idx));
                }
            }
        }
    }

    /// Gives `pid` a slot of resource `r` at once (a successful `try_acquire`).
    pub(crate) fn grant_now(&mut self, pid: Pid, r: u32) {
        let idx = pid.idx as usize;
        let key = self.request_key(None);
        self.grant(idx, r, key);
    }

    /// What process `idx` waits on now (for [`Simulation::blocked`]).
    pub(crate) fn waiting_of(&self, idx: usize) -> Waiting {
        let slot = &self.procs[idx];
        let sim = self.id;
        let on = match slot.shape {
            Shape::FirstOf => WaitKind::FirstOf {
                branches: slot
                    .branches
                    .as_slice()
                    .last()
                    .map_or(0, |b| b.group as u32 + 1),
            },
            Shape::AllOf => WaitKind::AllOf {
                branches: slot.branches.len() as u32,
            },
            Shape::Single => match slot.branches.as_slice().first().map(|b| b.wait) {
                None | Some(BranchWait::Yield) => WaitKind::Yield,
                Some(BranchWait::Sleep(_)) => WaitKind::Sleep,
                Some(BranchWait::Get(q)) => WaitKind::Get(QueueId { sim, idx: q }),
                Some(BranchWait::GetWhere(q)) => WaitKind::GetWhere(QueueId { sim, idx: q }),
                Some(BranchWait::Put(q)) => WaitKind::Put(QueueId { sim, idx: q }),
                Some(BranchWait::Acquire(r) | BranchWait::AcquireWith(r)) => {
                    WaitKind::Acquire(ResourceId { sim, idx: r })
                }
                Some(BranchWait::GetAmount(c)) => WaitKind::GetAmount(ContainerId { sim, idx: c }),
                Some(BranchWait::PutAmount(c)) => WaitKind::PutAmount(ContainerId { sim, idx: c }),
                Some(BranchWait::Signal(s)) => WaitKind::Signal(SignalId { sim, idx: s }),
                Some(BranchWait::Arrive(b)) => WaitKind::Arrive(BarrierId { sim, idx: b }),
                Some(BranchWait::Join(p)) => WaitKind::Join(p),
                Some(BranchWait::Attend(a)) => WaitKind::Attend(ActivityId { sim, idx: a }),
            },
        };
        let attending = matches!(on, WaitKind::Attend(_));
        Waiting {
            on,
            masked: slot.masked && !attending,
        }
    }

    /// Whether process `idx` waits in some activity.
    pub(crate) fn attends_any(&self, idx: usize) -> bool {
        let slot = &self.procs[idx];
        slot.branches.len() == 1 && matches!(slot.branches[0].wait, BranchWait::Attend(_))
    }

    /// Whether process `idx` waits in activity `a`.
    pub(crate) fn attends(&self, idx: usize, a: usize) -> bool {
        let slot = &self.procs[idx];
        slot.branches.len() == 1
            && matches!(slot.branches[0].wait, BranchWait::Attend(x) if x as usize == a)
    }

    pub(crate) fn rare_of(&mut self, idx: usize) -> &mut Rare<M> {
        self.procs[idx].rare()
    }
}

/// A withdrawn wait: the request handed back, what satisfied `AllOf` branches took, and
/// where its requests stood.
pub(crate) type Withdrawn<T> = (Command<T>, Vec<Outcome<T>>, Places);

/// Adds an entry to a FIFO waiting list in ticket order: at the back for a new request (the
/// newest ticket), in its old place for a resumed one.
fn in_line<E>(list: &mut VecDeque<E>, entry: E, ticket: impl Fn(&E) -> u64) {
    let t = ticket(&entry);
    if list.back().is_none_or(|b| ticket(b) < t) {
        list.push_back(entry);
    } else {
        let at = list.partition_point(|e| ticket(e) < t);
        list.insert(at, entry);
    }
}

/// Calls `f` for every resource slot a wake reports as acquired (directly, by a `FirstOf`
/// branch, in an `AllOf`, or among what a withdrawn `AllOf` took).
fn for_each_slot<T, I>(wake: &Wake<T, I>, f: &mut impl FnMut(&ResourceId)) {
    fn outcome<T>(o: &Outcome<T>, f: &mut impl FnMut(&ResourceId)) {
        match o {
            Outcome::Acquired(r) => f(r),
            Outcome::All(all) => all.iter().for_each(|o| outcome(o, f)),
            _ => {}
        }
    }
    match wake {
        Wake::Completed(o) => outcome(o, f),
        Wake::First(first) => {
            outcome(&first.outcome, f);
            first.taken.iter().for_each(|o| outcome(o, f));
        }
        Wake::Interrupted(i) => i.taken.iter().for_each(|o| outcome(o, f)),
        _ => {}
    }
}

/// Whether a wake reports a slot of `r` as acquired.
fn wake_mentions_slot<T, I>(wake: &Wake<T, I>, r: ResourceId) -> bool {
    let mut found = false;
    for_each_slot(wake, &mut |x| found |= *x == r);
    found
}

/// Whether a sleep of `dt` from `now` is valid ([`Simulation::valid_delay`]), for a caller
/// that holds a slot borrowed.
#[inline(always)]
pub(crate) fn valid_delay_at(now: f64, dt: f64) -> bool {
    // `now` is finite and not negative (so is a valid `dt`): the end is finite when it is
    // below infinity, one comparison where `is_finite` masks the bits and compares.
    debug_assert!(now.is_finite() && now >= 0.0);
    dt >= 0.0 && now + dt < f64::INFINITY
}
