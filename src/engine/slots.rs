//! The table of process slots, indexed by a pid's `idx`. A finished process's slot stays in
//! the table, free, with nothing but its (emptied) branch list, and the next spawn fills it
//! in place: spawning writes the fields of a starting process and freeing drops only what
//! the process owned, where a slab would move whole slots in and out.
//!
//! Free slots are reused the way a slab reuses its vacant entries, which pids show (in
//! traces, in `Display`): the slot freed last first; a table with no free slot grows by
//! one at its end.

use super::waits::BranchList;
use super::{Parked, Phase, Rare, Slot};
use crate::process::Model;
use std::ops::{Index, IndexMut};

/// No free slot.
const NONE: u32 = u32::MAX;

pub(crate) struct Slots<M: Model> {
    slots: Vec<Slot<M>>,
    /// The free slot that is reused next (the one freed last), or [`NONE`]. A free slot's
    /// `ready` links the one after it.
    free: u32,
    /// How many slots are taken (by live processes, or finished ones not freed yet).
    len: usize,
}

impl<M: Model> Slot<M> {
    /// A free slot, as the table grows.
    fn vacant() -> Self {
        Slot {
            body: None,
            phase: Phase::Free,
            masked: false,
            available: false,
            parked: Parked::Wake,
            spared: false,
            shape: super::waits::Shape::Single,
            since: 0.0,
            branches: BranchList::Empty,
            ready: NONE,
            holds: 0,
            key: 0,
            rare: None,
        }
    }

    /// Whether a process has the slot.
    #[inline]
    pub fn is_taken(&self) -> bool {
        self.phase != Phase::Free
    }

    /// A process about to start, in this free slot. What a free slot owns is only its
    /// emptied branch list (kept for the process, so that `FirstOf`s do not allocate).
    #[inline(always)]
    fn start(&mut self, body: M::Proc, since: f64, key: u64, rare: Option<Box<Rare<M>>>) {
        debug_assert!(!self.is_taken() && self.body.is_none() && self.rare.is_none());
        debug_assert!(self.branches.len() == 0);
        // Both are `None` in a free slot: nothing to drop (so no drop is looked for).
        std::mem::forget(self.body.replace(body));
        std::mem::forget(std::mem::replace(&mut self.rare, rare));
        self.phase = Phase::Starting;
        self.masked = false;
        self.available = false;
        self.parked = Parked::Wake;
        self.spared = false;
        self.shape = super::waits::Shape::Single;
        self.since = since;
        self.ready = NONE;
        self.holds = 0;
        self.key = key;
    }
}

impl<M: Model> Slots<M> {
    pub fn new() -> Self {
        Slots {
            slots: Vec::new(),
            free: NONE,
            len: 0,
        }
    }

    /// How many slots are taken.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether slot `i` is taken.
    #[inline]
    pub fn contains(&self, i: usize) -> bool {
        self.slots.get(i).is_some_and(Slot::is_taken)
    }

    /// Whether slot `i` exists and is in `phase` (not `Phase::Free`: then it is taken). One
    /// bounds check, where testing the `Option` of a slot looked up also tests the pointer.
    #[inline(always)]
    pub fn in_phase(&self, i: usize, phase: Phase) -> bool {
        i < self.slots.len() && self.slots[i].phase == phase
    }

    /// Slot `i`, if it is taken.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&Slot<M>> {
        self.slots.get(i).filter(|s| s.is_taken())
    }

    /// The taken slots, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Slot<M>)> {
        self.slots.iter().enumerate().filter(|(_, s)| s.is_taken())
    }

    /// The taken slots, in index order, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Slot<M>)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter(|(_, s)| s.is_taken())
    }

    /// Gives a process about to start a slot: the free slot freed last, or a new one at the
    /// end. Returns its index.
    #[inline(always)]
    pub fn insert(
        &mut self,
        body: M::Proc,
        since: f64,
        key: u64,
        rare: Option<Box<Rare<M>>>,
    ) -> usize {
        let idx = self.free as usize;
        self.len += 1;
        match self.slots.get_mut(idx) {
            Some(slot) => {
                self.free = slot.ready;
                slot.start(body, since, key, rare);
                idx
            }
            None => self.push(body, since, key, rare),
        }
    }

    /// [`Slots::insert`] with no free slot: the table grows.
    #[cold]
    #[inline(never)]
    fn push(&mut self, body: M::Proc, since: f64, key: u64, rare: Option<Box<Rare<M>>>) -> usize {
        let idx = self.slots.len();
        assert!(idx < NONE as usize, "too many processes");
        let mut slot = Slot::vacant();
        slot.start(body, since, key, rare);
        self.slots.push(slot);
        idx
    }

    /// Frees slot `i`, dropping its process and its rare state (what is left of them: a
    /// kept process took them out before). Its branch list stays, emptied, for the next
    /// process in the slot.
    #[inline]
    pub fn free(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        debug_assert!(slot.is_taken());
        slot.body = None;
        slot.rare = None;
        slot.branches.clear();
        slot.phase = Phase::Free;
        slot.ready = self.free;
        self.free = i as u32;
        self.len -= 1;
    }

    /// The free slots, the one a spawn takes next first.
    #[cfg(feature = "serde")]
    pub fn free_order(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.slots.len() - self.len);
        let mut next = self.free;
        while next != NONE {
            out.push(next);
            next = self.slots[next as usize].ready;
        }
        out
    }

    /// A table of these taken slots (at their indices), every other index free; `None` if
    /// an index is taken twice.
    #[cfg(feature = "serde")]
    fn from_taken(taken: Vec<(usize, Slot<M>)>) -> Option<Self> {
        let n = taken.iter().map(|&(k, _)| k + 1).max().unwrap_or(0);
        let len = taken.len();
        let mut slots: Vec<Slot<M>> = (0..n).map(|_| Slot::vacant()).collect();
        for (k, mut slot) in taken {
            if slots[k].is_taken() || !slot.is_taken() {
                return None;
            }
            std::mem::swap(&mut slots[k], &mut slot);
        }
        let mut table = Slots {
            slots,
            free: NONE,
            len,
        };
        for k in (0..n).rev() {
            if !table.slots[k].is_taken() {
                table.slots[k].ready = table.free;
                table.free = k as u32;
            }
        }
        Some(table)
    }

    /// Makes the table `n` slots long, its free slots reused in `free` order (a restored
    /// simulation's, as in the simulation that was saved); `false` if they do not add up.
    #[cfg(feature = "serde")]
    pub fn reuse_in_order(&mut self, free: &[u32], n: usize) -> bool {
        if self.slots.len() > n || self.len + free.len() != n {
            return false;
        }
        self.slots.resize_with(n, Slot::vacant);
        let mut seen = vec![false; n];
        for &k in free {
            let k = k as usize;
            if k >= n || self.slots[k].is_taken() || seen[k] {
                return false;
            }
            seen[k] = true;
        }
        self.free = NONE;
        for &k in free.iter().rev() {
            self.slots[k as usize].ready = self.free;
            self.free = k;
        }
        true
    }
}

impl<M: Model> Index<usize> for Slots<M> {
    type Output = Slot<M>;
    #[inline(always)]
    fn index(&self, i: usize) -> &Slot<M> {
        let slot = &self.slots[i];
        debug_assert!(slot.is_taken(), "slot {i} is free");
        slot
    }
}

impl<M: Model> IndexMut<usize> for Slots<M> {
    #[inline(always)]
    fn index_mut(&mut self, i: usize) -> &mut Slot<M> {
        let slot = &mut self.slots[i];
        debug_assert!(slot.is_taken(), "slot {i} is free");
        slot
    }
}

impl<M: Model> Clone for Slots<M>
where
    Slot<M>: Clone,
{
    fn clone(&self) -> Self {
        Slots {
            slots: self.slots.clone(),
            free: self.free,
            len: self.len,
        }
    }
}

/// Written as a map from index to slot, of the taken slots only (as the slab it replaces
/// wrote itself); a restore puts the free slots back in their order with
/// [`Slots::reuse_in_order`].
#[cfg(feature = "serde")]
mod serde_impls {
    use super::{Slot, Slots};
    use crate::process::Model;
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::marker::PhantomData;

    impl<M: Model> Serialize for Slots<M>
    where
        Slot<M>: Serialize,
    {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.len()))?;
            for (k, slot) in self.iter() {
                map.serialize_entry(&k, slot)?;
            }
            map.end()
        }
    }

    struct SlotsVisitor<M: Model>(PhantomData<M>);

    impl<'de, M: Model> Visitor<'de> for SlotsVisitor<M>
    where
        Slot<M>: Deserialize<'de>,
    {
        type Value = Slots<M>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map from slot index to slot")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slots<M>, A::Error> {
            let mut taken = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
            while let Some(entry) = map.next_entry()? {
                taken.push(entry);
            }
            Slots::from_taken(taken)
                .ok_or_else(|| serde::de::Error::custom("a process slot saved twice"))
        }
    }

    /// Every index not read is free, for now: a restore puts the free slots in their saved
    /// order with [`Slots::reuse_in_order`].
    impl<'de, M: Model> Deserialize<'de> for Slots<M>
    where
        Slot<M>: Deserialize<'de>,
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(SlotsVisitor(PhantomData))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Slots;
    use crate::{Boxed, Command, Context, Process, Wake};

    struct Idle;
    impl Process<Boxed<()>> for Idle {
        fn step(&mut self, _: &mut Context<'_, Boxed<()>>, _: Wake<()>) -> Command<()> {
            Command::Done
        }
    }

    /// Free slots are reused in the order a slab reuses its vacant entries (pids show it).
    #[test]
    fn slots_are_reused_as_a_slab_reuses_them() {
        let mut slots = Slots::<Boxed<()>>::new();
        let mut slab = slab::Slab::new();
        let mut state = 7u64;
        for _ in 0..2000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (state >> 33) as usize;
            if r % 5 < 3 || slab.is_empty() {
                let k = slots.insert(Box::new(Idle), 0.0, 0, None);
                assert_eq!(k, slab.insert(()));
            } else {
                let taken: Vec<usize> = slab.iter().map(|(k, _)| k).collect();
                let k = taken[r % taken.len()];
                slab.remove(k);
                slots.free(k);
            }
            assert_eq!(slots.len(), slab.len());
            assert!(slots.iter().map(|(k, _)| k).eq(slab.iter().map(|(k, _)| k)));
        }
    }
}
