//! What saving and restoring needs from the engine's insides (see [`crate::save`]): the
//! order in which free process slots are reused, which the slot table does not write.

use super::waits::BranchList;
use super::{Simulation, Slot};
use crate::process::Model;

/// An empty slot, to hold a free place in the table while it is rebuilt.
fn free_place<M: Model>() -> Slot<M> {
    Slot::new(None, 0.0, BranchList::default(), 0, None)
}

impl<M: Model> Simulation<M> {
    /// Whether a panic poisoned the simulation.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.busy.is_some()
    }

    /// The free process slots, the one a spawn takes next first. The table reuses the slot
    /// freed last; the order is read by taking every free slot and giving them back in
    /// reverse, which leaves the table as it was.
    pub(crate) fn free_slots(&mut self) -> Vec<u32> {
        let free = self.meta.len() - self.procs.len();
        let taken: Vec<usize> = (0..free).map(|_| self.procs.insert(free_place())).collect();
        for &k in taken.iter().rev() {
            self.procs.remove(k);
        }
        debug_assert!(taken.iter().all(|&k| k < self.meta.len()));
        taken.into_iter().map(|k| k as u32).collect()
    }

    /// Rebuilds the slot table of a restored simulation so that its free slots are reused
    /// in `free` order, as in the simulation that was saved.
    pub(crate) fn reuse_slots_in_order(&mut self, free: &[u32]) -> Result<(), String> {
        let n = self.meta.len();
        let corrupt = || "a corrupt saved simulation: its process slots do not add up".to_owned();
        if self.procs.len() + free.len() != n {
            return Err(corrupt());
        }
        let mut slots: Vec<Option<Slot<M>>> = (0..n).map(|_| None).collect();
        for (k, slot) in std::mem::take(&mut self.procs) {
            *slots.get_mut(k).ok_or_else(corrupt)? = Some(slot);
        }
        let mut is_free = vec![false; n];
        for &k in free {
            let k = k as usize;
            if k >= n || slots[k].is_some() || is_free[k] {
                return Err(corrupt());
            }
            is_free[k] = true;
        }
        self.procs = slab::Slab::with_capacity(n);
        for slot in slots {
            self.procs.insert(slot.unwrap_or_else(free_place));
        }
        for &k in free.iter().rev() {
            self.procs.remove(k as usize);
        }
        Ok(())
    }
}
