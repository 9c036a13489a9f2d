//! The random-model driver of the test campaign (`tests/campaign.rs`) and of the fuzz target
//! (`fuzz/fuzz_targets/campaign.rs`), which both include this file with `#[path]`.
//!
//! A run builds a random model from a stream of [`Choices`] (a seeded PCG-64 for the test,
//! the fuzzer's bytes for the fuzz target): a few FIFO, priority and filter queues (bounded
//! and unbounded), plain, priority and preemptive resources, containers, signals, barriers,
//! and 2–12 [`Actor`]s that each run a random script of commands, drawn as they go: every
//! wait is a `Command` (`Sleep`, `Yield`, `Get`, `GetWhere`, `Put`, `Acquire`,
//! `AcquireWith` with priorities, `Join`, `Signal`, `Arrive`, `GetAmount`, `PutAmount`),
//! `Command::first_of` and `Command::all_of` mixing all of these (with two requests to one
//! resource in one command), masked waits (`cmd.masked()`), releases, non-blocking
//! operations, interrupts of each other, activities, and now and then a deliberately invalid
//! command. An actor woken with `Wake::Interrupted` (by the model, a preemption or a summons:
//! `Reason`) starts the handed-back request again, carries on with it
//! (`Interrupt::resume`, at once, or after the activity it was summoned to), or moves on;
//! after a preemption it sometimes releases the lost slot (SimPy's habit, a no-op).
//!
//! The driver steps the simulation one event at a time with `Simulation::step` and, between
//! steps, makes outside calls at random (interrupts, non-blocking puts and gets, spawns,
//! plans, barrier releases, signal firings, `run_until`). It checks, and records a
//! [`Failure`] when one breaks:
//! - after every step: the clock never decreases, no event is scheduled in the past, the
//!   event processed is the one `peek` announced; resources (`in_use <= capacity`), queues,
//!   containers and barriers within their capacities; no item in two places at once;
//! - at every wake (in the actors): the wake answers the command issued (kind, resource,
//!   queue, filter, amount), and everything handed back — `Interrupt::request`,
//!   `Interrupt::taken`, `First::others`, `First::taken` — is exactly what was issued (each
//!   request with its own priority; a `Resume` held back unstarted comes back as the same
//!   `Resume`), with `Interrupt::waited` the time since the wait was issued; a sleep (alone,
//!   or a `FirstOf` branch) ends exactly when it is due, and a `FirstOf` never outlives a
//!   sleep branch;
//! - preemption (README "Preemption"): a process, whenever it is stepped, may rely on every
//!   slot it was told it holds — the engine lists it among the resource's holders — and
//!   releasing a slot lost to preemption is a no-op;
//! - resume (`Interrupt::resume`): a carried-on sleep ends at the original end time; a
//!   carried-on request keeps its place: in a strict FIFO line (see [`Line`]: a resource's
//!   requests of one priority, the getters of a FIFO or priority queue, a queue's putters),
//!   no request that joined the line after the resumed one did is served while the resumed
//!   one waits (checked only when the resumed request surely stood in the line when the
//!   other was served);
//! - whenever an instant is complete (the next event is later, or there is none): every item
//!   created is exactly once received, queued, held by a blocked putter or held by an actor;
//!   the engine's slot holders are the slots the actors were told they hold; container levels
//!   are what the actors were told they took and added; activities start by their deadline
//!   and end on time; no request waits that could be served; and, now and then, an activity
//!   whose start rule holds has started (a probe plans an empty activity, which re-checks
//!   every pending one: one that starts then had stalled);
//! - errors returned by `step`: only the deliberately invalid commands (each must fail, with
//!   its own error — `InvalidDelay`, `EmptyBranches`, `WrongKind`, `Unsupported`, … — in the
//!   step that issued it);
//! - panics: a panic out of the engine is a finding; a deliberately planted panic (in a
//!   process, a filter, a priority comparator or the observer, in about 2% of the runs) must
//!   poison the simulation (`Error::Poisoned`);
//! - at the end, every actor is interrupted with [`SHUTDOWN`] and the run drained: every
//!   actor must have finished (or sit in a masked wait), and the item ledger must balance
//!   exactly.
//!
//! Determinism (same choices, same trace and outcome) is checked by the callers, which run
//! every model twice and compare [`Report::trace`] and [`Report::summary`]. Failures with a
//! signature in [`KNOWN_DEFECTS`] are engine defects already reproduced in
//! `tests/preemption_news.rs`: the callers report them without failing.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Once;
use stepsim::{
    Activity, ActivityId, BarrierId, Boxed, Branches, Capacity, Command, ContainerId, Context,
    Error, Filter, Interrupt, Observer, Outcome, Pid, Priority, Process, QueueId, Reason,
    ResourceId, ResourceKind, SignalId, Simulation, TraceEvent, TraceLog, Wake,
};

/// What queues carry: unique item ids.
pub type Item = u64;
/// What interrupts carry.
pub type Cause = u32;
/// The campaign's model.
pub type M = Boxed<Item, Cause>;
type Cmd = Command<Item>;
type W = Wake<Item, Cause>;
type Int = Interrupt<Item, Cause>;

/// Failure signatures of engine defects the campaign found and `tests/preemption_news.rs`
/// reproduces (with the name of its test): reported, but not failing the quick pass, and
/// ignored by the fuzz target, so that both go on looking for others.
pub const KNOWN_DEFECTS: &[(&str, &str)] = &[];

/// The test of `tests/preemption_news.rs` that reproduces a known engine defect with
/// this signature, if it is one.
pub fn known_defect(signature: &str) -> Option<&'static str> {
    KNOWN_DEFECTS
        .iter()
        .find(|(s, _)| *s == signature)
        .map(|(_, test)| *test)
}

/// The cause of the interrupts that shut the model down at the end of a run.
pub const SHUTDOWN: Cause = u32::MAX;
/// Signal values and exit values start here: they are copied to every receiver, so they
/// are not items of the ledger.
const VALUE_BASE: u64 = 1 << 40;
/// Slack for comparing times and amounts (all of them are multiples of 0.5, so exact in
/// practice).
const EPS: f64 = 1e-9;

// ----- choices -----

/// Where a run's random decisions come from.
pub trait Choices {
    /// A number in `0..n` (`0` when `n <= 1`).
    fn below(&mut self, n: u32) -> u32;
}

/// Choices from a seeded PCG-64 (the test's source).
pub struct SeededChoices(rand_pcg::Pcg64);

impl SeededChoices {
    /// The choices of seed `seed`.
    pub fn new(seed: u64) -> Self {
        SeededChoices(rand_pcg::Pcg64::seed_from_u64(seed))
    }
}

impl Choices for SeededChoices {
    fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        (self.0.next_u64() % u64::from(n)) as u32
    }
}

/// Choices read from a byte string (the fuzzer's source): one byte per choice of up to 256
/// options, two for up to 65,536, four beyond. Once the bytes are used up, the choices go on
/// from a PCG-64 seeded with a hash of the bytes, so that a short input still drives a
/// model of full size: the fuzzer steers the world and the first decisions, the rest
/// follows deterministically.
pub struct ByteChoices {
    bytes: Vec<u8>,
    at: usize,
    rest: rand_pcg::Pcg64,
}

impl ByteChoices {
    /// Choices read from `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        // FNV-1a of the input.
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        ByteChoices {
            bytes: bytes.to_vec(),
            at: 0,
            rest: rand_pcg::Pcg64::seed_from_u64(hash),
        }
    }
}

impl Choices for ByteChoices {
    fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        let width = if n <= 1 << 8 {
            1
        } else if n <= 1 << 16 {
            2
        } else {
            4
        };
        if self.at + width > self.bytes.len() {
            self.at = self.bytes.len();
            return (self.rest.next_u64() % u64::from(n)) as u32;
        }
        let v = self.bytes[self.at..self.at + width]
            .iter()
            .fold(0u32, |v, b| (v << 8) | u32::from(*b));
        self.at += width;
        v % n
    }
}

// ----- planted panics and the panic hook -----

/// Where a run plants a deliberate panic.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PanicSource {
    /// In an actor's `step`.
    Process,
    /// In a filter of a `GetWhere`.
    Filter,
    /// In a priority queue's comparator.
    Comparator,
    /// In the trace observer.
    Observer,
}

const DELIBERATE: &str = "campaign: deliberate panic";

thread_local! {
    /// Set while the driver is inside `Simulation::step` or `run_until`: planted panics
    /// fire only there (never in the driver's own calls of a filter or comparator).
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// The planted panic of the current run: where, and after how many calls.
    static PLANTED: Cell<Option<(PanicSource, u32)>> = const { Cell::new(None) };
    /// Set while a run is going: the panic hook then records panics silently.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// The message and location of the last panic on this thread.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Fires the planted panic if it is planted at `source` and its countdown ran out.
fn plant(source: PanicSource) {
    if !ARMED.get() {
        return;
    }
    if let Some((s, n)) = PLANTED.get()
        && s == source
    {
        if n == 0 {
            PLANTED.set(None);
            panic!("{DELIBERATE} in a {source:?}");
        }
        PLANTED.set(Some((s, n - 1)));
    }
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

/// Installs (once per process) a panic hook that, while a run is going on this thread,
/// records the panic's message and location instead of printing them; otherwise it defers
/// to the hook that was installed before (the default one, or libFuzzer's).
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.get() {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let text = format!("{} at {at}", payload_text(info.payload()));
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });
}

/// Drops the simulation ids from handles' `Debug` text (`QueueId { sim: 7, idx: 0 }`), which
/// differ between two runs of one seed.
fn strip_sim_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sim: ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 5..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        rest = after[digits..]
            .strip_prefix(", ")
            .unwrap_or(&after[digits..]);
    }
    out.push_str(rest);
    out
}

/// Replaces every run of digits by `#`, so that messages differing only in numbers
/// deduplicate.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_digits = false;
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(ch);
        }
    }
    out
}

// ----- configuration and results -----

/// How a run is bounded.
#[derive(Clone, Debug)]
pub struct Config {
    /// Events processed before the model is shut down.
    pub max_steps: u64,
    /// Record a log of every wake, command and outside call (for `STEPSIM_CAMPAIGN_SEED`).
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_steps: 3000,
            verbose: false,
        }
    }
}

/// One broken invariant.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What broke, without values: failures with the same signature are the same finding.
    pub signature: String,
    /// The values: time, process, commands, wakes.
    pub detail: String,
    /// The step (events processed by the driver) at which it was found: smaller is a
    /// smaller reproducer.
    pub step: u64,
}

/// What the models exercised.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Events processed by `step` (not counting `run_until`).
    pub steps: u64,
    /// Commands issued by actors.
    pub commands: u64,
    /// Interrupts from the model (`Reason::Interrupt`).
    pub interrupts: u64,
    /// Interrupts of any cause that withdrew a `FirstOf` or `AllOf`.
    pub interrupts_in_groups: u64,
    /// Of those, how many handed back what satisfied `AllOf` waits had taken.
    pub interrupts_with_taken: u64,
    /// Preemptions (`Reason::Preempted`).
    pub preemptions: u64,
    /// Summons (`Reason::Summoned`).
    pub summons: u64,
    /// `First` wakes with losing branches handed back.
    pub first_with_losers: u64,
    /// `First` wakes with losing `AllOf` branches that had taken something.
    pub first_with_taken: u64,
    /// Commands with two requests to one resource.
    pub same_resource_pairs: u64,
    /// Interrupts handed back a request issued at the same instant (delivered at issue).
    pub held_deliveries: u64,
    /// Commands made by `Interrupt::resume` and carried on at once.
    pub resumes: u64,
    /// Of those, `Command::Resume`s (requests going back to their places).
    pub resumed_requests: u64,
    /// Resumed requests that went back ahead of requests that had joined their line after
    /// them (what carrying on is for).
    pub resumed_ahead: u64,
    /// Commands made by `Interrupt::resume` after a summons, carried on once the activity
    /// ended.
    pub resumes_after_activity: u64,
    /// Resumed sleeps (alone or a `FirstOf` branch) that ended, checked against their
    /// original end time.
    pub resumed_sleeps_ended: u64,
    /// Grants, items and puts served while a resumed request waited in the same line
    /// (each checked: never to a request that joined after it).
    pub order_checks: u64,
    /// Releases of a slot lost to preemption (each must be a no-op).
    pub lost_releases: u64,
    /// Outside calls made by the driver.
    pub outside_calls: u64,
    /// Deliberately invalid commands, failed as they should.
    pub expected_errors: u64,
    /// Planted panics fired.
    pub planted_panics: u64,
    /// Stall probes made.
    pub probes: u64,
    /// Runs cut at the step limit.
    pub step_limits: u64,
}

impl Stats {
    /// Adds another run's counts.
    pub fn add(&mut self, o: &Stats) {
        self.steps += o.steps;
        self.commands += o.commands;
        self.interrupts += o.interrupts;
        self.interrupts_in_groups += o.interrupts_in_groups;
        self.interrupts_with_taken += o.interrupts_with_taken;
        self.preemptions += o.preemptions;
        self.summons += o.summons;
        self.first_with_losers += o.first_with_losers;
        self.first_with_taken += o.first_with_taken;
        self.same_resource_pairs += o.same_resource_pairs;
        self.held_deliveries += o.held_deliveries;
        self.resumes += o.resumes;
        self.resumed_requests += o.resumed_requests;
        self.resumed_ahead += o.resumed_ahead;
        self.resumes_after_activity += o.resumes_after_activity;
        self.resumed_sleeps_ended += o.resumed_sleeps_ended;
        self.order_checks += o.order_checks;
        self.lost_releases += o.lost_releases;
        self.outside_calls += o.outside_calls;
        self.expected_errors += o.expected_errors;
        self.planted_panics += o.planted_panics;
        self.probes += o.probes;
        self.step_limits += o.step_limits;
    }
}

/// The result of one run.
pub struct Report {
    /// Every distinct failure of the run (by signature, first occurrence).
    pub failures: Vec<Failure>,
    /// What the run exercised.
    pub stats: Stats,
    /// The event trace, as CSV.
    pub trace: String,
    /// The outcome: who received which item, what is left where, the final clock.
    pub summary: String,
    /// The log (with [`Config::verbose`]).
    pub log: Vec<String>,
}

// ----- the model's world -----

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum QueueKind {
    Fifo,
    Priority,
    Filter,
}

struct QueueInfo {
    id: QueueId,
    kind: QueueKind,
    cap: Option<usize>,
}

struct ResourceInfo {
    id: ResourceId,
    kind: ResourceKind,
    cap: usize,
}

struct ContainerInfo {
    id: ContainerId,
    cap: f64,
}

/// A filter and what it accepts (`item % modulus == rem`), to check items against without
/// calling the filter (which may carry a planted panic).
struct FilterSpec {
    filter: Filter<Item>,
    modulus: u64,
    rem: u64,
}

struct ActivityInfo {
    id: ActivityId,
    duration: f64,
    deadline: Option<f64>,
    /// A stall probe (no participants).
    probe: bool,
    plan: String,
}

#[derive(Default)]
struct World {
    queues: Vec<QueueInfo>,
    resources: Vec<ResourceInfo>,
    containers: Vec<ContainerInfo>,
    signals: Vec<SignalId>,
    barriers: Vec<(BarrierId, usize)>,
    filters: Vec<FilterSpec>,
    activities: Vec<ActivityInfo>,
}

/// A strict FIFO line that a single request waits in: served in the order the requests
/// joined it (each request's ticket), so that a resumed request, back in its old place, is
/// served before every request that joined after it did.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Line {
    /// The wait list of a resource, for requests of one priority: `None` for `Acquire`,
    /// the priority's level and whether it preempts for `AcquireWith`. (On a plain
    /// resource every request is an `Acquire`; on a priority or preemptive one, requests
    /// of one priority are served by request time, then ticket.)
    Resource(usize, Option<(f64, bool)>),
    /// The getters of a FIFO or priority queue (no filters: the head getter takes the
    /// head item).
    Getters(usize),
    /// The putters of a bounded queue.
    Putters(usize),
}

/// Where a single request stands in its [`Line`], as the campaign numbers requests.
#[derive(Copy, Clone, Debug, PartialEq)]
struct Place {
    line: Line,
    /// Its order among the single requests issued (the engine's tickets are in the same
    /// order: a request gets its ticket when it is issued, and keeps it when resumed).
    ticket: u64,
    /// Carried on with `Interrupt::resume`, at least once.
    resumed: bool,
    /// In its line ever since it first joined: every resume was issued at once, and
    /// started (not held back by another queued interrupt).
    continuous: bool,
    /// When it last joined its line, if not `continuous`.
    since: f64,
}

/// What an issued command had that carrying it on keeps: the end times of its sleeps and
/// the place of its request.
#[derive(Clone, Debug, Default)]
struct Progress {
    /// For a single sleep (or yield), its end time; for a `FirstOf`, the end time of each
    /// branch that is a sleep, by branch.
    ends: Vec<Option<f64>>,
    /// For a single request in a strict FIFO line, its place.
    place: Option<Place>,
}

/// How a command is issued.
enum Carry {
    /// Fresh (or started again).
    Fresh,
    /// Made by `Interrupt::resume` from the wait it withdrew, which had this progress;
    /// `at_once`: in the step that was told of the interrupt.
    Resumed { progress: Progress, at_once: bool },
}

/// What the campaign knows about one actor.
#[derive(Default)]
struct ProcRecord {
    pid: Option<Pid>,
    /// Commands it may still issue.
    budget: u32,
    /// The command it last returned (`None` before its start and once it finished).
    issued: Option<Cmd>,
    /// When it returned it.
    issued_at: f64,
    /// Its sleeps' end times and its request's place.
    progress: Progress,
    /// Whether it was made by `Interrupt::resume`.
    resumed: bool,
    /// The name of the command whose completion last woke it.
    woken_from: String,
    started: bool,
    /// Returned `Done`, or issued a deliberately invalid command.
    done: bool,
    /// The error its deliberately invalid command must fail with (until it does).
    bad: Option<&'static str>,
    /// Slots it was told it holds, by resource index.
    holds: BTreeMap<usize, u32>,
    /// Slots of those that the engine took away without telling it (a known engine defect,
    /// see `tests/preemption_news.rs`): found once, and left out of the later checks, which
    /// would only repeat the finding, until the `Preempted` arrives.
    untold: BTreeMap<usize, u32>,
    /// Slots it was told it lost to preemption and has not released (nor acquired the
    /// resource again since), by resource index.
    lost: BTreeMap<usize, u32>,
    /// Items handed back to it that it keeps (and may put again).
    stash: Vec<Item>,
    /// A request handed back by a summons, to carry on (or start again) after the
    /// activity.
    saved: Option<Saved>,
}

/// A request put aside during an activity.
struct Saved {
    command: Cmd,
    /// Made by `Interrupt::resume`, from a wait with this progress.
    resumed: Option<Progress>,
}

/// What an actor does after checking a wake.
enum Reaction {
    Fresh,
    /// Interrupted by the model or preempted: the interrupt, and the progress of the wait
    /// it withdrew.
    Interrupted(Int, Progress),
    Summoned(ActivityId, Int, Progress),
    ActivityOver,
    First(Branches<Item>),
}

/// The state the actors and the driver share.
struct Shared {
    rng: Box<dyn Choices>,
    world: World,
    procs: Vec<ProcRecord>,
    /// Items `0..next_item` exist.
    next_item: u64,
    next_value: u64,
    /// The last ticket given to a single request (see [`Place`]).
    tickets: u64,
    /// The queue (index) each item was last put into.
    target: BTreeMap<Item, usize>,
    /// Who received each item (`None`: the driver, from outside).
    received: BTreeMap<Item, Option<usize>>,
    /// Items the driver failed to put and keeps.
    outside_stash: Vec<Item>,
    /// The level each container should have, from what the actors were told.
    levels: Vec<f64>,
    shutting_down: bool,
    failures: Vec<Failure>,
    stats: Stats,
    log: Option<Vec<String>>,
    max_procs: usize,
    /// The driver's step count, for failures.
    step: u64,
}

/// A process of the model: its state lives in the shared record `procs[me]`.
pub struct Actor {
    me: usize,
    shared: Rc<RefCell<Shared>>,
}

impl Process<M> for Actor {
    fn step(&mut self, cx: &mut Context<'_, M>, wake: W) -> Cmd {
        plant(PanicSource::Process);
        let rc = Rc::clone(&self.shared);
        let mut shared = self.shared.borrow_mut();
        shared.on_wake(self.me, &rc, cx, wake)
    }
}

/// The time of the last event the observer saw, and the first `(from, to)` step backwards.
type ObservedClock = std::sync::Arc<std::sync::Mutex<(f64, Option<(f64, f64)>)>>;

/// The observer: the trace for the determinism check, the clock as every event sees it
/// (also inside `run_until`, between the driver's checks), and a place for a planted panic.
struct Recorder {
    log: TraceLog,
    /// The time of the last event, and the first `(from, to)` step backwards.
    clock: ObservedClock,
}

impl Observer for Recorder {
    fn on_event(&mut self, event: &TraceEvent<'_>) {
        plant(PanicSource::Observer);
        let (last, back) = *self
            .clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let back = back.or((event.time < last).then_some((last, event.time)));
        *self
            .clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (event.time, back);
        self.log.on_event(event);
    }
}

fn compare_items(a: &Item, b: &Item) -> std::cmp::Ordering {
    plant(PanicSource::Comparator);
    a.cmp(b)
}

// ----- naming things (for signatures) -----

fn cmd_name(c: &Cmd) -> String {
    match c {
        Command::Sleep(_) => "Sleep".into(),
        Command::Yield => "Yield".into(),
        Command::Get(_) => "Get".into(),
        Command::GetWhere(..) => "GetWhere".into(),
        Command::Put(..) => "Put".into(),
        Command::Acquire(_) => "Acquire".into(),
        Command::AcquireWith(..) => "AcquireWith".into(),
        Command::Join(_) => "Join".into(),
        Command::GetAmount(..) => "GetAmount".into(),
        Command::PutAmount(..) => "PutAmount".into(),
        Command::Signal(_) => "Signal".into(),
        Command::Arrive(_) => "Arrive".into(),
        Command::FirstOf(_) => "FirstOf".into(),
        Command::AllOf(_) => "AllOf".into(),
        Command::Masked(_) => format!("Masked({})", cmd_name(&c.clone().unmasked())),
        Command::Attend(_) => "Attend".into(),
        Command::Resume(r) => format!("Resume({})", cmd_name(r.command())),
        Command::Done => "Done".into(),
        // `Command` is non-exhaustive: a new kind of wait is named here when the campaign
        // learns to issue it.
        _ => unreachable!("the campaign issues no other command"),
    }
}

fn outcome_name(o: &Outcome<Item>) -> &'static str {
    match o {
        Outcome::Slept => "Slept",
        Outcome::Got(_) => "Got",
        Outcome::Put => "Put",
        Outcome::Acquired(_) => "Acquired",
        Outcome::Joined(..) => "Joined",
        Outcome::GotAmount(..) => "GotAmount",
        Outcome::PutAmount(..) => "PutAmount",
        Outcome::Signaled(..) => "Signaled",
        Outcome::Released(_) => "Released",
        Outcome::All(_) => "All",
        Outcome::ActivityOver(_) => "ActivityOver",
        _ => unreachable!("the campaign issues no wait with another outcome"),
    }
}

/// The variant name of an error (`InvalidDelay`, `WrongKind`, …).
fn error_kind(e: &Error) -> String {
    let text = format!("{e:?}");
    text.split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The command a `Resume` carries on with; any other command as it is.
fn effective(c: &Cmd) -> &Cmd {
    match c {
        Command::Resume(r) => r.command(),
        c => c,
    }
}

/// The wait of a single-wait command, unmasked (`None` for `FirstOf`, `AllOf`, `Attend`,
/// `Done`).
fn single_wait(c: &Cmd) -> Option<Cmd> {
    match c {
        Command::FirstOf(_) | Command::AllOf(_) | Command::Attend(_) | Command::Done => None,
        Command::Masked(_) => Some(c.clone().unmasked()),
        Command::Resume(r) => single_wait(r.command()),
        c => Some(c.clone()),
    }
}

/// Every wait of a command, `FirstOf` and `AllOf` groups flattened, masks taken off.
fn waits_of(c: &Cmd) -> Vec<Cmd> {
    fn flat(c: Cmd, out: &mut Vec<Cmd>) {
        match c {
            Command::FirstOf(bs) | Command::AllOf(bs) => bs.into_iter().for_each(|w| flat(w, out)),
            Command::Masked(_) => out.push(c.unmasked()),
            Command::Resume(r) => flat(r.command().clone(), out),
            Command::Attend(_) | Command::Done => {}
            w => out.push(w),
        }
    }
    let mut out = Vec::new();
    flat(c.clone(), &mut out);
    out
}

/// The items of every put in a command.
fn put_items(c: &Cmd) -> Vec<Item> {
    waits_of(c)
        .into_iter()
        .filter_map(|w| match w {
            Command::Put(_, x) => Some(x),
            _ => None,
        })
        .collect()
}

/// Whether a command has two requests to one resource.
fn has_pair(c: &Cmd) -> bool {
    let mut seen: Vec<ResourceId> = Vec::new();
    for w in waits_of(c) {
        if let Some(r) = request_of(&w) {
            if seen.contains(&r) {
                return true;
            }
            seen.push(r);
        }
    }
    false
}

/// The waits of a command's pending `AllOf` groups (whose satisfied part the engine holds,
/// unseen, until the group completes or is withdrawn).
fn pending_all_of_waits(c: &Cmd) -> Vec<Cmd> {
    match effective(c) {
        Command::AllOf(bs) => bs.to_vec(),
        Command::FirstOf(bs) => bs
            .to_vec()
            .into_iter()
            .filter_map(|w| match w {
                Command::AllOf(ws) => Some(ws.to_vec()),
                _ => None,
            })
            .flatten()
            .collect(),
        _ => Vec::new(),
    }
}

/// The resource of a request (`Acquire` or `AcquireWith`).
fn request_of(w: &Cmd) -> Option<ResourceId> {
    match w {
        Command::Acquire(r) | Command::AcquireWith(r, _) => Some(*r),
        _ => None,
    }
}

/// Equal, or both requests to one resource (whatever their priorities): what a mix-up of
/// two requests to one resource looks like.
fn same_but_priority(a: &Cmd, b: &Cmd) -> bool {
    a == b || (request_of(a).is_some() && request_of(a) == request_of(b))
}

/// How a handed-back wait differs from the issued one.
fn wait_diff(issued: &Cmd, back: &Cmd) -> String {
    if same_but_priority(issued, back) {
        return "a resource request handed back with another priority (or as another kind of request)".into();
    }
    let (a, b) = (cmd_name(issued), cmd_name(back));
    if a != b {
        return format!("issued {a} handed back as {b}");
    }
    match (issued, back) {
        (Command::Put(q1, _), Command::Put(q2, _)) if q1 == q2 => {
            "Put handed back with another item".into()
        }
        _ => format!("{a} handed back with another payload"),
    }
}

/// Whether `back` (an `AllOf` handed back) and `taken` are `issued` split into its
/// unsatisfied waits (in order, compared with `eq`) and the outcomes of its satisfied ones
/// (in order, checked with `outcome_ok`): a search, since equal waits make the split
/// ambiguous. Returns how many outcomes of `taken` the split used.
fn split_all_of(
    issued: &[Cmd],
    back: &[Cmd],
    taken: &[Outcome<Item>],
    eq: &dyn Fn(&Cmd, &Cmd) -> bool,
    outcome_ok: &dyn Fn(&Cmd, &Outcome<Item>) -> bool,
) -> Option<usize> {
    let Some((w, rest)) = issued.split_first() else {
        return back.is_empty().then_some(0);
    };
    if let Some((b, back_rest)) = back.split_first()
        && eq(w, b)
        && let Some(n) = split_all_of(rest, back_rest, taken, eq, outcome_ok)
    {
        return Some(n);
    }
    if let Some((o, taken_rest)) = taken.split_first()
        && outcome_ok(w, o)
        && let Some(n) = split_all_of(rest, back, taken_rest, eq, outcome_ok)
    {
        return Some(n + 1);
    }
    None
}

/// How a handed-back single command differs from the issued one.
fn command_diff(issued: &Cmd, back: &Cmd) -> String {
    match (single_wait(issued), single_wait(back)) {
        (Some(a), Some(b)) if cmd_name(issued) == cmd_name(back) => wait_diff(&a, &b),
        _ => format!(
            "issued {} handed back as {}",
            cmd_name(issued),
            cmd_name(back)
        ),
    }
}

/// The strict FIFO line a single request waits in (see [`Line`]), if it is one.
fn line_of(world: &World, c: &Cmd) -> Option<Line> {
    match single_wait(c)? {
        Command::Acquire(r) => Some(Line::Resource(r.index() as usize, None)),
        Command::AcquireWith(r, p) => Some(Line::Resource(
            r.index() as usize,
            Some((p.level, p.preempt)),
        )),
        Command::Get(q) if world.queues[q.index() as usize].kind != QueueKind::Filter => {
            Some(Line::Getters(q.index() as usize))
        }
        Command::Put(q, _) => Some(Line::Putters(q.index() as usize)),
        _ => None,
    }
}

/// The end times of a command's sleeps issued at `now` (see [`Progress::ends`]).
fn sleep_ends(c: &Cmd, now: f64) -> Vec<Option<f64>> {
    let end = |w: &Cmd| match w {
        Command::Sleep(dt) => Some(now + dt),
        Command::Yield => Some(now),
        _ => None,
    };
    match effective(c) {
        Command::FirstOf(bs) => bs.to_vec().iter().map(end).collect(),
        c => vec![single_wait(c).as_ref().and_then(end)],
    }
}

fn brief_wake(w: &W) -> String {
    match w {
        Wake::Completed(Outcome::Got(x)) => format!("got({x})"),
        Wake::Completed(Outcome::Acquired(r)) => format!("acquired(r{})", r.index()),
        Wake::Completed(Outcome::All(os)) => format!("all{os:?}"),
        Wake::First(f) => format!(
            "first:{} {:?} others={:?} taken={:?}",
            f.index, f.outcome, f.others, f.taken
        ),
        Wake::Interrupted(i) => {
            let cause = match &i.cause {
                Reason::Interrupt(c) => format!("interrupted({c})"),
                Reason::Preempted(p) => format!("preempted(r{} by {})", p.resource.index(), p.by),
                Reason::Summoned(a) => format!("summoned(a{})", a.index()),
            };
            format!(
                "{cause} waited={} request={:?} taken={:?}",
                i.waited, i.request, i.taken
            )
        }
        other => other.kind().to_string(),
    }
}

// ----- the shared state: choices, checks, the actors' decisions -----

impl Shared {
    fn below(&mut self, n: usize) -> usize {
        self.rng.below(n as u32) as usize
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.below(100) < percent
    }

    /// An index drawn with the given weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.rng.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if let Some(log) = self.log.as_mut()
            && log.len() < 50_000
        {
            log.push(line());
        }
    }

    /// Records a failure (once per signature and run).
    fn fail(&mut self, signature: impl Into<String>, detail: impl Into<String>) {
        let signature = signature.into();
        if self.failures.iter().any(|f| f.signature == signature) {
            return;
        }
        let detail = strip_sim_ids(&detail.into());
        let step = self.step;
        self.note(|| format!("FAILURE: {signature}: {detail}"));
        self.failures.push(Failure {
            signature,
            detail,
            step,
        });
    }

    fn who(&self, me: usize) -> String {
        match self.procs[me].pid {
            Some(p) => format!("P{me} ({p})"),
            None => format!("P{me}"),
        }
    }

    fn new_item(&mut self) -> Item {
        let x = self.next_item;
        self.next_item += 1;
        x
    }

    fn new_value(&mut self) -> Item {
        self.next_value += 1;
        VALUE_BASE + self.next_value
    }

    fn new_record(&mut self) -> usize {
        let budget = 3 + self.below(38) as u32;
        self.procs.push(ProcRecord {
            budget,
            ..ProcRecord::default()
        });
        self.procs.len() - 1
    }

    fn delay(&mut self) -> f64 {
        self.pick(&[0.0, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0, 2.5, 5.0])
    }

    fn priority(&mut self) -> Priority {
        let level = self.pick(&[-1.0, 0.0, 1.0, 2.0]);
        Priority {
            level,
            preempt: self.chance(50),
        }
    }

    // ----- the ledger -----

    /// Checks that `x` may come out of queue `q` (through `filter`, if any).
    fn check_item_from(
        &self,
        x: Item,
        q: QueueId,
        filter: Option<&Filter<Item>>,
    ) -> Result<(), String> {
        if x >= self.next_item {
            return Err("an unknown item came out of a queue".into());
        }
        if self.target.get(&x) != Some(&(q.index() as usize)) {
            return Err("an item came out of a queue it was not put into".into());
        }
        if let Some(f) = filter {
            match self.world.filters.iter().find(|s| s.filter == *f) {
                Some(spec) if x % spec.modulus != spec.rem => {
                    return Err("GetWhere took an item its filter rejects".into());
                }
                Some(_) => {}
                None => return Err("GetWhere handed back with an unknown filter".into()),
            }
        }
        Ok(())
    }

    fn receive(&mut self, who: Option<usize>, x: Item) {
        if let Some(first) = self.received.insert(x, who) {
            self.fail(
                "an item was received twice",
                format!("item {x}: first by {first:?}, again by {who:?}"),
            );
        }
    }

    /// Takes note of what an outcome gave the actor: items, slots, amounts.
    fn account(&mut self, me: usize, o: &Outcome<Item>) {
        match o {
            Outcome::Got(x) => self.receive(Some(me), *x),
            Outcome::Acquired(r) => {
                let r = r.index() as usize;
                *self.procs[me].holds.entry(r).or_default() += 1;
                // Holding it again: a release is for this slot, not a lost one.
                self.procs[me].lost.remove(&r);
            }
            Outcome::GotAmount(c, n) => self.levels[c.index() as usize] -= n,
            Outcome::PutAmount(c, n) => self.levels[c.index() as usize] += n,
            Outcome::All(os) => os.iter().for_each(|o| self.account(me, o)),
            _ => {}
        }
    }

    /// The actor keeps the items of the puts in a command it does not re-issue.
    fn stash_cmd(&mut self, me: usize, c: &Cmd) {
        self.procs[me].stash.extend(put_items(c));
    }

    fn stash_branches(&mut self, me: usize, bs: Branches<Item>) {
        self.stash_cmd(me, &Command::FirstOf(bs));
    }

    // ----- checking wakes -----

    /// Whether a completed wait's outcome answers it.
    fn check_outcome(&self, w: &Cmd, o: &Outcome<Item>) -> Result<(), String> {
        let ok = match (w, o) {
            (Command::Sleep(_) | Command::Yield, Outcome::Slept)
            | (Command::Put(..), Outcome::Put) => true,
            (Command::Get(q), Outcome::Got(x)) => {
                self.check_item_from(*x, *q, None)?;
                true
            }
            (Command::GetWhere(q, f), Outcome::Got(x)) => {
                self.check_item_from(*x, *q, Some(f))?;
                true
            }
            (Command::Acquire(r) | Command::AcquireWith(r, _), Outcome::Acquired(r2)) => r == r2,
            (Command::Join(p), Outcome::Joined(p2, _)) => p == p2,
            (Command::GetAmount(c, n), Outcome::GotAmount(c2, n2))
            | (Command::PutAmount(c, n), Outcome::PutAmount(c2, n2)) => c == c2 && n == n2,
            (Command::Signal(s), Outcome::Signaled(s2, _)) => s == s2,
            (Command::Arrive(b), Outcome::Released(b2)) => b == b2,
            (Command::AllOf(ws), Outcome::All(os)) => {
                if ws.len() != os.len() {
                    return Err("an AllOf completed with another number of outcomes".into());
                }
                for (w, o) in ws.to_vec().iter().zip(os) {
                    self.check_outcome(w, o)?;
                }
                true
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{} completed with outcome {}",
                cmd_name(w),
                outcome_name(o)
            ))
        }
    }

    /// Checks what came back of a command's branches: `back` must be `issued` without the
    /// winner `skip`, each branch exactly as issued, an `AllOf` with only its unsatisfied
    /// waits (in order), and `taken` the outcomes of the satisfied ones, in branch order.
    fn check_handback(
        &self,
        issued: &[Cmd],
        skip: Option<usize>,
        back: &[Cmd],
        taken: &[Outcome<Item>],
        what: &str,
    ) -> Result<(), String> {
        let expected: Vec<&Cmd> = issued
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, w)| w)
            .collect();
        if expected.len() != back.len() {
            return Err(format!("{what}: another number of branches handed back"));
        }
        let mut t = 0;
        for (e, b) in expected.into_iter().zip(back) {
            match (e, b) {
                (Command::AllOf(ews), Command::AllOf(bws)) => {
                    let (ews, bws) = (ews.to_vec(), bws.to_vec());
                    if bws.is_empty() {
                        return Err(format!("{what}: an AllOf came back with no waits"));
                    }
                    let ok = |w: &Cmd, o: &Outcome<Item>| self.check_outcome(w, o).is_ok();
                    // The waits not handed back were satisfied: their outcomes come next.
                    let k = ews.len().saturating_sub(bws.len());
                    let Some(mine) = taken.get(t..t + k) else {
                        return Err(format!(
                            "{what}: taken misses outcomes of satisfied AllOf waits"
                        ));
                    };
                    if bws.len() > ews.len()
                        || split_all_of(&ews, &bws, mine, &|a, b| a == b, &ok).is_none()
                    {
                        let loose = bws.len() <= ews.len()
                            && split_all_of(&ews, &bws, mine, &same_but_priority, &ok).is_some();
                        return Err(if loose {
                            format!(
                                "{what}: in an AllOf: a resource request handed back with another priority (or as another kind of request)"
                            )
                        } else {
                            format!(
                                "{what}: an AllOf came back not split into its unsatisfied waits and the outcomes of the others"
                            )
                        });
                    }
                    t += k;
                }
                _ if e == b => {}
                _ => return Err(format!("{what}: {}", wait_diff(e, b))),
            }
        }
        if t != taken.len() {
            return Err(format!("{what}: taken holds outcomes of no satisfied wait"));
        }
        Ok(())
    }

    /// Checks an interrupt (of any cause) against the command it withdrew (`raw`, as
    /// issued), and takes note of what it hands back. `progress` is the withdrawn command's;
    /// a `Resume` held back by an interrupt queued ahead of it never joined its line.
    #[allow(clippy::too_many_arguments)]
    fn check_interrupt(
        &mut self,
        me: usize,
        now: f64,
        raw: &Cmd,
        i: &Int,
        kind: &str,
        progress: &mut Progress,
    ) {
        let issued_at = self.procs[me].issued_at;
        let who = self.who(me);
        let cmd = effective(raw);
        let (request, waited, taken) = (&i.request, i.waited, &i.taken);
        let pair = if has_pair(cmd) {
            " [two requests to one resource]"
        } else {
            ""
        };
        let detail = || {
            format!(
                "t={now}, {who}: issued {raw:?} at t={issued_at}, {kind} with request {request:?}, waited {waited}, taken {taken:?}"
            )
        };
        if !cmd.is_interruptible() {
            self.fail(
                format!("{kind} delivered during a {} wait", cmd_name(cmd)),
                detail(),
            );
        }
        if !(waited.is_finite() && waited >= 0.0) {
            self.fail("Interrupt::waited is negative or not finite", detail());
        } else if (waited - (now - issued_at)).abs() > EPS {
            self.fail(
                "Interrupt::waited is not the time since the wait was issued",
                detail(),
            );
        }
        if let Command::Sleep(dt) = cmd
            && waited > dt + EPS
        {
            self.fail(
                "an interrupted Sleep waited longer than its delay",
                detail(),
            );
        }
        if matches!(cmd, Command::FirstOf(_))
            && let Some(e) = progress.ends.iter().flatten().find(|e| now > **e + EPS)
        {
            self.fail(
                "an interrupt withdrew a FirstOf after its sleep branch was due",
                format!("{}; the sleep was due at {e}", detail()),
            );
        }
        if waited == 0.0 && now == issued_at {
            self.stats.held_deliveries += 1;
        }
        let what = "Interrupt::request";
        let checked = match (cmd, request) {
            // Held back unstarted (an interrupt was queued when it was issued): it comes
            // back exactly as issued, `Resume` and all.
            (_, Command::Resume(_)) => {
                if request != raw {
                    Err(format!(
                        "{what}: a Resume handed back unlike the one issued"
                    ))
                } else if waited != 0.0 || now != issued_at || !taken.is_empty() {
                    Err(format!(
                        "{what}: a Resume handed back as issued, though it had started"
                    ))
                } else {
                    // It never joined its line.
                    if let Some(p) = progress.place.as_mut() {
                        p.continuous = false;
                        p.since = now;
                    }
                    Ok(())
                }
            }
            (Command::FirstOf(bs), Command::FirstOf(rs)) => {
                self.check_handback(&bs.to_vec(), None, &rs.to_vec(), taken, what)
            }
            (Command::AllOf(_), Command::AllOf(_)) => self.check_handback(
                std::slice::from_ref(cmd),
                None,
                std::slice::from_ref(request),
                taken,
                what,
            ),
            (c, r) if c == r => {
                if taken.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "{what}: taken is not empty for a {} wait",
                        cmd_name(c)
                    ))
                }
            }
            (c, r) => Err(format!("{what}: {}", command_diff(c, r))),
        };
        if let Err(sig) = checked {
            self.fail(format!("{sig}{pair}"), detail());
        }
        if matches!(cmd, Command::FirstOf(_) | Command::AllOf(_)) {
            self.stats.interrupts_in_groups += 1;
            if !taken.is_empty() {
                self.stats.interrupts_with_taken += 1;
            }
        }
        for o in taken {
            self.account(me, o);
        }
    }

    /// Checks that a sleep that ended (alone, or the winning branch `branch` of a
    /// `FirstOf`) ended when it was due, and that no other sleep branch was due earlier.
    fn check_sleep_ends(&mut self, me: usize, now: f64, progress: &Progress, won: Option<usize>) {
        let resumed = self.procs[me].resumed;
        let who = self.who(me);
        let (raw, at) = (&self.procs[me].issued, self.procs[me].issued_at);
        let detail = format!(
            "t={now}, {who}: issued {raw:?} at t={at}, sleeps due {:?}",
            progress.ends
        );
        if let Some(Some(e)) = won.and_then(|b| progress.ends.get(b))
            && (now - e).abs() > EPS
        {
            let sig = if resumed {
                "a resumed sleep ended at another time than the original one was due"
            } else {
                "a sleep ended at another time than it was due"
            };
            self.fail(sig, detail.clone());
        } else if resumed && won.is_some_and(|b| progress.ends.get(b).is_some_and(Option::is_some))
        {
            self.stats.resumed_sleeps_ended += 1;
        }
        if progress.ends.iter().flatten().any(|e| now > e + EPS) {
            self.fail(
                "a FirstOf completed after one of its sleep branches was due",
                detail,
            );
        }
    }

    /// A single request in a strict FIFO line was served (`served`, its place): no request
    /// carried on with `Interrupt::resume` may wait in the same line if it joined the line
    /// before this one did.
    fn check_line_order(&mut self, me: usize, now: f64, served: Place) {
        let mut passed = Vec::new();
        for (i, p) in self.procs.iter().enumerate() {
            if i == me || p.done || p.issued.is_none() {
                continue;
            }
            let Some(r) = p.progress.place else { continue };
            if !r.resumed || r.line != served.line {
                continue;
            }
            // Sound only if it stood in the line when this request was served: ever since
            // it first joined, or since an earlier instant.
            if !(r.continuous || now > r.since) {
                continue;
            }
            self.stats.order_checks += 1;
            if r.ticket < served.ticket {
                passed.push((i, r));
            }
        }
        for (i, r) in passed {
            let d = format!(
                "t={now}: {} (request #{}) was served in {:?} while {} waits with the resumed request #{} (issued {:?} at t={})",
                self.who(me),
                served.ticket,
                served.line,
                self.who(i),
                r.ticket,
                self.procs[i].issued,
                self.procs[i].issued_at,
            );
            self.fail(
                "a resumed request lost its place: a request that joined the line after it was served first",
                d,
            );
        }
    }

    /// Checks a wake that completes `raw` (as issued), and takes note of what it gives.
    fn check_completion(
        &mut self,
        me: usize,
        now: f64,
        raw: &Cmd,
        wake: W,
        progress: &Progress,
    ) -> Reaction {
        let who = self.who(me);
        let cmd = effective(raw);
        let pair = if has_pair(cmd) {
            " [two requests to one resource]"
        } else {
            ""
        };
        let detail = |wake: &W| format!("t={now}, {who}: issued {raw:?}, woken with {wake:?}");
        match (cmd, wake) {
            (Command::FirstOf(bs), Wake::First(f)) => {
                let bs = bs.to_vec();
                if f.index >= bs.len() {
                    self.fail("First::index out of range", detail(&Wake::First(f)));
                    return Reaction::Fresh;
                }
                let mut checked = self
                    .check_outcome(&bs[f.index], &f.outcome)
                    .map_err(|s| format!("First::outcome: {s}"));
                if checked.is_ok() {
                    checked = self.check_handback(
                        &bs,
                        Some(f.index),
                        &f.others.to_vec(),
                        &f.taken,
                        "First::others",
                    );
                }
                if let Err(sig) = checked {
                    let d = detail(&Wake::First(f.clone()));
                    self.fail(format!("{sig}{pair}"), d);
                }
                self.check_sleep_ends(me, now, progress, Some(f.index));
                if !f.others.is_empty() {
                    self.stats.first_with_losers += 1;
                }
                if !f.taken.is_empty() {
                    self.stats.first_with_taken += 1;
                }
                self.account(me, &f.outcome);
                for o in &f.taken {
                    self.account(me, o);
                }
                Reaction::First(f.others)
            }
            (Command::AllOf(_), Wake::Completed(outcome @ Outcome::All(_))) => {
                if let Err(sig) = self.check_outcome(cmd, &outcome) {
                    self.fail(
                        format!("Wake::Completed(All): {sig}{pair}"),
                        detail(&Wake::Completed(outcome.clone())),
                    );
                }
                self.account(me, &outcome);
                Reaction::Fresh
            }
            (cmd, Wake::Completed(o)) if single_wait(cmd).is_some() => {
                let w = single_wait(cmd).expect("a single wait");
                match self.check_outcome(&w, &o) {
                    Ok(()) => {
                        if matches!(w, Command::Sleep(_) | Command::Yield) {
                            self.check_sleep_ends(me, now, progress, Some(0));
                        }
                        if let Some(place) = progress.place {
                            self.check_line_order(me, now, place);
                        }
                    }
                    Err(sig) => {
                        let d = detail(&Wake::Completed(o.clone()));
                        self.fail(format!("{}: {sig}", cmd_name(cmd)), d);
                    }
                }
                self.account(me, &o);
                Reaction::Fresh
            }
            (cmd, wake) => {
                self.fail(
                    format!("a {} wait woke with {}", cmd_name(cmd), wake.kind()),
                    detail(&wake),
                );
                if let Wake::Completed(o) = &wake {
                    self.account(me, o);
                }
                Reaction::Fresh
            }
        }
    }

    // ----- an actor's step -----

    fn on_wake(
        &mut self,
        me: usize,
        rc: &Rc<RefCell<Shared>>,
        cx: &mut Context<'_, M>,
        wake: W,
    ) -> Cmd {
        let now = cx.now();
        self.note(|| format!("t={now} P{me} <- {}", brief_wake(&wake)));
        if self.procs[me].done {
            let d = format!("t={now}, {}: {wake:?}", self.who(me));
            self.fail("a process was stepped after it finished", d);
            return Command::Done;
        }
        // An activity that started or ended later than now: the clock ran backwards
        // (inside `run_until`, or at an event the observer does not see).
        let future = self.world.activities.iter().find_map(|a| {
            let v = cx.activity_view(a.id).ok()?;
            let last = v.ended_at().or(v.started_at())?;
            (last > now).then_some(last)
        });
        if let Some(t) = future {
            let d =
                format!("a process stepped at t={now} after an activity started or ended at {t}");
            self.fail("the clock ran backwards", d);
        }
        let issued = self.procs[me].issued.clone();
        let mut progress = std::mem::take(&mut self.procs[me].progress);
        let reaction = match (issued, wake) {
            (None, Wake::Started) => {
                self.procs[me].started = true;
                Reaction::Fresh
            }
            (None, other) => {
                let d = format!("t={now}, {}: {other:?}", self.who(me));
                self.fail(
                    format!("a process was first woken with {}", other.kind()),
                    d,
                );
                Reaction::Fresh
            }
            (Some(cmd), Wake::Started) => {
                let d = format!("t={now}, {}: issued {cmd:?}", self.who(me));
                self.fail("Started delivered to a running process", d);
                Reaction::Fresh
            }
            (Some(cmd), Wake::Interrupted(i)) => match i.cause.clone() {
                Reason::Interrupt(_) => {
                    self.stats.interrupts += 1;
                    self.check_interrupt(me, now, &cmd, &i, "Interrupted", &mut progress);
                    Reaction::Interrupted(i, progress)
                }
                Reason::Preempted(p) => {
                    self.stats.preemptions += 1;
                    self.check_interrupt(me, now, &cmd, &i, "Preempted", &mut progress);
                    if i.preempted() != Some(&p) || i.activity().is_some() {
                        let d = format!("t={now}, {}: {:?}", self.who(me), i.cause);
                        self.fail("Interrupt::preempted/activity disagree with the cause", d);
                    }
                    let r = p.resource.index() as usize;
                    let held = self.procs[me].holds.entry(r).or_default();
                    if *held == 0 {
                        let d = format!("t={now}, {}: {p:?}", self.who(me));
                        self.fail(
                            "Preempted from a slot the process was never told it holds",
                            d,
                        );
                    } else {
                        *held -= 1;
                        match self.procs[me].untold.get_mut(&r) {
                            // Lost untold, then granted the resource again in the same
                            // issue: the engine forgot the lost slot, and releasing it is
                            // NotHolder (part of the known defect): not released.
                            Some(n) if *n > 0 => *n -= 1,
                            _ => *self.procs[me].lost.entry(r).or_default() += 1,
                        }
                    }
                    if p.since > now {
                        let d = format!("t={now}, {}: {p:?}", self.who(me));
                        self.fail("Preempted::since is in the future", d);
                    }
                    Reaction::Interrupted(i, progress)
                }
                Reason::Summoned(a) => {
                    self.stats.summons += 1;
                    self.check_interrupt(me, now, &cmd, &i, "Summoned", &mut progress);
                    if i.activity() != Some(a) || i.preempted().is_some() {
                        let d = format!("t={now}, {}: {:?}", self.who(me), i.cause);
                        self.fail("Interrupt::preempted/activity disagree with the cause", d);
                    }
                    let known = self.world.activities.iter().any(|x| x.id == a);
                    let listed = cx.activity_view(a).is_ok_and(|v| {
                        v.participants()
                            .iter()
                            .any(|p| Some(p.pid) == self.procs[me].pid)
                    });
                    if !known || !listed {
                        let d = format!("t={now}, {}: activity {a:?}", self.who(me));
                        self.fail(
                            "Summoned to an activity the process is not a participant of",
                            d,
                        );
                    }
                    Reaction::Summoned(a, i, progress)
                }
            },
            (Some(cmd), Wake::Completed(Outcome::ActivityOver(a))) => {
                if cmd != Command::Attend(a) {
                    let d = format!(
                        "t={now}, {}: issued {cmd:?}, woken with ActivityOver({a:?})",
                        self.who(me)
                    );
                    self.fail(format!("ActivityOver woke a {} wait", cmd_name(&cmd)), d);
                }
                Reaction::ActivityOver
            }
            (Some(cmd), wake) => {
                self.procs[me].woken_from = cmd_name(&cmd);
                if matches!(cmd, Command::Attend(_)) {
                    let d = format!("t={now}, {}: woken with {wake:?}", self.who(me));
                    self.fail(format!("an Attend woke with {}", wake.kind()), d);
                    Reaction::Fresh
                } else {
                    self.check_completion(me, now, &cmd, wake, &progress)
                }
            }
        };
        self.procs[me].issued = None;
        self.check_believed_slots(me, cx);
        self.react(me, rc, cx, reaction)
    }

    /// A process, when stepped, may rely on every slot it was told it holds: the engine lists
    /// it as a holder of each (a preemption is told at once, or waits until it can be).
    fn check_believed_slots(&mut self, me: usize, cx: &Context<'_, M>) {
        let Some(pid) = self.procs[me].pid else {
            return;
        };
        let now = cx.now();
        let mut lost = Vec::new();
        for (&r, &told) in &self.procs[me].holds {
            if told == 0 {
                continue;
            }
            let id = self.world.resources[r].id;
            let listed = cx
                .resource_view(id)
                .map_or(0, |v| v.holders().filter(|h| *h == pid).count())
                as u32;
            let untold = self.procs[me].untold.get(&r).copied().unwrap_or(0);
            if listed + untold < told {
                lost.push((r, told, listed));
            }
        }
        for (r, told, listed) in lost {
            self.procs[me].untold.insert(r, told - listed);
            let from = self.procs[me].woken_from.clone();
            let d = format!(
                "t={now}, {}: r{r}: told it holds {told}, the engine lists {listed}; it last woke from a {from} wait",
                self.who(me)
            );
            self.fail(
                "a process was stepped believing it holds a slot that the engine took away (not told of a preemption)",
                d,
            );
        }
    }

    fn react(
        &mut self,
        me: usize,
        rc: &Rc<RefCell<Shared>>,
        cx: &mut Context<'_, M>,
        reaction: Reaction,
    ) -> Cmd {
        let now = cx.now();
        if self.shutting_down {
            match reaction {
                Reaction::Interrupted(i, _) | Reaction::Summoned(_, i, _) => {
                    self.stash_cmd(me, &i.request)
                }
                Reaction::First(bs) => self.stash_branches(me, bs),
                _ => {}
            }
            if let Some(s) = self.procs[me].saved.take() {
                self.stash_cmd(me, &s.command);
            }
            return self.done(me, cx);
        }
        match reaction {
            Reaction::Fresh => {}
            Reaction::Interrupted(i, progress) => {
                if let Reason::Preempted(p) = &i.cause {
                    self.release_lost(me, cx, p.resource);
                }
                if self.procs[me].budget > 0 && self.chance(50) {
                    return self.carry_on_or_restart(me, now, i, progress);
                }
                self.stash_cmd(me, &i.request);
            }
            Reaction::Summoned(a, i, progress) => {
                if let Some(old) = self.procs[me].saved.take() {
                    self.stash_cmd(me, &old.command);
                }
                if self.procs[me].budget == 0 || self.chance(8) {
                    self.stash_cmd(me, &i.request);
                    return self.done(me, cx);
                }
                if self.chance(70) {
                    // A `Resume` held back unstarted comes back as it was: starting it again
                    // still carries on.
                    let held = matches!(i.request, Command::Resume(_));
                    self.procs[me].saved = Some(if held || self.chance(50) {
                        Saved {
                            command: i.resume(),
                            resumed: Some(progress),
                        }
                    } else {
                        Saved {
                            command: i.request,
                            resumed: None,
                        }
                    });
                } else {
                    self.stash_cmd(me, &i.request);
                }
                return self.issue(me, now, Command::Attend(a), Carry::Fresh);
            }
            Reaction::ActivityOver => {
                if let Some(saved) = self.procs[me].saved.take() {
                    if self.procs[me].budget > 0 && self.chance(70) {
                        let carry = match saved.resumed {
                            Some(progress) => {
                                self.stats.resumes_after_activity += 1;
                                Carry::Resumed {
                                    progress,
                                    at_once: false,
                                }
                            }
                            None => Carry::Fresh,
                        };
                        return self.issue(me, now, saved.command, carry);
                    }
                    self.stash_cmd(me, &saved.command);
                }
            }
            Reaction::First(others) => {
                if !others.is_empty() && self.procs[me].budget > 0 && self.chance(25) {
                    return self.issue(me, now, Command::FirstOf(others), Carry::Fresh);
                }
                self.stash_branches(me, others);
            }
        }
        self.fresh(me, rc, cx)
    }

    /// After an interrupt: carry on with the withdrawn wait (`Interrupt::resume`), or start
    /// it again (the request as handed back).
    fn carry_on_or_restart(&mut self, me: usize, now: f64, i: Int, mut progress: Progress) -> Cmd {
        // A preemption withdraws the wait when it is decided, not when it is told: from then
        // on the request stood outside its line (a grant made meanwhile may go to a request
        // that joined after it), and it joins again now, in its old place.
        if i.preempted().is_some()
            && let Some(place) = progress.place.as_mut()
        {
            place.continuous = false;
            place.since = now;
        }
        if self.chance(50) {
            self.stats.resumes += 1;
            let cmd = i.resume();
            if matches!(cmd, Command::Resume(_)) {
                self.stats.resumed_requests += 1;
            }
            return self.issue(
                me,
                now,
                cmd,
                Carry::Resumed {
                    progress,
                    at_once: true,
                },
            );
        }
        // A `Resume` held back unstarted comes back as it was: issuing it again still
        // carries on.
        let carry = if matches!(i.request, Command::Resume(_)) {
            Carry::Resumed {
                progress,
                at_once: true,
            }
        } else {
            Carry::Fresh
        };
        self.issue(me, now, i.request, carry)
    }

    /// SimPy's habit after a preemption: release the slot lost (a no-op). Only when the
    /// process holds no other slot of the resource (a release gives back a slot held
    /// before a lost one).
    fn release_lost(&mut self, me: usize, cx: &mut Context<'_, M>, r: ResourceId) {
        let ri = r.index() as usize;
        let holds = self.procs[me].holds.get(&ri).copied().unwrap_or(0);
        let lost = self.procs[me].lost.get(&ri).copied().unwrap_or(0);
        if holds > 0 || lost == 0 || !self.chance(50) {
            return;
        }
        let now = cx.now();
        self.note(|| format!("t={now} P{me} releases r{ri}, lost to preemption"));
        self.stats.lost_releases += 1;
        let before = cx.resource_view(r).map(|v| v.in_use()).ok();
        cx.release(r);
        let after = cx.resource_view(r).map(|v| v.in_use()).ok();
        if let Some(e) = cx.take_error() {
            let d = format!("t={now}, {}: {e}", self.who(me));
            self.fail("releasing a slot lost to preemption failed", d);
        } else if before != after {
            let d = format!(
                "t={now}, {}: r{ri} in use {before:?} before, {after:?} after",
                self.who(me)
            );
            self.fail(
                "releasing a slot lost to preemption changed the slots in use",
                d,
            );
        }
        *self.procs[me].lost.get_mut(&ri).expect("lost") -= 1;
    }

    fn issue(&mut self, me: usize, now: f64, cmd: Cmd, carry: Carry) -> Cmd {
        self.note(|| format!("t={now} P{me} -> {cmd:?}"));
        self.stats.commands += 1;
        if has_pair(&cmd) {
            self.stats.same_resource_pairs += 1;
        }
        if matches!((&cmd, &carry), (Command::Resume(_), Carry::Fresh)) {
            let d = format!("t={now}, {}: {cmd:?}", self.who(me));
            self.fail("campaign bug: a Resume issued as a fresh command", d);
        }
        let ends = sleep_ends(&cmd, now);
        let line = line_of(&self.world, &cmd);
        let resumed = matches!(carry, Carry::Resumed { .. });
        let mut place = line.map(|line| Place {
            line,
            ticket: 0,
            resumed: false,
            continuous: true,
            since: now,
        });
        if let Carry::Resumed { progress, at_once } = carry {
            // Carried on at once, each sleep ends when it would have.
            if at_once && progress.ends.len() == ends.len() {
                let differ = progress
                    .ends
                    .iter()
                    .zip(&ends)
                    .any(|(a, b)| matches!((a, b), (Some(a), Some(b)) if (a - b).abs() > EPS));
                if differ {
                    let d = format!(
                        "t={now}, {}: carries on with {cmd:?}: sleeps due {ends:?}, originally {:?}",
                        self.who(me),
                        progress.ends
                    );
                    self.fail(
                        "Interrupt::resume: a carried-on sleep ends at another time than the original",
                        d,
                    );
                }
            }
            // A `Resume` goes back to the place its request had.
            if let (Command::Resume(_), Some(old), Some(new)) =
                (&cmd, progress.place, place.as_mut())
                && old.line == new.line
            {
                new.ticket = old.ticket;
                new.resumed = true;
                new.continuous = old.continuous && at_once;
                new.since = if at_once { old.since } else { now };
            }
        }
        if let Some(p) = place.as_mut()
            && p.ticket == 0
        {
            self.tickets += 1;
            p.ticket = self.tickets;
        }
        if let Some(p) = place
            && p.resumed
        {
            // Who joined the line after it did, and is still waiting in it: it goes back
            // ahead of them.
            let ahead = self.procs.iter().enumerate().any(|(i, o)| {
                i != me
                    && !o.done
                    && o.issued.is_some()
                    && o.progress
                        .place
                        .is_some_and(|q| q.line == p.line && q.ticket > p.ticket)
            });
            if ahead {
                self.stats.resumed_ahead += 1;
            }
        }
        let rec = &mut self.procs[me];
        rec.issued = Some(cmd.clone());
        rec.issued_at = now;
        rec.resumed = resumed;
        rec.progress = Progress { ends, place };
        rec.budget = rec.budget.saturating_sub(1);
        cmd
    }

    fn done(&mut self, me: usize, cx: &mut Context<'_, M>) -> Cmd {
        if self.chance(30) {
            let v = self.new_value();
            cx.exit_value(v);
        }
        let now = cx.now();
        self.note(|| format!("t={now} P{me} -> Done"));
        let rec = &mut self.procs[me];
        rec.done = true;
        rec.issued = None;
        rec.progress = Progress::default();
        Command::Done
    }

    /// A new command (after a few non-blocking actions).
    fn fresh(&mut self, me: usize, rc: &Rc<RefCell<Shared>>, cx: &mut Context<'_, M>) -> Cmd {
        let now = cx.now();
        if self.procs[me].budget == 0 {
            return self.done(me, cx);
        }
        for _ in 0..self.below(3) {
            self.instant(me, rc, cx);
        }
        let cmd = match self.weighted(&[3, 14, 4, 10, 9, 9, 6, 3, 3, 3, 5, 16, 7, 5, 10, 1]) {
            0 => return self.done(me, cx),
            1 => Command::Sleep(self.delay()),
            2 => Command::Yield,
            3 => self.get_wait(),
            4 => self.put_wait(me),
            5 => {
                let r = self.pick_resource(false);
                Command::Acquire(r)
            }
            6 => self.acquire_wait(true),
            7 => self.join_wait(me),
            8 => self.signal_wait(),
            9 => self.arrive_wait(),
            10 => self.amount_wait(),
            11 => self.first_of(me),
            12 => {
                let n = 1 + self.below(3);
                Command::AllOf(self.branches(me, n, false))
            }
            13 => self.masked_wait(me).masked(),
            14 => {
                // A single request to a line (what resuming keeps the place of).
                match self.below(3) {
                    0 => Command::Get(self.pick_queue()),
                    1 => self.put_wait(me),
                    _ => self.acquire_wait(false),
                }
            }
            _ => return self.bad(me, now),
        };
        self.issue(me, now, cmd, Carry::Fresh)
    }

    fn pick_queue(&mut self) -> QueueId {
        let i = self.below(self.world.queues.len());
        self.world.queues[i].id
    }

    /// A resource; with `ranked`, a priority or preemptive one if there is one.
    fn pick_resource(&mut self, ranked: bool) -> ResourceId {
        let ids: Vec<ResourceId> = self
            .world
            .resources
            .iter()
            .filter(|r| !ranked || r.kind != ResourceKind::Plain)
            .map(|r| r.id)
            .collect();
        if ids.is_empty() {
            let i = self.below(self.world.resources.len());
            return self.world.resources[i].id;
        }
        self.pick(&ids)
    }

    fn kind_of(&self, r: ResourceId) -> ResourceKind {
        self.world.resources[r.index() as usize].kind
    }

    fn get_wait(&mut self) -> Cmd {
        let i = self.below(self.world.queues.len());
        let q = &self.world.queues[i];
        let id = q.id;
        if q.kind == QueueKind::Filter && self.chance(70) {
            let f = self.below(self.world.filters.len());
            return Command::GetWhere(id, self.world.filters[f].filter.clone());
        }
        Command::Get(id)
    }

    /// An item for a put into `q`: one from the stash, or a new one.
    fn item_for(&mut self, me: usize, q: QueueId) -> Item {
        let x = match me {
            usize::MAX => self.new_item(),
            _ if !self.procs[me].stash.is_empty() && self.chance(50) => {
                self.procs[me].stash.pop().expect("non-empty")
            }
            _ => self.new_item(),
        };
        self.target.insert(x, q.index() as usize);
        x
    }

    fn put_wait(&mut self, me: usize) -> Cmd {
        let q = self.pick_queue();
        Command::Put(q, self.item_for(me, q))
    }

    /// An `Acquire`, or (on a priority or preemptive resource, preferred with `ranked`) an
    /// `AcquireWith`.
    fn acquire_wait(&mut self, ranked: bool) -> Cmd {
        let r = self.pick_resource(ranked);
        if self.kind_of(r) != ResourceKind::Plain && (ranked || self.chance(60)) {
            Command::AcquireWith(r, self.priority())
        } else {
            Command::Acquire(r)
        }
    }

    /// Two requests to one resource, with different priorities where it has them.
    fn pair(&mut self) -> [Cmd; 2] {
        let ranked = self.chance(80);
        let r = self.pick_resource(ranked);
        if self.kind_of(r) == ResourceKind::Plain {
            return [Command::Acquire(r), Command::Acquire(r)];
        }
        let first = if self.chance(40) {
            Command::Acquire(r)
        } else {
            Command::AcquireWith(r, self.priority())
        };
        let p1 = match &first {
            Command::AcquireWith(_, p) => *p,
            _ => Priority::new(0.0),
        };
        let mut p2 = self.priority();
        if p2 == p1 {
            p2.level -= 1.0;
        }
        [first, Command::AcquireWith(r, p2)]
    }

    fn join_wait(&mut self, me: usize) -> Cmd {
        let others: Vec<Pid> = self
            .procs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != me)
            .filter_map(|(_, r)| r.pid)
            .collect();
        if others.is_empty() {
            return Command::Sleep(self.delay());
        }
        Command::Join(self.pick(&others))
    }

    fn signal_wait(&mut self) -> Cmd {
        if self.world.signals.is_empty() {
            return Command::Sleep(self.delay());
        }
        let s = self.pick(&self.world.signals.clone());
        Command::Signal(s)
    }

    fn arrive_wait(&mut self) -> Cmd {
        if self.world.barriers.is_empty() {
            return Command::Sleep(self.delay());
        }
        let i = self.below(self.world.barriers.len());
        Command::Arrive(self.world.barriers[i].0)
    }

    /// A container, and an amount within its capacity.
    fn pick_amount(&mut self) -> Option<(ContainerId, f64)> {
        if self.world.containers.is_empty() {
            return None;
        }
        let i = self.below(self.world.containers.len());
        let (id, cap) = (self.world.containers[i].id, self.world.containers[i].cap);
        let n: f64 = self.pick(&[0.5, 1.0, 1.5, 2.0]);
        let n = n.min(cap);
        Some((id, n))
    }

    fn amount_wait(&mut self) -> Cmd {
        match self.pick_amount() {
            Some((c, n)) if self.chance(50) => Command::GetAmount(c, n),
            Some((c, n)) => Command::PutAmount(c, n),
            None => Command::Sleep(self.delay()),
        }
    }

    fn simple_wait(&mut self, me: usize) -> Cmd {
        match self.weighted(&[5, 4, 4, 5, 2, 1, 2, 2]) {
            0 => Command::Sleep(self.delay()),
            1 => self.get_wait(),
            2 => self.put_wait(me),
            3 => self.acquire_wait(false),
            4 => self.join_wait(me),
            5 => self.signal_wait(),
            6 => self.arrive_wait(),
            _ => self.amount_wait(),
        }
    }

    /// `n` simple waits (with `groups`, some of them `AllOf`s), sometimes with two requests
    /// to one resource among them.
    fn branches(&mut self, me: usize, n: usize, groups: bool) -> Branches<Item> {
        let mut bs = Branches::new();
        for _ in 0..n {
            if groups && self.chance(15) {
                let n = 2 + self.below(2);
                let inner = self.branches(me, n, false);
                bs.push(Command::AllOf(inner));
            } else {
                bs.push(self.simple_wait(me));
            }
        }
        if self.chance(30) {
            let [a, b] = self.pair();
            bs.push(a);
            bs.push(b);
        }
        bs
    }

    fn first_of(&mut self, me: usize) -> Cmd {
        let n = 1 + self.below(3);
        let mut bs = self.branches(me, n, true);
        if self.chance(50) {
            bs.push(Command::Sleep(self.delay()));
        }
        Command::FirstOf(bs)
    }

    fn masked_wait(&mut self, me: usize) -> Cmd {
        match self.weighted(&[10, 2, 2, 2, 1, 1]) {
            0 => Command::Sleep(self.delay()),
            1 => self.get_wait(),
            2 => self.acquire_wait(false),
            3 => self.put_wait(me),
            4 => self.amount_wait(),
            _ => self.signal_wait(),
        }
    }

    /// A deliberately invalid command, and the error it must fail with.
    fn bad(&mut self, me: usize, now: f64) -> Cmd {
        let plain = self
            .world
            .resources
            .iter()
            .find(|r| r.kind == ResourceKind::Plain)
            .map(|r| r.id);
        let ranked = self
            .world
            .resources
            .iter()
            .find(|r| r.kind != ResourceKind::Plain)
            .map(|r| r.id);
        let unfiltered = self
            .world
            .queues
            .iter()
            .find(|q| q.kind != QueueKind::Filter)
            .map(|q| q.id);
        let container = self.world.containers.first().map(|c| c.id);
        let activity = self.world.activities.first().map(|a| a.id);
        let me_pid = self.procs[me].pid.expect("running");
        let nested = Command::all_of([Command::Sleep(1.0), Command::all_of([Command::Sleep(1.0)])]);
        let (cmd, error) = match self.below(14) {
            0 => (Command::Sleep(-1.0), "InvalidDelay"),
            1 => (Command::first_of([]), "EmptyBranches"),
            2 => (Command::Join(me_pid), "SelfReference"),
            3 if plain.is_some() => (
                Command::AcquireWith(plain.expect("some"), Priority::new(0.0)),
                "WrongKind",
            ),
            4 if unfiltered.is_some() => (
                Command::GetWhere(
                    unfiltered.expect("some"),
                    self.world.filters[0].filter.clone(),
                ),
                "WrongKind",
            ),
            5 => (Command::all_of([]), "EmptyBranches"),
            6 => (nested, "Unsupported"),
            7 if container.is_some() => (
                Command::GetAmount(container.expect("some"), 0.0),
                "InvalidAmount",
            ),
            8 if ranked.is_some() => (
                Command::AcquireWith(ranked.expect("some"), Priority::new(f64::NAN)),
                "InvalidPriority",
            ),
            9 if activity.is_some() => (Command::Attend(activity.expect("some")), "Unsupported"),
            10 => (
                Command::first_of([Command::Sleep(1.0), Command::Sleep(2.0).masked()]),
                "Unsupported",
            ),
            11 => (
                Command::first_of([
                    Command::Sleep(1.0),
                    Command::first_of([Command::Sleep(2.0)]),
                ]),
                "Unsupported",
            ),
            12 => (Command::Sleep(f64::NAN), "InvalidDelay"),
            _ => (
                Command::all_of([Command::Sleep(1.0)]).masked(),
                "Unsupported",
            ),
        };
        self.note(|| format!("t={now} P{me} -> (invalid, must fail with {error}) {cmd:?}"));
        let rec = &mut self.procs[me];
        rec.bad = Some(error);
        rec.done = true;
        rec.issued = None;
        cmd
    }

    /// Live processes (spawned, not finished), as the engine sees them.
    fn live_pids(&self, is_finished: impl Fn(Pid) -> bool) -> Vec<Pid> {
        self.procs
            .iter()
            .filter_map(|r| r.pid)
            .filter(|p| !is_finished(*p))
            .collect()
    }

    /// A random activity over some of `live`; with its duration, deadline and a description.
    fn random_activity(&mut self, now: f64, live: &[Pid]) -> Option<(Activity, f64, Option<f64>)> {
        if live.is_empty() {
            return None;
        }
        let mut pool = live.to_vec();
        let mut ps = Vec::new();
        for _ in 0..1 + self.below(live.len().min(3)) {
            ps.push(pool.swap_remove(self.below(pool.len())));
        }
        let duration = self.pick(&[0.0, 0.5, 1.0, 2.0]);
        let d = now + self.pick(&[0.0, 0.5, 1.0, 2.5]);
        let base = Activity::new(duration);
        Some(match self.below(4) {
            0 => (base.at(d).with_all(ps), duration, Some(d)),
            1 => {
                let mut a = base.with_available(ps[0]);
                for &p in &ps[1..] {
                    a = a.with(p);
                }
                (a, duration, None)
            }
            2 => {
                let k = 1 + self.below(ps.len());
                let a = base.with_available_from(ps, k);
                if self.chance(50) {
                    (a.deadline(d), duration, Some(d))
                } else {
                    (a, duration, None)
                }
            }
            _ => (base.not_before(d).with_all(ps), duration, None),
        })
    }

    /// A non-blocking action inside a step.
    fn instant(&mut self, me: usize, rc: &Rc<RefCell<Shared>>, cx: &mut Context<'_, M>) {
        let now = cx.now();
        let pid = self.procs[me].pid.expect("running");
        match self.weighted(&[6, 2, 3, 3, 2, 4, 2, 3, 2, 1, 1]) {
            0 => {
                let rec = &self.procs[me];
                let held: Vec<usize> = rec
                    .holds
                    .iter()
                    .filter(|(r, n)| **n > rec.untold.get(r).copied().unwrap_or(0))
                    .map(|(r, _)| *r)
                    .collect();
                if held.is_empty() {
                    return;
                }
                let r = self.pick(&held);
                let rid = self.world.resources[r].id;
                // It may rely on the slot: the engine lists it as a holder.
                if !cx.resource_view(rid).is_ok_and(|v| v.is_held_by(pid)) {
                    let from = self.procs[me].woken_from.clone();
                    let d = format!(
                        "t={now}, {}: resource r{r}; it last woke from a {from} wait",
                        self.who(me)
                    );
                    self.fail(
                        "a process told it holds a slot is not among the resource's holders",
                        d,
                    );
                    return;
                }
                self.note(|| format!("t={now} P{me} release r{r}"));
                cx.release(rid);
                if let Some(e) = cx.take_error() {
                    let d = format!("t={now}, {}: r{r}: {e}", self.who(me));
                    self.fail("releasing a slot held failed", d);
                }
                *self.procs[me].holds.get_mut(&r).expect("held") -= 1;
            }
            1 => {
                let r = self.pick_resource(false);
                if cx.try_acquire(r) {
                    *self.procs[me].holds.entry(r.index() as usize).or_default() += 1;
                }
            }
            2 => {
                let q = self.pick_queue();
                let x = self.item_for(me, q);
                if let Err(x) = cx.try_put(q, x) {
                    self.procs[me].stash.push(x);
                }
            }
            3 => {
                let (Command::Get(q) | Command::GetWhere(q, _)) = self.get_wait() else {
                    unreachable!()
                };
                let i = q.index() as usize;
                let filter = (self.world.queues[i].kind == QueueKind::Filter && self.chance(50))
                    .then(|| {
                        self.world.filters[self.rng.below(self.world.filters.len() as u32) as usize]
                            .filter
                            .clone()
                    });
                let got = match &filter {
                    Some(f) => cx.try_get_where(q, f),
                    None => cx.try_get(q),
                };
                if let Some(x) = got {
                    if let Err(sig) = self.check_item_from(x, q, filter.as_ref()) {
                        let d = format!("t={now}, {}: try_get item {x}", self.who(me));
                        self.fail(format!("try_get: {sig}"), d);
                    }
                    self.receive(Some(me), x);
                }
            }
            4 => {
                if let Some((c, n)) = self.pick_amount() {
                    if self.chance(50) {
                        if cx.try_get_amount(c, n) {
                            self.levels[c.index() as usize] -= n;
                        }
                    } else if cx.try_put_amount(c, n) {
                        self.levels[c.index() as usize] += n;
                    }
                }
            }
            5 => {
                let targets: Vec<Pid> = self
                    .procs
                    .iter()
                    .enumerate()
                    .filter(|(i, r)| *i != me && !r.done)
                    .filter_map(|(_, r)| r.pid)
                    .collect();
                if !targets.is_empty() {
                    let t = self.pick(&targets);
                    let cause = 1 + self.below(5) as u32;
                    self.note(|| format!("t={now} P{me} interrupts {t} ({cause})"));
                    cx.interrupt(t, cause);
                }
            }
            6 => {
                if self.world.signals.is_empty() {
                    return;
                }
                let s = self.pick(&self.world.signals.clone());
                let (pending, fired) = cx
                    .signal_view(s)
                    .map(|v| (v.is_pending(), v.has_fired()))
                    .unwrap_or((false, false));
                if pending {
                    match self.below(3) {
                        0 => cx.trigger(s),
                        1 => {
                            let v = self.new_value();
                            cx.succeed(s, v);
                        }
                        _ => cx.fail_signal(s, "campaign"),
                    }
                } else if fired && self.chance(40) {
                    cx.reset_signal(s);
                }
            }
            7 => {
                let available = self.chance(75);
                cx.set_available(available);
            }
            8 => {
                let live = self.live_pids(|p| cx.is_finished(p).unwrap_or(true));
                if let Some((activity, duration, deadline)) = self.random_activity(now, &live) {
                    let plan = format!("{activity:?}");
                    self.note(|| format!("t={now} P{me} plans {plan}"));
                    if let Some(id) = cx.plan(activity) {
                        self.world.activities.push(ActivityInfo {
                            id,
                            duration,
                            deadline,
                            probe: false,
                            plan,
                        });
                    }
                }
            }
            9 => {
                if self.procs.len() < self.max_procs {
                    let idx = self.new_record();
                    let child = cx.spawn(Box::new(Actor {
                        me: idx,
                        shared: Rc::clone(rc),
                    }));
                    self.note(|| format!("t={now} P{me} spawns P{idx} ({child})"));
                    self.procs[idx].pid = Some(child);
                }
            }
            _ => {
                if !self.world.barriers.is_empty() {
                    let i = self.below(self.world.barriers.len());
                    cx.release_barrier(self.world.barriers[i].0);
                }
            }
        }
    }
}

// ----- the driver -----

/// Runs one random model drawn from `choices`, checking it throughout.
pub fn run_model(choices: Box<dyn Choices>, config: &Config) -> Report {
    install_panic_hook();
    CAPTURING.set(true);
    let report = Driver::new(choices, config).run();
    CAPTURING.set(false);
    ARMED.set(false);
    PLANTED.set(None);
    report
}

struct Driver {
    sim: Simulation<M>,
    shared: Rc<RefCell<Shared>>,
    trace: TraceLog,
    /// What the observer saw of the clock.
    clock: ObservedClock,
    config: Config,
    /// The clock after the last check.
    prev_now: f64,
    outside_budget: u32,
    /// Set after a panic: the run ends.
    stopped: bool,
}

impl Driver {
    fn new(mut choices: Box<dyn Choices>, config: &Config) -> Self {
        let seed = u64::from(choices.below(1000));
        let mut sim = Simulation::<M>::new(seed);
        let mut shared = Shared {
            rng: choices,
            world: World::default(),
            procs: Vec::new(),
            next_item: 0,
            next_value: 0,
            tickets: 0,
            target: BTreeMap::new(),
            received: BTreeMap::new(),
            outside_stash: Vec::new(),
            levels: Vec::new(),
            shutting_down: false,
            failures: Vec::new(),
            stats: Stats::default(),
            log: config.verbose.then(Vec::new),
            max_procs: 20,
            step: 0,
        };
        // The world.
        let s = &mut shared;
        for _ in 0..1 + s.below(4) {
            let cap = if s.chance(50) {
                None
            } else {
                Some(1 + s.below(3))
            };
            let capacity = cap.map_or(Capacity::Unbounded, Capacity::Bounded);
            let kind = s.pick(&[
                QueueKind::Fifo,
                QueueKind::Fifo,
                QueueKind::Priority,
                QueueKind::Filter,
            ]);
            let id = match kind {
                QueueKind::Fifo => sim.queue(capacity),
                QueueKind::Priority => sim.priority_queue_by(capacity, "items", compare_items),
                QueueKind::Filter => sim.filter_queue(capacity),
            }
            .expect("valid queue");
            s.world.queues.push(QueueInfo { id, kind, cap });
        }
        for _ in 0..1 + s.below(3) {
            let cap = 1 + s.below(2);
            let kind = s.pick(&[
                ResourceKind::Plain,
                ResourceKind::Priority,
                ResourceKind::Preemptive,
            ]);
            let id = match kind {
                ResourceKind::Plain => sim.resource(cap),
                ResourceKind::Priority => sim.priority_resource(cap),
                ResourceKind::Preemptive => sim.preemptive_resource(cap),
                _ => unreachable!("picked from the three kinds above"),
            }
            .expect("valid resource");
            s.world.resources.push(ResourceInfo { id, kind, cap });
        }
        for _ in 0..s.below(3) {
            let cap = s.pick(&[2.0, 4.0, f64::INFINITY]);
            let level = (s.below(9) as f64 * 0.5).min(cap);
            let id = sim.container(cap, level).expect("valid container");
            s.world.containers.push(ContainerInfo { id, cap });
            s.levels.push(level);
        }
        for _ in 0..s.below(3) {
            s.world.signals.push(sim.signal());
        }
        for _ in 0..s.below(3) {
            let parties = 1 + s.below(3);
            let id = sim.barrier(parties).expect("valid barrier");
            s.world.barriers.push((id, parties));
        }
        for (modulus, rem) in [(2, 0), (2, 1), (3, 0)] {
            let filter = Filter::new(move |x: &Item| {
                plant(PanicSource::Filter);
                x % modulus == rem
            });
            s.world.filters.push(FilterSpec {
                filter,
                modulus,
                rem,
            });
        }
        // A planted panic in about 2% of the runs.
        let planted = if s.below(50) == 49 {
            let source = s.pick(&[
                PanicSource::Process,
                PanicSource::Filter,
                PanicSource::Comparator,
                PanicSource::Observer,
            ]);
            Some((source, s.below(40) as u32))
        } else {
            None
        };
        PLANTED.set(planted);
        let outside_budget = s.below(41) as u32;
        let trace = TraceLog::new();
        let clock: ObservedClock = std::sync::Arc::new(std::sync::Mutex::new((0.0, None)));
        sim.observe(Recorder {
            log: trace.clone(),
            clock: std::sync::Arc::clone(&clock),
        });
        let shared = Rc::new(RefCell::new(shared));
        let mut driver = Driver {
            sim,
            shared,
            trace,
            clock,
            config: config.clone(),
            prev_now: 0.0,
            outside_budget,
            stopped: false,
        };
        let n = 2 + driver.shared.borrow_mut().below(11);
        for _ in 0..n {
            driver.spawn();
        }
        driver
    }

    fn sh(&self) -> std::cell::RefMut<'_, Shared> {
        self.shared.borrow_mut()
    }

    fn fail(&self, signature: impl Into<String>, detail: impl Into<String>) {
        self.sh().fail(signature, detail);
    }

    fn spawn(&mut self) {
        let idx = self.sh().new_record();
        let pid = self.sim.spawn(Box::new(Actor {
            me: idx,
            shared: Rc::clone(&self.shared),
        }));
        let mut sh = self.sh();
        sh.procs[idx].pid = Some(pid);
        let now = self.sim.now();
        sh.note(|| format!("t={now} outside: spawn P{idx} ({pid})"));
    }

    fn index_of(&self, pid: Pid) -> Option<usize> {
        self.shared
            .borrow()
            .procs
            .iter()
            .position(|r| r.pid == Some(pid))
    }

    fn run(mut self) -> Report {
        self.main_loop();
        if !self.stopped {
            self.shutdown();
        }
        let (trace, summary) = (self.trace.to_csv(), self.summary());
        let shared = Rc::clone(&self.shared);
        // The actors hold the other references: drop the simulation first.
        drop(self);
        let mut sh = shared.borrow_mut();
        Report {
            failures: std::mem::take(&mut sh.failures),
            stats: sh.stats.clone(),
            trace,
            summary,
            log: sh.log.take().unwrap_or_default(),
        }
    }

    /// Whether every event of the current instant has been processed.
    fn instant_complete(&mut self) -> bool {
        {
            let now = self.sim.now();
            self.sim.peek().is_none_or(|t| t > now)
        }
    }

    fn main_loop(&mut self) {
        let mut steps = 0;
        while !self.stopped {
            if steps >= self.config.max_steps {
                self.sh().stats.step_limits += 1;
                break;
            }
            let complete = self.instant_complete();
            if complete {
                self.check_instant(false);
                if self.sh().chance(10) {
                    self.probe();
                    continue;
                }
            }
            let quiet = self.sim.peek().is_none();
            let odds = if quiet { 80 } else { 6 };
            let outside = self.sh().chance(odds);
            if self.outside_budget > 0 && outside {
                self.outside_budget -= 1;
                self.outside();
                if !self.stopped {
                    self.check_step();
                }
                continue;
            }
            if quiet {
                break;
            }
            self.step();
            steps += 1;
        }
    }

    /// Processes one event, checking what `peek` announced.
    fn step(&mut self) {
        let now = self.sim.now();
        let before = self.sim.peek();
        if let Some(t) = before
            && t < now
        {
            self.fail(
                "an event is scheduled in the past (peek() < now())",
                format!("now {now}, peek {t}"),
            );
            // What follows is a consequence: the run ends here.
            self.stopped = true;
            return;
        }
        self.sh().step += 1;
        self.sh().stats.steps += 1;
        ARMED.set(true);
        let result = panic::catch_unwind(AssertUnwindSafe(|| self.sim.step()));
        ARMED.set(false);
        match result {
            Ok(Ok(true)) => {
                if before != Some(self.sim.now()) {
                    self.fail(
                        "step() processed an event at another time than peek() announced",
                        format!("peek {before:?}, now {} after the step", self.sim.now()),
                    );
                }
            }
            Ok(Ok(false)) => {
                if before.is_some() {
                    self.fail(
                        "step() found nothing though peek() announced an event",
                        format!("peek {before:?}"),
                    );
                }
            }
            Ok(Err(e)) => self.on_error(&e),
            Err(payload) => self.on_panic(payload.as_ref(), "step()"),
        }
        if !self.stopped {
            self.check_step();
        }
    }

    /// An error out of `step`: only a deliberately invalid command's, in its own step.
    fn on_error(&mut self, e: &Error) {
        let kind = error_kind(e);
        let who = e.origin().process.as_ref().map(|p| p.pid);
        let rec = who.and_then(|pid| self.index_of(pid));
        let mut sh = self.sh();
        match rec {
            Some(i) if sh.procs[i].bad.is_some_and(|b| b == kind) => {
                sh.procs[i].bad = None;
                sh.stats.expected_errors += 1;
                let text = e.to_string();
                sh.note(|| format!("expected error: {text}"));
            }
            _ => sh.fail(
                format!("unexpected error from the engine: {kind}"),
                e.to_string(),
            ),
        }
    }

    fn on_panic(&mut self, payload: &(dyn Any + Send), during: &str) {
        self.stopped = true;
        let text = payload_text(payload);
        let at = LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| text.clone());
        if text.starts_with(DELIBERATE) {
            self.sh().stats.planted_panics += 1;
            let source = text.trim_start_matches(DELIBERATE).trim().to_owned();
            // What the actors find in a simulation that goes on after a panic is only a
            // consequence of not poisoning it: dropped.
            let before = self.shared.borrow().failures.len();
            let again = panic::catch_unwind(AssertUnwindSafe(|| self.sim.step()));
            self.sh().failures.truncate(before);
            match again {
                Ok(Err(Error::Poisoned { .. })) => {}
                other => {
                    let got = match other {
                        Ok(r) => format!("{r:?}"),
                        Err(p) => format!("a panic: {}", payload_text(p.as_ref())),
                    };
                    self.fail(
                        format!("no poisoning after a planted panic {source} escaped {during}"),
                        format!("the next step() gave {got}"),
                    );
                }
            }
            return;
        }
        let location = at.rsplit(" at ").next().unwrap_or_default().to_owned();
        self.fail(
            format!(
                "engine panic during {during}: {} at {location}",
                normalize(&text)
            ),
            format!("t={}: {at}", self.sim.now()),
        );
    }

    /// Checks made after every step and outside call.
    fn check_step(&mut self) {
        let now = self.sim.now();
        // An actor saw the clock run backwards: what follows is a consequence.
        if self
            .shared
            .borrow()
            .failures
            .iter()
            .any(|f| f.signature == "the clock ran backwards")
        {
            self.stopped = true;
            return;
        }
        if now < self.prev_now {
            self.fail(
                "the clock ran backwards",
                format!("from {} to {now}", self.prev_now),
            );
            self.stopped = true;
            return;
        }
        // Activities record when they started and ended: never later than now (the
        // observer sees only process events, not an activity's start).
        let future = {
            let sh = self.shared.borrow();
            sh.world.activities.iter().find_map(|a| {
                let v = self.sim.activity_view(a.id).expect("own");
                let last = v.ended_at().or(v.started_at())?;
                (last > now).then_some(last)
            })
        };
        if let Some(t) = future {
            self.fail(
                "the clock ran backwards",
                format!("to {now}, after an activity started or ended at {t}"),
            );
            self.stopped = true;
            return;
        }
        if let (_, Some((from, to))) = *self
            .clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            self.fail(
                "the clock ran backwards",
                format!("from {from} to {to} (seen by the observer)"),
            );
            self.stopped = true;
            return;
        }
        if !now.is_finite() {
            self.fail("the clock is not finite", format!("{now}"));
        }
        self.prev_now = now;
        if let Some(t) = self.sim.peek()
            && t < now
        {
            self.fail(
                "an event is scheduled in the past (peek() < now())",
                format!("now {now}, peek {t}"),
            );
            self.stopped = true;
            return;
        }
        let sim = &self.sim;
        let mut sh = self.shared.borrow_mut();
        let sh = &mut *sh;
        let mut over = Vec::new();
        for r in &sh.world.resources {
            let v = sim.resource_view(r.id).expect("own resource");
            if v.in_use() > r.cap || v.capacity() != r.cap {
                over.push((
                    "a resource has more slots in use than its capacity",
                    format!("r{} in use {} of {}", r.id.index(), v.in_use(), r.cap),
                ));
            }
        }
        for q in &sh.world.queues {
            let v = sim.queue_view(q.id).expect("own queue");
            if q.cap.is_some_and(|c| v.len() > c) {
                over.push((
                    "a queue holds more items than its capacity",
                    format!("q{} has {}", q.id.index(), v.len()),
                ));
            }
        }
        for c in &sh.world.containers {
            let v = sim.container_view(c.id).expect("own container");
            if !(v.level() >= -EPS && v.level() <= c.cap + EPS) {
                over.push((
                    "a container's level is outside 0..=capacity",
                    format!("c{}: {}", c.id.index(), v.level()),
                ));
            }
        }
        for (b, parties) in &sh.world.barriers {
            let v = sim.barrier_view(*b).expect("own barrier");
            if v.waiting() >= *parties {
                over.push((
                    "a barrier holds as many waiting parties as it needs",
                    format!("b{}: {}", b.index(), v.waiting()),
                ));
            }
        }
        for (sig, d) in over {
            sh.fail(sig, format!("t={now}: {d}"));
        }
        // Deliberately invalid commands must have failed in the step that issued them.
        for i in 0..sh.procs.len() {
            if let Some(kind) = sh.procs[i].bad.take() {
                let d = format!("t={now}, {}: it must fail with {kind}", sh.who(i));
                sh.fail(
                    format!("an invalid command was accepted (expected {kind})"),
                    d,
                );
            }
        }
        // No item in two places.
        let places = item_places(sim, sh);
        for (x, at) in &places {
            if at.len() > 1 {
                sh.fail(
                    format!("an item is in two places at once: {}", at.join(" and ")),
                    format!("t={now}: item {x}"),
                );
            }
            if *x >= sh.next_item {
                sh.fail(
                    "an unknown item is in the model",
                    format!("t={now}: item {x}"),
                );
            }
        }
    }

    /// Checks that hold once every event of an instant has been processed (`strict`: at the
    /// end, when nothing may be in flight).
    fn check_instant(&mut self, strict: bool) {
        let now = self.sim.now();
        let sim = &self.sim;
        let mut sh = self.shared.borrow_mut();
        let sh = &mut *sh;
        // Items: each exactly once somewhere; in flight only inside pending `AllOf`s.
        let places = item_places(sim, sh);
        let in_groups: usize = sh
            .procs
            .iter()
            .filter(|r| !r.done)
            .filter_map(|r| r.issued.as_ref())
            .map(|c| {
                pending_all_of_waits(c)
                    .into_iter()
                    .filter(|w| matches!(w, Command::Get(_) | Command::GetWhere(..)))
                    .count()
            })
            .sum();
        let missing: Vec<Item> = (0..sh.next_item)
            .filter(|x| !places.contains_key(x))
            .collect();
        if missing.len() > if strict { 0 } else { in_groups } {
            sh.fail(
                "an item was lost: not received, queued, with a blocked putter or handed back",
                format!("t={now}: missing {missing:?} (at most {in_groups} may sit in pending AllOf gets)"),
            );
        }
        // Slots: the engine's holders are the slots the actors were told they hold.
        let mut found = Vec::new();
        for (ri, r) in sh.world.resources.iter().enumerate() {
            for h in sim.resource_view(r.id).expect("own").holders() {
                if !sh.procs.iter().any(|p| p.pid == Some(h)) {
                    found.push((
                        "an unknown process holds a slot".to_owned(),
                        format!("t={now}: r{ri} held by {h}"),
                    ));
                }
            }
        }
        for (pi, p) in sh.procs.iter().enumerate() {
            let Some(pid) = p.pid else { continue };
            for (ri, r) in sh.world.resources.iter().enumerate() {
                let engine = sim
                    .resource_view(r.id)
                    .expect("own")
                    .holders()
                    .filter(|h| *h == pid)
                    .count() as u32;
                let told = p.holds.get(&ri).copied().unwrap_or(0)
                    - p.untold.get(&ri).copied().unwrap_or(0);
                let wait = p.issued.as_ref().map_or("none".to_owned(), cmd_name);
                let d = format!(
                    "t={now}: P{pi} ({pid}) r{ri}: the engine lists {engine}, it was told {told}; its wait: {wait}"
                );
                if p.done || sim.is_finished(pid).unwrap_or(true) {
                    if engine > 0 {
                        found.push(("a finished process still holds a slot".to_owned(), d));
                    }
                } else if told > engine {
                    found.push((
                        "a process told it holds a slot is not among the resource's holders"
                            .to_owned(),
                        d,
                    ));
                } else if engine > told {
                    let allowance = if strict {
                        0
                    } else {
                        p.issued.as_ref().map_or(0, |c| {
                            pending_all_of_waits(c)
                                .into_iter()
                                .filter(|w| matches!(w, Command::Acquire(x) | Command::AcquireWith(x, _) if *x == r.id))
                                .count() as u32
                        })
                    };
                    if engine > told + allowance {
                        found.push((
                            "the engine lists a holder that was never told it got the slot"
                                .to_owned(),
                            d,
                        ));
                    }
                }
            }
        }
        // Containers: the level is what the actors were told they took and added.
        for (ci, c) in sh.world.containers.iter().enumerate() {
            let pending = !strict
                && sh.procs.iter().filter(|p| !p.done).filter_map(|p| p.issued.as_ref()).any(|cmd| {
                    pending_all_of_waits(cmd)
                        .into_iter()
                        .any(|w| matches!(w, Command::GetAmount(x, _) | Command::PutAmount(x, _) if x == c.id))
                });
            let level = sim.container_view(c.id).expect("own").level();
            if !pending && (level - sh.levels[ci]).abs() > EPS {
                found.push((
                    "a container's level is not what its users were told they took and added"
                        .to_owned(),
                    format!("t={now}: c{ci} level {level}, expected {}", sh.levels[ci]),
                ));
            }
        }
        // Activities: started by their deadline, ended on time.
        for a in &sh.world.activities {
            let v = sim.activity_view(a.id).expect("own");
            match (v.started_at(), v.ended_at()) {
                (None, _) if a.deadline.is_some_and(|d| now > d) => found.push((
                    "an activity did not start by its deadline".to_owned(),
                    format!("t={now}: {}", a.plan),
                )),
                (Some(s), None) if now > s + a.duration + EPS => found.push((
                    "an activity did not end on time".to_owned(),
                    format!("t={now}: started {s}: {}", a.plan),
                )),
                (Some(s), Some(e)) if (e - (s + a.duration)).abs() > EPS => found.push((
                    "an activity ended at another time than its start plus its duration".to_owned(),
                    format!("started {s}, ended {e}: {}", a.plan),
                )),
                _ => {}
            }
        }
        // Nothing waits that could be served.
        for q in &sh.world.queues {
            let v = sim.queue_view(q.id).expect("own");
            if q.kind != QueueKind::Filter && v.getters_waiting() > 0 && !v.is_empty() {
                found.push((
                    "a getter waits while its queue holds items".to_owned(),
                    format!("t={now}: q{}", q.id.index()),
                ));
            }
            if v.putters_waiting() > 0 && !v.is_full() {
                found.push((
                    "a putter waits while its queue has room".to_owned(),
                    format!("t={now}: q{}", q.id.index()),
                ));
            }
        }
        for r in &sh.world.resources {
            let v = sim.resource_view(r.id).expect("own");
            if v.queue_len() > 0 && v.in_use() < r.cap {
                found.push((
                    "a request waits while a slot is free".to_owned(),
                    format!("t={now}: r{}", r.id.index()),
                ));
            }
        }
        for (sig, d) in found {
            sh.fail(sig, d);
        }
    }

    /// Plans an empty activity, which re-checks every pending one: one that starts then had
    /// its start rule met without starting (it stalled).
    fn probe(&mut self) {
        let now = self.sim.now();
        self.sh().stats.probes += 1;
        let pending: Vec<usize> = {
            let sh = self.shared.borrow();
            (0..sh.world.activities.len())
                .filter(|&i| {
                    self.sim
                        .activity_view(sh.world.activities[i].id)
                        .expect("own")
                        .started_at()
                        .is_none()
                })
                .collect()
        };
        let planned = self.sim.plan(Activity::new(0.0).named("campaign-probe"));
        let mut sh = self.sh();
        sh.note(|| format!("t={now} outside: stall probe"));
        match planned {
            Ok(id) => sh.world.activities.push(ActivityInfo {
                id,
                duration: 0.0,
                deadline: Some(now),
                probe: true,
                plan: "probe".into(),
            }),
            Err(e) => sh.fail("planning an empty activity failed", e.to_string()),
        }
        for i in pending {
            let a = &sh.world.activities[i];
            if self
                .sim
                .activity_view(a.id)
                .expect("own")
                .started_at()
                .is_some()
            {
                let d = format!("t={now}: {}", a.plan);
                sh.fail(
                    "an activity stalled: its start rule held, but it started only when another activity was planned",
                    d,
                );
            }
        }
    }

    /// One outside call, chosen at random.
    fn outside(&mut self) {
        let now = self.sim.now();
        self.sh().stats.outside_calls += 1;
        let choice = self.sh().weighted(&[5, 3, 3, 3, 3, 3, 2, 2, 2]);
        let result = panic::catch_unwind(AssertUnwindSafe(|| self.outside_call(choice, now)));
        if let Err(payload) = result {
            self.on_panic(payload.as_ref(), "an outside call");
        }
    }

    fn outside_call(&mut self, choice: usize, now: f64) {
        match choice {
            0 => {
                let pids: Vec<Pid> = self
                    .shared
                    .borrow()
                    .procs
                    .iter()
                    .filter_map(|r| r.pid)
                    .collect();
                if pids.is_empty() {
                    return;
                }
                let pid = self.sh().pick(&pids);
                let finished = self.sim.is_finished(pid).expect("own pid");
                let cause = 100 + self.sh().below(5) as u32;
                self.sh()
                    .note(|| format!("t={now} outside: interrupt {pid} ({cause})"));
                match self.sim.interrupt(pid, cause) {
                    Ok(()) if !finished => {}
                    Err(Error::Finished { .. }) if finished => {}
                    other => self.fail(
                        "Simulation::interrupt answered wrongly (Finished iff the target finished)",
                        format!("t={now}: {pid} finished: {finished}, got {other:?}"),
                    ),
                }
            }
            1 => {
                let (q, x) = {
                    let mut sh = self.sh();
                    let q = sh.pick_queue();
                    (q, sh.item_for(usize::MAX, q))
                };
                let put = self.sim.context().try_put(q, x);
                let mut sh = self.sh();
                sh.note(|| format!("t={now} outside: try_put q{} item {x}: {put:?}", q.index()));
                if let Err(x) = put {
                    sh.outside_stash.push(x);
                }
            }
            2 => {
                let (q, filter) = {
                    let mut sh = self.sh();
                    let q = sh.pick_queue();
                    let filtered = sh.world.queues[q.index() as usize].kind == QueueKind::Filter;
                    let f = if filtered && sh.chance(50) {
                        let n = sh.world.filters.len();
                        let i = sh.below(n);
                        Some(sh.world.filters[i].filter.clone())
                    } else {
                        None
                    };
                    (q, f)
                };
                let got = match &filter {
                    Some(f) => self.sim.context().try_get_where(q, f),
                    None => self.sim.context().try_get(q),
                };
                let mut sh = self.sh();
                sh.note(|| format!("t={now} outside: try_get q{}: {got:?}", q.index()));
                if let Some(x) = got {
                    if let Err(sig) = sh.check_item_from(x, q, filter.as_ref()) {
                        sh.fail(
                            format!("try_get from outside: {sig}"),
                            format!("t={now}: item {x}"),
                        );
                    }
                    sh.receive(None, x);
                }
            }
            3 => {
                if self.shared.borrow().procs.len() < self.shared.borrow().max_procs {
                    self.spawn();
                }
            }
            4 => {
                let sim = &self.sim;
                let live = self
                    .shared
                    .borrow()
                    .live_pids(|p| sim.is_finished(p).unwrap_or(true));
                let planned = self.sh().random_activity(now, &live);
                if let Some((activity, duration, deadline)) = planned {
                    let plan = format!("{activity:?}");
                    let result = self.sim.plan(activity);
                    let mut sh = self.sh();
                    sh.note(|| format!("t={now} outside: plan {plan}: {result:?}"));
                    match result {
                        Ok(id) => sh.world.activities.push(ActivityInfo {
                            id,
                            duration,
                            deadline,
                            probe: false,
                            plan,
                        }),
                        Err(e) => {
                            sh.fail("planning a valid activity failed", format!("{e}: {plan}"))
                        }
                    }
                }
            }
            5 => {
                let b = {
                    let mut sh = self.sh();
                    if sh.world.barriers.is_empty() {
                        return;
                    }
                    let n = sh.world.barriers.len();
                    let i = sh.below(n);
                    sh.world.barriers[i].0
                };
                self.sh()
                    .note(|| format!("t={now} outside: release_barrier b{}", b.index()));
                let mut cx = self.sim.context();
                cx.release_barrier(b);
                if let Some(e) = cx.take_error() {
                    self.fail("release_barrier failed", e.to_string());
                }
            }
            6 => {
                let (s, how, v) = {
                    let mut sh = self.sh();
                    if sh.world.signals.is_empty() {
                        return;
                    }
                    let signals = sh.world.signals.clone();
                    let s = sh.pick(&signals);
                    (s, sh.below(4), sh.new_value())
                };
                let pending = self.sim.signal_view(s).expect("own").is_pending();
                self.sh().note(|| {
                    format!(
                        "t={now} outside: signal s{} ({how}), pending {pending}",
                        s.index()
                    )
                });
                let mut cx = self.sim.context();
                match how {
                    _ if !pending => cx.reset_signal(s),
                    0 => cx.trigger(s),
                    1 => cx.succeed(s, v),
                    2 => cx.fail_signal(s, "outside"),
                    _ => cx.reset_signal(s),
                }
                if let Some(e) = cx.take_error() {
                    self.fail("firing a pending signal failed", e.to_string());
                }
            }
            7 => {
                let picked = self.sh().pick_amount();
                if let Some((c, n)) = picked {
                    let get = self.sh().chance(50);
                    let mut cx = self.sim.context();
                    let ok = if get {
                        cx.try_get_amount(c, n)
                    } else {
                        cx.try_put_amount(c, n)
                    };
                    let error = cx.take_error();
                    let mut sh = self.sh();
                    sh.note(|| {
                        format!(
                            "t={now} outside: try_{}_amount c{} {n}: {ok}",
                            if get { "get" } else { "put" },
                            c.index()
                        )
                    });
                    if ok {
                        sh.levels[c.index() as usize] += if get { -n } else { n };
                    }
                    if let Some(e) = error {
                        sh.fail("a valid non-blocking amount failed", e.to_string());
                    }
                }
            }
            _ => {
                let dt = self.sh().pick(&[0.0, 0.5, 1.0, 2.5]);
                let until = now + dt;
                self.sh()
                    .note(|| format!("t={now} outside: run_until({until})"));
                ARMED.set(true);
                let result = panic::catch_unwind(AssertUnwindSafe(|| self.sim.run_until(until)));
                ARMED.set(false);
                match result {
                    Ok(Ok(())) => {
                        if self.sim.now() != until {
                            self.fail(
                                "run_until(t) did not leave the clock at t",
                                format!("until {until}, now {}", self.sim.now()),
                            );
                        }
                    }
                    Ok(Err(e)) => self.on_error(&e),
                    Err(payload) => self.on_panic(payload.as_ref(), "run_until()"),
                }
            }
        }
    }

    /// Interrupts every actor with [`SHUTDOWN`], drains the run, and checks the end state.
    fn shutdown(&mut self) {
        let now = self.sim.now();
        self.sh().shutting_down = true;
        self.sh().note(|| format!("t={now} outside: shutdown"));
        let pids: Vec<(usize, Pid, bool)> = self
            .shared
            .borrow()
            .procs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.pid.map(|p| (i, p, r.done)))
            .collect();
        for (i, pid, done) in pids {
            let finished = self.sim.is_finished(pid).expect("own");
            if finished != done {
                let d = format!(
                    "t={now}: P{i} ({pid}) engine finished {finished}, campaign done {done}"
                );
                self.fail(
                    "the engine and the process disagree on whether it finished",
                    d,
                );
            }
            if !finished && let Err(e) = self.sim.interrupt(pid, SHUTDOWN) {
                self.fail("interrupting a live process failed", e.to_string());
            }
        }
        let mut steps = 0;
        while !self.stopped && self.sim.peek().is_some() && steps < self.config.max_steps {
            if self.instant_complete() {
                self.check_instant(false);
            }
            self.step();
            steps += 1;
        }
        if self.stopped {
            return;
        }
        if self.sim.peek().is_some() {
            self.sh().stats.step_limits += 1;
            return;
        }
        self.probe();
        while !self.stopped && self.sim.peek().is_some() {
            self.step();
        }
        if self.stopped {
            return;
        }
        self.check_instant(true);
        let now = self.sim.now();
        let sh = self.shared.borrow();
        let mut found = Vec::new();
        for (i, r) in sh.procs.iter().enumerate() {
            let Some(pid) = r.pid else { continue };
            if !r.started {
                found.push((
                    "a spawned process never started".to_owned(),
                    format!("P{i} ({pid})"),
                ));
            } else if !r.done && !matches!(r.issued, Some(Command::Masked(_))) {
                let wait = r.issued.as_ref().map_or("none".to_owned(), cmd_name);
                found.push((
                    format!("a process outlived its shutdown interrupt in a {wait} wait (interrupt lost?)"),
                    format!("t={now}: P{i} ({pid}): {:?}", r.issued),
                ));
            }
        }
        drop(sh);
        for (sig, d) in found {
            self.fail(sig, d);
        }
    }

    /// The outcome of the run, for the determinism check.
    fn summary(&self) -> String {
        let sh = self.shared.borrow();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "now {} events {} items {}",
            self.sim.now(),
            self.sim.events(),
            sh.next_item
        );
        let _ = writeln!(out, "received {:?}", sh.received);
        let _ = writeln!(
            out,
            "outside stash {:?} levels {:?}",
            sh.outside_stash, sh.levels
        );
        for (i, r) in sh.procs.iter().enumerate() {
            let _ = writeln!(
                out,
                "P{i} {:?} done {} stash {:?} holds {:?} issued {:?}",
                r.pid, r.done, r.stash, r.holds, r.issued
            );
        }
        for q in &sh.world.queues {
            let v = self.sim.queue_view(q.id).expect("own");
            let _ = writeln!(
                out,
                "q{} {:?} blocked {:?}",
                q.id.index(),
                v.iter().collect::<Vec<_>>(),
                v.blocked_items().collect::<Vec<_>>()
            );
        }
        let sigs: Vec<&str> = sh.failures.iter().map(|f| f.signature.as_str()).collect();
        let _ = writeln!(out, "failures {sigs:?}");
        let _ = writeln!(out, "{:?}", sh.stats);
        strip_sim_ids(&out)
    }
}

/// Where each item is: in a queue, with a blocked putter, in an actor's stash or saved
/// request, in the driver's stash, received.
fn item_places(sim: &Simulation<M>, sh: &Shared) -> BTreeMap<Item, Vec<&'static str>> {
    let mut places: BTreeMap<Item, Vec<&'static str>> = BTreeMap::new();
    for q in &sh.world.queues {
        let v = sim.queue_view(q.id).expect("own queue");
        for x in v.iter() {
            places.entry(*x).or_default().push("in a queue");
        }
        for x in v.blocked_items() {
            places.entry(*x).or_default().push("with a blocked putter");
        }
    }
    for r in &sh.procs {
        for x in &r.stash {
            places.entry(*x).or_default().push("kept by a process");
        }
        for x in r
            .saved
            .as_ref()
            .map(|s| put_items(&s.command))
            .unwrap_or_default()
        {
            places.entry(x).or_default().push("in a saved request");
        }
    }
    for x in &sh.outside_stash {
        places.entry(*x).or_default().push("kept by the driver");
    }
    for x in sh.received.keys() {
        places.entry(*x).or_default().push("received");
    }
    places
}
