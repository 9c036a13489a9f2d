//! What saving and restoring needs from the engine's insides (see [`crate::save`]): the
//! order in which free process slots are reused, which the slot table does not write.

use super::Simulation;
use crate::process::Model;

impl<M: Model> Simulation<M> {
    /// Whether a panic poisoned the simulation.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.busy.is_some()
    }

    /// The free process slots, the one a spawn takes next first.
    pub(crate) fn free_slots(&self) -> Vec<u32> {
        let free = self.procs.free_order();
        debug_assert_eq!(free.len() + self.procs.len(), self.meta.len());
        free
    }

    /// Rebuilds the slot table of a restored simulation so that its free slots are reused
    /// in `free` order, as in the simulation that was saved.
    pub(crate) fn reuse_slots_in_order(&mut self, free: &[u32]) -> Result<(), String> {
        if self.procs.reuse_in_order(free, self.meta.len()) {
            Ok(())
        } else {
            Err("a corrupt saved simulation: its process slots do not add up".to_owned())
        }
    }
}
