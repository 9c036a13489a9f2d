//! Handles: small `Copy` names for processes, queues and resources.
//!
//! Every handle remembers which [`Simulation`](crate::Simulation) made it, so a handle from
//! another simulation is rejected with [`Error::ForeignHandle`](crate::Error::ForeignHandle)
//! instead of silently naming something else. Process handles also carry a generation: a
//! process slot is reused after its process finishes, and the old [`Pid`] never aliases the
//! new occupant.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// The next simulation id to hand out.
static NEXT: AtomicU32 = AtomicU32::new(1);

/// Hands out a distinct id to every simulation created in this program.
pub(crate) fn next_sim_id() -> u32 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Keeps `id` (of a restored simulation) from being handed out again in this program.
#[cfg(feature = "serde")]
pub(crate) fn reserve_sim_id(id: u32) {
    NEXT.fetch_max(id.saturating_add(1), Ordering::Relaxed);
}

/// Names a process of one simulation.
///
/// Returned by [`Simulation::spawn`](crate::Simulation::spawn) and
/// [`Context::spawn`](crate::Context::spawn). Cheap to copy and compare.
///
/// ```
/// use stepsim::{Boxed, Command, Context, Process, Simulation, Wake};
/// struct Nap;
/// impl Process<Boxed<()>> for Nap {
///     fn step(&mut self, _: &mut Context<'_, Boxed<()>>, wake: Wake<()>) -> Command<()> {
///         if let Wake::Started = wake { Command::Sleep(2.0) } else { Command::Done }
///     }
/// }
/// let mut sim = Simulation::<Boxed<()>>::new(0);
/// let a = sim.spawn_named("a", Box::new(Nap));
/// let b = sim.spawn(Box::new(Nap));
/// assert_ne!(a, b);
/// assert_eq!(sim.name(a), Some("a"));
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Pid {
    pub(crate) sim: u32,
    pub(crate) idx: u32,
    pub(crate) generation: u32,
}

impl Pid {
    /// The slot number of the process: small, stable while it lives, reused after it
    /// finishes (traces print it as `#index`).
    pub fn index(self) -> u32 {
        self.idx
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pid(#{}.{})", self.idx, self.generation)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.idx)
    }
}

/// Declares a handle type for a primitive that lives as long as its simulation.
macro_rules! primitive_handle {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name {
            pub(crate) sim: u32,
            pub(crate) idx: u32,
        }

        impl $name {
            /// Its number, in creation order from 0 among primitives of its kind.
            pub fn index(self) -> u32 {
                self.idx
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, " {}"), self.idx)
            }
        }
    };
}

primitive_handle!(
    /// Names a queue (FIFO, priority or filter) of one simulation; see [`crate::queue`].
    QueueId,
    "queue"
);
primitive_handle!(
    /// Names a resource (plain, priority or preemptive) of one simulation; see
    /// [`crate::resource`].
    ResourceId,
    "resource"
);
primitive_handle!(
    /// Names a container of one simulation; see [`crate::container`].
    ContainerId,
    "container"
);
primitive_handle!(
    /// Names a signal of one simulation; see [`crate::signal`].
    SignalId,
    "signal"
);
primitive_handle!(
    /// Names a barrier of one simulation; see [`crate::barrier`].
    BarrierId,
    "barrier"
);
primitive_handle!(
    /// Names a planned activity of one simulation; see [`crate::activity`].
    ActivityId,
    "activity"
);

/// Any handle, as named in an [`Error`](crate::Error).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Handle {
    /// A process handle.
    Process(Pid),
    /// A queue handle.
    Queue(QueueId),
    /// A resource handle.
    Resource(ResourceId),
    /// A container handle.
    Container(ContainerId),
    /// A signal handle.
    Signal(SignalId),
    /// A barrier handle.
    Barrier(BarrierId),
    /// An activity handle.
    Activity(ActivityId),
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Handle::Process(p) => write!(f, "process {p}"),
            Handle::Queue(q) => q.fmt(f),
            Handle::Resource(r) => r.fmt(f),
            Handle::Container(c) => c.fmt(f),
            Handle::Signal(s) => s.fmt(f),
            Handle::Barrier(b) => b.fmt(f),
            Handle::Activity(a) => a.fmt(f),
        }
    }
}
