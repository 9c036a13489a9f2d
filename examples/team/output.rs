//! Everything the example writes: the summary table (default), one JSON document
//! (`--json`), shard files (`--shard K/N`, read back by `--merge`), CSV tables (`--csv DIR`)
//! and a plot (`--svg FILE`). The formats are described in the example's top-level docs.
//! Summaries are stepsim's ([`MetricSummary`]); JSON goes through serde, CSV through `csv`.

use super::metrics::{Accounting, Metrics, Series};
use super::model::{Purpose, QueueName, Run, Sample};
use super::params::{Interrupts, PARAMS, Params};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;
use stepsim::experiment::{Measured, MetricSummary, Replication, Results, ScenarioResults, Shard};

/// One scenario's results, ready to write.
pub struct ScenarioReport {
    /// The swept parameters that make this scenario, e.g. `n_coder=3 policy=newest`.
    pub label: String,
    pub params: Params,
    /// The replications' numbers, in order (0, 1, … except for `--rep R`).
    pub reps: Vec<usize>,
    pub runs: Vec<Run>,
    pub summary: Vec<MetricSummary>,
    pub series: Series,
}

impl ScenarioReport {
    pub fn new(results: ScenarioResults<Params, Run>) -> Self {
        let summary = results.summaries();
        let (reps, runs): (Vec<usize>, Vec<Run>) = results
            .replications
            .into_iter()
            .map(|r| (r.index, r.output))
            .unzip();
        let series = Series::mean_of(&runs);
        ScenarioReport {
            label: results.label,
            params: results.params,
            reps,
            runs,
            summary,
            series,
        }
    }

    fn summary_of(&self, metric: &str) -> Option<&MetricSummary> {
        self.summary.iter().find(|s| s.metric == metric)
    }
}

/// Everything that was run.
pub struct Report {
    pub reps: usize,
    /// Parameters given a single value on the command line, as `key=value`.
    pub fixed: Vec<String>,
    pub scenarios: Vec<ScenarioReport>,
}

impl Report {
    /// The report of a whole (or merged) experiment.
    pub fn new(results: Results<Params, Run>, fixed: Vec<String>) -> Self {
        Report {
            reps: results.reps,
            fixed,
            scenarios: results
                .scenarios
                .into_iter()
                .map(ScenarioReport::new)
                .collect(),
        }
    }
}

// ----- the table -----

/// The default output: one block per scenario, and a comparison for sweeps.
pub fn table(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let n = report.scenarios.len();
    let mut header = format!(
        "team model: {n} scenario{} x {} replication{}",
        if n == 1 { "" } else { "s" },
        report.reps,
        if report.reps == 1 { "" } else { "s" },
    );
    // The run length and seed, unless they differ between scenarios.
    let first = &report.scenarios[0].params;
    if report
        .scenarios
        .iter()
        .all(|s| s.params.t_sim == first.t_sim)
    {
        let _ = write!(header, ", t_sim={}", first.t_sim);
    }
    if report.scenarios.iter().all(|s| s.params.seed == first.seed) {
        let _ = write!(header, ", seed={}", first.seed);
    }
    if !report.fixed.is_empty() {
        let _ = write!(header, " ({})", report.fixed.join(" "));
    }
    writeln!(out, "{header}")?;
    for (i, scenario) in report.scenarios.iter().enumerate() {
        writeln!(out)?;
        if n > 1 {
            writeln!(out, "scenario {}: {}", i + 1, scenario.label)?;
        }
        writeln!(
            out,
            "{:<20} {:>10} {:>10} {:>23}",
            "metric", "mean", "sd", "95% CI"
        )?;
        for s in scenario
            .summary
            .iter()
            .filter(|s| applies(&s.metric, &scenario.params))
        {
            let sd = s.sd().map_or("-".to_owned(), |sd| format!("{sd:.3}"));
            let ci = s.ci95.map_or("-".to_owned(), |ci| {
                format!("[{:.3}, {:.3}]", ci.lower(), ci.upper())
            });
            writeln!(out, "{:<20} {:>10.3} {sd:>10} {ci:>23}", s.metric, s.mean())?;
        }
        let held = scenario
            .runs
            .iter()
            .filter(|r| r.accounting.holds())
            .count();
        let mean_of = |f: fn(&Run) -> u64| {
            scenario.runs.iter().map(|r| f(r) as f64).sum::<f64>() / scenario.runs.len() as f64
        };
        writeln!(
            out,
            "nothing lost: created = completed + discarded + waiting + in progress \
             in {held}/{} replications",
            scenario.runs.len()
        )?;
        writeln!(
            out,
            "  (means: {:.2} = {:.2} + {:.2} + {:.2} + {:.2})",
            mean_of(|r| r.accounting.created),
            mean_of(|r| r.accounting.completed),
            mean_of(|r| r.accounting.discarded),
            mean_of(|r| r.accounting.waiting),
            mean_of(|r| r.accounting.in_progress),
        )?;
    }
    if n > 1 {
        comparison(out, report)?;
    }
    Ok(())
}

/// Whether a metric means anything in a scenario (the table leaves out those that do not;
/// JSON and CSV have them all).
fn applies(metric: &str, params: &Params) -> bool {
    match metric {
        "discarded" => params.interrupts == Interrupts::Discard,
        "interrupts" => params.interrupts != Interrupts::None,
        "reworks" => params.n_tester > 0,
        "standups" | "meeting_time" => params.standups(),
        "pairs" | "pair_time" | "pair_wait" => params.pairs(),
        _ => true,
    }
}

/// The comparison's columns: throughput, utilization and delay always; then the backlog, or,
/// where some scenario has stand-ups or pair work, the lead time and what those cost; the
/// discarded jobs where some scenario discards.
fn comparison_columns(report: &Report) -> Vec<&'static str> {
    let any = |f: fn(&Params) -> bool| report.scenarios.iter().any(|s| f(&s.params));
    let (standups, pairs) = (any(Params::standups), any(Params::pairs));
    let mut columns = vec!["throughput", "utilization", "mean_delay"];
    if standups || pairs {
        columns.push("lead_time");
    } else {
        columns.push("backlog");
    }
    if standups {
        columns.push("meeting_time");
    }
    if pairs {
        columns.extend(["pair_time", "pair_wait"]);
    }
    if any(|p| p.interrupts == Interrupts::Discard) {
        columns.push("discarded");
    }
    columns
}

/// Sweeps: one line per scenario, key metrics as mean ± half the 95% CI.
fn comparison(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let columns = comparison_columns(report);
    let width = report
        .scenarios
        .iter()
        .map(|s| s.label.len())
        .max()
        .unwrap_or(0)
        .max(8);
    writeln!(out, "\ncomparison (mean ± 95% CI half-width):")?;
    let mut line = format!("{:<width$}", "scenario");
    for c in &columns {
        let _ = write!(line, " {c:>17}");
    }
    writeln!(out, "{line}")?;
    for scenario in &report.scenarios {
        let mut line = format!("{:<width$}", scenario.label);
        for c in &columns {
            let cell = match scenario.summary_of(c) {
                Some(s) => match s.half_width() {
                    Some(h) => format!("{:.3} ± {h:.3}", s.mean()),
                    None => format!("{:.3}", s.mean()),
                },
                None => "-".to_owned(),
            };
            let _ = write!(line, " {cell:>17}");
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

// ----- JSON -----

#[derive(Serialize)]
struct JsonDocument<'a> {
    schema: &'static str,
    reps: usize,
    scenarios: Vec<JsonScenario<'a>>,
}

#[derive(Serialize)]
struct JsonScenario<'a> {
    label: &'a str,
    params: &'a Params,
    replications: Vec<JsonReplication<'a>>,
    summary: InOrder<'a>,
    series: &'a Series,
}

#[derive(Serialize)]
struct JsonReplication<'a> {
    rep: usize,
    seed: u64,
    metrics: &'a Metrics,
    accounting: &'a Accounting,
}

/// A summary as the schema has it: `{"n", "mean", "sd", "ci95": [low, high]}`.
#[derive(Serialize)]
struct JsonSummary {
    n: u64,
    mean: f64,
    sd: Option<f64>,
    ci95: Option<[f64; 2]>,
}

/// Summaries as a JSON object whose keys keep the table's order.
struct InOrder<'a>(&'a [MetricSummary]);

impl Serialize for InOrder<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|s| {
            let summary = JsonSummary {
                n: s.summary.n,
                mean: s.mean(),
                sd: s.sd(),
                ci95: s.ci95.map(|ci| [ci.lower(), ci.upper()]),
            };
            (&s.metric, summary)
        }))
    }
}

/// `--json`: the whole report as one JSON document.
pub fn json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let document = JsonDocument {
        schema: "stepsim-team/1",
        reps: report.reps,
        scenarios: report
            .scenarios
            .iter()
            .map(|s| JsonScenario {
                label: &s.label,
                params: &s.params,
                replications: s
                    .reps
                    .iter()
                    .zip(&s.runs)
                    .map(|(&rep, run)| JsonReplication {
                        rep,
                        seed: run.seed,
                        metrics: &run.metrics,
                        accounting: &run.accounting,
                    })
                    .collect(),
                summary: InOrder(&s.summary),
                series: &s.series,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

// ----- shard files -----

const SHARD_SCHEMA: &str = "stepsim-team-shard/1";

/// A shard's share of the replications, with what `--merge` needs to rebuild the report:
/// each replication's metrics, accounting and shared-queue samples (not the per-job and
/// activity records, so `--merge` cannot write `--csv`).
#[derive(Serialize, Deserialize)]
struct ShardDocument {
    schema: String,
    /// `K/N`.
    shard: String,
    seed: u64,
    reps: usize,
    fixed: Vec<String>,
    scenarios: Vec<ShardScenario>,
}

#[derive(Serialize, Deserialize)]
struct ShardScenario {
    label: String,
    params: Params,
    replications: Vec<ShardReplication>,
}

#[derive(Serialize, Deserialize)]
struct ShardReplication {
    rep: usize,
    seed: u64,
    metrics: Metrics,
    accounting: Accounting,
    /// The shared queue's samples: `[t, length, mean_age]`.
    shared: Vec<(f64, usize, f64)>,
}

/// `--shard K/N --json`: this shard's results as one JSON document, for `--merge`.
pub fn shard_json(
    out: &mut dyn Write,
    results: &Results<Params, Run>,
    fixed: &[String],
) -> io::Result<()> {
    let shard = results.shard.expect("a shard's results");
    let document = ShardDocument {
        schema: SHARD_SCHEMA.to_owned(),
        shard: shard.to_string(),
        seed: results.seed,
        reps: results.reps,
        fixed: fixed.to_vec(),
        scenarios: results
            .scenarios
            .iter()
            .map(|s| ShardScenario {
                label: s.label.clone(),
                params: s.params.clone(),
                replications: s
                    .replications
                    .iter()
                    .map(|r| ShardReplication {
                        rep: r.index,
                        seed: r.seed,
                        metrics: r.output.metrics.clone(),
                        accounting: r.output.accounting,
                        shared: r
                            .output
                            .samples
                            .iter()
                            .filter(|s| s.queue == QueueName::Shared)
                            .map(|s| (s.t, s.length, s.mean_age))
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// Reads a file written by [`shard_json`]: the shard's results, and its fixed parameters.
pub fn read_shard(path: &Path) -> Result<(Results<Params, Run>, Vec<String>), String> {
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| what(&e))?;
    #[derive(Deserialize)]
    struct Schema {
        schema: String,
    }
    let not_a_shard = |e: &dyn std::fmt::Display| {
        what(&format!(
            "not a shard file ({e}); write one with --shard K/N --json"
        ))
    };
    let schema: Schema = serde_json::from_str(&text).map_err(|e| not_a_shard(&e))?;
    if schema.schema != SHARD_SCHEMA {
        return Err(not_a_shard(&format!(
            "its schema is {:?}, not {SHARD_SCHEMA:?}",
            schema.schema
        )));
    }
    let document: ShardDocument = serde_json::from_str(&text).map_err(|e| not_a_shard(&e))?;
    let shard: Shard = document.shard.parse().map_err(|e| what(&e))?;
    let scenarios = document
        .scenarios
        .into_iter()
        .map(|s| ScenarioResults {
            label: s.label,
            params: s.params,
            replications: s
                .replications
                .into_iter()
                .map(|r| Replication {
                    index: r.rep,
                    seed: r.seed,
                    output: Run {
                        seed: r.seed,
                        metrics: r.metrics,
                        accounting: r.accounting,
                        jobs: Vec::new(),
                        samples: r
                            .shared
                            .into_iter()
                            .map(|(t, length, mean_age)| Sample {
                                t,
                                queue: QueueName::Shared,
                                length,
                                mean_age,
                            })
                            .collect(),
                        activities: Vec::new(),
                    },
                })
                .collect(),
        })
        .collect();
    let results = Results {
        seed: document.seed,
        reps: document.reps,
        shard: Some(shard),
        target_met: None,
        scenarios,
    };
    Ok((results, document.fixed))
}

// ----- CSV -----

/// `--csv DIR`: `scenarios.csv`, `metrics.csv` (long format), `replications.csv`,
/// `jobs.csv`, `samples.csv` and `activities.csv`, joined on the `scenario` (and `rep`)
/// columns.
pub fn csv(dir: &Path, report: &Report) -> Result<(), csv::Error> {
    std::fs::create_dir_all(dir)?;
    let file = |name: &str| csv::Writer::from_path(dir.join(name));
    let scenarios = || (1..).zip(&report.scenarios);
    let runs = || {
        scenarios().flat_map(|(i, s)| {
            s.reps
                .iter()
                .zip(&s.runs)
                .map(move |(&rep, run)| (i.to_string(), rep.to_string(), run))
        })
    };

    let mut out = file("scenarios.csv")?;
    let mut header = vec!["scenario", "label"];
    header.extend(PARAMS.iter().map(|p| p.name));
    out.write_record(&header)?;
    for (i, s) in scenarios() {
        let mut row = vec![i.to_string(), s.label.clone()];
        row.extend(PARAMS.iter().map(|p| (p.get)(&s.params)));
        out.write_record(&row)?;
    }
    out.flush()?;

    // Long format, one value per line: the shape stepsim's `Results::rows` has.
    let mut out = file("metrics.csv")?;
    out.write_record(["scenario", "replication", "seed", "metric", "value"])?;
    for (i, rep, run) in runs() {
        for (metric, value) in run.metrics().iter() {
            out.write_record([&i, &rep, &run.seed.to_string(), metric, &opt(value)])?;
        }
    }
    out.flush()?;

    let mut out = file("replications.csv")?;
    let Some(first) = report.scenarios.first().and_then(|s| s.runs.first()) else {
        return Ok(());
    };
    let mut header = vec!["scenario", "rep", "seed"];
    header.extend(first.metrics.values().iter().map(|(n, _)| *n));
    header.extend([
        "acc_created",
        "acc_completed",
        "acc_discarded",
        "acc_waiting",
        "acc_in_progress",
        "acc_holds",
    ]);
    out.write_record(&header)?;
    for (i, rep, run) in runs() {
        let a = &run.accounting;
        let mut row = vec![i, rep, run.seed.to_string()];
        row.extend(run.metrics.values().iter().map(|(_, v)| opt(*v)));
        row.extend([
            a.created.to_string(),
            a.completed.to_string(),
            a.discarded.to_string(),
            a.waiting.to_string(),
            a.in_progress.to_string(),
            a.holds().to_string(),
        ]);
        out.write_record(&row)?;
    }
    out.flush()?;

    let mut out = file("jobs.csv")?;
    out.write_record([
        "scenario", "rep", "id", "t_create", "duration", "t_start", "t_end", "fate", "reworks",
        "author",
    ])?;
    for (i, rep, run) in runs() {
        for j in &run.jobs {
            out.write_record([
                i.clone(),
                rep.clone(),
                j.id.to_string(),
                j.t_create.to_string(),
                j.duration.to_string(),
                opt(j.t_start),
                opt(j.t_end),
                format!("{:?}", j.fate).to_lowercase(),
                j.reworks.to_string(),
                j.author.map_or(String::new(), |a| a.to_string()),
            ])?;
        }
    }
    out.flush()?;

    let mut out = file("samples.csv")?;
    out.write_record(["scenario", "rep", "t", "queue", "length", "mean_age"])?;
    for (i, rep, run) in runs() {
        for sample in &run.samples {
            out.write_record([
                i.clone(),
                rep.clone(),
                sample.t.to_string(),
                sample.queue.to_string(),
                sample.length.to_string(),
                sample.mean_age.to_string(),
            ])?;
        }
    }
    out.flush()?;

    // One row per participant of each activity (one row with empty participant columns for
    // an activity that never started).
    let mut out = file("activities.csv")?;
    out.write_record([
        "scenario",
        "rep",
        "activity",
        "kind",
        "job",
        "author",
        "planned_start",
        "started_at",
        "ended_at",
        "coder",
        "joined_at",
        "left_at",
        "lateness",
        "time_spent",
    ])?;
    for (i, rep, run) in runs() {
        for a in &run.activities {
            let (job, author) = match a.purpose {
                Purpose::StandUp => (String::new(), String::new()),
                Purpose::Pair { job, author } => (job.to_string(), author.to_string()),
            };
            let activity = [
                i.clone(),
                rep.clone(),
                a.id.to_string(),
                a.purpose.label().to_string(),
                job,
                author,
                a.planned_start.to_string(),
                opt(a.started_at),
                opt(a.ended_at),
            ];
            if a.attendance.is_empty() {
                out.write_record(activity.iter().cloned().chain(vec![String::new(); 5]))?;
            }
            for p in &a.attendance {
                out.write_record(activity.iter().cloned().chain([
                    p.coder.to_string(),
                    opt(p.joined_at),
                    opt(p.left_at),
                    opt(p.lateness),
                    opt(p.time_spent),
                ]))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn opt(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

// ----- SVG -----

/// `--svg FILE`: backlog and mean age of the shared queue over time, averaged across
/// replications, one line per scenario.
pub fn svg(path: &Path, report: &Report) -> Result<(), String> {
    use plotters::prelude::*;

    let root = SVGBackend::new(path, (960, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let panels = root.split_evenly((2, 1));
    let t_max = report
        .scenarios
        .iter()
        .filter_map(|s| s.series.t.last())
        .fold(0.0_f64, |a, &b| a.max(b))
        .max(1.0);
    let reps = report.reps;
    type Column = fn(&Series) -> &[f64];
    let plots: [(&str, Column); 2] = [
        ("shared-queue backlog (jobs)", |s| &s.backlog),
        ("mean age of waiting jobs (ticks)", |s| &s.mean_age),
    ];
    for (panel, (title, values)) in panels.iter().zip(plots) {
        let y_max = report
            .scenarios
            .iter()
            .flat_map(|s| values(&s.series).iter().copied())
            .fold(0.0_f64, f64::max)
            .max(1e-9)
            * 1.05;
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("{title}, mean of {reps} replications"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..t_max, 0.0..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("time (ticks)")
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, scenario) in report.scenarios.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points = scenario
                .series
                .t
                .iter()
                .copied()
                .zip(values(&scenario.series).iter().copied());
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(scenario.label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}
