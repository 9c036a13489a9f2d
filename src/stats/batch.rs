//! Batch means: a confidence interval from one long run (see the chapter's
//! "Batch means" section in `stats/mod.rs` for the method and its assumptions).

use super::interval::{ConfidenceInterval, Summary};
use super::{CompensatedSum, StatsError, finite};

fn check_batches(batches: usize) -> Result<(), StatsError> {
    if batches < 2 {
        return Err(StatsError::InvalidParameter {
            what: "number of batches (at least 2)",
            value: batches as f64,
        });
    }
    Ok(())
}

/// The means of `batches` consecutive batches of equal size; the first `values.len() mod
/// batches` values are dropped (the oldest, closest to the warm-up).
///
/// Errors: `batches < 2`, fewer values than batches, a NaN or infinite value.
pub fn batch_mean_values(values: &[f64], batches: usize) -> Result<Vec<f64>, StatsError> {
    check_batches(batches)?;
    if values.len() < batches {
        return Err(StatsError::TooFewValues {
            needed: batches,
            got: values.len(),
        });
    }
    for &x in values {
        finite("observation", x)?;
    }
    let size = values.len() / batches;
    let used = &values[values.len() - size * batches..];
    Ok(used
        .chunks_exact(size)
        .map(|chunk| {
            let mut s = CompensatedSum::default();
            chunk.iter().for_each(|&x| s.add(x));
            s.value() / size as f64
        })
        .collect())
}

/// The batch-means confidence interval at `level` (e.g. 0.95) for the steady-state mean of
/// one run's observations, from `batches` batches (see [the assumptions](crate::stats#batch-means)). The interval's `n` is the number of batches.
///
/// ```
/// use stepsim::stats::batch_means;
/// // A slowly alternating series: 0, 0, 2, 2, 0, 0, 2, 2, …
/// let xs: Vec<f64> = (0..400).map(|i| if i / 2 % 2 == 0 { 0.0 } else { 2.0 }).collect();
/// let ci = batch_means(&xs, 20, 0.95)?;
/// assert_eq!((ci.mean, ci.n), (1.0, 20));
/// assert_eq!(ci.half_width, 0.0); // every batch of 20 has mean 1
/// # Ok::<(), stepsim::stats::StatsError>(())
/// ```
///
/// Errors: those of [`batch_mean_values`], and `level` outside (0, 1).
pub fn batch_means(
    values: &[f64],
    batches: usize,
    level: f64,
) -> Result<ConfidenceInterval, StatsError> {
    Summary::of(&batch_mean_values(values, batches)?)?.ci(level)
}

/// The time-weighted means of a piecewise-constant level over `batches` equal durations of
/// [first change time, `end`]. `changes` are `(time, level)` pairs in time order (as kept by
/// [`TimeWeighted::keeping_changes`](super::TimeWeighted::keeping_changes)); each level
/// holds until the next change, the last until `end`.
///
/// Errors: `batches < 2`; no changes; a NaN or infinite time or level; times out of order
/// or after `end` ([`StatsError::TimeWentBack`]); `end` not after the first change.
pub fn time_weighted_batch_mean_values(
    changes: &[(f64, f64)],
    end: f64,
    batches: usize,
) -> Result<Vec<f64>, StatsError> {
    check_batches(batches)?;
    let &(t0, _) = changes
        .first()
        .ok_or(StatsError::TooFewValues { needed: 1, got: 0 })?;
    finite("time", end)?;
    let mut last = t0;
    for &(t, x) in changes {
        finite("time", t)?;
        finite("level", x)?;
        if t < last {
            return Err(StatsError::TimeWentBack { now: t, last });
        }
        last = t;
    }
    if end < last {
        return Err(StatsError::TimeWentBack { now: end, last });
    }
    if end <= t0 {
        return Err(StatsError::InvalidParameter {
            what: "end time (must be after the first change)",
            value: end,
        });
    }
    let len = (end - t0) / batches as f64;
    let edge = |k: usize| {
        if k >= batches {
            end
        } else {
            t0 + k as f64 * len
        }
    };
    let mut integrals = vec![CompensatedSum::default(); batches];
    for (i, &(mut a, x)) in changes.iter().enumerate() {
        let b = changes.get(i + 1).map_or(end, |c| c.0);
        let mut k = (((a - t0) / len) as usize).min(batches - 1);
        while a < b && k < batches {
            let e = b.min(edge(k + 1));
            if e > a {
                integrals[k].add(x * (e - a));
                a = e;
            }
            k += 1;
        }
    }
    Ok(integrals
        .iter()
        .enumerate()
        .map(|(k, s)| s.value() / (edge(k + 1) - edge(k)))
        .collect())
}

/// The batch-means confidence interval at `level` for the steady-state time-weighted mean
/// of a level, from `batches` equal durations of [first change time, `end`]; see
/// [`time_weighted_batch_mean_values`] and [the assumptions](crate::stats#batch-means).
///
/// ```
/// use stepsim::stats::TimeWeighted;
/// // A server busy on [0, 1), idle on [1, 2), busy again…
/// let mut busy = TimeWeighted::new(0.0, 1.0)?.keeping_changes();
/// for i in 1..100 {
///     busy.set(i as f64, (i % 2 == 0) as u8 as f64)?;
/// }
/// let ci = busy.batch_means(100.0, 10, 0.95)?;
/// assert!((ci.mean - 0.5).abs() < 1e-12 && ci.half_width < 1e-12);
/// # Ok::<(), stepsim::stats::StatsError>(())
/// ```
///
/// Errors: those of [`time_weighted_batch_mean_values`], and `level` outside (0, 1).
pub fn time_weighted_batch_means(
    changes: &[(f64, f64)],
    end: f64,
    batches: usize,
    level: f64,
) -> Result<ConfidenceInterval, StatsError> {
    Summary::of(&time_weighted_batch_mean_values(changes, end, batches)?)?.ci(level)
}

/// The lag-1 autocorrelation of a series, Σ(xᵢ − x̄)(xᵢ₊₁ − x̄) / Σ(xᵢ − x̄)²: a check that
/// batch means are nearly independent (it should be near 0). `None` with fewer than three
/// values, a constant series, or a non-finite value.
pub fn lag1_autocorrelation(values: &[f64]) -> Option<f64> {
    if values.len() < 3 || values.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let den: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    let num: f64 = values
        .windows(2)
        .map(|w| (w[0] - mean) * (w[1] - mean))
        .sum();
    (den > 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::derive_stream;
    use crate::stats::{TimeWeighted, t_quantile};
    use rand_distr::{Distribution, Normal};

    /// An AR(1) series x[i] = mu + phi (x[i-1] − mu) + e[i], e ~ N(0, 1), started in its
    /// stationary distribution.
    fn ar1(mu: f64, phi: f64, n: usize, key: u64) -> Vec<f64> {
        let mut rng = derive_stream(99, key);
        let e = Normal::new(0.0, 1.0).unwrap();
        let mut x = mu + e.sample(&mut rng) / (1.0 - phi * phi).sqrt();
        (0..n)
            .map(|_| {
                x = mu + phi * (x - mu) + e.sample(&mut rng);
                x
            })
            .collect()
    }

    #[test]
    fn by_hand() {
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        // 10 mod 3 = 1: the 1 is dropped; batches (2,3,4), (5,6,7), (8,9,10).
        assert_eq!(batch_mean_values(&xs, 3).unwrap(), vec![3.0, 6.0, 9.0]);
        let ci = batch_means(&xs, 3, 0.95).unwrap();
        assert_eq!((ci.mean, ci.n), (6.0, 3));
        let want = t_quantile(0.975, 2.0).unwrap() * 3.0 / 3f64.sqrt();
        assert!((ci.half_width - want).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(batch_means(&[1.0, 2.0], 1, 0.95).is_err());
        assert_eq!(
            batch_means(&[1.0, 2.0], 3, 0.95),
            Err(StatsError::TooFewValues { needed: 3, got: 2 })
        );
        assert!(batch_means(&[1.0, f64::NAN, 3.0, 4.0], 2, 0.95).is_err());
        assert!(batch_means(&[1.0, 2.0, 3.0, 4.0], 2, 0.0).is_err());
        let ch = [(0.0, 1.0), (2.0, 0.0)];
        assert!(time_weighted_batch_means(&[], 1.0, 2, 0.95).is_err());
        assert!(time_weighted_batch_means(&ch, 1.0, 2, 0.95).is_err()); // end before a change
        assert!(time_weighted_batch_means(&[(0.0, 1.0)], 0.0, 2, 0.95).is_err());
        assert!(time_weighted_batch_means(&[(1.0, 1.0), (0.5, 1.0)], 2.0, 2, 0.95).is_err());
        assert!(time_weighted_batch_means(&[(0.0, f64::NAN)], 2.0, 2, 0.95).is_err());
        assert!(time_weighted_batch_means(&ch, f64::INFINITY, 2, 0.95).is_err());
        let tw = TimeWeighted::new(0.0, 1.0).unwrap();
        assert!(matches!(
            tw.batch_means(4.0, 2, 0.95),
            Err(StatsError::Incompatible { .. })
        ));
    }

    #[test]
    fn time_weighted_by_hand() {
        // 0 on [0, 2), 3 on [2, 5), 1 on [5, 10).
        let ch = [(0.0, 0.0), (2.0, 3.0), (5.0, 1.0)];
        let two = time_weighted_batch_mean_values(&ch, 10.0, 2).unwrap();
        assert!((two[0] - 1.8).abs() < 1e-15 && (two[1] - 1.0).abs() < 1e-15);
        let four = time_weighted_batch_mean_values(&ch, 10.0, 4).unwrap();
        let want = [0.6, 3.0, 1.0, 1.0];
        for (got, want) in four.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{four:?}");
        }
        let ci = time_weighted_batch_means(&ch, 10.0, 4, 0.95).unwrap();
        assert!((ci.mean - 1.4).abs() < 1e-15);
        // Repeated times (zero-length segments) are fine.
        let ch = [(0.0, 5.0), (0.0, 0.0), (2.0, 3.0), (2.0, 3.0), (5.0, 1.0)];
        assert_eq!(time_weighted_batch_mean_values(&ch, 10.0, 2).unwrap(), two);
    }

    #[test]
    fn unit_segments_match_the_observation_version() {
        let xs = ar1(5.0, 0.7, 1000, 1);
        let ch: Vec<(f64, f64)> = xs.iter().enumerate().map(|(i, &x)| (i as f64, x)).collect();
        let a = time_weighted_batch_mean_values(&ch, 1000.0, 20).unwrap();
        let b = batch_mean_values(&xs, 20).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-12);
        }
        let mut tw = TimeWeighted::new(0.0, xs[0]).unwrap().keeping_changes();
        for (i, &x) in xs.iter().enumerate().skip(1) {
            tw.set(i as f64, x).unwrap();
        }
        let ci = tw.batch_means(1000.0, 20, 0.95).unwrap();
        assert!((ci.mean - tw.mean(1000.0).unwrap()).abs() < 1e-12);
    }

    /// On a strongly correlated AR(1) series the iid interval is far too narrow; the batch
    /// interval is wider by about √((1 + φ)/(1 − φ)) ≈ 4.4 and covers the mean.
    #[test]
    fn batch_means_widen_for_correlated_series() {
        let xs = ar1(10.0, 0.9, 200_000, 2);
        let naive = Summary::of(&xs).unwrap().ci95().unwrap();
        let batched = batch_means(&xs, 20, 0.95).unwrap();
        assert!(batched.contains(10.0), "{batched}");
        let ratio = batched.half_width / naive.half_width;
        assert!((2.5..7.0).contains(&ratio), "ratio {ratio}");
        let r1 = lag1_autocorrelation(&batch_mean_values(&xs, 20).unwrap()).unwrap();
        assert!(r1.abs() < 0.5, "lag-1 autocorrelation of batch means {r1}");
        assert!(lag1_autocorrelation(&xs).unwrap() > 0.85);
    }

    /// 200 seeded runs of an AR(1) series with φ = 0.5, 20 batches of 1000: the 95% batch
    /// interval covers the true mean in 90–99% of them.
    #[test]
    fn batch_means_coverage() {
        let covered = (0..200)
            .filter(|&run| {
                batch_means(&ar1(-3.0, 0.5, 20_000, 100 + run), 20, 0.95)
                    .unwrap()
                    .contains(-3.0)
            })
            .count();
        assert!((180..=198).contains(&covered), "covered {covered} of 200");
    }

    #[test]
    fn lag1_edge_cases() {
        assert_eq!(lag1_autocorrelation(&[1.0, 2.0]), None);
        assert_eq!(lag1_autocorrelation(&[1.0, 1.0, 1.0]), None);
        let r = lag1_autocorrelation(&[1.0, -1.0, 1.0, -1.0]).unwrap();
        assert!(r < -0.7);
    }
}
