//! syscount: syscalls counted in the kernel, per syscall or per process.

use crate::COMM_LEN;

/// Read-only global set before load.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscountConfig {
    /// Count only calls that failed with this errno (`-e`); 0: any.
    pub errno: u32,
    /// Key by process id instead of syscall number (`-P`).
    pub per_process: u32,
    /// Time calls (`-L`): the entry program is attached too.
    pub latency: u32,
    pub _pad: u32,
}

impl SyscountConfig {
    pub const DEFAULT: SyscountConfig = SyscountConfig {
        errno: 0,
        per_process: 0,
        latency: 0,
        _pad: 0,
    };
}

/// One key's counts on one CPU. User space sums the CPUs.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SyscallCount {
    pub count: u64,
    /// Calls whose entry was seen, so whose latency is in `total_ns`.
    pub timed: u64,
    pub total_ns: u64,
    /// Per process: the name of the last thread counted.
    pub comm: [u8; COMM_LEN],
}

impl SyscallCount {
    pub const ZERO: SyscallCount = SyscallCount {
        count: 0,
        timed: 0,
        total_ns: 0,
        comm: [0; COMM_LEN],
    };
}

/// Slots of the per-syscall count array: syscall numbers below this are
/// counted by index (no hashing); any other number goes to the hash map,
/// keyed by number, so it is still counted and shown.
pub const NR_SLOTS: u32 = 1024;

/// Keys in the count map: syscall numbers or process ids. A key that
/// finds it full is counted as lost (`LostReason::KeyMapFull`).
pub const MAX_KEYS: u32 = 10240;

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::SyscountConfig {}
    unsafe impl aya::Pod for super::SyscallCount {}
}
