//! Shards: one process's share of an experiment's tasks, and merging the shards' results.
//!
//! Batch engines (a Slurm job array, a Kubernetes indexed Job) already start N copies of a
//! program with an index each; stepsim only needs to split the work deterministically and
//! check the pieces when they are put back together.

use super::{ExperimentError, Results};
use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (1-based, written `K/N`): it runs the tasks `t` (task
/// `scenario · reps + replication`) with `t mod N = K − 1`.
///
/// ```
/// use stepsim::experiment::Shard;
/// let shard: Shard = "2/3".parse()?;
/// assert_eq!((shard.index(), shard.count()), (2, 3));
/// assert!(shard.owns(1) && shard.owns(4) && !shard.owns(2));
/// assert_eq!(shard.to_string(), "2/3");
/// assert_eq!("4/3".parse::<Shard>().unwrap_err().to_string(),
///            "bad shard \"4/3\": K must be from 1 to N (here 3)");
/// # Ok::<(), stepsim::experiment::ExperimentError>(())
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    /// Shard `index` of `count`. Errors: `count` is 0, or `index` is not in `1..=count`.
    pub fn new(index: usize, count: usize) -> Result<Shard, ExperimentError> {
        let bad = |reason: String| ExperimentError::BadShard {
            text: format!("{index}/{count}"),
            reason,
        };
        if count == 0 {
            return Err(bad("N must be at least 1".to_owned()));
        }
        if !(1..=count).contains(&index) {
            return Err(bad(format!("K must be from 1 to N (here {count})")));
        }
        Ok(Shard { index, count })
    }

    /// Its number `K`, from 1.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many shards there are, `N`.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether task number `task` is this shard's.
    pub fn owns(&self, task: usize) -> bool {
        task % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ExperimentError;

    /// `K/N`, e.g. `1/3`; errors say what is wrong (`0/3`, `4/3`, `a/b`, `3`).
    fn from_str(text: &str) -> Result<Shard, ExperimentError> {
        let bad = |reason: &str| ExperimentError::BadShard {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected K/N, e.g. 1/3"))?;
        let k: usize = k
            .trim()
            .parse()
            .map_err(|_| bad("K is not a whole number"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        Shard::new(k, n).map_err(|e| match e {
            ExperimentError::BadShard { reason, .. } => ExperimentError::BadShard {
                text: text.to_owned(),
                reason,
            },
            other => other,
        })
    }
}

impl<P: PartialEq, R> Results<P, R> {
    /// Combines the results of every shard of one experiment, in any order, into exactly the
    /// results of an unsharded run.
    ///
    /// Errors ([`ExperimentError::Merge`]): no parts, a part that is not a shard, parts of
    /// different experiments (another shard count, seed, replication count or scenarios), a
    /// shard given twice or missing, or a shard whose replications are not its share.
    pub fn merge(parts: Vec<Results<P, R>>) -> Result<Results<P, R>, ExperimentError> {
        let merge = |m: String| Err(ExperimentError::Merge(m));
        let Some(first) = parts.first() else {
            return merge("no shards given".to_owned());
        };
        let Some(first_shard) = first.shard else {
            return merge("part 1 is not a shard (it is a whole run)".to_owned());
        };
        let count = first_shard.count();
        let mut seen = vec![false; count];
        for (i, part) in parts.iter().enumerate() {
            let Some(shard) = part.shard else {
                return merge(format!("part {} is not a shard (it is a whole run)", i + 1));
            };
            let other = |what: &str, a: &dyn fmt::Display, b: &dyn fmt::Display| {
                ExperimentError::Merge(format!(
                    "shard {shard} (part {}) is from another experiment: its {what} is {a}, \
                     not {b} as in shard {first_shard}",
                    i + 1
                ))
            };
            if shard.count() != count {
                return Err(other("shard count", &shard.count(), &count));
            }
            if part.seed != first.seed {
                return Err(other("seed", &part.seed, &first.seed));
            }
            if part.reps != first.reps {
                return Err(other("replication count", &part.reps, &first.reps));
            }
            if part.target_met.is_some() {
                return merge(format!(
                    "shard {shard} (part {}) used sequential stopping, which cannot be sharded",
                    i + 1
                ));
            }
            let same_scenarios = part.scenarios.len() == first.scenarios.len()
                && part
                    .scenarios
                    .iter()
                    .zip(&first.scenarios)
                    .all(|(a, b)| a.label == b.label && a.params == b.params);
            if !same_scenarios {
                return merge(format!(
                    "shard {shard} (part {}) is from another experiment: its scenarios differ \
                     from shard {first_shard}'s",
                    i + 1
                ));
            }
            if std::mem::replace(&mut seen[shard.index() - 1], true) {
                return merge(format!("shard {shard} is given twice"));
            }
            for (s, scenario) in part.scenarios.iter().enumerate() {
                let mine: Vec<usize> = (0..part.reps)
                    .filter(|r| shard.owns(s * part.reps + r))
                    .collect();
                let has: Vec<usize> = scenario.replications.iter().map(|r| r.index).collect();
                if has != mine {
                    return merge(format!(
                        "shard {shard} (part {}) does not hold its share of scenario {} ({}): \
                         replications {has:?}, expected {mine:?}",
                        i + 1,
                        s + 1,
                        scenario.label
                    ));
                }
            }
        }
        let missing: Vec<String> = (1..=count)
            .filter(|k| !seen[k - 1])
            .map(|k| format!("{k}/{count}"))
            .collect();
        if !missing.is_empty() {
            return merge(format!("shard {} missing", missing.join(", ")));
        }

        let mut parts = parts.into_iter();
        let mut merged = parts.next().expect("checked above");
        merged.shard = None;
        for part in parts {
            for (into, from) in merged.scenarios.iter_mut().zip(part.scenarios) {
                into.replications.extend(from.replications);
            }
        }
        for scenario in &mut merged.scenarios {
            scenario.replications.sort_by_key(|r| r.index);
        }
        Ok(merged)
    }
}
