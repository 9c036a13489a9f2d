//! Replications in parallel: every (scenario, replication) pair is one task, run by a pool of
//! scoped threads. Each task builds its own [`Simulation`](stepsim::Simulation) with a seed
//! derived from `(seed, r)` only, and results are stored by task number, so the output does
//! not depend on how many threads ran them or in which order they finished.

use super::model::{Failure, Run, simulate};
use super::params::Params;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

/// The seed of replication `rep` of a scenario whose base seed is `base` (SplitMix64 of
/// both). Scenarios with the same base seed share the seeds of their replications, hence
/// their random streams: they are compared on common random numbers.
pub fn replication_seed(base: u64, rep: u64) -> u64 {
    let mut z = base ^ rep.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A replication that failed: which one, and why.
#[derive(Debug)]
pub struct RunError {
    pub scenario: usize,
    pub rep: usize,
    pub seed: u64,
    pub failure: Failure,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario {}, replication {} (seed {}): {}",
            self.scenario + 1,
            self.rep,
            self.seed,
            self.failure
        )
    }
}

/// Runs `reps` replications of every scenario on `threads` threads; the result is indexed
/// `[scenario][rep]`. With `progress`, a counter on stderr. The first failure (in task
/// order) is returned; the other tasks stop early.
pub fn run_all(
    scenarios: &[Params],
    reps: usize,
    threads: usize,
    progress: bool,
) -> Result<Vec<Vec<Run>>, RunError> {
    let total = scenarios.len() * reps;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let task = |i: usize| {
        let (s, r) = (i / reps, i % reps);
        let seed = replication_seed(scenarios[s].seed, r as u64);
        (seed, simulate(&scenarios[s], seed))
    };

    let mut slots: Vec<Option<(u64, Result<Run, Failure>)>> = (0..total).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, total.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut finished = Vec::new();
                    while !failed.load(Relaxed) {
                        let i = next.fetch_add(1, Relaxed);
                        if i >= total {
                            break;
                        }
                        let (seed, result) = task(i);
                        failed.fetch_or(result.is_err(), Relaxed);
                        finished.push((i, (seed, result)));
                        let n = done.fetch_add(1, Relaxed) + 1;
                        if progress && (n * 100 / total != (n - 1) * 100 / total || n == total) {
                            eprint!("\r{n}/{total} replications");
                            let _ = std::io::stderr().flush();
                        }
                    }
                    finished
                })
            })
            .collect();
        for worker in workers {
            match worker.join() {
                Ok(finished) => {
                    for (i, outcome) in finished {
                        slots[i] = Some(outcome);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    if progress {
        eprint!("\r{:40}\r", "");
    }

    let mut results: Vec<Vec<Run>> = scenarios.iter().map(|_| Vec::with_capacity(reps)).collect();
    for (i, slot) in slots.into_iter().enumerate() {
        match slot {
            Some((_, Ok(run))) => results[i / reps].push(run),
            Some((seed, Err(failure))) => {
                return Err(RunError {
                    scenario: i / reps,
                    rep: i % reps,
                    seed,
                    failure,
                });
            }
            // Skipped after another task failed; that failure comes later in task order.
            None => {}
        }
    }
    Ok(results)
}
