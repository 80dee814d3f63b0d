//! One interval's counts, summed over CPUs, turned into ranked rows.

use ebpftop_cli::Cumulative;
use ebpftop_common::{COMM_LEN, syscount::SyscallCount};

/// A key's counts summed over CPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub count: u64,
    pub timed: u64,
    pub total_ns: u64,
    pub comm: [u8; COMM_LEN],
}

impl Totals {
    /// The sum of one key's per-CPU values.
    pub fn sum<'a>(per_cpu: impl IntoIterator<Item = &'a SyscallCount>) -> Totals {
        let mut t = Totals {
            count: 0,
            timed: 0,
            total_ns: 0,
            comm: [0; COMM_LEN],
        };
        for v in per_cpu {
            t.count += v.count;
            t.timed += v.timed;
            t.total_ns += v.total_ns;
            if v.comm[0] != 0 {
                t.comm = v.comm;
            }
        }
        t
    }

    /// Mean time of the timed calls; `None` when none was timed.
    pub fn avg_ns(&self) -> Option<u64> {
        (self.timed > 0).then(|| self.total_ns / self.timed)
    }
}

impl Cumulative for Totals {
    fn since(&self, e: &Self) -> Self {
        Totals {
            count: self.count.saturating_sub(e.count),
            timed: self.timed.saturating_sub(e.timed),
            total_ns: self.total_ns.saturating_sub(e.total_ns),
            comm: self.comm,
        }
    }

    fn is_zero(&self) -> bool {
        self.count == 0
    }
}

/// The `top` rows, most calls first (most time first when `by_time`);
/// ties in key order, so output is stable.
pub fn ranked(mut rows: Vec<(u32, Totals)>, by_time: bool, top: usize) -> Vec<(u32, Totals)> {
    rows.sort_by(|(ka, a), (kb, b)| {
        let (x, y) = if by_time {
            (a.total_ns, b.total_ns)
        } else {
            (a.count, b.count)
        };
        y.cmp(&x).then(ka.cmp(kb))
    });
    rows.truncate(top);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(count: u64, total_ns: u64) -> Totals {
        Totals {
            count,
            timed: count,
            total_ns,
            comm: [0; COMM_LEN],
        }
    }

    #[test]
    fn sums_cpus() {
        let mut a = SyscallCount::ZERO;
        a.count = 3;
        a.timed = 2;
        a.total_ns = 50;
        let mut b = SyscallCount::ZERO;
        b.count = 4;
        b.timed = 4;
        b.total_ns = 70;
        b.comm[..3].copy_from_slice(b"cat");
        let s = Totals::sum([&a, &b]);
        assert_eq!((s.count, s.timed, s.total_ns), (7, 6, 120));
        assert_eq!(&s.comm[..4], b"cat\0");
        assert_eq!(s.avg_ns(), Some(20));
        assert_eq!(Totals::sum([&SyscallCount::ZERO]).avg_ns(), None);
    }

    #[test]
    fn ranks_by_count_or_time() {
        let rows = vec![(1, t(5, 900)), (2, t(50, 100)), (3, t(5, 10)), (0, t(7, 5))];
        let by_count: Vec<u32> = ranked(rows.clone(), false, 10)
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(by_count, [2, 0, 1, 3]);
        let by_time: Vec<u32> = ranked(rows, true, 2).iter().map(|r| r.0).collect();
        assert_eq!(by_time, [1, 2]);
    }

    #[test]
    fn deltas_subtract() {
        let d = t(10, 1000).since(&t(4, 300));
        assert_eq!((d.count, d.total_ns), (6, 700));
        assert!(t(4, 0).since(&t(4, 0)).is_zero());
    }
}
