//! # The software team: a model to reason about a team, and to copy
//!
//! A manager creates jobs, coders code them (some in pairs), testers test them (and send some
//! back), an interrupter interrupts coders, a facilitator calls stand-ups, and a monitor
//! samples the queues. Run it with
//!
//! ```text
//! cargo run --release --example team                                   # the defaults, 20 replications
//! cargo run --release --example team -- interrupts=none,discard,resume,decomp --svg team.svg
//! cargo run --release --example team -- n_coder=2,3 n_tester=1 p_rework=0.3 --reps 50 --json
//! cargo run --release --example team -- t_standup_interval=0,8,2 t_standup_duration=0.5 p_pair=0,0.5
//! cargo run --release --example team -- interrupts=none,resume --precision 2   # until ±2%
//! cargo run --release --example team -- --reps 30 --shard 2/3 --json > part2.json
//! cargo run --release --example team -- --merge part1.json part2.json part3.json --json
//! cargo run --release --example team -- --params                       # every parameter
//! cargo run --release --example team -- --help                         # every option
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
//! | [coder](coder) ×n_coder | `Idle`: `FirstOf([Get(own), Get(shared)])`; `Working`: `Sleep(left)`; `Attending`: `Attend(activity)` | takes work (saved work, then own queue, then shared queue), codes it — a pair job together with another coder — and sends it to testing or completes it; attends stand-ups and pair work |
//! | [tester](tester) ×n_tester | `Idle`: `Get(test)`; `Testing`: `Sleep(duration)` | passes a job (complete) or sends it back (p_rework) to its author or the shared queue |
//! | [interrupter](interrupter) | one: `Sleep(Exp(t_interrupt_interval))` | picks a coder uniformly, interrupts it (discard, resume) or queues an interrupt job for it (decomp) |
//! | [monitor](monitor) | one: `Sleep` to the next multiple of `t_monitor` | samples every queue's length and mean age |
//! | [facilitator](facilitator) (if stand-ups) | one: `Sleep` to the next multiple of `t_standup_interval` | plans a stand-up of every coder, starting at once |
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
//! ## Meetings and pair work: activities that pull busy coders in
//! Both are engine *activities* ([`stepsim::activity`]): when one starts, each participant is
//! pulled in like an interrupt — its wait is withdrawn and handed back with how long it had
//! waited — answers `Attend`, is held (interrupts to it queue up) and wakes when it is over.
//! - **Stand-ups** (`t_standup_interval`, `t_standup_duration`; both > 0, else none): at t = 0,
//!   t_standup_interval, 2·t_standup_interval, … every coder is pulled into a stand-up of
//!   `t_standup_duration`. A working coder saves its progress exactly as in resume mode and
//!   resumes the piece afterwards; an idle coder issues its withdrawn gets again. A coder that
//!   is pairing when a stand-up starts joins it when the pair work is over (late, or not at all
//!   if the stand-up has ended by then): pair work is never cut short.
//! - **Pair work** (`p_pair`, needs two coders or more): that fraction of regular jobs (drawn per
//!   job from its own stream) needs a second coder for its whole duration. The coder that
//!   takes one plans `Activity::new(duration).with(itself).with_available_from(others, 1)`,
//!   parks the job (still in its hands: *in progress* in the identity) and carries on with
//!   other work. Idle coders declare themselves available; the pair work starts as soon as one
//!   is, pulling the author in from whatever it is doing; when it ends the job is coded (to
//!   testing or complete), and both coders' time in it counts as busy time. Rework of a pair job
//!   is pair work again. (With three coders or more an author may still be pairing on another
//!   job when its own pair work starts: it joins late, and pairs again afterwards on what it
//!   missed, so every pair job gets its duration of two coders.)
//! - **Interrupts** that arrive during an activity wait for its end (they are delivered at the
//!   coder's next wait), so a discard never hits pair work, and resume-mode interrupt work
//!   starts after the stand-up. An interrupt job waiting like this is counted as *waiting*.
//!
//! What they cost is in the metrics below: `meeting_time` and `pair_time` (coder time lost to
//! coding alone), `pair_wait` and `lead_time` (delay), and throughput and utilization against
//! a scenario without them. `activities.csv` has every activity's planned and actual start and
//! every participant's lateness and time spent.
//!
//! ## Nothing is lost
//! At the end of every replication the example counts where each job really is — in the
//! queues (read through `queue_view`) and in the actors' hands (each actor reports what its
//! state holds after every step) — and checks, for every kind of work,
//!
//! ```text
//! created = completed + discarded + waiting (any queue, or an undelivered interrupt)
//!         + in progress (coding, testing, on a stack, split, parked for pair work)
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
//! part in progress at t_sim; pair work counts for both coders; meetings do not count;
//! `tester_utilization` likewise; `mean_delay` = mean of t_start − t_create over regular jobs
//! that started (t_start: when a coder first took it, for a pair job before it waits for a
//! partner); `lead_time` = mean of t_end − t_create over completed regular jobs; `backlog` and
//! `mean_age` = the shared queue's length and the mean age of its jobs at the last monitor
//! sample. Activities, counted when they end before t_sim: `standups` held; `meeting_time` =
//! coder time spent in them, summed over coders (n_coder · t_standup_duration per stand-up if
//! nobody is late); `pairs` = pair activities held; `pair_time` = the second coder's time in
//! them (the coder time pairing costs over coding alone); `pair_wait` = mean time from
//! planning pair work to its start, over pair activities that started.
//!
//! ## Replications, seeds, threads, stopping, shards: `stepsim::experiment`
//! The experiment machinery is the library's ([`stepsim::experiment`]); this example only
//! gives it the parameters (`Params` implements `Parameters`) and one replication
//! (`model::simulate`, whose `Run` is `Measured`).
//! - `--reps N` runs N replications of every scenario in parallel (`--threads`, default
//!   every core). Replication r uses the seed `replication_seed(seed, r)` in every scenario,
//!   with its own simulation, so the output does not depend on the thread count. Each random
//!   purpose has its own stream (`job-gaps`, `job-durations`, `job-pairs`, `interrupt-gaps`,
//!   `interrupt-targets`, `interrupt-durations`, `tester-J`), so scenarios of a sweep are
//!   compared on common random numbers (stand-ups draw nothing). `seed` therefore takes one
//!   value.
//! - `--precision PCT` (sequential stopping) runs replications, at most `--max-reps`, until
//!   the 95% CI half-width of every `--stop-on` metric (default `throughput`) is within PCT%
//!   of its mean in every scenario, and keeps the first count that does: the same
//!   replications as a fixed `--reps` of that count, on any thread count.
//! - A failing replication (an engine error, a broken accounting identity, a panic) stops the
//!   run with its scenario, replication and seed, and the command that reruns it alone
//!   (`--rep R`: replication R only, with its usual seed).
//! - `--shard K/N --json` runs the (scenario, replication) tasks numbered K−1 modulo N and
//!   writes a shard file (`stepsim-team-shard/1`: each replication's metrics, accounting
//!   and shared-queue samples); `--merge FILE...` checks that the files are every shard of
//!   one run and prints exactly the table or JSON one process prints (not `--csv`, whose
//!   per-job records shard files do not carry). Sequential stopping cannot be sharded.
//!   `docs/cluster.md` runs this on Slurm and Kubernetes.
//!
//! ## Outputs
//! The default is a table per scenario, leaving out metrics that do not apply (interrupts
//! without an interrupter, stand-up and pair metrics without them), and for sweeps a
//! comparison: throughput, utilization, mean_delay, then backlog — or, when some scenario has
//! stand-ups or pair work, lead_time and meeting_time, pair_time, pair_wait — and discarded
//! when some scenario discards. `--json` writes one
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
//!                   "lead_time": 2.3, "backlog": 1.0, "mean_age": 0.8, "standups": 0,
//!                   "meeting_time": 0.0, "pairs": 0, "pair_time": 0.0, "pair_wait": null},
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
//! parameter), `metrics.csv` (long format: scenario, replication, seed, metric, value),
//! `replications.csv` (scenario, rep, seed, every metric, the accounting),
//! `jobs.csv` (one row per regular job: id, t_create, duration, t_start, t_end, fate,
//! reworks, author), `samples.csv` (scenario, rep, t, queue, length, mean_age) and
//! `activities.csv` (one row per participant of each activity: scenario, rep, activity, kind
//! (`stand-up` or `pair`), job and author (pair work), planned_start, started_at, ended_at,
//! coder, joined_at, left_at, lateness = joined_at − started_at, time_spent; an activity that
//! never started has one row with the participant columns empty), joined on `scenario` and
//! `rep`. `--svg FILE` plots the shared queue's backlog and mean age over
//! time, averaged across replications, one line per scenario.
//!
//! ## Copying this model
//! `params.rs` (parameters, their parsing, and `impl Parameters`), `model.rs` (the job, the
//! interrupt cause, the actor enum, the shared office and its ledger, what activities are
//! for and their records, one replication), one module per actor, `metrics.rs` (what a
//! replication measures), `output.rs` (table, JSON and shard files with serde, CSV with
//! `csv`, SVG) and `cli.rs` (the command line with `clap`, wired to
//! [`stepsim::experiment`]). To add an actor: a module with a struct implementing
//! `Process<Team>`, a variant of `Actor`, and a spawn in `model::simulate`.

pub mod cli;
pub mod coder;
pub mod facilitator;
pub mod interrupter;
pub mod manager;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod output;
pub mod params;
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
