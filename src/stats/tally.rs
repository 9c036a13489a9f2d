//! Tallies of observations: Welford's running moments, optional histogram and kept values.

use super::interval::{ConfidenceInterval, Summary};
use super::{CompensatedSum, StatsError, finite};
use std::fmt;

/// The percentiles a [`Tally`] reports in its table and CSV rows, when it has a source for
/// them: the median, the 90th and the 95th.
pub(crate) const REPORTED_PERCENTILES: [(&str, f64); 3] =
    [("p50", 50.0), ("p90", 90.0), ("p95", 95.0)];

/// Observations of a quantity, one at a time: count, mean, sample variance, minimum, maximum
/// and sum in constant memory, optionally a histogram and the values themselves.
///
/// Moments are kept with Welford's algorithm (no cancellation however large the mean), the
/// sum with compensated summation.
///
/// **NaN and infinite observations** are not taken into the statistics: [`add`](Self::add)
/// counts them in [`rejected`](Self::rejected) (and the table shows that count when it is
/// not zero), while [`try_add`](Self::try_add) returns an error and changes nothing. Either
/// way the mean of the finite values is never silently replaced by NaN.
///
/// ```
/// use stepsim::stats::Tally;
/// let mut waits = Tally::new().keeping_values();
/// for w in [1.0, 2.0, 3.0, 4.0, 10.0] {
///     waits.add(w);
/// }
/// assert_eq!(waits.count(), 5);
/// assert_eq!(waits.mean(), Some(4.0));
/// assert_eq!(waits.variance(), Some(12.5));
/// assert_eq!((waits.min(), waits.max()), (Some(1.0), Some(10.0)));
/// assert_eq!(waits.percentile(50.0), Some(3.0));
/// waits.add(f64::NAN); // not an observation: counted apart
/// assert_eq!((waits.count(), waits.rejected()), (5, 1));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tally {
    n: u64,
    mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
    /// Meaningful only when `n > 0` (kept finite so that serialized tallies round-trip).
    min: f64,
    max: f64,
    sum: CompensatedSum,
    rejected: u64,
    histogram: Option<Histogram>,
    values: Option<Vec<f64>>,
}

impl Tally {
    /// An empty tally: moments, minimum and maximum only (no percentiles).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tally with a histogram of `bins` equal bins on `[lo, hi]`, from which
    /// [`percentile`](Self::percentile) interpolates. Memory: one counter per bin.
    ///
    /// Errors: `lo` or `hi` not finite, `hi <= lo`, or `bins == 0`.
    pub fn with_histogram(lo: f64, hi: f64, bins: usize) -> Result<Self, StatsError> {
        Ok(Tally {
            histogram: Some(Histogram::new(lo, hi, bins)?),
            ..Tally::new()
        })
    }

    /// Also keeps every observation, in order, for exact percentiles and batch means.
    /// Memory: 8 bytes per observation, without bound; use a histogram for long runs.
    pub fn keeping_values(mut self) -> Self {
        if self.values.is_none() {
            self.values = Some(Vec::new());
        }
        self
    }

    /// Records an observation. A NaN or infinite value is not recorded but counted in
    /// [`rejected`](Self::rejected).
    pub fn add(&mut self, x: f64) {
        if self.try_add(x).is_err() {
            self.rejected += 1;
        }
    }

    /// Records an observation, or returns [`StatsError::NotFinite`] for a NaN or infinite
    /// value and leaves the tally unchanged (the rejected count too).
    pub fn try_add(&mut self, x: f64) -> Result<(), StatsError> {
        finite("observation", x)?;
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        if self.n == 1 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.sum.add(x);
        if let Some(h) = &mut self.histogram {
            h.add(x);
        }
        if let Some(v) = &mut self.values {
            v.push(x);
        }
        Ok(())
    }

    /// Adds `other`'s observations to this tally, as if each had been added here (Chan,
    /// Golub and LeVeque's pairwise update of the moments): for pooling replications, or
    /// tallies kept per entity.
    ///
    /// Every percentile source of `self` must be in `other` too: the same histogram layout,
    /// and kept values if `self` keeps them (otherwise [`StatsError::Incompatible`], and
    /// nothing changes). Sources only `other` has are ignored. Rejected counts add up.
    pub fn merge(&mut self, other: &Tally) -> Result<(), StatsError> {
        if let Some(h) = &self.histogram {
            match &other.histogram {
                Some(o) if h.same_layout(o) => {}
                _ => {
                    return Err(StatsError::Incompatible {
                        what: "the histograms differ (or the other tally has none)",
                    });
                }
            }
        }
        if self.values.is_some() && other.values.is_none() {
            return Err(StatsError::Incompatible {
                what: "this tally keeps its values and the other does not",
            });
        }
        self.rejected += other.rejected;
        if other.n == 0 {
            return Ok(());
        }
        if self.n == 0 {
            (self.min, self.max) = (other.min, other.max);
        } else {
            self.min = self.min.min(other.min);
            self.max = self.max.max(other.max);
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.n += other.n;
        self.sum.merge(&other.sum);
        if let (Some(h), Some(o)) = (&mut self.histogram, &other.histogram) {
            h.merge(o);
        }
        if let (Some(v), Some(o)) = (&mut self.values, &other.values) {
            v.extend_from_slice(o);
        }
        Ok(())
    }

    /// Forgets every observation (and the rejected count), keeping the histogram layout and
    /// whether values are kept. Call it at the end of the warm-up period so that the
    /// statistics describe the steady state only.
    pub fn reset(&mut self) {
        *self = Tally {
            histogram: self.histogram.as_ref().map(Histogram::emptied),
            values: self.values.as_ref().map(|_| Vec::new()),
            ..Tally::new()
        };
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The number of NaN or infinite values given to [`add`](Self::add) and not recorded.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The mean; `None` without observations.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// The sample variance, with divisor n − 1; `None` with fewer than two observations.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }

    /// The sample standard deviation (square root of [`variance`](Self::variance)).
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// The smallest observation; `None` without observations.
    pub fn min(&self) -> Option<f64> {
        (self.n > 0).then_some(self.min)
    }

    /// The largest observation; `None` without observations.
    pub fn max(&self) -> Option<f64> {
        (self.n > 0).then_some(self.max)
    }

    /// The sum of the observations (compensated); 0 without observations.
    pub fn sum(&self) -> f64 {
        self.sum.value()
    }

    /// The histogram, if the tally was made [`with_histogram`](Self::with_histogram).
    pub fn histogram(&self) -> Option<&Histogram> {
        self.histogram.as_ref()
    }

    /// The observations in the order they were added, if the tally keeps them.
    pub fn values(&self) -> Option<&[f64]> {
        self.values.as_deref()
    }

    /// Whether [`percentile`](Self::percentile) has a source: kept values or a histogram.
    pub fn has_percentiles(&self) -> bool {
        self.values.is_some() || self.histogram.is_some()
    }

    /// The `p`-th percentile, `p` in [0, 100].
    ///
    /// With kept values it is exact: linear interpolation between the order statistics at
    /// rank (n − 1)·p/100 (the definition of R's default `quantile` and NumPy's
    /// `percentile`), so `percentile(0)` is the minimum and `percentile(100)` the maximum.
    /// Otherwise, with a histogram, it interpolates linearly within the bin where the
    /// cumulative count reaches n·p/100, taking the values below `lo` as spread over
    /// [min, lo) and those above `hi` over (hi, max], and clamps to [min, max].
    ///
    /// `None` if the tally has neither source, has no observations, or `p` is outside
    /// [0, 100] or NaN. Sorts a copy of the kept values on each call: use
    /// [`percentiles`](Self::percentiles) for several at once.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        self.percentiles(&[p])[0]
    }

    /// Several percentiles at once (one sort of the kept values); see
    /// [`percentile`](Self::percentile).
    pub fn percentiles(&self, ps: &[f64]) -> Vec<Option<f64>> {
        let valid = |p: f64| self.n > 0 && (0.0..=100.0).contains(&p);
        if let Some(values) = &self.values {
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            ps.iter()
                .map(|&p| valid(p).then(|| exact_percentile(&sorted, p)))
                .collect()
        } else if let Some(h) = &self.histogram {
            ps.iter()
                .map(|&p| {
                    valid(p)
                        .then(|| h.percentile(p, self.min, self.max))
                        .flatten()
                })
                .collect()
        } else {
            vec![None; ps.len()]
        }
    }

    /// The summary of the observations (count, mean, standard deviation, minimum, maximum),
    /// for confidence intervals across replications; `None` without observations.
    pub fn summary(&self) -> Option<Summary> {
        Some(Summary {
            n: self.n,
            mean: self.mean()?,
            std_dev: self.std_dev(),
            min: self.min,
            max: self.max,
        })
    }

    /// The Student t confidence interval for the mean at `level`, treating the observations
    /// as independent (right for one value per replication, wrong for the correlated waits
    /// of one run: use [`batch_means`](Self::batch_means) there). Errors: fewer than two
    /// observations, `level` outside (0, 1).
    pub fn confidence_interval(&self, level: f64) -> Result<ConfidenceInterval, StatsError> {
        match self.summary() {
            Some(s) => s.ci(level),
            None => Err(StatsError::TooFewValues { needed: 2, got: 0 }),
        }
    }

    /// The batch-means confidence interval of the kept values; see
    /// [`batch_means`](super::batch_means). Errors: the tally does not keep its values
    /// ([`StatsError::Incompatible`]), or those of `batch_means`.
    pub fn batch_means(
        &self,
        batches: usize,
        level: f64,
    ) -> Result<ConfidenceInterval, StatsError> {
        let values = self.values.as_deref().ok_or(StatsError::Incompatible {
            what: "batch means need a tally that keeps its values",
        })?;
        super::batch_means(values, batches, level)
    }

    /// The named statistics, for [`StatsTable`](super::StatsTable) and CSV: `n`, `mean`,
    /// `std_dev`, `min`, `max`, then `p50`, `p90`, `p95` if the tally has a percentile
    /// source, then `rejected` if any value was rejected.
    pub fn statistics(&self) -> Vec<(&'static str, Option<f64>)> {
        let mut out = vec![
            ("n", Some(self.n as f64)),
            ("mean", self.mean()),
            ("std_dev", self.std_dev()),
            ("min", self.min()),
            ("max", self.max()),
        ];
        if self.has_percentiles() {
            let ps: Vec<f64> = REPORTED_PERCENTILES.iter().map(|&(_, p)| p).collect();
            for (&(name, _), value) in REPORTED_PERCENTILES.iter().zip(self.percentiles(&ps)) {
                out.push((name, value));
            }
        }
        if self.rejected > 0 {
            out.push(("rejected", Some(self.rejected as f64)));
        }
        out
    }
}

impl fmt::Display for Tally {
    /// A two-column table of [`statistics`](Self::statistics), like salabim's
    /// `print_statistics`:
    ///
    /// ```text
    /// n                5
    /// mean             4
    /// std.deviation    3.53553
    /// ...
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::table::write_column(f, &self.statistics())
    }
}

/// Linear interpolation between order statistics at rank (n − 1)·p/100; `sorted` non-empty.
fn exact_percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (sorted.len() - 1) as f64 * p / 100.0;
    let below = rank.floor() as usize;
    let frac = rank - below as f64;
    match sorted.get(below + 1) {
        Some(&next) if frac > 0.0 => sorted[below] + frac * (next - sorted[below]),
        _ => sorted[below],
    }
}

/// Counts of observations in equal bins on `[lo, hi]`, with counts of those below and above.
/// Bin `i` is `[lo + i·w, lo + (i+1)·w)`, except the last, which includes `hi`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Histogram {
    lo: f64,
    hi: f64,
    counts: Vec<u64>,
    below: u64,
    above: u64,
}

impl Histogram {
    fn new(lo: f64, hi: f64, bins: usize) -> Result<Self, StatsError> {
        finite("histogram lower bound", lo)?;
        finite("histogram upper bound", hi)?;
        if hi <= lo {
            return Err(StatsError::InvalidParameter {
                what: "histogram upper bound (must exceed the lower bound)",
                value: hi,
            });
        }
        if bins == 0 {
            return Err(StatsError::InvalidParameter {
                what: "number of histogram bins",
                value: 0.0,
            });
        }
        Ok(Histogram {
            lo,
            hi,
            counts: vec![0; bins],
            below: 0,
            above: 0,
        })
    }

    fn emptied(&self) -> Self {
        Histogram {
            counts: vec![0; self.counts.len()],
            below: 0,
            above: 0,
            ..*self
        }
    }

    fn same_layout(&self, other: &Histogram) -> bool {
        self.lo == other.lo && self.hi == other.hi && self.counts.len() == other.counts.len()
    }

    fn add(&mut self, x: f64) {
        if x < self.lo {
            self.below += 1;
        } else if x > self.hi {
            self.above += 1;
        } else {
            let bins = self.counts.len();
            let i = ((x - self.lo) / self.bin_width()) as usize;
            self.counts[i.min(bins - 1)] += 1;
        }
    }

    fn merge(&mut self, other: &Histogram) {
        for (c, o) in self.counts.iter_mut().zip(&other.counts) {
            *c += o;
        }
        self.below += other.below;
        self.above += other.above;
    }

    /// `None` only for an inconsistent (e.g. hand-edited, deserialized) histogram.
    fn percentile(&self, p: f64, min: f64, max: f64) -> Option<f64> {
        let total = self.below + self.above + self.counts.iter().sum::<u64>();
        if total == 0 {
            return None;
        }
        let target = total as f64 * p / 100.0;
        let w = self.bin_width();
        // (lower edge, upper edge, count) for the underflow, each bin, the overflow.
        let parts = std::iter::once((min.min(self.lo), self.lo, self.below))
            .chain(self.counts.iter().enumerate().map(|(i, &c)| {
                let a = self.lo + i as f64 * w;
                (a, a + w, c)
            }))
            .chain(std::iter::once((self.hi, max.max(self.hi), self.above)));
        let mut cum = 0.0;
        for (a, b, c) in parts {
            if c == 0 {
                continue;
            }
            let c = c as f64;
            if cum + c >= target {
                let x = a + (target - cum) / c * (b - a);
                return Some(x.clamp(min, max));
            }
            cum += c;
        }
        Some(max)
    }

    /// The lower bound of the first bin.
    pub fn lo(&self) -> f64 {
        self.lo
    }

    /// The upper bound of the last bin.
    pub fn hi(&self) -> f64 {
        self.hi
    }

    /// The width of each bin, `(hi − lo) / bins`.
    pub fn bin_width(&self) -> f64 {
        (self.hi - self.lo) / self.counts.len() as f64
    }

    /// The count in each bin, from `lo` up.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// How many observations were below `lo`.
    pub fn below(&self) -> u64 {
        self.below
    }

    /// How many observations were above `hi`.
    pub fn above(&self) -> u64 {
        self.above
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one_to_ten() -> Tally {
        let mut t = Tally::new().keeping_values();
        // Out of order, to exercise the sort.
        for x in [3.0, 1.0, 4.0, 10.0, 5.0, 9.0, 2.0, 6.0, 8.0, 7.0] {
            t.add(x);
        }
        t
    }

    #[test]
    fn known_values() {
        let t = one_to_ten();
        assert_eq!(t.count(), 10);
        assert_eq!(t.mean(), Some(5.5));
        assert_eq!(t.sum(), 55.0);
        // Σ(x − 5.5)² = 82.5, / 9.
        assert!((t.variance().unwrap() - 82.5 / 9.0).abs() < 1e-14);
        assert!((t.std_dev().unwrap() - (82.5f64 / 9.0).sqrt()).abs() < 1e-14);
        assert_eq!((t.min(), t.max()), (Some(1.0), Some(10.0)));
        // Rank (n − 1)p/100: 4.5 → 5.5; 8.1 → 9.1; 2.25 → 3.25.
        assert_eq!(t.percentile(50.0), Some(5.5));
        assert!((t.percentile(90.0).unwrap() - 9.1).abs() < 1e-12);
        assert_eq!(t.percentile(25.0), Some(3.25));
        assert_eq!(t.percentile(0.0), Some(1.0));
        assert_eq!(t.percentile(100.0), Some(10.0));
        assert_eq!(t.percentile(101.0), None);
        assert_eq!(t.percentile(f64::NAN), None);
        // The kept values keep their order.
        assert_eq!(t.values().unwrap()[..3], [3.0, 1.0, 4.0]);
    }

    #[test]
    fn empty_and_single() {
        let mut t = Tally::new();
        assert_eq!(
            (t.count(), t.mean(), t.variance(), t.min()),
            (0, None, None, None)
        );
        assert_eq!(t.percentile(50.0), None);
        assert_eq!(t.sum(), 0.0);
        t.add(-2.0);
        assert_eq!(
            (t.mean(), t.variance(), t.min(), t.max()),
            (Some(-2.0), None, Some(-2.0), Some(-2.0))
        );
        assert_eq!(t.percentile(50.0), None); // no source
        assert!(t.confidence_interval(0.95).is_err());
    }

    #[test]
    fn non_finite_values_are_rejected_visibly() {
        let mut t = Tally::new();
        t.add(1.0);
        t.add(f64::NAN);
        t.add(f64::INFINITY);
        assert_eq!((t.count(), t.rejected(), t.mean()), (1, 2, Some(1.0)));
        let before = t.clone();
        assert_eq!(
            t.try_add(f64::NEG_INFINITY),
            Err(StatsError::NotFinite {
                what: "observation",
                value: f64::NEG_INFINITY
            })
        );
        assert_eq!(t, before);
        assert!(t.to_string().contains("rejected"));
    }

    #[test]
    fn histogram_percentiles_interpolate() {
        let mut t = Tally::with_histogram(0.0, 10.0, 10).unwrap();
        for i in 0..10 {
            t.add(i as f64 + 0.5);
        }
        let h = t.histogram().unwrap();
        assert_eq!(h.counts(), &[1; 10]);
        assert_eq!(h.bin_width(), 1.0);
        // Cumulative count 5 is reached at the top of bin 4: x = 5.
        assert_eq!(t.percentile(50.0), Some(5.0));
        assert!((t.percentile(25.0).unwrap() - 2.5).abs() < 1e-12);
        // Clamped to the observed range.
        assert_eq!(t.percentile(0.0), Some(0.5));
        assert_eq!(t.percentile(100.0), Some(9.5));
        // Out-of-range observations go to the under- and overflow parts.
        t.add(-5.0);
        t.add(10.0); // hi itself is in the last bin
        t.add(30.0);
        let h = t.histogram().unwrap();
        assert_eq!((h.below(), h.above(), h.counts()[9]), (1, 1, 2));
        assert_eq!(t.percentile(100.0), Some(30.0));
        assert_eq!(t.percentile(0.0), Some(-5.0));
    }

    #[test]
    fn bad_histograms_are_errors() {
        assert!(Tally::with_histogram(1.0, 1.0, 4).is_err());
        assert!(Tally::with_histogram(0.0, 1.0, 0).is_err());
        assert!(Tally::with_histogram(f64::NAN, 1.0, 4).is_err());
        assert!(Tally::with_histogram(0.0, f64::INFINITY, 4).is_err());
    }

    #[test]
    fn merge_equals_adding_all() {
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let mut a = Tally::with_histogram(0.0, 10.0, 5)
            .unwrap()
            .keeping_values();
        let mut b = a.clone();
        let mut all = a.clone();
        for (i, &x) in xs.iter().enumerate() {
            if i < 3 {
                a.add(x)
            } else {
                b.add(x)
            }
            all.add(x);
        }
        a.merge(&b).unwrap();
        assert_eq!(a.count(), all.count());
        assert!((a.mean().unwrap() - all.mean().unwrap()).abs() < 1e-14);
        assert!((a.variance().unwrap() - all.variance().unwrap()).abs() < 1e-13);
        assert_eq!(
            (a.min(), a.max(), a.sum()),
            (all.min(), all.max(), all.sum())
        );
        assert_eq!(a.histogram(), all.histogram());
        assert_eq!(a.values(), all.values());
        // Merging into or from an empty tally.
        let mut e = Tally::new();
        e.merge(&all).unwrap();
        assert_eq!((e.count(), e.min(), e.max()), (8, Some(1.0), Some(9.0)));
        e.merge(&Tally::new()).unwrap();
        assert_eq!(e.count(), 8);
    }

    #[test]
    fn incompatible_merges_change_nothing() {
        let mut h = Tally::with_histogram(0.0, 1.0, 4).unwrap();
        h.add(0.5);
        let before = h.clone();
        assert!(h.merge(&Tally::new()).is_err());
        assert!(
            h.merge(&Tally::with_histogram(0.0, 2.0, 4).unwrap())
                .is_err()
        );
        assert_eq!(h, before);
        let mut kept = Tally::new().keeping_values();
        assert!(kept.merge(&Tally::new()).is_err());
        // Sources only the other has are ignored.
        let mut plain = Tally::new();
        plain.merge(&before).unwrap();
        assert_eq!((plain.count(), plain.histogram()), (1, None));
    }

    #[test]
    fn reset_keeps_the_configuration() {
        let mut t = Tally::with_histogram(0.0, 10.0, 5)
            .unwrap()
            .keeping_values();
        t.add(1.0);
        t.add(f64::NAN);
        t.reset();
        assert_eq!((t.count(), t.rejected(), t.mean()), (0, 0, None));
        assert_eq!(t.histogram().unwrap().counts(), &[0; 5]);
        assert_eq!(t.values(), Some(&[][..]));
        t.add(7.0);
        assert_eq!(
            (t.mean(), t.min(), t.percentile(50.0)),
            (Some(7.0), Some(7.0), Some(7.0))
        );
    }

    #[test]
    fn welford_survives_a_large_offset() {
        let mut t = Tally::new();
        for x in [1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0] {
            t.add(x);
        }
        assert_eq!(t.variance(), Some(30.0));
    }

    proptest! {
        #[test]
        fn merge_is_sequential_adding(
            a in proptest::collection::vec(-1e6f64..1e6, 0..40),
            b in proptest::collection::vec(-1e6f64..1e6, 0..40),
        ) {
            let mut ta = Tally::new();
            let mut tb = Tally::new();
            let mut all = Tally::new();
            for &x in &a { ta.add(x); all.add(x); }
            for &x in &b { tb.add(x); all.add(x); }
            ta.merge(&tb).unwrap();
            prop_assert_eq!(ta.count(), all.count());
            prop_assert_eq!(ta.min(), all.min());
            prop_assert_eq!(ta.max(), all.max());
            let close = |x: Option<f64>, y: Option<f64>, scale: f64| match (x, y) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * scale.max(1.0),
                (None, None) => true,
                _ => false,
            };
            prop_assert!(close(ta.mean(), all.mean(), 1e6));
            prop_assert!(close(ta.variance(), all.variance(), 1e12));
            prop_assert!((ta.sum() - all.sum()).abs() <= 1e-9 * 1e6 * 80.0);
        }
    }
}
