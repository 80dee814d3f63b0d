//! runqslower: each run-queue wait longer than a threshold, as an event.

use crate::COMM_LEN;

/// Read-only global `RUNQSLOWER`, set before load.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunqslowerConfig {
    /// Report waits of at least this many nanoseconds.
    pub min_ns: u64,
}

impl RunqslowerConfig {
    pub const DEFAULT: RunqslowerConfig = RunqslowerConfig { min_ns: 10_000_000 };
}

/// One slow wait: the task that waited and the one it was switched in for.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RunqSlowEvent {
    /// `bpf_ktime_get_ns()` when the task got the CPU.
    pub ts_ns: u64,
    /// How long it waited.
    pub delta_ns: u64,
    /// The waiting task's cgroup v2 id (0 from classic tracepoints).
    pub cgroup_id: u64,
    /// The waiting task: process id (0 when unknown), thread id, name.
    pub pid: u32,
    pub tid: u32,
    pub comm: [u8; COMM_LEN],
    /// The task that left the CPU for it.
    pub prev_pid: u32,
    pub prev_tid: u32,
    pub prev_comm: [u8; COMM_LEN],
    pub cpu: u32,
    /// The waiting task's real user id (`u32::MAX` when unknown).
    pub uid: u32,
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::RunqslowerConfig {}
    unsafe impl aya::Pod for super::RunqSlowEvent {}
}
