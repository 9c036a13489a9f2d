//! # The software team: a model to reason about a team, and to copy
//!
//! A manager creates jobs, coders code them, testers test them (and send some back), an
//! interrupter interrupts coders, and a monitor samples the queues. Run it with
//!
//! ```text
//! cargo run --release --example team                                   # the defaults, 20 replications
//! cargo run --release --example team -- interrupts=none,discard,resume,decomp --svg team.svg
//! cargo run --release --example team -- n_coder=2,3 n_tester=1 p_rework=0.3 --reps 50 --json
//! cargo run --release --example team -- --params                       # every parameter
//! ```
//!
//! Time is in ticks (think of one tick as an hour). `Exp(m)` is exponential with **mean**
//! `m`; `LN(mu, sigma)` is log-normal whose *underlying normal* has mean `mu` and sd `sigma`,
//! so its own mean is `e^(mu + sigma²/2)`: with the defaults a job takes **1.974 ticks** on
//! average (not 0.5) and an interrupt **1.228 ticks** (not 0.2).
//!
//! ## The actors, each a state machine
//! Every actor is a [`Process`](stepsim::Process): `step` gets a wake, returns a command.
//! The states are spelled out in each actor's module docs.
//!
//! | actor | states: wait | what it does |
//! |---|---|---|
//! | [manager](manager) | one: `Sleep(Exp(t_job_interval))` | creates a regular job, puts it in the shared queue (the first at t = 0) |
//! | [coder](coder) ×n_coder | `Idle`: `FirstOf([Get(own), Get(shared)])`; `Working`: `Sleep(left)` | takes work (saved work, then own queue, then shared queue), codes it, sends it to testing or completes it |
//! | [tester](tester) ×n_tester | `Idle`: `Get(test)`; `Testing`: `Sleep(duration)` | passes a job (complete) or sends it back (p_rework) to its author or the shared queue |
//! | [interrupter](interrupter) | one: `Sleep(Exp(t_interrupt_interval))` | picks a coder uniformly, interrupts it (discard, resume) or queues an interrupt job for it (decomp) |
//! | [monitor](monitor) | one: `Sleep` to the next multiple of `t_monitor` | samples every queue's length and mean age |
//!
//! Each coder also has its own priority queue: interrupt jobs first (decomp), then fragments
//! (decomp), then rework and integration jobs, FIFO within each. The shared queue is ordered by
//! `policy`. When a regular job completes and `t_integration > 0`, every coder gets an
//! integration job of that length.
//!
//! ## Interrupts: the four modes
//! - `none`: no interrupter.
//! - `discard`: the interrupted coder abandons its job for good (counted as discarded; the
//!   partial work still counts as busy time). An idle coder counts the interrupt and waits
//!   again: the engine hands the withdrawn wait back, and the coder simply returns it.
//! - `resume`: the interrupt carries an interrupt job, LN(t_interrupt_mean, t_interrupt_std).
//!   The coder pushes what it was doing, with the work still left, on a stack, does the
//!   interrupt job, then resumes; interrupts during interrupt work stack up the same way.
//! - `decomp`: no process interrupt. The interrupt job goes to the top of the coder's own
//!   queue, and regular jobs longer than `t_decomposition` are split into fragments (the
//!   remainder first) so that the coder looks at its queue at least that often.
//!
//! The coder's module is the one to read: every interrupt point is a returned command, and
//! the methods that return `()` are critical regions by their type.
//!
//! ## Nothing is lost
//! At the end of every replication the example counts where each job really is — in the
//! queues (read through `queue_view`) and in the actors' hands (each actor reports what its
//! state holds after every step) — and checks, for every kind of work,
//!
//! ```text
//! created = completed + discarded + waiting (any queue) + in progress (coding, testing, on a stack, split)
//! ```
//!
//! plus the per-job records against those counts. A `Job` is not `Clone`, so these are real
//! values, never copies. If the identity ever breaks the example stops with the replication
//! and seed, and exits with status 1. (The SimPy tutorial this model comes from loses about a
//! fifth of its jobs this way: a `get` withdrawn by an interrupt or by losing an `|` race stays
//! queued and later swallows a job. In stepsim a withdrawn request holds nothing.)
//!
//! ## Metrics (per replication; mean, sd and 95% CI across replications)
//! `created`, `completed` (passed testing where there are testers), `discarded` — regular jobs;
//! `interrupts` sent; `reworks` (tests that sent a job back); `throughput` = completed / t_sim;
//! `utilization` = coders' busy time / (n_coder · t_sim), counting every piece of work
//! (regular, rework, interrupt, integration, fragments) when it ends or is interrupted, not the
//! part in progress at t_sim; `tester_utilization` likewise; `mean_delay` = mean of
//! t_start − t_create over regular jobs that started; `backlog` and `mean_age` = the shared
//! queue's length and the mean age of its jobs at the last monitor sample.
//!
//! ## Replications, seeds, threads
//! `--reps N` runs N replications of every scenario in parallel (`--threads`, default every
//! core). Replication r of a scenario uses the seed `replication_seed(seed, r)` and its own
//! simulation, so a scenario is reproducible on its own and the output does not depend on the
//! thread count. Each random purpose has its own stream (`job-gaps`, `job-durations`,
//! `interrupt-gaps`, `interrupt-targets`, `interrupt-durations`, `tester-J`), so scenarios of a
//! sweep are compared on common random numbers.
//!
//! ## Outputs
//! The default is a table per scenario (and a comparison for sweeps). `--json` writes one
//! document instead:
//!
//! ```text
//! {
//!   "schema": "stepsim-team/1",
//!   "reps": 20,
//!   "scenarios": [{
//!     "label": "interrupts=discard",                  // the swept keys; "defaults" if none
//!     "params": {"n_coder": 2, ..., "policy": "oldest", "interrupts": "discard", ..., "seed": 1},
//!     "replications": [{
//!       "rep": 0, "seed": 11817261735613542219,
//!       "metrics": {"created": 97, "completed": 90, "discarded": 6, "interrupts": 41,
//!                   "reworks": 0, "throughput": 0.45, "utilization": 0.47,
//!                   "tester_utilization": null, "mean_delay": 0.61,   // null: not defined
//!                   "backlog": 1.0, "mean_age": 0.8},
//!       "accounting": {"created": 97, "completed": 90, "discarded": 6, "waiting": 1, "in_progress": 0}
//!     }, ...],
//!     "summary": {"created": {"n": 20, "mean": 99.1, "sd": 9.8, "ci95": [94.5, 103.7]}, ...},
//!                                                    // sd, ci95: null for one replication
//!     "series": {"t": [0, 5, ...], "backlog": [...], "mean_age": [...]}   // shared queue,
//!   }]                                               // mean over replications per sample time
//! }
//! ```
//!
//! `--csv DIR` writes, for polars or pandas, `scenarios.csv` (scenario, label, every
//! parameter), `replications.csv` (scenario, rep, seed, every metric, the accounting),
//! `jobs.csv` (one row per regular job: id, t_create, duration, t_start, t_end, fate,
//! reworks, author) and `samples.csv` (scenario, rep, t, queue, length, mean_age), joined on
//! `scenario` and `rep`. `--svg FILE` plots the shared queue's backlog and mean age over
//! time, averaged across replications, one line per scenario.
//!
//! ## Copying this model
//! `params.rs` (parameters and their parsing), `model.rs` (the job, the interrupt cause, the
//! actor enum, the shared office and its ledger, one replication), one module per actor,
//! `metrics.rs`, `runner.rs` (parallel replications), `output.rs` and `cli.rs`. To add an
//! actor: a module with a struct implementing `Process<Team>`, a variant of `Actor`, and a
//! spawn in `model::simulate`.

pub mod cli;
pub mod coder;
pub mod interrupter;
pub mod manager;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod output;
pub mod params;
pub mod runner;
pub mod tester;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match cli::run(std::env::args().skip(1), &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("team: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
