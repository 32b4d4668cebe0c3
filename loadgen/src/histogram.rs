//! A fixed-size log-linear histogram of nanosecond latencies.
//!
//! Storing every sample would allocate as the run goes on and make the percentile
//! computation sort millions of numbers. Instead each sample increments one counter in a
//! fixed array, so recording costs a few instructions and no allocation.
//!
//! The buckets are *log-linear* (the scheme HDR histograms use): values below
//! [`SUB_BUCKETS`] get one bucket each; above that, every power of two `[2^e, 2^(e+1))` is
//! split into [`SUB_BUCKETS`] equal slices. A bucket is therefore never wider than
//! 1/[`SUB_BUCKETS`] of the values in it, so any reported percentile is within about 3%
//! of the true sample, whether it is 200 ns or 20 s.

/// log2 of the number of linear slices per power of two.
const SUB_BITS: u32 = 5;
/// Linear slices per power of two (and the number of exact, one-value buckets at the bottom).
pub const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Total buckets: the exact ones, then one group of `SUB_BUCKETS` per exponent
/// `SUB_BITS ..= 63`.
const BUCKETS: usize = SUB_BUCKETS * (64 - SUB_BITS as usize + 1);

/// Counts of nanosecond values in log-linear buckets. See the module documentation.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: [u64; BUCKETS],
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

/// The bucket holding `value`.
#[inline]
fn bucket_of(value: u64) -> usize {
    if value < SUB_BUCKETS as u64 {
        return value as usize;
    }
    let exponent = 63 - value.leading_zeros(); // position of the highest set bit, >= SUB_BITS
    let shift = exponent - SUB_BITS;
    // The top SUB_BITS + 1 bits of the value: in [SUB_BUCKETS, 2 * SUB_BUCKETS).
    let top = (value >> shift) as usize;
    (shift as usize + 1) * SUB_BUCKETS + (top - SUB_BUCKETS)
}

/// The largest value that lands in `bucket`.
fn bucket_high(bucket: usize) -> u64 {
    if bucket < SUB_BUCKETS {
        return bucket as u64;
    }
    let shift = (bucket / SUB_BUCKETS - 1) as u32;
    let top = (SUB_BUCKETS + bucket % SUB_BUCKETS) as u64;
    let low = top << shift;
    // `low + width - 1` without overflowing in the very last bucket.
    low + ((1u64 << shift) - 1)
}

impl Histogram {
    /// An empty histogram. The counters live inline (about 15 KiB); box it if that matters.
    pub fn new() -> Self {
        Self {
            counts: [0; BUCKETS],
            total: 0,
            max: 0,
        }
    }

    /// Adds one sample.
    #[inline]
    pub fn record(&mut self, value: u64) {
        self.counts[bucket_of(value)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    /// Number of samples recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest sample recorded (exact), or 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (`0.5` for the median, `0.999` for p99.9), or 0 when empty.
    ///
    /// This is the smallest bucket such that at least `ceil(q * count)` samples are at or
    /// below it, reported as the bucket's upper bound (never above the exact maximum), so
    /// the answer errs on the pessimistic side by at most one bucket width.
    pub fn percentile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_high(bucket).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_ordered() {
        // Walk every bucket boundary: the value after a bucket's high end opens the next one.
        assert_eq!(bucket_of(0), 0);
        for bucket in 0..BUCKETS - 1 {
            let high = bucket_high(bucket);
            assert_eq!(bucket_of(high), bucket, "high end of bucket {bucket}");
            assert_eq!(
                bucket_of(high + 1),
                bucket + 1,
                "start of bucket {}",
                bucket + 1
            );
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_high(BUCKETS - 1), u64::MAX);
    }

    #[test]
    fn relative_error_is_bounded() {
        for value in [33u64, 100, 1_000, 12_345, 999_999, 1 << 40, u64::MAX / 3] {
            let high = bucket_high(bucket_of(value));
            assert!(high >= value);
            let error = (high - value) as f64 / value as f64;
            assert!(
                error <= 1.0 / SUB_BUCKETS as f64,
                "value {value} error {error}"
            );
        }
    }

    #[test]
    fn empty_histogram_reports_zero() {
        let h = Histogram::new();
        assert_eq!(h.percentile(0.5), 0);
        assert_eq!(h.max(), 0);
        assert_eq!(h.count(), 0);
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::new();
        for v in 1..=10 {
            h.record(v);
        }
        assert_eq!(h.percentile(0.5), 5);
        assert_eq!(h.percentile(0.9), 9);
        assert_eq!(h.percentile(0.99), 10);
        assert_eq!(h.percentile(0.0), 1);
        assert_eq!(h.percentile(1.0), 10);
    }

    #[test]
    fn percentiles_of_a_uniform_spread() {
        let mut h = Histogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 1_000); // 1 us ..= 100 ms in nanoseconds
        }
        assert_eq!(h.count(), 100_000);
        let close = |got: u64, want: u64| {
            let error = (got as f64 - want as f64).abs() / want as f64;
            assert!(error <= 1.0 / SUB_BUCKETS as f64, "got {got}, want {want}");
            assert!(got >= want, "percentiles err on the high side");
        };
        close(h.percentile(0.5), 50_000_000);
        close(h.percentile(0.99), 99_000_000);
        close(h.percentile(0.999), 99_900_000);
        assert_eq!(h.percentile(1.0), 100_000_000);
        assert_eq!(h.max(), 100_000_000);
    }

    #[test]
    fn a_rare_outlier_shows_in_the_tail_only() {
        let mut h = Histogram::new();
        for _ in 0..9_990 {
            h.record(10_000);
        }
        for _ in 0..10 {
            h.record(5_000_000);
        }
        assert!(h.percentile(0.5) < 10_400);
        assert!(h.percentile(0.99) < 10_400);
        assert!(h.percentile(0.9995) >= 5_000_000);
        assert_eq!(h.max(), 5_000_000);
    }
}
