use super::*;
use crate::rand::RngExt;
use crate::{Boxed, Simulation};

/// A toy model: `x` is the mean of 20 uniform draws scaled by `params`, `n` counts them.
fn toy(scale: &f64, seed: u64) -> Result<Metrics, String> {
    let mut rng = Simulation::<Boxed<()>>::new(seed).new_stream(1);
    let x = (0..20).map(|_| rng.random::<f64>()).sum::<f64>() / 20.0 * scale;
    Ok(Metrics::new()
        .with("x", x)
        .with("n", 20.0)
        .with("undefined", None))
}

fn scenarios() -> Vec<Scenario<f64>> {
    vec![
        Scenario::new("one", 1.0),
        Scenario::new("two", 2.0),
        Scenario::new("three", 3.0),
    ]
}

#[test]
fn replication_seeds_come_from_the_base_seed_and_number_only() {
    let results = Experiment::new(scenarios())
        .reps(5)
        .seed(9)
        .run(toy)
        .unwrap();
    for scenario in &results.scenarios {
        let seeds: Vec<u64> = scenario.replications.iter().map(|r| r.seed).collect();
        let expected: Vec<u64> = (0..5).map(|r| replication_seed(9, r)).collect();
        assert_eq!(seeds, expected, "common random numbers across scenarios");
        let indices: Vec<usize> = scenario.replications.iter().map(|r| r.index).collect();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
    }
    // Same seeds, scaled model: the draws are the same.
    let x = |s: usize, r: usize| {
        results.scenarios[s].replications[r]
            .output
            .get("x")
            .unwrap()
    };
    assert!((x(1, 3) - 2.0 * x(0, 3)).abs() < 1e-12);
    // The team example's derivation from before this module: its numbers stay the same.
    assert_eq!(replication_seed(1, 0), 16490336266968443936);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let one = Experiment::new(scenarios()).reps(13).threads(1).run(toy);
    let four = Experiment::new(scenarios()).reps(13).threads(4).run(toy);
    assert_eq!(one.unwrap(), four.unwrap());
}

#[test]
fn summaries_skip_undefined_metrics_and_match_stats() {
    let results = Experiment::new(scenarios()).reps(10).run(toy).unwrap();
    let s = results.scenarios[0].summaries();
    let names: Vec<&str> = s.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(names, ["x", "n"]);
    let values: Vec<f64> = results.scenarios[0]
        .replications
        .iter()
        .map(|r| r.output.get("x").unwrap())
        .collect();
    let direct = Summary::of(&values).unwrap();
    assert_eq!(s[0].summary, direct);
    assert_eq!(s[0].half_width(), Some(direct.ci95().unwrap().half_width));
    assert_eq!(s[1].sd(), Some(0.0));
    assert_eq!(s[1].relative_half_width(), Some(0.0));
    assert_eq!(results.scenarios[0].summary("x"), Some(s[0].clone()));
    let rows = results.rows();
    assert_eq!(rows.len(), 3 * 10 * 3);
    assert_eq!(
        (
            rows[4].scenario.as_str(),
            rows[4].replication,
            rows[4].metric.as_str()
        ),
        ("one", 1, "n")
    );
    let table = results.table().to_string();
    assert!(
        table.contains("two: x") && table.contains("ci95_rel_half_width"),
        "{table}"
    );
}

#[test]
fn the_first_failing_task_is_named_whatever_the_threads() {
    let failing = |scale: &f64, seed: u64| -> Result<Metrics, String> {
        if *scale == 2.0 && (seed == replication_seed(1, 3) || seed == replication_seed(1, 5)) {
            return Err("broken identity".to_owned());
        }
        if *scale == 3.0 && seed == replication_seed(1, 0) {
            panic!("a later task panics");
        }
        toy(scale, seed)
    };
    for threads in [1, 2, 4] {
        let e = Experiment::new(scenarios())
            .reps(8)
            .threads(threads)
            .run(failing)
            .unwrap_err();
        let ExperimentError::Failed(f) = &e else {
            panic!("{e}")
        };
        assert_eq!((f.scenario, f.replication), (1, 3));
        assert_eq!(f.seed, replication_seed(1, 3));
        assert!(!f.panicked);
        assert_eq!(
            e.to_string(),
            format!(
                "replication 3 of scenario 2 (two), seed {}, failed: broken identity",
                f.seed
            )
        );
    }
    // Rerun alone: the same seed, the same failure.
    let alone = Experiment::new(vec![Scenario::new("two", 2.0)])
        .only(3)
        .run(failing)
        .unwrap_err();
    let ExperimentError::Failed(f) = alone else {
        panic!()
    };
    assert_eq!((f.replication, f.seed), (3, replication_seed(1, 3)));
    let fine = Experiment::new(vec![Scenario::new("one", 1.0)])
        .only(3)
        .run(toy)
        .unwrap();
    assert_eq!(fine.reps, 1);
    assert_eq!(fine.scenarios[0].replications[0].index, 3);
}

#[test]
fn a_panicking_replication_is_a_failure_not_a_crash() {
    let e = Experiment::new(vec![Scenario::new("s", ())])
        .reps(3)
        .run(|_: &(), seed: u64| -> Result<Metrics, String> {
            if seed == replication_seed(1, 1) {
                panic!("index out of range");
            }
            Ok(Metrics::new())
        })
        .unwrap_err();
    let ExperimentError::Failed(f) = e else {
        panic!()
    };
    assert!(f.panicked && f.message == "index out of range" && f.replication == 1);
}

#[test]
fn sequential_stopping_is_deterministic_and_keeps_the_first_n() {
    let stop = Stopping::new(["x"], 0.02, 400);
    let run = |threads: usize, batch: usize| {
        Experiment::new(scenarios())
            .threads(threads)
            .until(stop.clone().batch(batch))
            .run(toy)
            .unwrap()
    };
    let a = run(1, 10);
    assert_eq!(a.target_met, Some(true));
    assert!(a.reps > 5 && a.reps < 400, "{}", a.reps);
    assert_eq!(a, run(4, 10), "thread count");
    assert_eq!(a, run(3, 7), "batch size");
    assert_eq!(a, run(2, 1000), "batch size");
    for scenario in &a.scenarios {
        assert_eq!(scenario.replications.len(), a.reps);
        assert!(
            scenario
                .summary("x")
                .unwrap()
                .relative_half_width()
                .unwrap()
                <= 0.02
        );
    }
    // One fewer would not do: n is the first count that meets the target in every scenario.
    let fixed = Experiment::new(scenarios())
        .reps(a.reps - 1)
        .run(toy)
        .unwrap();
    assert!(
        fixed
            .scenarios
            .iter()
            .any(|s| s.summary("x").unwrap().relative_half_width().unwrap() > 0.02)
    );
    // A fixed run of n replications is the same run.
    let same = Experiment::new(scenarios()).reps(a.reps).run(toy).unwrap();
    assert_eq!(same.scenarios, a.scenarios);

    let capped = Experiment::new(scenarios())
        .until(Stopping::new(["x"], 1e-6, 12))
        .run(toy)
        .unwrap();
    assert_eq!((capped.target_met, capped.reps), (Some(false), 12));
}

#[test]
fn sequential_stopping_errors() {
    let e = Experiment::new(scenarios())
        .until(Stopping::new(["y"], 0.05, 50))
        .run(toy)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown metric \"y\" to stop on; the metrics are: x, n, undefined"
    );
    let e = Experiment::new(scenarios())
        .until(Stopping::new(["x"], 0.05, 50))
        .shard(Shard::new(1, 2).unwrap())
        .run(toy)
        .unwrap_err();
    assert!(e.to_string().contains("cannot run as shard 1/2"), "{e}");
    let e = Experiment::new(scenarios())
        .until(Stopping::new(["x"], 0.0, 50))
        .run(toy)
        .unwrap_err();
    assert!(matches!(e, ExperimentError::Invalid(_)), "{e}");
    let e = Experiment::<f64>::new(vec![]).run(toy).unwrap_err();
    assert!(e.to_string().contains("at least one scenario"));
}

#[test]
fn shards_parse_with_clear_errors() {
    assert_eq!("3/3".parse::<Shard>().unwrap(), Shard::new(3, 3).unwrap());
    for (text, reason) in [
        ("0/3", "K must be from 1 to N (here 3)"),
        ("4/3", "K must be from 1 to N (here 3)"),
        ("1/0", "N must be at least 1"),
        ("a/b", "K is not a whole number"),
        ("1/b", "N is not a whole number"),
        ("3", "expected K/N, e.g. 1/3"),
    ] {
        let e = text.parse::<Shard>().unwrap_err();
        assert_eq!(e.to_string(), format!("bad shard {text:?}: {reason}"));
    }
}

fn sharded(count: usize, reps: usize) -> Vec<Results<f64, Metrics>> {
    (1..=count)
        .map(|k| {
            Experiment::new(scenarios())
                .reps(reps)
                .shard(Shard::new(k, count).unwrap())
                .run(toy)
                .unwrap()
        })
        .collect()
}

#[test]
fn merged_shards_are_the_unsharded_results() {
    let whole = Experiment::new(scenarios()).reps(7).run(toy).unwrap();
    let parts = sharded(3, 7);
    let sizes: Vec<usize> = parts
        .iter()
        .map(|p| p.scenarios.iter().map(|s| s.replications.len()).sum())
        .collect();
    assert_eq!(sizes, [7, 7, 7], "21 tasks, 7 each");
    let mut reversed = parts.clone();
    reversed.reverse();
    assert_eq!(Results::merge(parts).unwrap(), whole);
    assert_eq!(Results::merge(reversed).unwrap(), whole);
    // More shards than tasks: some are empty, the merge is still the whole.
    assert_eq!(Results::merge(sharded(30, 7)).unwrap(), whole);
}

#[test]
fn merge_errors_name_the_problem() {
    let err = |parts: Vec<Results<f64, Metrics>>| Results::merge(parts).unwrap_err().to_string();
    let parts = sharded(3, 4);
    assert_eq!(
        err(vec![parts[0].clone(), parts[1].clone()]),
        "cannot merge: shard 3/3 missing"
    );
    assert_eq!(
        err(vec![parts[0].clone(), parts[1].clone(), parts[1].clone()]),
        "cannot merge: shard 2/3 is given twice"
    );
    assert_eq!(err(vec![]), "cannot merge: no shards given");
    let mut other = sharded(3, 4).remove(2);
    other.seed = 2;
    assert!(
        err(vec![parts[0].clone(), parts[1].clone(), other])
            .contains("shard 3/3 (part 3) is from another experiment: its seed is 2, not 1")
    );
    let other = sharded(2, 4).remove(1);
    assert!(err(vec![parts[0].clone(), other]).contains("its shard count is 2, not 3"));
    let other = sharded(3, 5).remove(1);
    assert!(err(vec![parts[0].clone(), other]).contains("replication count is 5, not 4"));
    let mut other = parts[2].clone();
    other.scenarios[0].params = 9.0;
    assert!(err(vec![parts[0].clone(), parts[1].clone(), other]).contains("scenarios differ"));
    let mut other = parts[2].clone();
    other.scenarios[1].replications.pop();
    assert!(err(vec![parts[0].clone(), parts[1].clone(), other]).contains("its share"));
    let whole = Experiment::new(scenarios()).reps(4).run(toy).unwrap();
    assert_eq!(
        err(vec![whole]),
        "cannot merge: part 1 is not a shard (it is a whole run)"
    );
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Shop {
    servers: usize,
    policy: String,
}

impl Parameters for Shop {
    fn keys() -> Vec<Key> {
        vec![
            Key {
                name: "servers",
                description: "number of servers",
            },
            Key {
                name: "policy",
                description: "fifo or lifo",
            },
        ]
    }
    fn get(&self, key: &str) -> Option<String> {
        match key {
            "servers" => Some(self.servers.to_string()),
            "policy" => Some(self.policy.clone()),
            _ => None,
        }
    }
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "servers" => {
                self.servers = value
                    .parse()
                    .map_err(|_| format!("{value:?} is not a whole number"))?
            }
            "policy" if ["fifo", "lifo"].contains(&value) => self.policy = value.to_owned(),
            "policy" => return Err(format!("{value:?} is not one of fifo, lifo")),
            _ => unreachable!("the sweep checks keys"),
        }
        Ok(())
    }
}

#[test]
fn a_sweep_is_the_cartesian_product_first_key_slowest() {
    let base = Shop::default();
    let sweep = Sweep::parse(&base, ["servers=1,2", "policy=fifo,lifo"]).unwrap();
    assert_eq!(sweep.len(), 4);
    let labels: Vec<String> = sweep
        .scenarios(&base)
        .unwrap()
        .into_iter()
        .map(|s| s.label)
        .collect();
    assert_eq!(
        labels,
        [
            "servers=1 policy=fifo",
            "servers=1 policy=lifo",
            "servers=2 policy=fifo",
            "servers=2 policy=lifo"
        ]
    );
    let fixed = Sweep::parse(&base, ["servers=3", "policy=lifo,fifo"]).unwrap();
    assert_eq!(fixed.fixed(), ["servers=3"]);
    let s = fixed.scenarios(&base).unwrap();
    assert_eq!(s[1].label, "policy=fifo");
    assert_eq!(s[1].params.servers, 3);
    let one = Sweep::parse(&base, ["servers=3"])
        .unwrap()
        .scenarios(&base)
        .unwrap();
    assert_eq!(one[0].label, "servers=3");
    let none = Sweep::new().scenarios(&base).unwrap();
    assert_eq!((none.len(), none[0].label.as_str()), (1, "defaults"));
    assert_eq!(fixed.values("policy").unwrap(), ["lifo", "fifo"]);
}

#[test]
fn sweep_errors_are_clear() {
    let base = Shop::default();
    let err = |args: &[&str]| Sweep::parse(&base, args).unwrap_err().to_string();
    assert_eq!(
        err(&["server=1"]),
        "unknown parameter \"server\" (did you mean servers?); valid parameters: servers, policy"
    );
    assert_eq!(
        err(&["xyzzyplugh=1"]),
        "unknown parameter \"xyzzyplugh\"; valid parameters: servers, policy"
    );
    assert_eq!(
        err(&["servers=1,two"]),
        "bad value for servers: \"two\" is not a whole number"
    );
    assert_eq!(
        err(&["policy=fifo,random"]),
        "bad value for policy: \"random\" is not one of fifo, lifo"
    );
    assert_eq!(err(&["servers=1", "servers=2"]), "servers is given twice");
    assert_eq!(err(&["servers"]), "\"servers\" is not key=value[,value...]");
    assert!(matches!(
        Sweep::parse(&base, ["servers="]),
        Err(ExperimentError::BadValue { value, .. }) if value.is_empty()
    ));
}

#[test]
fn progress_reports_every_replication() {
    use std::sync::Mutex;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    Experiment::new(scenarios())
        .reps(4)
        .threads(3)
        .on_progress(move |p| log.lock().unwrap().push(p))
        .run(toy)
        .unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by_key(|p| p.done);
    let expected: Vec<Progress> = (1..=12).map(|done| Progress { done, total: 12 }).collect();
    assert_eq!(seen, expected);
}

#[cfg(feature = "serde")]
#[test]
fn results_round_trip_through_serde_json_exactly() {
    let shard = Experiment::new(scenarios())
        .reps(4)
        .shard("2/3".parse().unwrap())
        .run(toy)
        .unwrap();
    let text = serde_json::to_string(&shard).unwrap();
    let back: Results<f64, Metrics> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, shard, "every f64 parses back to the same bits");
    let summaries = shard.scenarios[0].summaries();
    let back: Vec<MetricSummary> =
        serde_json::from_str(&serde_json::to_string(&summaries).unwrap()).unwrap();
    assert_eq!(back, summaries);
    let rows: Vec<LongRow> =
        serde_json::from_str(&serde_json::to_string(&shard.rows()).unwrap()).unwrap();
    assert_eq!(rows, shard.rows());
}
