//! runqlat: run-queue latency (wakeup or preemption to on-CPU) histograms
//! kept in the kernel, and `--preemptors`: who held the CPU meanwhile.

use crate::{COMM_LEN, loglinear};

/// Read-only global `RUNQLAT`, set before load.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunqlatConfig {
    /// Nanoseconds per histogram unit: 1000 (usecs) or 1000000 (msecs).
    pub unit_ns: u64,
    /// What the keyed histograms (`LATENCIES`) are keyed by: one of the
    /// `KEY_*` constants. `KEY_NONE` keeps only the system-wide one.
    pub key: u32,
    /// Group of `--preemptors` (`GROUP_*`), or `GROUP_OFF`.
    pub preemptors: u32,
}

impl RunqlatConfig {
    pub const KEY_NONE: u32 = 0;
    /// By process (tgid), `-P`.
    pub const KEY_PID: u32 = 1;
    /// By thread, `-L`.
    pub const KEY_TID: u32 = 2;
    /// By cgroup v2 id, `-C`.
    pub const KEY_CGROUP: u32 = 3;
    /// By pid namespace inode, `--pidnss`.
    pub const KEY_PIDNS: u32 = 4;

    pub const GROUP_OFF: u32 = 0;
    pub const GROUP_CGROUP: u32 = 1;
    pub const GROUP_PID: u32 = 2;

    pub const DEFAULT: RunqlatConfig = RunqlatConfig {
        unit_ns: 1000,
        key: Self::KEY_NONE,
        preemptors: Self::GROUP_OFF,
    };
}

/// A histogram's key: a process, thread, cgroup or pid namespace id.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunqKey {
    pub id: u64,
}

/// One key's run-queue latencies in the configured unit: log-linear
/// buckets, so percentiles are within 2%.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RunqLatency {
    pub count: u64,
    pub total_ns: u64,
    /// Per process or thread: the name of the task that created the entry.
    pub comm: [u8; COMM_LEN],
    pub buckets: [u64; loglinear::BUCKETS],
}

impl RunqLatency {
    pub const ZERO: RunqLatency = RunqLatency {
        count: 0,
        total_ns: 0,
        comm: [0; COMM_LEN],
        buckets: [0; loglinear::BUCKETS],
    };
}

/// Keyed histograms the map can hold (created on demand).
pub const MAX_KEYS: u32 = 10240;

/// `--preemptors`: how long a group's tasks waited in run queues.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitTotal {
    pub wait_ns: u64,
    pub count: u64,
}

/// `--preemptors`: run time of group `preemptor` that overlapped waits of
/// tasks of group `victim` on the same CPU.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StolenKey {
    pub victim: u64,
    pub preemptor: u64,
}

/// Victim/preemptor pairs the map can hold.
pub const MAX_STOLEN: u32 = 16384;

/// Recent run slices kept per CPU for `--preemptors`.
pub const SLICES: usize = 64;
// The ring is indexed with `& (SLICES - 1)`.
const _: () = assert!(SLICES.is_power_of_two());

/// One stretch of time a group ran on a CPU.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RunSlice {
    pub start_ns: u64,
    pub end_ns: u64,
    pub group: u64,
}

/// A CPU's recent run slices, a ring: `next` is where the next one goes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SliceRing {
    /// When the task now on this CPU was switched in (0: not seen yet).
    pub since_ns: u64,
    pub next: u32,
    pub _pad: u32,
    pub slices: [RunSlice; SLICES],
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::RunqlatConfig {}
    unsafe impl aya::Pod for super::RunqKey {}
    unsafe impl aya::Pod for super::RunqLatency {}
    unsafe impl aya::Pod for super::WaitTotal {}
    unsafe impl aya::Pod for super::StolenKey {}
}
