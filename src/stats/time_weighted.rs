//! A level over simulated time: time-weighted mean and variance, extremes, time at zero.

use super::interval::ConfidenceInterval;
use super::{CompensatedSum, StatsError, finite};
use std::fmt;

/// Weighted moments by West's (1979) incremental algorithm: each segment is a value held
/// for a weight (its duration); no sum of squares, so no cancellation for a large mean.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Moments {
    weight: CompensatedSum,
    mean: f64,
    /// Σ wᵢ (xᵢ − mean)².
    m2: f64,
}

impl Moments {
    fn push(&mut self, x: f64, w: f64) {
        if w <= 0.0 {
            return;
        }
        let before = self.weight.value();
        self.weight.add(w);
        let total = self.weight.value();
        let delta = x - self.mean;
        let r = delta * w / total;
        self.mean += r;
        self.m2 += before * delta * r;
    }

    fn merge(&mut self, other: &Moments) {
        let (wa, wb) = (self.weight.value(), other.weight.value());
        if wb <= 0.0 {
            return;
        }
        self.weight.merge(&other.weight);
        let w = self.weight.value();
        let delta = other.mean - self.mean;
        self.mean += delta * wb / w;
        self.m2 += other.m2 + delta * delta * wa * wb / w;
    }
}

/// A level that changes at points in simulated time (a queue's length, a resource's busy
/// count, a stock): its time-weighted mean and variance, minimum, maximum, time spent at
/// zero and the duration observed.
///
/// Each level counts for the time it was held: the mean up to `now` is
/// ∫ level dt / (now − start). The integrals are accumulated per segment with West's
/// weighted incremental algorithm and compensated sums, relative to the segment lengths, so
/// a start at t = 1e9 loses nothing. Statistics at `now` include the current level held
/// from the last update to `now`, without changing the statistic.
///
/// **Time never goes backwards**: an update or query at a time before the last update is
/// an error ([`StatsError::TimeWentBack`] from the updates, `None` from the queries), as is
/// a NaN or infinite time or level ([`StatsError::NotFinite`]); a failed update changes
/// nothing. Updates at the same time as the last one are fine (zero-length segments weigh
/// nothing, but their levels count for [`min`](Self::min) and [`max`](Self::max)).
///
/// ```
/// use stepsim::stats::TimeWeighted;
/// // Queue length 0 on [0, 2), 3 on [2, 5), 1 on [5, 10).
/// let mut len = TimeWeighted::new(0.0, 0.0)?;
/// len.set(2.0, 3.0)?;
/// len.set(5.0, 1.0)?;
/// assert_eq!(len.mean(10.0), Some(1.4)); // (0·2 + 3·3 + 1·5) / 10
/// assert_eq!(len.time_at_zero(10.0), Some(2.0));
/// assert_eq!((len.min(), len.max(), len.current()), (0.0, 3.0, 1.0));
/// assert!(len.set(4.0, 2.0).is_err()); // before the last update
/// # Ok::<(), stepsim::stats::StatsError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimeWeighted {
    start: f64,
    last: f64,
    level: f64,
    moments: Moments,
    at_zero: CompensatedSum,
    min: f64,
    max: f64,
    changes: Option<Vec<(f64, f64)>>,
}

impl TimeWeighted {
    /// Starts observing at `start` with the level `initial`. Errors: either is NaN or
    /// infinite.
    pub fn new(start: f64, initial: f64) -> Result<Self, StatsError> {
        finite("time", start)?;
        finite("level", initial)?;
        Ok(TimeWeighted {
            start,
            last: start,
            level: initial,
            moments: Moments::default(),
            at_zero: CompensatedSum::default(),
            min: initial,
            max: initial,
            changes: None,
        })
    }

    /// Also keeps every change as `(time, level)`, from the current state on, for batch
    /// means within one run ([`batch_means`](Self::batch_means)). Memory: 16 bytes per
    /// change, without bound.
    pub fn keeping_changes(mut self) -> Self {
        if self.changes.is_none() {
            self.changes = Some(vec![(self.last, self.level)]);
        }
        self
    }

    fn check_time(&self, now: f64) -> Result<(), StatsError> {
        finite("time", now)?;
        if now < self.last {
            return Err(StatsError::TimeWentBack {
                now,
                last: self.last,
            });
        }
        Ok(())
    }

    /// Integrates the current level up to `now` (already checked).
    fn integrate_to(&mut self, now: f64) {
        let dt = now - self.last;
        if dt > 0.0 {
            self.moments.push(self.level, dt);
            if self.level == 0.0 {
                self.at_zero.add(dt);
            }
        }
        self.last = now;
    }

    /// The level becomes `level` at time `now`. Errors: `now` before the last update, `now`
    /// or `level` NaN or infinite; nothing changes then.
    pub fn set(&mut self, now: f64, level: f64) -> Result<(), StatsError> {
        self.check_time(now)?;
        finite("level", level)?;
        self.integrate_to(now);
        self.level = level;
        self.min = self.min.min(level);
        self.max = self.max.max(level);
        if let Some(changes) = &mut self.changes {
            changes.push((now, level));
        }
        Ok(())
    }

    /// The level changes by `delta` at time `now` (`+1.0` when a customer arrives, `-1.0`
    /// when one leaves). Errors as for [`set`](Self::set).
    pub fn add(&mut self, now: f64, delta: f64) -> Result<(), StatsError> {
        finite("level change", delta)?;
        self.set(now, self.level + delta)
    }

    /// Records that the current level held until `now`, without a change: brings the
    /// statistic up to date before a [`merge`](Self::merge). Errors: `now` before the last
    /// update, or not finite.
    pub fn advance(&mut self, now: f64) -> Result<(), StatsError> {
        self.check_time(now)?;
        self.integrate_to(now);
        Ok(())
    }

    /// Restarts the statistics at `now`, keeping the current level: call it at the end of
    /// the warm-up period so that the statistics describe the steady state only. The minimum
    /// and maximum restart from the current level; kept changes restart at `(now, level)`.
    /// Errors: `now` before the last update, or not finite.
    pub fn reset(&mut self, now: f64) -> Result<(), StatsError> {
        self.check_time(now)?;
        *self = TimeWeighted {
            changes: self.changes.as_ref().map(|_| vec![(now, self.level)]),
            ..TimeWeighted::new(now, self.level)?
        };
        Ok(())
    }

    /// Pools `other`'s recorded period (up to its last update: call
    /// [`advance`](Self::advance) on it first) with this one's, as if they had been observed
    /// one after the other: durations, integrals and time at zero add up, extremes combine.
    /// For pooling replications, or the same kind of level over several entities. This
    /// statistic keeps its own timeline: its current level and last update.
    ///
    /// Errors: this statistic keeps its changes (pooled periods have no single timeline, so
    /// its batch means would be wrong) — [`StatsError::Incompatible`], nothing changes.
    pub fn merge(&mut self, other: &TimeWeighted) -> Result<(), StatsError> {
        if self.changes.is_some() {
            return Err(StatsError::Incompatible {
                what: "a time-weighted statistic that keeps its changes has one timeline",
            });
        }
        self.moments.merge(&other.moments);
        self.at_zero.merge(&other.at_zero);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        Ok(())
    }

    /// The moments up to `now`, including the current level since the last update; `None`
    /// if `now` is before the last update or NaN.
    fn moments_at(&self, now: f64) -> Option<Moments> {
        if now.is_nan() || now < self.last {
            return None;
        }
        let mut m = self.moments;
        m.push(self.level, now - self.last);
        Some(m)
    }

    /// The time observed up to `now` (since the start or the last reset, plus merged
    /// periods). `None` if `now` is before the last update or NaN.
    pub fn duration(&self, now: f64) -> Option<f64> {
        self.moments_at(now).map(|m| m.weight.value())
    }

    /// The time-weighted mean up to `now`. `None` if no time has passed, or `now` is before
    /// the last update or NaN.
    pub fn mean(&self, now: f64) -> Option<f64> {
        self.moments_at(now)
            .filter(|m| m.weight.value() > 0.0)
            .map(|m| m.mean)
    }

    /// The time-weighted variance up to `now`: ∫ (level − mean)² dt / duration (a population
    /// variance: there is no "n − 1" for time). `None` as for [`mean`](Self::mean).
    pub fn variance(&self, now: f64) -> Option<f64> {
        self.moments_at(now)
            .filter(|m| m.weight.value() > 0.0)
            .map(|m| (m.m2 / m.weight.value()).max(0.0))
    }

    /// The time-weighted standard deviation up to `now`; `None` as for [`mean`](Self::mean).
    pub fn std_dev(&self, now: f64) -> Option<f64> {
        self.variance(now).map(f64::sqrt)
    }

    /// The time the level was exactly zero, up to `now` (an idle server, an empty queue).
    /// `None` if `now` is before the last update or NaN.
    pub fn time_at_zero(&self, now: f64) -> Option<f64> {
        if now.is_nan() || now < self.last {
            return None;
        }
        let mut z = self.at_zero;
        if self.level == 0.0 {
            z.add(now - self.last);
        }
        Some(z.value())
    }

    /// The smallest level taken (momentary ones included) since the start or the last reset.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The largest level taken (momentary ones included) since the start or the last reset.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The current level.
    pub fn current(&self) -> f64 {
        self.level
    }

    /// When observation started: at [`new`](Self::new) or the last [`reset`](Self::reset).
    pub fn start(&self) -> f64 {
        self.start
    }

    /// The time of the last update (change, advance or reset).
    pub fn last_update(&self) -> f64 {
        self.last
    }

    /// The kept changes `(time, level)`, if [`keeping_changes`](Self::keeping_changes).
    pub fn changes(&self) -> Option<&[(f64, f64)]> {
        self.changes.as_deref()
    }

    /// The batch-means confidence interval for the time-weighted mean over
    /// [start, `now`]; see [`time_weighted_batch_means`](super::time_weighted_batch_means).
    /// Errors: the changes are not kept ([`StatsError::Incompatible`]), or those of
    /// `time_weighted_batch_means`.
    pub fn batch_means(
        &self,
        now: f64,
        batches: usize,
        level: f64,
    ) -> Result<ConfidenceInterval, StatsError> {
        let changes = self.changes.as_deref().ok_or(StatsError::Incompatible {
            what: "batch means need a time-weighted statistic that keeps its changes",
        })?;
        self.check_time(now)?;
        super::time_weighted_batch_means(changes, now, batches, level)
    }

    /// The named statistics up to `now`, for [`StatsTable`](super::StatsTable) and CSV:
    /// `duration`, `mean`, `std_dev`, `min`, `max`, `time_at_zero`, `current`.
    /// Errors: `now` before the last update, or not finite.
    pub fn statistics(&self, now: f64) -> Result<Vec<(&'static str, Option<f64>)>, StatsError> {
        self.check_time(now)?;
        Ok(vec![
            ("duration", self.duration(now)),
            ("mean", self.mean(now)),
            ("std_dev", self.std_dev(now)),
            ("min", Some(self.min)),
            ("max", Some(self.max)),
            ("time_at_zero", self.time_at_zero(now)),
            ("current", Some(self.level)),
        ])
    }
}

impl fmt::Display for TimeWeighted {
    /// A two-column table of [`statistics`](Self::statistics) up to the last update.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.statistics(self.last).map_err(|_| fmt::Error)?;
        super::table::write_column(f, &stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Level 0 on [0, 2), 3 on [2, 5), 1 on [5, 10).
    fn example() -> TimeWeighted {
        let mut tw = TimeWeighted::new(0.0, 0.0).unwrap();
        tw.set(2.0, 3.0).unwrap();
        tw.set(5.0, 1.0).unwrap();
        tw
    }

    #[test]
    fn known_levels() {
        let tw = example();
        assert_eq!(tw.duration(10.0), Some(10.0));
        assert!((tw.mean(10.0).unwrap() - 1.4).abs() < 1e-15);
        // E[x²] = (0 + 9·3 + 1·5)/10 = 3.2; variance 3.2 − 1.4² = 1.24.
        assert!((tw.variance(10.0).unwrap() - 1.24).abs() < 1e-14);
        assert!((tw.std_dev(10.0).unwrap() - 1.24f64.sqrt()).abs() < 1e-14);
        assert_eq!(tw.time_at_zero(10.0), Some(2.0));
        assert_eq!((tw.min(), tw.max(), tw.current()), (0.0, 3.0, 1.0));
        // Queries do not change the statistic; at the last update only [0, 5] counts.
        assert_eq!(tw.mean(5.0), Some(9.0 / 5.0));
        assert_eq!(tw.last_update(), 5.0);
        // A query before the last update has no answer.
        assert_eq!(tw.mean(4.0), None);
        assert_eq!(tw.duration(f64::NAN), None);
    }

    #[test]
    fn zero_duration_and_current_zero() {
        let tw = TimeWeighted::new(3.0, 0.0).unwrap();
        assert_eq!(
            (tw.duration(3.0), tw.mean(3.0), tw.variance(3.0)),
            (Some(0.0), None, None)
        );
        assert_eq!(tw.time_at_zero(7.0), Some(4.0));
        assert_eq!(tw.mean(7.0), Some(0.0));
    }

    #[test]
    fn warm_up_reset() {
        let mut tw = example();
        tw.reset(3.0).unwrap_err(); // before the last update (5)
        let mut tw2 = TimeWeighted::new(0.0, 0.0).unwrap();
        tw2.set(2.0, 3.0).unwrap();
        tw2.reset(3.0).unwrap(); // warm-up ends at 3, level 3 kept
        tw2.set(5.0, 1.0).unwrap();
        assert_eq!(tw2.start(), 3.0);
        assert_eq!(tw2.duration(10.0), Some(7.0));
        assert!((tw2.mean(10.0).unwrap() - 11.0 / 7.0).abs() < 1e-15);
        assert_eq!(tw2.time_at_zero(10.0), Some(0.0));
        assert_eq!((tw2.min(), tw2.max()), (1.0, 3.0));
        tw.reset(5.0).unwrap();
        assert_eq!(
            (tw.duration(5.0), tw.min(), tw.max()),
            (Some(0.0), 1.0, 1.0)
        );
    }

    #[test]
    fn bad_updates_are_errors_and_change_nothing() {
        assert!(TimeWeighted::new(f64::NAN, 0.0).is_err());
        assert!(TimeWeighted::new(0.0, f64::INFINITY).is_err());
        let mut tw = example();
        let before = tw.clone();
        assert_eq!(
            tw.set(4.0, 1.0),
            Err(StatsError::TimeWentBack {
                now: 4.0,
                last: 5.0
            })
        );
        assert!(tw.set(6.0, f64::NAN).is_err());
        assert!(tw.set(f64::INFINITY, 1.0).is_err());
        assert!(tw.add(6.0, f64::NAN).is_err());
        assert!(tw.advance(1.0).is_err());
        assert!(tw.reset(1.0).is_err());
        assert!(tw.statistics(1.0).is_err());
        assert_eq!(tw, before);
        let mut big = TimeWeighted::new(0.0, f64::MAX).unwrap();
        let unchanged = big.clone();
        assert!(big.add(1.0, f64::MAX).is_err()); // the level would overflow
        assert_eq!(big, unchanged);
    }

    #[test]
    fn add_and_same_instant_changes() {
        let mut tw = TimeWeighted::new(0.0, 0.0).unwrap();
        tw.add(1.0, 1.0).unwrap();
        tw.add(1.0, 1.0).unwrap(); // two arrivals at t = 1
        tw.add(1.0, -2.0).unwrap(); // both leave at once
        tw.add(3.0, 5.0).unwrap();
        assert_eq!(tw.max(), 5.0);
        assert_eq!(tw.time_at_zero(4.0), Some(3.0));
        assert_eq!(tw.mean(4.0), Some(5.0 / 4.0));
    }

    #[test]
    fn large_start_time_loses_nothing() {
        let t0 = 1e9;
        let mut tw = TimeWeighted::new(t0, 1e6).unwrap();
        for i in 1..=1000 {
            tw.set(t0 + i as f64 * 0.5, 1e6 + (i % 2) as f64).unwrap();
        }
        // Levels 1e6 and 1e6 + 1 alternate in equal halves: mean 1e6 + 0.5, variance 0.25.
        assert!((tw.mean(t0 + 500.0).unwrap() - (1e6 + 0.5)).abs() < 1e-9);
        assert!((tw.variance(t0 + 500.0).unwrap() - 0.25).abs() < 1e-9);
        assert_eq!(tw.duration(t0 + 500.0), Some(500.0));
    }

    #[test]
    fn merge_pools_periods() {
        let mut a = example();
        a.advance(10.0).unwrap();
        let mut b = TimeWeighted::new(100.0, 2.0).unwrap();
        b.advance(110.0).unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a.duration(10.0), Some(20.0));
        assert!((a.mean(10.0).unwrap() - (14.0 + 20.0) / 20.0).abs() < 1e-15);
        assert_eq!(
            (a.min(), a.max(), a.time_at_zero(10.0)),
            (0.0, 3.0, Some(2.0))
        );
        assert_eq!((a.current(), a.last_update()), (1.0, 10.0));
        // One that keeps its changes refuses.
        let mut kept = TimeWeighted::new(0.0, 0.0).unwrap().keeping_changes();
        assert!(kept.merge(&b).is_err());
    }

    #[test]
    fn kept_changes() {
        let mut tw = TimeWeighted::new(0.0, 0.0).unwrap().keeping_changes();
        tw.set(2.0, 3.0).unwrap();
        tw.advance(4.0).unwrap();
        tw.set(5.0, 1.0).unwrap();
        assert_eq!(tw.changes().unwrap(), &[(0.0, 0.0), (2.0, 3.0), (5.0, 1.0)]);
        tw.reset(6.0).unwrap();
        assert_eq!(tw.changes().unwrap(), &[(6.0, 1.0)]);
    }

    fn level() -> impl Strategy<Value = f64> {
        prop_oneof![Just(0.0), -100.0f64..100.0]
    }

    proptest! {
        #[test]
        fn merge_is_sequential_recording(
            a0 in level(),
            a in proptest::collection::vec((0.0f64..10.0, level()), 0..20),
            b0 in level(),
            b in proptest::collection::vec((0.0f64..10.0, level()), 0..20),
            tail_a in 0.0f64..5.0,
            tail_b in 0.0f64..5.0,
        ) {
            // One statistic records a, then b right after it.
            let mut all = TimeWeighted::new(0.0, a0).unwrap();
            let mut ta = TimeWeighted::new(0.0, a0).unwrap();
            let mut t = 0.0;
            for &(dt, x) in &a {
                t += dt;
                all.set(t, x).unwrap();
                ta.set(t, x).unwrap();
            }
            t += tail_a;
            ta.advance(t).unwrap();
            all.set(t, b0).unwrap();
            let mut tb = TimeWeighted::new(50.0, b0).unwrap();
            let mut u = 50.0;
            for &(dt, x) in &b {
                t += dt;
                u += dt;
                all.set(t, x).unwrap();
                tb.set(u, x).unwrap();
            }
            t += tail_b;
            u += tail_b;
            tb.advance(u).unwrap();
            all.advance(t).unwrap();
            ta.merge(&tb).unwrap();
            let now = ta.last_update();
            let d = all.duration(t).unwrap();
            prop_assert!((ta.duration(now).unwrap() - d).abs() <= 1e-9 * d.max(1.0));
            prop_assert_eq!(ta.min(), all.min());
            prop_assert_eq!(ta.max(), all.max());
            let z = all.time_at_zero(t).unwrap();
            prop_assert!((ta.time_at_zero(now).unwrap() - z).abs() <= 1e-9 * d.max(1.0));
            match (ta.mean(now), all.mean(t)) {
                (Some(x), Some(y)) => {
                    prop_assert!((x - y).abs() <= 1e-9 * 100.0);
                    let (vx, vy) = (ta.variance(now).unwrap(), all.variance(t).unwrap());
                    prop_assert!((vx - vy).abs() <= 1e-9 * 1e4);
                }
                (None, None) => {}
                (x, y) => prop_assert!(false, "means {:?} vs {:?}", x, y),
            }
        }
    }
}
