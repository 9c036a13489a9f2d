//! Everything the example writes: the summary table (default), one JSON document
//! (`--json`), CSV tables (`--csv DIR`) and a plot (`--svg FILE`). The formats are described
//! in the example's top-level docs.

use super::metrics::{Series, Summary, summarize};
use super::model::{Purpose, Run};
use super::params::{Interrupts, PARAMS, Params};
use serde::{Serialize, Serializer};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// One scenario's results, ready to write.
pub struct ScenarioReport {
    /// The swept parameters that make this scenario, e.g. `n_coder=3 policy=newest`.
    pub label: String,
    pub params: Params,
    pub runs: Vec<Run>,
    pub summary: Vec<(&'static str, Summary)>,
    pub series: Series,
}

impl ScenarioReport {
    pub fn new(label: String, params: Params, runs: Vec<Run>) -> Self {
        let summary = summarize(&runs);
        let series = Series::mean_of(&runs);
        ScenarioReport {
            label,
            params,
            runs,
            summary,
            series,
        }
    }

    fn summary_of(&self, metric: &str) -> Option<&Summary> {
        self.summary
            .iter()
            .find(|(n, _)| *n == metric)
            .map(|(_, s)| s)
    }
}

/// Everything that was run.
pub struct Report {
    pub reps: usize,
    /// Parameters given a single value on the command line, as `key=value`.
    pub fixed: Vec<String>,
    pub scenarios: Vec<ScenarioReport>,
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
        for (name, s) in scenario
            .summary
            .iter()
            .filter(|(n, _)| applies(n, &scenario.params))
        {
            let sd = s.sd.map_or("-".to_owned(), |sd| format!("{sd:.3}"));
            let ci = s
                .ci95
                .map_or("-".to_owned(), |[lo, hi]| format!("[{lo:.3}, {hi:.3}]"));
            writeln!(out, "{name:<20} {:>10.3} {sd:>10} {ci:>23}", s.mean)?;
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
                    Some(h) => format!("{:.3} ± {h:.3}", s.mean),
                    None => format!("{:.3}", s.mean),
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
    metrics: &'a super::metrics::Metrics,
    accounting: &'a super::metrics::Accounting,
}

/// Summaries as a JSON object whose keys keep the table's order.
struct InOrder<'a>(&'a [(&'static str, Summary)]);

impl Serialize for InOrder<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
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
                    .runs
                    .iter()
                    .enumerate()
                    .map(|(rep, run)| JsonReplication {
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

// ----- CSV -----

/// `--csv DIR`: `scenarios.csv`, `replications.csv`, `jobs.csv`, `samples.csv` and
/// `activities.csv`, joined on the `scenario` (and `rep`) columns.
pub fn csv(dir: &Path, report: &Report) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let file = |name: &str| -> io::Result<io::BufWriter<std::fs::File>> {
        Ok(io::BufWriter::new(std::fs::File::create(dir.join(name))?))
    };

    let mut out = file("scenarios.csv")?;
    let names: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
    writeln!(out, "scenario,label,{}", names.join(","))?;
    for (i, s) in report.scenarios.iter().enumerate() {
        let values: Vec<String> = PARAMS.iter().map(|p| (p.get)(&s.params)).collect();
        writeln!(out, "{},{},{}", i + 1, quoted(&s.label), values.join(","))?;
    }
    out.flush()?;

    let mut out = file("replications.csv")?;
    let Some(first) = report.scenarios.first().and_then(|s| s.runs.first()) else {
        return Ok(());
    };
    let metric_names: Vec<&str> = first.metrics.values().iter().map(|(n, _)| *n).collect();
    writeln!(
        out,
        "scenario,rep,seed,{},acc_created,acc_completed,acc_discarded,acc_waiting,\
         acc_in_progress,acc_holds",
        metric_names.join(",")
    )?;
    for (i, s) in report.scenarios.iter().enumerate() {
        for (rep, run) in s.runs.iter().enumerate() {
            let values: Vec<String> = run.metrics.values().iter().map(|(_, v)| opt(*v)).collect();
            let a = &run.accounting;
            writeln!(
                out,
                "{},{rep},{},{},{},{},{},{},{},{}",
                i + 1,
                run.seed,
                values.join(","),
                a.created,
                a.completed,
                a.discarded,
                a.waiting,
                a.in_progress,
                a.holds()
            )?;
        }
    }
    out.flush()?;

    let mut out = file("jobs.csv")?;
    writeln!(
        out,
        "scenario,rep,id,t_create,duration,t_start,t_end,fate,reworks,author"
    )?;
    for (i, s) in report.scenarios.iter().enumerate() {
        for (rep, run) in s.runs.iter().enumerate() {
            for j in &run.jobs {
                writeln!(
                    out,
                    "{},{rep},{},{},{},{},{},{},{},{}",
                    i + 1,
                    j.id,
                    j.t_create,
                    j.duration,
                    opt(j.t_start),
                    opt(j.t_end),
                    format!("{:?}", j.fate).to_lowercase(),
                    j.reworks,
                    j.author.map_or(String::new(), |a| a.to_string())
                )?;
            }
        }
    }
    out.flush()?;

    let mut out = file("samples.csv")?;
    writeln!(out, "scenario,rep,t,queue,length,mean_age")?;
    for (i, s) in report.scenarios.iter().enumerate() {
        for (rep, run) in s.runs.iter().enumerate() {
            for sample in &run.samples {
                writeln!(
                    out,
                    "{},{rep},{},{},{},{}",
                    i + 1,
                    sample.t,
                    sample.queue,
                    sample.length,
                    sample.mean_age
                )?;
            }
        }
    }
    out.flush()?;

    // One row per participant of each activity (one row with empty participant columns for
    // an activity that never started).
    let mut out = file("activities.csv")?;
    writeln!(
        out,
        "scenario,rep,activity,kind,job,author,planned_start,started_at,ended_at,\
         coder,joined_at,left_at,lateness,time_spent"
    )?;
    for (i, s) in report.scenarios.iter().enumerate() {
        for (rep, run) in s.runs.iter().enumerate() {
            for a in &run.activities {
                let (job, author) = match a.purpose {
                    Purpose::StandUp => (String::new(), String::new()),
                    Purpose::Pair { job, author } => (job.to_string(), author.to_string()),
                };
                let activity = format!(
                    "{},{rep},{},{},{job},{author},{},{},{}",
                    i + 1,
                    a.id,
                    a.purpose.label(),
                    a.planned_start,
                    opt(a.started_at),
                    opt(a.ended_at)
                );
                if a.attendance.is_empty() {
                    writeln!(out, "{activity},,,,,")?;
                }
                for p in &a.attendance {
                    writeln!(
                        out,
                        "{activity},{},{},{},{},{}",
                        p.coder,
                        opt(p.joined_at),
                        opt(p.left_at),
                        opt(p.lateness),
                        opt(p.time_spent)
                    )?;
                }
            }
        }
    }
    out.flush()
}

fn opt(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
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
