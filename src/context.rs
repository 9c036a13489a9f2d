//! The context: what a process may do *without* waiting.
//!
//! A [`Context`] is handed to every [`Process::step`](crate::Process::step). Through it a
//! process reads the clock, spawns and interrupts processes, releases resource slots, puts and
//! gets without blocking, inspects queues, and draws random streams. Everything that waits is
//! a [`Command`](crate::Command) instead.
//!
//! Misuse through a context (a handle from another simulation, releasing a slot not held,
//! [`Context::fail`]) is recorded and ends the process's step with that error: the run
//! returns it, naming the process and the time. The first such error wins.

use crate::engine::Simulation;
use crate::error::{Error, Origin};
use crate::handle::{Pid, QueueId, ResourceId};
use crate::process::Model;
use crate::queue::QueueView;
use crate::resource::ResourceView;
use crate::rng::{Stream, derive_stream, name_key};

/// Access to the simulation from inside a step; see the [module docs](self).
pub struct Context<'a, M: Model> {
    pub(crate) sim: &'a mut Simulation<M>,
    pub(crate) me: Option<Pid>,
    pub(crate) error: Option<Error>,
}

impl<'a, M: Model> Context<'a, M> {
    /// The current simulated time.
    pub fn now(&self) -> f64 {
        self.sim.now
    }

    /// The process being stepped; `None` for [`Simulation::context`].
    pub fn pid(&self) -> Option<Pid> {
        self.me
    }

    /// The running process's name, if it was spawned with one.
    pub fn name(&self) -> Option<&str> {
        self.me.and_then(|p| self.sim.name(p))
    }

    /// Spawns a process; it starts at this instant, after the current step.
    pub fn spawn(&mut self, process: M::Proc) -> Pid {
        self.sim.spawn_from(process, None)
    }

    /// Spawns a named process.
    pub fn spawn_named(&mut self, name: impl Into<String>, process: M::Proc) -> Pid {
        self.sim
            .spawn_from(process, Some(name.into().into_boxed_str()))
    }

    /// Interrupts `target`; the interrupt lands at this instant, urgently (see
    /// [`crate::engine`] for the rules). Returns `false`, and does nothing, if `target` has
    /// finished. Interrupting itself, or a handle from another simulation, is an error.
    pub fn interrupt(&mut self, target: Pid, cause: M::Cause) -> bool {
        match self.sim.interrupt_from(self.me, target, cause) {
            Ok(()) => true,
            Err(Error::Finished { .. }) => false,
            Err(e) => {
                self.record(e);
                false
            }
        }
    }

    /// Gives back one slot of `r` held by this process. The next waiter gets it at this
    /// instant, after the current step. Releasing a slot not held is an error.
    pub fn release(&mut self, r: ResourceId) {
        if let Err(e) = self.sim.release_from(self.me, r) {
            self.record(e);
        }
    }

    /// Takes the head item of `q` if one is there *and* no process is already waiting for
    /// it (a non-blocking get never overtakes a blocked one).
    pub fn try_get(&mut self, q: QueueId) -> Option<M::Item> {
        match self.sim.try_get_from(self.me, q) {
            Ok(item) => item,
            Err(e) => {
                self.record(e);
                None
            }
        }
    }

    /// Puts `item` into `q` if it has room and no putter is blocked; otherwise hands the
    /// item back as `Err`.
    pub fn try_put(&mut self, q: QueueId, item: M::Item) -> Result<(), M::Item> {
        match self.sim.try_put_from(self.me, q, item) {
            Ok(result) => result,
            Err(e) => {
                self.record(e);
                Ok(())
            }
        }
    }

    /// A read-only look at a queue.
    pub fn queue_view(&self, q: QueueId) -> Result<QueueView<'_, M::Item>, Error> {
        self.sim.queue_view(q)
    }

    /// A read-only look at a resource.
    pub fn resource_view(&self, r: ResourceId) -> Result<ResourceView<'_>, Error> {
        self.sim.resource_view(r)
    }

    /// Whether `pid` has finished.
    pub fn is_finished(&self, pid: Pid) -> Result<bool, Error> {
        self.sim.is_finished(pid)
    }

    /// An independent random stream; see [`Simulation::stream`].
    pub fn stream(&self, key: u64) -> Stream {
        derive_stream(self.sim.seed(), key)
    }

    /// A random stream keyed by name; see [`Simulation::stream_named`].
    pub fn stream_named(&self, name: &str) -> Stream {
        derive_stream(self.sim.seed(), name_key(name))
    }

    /// Ends this step with a model error: the run returns [`Error::Model`] with `message`,
    /// naming this process and the time. Use it for broken invariants of the model.
    pub fn fail(&mut self, message: impl Into<String>) {
        let origin = self.origin();
        self.record(Error::Model {
            origin,
            message: message.into(),
        });
    }

    /// The error recorded so far through this context, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Takes the recorded error (for a context made by [`Simulation::context`], where no
    /// step ends to report it).
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    fn origin(&self) -> Origin {
        self.sim.origin(self.me)
    }

    fn record(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }
}
