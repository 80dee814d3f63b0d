//! cpudist: how long tasks run on a CPU (or wait off it) per slice, as
//! log-linear histograms kept in the kernel.

use crate::{COMM_LEN, loglinear};

/// Read-only global set before load.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpudistConfig {
    /// Nanoseconds per histogram unit: 1000 (usecs) or 1000000 (msecs).
    pub unit_ns: u64,
    /// What a histogram is kept for: [`CpudistConfig::ALL`],
    /// [`CpudistConfig::PER_PROCESS`] (`-P`) or [`CpudistConfig::PER_THREAD`] (`-L`).
    pub key_by: u32,
    /// Non-zero: time off the CPU (switched out to switched in, `-O`).
    pub off_cpu: u32,
}

impl CpudistConfig {
    pub const ALL: u32 = 0;
    pub const PER_PROCESS: u32 = 1;
    pub const PER_THREAD: u32 = 2;

    pub const DEFAULT: CpudistConfig = CpudistConfig {
        unit_ns: 1000,
        key_by: CpudistConfig::ALL,
        off_cpu: 0,
    };
}

/// When a thread's current slice (on or off the CPU) began, by thread id.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SliceStart {
    /// `bpf_ktime_get_ns()` at the switch.
    pub ts_ns: u64,
    /// Off-CPU only: the thread's process id and name, saved when it left
    /// the CPU (when it comes back, the current task is another one).
    pub tgid: u32,
    pub _pad: u32,
    pub comm: [u8; COMM_LEN],
}

/// A histogram's key: 0, a process id (`-P`) or a thread id (`-L`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpudistKey {
    pub id: u32,
    /// Per thread: the thread's process id (0 otherwise).
    pub tgid: u32,
}

/// One key's slices, in the configured unit, summed over CPUs with atomic
/// adds (a per-CPU copy of this 8 KB value would cost 8 KB per key per CPU).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CpuTimeHist {
    pub count: u64,
    pub total_ns: u64,
    /// Per process or thread: the name of the thread that created the entry.
    pub comm: [u8; COMM_LEN],
    pub buckets: [u64; loglinear::BUCKETS],
}

impl CpuTimeHist {
    pub const ZERO: CpuTimeHist = CpuTimeHist {
        count: 0,
        total_ns: 0,
        comm: [0; COMM_LEN],
        buckets: [0; loglinear::BUCKETS],
    };
}

/// Histograms the map can hold (created on demand); a key that finds it
/// full is counted as lost (`LostReason::KeyMapFull`).
pub const MAX_KEYS: u32 = 10240;
/// Threads whose slice start is kept at once (an LRU map: the oldest,
/// usually of exited threads, make room).
pub const MAX_THREADS: u32 = 65536;

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::CpudistConfig {}
    unsafe impl aya::Pod for super::CpudistKey {}
    unsafe impl aya::Pod for super::CpuTimeHist {}
}
