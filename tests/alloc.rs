//! Steady-state steps allocate nothing: once a model has warmed up (heap, slabs and wait
//! lists have grown to their working size), carrying out `Sleep`, `Get`/`Put`, `Acquire` and
//! release, `FirstOf` with up to four branches, an interrupt withdrawing a wait, and an
//! interrupt that has to queue cost no heap allocation per event.
//!
//! A counting global allocator counts the allocations made *by the measuring thread* while
//! measuring. Set `STEPSIM_ALLOC_BACKTRACE=1` to print a backtrace of every allocation that
//! happens during a measurement (to find which call allocates).
//!
//! Allocations are counted per thread, and the tests of this file take a lock so that they
//! measure one at a time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use stepsim::{
    Boxed, Branches, Capacity, Command, Context, Outcome, Pid, Process, QueueId, ResourceId,
    Simulation, Wake,
};

// ----- the counting allocator -----

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BACKTRACES: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Whether allocations on this thread are being counted.
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    /// Set while printing a backtrace, whose own allocations are not counted.
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation(size: usize) {
    let measuring = MEASURING.try_with(Cell::get).unwrap_or(false);
    if !measuring || IN_HOOK.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    if BACKTRACES.load(Ordering::Relaxed) {
        IN_HOOK.with(|h| h.set(true));
        eprintln!(
            "allocation of {size} bytes during a measurement:\n{}",
            std::backtrace::Backtrace::force_capture()
        );
        IN_HOOK.with(|h| h.set(false));
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the counting touches only an
// atomic and const-initialised thread-locals without destructors, and never allocates
// (except while printing a debug backtrace, guarded against re-entry by `IN_HOOK`).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation(new_size);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Serialises the tests of this file.
static SERIAL: Mutex<()> = Mutex::new(());

fn setup() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    BACKTRACES.store(
        std::env::var_os("STEPSIM_ALLOC_BACKTRACE").is_some(),
        Ordering::Relaxed,
    );
    guard
}

/// Allocations made on this thread while `f` runs.
fn count_allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    MEASURING.with(|m| m.set(true));
    f();
    MEASURING.with(|m| m.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

// ----- processes that never allocate themselves -----

type M = Boxed<u64, u32>;
type W = Wake<u64, u32>;
type Cmd = Command<u64>;

/// How often each branch of a `FirstOf` won (made before measuring, bumped without
/// allocating), to check that a scenario exercises what it claims.
#[derive(Default)]
struct Tally {
    wins: [Cell<u64>; 4],
    interrupts: Cell<u64>,
}

impl Tally {
    fn win(&self, index: usize) {
        let c = &self.wins[index.min(3)];
        c.set(c.get() + 1);
    }
}

/// Sleeps `dt` forever.
struct Sleeper {
    dt: f64,
}

impl Process<M> for Sleeper {
    fn step(&mut self, _: &mut Context<'_, M>, _: W) -> Cmd {
        Command::Sleep(self.dt)
    }
}

/// Puts 0, 1, 2, … into `q`, sleeping `gap` after each put (none if `gap` is 0).
struct Producer {
    q: QueueId,
    next: u64,
    gap: f64,
    put_last: bool,
}

impl Process<M> for Producer {
    fn step(&mut self, _: &mut Context<'_, M>, _: W) -> Cmd {
        if self.put_last && self.gap > 0.0 {
            self.put_last = false;
            return Command::Sleep(self.gap);
        }
        self.put_last = true;
        self.next += 1;
        Command::Put(self.q, self.next)
    }
}

/// Offers items with a timeout: `FirstOf(Put(q, n), Sleep(patience))`; a losing put's item
/// comes back in `others` and is offered again.
struct ImpatientProducer {
    q: QueueId,
    next: u64,
    patience: f64,
    tally: Rc<Tally>,
}

impl Process<M> for ImpatientProducer {
    fn step(&mut self, _: &mut Context<'_, M>, wake: W) -> Cmd {
        if let Wake::First(first) = &wake {
            self.tally.win(first.index);
        }
        let item = match wake {
            Wake::First(first) => match first.others.into_iter().next() {
                Some(Command::Put(_, item)) => item,
                _ => {
                    self.next += 1;
                    self.next
                }
            },
            _ => {
                self.next += 1;
                self.next
            }
        };
        Command::first_of([Command::Put(self.q, item), Command::Sleep(self.patience)])
    }
}

/// Gets from `q` forever, working `work` on each item (none if 0).
struct Consumer {
    q: QueueId,
    work: f64,
}

impl Process<M> for Consumer {
    fn step(&mut self, _: &mut Context<'_, M>, wake: W) -> Cmd {
        match wake {
            Wake::Completed(Outcome::Got(_)) if self.work > 0.0 => Command::Sleep(self.work),
            _ => Command::Get(self.q),
        }
    }
}

/// Waits for the first of: an item from each queue in `qs`, or `patience` elapsing
/// (`FirstOf` with `qs.len() + 1` branches); works `work` after getting an item.
struct ImpatientConsumer<const N: usize> {
    qs: [QueueId; N],
    patience: f64,
    work: f64,
    tally: Rc<Tally>,
}

impl<const N: usize> Process<M> for ImpatientConsumer<N> {
    fn step(&mut self, _: &mut Context<'_, M>, wake: W) -> Cmd {
        if let Wake::First(first) = wake {
            self.tally.win(first.index);
            if let Outcome::Got(_) = first.outcome {
                return Command::Sleep(self.work);
            }
        }
        let mut branches = Branches::new();
        for q in self.qs {
            branches.push(Command::Get(q));
        }
        branches.push(Command::Sleep(self.patience));
        Command::FirstOf(branches)
    }
}

/// Acquires `r`, holds it for `hold`, releases it, rests `rest`, forever.
struct User {
    r: ResourceId,
    hold: f64,
    rest: f64,
    holding: bool,
}

impl Process<M> for User {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        match wake {
            Wake::Completed(Outcome::Acquired(_)) => {
                self.holding = true;
                Command::Sleep(self.hold)
            }
            Wake::Completed(Outcome::Slept) if self.holding => {
                self.holding = false;
                cx.release(self.r);
                if self.rest > 0.0 {
                    Command::Sleep(self.rest)
                } else {
                    Command::Acquire(self.r)
                }
            }
            _ => Command::Acquire(self.r),
        }
    }
}

/// Waits for the first free slot of any resource in `rs`, or for `patience`; holds the slot
/// it got for `hold`, then releases it. Optionally also races a `Get` on a queue.
struct ImpatientUser<const N: usize> {
    rs: [ResourceId; N],
    q: Option<QueueId>,
    patience: f64,
    hold: f64,
    holding: Option<ResourceId>,
    tally: Rc<Tally>,
}

impl<const N: usize> Process<M> for ImpatientUser<N> {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        if let Some(r) = self.holding.take() {
            cx.release(r);
        }
        if let Wake::First(first) = wake {
            self.tally.win(first.index);
            if let Outcome::Acquired(r) = first.outcome {
                self.holding = Some(r);
                return Command::Sleep(self.hold);
            }
        }
        let mut branches = Branches::new();
        for r in self.rs {
            branches.push(Command::Acquire(r));
        }
        if let Some(q) = self.q {
            branches.push(Command::Get(q));
        }
        branches.push(Command::Sleep(self.patience));
        Command::FirstOf(branches)
    }
}

/// Sleeps, or waits for the first of an item and a timeout, forever; counts the interrupts
/// that cut its waits short. With `masked`, every other sleep is masked, so interrupts
/// arriving meanwhile queue up and are delivered at its next wait.
struct Victim {
    q: QueueId,
    masked: bool,
    turn: u32,
    tally: Rc<Tally>,
}

impl Process<M> for Victim {
    fn step(&mut self, _: &mut Context<'_, M>, wake: W) -> Cmd {
        if let Wake::Interrupted(_) = wake {
            self.tally.interrupts.set(self.tally.interrupts.get() + 1);
        }
        self.turn += 1;
        match self.turn % 3 {
            0 if self.masked => Command::Sleep(0.8).masked(),
            0 | 1 => Command::Sleep(0.7),
            _ => Command::first_of([Command::Get(self.q), Command::Sleep(0.9)]),
        }
    }
}

/// Interrupts `target` `burst` times every `every` time units.
struct Interrupter {
    target: Pid,
    every: f64,
    burst: u32,
}

impl Process<M> for Interrupter {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        if let Wake::Completed(Outcome::Slept) = wake {
            for cause in 0..self.burst {
                assert!(cx.interrupt(self.target, cause));
            }
        }
        Command::Sleep(self.every)
    }
}

// ----- the scenarios -----

/// Builds a model, warms it up, then checks that many more events allocate nothing.
fn assert_steady_state_allocates_nothing(name: &str, build: impl FnOnce(&mut Simulation<M>)) {
    let allocations = steady_state_allocations(name, build);
    assert_eq!(
        allocations, 0,
        "{name}: {allocations} allocations in steady state \
         (rerun with STEPSIM_ALLOC_BACKTRACE=1 to see where)"
    );
}

/// Builds a model, warms it up, runs at least 2000 more events and returns how many
/// allocations they made.
fn steady_state_allocations(name: &str, build: impl FnOnce(&mut Simulation<M>)) -> u64 {
    let mut sim = Simulation::<M>::new(7);
    build(&mut sim);
    sim.run_until(200.0).unwrap();
    let events_before = sim.events();
    let allocations = count_allocations(|| sim.run_until(2_200.0).unwrap());
    let events = sim.events() - events_before;
    assert!(
        events >= 2_000,
        "{name}: only {events} events in the measurement"
    );
    eprintln!("{name}: {events} events, {allocations} allocations");
    allocations
}

/// Checks after a run that every one of the first `n` branches of a `FirstOf` won sometimes.
fn assert_all_won(name: &str, tally: &Tally, n: usize) {
    let wins: Vec<u64> = tally.wins.iter().map(Cell::get).collect();
    assert!(
        wins[..n].iter().all(|&w| w > 0),
        "{name}: some branch never won: {wins:?}"
    );
}

#[test]
fn steady_state_steps_do_not_allocate() {
    let _serial = setup();

    // The counter sees allocations: a sanity check of the harness itself.
    let n = count_allocations(|| drop(std::hint::black_box(vec![1u8; 16])));
    assert_eq!(n, 1, "the counting allocator does not count");

    assert_steady_state_allocates_nothing("sleep", |sim| {
        for i in 0..5 {
            sim.spawn(Box::new(Sleeper {
                dt: 0.5 + i as f64 * 0.25,
            }));
        }
        sim.spawn(Box::new(Sleeper { dt: 1.0 }));
        sim.spawn(Box::new(Sleeper { dt: 1.0 })); // ties
    });

    assert_steady_state_allocates_nothing("get/put, unbounded fifo", |sim| {
        let q = sim.queue(Capacity::Unbounded).unwrap();
        for i in 0..2 {
            sim.spawn(Box::new(Producer {
                q,
                next: i * 1_000_000,
                gap: 1.0,
                put_last: false,
            }));
        }
        for _ in 0..3 {
            sim.spawn(Box::new(Consumer { q, work: 0.5 }));
        }
    });

    assert_steady_state_allocates_nothing("get/put, bounded fifo", |sim| {
        let q = sim.queue(Capacity::Bounded(2)).unwrap();
        for i in 0..3 {
            // No gap: the producers block on the full queue.
            sim.spawn(Box::new(Producer {
                q,
                next: i * 1_000_000,
                gap: 0.0,
                put_last: false,
            }));
        }
        sim.spawn(Box::new(Consumer { q, work: 0.25 }));
        sim.spawn(Box::new(Consumer { q, work: 0.5 }));
    });

    assert_steady_state_allocates_nothing("get/put, bounded priority queue", |sim| {
        let q = sim.priority_queue(Capacity::Bounded(3)).unwrap();
        for i in 0..3 {
            sim.spawn(Box::new(Producer {
                q,
                next: 3_000_000 - i * 1_000_000,
                gap: 0.0,
                put_last: false,
            }));
        }
        sim.spawn(Box::new(Consumer { q, work: 0.25 }));
    });

    assert_steady_state_allocates_nothing("get/put, getter waiting first", |sim| {
        // A blocked getter woken by each put, with no time passing between the two.
        let q = sim.queue(Capacity::Unbounded).unwrap();
        sim.spawn(Box::new(Consumer { q, work: 0.0 }));
        sim.spawn(Box::new(Producer {
            q,
            next: 0,
            gap: 0.5,
            put_last: false,
        }));
    });

    assert_steady_state_allocates_nothing("acquire/release", |sim| {
        let r = sim.resource(2).unwrap();
        for i in 0..5 {
            sim.spawn(Box::new(User {
                r,
                hold: 1.0 + i as f64 * 0.1,
                rest: if i % 2 == 0 { 0.0 } else { 0.3 },
                holding: false,
            }));
        }
    });

    let tally = Rc::new(Tally::default());
    assert_steady_state_allocates_nothing("first-of, 2 branches: get + timeout", |sim| {
        let q = sim.queue(Capacity::Unbounded).unwrap();
        sim.spawn(Box::new(Producer {
            q,
            next: 0,
            gap: 1.0,
            put_last: false,
        }));
        for (patience, work) in [(0.7, 0.2), (0.3, 0.0)] {
            sim.spawn(Box::new(ImpatientConsumer {
                qs: [q],
                patience,
                work,
                tally: tally.clone(),
            }));
        }
    });
    assert_all_won("get + timeout", &tally, 2);

    let tally = Rc::new(Tally::default());
    assert_steady_state_allocates_nothing("first-of, 2 branches: put + timeout", |sim| {
        let q = sim.queue(Capacity::Bounded(1)).unwrap();
        for (next, patience) in [(0, 0.4), (1_000_000, 0.9)] {
            sim.spawn(Box::new(ImpatientProducer {
                q,
                next,
                patience,
                tally: tally.clone(),
            }));
        }
        sim.spawn(Box::new(Consumer { q, work: 0.5 }));
    });
    assert_all_won("put + timeout", &tally, 2);

    let tally = Rc::new(Tally::default());
    assert_steady_state_allocates_nothing("first-of, 2 branches: acquire + timeout", |sim| {
        let r = sim.resource(1).unwrap();
        for (patience, hold) in [(0.5, 1.0), (2.0, 0.7), (0.1, 0.3)] {
            sim.spawn(Box::new(ImpatientUser {
                rs: [r],
                q: None,
                patience,
                hold,
                holding: None,
                tally: tally.clone(),
            }));
        }
    });
    assert_all_won("acquire + timeout", &tally, 2);

    let tally = Rc::new(Tally::default());
    assert_steady_state_allocates_nothing("first-of, 4 branches: 3 gets + timeout", |sim| {
        let qs = [
            sim.queue(Capacity::Unbounded).unwrap(),
            sim.queue(Capacity::Bounded(2)).unwrap(),
            sim.priority_queue(Capacity::Unbounded).unwrap(),
        ];
        for (i, q) in qs.into_iter().enumerate() {
            sim.spawn(Box::new(Producer {
                q,
                next: i as u64 * 1_000_000,
                gap: 1.0 + i as f64 * 0.3,
                put_last: false,
            }));
        }
        for patience in [0.4, 0.9] {
            sim.spawn(Box::new(ImpatientConsumer {
                qs,
                patience,
                work: 0.1,
                tally: tally.clone(),
            }));
        }
    });
    assert_all_won("3 gets + timeout", &tally, 4);

    let tally = Rc::new(Tally::default());
    assert_steady_state_allocates_nothing(
        "first-of, 4 branches: 2 acquires + get + timeout",
        |sim| {
            let rs = [sim.resource(1).unwrap(), sim.resource(2).unwrap()];
            let q = sim.queue(Capacity::Unbounded).unwrap();
            sim.spawn(Box::new(Producer {
                q,
                next: 0,
                gap: 0.8,
                put_last: false,
            }));
            for (patience, hold) in [(0.5, 1.0), (2.0, 0.7), (0.1, 0.3), (1.0, 1.5)] {
                sim.spawn(Box::new(ImpatientUser {
                    rs,
                    q: Some(q),
                    patience,
                    hold,
                    holding: None,
                    tally: tally.clone(),
                }));
            }
        },
    );
    assert_all_won("2 acquires + get + timeout", &tally, 4);

    let tally = Rc::new(Tally::default());
    assert_steady_state_allocates_nothing("interrupting a waiting process", |sim| {
        let q = sim.queue(Capacity::Unbounded).unwrap();
        let victim = sim.spawn(Box::new(Victim {
            q,
            masked: false,
            turn: 0,
            tally: tally.clone(),
        }));
        sim.spawn(Box::new(Interrupter {
            target: victim,
            every: 1.0,
            burst: 1,
        }));
    });
    assert!(tally.interrupts.get() > 1_000);
}

/// An interrupt that cannot land at once (the target is in a masked wait, or a second
/// interrupt arrives in the same instant) is queued, and delivered at the target's next
/// interruptible command, which the engine holds meanwhile in storage the process keeps.
#[test]
fn queued_interrupts_do_not_allocate() {
    let _serial = setup();
    for (masked, burst) in [(true, 1), (false, 2)] {
        let tally = Rc::new(Tally::default());
        assert_steady_state_allocates_nothing(
            &format!("queued interrupts (masked: {masked}, burst: {burst})"),
            |sim| {
                let q = sim.queue(Capacity::Unbounded).unwrap();
                let victim = sim.spawn(Box::new(Victim {
                    q,
                    masked,
                    turn: 0,
                    tally: tally.clone(),
                }));
                sim.spawn(Box::new(Interrupter {
                    target: victim,
                    every: 1.0,
                    burst,
                }));
            },
        );
        assert!(tally.interrupts.get() > 1_000);
    }
}

// ----- a process per customer, stored as one enum (no `Box`) -----

/// A shop where every customer is a new process: a source spawns one each time unit, and
/// each waits for the clerk or gives up after a while (a two-branch `FirstOf`).
struct Shop;

impl stepsim::Model for Shop {
    type Item = ();
    type Cause = ();
    type Proc = ShopProc;
}

enum ShopProc {
    Source {
        clerk: stepsim::ResourceId,
        next: u32,
    },
    Customer {
        clerk: stepsim::ResourceId,
        patience: f64,
        served: bool,
    },
}

impl Process<Shop> for ShopProc {
    fn step(&mut self, cx: &mut stepsim::Context<'_, Shop>, wake: Wake<()>) -> Command<()> {
        match self {
            ShopProc::Source { clerk, next } => {
                *next += 1;
                let patience = f64::from(*next % 3) * 0.5;
                cx.spawn(ShopProc::Customer {
                    clerk: *clerk,
                    patience,
                    served: false,
                });
                Command::Sleep(1.0)
            }
            ShopProc::Customer {
                clerk,
                patience,
                served,
            } => match wake {
                Wake::Started => {
                    Command::first_of([Command::Acquire(*clerk), Command::Sleep(*patience)])
                }
                Wake::First(f) if f.index == 0 => {
                    *served = true;
                    Command::Sleep(1.2)
                }
                _ => {
                    if *served {
                        cx.release(*clerk);
                    }
                    Command::Done
                }
            },
        }
    }
}

#[test]
fn a_process_per_customer_allocates_nothing_once_warm() {
    let _serial = setup();
    let mut sim = Simulation::<Shop>::new(1);
    let clerk = sim.resource(1).unwrap();
    sim.spawn(ShopProc::Source { clerk, next: 0 });
    sim.run_until(200.0).unwrap();
    let events_before = sim.events();
    let allocations = count_allocations(|| sim.run_until(2_200.0).unwrap());
    let events = sim.events() - events_before;
    assert!(events >= 2_000, "only {events} events in the measurement");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {events} events (rerun with STEPSIM_ALLOC_BACKTRACE=1)"
    );
}
