//! Monitors: statistics that queues, resources and containers keep about themselves.
//!
//! A primitive is monitored when the model asks for it with
//! [`Simulation::monitor`](crate::Simulation::monitor), usually right after making it; from
//! then on the engine updates the monitor at every change, and an unmonitored primitive
//! costs nothing (one `Option` test where it changes). What each keeps, as
//! [`stats`](crate::stats) values:
//!
//! | primitive | monitor | statistics |
//! |---|---|---|
//! | queue | [`QueueMonitor`] | time-weighted length; time each item spent in the queue; puts and gets |
//! | resource | [`ResourceMonitor`] | time-weighted slots in use (utilization = mean / capacity); time-weighted number of waiting requests; wait from request to grant; wait of requests withdrawn before a grant (reneges, interrupts, losing first-of branches) |
//! | container | [`ContainerMonitor`] | time-weighted level |
//!
//! Read a monitor through the primitive's view ([`QueueView::monitor`](crate::QueueView::monitor),
//! …) — its time-weighted statistics are up to date as of the last change, so pass
//! `sim.now()` to their queries — or take a [`Statistics`] snapshot of every monitor with
//! [`Simulation::statistics`](crate::Simulation::statistics), advanced to now, which prints
//! as a table (like salabim's `print_statistics`) and writes long-format CSV.
//! [`Simulation::reset_monitors`](crate::Simulation::reset_monitors) restarts every monitor
//! at the end of a warm-up.
//!
//! ```
//! use stepsim::{Boxed, Command, Context, Outcome, Process, ResourceId, Simulation, Wake};
//!
//! /// Takes the clerk for 3 time units, then leaves.
//! struct Customer { clerk: ResourceId }
//! impl Process<Boxed<()>> for Customer {
//!     fn step(&mut self, cx: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
//!         match wake {
//!             Wake::Started => Command::Acquire(self.clerk),
//!             Wake::Completed(Outcome::Acquired(_)) => Command::Sleep(3.0),
//!             _ => { cx.release(self.clerk); Command::Done }
//!         }
//!     }
//! }
//! let mut sim = Simulation::<Boxed<()>>::new(1);
//! let clerk = sim.resource(1)?;
//! sim.monitor(clerk, "clerk")?;
//! for _ in 0..2 {
//!     sim.spawn(Box::new(Customer { clerk }));
//! }
//! sim.run_until(10.0)?;
//! let now = sim.now();
//! let view = sim.resource_view(clerk)?;
//! let clerk_stats = view.monitor().expect("monitored");
//! assert_eq!(clerk_stats.utilization(now), Some(0.6)); // busy 6 of 10
//! assert_eq!(clerk_stats.wait().mean(), Some(1.5)); // waits of 0 and 3
//! let waiting = clerk_stats.queue_length().mean(now).unwrap();
//! assert!((waiting - 0.3).abs() < 1e-12); // one waiting for 3 of 10
//! println!("{}", sim.statistics());
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::engine::Simulation;
use crate::error::Error;
use crate::handle::{ContainerId, QueueId, ResourceId};
use crate::process::Model;
use crate::stats::{StatsTable, Tally, TimeWeighted};
use std::collections::VecDeque;
use std::fmt;

/// A primitive that can be monitored: [`QueueId`], [`ResourceId`] or [`ContainerId`]; see
/// [`Simulation::monitor`].
pub trait Monitorable: Copy + sealed::Sealed {
    /// Starts monitoring it (what [`Simulation::monitor`] calls).
    #[doc(hidden)]
    fn start_monitor<M: Model>(self, sim: &mut Simulation<M>, name: String) -> Result<(), Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::QueueId {}
    impl Sealed for super::ResourceId {}
    impl Sealed for super::ContainerId {}
}

impl Monitorable for QueueId {
    fn start_monitor<M: Model>(self, sim: &mut Simulation<M>, name: String) -> Result<(), Error> {
        let i = sim.check_queue(self, None)?;
        let now = sim.now();
        let queue = &mut sim.queues[i];
        if queue.monitor.is_some() {
            return Err(sim.already_monitored());
        }
        queue.monitor = Some(Box::new(QueueMonitor::new(name, now, queue.items.len())));
        Ok(())
    }
}

impl Monitorable for ResourceId {
    fn start_monitor<M: Model>(self, sim: &mut Simulation<M>, name: String) -> Result<(), Error> {
        let i = sim.check_resource(self, None)?;
        let now = sim.now();
        let res = &mut sim.resources[i];
        if res.monitor.is_some() {
            return Err(sim.already_monitored());
        }
        res.monitor = Some(Box::new(ResourceMonitor::new(
            name,
            res.capacity,
            now,
            res.holders.len(),
            res.waiting.len(),
        )));
        Ok(())
    }
}

impl Monitorable for ContainerId {
    fn start_monitor<M: Model>(self, sim: &mut Simulation<M>, name: String) -> Result<(), Error> {
        let i = sim.check_container(self, None)?;
        let now = sim.now();
        let c = &mut sim.containers[i];
        if c.monitor.is_some() {
            return Err(sim.already_monitored());
        }
        c.monitor = Some(Box::new(ContainerMonitor::new(name, now, c.level)));
        Ok(())
    }
}

/// A time-weighted level that the engine updates: its clock never goes backwards and its
/// levels are finite, so the updates cannot fail.
fn level(start: f64, initial: f64) -> TimeWeighted {
    TimeWeighted::new(start, initial).expect("the clock and levels are finite")
}

/// A level's statistics up to `now` (never before its last update here).
fn levels(tw: &TimeWeighted, now: f64) -> Vec<(&'static str, Option<f64>)> {
    tw.statistics(now).unwrap_or_default()
}

fn set(tw: &mut TimeWeighted, now: f64, value: f64) {
    tw.set(now, value)
        .expect("the engine's clock never goes backwards");
}

/// What a monitored queue keeps (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QueueMonitor {
    name: String,
    length: TimeWeighted,
    stay: Tally,
    puts: u64,
    gets: u64,
    /// When each item now in the queue entered it, in the queue's order (saved too: a
    /// restored simulation's monitor goes on measuring their stays).
    entered: VecDeque<f64>,
}

impl QueueMonitor {
    pub(crate) fn new(name: String, now: f64, len: usize) -> Self {
        QueueMonitor {
            name,
            length: level(now, len as f64),
            stay: Tally::new(),
            puts: 0,
            gets: 0,
            // Items already there count from now.
            entered: std::iter::repeat_n(now, len).collect(),
        }
    }

    /// An item entered the queue at position `at`; the queue now holds `len`.
    pub(crate) fn entered(&mut self, at: usize, now: f64, len: usize) {
        self.puts += 1;
        self.entered.insert(at, now);
        set(&mut self.length, now, len as f64);
    }

    /// The item at position `at` left; the queue now holds `len`.
    pub(crate) fn left(&mut self, at: usize, now: f64, len: usize) {
        self.gets += 1;
        if let Some(since) = self.entered.remove(at) {
            self.stay.add(now - since);
        }
        set(&mut self.length, now, len as f64);
    }

    pub(crate) fn reset(&mut self, now: f64) {
        self.length.reset(now).expect("the clock never goes back");
        self.stay.reset();
        self.puts = 0;
        self.gets = 0;
    }

    pub(crate) fn advance(&mut self, now: f64) {
        self.length.advance(now).expect("the clock never goes back");
    }

    /// The name it was monitored under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The number of items in the queue over time.
    pub fn length(&self) -> &TimeWeighted {
        &self.length
    }

    /// How long each item that left the queue had spent in it (its length of stay).
    pub fn stay(&self) -> &Tally {
        &self.stay
    }

    /// Items that entered the queue (from putters and `try_put`).
    pub fn puts(&self) -> u64 {
        self.puts
    }

    /// Items that left it (to getters and `try_get`).
    pub fn gets(&self) -> u64 {
        self.gets
    }

    /// The time-weighted mean length up to `now`.
    pub fn mean_length(&self, now: f64) -> Option<f64> {
        self.length.mean(now)
    }

    fn table(&self, now: f64, table: StatsTable) -> StatsTable {
        let name = &self.name;
        table
            .row(format!("{name}: length"), levels(&self.length, now))
            .tally(format!("{name}: stay"), &self.stay)
            .row(
                format!("{name}: items"),
                vec![
                    ("puts", Some(self.puts as f64)),
                    ("gets", Some(self.gets as f64)),
                ],
            )
    }
}

/// What a monitored resource keeps (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ResourceMonitor {
    name: String,
    capacity: usize,
    in_use: TimeWeighted,
    queue_length: TimeWeighted,
    wait: Tally,
    withdrawn: Tally,
}

impl ResourceMonitor {
    pub(crate) fn new(
        name: String,
        capacity: usize,
        now: f64,
        in_use: usize,
        waiting: usize,
    ) -> Self {
        ResourceMonitor {
            name,
            capacity,
            in_use: level(now, in_use as f64),
            queue_length: level(now, waiting as f64),
            wait: Tally::new(),
            withdrawn: Tally::new(),
        }
    }

    /// A request made at `requested` was granted; `in_use` slots are now held.
    pub(crate) fn granted(&mut self, requested: f64, now: f64, in_use: usize) {
        self.wait.add(now - requested);
        set(&mut self.in_use, now, in_use as f64);
    }

    /// A slot was given back or taken by preemption; `in_use` are now held.
    pub(crate) fn freed(&mut self, now: f64, in_use: usize) {
        set(&mut self.in_use, now, in_use as f64);
    }

    /// The wait list now holds `waiting` requests.
    pub(crate) fn waiting(&mut self, now: f64, waiting: usize) {
        set(&mut self.queue_length, now, waiting as f64);
    }

    /// A request made at `requested` was withdrawn before a grant.
    pub(crate) fn withdrew(&mut self, requested: f64, now: f64, waiting: usize) {
        self.withdrawn.add(now - requested);
        self.waiting(now, waiting);
    }

    pub(crate) fn reset(&mut self, now: f64) {
        self.in_use.reset(now).expect("the clock never goes back");
        self.queue_length
            .reset(now)
            .expect("the clock never goes back");
        self.wait.reset();
        self.withdrawn.reset();
    }

    pub(crate) fn advance(&mut self, now: f64) {
        self.in_use.advance(now).expect("the clock never goes back");
        self.queue_length
            .advance(now)
            .expect("the clock never goes back");
    }

    /// The name it was monitored under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its number of slots.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of slots held over time.
    pub fn in_use(&self) -> &TimeWeighted {
        &self.in_use
    }

    /// The mean fraction of slots held up to `now`: mean in-use / capacity.
    pub fn utilization(&self, now: f64) -> Option<f64> {
        Some(self.in_use.mean(now)? / self.capacity as f64)
    }

    /// The number of requests waiting over time.
    pub fn queue_length(&self) -> &TimeWeighted {
        &self.queue_length
    }

    /// How long each granted request waited, from the request to the grant (0 for one
    /// granted at once, `try_acquire` included).
    pub fn wait(&self) -> &Tally {
        &self.wait
    }

    /// How long each withdrawn request had waited when it was withdrawn without a grant
    /// (a renege, an interrupt, a losing first-of branch): reneges are data.
    pub fn withdrawn(&self) -> &Tally {
        &self.withdrawn
    }

    fn table(&self, now: f64, table: StatsTable) -> StatsTable {
        let name = &self.name;
        table
            .row(format!("{name}: in use"), levels(&self.in_use, now))
            .row(
                format!("{name}: utilization"),
                vec![("utilization", self.utilization(now))],
            )
            .row(format!("{name}: waiting"), levels(&self.queue_length, now))
            .tally(format!("{name}: wait"), &self.wait)
            .tally(format!("{name}: withdrawn after"), &self.withdrawn)
    }
}

/// What a monitored container keeps (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ContainerMonitor {
    name: String,
    level: TimeWeighted,
}

impl ContainerMonitor {
    pub(crate) fn new(name: String, now: f64, initial: f64) -> Self {
        ContainerMonitor {
            name,
            level: level(now, initial),
        }
    }

    pub(crate) fn changed(&mut self, now: f64, level: f64) {
        set(&mut self.level, now, level);
    }

    pub(crate) fn reset(&mut self, now: f64) {
        self.level.reset(now).expect("the clock never goes back");
    }

    pub(crate) fn advance(&mut self, now: f64) {
        self.level.advance(now).expect("the clock never goes back");
    }

    /// The name it was monitored under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The level over time.
    pub fn level(&self) -> &TimeWeighted {
        &self.level
    }

    fn table(&self, now: f64, table: StatsTable) -> StatsTable {
        table.row(format!("{}: level", self.name), levels(&self.level, now))
    }
}

/// Every monitor of a simulation at one instant, its time-weighted statistics advanced to
/// it; from [`Simulation::statistics`](crate::Simulation::statistics).
///
/// Prints as one table, a row per statistic; [`Statistics::to_csv`] gives the same as
/// long-format CSV (`name,statistic,value`) for polars or pandas.
///
/// ```
/// use stepsim::{Boxed, Capacity, Simulation};
/// let mut sim = Simulation::<Boxed<u32>>::new(0);
/// let jobs = sim.queue(Capacity::Unbounded)?;
/// sim.monitor(jobs, "jobs")?;
/// sim.context().try_put(jobs, 1).unwrap();
/// sim.run_until(10.0)?;
/// let stats = sim.statistics();
/// let jobs = stats.queue("jobs").unwrap();
/// assert_eq!((jobs.puts(), jobs.gets()), (1, 0));
/// assert_eq!(jobs.mean_length(10.0), Some(1.0)); // one job waited all along
/// println!("{stats}"); // a table of every monitor
/// assert!(stats.to_csv().contains("jobs")); // or long-format CSV
/// # Ok::<(), stepsim::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Statistics {
    /// The instant.
    pub at: f64,
    /// The monitored queues, in creation order.
    pub queues: Vec<QueueMonitor>,
    /// The monitored resources, in creation order.
    pub resources: Vec<ResourceMonitor>,
    /// The monitored containers, in creation order.
    pub containers: Vec<ContainerMonitor>,
}

impl Statistics {
    pub(crate) fn new(
        at: f64,
        mut queues: Vec<QueueMonitor>,
        mut resources: Vec<ResourceMonitor>,
        mut containers: Vec<ContainerMonitor>,
    ) -> Self {
        queues.iter_mut().for_each(|m| m.advance(at));
        resources.iter_mut().for_each(|m| m.advance(at));
        containers.iter_mut().for_each(|m| m.advance(at));
        Statistics {
            at,
            queues,
            resources,
            containers,
        }
    }

    /// The monitored queue of this name.
    pub fn queue(&self, name: &str) -> Option<&QueueMonitor> {
        self.queues.iter().find(|m| m.name == name)
    }

    /// The monitored resource of this name.
    pub fn resource(&self, name: &str) -> Option<&ResourceMonitor> {
        self.resources.iter().find(|m| m.name == name)
    }

    /// The monitored container of this name.
    pub fn container(&self, name: &str) -> Option<&ContainerMonitor> {
        self.containers.iter().find(|m| m.name == name)
    }

    /// All of it as one table.
    pub fn table(&self) -> StatsTable {
        let mut table = StatsTable::new().title(format!("statistics at t={}", self.at));
        for m in &self.queues {
            table = m.table(self.at, table);
        }
        for m in &self.resources {
            table = m.table(self.at, table);
        }
        for m in &self.containers {
            table = m.table(self.at, table);
        }
        table
    }

    /// Long-format CSV, header included: `name,statistic,value`, a row per number.
    pub fn to_csv(&self) -> String {
        self.table().to_csv()
    }
}

impl fmt::Display for Statistics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.table().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_monitor_follows_a_hand_computed_history() {
        // One item from 1 to 4, a second from 2 to 3: length 0,1,2,1,0 on [0,1,2,3,4,10).
        let mut m = QueueMonitor::new("q".into(), 0.0, 0);
        m.entered(0, 1.0, 1);
        m.entered(1, 2.0, 2);
        m.left(1, 3.0, 1);
        m.left(0, 4.0, 0);
        assert_eq!(m.mean_length(10.0), Some((1.0 + 2.0 + 1.0) / 10.0));
        assert_eq!(m.stay().mean(), Some(2.0)); // stays of 1 and 3
        assert_eq!((m.puts(), m.gets()), (2, 2));
        assert_eq!(m.length().time_at_zero(10.0), Some(7.0));
    }

    #[test]
    fn items_already_queued_when_monitoring_starts_count_from_then() {
        let mut m = QueueMonitor::new("q".into(), 5.0, 2);
        m.left(0, 6.0, 1);
        assert_eq!(m.stay().mean(), Some(1.0));
        assert_eq!(m.mean_length(7.0), Some((2.0 + 1.0) / 2.0));
    }

    #[test]
    fn a_resource_monitor_counts_withdrawn_requests_apart() {
        let mut m = ResourceMonitor::new("r".into(), 2, 0.0, 0, 0);
        m.granted(0.0, 0.0, 1);
        m.granted(0.0, 0.0, 2);
        m.waiting(1.0, 1);
        m.withdrew(1.0, 4.0, 0); // reneged after 3
        m.freed(5.0, 1);
        assert_eq!(m.wait().count(), 2);
        assert_eq!(m.withdrawn().mean(), Some(3.0));
        assert_eq!(m.utilization(10.0), Some((2.0 * 5.0 + 5.0) / 10.0 / 2.0));
        assert_eq!(m.queue_length().mean(10.0), Some(0.3));
    }

    #[test]
    fn a_reset_drops_the_warm_up() {
        let mut m = ResourceMonitor::new("r".into(), 1, 0.0, 0, 0);
        m.granted(0.0, 2.0, 1); // waited 2, during the warm-up
        m.reset(5.0);
        m.freed(6.0, 0);
        assert_eq!(m.wait().count(), 0);
        let u = m.utilization(10.0).unwrap();
        assert!((u - 0.2).abs() < 1e-12, "{u}"); // busy 5..6 of 5..10
        let mut c = ContainerMonitor::new("c".into(), 0.0, 10.0);
        c.changed(1.0, 0.0);
        c.reset(2.0);
        c.changed(4.0, 4.0);
        assert_eq!(c.level().mean(6.0), Some(2.0));
    }
}
