//! The model's parameters: one struct, one table that names, documents, parses and prints
//! every field.
//!
//! To add a parameter to your own model, add a field to [`Params`], its default to
//! `Params::default`, and one row to [`PARAMS`]: the command line, `--params`, scenario
//! labels, JSON and CSV pick it up from there. [`Params`] implements stepsim's
//! [`Parameters`] from that table, so stepsim's [`Sweep`](stepsim::experiment::Sweep) reads
//! `key=v1,v2` lists, checks them and makes the scenarios.

use serde::{Deserialize, Serialize};
use stepsim::experiment::{Key, Parameters};

/// Every knob of the team model. Names are the tutorial's, so its readers feel at home.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub n_coder: usize,
    pub n_tester: usize,
    pub t_sim: f64,
    pub t_job_interval: f64,
    pub t_job_mean: f64,
    pub t_job_std: f64,
    pub policy: Policy,
    pub interrupts: Interrupts,
    pub t_interrupt_interval: f64,
    pub t_interrupt_mean: f64,
    pub t_interrupt_std: f64,
    pub t_decomposition: f64,
    pub p_rework: f64,
    pub rework: Rework,
    pub t_integration: f64,
    pub t_standup_interval: f64,
    pub t_standup_duration: f64,
    pub p_pair: f64,
    pub t_monitor: f64,
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            n_coder: 2,
            n_tester: 0,
            t_sim: 200.0,
            t_job_interval: 2.0,
            t_job_mean: 0.5,
            t_job_std: 0.6,
            policy: Policy::Oldest,
            interrupts: Interrupts::None,
            t_interrupt_interval: 5.0,
            t_interrupt_mean: 0.2,
            t_interrupt_std: 0.1,
            t_decomposition: 0.5,
            p_rework: 0.5,
            rework: Rework::Same,
            t_integration: 0.0,
            t_standup_interval: 0.0,
            t_standup_duration: 0.0,
            p_pair: 0.0,
            t_monitor: 5.0,
            seed: 1,
        }
    }
}

/// The order in which coders take jobs from the shared queue.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// First in, first out.
    Oldest,
    /// Last in, first out (by the time a job entered the queue).
    Newest,
    /// Shortest duration first; FIFO among equals.
    Shortest,
    /// Longest duration first; FIFO among equals.
    Longest,
}

impl Params {
    /// Whether there are stand-ups: both their interval and their duration are > 0.
    pub fn standups(&self) -> bool {
        self.t_standup_interval > 0.0 && self.t_standup_duration > 0.0
    }

    /// Whether some jobs are coded in pairs: `p_pair > 0` and someone to pair with.
    pub fn pairs(&self) -> bool {
        self.p_pair > 0.0 && self.n_coder > 1
    }
}

/// How interrupts reach the coders.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interrupts {
    /// No interrupter.
    None,
    /// An interrupted coder abandons its job for good.
    Discard,
    /// An interrupted coder saves its job, does the interrupt job, then resumes.
    Resume,
    /// No process interrupt: the interrupt job jumps the coder's own queue, and long jobs
    /// are worked in fragments so that it is seen soon.
    Decomp,
}

/// Where a job that fails its test goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rework {
    /// Back to its author's own queue.
    Same,
    /// To the back of the shared queue, for any coder.
    Any,
}

/// Names and parsing of the enum-valued parameters.
trait Choice: Copy + 'static {
    const ALL: &'static [(&'static str, Self)];

    fn name(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::ALL
            .iter()
            .find(|(_, v)| *v == self)
            .map(|(n, _)| *n)
            .expect("every variant is listed")
    }

    fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == text)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!("{text:?} is not one of {}", names.join(", "))
            })
    }
}

impl Choice for Policy {
    const ALL: &'static [(&'static str, Self)] = &[
        ("oldest", Policy::Oldest),
        ("newest", Policy::Newest),
        ("shortest", Policy::Shortest),
        ("longest", Policy::Longest),
    ];
}

impl Choice for Interrupts {
    const ALL: &'static [(&'static str, Self)] = &[
        ("none", Interrupts::None),
        ("discard", Interrupts::Discard),
        ("resume", Interrupts::Resume),
        ("decomp", Interrupts::Decomp),
    ];
}

impl Choice for Rework {
    const ALL: &'static [(&'static str, Self)] = &[("same", Rework::Same), ("any", Rework::Any)];
}

/// One parameter: its name, what it means, how to read it from and write it to text.
pub struct Param {
    pub name: &'static str,
    pub meaning: &'static str,
    /// The value as text (`--params` shows the default this way; labels use it too).
    pub get: fn(&Params) -> String,
    /// Parses `text` into the field, or says what is wrong with it.
    pub set: fn(&mut Params, &str) -> Result<(), String>,
}

/// Every parameter, in the order `--params` lists them.
pub static PARAMS: [Param; 20] = [
    Param {
        name: "n_coder",
        meaning: "number of coders (at least 1)",
        get: |p| p.n_coder.to_string(),
        set: |p, v| {
            p.n_coder = count(v, 1)?;
            Ok(())
        },
    },
    Param {
        name: "n_tester",
        meaning: "number of testers (0: no test stage)",
        get: |p| p.n_tester.to_string(),
        set: |p, v| {
            p.n_tester = count(v, 0)?;
            Ok(())
        },
    },
    Param {
        name: "t_sim",
        meaning: "run length in ticks (events at exactly t_sim are not processed)",
        get: |p| p.t_sim.to_string(),
        set: |p, v| {
            p.t_sim = positive(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_job_interval",
        meaning: "mean gap between new jobs (exponential)",
        get: |p| p.t_job_interval.to_string(),
        set: |p, v| {
            p.t_job_interval = positive(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_job_mean",
        meaning: "job duration LN(mu, sigma): mu, the mean of the underlying normal \
                  (default mean duration e^(mu+sigma^2/2) = 1.974 ticks)",
        get: |p| p.t_job_mean.to_string(),
        set: |p, v| {
            p.t_job_mean = number(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_job_std",
        meaning: "job duration LN(mu, sigma): sigma, the sd of the underlying normal",
        get: |p| p.t_job_std.to_string(),
        set: |p, v| {
            p.t_job_std = non_negative(v)?;
            Ok(())
        },
    },
    Param {
        name: "policy",
        meaning: "order of the shared queue: oldest (FIFO), newest (LIFO), shortest, longest \
                  (by duration; FIFO among equals)",
        get: |p| p.policy.name().to_owned(),
        set: |p, v| {
            p.policy = Policy::parse(v)?;
            Ok(())
        },
    },
    Param {
        name: "interrupts",
        meaning: "none, discard (drop the job), resume (stack it, resume later), \
                  decomp (interrupt jobs jump the own queue; long jobs split into fragments)",
        get: |p| p.interrupts.name().to_owned(),
        set: |p, v| {
            p.interrupts = Interrupts::parse(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_interrupt_interval",
        meaning: "mean gap between interrupts for the whole team (exponential)",
        get: |p| p.t_interrupt_interval.to_string(),
        set: |p, v| {
            p.t_interrupt_interval = positive(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_interrupt_mean",
        meaning: "interrupt duration LN(mu, sigma): mu (default mean e^(0.2+0.005) = 1.228 ticks)",
        get: |p| p.t_interrupt_mean.to_string(),
        set: |p, v| {
            p.t_interrupt_mean = number(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_interrupt_std",
        meaning: "interrupt duration LN(mu, sigma): sigma",
        get: |p| p.t_interrupt_std.to_string(),
        set: |p, v| {
            p.t_interrupt_std = non_negative(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_decomposition",
        meaning: "fragment size in decomp mode",
        get: |p| p.t_decomposition.to_string(),
        set: |p, v| {
            p.t_decomposition = positive(v)?;
            Ok(())
        },
    },
    Param {
        name: "p_rework",
        meaning: "probability that a test sends a job back",
        get: |p| p.p_rework.to_string(),
        set: |p, v| {
            p.p_rework = probability(v)?;
            Ok(())
        },
    },
    Param {
        name: "rework",
        meaning: "where rework goes: same (its author's own queue) or any (back of the shared queue)",
        get: |p| p.rework.name().to_owned(),
        set: |p, v| {
            p.rework = Rework::parse(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_integration",
        meaning: "if > 0, each completed regular job gives every coder an integration job this long",
        get: |p| p.t_integration.to_string(),
        set: |p, v| {
            p.t_integration = non_negative(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_standup_interval",
        meaning: "if > 0, a stand-up of every coder starts at 0, t, 2t, ... and pulls them in \
                  from whatever they are doing (0: no stand-ups)",
        get: |p| p.t_standup_interval.to_string(),
        set: |p, v| {
            p.t_standup_interval = non_negative(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_standup_duration",
        meaning: "length of a stand-up (0: no stand-ups)",
        get: |p| p.t_standup_duration.to_string(),
        set: |p, v| {
            p.t_standup_duration = non_negative(v)?;
            Ok(())
        },
    },
    Param {
        name: "p_pair",
        meaning: "fraction of regular jobs coded in pairs: the coder who takes one works on \
                  other jobs until another coder is idle, then both code it for its whole \
                  duration (none with one coder)",
        get: |p| p.p_pair.to_string(),
        set: |p, v| {
            p.p_pair = probability(v)?;
            Ok(())
        },
    },
    Param {
        name: "t_monitor",
        meaning: "sampling period of the monitor",
        get: |p| p.t_monitor.to_string(),
        set: |p, v| {
            p.t_monitor = positive(v)?;
            Ok(())
        },
    },
    Param {
        name: "seed",
        meaning: "base seed, one value for every scenario: replication r runs with a seed derived \
                  from (seed, r) only, the same in every scenario (common random numbers)",
        get: |p| p.seed.to_string(),
        set: |p, v| {
            p.seed = v
                .parse()
                .map_err(|_| format!("{v:?} is not a whole number from 0 to 2^64-1"))?;
            Ok(())
        },
    },
];

impl Parameters for Params {
    fn keys() -> Vec<Key> {
        PARAMS
            .iter()
            .map(|p| Key {
                name: p.name,
                description: p.meaning,
            })
            .collect()
    }

    fn get(&self, key: &str) -> Option<String> {
        PARAMS.iter().find(|p| p.name == key).map(|p| (p.get)(self))
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match PARAMS.iter().find(|p| p.name == key) {
            Some(p) => (p.set)(self, value),
            None => Err(format!("no parameter {key}")),
        }
    }
}

fn number(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("{text:?} is not a finite number")),
    }
}

fn positive(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if x > 0.0 {
        Ok(x)
    } else {
        Err(format!("{text:?} must be greater than 0"))
    }
}

fn non_negative(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if x >= 0.0 {
        Ok(x)
    } else {
        Err(format!("{text:?} must be at least 0"))
    }
}

fn probability(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{text:?} is not a probability (0 to 1)"))
    }
}

fn count(text: &str, min: usize) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        Ok(_) => Err(format!("{text:?} must be at least {min}")),
        Err(_) => Err(format!("{text:?} is not a whole number")),
    }
}
