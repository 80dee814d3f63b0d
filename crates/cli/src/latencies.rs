//! The histogram every latency tool reads from its kernel map (syslat,
//! runqlat, cpudist, biolatency): a count, a total and log-linear buckets,
//! per key, cumulative since load until [`Deltas`](crate::Deltas) turns
//! it into one interval's growth.

use ebpftop_common::{
    COMM_LEN, block::BlockLatency, cpudist::CpuTimeHist, loglinear::BUCKETS, runqlat::RunqLatency,
    syslat::SyscallLatency,
};
use ebpftop_output::{
    histogram::{LatencySummary, Log2Hist},
    loglinear::{to_log2, to_summary},
};

use crate::Cumulative;

/// A histogram read from the kernel (or the growth of one), in the unit
/// its tool configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latencies {
    pub count: u64,
    pub total_ns: u64,
    /// Per process or thread: the name of the task that created the entry
    /// (zeros where the kernel keeps none).
    pub comm: [u8; COMM_LEN],
    /// `ebpftop_common::loglinear` buckets.
    pub buckets: Vec<u64>,
}

impl Latencies {
    pub fn zero() -> Latencies {
        Latencies {
            count: 0,
            total_ns: 0,
            comm: [0; COMM_LEN],
            buckets: vec![0; BUCKETS],
        }
    }

    /// Adds `other`'s values (per-CPU copies, or keys merged into one).
    pub fn add(&mut self, other: &Latencies) {
        self.count += other.count;
        self.total_ns += other.total_ns;
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
    }

    /// Percentiles, mean, min and max, in the unit.
    pub fn summary(&self) -> LatencySummary {
        to_summary(&self.buckets)
    }

    /// bcc's log2 histogram of the same values.
    pub fn log2(&self) -> Log2Hist {
        to_log2(&self.buckets)
    }
}

impl Cumulative for Latencies {
    fn since(&self, e: &Self) -> Self {
        Latencies {
            count: self.count.saturating_sub(e.count),
            total_ns: self.total_ns.saturating_sub(e.total_ns),
            comm: self.comm,
            buckets: self
                .buckets
                .iter()
                .zip(&e.buckets)
                .map(|(a, b)| a.saturating_sub(*b))
                .collect(),
        }
    }

    fn is_zero(&self) -> bool {
        self.count == 0
    }
}

macro_rules! from_kernel {
    ($($ty:ty),*) => {$(
        impl From<&$ty> for Latencies {
            fn from(v: &$ty) -> Self {
                Latencies {
                    count: v.count,
                    total_ns: v.total_ns,
                    comm: v.comm,
                    buckets: v.buckets.to_vec(),
                }
            }
        }
    )*};
}

from_kernel!(SyscallLatency, RunqLatency, CpuTimeHist);

impl From<&BlockLatency> for Latencies {
    fn from(v: &BlockLatency) -> Self {
        Latencies {
            count: v.count,
            total_ns: v.total_ns,
            comm: [0; COMM_LEN],
            buckets: v.buckets.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_per_bucket_and_merges_add_up() {
        let mut v = SyscallLatency::ZERO;
        v.count = 2;
        v.buckets[3] = 2;
        let before = Latencies::from(&v);
        v.count = 5;
        v.total_ns = 9;
        v.buckets[3] = 3;
        v.buckets[100] = 2;
        let d = Latencies::from(&v).since(&before);
        assert_eq!(
            (d.count, d.total_ns, d.buckets[3], d.buckets[100]),
            (3, 9, 1, 2)
        );
        assert!(before.since(&before).is_zero());
        let mut sum = Latencies::zero();
        sum.add(&d);
        sum.add(&before);
        assert_eq!((sum.count, sum.buckets[3]), (5, 3));
    }
}
