//! A latency histogram with fixed bucket bounds, as Prometheus exposes it.

use std::time::Duration;

/// Bucket bounds (seconds) of HTTP request latency: a local read answers in
/// about a millisecond, `POST /mining/blocks` may take up to ten minutes.
pub(super) const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
    600.0,
];

/// Bucket bounds (seconds) of database operations: from an indexed read on
/// SQLite to a reorg's write transaction on a busy PostgreSQL server.
pub(super) const DATABASE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Observations counted per bucket, with their sum.
#[derive(Clone, Debug)]
pub(super) struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket, not cumulative; the last one is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending).
    pub(super) fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    /// Counts one observation.
    pub(super) fn observe(&mut self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = self.bounds.partition_point(|bound| *bound < seconds);
        self.counts[bucket] += 1;
        self.sum += seconds;
    }

    /// `(upper bound, observations ≤ it)` for every bucket, `+Inf` last.
    pub(super) fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let bounds = self.bounds.iter().copied().chain([f64::INFINITY]);
        bounds.zip(self.counts.iter().scan(0, |total, count| {
            *total += count;
            Some(*total)
        }))
    }

    /// Observations.
    pub(super) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Sum of the observations, in seconds.
    pub(super) fn sum(&self) -> f64 {
        self.sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let mut histogram = Histogram::new(&[0.1, 1.0]);
        for millis in [50, 100, 101, 1000, 5000] {
            histogram.observe(Duration::from_millis(millis));
        }
        let buckets: Vec<(f64, u64)> = histogram.cumulative().collect();
        assert_eq!(buckets, [(0.1, 2), (1.0, 4), (f64::INFINITY, 5)]);
        assert_eq!(histogram.count(), 5);
        assert!((histogram.sum() - 6.251).abs() < 1e-9);
    }
}
