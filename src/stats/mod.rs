//! Statistics: observations, levels over time, confidence intervals, tables.
//!
//! Output analysis in four pieces, all plain values that a process (or the code around a
//! run) updates; none of them needs the engine.
//! - [`Tally`]: observations one at a time (waiting times, sojourn times): count, mean,
//!   sample variance, extremes, and percentiles from a histogram or the kept values.
//! - [`TimeWeighted`]: a level over simulated time (a queue's length, busy servers): the
//!   time-weighted mean and variance, extremes, time spent at zero.
//! - Confidence intervals: across independent replications with Student's t ([`Summary`],
//!   [`ConfidenceInterval`]), and within one long run by [batch means](batch_means).
//! - Output: [`Display`](std::fmt::Display) tables like salabim's `print_statistics`, a
//!   [`StatsTable`] of many statistics, long-format CSV, and serde (feature `serde`).
//!
//! # Observations and levels
//! ```
//! use stepsim::stats::{Tally, TimeWeighted};
//!
//! let mut waits = Tally::with_histogram(0.0, 10.0, 100)?; // percentiles in O(bins) memory
//! for w in [0.0, 1.2, 0.4, 3.5, 0.0, 2.2] {
//!     waits.add(w);
//! }
//! assert_eq!(waits.count(), 6);
//! assert!((waits.mean().unwrap() - 1.216_666_666_666_666_7).abs() < 1e-12);
//! println!("{waits}"); // n, mean, std.deviation, minimum, maximum, median, 90%, 95%
//!
//! // A queue's length: 0 until t = 2, 3 until t = 5, then 1.
//! let mut queue = TimeWeighted::new(0.0, 0.0)?;
//! queue.set(2.0, 3.0)?;
//! queue.add(5.0, -2.0)?;
//! assert_eq!(queue.mean(10.0), Some(1.4));
//! assert_eq!(queue.time_at_zero(10.0), Some(2.0));
//! # Ok::<(), stepsim::stats::StatsError>(())
//! ```
//!
//! # Warm-up
//! A run that starts empty is not in its steady state for a while. Call
//! [`Tally::reset`] and [`TimeWeighted::reset`] at the end of the warm-up period: the
//! statistics restart there (a time-weighted level keeps its current value), so the
//! steady-state estimates do not carry the initial transient.
//!
//! # Replications
//! The mean of each independent replication is one observation; their [`Summary`] gives the
//! Student t interval ([`Summary::ci`]). Here an M/M/1 queue (arrival rate 0.8, service rate
//! 1) by Lindley's recursion, whose mean wait in queue is ρ/(μ − λ) = 4:
//! ```
//! use stepsim::rand::SeedableRng;
//! use stepsim::rand_distr::{Distribution, Exp};
//! use stepsim::stats::{Summary, Tally};
//!
//! let (arrive, serve) = (Exp::new(0.8).unwrap(), Exp::new(1.0).unwrap());
//! let mut means = Vec::new();
//! for rep in 0..10 {
//!     let mut rng = rand_pcg::Pcg64::seed_from_u64(rep);
//!     let mut waits = Tally::new();
//!     let mut wait: f64 = 0.0;
//!     for customer in 0..40_000 {
//!         if customer == 4_000 {
//!             waits.reset(); // end of the warm-up
//!         }
//!         waits.add(wait);
//!         wait = (wait + serve.sample(&mut rng) - arrive.sample(&mut rng)).max(0.0);
//!     }
//!     means.push(waits.mean().unwrap());
//! }
//! let ci = Summary::of(&means)?.ci(0.95)?;
//! println!("mean wait {ci}"); // 3.98128 ± 0.103045 (95%, n=10)
//! assert!(ci.contains(4.0) && ci.relative_half_width().unwrap() < 0.1);
//! # Ok::<(), stepsim::stats::StatsError>(())
//! ```
//!
//! # Batch means
//! The observations of one run (successive waiting times, a queue length over time) are
//! correlated, so the iid interval of their mean is far too narrow. Batch means split the
//! steady-state part of the run into `k` consecutive batches of equal size (equal duration
//! for a level): [`batch_means`] for observations (kept with [`Tally::keeping_values`]),
//! [`time_weighted_batch_means`] for a level (changes kept with
//! [`TimeWeighted::keeping_changes`]). When the batches are long enough, their means are
//! nearly independent and nearly normal, and the Student t interval of the `k` batch means,
//! with k − 1 degrees of freedom, is the interval for the steady-state mean.
//!
//! The assumptions, which the caller must see to:
//! - **Steady state**: the warm-up is gone (reset the statistic at the warm-up time, or pass
//!   only the values after it). Batch means do not remove an initial transient.
//! - **Long batches**: each batch much longer than the correlation time of the series.
//!   Check [`lag1_autocorrelation`] of the batch means ([`batch_mean_values`],
//!   [`time_weighted_batch_mean_values`]): it should be near zero. Its own noise is about
//!   1/√k (±0.22 for 20 batches), so a value clearly above that, or positive in run after
//!   run, calls for fewer, longer batches or a longer run. Batches too short give intervals
//!   that are too narrow: they cover the true mean less often than their level says.
//! - **A fixed number of batches**, typically 10 to 30 (20 is a good default): fewer lose
//!   degrees of freedom (the t quantile grows), more make each batch short.
//! - For observations, the first `n mod k` are dropped so that the batches are equal; for a
//!   level, the interval [first change, end] is split into `k` equal durations.
//!
//! The number in an M/M/1 system with ρ = 0.5 averages ρ/(1 − ρ) = 1:
//! ```
//! use stepsim::rand::{RngExt, SeedableRng};
//! use stepsim::rand_distr::{Distribution, Exp};
//! use stepsim::stats::TimeWeighted;
//!
//! let (lambda, mu) = (0.5, 1.0);
//! let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
//! let mut in_system = TimeWeighted::new(0.0, 0.0)?.keeping_changes();
//! let (mut t, mut n) = (0.0, 0.0);
//! while t < 100_000.0 {
//!     let rate = if n > 0.0 { lambda + mu } else { lambda };
//!     t += Exp::new(rate).unwrap().sample(&mut rng);
//!     n += if rng.random::<f64>() * rate < lambda { 1.0 } else { -1.0 };
//!     in_system.set(t, n)?;
//!     if t > 1_000.0 && in_system.start() == 0.0 {
//!         in_system.reset(t)?; // warm-up over
//!     }
//! }
//! let ci = in_system.batch_means(t, 20, 0.95)?;
//! // 1.0328 ± 0.0261579 (95%, n=20): this run's interval just misses 1. A 95% interval
//! // misses in about one run in twenty, and more often when the batches are short.
//! println!("number in system {ci}");
//! assert!((ci.mean - 1.0).abs() < 0.1 && ci.half_width < 0.06);
//! let idle = in_system.time_at_zero(t).unwrap() / in_system.duration(t).unwrap();
//! assert!((idle - 0.5).abs() < 0.02); // P(empty) = 1 − ρ
//! # Ok::<(), stepsim::stats::StatsError>(())
//! ```
//!
//! # Tables and CSV
//! Each statistic prints as a two-column table; a [`StatsTable`] puts several in one table,
//! one row each, and writes them as long-format CSV (`name,statistic,value`).
//! ```
//! use stepsim::stats::{StatsTable, Summary, Tally, TimeWeighted};
//!
//! let mut wait = Tally::new();
//! for w in [0.5, 1.5, 4.0] { wait.add(w); }
//! let mut queue = TimeWeighted::new(0.0, 0.0)?;
//! queue.set(1.0, 2.0)?;
//! let reps = Summary::of(&[1.0, 2.0, 3.0])?;
//! let table = StatsTable::new()
//!     .tally("wait", &wait)
//!     .time_weighted("queue", &queue, 4.0)?
//!     .summary("wait per replication", &reps);
//! print!("{table}");
//! // name                  n  duration  mean   std_dev  min  max  time_at_zero  current  ci95_half_width
//! // ---------------------------------------------------------------------------------------------------
//! // wait                  3               2   1.80278  0.5    4
//! // queue                           4   1.5  0.866025    0    2             1        2
//! // wait per replication  3               2         1    1    3                                 2.48414
//! let csv = table.to_csv();
//! assert!(csv.lines().any(|l| l == "queue,mean,1.5"));
//! # Ok::<(), stepsim::stats::StatsError>(())
//! ```
//! With the `serde` feature, [`Tally`], [`TimeWeighted`], [`Histogram`], [`Summary`] and
//! [`ConfidenceInterval`] implement `Serialize` and `Deserialize`.
//!
//! # Bad input
//! Bad input gives a clear error, never a panic and never a silently different result:
//! - a NaN or infinite observation given to [`Tally::add`] is not recorded but counted in
//!   [`Tally::rejected`] (shown in the table); [`Tally::try_add`] returns
//!   [`StatsError::NotFinite`] instead;
//! - a time-weighted update before the last one is [`StatsError::TimeWentBack`] (and a query
//!   then answers `None`); a NaN or infinite time or level is [`StatsError::NotFinite`];
//! - merging statistics that record different things is [`StatsError::Incompatible`];
//! - a confidence level outside (0, 1), or too few values, is an error too.
//!
//! A failed call changes nothing. Statistics that do not exist yet (the mean of no
//! observations, the variance of one) are `None`.

mod batch;
mod interval;
mod special;
mod table;
mod tally;
mod time_weighted;

pub use batch::{
    batch_mean_values, batch_means, lag1_autocorrelation, time_weighted_batch_mean_values,
    time_weighted_batch_means,
};
pub use interval::{ConfidenceInterval, Summary, t_cdf, t_quantile};
pub use table::{CSV_HEADER, StatsTable};
pub use tally::{Histogram, Tally};
pub use time_weighted::TimeWeighted;

use std::fmt;

/// What went wrong in a statistics call. The statistic is left unchanged.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StatsError {
    /// An observation, level, time or parameter that is NaN or infinite.
    NotFinite {
        /// What the value is (`"observation"`, `"level"`, `"time"`, …).
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// A level change, reset or query at a time earlier than the last update.
    TimeWentBack {
        /// The time given.
        now: f64,
        /// The time of the last update.
        last: f64,
    },
    /// A parameter outside its domain: a confidence level or probability outside (0, 1), a
    /// histogram whose upper bound is not above its lower one, zero bins, fewer than two batches.
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// Not enough data: a confidence interval needs two values, batch means one per batch.
    TooFewValues {
        /// How many are needed.
        needed: usize,
        /// How many there are.
        got: usize,
    },
    /// Merging statistics that do not record the same things: different histogram layouts,
    /// or kept values (changes) on one side only.
    Incompatible {
        /// What differs.
        what: &'static str,
    },
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::NotFinite { what, value } => write!(f, "{what} is not finite ({value})"),
            StatsError::TimeWentBack { now, last } => {
                write!(
                    f,
                    "time went back: t={now} is before the last update at t={last}"
                )
            }
            StatsError::InvalidParameter { what, value } => {
                write!(f, "invalid {what} ({value})")
            }
            StatsError::TooFewValues { needed, got } => {
                write!(f, "too few values: {got}, at least {needed} needed")
            }
            StatsError::Incompatible { what } => write!(f, "cannot merge: {what}"),
        }
    }
}

impl std::error::Error for StatsError {}

/// Checks that a value is finite.
pub(crate) fn finite(what: &'static str, value: f64) -> Result<f64, StatsError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(StatsError::NotFinite { what, value })
    }
}

/// A Neumaier (improved Kahan) compensated sum: the rounding error of each addition is kept
/// and added back, so long sums of small increments do not drift.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    pub(crate) fn merge(&mut self, other: &CompensatedSum) {
        self.add(other.sum);
        self.add(other.compensation);
    }

    pub(crate) fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_well() {
        let e = StatsError::TimeWentBack {
            now: 1.0,
            last: 2.5,
        };
        assert_eq!(
            e.to_string(),
            "time went back: t=1 is before the last update at t=2.5"
        );
        let e: Box<dyn std::error::Error> = Box::new(StatsError::NotFinite {
            what: "observation",
            value: f64::NAN,
        });
        assert_eq!(e.to_string(), "observation is not finite (NaN)");
    }

    #[test]
    fn compensated_sum_does_not_drift() {
        let mut s = CompensatedSum::default();
        let mut naive = 0.0;
        for _ in 0..1_000_000 {
            s.add(0.1);
            naive += 0.1;
        }
        assert!((s.value() - 100_000.0).abs() < 1e-9);
        assert!((naive - 100_000.0f64).abs() > 1e-7); // what it protects against
    }

    /// Values chosen so that every internal number is exact in binary: serde_json's default
    /// float parser may be off by one ulp otherwise.
    #[cfg(feature = "serde")]
    #[test]
    fn serde_round_trips() {
        let mut t = Tally::with_histogram(0.0, 8.0, 4).unwrap().keeping_values();
        for x in [1.0, 2.0, 3.0, 4.0] {
            t.add(x);
        }
        t.add(f64::NAN);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Tally>(&json).unwrap(), t);
        assert_eq!(
            serde_json::from_str::<Tally>(&serde_json::to_string(&Tally::new()).unwrap()).unwrap(),
            Tally::new()
        );

        let mut tw = TimeWeighted::new(0.0, 0.0).unwrap().keeping_changes();
        tw.set(2.0, 4.0).unwrap();
        tw.advance(4.0).unwrap();
        let json = serde_json::to_string(&tw).unwrap();
        let back: TimeWeighted = serde_json::from_str(&json).unwrap();
        assert_eq!(back, tw);
        assert_eq!(back.mean(4.0), Some(2.0));

        let s = Summary::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            serde_json::from_str::<Summary>(&serde_json::to_string(&s).unwrap()).unwrap(),
            s
        );
        let ci = ConfidenceInterval {
            mean: 1.5,
            half_width: 0.25,
            level: 0.95,
            n: 10,
        };
        assert_eq!(
            serde_json::from_str::<ConfidenceInterval>(&serde_json::to_string(&ci).unwrap())
                .unwrap(),
            ci
        );
    }
}
