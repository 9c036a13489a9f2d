//! Saving a running simulation to a file and restoring it, in this program or another (the
//! `serde` feature).
//!
//! Every process is a plain value, so the whole state of a run can be written out: the
//! clock, the event queue, the processes, every queue, resource, container, signal and
//! barrier with its waiting lists, interrupts on their way or queued, activities, the random
//! streams and the monitors. A restored simulation goes on exactly as the saved one would
//! have: the same events, in the same order, with the same random draws.
//!
//! [`Simulation::save`] writes with any serde format (JSON with `serde_json`, a binary
//! format, …), [`Simulation::restore`] reads it back. The model's types must be
//! `Serialize` and `Deserialize`: its processes (`M::Proc`: one enum over the process kinds,
//! or a struct, not a `Box<dyn Process>`), its items and its interrupt causes.
//!
//! # What a file cannot hold: functions
//!
//! A simulation holds three kinds of functions, which no format can write. Each is saved by
//! name and given again when restoring, through a [`Restore`]:
//! - the order of a priority queue made with
//!   [`priority_queue_by`](Simulation::priority_queue_by), saved by the name given there
//!   ([`Restore::order`]); a [`priority_queue`](Simulation::priority_queue) ordered by the
//!   items' own `Ord` needs [`Restore::natural_order`];
//! - the filters of [`Command::GetWhere`](crate::Command::GetWhere) waits, saved by the name
//!   of a [`Filter::named`] ([`Restore::filter`]); a filter made with [`Filter::new`] has no
//!   name, and saving a simulation that holds one is an error;
//! - the observer, which is not saved at all (it is a sink of the program, such as a log
//!   or a file): attach one to the restored simulation with
//!   [`Simulation::observe`].
//!
//! A process's exit value and a signal's value are copied for every process that waits for
//! them, so a simulation that holds one needs its items' `Clone` again:
//! [`Restore::clone_values`].
//!
//! A save that cannot be complete fails with [`Error::Unsaveable`] (through the format's own
//! error type), naming what is missing, and a restore that lacks a function fails naming it:
//! never a silently different run.
//!
//! # Format versions
//!
//! The file starts with its format, [`FORMAT`]. A file of another format (another version
//! of stepsim's engine) is refused with an error that names both.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use stepsim::save::Restore;
//! use stepsim::{Capacity, Command, Context, Model, Outcome, Process, QueueId, Simulation, Wake};
//!
//! struct Shop;
//! impl Model for Shop {
//!     type Item = u32;
//!     type Cause = ();
//!     type Proc = Clerk;
//! }
//!
//! /// Serves each customer for 2 time units.
//! #[derive(Serialize, Deserialize)]
//! struct Clerk { line: QueueId, served: Vec<(f64, u32)> }
//! impl Process<Shop> for Clerk {
//!     fn step(&mut self, cx: &mut Context<'_, Shop>, wake: Wake<u32>) -> Command<u32> {
//!         match wake {
//!             Wake::Completed(Outcome::Got(c)) => { self.served.push((cx.now(), c)); Command::Sleep(2.0) }
//!             _ => Command::Get(self.line),
//!         }
//!     }
//! }
//!
//! let mut sim = Simulation::<Shop>::new(7);
//! let line = sim.queue(Capacity::Unbounded)?;
//! let clerk = sim.spawn(Clerk { line, served: Vec::new() });
//! for c in 0..5 {
//!     sim.context().try_put(line, c).unwrap();
//! }
//! sim.run_until(3.0)?;
//!
//! // Save (here to a string; a file works the same) ...
//! let mut json = Vec::new();
//! sim.save(&mut serde_json::Serializer::new(&mut json)).unwrap();
//! // ... restore, and carry on.
//! let mut again: Simulation<Shop> =
//!     Simulation::restore(&mut serde_json::Deserializer::from_slice(&json), &Restore::new()).unwrap();
//! again.run()?;
//! sim.run()?;
//! assert_eq!(again.process(clerk).unwrap().served, sim.process(clerk).unwrap().served);
//! assert_eq!(again.now(), 10.0);
//! # Ok::<(), stepsim::Error>(())
//! ```

use crate::command::Filter;
use crate::engine::{CloneFn, Simulation};
use crate::error::{Error, Origin};
use crate::process::Model;
use crate::queue::{Order, QueueOrder};
use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::any::Any;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The format of saved simulations this version of stepsim writes and reads.
///
/// A save of another format is refused with an error that names both, never read as
/// something else. Format 2 changed the order of [`Outcome`](crate::Outcome)'s variants
/// (which binary serializers write as indices), the layout of the resource's holders and
/// that of the event queue (each calendar bucket's two ends kept as one pair), so a save of
/// format 1 would not decode to the simulation that wrote it.
pub const FORMAT: &str = "stepsim-save/2";

/// The functions a restored simulation needs again: see the [module documentation](self).
///
/// ```
/// use stepsim::save::Restore;
/// use stepsim::{Boxed, Filter};
///
/// fn by_size(a: &u32, b: &u32) -> std::cmp::Ordering { a.cmp(b) }
///
/// let with: Restore<Boxed<u32>> = Restore::new()
///     .order("by size", by_size)
///     .filter(Filter::named("big", |size: &u32| *size > 10))
///     .natural_order();
/// # let _ = with;
/// ```
pub struct Restore<M: Model> {
    filters: HashMap<Arc<str>, Filter<M::Item>>,
    orders: HashMap<Arc<str>, Order<M::Item>>,
    natural: Option<Order<M::Item>>,
    clone: Option<CloneFn<M::Item>>,
}

impl<M: Model> Default for Restore<M> {
    fn default() -> Self {
        Restore {
            filters: HashMap::new(),
            orders: HashMap::new(),
            natural: None,
            clone: None,
        }
    }
}

impl<M: Model> Restore<M> {
    /// Nothing given: enough for a simulation without priority queues and filters.
    pub fn new() -> Self {
        Self::default()
    }

    /// The order saved as `name` (the name given to
    /// [`priority_queue_by`](Simulation::priority_queue_by)).
    pub fn order(mut self, name: &str, order: fn(&M::Item, &M::Item) -> Ordering) -> Self {
        self.orders.insert(name.into(), order);
        self
    }

    /// The items' own order, for queues made with
    /// [`priority_queue`](Simulation::priority_queue).
    pub fn natural_order(mut self) -> Self
    where
        M::Item: Ord,
    {
        self.natural = Some(<M::Item as Ord>::cmp);
        self
    }

    /// The items' `Clone`, to copy exit values
    /// ([`Context::exit_value`](crate::Context::exit_value)) and signal values for each
    /// process that waits for them.
    pub fn clone_values(mut self) -> Self
    where
        M::Item: Clone,
    {
        self.clone = Some(M::Item::clone);
        self
    }

    /// A filter, under its name (a [`Filter::named`]; a filter without a name is ignored,
    /// as nothing saved can refer to it).
    pub fn filter(mut self, filter: Filter<M::Item>) -> Self {
        if let Some(name) = filter.name() {
            self.filters.insert(name.into(), filter);
        }
        self
    }
}

/// What a restore in progress on this thread can look the functions up in.
struct Registry<T> {
    filters: HashMap<Arc<str>, Filter<T>>,
    orders: HashMap<Arc<str>, Order<T>>,
    natural: Option<Order<T>>,
    clone: Option<CloneFn<T>>,
}

thread_local! {
    /// The registry of the restore running on this thread (a `Registry<M::Item>`).
    static RESTORING: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Looks up in the registry of the restore running on this thread.
fn lookup<T: 'static, R>(
    what: &str,
    f: impl FnOnce(&Registry<T>) -> Result<R, String>,
) -> Result<R, String> {
    RESTORING.with(|r| {
        match r
            .borrow()
            .as_ref()
            .and_then(|b| b.downcast_ref::<Registry<T>>())
        {
            Some(registry) => f(registry),
            None => Err(format!(
                "{what} can only be read by Simulation::restore (it is a function, saved by name)"
            )),
        }
    })
}

/// Clears the registry when the restore ends, however it ends.
struct Restoring;

impl Drop for Restoring {
    fn drop(&mut self) {
        RESTORING.with(|r| *r.borrow_mut() = None);
    }
}

/// A saved simulation as written: the format first, so that another format is recognised
/// before anything else is read.
#[derive(Serialize)]
#[serde(bound(serialize = "M::Proc: Serialize, M::Item: Serialize, M::Cause: Serialize"))]
struct SavedRef<'a, M: Model> {
    format: &'static str,
    /// The free process slots, the next one to be reused first.
    free_slots: &'a [u32],
    simulation: &'a Simulation<M>,
}

#[derive(Deserialize)]
#[serde(bound(
    deserialize = "M::Proc: Deserialize<'de>, M::Item: Deserialize<'de>, M::Cause: Deserialize<'de>"
))]
struct Saved<M: Model> {
    #[serde(deserialize_with = "format")]
    #[allow(dead_code)]
    format: (),
    free_slots: Vec<u32>,
    simulation: Simulation<M>,
}

fn format<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    let found = String::deserialize(d)?;
    if found == FORMAT {
        Ok(())
    } else {
        Err(de::Error::custom(format!(
            "a saved simulation of format {found:?}: this version of stepsim reads {FORMAT:?}"
        )))
    }
}

impl<M: Model> Simulation<M> {
    /// Writes the whole simulation with `serializer` (see the [module documentation](self)).
    ///
    /// Fails, writing nothing, with [`Error::Unsaveable`] (as the format's error) if the
    /// simulation holds a function that cannot be saved (a priority queue's order or a
    /// waiting filter without a name), or if it is poisoned. A filter without a name inside
    /// a process's own state fails the same way while it is written.
    pub fn save<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        M::Proc: Serialize,
        M::Item: Serialize,
        M::Cause: Serialize,
    {
        if let Err(e) = self.check_saveable() {
            return Err(serde::ser::Error::custom(e));
        }
        let free_slots = self.free_slots();
        SavedRef {
            format: FORMAT,
            free_slots: &free_slots,
            simulation: self,
        }
        .serialize(serializer)
    }

    /// Whether [`Simulation::save`] can save everything: [`Error::Unsaveable`] names the
    /// first thing it cannot (checked before anything is written). Filters inside the
    /// processes' own values are not looked at (they fail when written).
    pub fn check_saveable(&self) -> Result<(), Error> {
        let unsaveable = |what: String| {
            Err(Error::Unsaveable {
                origin: Origin {
                    at: self.now,
                    process: None,
                },
                what,
            })
        };
        if self.is_poisoned() {
            return unsaveable("a poisoned simulation (a panic left an event half done)".into());
        }
        for (i, q) in self.queues.iter().enumerate() {
            if q.getters
                .iter()
                .any(|g| g.filter.as_ref().is_some_and(|f| f.name().is_none()))
            {
                return unsaveable(format!(
                    "a GetWhere waiting on q{i} has a filter without a name (make it with Filter::named)"
                ));
            }
        }
        Ok(())
    }

    /// Reads a simulation written by [`Simulation::save`], with the functions it needs again
    /// (see the [module documentation](self)). Its handles are those of the saved simulation:
    /// the handles the processes hold (and any the program kept, in the same program) name
    /// the same things. It has no observer.
    pub fn restore<'de, D: Deserializer<'de>>(
        deserializer: D,
        with: &Restore<M>,
    ) -> Result<Self, D::Error>
    where
        M::Proc: Deserialize<'de>,
        M::Item: Deserialize<'de>,
        M::Cause: Deserialize<'de>,
    {
        let registry: Registry<M::Item> = Registry {
            filters: with.filters.clone(),
            orders: with.orders.clone(),
            natural: with.natural,
            clone: with.clone,
        };
        RESTORING.with(|r| *r.borrow_mut() = Some(Box::new(registry)));
        let _clear = Restoring;
        let saved = Saved::<M>::deserialize(deserializer)?;
        let mut sim = saved.simulation;
        if !(sim.now.is_finite() && sim.now >= 0.0) {
            // The engine relies on it (a sleep's end is checked against infinity only).
            return Err(de::Error::custom(format!(
                "the saved clock is {}: a clock is a finite time, not negative",
                sim.now
            )));
        }
        sim.reuse_slots_in_order(&saved.free_slots)
            .map_err(de::Error::custom)?;
        crate::handle::reserve_sim_id(sim.id);
        Ok(sim)
    }
}

// ----- the functions saved by name -----

impl<T> Serialize for Filter<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(name) => s.serialize_str(name),
            None => Err(serde::ser::Error::custom(
                "cannot save a filter without a name (make it with Filter::named)",
            )),
        }
    }
}

impl<'de, T: 'static> Deserialize<'de> for Filter<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        lookup::<T, _>("a filter", |r| {
            r.filters.get(name.as_str()).cloned().ok_or_else(|| {
                format!(
                    "the saved simulation uses the filter {name:?}: give it with Restore::filter"
                )
            })
        })
        .map_err(de::Error::custom)
    }
}

/// How a priority queue's order is written: by the items' own order, or by name.
#[derive(Serialize, Deserialize)]
enum SavedOrder<N> {
    Natural,
    Named(N),
}

impl<T> Serialize for QueueOrder<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name.as_deref() {
            None => SavedOrder::<&str>::Natural,
            Some(name) => SavedOrder::Named(name),
        }
        .serialize(s)
    }
}

impl<'de, T: 'static> Deserialize<'de> for QueueOrder<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved = SavedOrder::<String>::deserialize(d)?;
        lookup::<T, _>("a priority queue's order", |r| match &saved {
            SavedOrder::Natural => r
                .natural
                .map(|cmp| QueueOrder { cmp, name: None })
                .ok_or_else(|| {
                    "the saved simulation has a priority queue by the items' own order: \
                     give it with Restore::natural_order"
                        .to_owned()
                }),
            SavedOrder::Named(name) => r
                .orders
                .get_key_value(name.as_str())
                .map(|(name, &cmp)| QueueOrder {
                    cmp,
                    name: Some(Arc::clone(name)),
                })
                .ok_or_else(|| {
                    format!("the saved simulation orders a priority queue by {name:?}: give it with Restore::order")
                }),
        })
        .map_err(de::Error::custom)
    }
}

/// A map written as a list of its entries in key order (so that a file does not depend on
/// hash order, and keys need not be strings).
pub(crate) mod sorted_pairs {
    use super::*;
    use std::hash::Hash;

    pub fn serialize<K: Serialize + Ord, V: Serialize, S: Serializer>(
        map: &HashMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut pairs: Vec<(&K, &V)> = map.iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs.serialize(s)
    }

    pub fn deserialize<
        'de,
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    >(
        d: D,
    ) -> Result<HashMap<K, V>, D::Error> {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

fn needs_clone() -> String {
    "the saved simulation holds an exit value or a signal's value, copied for each process \
     that waits for it: give the items' Clone with Restore::clone_values"
        .to_owned()
}

/// `Option<(T, CloneFn<T>)>` (an exit value and how to copy it), saved as `Option<T>`.
pub(crate) mod exit_value {
    use super::*;

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<(T, CloneFn<T>)>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value.as_ref().map(|(v, _)| v).serialize(s)
    }

    pub fn deserialize<'de, T: Deserialize<'de> + 'static, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<(T, CloneFn<T>)>, D::Error> {
        match Option::<T>::deserialize(d)? {
            None => Ok(None),
            Some(v) => {
                let clone = lookup::<T, _>("an exit value", |r| r.clone.ok_or_else(needs_clone))
                    .map_err(de::Error::custom)?;
                Ok(Some((v, clone)))
            }
        }
    }
}

/// `Option<CloneFn<T>>` (how a signal copies its value), saved as whether there is one.
pub(crate) mod clone_fn {
    use super::*;

    pub fn serialize<T, S: Serializer>(
        clone: &Option<CloneFn<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        clone.is_some().serialize(s)
    }

    pub fn deserialize<'de, T: 'static, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<CloneFn<T>>, D::Error> {
        if bool::deserialize(d)? {
            lookup::<T, _>("a signal's value", |r| {
                r.clone.map(Some).ok_or_else(needs_clone)
            })
            .map_err(de::Error::custom)
        } else {
            Ok(None)
        }
    }
}

/// Reads a string that the engine keeps as `&'static str` (the fixed words of an error):
/// each distinct string is allocated once per program, however many restores read it.
pub(crate) fn interned<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    static INTERNED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let s = String::deserialize(d)?;
    let mut set = INTERNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let set = set.get_or_insert_with(HashSet::new);
    if let Some(&known) = set.get(s.as_str()) {
        return Ok(known);
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    set.insert(leaked);
    Ok(leaked)
}
