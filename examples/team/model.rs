//! The model's types and one replication: what queues carry ([`Job`]), what interrupts carry
//! ([`Interruption`]), the actors ([`Actor`], one enum: static dispatch, no `Box`), what they
//! share ([`Office`], with its [`Ledger`]), what the activities are for ([`Purpose`]) and
//! what became of them ([`ActivityRecord`]), and [`simulate`].

use super::coder::Coder;
use super::facilitator::Facilitator;
use super::interrupter::Interrupter;
use super::manager::Manager;
use super::metrics::{Accounting, Metrics};
use super::monitor::Monitor;
use super::params::{Interrupts, Params, Policy};
use super::tester::Tester;
use serde::{Deserialize, Serialize};
use std::cell::{OnceCell, RefCell};
use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;
use std::rc::Rc;
use stepsim::rand_distr::{Distribution, Exp, LogNormal};
use stepsim::{
    Activity, ActivityId, Capacity, Command, Context, Model, Pid, Process, QueueId, Simulation,
    Stream, Wake,
};

/// The model: queues carry [`Job`]s, interrupts carry an [`Interruption`], and the
/// simulation stores [`Actor`]s.
pub struct Team;

impl Model for Team {
    type Item = Job;
    type Cause = Interruption;
    type Proc = Actor;
}

/// Shorthand for the context every actor's `step` gets.
pub type Cx<'a> = Context<'a, Team>;

/// An actor's way to the [`Office`] it shares with the others. A saved team
/// (`checkpoint`) writes the office once, beside the simulation, not in every actor: a
/// restored actor's office is detached until [`Actor::attach`] gives it the restored one.
#[derive(Default)]
pub struct OfficeRef(Option<Rc<Office>>);

impl From<Rc<Office>> for OfficeRef {
    fn from(office: Rc<Office>) -> Self {
        OfficeRef(Some(office))
    }
}

impl Deref for OfficeRef {
    type Target = Office;

    fn deref(&self) -> &Office {
        // A panic in a step poisons the simulation, which then says where it happened.
        self.0
            .as_deref()
            .expect("a restored actor's office is attached before the run goes on")
    }
}

/// `Exp` with this mean, kept as its parameter: an actor holding it saves as it is.
/// (`rand_distr`'s distributions serialize only with a feature that brings in `serde_with`.)
#[derive(Copy, Clone, Debug, Serialize, Deserialize)]
pub struct ExpMean(pub f64);

impl ExpMean {
    pub fn sample(self, stream: &mut Stream) -> f64 {
        Exp::new(1.0 / self.0)
            .expect("the parameters check the mean")
            .sample(stream)
    }
}

/// `LN(mu, sigma)`, kept as its parameters (see [`ExpMean`]).
#[derive(Copy, Clone, Debug, Serialize, Deserialize)]
pub struct LogNormalOf(pub f64, pub f64);

impl LogNormalOf {
    pub fn sample(self, stream: &mut Stream) -> f64 {
        LogNormal::new(self.0, self.1)
            .expect("the parameters check sigma")
            .sample(stream)
    }
}

/// The kinds of work a coder does.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// A job made by the manager: the unit of the accounting identity.
    Regular,
    /// Merging someone's completed job (`t_integration > 0`).
    Integration,
    /// An interruption's work (resume and decomp modes).
    Interrupt,
    /// A piece of a regular job (decomp mode); the coder keeps the job itself.
    Fragment,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        JobKind::Regular,
        JobKind::Integration,
        JobKind::Interrupt,
        JobKind::Fragment,
    ];

    /// Rank in a coder's own queue, smallest first: interrupt jobs on top, then fragments,
    /// then rework and integration work (FIFO within a rank).
    fn rank(self) -> u8 {
        match self {
            JobKind::Interrupt => 0,
            JobKind::Fragment => 1,
            JobKind::Regular | JobKind::Integration => 2,
        }
    }
}

/// A unit of work. Deliberately not `Clone`: a job is moved from queue to coder to tester,
/// never copied, so counting the values that exist counts the jobs.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Regular jobs: the index of the job's record in the [`Ledger`]. Others: a sequence
    /// number per kind.
    pub id: u64,
    pub kind: JobKind,
    /// Work it needs (a fragment: its share of the parent).
    pub duration: f64,
    /// When it was created (a fragment: when its parent was).
    pub t_create: f64,
    /// When it last entered a queue (the `newest` policy orders by it).
    pub t_queued: f64,
    /// The coder who coded it last (rework=same sends it back there).
    pub author: Option<usize>,
    /// Regular jobs: coded by two coders together (`p_pair`), every time it is coded.
    pub pair: bool,
}

/// What an interrupter hands a coder with `cx.interrupt` (discard and resume modes).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub enum Interruption {
    /// Discard mode: drop the job in hand for good.
    Discard,
    /// Resume mode: do this interrupt job now, then resume what was put aside.
    Urgent(Job),
}

/// Every kind of process in the model: one enum, so the simulation stores them inline.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Actor {
    Manager(Manager),
    Coder(Coder),
    Tester(Tester),
    Interrupter(Interrupter),
    Monitor(Monitor),
    Facilitator(Facilitator),
}

impl Actor {
    /// Gives a restored actor the office it shares (see [`OfficeRef`]).
    pub fn attach(&mut self, office: &Rc<Office>) {
        let office = OfficeRef::from(Rc::clone(office));
        match self {
            Actor::Manager(a) => a.office = office,
            Actor::Coder(a) => a.office = office,
            Actor::Tester(a) => a.office = office,
            Actor::Interrupter(a) => a.office = office,
            Actor::Monitor(a) => a.office = office,
            Actor::Facilitator(a) => a.office = office,
        }
    }
}

impl Process<Team> for Actor {
    fn step(&mut self, cx: &mut Cx<'_>, wake: Wake<Job, Interruption>) -> Command<Job> {
        match self {
            Actor::Manager(a) => a.step(cx, wake),
            Actor::Coder(a) => a.step(cx, wake),
            Actor::Tester(a) => a.step(cx, wake),
            Actor::Interrupter(a) => a.step(cx, wake),
            Actor::Monitor(a) => a.step(cx, wake),
            Actor::Facilitator(a) => a.step(cx, wake),
        }
    }
}

/// A queue's name, as the monitor and the CSV files give it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueName {
    Shared,
    Test,
    /// A coder's own queue.
    Own(usize),
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueName::Shared => f.write_str("shared"),
            QueueName::Test => f.write_str("test"),
            QueueName::Own(i) => write!(f, "coder-{i}"),
        }
    }
}

/// Counts per [`JobKind`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally([u64; 4]);

impl Tally {
    pub fn add(&mut self, kind: JobKind) {
        self.0[kind as usize] += 1;
    }

    pub fn of(&self, kind: JobKind) -> u64 {
        self.0[kind as usize]
    }

    pub fn plus(self, other: Tally) -> Tally {
        Tally(std::array::from_fn(|k| self.0[k] + other.0[k]))
    }

    /// `self - other`, or `None` if some count would be negative.
    pub fn minus(self, other: Tally) -> Option<Tally> {
        let mut out = Tally::default();
        for k in 0..out.0.len() {
            out.0[k] = self.0[k].checked_sub(other.0[k])?;
        }
        Some(out)
    }
}

/// What happened to a regular job, as far as the run saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: u64,
    pub t_create: f64,
    pub duration: f64,
    /// When a coder first took it.
    pub t_start: Option<f64>,
    /// When it was completed or discarded.
    pub t_end: Option<f64>,
    pub fate: Fate,
    /// How many times a test sent it back.
    pub reworks: u32,
    /// The coder who coded it last.
    pub author: Option<usize>,
}

/// Where a regular job ended up.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fate {
    /// Still waiting or in progress at `t_sim`.
    Open,
    Completed,
    Discarded,
}

/// One monitor sample of one queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t: f64,
    pub queue: QueueName,
    /// Jobs waiting (of any kind).
    pub length: usize,
    /// Mean of `now - t_create` over the waiting jobs (0 when empty).
    pub mean_age: f64,
}

/// What the actors write down as the run goes.
#[derive(Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Ledger {
    /// One record per regular job, indexed by its id.
    pub jobs: Vec<JobRecord>,
    pub created: Tally,
    /// Done for good: regular jobs completed, other work finished.
    pub finished: Tally,
    pub discarded: Tally,
    /// Per desk (coders, then testers): the jobs its actor holds right now, reported by the
    /// actor after each of its steps from its own state.
    pub hands: Vec<Tally>,
    pub coder_busy: f64,
    pub tester_busy: f64,
    pub interrupts: u64,
    /// Interrupts that found their coder idle (discard mode).
    pub idle_interrupts: u64,
    /// Jobs sent with interrupts (resume mode), and those delivered: the difference waits in
    /// the engine for a coder that is in an activity (interrupts queue up until it is over).
    pub sent: Tally,
    pub delivered: Tally,
    pub reworks: u64,
    pub samples: Vec<Sample>,
    /// Every activity planned, in plan order (an activity's index is its position here),
    /// with what it is for; the engine keeps when it started and who took part.
    pub activities: Vec<(ActivityId, Purpose)>,
}

/// What an activity is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// A stand-up of every coder.
    StandUp,
    /// Pair work on regular job `job`, planned by its `author`, the coder who took it.
    Pair { job: u64, author: usize },
}

impl Purpose {
    /// How traces and `activities.csv` name it.
    pub fn label(self) -> &'static str {
        match self {
            Purpose::StandUp => "stand-up",
            Purpose::Pair { .. } => "pair",
        }
    }
}

/// What every actor shares: where the queues are, and the ledger.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Office {
    pub shared: QueueId,
    pub test: Option<QueueId>,
    /// Each coder's own (priority) queue.
    pub own: Vec<QueueId>,
    /// Every queue with its name, the shared one first.
    pub queues: Vec<(QueueName, QueueId)>,
    pub t_integration: f64,
    /// The coders' process ids, in the order of `own`: set once they are spawned.
    #[cfg_attr(feature = "serde", serde(with = "set_once"))]
    pub coders: OnceCell<Vec<Pid>>,
    pub ledger: RefCell<Ledger>,
}

impl Office {
    /// Creates the queues of a team with these parameters, and an empty ledger with a desk
    /// for every coder and tester.
    pub fn open(sim: &mut Simulation<Team>, params: &Params) -> Result<Rc<Office>, stepsim::Error> {
        let unbounded = Capacity::Unbounded;
        let shared = match params.policy {
            Policy::Oldest => sim.queue(unbounded)?,
            Policy::Newest => sim.priority_queue_by(unbounded, "newest first", newest_first)?,
            Policy::Shortest => {
                sim.priority_queue_by(unbounded, "shortest first", shortest_first)?
            }
            Policy::Longest => sim.priority_queue_by(unbounded, "longest first", longest_first)?,
        };
        let test = match params.n_tester {
            0 => None,
            _ => Some(sim.queue(unbounded)?),
        };
        let own = (0..params.n_coder)
            .map(|_| sim.priority_queue_by(unbounded, "own queue", own_order))
            .collect::<Result<Vec<_>, _>>()?;
        let mut queues = vec![(QueueName::Shared, shared)];
        queues.extend(test.map(|q| (QueueName::Test, q)));
        queues.extend(own.iter().enumerate().map(|(i, &q)| (QueueName::Own(i), q)));
        Ok(Rc::new(Office {
            shared,
            test,
            own,
            queues,
            t_integration: params.t_integration,
            coders: OnceCell::new(),
            ledger: RefCell::new(Ledger {
                hands: vec![Tally::default(); params.n_coder + params.n_tester],
                ..Ledger::default()
            }),
        }))
    }

    /// A new job of `kind`, counted as created.
    pub fn new_job(&self, kind: JobKind, duration: f64, t_create: f64) -> Job {
        let mut ledger = self.ledger.borrow_mut();
        let id = ledger.created.of(kind);
        ledger.created.add(kind);
        if kind == JobKind::Regular {
            ledger.jobs.push(JobRecord {
                id,
                t_create,
                duration,
                t_start: None,
                t_end: None,
                fate: Fate::Open,
                reworks: 0,
                author: None,
            });
        }
        Job {
            id,
            kind,
            duration,
            t_create,
            t_queued: t_create,
            author: None,
            pair: false,
        }
    }

    /// The coders' process ids, in the order of `own`.
    pub fn coders(&self) -> &[Pid] {
        self.coders
            .get()
            .expect("the coders are spawned before anyone runs")
    }

    /// Plans an activity for `purpose` and writes it down; `None` (the error recorded, so
    /// the step fails) if the engine refuses the plan.
    pub fn plan(
        &self,
        cx: &mut Cx<'_>,
        purpose: Purpose,
        activity: Activity,
    ) -> Option<ActivityId> {
        let id = cx.plan(activity.named(purpose.label()))?;
        let mut ledger = self.ledger.borrow_mut();
        debug_assert_eq!(
            id.index() as usize,
            ledger.activities.len(),
            "every activity is planned through the office"
        );
        ledger.activities.push((id, purpose));
        Some(id)
    }

    /// What an activity planned through [`plan`](Office::plan) is for.
    pub fn purpose(&self, id: ActivityId) -> Option<Purpose> {
        let ledger = self.ledger.borrow();
        let (planned, purpose) = ledger.activities.get(id.index() as usize)?;
        (*planned == id).then_some(*purpose)
    }

    /// Puts a job into a queue without waiting. Every queue is unbounded and nobody blocks
    /// in `Put`, so this cannot be refused; if it ever were, the run fails rather than lose
    /// the job quietly.
    pub fn put(&self, cx: &mut Cx<'_>, queue: QueueId, mut job: Job) {
        job.t_queued = cx.now();
        if let Err(job) = cx.try_put(queue, job) {
            cx.fail(format!("{queue} refused {:?} job {}", job.kind, job.id));
        }
    }

    /// A coder took a regular job: the first time starts its delay clock.
    pub fn started(&self, job: &Job, now: f64) {
        let record = &mut self.ledger.borrow_mut().jobs[job.id as usize];
        record.t_start.get_or_insert(now);
        record.author = job.author;
    }

    /// A regular job is complete (coded, and tested where there are testers). With
    /// `t_integration > 0` it gives every coder, its author too, an integration job.
    pub fn complete(&self, cx: &mut Cx<'_>, job: Job) {
        self.close(&job, Fate::Completed, cx.now());
        if self.t_integration > 0.0 {
            for &own in &self.own {
                let merge = self.new_job(JobKind::Integration, self.t_integration, cx.now());
                self.put(cx, own, merge);
            }
        }
    }

    /// Work other than a regular job is done.
    pub fn finished(&self, job: Job) {
        debug_assert_ne!(
            job.kind,
            JobKind::Regular,
            "regular jobs go through complete"
        );
        self.ledger.borrow_mut().finished.add(job.kind);
    }

    /// A job is abandoned for good (discard mode).
    pub fn discard(&self, job: Job, now: f64) {
        self.close(&job, Fate::Discarded, now);
    }

    fn close(&self, job: &Job, fate: Fate, now: f64) {
        let mut ledger = self.ledger.borrow_mut();
        match fate {
            Fate::Completed => ledger.finished.add(job.kind),
            Fate::Discarded => ledger.discarded.add(job.kind),
            Fate::Open => unreachable!("closing means completed or discarded"),
        }
        if job.kind == JobKind::Regular {
            let record = &mut ledger.jobs[job.id as usize];
            record.fate = fate;
            record.t_end = Some(now);
        }
    }

    /// An actor's report of the jobs it holds (after each of its steps).
    pub fn report_hands(&self, desk: usize, hands: Tally) {
        self.ledger.borrow_mut().hands[desk] = hands;
    }
}

/// The order of a coder's own queue: by [`JobKind::rank`], FIFO within a rank.
fn own_order(a: &Job, b: &Job) -> Ordering {
    a.kind.rank().cmp(&b.kind.rank())
}

fn newest_first(a: &Job, b: &Job) -> Ordering {
    b.t_queued.total_cmp(&a.t_queued)
}

fn shortest_first(a: &Job, b: &Job) -> Ordering {
    a.duration.total_cmp(&b.duration)
}

fn longest_first(a: &Job, b: &Job) -> Ordering {
    b.duration.total_cmp(&a.duration)
}

/// Why a replication failed.
#[derive(Debug)]
pub enum Failure {
    /// The engine reported an error (a model bug: an invalid command, `cx.fail`, …).
    Engine(stepsim::Error),
    /// A job went missing or appeared from nowhere.
    Accounting(String),
    /// Saving or restoring the team failed ([`simulate_with_checkpoints`]).
    #[cfg(feature = "serde")]
    Checkpoint(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Engine(e) => write!(f, "simulation error: {e}"),
            Failure::Accounting(m) => write!(f, "accounting identity broken: {m}"),
            #[cfg(feature = "serde")]
            Failure::Checkpoint(m) => write!(f, "checkpoint: {m}"),
        }
    }
}

impl From<stepsim::Error> for Failure {
    fn from(e: stepsim::Error) -> Self {
        Failure::Engine(e)
    }
}

/// What became of one activity: the engine's record, with coders named by their number.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityRecord {
    /// Its number, in plan order.
    pub id: u32,
    pub purpose: Purpose,
    /// When it was meant to start: a stand-up's time, or when pair work was planned.
    pub planned_start: f64,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    /// Everyone chosen when it started, in the order they were pulled in.
    pub attendance: Vec<Attendance>,
}

/// One coder's part in an activity.
#[derive(Clone, Debug, PartialEq)]
pub struct Attendance {
    pub coder: usize,
    /// When it joined (its summons was delivered); `None` if it never did.
    pub joined_at: Option<f64>,
    /// When it left: the activity's end.
    pub left_at: Option<f64>,
    /// `joined_at - started_at`: how long the others waited for it.
    pub lateness: Option<f64>,
    /// `left_at - joined_at`, once the activity has ended.
    pub time_spent: Option<f64>,
}

impl ActivityRecord {
    /// Reads every activity the office planned from the engine's records.
    fn read_all(sim: &Simulation<Team>, office: &Office) -> Result<Vec<Self>, stepsim::Error> {
        let coder = |pid: Pid| {
            office
                .coders()
                .iter()
                .position(|&c| c == pid)
                .expect("only coders take part in activities")
        };
        let ledger = office.ledger.borrow();
        ledger
            .activities
            .iter()
            .map(|&(id, purpose)| {
                let view = sim.activity_view(id)?;
                Ok(ActivityRecord {
                    id: id.index(),
                    purpose,
                    planned_start: view.planned_start(),
                    started_at: view.started_at(),
                    ended_at: view.ended_at(),
                    attendance: view
                        .participants()
                        .iter()
                        .map(|p| Attendance {
                            coder: coder(p.pid),
                            joined_at: p.joined_at,
                            left_at: p.left_at,
                            lateness: view.lateness(p.pid),
                            time_spent: view.time_spent(p.pid),
                        })
                        .collect(),
                })
            })
            .collect()
    }
}

/// The result of one replication.
#[derive(Clone, Debug)]
pub struct Run {
    pub seed: u64,
    pub metrics: Metrics,
    pub accounting: Accounting,
    pub jobs: Vec<JobRecord>,
    pub samples: Vec<Sample>,
    pub activities: Vec<ActivityRecord>,
}

/// Builds the team, runs it until `t_sim`, and checks that every job is accounted for.
pub fn simulate(params: &Params, seed: u64) -> Result<Run, Failure> {
    let (mut sim, office) = build(params, seed)?;
    sim.run_until(params.t_sim)?;
    finish(&sim, &office, params, seed)
}

/// The team at t = 0.
fn build(params: &Params, seed: u64) -> Result<(Simulation<Team>, Rc<Office>), Failure> {
    let mut sim = Simulation::<Team>::new(seed);
    let office = Office::open(&mut sim, params)?;

    // Spawn order is the order of the first steps at t = 0.
    let manager = Manager::new(&sim, params, office.clone());
    sim.spawn_named("manager", Actor::Manager(manager));
    let coders: Vec<_> = (0..params.n_coder)
        .map(|i| {
            let coder = Coder::new(i, params, office.clone());
            sim.spawn_named(format!("coder-{i}"), Actor::Coder(coder))
        })
        .collect();
    office.coders.set(coders.clone()).expect("set once");
    for j in 0..params.n_tester {
        let tester = Tester::new(j, params.n_coder + j, &sim, params, office.clone());
        sim.spawn_named(format!("tester-{j}"), Actor::Tester(tester));
    }
    if params.interrupts != Interrupts::None {
        let interrupter = Interrupter::new(&sim, params, coders, office.clone());
        sim.spawn_named("interrupter", Actor::Interrupter(interrupter));
    }
    let monitor = Monitor::new(params.t_monitor, office.clone());
    sim.spawn_named("monitor", Actor::Monitor(monitor));
    if params.standups() {
        let facilitator = Facilitator::new(params, office.clone());
        sim.spawn_named("facilitator", Actor::Facilitator(facilitator));
    }
    Ok((sim, office))
}

/// The replication's result, read at its end.
fn finish(
    sim: &Simulation<Team>,
    office: &Office,
    params: &Params,
    seed: u64,
) -> Result<Run, Failure> {
    let accounting = Accounting::audit(sim, office).map_err(Failure::Accounting)?;
    let activities = ActivityRecord::read_all(sim, office)?;
    let ledger = office.ledger.take();
    Ok(Run {
        seed,
        metrics: Metrics::new(params, &ledger, &activities),
        accounting,
        jobs: ledger.jobs,
        samples: ledger.samples,
        activities,
    })
}

/// Like [`simulate`], but saved and restored at each of `at` on the way: the team's state
/// (the simulation, with `stepsim::save`, and the office beside it) written to JSON, dropped,
/// read back into a fresh simulation and office, and run on. The run must end as
/// [`simulate`]'s does.
#[cfg(feature = "serde")]
pub fn simulate_with_checkpoints(params: &Params, seed: u64, at: &[f64]) -> Result<Run, Failure> {
    let (mut sim, mut office) = build(params, seed)?;
    for &t in at {
        sim.run_until(t)?;
        let json = checkpoint::save(&sim, &office).map_err(Failure::Checkpoint)?;
        drop((sim, office));
        (sim, office) = checkpoint::restore(&json).map_err(Failure::Checkpoint)?;
    }
    sim.run_until(params.t_sim)?;
    finish(&sim, &office, params, seed)
}

/// A team written to JSON and read back: the simulation and the office it shares.
#[cfg(feature = "serde")]
pub mod checkpoint {
    use super::*;
    use serde::de::Deserializer;
    use serde::ser::Serializer;
    use stepsim::save::Restore;

    /// The functions a restored team needs again: the orders of its priority queues.
    fn functions() -> Restore<Team> {
        Restore::new()
            .order("newest first", newest_first)
            .order("shortest first", shortest_first)
            .order("longest first", longest_first)
            .order("own queue", own_order)
    }

    /// The simulation, written by `Simulation::save` as a part of a larger document.
    struct Saving<'a>(&'a Simulation<Team>);

    impl Serialize for Saving<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.save(s)
        }
    }

    #[derive(Serialize)]
    struct Saved<'a> {
        office: &'a Office,
        simulation: Saving<'a>,
    }

    #[derive(Deserialize)]
    struct Restored {
        office: Office,
        #[serde(deserialize_with = "restore_simulation")]
        simulation: Simulation<Team>,
    }

    fn restore_simulation<'de, D: Deserializer<'de>>(d: D) -> Result<Simulation<Team>, D::Error> {
        Simulation::restore(d, &functions())
    }

    pub fn save(sim: &Simulation<Team>, office: &Office) -> Result<Vec<u8>, String> {
        let saved = Saved {
            office,
            simulation: Saving(sim),
        };
        serde_json::to_vec(&saved).map_err(|e| e.to_string())
    }

    pub fn restore(json: &[u8]) -> Result<(Simulation<Team>, Rc<Office>), String> {
        let Restored {
            office,
            mut simulation,
        } = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        let office = Rc::new(office);
        for (_, actor) in simulation.processes_mut() {
            actor.attach(&office);
        }
        Ok((simulation, office))
    }
}

/// `OnceCell<T>` as an `Option<T>` (serde has no impl for it).
#[cfg(feature = "serde")]
mod set_once {
    use super::*;

    pub fn serialize<T: Serialize, S: serde::Serializer>(
        cell: &OnceCell<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        cell.get().serialize(s)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<OnceCell<T>, D::Error> {
        let cell = OnceCell::new();
        if let Some(v) = Option::<T>::deserialize(d)? {
            let _ = cell.set(v);
        }
        Ok(cell)
    }
}
