//! Experiments: replications of scenarios in parallel, summaries, sequential stopping,
//! parameter sweeps and shards for batch engines.
//!
//! A model gives two things: its parameters (a scenario), and a function that runs **one
//! replication** from `(parameters, seed)` and returns what it measured (anything that is
//! [`Measured`]: it names its [`Metrics`]). An [`Experiment`] runs R replications of every
//! scenario on all cores and returns [`Results`]: every replication's output, by scenario and
//! replication number, with [`summaries`](ScenarioResults::summaries) (mean, sd, 95% CI,
//! relative half-width), [long rows](Results::rows) for CSV and a [table](Results::table).
//!
//! ```
//! use stepsim::experiment::{Experiment, Metrics, Scenario};
//! use stepsim::rand::RngExt;
//! use stepsim::{Boxed, Simulation};
//!
//! /// One replication: the mean of 100 draws of U(0, width).
//! fn replicate(width: &f64, seed: u64) -> Result<Metrics, String> {
//!     let mut rng = Simulation::<Boxed<()>>::new(seed).new_stream(1);
//!     let mean = (0..100).map(|_| rng.random::<f64>() * width).sum::<f64>() / 100.0;
//!     Ok(Metrics::new().with("mean", mean))
//! }
//!
//! let scenarios = vec![Scenario::new("narrow", 1.0), Scenario::new("wide", 2.0)];
//! let results = Experiment::new(scenarios).reps(20).seed(7).run(replicate)?;
//! let wide = &results.scenarios[1];
//! let s = &wide.summaries()[0];
//! assert_eq!((s.metric.as_str(), s.summary.n), ("mean", 20));
//! assert!((s.mean() - 1.0).abs() < 0.1 && s.relative_half_width().unwrap() < 0.1);
//! // Common random numbers: replication r has the same seed in every scenario.
//! assert_eq!(results.scenarios[0].replications[3].seed, wide.replications[3].seed);
//! println!("{}", results.table());
//! # Ok::<(), stepsim::experiment::ExperimentError>(())
//! ```
//!
//! ## What is guaranteed, and how
//! - **Threads.** Every (scenario, replication) pair is a *task*, numbered scenario-major
//!   (`scenario · R + replication`). Tasks run on [`threads`](Experiment::threads) scoped
//!   std threads (default: [`std::thread::available_parallelism`]) that take the next task
//!   number from an atomic counter; each result is stored under its task number. A
//!   replication is coarse (a whole simulation), so a shared counter costs nothing next to
//!   it, and no thread-pool crate is needed: the core keeps its five dependencies. Results are
//!   the same for any thread count and finishing order *by construction*: each task builds
//!   its own simulation from its own seed, and nothing is merged in finishing order.
//! - **Seeds.** Replication `r` runs with [`replication_seed`]`(seed, r)` (SplitMix64 of the
//!   base seed and `r`): the same in every scenario, so scenarios are compared on common
//!   random numbers, and any replication can be rerun alone ([`Experiment::only`]).
//! - **Failures.** A replication that returns `Err` or panics is a [`Failure`] naming the
//!   scenario (number and label), the replication and its seed. Once one has failed, threads
//!   take no new tasks; every task numbered below it was already taken and is finished, so the
//!   failure reported is always the *first* failing task in task order, whatever the threads.
//! - **Sequential stopping** ([`Stopping`]): replications run in rounds of a fixed batch;
//!   after each round the experiment looks, in replication order, for the first count `n`
//!   (at least `min_reps`) at which every chosen metric of every scenario has a 95% CI
//!   half-width within the target fraction of its mean, and keeps exactly the first `n`
//!   replications. So the answer depends neither on the thread count nor on the batch size.
//!   Every scenario keeps the same replications (they stay paired, on common random
//!   numbers). It cannot be sharded: the stopping decision needs every shard's results (see
//!   [`Shard`]).
//! - **Shards** ([`Shard`], [`Results::merge`]): shard `K/N` runs the tasks whose number is
//!   `K − 1` modulo `N`; merging all N shards gives exactly the results of one process.
//!   `docs/cluster.md` runs this as a Slurm job array and a Kubernetes indexed Job.
//!
//! ## Output
//! The library stays free of file-format crates: results are plain data — public fields,
//! [`rows`](Results::rows) in long format (scenario, replication, seed, metric, value) and
//! [`MetricSummary`]s — and with the `serde` feature they derive `Serialize` and
//! `Deserialize`, for `serde_json`, `csv` or anything else. [`Results::table`] is a
//! [`StatsTable`] for stdout. Progress is a callback ([`Experiment::on_progress`]); the team
//! example draws it with `indicatif`. `examples/team/` uses all of this with `clap`, `csv` and
//! `serde_json`.

mod shard;
mod sweep;

pub use shard::Shard;
pub use sweep::{Key, Parameters, Sweep};

use crate::stats::{ConfidenceInterval, StatsTable, Summary};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

/// The seed of replication `rep` when the experiment's base seed is `base`: SplitMix64 of
/// both. It does not depend on the scenario, so every scenario's replication `rep` draws the
/// same random numbers (common random numbers).
///
/// ```
/// use stepsim::experiment::replication_seed;
/// assert_eq!(replication_seed(1, 0), replication_seed(1, 0));
/// assert_ne!(replication_seed(1, 0), replication_seed(1, 1));
/// assert_ne!(replication_seed(1, 0), replication_seed(2, 0));
/// ```
pub fn replication_seed(base: u64, rep: u64) -> u64 {
    let mut z = base ^ rep.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One scenario of an experiment: a label for reports and the parameters it runs with.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Scenario<P> {
    /// How reports name it, e.g. `interrupts=resume n_coder=2` ([`Sweep`] makes these).
    pub label: String,
    /// What [the replication function](Experiment::run) is given.
    pub params: P,
}

impl<P> Scenario<P> {
    /// A scenario called `label`.
    pub fn new(label: impl Into<String>, params: P) -> Self {
        Scenario {
            label: label.into(),
            params,
        }
    }
}

/// What one replication measured: named values in a fixed order; `None` where a metric is
/// not defined in this replication (e.g. a mean over no jobs). Summaries leave out the
/// replications where a metric is `None`.
///
/// ```
/// use stepsim::experiment::Metrics;
/// let m = Metrics::new().with("throughput", 0.45).with("mean_delay", None);
/// assert_eq!(m.get("throughput"), Some(0.45));
/// assert_eq!(m.get("mean_delay"), None);
/// assert_eq!(m.iter().map(|(name, _)| name).collect::<Vec<_>>(), ["throughput", "mean_delay"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Metrics {
    values: Vec<(String, Option<f64>)>,
}

impl Metrics {
    /// No metrics yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a metric (a value, or `None` if it is not defined here).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Option<f64>>) -> Self {
        self.push(name, value);
        self
    }

    /// Adds a metric in place.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Option<f64>>) {
        self.values.push((name.into(), value.into()));
    }

    /// The value of the metric called `name` (`None` if absent or not defined).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| *v)
    }

    /// Every metric, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<f64>)> {
        self.values.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// How many metrics there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<N: Into<String>, V: Into<Option<f64>>> FromIterator<(N, V)> for Metrics {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut m = Metrics::new();
        for (n, v) in iter {
            m.push(n, v);
        }
        m
    }
}

/// The output of a replication: whatever a model returns (its records, samples, …), as long
/// as it can name its [`Metrics`], which the experiment summarizes and stops on.
pub trait Measured {
    /// The metrics of this replication, the same names in the same order every time.
    fn metrics(&self) -> Metrics;
}

impl Measured for Metrics {
    fn metrics(&self) -> Metrics {
        self.clone()
    }
}

/// How far an experiment is: `done` of `total` replications (with sequential stopping,
/// `total` is the most it may run).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Replications finished.
    pub done: usize,
    /// Replications planned.
    pub total: usize,
}

/// Sequential stopping: run replications until the 95% CI half-width of every chosen metric
/// is within `relative_half_width` of its mean (in every scenario), at most `max_reps`.
///
/// ```
/// use stepsim::experiment::{Experiment, Metrics, Scenario, Stopping};
/// use stepsim::rand::RngExt;
///
/// let run = |_: &(), seed: u64| -> Result<Metrics, String> {
///     let mut rng = stepsim::Simulation::<stepsim::Boxed<()>>::new(seed).new_stream(1);
///     Ok(Metrics::new().with("x", 10.0 + rng.random::<f64>()))
/// };
/// let stop = Stopping::new(["x"], 0.01, 500); // half-width within 1% of the mean
/// let results = Experiment::new(vec![Scenario::new("s", ())]).until(stop).run(run)?;
/// assert_eq!(results.target_met, Some(true));
/// let x = &results.scenarios[0].summaries()[0];
/// assert!(x.relative_half_width().unwrap() <= 0.01);
/// assert_eq!(results.reps, results.scenarios[0].replications.len());
/// # Ok::<(), stepsim::experiment::ExperimentError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Stopping {
    metrics: Vec<String>,
    relative_half_width: f64,
    max_reps: usize,
    min_reps: usize,
    batch: usize,
}

impl Stopping {
    /// Stop when every metric in `metrics` has `half-width ≤ relative_half_width · |mean|`
    /// (e.g. 0.05 for 5%), or after `max_reps` replications. At least 5 replications run
    /// ([`min_reps`](Self::min_reps)), in rounds of 10 ([`batch`](Self::batch)).
    pub fn new<S: Into<String>>(
        metrics: impl IntoIterator<Item = S>,
        relative_half_width: f64,
        max_reps: usize,
    ) -> Self {
        Stopping {
            metrics: metrics.into_iter().map(Into::into).collect(),
            relative_half_width,
            max_reps,
            min_reps: 5,
            batch: 10,
        }
    }

    /// The fewest replications to stop at (at least 2, for a confidence interval): a
    /// variance from very few replications is itself too noisy to trust.
    pub fn min_reps(mut self, n: usize) -> Self {
        self.min_reps = n;
        self
    }

    /// Replications per round (of every scenario). This only sets how much runs in parallel
    /// between two looks: the number of replications kept does not depend on it.
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n;
        self
    }

    /// The metrics it stops on.
    pub fn metrics(&self) -> &[String] {
        &self.metrics
    }

    /// The target: half-width relative to the mean.
    pub fn relative_half_width(&self) -> f64 {
        self.relative_half_width
    }

    /// The most replications it runs.
    pub fn max_reps(&self) -> usize {
        self.max_reps
    }
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// The replications to run for every scenario, and how: see the [module docs](self).
#[derive(Clone)]
pub struct Experiment<P> {
    scenarios: Vec<Scenario<P>>,
    reps: usize,
    seed: u64,
    threads: usize,
    shard: Option<Shard>,
    stopping: Option<Stopping>,
    only: Option<usize>,
    progress: Option<ProgressFn>,
}

impl<P: fmt::Debug> fmt::Debug for Experiment<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Experiment")
            .field("scenarios", &self.scenarios)
            .field("reps", &self.reps)
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("shard", &self.shard)
            .field("stopping", &self.stopping)
            .field("only", &self.only)
            .finish_non_exhaustive()
    }
}

impl<P> Experiment<P> {
    /// An experiment over `scenarios`: 20 replications each, base seed 1, every core.
    pub fn new(scenarios: Vec<Scenario<P>>) -> Self {
        Experiment {
            scenarios,
            reps: 20,
            seed: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            shard: None,
            stopping: None,
            only: None,
            progress: None,
        }
    }

    /// Replications per scenario.
    pub fn reps(mut self, reps: usize) -> Self {
        self.reps = reps;
        self
    }

    /// The base seed: replication `r` runs with [`replication_seed`]`(seed, r)`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Worker threads (at least 1). Results do not depend on it.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Runs only this shard's share of the tasks; [`Results::merge`] combines the shards.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = Some(shard);
        self
    }

    /// Sequential stopping instead of a fixed number of replications ([`reps`](Self::reps)
    /// is then not used). A replication that fails in a round stops the experiment, even if
    /// the target would have been met by the replications before it.
    pub fn until(mut self, stopping: Stopping) -> Self {
        self.stopping = Some(stopping);
        self
    }

    /// Runs only replication `rep` of each scenario, with its usual seed: to rerun a
    /// [`Failure`] alone (under a debugger, with tracing). The results have that one
    /// replication, numbered `rep`.
    pub fn only(mut self, rep: usize) -> Self {
        self.only = Some(rep);
        self
    }

    /// Calls `report` (from the worker threads) after every finished replication.
    pub fn on_progress(mut self, report: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(report));
        self
    }

    /// The scenarios.
    pub fn scenarios(&self) -> &[Scenario<P>] {
        &self.scenarios
    }
}

impl<P: Clone + Sync> Experiment<P> {
    /// Runs the replications: `replicate(params, seed)` runs one and returns its output or
    /// an error (which, like a panic, becomes a [`Failure`]).
    ///
    /// Errors: no scenarios or no replications, a bad [`Stopping`] or one combined with a
    /// shard ([`ExperimentError::Invalid`]), a stopping metric that no replication has
    /// ([`ExperimentError::UnknownMetric`]), or the first failing replication
    /// ([`ExperimentError::Failed`]).
    pub fn run<R, E, F>(&self, replicate: F) -> Result<Results<P, R>, ExperimentError>
    where
        R: Measured + Send,
        E: fmt::Display,
        F: Fn(&P, u64) -> Result<R, E> + Sync,
    {
        let invalid = |m: &str| Err(ExperimentError::Invalid(m.to_owned()));
        if self.scenarios.is_empty() {
            return invalid("an experiment needs at least one scenario");
        }
        let (outputs, reps, target_met) = match (&self.stopping, self.only) {
            (Some(_), Some(_)) => {
                return invalid("`only` reruns one replication: it has no sequential stopping");
            }
            (Some(stop), None) => {
                if let Some(shard) = self.shard {
                    return Err(ExperimentError::Invalid(format!(
                        "sequential stopping cannot run as shard {shard}: whether to stop \
                         depends on every shard's replications; run it in one process"
                    )));
                }
                self.run_until(stop, &replicate)?
            }
            (None, only) => {
                if self.reps == 0 {
                    return invalid("an experiment needs at least one replication");
                }
                let reps: Vec<usize> = match only {
                    Some(rep) => vec![rep],
                    None => (0..self.reps).collect(),
                };
                let tasks: Vec<(usize, usize)> = (0..self.scenarios.len())
                    .flat_map(|s| reps.iter().map(move |&r| (s, r)))
                    .filter(|&(s, r)| self.shard.is_none_or(|shard| shard.owns(s * self.reps + r)))
                    .collect();
                let counter = AtomicUsize::new(0);
                let done = self.execute(&tasks, &replicate, &counter, tasks.len())?;
                let mut outputs: Vec<Vec<Replication<R>>> =
                    self.scenarios.iter().map(|_| Vec::new()).collect();
                for ((s, _), replication) in tasks.into_iter().zip(done) {
                    outputs[s].push(replication);
                }
                let reps = if only.is_some() { 1 } else { self.reps };
                (outputs, reps, None)
            }
        };
        Ok(Results {
            seed: self.seed,
            reps,
            shard: self.shard,
            target_met,
            scenarios: self
                .scenarios
                .iter()
                .zip(outputs)
                .map(|(scenario, replications)| ScenarioResults {
                    label: scenario.label.clone(),
                    params: scenario.params.clone(),
                    replications,
                })
                .collect(),
        })
    }

    /// Sequential stopping: rounds of `batch` replications of every scenario, then the first
    /// count that meets the target, in replication order.
    #[allow(clippy::type_complexity)]
    fn run_until<R, E, F>(
        &self,
        stop: &Stopping,
        replicate: &F,
    ) -> Result<(Vec<Vec<Replication<R>>>, usize, Option<bool>), ExperimentError>
    where
        R: Measured + Send,
        E: fmt::Display,
        F: Fn(&P, u64) -> Result<R, E> + Sync,
    {
        let s = stop;
        if s.metrics.is_empty()
            || !(s.relative_half_width > 0.0 && s.relative_half_width.is_finite())
            || s.min_reps < 2
            || s.max_reps < s.min_reps
            || s.batch == 0
        {
            return Err(ExperimentError::Invalid(format!(
                "sequential stopping needs at least one metric, a target above 0, \
                 2 <= min_reps <= max_reps and a batch of at least 1 (got {} metrics, \
                 target {}, min_reps {}, max_reps {}, batch {})",
                s.metrics.len(),
                s.relative_half_width,
                s.min_reps,
                s.max_reps,
                s.batch
            )));
        }
        let n_scenarios = self.scenarios.len();
        let mut outputs: Vec<Vec<Replication<R>>> = (0..n_scenarios).map(|_| Vec::new()).collect();
        // values[scenario][chosen metric][rep]
        let mut values: Vec<Vec<Vec<Option<f64>>>> =
            vec![vec![Vec::new(); s.metrics.len()]; n_scenarios];
        let counter = AtomicUsize::new(0);
        let total = s.max_reps * n_scenarios;
        let mut next = 0;
        while next < s.max_reps {
            let end = (next + s.batch).min(s.max_reps);
            let tasks: Vec<(usize, usize)> = (0..n_scenarios)
                .flat_map(|sc| (next..end).map(move |r| (sc, r)))
                .collect();
            let done = self.execute(&tasks, replicate, &counter, total)?;
            for ((sc, _), replication) in tasks.into_iter().zip(done) {
                let metrics = replication.output.metrics();
                for (m, name) in s.metrics.iter().enumerate() {
                    if !metrics.iter().any(|(n, _)| n == name) {
                        return Err(ExperimentError::UnknownMetric {
                            metric: name.clone(),
                            known: metrics.iter().map(|(n, _)| n.to_owned()).collect(),
                        });
                    }
                    values[sc][m].push(metrics.get(name));
                }
                outputs[sc].push(replication);
            }
            for n in s.min_reps.max(next + 1)..=end {
                let met = values.iter().flatten().all(|v| {
                    Summary::of_iter(v[..n].iter().flatten().copied())
                        .and_then(|sum| sum.ci95())
                        .is_ok_and(|ci| ci.half_width <= s.relative_half_width * ci.mean.abs())
                });
                if met {
                    for o in &mut outputs {
                        o.truncate(n);
                    }
                    return Ok((outputs, n, Some(true)));
                }
            }
            next = end;
        }
        Ok((outputs, s.max_reps, Some(false)))
    }

    /// Runs `tasks` (scenario, replication) on the worker threads; their outputs in task
    /// order, or the first failure in task order.
    fn execute<R, E, F>(
        &self,
        tasks: &[(usize, usize)],
        replicate: &F,
        counter: &AtomicUsize,
        total: usize,
    ) -> Result<Vec<Replication<R>>, ExperimentError>
    where
        R: Send,
        E: fmt::Display,
        F: Fn(&P, u64) -> Result<R, E> + Sync,
    {
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let task = |i: usize| -> (u64, Result<R, (String, bool)>) {
            let (s, r) = tasks[i];
            let seed = replication_seed(self.seed, r as u64);
            let params = &self.scenarios[s].params;
            let outcome = match catch_unwind(AssertUnwindSafe(|| replicate(params, seed))) {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(e)) => Err((e.to_string(), false)),
                Err(panic) => Err((panic_message(panic.as_ref()), true)),
            };
            (seed, outcome)
        };
        type Slot<R> = Option<(u64, Result<R, (String, bool)>)>;
        let mut slots: Vec<Slot<R>> = (0..tasks.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.threads.clamp(1, tasks.len().max(1)))
                .map(|_| {
                    scope.spawn(|| {
                        let mut finished = Vec::new();
                        while !failed.load(Relaxed) {
                            let i = next.fetch_add(1, Relaxed);
                            if i >= tasks.len() {
                                break;
                            }
                            let (seed, outcome) = task(i);
                            failed.fetch_or(outcome.is_err(), Relaxed);
                            finished.push((i, (seed, outcome)));
                            let done = counter.fetch_add(1, Relaxed) + 1;
                            if let Some(report) = &self.progress {
                                report(Progress { done, total });
                            }
                        }
                        finished
                    })
                })
                .collect();
            for worker in workers {
                // A worker only panics if the progress callback does; pass that on.
                let finished = worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                for (i, outcome) in finished {
                    slots[i] = Some(outcome);
                }
            }
        });
        let mut outputs = Vec::with_capacity(tasks.len());
        for (i, slot) in slots.into_iter().enumerate() {
            let (s, r) = tasks[i];
            match slot {
                Some((seed, Ok(output))) => outputs.push(Replication {
                    index: r,
                    seed,
                    output,
                }),
                Some((seed, Err((message, panicked)))) => {
                    return Err(ExperimentError::Failed(Box::new(Failure {
                        scenario: s,
                        label: self.scenarios[s].label.clone(),
                        replication: r,
                        seed,
                        message,
                        panicked,
                    })));
                }
                // Skipped after a failure, which comes later in task order: all tasks before
                // a taken one were taken too, and taken tasks are finished.
                None => {}
            }
        }
        Ok(outputs)
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

/// One replication's output, with its number and seed.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Replication<R> {
    /// Its number `r`, from 0.
    pub index: usize,
    /// The seed it ran with: [`replication_seed`]`(base seed, r)`.
    pub seed: u64,
    /// What the replication function returned.
    pub output: R,
}

/// The replications of one scenario, in replication order.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScenarioResults<P, R> {
    /// The scenario's label.
    pub label: String,
    /// Its parameters.
    pub params: P,
    /// Its replications, by increasing number (a shard's results have its share only).
    pub replications: Vec<Replication<R>>,
}

impl<P, R: Measured> ScenarioResults<P, R> {
    /// A summary of every metric over the replications where it is defined, in the order
    /// the metrics are named (metrics defined in no replication are left out).
    pub fn summaries(&self) -> Vec<MetricSummary> {
        let per_rep: Vec<Metrics> = self
            .replications
            .iter()
            .map(|r| r.output.metrics())
            .collect();
        let mut names: Vec<&str> = Vec::new();
        for m in &per_rep {
            for (name, _) in m.iter() {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
            .into_iter()
            .filter_map(|name| MetricSummary::of(name, per_rep.iter().filter_map(|m| m.get(name))))
            .collect()
    }

    /// The summary of one metric, if it is defined in some replication.
    pub fn summary(&self, metric: &str) -> Option<MetricSummary> {
        MetricSummary::of(
            metric,
            self.replications
                .iter()
                .filter_map(|r| r.output.metrics().get(metric)),
        )
    }

    /// The summaries as a table (one row per metric), titled by the label.
    pub fn table(&self) -> StatsTable {
        self.summaries()
            .iter()
            .fold(StatsTable::new().title(self.label.clone()), |t, s| {
                t.row(s.metric.clone(), s.statistics())
            })
    }
}

/// A metric summarized over replications: a [`Summary`] (n, mean, sd, min, max) and its
/// 95% Student t confidence interval.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MetricSummary {
    /// The metric's name.
    pub metric: String,
    /// Count, mean, standard deviation, minimum and maximum.
    pub summary: Summary,
    /// The 95% confidence interval for the mean (`None` for one replication).
    pub ci95: Option<ConfidenceInterval>,
}

impl MetricSummary {
    /// The summary of `values` (`None` if there are none, or one is not finite).
    pub fn of(metric: impl Into<String>, values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let summary = Summary::of_iter(values).ok()?;
        Some(MetricSummary {
            metric: metric.into(),
            ci95: summary.ci95().ok(),
            summary,
        })
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.summary.mean
    }

    /// The sample standard deviation (`None` for one replication).
    pub fn sd(&self) -> Option<f64> {
        self.summary.std_dev
    }

    /// Half the width of the 95% confidence interval.
    pub fn half_width(&self) -> Option<f64> {
        self.ci95.map(|ci| ci.half_width)
    }

    /// The half-width relative to the mean, `half_width / |mean|` (`None` for a zero mean or
    /// one replication).
    pub fn relative_half_width(&self) -> Option<f64> {
        self.ci95.and_then(|ci| ci.relative_half_width())
    }

    /// The named statistics, for [`StatsTable`] and CSV: the [`Summary`]'s, then
    /// `ci95_low`, `ci95_high` and `ci95_rel_half_width`.
    pub fn statistics(&self) -> Vec<(&'static str, Option<f64>)> {
        let mut stats = self.summary.statistics();
        stats.extend([
            ("ci95_low", self.ci95.map(|ci| ci.lower())),
            ("ci95_high", self.ci95.map(|ci| ci.upper())),
            ("ci95_rel_half_width", self.relative_half_width()),
        ]);
        stats
    }
}

/// One value of a long-format table: which scenario, replication and seed, which metric.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LongRow {
    /// The scenario's label.
    pub scenario: String,
    /// The replication's number.
    pub replication: usize,
    /// Its seed.
    pub seed: u64,
    /// The metric's name.
    pub metric: String,
    /// Its value (`None`: not defined in this replication).
    pub value: Option<f64>,
}

/// Everything an experiment (or one shard of it) ran.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Results<P, R> {
    /// The base seed.
    pub seed: u64,
    /// Replications per scenario (for a shard, of the whole experiment; with sequential
    /// stopping, the number kept; with [`Experiment::only`], 1).
    pub reps: usize,
    /// Which shard this is (`None`: all of it, or merged).
    pub shard: Option<Shard>,
    /// With sequential stopping, whether the target was met within `max_reps`.
    pub target_met: Option<bool>,
    /// Every scenario's replications, in scenario order.
    pub scenarios: Vec<ScenarioResults<P, R>>,
}

impl<P, R: Measured> Results<P, R> {
    /// Every metric of every replication as a long-format row, by scenario, replication and
    /// metric: for a CSV (`scenario,replication,seed,metric,value`) or a data frame.
    pub fn rows(&self) -> Vec<LongRow> {
        let mut rows = Vec::new();
        for scenario in &self.scenarios {
            for rep in &scenario.replications {
                for (metric, value) in rep.output.metrics().iter() {
                    rows.push(LongRow {
                        scenario: scenario.label.clone(),
                        replication: rep.index,
                        seed: rep.seed,
                        metric: metric.to_owned(),
                        value,
                    });
                }
            }
        }
        rows
    }

    /// The summaries of every scenario as one table: rows `label: metric` (just `metric`
    /// for a single scenario).
    pub fn table(&self) -> StatsTable {
        let single = self.scenarios.len() == 1;
        let mut table = StatsTable::new();
        for scenario in &self.scenarios {
            for s in scenario.summaries() {
                let name = if single {
                    s.metric.clone()
                } else {
                    format!("{}: {}", scenario.label, s.metric)
                };
                table = table.row(name, s.statistics());
            }
        }
        table
    }
}

/// A replication that failed: which one, with what seed, and why. Rerun it alone with
/// [`Experiment::only`]`(replication)` on that scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The scenario's index (from 0).
    pub scenario: usize,
    /// The scenario's label.
    pub label: String,
    /// The replication's number.
    pub replication: usize,
    /// Its seed.
    pub seed: u64,
    /// The error it returned, or its panic message.
    pub message: String,
    /// Whether it panicked (rather than returning an error).
    pub panicked: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replication {} of scenario {} ({}), seed {}, {}: {}",
            self.replication,
            self.scenario + 1,
            self.label,
            self.seed,
            if self.panicked { "panicked" } else { "failed" },
            self.message
        )
    }
}

/// Why an experiment, a sweep, a shard or a merge could not be done.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ExperimentError {
    /// A replication failed (the first one in task order).
    Failed(Box<Failure>),
    /// A sweep names a parameter that does not exist.
    UnknownKey {
        /// The name given.
        key: String,
        /// The closest valid name, if one is close.
        suggestion: Option<String>,
        /// Every valid name.
        valid: Vec<String>,
    },
    /// A sweep gives a value its parameter does not accept.
    BadValue {
        /// The parameter.
        key: String,
        /// The value given.
        value: String,
        /// What is wrong with it, from [`Parameters::set`].
        reason: String,
    },
    /// A sweep gives a parameter twice.
    DuplicateKey(String),
    /// A sweep argument is not `key=value[,value…]`.
    NotKeyValue(String),
    /// A shard is not `K/N` with `1 <= K <= N`.
    BadShard {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Shards that do not make one experiment: duplicated, missing, or from different runs.
    Merge(String),
    /// A stopping metric that the replications do not have.
    UnknownMetric {
        /// The name given.
        metric: String,
        /// The metrics a replication has.
        known: Vec<String>,
    },
    /// A setting that cannot run (no scenarios, no replications, a bad stopping rule,
    /// stopping on a shard).
    Invalid(String),
}

impl fmt::Display for ExperimentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExperimentError::Failed(failure) => failure.fmt(f),
            ExperimentError::UnknownKey {
                key,
                suggestion,
                valid,
            } => {
                write!(f, "unknown parameter {key:?}")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean {s}?)")?;
                }
                write!(f, "; valid parameters: {}", valid.join(", "))
            }
            ExperimentError::BadValue { key, reason, .. } => {
                write!(f, "bad value for {key}: {reason}")
            }
            ExperimentError::DuplicateKey(key) => write!(f, "{key} is given twice"),
            ExperimentError::NotKeyValue(arg) => {
                write!(f, "{arg:?} is not key=value[,value...]")
            }
            ExperimentError::BadShard { text, reason } => {
                write!(f, "bad shard {text:?}: {reason}")
            }
            ExperimentError::Merge(m) => write!(f, "cannot merge: {m}"),
            ExperimentError::UnknownMetric { metric, known } => write!(
                f,
                "unknown metric {metric:?} to stop on; the metrics are: {}",
                known.join(", ")
            ),
            ExperimentError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ExperimentError {}

#[cfg(test)]
mod tests;
