//! The event queue: a calendar queue (R. Brown, "Calendar queues", CACM 31(10), 1988).
//!
//! Events are ordered by two integers, `(t, k)`: the bit pattern of a non-negative time and
//! the priority-and-sequence word. The queue gives them back in exactly that order — the
//! structure changes how fast the earliest event is found, never which one it is — so the
//! event trace is the same as with a binary heap (`tests` below compare the two).
//!
//! Time is cut into *days* of `width`; day `d` covers `[d·width, (d+1)·width)`, and the
//! calendar has `nb` buckets (a power of two), day `d` going to bucket `d mod nb`. Each bucket
//! is a list sorted by `(t, k)`, linked through the node array; a new event at or after a
//! bucket's tail (events of one instant in scheduling order, the common case) is appended in
//! O(1). The cursor `cur` is a day before which no event lies; the earliest event is the head
//! of the first bucket, from the cursor on, whose head falls on the day being looked at. After
//! a whole year (`nb` days) of empty days the queue searches every head directly.
//!
//! Events for the current instant (the time of the last event popped) pushed in increasing
//! `k` — what an engine schedules at `now`, in scheduling order — skip the calendar: they wait
//! in a FIFO, and a pop takes the smaller of its front and the calendar's earliest. That keeps
//! the common "wake it now" event O(1) and keeps a burst of events at one instant (thousands
//! of processes spawned at once) out of the calendar's lists.
//!
//! With `width` near the mean gap between events at the front of the queue, each pop looks
//! at a bucket or two and each push walks a short list: O(1) per event, where a binary heap
//! pays O(log n) moves and, past the caches, O(log n) cache misses. The queue re-sizes itself
//! as it grows and shrinks (keeping between `nb/2` and `2·nb` events) and re-measures the
//! width from its earliest events then, and whenever its work per event since the last
//! re-size has stayed high; so a model whose tempo changes still finds a good width. A
//! re-size costs O(n) and comes after Ω(n) operations (growing, shrinking) or Ω(n) wasted
//! work (re-measuring), so it at most doubles the cost it follows. Nothing here allocates
//! except the growth of the node array and the FIFO and a re-size to more buckets.
//!
//! A known worst case: a list walk is O(bucket length), so many events at one *future*
//! instant followed by events later on that same day make each of those walk past them.

use std::cell::Cell;
use std::collections::VecDeque;

const NIL: u32 = u32::MAX;
const MIN_BUCKETS: usize = 16;
/// Events sampled from the front of the queue to choose a width.
const SAMPLE: usize = 32;

#[derive(Clone, Copy)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Node<T: Copy> {
    t: u64,
    k: u64,
    /// Next node in the same bucket, or in the free list.
    next: u32,
    val: T,
}

/// One bucket's sorted list: its first and last node (`NIL`, `NIL` when empty).
#[derive(Clone, Copy)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Bucket {
    head: u32,
    tail: u32,
}

impl Bucket {
    const EMPTY: Bucket = Bucket {
        head: NIL,
        tail: NIL,
    };
}

/// A priority queue of `T`s keyed by `(t, k)`, smallest first. See the module documentation.
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Calendar<T: Copy> {
    /// The bucket whose head is the earliest listed event, once found (`NIL`: not known).
    /// It stays known until a list pop, a re-size or the push of an earlier event, so a run
    /// of FIFO events (the engine's "now" events) costs no head search at all, and each
    /// listed event is searched for once.
    lfront: Cell<u32>,
    /// The key of that head, while `lfront` is known.
    lkey: Cell<(u64, u64)>,
    /// Time of the last event popped.
    now: u64,
    /// Events at `now` pushed in increasing `k` (an engine's events for the current instant,
    /// in scheduling order): they skip the calendar's lists. Their nodes come from the same
    /// array, so a burst leaves 4 bytes an event of spare capacity here, no more.
    fifo: VecDeque<u32>,
    nodes: Vec<Node<T>>,
    /// Head of the free list in `nodes`.
    free: u32,
    /// Each bucket's list: one vector of pairs, so a push or pop checks one index and
    /// touches one cache line for both ends.
    buckets: Vec<Bucket>,
    mask: u64,
    /// Re-size to twice the buckets past this many listed events (twice the buckets) ...
    /// (0 while the queue is overworked, see `add_work`: the next push re-sizes)
    grow_at: Cell<usize>,
    /// ... and to half below this many (half the buckets; 1 at the fewest buckets, so that
    /// the pop that empties the lists resets the cursor). (The most while overworked: the
    /// next pop re-sizes.) One check a push or pop, for both.
    shrink_at: Cell<usize>,
    inv_width: f64,
    /// No event lies on a day before this one; `u64::MAX` while nothing is listed.
    cur: Cell<u64>,
    /// Events in the buckets' lists (the FIFO's are not counted).
    listed: usize,
    /// Empty days skipped and list nodes walked since the last re-size ...
    work: Cell<u64>,
    /// ... and the events listed plus the pushes and pops since then, kept as the events
    /// listed at that re-size plus two a push (a pop takes one from `listed` and adds one
    /// operation: it leaves this count alone).
    quota: usize,
    /// All work so far, re-sizes included (one unit per node moved).
    #[cfg(test)]
    spent: u64,
}

#[inline]
fn before(at: u64, ak: u64, bt: u64, bk: u64) -> bool {
    (at, ak) < (bt, bk)
}

impl<T: Copy> Calendar<T> {
    pub(crate) fn new() -> Self {
        Calendar {
            lfront: Cell::new(NIL),
            lkey: Cell::new((0, 0)),
            now: 0,
            fifo: VecDeque::new(),
            nodes: Vec::new(),
            free: NIL,
            buckets: vec![Bucket::EMPTY; MIN_BUCKETS],
            mask: MIN_BUCKETS as u64 - 1,
            grow_at: Cell::new(2 * MIN_BUCKETS),
            shrink_at: Cell::new(1),
            inv_width: 1.0,
            cur: Cell::new(u64::MAX),
            listed: 0,
            work: Cell::new(0),
            quota: 0,
            #[cfg(test)]
            spent: 0,
        }
    }

    /// Number of events queued.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.listed + self.fifo.len()
    }

    /// The day of a time (its bit pattern): `t / width` rounded to the nearest whole
    /// number. Monotone in `t` (all the calendar needs: days may start half a width early);
    /// saturates for huge times.
    #[inline]
    fn day(&self, t: u64) -> u64 {
        // Times are finite and non-negative and the width is a normal positive number, so
        // the product is non-negative, finite or +inf. Clamped below 2^51, adding 2^52
        // rounds it to a whole number held in the low bits of the sum, where subtracting
        // 2^52's bits reads it: four instructions, where a saturating `as` conversion takes
        // seven (a range check and a NaN check around the conversion).
        const MAX_DAY: f64 = (1u64 << 51) as f64;
        const MAGIC: f64 = (1u64 << 52) as f64;
        ((f64::from_bits(t) * self.inv_width).min(MAX_DAY) + MAGIC).to_bits() - MAGIC.to_bits()
    }

    /// Queues `val` under `(t, k)`; `t` must be the bits of a non-negative `f64`.
    #[inline(always)]
    pub(crate) fn push(&mut self, t: u64, k: u64, val: T) {
        // The FIFO stays sorted: a push joins it only at the back, at the current instant.
        // (After a pop of an event earlier than the FIFO's, which an engine makes when it
        // drops withdrawn timers ahead of its clock and then schedules at its clock, the
        // FIFO's events are later than `now`: new events of `now` go to the lists.)
        let node = Node {
            t,
            k,
            next: NIL,
            val,
        };
        if t == self.now
            && self.fifo.back().is_none_or(|&i| {
                let n = &self.nodes[i as usize];
                n.t == t && n.k < k
            })
        {
            let i = self.alloc(node);
            self.fifo.push_back(i);
            return;
        }
        let i = self.alloc(node);
        let b = self.link::<true>(i, t, k);
        if self.lfront.get() != NIL && (t, k) < self.lkey.get() {
            // The new event is the earliest listed one: the head of its bucket.
            self.lfront.set(b as u32);
            self.lkey.set((t, k));
        }
        self.listed += 1;
        self.quota += 2;
        if self.listed > self.grow_at.get() {
            self.resize_after(true);
        }
    }

    /// Stores `node` in a free place of the node array; returns its index.
    #[inline(always)]
    fn alloc(&mut self, node: Node<T>) -> u32 {
        let i = self.free;
        if let Some(n) = self.nodes.get_mut(i as usize) {
            self.free = n.next;
            *n = node;
            i
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    /// Counts `units` of work (empty days skipped, list nodes walked). Once the work since
    /// the last re-size exceeds twice the events and operations since then, the next push
    /// or pop re-measures the width: a re-size costs O(n), so it at most doubles the work
    /// that made it necessary, and a good width keeps the work near one unit per
    /// operation, which never triggers it. (Checked here, where work is added, not on
    /// every operation: the bound only grows between two additions.)
    #[inline]
    fn add_work(&self, units: u64) {
        let work = self.work.get() + units;
        self.work.set(work);
        if work > 2 * self.quota as u64 + 1024 {
            // Overworked: the thresholds make the next push or pop re-size.
            self.grow_at.set(0);
            self.shrink_at.set(usize::MAX);
        }
    }

    /// Puts node `i`, of key `(t, k)` (the caller has it at hand), into its bucket, in
    /// order, and moves the cursor back to its day if the node is earlier than the cursor
    /// (a peek may have moved the cursor past `now`). With `FRESH`, the node's `next` is
    /// already `NIL` (a push writes it so). Returns the bucket.
    #[inline(always)]
    fn link<const FRESH: bool>(&mut self, i: u32, t: u64, k: u64) -> usize {
        let day = self.day(t);
        // (While nothing is listed the cursor is `u64::MAX`: the first event's day sets it.)
        if day < self.cur.get() {
            self.cur.set(day);
        }
        let b = (day & self.mask) as usize;
        // Through local slices: their lengths stay in registers across the stores below,
        // so an index checked once is not checked again.
        let nodes = &mut self.nodes[..];
        let bucket = &mut self.buckets[b];
        let Bucket { head, tail } = *bucket;
        // (`NIL` is no index: `get` tells an empty bucket with the bounds check.)
        let Some(tn) = nodes.get(tail as usize) else {
            *bucket = Bucket { head: i, tail: i };
            if !FRESH {
                nodes[i as usize].next = NIL;
            }
            return b;
        };
        if !before(t, k, tn.t, tn.k) {
            bucket.tail = i;
            nodes[tail as usize].next = i;
            if !FRESH {
                nodes[i as usize].next = NIL;
            }
            return b;
        }
        let hn = &nodes[head as usize];
        if before(t, k, hn.t, hn.k) {
            bucket.head = i;
            nodes[i as usize].next = head;
            return b;
        }
        // head <= new < tail: the node goes somewhere in between.
        let mut p = head;
        let mut walked = 0;
        let next = loop {
            let next = nodes[p as usize].next;
            walked += 1;
            let n = &nodes[next as usize];
            if before(t, k, n.t, n.k) {
                break next;
            }
            p = next;
        };
        nodes[i as usize].next = next;
        nodes[p as usize].next = i;
        self.add_work(walked);
        b
    }

    /// The bucket whose head is the earliest event; moves the cursor to that event's day.
    /// Out of line: once per listed event (see `lfront`), so the cheap checks around it
    /// stay small enough to inline (a pop, once per event, inlines it: see `pop_before`).
    /// It becomes the known earliest one (`lfront`, `lkey`).
    #[inline(never)]
    fn front(&self) -> Option<usize> {
        let (b, head) = self.search_front()?;
        let n = &self.nodes[head as usize];
        self.keep_front(b, n.t, n.k);
        Some(b)
    }

    /// [`Calendar::front`]'s search: the bucket, and its head (the earliest listed event).
    #[inline(always)]
    fn search_front(&self) -> Option<(usize, u32)> {
        if self.listed == 0 {
            return None;
        }
        // No overflow: the cursor is a day of an event (at most 2^51) or a year past one.
        let start = self.cur.get();
        let (buckets, nodes) = (&self.buckets[..], &self.nodes[..]);
        let end = start + buckets.len() as u64;
        let mut cur = start;
        loop {
            let b = (cur & self.mask) as usize;
            // A head on a later day means nothing of this day is in this bucket (the list is
            // sorted and no event lies before the cursor). (`NIL` is no index: `get` tells an
            // empty bucket with the bounds check.)
            let head = buckets[b].head;
            if let Some(n) = nodes.get(head as usize)
                && self.day(n.t) <= cur
            {
                self.cur.set(cur);
                if cur != start {
                    self.add_work(cur - start);
                }
                return Some((b, head));
            }
            cur += 1;
            if cur == end {
                return Some(self.scan_heads());
            }
        }
    }

    /// [`Calendar::front`] after a whole year of empty days: the earliest of every bucket's
    /// head.
    #[cold]
    #[inline(never)]
    fn scan_heads(&self) -> (usize, u32) {
        let (best, head) = self
            .buckets
            .iter()
            .enumerate()
            .map(|(b, bucket)| (b, bucket.head))
            .filter(|&(_, head)| head != NIL)
            .min_by_key(|&(_, head)| {
                let n = &self.nodes[head as usize];
                (n.t, n.k)
            })
            .expect("a listed event");
        self.cur.set(self.day(self.nodes[head as usize].t));
        self.add_work(2 * self.buckets.len() as u64);
        (best, head)
    }

    /// The bucket whose head is the earliest listed event (cached, see `lfront`).
    #[inline(always)]
    fn list_front(&self) -> Option<usize> {
        let b = self.lfront.get();
        if b != NIL {
            return Some(b as usize);
        }
        self.front()
    }

    /// Where the earliest event is: the front of the FIFO (`None`) or the head of a bucket.
    #[inline(always)]
    fn earliest(&self) -> Option<Option<usize>> {
        let bucket = self.list_front();
        match (self.fifo.front(), bucket) {
            (None, None) => None,
            (Some(_), None) => Some(None),
            (None, Some(b)) => Some(Some(b)),
            (Some(&i), Some(b)) => {
                let f = &self.nodes[i as usize];
                let (t, k) = self.lkey.get();
                Some(if before(f.t, f.k, t, k) {
                    None
                } else {
                    Some(b)
                })
            }
        }
    }

    /// The key of the earliest event, without removing it.
    #[inline(always)]
    pub(crate) fn first_key(&self) -> Option<(u64, u64)> {
        match self.earliest()? {
            None => self.fifo.front().map(|&i| {
                let n = &self.nodes[i as usize];
                (n.t, n.k)
            }),
            Some(_) => Some(self.lkey.get()),
        }
    }

    /// Whether `(t, k)` comes before every queued event. With `search`, the earliest listed
    /// event is searched for if it is not known (and then known until it changes); without,
    /// an unknown earliest listed event counts as earlier.
    #[inline(always)]
    pub(crate) fn before_all(&self, t: u64, k: u64, search: bool) -> bool {
        if let Some(&i) = self.fifo.front() {
            let n = &self.nodes[i as usize];
            if !before(t, k, n.t, n.k) {
                return false;
            }
        }
        if self.listed == 0 {
            return true;
        }
        if self.lfront.get() == NIL {
            if !search {
                return false;
            }
            self.list_front();
        }
        let (lt, lk) = self.lkey.get();
        before(t, k, lt, lk)
    }

    /// The caller took an event at time `t` from outside the queue, earlier than every
    /// event queued: events pushed at `t` from now on may use the FIFO (empty, since every
    /// one of its events would be earlier than that event, or at `t` itself).
    #[inline]
    pub(crate) fn advance(&mut self, t: u64) {
        if self.fifo.is_empty() {
            self.now = t;
        }
    }

    /// The earliest event, without removing it.
    #[inline]
    pub(crate) fn peek(&self) -> Option<(u64, u64, &T)> {
        match self.earliest()? {
            None => self.fifo.front().map(|&i| {
                let n = &self.nodes[i as usize];
                (n.t, n.k, &n.val)
            }),
            Some(b) => {
                let n = &self.nodes[self.buckets[b].head as usize];
                Some((n.t, n.k, &n.val))
            }
        }
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u64, u64, T)> {
        self.pop_before(u64::MAX)
    }

    /// Removes and returns the earliest event if its time is before `limit` (bits).
    #[inline(always)]
    pub(crate) fn pop_before(&mut self, limit: u64) -> Option<(u64, u64, T)> {
        // The search inlined: a run pops once per event, through one call site. It hands
        // over the head it found, which is taken from there: not looked up again through
        // `lfront` and `lkey` (set only where the event stays).
        // Where the earliest event is, if before `limit`: `Some(None)`, the FIFO's front;
        // `Some(Some((b, i)))`, node `i` at the head of bucket `b`.
        let cached = self.lfront.get();
        let from = if cached != NIL {
            let (lt, lk) = self.lkey.get();
            match self.fifo.front() {
                Some(&f)
                    if {
                        let fnode = &self.nodes[f as usize];
                        before(fnode.t, fnode.k, lt, lk)
                    } =>
                {
                    (self.nodes[f as usize].t < limit).then_some(None)
                }
                _ => (lt < limit)
                    .then(|| Some((cached as usize, self.buckets[cached as usize].head))),
            }
        } else if let Some((b, i)) = self.search_front() {
            let n = &self.nodes[i as usize];
            let (t, k) = (n.t, n.k);
            match self.fifo.front() {
                Some(&f)
                    if {
                        let fnode = &self.nodes[f as usize];
                        before(fnode.t, fnode.k, t, k)
                    } =>
                {
                    self.keep_front(b, t, k);
                    (self.nodes[f as usize].t < limit).then_some(None)
                }
                _ if t >= limit => {
                    self.keep_front(b, t, k);
                    None
                }
                _ => Some(Some((b, i))),
            }
        } else {
            let &f = self.fifo.front()?;
            (self.nodes[f as usize].t < limit).then_some(None)
        };
        let (b, i) = match from? {
            Some(at) => at,
            None => return Some(self.pop_fifo()),
        };
        let n = self.nodes[i as usize];
        // Through local slices (their lengths in registers), and the `Cell` written last:
        // a store through a `Cell` makes every field be loaded again.
        let nodes = &mut self.nodes[..];
        let bucket = &mut self.buckets[b];
        bucket.head = n.next;
        if n.next == NIL {
            bucket.tail = NIL;
        }
        nodes[i as usize].next = self.free;
        self.free = i;
        self.lfront.set(NIL);
        self.listed -= 1;
        if self.listed < self.shrink_at.get() {
            self.resize_after(false);
        }
        self.now = n.t;
        Some((n.t, n.k, n.val))
    }

    /// The earliest listed event, found by a pop that leaves it, is known from now on.
    #[inline]
    fn keep_front(&self, b: usize, t: u64, k: u64) {
        self.lfront.set(b as u32);
        self.lkey.set((t, k));
    }

    /// Removes the FIFO's front (there is one) and returns it.
    #[inline]
    fn pop_fifo(&mut self) -> (u64, u64, T) {
        let i = self.fifo.pop_front().expect("non-empty");
        let n = self.release(i);
        self.now = n.t;
        (n.t, n.k, n.val)
    }

    /// Puts node `i` on the free list; returns it as it was.
    #[inline]
    fn release(&mut self, i: u32) -> Node<T> {
        let n = self.nodes[i as usize];
        self.nodes[i as usize].next = self.free;
        self.free = i;
        n
    }

    /// After a push (`pushed`) or a pop past `grow_at` or `shrink_at`: grows, shrinks, or
    /// (overworked, see `add_work`) re-measures the width.
    #[cold]
    #[inline(never)]
    fn resize_after(&mut self, pushed: bool) {
        let nb = self.buckets.len();
        if !pushed && self.listed == 0 {
            // The lists emptied (at the fewest buckets `shrink_at` is 1 for this): the
            // cursor waits for the next event's day.
            self.cur.set(u64::MAX);
            if nb == MIN_BUCKETS && self.shrink_at.get() != usize::MAX {
                return;
            }
        }
        if pushed && self.listed > 2 * nb {
            self.resize(nb * 2);
        } else if !pushed && nb > MIN_BUCKETS && self.listed < nb / 2 {
            self.resize(nb / 2);
        } else {
            debug_assert!(self.grow_at.get() == 0 && self.shrink_at.get() == usize::MAX);
            self.resize(nb);
        }
    }

    /// Re-distributes every event over `nb` buckets, with a width measured from the earliest
    /// events: the mean gap between their distinct times, so a day holds about one instant.
    /// (Brown's rule of three gaps walks past whole instants when times are discrete, as in
    /// models with whole-number delays; with continuous times one gap and three cost the
    /// same here. Events of one instant share a bucket whatever the width, and are appended
    /// there in O(1).)
    #[cold]
    #[inline(never)]
    fn resize(&mut self, nb: usize) {
        self.lfront.set(NIL);
        #[cfg(test)]
        {
            self.spent += self.work.get() + self.listed as u64;
        }
        // The SAMPLE earliest distinct times, by a bounded max-heap in a stack array.
        let mut sample = [0u64; SAMPLE];
        let mut m = 0;
        for bucket in &self.buckets {
            let mut p = bucket.head;
            while p != NIL {
                let t = self.nodes[p as usize].t;
                if (m == SAMPLE && t >= sample[0]) || sample[..m].contains(&t) {
                    // Not among the earliest, or already sampled.
                } else if m < SAMPLE {
                    sample[m] = t;
                    m += 1;
                    sift_up(&mut sample[..m], m - 1);
                } else {
                    sample[0] = t;
                    sift_down(&mut sample[..m], 0);
                }
                p = self.nodes[p as usize].next;
            }
        }
        if m >= 2 {
            let (mut lo, hi) = (u64::MAX, sample[0]);
            for &t in &sample[..m] {
                lo = lo.min(t);
            }
            let span = f64::from_bits(hi) - f64::from_bits(lo);
            let width = span / (m - 1) as f64;
            // All at one instant (or absurd spans): keep the old width.
            if width.is_normal() && (1.0 / width).is_normal() {
                self.inv_width = 1.0 / width;
            }
        }
        // Chain every node into one list, then link them all again.
        let mut all = NIL;
        for b in 0..self.buckets.len() {
            let Bucket { head, tail } = self.buckets[b];
            if head != NIL {
                self.nodes[tail as usize].next = all;
                all = head;
            }
        }
        if nb == self.buckets.len() {
            self.buckets.fill(Bucket::EMPTY);
        } else {
            self.buckets = vec![Bucket::EMPTY; nb];
        }
        self.mask = nb as u64 - 1;
        let len = self.listed;
        self.listed = 0;
        self.cur.set(u64::MAX);
        while all != NIL {
            let Node { t, k, next, .. } = self.nodes[all as usize];
            self.link::<false>(all, t, k);
            self.listed += 1;
            all = next;
        }
        debug_assert_eq!(self.listed, len);
        // Set after the links, whose walks may have counted as overwork.
        self.grow_at.set(2 * nb);
        self.shrink_at
            .set(if nb > MIN_BUCKETS { nb / 2 } else { 1 });
        self.work.set(0);
        self.quota = self.listed;
    }

    /// Number of buckets.
    #[cfg(test)]
    pub(crate) fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// Bytes of one queued event.
    #[cfg(test)]
    pub(crate) const NODE_BYTES: usize = std::mem::size_of::<Node<T>>();
}

fn sift_up(h: &mut [u64], mut i: usize) {
    while i > 0 {
        let parent = (i - 1) / 2;
        if h[parent] >= h[i] {
            break;
        }
        h.swap(parent, i);
        i = parent;
    }
}

fn sift_down(h: &mut [u64], mut i: usize) {
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut big = i;
        if l < h.len() && h[l] > h[big] {
            big = l;
        }
        if r < h.len() && h[r] > h[big] {
            big = r;
        }
        if big == i {
            return;
        }
        h.swap(big, i);
        i = big;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// A deterministic generator for the tests (SplitMix64).
    struct Mix(u64);
    impl Mix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Drives a calendar and a binary heap with the same pushes, pops and peeks (never
    /// pushing before the last popped time) and checks that they agree on every event.
    /// Returns the calendar's work per operation.
    fn agree(seed: u64, ops: usize, delay: impl Fn(&mut Mix) -> f64) -> f64 {
        agree_from(seed, ops, delay, |_| 0.0)
    }

    /// [`agree`], where each push may also come up to `back` before the last popped time:
    /// what an engine does when it dropped withdrawn timers ahead of its own clock.
    fn agree_from(
        seed: u64,
        ops: usize,
        delay: impl Fn(&mut Mix) -> f64,
        back: impl Fn(&mut Mix) -> f64,
    ) -> f64 {
        let mut rng = Mix(seed);
        let mut cal = Calendar::<u32>::new();
        let mut heap = BinaryHeap::new();
        let (mut now, mut seq) = (0.0f64, 0u64);
        for op in 0..ops {
            let r = rng.unit();
            if r < 0.5 || heap.is_empty() {
                seq += 1;
                let t = ((now - back(&mut rng)).max(0.0) + delay(&mut rng)).to_bits();
                // One event in eight is urgent: it sorts before normal events of its instant.
                let k = if rng.next().is_multiple_of(8) {
                    seq
                } else {
                    (1 << 63) | seq
                };
                cal.push(t, k, op as u32);
                heap.push(Reverse((t, k, op as u32)));
            } else if r < 0.55 {
                let want = heap.peek().map(|Reverse(e)| *e);
                assert_eq!(cal.peek().map(|(t, k, v)| (t, k, *v)), want);
            } else {
                let Reverse(want) = heap.pop().expect("non-empty");
                assert_eq!(cal.pop(), Some(want), "op {op}");
                now = f64::from_bits(want.0);
            }
            assert_eq!(cal.len(), heap.len());
        }
        let spent = cal.spent + cal.work.get();
        while let Some(Reverse(want)) = heap.pop() {
            assert_eq!(cal.pop(), Some(want));
        }
        assert_eq!(cal.pop(), None);
        spent as f64 / ops as f64
    }

    #[test]
    fn agrees_with_a_heap_on_exponential_delays() {
        let work = agree(1, 200_000, |r| -(-r.unit()).ln_1p());
        assert!(work < 4.0, "{work} units of work per operation");
    }

    #[test]
    fn agrees_with_a_heap_when_many_events_share_an_instant() {
        // Delays of 0 or whole numbers: long runs of equal times, urgent ones among them. A day
        // of more than one instant would make pushes at `now` walk past the next instants.
        // (Re-sizes while the queue grows, and urgent events walking past the urgent events
        // already queued for their instant, make up the ~5 units here; three instants a day
        // made it hundreds.)
        let work = agree(2, 200_000, |r| {
            (r.next() % 4) as f64 * (r.next() % 2) as f64
        });
        assert!(work < 8.0, "{work} units of work per operation");
    }

    #[test]
    fn agrees_with_a_heap_when_the_tempo_changes() {
        // Gaps that jump between 1e-6 and 1e6 test the re-measuring of the width and the
        // direct search after an empty year.
        agree(3, 200_000, |r| {
            let scale = [1e-6, 1.0, 1e6][(r.next() % 3) as usize];
            scale * r.unit()
        });
    }

    #[test]
    fn agrees_with_a_heap_on_huge_and_zero_times() {
        agree(4, 50_000, |r| match r.next() % 4 {
            0 => 0.0,
            1 => 1e300 * r.unit(),
            _ => r.unit(),
        });
    }

    #[test]
    fn agrees_with_a_heap_when_pushes_come_before_the_last_pop() {
        // Pushes before the last popped time, among them pushes at an earlier instant while
        // the FIFO holds events of a later one: order is kept whatever the push order.
        agree_from(
            7,
            200_000,
            |r| (r.next() % 3) as f64 * (r.next() % 2) as f64,
            |r| {
                if r.next() % 4 == 0 {
                    (r.next() % 3) as f64
                } else {
                    0.0
                }
            },
        );
        agree_from(8, 100_000, |r| r.unit(), |r| 2.0 * r.unit());
    }

    #[test]
    fn a_pop_ahead_of_the_fifo_keeps_the_order() {
        // The engine's case: it pops a withdrawn timer at 2 (ahead of its clock at 0), then
        // schedules at 0 and at 2: events of 2 already in the FIFO must not run first.
        let mut cal = Calendar::<u8>::new();
        let two = 2.0f64.to_bits();
        cal.push(two, 1, 1);
        assert_eq!(cal.pop().map(|(_, _, v)| v), Some(1));
        cal.push(0, 2, 2);
        cal.push(two, 3, 3); // the FIFO's instant
        cal.push(1.0f64.to_bits(), 4, 4);
        assert_eq!(cal.pop().map(|(_, _, v)| v), Some(2));
        cal.push(0, 5, 5); // now is 0 again; the FIFO holds an event of 2
        let order: Vec<u8> = std::iter::from_fn(|| cal.pop().map(|(_, _, v)| v)).collect();
        assert_eq!(order, [5, 4, 3]);
    }

    #[test]
    fn earlier_push_after_a_peek_comes_first() {
        // A peek moves the cursor ahead to a far event; a push before it must still win.
        let mut cal = Calendar::<u8>::new();
        cal.push(100.0f64.to_bits(), 1, 1);
        assert_eq!(cal.peek().map(|(_, _, v)| *v), Some(1));
        cal.push(1.0f64.to_bits(), 2, 2);
        assert_eq!(cal.pop().map(|(_, _, v)| v), Some(2));
        assert_eq!(cal.pop().map(|(_, _, v)| v), Some(1));
        assert_eq!(cal.pop(), None);
    }

    #[test]
    fn grows_and_shrinks_with_its_contents() {
        let mut cal = Calendar::<u32>::new();
        let mut rng = Mix(9);
        for i in 0..100_000 {
            cal.push(rng.unit().to_bits(), i, i as u32);
        }
        assert!(cal.buckets.len() >= 100_000 / 2 && cal.buckets.len() <= 100_000);
        let mut last = (0, 0);
        while cal.len() > 10 {
            let (t, k, _) = cal.pop().expect("non-empty");
            assert!((t, k) > last);
            last = (t, k);
        }
        assert!(
            cal.buckets.len() <= 32,
            "{} buckets for 10 events",
            cal.buckets.len()
        );
    }

    #[test]
    fn a_burst_at_one_instant_spreading_out_stays_linear() {
        // As when a model spawns many processes at time 0 that then sleep: the width measured
        // while everything sits at one instant is useless, and must be re-measured in time.
        let mut cal = Calendar::<u32>::new();
        let mut rng = Mix(6);
        let n = 50_000;
        for i in 0..n {
            cal.push(0, i, i as u32);
        }
        for i in 0..2 * n {
            let (t, _, v) = cal.pop().expect("non-empty");
            cal.push((f64::from_bits(t) + 10.0 * rng.unit()).to_bits(), n + i, v);
        }
        let spent = cal.spent + cal.work.get();
        assert!(
            spent < 20 * 3 * n,
            "{spent} units of work for {} operations",
            5 * n
        );
    }

    #[test]
    fn a_hold_model_does_little_work_per_event() {
        // 10,000 events, each popped and pushed again a unit-mean gap later: after the
        // queue settles, a pop or push should look at a few nodes, not a fraction of them.
        let mut cal = Calendar::<u32>::new();
        let mut rng = Mix(5);
        let mut seq = 0;
        for i in 0..10_000 {
            seq += 1;
            cal.push((-(-rng.unit()).ln_1p()).to_bits(), seq, i);
        }
        for _ in 0..200_000 {
            let (t, _, v) = cal.pop().expect("non-empty");
            seq += 1;
            cal.push(
                (f64::from_bits(t) - (-rng.unit()).ln_1p()).to_bits(),
                seq,
                v,
            );
        }
        let (work, ops) = (cal.work.get(), (cal.quota - cal.listed).max(1) as u64);
        assert!(work <= 2 * ops, "work {work} over {ops} operations");
    }
}
