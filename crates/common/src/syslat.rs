//! syslat: syscall latency histograms kept in the kernel.

use crate::{COMM_LEN, loglinear};

/// Syscall numbers `-s` can select (a bitmap of this many bits).
pub const MAX_SELECTABLE: usize = 1024;

/// Read-only global set before load.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyslatConfig {
    /// Nanoseconds per histogram unit: 1000 (usecs) or 1000000 (msecs).
    pub unit_ns: u64,
    /// Key by process and syscall instead of syscall (`-P`).
    pub per_process: u32,
    /// Time only the syscalls whose bit is set in `selected` (`-s`).
    pub select: u32,
    pub selected: [u64; MAX_SELECTABLE / 64],
}

impl SyslatConfig {
    pub const DEFAULT: SyslatConfig = SyslatConfig {
        unit_ns: 1000,
        per_process: 0,
        select: 0,
        selected: [0; MAX_SELECTABLE / 64],
    };
}

/// A histogram's key: process id (0 unless `-P`) and syscall number.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SyslatKey {
    pub pid: u32,
    pub nr: u32,
}

/// One key's latencies, in the configured unit, summed over CPUs with
/// atomic adds (a per-CPU copy of this 8 KB value would cost 8 KB per key
/// per CPU).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SyscallLatency {
    pub count: u64,
    pub total_ns: u64,
    /// Per process: the name of the thread that created the entry.
    pub comm: [u8; COMM_LEN],
    pub buckets: [u64; loglinear::BUCKETS],
}

impl SyscallLatency {
    pub const ZERO: SyscallLatency = SyscallLatency {
        count: 0,
        total_ns: 0,
        comm: [0; COMM_LEN],
        buckets: [0; loglinear::BUCKETS],
    };
}

/// Histograms the map can hold (keys created on demand, not preallocated);
/// a key that finds it full is counted as lost (`LostReason::KeyMapFull`).
pub const MAX_KEYS: u32 = 10240;

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::SyslatConfig {}
    unsafe impl aya::Pod for super::SyslatKey {}
    unsafe impl aya::Pod for super::SyscallLatency {}
}
