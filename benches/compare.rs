//! stepsim's side of the SimPy comparison (`bench/compare.sh` runs both sides and prints the
//! table; `bench/simpy_bench.py` is the SimPy side).
//!
//! ```sh
//! cargo bench --bench compare -- <model> [scale]
//! ```
//!
//! Models (each one line of output):
//! - `timeouts`, `mmc`, `pipeline`, `interrupts`, `firstof`: ports of the five workloads of
//!   `bench/simpy_models.py`, same parameters and logic, same `scale` (default 5);
//! - `w1`: 1,000 processes, each sleeping Exp(1) repeatedly until t = 1,000 × scale
//!   (default scale 10: t = 10,000, about 10 M wake-ups);
//! - `bare`: `w1` as a plain loop over `std::collections::BinaryHeap` of packed integer keys
//!   `(time bits, seq, id)`, rescheduling the top in place; no engine, the same random
//!   streams (so the same wake-up count as `w1`);
//! - `bare64`: the heap loop with 64-bit keys (the time's bits, its lowest ones replaced by
//!   the sleeper's index), the exact times beside the heap;
//! - `barecal`: the same loop over a minimal fixed-width calendar queue;
//! - `w2`: M/M/1 with λ = 0.9, μ = 1, 100,000 × scale customers (default 10: 1 M);
//! - `scale <n>`: `w1` with `n` live processes and a horizon of 10 M / n (about 10 M
//!   wake-ups), per-event cost and memory per live sleeping process, for stepsim and the bare
//!   heap; `scale <n> quick` uses 1 M wake-ups.
//!
//! Output: `stepsim <model> scale=<s> events=<wake-ups> seconds=<t> allocs=<n>
//! checksum=<...> [theory=<...>]`. *Events* are process wake-ups (calls of `step`), counted
//! as they happen. `allocs` counts heap allocations during the timed run (the model's own
//! included). The M/M/c models also compare the mean wait with Erlang C: `z` is the distance
//! in standard errors (batch means, 20 batches), `ok` when |z| < 3.
//!
//! Every model uses one enum (or one struct) over its process kinds: static dispatch, no `Box`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Instant;
use stepsim::rand::RngExt;
use stepsim::rand_distr::{Distribution, Exp, LogNormal};
use stepsim::{
    Command, Context, Model, Outcome, Pid, Process, ResourceId, Simulation, Stream, Wake,
};

// ----- a counting allocator: live bytes, peak bytes, number of allocations -----

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            ALLOCS.fetch_add(1, Relaxed);
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            ALLOCS.fetch_add(1, Relaxed);
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            ALLOCS.fetch_add(1, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ----- model-wide tallies (thread-local cells: no per-process memory, no locking) -----

thread_local! {
    /// Process wake-ups: calls of `step`.
    static WAKES: Cell<u64> = const { Cell::new(0) };
    /// A model's first and second counter (served, finished, ...).
    static COUNT_A: Cell<u64> = const { Cell::new(0) };
    static COUNT_B: Cell<u64> = const { Cell::new(0) };
    /// Waiting times, in the order service starts (as SimPy's `waits.append`).
    static WAITS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

fn woke() {
    WAKES.set(WAKES.get() + 1);
}

fn bump(counter: &'static std::thread::LocalKey<Cell<u64>>) {
    counter.set(counter.get() + 1);
}

fn reset_tallies() {
    WAKES.set(0);
    COUNT_A.set(0);
    COUNT_B.set(0);
    WAITS.with_borrow_mut(Vec::clear);
}

/// An Exp(`rate`) draw (mean 1/rate), as Python's `rng.expovariate(rate)`.
fn exp(rng: &mut Stream, rate: f64) -> f64 {
    Exp::new(rate).expect("positive rate").sample(rng)
}

/// A log-normal draw, as Python's `rng.lognormvariate(mu, sigma)`.
fn lognormal(rng: &mut Stream, mu: f64, sigma: f64) -> f64 {
    LogNormal::new(mu, sigma).expect("valid").sample(rng)
}

/// What one model run reports.
struct Report {
    events: u64,
    checksum: String,
    /// For the M/M/c models: `(c, λ, μ)`, checked against Erlang C after the timing.
    theory: Option<(usize, f64, f64)>,
}

// ----- timeouts: scale × 1000 processes, each sleeping 100 times Exp(1) -----

mod timeouts {
    use super::*;

    pub struct M;
    impl Model for M {
        type Item = ();
        type Cause = ();
        type Proc = Sleeper;
    }

    pub struct Sleeper {
        left: u32,
        rng: Stream,
    }

    impl Process<M> for Sleeper {
        fn step(&mut self, _cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
            woke();
            if let Wake::Completed(Outcome::Slept) = wake {
                bump(&COUNT_A);
            }
            if self.left == 0 {
                return Command::Done;
            }
            self.left -= 1;
            Command::Sleep(exp(&mut self.rng, 1.0))
        }
    }

    pub fn run(scale: u64) -> Report {
        let mut sim = Simulation::<M>::new(1);
        for i in 0..scale * 1000 {
            let rng = sim.new_stream(i);
            sim.spawn(Sleeper { left: 100, rng });
        }
        sim.run().expect("runs");
        Report {
            events: WAKES.get(),
            checksum: format!("n:{},now:{:.3}", COUNT_A.get(), sim.now()),
            theory: None,
        }
    }
}

// ----- M/M/c (mmc: c = 3, λ = 2.7, μ = 1; w2: c = 1, λ = 0.9, μ = 1) -----

mod mmc {
    use super::*;

    pub struct M;
    impl Model for M {
        type Item = ();
        type Cause = ();
        type Proc = Actor;
    }

    pub enum Actor {
        Source(Source),
        Customer(Customer),
    }

    pub struct Source {
        left: u64,
        res: ResourceId,
        lambda: f64,
        mu: f64,
        arrivals: Stream,
        /// Service times are drawn here and handed to the customer (SimPy's customer draws
        /// its own from the shared stream when service starts: the same distribution).
        service: Stream,
    }

    pub struct Customer {
        res: ResourceId,
        t0: f64,
        service: f64,
    }

    impl Process<M> for Actor {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
            woke();
            match self {
                Actor::Source(s) => {
                    // for _ in range(N): spawn a customer; sleep Exp(λ)
                    if s.left == 0 {
                        return Command::Done;
                    }
                    s.left -= 1;
                    let service = exp(&mut s.service, s.mu);
                    cx.spawn(Actor::Customer(Customer {
                        res: s.res,
                        t0: 0.0,
                        service,
                    }));
                    Command::Sleep(exp(&mut s.arrivals, s.lambda))
                }
                Actor::Customer(c) => match wake {
                    Wake::Started => {
                        c.t0 = cx.now();
                        Command::Acquire(c.res)
                    }
                    Wake::Completed(Outcome::Acquired(_)) => {
                        let wait = cx.now() - c.t0;
                        WAITS.with_borrow_mut(|w| w.push(wait));
                        Command::Sleep(c.service)
                    }
                    _ => {
                        cx.release(c.res);
                        Command::Done
                    }
                },
            }
        }
    }

    pub fn run(seed: u64, c: usize, lambda: f64, mu: f64, customers: u64) -> Report {
        WAITS.with_borrow_mut(|w| w.reserve(customers as usize));
        let mut sim = Simulation::<M>::new(seed);
        let res = sim.resource(c).expect("capacity");
        let source = Source {
            left: customers,
            res,
            lambda,
            mu,
            arrivals: sim.new_stream(0),
            service: sim.new_stream(1),
        };
        sim.spawn(Actor::Source(source));
        sim.run().expect("runs");
        Report {
            events: WAKES.get(),
            checksum: String::new(),
            theory: Some((c, lambda, mu)),
        }
    }

    /// The checksum and the Erlang C check of the waits recorded by [`run`] (done after the
    /// timing, as the SimPy side does).
    pub fn check((c, lambda, mu): (usize, f64, f64)) -> (String, String) {
        let (served, mean, se) = WAITS.with_borrow(|w| batch_means(w, 20));
        let wq = erlang_c_wait(c, lambda, mu);
        let z = (mean - wq) / se;
        (
            format!("served:{served},mean_wait:{mean:.4}"),
            format!(
                "Wq:{wq:.4},se:{se:.4},z:{z:.2},{}",
                if z.abs() < 3.0 { "ok" } else { "FAIL" }
            ),
        )
    }

    /// Mean waiting time in queue of M/M/c (Erlang C): `C(c, a) / (cμ − λ)`.
    pub fn erlang_c_wait(c: usize, lambda: f64, mu: f64) -> f64 {
        let a = lambda / mu;
        let rho = a / c as f64;
        let (mut term, mut sum) = (1.0, 0.0);
        for k in 0..c {
            sum += term;
            term *= a / (k + 1) as f64;
        }
        let top = term / (1.0 - rho);
        top / (sum + top) / (c as f64 * mu - lambda)
    }

    /// Count, mean, and the standard error of the mean by the method of batch means.
    pub fn batch_means(x: &[f64], batches: usize) -> (usize, f64, f64) {
        let n = x.len();
        let mean = x.iter().sum::<f64>() / n as f64;
        let size = n / batches;
        let means: Vec<f64> = (0..batches)
            .map(|b| x[b * size..(b + 1) * size].iter().sum::<f64>() / size as f64)
            .collect();
        let m = means.iter().sum::<f64>() / batches as f64;
        let var = means.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (batches - 1) as f64;
        (n, mean, (var / batches as f64).sqrt())
    }
}

// ----- pipeline: producer -> 5 bounded stores (10) with 4 stages between -> consumer -----

mod pipeline {
    use super::*;
    use stepsim::{Capacity, Outcome, QueueId};

    pub struct M;
    impl Model for M {
        type Item = u64;
        type Cause = ();
        type Proc = Actor;
    }

    pub enum Actor {
        Producer {
            next: u64,
            n: u64,
            q: QueueId,
            rng: Stream,
        },
        Stage {
            from: QueueId,
            to: QueueId,
            item: u64,
            rng: Stream,
        },
        Consumer {
            q: QueueId,
        },
    }

    impl Process<M> for Actor {
        fn step(&mut self, _cx: &mut Context<'_, M>, wake: Wake<u64>) -> Command<u64> {
            woke();
            match self {
                // for i in range(N): put(i); sleep Exp(1)
                Actor::Producer { next, n, q, rng } => match wake {
                    Wake::Completed(Outcome::Put) => Command::Sleep(exp(rng, 1.0)),
                    _ if *next == *n => Command::Done,
                    _ => {
                        *next += 1;
                        Command::Put(*q, *next - 1)
                    }
                },
                // loop: x = get(a); sleep Exp(1.2); put(b, x)
                Actor::Stage {
                    from,
                    to,
                    item,
                    rng,
                } => match wake {
                    Wake::Completed(Outcome::Got(x)) => {
                        *item = x;
                        Command::Sleep(exp(rng, 1.2))
                    }
                    Wake::Completed(Outcome::Slept) => Command::Put(*to, *item),
                    _ => Command::Get(*from),
                },
                // loop: get(q); done += 1
                Actor::Consumer { q } => {
                    if let Wake::Completed(Outcome::Got(_)) = wake {
                        bump(&COUNT_A);
                    }
                    Command::Get(*q)
                }
            }
        }
    }

    pub fn run(scale: u64) -> Report {
        let mut sim = Simulation::<M>::new(3);
        let qs: Vec<QueueId> = (0..5)
            .map(|_| sim.queue(Capacity::Bounded(10)).expect("capacity"))
            .collect();
        let rng = sim.new_stream(0);
        sim.spawn(Actor::Producer {
            next: 0,
            n: scale * 100_000,
            q: qs[0],
            rng,
        });
        for i in 0..4 {
            let rng = sim.new_stream(1 + i as u64);
            sim.spawn(Actor::Stage {
                from: qs[i],
                to: qs[i + 1],
                item: 0,
                rng,
            });
        }
        sim.spawn(Actor::Consumer { q: qs[4] });
        sim.run().expect("runs");
        Report {
            events: WAKES.get(),
            checksum: format!("done:{},now:{:.1}", COUNT_A.get(), sim.now()),
            theory: None,
        }
    }
}

// ----- interrupts: 10 workers with a task stack, a manager, an interrupter -----

mod interrupts {
    use super::*;
    use stepsim::{Capacity, Outcome, QueueId, Reason};

    pub struct M;
    impl Model for M {
        type Item = f64;
        type Cause = f64;
        type Proc = Actor;
    }

    pub enum Actor {
        Manager {
            left: u64,
            q: QueueId,
            rng: Stream,
        },
        /// Tasks as `(duration, done so far)`; the top one is worked on.
        Worker {
            q: QueueId,
            stack: Vec<(f64, f64)>,
        },
        Interrupter {
            n: u64,
            workers: Vec<Pid>,
            rng: Stream,
        },
    }

    impl Process<M> for Actor {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<f64, f64>) -> Command<f64> {
            woke();
            match self {
                // for _ in range(N): put(lognormal(0.5, 0.6)); sleep Exp(4)
                Actor::Manager { left, q, rng } => match wake {
                    Wake::Completed(Outcome::Put) => Command::Sleep(exp(rng, 4.0)),
                    _ if *left == 0 => Command::Done,
                    _ => {
                        *left -= 1;
                        Command::Put(*q, lognormal(rng, 0.5, 0.6))
                    }
                },
                Actor::Worker { q, stack } => {
                    match wake {
                        Wake::Started => {}
                        Wake::Completed(Outcome::Got(d)) => stack.push((d, 0.0)),
                        Wake::Completed(Outcome::Slept) => {
                            let top = stack.last_mut().expect("working on a task");
                            top.1 = top.0;
                        }
                        Wake::Interrupted(i) => {
                            bump(&COUNT_B);
                            // Interrupted while working: save the progress.
                            if let (Some(top), Command::Sleep(_)) = (stack.last_mut(), &i.request) {
                                top.1 += i.waited;
                            }
                            if let Reason::Interrupt(work) = i.cause {
                                stack.push((work, 0.0));
                            }
                        }
                        other => unreachable!("a worker never gets {:?}", other.kind()),
                    }
                    loop {
                        match stack.last() {
                            None => return Command::Get(*q),
                            Some(&(d, done)) if done < d => return Command::Sleep(d - done),
                            Some(_) => {
                                stack.pop();
                                bump(&COUNT_A);
                            }
                        }
                    }
                }
                // while finished < N: sleep Exp(2); interrupt a random worker
                Actor::Interrupter { n, workers, rng } => {
                    if let Wake::Completed(Outcome::Slept) = wake {
                        let target = workers[rng.random_range(0..workers.len())];
                        cx.interrupt(target, lognormal(rng, 0.2, 0.1));
                    }
                    if COUNT_A.get() < *n {
                        Command::Sleep(exp(rng, 2.0))
                    } else {
                        Command::Done
                    }
                }
            }
        }
    }

    pub fn run(scale: u64) -> Report {
        let n = scale * 50_000;
        let mut sim = Simulation::<M>::new(4);
        let q = sim.queue(Capacity::Unbounded).expect("queue");
        let workers: Vec<Pid> = (0..10)
            .map(|_| {
                sim.spawn(Actor::Worker {
                    q,
                    stack: Vec::new(),
                })
            })
            .collect();
        let rng = sim.new_stream(0);
        sim.spawn(Actor::Manager { left: n, q, rng });
        let rng = sim.new_stream(1);
        sim.spawn(Actor::Interrupter { n, workers, rng });
        sim.run_until(n as f64 * 10.0).expect("runs");
        Report {
            events: WAKES.get(),
            checksum: format!("finished:{},interrupts:{}", COUNT_A.get(), COUNT_B.get()),
            theory: None,
        }
    }
}

// ----- firstof: customers wait for a clerk (capacity 2) or renege after Exp(1/2) -----

mod firstof {
    use super::*;

    pub struct M;
    impl Model for M {
        type Item = ();
        type Cause = ();
        type Proc = Actor;
    }

    pub enum Actor {
        Source {
            left: u64,
            res: ResourceId,
            arrivals: Stream,
            /// Patience and service times are drawn here and handed to the customer (SimPy's
            /// customer draws them from the shared stream: the same distributions).
            draws: Stream,
        },
        Customer {
            res: ResourceId,
            patience: f64,
            service: f64,
        },
    }

    impl Process<M> for Actor {
        fn step(&mut self, cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
            woke();
            match self {
                Actor::Source {
                    left,
                    res,
                    arrivals,
                    draws,
                } => {
                    if *left == 0 {
                        return Command::Done;
                    }
                    *left -= 1;
                    let patience = exp(draws, 0.5);
                    let service = exp(draws, 1.0);
                    cx.spawn(Actor::Customer {
                        res: *res,
                        patience,
                        service,
                    });
                    Command::Sleep(exp(arrivals, 2.2))
                }
                Actor::Customer {
                    res,
                    patience,
                    service,
                } => match wake {
                    Wake::Started => {
                        Command::first_of([Command::Acquire(*res), Command::Sleep(*patience)])
                    }
                    Wake::First(first) if first.index == 0 => {
                        bump(&COUNT_A);
                        Command::Sleep(*service)
                    }
                    Wake::First(_) => {
                        bump(&COUNT_B);
                        Command::Done
                    }
                    _ => {
                        cx.release(*res);
                        Command::Done
                    }
                },
            }
        }
    }

    pub fn run(scale: u64) -> Report {
        let mut sim = Simulation::<M>::new(5);
        let res = sim.resource(2).expect("capacity");
        let arrivals = sim.new_stream(0);
        let draws = sim.new_stream(1);
        sim.spawn(Actor::Source {
            left: scale * 100_000,
            res,
            arrivals,
            draws,
        });
        sim.run().expect("runs");
        Report {
            events: WAKES.get(),
            checksum: format!("served:{},reneged:{}", COUNT_A.get(), COUNT_B.get()),
            theory: None,
        }
    }
}

// ----- w1: processes sleeping Exp(1) forever; and the bare-heap baseline -----

mod w1 {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    pub const SEED: u64 = 6;

    pub struct M;
    impl Model for M {
        type Item = ();
        type Cause = ();
        type Proc = Sleeper;
    }

    pub struct Sleeper {
        rng: Stream,
    }

    impl Process<M> for Sleeper {
        fn step(&mut self, _cx: &mut Context<'_, M>, wake: Wake<()>) -> Command<()> {
            woke();
            if let Wake::Completed(Outcome::Slept) = wake {
                bump(&COUNT_A);
            }
            Command::Sleep(exp(&mut self.rng, 1.0))
        }
    }

    pub fn build(n: u64) -> Simulation<M> {
        let mut sim = Simulation::<M>::new(SEED);
        for i in 0..n {
            let rng = sim.new_stream(i);
            sim.spawn(Sleeper { rng });
        }
        sim
    }

    pub fn run(scale: u64) -> Report {
        let mut sim = build(1000);
        sim.run_until(scale as f64 * 1000.0).expect("runs");
        Report {
            events: WAKES.get(),
            checksum: format!("wakeups:{}", COUNT_A.get()),
            theory: None,
        }
    }

    /// A heap key: the bits of the (non-negative) time, which sort like the times, then
    /// the sequence number and the sleeper's index, packed into one integer so that an
    /// ordering is one integer compare (no `f64::total_cmp`, no tuple of compares).
    #[inline]
    fn key(time: f64, seq: u64, id: usize) -> u128 {
        ((time.to_bits() as u128) << 64) | ((seq as u128) << 24) | id as u128
    }

    #[inline]
    fn key_time(key: u128) -> f64 {
        f64::from_bits((key >> 64) as u64)
    }

    #[inline]
    fn key_id(key: u128) -> usize {
        (key as usize) & ((1 << 24) - 1)
    }

    /// The floor: `n` sleepers as one binary heap of packed keys and one vector of streams.
    pub struct Bare {
        pub heap: BinaryHeap<Reverse<u128>>,
        pub rngs: Vec<Stream>,
        pub seq: u64,
    }

    /// The same streams as [`build`]'s processes, each drawing its first sleep at t = 0 (the
    /// processes' start).
    pub fn bare_build(n: u64) -> Bare {
        assert!(n < 1 << 24, "sleeper indices fit the key");
        let streams = Simulation::<M>::new(SEED);
        let mut bare = Bare {
            heap: BinaryHeap::with_capacity(n as usize),
            rngs: (0..n).map(|i| streams.new_stream(i)).collect(),
            seq: 0,
        };
        for id in 0..n as usize {
            woke();
            bare.seq += 1;
            let time = exp(&mut bare.rngs[id], 1.0);
            bare.heap.push(Reverse(key(time, bare.seq, id)));
        }
        bare
    }

    /// Runs every wake-up before `until`: the earliest entry is rescheduled in place (one
    /// sift-down through `PeekMut`, where a pop and a push sift twice).
    pub fn bare_run(bare: &mut Bare, until: f64) {
        while let Some(mut top) = bare.heap.peek_mut() {
            let (time, id) = (key_time(top.0), key_id(top.0));
            if time >= until {
                break;
            }
            woke();
            bump(&COUNT_A);
            bare.seq += 1;
            let next = time + exp(&mut bare.rngs[id], 1.0);
            top.0 = key(next, bare.seq, id);
        }
    }

    /// A second floor: the same loop over a minimal calendar queue (R. Brown, 1988) — a
    /// fixed bucket width of the mean gap between wake-ups (`1/n` for `n` Exp(1) sleepers)
    /// and 2 n buckets, each an unsorted vector scanned for the earliest entry of the
    /// current day. No re-sizing, no width measurement, no current-instant FIFO: it knows
    /// the workload. Same keys, so the same order and the same checksum as the heap.
    pub struct BareCal {
        buckets: Vec<Vec<u128>>,
        mask: u64,
        inv_width: f64,
        day: u64,
        rngs: Vec<Stream>,
        seq: u64,
    }

    impl BareCal {
        #[inline]
        fn day(&self, key: u128) -> u64 {
            (key_time(key) * self.inv_width) as u64
        }

        #[inline]
        fn push(&mut self, key: u128) {
            let b = (self.day(key) & self.mask) as usize;
            self.buckets[b].push(key);
        }

        /// Removes and returns the earliest key (the queue is never empty here).
        #[inline]
        fn pop(&mut self) -> u128 {
            loop {
                let b = (self.day & self.mask) as usize;
                let bucket = &self.buckets[b];
                let mut best: Option<(usize, u128)> = None;
                for (i, &k) in bucket.iter().enumerate() {
                    if best.is_none_or(|(_, bk)| k < bk) {
                        best = Some((i, k));
                    }
                }
                if let Some((i, k)) = best
                    && self.day(k) <= self.day
                {
                    self.buckets[b].swap_remove(i);
                    return k;
                }
                self.day += 1;
            }
        }
    }

    pub fn barecal_build(n: u64) -> BareCal {
        assert!(n < 1 << 24, "sleeper indices fit the key");
        let streams = Simulation::<M>::new(SEED);
        let nb = (2 * n).next_power_of_two();
        let mut cal = BareCal {
            buckets: vec![Vec::new(); nb as usize],
            mask: nb - 1,
            inv_width: n as f64,
            day: 0,
            rngs: (0..n).map(|i| streams.new_stream(i)).collect(),
            seq: 0,
        };
        for id in 0..n as usize {
            woke();
            cal.seq += 1;
            let time = exp(&mut cal.rngs[id], 1.0);
            cal.push(key(time, cal.seq, id));
        }
        cal
    }

    pub fn barecal_run(cal: &mut BareCal, until: f64) {
        loop {
            let k = cal.pop();
            let (time, id) = (key_time(k), key_id(k));
            if time >= until {
                cal.push(k);
                break;
            }
            woke();
            bump(&COUNT_A);
            cal.seq += 1;
            let next = time + exp(&mut cal.rngs[id], 1.0);
            cal.push(key(next, cal.seq, id));
        }
    }

    pub fn barecal(scale: u64) -> Report {
        let mut cal = barecal_build(1000);
        barecal_run(&mut cal, scale as f64 * 1000.0);
        Report {
            events: WAKES.get(),
            checksum: format!("wakeups:{}", COUNT_A.get()),
            theory: None,
        }
    }

    /// The heap floor with 64-bit keys: the time's bit pattern with its lowest bits replaced
    /// by the sleeper's index, so a compare is one `u64` compare and an entry is 8 bytes.
    /// Times that differ only in those bits (a relative 2^-42 for 1,000 sleepers) may come
    /// out of order, which no sleeper can see: each draws from its own stream, so the
    /// wake-up count is the same. The exact times live beside the heap.
    pub struct Bare64 {
        heap: BinaryHeap<Reverse<u64>>,
        times: Vec<f64>,
        rngs: Vec<Stream>,
        bits: u32,
    }

    #[inline]
    fn key64(time: f64, id: usize, bits: u32) -> u64 {
        (time.to_bits() >> bits << bits) | id as u64
    }

    pub fn bare64_build(n: u64) -> Bare64 {
        let bits = 64 - (n.max(2) - 1).leading_zeros();
        let streams = Simulation::<M>::new(SEED);
        let mut bare = Bare64 {
            heap: BinaryHeap::with_capacity(n as usize),
            times: vec![0.0; n as usize],
            rngs: (0..n).map(|i| streams.new_stream(i)).collect(),
            bits,
        };
        for id in 0..n as usize {
            woke();
            let time = exp(&mut bare.rngs[id], 1.0);
            bare.times[id] = time;
            bare.heap.push(Reverse(key64(time, id, bits)));
        }
        bare
    }

    pub fn bare64_run(bare: &mut Bare64, until: f64) {
        let mask = (1u64 << bare.bits) - 1;
        while let Some(mut top) = bare.heap.peek_mut() {
            let id = (top.0 & mask) as usize;
            let time = bare.times[id];
            if time >= until {
                break;
            }
            woke();
            bump(&COUNT_A);
            let next = time + exp(&mut bare.rngs[id], 1.0);
            bare.times[id] = next;
            top.0 = key64(next, id, bare.bits);
        }
    }

    pub fn bare64(scale: u64) -> Report {
        let mut bare = bare64_build(1000);
        bare64_run(&mut bare, scale as f64 * 1000.0);
        Report {
            events: WAKES.get(),
            checksum: format!("wakeups:{}", COUNT_A.get()),
            theory: None,
        }
    }

    pub fn bare(scale: u64) -> Report {
        let mut bare = bare_build(1000);
        bare_run(&mut bare, scale as f64 * 1000.0);
        Report {
            events: WAKES.get(),
            checksum: format!("wakeups:{}", COUNT_A.get()),
            theory: None,
        }
    }

    /// Per-event cost and memory with `n` live sleepers.
    pub fn scale(n: u64, total_events: f64) {
        let until = total_events / n as f64;
        let proc_size = std::mem::size_of::<Sleeper>();

        // stepsim
        reset_tallies();
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let t = Instant::now();
        let mut sim = build(n);
        for _ in 0..n {
            sim.step().expect("start");
        }
        let setup = t.elapsed().as_secs_f64();
        let live = (LIVE.load(Relaxed) - base) as f64 / n as f64;
        let peak = (PEAK.load(Relaxed) - base) as f64 / n as f64;
        let (wakes0, allocs0) = (WAKES.get(), ALLOCS.load(Relaxed));
        let t = Instant::now();
        sim.run_until(until).expect("runs");
        let secs = t.elapsed().as_secs_f64();
        let events = WAKES.get() - wakes0;
        let allocs = ALLOCS.load(Relaxed) - allocs0;
        println!(
            "stepsim scale n={n} until={until} events={events} seconds={secs:.3} \
             ns_per_event={:.1} setup_seconds={setup:.3} allocs={allocs} \
             bytes_per_proc={live:.1} peak_bytes_per_proc={peak:.1} proc_size={proc_size} \
             engine_bytes_per_proc={:.1} checksum=wakeups:{}",
            secs * 1e9 / events as f64,
            live - proc_size as f64,
            COUNT_A.get()
        );
        drop(sim);

        // bare heap
        reset_tallies();
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let t = Instant::now();
        let mut bare = bare_build(n);
        let setup = t.elapsed().as_secs_f64();
        let live = (LIVE.load(Relaxed) - base) as f64 / n as f64;
        let peak = (PEAK.load(Relaxed) - base) as f64 / n as f64;
        let (wakes0, allocs0) = (WAKES.get(), ALLOCS.load(Relaxed));
        let t = Instant::now();
        bare_run(&mut bare, until);
        let secs = t.elapsed().as_secs_f64();
        let events = WAKES.get() - wakes0;
        let allocs = ALLOCS.load(Relaxed) - allocs0;
        println!(
            "bare scale n={n} until={until} events={events} seconds={secs:.3} \
             ns_per_event={:.1} setup_seconds={setup:.3} allocs={allocs} \
             bytes_per_proc={live:.1} peak_bytes_per_proc={peak:.1} proc_size={} \
             engine_bytes_per_proc={:.1} checksum=wakeups:{}",
            secs * 1e9 / events as f64,
            std::mem::size_of::<Stream>(),
            live - std::mem::size_of::<Stream>() as f64,
            COUNT_A.get()
        );
    }
}

const MODELS: &str =
    "timeouts|mmc|pipeline|interrupts|firstof|w1|bare|bare64|barecal|w2|scale <n> [quick]";

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(model) = args.first().map(String::as_str) else {
        eprintln!("usage: compare <{MODELS}> [scale]");
        std::process::exit(2);
    };
    let arg = |i: usize, default: u64| -> u64 {
        args.get(i).map_or(default, |s| {
            s.parse().unwrap_or_else(|_| {
                eprintln!("not a number: {s}");
                std::process::exit(2)
            })
        })
    };
    if model == "scale" {
        let n = arg(1, 100_000);
        let quick = args.get(2).is_some_and(|s| s == "quick");
        w1::scale(n, if quick { 1e6 } else { 1e7 });
        return;
    }
    let default_scale = match model {
        "w1" | "bare" | "bare64" | "barecal" | "w2" => 10,
        _ => 5,
    };
    let scale = arg(1, default_scale);
    let run: fn(u64) -> Report = match model {
        "timeouts" => timeouts::run,
        "mmc" => |s| mmc::run(2, 3, 2.7, 1.0, s * 100_000),
        "pipeline" => pipeline::run,
        "interrupts" => interrupts::run,
        "firstof" => firstof::run,
        "w1" => w1::run,
        "bare" => w1::bare,
        "bare64" => w1::bare64,
        "barecal" => w1::barecal,
        "w2" => |s| mmc::run(7, 1, 0.9, 1.0, s * 100_000),
        _ => {
            eprintln!("unknown model {model}; one of {MODELS}");
            std::process::exit(2);
        }
    };
    reset_tallies();
    let allocs0 = ALLOCS.load(Relaxed);
    let t = Instant::now();
    let report = run(scale);
    let secs = t.elapsed().as_secs_f64();
    let allocs = ALLOCS.load(Relaxed) - allocs0;
    let (checksum, theory) = match report.theory {
        Some(params) => {
            let (checksum, theory) = mmc::check(params);
            (checksum, format!(" theory={theory}"))
        }
        None => (report.checksum, String::new()),
    };
    println!(
        "stepsim {model} scale={scale} events={} seconds={secs:.4} allocs={allocs} checksum={checksum}{theory}",
        report.events
    );
}
