//! The random-model test campaign: random models driven through the public API, with every
//! invariant checked after every step (see `tests/campaign/driver.rs` for the models and
//! the checks: hand-backs compared exactly, preemption per README "Preemption", what
//! `Interrupt::resume` promises). Each seed runs twice, and the two runs must agree event for
//! event.
//!
//! - `cargo test --test campaign`: a quick pass over 300 seeds (about a second in debug).
//! - `STEPSIM_CAMPAIGN_SEEDS=200000 cargo test --release --test campaign -- --ignored
//!   --nocapture`: the long mode, on two threads; `STEPSIM_CAMPAIGN_START` sets the first
//!   seed (default 1,000,000). It prints what the models exercised and every distinct
//!   failure, with the seed of its smallest reproducer.
//! - `STEPSIM_CAMPAIGN_SEED=N cargo test --test campaign -- --nocapture`: reruns one seed
//!   and prints its failures; with `STEPSIM_CAMPAIGN_VERBOSE=1`, also the log of every
//!   wake, command and outside call. `STEPSIM_CAMPAIGN_INPUT=fuzz/artifacts/campaign/crash-…`
//!   does the same for an input of the fuzzer.
//!
//! Failures whose signature is a known engine defect (`driver::KNOWN_DEFECTS`, each with a
//! standalone reproducer in `tests/preemption_news.rs`) are reported as such and do not
//! fail the campaign; any other failure does.
//!
//! The fuzz target `fuzz/fuzz_targets/campaign.rs` drives the same models from the fuzzer's
//! bytes (see `fuzz/README.md`).
//!
//! # What the long run covered
//!
//! On this 2-core machine (shared), release build, two threads:
//!
//! | seeds | time | steps | commands | outside calls |
//! |---|---|---|---|---|
//! | 200,000 (1,000,000…) | 121 s | 21.4 M | 11.4 M | 1.61 M |
//! | 500,000 (2,000,000…) | 214 s | 53.5 M | 28.5 M | 4.02 M |
//!
//! The races of the 500,000-seed run: 9.39 M interrupts (6.73 M from the model, 176 k
//! preemptions, 2.49 M summons); 2.35 M withdrew a `FirstOf`/`AllOf` (914 k handing back
//! what an `AllOf` took); 3.54 M delivered at issue; 3.17 M `FirstOf` wins with losers
//! withdrawn (275 k with a losing `AllOf`'s takings); 2.35 M commands with two requests to
//! one resource; 952 k `Interrupt::resume`s carried on at once (427 k requests back to their
//! places, 121 k of them ahead of requests that joined later) and 535 k after an activity;
//! 274 k resumed sleeps ended, on time; 25.5 k line-order checks; 74.8 k releases of a slot
//! lost to preemption, each a no-op; 217 k invalid commands, 4,711 planted panics, 1.29 M
//! stall probes. No failure but one engine defect (a holder stepped after losing its slot,
//! untold: 329 seeds), since fixed: see `tests/preemption_news.rs`. The fuzzer ran 180 s
//! (12,788 inputs) with no other crash.
//!
//! After that fix: 200,000 seeds (3,000,000…) in 105 s and, after the engine's speed work,
//! 100,000 (5,000,000…) in 31 s: no engine failure. The line-order check of resumed
//! requests flags 6 and 2 seeds where a request that joined the line later was served
//! while the resumed one waited. In both diagnosed (3,156,182 and 5,079,901) the slot was
//! handed out while the resumed request was withdrawn — between the decision to preempt
//! its process elsewhere (which withdraws its whole wait at once) and its resume — which
//! the rule allows (`Interrupt::resume`). The check now counts a request resumed after a
//! preemption as out of its line from the decision on (it holds it to its place only for
//! grants after the instant it rejoined): both seeds pass, and 300,000 seeds (3,000,000…,
//! on the same engine, 276 s with the machine shared: 31.5 M steps, 108 k preemptions,
//! 255 k requests back to their places, 14.5 k line-order checks) show no failure.

#[path = "campaign/driver.rs"]
mod driver;

use driver::{ByteChoices, Choices, Config, Report, SeededChoices, Stats, known_defect, run_model};
use std::collections::BTreeMap;
use std::time::Instant;

/// One distinct failure over a campaign.
struct Finding {
    /// Seeds that showed it.
    count: u64,
    /// The seed whose run showed it earliest (fewest steps), its step, and the detail.
    seed: u64,
    step: u64,
    detail: String,
}

#[derive(Default)]
struct Campaign {
    seeds: u64,
    stats: Stats,
    findings: BTreeMap<String, Finding>,
}

impl Campaign {
    fn record(&mut self, seed: u64, signature: &str, step: u64, detail: &str) {
        let f = self
            .findings
            .entry(signature.to_owned())
            .or_insert(Finding {
                count: 0,
                seed,
                step,
                detail: detail.to_owned(),
            });
        f.count += 1;
        if step < f.step {
            (f.seed, f.step, f.detail) = (seed, step, detail.to_owned());
        }
    }

    fn merge(&mut self, other: Campaign) {
        self.seeds += other.seeds;
        self.stats.add(&other.stats);
        for (sig, f) in other.findings {
            let mine = self.findings.entry(sig).or_insert(Finding {
                count: 0,
                seed: f.seed,
                step: f.step,
                detail: f.detail.clone(),
            });
            mine.count += f.count;
            if f.step < mine.step || (f.step == mine.step && f.seed < mine.seed) {
                (mine.seed, mine.step, mine.detail) = (f.seed, f.step, f.detail);
            }
        }
    }

    fn report(&self, elapsed: f64) -> String {
        let s = &self.stats;
        let mut out = format!(
            "campaign: {} seeds (each run twice) in {elapsed:.1} s: {} steps, {} commands, {} outside calls\n\
             races: {} interrupts ({} from the model, {} preemptions, {} summons; {} withdrew a FirstOf/AllOf, \
             {} of them handing back what an AllOf took; {} delivered at issue); {} FirstOf wins with losers \
             withdrawn ({} with a losing AllOf's takings); {} commands with two requests to one resource\n\
             resume: {} carried on at once ({} requests back to their places, {} of them ahead of later \
             joiners), {} after an activity; {} resumed sleeps ended on time; {} line-order checks; \
             {} releases of a slot lost to preemption\n\
             also: {} invalid commands failed as expected, {} planted panics, {} stall probes, {} runs cut at the step limit\n",
            self.seeds,
            s.steps,
            s.commands,
            s.outside_calls,
            s.interrupts + s.preemptions + s.summons,
            s.interrupts,
            s.preemptions,
            s.summons,
            s.interrupts_in_groups,
            s.interrupts_with_taken,
            s.held_deliveries,
            s.first_with_losers,
            s.first_with_taken,
            s.same_resource_pairs,
            s.resumes,
            s.resumed_requests,
            s.resumed_ahead,
            s.resumes_after_activity,
            s.resumed_sleeps_ended,
            s.order_checks,
            s.lost_releases,
            s.expected_errors,
            s.planted_panics,
            s.probes,
            s.step_limits,
        );
        if self.unknown() == 0 {
            out.push_str("no failures but the known engine defects\n");
        }
        for (sig, f) in &self.findings {
            let what = match known_defect(sig) {
                Some(test) => format!("KNOWN ENGINE DEFECT (tests/preemption_news.rs, {test})"),
                None => "FAILURE".to_owned(),
            };
            out.push_str(&format!(
                "{what} ({} seeds): {sig}\n    reproduce: STEPSIM_CAMPAIGN_SEED={} (step {})\n    {}\n",
                f.count, f.seed, f.step, f.detail
            ));
        }
        out
    }

    /// How many distinct failures are not known engine defects.
    fn unknown(&self) -> usize {
        self.findings
            .keys()
            .filter(|sig| known_defect(sig).is_none())
            .count()
    }
}

fn run_seed(seed: u64, verbose: bool) -> (Report, Option<String>) {
    run_twice(|| Box::new(SeededChoices::new(seed)), verbose)
}

/// Runs the model of `choices` twice: the first report, and how the second differs.
fn run_twice(choices: impl Fn() -> Box<dyn Choices>, verbose: bool) -> (Report, Option<String>) {
    let config = Config {
        verbose,
        ..Config::default()
    };
    let first = run_model(choices(), &config);
    let again = run_model(choices(), &config);
    let differs = if first.summary != again.summary {
        Some(format!(
            "summaries differ:\n{}\n---\n{}",
            first.summary, again.summary
        ))
    } else if first.trace != again.trace {
        Some("traces differ".to_owned())
    } else {
        None
    };
    (first, differs)
}

fn campaign(seeds: impl Iterator<Item = u64>) -> Campaign {
    let mut c = Campaign::default();
    for seed in seeds {
        let (report, differs) = run_seed(seed, false);
        c.seeds += 1;
        c.stats.add(&report.stats);
        for f in &report.failures {
            c.record(seed, &f.signature, f.step, &f.detail);
        }
        if let Some(d) = differs {
            c.record(
                seed,
                "the same seed gave another run (nondeterminism)",
                0,
                &d,
            );
        }
    }
    c
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}"))
    })
}

/// One seed (`STEPSIM_CAMPAIGN_SEED`), or one fuzzer input (`STEPSIM_CAMPAIGN_INPUT`, a
/// file), with its log if `STEPSIM_CAMPAIGN_VERBOSE` is set.
fn rerun(seed: Option<u64>, input: Option<std::path::PathBuf>) {
    let verbose = std::env::var_os("STEPSIM_CAMPAIGN_VERBOSE").is_some();
    let (report, differs) = match &input {
        Some(path) => {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            run_twice(|| Box::new(ByteChoices::new(&bytes)), verbose)
        }
        None => run_seed(seed.expect("a seed or an input"), verbose),
    };
    for line in &report.log {
        println!("{line}");
    }
    if verbose {
        println!("trace:\n{}", report.trace);
    }
    println!("seed {seed:?} input {input:?}: {:?}", report.stats);
    for f in &report.failures {
        let what = match known_defect(&f.signature) {
            Some(test) => format!("KNOWN ENGINE DEFECT ({test})"),
            None => "FAILURE".to_owned(),
        };
        println!(
            "{what} at step {}: {}\n    {}",
            f.step, f.signature, f.detail
        );
    }
    if let Some(d) = &differs {
        println!("FAILURE: nondeterminism: {d}");
    }
    let unknown = report
        .failures
        .iter()
        .filter(|f| known_defect(&f.signature).is_none())
        .count();
    assert!(
        unknown == 0 && differs.is_none(),
        "seed {seed:?} input {input:?} failed"
    );
}

#[test]
fn campaign_quick() {
    let input = std::env::var_os("STEPSIM_CAMPAIGN_INPUT").map(std::path::PathBuf::from);
    let seed = env_u64("STEPSIM_CAMPAIGN_SEED");
    if seed.is_some() || input.is_some() {
        return rerun(seed, input);
    }
    let start = Instant::now();
    let c = campaign(0..300);
    let text = c.report(start.elapsed().as_secs_f64());
    println!("{text}");
    // The quick pass must see the situations the campaign exists for.
    assert!(
        c.stats.interrupts_in_groups > 0 && c.stats.preemptions > 0,
        "{text}"
    );
    assert!(
        c.stats.first_with_losers > 0 && c.stats.same_resource_pairs > 0,
        "{text}"
    );
    assert!(
        c.stats.resumed_requests > 0
            && c.stats.resumed_sleeps_ended > 0
            && c.stats.order_checks > 0,
        "{text}"
    );
    assert_eq!(c.unknown(), 0, "{text}");
}

#[test]
#[ignore = "long: STEPSIM_CAMPAIGN_SEEDS=200000 cargo test --release --test campaign -- --ignored --nocapture"]
fn campaign_long() {
    let n = env_u64("STEPSIM_CAMPAIGN_SEEDS").unwrap_or(20_000);
    let first = env_u64("STEPSIM_CAMPAIGN_START").unwrap_or(1_000_000);
    let threads = 2;
    let start = Instant::now();
    let parts: Vec<Campaign> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| s.spawn(move || campaign((first + k..first + n).step_by(threads as usize))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a campaign thread panicked"))
            .collect()
    });
    let mut c = Campaign::default();
    for part in parts {
        c.merge(part);
    }
    let text = c.report(start.elapsed().as_secs_f64());
    println!("{text}");
    assert_eq!(c.unknown(), 0, "{text}");
}

/// The fuzz target's choice source drives models of full size from short inputs, and two
/// runs of one input agree (the findings themselves are the quick pass's business).
#[test]
fn byte_choices_drive_small_models() {
    for input in [
        &[][..],
        &[0; 16],
        &[255; 16],
        b"stepsim campaign",
        &[7, 200, 3, 99, 1, 0, 42, 250],
    ] {
        let start = Instant::now();
        let config = Config::default();
        let report = run_model(Box::new(ByteChoices::new(input)), &config);
        let again = run_model(Box::new(ByteChoices::new(input)), &config);
        println!("{input:?}: {:?} in {:?}", report.stats, start.elapsed());
        assert!(report.stats.commands > 0, "{input:?}: {:?}", report.stats);
        assert_eq!(report.summary, again.summary);
        assert_eq!(report.trace, again.trace);
    }
}
