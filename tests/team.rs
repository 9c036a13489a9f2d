//! Tests of the team example (`examples/team/`), compiled into this test crate so that they
//! can drive its state machines, replications and command line directly.
//!
//! - the coder's interrupt and activity handling, step by step, with hand-made wakes;
//! - the accounting identity for every mode over many seeds and sweeps, with and without
//!   stand-ups and pair work, and the activity records' invariants;
//! - analytic checks against queueing theory, with tolerances from the replication spread
//!   (run with `--nocapture` to see the measured figures), and what meetings and pairing cost;
//! - determinism (same seed, any thread count → the same JSON) and the command line.

#[allow(dead_code)]
#[path = "../examples/team/main.rs"]
mod team;

use std::rc::Rc;
use stepsim::experiment::{Experiment, Scenario, replication_seed};
use stepsim::stats::Summary;
use stepsim::{
    Activity, ActivityId, Command, First, Interrupt, Outcome, Process, Reason, Simulation, Wake,
};
use team::cli;
use team::coder::{Coder, Piece, State, Then};
use team::metrics::Accounting;
use team::model::{Actor, Cx, Interruption, Job, JobKind, Office, Purpose, Run, Team, simulate};
use team::monitor::Monitor;
use team::params::{Interrupts, Params, Policy, Rework};

// ----- helpers -----

fn office(params: &Params) -> (Simulation<Team>, Rc<Office>) {
    let mut sim = Simulation::<Team>::new(0);
    let office = Office::open(&mut sim, params).expect("queues");
    (sim, office)
}

/// The wait of an idle coder.
fn idle_wait(office: &Office, coder: usize) -> Command<Job> {
    Command::first_of([Command::Get(office.own[coder]), Command::Get(office.shared)])
}

/// The wake of an idle coder whose shared-queue branch got `job`.
fn got_from_shared(office: &Office, job: Job) -> Wake<Job, Interruption> {
    let others = [Command::Get(office.own[0])].into();
    Wake::First(First::new(1, Outcome::Got(job), others))
}

fn interrupted(cause: Interruption, request: Command<Job>, waited: f64) -> Wake<Job, Interruption> {
    Wake::Interrupted(Interrupt::new(cause, request, waited))
}

/// An office whose coders' process ids belong to stand-ins that never take part (the coders
/// under test are stepped by hand), so that activities can be planned for them.
fn staffed_office(params: &Params) -> (Simulation<Team>, Rc<Office>) {
    let (mut sim, office) = office(params);
    let stand_ins = (0..params.n_coder)
        .map(|_| sim.spawn(Actor::Monitor(Monitor::new(100.0, office.clone()))))
        .collect();
    office.coders.set(stand_ins).expect("set once");
    (sim, office)
}

/// Plans a stand-up of every coder, starting now.
fn standup(office: &Office, cx: &mut Cx<'_>) -> ActivityId {
    let everyone = office.coders().to_vec();
    let meeting = Activity::new(0.5).at(cx.now()).with_all(everyone);
    office
        .plan(cx, Purpose::StandUp, meeting)
        .expect("a valid plan")
}

fn summoned(activity: ActivityId, request: Command<Job>, waited: f64) -> Wake<Job, Interruption> {
    Wake::Interrupted(Interrupt::with_cause(
        Reason::Summoned(activity),
        request,
        waited,
    ))
}

fn lefts(coder: &Coder) -> Vec<f64> {
    coder.stack().iter().map(|p| p.left).collect()
}

fn run_cli(args: &[&str]) -> Result<String, cli::AppError> {
    let mut out = Vec::new();
    cli::run(args.iter().map(|a| a.to_string()), &mut out)?;
    Ok(String::from_utf8(out).expect("utf-8"))
}

fn usage_error(args: &[&str]) -> String {
    match run_cli(args) {
        Err(e @ cli::AppError::Usage(_)) => {
            assert_eq!(e.exit_code(), 2);
            e.to_string()
        }
        other => panic!("{args:?}: expected a usage error, got {other:?}"),
    }
}

/// Runs `reps` replications of each scenario on two threads.
fn replicate(scenarios: &[Params], reps: usize) -> Vec<Vec<Run>> {
    let scenarios = scenarios
        .iter()
        .map(|p| Scenario::new("test", p.clone()))
        .collect();
    let results = Experiment::new(scenarios)
        .seed(Params::default().seed)
        .reps(reps)
        .threads(2)
        .run(simulate)
        .unwrap_or_else(|e| panic!("{e}"));
    results
        .scenarios
        .into_iter()
        .map(|s| s.replications.into_iter().map(|r| r.output).collect())
        .collect()
}

fn summary(runs: &[Run], metric: fn(&Run) -> f64) -> Summary {
    let values: Vec<f64> = runs.iter().map(metric).collect();
    Summary::of(&values).expect("replications")
}

/// `|mean - expected| <= 4 standard errors` (from the replication spread), and the check
/// has power: 4 standard errors are within `power` of the expected value, relatively.
fn assert_close(what: &str, s: &Summary, expected: f64, power: f64) {
    let se = s.std_dev.expect("several replications") / (s.n as f64).sqrt();
    println!(
        "{what}: measured {:.4} ± {:.4} (1 s.e., {} replications), expected {expected:.4}",
        s.mean, se, s.n
    );
    assert!(
        4.0 * se <= power * expected,
        "{what}: too noisy to test (4 s.e. = {:.4})",
        4.0 * se
    );
    assert!(
        (s.mean - expected).abs() <= 4.0 * se,
        "{what}: measured {:.4} is more than 4 s.e. ({:.4}) from {expected:.4}",
        s.mean,
        4.0 * se
    );
}

// ----- the coder, step by step -----

#[test]
fn resume_mode_stacks_interrupts_and_resumes_the_work_left() {
    let params = Params {
        interrupts: Interrupts::Resume,
        ..Params::default()
    };
    let (mut sim, office) = office(&params);
    let mut coder = Coder::new(0, &params, office.clone());
    let mut cx = sim.context();

    assert_eq!(coder.step(&mut cx, Wake::Started), idle_wait(&office, 0));
    let job = office.new_job(JobKind::Regular, 2.0, 0.0);
    let cmd = coder.step(&mut cx, got_from_shared(&office, job));
    assert_eq!(cmd, Command::Sleep(2.0));

    // Interrupted after 0.5: the job is put aside with 1.5 left.
    let urgent = office.new_job(JobKind::Interrupt, 1.0, 0.5);
    let wake = interrupted(Interruption::Urgent(urgent), cmd, 0.5);
    let cmd = coder.step(&mut cx, wake);
    assert_eq!(cmd, Command::Sleep(1.0));
    assert_eq!(lefts(&coder), [1.5]);

    // Interrupted again during the interrupt work, after 0.25 of it.
    let urgent = office.new_job(JobKind::Interrupt, 0.3, 0.75);
    let wake = interrupted(Interruption::Urgent(urgent), cmd, 0.25);
    assert_eq!(coder.step(&mut cx, wake), Command::Sleep(0.3));
    assert_eq!(lefts(&coder), [1.5, 0.75]);

    // Each piece resumes when the ones above it are done, most recent first.
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Sleep(0.75)
    );
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Sleep(1.5)
    );
    assert!(
        matches!(coder.state(), State::Working(Piece { job, .. }) if job.kind == JobKind::Regular)
    );
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        idle_wait(&office, 0)
    );

    let ledger = office.ledger.borrow();
    assert_eq!(ledger.finished.of(JobKind::Regular), 1);
    assert_eq!(ledger.finished.of(JobKind::Interrupt), 2);
    assert_eq!(
        ledger.coder_busy,
        2.0 + 1.0 + 0.3,
        "every tick of work counted once"
    );
    assert_eq!(ledger.hands[0].of(JobKind::Regular), 0);
}

#[test]
fn discard_mode_drops_the_job_in_hand_and_an_idle_coder_waits_again() {
    let params = Params {
        interrupts: Interrupts::Discard,
        ..Params::default()
    };
    let (mut sim, office) = office(&params);
    let mut coder = Coder::new(0, &params, office.clone());
    let mut cx = sim.context();

    // Idle: the withdrawn wait comes back, and returning it waits exactly as before.
    let wait = coder.step(&mut cx, Wake::Started);
    assert_eq!(wait, idle_wait(&office, 0));
    let wake = interrupted(Interruption::Discard, wait, 3.0);
    assert_eq!(coder.step(&mut cx, wake), idle_wait(&office, 0));
    assert_eq!(office.ledger.borrow().idle_interrupts, 1);

    // Working: the job is discarded, its partial work counted as busy time.
    let job = office.new_job(JobKind::Regular, 2.0, 0.0);
    let cmd = coder.step(&mut cx, got_from_shared(&office, job));
    let wake = interrupted(Interruption::Discard, cmd, 0.5);
    assert_eq!(coder.step(&mut cx, wake), idle_wait(&office, 0));
    let ledger = office.ledger.borrow();
    assert_eq!(ledger.discarded.of(JobKind::Regular), 1);
    assert_eq!(ledger.coder_busy, 0.5);
    assert_eq!(ledger.hands[0], Default::default(), "nothing in hand");
}

#[test]
fn decomp_mode_splits_remainder_first_and_interrupt_jobs_jump_the_fragments() {
    let params = Params {
        interrupts: Interrupts::Decomp,
        t_decomposition: 0.5,
        ..Params::default()
    };
    let (mut sim, office) = office(&params);
    let mut coder = Coder::new(0, &params, office.clone());
    let mut cx = sim.context();

    coder.step(&mut cx, Wake::Started);
    let job = office.new_job(JobKind::Regular, 1.25, 0.0);
    // The remainder first, then whole fragments, all in the own queue.
    assert_eq!(
        coder.step(&mut cx, got_from_shared(&office, job)),
        Command::Sleep(0.25)
    );
    assert_eq!(cx.queue_view(office.own[0]).unwrap().len(), 2);
    assert_eq!(office.ledger.borrow().hands[0].of(JobKind::Regular), 1);

    // An interrupt job outranks the fragments left.
    let urgent = office.new_job(JobKind::Interrupt, 0.125, 0.1);
    office.put(&mut cx, office.own[0], urgent);
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Sleep(0.125)
    );
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Sleep(0.5)
    );
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Sleep(0.5)
    );
    // The last fragment completes the job (no testers: it is complete).
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        idle_wait(&office, 0)
    );
    let ledger = office.ledger.borrow();
    assert_eq!(ledger.finished.of(JobKind::Regular), 1);
    assert_eq!(ledger.finished.of(JobKind::Fragment), 3);
    assert_eq!(ledger.coder_busy, 1.25 + 0.125);
}

#[test]
fn a_coder_summoned_while_working_saves_its_progress_and_resumes_after_the_activity() {
    let params = Params {
        interrupts: Interrupts::Resume,
        ..Params::default()
    };
    let (mut sim, office) = staffed_office(&params);
    let mut coder = Coder::new(0, &params, office.clone());
    let mut cx = sim.context();

    coder.step(&mut cx, Wake::Started);
    let job = office.new_job(JobKind::Regular, 2.0, 0.0);
    let cmd = coder.step(&mut cx, got_from_shared(&office, job));
    assert_eq!(cmd, Command::Sleep(2.0));

    // Pulled into a stand-up after 0.5 of the job: the progress is saved as for an interrupt,
    // and the job stays in the coder's hands (on its stack).
    let meeting = standup(&office, &mut cx);
    let cmd = coder.step(&mut cx, summoned(meeting, cmd, 0.5));
    assert_eq!(cmd, Command::Attend(meeting));
    assert!(matches!(
        coder.state(),
        State::Attending { activity, then: Then::LookForWork, .. } if *activity == meeting
    ));
    assert_eq!(lefts(&coder), [1.5]);
    assert_eq!(office.ledger.borrow().coder_busy, 0.5);
    assert_eq!(office.ledger.borrow().hands[0].of(JobKind::Regular), 1);

    // Over: the piece resumes with the work left (a stand-up is not busy time).
    let cmd = coder.step(&mut cx, Wake::Completed(Outcome::ActivityOver(meeting)));
    assert_eq!(cmd, Command::Sleep(1.5));
    assert!(coder.stack().is_empty());

    // An interrupt that arrived during the stand-up was held; it lands on that wait,
    // unstarted (waited 0), and stacks the piece like any interrupt.
    let urgent = office.new_job(JobKind::Interrupt, 0.25, 0.2);
    let cmd = coder.step(&mut cx, interrupted(Interruption::Urgent(urgent), cmd, 0.0));
    assert_eq!(cmd, Command::Sleep(0.25));
    assert_eq!(lefts(&coder), [1.5]);
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        Command::Sleep(1.5)
    );
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::Slept)),
        idle_wait(&office, 0)
    );

    let ledger = office.ledger.borrow();
    assert_eq!(ledger.finished.of(JobKind::Regular), 1);
    assert_eq!(ledger.finished.of(JobKind::Interrupt), 1);
    assert_eq!(
        ledger.coder_busy,
        0.5 + 0.25 + 1.5,
        "every tick of work counted once"
    );
    assert!(cx.error().is_none(), "{:?}", cx.error());
}

#[test]
fn a_coder_summoned_while_idle_waits_again_after_the_activity() {
    let params = Params {
        interrupts: Interrupts::Discard,
        ..Params::default()
    };
    let (mut sim, office) = staffed_office(&params);
    let mut coder = Coder::new(0, &params, office.clone());
    let mut cx = sim.context();

    let wait = coder.step(&mut cx, Wake::Started);
    assert_eq!(wait, idle_wait(&office, 0));
    let meeting = standup(&office, &mut cx);
    // The withdrawn gets held no job; the coder keeps them to issue again.
    let cmd = coder.step(&mut cx, summoned(meeting, wait, 3.0));
    assert_eq!(cmd, Command::Attend(meeting));
    let then = Then::Wait(Box::new(idle_wait(&office, 0)));
    assert!(matches!(
        coder.state(),
        State::Attending { activity, then: t, .. } if *activity == meeting && *t == then
    ));

    // Over: the same two gets, waiting again exactly as before.
    assert_eq!(
        coder.step(&mut cx, Wake::Completed(Outcome::ActivityOver(meeting))),
        idle_wait(&office, 0)
    );
    assert_eq!(coder.state(), &State::Idle);
    // A discard interrupt held during the stand-up finds it idle: it waits again.
    let wake = interrupted(Interruption::Discard, idle_wait(&office, 0), 0.0);
    assert_eq!(coder.step(&mut cx, wake), idle_wait(&office, 0));

    let ledger = office.ledger.borrow();
    assert_eq!((ledger.coder_busy, ledger.idle_interrupts), (0.0, 1));
    assert_eq!(ledger.hands[0], Default::default(), "nothing in hand");
    assert!(cx.error().is_none(), "{:?}", cx.error());
}

#[test]
fn a_pair_job_is_parked_until_its_pair_work_is_over() {
    let params = Params {
        p_pair: 1.0,
        ..Params::default()
    };
    let (mut sim, office) = staffed_office(&params);
    let mut author = Coder::new(0, &params, office.clone());
    let mut partner = Coder::new(1, &params, office.clone());
    let mut cx = sim.context();

    author.step(&mut cx, Wake::Started);
    let partner_wait = partner.step(&mut cx, Wake::Started);
    let mut job = office.new_job(JobKind::Regular, 2.0, 0.0);
    job.pair = true;
    // Taken, planned as pair work, parked: the author looks for other work.
    assert_eq!(
        author.step(&mut cx, got_from_shared(&office, job)),
        idle_wait(&office, 0)
    );
    let pairing = author.parked()[0].0;
    assert_eq!(author.parked()[0].1.left, 2.0);
    assert_eq!(
        office.purpose(pairing),
        Some(Purpose::Pair { job: 0, author: 0 })
    );
    assert_eq!(
        office.ledger.borrow().hands[0].of(JobKind::Regular),
        1,
        "a parked job is in progress"
    );
    assert_eq!(cx.activity_view(pairing).unwrap().started_at(), None);
    let other = office.new_job(JobKind::Regular, 1.0, 0.0);
    let working = author.step(&mut cx, got_from_shared(&office, other));
    assert_eq!(working, Command::Sleep(1.0));
    drop(cx);

    // At t = 0.25 a partner is free: both are pulled in, the author from its other job.
    sim.run_until(0.25).unwrap();
    let mut cx = sim.context();
    let cmd = author.step(&mut cx, summoned(pairing, working, 0.25));
    assert_eq!(cmd, Command::Attend(pairing));
    assert_eq!(lefts(&author), [0.75]);
    let cmd = partner.step(&mut cx, summoned(pairing, partner_wait, 0.25));
    assert_eq!(cmd, Command::Attend(pairing));
    drop(cx);

    // At t = 2.25 it is over: the job is coded (complete: no testers), both coders were busy
    // for its whole duration, the author resumes its other job, the partner waits again.
    sim.run_until(2.25).unwrap();
    let mut cx = sim.context();
    assert_eq!(
        author.step(&mut cx, Wake::Completed(Outcome::ActivityOver(pairing))),
        Command::Sleep(0.75)
    );
    assert_eq!(
        partner.step(&mut cx, Wake::Completed(Outcome::ActivityOver(pairing))),
        idle_wait(&office, 1)
    );
    assert!(author.parked().is_empty());
    let ledger = office.ledger.borrow();
    assert_eq!(ledger.finished.of(JobKind::Regular), 1);
    assert_eq!(ledger.coder_busy, 0.25 + 2.0 + 2.0);
    assert_eq!(ledger.hands[0].of(JobKind::Regular), 1, "the other job");
    assert!(cx.error().is_none(), "{:?}", cx.error());
}

#[test]
fn an_author_that_joins_its_pair_work_late_pairs_again_on_what_is_left() {
    let params = Params {
        n_coder: 3,
        p_pair: 1.0,
        ..Params::default()
    };
    let (mut sim, office) = staffed_office(&params);
    let mut author = Coder::new(0, &params, office.clone());
    let mut cx = sim.context();

    author.step(&mut cx, Wake::Started);
    let mut job = office.new_job(JobKind::Regular, 2.0, 0.0);
    job.pair = true;
    let wait = author.step(&mut cx, got_from_shared(&office, job));
    let pairing = author.parked()[0].0;
    drop(cx);
    // The pairing started at t = 0 while the author was in another activity: it joins at
    // t = 0.5, and at the end (t = 2) has paired for 1.5 of the 2.
    sim.run_until(0.5).unwrap();
    let mut cx = sim.context();
    author.step(&mut cx, summoned(pairing, wait, 0.5));
    drop(cx);
    sim.run_until(2.0).unwrap();
    let mut cx = sim.context();
    assert_eq!(
        author.step(&mut cx, Wake::Completed(Outcome::ActivityOver(pairing))),
        idle_wait(&office, 0)
    );
    let (again, piece) = &author.parked()[0];
    assert_ne!(*again, pairing);
    assert!((piece.left - 0.5).abs() < 1e-12, "{}", piece.left);
    assert_eq!(
        office.purpose(*again),
        Some(Purpose::Pair { job: 0, author: 0 })
    );
    let ledger = office.ledger.borrow();
    assert_eq!(ledger.finished.of(JobKind::Regular), 0);
    assert_eq!(ledger.coder_busy, 1.5);
    assert!(cx.error().is_none(), "{:?}", cx.error());
}

#[test]
fn the_shared_queue_follows_the_policy() {
    for (policy, expected) in [
        (Policy::Oldest, [0, 1, 2]),
        (Policy::Newest, [2, 1, 0]),
        (Policy::Shortest, [1, 2, 0]),
        (Policy::Longest, [0, 2, 1]),
    ] {
        let (mut sim, office) = office(&Params {
            policy,
            ..Params::default()
        });
        let mut cx = sim.context();
        for (t, duration) in [(1.0, 3.0), (2.0, 1.0), (3.0, 2.0)] {
            let mut job = office.new_job(JobKind::Regular, duration, t);
            job.t_queued = t;
            cx.try_put(office.shared, job).unwrap();
        }
        let order: Vec<u64> = (0..3)
            .map(|_| cx.try_get(office.shared).unwrap().id)
            .collect();
        assert_eq!(order, expected, "{policy:?}");
    }
}

// ----- nothing lost -----

#[test]
fn accounting_identity_holds_in_every_mode_and_sweep() {
    let mut runs = 0;
    for interrupts in [
        Interrupts::None,
        Interrupts::Discard,
        Interrupts::Resume,
        Interrupts::Decomp,
    ] {
        for n_coder in [1, 3] {
            for n_tester in [0, 2] {
                for t_interrupt_interval in [0.3, 5.0] {
                    for (rework, t_integration) in [(Rework::Same, 0.0), (Rework::Any, 0.3)] {
                        for seed in 0..6_u64 {
                            let params = Params {
                                n_coder,
                                n_tester,
                                interrupts,
                                t_interrupt_interval,
                                rework,
                                t_integration,
                                t_sim: 60.0,
                                t_job_interval: 1.0,
                                t_decomposition: 0.4,
                                policy: [
                                    Policy::Oldest,
                                    Policy::Newest,
                                    Policy::Shortest,
                                    Policy::Longest,
                                ][seed as usize % 4],
                                seed,
                                ..Params::default()
                            };
                            let run = simulate(&params, replication_seed(seed, 0))
                                .unwrap_or_else(|e| panic!("{params:?}: {e}"));
                            assert!(run.accounting.holds(), "{params:?}: {}", run.accounting);
                            assert!(run.metrics.created > 0);
                            runs += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(runs, 4 * 2 * 2 * 2 * 2 * 6);
}

/// The activity records' invariants: lateness ≥ 0; everyone who joined leaves at the end; no
/// coder in two activities at once; stand-ups on time, for every coder; pair work for its
/// author and one other coder, who is free when chosen and so never late.
fn check_activities(params: &Params, run: &Run) {
    let mut spans: Vec<Vec<(f64, f64)>> = vec![Vec::new(); params.n_coder];
    for a in &run.activities {
        let Some(start) = a.started_at else {
            assert!(matches!(a.purpose, Purpose::Pair { .. }), "{a:?}");
            assert!(a.attendance.is_empty());
            continue;
        };
        match a.purpose {
            Purpose::StandUp => {
                assert_eq!(start, a.planned_start, "{a:?}");
                let coders: Vec<usize> = a.attendance.iter().map(|p| p.coder).collect();
                assert_eq!(coders, (0..params.n_coder).collect::<Vec<_>>());
            }
            Purpose::Pair { author, .. } => {
                assert!(start >= a.planned_start, "{a:?}");
                let [first, partner] = &a.attendance[..] else {
                    panic!("a pair is two coders: {a:?}")
                };
                assert_eq!(first.coder, author);
                assert_ne!(partner.coder, author);
                assert_eq!(partner.lateness, Some(0.0), "{a:?}");
            }
        }
        for p in &a.attendance {
            match p.joined_at {
                Some(joined) => {
                    assert!(p.lateness.unwrap() >= 0.0, "{a:?}");
                    assert_eq!(p.left_at, a.ended_at, "released at the end: {a:?}");
                    spans[p.coder].push((joined, p.left_at.unwrap_or(params.t_sim)));
                }
                None => assert_eq!(p.left_at, None),
            }
        }
    }
    for (coder, mut spans) in spans.into_iter().enumerate() {
        spans.sort_by(|a, b| a.partial_cmp(b).unwrap());
        for w in spans.windows(2) {
            assert!(w[1].0 >= w[0].1, "coder {coder} in two activities: {w:?}");
        }
    }
}

#[test]
fn accounting_identity_holds_with_standups_and_pairs_in_every_mode() {
    let mut runs = 0;
    for interrupts in [
        Interrupts::None,
        Interrupts::Discard,
        Interrupts::Resume,
        Interrupts::Decomp,
    ] {
        for n_coder in [1, 2, 3] {
            // No stand-ups, short ones, and ones longer than their interval (they pile up).
            for (t_standup_interval, t_standup_duration) in [(0.0, 0.0), (3.0, 0.4), (1.0, 1.5)] {
                for p_pair in [0.0, 0.5, 1.0] {
                    for seed in 0..6_u64 {
                        let params = Params {
                            n_coder,
                            n_tester: seed as usize % 2,
                            interrupts,
                            t_interrupt_interval: 0.5,
                            t_standup_interval,
                            t_standup_duration,
                            p_pair,
                            rework: [Rework::Same, Rework::Any][seed as usize / 2 % 2],
                            t_integration: [0.0, 0.3][seed as usize / 2 % 2],
                            policy: [Policy::Oldest, Policy::Shortest, Policy::Newest]
                                [seed as usize % 3],
                            t_sim: 40.0,
                            t_job_interval: 1.0,
                            t_decomposition: 0.4,
                            seed,
                            ..Params::default()
                        };
                        let run = simulate(&params, replication_seed(seed, 0))
                            .unwrap_or_else(|e| panic!("{params:?}: {e}"));
                        assert!(run.accounting.holds(), "{params:?}: {}", run.accounting);
                        check_activities(&params, &run);
                        let m = &run.metrics;
                        assert_eq!(m.standups > 0, params.standups(), "{params:?}");
                        // (Stand-ups that overrun their interval leave no time to pair.)
                        assert!(m.pairs == 0 || params.pairs(), "{params:?}");
                        runs += 1;
                    }
                }
            }
        }
    }
    assert_eq!(runs, 4 * 3 * 3 * 3 * 6);
}

#[test]
fn the_audit_notices_a_missing_job() {
    let (sim, office) = office(&Params::default());
    let kept = office.new_job(JobKind::Regular, 1.0, 0.0);
    let _lost = office.new_job(JobKind::Regular, 1.0, 0.0);
    office.ledger.borrow_mut().hands[0].add(kept.kind);
    let err = Accounting::audit(&sim, &office).expect_err("one job is nowhere");
    assert!(err.contains("created 2 ≠ completed 0"), "{err}");
}

// ----- analytic checks -----

/// E[X] and E[X²] of LN(mu, sigma).
fn lognormal_moments(mu: f64, sigma: f64) -> (f64, f64) {
    let s2 = sigma * sigma;
    ((mu + s2 / 2.0).exp(), (2.0 * mu + 2.0 * s2).exp())
}

#[test]
fn one_coder_is_an_mg1_queue() {
    let p = Params::default();
    let (es, es2) = lognormal_moments(p.t_job_mean, p.t_job_std);
    let scenarios: Vec<Params> = [3.0, 4.0]
        .map(|t_job_interval| Params {
            n_coder: 1,
            t_job_interval,
            t_sim: 20_000.0,
            ..Params::default()
        })
        .into();
    let results = replicate(&scenarios, 24);
    for (params, runs) in scenarios.iter().zip(&results) {
        let lambda = 1.0 / params.t_job_interval;
        let rho = lambda * es;
        let wq = lambda * es2 / (2.0 * (1.0 - rho));
        let label = format!("M/G/1, t_job_interval={}", params.t_job_interval);
        let util = summary(runs, |r| r.metrics.utilization);
        assert_close(&format!("{label}: utilization (ρ)"), &util, rho, 0.05);
        let delay = summary(runs, |r| r.metrics.mean_delay.expect("jobs started"));
        assert_close(&format!("{label}: mean delay (P-K W_q)"), &delay, wq, 0.15);
    }
}

#[test]
fn resume_mode_utilization_is_the_offered_load() {
    let params = Params {
        n_coder: 2,
        interrupts: Interrupts::Resume,
        t_sim: 5_000.0,
        ..Params::default()
    };
    let (es, _) = lognormal_moments(params.t_job_mean, params.t_job_std);
    let (ei, _) = lognormal_moments(params.t_interrupt_mean, params.t_interrupt_std);
    let expected = (es / params.t_job_interval + ei / params.t_interrupt_interval) / 2.0;
    let runs = &replicate(std::slice::from_ref(&params), 16)[0];
    let util = summary(runs, |r| r.metrics.utilization);
    assert_close("resume, 2 coders: utilization", &util, expected, 0.05);
}

#[test]
fn integration_work_adds_to_utilization() {
    let t_integration = 0.2;
    for n_coder in [2, 4] {
        let params = Params {
            n_coder,
            t_integration,
            t_sim: 5_000.0,
            ..Params::default()
        };
        let (es, _) = lognormal_moments(params.t_job_mean, params.t_job_std);
        let lambda = 1.0 / params.t_job_interval;
        let n = n_coder as f64;
        let expected = (lambda * es + lambda * n * t_integration) / n;
        let runs = &replicate(std::slice::from_ref(&params), 16)[0];
        let util = summary(runs, |r| r.metrics.utilization);
        let what = format!("integration {t_integration}, {n_coder} coders: utilization");
        assert_close(&what, &util, expected, 0.05);
    }
}

#[test]
fn discarded_fraction_rises_with_the_interrupt_rate() {
    let scenarios: Vec<Params> = [20.0, 5.0, 1.25]
        .map(|t_interrupt_interval| Params {
            interrupts: Interrupts::Discard,
            t_interrupt_interval,
            t_sim: 2_000.0,
            ..Params::default()
        })
        .into();
    let results = replicate(&scenarios, 12);
    let fraction = |r: &Run| r.metrics.discarded as f64 / r.metrics.created as f64;
    for k in 1..scenarios.len() {
        // Same seeds, so the scenarios are paired replication by replication.
        let rises: Vec<f64> = results[k]
            .iter()
            .zip(&results[k - 1])
            .map(|(hi, lo)| fraction(hi) - fraction(lo))
            .collect();
        let s = Summary::of(&rises).unwrap();
        let se = s.std_dev.unwrap() / (s.n as f64).sqrt();
        println!(
            "discard: fraction at t_interrupt_interval={} is {:.4}, {:.4} ± {:.4} (1 s.e.) above {}",
            scenarios[k].t_interrupt_interval,
            summary(&results[k], fraction).mean,
            s.mean,
            se,
            scenarios[k - 1].t_interrupt_interval,
        );
        assert!(s.mean > 4.0 * se, "the discarded fraction rises");
    }
}

/// The mean of `hi - lo` over replications paired by seed, and its standard error.
fn paired(his: &[Run], los: &[Run], metric: fn(&Run) -> f64) -> (f64, f64) {
    let diffs: Vec<f64> = his
        .iter()
        .zip(los)
        .map(|(hi, lo)| metric(hi) - metric(lo))
        .collect();
    let s = Summary::of(&diffs).unwrap();
    (s.mean, s.std_dev.unwrap() / (s.n as f64).sqrt())
}

#[test]
fn meetings_take_their_share_and_cut_throughput_once_capacity_runs_short() {
    // Two coders with 79% of their time needed for jobs; stand-ups every 4 ticks taking 0%,
    // 10% and 30% of it. 10% leaves enough time (90% > 79%); 30% does not.
    let shares = [0.0, 0.1, 0.3];
    let scenarios: Vec<Params> = shares
        .map(|share| Params {
            n_coder: 2,
            t_job_interval: 1.25,
            t_standup_interval: 4.0,
            t_standup_duration: 4.0 * share,
            t_sim: 2_000.0,
            ..Params::default()
        })
        .into();
    let results = replicate(&scenarios, 12);
    let (es, _) = lognormal_moments(Params::default().t_job_mean, Params::default().t_job_std);
    for ((params, runs), share) in scenarios.iter().zip(&results).zip(shares) {
        let coder_time = params.n_coder as f64 * params.t_sim;
        for run in runs {
            let m = &run.metrics;
            // Nobody is ever late without pair work: each of the 500 stand-ups (the last ends
            // before t_sim) takes every coder for its whole duration.
            assert_eq!(m.standups, if share > 0.0 { 500 } else { 0 });
            let meeting_share = m.meeting_time / coder_time;
            assert!(
                (meeting_share - share).abs() < 1e-9,
                "{meeting_share} != {share}"
            );
            // Coders code only outside meetings.
            assert!(m.utilization <= 1.0 - share + 1e-9, "{}", m.utilization);
        }
    }
    let throughput = |r: &Run| r.metrics.throughput;
    let delay = |r: &Run| r.metrics.mean_delay.unwrap();
    let utilization = |r: &Run| r.metrics.utilization;

    // 10%: the same jobs get done (throughput within 1% of no meetings), later.
    let (d, se) = paired(&results[1], &results[0], throughput);
    println!("meetings 10%: throughput {d:+.4} ± {se:.4} (1 s.e.) against none");
    assert!(d.abs() <= 4.0 * se + 0.01 * 0.8, "throughput moved by {d}");
    let (d, se) = paired(&results[1], &results[0], delay);
    println!("meetings 10%: mean delay {d:+.4} ± {se:.4} against none");
    assert!(d > 4.0 * se, "meetings delay the jobs");
    let (d, se) = paired(&results[1], &results[0], utilization);
    assert!(
        d.abs() <= 4.0 * se + 0.01,
        "same work, same utilization: {d}"
    );

    // 30%: the coders have 1.4 coders' time for 1.58 coders' work: they code whenever they
    // are not in a meeting (but for the first jobs, and the piece in progress at t_sim), and
    // throughput falls to what 1.4 coders can do.
    let (d, se) = paired(&results[2], &results[1], throughput);
    println!("meetings 30%: throughput {d:+.4} ± {se:.4} against 10%");
    assert!(d < -4.0 * se, "throughput falls");
    let capacity = 2.0 * (1.0 - 0.3) / es;
    let s = summary(&results[2], throughput);
    assert_close("meetings 30%: throughput", &s, capacity, 0.05);
    let s = summary(&results[2], utilization);
    println!("meetings 30%: utilization {:.4} (at most 0.7)", s.mean);
    assert!(
        s.mean > 0.7 - 0.01,
        "saturated coders are (nearly) never idle"
    );
}

#[test]
fn pair_work_costs_the_second_coders_time() {
    let p_pairs = [0.0, 0.25, 0.5];
    let scenarios: Vec<Params> = p_pairs
        .map(|p_pair| Params {
            p_pair,
            t_sim: 5_000.0,
            ..Params::default()
        })
        .into();
    let results = replicate(&scenarios, 12);
    let base = &scenarios[0];
    let (es, _) = lognormal_moments(base.t_job_mean, base.t_job_std);
    let lambda = 1.0 / base.t_job_interval;
    for ((params, runs), p_pair) in scenarios.iter().zip(&results).zip(p_pairs) {
        // A pair job takes both coders for its duration: the coders' load grows by p_pair.
        let label = format!("p_pair={p_pair}");
        let expected = lambda * es * (1.0 + p_pair) / params.n_coder as f64;
        let util = summary(runs, |r| r.metrics.utilization);
        assert_close(&format!("{label}: utilization"), &util, expected, 0.05);
        if p_pair > 0.0 {
            let pair_time = summary(runs, |r| r.metrics.pair_time / r.metrics.created as f64);
            let what = format!("{label}: second coder's time per job");
            assert_close(&what, &pair_time, p_pair * es, 0.1);
            assert!(runs.iter().all(|r| r.metrics.pair_wait.unwrap() > 0.0));
        }
    }
    for k in 1..scenarios.len() {
        let label = format!("p_pair={} against {}", p_pairs[k], p_pairs[k - 1]);
        // The same jobs get done (two coders have time enough), but each takes longer.
        let (d, se) = paired(&results[k], &results[k - 1], |r| r.metrics.throughput);
        println!("{label}: throughput {d:+.4} ± {se:.4}");
        assert!(d.abs() <= 4.0 * se + 0.01 * 0.5, "throughput moved by {d}");
        let (d, se) = paired(&results[k], &results[k - 1], |r| {
            r.metrics.lead_time.unwrap()
        });
        println!("{label}: lead time {d:+.4} ± {se:.4}");
        assert!(d > 4.0 * se, "pairing makes jobs take longer");
    }
}

// ----- determinism and the command line -----

#[test]
fn same_seed_and_any_thread_count_give_identical_json() {
    let args = [
        "interrupts=discard,resume",
        "n_coder=3",
        "n_tester=1",
        "t_standup_interval=5",
        "t_standup_duration=0.5",
        "p_pair=0.3",
        "t_sim=50",
        "--reps",
        "5",
        "--json",
    ];
    let one = run_cli(&[&args[..], &["--threads", "1"]].concat()).unwrap();
    let three = run_cli(&[&args[..], &["--threads", "3"]].concat()).unwrap();
    let again = run_cli(&[&args[..], &["--threads", "1"]].concat()).unwrap();
    assert_eq!(one, three, "thread count changed the results");
    assert_eq!(one, again, "same seed, different results");
    let other_seed = run_cli(&[&args[..], &["seed=2"]].concat()).unwrap();
    assert_ne!(one, other_seed);

    let doc: serde_json::Value = serde_json::from_str(&one).expect("valid JSON");
    assert_eq!(doc["schema"], "stepsim-team/1");
    let scenario = &doc["scenarios"][1];
    assert_eq!(scenario["label"], "interrupts=resume");
    assert_eq!(scenario["params"]["interrupts"], "resume");
    assert_eq!(scenario["replications"].as_array().unwrap().len(), 5);
    let rep = &scenario["replications"][0];
    let metric_keys: Vec<&String> = rep["metrics"].as_object().unwrap().keys().collect();
    let summary_keys: Vec<&String> = scenario["summary"].as_object().unwrap().keys().collect();
    assert_eq!(metric_keys, summary_keys, "one summary per metric");
    assert!(scenario["summary"]["utilization"]["ci95"][1].is_f64());
    assert_eq!(rep["metrics"]["standups"], 10.0);
    assert!(rep["metrics"]["pairs"].as_f64().unwrap() > 0.0);
}

#[test]
fn same_seed_gives_the_same_activities_and_jobs() {
    let params = Params {
        n_coder: 3,
        n_tester: 1,
        interrupts: Interrupts::Resume,
        t_standup_interval: 3.0,
        t_standup_duration: 0.4,
        p_pair: 0.5,
        t_sim: 100.0,
        ..Params::default()
    };
    for seed in [1, 2] {
        let a = simulate(&params, seed).unwrap();
        let b = simulate(&params, seed).unwrap();
        assert_eq!(a.activities, b.activities);
        assert_eq!(a.jobs, b.jobs);
        assert_eq!(a.metrics, b.metrics);
        assert!(!a.activities.is_empty());
    }
    let (one, two) = (simulate(&params, 1).unwrap(), simulate(&params, 2).unwrap());
    assert_ne!(one.activities, two.activities);
}

#[test]
fn a_sweep_is_the_cartesian_product_in_command_line_order() {
    let out = run_cli(&[
        "n_coder=1,2",
        "policy=oldest,newest,shortest",
        "t_sim=30",
        "--reps",
        "2",
    ])
    .unwrap();
    let scenarios: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("scenario ") && l.contains(':'))
        .collect();
    assert_eq!(
        scenarios,
        [
            "scenario 1: n_coder=1 policy=oldest",
            "scenario 2: n_coder=1 policy=newest",
            "scenario 3: n_coder=1 policy=shortest",
            "scenario 4: n_coder=2 policy=oldest",
            "scenario 5: n_coder=2 policy=newest",
            "scenario 6: n_coder=2 policy=shortest",
        ]
    );
    assert_eq!(out.matches("in 2/2 replications").count(), 6);
    assert!(out.contains("comparison"));
}

#[test]
fn params_lists_every_parameter_with_its_default() {
    let out = run_cli(&["--params"]).unwrap();
    for (name, default) in [
        ("n_coder", "2"),
        ("t_job_interval", "2"),
        ("policy", "oldest"),
        ("interrupts", "none"),
        ("t_decomposition", "0.5"),
        ("t_standup_interval", "0"),
        ("t_standup_duration", "0"),
        ("p_pair", "0"),
        ("seed", "1"),
    ] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from:\n{out}"));
        assert_eq!(line.split_whitespace().nth(1), Some(default), "{line}");
    }
    assert_eq!(out.lines().count(), 1 + team::params::PARAMS.len());
}

#[test]
fn bad_keys_and_values_are_clear_errors() {
    let e = usage_error(&["n_coders=2"]);
    assert!(
        e.contains("unknown parameter \"n_coders\" (did you mean n_coder?)"),
        "{e}"
    );
    assert!(
        e.contains("valid parameters: n_coder, n_tester, t_sim"),
        "{e}"
    );

    let e = usage_error(&["n_coder=1,two"]);
    assert!(
        e.contains("bad value for n_coder: \"two\" is not a whole number"),
        "{e}"
    );
    let e = usage_error(&["policy=fifo"]);
    assert!(
        e.contains("\"fifo\" is not one of oldest, newest, shortest, longest"),
        "{e}"
    );
    let e = usage_error(&["p_rework=1.5"]);
    assert!(e.contains("not a probability"), "{e}");
    let e = usage_error(&["t_sim=-1"]);
    assert!(e.contains("must be greater than 0"), "{e}");
    let e = usage_error(&["--reps", "0"]);
    assert!(
        e.contains("invalid value '0' for '--reps <N>': needs a whole number of at least 1"),
        "{e}"
    );
    let e = usage_error(&["--frobnicate"]);
    assert!(e.contains("unexpected argument '--frobnicate'"), "{e}");
    let e = usage_error(&["seed=1,2"]);
    assert!(e.contains("seed is the base seed of every scenario"), "{e}");
    let e = usage_error(&["--shard", "0/3"]);
    assert!(
        e.contains("bad shard \"0/3\": K must be from 1 to N (here 3)"),
        "{e}"
    );
    let e = usage_error(&["--shard", "1/3", "--precision", "5"]);
    assert!(e.contains("cannot be used with"), "{e}");
    let e = usage_error(&["--precision", "5", "--stop-on", "speed"]);
    assert!(e.contains("unknown metric \"speed\" to stop on"), "{e}");
    let e = usage_error(&["n_coder=1", "n_coder=2"]);
    assert!(e.contains("given twice"), "{e}");
}

#[test]
fn csv_and_svg_files_are_written() {
    let dir = std::env::temp_dir().join(format!("stepsim-team-test-{}", std::process::id()));
    let svg = dir.join("team.svg");
    let (dir_s, svg_s) = (dir.to_str().unwrap(), svg.to_str().unwrap());
    run_cli(&[
        "interrupts=none,resume",
        "t_standup_interval=10",
        "t_standup_duration=0.5",
        "p_pair=0.5",
        "t_sim=40",
        "--reps",
        "3",
        "--csv",
        dir_s,
        "--svg",
        svg_s,
    ])
    .unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(read("scenarios.csv").lines().count(), 1 + 2);
    assert_eq!(read("replications.csv").lines().count(), 1 + 2 * 3);
    assert!(read("jobs.csv").starts_with("scenario,rep,id,t_create,duration,t_start,t_end,fate"));
    assert!(read("samples.csv").contains(",shared,"));
    let activities = read("activities.csv");
    let mut rows = activities.lines();
    assert_eq!(
        rows.next(),
        Some(
            "scenario,rep,activity,kind,job,author,planned_start,started_at,ended_at,\
             coder,joined_at,left_at,lateness,time_spent"
        )
    );
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 14));
    // Stand-ups at t = 0, 10, 20, 30: one row per coder, 2 scenarios x 3 replications.
    let standups = rows.iter().filter(|r| r[3] == "stand-up").count();
    assert_eq!(standups, 2 * 3 * 4 * 2);
    assert!(rows.iter().any(|r| r[3] == "pair" && !r[4].is_empty()));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg") && picture.contains("interrupts=resume"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A temporary directory for one test, removed at the end.
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stepsim-team-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_long_csv_reads_back_with_a_csv_reader_and_matches_the_json() {
    #[derive(serde::Deserialize)]
    struct Row {
        scenario: usize,
        replication: usize,
        seed: u64,
        metric: String,
        value: Option<f64>,
    }
    let dir = scratch_dir("long-csv");
    let args = ["interrupts=none,resume", "t_sim=40", "--reps", "3"];
    let json = run_cli(&[&args[..], &["--json"]].concat()).unwrap();
    run_cli(&[&args[..], &["--csv", dir.to_str().unwrap()]].concat()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut reader = csv::Reader::from_path(dir.join("metrics.csv")).unwrap();
    let rows: Vec<Row> = reader.deserialize().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2 * 3 * 17);
    for row in &rows {
        let rep = &doc["scenarios"][row.scenario - 1]["replications"][row.replication];
        assert_eq!(rep["seed"], row.seed);
        assert_eq!(
            rep["metrics"][&row.metric].as_f64(),
            row.value,
            "{}",
            row.metric
        );
    }
    assert!(
        rows.iter().any(|r| r.value.is_none()),
        "undefined metrics are empty cells"
    );
    // The scenario table, with its labels, reads back too.
    let mut reader = csv::Reader::from_path(dir.join("scenarios.csv")).unwrap();
    let labels: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert_eq!(labels, ["interrupts=none", "interrupts=resume"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shard_files_round_trip_and_merge_into_the_one_process_json() {
    let dir = scratch_dir("shards");
    let args = [
        "interrupts=none,resume",
        "n_coder=1,2",
        "t_sim=40",
        "--reps",
        "4",
    ];
    let whole = run_cli(&[&args[..], &["--json"]].concat()).unwrap();
    let mut files = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let text = run_cli(&[&args[..], &["--shard", &shard, "--json"]].concat()).unwrap();
        let path = dir.join(format!("part{k}.json"));
        std::fs::write(&path, &text).unwrap();
        // Read back and written again: the same bytes (serde_json's float round trip).
        let (results, fixed) = team::output::read_shard(&path).unwrap();
        let mut again = Vec::new();
        team::output::shard_json(&mut again, &results, &fixed).unwrap();
        assert_eq!(String::from_utf8(again).unwrap(), text);
        files.push(path.to_str().unwrap().to_owned());
    }
    let merge = |files: &[&str], json: bool| {
        let mut a = vec!["--merge"];
        a.extend(files);
        if json {
            a.push("--json");
        }
        run_cli(&a)
    };
    let f: Vec<&str> = files.iter().map(String::as_str).collect();
    assert_eq!(merge(&[f[2], f[0], f[1]], true).unwrap(), whole);
    let table = run_cli(&args).unwrap();
    assert_eq!(merge(&f, false).unwrap(), table);

    let err = |r: Result<String, cli::AppError>| match r {
        Err(e @ cli::AppError::Run(_)) => e.to_string(),
        other => panic!("expected a merge error, got {other:?}"),
    };
    assert_eq!(err(merge(&f[..2], true)), "cannot merge: shard 3/3 missing");
    assert_eq!(
        err(merge(&[f[0], f[1], f[1]], true)),
        "cannot merge: shard 2/3 is given twice"
    );
    let other = dir.join("other.json");
    let text = run_cli(&["t_sim=40", "--reps", "4", "--shard", "3/3", "--json"]).unwrap();
    std::fs::write(&other, text).unwrap();
    let e = err(merge(&[f[0], f[1], other.to_str().unwrap()], true));
    assert!(e.contains("cannot merge"), "{e}");
    let whole_file = dir.join("whole.json");
    std::fs::write(&whole_file, &whole).unwrap();
    let e = err(merge(&[whole_file.to_str().unwrap()], true));
    assert!(e.contains("not a shard file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sequential_stopping_on_the_command_line_meets_its_target_on_any_threads() {
    let args = [
        "interrupts=none,resume",
        "t_sim=50",
        "--precision",
        "8",
        "--json",
    ];
    let one = run_cli(&[&args[..], &["--threads", "1"]].concat()).unwrap();
    let three = run_cli(&[&args[..], &["--threads", "3"]].concat()).unwrap();
    assert_eq!(one, three);
    let doc: serde_json::Value = serde_json::from_str(&one).unwrap();
    let reps = doc["reps"].as_u64().unwrap();
    assert!((5..1000).contains(&reps), "{reps}");
    for scenario in doc["scenarios"].as_array().unwrap() {
        assert_eq!(
            scenario["replications"].as_array().unwrap().len() as u64,
            reps
        );
        let s = &scenario["summary"]["throughput"];
        let (lo, hi, mean) = (
            s["ci95"][0].as_f64().unwrap(),
            s["ci95"][1].as_f64().unwrap(),
            s["mean"].as_f64().unwrap(),
        );
        assert!((hi - lo) / 2.0 <= 0.08 * mean);
    }
    // The same replications as a fixed run of that many.
    let fixed = run_cli(&[
        "interrupts=none,resume",
        "t_sim=50",
        "--reps",
        &reps.to_string(),
        "--json",
    ])
    .unwrap();
    assert_eq!(fixed, one);
}

#[test]
fn one_replication_reruns_alone_with_its_seed() {
    let all = run_cli(&["t_sim=40", "--reps", "5", "--json"]).unwrap();
    let one = run_cli(&["t_sim=40", "--rep", "3", "--json"]).unwrap();
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    let one: serde_json::Value = serde_json::from_str(&one).unwrap();
    let rep = &one["scenarios"][0]["replications"][0];
    assert_eq!(rep["rep"], 3);
    assert_eq!(rep["seed"], replication_seed(1, 3));
    assert_eq!(rep, &all["scenarios"][0]["replications"][3]);
}

/// The team saved and restored mid-run, at several points (`simulate_with_checkpoints`:
/// simulation and office to JSON and back into fresh ones), ends with the same JSON report
/// as the uninterrupted run, in every interrupt mode, with stand-ups, pair work, testers
/// and every queue policy. Needs the serde feature: `cargo test --all-features --test team`
/// (which `.ci/run` runs).
#[cfg(feature = "serde")]
#[test]
fn the_team_saved_and_restored_mid_run_ends_with_the_same_json() {
    use stepsim::experiment::Sweep;
    use team::model::simulate_with_checkpoints;
    use team::output::{Report, json};

    let base = Params {
        t_sim: 60.0,
        t_interrupt_interval: 1.0,
        ..Params::default()
    };
    let sweep = Sweep::parse(
        &base,
        &[
            "interrupts=none,discard,resume,decomp".to_owned(),
            "n_tester=0,1".to_owned(),
            "t_standup_interval=0,7".to_owned(),
            "t_standup_duration=0.5".to_owned(),
            "p_pair=0,0.5".to_owned(),
            "policy=oldest,newest,shortest,longest".to_owned(),
        ],
    )
    .unwrap();
    let scenarios = sweep.scenarios(&base).unwrap();
    let report = |checkpoints: &[f64]| {
        let results = Experiment::new(scenarios.clone())
            .reps(3)
            .run(|p: &Params, seed| simulate_with_checkpoints(p, seed, checkpoints))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        json(&mut out, &Report::new(results, sweep.fixed())).unwrap();
        String::from_utf8(out).unwrap()
    };
    let uncut = report(&[]);
    assert!(
        uncut.contains("\"completed\""),
        "a report: {}",
        &uncut[..200]
    );
    for cuts in [&[0.0][..], &[13.7], &[5.0, 21.25, 40.0, 59.999]] {
        assert!(
            report(cuts) == uncut,
            "saved and restored at {cuts:?}: another report"
        );
    }
}
