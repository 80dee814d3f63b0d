//! Log-linear histograms from the kernel (`ebpftop_common::loglinear`
//! buckets) as the two views every latency tool prints: bcc's log2
//! histogram, into which the buckets fold exactly, and percentiles, read
//! from buckets at most 1/32 of their values wide.

use ebpftop_common::loglinear::{BUCKETS, bucket_range, log2_slot_of};

use crate::histogram::{LatencySummary, Log2Hist, MAX_SLOTS};

/// The log2 histogram holding the same values as `buckets`.
pub fn to_log2(buckets: &[u64]) -> Log2Hist {
    let mut slots = [0u64; MAX_SLOTS];
    for (i, &count) in buckets.iter().enumerate().take(BUCKETS) {
        let s = &mut slots[log2_slot_of(i)];
        *s = s.saturating_add(count);
    }
    Log2Hist::from_buckets(&slots)
}

/// Percentiles from `buckets`: each bucket's count recorded at its
/// midpoint, so an estimate is within half a bucket (1/64, 1.6%) of the
/// value it stands for, and exact below 32.
pub fn to_summary(buckets: &[u64]) -> LatencySummary {
    let mut s = LatencySummary::new();
    for (i, &count) in buckets.iter().enumerate().take(BUCKETS) {
        if count > 0 {
            let (low, high) = bucket_range(i);
            // The last bucket is open-ended: its low end is all we know.
            let mid = if high == u64::MAX {
                low
            } else {
                low + (high - low) / 2
            };
            s.record_n(mid, count);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use ebpftop_common::loglinear::bucket;

    use super::*;

    #[test]
    fn folds_exactly_into_log2() {
        let values = [
            0u64,
            1,
            2,
            3,
            7,
            31,
            32,
            33,
            100,
            8_191,
            8_192,
            10_060,
            16_383,
            1 << 40,
        ];
        let mut buckets = vec![0u64; BUCKETS];
        let mut direct = Log2Hist::new();
        for v in values {
            buckets[bucket(v)] += 1;
            // Values past the last bucket are clamped into it, slot 36.
            direct.add(v.min((1 << 37) - 1));
        }
        assert_eq!(to_log2(&buckets), direct);
        assert_eq!(to_log2(&buckets).total(), values.len() as u64);
    }

    #[test]
    fn percentiles_of_ten_millisecond_sleeps() {
        // 50 sleeps of 10.05..10.30 ms, in usecs.
        let mut buckets = vec![0u64; BUCKETS];
        for i in 0..50u64 {
            buckets[bucket(10_050 + i * 5)] += 1;
        }
        let s = to_summary(&buckets);
        assert_eq!(s.count(), 50);
        let p50 = s.percentile(50.0);
        assert!((10_000..=12_000).contains(&p50), "{p50}");
        for p in [50.0, 90.0, 99.0, 100.0] {
            let est = s.percentile(p) as f64;
            let truth = (10_050 + (p / 100.0 * 49.0).ceil() as u64 * 5) as f64;
            assert!((est / truth - 1.0).abs() < 0.02, "p{p}: {est} vs {truth}");
        }
        // Small values are exact.
        let mut buckets = vec![0u64; BUCKETS];
        buckets[bucket(7)] = 3;
        assert_eq!(to_summary(&buckets).percentile(50.0), 7);
    }
}
