//! The command line (clap): `key=v1,v2` sweeps and `--flags`, turned into a stepsim
//! [`Experiment`], run, written. Everything generic — seeds, threads, sweeps, stopping,
//! shards, merging, summaries — is `stepsim::experiment`'s; this file only wires the team's
//! parameters, model and outputs to it.

use super::model::{Run, simulate};
use super::output::{self, Report};
use super::params::Params;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use stepsim::experiment::{
    Experiment, ExperimentError, Parameters, Results, Shard, Stopping, Sweep,
};

const AFTER_HELP: &str = "\
Examples:
  team interrupts=none,discard,resume,decomp --svg team.svg
  team n_coder=2,3 --precision 2 --stop-on throughput,utilization
  team --reps 30 --shard 2/3 --json > part2.json   # one of three shards
  team --merge part1.json part2.json part3.json --json";

/// What the command line asks for.
#[derive(Parser, Debug)]
#[command(
    name = "team",
    about = "The software team model: replications of every scenario of a sweep, in parallel.",
    after_help = AFTER_HELP
)]
pub struct Options {
    /// Sweep a parameter: every combination of the lists is a scenario (the first key on
    /// the command line varies slowest). --params lists the keys.
    #[arg(value_name = "KEY=V1,V2,...")]
    pub sweep: Vec<String>,
    /// Replications per scenario, run in parallel [default: 20]
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub reps: Option<usize>,
    /// Worker threads [default: every core]; results do not depend on it
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub threads: Option<usize>,
    /// Sequential stopping: run replications until the 95% CI half-width of every
    /// --stop-on metric is within PCT% of its mean in every scenario (at most --max-reps)
    #[arg(long, value_name = "PCT", value_parser = percent, conflicts_with_all = ["reps", "shard", "rep"])]
    pub precision: Option<f64>,
    /// The metrics --precision stops on
    #[arg(
        long,
        value_name = "METRIC,...",
        value_delimiter = ',',
        default_value = "throughput"
    )]
    pub stop_on: Vec<String>,
    /// The most replications --precision runs
    #[arg(long, value_name = "N", value_parser = at_least_one, default_value = "1000")]
    pub max_reps: usize,
    /// Run only shard K of N of the (scenario, replication) tasks, and write its results
    /// as JSON to stdout, for --merge
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Merge the shard files of one experiment into exactly the report one process prints
    #[arg(long, value_name = "FILE", num_args = 1..,
          conflicts_with_all = ["sweep", "reps", "shard", "precision", "rep", "csv"])]
    pub merge: Vec<PathBuf>,
    /// Run only replication R of each scenario, with its usual seed (to rerun a failure)
    #[arg(long, value_name = "R", conflicts_with = "shard")]
    pub rep: Option<usize>,
    /// Write one JSON document to stdout instead of the table
    #[arg(long)]
    pub json: bool,
    /// Write scenarios.csv, metrics.csv, replications.csv, jobs.csv, samples.csv and
    /// activities.csv into DIR
    #[arg(long, value_name = "DIR", conflicts_with = "shard")]
    pub csv: Option<PathBuf>,
    /// Plot backlog and mean age over time, one line per scenario
    #[arg(long, value_name = "FILE", conflicts_with = "shard")]
    pub svg: Option<PathBuf>,
    /// List every parameter with its default and meaning
    #[arg(long)]
    pub params: bool,
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("needs a whole number of at least 1".to_owned()),
    }
}

fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        _ => Err("needs a percentage above 0, such as 5 or 2.5%".to_owned()),
    }
}

/// Why the example stopped.
#[derive(Debug)]
pub enum AppError {
    /// A bad command line (exit status 2).
    Usage(String),
    /// A replication failed (an engine error or a broken accounting identity), or shard
    /// files do not merge (status 1).
    Run(String),
    /// Writing the output failed (status 1).
    Output(String),
}

impl AppError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Usage(_) => 2,
            AppError::Run(_) | AppError::Output(_) => 1,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Usage(m) | AppError::Run(m) | AppError::Output(m) => f.write_str(m),
        }
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Output(e.to_string())
    }
}

fn usage(message: impl fmt::Display) -> AppError {
    AppError::Usage(format!(
        "{message}\n(see --help; --params lists the parameters)"
    ))
}

/// Reads the arguments (without the program name). `Ok(None)`: help was written to `out`.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    out: &mut dyn Write,
) -> Result<Option<Options>, AppError> {
    let args = std::iter::once("team".to_owned()).chain(args);
    match Options::try_parse_from(args) {
        Ok(options) => Ok(Some(options)),
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            writeln!(out, "{}", e.render().to_string().trim_end())?;
            Ok(None)
        }
        Err(e) => Err(AppError::Usage(
            e.render()
                .to_string()
                .trim_start_matches("error: ")
                .trim_end()
                .to_owned(),
        )),
    }
}

/// The whole program: parse, run every replication (or merge shards), write the outputs.
pub fn run(args: impl IntoIterator<Item = String>, out: &mut dyn Write) -> Result<(), AppError> {
    let Some(options) = parse(args, out)? else {
        return Ok(());
    };
    if options.params {
        out.write_all(Params::default().listing().as_bytes())?;
        return Ok(());
    }
    if !options.merge.is_empty() {
        return merge(&options, out);
    }
    let base = Params::default();
    let sweep = Sweep::parse(&base, &options.sweep).map_err(usage)?;
    if sweep.values("seed").is_some_and(|v| v.len() > 1) {
        return Err(usage(
            "seed is the base seed of every scenario (they share their replications' seeds: \
             common random numbers); give it one value",
        ));
    }
    let scenarios = sweep.scenarios(&base).map_err(usage)?;
    let seed = scenarios[0].params.seed;
    let mut experiment = Experiment::new(scenarios)
        .seed(seed)
        .reps(options.reps.unwrap_or(20));
    if let Some(threads) = options.threads {
        experiment = experiment.threads(threads);
    }
    if let Some(shard) = options.shard {
        experiment = experiment.shard(shard);
    }
    if let Some(rep) = options.rep {
        experiment = experiment.only(rep);
    }
    if let Some(pct) = options.precision {
        let stop = Stopping::new(&options.stop_on, pct / 100.0, options.max_reps);
        experiment = experiment.until(stop.min_reps(5.min(options.max_reps)));
    }
    // Hidden by indicatif when stderr is not a terminal (pipes, CI, tests).
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} replications, {eta} left")
            .expect("a valid template"),
    );
    let progress = bar.clone();
    experiment = experiment.on_progress(move |p| {
        progress.set_length(p.total as u64);
        progress.inc(1);
    });
    let results = experiment.run(simulate);
    bar.finish_and_clear();
    let results = results.map_err(|e| failed(e, &experiment, &sweep))?;

    if results.shard.is_some() {
        output::shard_json(out, &results, &sweep.fixed())?;
        return Ok(());
    }
    if let Some(met) = results.target_met {
        let pct = options.precision.unwrap_or_default();
        let metrics = options.stop_on.join(", ");
        if met {
            eprintln!(
                "{metrics}: 95% CI half-width within {pct}% of the mean after {} replications",
                results.reps
            );
        } else {
            eprintln!(
                "warning: {metrics} not within {pct}% after {} replications (--max-reps)",
                results.reps
            );
        }
    }
    write(&options, Report::new(results, sweep.fixed()), out)
}

/// A failed experiment, with the command that reruns a failed replication alone.
fn failed(e: ExperimentError, experiment: &Experiment<Params>, sweep: &Sweep) -> AppError {
    match &e {
        ExperimentError::Failed(f) => {
            let params = &experiment.scenarios()[f.scenario].params;
            let mut args: Vec<String> = sweep
                .axes()
                .iter()
                .map(|(key, _)| format!("{key}={}", params.get(key).unwrap_or_default()))
                .collect();
            args.push(format!("--rep {}", f.replication));
            AppError::Run(format!(
                "{e}\nrerun it alone: cargo run --example team -- {}",
                args.join(" ")
            ))
        }
        ExperimentError::UnknownMetric { .. } | ExperimentError::Invalid(_) => usage(e),
        _ => AppError::Run(e.to_string()),
    }
}

/// `--merge FILE...`: the shards' results, checked and combined, written as one run's.
fn merge(options: &Options, out: &mut dyn Write) -> Result<(), AppError> {
    let mut parts: Vec<Results<Params, Run>> = Vec::new();
    let mut fixed: Option<Vec<String>> = None;
    for path in &options.merge {
        let (part, part_fixed) = output::read_shard(path).map_err(AppError::Run)?;
        if fixed.as_ref().is_some_and(|f| *f != part_fixed) {
            return Err(AppError::Run(format!(
                "cannot merge: {} was run with other parameters ({})",
                path.display(),
                part_fixed.join(" ")
            )));
        }
        fixed = Some(part_fixed);
        parts.push(part);
    }
    let results = Results::merge(parts).map_err(|e| AppError::Run(e.to_string()))?;
    write(
        options,
        Report::new(results, fixed.unwrap_or_default()),
        out,
    )
}

/// The table or JSON on `out`, and the files asked for.
fn write(options: &Options, report: Report, out: &mut dyn Write) -> Result<(), AppError> {
    if options.json {
        output::json(out, &report)?;
    } else {
        output::table(out, &report)?;
    }
    if let Some(dir) = &options.csv {
        output::csv(dir, &report)
            .map_err(|e| AppError::Output(format!("writing CSV to {}: {e}", dir.display())))?;
        eprintln!(
            "wrote scenarios.csv, metrics.csv, replications.csv, jobs.csv, samples.csv, \
             activities.csv to {}",
            dir.display()
        );
    }
    if let Some(file) = &options.svg {
        output::svg(file, &report)
            .map_err(|e| AppError::Output(format!("writing {}: {e}", file.display())))?;
        eprintln!("wrote {}", file.display());
    }
    Ok(())
}
