//! exitsnoop: process and thread exits (`sched:sched_process_exit`).

use crate::EventHeader;

/// What user space asks of the kernel program: a read-only global.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitConfig {
    /// Non-zero: report every thread's exit, not only a process's.
    pub threads: u32,
    /// How the program tells that a process (not just a thread) ended:
    /// one of [`ExitConfig::GROUP_DEAD_FIELD`], [`ExitConfig::LEADER_EXIT`].
    pub process_end: u32,
}

impl ExitConfig {
    /// The tracepoint's `bool group_dead` at [`GROUP_DEAD_OFFSET`] says
    /// whether this was the last live thread (Linux 6.16 and later).
    pub const GROUP_DEAD_FIELD: u32 = 0;
    /// Older kernels: a process ends when its group leader exits, which is
    /// wrong only for a leader that leaves before its other threads.
    pub const LEADER_EXIT: u32 = 1;

    pub const DEFAULT: ExitConfig = ExitConfig {
        threads: 0,
        process_end: ExitConfig::GROUP_DEAD_FIELD,
    };
}

/// Where `group_dead` sits in the `sched_process_exit` record (after
/// `char comm[16]` at 8, `pid_t pid` at 24, `int prio` at 28); user space
/// checks this against the format file before choosing GROUP_DEAD_FIELD.
pub const GROUP_DEAD_OFFSET: usize = 32;

/// One exit, as the exiting thread saw it in the kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ExitEvent {
    /// The exiting thread (pid, tid, comm, uid, cgroup).
    pub header: EventHeader,
    /// `task->exit_code`: a wait(2) status (exit status in bits 8-15,
    /// terminating signal in bits 0-6, core dump in bit 7).
    pub exit_code: i32,
    /// The parent's process id.
    pub ppid: u32,
    /// When the reported task started (CLOCK_MONOTONIC ns): the process's
    /// group leader in process mode, the thread itself with threads.
    pub start_ns: u64,
    /// Non-zero when this exit ended the process (its last thread).
    pub process_ended: u32,
    pub _pad: u32,
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::ExitConfig {}
}
