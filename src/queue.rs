//! Queues: FIFO or priority, unbounded or bounded.
//!
//! A queue holds items of the model's [`Item`](crate::Model::Item) type. `Get` takes the head
//! item and waits while the queue is empty; `Put` waits while a bounded queue is full.
//! Waiting getters and putters are each served in FIFO order. A priority queue keeps its items
//! sorted (smallest first) and is FIFO among equal items.
//!
//! ```
//! use stepsim::{Boxed, Capacity, Command, Context, Outcome, Process, QueueId, Simulation, Wake};
//!
//! type M = Boxed<u32>;
//! struct Producer { q: QueueId, next: u32 }
//! struct Consumer { q: QueueId, got: Vec<u32> }
//!
//! impl Process<M> for Producer {
//!     fn step(&mut self, _cx: &mut Context<'_, M>, _wake: Wake<u32>) -> Command<u32> {
//!         if self.next == 3 { return Command::Done; }
//!         self.next += 1;
//!         Command::Put(self.q, self.next)
//!     }
//! }
//! impl Process<M> for Consumer {
//!     fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<u32>) -> Command<u32> {
//!         if let Wake::Completed(Outcome::Got(item)) = wake {
//!             println!("t={} got {item}", cx.now());
//!             self.got.push(item);
//!         }
//!         Command::Get(self.q)
//!     }
//! }
//!
//! let mut sim = Simulation::<M>::new(1);
//! let q = sim.queue(Capacity::Bounded(1))?;
//! sim.spawn(Box::new(Producer { q, next: 0 }));
//! sim.spawn(Box::new(Consumer { q, got: Vec::new() }));
//! sim.run()?;
//! assert!(sim.queue_view(q)?.is_empty());
//! assert_eq!(sim.queue_view(q)?.getters_waiting(), 1); // the consumer waits for more
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! Queues are inspected without consuming anything through
//! [`Simulation::queue_view`](crate::Simulation::queue_view) and
//! [`Context::queue_view`](crate::Context::queue_view): length, capacity, the waiting items in
//! the order they will be taken (a monitor reads their ages this way), and how many getters and
//! putters are blocked.
//!
//! # Filter queues
//! A filter queue ([`Simulation::filter_queue`](crate::Simulation::filter_queue), SimPy's
//! `FilterStore`) also accepts [`Command::GetWhere`](crate::Command::GetWhere): take the first item
//! a [`Filter`] accepts, waiting until one arrives. Every waiting getter is
//! tried in order, so a getter whose filter matches nothing does not hold up the others.
//!
//! ```
//! use stepsim::{Boxed, Capacity, Command, Context, Filter, Outcome, Process, QueueId, Simulation, Wake};
//!
//! /// Waits for a part of one size.
//! struct Fitter { parts: QueueId, size: u32, got: Option<u32> }
//! impl Process<Boxed<u32>> for Fitter {
//!     fn step(&mut self, _: &mut Context<'_, Boxed<u32>>, wake: Wake<u32>) -> Command<u32> {
//!         match wake {
//!             Wake::Started => {
//!                 let size = self.size;
//!                 Command::GetWhere(self.parts, Filter::new(move |p: &u32| *p == size))
//!             }
//!             Wake::Completed(Outcome::Got(part)) => { self.got = Some(part); Command::Done }
//!             _ => unreachable!(),
//!         }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<u32>>::new(0);
//! let parts = sim.filter_queue(Capacity::Unbounded)?;
//! sim.spawn(Box::new(Fitter { parts, size: 8, got: None }));
//! sim.spawn(Box::new(Fitter { parts, size: 5, got: None }));
//! for part in [5, 3, 8] {
//!     sim.context().try_put(parts, part).unwrap();
//! }
//! sim.run()?;
//! // Both fitters got their part; the 3 nobody wanted is still there.
//! assert_eq!(sim.queue_view(parts)?.iter().copied().collect::<Vec<_>>(), vec![3]);
//! # Ok::<(), stepsim::Error>(())
//! ```
//!
//! # Ordering (SimPy's `Store` rules)
//! A request first joins its waiting list, then only the *head* of that list is tried. An item
//! put into the queue is offered to a waiting getter when the put's own wake is processed (not
//! at the moment of the put), and a slot freed by a get is offered to a waiting putter when the
//! get's wake is processed. This reproduces SimPy's same-instant order exactly.

use crate::command::Filter;
use crate::monitor::QueueMonitor;
use std::cmp::Ordering;
use std::collections::VecDeque;

/// How many items a queue can hold: [`Capacity::Unbounded`], or a number
/// (`sim.queue(10)` is `sim.queue(Capacity::Bounded(10))`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Capacity {
    /// No limit: `Put` never waits.
    Unbounded,
    /// At most this many items (at least 1); `Put` waits while the queue is full.
    Bounded(usize),
}

impl From<usize> for Capacity {
    fn from(n: usize) -> Self {
        Capacity::Bounded(n)
    }
}

/// A blocked request: which process, which of its waits, which branch, and its ticket.
#[derive(Copy, Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Waiter {
    pub idx: u32,
    pub epoch: u32,
    pub branch: u32,
    /// Its order among all requests: FIFO lines are in ticket order, and a resumed request
    /// keeps its ticket (its place in line).
    pub ticket: u64,
}

impl PartialEq for Waiter {
    /// The same branch of the same wait (the ticket is where it stands, not who it is).
    fn eq(&self, other: &Self) -> bool {
        (self.idx, self.epoch, self.branch) == (other.idx, other.epoch, other.branch)
    }
}

/// The order of a priority queue: smallest first.
pub(crate) type Order<T> = fn(&T, &T) -> Ordering;

/// A priority queue's order, and how a saved simulation names it (see [`crate::save`]).
#[derive(Clone)]
pub(crate) struct QueueOrder<T> {
    pub cmp: Order<T>,
    /// `None`: the items' own `Ord` ([`Simulation::priority_queue`](crate::Simulation::priority_queue)).
    pub name: Option<std::sync::Arc<str>>,
}

/// A blocked `Get` (no filter) or `GetWhere`.
#[derive(Clone)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub(crate) struct Getter<T> {
    pub waiter: Waiter,
    pub filter: Option<Filter<T>>,
}

#[derive(Clone)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(deserialize = "T: serde::Deserialize<'de> + 'static"))
)]
pub(crate) struct QueueState<T> {
    pub items: VecDeque<T>,
    /// `None`: FIFO; otherwise items are kept sorted by this order, FIFO among equals.
    pub order: Option<QueueOrder<T>>,
    /// A filter queue: every waiting getter is tried in order (SimPy's `FilterStore`),
    /// not only the head.
    pub filtered: bool,
    pub capacity: usize,
    pub getters: VecDeque<Getter<T>>,
    pub putters: VecDeque<(Waiter, T)>,
    /// Statistics, if monitored.
    pub monitor: Option<Box<QueueMonitor>>,
}

impl<T> QueueState<T> {
    pub fn new(capacity: usize, order: Option<QueueOrder<T>>, filtered: bool) -> Self {
        QueueState {
            items: VecDeque::new(),
            order,
            filtered,
            capacity,
            getters: VecDeque::new(),
            putters: VecDeque::new(),
            monitor: None,
        }
    }

    pub fn has_room(&self) -> bool {
        self.items.len() < self.capacity
    }

    /// Whether a plain get made now completes at once: an item is there and no getter
    /// waits ahead of it.
    #[inline]
    pub fn gets_at_once(&self) -> bool {
        self.getters.is_empty() && !self.items.is_empty()
    }

    /// Whether a put made now completes at once: there is room and no putter waits ahead
    /// of it.
    #[inline]
    pub fn puts_at_once(&self) -> bool {
        self.putters.is_empty() && self.has_room()
    }

    /// Puts an item in its place at time `now`. An unmonitored FIFO queue (the common
    /// case, on every put) just appends it, inline; the rest is out of line.
    #[inline(always)]
    pub fn push_item(&mut self, item: T, now: f64) {
        if self.order.is_none() && self.monitor.is_none() {
            self.items.push_back(item);
        } else {
            self.push_item_in_order(item, now);
        }
    }

    /// [`QueueState::push_item`] on a priority or monitored queue.
    #[inline(never)]
    fn push_item_in_order(&mut self, item: T, now: f64) {
        let at = match self.order.as_ref().map(|o| o.cmp) {
            None => {
                self.items.push_back(item);
                self.items.len() - 1
            }
            Some(cmp) => {
                // After every item that is not greater: FIFO among equals.
                let at = self
                    .items
                    .partition_point(|x| cmp(x, &item) != Ordering::Greater);
                self.items.insert(at, item);
                at
            }
        };
        if let Some(m) = &mut self.monitor {
            m.entered(at, now, self.items.len());
        }
    }

    /// Takes the first item at time `now`: inline on an unmonitored queue.
    #[inline(always)]
    pub fn take_front(&mut self, now: f64) -> Option<T> {
        if self.monitor.is_none() {
            self.items.pop_front()
        } else {
            self.take_item(0, now)
        }
    }

    /// Takes the item at position `at` at time `now`.
    pub fn take_item(&mut self, at: usize, now: f64) -> Option<T> {
        let item = self.items.remove(at)?;
        if let Some(m) = &mut self.monitor {
            m.left(at, now, self.items.len());
        }
        Some(item)
    }

    /// Removes a blocked getter (one branch of one wait).
    pub fn remove_getter(&mut self, me: Waiter) -> Option<Getter<T>> {
        let at = self.getters.iter().position(|g| g.waiter == me)?;
        self.getters.remove(at)
    }

    /// Position of the first item `filter` accepts.
    pub fn find(&self, filter: Option<&Filter<T>>) -> Option<usize> {
        match filter {
            None => (!self.items.is_empty()).then_some(0),
            Some(f) => self.items.iter().position(|item| f.matches(item)),
        }
    }

    pub fn remove_putter(&mut self, me: Waiter) -> Option<(Waiter, T)> {
        let at = self.putters.iter().position(|(w, _)| *w == me)?;
        self.putters.remove(at)
    }
}

/// A read-only look at a queue.
///
/// ```
/// use stepsim::{Boxed, Simulation};
/// let mut sim = Simulation::<Boxed<u32>>::new(0);
/// let q = sim.queue(2)?;
/// sim.context().try_put(q, 7).unwrap();
/// let view = sim.queue_view(q)?;
/// assert_eq!((view.len(), view.is_full()), (1, false));
/// assert_eq!(view.iter().copied().collect::<Vec<_>>(), [7]);
/// # Ok::<(), stepsim::Error>(())
/// ```
pub struct QueueView<'a, T> {
    pub(crate) state: &'a QueueState<T>,
}

impl<'a, T> QueueView<'a, T> {
    /// Its statistics, if it is monitored (see [`crate::monitor`]).
    pub fn monitor(&self) -> Option<&'a QueueMonitor> {
        self.state.monitor.as_deref()
    }

    /// Number of items waiting in the queue.
    pub fn len(&self) -> usize {
        self.state.items.len()
    }

    /// Whether no item is waiting.
    pub fn is_empty(&self) -> bool {
        self.state.items.is_empty()
    }

    /// The capacity it was created with.
    pub fn capacity(&self) -> Capacity {
        if self.state.capacity == usize::MAX {
            Capacity::Unbounded
        } else {
            Capacity::Bounded(self.state.capacity)
        }
    }

    /// Whether a bounded queue is full.
    pub fn is_full(&self) -> bool {
        !self.state.has_room()
    }

    /// Whether this is a priority queue.
    pub fn is_priority(&self) -> bool {
        self.state.order.is_some()
    }

    /// The name of its order, if it is a priority queue made with
    /// [`priority_queue_by`](crate::Simulation::priority_queue_by).
    pub fn order_name(&self) -> Option<&str> {
        self.state.order.as_ref().and_then(|o| o.name.as_deref())
    }

    /// Whether this is a filter queue (accepts `GetWhere`).
    pub fn is_filter(&self) -> bool {
        self.state.filtered
    }

    /// The waiting items, in the order `Get` will take them.
    pub fn iter(&self) -> impl Iterator<Item = &'a T> + 'a {
        self.state.items.iter()
    }

    /// Number of processes blocked in `Get` on this queue.
    pub fn getters_waiting(&self) -> usize {
        self.state.getters.len()
    }

    /// Number of processes blocked in `Put` on this queue.
    pub fn putters_waiting(&self) -> usize {
        self.state.putters.len()
    }

    /// The items held by blocked putters, in the order they will enter the queue.
    pub fn blocked_items(&self) -> impl Iterator<Item = &'a T> + 'a {
        self.state.putters.iter().map(|(_, item)| item)
    }
}
