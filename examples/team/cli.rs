//! The command line: `key=v1,v2` sweeps and `--flags`, turned into scenarios, run, written.

use super::output::{self, Report, ScenarioReport};
use super::params::{self, Param, Params};
use super::runner::{self, RunError};
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub const USAGE: &str = "\
usage: team [key=value[,value...]]... [--reps N] [--threads N] [--json] [--csv DIR] [--svg FILE]
       team --params | --help

  key=v1,v2,...  sweep a parameter: every combination of the lists is a scenario
                 (the first key on the command line varies slowest)
  --reps N       replications per scenario (default 20), run in parallel
  --threads N    worker threads (default: every core); results do not depend on it
  --json         write one JSON document to stdout instead of the table
  --csv DIR      write scenarios.csv, replications.csv, jobs.csv, samples.csv,
                 activities.csv into DIR
  --svg FILE     plot backlog and mean age over time, one line per scenario
  --params       list every parameter with its default and meaning
";

/// What the command line asks for.
pub struct Options {
    /// Each given parameter with its values, in command-line order.
    pub sweep: Vec<(&'static Param, Vec<String>)>,
    pub reps: usize,
    pub threads: usize,
    pub json: bool,
    pub csv: Option<PathBuf>,
    pub svg: Option<PathBuf>,
    pub list_params: bool,
    pub help: bool,
}

/// Why the example stopped.
#[derive(Debug)]
pub enum AppError {
    /// A bad command line (exit status 2).
    Usage(String),
    /// A replication failed: an engine error or a broken accounting identity (status 1).
    Run(RunError),
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
            AppError::Usage(m) => write!(f, "{m}\n(see --help; --params lists the parameters)"),
            AppError::Run(e) => write!(f, "{e}"),
            AppError::Output(m) => f.write_str(m),
        }
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Output(e.to_string())
    }
}

fn usage(message: impl Into<String>) -> AppError {
    AppError::Usage(message.into())
}

/// Reads the arguments (without the program name). Every value is checked here, before
/// anything runs.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, AppError> {
    let mut options = Options {
        sweep: Vec::new(),
        reps: 20,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        json: false,
        csv: None,
        svg: None,
        list_params: false,
        help: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if let Some(flag) = arg.strip_prefix("--") {
            let (flag, inline) = match flag.split_once('=') {
                Some((f, v)) => (f, Some(v.to_owned())),
                None => (flag, None),
            };
            let mut value = |what: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| usage(format!("--{flag} needs {what}")))
            };
            match flag {
                "reps" => options.reps = whole(flag, &value("a number")?, 1)?,
                "threads" => options.threads = whole(flag, &value("a number")?, 1)?,
                "csv" => options.csv = Some(value("a directory")?.into()),
                "svg" => options.svg = Some(value("a file name")?.into()),
                "json" => options.json = true,
                "params" => options.list_params = true,
                "help" => options.help = true,
                _ => return Err(usage(format!("unknown option {arg:?}"))),
            }
        } else if arg == "-h" {
            options.help = true;
        } else {
            let Some((key, values)) = arg.split_once('=') else {
                return Err(usage(format!(
                    "{arg:?} is neither key=value nor an --option"
                )));
            };
            let param = params::find(key).map_err(usage)?;
            if options.sweep.iter().any(|(p, _)| p.name == param.name) {
                return Err(usage(format!("{key} is given twice")));
            }
            let values: Vec<String> = values.split(',').map(str::to_owned).collect();
            let mut scratch = Params::default();
            for v in &values {
                (param.set)(&mut scratch, v)
                    .map_err(|e| usage(format!("bad value for {key}: {e}")))?;
            }
            options.sweep.push((param, values));
        }
    }
    Ok(options)
}

fn whole(flag: &str, text: &str, min: usize) -> Result<usize, AppError> {
    match text.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(usage(format!(
            "--{flag} needs a whole number of at least {min}, not {text:?}"
        ))),
    }
}

/// The Cartesian product of the sweep, in command-line order (the first key varies
/// slowest), each scenario labelled by the keys that vary.
pub fn scenarios(sweep: &[(&'static Param, Vec<String>)]) -> Vec<(String, Params)> {
    let mut scenarios = vec![(Vec::<String>::new(), Params::default())];
    for (param, values) in sweep {
        let varies = values.len() > 1;
        scenarios = scenarios
            .into_iter()
            .flat_map(|(label, base)| {
                values.iter().map(move |v| {
                    let mut p = base.clone();
                    (param.set)(&mut p, v).expect("checked by parse");
                    let mut label = label.clone();
                    if varies {
                        label.push(format!("{}={v}", param.name));
                    }
                    (label, p)
                })
            })
            .collect();
    }
    // Without a varying key there is one scenario: name it by what was set, if anything.
    let fixed: Vec<String> = sweep
        .iter()
        .map(|(param, values)| format!("{}={}", param.name, values.join(",")))
        .collect();
    scenarios
        .into_iter()
        .map(|(label, p)| match (label.is_empty(), fixed.is_empty()) {
            (false, _) => (label.join(" "), p),
            (true, false) => (fixed.join(" "), p),
            (true, true) => ("defaults".to_owned(), p),
        })
        .collect()
}

/// The whole program: parse, run every replication, write the requested outputs.
pub fn run(args: impl IntoIterator<Item = String>, out: &mut dyn Write) -> Result<(), AppError> {
    let options = parse(args)?;
    if options.help {
        out.write_all(USAGE.as_bytes())?;
        return Ok(());
    }
    if options.list_params {
        out.write_all(params::listing().as_bytes())?;
        return Ok(());
    }
    let scenarios = scenarios(&options.sweep);
    let all_params: Vec<Params> = scenarios.iter().map(|(_, p)| p.clone()).collect();
    let progress = std::io::stderr().is_terminal() && scenarios.len() * options.reps > 1;
    let results = runner::run_all(&all_params, options.reps, options.threads, progress)
        .map_err(AppError::Run)?;

    let report = Report {
        reps: options.reps,
        fixed: options
            .sweep
            .iter()
            .filter(|(_, values)| values.len() == 1)
            .map(|(p, values)| format!("{}={}", p.name, values[0]))
            .collect(),
        scenarios: scenarios
            .into_iter()
            .zip(results)
            .map(|((label, params), runs)| ScenarioReport::new(label, params, runs))
            .collect(),
    };
    if options.json {
        output::json(out, &report)?;
    } else {
        output::table(out, &report)?;
    }
    if let Some(dir) = &options.csv {
        output::csv(dir, &report)
            .map_err(|e| AppError::Output(format!("writing CSV to {}: {e}", dir.display())))?;
        eprintln!(
            "wrote scenarios.csv, replications.csv, jobs.csv, samples.csv, activities.csv to {}",
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
