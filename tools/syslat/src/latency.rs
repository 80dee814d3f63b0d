//! One key's histogram as user space keeps it, and the selection bitmap.

use ebpftop_cli::Cumulative;
use ebpftop_common::{
    COMM_LEN,
    syslat::{MAX_SELECTABLE, SyscallLatency},
};

/// A histogram read from the kernel (or the growth of one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latencies {
    pub count: u64,
    pub total_ns: u64,
    pub comm: [u8; COMM_LEN],
    pub buckets: Vec<u64>,
}

impl From<&SyscallLatency> for Latencies {
    fn from(v: &SyscallLatency) -> Self {
        Latencies {
            count: v.count,
            total_ns: v.total_ns,
            comm: v.comm,
            buckets: v.buckets.to_vec(),
        }
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

/// The kernel's `-s` bitmap; syscall numbers past it cannot be selected.
pub fn selection(nrs: &[u32]) -> Result<[u64; MAX_SELECTABLE / 64], String> {
    let mut bits = [0u64; MAX_SELECTABLE / 64];
    for &nr in nrs {
        let nr = nr as usize;
        if nr >= MAX_SELECTABLE {
            return Err(format!(
                "syscall number {nr} is past the {MAX_SELECTABLE} that -s can select"
            ));
        }
        bits[nr / 64] |= 1 << (nr % 64);
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_bits() {
        let b = selection(&[0, 35, 64, 1023]).unwrap();
        assert_eq!(b[0], 1 | 1 << 35);
        assert_eq!(b[1], 1);
        assert_eq!(b[15], 1 << 63);
        assert!(selection(&[1024]).is_err());
    }

    #[test]
    fn growth_is_per_bucket() {
        let mut v = SyscallLatency::ZERO;
        v.count = 3;
        v.total_ns = 30;
        v.buckets[5] = 3;
        let before = Latencies::from(&v);
        v.count = 5;
        v.total_ns = 70;
        v.buckets[5] = 4;
        v.buckets[9] = 1;
        let d = Latencies::from(&v).since(&before);
        assert_eq!((d.count, d.total_ns), (2, 40));
        assert_eq!((d.buckets[5], d.buckets[9]), (1, 1));
        assert!(before.since(&before).is_zero());
    }
}
