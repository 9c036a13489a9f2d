//! Resources: `n` identical slots, taken with `Acquire` and given back with
//! [`Context::release`](crate::Context::release).
//!
//! Three kinds, as in SimPy:
//! - [`Simulation::resource`](crate::Simulation::resource): waiting requests are served FIFO;
//! - [`Simulation::priority_resource`](crate::Simulation::priority_resource): requests made
//!   with [`Command::AcquireWith`](crate::Command::AcquireWith) are served by priority level (lower
//!   first), then request time, FIFO among equals; a plain `Acquire` has level 0;
//! - [`Simulation::preemptive_resource`](crate::Simulation::preemptive_resource): like a
//!   priority resource, and a request with [`Priority::preempt`](crate::Priority) that finds
//!   every slot taken evicts the worst holder if the holder's priority key is worse. The
//!   evicted process loses the slot at once and is woken with
//!   [`Reason::Preempted`](crate::Reason::Preempted), delivered like an interrupt: its current
//!   wait is withdrawn and handed back.
//!
//! # Who can be preempted
//! A holder is preempted only when it can be told at once: while it waits in an
//! interruptible wait with no interrupt queued ahead. A holder in a masked wait, attending an
//! activity, or whose wake (a grant, say) is still on its way keeps its slot until it starts
//! its next interruptible wait, when the better request looks again. So a resource never has
//! more users than slots, and no process works on with a slot it has lost.
//!
//! Releasing a slot lost to preemption is a no-op (once per lost slot), so the habit of
//! releasing on every way out of a piece of work — SimPy's `with res.request()` — is correct
//! here too; releasing a slot never held is [`Error::NotHolder`](crate::Error::NotHolder).
//!
//! Only the head of the wait list is tried (SimPy's rule): a released slot is offered to the
//! next waiter when the release's own event is processed, at the same instant. A process that
//! finishes while holding slots releases them (as SimPy's `with resource.request()` does); an
//! interrupt or a losing `FirstOf` branch withdraws a pending request without taking a slot.
//!
//! ```
//! use stepsim::{Boxed, Reason, Command, Context, Interrupt, Outcome, Priority, Process, Simulation, Wake};
//!
//! /// Holds the machine for 10 unless preempted.
//! struct Job { machine: stepsim::ResourceId, level: f64, start: f64 }
//! impl Process<Boxed<()>> for Job {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started => Command::Sleep(self.start),
//!             Wake::Completed(Outcome::Slept) if cx.now() == self.start => {
//!                 Command::AcquireWith(self.machine, Priority::new(self.level))
//!             }
//!             Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(10.0),
//!             Wake::Interrupted(p @ Interrupt { cause: Reason::Preempted(_), .. }) => {
//!                 println!("t={}: preempted by {}, after {}", cx.now(), p.preempted().expect("a preemption").by, p.waited);
//!                 Command::Done // the slot is already gone
//!             }
//!             _ => { cx.release(self.machine); Command::Done }
//!         }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<()>>::new(0);
//! let machine = sim.preemptive_resource(1)?;
//! sim.spawn(Box::new(Job { machine, level: 5.0, start: 0.0 }));
//! sim.spawn(Box::new(Job { machine, level: 1.0, start: 3.0 })); // more urgent
//! sim.run()?;
//! assert_eq!(sim.now(), 13.0);
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::handle::Pid;
use crate::monitor::ResourceMonitor;
use crate::queue::Waiter;
use std::cmp::Ordering;
use std::collections::VecDeque;

/// The kind of a resource.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ResourceKind {
    /// FIFO.
    Plain,
    /// By priority level, then request time.
    Priority,
    /// By priority, and better requests evict worse holders.
    Preemptive,
}

/// SimPy's request key: `(priority, request time, not preempt)`; smaller is better.
#[derive(Copy, Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Key {
    pub level: f64,
    pub time: f64,
    pub no_preempt: bool,
}

impl Key {
    /// Compares as numbers, as SimPy does: `-0.0` and `0.0` are the same level. (Levels are
    /// never NaN: requests with a NaN level are rejected; times are never NaN.)
    pub fn cmp(&self, other: &Key) -> Ordering {
        let number = |a: f64, b: f64| a.partial_cmp(&b).unwrap_or(Ordering::Equal);
        number(self.level, other.level)
            .then_with(|| number(self.time, other.time))
            .then(self.no_preempt.cmp(&other.no_preempt))
    }
}

#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Request {
    pub waiter: Waiter,
    pub key: Key,
}

/// A holder evicted by preemption: who, and since when it held the slot.
pub(crate) struct Holder {
    pub pid: Pid,
    pub since: f64,
}

/// What a preemptive resource knows of a holder besides its pid: the key of the request that
/// got the slot (to choose whom to evict) and when it got it (for the news).
#[derive(Copy, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Rank {
    pub key: Key,
    pub since: f64,
}

#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct ResourceState {
    pub kind: ResourceKind,
    pub capacity: usize,
    /// Who holds the slots, in the order they got them (a process holding two appears twice).
    pub holders: Vec<Pid>,
    /// A preemptive resource's holders' ranks, in the same order as `holders`. Empty for the
    /// other kinds: only preemption asks for a holder's key or start, so a plain or priority
    /// resource keeps just the pids.
    pub ranks: Vec<Rank>,
    pub waiting: VecDeque<Request>,
    /// Statistics, if monitored.
    pub monitor: Option<Box<ResourceMonitor>>,
}

impl ResourceState {
    pub fn new(kind: ResourceKind, capacity: usize) -> Self {
        ResourceState {
            kind,
            capacity,
            holders: Vec::new(),
            ranks: Vec::new(),
            waiting: VecDeque::new(),
            monitor: None,
        }
    }

    pub fn has_room(&self) -> bool {
        self.holders.len() < self.capacity
    }

    /// Whether a request made now is served at once: a slot is free and nobody waits ahead
    /// of it.
    #[inline]
    pub fn serves_at_once(&self) -> bool {
        self.waiting.is_empty() && self.has_room()
    }

    /// Adds a request to the wait list: in ticket order (plain: FIFO), or by key and then
    /// ticket (priority kinds: FIFO among equals). A new request has the newest ticket, so
    /// it goes after every request that is not worse; a resumed one keeps its old ticket,
    /// and so its place.
    #[inline]
    pub fn enqueue(&mut self, request: Request, now: f64) {
        // The common case, in line: a new request at the back of an unmonitored FIFO line.
        if self.kind == ResourceKind::Plain
            && self.monitor.is_none()
            && self
                .waiting
                .back()
                .is_none_or(|b| b.waiter.ticket < request.waiter.ticket)
        {
            self.waiting.push_back(request);
        } else {
            self.enqueue_in_order(request, now);
        }
    }

    /// Adds a request just made (it has the newest ticket of all) to the wait list: on a
    /// FIFO line it goes at the back without looking.
    #[inline]
    pub fn enqueue_new(&mut self, request: Request, now: f64) {
        debug_assert!(
            self.waiting
                .back()
                .is_none_or(|b| b.waiter.ticket < request.waiter.ticket)
        );
        if self.kind == ResourceKind::Plain && self.monitor.is_none() {
            self.waiting.push_back(request);
        } else {
            self.enqueue_in_order(request, now);
        }
    }

    #[inline(never)]
    fn enqueue_in_order(&mut self, request: Request, now: f64) {
        let ticket = request.waiter.ticket;
        if self.kind == ResourceKind::Plain {
            if self.waiting.back().is_none_or(|b| b.waiter.ticket < ticket) {
                self.waiting.push_back(request);
            } else {
                let at = self.waiting.partition_point(|r| r.waiter.ticket < ticket);
                self.waiting.insert(at, request);
            }
        } else {
            let at = self.waiting.partition_point(|r| {
                r.key.cmp(&request.key).then(r.waiter.ticket.cmp(&ticket)) == Ordering::Less
            });
            self.waiting.insert(at, request);
        }
        if let Some(m) = &mut self.monitor {
            m.waiting(now, self.waiting.len());
        }
    }

    /// Takes the head request off the wait list, to be granted.
    pub fn pop_waiting(&mut self, now: f64) -> Option<Request> {
        let request = self.waiting.pop_front()?;
        if let Some(m) = &mut self.monitor {
            m.waiting(now, self.waiting.len());
        }
        Some(request)
    }

    /// Gives a slot to `pid` for a request with `key` (made at `key.time`).
    #[inline]
    pub fn add_holder(&mut self, pid: Pid, key: Key, now: f64) {
        self.holders.push(pid);
        if self.kind == ResourceKind::Preemptive {
            self.ranks.push(Rank { key, since: now });
        }
        if let Some(m) = &mut self.monitor {
            m.granted(key.time, now, self.holders.len());
        }
    }

    /// Where `pid`'s first slot is among the holders.
    #[inline]
    pub fn holder_at(&self, pid: Pid) -> Option<usize> {
        self.holders.iter().position(|&h| h == pid)
    }

    /// Gives back the slot at position `at` of the holders (a release, a finish).
    #[inline]
    pub fn release_at(&mut self, at: usize, now: f64) {
        if at + 1 == self.holders.len() {
            self.holders.pop();
        } else {
            self.holders.remove(at);
        }
        if self.kind == ResourceKind::Preemptive {
            self.ranks.remove(at);
        }
        if let Some(m) = &mut self.monitor {
            m.freed(now, self.holders.len());
        }
    }

    /// Takes the slot at position `at` of a preemptive resource's holders away (a
    /// preemption): who held it, and since when.
    pub fn remove_holder(&mut self, at: usize, now: f64) -> Holder {
        debug_assert_eq!(self.kind, ResourceKind::Preemptive);
        let holder = Holder {
            pid: self.holders[at],
            since: self.ranks[at].since,
        };
        self.release_at(at, now);
        holder
    }

    /// Removes a pending request (one branch of one wait: a process may have several in one
    /// list, in priority order, not branch order), returning where it stood and the request.
    pub fn remove_waiter(&mut self, me: Waiter, now: f64) -> Option<(usize, Request)> {
        let at = self.waiting.iter().position(|r| r.waiter == me)?;
        let request = self.waiting.remove(at)?;
        if let Some(m) = &mut self.monitor {
            m.withdrew(request.key.time, now, self.waiting.len());
        }
        Some((at, request))
    }

    /// The holder a preempting request with `key` would evict: the worst holder (the
    /// latest among equally bad ones, as SimPy's stable sort picks), if worse than `key`.
    /// Holders for which `spared` is true are never chosen.
    pub fn victim(&self, key: &Key, requester: Pid, spared: impl Fn(Pid) -> bool) -> Option<usize> {
        let mut worst: Option<usize> = None;
        for (i, (&pid, rank)) in self.holders.iter().zip(&self.ranks).enumerate() {
            if spared(pid) {
                continue;
            }
            if worst.is_none_or(|w| rank.key.cmp(&self.ranks[w].key) != Ordering::Less) {
                worst = Some(i);
            }
        }
        worst.filter(|&w| {
            self.ranks[w].key.cmp(key) == Ordering::Greater && self.holders[w] != requester
        })
    }
}

/// A read-only look at a resource.
///
/// ```
/// use stepsim::{Boxed, ResourceKind, Simulation};
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// let doctors = sim.priority_resource(2)?;
/// let view = sim.resource_view(doctors)?;
/// assert_eq!(view.kind(), ResourceKind::Priority);
/// assert_eq!((view.capacity(), view.in_use(), view.queue_len()), (2, 0, 0));
/// # Ok::<(), stepsim::Error>(())
/// ```
pub struct ResourceView<'a> {
    pub(crate) state: &'a ResourceState,
}

impl<'a> ResourceView<'a> {
    /// Its statistics, if it is monitored (see [`crate::monitor`]).
    pub fn monitor(&self) -> Option<&'a ResourceMonitor> {
        self.state.monitor.as_deref()
    }

    /// Its kind.
    pub fn kind(&self) -> ResourceKind {
        self.state.kind
    }

    /// Total number of slots.
    pub fn capacity(&self) -> usize {
        self.state.capacity
    }

    /// Slots currently held.
    pub fn in_use(&self) -> usize {
        self.state.holders.len()
    }

    /// Slots free right now.
    pub fn available(&self) -> usize {
        self.state.capacity - self.state.holders.len()
    }

    /// Number of processes waiting in `Acquire`.
    pub fn queue_len(&self) -> usize {
        self.state.waiting.len()
    }

    /// The processes holding slots, in the order they got them (a process holding two
    /// slots appears twice).
    pub fn holders(&self) -> impl Iterator<Item = Pid> + 'a {
        self.state.holders.iter().copied()
    }

    /// Whether `pid` holds at least one slot.
    pub fn is_held_by(&self, pid: Pid) -> bool {
        self.state.holders.contains(&pid)
    }
}
