//! Resources: `n` identical slots, taken with `Acquire` and given back with
//! [`Context::release`](crate::Context::release).
//!
//! Waiting requests are served in FIFO order, and only the head of the wait list is tried
//! (SimPy's `Resource`): a released slot is offered to the next waiter when the release's own
//! event is processed, at the same instant. A process that finishes while holding slots
//! releases them (as SimPy's `with resource.request()` does); an interrupt or a losing
//! `FirstOf` branch withdraws a pending request without taking a slot.

use crate::handle::Pid;
use crate::queue::Waiter;
use std::collections::VecDeque;

pub(crate) struct ResourceState {
    pub capacity: usize,
    pub holders: Vec<Pid>,
    pub waiting: VecDeque<Waiter>,
}

impl ResourceState {
    pub fn new(capacity: usize) -> Self {
        ResourceState {
            capacity,
            holders: Vec::new(),
            waiting: VecDeque::new(),
        }
    }

    pub fn remove_waiter(&mut self, idx: u32, epoch: u32) -> bool {
        match self
            .waiting
            .iter()
            .position(|w| w.idx == idx && w.epoch == epoch)
        {
            Some(at) => {
                self.waiting.remove(at);
                true
            }
            None => false,
        }
    }
}

/// A read-only look at a resource.
pub struct ResourceView<'a> {
    pub(crate) state: &'a ResourceState,
}

impl<'a> ResourceView<'a> {
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
    pub fn holders(&self) -> &'a [Pid] {
        &self.state.holders
    }
}
